// emit.c -- the C back end: a header and a C99 source per net.
//
// requires: every pass (shapes, cost, fusion, memory plan).
// produces: PREFIX.h (sizes as #defines, the API, the layer table) and
//           PREFIX.c (the loader's tables, thin wrappers over the runtime's
//           netc_model_* loaders, the forward pass, and with --main the
//           calibration forward pass and a main() that calls
//           netc_model_main), calling runtime/netc_rt.h.
//
// The forward pass is straight-line code: one block per kernel, each with
// a comment naming the layer, its op and shapes. Activations live at fixed
// offsets in the caller's arena (memplan.c); weights at fixed offsets in the
// model's float blob (lower.c's slots). Nothing allocates, nothing global is
// written, so two threads can run two inferences with two arenas.
//
// Output is deterministic: same graph, same bytes.
#include "netc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/netc_rt.h"


static FILE *out;

__attribute__((format(printf, 1, 2))) static void println(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(out, fmt, ap);
  va_end(ap);
  fputc('\n', out);
}

static void blank(void) { fputc('\n', out); }

static char *upper(const char *s) {
  char *u = xstrdup(s);
  for (char *p = u; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  return u;
}

// A C string literal for s (names are ASCII identifiers and dots, but be safe).
static char *cstr(const char *s) {
  size_t n = strlen(s);
  char *buf = xalloc(n * 4 + 3), *o = buf;
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      *o++ = '\\', *o++ = (char)*p;
    else if (*p < 0x20 || *p >= 0x7f)
      o += sprintf(o, "\\%03o", *p);
    else
      *o++ = (char)*p;
  }
  *o++ = '"';
  return buf;
}

// The shortest decimal float literal that reads back as the same float
// (1e-05f, 0.1f, 2.0f): exact, and what the source said. Non-finite values
// (a slope of 3e38 * 10) use <math.h>'s constant expressions.
static char *flt(double v) {
  float f = (float)v;
  if (isnan(f))
    return xstrdup("NAN");
  if (isinf(f))
    return xstrdup(f > 0 ? "HUGE_VALF" : "-HUGE_VALF");
  char buf[48];
  for (int digits = 1; digits <= 9; digits++) { // 9 significant digits always round-trip a float
    snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
    if (strtof(buf, NULL) == f && signbit(strtof(buf, NULL)) == signbit(f))
      break;
  }
  return format("%s%sf", buf, strpbrk(buf, ".e") ? "" : ".0"); // "2" would be an int: "2.0f"
}

// A double literal that reads back as the same double (the scale factors of
// upsample, which PyTorch keeps in double).
static char *dbl(double v) {
  char buf[48];
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  return format("%s%s", buf, strpbrk(buf, ".e") ? "" : ".0");
}

// The enumerator's name, from the runtime's own table of names (which a
// static assert keeps one per netc_act): "relu" -> NETC_ACT_RELU.
static const char *act_enum(netc_act a) { return format("NETC_ACT_%s", upper(netc_act_name(a))); }

// ---- names ----------------------------------------------------------------------
//
// The C identifiers a generated file declares come from three sources, kept
// apart so that no user name can collide with netc's own:
//   - P_suffix and U_SUFFIX, from the net's name P (the prefix) and a fixed
//     suffix: distinct suffixes give distinct names; P may not be netc's
//     (the runtime's netc_ / NETC_ namespace) nor start with '_' (reserved
//     in C at file scope);
//   - NAME_in for each net input's parameter: no other parameter or local of
//     the generated code (m, W, arena, scratch, output, xs, mean, ...), no
//     file-scope static (P-prefixed, or conv_N) and no P_suffix ends in
//     "_in", so an input may be called anything the language allows (mean,
//     W, int, NULL, conv_1, forward, ...). Keep it so when adding a name;
//     check_emit's name tests compile the cases that once broke;
//   - U_INPUT_NAME_FLOATS / _DIMk in the header, the input's name upper-
//     cased: two inputs that differ only in case would share a macro, and
//     are refused.

static const char *P, *U; // prefix and its upper case

static char *input_param(const Layer *in) { return format("%s_in", in->name); }

// forward()'s parameters between the model and the arena: the inputs, then the outputs.
static char *forward_params(const Graph *g) {
  char *params = xstrdup("");
  for (int i = 0; i < g->ninputs; i++)
    params = format("%sconst float *%s, ", params, input_param(g->inputs[i]));
  for (int i = 0; i < g->noutputs; i++)
    params = format("%sfloat *output%s, ", params, g->noutputs > 1 ? format("%d", i) : "");
  return params;
}

static bool ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
      return false;
  return *a == *b;
}

bool check_c_names(Graph *g) {
  bool ok = true;
  const char *p = g->net;
  if (ieq(p, "netc") || (strlen(p) > 5 && ieq(format("%.5s", p), "netc_"))) {
    error_at(g->loc, "net name '%s' would prefix the generated C's names with the runtime's own '%s' namespace",
             p, format("%.4s_", p));
    note_at(g->loc, "names beginning 'netc_' belong to the netc runtime; rename the net");
    ok = false;
  } else if (p[0] == '_') {
    error_at(g->loc, "net name '%s' begins with '_': the generated C's names (%s_model, %s_H) would be reserved "
             "identifiers", p, p, upper(p));
    ok = false;
  }
  for (int i = 0; i < g->ninputs; i++)
    for (int j = 0; j < i; j++)
      if (ieq(g->inputs[i]->name, g->inputs[j]->name)) {
        error_at(g->inputs[i]->loc, "inputs '%s' and '%s' differ only in case: both would be %s_INPUT_%s_FLOATS in "
                 "the generated header", g->inputs[j]->name, g->inputs[i]->name, upper(p),
                 upper(g->inputs[i]->name));
        note_at(g->inputs[j]->loc, "'%s' is declared here", g->inputs[j]->name);
        ok = false;
      }
  return ok;
}

// Layers with a parameter struct at file scope get "conv_", "convt_" or
// "pool_" and their module path with '.' as '_' (conv_layer1_0_conv1): the
// forward pass reads like the report, and inserting a layer renames
// nothing. These names come from the user, so one that the file already
// declares (P's API when the net is called conv, an input's NAME_in
// parameter, which would shadow it inside the forward pass, an earlier
// struct's for paths a.b and a_b) gets the layer id appended until it is
// new. The API list follows emit_header and emit_source; check_emit
// compiles a net called conv whose layers are named after it.
static const char **param_name; // by layer id; NULL: no struct

static const char *param_family(const Layer *l) {
  if (op_is_conv(l->op) && !l->fused_into)
    return "conv";
  if (l->op == OP_CONV_TRANSPOSE2D)
    return "convt";
  if (op_is_window_pool(l->op))
    return "pool";
  return NULL;
}

static void name_params(Graph *g) {
  static const char *const api[] = {"model", "layer_info", "layers", "tensors", "folds", "packs", "desc", "error",
                                    "free", "load", "load_memory", "init_random", "init_embedded", "weight_data",
                                    "weight_floats", "weight_blob", "forward", "runner", "runner_load",
                                    "runner_forward", "self_test", "forward_calibrate", "runner_calibrate",
                                    "calib_names", "calib_ops"};
  const char **taken = NULL;
  int n = 0, cap = 0;
#define TAKE(s) (taken = grow(taken, &cap, n + 1, sizeof *taken), taken[n++] = intern((s), strlen(s)))
  for (size_t k = 0; k < sizeof api / sizeof api[0]; k++)
    TAKE(format("%s_%s", P, api[k]));
  TAKE("adopt");
  TAKE("main");
  for (int i = 0; i < g->ninputs; i++)
    TAKE(input_param(g->inputs[i]));
  // --self-test's statics (emit_self_test), whether or not there is one: the
  // names of the layers' structs must not depend on the option.
  TAKE(format("%s_self_test_err", P));
  TAKE(format("%s_self_test_err_sum", P));
  for (int i = 0; i < g->ninputs; i++)
    TAKE(format("%s_self_test_in%d", P, i));
  for (int i = 0; i < g->noutputs; i++) {
    TAKE(format("%s_self_test_out%d", P, i));
    TAKE(format("%s_self_test_want%d", P, i));
  }
  param_name = xalloc((size_t)g->nlayers * sizeof *param_name);
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    const char *fam = param_family(l);
    if (!fam)
      continue;
    char *name = format("%s_%s", fam, l->name);
    for (char *c = name; *c; c++)
      if (!isalnum((unsigned char)*c))
        *c = '_';
    for (bool clash = true; clash;) {
      const char *id = intern(name, strlen(name));
      clash = false;
      for (int k = 0; k < n && !clash; k++)
        clash = taken[k] == id;
      if (clash)
        name = format("%s_%d", name, l->id);
    }
    TAKE(name);
    param_name[i] = taken[n - 1];
  }
#undef TAKE
}

// Text for inside a /* */ comment: a file name may contain "*/".
static char *in_comment(const char *s) {
  size_t n = strlen(s);
  char *o = xalloc(2 * n + 1), *q = o;
  for (size_t i = 0; i < n; i++) {
    *q++ = s[i];
    if (s[i] == '*' && s[i + 1] == '/')
      *q++ = ' ';
  }
  return o;
}

// ---- calibration (--main): the unfused forward pass -------------------------------
//
// PREFIX_forward_calibrate (the runner's --calibrate) computes the net as
// written, before fusion, and shows every layer's own output to an observer:
// a conv with a fused relu gives the conv's output, then the relu's; a
// residual add fused into a conv gives the conv's output, then the add's.
// Ranges recorded on the fused graph would be those of the wrong tensors
// (the int8 compile quantizes the conv's output, not conv+relu, when the
// relu does not fuse there). Batch norms stay folded (the loader folded
// them into the weights, and PyTorch's FX folds before observing too): a
// folded norm reports its conv's output, which already includes it.
//
// It is a mode of this emitter, not a second graph or pass, because
// everything else must stay the normal forward's: the same loaded model, the
// same weight slots and packed weights, the same parameter structs and
// kernels. Only three things change, each tested where it matters:
//   - where a tensor lives (buf -> calib_buf): each computed layer has a
//     region of its own (calib_plan), nothing reused, so every value is
//     there when the observer reads it; views resolve to their input's
//     memory (the values are the view's), net inputs to the caller's;
//   - fused epilogues are dropped (act_of, residual_of, trans_b_of): conv,
//     conv_transpose2d, linear and add run with no activation and no
//     residual, matmul reads its transposed operand as computed, and the
//     absorbed activation, add or transpose runs through its ordinary case
//     of emit_layer;
//   - folded batch norms stay folded (calib_folded).
// Dropping a conv's activation keeps its packed weights valid: the runtime
// chooses a convolution's path and packing from the sizes alone
// (plan_conv in runtime/conv.c), and its scratch likewise, so the normal
// forward's scratch size is enough.
//
// Emitted with --main only, under !NETC_NO_STDIO: a file without --main is
// byte-for-byte what it was.

static bool calib;        // emit_layer and buf emit the unfused net
static int64_t *calib_off; // by layer id: the layer's region in floats, -1 for none (calib_plan)

static const Layer *act_of(const Layer *l) { return calib ? NULL : l->act; }
static const Layer *residual_of(const Layer *l) { return calib ? NULL : l->residual; }
static bool trans_b_of(const Layer *l) { return !calib && l->trans_b; }

// A batch norm folded into its conv: the one fusion calibration keeps.
static bool calib_folded(const Layer *l) { return l->fused_into && l->fused_into->fold_bn == l; }

