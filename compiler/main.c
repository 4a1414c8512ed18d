// main.c -- the netc driver: options (parse_options), then per net the
// whole pipeline in order (compile_net): load (parse + imports) -> elaborate
// (shapes) -> receptive field -> cost -> fusion -> lowering -> memory plan
// -> budgets -> report -> (--self-test: a compile-time run, execute.c) ->
// generated C.
#include "netc.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { REPORT_NONE, REPORT_TEXT, REPORT_JSON, REPORT_TORCH, REPORT_DOT } ReportKind;

static void usage(FILE *f) {
  fputs("usage: netc [options] FILE.net\n"
        "\n"
        "Analyses a network description: shapes, receptive fields, parameters, MACs,\n"
        "FLOPs and activation memory of every layer.\n"
        "\n"
        "options:\n"
        "  --report[=text|json|torch]  print the per-layer report (default: text)\n"
        "  --depth N                   collapse blocks nested deeper than N in the text report\n"
        "  --dot                       print a Graphviz graph of the net instead (| dot -Tsvg)\n"
        "  --net NAME                  the net to compile when FILE defines several\n"
        "  -D NAME=VALUE               override a net parameter (VALUE is an expression)\n"
        "  -I DIR                      also search DIR for imported files\n"
        "  -q                          quiet: no report unless --report is given\n"
        "  -w                          no warnings\n"
        "  -Wunused, -Wsame-padding    warnings, on by default (-Wno-unused, -Wno-same-padding)\n"
        "  -Werror                     warnings are errors\n"
        "  -o FILE.c                   generate C: FILE.c and FILE.h (the report goes to stderr)\n"
        "  --main                      add a command-line runner (main) to the generated C\n"
        "  --weights FILE.safetensors  also write FILE_weights.c with the weights as const data\n"
        "  --weights-hex               ... as hex float literals (any byte order; slow to compile)\n"
        "  --self-test                 with --weights: also generate PREFIX_self_test, which checks the\n"
        "                              build against outputs computed now with reference kernels\n"
        "  --quantize int8             quantize the net to int8 with the activation ranges of --ranges\n"
        "  --ranges FILE.json          the ranges file written by the float runner's --calibrate\n"
        "  --float-layers A,B          with --quantize: keep these layers (or blocks) in float\n"
        "  --max-errors N              stop after N errors (default 50)\n"
        "  --max-depth N               block nesting limit (default 200)\n"
        "  --max-steps N               elaboration step limit (default 50000000)\n"
        "  --max-layers N              layer count limit (default 10000000)\n"
        "  --max-source BYTES          largest input file (default 64MiB)\n"
        "  --max-arena BYTES           fail if the arena total (activations + kernel scratch,\n"
        "                              the header's _ARENA_BYTES) is larger\n"
        "  --max-scratch BYTES         use kernels whose scratch fits (0: scratch-free ones);\n"
        "                              fail, naming the layer, where none does\n"
        "  --max-weights BYTES         fail if the float32 weights are larger\n"
        "  --max-macs N                fail if the net needs more multiply-accumulates\n"
        "\n"
        "BYTES is a whole number with an optional unit: K or KiB = 1024, KB = 1000,\n"
        "M or MiB, MB, G or GiB, GB (any case), e.g. 32KiB or 2MiB.\n"
        "  -h, --help                  this help\n"
        "  --version                   print the version\n"
        "\n"
        "FILE may be '-' for standard input. Exit status: 0 success, 1 errors in the\n"
        "input, 2 bad usage.\n",
        f);
}

static _Noreturn void bad_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "netc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(see netc --help)\n");
  exit(2);
}

// A byte budget: a size with an optional unit (parse_byte_size).
static int64_t parse_bytes(const char *opt, const char *s) {
  int64_t v;
  const char *why = parse_byte_size(s, &v);
  if (why)
    bad_usage(format("%s expects a size in bytes such as 32768, 32KiB or 2MiB, got '%%s': %s", opt, why), s);
  return v;
}

static int64_t parse_count(const char *opt, const char *s, int64_t max) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v < 0 || errno == ERANGE || v > max)
    bad_usage(format("%s expects an integer from 0 to %lld, got '%%s'", opt, (long long)max), s);
  return v;
}

// Output files are written to temporaries beside their targets and renamed
// into place only when everything succeeded: a failed compile never leaves a
// partial file or clobbers a good one.
static bool weights_hex; // --weights-hex

typedef struct OutFile {
  const char *path;
  char *tmp;
  FILE *f;
} OutFile;

