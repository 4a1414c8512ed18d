// fuzz_compiler.c -- libFuzzer target: the whole compiler in memory.
//
// Source text -> parse -> elaborate -> every pass -> reports and the C back end
// written to /dev/null. Any input must end in success or diagnostics; a crash,
// a sanitizer report, a leak or a hang is a bug. Limits are lowered so that
// legitimately huge nets do not look like hangs, and imports are refused
// (an input must not make netc read files).
#include <stdio.h>
#include <string.h>

#include "netc.h"

static void swallow(DiagKind kind, Loc loc, const char *msg, void *ctx) {
  (void)kind, (void)loc, (void)msg, (void)ctx;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  static FILE *null;
  if (!null)
    null = fopen("/dev/null", "w");
  if (size > 1 << 20)
    return 0;
  diag_set_consumer(swallow, NULL);
  diag_reset();
  load_allow_imports = false;
  limits.max_depth = 50;
  limits.max_steps = 20000;
  limits.max_layers = 2000;

  char *text = xalloc(size + 1);
  memcpy(text, data, size);
  Program *p = load_program("fuzz.net", text, size, NULL, 0);
  if (p) {
    const char **nets;
    int n = program_nets(p, &nets);
    for (int i = 0; i < n && i < 3; i++) {
      diag_reset();
      Graph *g = elaborate(p, nets[i], NULL, 0);
      if (!g)
        continue;
      fill_rf(g);
      fill_cost(g);
      fill_fusion(g);
      fill_lowering(g);
      fill_memplan(g);
      verify_graph(g);
      report_text(g, null, -1);
      report_json(g, null);
      report_torch(g, null);
      EmitOptions eo = {.prefix = g->net, .header_name = "fuzz.h", .with_main = i == 0};
      emit_header(g, &eo, null);
      emit_source(g, &eo, null);
    }
  }
  xfree_all();
  return 0;
}