// Regions of the calibration arena, one per computed layer in id order,
// 16-float aligned as memplan.c's; the kernels' scratch after them. Returns
// the arena's floats (the header's _CALIB_ARENA_FLOATS).
static int64_t calib_plan(Graph *g) {
  calib_off = xalloc((size_t)g->nlayers * sizeof *calib_off);
  int64_t top = 0;
  for (int i = 0; i < g->nlayers; i++) {
    const Layer *l = g->layers[i];
    calib_off[i] = -1;
    if (op_is_source(l->op) || calib_folded(l) || layer_is_view(l))
      continue;
    calib_off[i] = top;
    top += (shape_numel(&l->shape) + 15) / 16 * 16;
  }
  return top + lower_scratch_region_bytes(g->totals.scratch_floats) / 4;
}

// The floats before the scratch region (calib_plan's activations).
static int64_t calib_scratch_off(Graph *g) {
  return calib_plan(g) - lower_scratch_region_bytes(g->totals.scratch_floats) / 4;
}

// The layer whose memory holds l's values in the calibration forward, and
// l's offset into it in floats: views and folded norms resolve to their input.
static const Layer *calib_root(const Layer *l, int64_t *off) {
  *off = 0;
  for (;;) {
    if (calib_folded(l)) {
      l = l->in[0];
    } else if (!op_is_source(l->op) && layer_is_view(l)) {
      *off += view_floats(l);
      l = l->in[0];
    } else {
      return l;
    }
  }
}

static char *calib_buf(const Layer *l) {
  int64_t off;
  const Layer *r = calib_root(l, &off);
  if (r->op == OP_INPUT)
    return off ? format("%s + %lld", input_param(r), (long long)off) : input_param(r);
  if (op_in_blob(r->op))
    return format("W + %lld", (long long)(r->slots.w + off));
  NETC_ASSERT(calib_off[r->id] >= 0);
  return format("arena + %lld", (long long)(calib_off[r->id] + off));
}

static void emit_calibrate_decl(Graph *g) {
  println("#ifndef NETC_NO_STDIO");
  println("/* Calibration (the runner's --calibrate). Runs the net as written, before fusion: every");
  println("   layer's own output (a conv before its fused activation, then the activation; a fused");
  println("   residual add as an add of its own; batch norms stay folded, and a folded norm reports");
  println("   its conv's output), each in its own region of the arena, nothing reused. Calls");
  println("   obs(ctx, layer, x, count) once per layer, in layer order, after the layer ran: layer is");
  println("   the index in netc --report=json's layers (net inputs and declared params and buffers");
  println("   included), x its count floats (a view reports its input's memory). m: loaded as for");
  println("   forward. arena: %s_CALIB_ARENA_FLOATS floats. Outputs as forward's. */", U);
  println("#define %s_CALIB_ARENA_FLOATS %lldLL", U, (long long)calib_plan(g));
  println("void %s_forward_calibrate(const %s_model *m, const float *const *inputs, float *const *outputs,", P, P);
  println("                          float *arena, void (*obs)(void *ctx, int32_t layer, const float *x, int64_t count),");
  println("                          void *ctx);");
  println("#endif");
  blank();
}

// ---- header ---------------------------------------------------------------------

static void emit_layer_table_type(void) {
  println("/* One row per layer of the net, as in `netc --report`. */");
  println("typedef struct %s_layer_info {", P);
  println("  const char *name;   /* PyTorch module name, e.g. \"layer1.0.conv1\" */");
  println("  const char *op;     /* netc op, e.g. \"conv2d\" */");
  println("  int32_t rank;       /* of the output */");
  println("  int64_t shape[%d];   /* output shape (rank entries) */", MAX_RANK);
  println("  int64_t params;     /* trainable parameters */");
  println("  int64_t macs;       /* multiply-accumulates */");
  println("  int64_t flops;      /* 2 * macs + elementwise work */");
  println("  int32_t fused;      /* 1: computed inside the previous kernel (folded BN, fused activation) */");
  println("} %s_layer_info;", P);
}

// ---- --self-test ------------------------------------------------------------------
//
// PREFIX_self_test runs PREFIX_forward on the built-in input (self_test_input,
// execute.c: made by a loop, not stored) and compares the outputs with those
// the reference kernels gave at compile time (self_test_outputs). It stores:
//   an output of at most SELF_TEST_STORE_ALL elements: all of them;
//   a larger one: SELF_TEST_STORE_ALL elements at a fixed stride (every
//     stride-th from element 0), plus its sum and its sum of magnitudes over
//     all elements (a change anywhere that moves either shows), in double.
// Element error: |a - b| / max(|b|, floor), with floor = SELF_TEST_FLOOR
// times the largest |b| of that output: an element near zero is judged
// against the output's scale, not against its own tiny value. The sums'
// error: |sum(a) - sum(b)| / sum(|b|), likewise for sum(|a|). The tolerance
// is SELF_TEST_TOLERANCE.
//
// The tolerance covers fp32 reassociation (SIMD GEMM tiles, Winograd, FMA
// contraction; x86, NEON and Cortex-M builds) against the reference
// kernels' double accumulation: every model of models/ with random weights
// measured at most 2.3e-5 on x86 (VGG-16-BN with the portable C kernels; 7e-6
// with AVX-512; with a floor of 1/64 instead of 1/16 MobileNetV3-Small's
// portable build already reached 3.1e-5), 4e-6 on aarch64 with NEON.
// A corrupted weight, a wrong kernel, a mis-set FPU or float ABI moves
// outputs by orders of magnitude more; check-backend (self_test.sh) shows
// single changed weights and expected values failing.
enum { SELF_TEST_STORE_ALL = 1024 };
#define SELF_TEST_FLOOR (1.0 / 16)
#define SELF_TEST_TOLERANCE "1e-4f"

static void emit_self_test_decl(void) {
  blank();
  println("/* Self-test (netc --self-test). Relative error of an output element a against the value");
  println("   b netc computed: |a - b| / max(|b|, floor), floor = 1/%d of the largest |b| of that",
          (int)(1 / SELF_TEST_FLOOR));
  println("   output (outputs over %d elements: every k-th element, and their sum and sum of", SELF_TEST_STORE_ALL);
  println("   magnitudes, whose error is relative to the sum of magnitudes). A non-finite output is");
  println("   an error of HUGE_VALF. The tolerance admits fp32 rounding differences between targets");
  println("   (SIMD, FMA, reassociation), not a wrong weight, kernel or FPU setting. */");
  println("#define %s_SELF_TEST_TOLERANCE %s", U, SELF_TEST_TOLERANCE);
  println("/* Runs forward on the built-in input and returns the worst relative error of any output element");
  println("   against the output netc computed at compile time (reference kernels). Pass: <= %s_SELF_TEST_TOLERANCE.",
          U);
  println("   The input is generated, not stored; input and output buffers are static (not re-entrant).");
  println("   No allocation, no I/O: m loaded any way (init_embedded, load), arena of %s_ARENA_FLOATS. */", U);
  println("float %s_self_test(const %s_model *m, float *arena);", P, P);
}

static void emit_self_test(Graph *g, float *const *want) {
  println("/* ---- self-test (netc --self-test) ---- */");
  blank();
  println("/* The built-in input is computed, not stored: one netc_splitmix64 generator seeded with");
  println("   0x%llx, continued across the inputs in order, each element (float)(next >> 40) *", (unsigned long long)NETC_SELF_TEST_SEED);
  println("   2^-23 - 1: uniform in [-1, 1), exact in any float arithmetic. netc ran the net on the");
  println("   same numbers with the runtime's reference kernels (netc_ref_*). The buffers are static");
  println("   (RAM, not flash). */");
  int64_t in_floats = 0, out_floats = 0, stored = 0;
  for (int i = 0; i < g->ninputs; i++) {
    int64_t n = shape_numel(&g->inputs[i]->shape);
    in_floats += n;
    println("static float %s_self_test_in%d[%lld]; /* %s */", P, i, (long long)n, g->inputs[i]->name);
  }
  for (int i = 0; i < g->noutputs; i++) {
    int64_t n = shape_numel(&g->outputs[i]->shape);
    out_floats += n;
    println("static float %s_self_test_out%d[%lld];", P, i, (long long)n);
  }
  blank();
  double *lo = xalloc((size_t)g->noutputs * sizeof *lo);
  int64_t *stride = xalloc((size_t)g->noutputs * sizeof *stride);
  for (int i = 0; i < g->noutputs; i++) {
    int64_t n = shape_numel(&g->outputs[i]->shape);
    double big = 0;
    for (int64_t k = 0; k < n; k++)
      big = fabs((double)want[i][k]) > big ? fabs((double)want[i][k]) : big;
    lo[i] = big * SELF_TEST_FLOOR > 1e-30 ? big * SELF_TEST_FLOOR : 1e-30; // all zeros: any nonzero fails
    stride[i] = n <= SELF_TEST_STORE_ALL ? 1 : n / SELF_TEST_STORE_ALL;
    int64_t count = n <= SELF_TEST_STORE_ALL ? n : SELF_TEST_STORE_ALL;
    stored += count;
    if (stride[i] == 1)
      println("/* Output %d %s: all %lld elements, as netc computed them. */", i, shape_str(&g->outputs[i]->shape),
              (long long)n);
    else
      println("/* Output %d %s: every %lldth of its %s elements (k * %lld, k < %d), as netc computed them. */", i,
              shape_str(&g->outputs[i]->shape), (long long)stride[i], fmt_int(n), (long long)stride[i],
              SELF_TEST_STORE_ALL);
    println("static const float %s_self_test_want%d[%lld] = {", P, i, (long long)count);
    char *line = xstrdup("");
    for (int64_t k = 0; k < count; k++) {
      char *item = format("%s,", flt(want[i][k * stride[i]]));
      if (*line && strlen(line) + strlen(item) + 1 > 100) {
        println("  %s", line);
        line = xstrdup("");
      }
      line = format("%s%s%s", line, *line ? " " : "", item);
    }
    println("  %s", line);
    println("};");
  }
  blank();
  // Float arithmetic for the elements (a Cortex-M4 has no double unit; clean
  // under -Wdouble-promotion), double only for the sums of a large output.
  bool sampled = false;
  for (int i = 0; i < g->noutputs; i++)
    sampled |= stride[i] > 1;
  println("/* |a - b| / max(|b|, lo); a NaN or an infinity is an error of HUGE_VALF. */");
  println("static float %s_self_test_err(float a, float b, float lo) {", P);
  println("  float d = a > b ? a - b : b - a, m = b < 0 ? -b : b;");
  println("  if (!(d <= 3.4e38f)) /* NaN, inf */");
  println("    return HUGE_VALF;");
  println("  return d / (m > lo ? m : lo);");
  println("}");
  blank();
  if (sampled) {
    println("/* The same for the sums of a large output, accumulated in double. */");
    println("static float %s_self_test_err_sum(double a, double b, double lo) {", P);
    println("  double d = a > b ? a - b : b - a;");
    println("  if (!(d <= 3.4e38)) /* NaN, inf */");
    println("    return HUGE_VALF;");
    println("  d /= lo;");
    println("  return d < 3.4e38 ? (float)d : HUGE_VALF;");
    println("}");
    blank();
  }
  println("/* Stores %s bytes of expected values; %s bytes of static buffers. */", fmt_int(stored * 4),
          fmt_int((in_floats + out_floats) * 4));
  println("float %s_self_test(const %s_model *m, float *arena) {", P, P);
  println("  uint64_t s = 0x%llxu;", (unsigned long long)NETC_SELF_TEST_SEED);
  println("  float worst = 0.0f, e;");
  println("  int64_t i;");
  for (int i = 0; i < g->ninputs; i++) {
    println("  for (i = 0; i < %lld; i++)", (long long)shape_numel(&g->inputs[i]->shape));
    println("    %s_self_test_in%d[i] = (float)(uint32_t)(netc_splitmix64(&s) >> 40) * 0x1p-23f - 1.0f;", P, i);
  }
  char *args = xstrdup("");
  for (int i = 0; i < g->ninputs; i++)
    args = format("%s%s_self_test_in%d, ", args, P, i);
  for (int i = 0; i < g->noutputs; i++)
    args = format("%s%s_self_test_out%d, ", args, P, i);
  println("  %s_forward(m, %sarena);", P, args);
  for (int i = 0; i < g->noutputs; i++) {
    int64_t n = shape_numel(&g->outputs[i]->shape);
    if (stride[i] == 1) {
      println("  for (i = 0; i < %lld; i++) {", (long long)n);
      println("    e = %s_self_test_err(%s_self_test_out%d[i], %s_self_test_want%d[i], %s);", P, P, i, P, i,
              flt(lo[i]));
      println("    if (!(e <= worst))");
      println("      worst = e;");
      println("  }");
      continue;
    }
    double sum = 0, abs_sum = 0;
    for (int64_t k = 0; k < n; k++) {
      sum += want[i][k];
      abs_sum += fabs((double)want[i][k]);
    }
    println("  {");
    println("    double sum = 0, abs_sum = 0;");
    println("    for (i = 0; i < %lld; i++) {", (long long)n);
    println("      float a = %s_self_test_out%d[i];", P, i);
    println("      sum += (double)a;");
    println("      abs_sum += (double)(a < 0 ? -a : a);");
    println("      if (i %% %lld == 0 && i / %lld < %d) {", (long long)stride[i], (long long)stride[i],
            SELF_TEST_STORE_ALL);
    println("        e = %s_self_test_err(a, %s_self_test_want%d[i / %lld], %s);", P, P, i, (long long)stride[i],
            flt(lo[i]));
    println("        if (!(e <= worst))");
    println("          worst = e;");
    println("      }");
    println("    }");
    println("    /* over all %s elements: sum %s, sum of magnitudes %s */", fmt_int(n), dbl(sum), dbl(abs_sum));
    println("    e = %s_self_test_err_sum(sum, %s, %s);", P, dbl(sum), dbl(abs_sum > 1e-30 ? abs_sum : 1e-30));
    println("    if (!(e <= worst))");
    println("      worst = e;");
    println("    e = %s_self_test_err_sum(abs_sum, %s, %s);", P, dbl(abs_sum), dbl(abs_sum > 1e-30 ? abs_sum : 1e-30));
    println("    if (!(e <= worst))");
    println("      worst = e;");
    println("  }");
  }
  println("  return worst;");
  println("}");
  blank();
}