static bool open_tmp(OutFile *o, const char *path) {
  o->path = path;
  o->tmp = format("%s.tmpXXXXXX", path);
  int fd = mkstemp(o->tmp);
  // mkstemp creates 0600; give the file the mode a plain fopen would.
  mode_t mask = umask(0);
  umask(mask);
  if (fd >= 0)
    fchmod(fd, 0666 & ~mask);
  if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
    fprintf(stderr, "netc: error: cannot write %s: %s\n", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(o->tmp);
    }
    o->f = NULL;
    return false;
  }
  return true;
}

static bool close_tmp(OutFile *o) {
  if (!o->f)
    return false;
  bool ok = !ferror(o->f);
  ok = fclose(o->f) == 0 && ok;
  o->f = NULL;
  if (!ok)
    fprintf(stderr, "netc: error: writing %s failed: %s\n", o->path, strerror(errno));
  return ok;
}

static int write_outputs(Graph *g, const char *out_c, bool with_main, const char *weights, bool self_test) {
  size_t n = strlen(out_c);
  const char *out_h = format("%.*s.h", (int)(n - 2), out_c);
  const char *out_w = weights ? format("%.*s_weights.c", (int)(n - 2), out_c) : NULL;
  const char *slash = strrchr(out_h, '/');
  EmitOptions eo = {g->net, slash ? slash + 1 : out_h, with_main, NULL, weights_hex, NULL};
  // --self-test: the net runs now, before anything is written (a bad weights
  // file or a non-finite output stops the build as any error does).
  if (self_test && !(eo.self_test = self_test_outputs(g, weights)))
    return 1;
  if (out_w) {
    const char *ws = strrchr(out_w, '/');
    eo.weights_name = ws ? ws + 1 : out_w;
  }
  OutFile files[3] = {0};
  int nfiles = out_w ? 3 : 2;
  bool ok = open_tmp(&files[0], out_c) && open_tmp(&files[1], out_h) && (!out_w || open_tmp(&files[2], out_w));
  if (ok) {
    emit_source(g, &eo, files[0].f);
    emit_header(g, &eo, files[1].f);
    if (out_w)
      ok = emit_weights(g, &eo, weights, files[2].f);
  }
  for (int i = 0; i < nfiles; i++)
    if (files[i].tmp && !close_tmp(&files[i]))
      ok = false;
  for (int i = 0; i < nfiles && ok; i++)
    if (rename(files[i].tmp, files[i].path) != 0) {
      fprintf(stderr, "netc: error: cannot create %s: %s\n", files[i].path, strerror(errno));
      ok = false;
    }
  for (int i = 0; i < nfiles; i++)
    if (files[i].tmp)
      unlink(files[i].tmp); // no-op after a successful rename
  return ok ? 0 : 1;
}