void emit_header(Graph *g, const EmitOptions *o, FILE *f) {
  out = f;
  P = o->prefix;
  U = upper(P);
  const Totals *t = &g->totals;

  println("/* %s.h -- generated by netc %s from %s (net '%s'). Do not edit. */", P, NETC_VERSION,
          in_comment(g->file->name), g->net);
  println("/*");
  println(" * Usage:");
  println(" *   static float arena[%s_ARENA_FLOATS];      (or malloc it once)", U);
  println(" *   static %s_model m;                  (a model starts zeroed: static, or = {0})", P);
  println(" *   if (%s_load(&m, \"%s.safetensors\") != 0) { fputs(%s_error(&m), stderr); ... }", P, P, P);
  println(" *   %s_forward(&m, input, output, arena);      no allocation, no I/O, no globals written", P);
  println(" *   %s_free(&m);", P);
  println(" * Tensors are float32 NCHW, contiguous. Weights are read by PyTorch state_dict name.");
  println(" * Build with the netc runtime: its sources in runtime/ (-Iruntime -lm) or libnetcrt.a.");
  println(" */");
  println("#ifndef %s_H", U);
  println("#define %s_H", U);
  blank();
  println("#include <stddef.h>");
  println("#include <stdint.h>");
  blank();
  println("#ifdef __cplusplus");
  println("extern \"C\" {");
  println("#endif");
  blank();
  println("/* Inputs and outputs: element counts and shapes. */");
  println("#define %s_NUM_INPUTS %d", U, g->ninputs);
  for (int i = 0; i < g->ninputs; i++) {
    Layer *in = g->inputs[i];
    char *name = upper(in->name);
    println("#define %s_INPUT_%s_FLOATS %lld /* %s %s */", U, name, (long long)shape_numel(&in->shape), in->name,
            shape_str(&in->shape));
    for (int d = 0; d < in->shape.rank; d++)
      println("#define %s_INPUT_%s_DIM%d %lld", U, name, d, (long long)in->shape.d[d]);
  }
  println("#define %s_INPUT_FLOATS %lld /* the first input */", U, (long long)shape_numel(&g->inputs[0]->shape));
  println("#define %s_NUM_OUTPUTS %d", U, g->noutputs);
  for (int i = 0; i < g->noutputs; i++) {
    Layer *ol = g->outputs[i];
    println("#define %s_OUTPUT%d_FLOATS %lld /* %s */", U, i, (long long)shape_numel(&ol->shape),
            shape_str(&ol->shape));
    for (int d = 0; d < ol->shape.rank; d++)
      println("#define %s_OUTPUT%d_DIM%d %lld", U, i, d, (long long)ol->shape.d[d]);
  }
  println("#define %s_OUTPUT_FLOATS %s_OUTPUT0_FLOATS", U, U);
  blank();
  println("/* Memory. The arena forward() takes is the activations (planned by liveness),");
  println("   then the kernels' scratch: _ARENA_BYTES = _ACTIVATION_BYTES + _SCRATCH_BYTES, the");
  println("   report's \"arena total\", \"activations (arena plan)\" and \"kernel scratch\".");
  println("   The weights are one float blob inside the model. */");
  println("#define %s_ARENA_FLOATS %lldLL /* %s bytes in all */", U, (long long)t->arena_floats, fmt_int(t->arena_floats * 4));
  println("#define %s_ARENA_BYTES (%s_ARENA_FLOATS * 4)", U, U);
  println("#define %s_ACTIVATION_BYTES %lldLL /* from arena[0] */", U, (long long)(t->scratch_offset * 4));
  println("#define %s_SCRATCH_BYTES %lldLL /* from arena[%lld] */", U, (long long)t->scratch_bytes,
          (long long)t->scratch_offset);
  println("#define %s_WEIGHT_FLOATS %lldLL", U, (long long)t->weight_floats);
  println("#define %s_PACKED_FLOATS %lldLL /* conv and linear weights packed at load time */", U,
          (long long)t->packed_floats);
  println("/* After a load or init_random, weights holds only the first %s_KEPT_FLOATS: the", U);
  println("   rest (raw weights of the packed convolutions, folded batch norms' statistics) is");
  println("   needed only while loading. Embedded weights (init_embedded) are whole. */");
  println("#define %s_KEPT_FLOATS %lldLL", U, (long long)t->kept_floats);
  blank();
  if (g->layers[0]->q.on) {
    println("/* int8 (netc --quantize int8): activations are uint8 in the arena; the loader quantizes");
    println("   the float weights into an int8 blob (int8 weights, int32 biases, requantization) and");
    println("   keeps of the float blob only what the layers that run in float read. */");
    println("#define %s_INT8 1", U);
    println("#define %s_INT8_WEIGHT_BYTES %lldLL /* the int8 weights alone */", U, (long long)t->int8_weight_bytes);
    println("#define %s_INT8_BLOB_BYTES %lldLL", U, (long long)t->qblob_bytes);
    println("#define %s_FLOAT_WEIGHT_BYTES %lldLL /* the float32 build's weights */", U,
            (long long)g->float_totals.weight_bytes);
    println("#define %s_FLOAT_ARENA_BYTES %lldLL /* the float32 build's arena */", U,
            (long long)g->float_totals.arena_floats * 4);
    blank();
  }
  println("/* The report's totals (see netc --report). */");
  println("#define %s_PARAMS %lldLL", U, (long long)g->totals.params);
  println("#define %s_MACS %lldLL", U, (long long)g->totals.macs);
  println("#define %s_FLOPS %lldLL", U, (long long)g->totals.flops);
  println("#define %s_NUM_LAYERS %d", U, g->nlayers - g->ninputs);
  println("/* The graph's fingerprint (FNV-1a 64 of every layer's id, name, op and shape): the one a");
  println("   ranges file from this net's --calibrate carries. */");
  println("#define %s_FINGERPRINT \"%016llx\"", U, (unsigned long long)graph_fingerprint(g));
  blank();
  emit_layer_table_type();
  // C99 has no empty arrays: a net that returns its input keeps one zeroed row.
  if (g->nlayers > g->ninputs)
    println("extern const %s_layer_info %s_layers[%s_NUM_LAYERS];", P, P, U);
  else
    println("extern const %s_layer_info %s_layers[1]; /* no layers: one zeroed row (C has no empty arrays) */", P, P);
  blank();
  println("typedef struct %s_model {", P);
  println("  const float *weights; /* %s_KEPT_FLOATS (embedded: %s_WEIGHT_FLOATS) floats, BN folded */", U, U);
  println("  float *owned_;        /* private: the blob when loaded from a file */");
  println("  float *packed_;       /* private: conv weights packed for this build of the runtime, or NULL */");
  if (g->layers[0]->q.on)
    println("  const uint8_t *int8;  /* the int8 blob: weights, biases, requantization (%s_INT8_BLOB_BYTES) */", U);
  println("  char error[256];      /* the last failure's message */");
  println("} %s_model;", P);
  blank();
  println("/* Loading returns 0, or -1 with a message in %s_error(m). A failed load leaves", P);
  println("   a previously loaded model untouched and usable. A model must start zeroed");
  println("   (static, = {0}, or memset) or have been loaded before. */");
  println("#ifndef NETC_NO_STDIO /* a device build (no heap, no files) has init_embedded only */");
  println("int %s_load(%s_model *m, const char *safetensors_path);", P, P);
  println("int %s_load_memory(%s_model *m, const void *data, size_t size);", P, P);
  println("/* Deterministic random weights (the recipe: netc_model_init_random in netc_rt.h). */");
  println("int %s_init_random(%s_model *m, uint64_t seed);", P, P);
  println("#endif");
  if (o->weights_name)
    println("/* The weights compiled into %s (no file system needed). */\nvoid %s_init_embedded(%s_model *m);",
            o->weights_name, P, P);
  println("void %s_free(%s_model *m);", P, P);
  println("const char *%s_error(const %s_model *m);", P, P);
  if (o->self_test)
    emit_self_test_decl();
  blank();
  char *params = forward_params(g);
  println("/* One inference. arena: %s_ARENA_FLOATS floats, any alignment, reused freely.", U);
  println("   Inputs and outputs must not overlap the arena. */");
  println("void %s_forward(const %s_model *m, %sfloat *arena);", P, P, params);
  blank();
  if (o->with_main && !g->layers[0]->q.on) // calibration is the float build's
    emit_calibrate_decl(g);
  println("#ifdef __cplusplus");
  println("}");
  println("#endif");
  blank();
  println("#endif /* %s_H */", U);
}

// ---- source ---------------------------------------------------------------------

// An int8 build's float layers read and write float copies in the scratch
// region (emit_float_layer): while one is emitted, these name them.
static const char **buf_override; // by layer id, or NULL