// Build budgets (--max-arena, --max-weights, --max-macs): a firmware build
// stops, at the net's definition, when the model no longer fits. Each
// message names the figure it limits as the report does. (--max-scratch is
// applied while lowering: lower.c picks kernels that fit it.)
static bool within_budgets(Graph *g) {
  const Totals *t = &g->totals;
  bool quantized = g->nlayers && g->layers[0]->q.on;
  char *macro = xstrdup(g->net);
  for (char *p = macro; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  struct {
    const char *what, *flag;
    int64_t value, limit;
  } b[] = {
      {format("an arena total of %s bytes (activations %s + kernel scratch %s; the header's %s_ARENA_BYTES)",
              fmt_int(t->arena_floats * 4), fmt_int(t->scratch_offset * 4), fmt_int(t->scratch_bytes), macro),
       "--max-arena", t->arena_floats * 4, limits.max_arena},
      // An int8 build's budget is its own weights: the int8 blob and the
      // float tensors of the layers that stay float.
      {quantized ? format("%s bytes of weights (the int8 blob %s + float32 %s)",
                          fmt_int(t->qblob_bytes + t->float_kept_bytes), fmt_int(t->qblob_bytes),
                          fmt_int(t->float_kept_bytes))
                 : format("%s bytes of float32 weights", fmt_int(t->weight_bytes)),
       "--max-weights", quantized ? t->qblob_bytes + t->float_kept_bytes : t->weight_bytes, limits.max_weights},
      {format("%s multiply-accumulates", fmt_int(t->macs)), "--max-macs", t->macs, limits.max_macs},
  };
  bool ok = true;
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
    if (b[i].limit > 0 && b[i].value > b[i].limit) {
      error_at(g->loc, "net '%s' needs %s, over the budget of %s%s set by %s", g->net, b[i].what,
               fmt_int(b[i].limit), i < 2 ? " bytes" : "", b[i].flag);
      if (i == 0 && t->scratch_bytes > 0)
        note_at(g->loc, "--max-scratch BYTES makes netc pick kernels whose scratch fits (0: scratch-free ones)");
      ok = false;
    }
  return ok;
}

// The command line, parsed. Limits and warning flags go straight to their
// globals (limits, diag_*, max_source_bytes, weights_hex).
typedef struct Options {
  const char *path, *out_c, *net, *weights;
  const char *quantize, *ranges; // --quantize int8 --ranges FILE.json
  const char **float_layers;     // --float-layers A,B: kept in float in an int8 build
  int nfloat_layers;
  bool with_main, quiet, self_test;
  ReportKind report;
  int depth;
  Define *defs;
  int ndefs;
  const char **dirs;
  int ndirs;
} Options;

static Options parse_options(int argc, char **argv) {
  Options opt = {.depth = -1, .report = REPORT_NONE}, *o = &opt;
  o->defs = xalloc((size_t)argc * sizeof *o->defs);
  o->dirs = xalloc((size_t)argc * sizeof *o->dirs);
  int float_cap = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    // Options taking a value accept both "-o x" and "-ox" / "--net=x".
#define VALUE(short_opt, long_opt)                                                                                     \
  ((strcmp(a, short_opt) == 0 || strcmp(a, long_opt) == 0)                                                            \
       ? (i + 1 < argc ? argv[++i] : (bad_usage("option %s needs a value", a), NULL))                                  \
       : (strncmp(a, long_opt "=", strlen(long_opt) + 1) == 0) ? a + strlen(long_opt) + 1                               \
       : (short_opt[0] && strncmp(a, short_opt, 2) == 0 && a[2] && short_opt[1] != '-') ? a + 2                        \
                                                                                        : NULL)
    const char *v;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      printf("netc %s\n", NETC_VERSION);
      exit(0);
    } else if (strcmp(a, "--report") == 0) {
      o->report = REPORT_TEXT;
    } else if (strncmp(a, "--report=", 9) == 0) {
      const char *k = a + 9;
      o->report = strcmp(k, "text") == 0 ? REPORT_TEXT : strcmp(k, "json") == 0 ? REPORT_JSON
             : strcmp(k, "torch") == 0 ? REPORT_TORCH : REPORT_NONE;
      if (o->report == REPORT_NONE)
        bad_usage("unknown report format '%s' (expected text, json or torch)", k);
    } else if (strcmp(a, "-q") == 0) {
      o->quiet = true;
    } else if (strcmp(a, "-w") == 0) {
      diag_warnings = 0;
    } else if (strcmp(a, "-Werror") == 0) {
      diag_werror = true;
    } else if (strncmp(a, "-W", 2) == 0) {
      bool no = strncmp(a + 2, "no-", 3) == 0;
      const char *w = a + (no ? 5 : 2);
      unsigned bit = strcmp(w, "unused") == 0 ? W_UNUSED : strcmp(w, "same-padding") == 0 ? W_SAME_PADDING : 0;
      if (!bit)
        bad_usage("unknown warning option '%s' (netc has -Wunused and -Wsame-padding)", a);
      diag_warnings = no ? diag_warnings & ~bit : diag_warnings | bit;
    } else if (strcmp(a, "--dot") == 0) {
      o->report = REPORT_DOT;
    } else if ((v = VALUE("", "--depth"))) {
      o->depth = (int)parse_count("--depth", v, 1000000);
    } else if ((v = VALUE("", "--net"))) {
      o->net = v;
    } else if ((v = VALUE("-o", "--output"))) {
      o->out_c = v;
    } else if (strcmp(a, "--main") == 0) {
      o->with_main = true;
    } else if (strcmp(a, "--self-test") == 0) {
      o->self_test = true;
    } else if (strcmp(a, "--weights-hex") == 0) {
      weights_hex = true;
    } else if ((v = VALUE("", "--quantize"))) {
      if (strcmp(v, "int8") != 0)
        bad_usage("unknown quantization scheme '%s' (netc has: int8)", v);
      o->quantize = v;
    } else if ((v = VALUE("", "--ranges"))) {
      o->ranges = v;
    } else if ((v = VALUE("", "--float-layers"))) {
      // Comma-separated names; repeated options add up.
      o->float_layers = grow(o->float_layers, &float_cap, o->nfloat_layers + (int)strlen(v) + 1,
                             sizeof *o->float_layers);
      for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 0)
          bad_usage("--float-layers expects layer names separated by commas, got '%s'", v);
        o->float_layers[o->nfloat_layers++] = xstrndup(p, n);
        p += n + (p[n] == ',');
      }
    } else if ((v = VALUE("", "--weights"))) {
      o->weights = v;
    } else if ((v = VALUE("-D", "--define"))) {
      const char *eq = strchr(v, '=');
      if (!eq || eq == v)
        bad_usage("-D expects NAME=VALUE, got '%s'", v);
      if (eq[strspn(eq + 1, " \t") + 1] == '\0')
        bad_usage("-D %s has no value (e.g. -D classes=10)", v);
      o->defs[o->ndefs].name = xstrndup(v, (size_t)(eq - v));
      o->defs[o->ndefs++].value = eq + 1;
    } else if ((v = VALUE("-I", "--include"))) {
      o->dirs[o->ndirs++] = v;
    } else if ((v = VALUE("", "--max-errors"))) {
      diag_max_errors = (int)parse_count("--max-errors", v, 1000000);
      if (diag_max_errors < 1)
        diag_max_errors = 1;
    } else if ((v = VALUE("", "--max-depth"))) {
      limits.max_depth = (int)parse_count("--max-depth", v, 100000);
    } else if ((v = VALUE("", "--max-steps"))) {
      limits.max_steps = parse_count("--max-steps", v, INT64_MAX);
    } else if ((v = VALUE("", "--max-layers"))) {
      limits.max_layers = parse_count("--max-layers", v, INT32_MAX);
    } else if ((v = VALUE("", "--max-source"))) {
      max_source_bytes = parse_bytes("--max-source", v);
    } else if ((v = VALUE("", "--max-arena"))) {
      limits.max_arena = parse_bytes("--max-arena", v);
    } else if ((v = VALUE("", "--max-scratch"))) {
      limits.max_scratch = parse_bytes("--max-scratch", v);
    } else if ((v = VALUE("", "--max-weights"))) {
      limits.max_weights = parse_bytes("--max-weights", v);
    } else if ((v = VALUE("", "--max-macs"))) {
      limits.max_macs = parse_count("--max-macs", v, INT64_MAX);
    } else if (a[0] == '-' && a[1] != '\0') {
      bad_usage("unknown option '%s'", a);
    } else if (o->path) {
      bad_usage("only one input file may be given (also got '%s')", a);
    } else {
      o->path = a;
    }
#undef VALUE
  }
  if (!o->path)
    bad_usage("%sno input file", "");
  if (o->self_test && !o->weights)
    bad_usage("%s--self-test goes with --weights FILE.safetensors: it checks the build against the outputs of "
              "the weights compiled in", "");
  if (o->quantize && !o->ranges)
    bad_usage("%s--quantize int8 needs --ranges FILE.json, the ranges the float runner's --calibrate writes", "");
  if (o->ranges && !o->quantize)
    bad_usage("%s--ranges goes with --quantize int8", "");
  if (o->nfloat_layers && !o->quantize)
    bad_usage("%s--float-layers goes with --quantize int8", "");
  // The self-test's expected outputs come from the float reference kernels:
  // an int8 build differs from them by its quantization, by design.
  if (o->quantize && o->self_test)
    bad_usage("%s--self-test checks a float build; it is not available with --quantize int8", "");
  if (weights_hex && !o->weights)
    bad_usage("%s--weights-hex goes with --weights FILE.safetensors", "");
  if ((o->with_main || o->weights) && !o->out_c)
    bad_usage("%s needs -o FILE.c", o->with_main ? "--main" : "--weights");
  size_t olen = o->out_c ? strlen(o->out_c) : 0;
  if (o->out_c && (olen < 3 || strcmp(o->out_c + olen - 2, ".c") != 0))
    bad_usage("-o expects a file name ending in .c (the header goes next to it), got '%s'", o->out_c);
  if (o->report == REPORT_NONE && !o->out_c && !o->quiet)
    o->report = REPORT_TEXT; // analysing without -o means reporting
  return opt;
}

// --quantize int8: the float build's passes first, for the report to
// compare with, then fusion again and the quantization (quantize.c); the
// caller lowers and plans the int8 build as it would the float one.
static bool quantize_ranges(Graph *g, const Ranges *r, const char *path, const Options *o) {
  fill_lowering(g);
  fill_memplan(g);
  g->float_totals = g->totals;
  fill_fusion(g);
  double *min = xalloc((size_t)(g->nlayers + 1) * sizeof *min), *max = xalloc((size_t)(g->nlayers + 1) * sizeof *max);
  for (int i = 0; i < g->nlayers; i++) { // ranges_check: one entry per layer, in id order
    min[i] = r->layers[i].min;
    max[i] = r->layers[i].max;
  }
  if (!fill_quant(g, min, max, o->float_layers, o->nfloat_layers))
    return false;
  g->ranges_note = r->percentile > 0 ? format("%s, %s %g, %lld samples", path, r->method, r->percentile,
                                              (long long)r->samples)
                                     : format("%s, %s, %lld samples", path, r->method, (long long)r->samples);
  return true;
}