// Where a layer's output lives, as a C expression: a float pointer, or in an
// int8 build a uint8 one (A8, the arena as bytes) for a uint8 tensor.
static char *buf(const Layer *l) {
  if (calib)
    return calib_buf(l);
  if (buf_override && buf_override[l->id])
    return xstrdup(buf_override[l->id]);
  if (l->q.u8) {
    NETC_ASSERT(l->offset >= 0);
    return format("A8 + %lld", (long long)l->offset);
  }
  const Layer *r = l->alias ? l->alias : l;
  if (r->op == OP_INPUT)
    return l->view_off ? format("%s + %lld", input_param(r), (long long)(l->view_off / 4)) : input_param(r);
  if (op_in_blob(r->op)) // a param or buffer: its slot in the weight blob
    return format("W + %lld", (long long)(r->slots.w + l->view_off / 4));
  NETC_ASSERT(l->offset >= 0 && l->offset % 4 == 0);
  return format("arena + %lld", (long long)(l->offset / 4));
}

static char *wptr(int64_t off) { return off < 0 ? xstrdup("NULL") : format("W + %lld", (long long)off); }

// Designated initializers: ".name = value" for every field not at zero
// (C's default for an omitted field), so a reader needs no netc_rt.h.
static char *fields(char *s, const char *name, int64_t v) {
  return v ? format("%s%s.%s = %lld", s, *s ? ", " : "", name, (long long)v) : s;
}

static char *act_fields(char *s, netc_act act, float slope) {
  if (act != NETC_ACT_NONE)
    s = format("%s%s.act = %s", s, *s ? ", " : "", act_enum(act));
  if (slope != 0)
    s = format("%s%s.act_slope = %s", s, *s ? ", " : "", flt(slope));
  return s;
}

// A conv2d's path, when the compiler chose it (--max-scratch); left out,
// NETC_CONV_AUTO lets the runtime choose from the sizes.
static char *path_field(char *s, netc_conv_path path) {
  switch (path) {
  case NETC_CONV_AUTO: return s;
  case NETC_CONV_NO_SCRATCH: return format("%s%s.path = NETC_CONV_NO_SCRATCH", s, *s ? ", " : "");
  case NETC_CONV_FAST: return format("%s%s.path = NETC_CONV_FAST", s, *s ? ", " : "");
  case NETC_CONV_PATH_COUNT: break;
  }
  unreachable();
}

static char *window_fields(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  char *s = fields(fields(xstrdup(""), "kernel_h", kh), "kernel_w", kw);
  s = fields(fields(s, "stride_h", sh), "stride_w", sw);
  return fields(fields(s, "dilation_h", dh), "dilation_w", dw);
}

// A struct's fields on up to three lines (shapes, window, the rest), empty
// ones left out, continuation lines indented by indent.
static char *struct_lines(const char *indent, const char *a, const char *b, const char *c) {
  const char *parts[3] = {a, b, c};
  char *s = xstrdup("");
  for (int i = 0; i < 3; i++)
    if (*parts[i])
      s = format("%s%s%s", s, *s ? format(",\n%s", indent) : "", parts[i]);
  return s;
}

// The paddings, and what follows them on their line (empty strings skipped).
static char *pad_fields(int64_t top, int64_t bottom, int64_t left, int64_t right, const char *more) {
  char *s = fields(fields(fields(fields(xstrdup(""), "pad_top", top), "pad_bottom", bottom), "pad_left", left),
                   "pad_right", right);
  return *more ? format("%s%s%s", s, *s ? ", " : "", more) : s;
}

static char *nchw_fields(const char *c, int64_t n, int64_t ch, int64_t h, int64_t w, const char *pre) {
  char *s = fields(xstrdup(""), "n", n);
  s = fields(s, c, ch);
  return fields(fields(s, format("%s_h", pre), h), format("%s_w", pre), w);
}

// The parameter structs of convolutions and pooling, at file scope and
// named by layer (name_params): the forward pass and the load-time weight
// packing use the same structs. Returns the number of packed convolutions.
static int emit_layer_params(Graph *g) {
  int npacks = 0;
  bool any = false;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    const char *name = param_name[i];
    if (!name)
      continue;
    if (!any)
      println("/* Layer parameters, named by module path (the report's names). */");
    any = true;
    if (l->q.kind == Q_CONV) {
      netc_conv2d_params p = lower_conv2d(l);
      p.act = NETC_ACT_NONE; // the clamp below is the activation
      println("static const netc_qconv2d_params %s = { /* %s: %s */", name, l->name, kernel_name(l));
      println("  .p = {%s},", struct_lines("        ",
              format("%s, %s", nchw_fields("in_c", p.n, p.in_c, p.in_h, p.in_w, "in"),
                     nchw_fields("out_c", 0, p.out_c, p.out_h, p.out_w, "out")),
              fields(window_fields(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w),
                     "groups", p.groups),
              pad_fields(p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, xstrdup(""))));
      println("  .in_zp = %d, .out_zp = %d, .out_min = %d, .out_max = %d};", l->in[0]->q.zp, l->q.zp, l->q.out_min,
              l->q.out_max);
    } else if (op_is_conv(l->op)) {
      netc_conv2d_layer c = lower_conv2d_layer(l);
      const netc_conv2d_params *p = &c.p;
      println("static const netc_conv2d_layer %s = { /* %s: %s */", name, l->name, kernel_name(l));
      println("  .p = {%s},", struct_lines("        ",
              format("%s, %s", nchw_fields("in_c", p->n, p->in_c, p->in_h, p->in_w, "in"),
                     nchw_fields("out_c", 0, p->out_c, p->out_h, p->out_w, "out")),
              fields(window_fields(p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->dilation_h, p->dilation_w),
                     "groups", p->groups),
              pad_fields(p->pad_top, p->pad_bottom, p->pad_left, p->pad_right,
                         path_field(act_fields(xstrdup(""), p->act, p->act_slope), p->path))));
      println("  .weight = %lld, .bias = %lld, .packed = %lld};", (long long)c.weight, (long long)c.bias,
              (long long)c.packed);
      npacks += c.packed >= 0;
    } else if (l->op == OP_CONV_TRANSPOSE2D) {
      netc_conv_transpose2d_params p = lower_conv_transpose2d(l);
      char *opad = fields(fields(xstrdup(""), "output_pad_h", p.output_pad_h), "output_pad_w", p.output_pad_w);
      println("static const netc_conv_transpose2d_params %s = { /* %s */", name, l->name);
      println("  %s};", struct_lines("  ",
              format("%s, %s", nchw_fields("in_c", p.n, p.in_c, p.in_h, p.in_w, "in"),
                     nchw_fields("out_c", 0, p.out_c, p.out_h, p.out_w, "out")),
              fields(window_fields(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w),
                     "groups", p.groups),
              pad_fields(p.pad_top, p.pad_bottom, p.pad_left, p.pad_right,
                         act_fields(opad, p.act, p.act_slope))));
    } else {
      netc_pool2d_params p = lower_pool2d(l);
      char *modes = fields(fields(xstrdup(""), "ceil_mode", p.ceil_mode), "count_include_pad", p.count_include_pad);
      println("static const netc_pool2d_params %s = { /* %s */", name, l->name);
      println("  %s};", struct_lines("  ",
              format("%s, %s", nchw_fields("c", p.n, p.c, p.in_h, p.in_w, "in"),
                     fields(fields(xstrdup(""), "out_h", p.out_h), "out_w", p.out_w)),
              window_fields(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w),
              pad_fields(p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, modes)));
    }
  }
  if (any)
    blank();
  if (npacks) {
    println("/* Convolutions whose weights are packed at load time (netc_model_load_*). */");
    println("#ifndef NETC_NO_STDIO");
    println("static const netc_conv2d_layer *const %s_packs[%d] = {", P, npacks);
    char *line = xstrdup("");
    for (int i = 0; i < g->nlayers; i++) {
      if (!param_name[i] || !op_is_conv(g->layers[i]->op) || g->layers[i]->slots.packed < 0)
        continue;
      char *item = format("&%s,", param_name[i]);
      if (*line && strlen(line) + strlen(item) + 1 > 110) {
        println("  %s", line);
        line = xstrdup("");
      }
      line = format("%s%s%s", line, *line ? " " : "", item);
    }
    println("  %s", line);
    println("};");
    println("#endif");
    blank();
  }
  return npacks;
}

// The header's per-layer table. C99 has no empty arrays: a net that returns
// its input unchanged gets one zeroed row.
static void emit_layer_rows(Graph *g) {
  if (g->nlayers == g->ninputs) {
    println("const %s_layer_info %s_layers[1] = {{0}};", P, P);
    blank();
    return;
  }
  println("const %s_layer_info %s_layers[%s_NUM_LAYERS] = {", P, P, U);
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->op == OP_INPUT)
      continue;
    char *sh = xstrdup("{");
    for (int d = 0; d < MAX_RANK; d++)
      sh = format("%s%s%lld", sh, d ? ", " : "", (long long)(d < l->shape.rank ? l->shape.d[d] : 0));
    println("  {%s, \"%s\", %d, %s}, %lldLL, %lldLL, %lldLL, %d},", cstr(l->name), op_table[l->op].name,
            l->shape.rank, sh, (long long)l->params, (long long)l->macs, (long long)l->flops,
            l->fused_into != NULL);
  }
  println("};");
  blank();
}

static int nbpacks; // emit_tables: the number of linear weights packed at load time
static int nqlayers; // emit_tables: the number of int8 layers quantized at load time

// The layer table, and the loader's tables: state_dict tensors, folds and
// linear packs. Returns the number of folds.
static int emit_tables(Graph *g) {
  static const char *const kinds[] = {"NETC_TENSOR_WEIGHT",  "NETC_TENSOR_BIAS",    "NETC_TENSOR_GAMMA",
                                      "NETC_TENSOR_BETA", "NETC_TENSOR_BN_MEAN", "NETC_TENSOR_BN_VAR",
                                      "NETC_TENSOR_COUNTER", "NETC_TENSOR_PARAM", "NETC_TENSOR_BUFFER",
                                      "NETC_TENSOR_INDEX"};
  emit_layer_rows(g);
  netc_model_desc d;
  model_desc(g, &d);
  // Only the loaders read these tables: a device build (NETC_NO_STDIO) has none.
  if (d.ntensors || d.nfolds || d.nbpacks || d.nqlayers)
    println("#ifndef NETC_NO_STDIO");
  if (d.ntensors) {
    println("/* state_dict tensors: name, rank, shape, offset in the blob (-1: a counter");
    println("   PyTorch keeps, checked and ignored), kind, fan_in (for init_random), and for an");
    println("   index buffer the bound of its values. */");
    println("static const netc_model_tensor %s_tensors[%d] = {", P, d.ntensors);
    for (int i = 0; i < d.ntensors; i++) {
      const netc_model_tensor *t = &d.tensors[i];
      char *sh = xstrdup(t->rank ? "" : "0");
      for (int k = 0; k < t->rank; k++)
        sh = format("%s%s%lld", sh, k ? ", " : "", (long long)t->shape[k]);
      println("  {%s, %d, {%s}, %lld, %s, %lld, %lld},", cstr(t->name), t->rank, sh, (long long)t->offset,
              kinds[t->kind], (long long)t->fan_in, (long long)t->index_limit);
    }
    println("};");
    blank();
  }
  if (d.nfolds) {
    println("/* Batch norms folded into the conv / linear before them, at load time: offsets in the");
    println("   blob (gamma, beta -1: affine=False), the weight viewed as [out_c, per_out]. */");
    println("static const netc_model_fold %s_folds[%d] = {", P, d.nfolds);
    int k = 0;
    for (int i = 0; i < g->nlayers; i++) {
      Layer *l = g->layers[i];
      if (!l->fold_bn)
        continue;
      const netc_model_fold *f = &d.folds[k++];
      println("  {.w = %lld, .b = %lld, .mean = %lld, .var = %lld, .gamma = %lld, .beta = %lld, .out_c = %lld, "
              ".per_out = %lld, .eps = %s%s}, /* %s into %s */", (long long)f->w, (long long)f->b,
              (long long)f->mean, (long long)f->var, (long long)f->gamma, (long long)f->beta, (long long)f->out_c,
              (long long)f->per_out, flt(f->eps), f->had_bias ? ", .had_bias = 1" : "", l->fold_bn->name, l->name);
    }
    println("};");
    blank();
  }
  if (d.nbpacks) {
    println("/* Linear weights packed for the GEMM at load time: the weight's offset in the blob, in and");
    println("   out features, the offset in the packed blob. */");
    println("static const netc_model_bpack %s_bpacks[%d] = {", P, d.nbpacks);
    for (int i = 0; i < d.nbpacks; i++)
      println("  {%lld, %lld, %lld, %lld},", (long long)d.bpacks[i].w, (long long)d.bpacks[i].k,
              (long long)d.bpacks[i].n, (long long)d.bpacks[i].packed);
    println("};");
    blank();
  }
  if (d.nqlayers) {
    println("/* int8 layers, quantized at load time after folding: the float weight [out_c][k] and bias");
    println("   in the blob, the input's and output's scales and the input's zero point, and where the");
    println("   int8 weights, int32 biases and requantization go in the int8 blob (byte offsets). */");
    println("static const netc_model_qlayer %s_qlayers[%d] = {", P, d.nqlayers);
    for (int i = 0; i < d.nqlayers; i++) {
      const netc_model_qlayer *q = &d.qlayers[i];
      println("  {.w = %lld, .b = %lld, .out_c = %lld, .k = %lld, .in_scale = %s, .out_scale = %s, .in_zp = %d, "
              ".qw = %lld, .qb = %lld, .qrq = %lld},", (long long)q->w, (long long)q->b, (long long)q->out_c,
              (long long)q->k, flt(q->in_scale), flt(q->out_scale), q->in_zp, (long long)q->qw, (long long)q->qb,
              (long long)q->qrq);
    }
    println("};");
    blank();
  }
  if (d.ntensors || d.nfolds || d.nbpacks || d.nqlayers) {
    println("#endif /* NETC_NO_STDIO */");
    blank();
  }
  nbpacks = d.nbpacks;
  nqlayers = d.nqlayers;
  return d.nfolds;
}

// The public loading API: thin wrappers around the runtime's netc_model_*,
// which builds new blobs and validates everything before m is touched.
static void emit_loader(Graph *g, int nfolds, int npacks) {
  println("const char *%s_error(const %s_model *m) { return m->error; }", P, P);
  blank();
  println("#ifndef NETC_NO_STDIO");
  println("static const netc_model_desc %s_desc = {", P);
  println("  %s, %d,", g->nweights ? format("%s_tensors", P) : "NULL", g->nweights);
  println("  %s, %d,", nfolds ? format("%s_folds", P) : "NULL", nfolds);
  println("  %s, %d,", npacks ? format("%s_packs", P) : "NULL", npacks);
  println("  %s_WEIGHT_FLOATS, %s_PACKED_FLOATS, %s_KEPT_FLOATS,", U, U, U);
  println("  %s, %d,", nbpacks ? format("%s_bpacks", P) : "NULL", nbpacks);
  println("  %s, %d", nqlayers ? format("%s_qlayers", P) : "NULL", nqlayers);
  println("};");
  blank();
  println("void %s_free(%s_model *m) {", P, P);
  println("  free(m->owned_);");
  println("  free(m->packed_);");
  println("  m->owned_ = NULL;");
  println("  m->packed_ = NULL;");
  println("  m->weights = NULL;");
  if (g->layers[0]->q.on)
    println("  m->int8 = NULL;");
  println("}");
  blank();
  println("/* On success, replaces m's weights with the new blobs; on failure m keeps its");
  println("   weights and the runtime has written the message to m->error. */");
  println("static int adopt(%s_model *m, int32_t rc, netc_model_blobs b) {", P);
  println("  if (rc != 0)");
  println("    return -1;");
  println("  %s_free(m);", P);
  println("  m->owned_ = b.weights;");
  println("  m->packed_ = b.packed;");
  println("  m->weights = b.weights;");
  if (g->layers[0]->q.on)
    println("  m->int8 = (const uint8_t *)b.packed; /* the loader quantized the weights into it */");
  println("  m->error[0] = '\\0';");
  println("  return 0;");
  println("}");
  blank();
  println("int %s_load_memory(%s_model *m, const void *data, size_t size) {", P, P);
  println("  netc_model_blobs b;");
  println("  int32_t rc = netc_model_load_memory(&%s_desc, data, size, &b, m->error, sizeof m->error);", P);
  println("  return adopt(m, rc, b);");
  println("}");
  blank();
  println("int %s_load(%s_model *m, const char *path) {", P, P);
  println("  netc_model_blobs b;");
  println("  int32_t rc = netc_model_load_file(&%s_desc, path, &b, m->error, sizeof m->error);", P);
  println("  return adopt(m, rc, b);");
  println("}");
  blank();
  println("/* The recipe: netc_model_init_random in netc_rt.h (tools/netc_random.py does the same). */");
  println("int %s_init_random(%s_model *m, uint64_t seed) {", P, P);
  println("  netc_model_blobs b;");
  println("  int32_t rc = netc_model_init_random(&%s_desc, seed, &b, m->error, sizeof m->error);", P);
  println("  return adopt(m, rc, b);");
  println("}");
  println("#else /* NETC_NO_STDIO: a device build, no heap and no files; the weights come from init_embedded */");
  println("void %s_free(%s_model *m) {", P, P);
  println("  m->owned_ = NULL;");
  println("  m->packed_ = NULL;");
  println("  m->weights = NULL;");
  if (g->layers[0]->q.on)
    println("  m->int8 = NULL;");
  println("}");
  println("#endif /* NETC_NO_STDIO */");
  blank();
}

// A shape as a C99 compound literal at rank (leading 1s): (const int64_t[]){1, 64, 1, 1}.
static char *padded_shape(const Shape *sh, int rank) {
  Shape p = shape_at_rank(sh, rank);
  char *s = xstrdup("(const int64_t[]){");
  for (int d = 0; d < rank; d++)
    s = format("%s%s%lld", s, d ? ", " : "", (long long)p.d[d]);
  return format("%s}", s);
}

static char *int32_list(const int64_t *v, int n) {
  char *s = xstrdup("(const int32_t[]){");
  for (int i = 0; i < n; i++)
    s = format("%s%s%lld", s, i ? ", " : "", (long long)v[i]);
  return format("%s}", s);
}

static char *int64_list(const int64_t *v, int n) {
  char *s = xstrdup("(const int64_t[]){");
  for (int i = 0; i < n; i++)
    s = format("%s%s%lld", s, i ? ", " : "", (long long)v[i]);
  return format("%s}", s);
}

static void comment(const Layer *l) {
  char *ins = xstrdup("");
  for (int k = 0; k < l->nin; k++)
    ins = format("%s%s%s", ins, k ? " + " : "", shape_str(&l->in[k]->shape));
  char *extra = xstrdup("");
  if (l->fold_bn)
    extra = format("%s, %s folded", extra, l->fold_bn->name);
  if (residual_of(l))
    extra = format("%s, + %s fused", extra, l->residual->name);
  if (act_of(l))
    extra = format("%s, %s fused", extra, op_table[l->act->op].name);
  println("  /* %s: %s %s -> %s%s (%s:%d) */", l->name, op_table[l->op].name, ins, shape_str(&l->shape), extra,
          in_comment(l->loc.file->name), l->loc.line);
}