// One net through every pass, then its report and generated files. The
// build stops (status 1, nothing reported or written) at the first pass
// that finds a problem.
static int compile_net(Program *prog, const char *name, const Options *o, FILE *rep, bool first) {
  int before = diag_error_count();
  Graph *g = elaborate(prog, name, o->defs, o->ndefs); // parse tree -> layers with shapes
  for (int i = 0; i < o->ndefs; i++)
    if (o->defs[i].bad) // a wrong -D is bad usage, like a wrong option
      return 2;
  if (!g || diag_error_count() > before) // -Werror turns warnings into errors
    return 1;
  // --quantize: the ranges are checked against the graph as elaborated
  // (the fingerprint is taken before fusion), before any output exists.
  Ranges *ranges = NULL;
  if (o->quantize) {
    ranges = ranges_read(o->ranges);
    if (!ranges || !ranges_check(ranges, g, format("%016llx", (unsigned long long)graph_fingerprint(g))))
      return 1;
  }
  fill_rf(g);        // receptive fields
  fill_cost(g);      // params, MACs, FLOPs, bytes
  fill_fusion(g);    // folded batch norms, fused activations and residual adds
  if (ranges && !quantize_ranges(g, ranges, o->ranges, o)) // int8 (quantize.c), after the float build's totals
    return 1;
  fill_lowering(g);  // kernels, their scratch (within --max-scratch), the weight blob's layout
  if (diag_error_count() > before)
    return 1;
  fill_memplan(g);   // the arena: activations and scratch
  if (!within_budgets(g) || (o->out_c && !check_c_names(g)))
    return 1;
  verify_graph(g);
  if (!first)
    fputc('\n', rep);
  switch (o->report) {
  case REPORT_TEXT: report_text(g, rep, o->depth); break;
  case REPORT_JSON: report_json(g, rep); break;
  case REPORT_TORCH: report_torch(g, rep); break;
  case REPORT_DOT: report_dot(g, rep); break;
  case REPORT_NONE: break;
  }
  return o->out_c ? write_outputs(g, o->out_c, o->with_main, o->weights, o->self_test) : 0;
}

int main(int argc, char **argv) {
  Options opt = parse_options(argc, argv);
  // With -o the report goes to stderr: stdout may be a pipe the build uses.
  FILE *rep = opt.out_c ? stderr : stdout;
  const char *no_color = getenv("NO_COLOR"); // no-color.org: present and not empty
  diag_color = isatty(2) && !(no_color && no_color[0]);

  const char *path = opt.path;
  size_t len = 0;
  const char *err = NULL;
  char *text;
  if (strcmp(path, "-") == 0) {
    text = read_file("/dev/stdin", &len, &err);
    path = "<stdin>";
  } else {
    text = read_file(path, &len, &err);
  }
  if (!text) {
    fprintf(stderr, "netc: error: cannot read %s: %s\n", path, err);
    return 1;
  }

  Program *prog = load_program(path, text, len, opt.dirs, opt.ndirs); // parse the file and its imports
  if (!prog)
    return 1;

  const char **nets;
  int nnets = program_nets(prog, &nets);
  if (opt.net) {
    nets = &opt.net;
    nnets = 1;
  } else if (nnets == 0) {
    fprintf(stderr, "netc: error: %s defines no net (write 'net NAME(x: [1, 3, 224, 224]) { ... }')\n", path);
    return 1;
  } else if (nnets > 1 && (opt.report == REPORT_JSON || opt.report == REPORT_DOT || opt.out_c || opt.quantize)) {
    // (a ranges file is for one net)
    fprintf(stderr, "netc: %s defines %d nets; choose one with --net (", path, nnets);
    for (int i = 0; i < nnets; i++)
      fprintf(stderr, "%s%s", i ? ", " : "", nets[i]);
    fprintf(stderr, ")\n");
    return 2;
  }

  int status = 0;
  for (int i = 0; i < nnets; i++) {
    int st = compile_net(prog, nets[i], &opt, rep, i == 0);
    if (st > status)
      status = st;
  }
  if (fflush(rep) != 0 || ferror(rep)) {
    fprintf(stderr, "netc: error: writing the report failed\n");
    return 1;
  }
  return status;
}