static void emit_layer(Graph *g, Layer *l) {
  const Slots *s = &l->slots;
  (void)g;
  const Shape *in = l->nin ? &l->in[0]->shape : NULL;
  char *x = l->nin ? buf(l->in[0]) : NULL, *y = buf(l);
  switch (l->op) {
  case OP_CONV2D:
  case OP_CONV1D: // as a conv2d of height 1
    // Packed weights for a loaded model, raw ones for embedded weights:
    // the runtime picks (netc_conv2d_layer_f32).
    comment(l);
    if (calib && l->act) { // its fused activation runs as its own layer
      println("  {");
      println("    netc_conv2d_layer c = %s;", param_name[l->id]);
      println("    c.p.act = NETC_ACT_NONE;");
      println("    c.p.act_slope = 0.0f;");
      println("    netc_conv2d_layer_f32(&c, W, packed, %s, NULL, %s, scratch);", x, y);
      println("  }");
      return;
    }
    println("  netc_conv2d_layer_f32(&%s, W, packed, %s, %s, %s, scratch);", param_name[l->id], x,
            residual_of(l) ? buf(l->residual) : "NULL", y);
    return;
  case OP_CONV_TRANSPOSE2D:
    comment(l);
    if (calib && l->act) { // its fused activation runs as its own layer
      println("  {");
      println("    netc_conv_transpose2d_params c = %s;", param_name[l->id]);
      println("    c.act = NETC_ACT_NONE;");
      println("    c.act_slope = 0.0f;");
      println("    netc_conv_transpose2d_f32(&c, %s, %s, %s, %s, scratch);", x, wptr(s->w), wptr(s->b), y);
      println("  }");
      return;
    }
    println("  netc_conv_transpose2d_f32(&%s, %s, %s, %s, %s, scratch);", param_name[l->id], x, wptr(s->w),
            wptr(s->b), y);
    return;
  case OP_LINEAR: {
    float slope;
    netc_act a = lower_act(act_of(l), &slope);
    comment(l);
    if (lower_linear_packs(l)) { // a loaded model's W is packed; embedded weights are raw
      println("  if (packed)");
      println("    netc_linear_packed_f32(%lld, %lld, %lld, %s, packed + %lld, %s, %s, %s, %s, scratch);",
              (long long)lower_linear_batch(l), (long long)l->weights[0].shape.d[1], (long long)l->conv.out_channels,
              x, (long long)s->packed, wptr(s->b), act_enum(a), flt(slope), y);
      println("  else");
      println("    netc_linear_f32(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s, scratch);", (long long)lower_linear_batch(l),
              (long long)l->weights[0].shape.d[1], (long long)l->conv.out_channels, x, wptr(s->w), wptr(s->b),
              act_enum(a), flt(slope), y);
      return;
    }
    if (l->no_scratch) { // --max-scratch: dot products at any batch
      println("  netc_linear_dot_f32(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s);", (long long)lower_linear_batch(l),
              (long long)l->weights[0].shape.d[1], (long long)l->conv.out_channels, x, wptr(s->w), wptr(s->b),
              act_enum(a), flt(slope), y);
      return;
    }
    println("  netc_linear_f32(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s, scratch);", (long long)lower_linear_batch(l),
            (long long)l->weights[0].shape.d[1], (long long)l->conv.out_channels, x, wptr(s->w), wptr(s->b),
            act_enum(a), flt(slope), y);
    return;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D: // as 2-D pools of height 1
  case OP_AVGPOOL1D:
    comment(l);
    println("  %s(&%s, %s, %s);", op_is_maxpool(l->op) ? "netc_maxpool2d_f32" : "netc_avgpool2d_f32",
            param_name[l->id], x, y);
    return;
  case OP_UPSAMPLE:
  case OP_INTERPOLATE: {
    netc_resize2d_params p = lower_resize2d(l);
    char *f = xstrdup("");
    f = fields(f, "n", p.n);
    f = fields(f, "c", p.c);
    f = fields(f, "in_h", p.in_h);
    f = fields(f, "in_w", p.in_w);
    f = fields(f, "out_h", p.out_h);
    f = fields(f, "out_w", p.out_w);
    f = fields(f, "bilinear", p.bilinear);
    f = fields(f, "align_corners", p.align_corners);
    if (p.scale_h > 0) // the scale_factor as written: PyTorch's index rule uses it, not in/out
      f = format("%s, .scale_h = %s, .scale_w = %s", f, dbl(p.scale_h), dbl(p.scale_w));
    comment(l);
    println("  netc_resize2d_f32(&(const netc_resize2d_params){%s}, %s, %s);", f, x, y);
    return;
  }
  case OP_ADAPTIVE_AVGPOOL1D:
    comment(l);
    println("  netc_adaptive_avgpool2d_f32(%lld, %lld, 1, %lld, 1, %lld, %s, %s);", (long long)in->d[0],
            (long long)in->d[1], (long long)in->d[2], (long long)l->shape.d[2], x, y);
    return;
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
    comment(l);
    println("  netc_adaptive_avgpool2d_f32(%lld, %lld, %lld, %lld, %lld, %lld, %s, %s);", (long long)in->d[0],
            (long long)in->d[1], (long long)in->d[2], (long long)in->d[3], (long long)l->shape.d[2],
            (long long)l->shape.d[3], x, y);
    return;
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D: { // [N, C] and [N, C, L] are [N, C, hw] too
    int64_t hw = shape_numel(in) / (in->d[0] * in->d[1]);
    comment(l);
    println("  netc_batchnorm2d_f32(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s, %s);", (long long)in->d[0],
            (long long)in->d[1], (long long)hw, wptr(s->mean), wptr(s->var), wptr(s->gamma), wptr(s->beta),
            flt(l->norm.eps), x, y);
    return;
  }
  case OP_GROUPNORM:
    comment(l);
    println("  netc_groupnorm_f32(%lld, %lld, %lld, %lld, %s, %s, %s, %s, %s);", (long long)in->d[0],
            (long long)in->d[1], (long long)(shape_numel(in) / (in->d[0] * in->d[1])), (long long)l->norm.groups,
            wptr(s->gamma), wptr(s->beta), flt(l->norm.eps), x, y);
    return;
  case OP_SOFTPLUS:
    comment(l);
    println("  netc_softplus_f32(%lld, %s, %s, %s, %s);", (long long)shape_numel(in), flt(l->ew.beta),
            flt(l->ew.threshold), x, y);
    return;
  case OP_LAYERNORM: {
    int64_t inner = shape_numel(&l->norm.shape);
    comment(l);
    println("  netc_layernorm_f32(%lld, %lld, %s, %s, %s, %s, %s);", (long long)(shape_numel(in) / inner),
            (long long)inner, wptr(s->gamma), wptr(s->beta), flt(l->norm.eps), x, y);
    return;
  }
  case OP_RELU:
  case OP_RELU6:
  case OP_LEAKY_RELU:
  case OP_SIGMOID:
  case OP_TANH:
  case OP_GELU:
  case OP_SILU:
  case OP_HARDSWISH:
  case OP_HARDSIGMOID:
  case OP_MISH:
  case OP_ELU: {
    float slope;
    netc_act a = lower_act(l, &slope);
    comment(l);
    println("  netc_act_f32(%s, %s, %lld, %s, %s);", act_enum(a), flt(slope), (long long)shape_numel(&l->shape), x, y);
    return;
  }
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX: {
    int64_t outer, inner;
    shape_split_at(in, l->axes.axis, &outer, &inner);
    comment(l);
    println("  netc_%s_f32(%lld, %lld, %lld, %s, %s);", op_table[l->op].name, (long long)outer,
            (long long)in->d[l->axes.axis], (long long)inner, x, y);
    return;
  }
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX: {
    const char *op = l->op == OP_MEAN ? "NETC_REDUCE_MEAN" : l->op == OP_SUM ? "NETC_REDUCE_SUM" : "NETC_REDUCE_AMAX";
    comment(l);
    println("  netc_reduce_f32(%s, %d, %s, %d, %s, %s, %s);", op, in->rank, padded_shape(in, in->rank), l->dims.n,
            int32_list(l->dims.v, l->dims.n), x, y);
    return;
  }
  case OP_MATMUL: {
    Shape a, b, out;
    int r = matmul_shapes(l, &a, &b, &out);
    comment(l);
    if (trans_b_of(l)) { // b is stored as the fused transpose's input: [..., m, k]
      int64_t t = b.d[r - 2];
      b.d[r - 2] = b.d[r - 1];
      b.d[r - 1] = t;
    }
    println("  netc_matmul_f32(%d, %s, %s, %s, %d, %s, %s, %s, scratch);", r, padded_shape(&out, r),
            padded_shape(&a, r), padded_shape(&b, r), trans_b_of(l), x, buf(l->in[1]), y);
    return;
  }
  case OP_PERMUTE:
  case OP_TRANSPOSE: {
    int64_t perm[MAX_RANK];
    layer_perm(l, perm);
    comment(l);
    println("  netc_permute_f32(%d, %s, %s, %s, %s);", in->rank, padded_shape(in, in->rank),
            int32_list(perm, in->rank), x, y);
    return;
  }
  case OP_NARROW: {
    if (l->kernel == KERNEL_VIEW) {
      println("  /* %s: narrow -> %s, a view of its input at +%lld */", l->name, shape_str(&l->shape),
              (long long)view_floats(l));
      return;
    }
    int64_t outer, inner;
    shape_split_at(in, (int)l->dims.v[0], &outer, &inner);
    comment(l);
    println("  netc_narrow_f32(%lld, %lld, %lld, %lld, %lld, %s, %s);", (long long)outer,
            (long long)in->d[l->dims.v[0]], (long long)l->dims.start, (long long)l->dims.length, (long long)inner, x,
            y);
    return;
  }
  case OP_ARANGE:
    comment(l);
    println("  netc_arange_f32(%lld, %lld, %lld, %s);", (long long)l->dims.length, (long long)l->dims.start,
            (long long)l->dims.step, y);
    return;
  case OP_ROLL: {
    // Per dim of the input (the flattened tensor without dims): the shift.
    int64_t shifts[MAX_RANK] = {0};
    Shape s = *in;
    layer_roll_shifts(l, &s, shifts);
    comment(l);
    println("  netc_roll_f32(%d, %s, %s, %s, %s);", s.rank, padded_shape(&s, s.rank), int64_list(shifts, s.rank), x, y);
    return;
  }
  case OP_EXPAND: {
    Shape s = layer_expand_in(l);
    comment(l);
    println("  netc_expand_f32(%d, %s, %s, %s, %s);", l->shape.rank, padded_shape(&l->shape, l->shape.rank),
            padded_shape(&s, s.rank), x, y);
    return;
  }
  case OP_SLICE: {
    int64_t outer, inner;
    shape_split_at(in, (int)l->dims.v[0], &outer, &inner);
    comment(l);
    println("  netc_slice_f32(%lld, %lld, %lld, %lld, %lld, %lld, %s, %s);", (long long)outer,
            (long long)in->d[l->dims.v[0]], (long long)inner, (long long)l->dims.start, (long long)l->dims.step,
            (long long)l->dims.length, x, y);
    return;
  }
  case OP_INDEX_SELECT: {
    int64_t outer, inner;
    shape_split_at(in, (int)l->dims.v[0], &outer, &inner);
    comment(l);
    println("  netc_index_select_f32(%lld, %lld, %lld, %lld, %s, %s, %s);", (long long)outer,
            (long long)in->d[l->dims.v[0]], (long long)inner, (long long)l->shape.d[l->dims.v[0]], buf(l->in[1]), x,
            y);
    return;
  }
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV: {
    int64_t n = shape_numel(&l->shape);
    comment(l);
    if (l->kernel == KERNEL_BROADCAST) {
      // The shapes at the output's rank, padded with leading 1s.
      char sym = op_arith_sym(l->op);
      println("  netc_broadcast_f32('%c', %d, %s, %s, %s, %s, %s, %s);", sym, l->shape.rank,
              padded_shape(&l->shape, l->shape.rank), padded_shape(&l->in[0]->shape, l->shape.rank),
              padded_shape(&l->in[1]->shape, l->shape.rank), x, buf(l->in[1]), y);
    } else if (l->nin == 2) {
      if (act_of(l)) {
        float slope;
        netc_act a = lower_act(act_of(l), &slope);
        println("  netc_add_act_f32(%s, %s, %lld, %s, %s, %s);", act_enum(a), flt(slope), (long long)n, x,
                buf(l->in[1]), y);
      } else {
        const char *fn = l->op == OP_ADD   ? "netc_add_f32"
                         : l->op == OP_SUB ? "netc_sub_f32"
                         : l->op == OP_MUL ? "netc_mul_f32"
                                           : "netc_div_f32";
        println("  %s(%lld, %s, %s, %s);", fn, (long long)n, x, buf(l->in[1]), y);
      }
    } else if (l->op == OP_ADD) {
      println("  netc_add_scalar_f32(%lld, %s, %s, %s);", (long long)n, x, flt(l->ew.scalar), y);
    } else if (l->op == OP_MUL) {
      println("  netc_mul_scalar_f32(%lld, %s, %s, %s);", (long long)n, x, flt(l->ew.scalar), y);
    } else if (l->op == OP_DIV) {
      if (l->ew.scalar_left)
        println("  netc_rdiv_scalar_f32(%lld, %s, %s, %s);", (long long)n, flt(l->ew.scalar), x, y);
      else
        println("  netc_div_scalar_f32(%lld, %s, %s, %s);", (long long)n, x, flt(l->ew.scalar), y);
    } else if (l->ew.scalar_left) {
      println("  netc_rsub_scalar_f32(%lld, %s, %s, %s);", (long long)n, flt(l->ew.scalar), x, y);
    } else {
      println("  netc_add_scalar_f32(%lld, %s, %s, %s);", (long long)n, x, flt(-l->ew.scalar), y);
    }
    return;
  }
  case OP_CONCAT: {
    int64_t outer = 1;
    for (int d = 0; d < l->axes.axis; d++)
      outer *= l->shape.d[d];
    comment(l);
    println("  {");
    char *xs = xstrdup(""), *inner = xstrdup("");
    for (int k = 0; k < l->nin; k++) {
      xs = format("%s%s%s", xs, k ? ", " : "", buf(l->in[k]));
      inner = format("%s%s%lld", inner, k ? ", " : "", (long long)(shape_numel(&l->in[k]->shape) / outer));
    }
    println("    const float *const xs[%d] = {%s};", l->nin, xs);
    println("    static const int64_t inner[%d] = {%s};", l->nin, inner);
    println("    netc_concat_f32(%lld, %d, xs, inner, %s);", (long long)outer, l->nin, y);
    println("  }");
    return;
  }
  case OP_PAD:
    comment(l);
    println("  netc_pad2d_f32(%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %s, %s, %s);", (long long)in->d[0],
            (long long)in->d[1], (long long)in->d[2], (long long)in->d[3], (long long)l->pad.top,
            (long long)l->pad.bottom, (long long)l->pad.left, (long long)l->pad.right, flt(l->pad.value), x, y);
    return;
  case OP_NORMALIZE: {
    comment(l);
    char *m = xstrdup(""), *sd = xstrdup("");
    for (int k = 0; k < l->norm.nmean; k++) {
      m = format("%s%s%s", m, k ? ", " : "", flt(l->norm.mean[k]));
      sd = format("%s%s%s", sd, k ? ", " : "", flt(l->norm.std[k]));
    }
    println("  {");
    println("    static const float mean[%d] = {%s};", l->norm.nmean, m);
    println("    static const float std[%d] = {%s};", l->norm.nmean, sd);
    println("    netc_normalize_f32(%lld, %lld, %lld, mean, std, %s, %s);", (long long)in->d[0], (long long)in->d[1],
            (long long)(shape_numel(in) / (in->d[0] * in->d[1])), x, y);
    println("  }");
    return;
  }
  case OP_FLATTEN:
  case OP_DROPOUT:
  case OP_IDENTITY:
  case OP_STOCHASTIC_DEPTH:
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
    // Views: same memory as the input (memplan.c), nothing to compute.
    println("  /* %s: %s -> %s, a view of its input */", l->name, op_table[l->op].name, shape_str(&l->shape));
    return;
  case OP_INPUT: // no code: the caller's memory, or the weight blob
  case OP_PARAM:
  case OP_BUFFER:
  case OP__COUNT:
    break;
  }
  unreachable();
}

static void emit_forward(Graph *g) {
  char *params = forward_params(g);
  // The locals the kernel calls below use (an unused one would warn).
  bool kernels = false, weights = false, convs = false, scratch = false;
  for (int i = 0; i < g->nlayers; i++) {
    const Layer *l = g->layers[i];
    weights |= op_in_blob(l->op) && l->last_use > l->id; // read from the blob
    if (op_is_source(l->op) || l->fused_into || layer_is_view(l))
      continue;
    kernels = true; // its output is in the arena
    weights |= l->nweights > 0;
    convs |= op_is_conv(l->op) || lower_linear_packs(l);
    scratch |= op_is_conv(l->op) || l->op == OP_CONV_TRANSPOSE2D || l->op == OP_LINEAR || l->op == OP_MATMUL;
  }
  println("void %s_forward(const %s_model *m, %sfloat *arena) {", P, P, params);
  if (weights)
    println("  const float *W = m->weights;      /* the weight blob, at the offsets of the tables above */");
  if (convs)
    println("  const float *packed = m->packed_; /* conv and linear weights packed at load time, or NULL */");
  if (scratch)
    println("  float *scratch = arena + %lld; /* the kernels' scratch, after the activations */",
            (long long)g->totals.scratch_offset);
  if (!weights)
    println("  (void)m;");
  if (!kernels)
    println("  (void)arena; /* the outputs are the inputs, or views of them */");
  // A layer fused into another's kernel has no code of its own: the
  // kernel's comment names it (bn folded, activation or add fused).
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (!op_is_source(l->op) && !l->fused_into)
      emit_layer(g, l);
  }
  for (int i = 0; i < g->noutputs; i++) {
    Layer *ol = g->outputs[i];
    println("  memcpy(output%s, %s, sizeof(float) * %lldu);", g->noutputs > 1 ? format("%d", i) : "", buf(ol),
            (long long)shape_numel(&ol->shape));
  }
  println("} /* end %s_forward */", P);
  blank();
}

// PREFIX_forward_calibrate: see "calibration" above. Every layer in id
// order: its kernel (none for a net input, a param or buffer, a view or a
// folded norm), then the observer on its values.
static void emit_forward_calibrate(Graph *g) {
  int64_t scratch = calib_scratch_off(g);
  println("/* ---- calibration (netc --main): the net before fusion, every layer observed ---- */");
  blank();
  println("void %s_forward_calibrate(const %s_model *m, const float *const *inputs, float *const *outputs,", P, P);
  println("                          float *arena, netc_observer *obs, void *ctx) {");
  println("  const float *W = m->weights;");
  println("  const float *packed = m->packed_;");
  println("  float *scratch = arena + %lld; /* the kernels' scratch, after every layer's region */",
          (long long)scratch);
  for (int i = 0; i < g->ninputs; i++)
    println("  const float *%s = inputs[%d];", input_param(g->inputs[i]), i);
  println("  (void)W; /* what a net uses of these depends on its layers */");
  println("  (void)packed;");
  println("  (void)scratch;");
  calib = true;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (!op_is_source(l->op) && !calib_folded(l))
      emit_layer(g, l);
    else if (calib_folded(l))
      println("  /* %s: %s, folded into %s */", l->name, op_table[l->op].name, l->fused_into->name);
    println("  obs(ctx, %d, %s, %lld);", l->id, buf(l), (long long)shape_numel(&l->shape));
  }
  for (int i = 0; i < g->noutputs; i++)
    println("  memcpy(outputs[%d], %s, sizeof(float) * %lldu);", i, buf(g->outputs[i]),
            (long long)shape_numel(&g->outputs[i]->shape));
  calib = false;
  println("} /* end %s_forward_calibrate */", P);
  blank();
}

// ---- the int8 forward pass (netc --quantize int8) --------------------------------
//
// Every tensor is uint8 in the arena (A8, the arena as bytes, at the
// planned byte offsets) with the scale and zero point quantize.c gave it;
// declared params and buffers stay float in the weight blob. The net's
// inputs are quantized on entry and its outputs dequantized on exit, so
// the API is the float one. A layer with no int8 kernel (Q_FLOAT) runs its
// float kernel on float copies in the scratch region: its uint8 inputs
// dequantized after the kernel's own scratch, its float output after them,
// then quantized into its place in the arena (quantize.c's why_float).

static char *qparams_comment(const Layer *l) {
  return format("scale %s, zero point %d", flt(l->q.scale), l->q.zp);
}

static void emit_float_layer(Graph *g, Layer *l) {
  // lower.c sized the layer's scratch as the float kernel's own (first),
  // then the copies, each rounded to 16 floats.
  int64_t copies = (shape_numel(&l->shape) + 15) / 16 * 16;
  for (int k = 0; k < l->nin; k++)
    if (l->in[k]->q.u8)
      copies += (shape_numel(&l->in[k]->shape) + 15) / 16 * 16;
  int64_t off = l->scratch - copies;
  NETC_ASSERT(off >= 0);
  const char **ov = xalloc((size_t)g->nlayers * sizeof *ov);
  println("  /* %s: %s in float (%s): dequantize, compute%s */", l->name, op_table[l->op].name, l->q.why_float,
          l->q.u8 ? ", quantize" : "");
  for (int k = 0; k < l->nin; k++) {
    Layer *in = l->in[k];
    if (!in->q.u8 || ov[in->id])
      continue;
    println("  netc_dequantize_u8(%lld, %s, %s, %d, scratch + %lld);", (long long)shape_numel(&in->shape), buf(in),
            flt(in->q.scale), in->q.zp, (long long)off);
    ov[in->id] = format("scratch + %lld", (long long)off);
    off += (shape_numel(&in->shape) + 15) / 16 * 16;
  }
  char *dest = buf(l);
  // A float output only the caller reads is written where it lives;
  // otherwise the float result goes to scratch and is quantized into place.
  char *y = l->q.u8 ? format("scratch + %lld", (long long)off) : dest;
  ov[l->id] = y;
  buf_override = ov;
  emit_layer(g, l);
  buf_override = NULL;
  if (l->q.u8)
    println("  netc_quantize_u8(%lld, %s, %s, %d, %s);", (long long)shape_numel(&l->shape), y,
            flt(1.0f / l->q.scale), l->q.zp, dest);
}

static char *lut_name(const Layer *l) { return format("%s_table_%d", P, l->id); }
static char *qadd_name(const Layer *l) { return format("%s_add_%d", P, l->id); }

// The tables and constant parameters of the int8 kernels.
static void emit_int8_tables(Graph *g) {
  bool any = false;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->q.kind == Q_LUT) {
      if (!any)
        println("/* int8 kernels' constants: tables of unary ops, rescaling of adds. */");
      any = true;
      println("static const uint8_t %s[256] = { /* %s: %s, %s -> %s */", lut_name(l), l->name, op_table[l->op].name,
              qparams_comment(l->in[0]), qparams_comment(l));
      for (int r = 0; r < 256; r += 16) {
        char *line = xstrdup("");
        for (int c = 0; c < 16; c++)
          line = format("%s%s%d,", line, c ? " " : "", l->q.lut[r + c]);
        println("  %s", line);
      }
      println("};");
    } else if (l->q.kind == Q_ADD) {
      if (!any)
        println("/* int8 kernels' constants: tables of unary ops, rescaling of adds. */");
      any = true;
      const Layer *a = l->in[0], *b = l->in[1];
      netc_qadd_params p = netc_qadd_params_from_scales(a->q.scale, a->q.zp, b->q.scale, b->q.zp, l->q.scale, l->q.zp,
                                                        l->q.out_min, l->q.out_max);
      println("static const netc_qadd_params %s = { /* %s */", qadd_name(l), l->name);
      println("  .a_zp = %d, .b_zp = %d, .y_zp = %d, .a_mult = %d, .b_mult = %d, .shift = %d, .y_min = %d, "
              ".y_max = %d};", p.a_zp, p.b_zp, p.y_zp, p.a_mult, p.b_mult, p.shift, p.y_min, p.y_max);
    }
  }
  if (any)
    blank();
}

static char *qw(const char *type, int64_t off) { return format("(const %s *)(Q + %lld)", type, (long long)off); }

static void emit_int8_layer(Graph *g, Layer *l) {
  const Shape *in = l->nin ? &l->in[0]->shape : NULL;
  char *x = l->nin ? buf(l->in[0]) : NULL, *y = buf(l);
  switch (l->q.kind) {
  case Q_QUANTIZE:
    println("  /* %s: input -> uint8, %s */", l->name, qparams_comment(l));
    println("  netc_quantize_u8(%lld, %s, %s, %d, %s);", (long long)shape_numel(&l->shape), input_param(l),
            flt(1.0f / l->q.scale), l->q.zp, y);
    return;
  case Q_CONV:
    comment(l);
    println("  netc_qconv2d_u8(&%s, %s, %s, %s, %s, %s, scratch);", param_name[l->id], x, qw("int8_t", l->q.qw),
            qw("int32_t", l->q.qb), qw("netc_requant", l->q.qrq), y);
    return;
  case Q_LINEAR:
    comment(l);
    println("  netc_qlinear_u8(%lld, %lld, %lld, %s, %d, %s, %s, %s, %d, %d, %d, %s, scratch);",
            (long long)lower_linear_batch(l), (long long)l->weights[0].shape.d[1], (long long)l->conv.out_channels, x,
            l->in[0]->q.zp, qw("int8_t", l->q.qw), qw("int32_t", l->q.qb), qw("netc_requant", l->q.qrq),
            l->q.zp, l->q.out_min, l->q.out_max, y);
    return;
  case Q_ADD:
    comment(l);
    println("  netc_qadd_u8(&%s, %lld, %s, %s, %s);", qadd_name(l), (long long)shape_numel(&l->shape), x,
            buf(l->in[1]), y);
    return;
  case Q_MAXPOOL:
  case Q_AVGPOOL:
    comment(l);
    if (l->q.kind == Q_MAXPOOL)
      println("  netc_maxpool2d_u8(&%s, %s, %s);", param_name[l->id], x, y);
    else
      println("  netc_avgpool2d_u8(&%s, %d, %s, %s);", param_name[l->id], l->q.zp, x, y);
    return;
  case Q_ADAPTIVE: {
    int64_t ih = in->rank == 3 ? 1 : in->d[2], iw = in->d[in->rank - 1];
    int64_t oh = l->op == OP_GLOBAL_AVGPOOL2D ? 1 : l->shape.rank == 3 ? 1 : l->shape.d[2];
    int64_t ow = l->op == OP_GLOBAL_AVGPOOL2D ? 1 : l->shape.d[l->shape.rank - 1];
    comment(l);
    println("  netc_adaptive_avgpool2d_u8(%lld, %lld, %lld, %lld, %lld, %lld, %s, %s);", (long long)in->d[0],
            (long long)in->d[1], (long long)ih, (long long)iw, (long long)oh, (long long)ow, x, y);
    return;
  }
  case Q_LUT:
    comment(l);
    println("  netc_lut_u8(%lld, %s, %s, %s);", (long long)shape_numel(&l->shape), lut_name(l), x, y);
    return;
  case Q_CONCAT: {
    int64_t outer, inner_out;
    shape_split_at(&l->shape, l->axes.axis, &outer, &inner_out);
    inner_out *= l->shape.d[l->axes.axis];
    comment(l);
    int64_t at = 0;
    for (int k = 0; k < l->nin; k++) {
      const Layer *a = l->in[k];
      int64_t inner = shape_numel(&a->shape) / outer;
      char *src = buf(a);
      if (a->q.scale == l->q.scale && a->q.zp == l->q.zp) {
        if (outer == 1)
          println("  memcpy(%s + %lld, %s, %lld);", y, (long long)at, src, (long long)inner);
        else
          println("  for (int64_t o = 0; o < %lld; o++) memcpy(%s + %lld + o * %lld, %s + o * %lld, %lld);",
                  (long long)outer, y, (long long)at, (long long)inner_out, src, (long long)inner, (long long)inner);
      } else {
        netc_requant rq = netc_requant_from_real((double)a->q.scale / l->q.scale);
        char *r = format("(netc_requant){.mult = %d, .shift = %d, .round = %lldLL}", rq.mult, rq.shift, (long long)rq.round);
        if (outer == 1)
          println("  netc_requantize_u8(%lld, %s, %d, %s, %d, %s + %lld);", (long long)inner, src, a->q.zp, r, l->q.zp,
                  y, (long long)at);
        else
          println("  for (int64_t o = 0; o < %lld; o++) netc_requantize_u8(%lld, %s + o * %lld, %d, %s, %d, %s + %lld + o * %lld);",
                  (long long)outer, (long long)inner, src, (long long)inner, a->q.zp, r, l->q.zp, y, (long long)at,
                  (long long)inner_out);
      }
      at += inner;
    }
    return;
  }
  case Q_FLOAT:
    emit_float_layer(g, l);
    return;
  case Q_NONE:
    break;
  }
  unreachable();
}

static void emit_forward_int8(Graph *g) {
  char *params = forward_params(g);
  bool weights = false, q = false, scratch = false, float_conv = false;
  for (int i = 0; i < g->nlayers; i++) {
    const Layer *l = g->layers[i];
    float_conv |= l->q.kind == Q_FLOAT && op_is_conv(l->op);
    weights |= op_in_blob(l->op) && l->last_use > l->id;
    weights |= l->q.kind == Q_FLOAT && l->nweights > 0;
    q |= l->q.kind == Q_CONV || l->q.kind == Q_LINEAR;
    scratch |= l->q.kind == Q_CONV || l->q.kind == Q_LINEAR;
    if (l->q.kind == Q_FLOAT) { // its copies live in scratch, and some float kernels use it
      bool copies = l->q.u8;
      for (int k = 0; k < l->nin; k++)
        copies |= l->in[k]->q.u8;
      scratch |= copies || op_is_conv(l->op) || l->op == OP_CONV_TRANSPOSE2D || l->op == OP_LINEAR ||
                 l->op == OP_MATMUL;
    }
  }
  println("void %s_forward(const %s_model *m, %sfloat *arena) {", P, P, params);
  if (weights)
    println("  const float *W = m->weights;      /* float tensors of the layers that run in float */");
  if (q)
    println("  const uint8_t *Q = m->int8;       /* the int8 blob: weights, biases, requantization */");
  if (float_conv) // a conv that runs in float reads its raw float weights (an int8 build packs none)
    println("  const float *packed = NULL;");
  println("  uint8_t *A8 = (uint8_t *)arena;     /* the uint8 activations, at byte offsets */");
  if (scratch)
    println("  float *scratch = arena + %lld; /* the kernels' scratch, after the activations */",
            (long long)g->totals.scratch_offset);
  if (!weights && !q)
    println("  (void)m;");
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->q.kind != Q_NONE)
      emit_int8_layer(g, l);
    else if (!op_is_source(l->op) && !l->fused_into && layer_is_view(l))
      println("  /* %s: %s -> %s, a view of its input */", l->name, op_table[l->op].name, shape_str(&l->shape));
  }
  for (int i = 0; i < g->noutputs; i++) {
    Layer *ol = g->outputs[i];
    char *o = format("output%s", g->noutputs > 1 ? format("%d", i) : "");
    if (ol->q.u8)
      println("  netc_dequantize_u8(%lld, %s, %s, %d, %s); /* %s */", (long long)shape_numel(&ol->shape), buf(ol),
              flt(ol->q.scale), ol->q.zp, o, qparams_comment(ol));
    else
      println("  memcpy(%s, %s, sizeof(float) * %lldu);", o, buf(ol), (long long)shape_numel(&ol->shape));
  }
  println("} /* end %s_forward */", P);
  blank();
}

// The runner is the runtime's netc_model_main; main() hands it the sizes and
// two callbacks on a model of its own (four for --calibrate: the layers'
// names and ops, the fingerprint and the calibration forward).
static void emit_main(Graph *g, bool embedded) {
  println("/* ---- command-line runner (netc --main): netc_model_main in the runtime ---- */");
  blank();
  println("static %s_model %s_runner;", P, P);
  blank();
  println("static const char *%s_runner_load(const char *path, uint64_t seed) {", P);
  if (embedded) {
    println("  /* Without --weights: the weights compiled in (netc --weights). */");
    println("  (void)seed;");
    println("  if (!path)");
    println("    %s_init_embedded(&%s_runner);", P, P);
    println("  else if (%s_load(&%s_runner, path))", P, P);
  } else {
    println("  if (path ? %s_load(&%s_runner, path) : %s_init_random(&%s_runner, seed))", P, P, P, P);
  }
  println("    return %s_error(&%s_runner);", P, P);
  println("  return NULL;");
  println("}");
  blank();
  char *args = xstrdup("");
  for (int i = 0; i < g->ninputs; i++)
    args = format("%sin[%d], ", args, i);
  for (int i = 0; i < g->noutputs; i++)
    args = format("%sout[%d], ", args, i);
  println("static void %s_runner_forward(const float *const *in, float *const *out, float *arena) {", P);
  println("  %s_forward(&%s_runner, %sarena);", P, P, args);
  println("}");
  blank();
  // An int8 build's runner does not calibrate: its float build does.
  bool calibrates = !g->layers[0]->q.on;
  if (calibrates) {
    println("static void %s_runner_calibrate(const float *const *in, float *const *out, float *arena, netc_observer *obs,", P);
    println("                                void *ctx) {");
    println("  %s_forward_calibrate(&%s_runner, in, out, arena, obs, ctx);", P, P);
    println("}");
    blank();
    // Every layer, inputs too (PREFIX_layers has no rows for inputs): the
    // ranges file names each layer the observer saw.
    for (int t = 0; t < 2; t++) {
      println("static const char *const %s_calib_%s[%d] = {", P, t ? "ops" : "names", g->nlayers);
      char *line = xstrdup("");
      for (int i = 0; i < g->nlayers; i++) {
        char *item = format("%s,", t ? cstr(op_table[g->layers[i]->op].name) : cstr(g->layers[i]->name));
        if (*line && strlen(line) + strlen(item) + 1 > 100) {
          println("  %s", line);
          line = xstrdup("");
        }
        line = format("%s%s%s", line, *line ? " " : "", item);
      }
      println("  %s", line);
      println("};");
    }
    blank();
  }
  char *ins = xstrdup(""), *outs = xstrdup("");
  for (int i = 0; i < g->ninputs; i++)
    ins = format("%s%s%lld", ins, i ? ", " : "", (long long)shape_numel(&g->inputs[i]->shape));
  for (int i = 0; i < g->noutputs; i++)
    outs = format("%s%s%lld", outs, i ? ", " : "", (long long)shape_numel(&g->outputs[i]->shape));
  println("int main(int argc, char **argv) {");
  println("  static const int64_t input_floats[%d] = {%s}, output_floats[%d] = {%s};", g->ninputs, ins, g->noutputs,
          outs);
  println("  static const netc_runner r = {%s, %s, %d, %d, %d, input_floats, output_floats, %s_ARENA_FLOATS,",
          cstr(P), cstr(g->net), embedded, g->ninputs, g->noutputs, U);
  if (calibrates) {
    println("                                %s_runner_load, %s_runner_forward, %d, %s_calib_names, %s_calib_ops,", P,
            P, g->nlayers, P, P);
    // The calibration arena as a number, not the header's macro: the header
    // declares the calibration API only when it too was written with --main.
    println("                                %s_FINGERPRINT, %lldLL, %s_runner_calibrate};", U,
            (long long)calib_plan(g), P);
  } else {
    // No --calibrate (an int8 runner): the calibration fields spelled out as zeros, so the
    // initializer is complete under -Wextra (-Wmissing-field-initializers).
    println("                                %s_runner_load, %s_runner_forward, 0, NULL, NULL, NULL, 0, NULL};", P, P);
  }
  println("  int rc = netc_model_main(argc, argv, &r);");
  println("  %s_free(&%s_runner);", P, P);
  println("  return rc;");
  println("}");
}

void emit_source(Graph *g, const EmitOptions *o, FILE *f) {
  out = f;
  P = o->prefix;
  U = upper(P);
  println("/* %s.c -- generated by netc %s from %s (net '%s'). Do not edit.", P, NETC_VERSION,
          in_comment(g->file->name), g->net);
  println(" * %s params, %s MACs; arena %s bytes (activations %s + kernel scratch %s). C99; needs runtime/netc_rt.h. */",
          fmt_int(g->totals.params), fmt_int(g->totals.macs), fmt_int(g->totals.arena_floats * 4),
          fmt_int(g->totals.scratch_offset * 4), fmt_int(g->totals.scratch_bytes));
  println("#include \"%s\"", o->header_name);
  blank();
  println("#include <math.h>");
  println("#include <stdlib.h>");
  println("#include <string.h>");
  blank();
  println("#include \"netc_rt.h\"");
  blank();
  name_params(g);
  int nfolds = emit_tables(g);
  int npacks = emit_layer_params(g);
  emit_loader(g, nfolds, npacks);
  if (o->weights_name && g->layers[0]->q.on) {
    println("extern const float *const %s_weight_data; /* %s: the float tensors the layers in float read */", P,
            o->weights_name);
    println("extern const uint8_t *const %s_int8_data; /* %s: the int8 blob */", P, o->weights_name);
    println("/* The weights stay in read-only memory, quantized at compile time as the loader would. */");
    println("void %s_init_embedded(%s_model *m) {", P, P);
    println("  %s_free(m);", P);
    println("  m->weights = %s_weight_data;", P);
    println("  m->int8 = %s_int8_data;", P);
    println("  m->error[0] = '\\0';");
    println("}");
    blank();
  } else if (o->weights_name) {
    println("extern const float *const %s_weight_data; /* %s */", P, o->weights_name);
    println("/* The weights stay in read-only memory: convolutions pack them per call. */");
    println("void %s_init_embedded(%s_model *m) {", P, P);
    println("  %s_free(m);", P);
    println("  m->weights = %s_weight_data;", P);
    println("  m->error[0] = '\\0';");
    println("}");
    blank();
  }
  if (g->layers[0]->q.on) {
    emit_int8_tables(g);
    emit_forward_int8(g);
  } else {
    emit_forward(g);
    if (o->with_main)
      emit_forward_calibrate(g);
  }
  if (o->self_test)
    emit_self_test(g, o->self_test);
  if (o->with_main)
    emit_main(g, o->weights_name != NULL);
}
