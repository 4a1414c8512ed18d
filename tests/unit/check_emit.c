// check_emit.c -- the C back end's text, emitted into memory: one runtime
// call per convolution, parameter structs with named fields and layer names,
// decimal floats, the arena the memory plan computed; the names a user can
// pick that once collided, compiled; and the emitter's invariants, by the
// assertion that names them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static Graph *compile_ok(const char *src) {
  Graph *g = tu_compile(src);
  if (!g)
    tu_dump();
  ck_assert_msg(g, "expected the program to compile");
  return g;
}

// The generated source (or header) of g, as netc -o would write it.
static char *emit(Graph *g, bool header, bool with_main) {
  EmitOptions o = {.prefix = g->net, .header_name = format("%s.h", g->net), .with_main = with_main};
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  ck_assert_ptr_nonnull(f);
  if (header)
    emit_header(g, &o, f);
  else
    emit_source(g, &o, f);
  fclose(f);
  char *copy = xstrdup(text); // the arena's, like every other test string
  free(text);
  return copy;
}

static int count(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

// ResNet's bottleneck in small: 1x1, 3x3 (stride 2), 1x1 with batch norms,
// a projection shortcut, the residual add fused into the last conv; then a
// depthwise conv with its batch norm, a pool with one (not foldable) and a
// head.
static const char *const bottleneck_net =
    "block unit(x, planes, stride) {\n"
    "  y = x -> @conv1 conv2d(planes, 1, bias=false) -> @bn1 batchnorm2d -> relu\n"
    "        -> @conv2 conv2d(planes, 3, stride=stride, padding=1, bias=false) -> @bn2 batchnorm2d -> relu\n"
    "        -> @conv3 conv2d(planes * 4, 1, bias=false) -> @bn3 batchnorm2d;\n"
    "  s = x -> @downsample conv2d(planes * 4, 1, stride=stride, bias=false);\n"
    "  return y + s -> relu;\n"
    "}\n"
    "net small(x: [1, 8, 12, 12]) {\n"
    "  y = x -> @layer1 unit(4, 2)\n"
    "        -> @dw conv2d(16, 3, padding=1, groups=16) -> @dwbn batchnorm2d(eps=1e-3) -> leaky_relu(0.2)\n"
    "        -> @pool maxpool2d(3, stride=2, padding=1) -> @pbn batchnorm2d\n"
    "        -> flatten -> @fc linear(10);\n"
    "  return y;\n"
    "}\n";

static void assert_compiles(Graph *g, const char *c, const char *h);

// graph_fingerprint: fixed by the elaborated graph (the passes change none
// of what it reads), in the header, and moved by any change of a layer's
// name or shape. Its definition, FNV-1a 64 over the bytes netc.h lists, is
// recomputed here by hand on a one-layer net.
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
  return h;
}

START_TEST(test_fingerprint) {
  tu_capture();
  const char *src = bottleneck_net;
  Program *p = load_program("test.net", xstrdup(src), strlen(src), NULL, 0);
  ck_assert_ptr_nonnull(p);
  Graph *raw = elaborate(p, "small", NULL, 0);
  ck_assert_ptr_nonnull(raw);
  uint64_t before = graph_fingerprint(raw);
  Graph *g = compile_ok(src);
  ck_assert(graph_fingerprint(g) == before);
  ck_assert_ptr_nonnull(strstr(emit(g, true, false),
                               format("#define SMALL_FINGERPRINT \"%016llx\"\n", (unsigned long long)before)));
  char *shape = xstrdup(src), *label = xstrdup(src);
  memcpy(strstr(shape, "[1, 8, 12, 12]"), "[1, 8, 12, 16]", 14);
  memcpy(strstr(label, "@fc "), "@fd ", 4);
  ck_assert(graph_fingerprint(compile_ok(shape)) != before);
  ck_assert(graph_fingerprint(compile_ok(label)) != before);
  // net one(x: [2]) { return x; }: id 0, "x", "input", rank 1, dim 2.
  unsigned char id[4] = {0}, rank[4] = {1}, dim[8] = {2};
  uint64_t h = fnv(0xcbf29ce484222325ull, id, 4);
  h = fnv(fnv(h, "x", 2), "input", 6);
  h = fnv(fnv(h, rank, 4), dim, 8);
  ck_assert(graph_fingerprint(compile_ok("net one(x: [2]) {\n  return x;\n}\n")) == h);
}
END_TEST

// --main adds the calibration forward: every layer observed once, in id
// order, with nothing fused but the batch norms; a file without --main has
// none of it.
START_TEST(test_calibrate_forward) {
  Graph *g = compile_ok(bottleneck_net);
  char *c = emit(g, false, true), *h = emit(g, true, true);
  char *body = strstr(c, "void small_forward_calibrate(");
  ck_assert_ptr_nonnull(body);
  char *end = strstr(body, "} /* end small_forward_calibrate */");
  ck_assert_ptr_nonnull(end);
  *end = '\0';
  ck_assert_int_eq(count(body, "obs(ctx, "), g->nlayers);
  for (int i = 0; i < g->nlayers; i++)
    ck_assert_ptr_nonnull(strstr(body, format("obs(ctx, %d, ", i)));
  int convs = 0, acts = 0, adds = 0;
  for (int i = 0; i < g->nlayers; i++) {
    convs += op_is_conv(g->layers[i]->op);
    acts += op_table[g->layers[i]->op].act != NETC_ACT_NONE;
    adds += g->layers[i]->op == OP_ADD;
  }
  ck_assert_int_eq(count(body, "netc_conv2d_layer_f32("), convs);
  ck_assert_int_eq(count(body, "netc_act_f32("), acts);
  ck_assert_int_eq(count(body, "netc_add_f32("), adds);
  ck_assert_int_eq(count(body, "netc_add_act_f32("), 0);
  ck_assert_int_eq(count(body, "netc_batchnorm2d_f32("), 1); // the pool's, not foldable
  ck_assert_ptr_nonnull(strstr(h, "#define SMALL_CALIB_ARENA_FLOATS "));
  *end = '}';
  assert_compiles(g, c, h);
  ck_assert_ptr_null(strstr(emit(g, false, false), "calibrate"));
  ck_assert_ptr_null(strstr(emit(g, true, false), "CALIB_ARENA"));
}
END_TEST

START_TEST(test_one_call_per_conv) {
  Graph *g = compile_ok(bottleneck_net);
  int convs = 0;
  for (int i = 0; i < g->nlayers; i++)
    convs += g->layers[i]->op == OP_CONV2D && !g->layers[i]->fused_into;
  ck_assert_int_eq(convs, 5);
  char *c = emit(g, false, false);
  // One call per convolution, whatever its path (packed or depthwise, with
  // a residual or not): the runtime picks packed or raw weights.
  ck_assert_int_eq(count(c, "netc_conv2d_layer_f32("), convs);
  ck_assert_int_eq(count(c, "netc_conv2d_f32("), 0);
  ck_assert_int_eq(count(c, "netc_conv2d_packed_f32("), 0);
  ck_assert_int_eq(count(c, "netc_conv2d_residual_f32("), 0);
  ck_assert_ptr_null(strstr(c, "if (m->packed_)"));
  // The add is fused into the shortcut's conv (computed last), the main
  // path's output its residual operand, written in place.
  Layer *ds = tu_layer(g, "layer1.downsample");
  ck_assert_ptr_eq(ds->residual, tu_layer(g, "layer1.bn3"));
  ck_assert_ptr_nonnull(strstr(c, format("netc_conv2d_layer_f32(&conv_layer1_downsample, W, packed, x_in, "
                                         "arena + %lld, arena + %lld, scratch);",
                                         (long long)(tu_layer(g, "layer1.conv3")->offset / 4),
                                         (long long)(ds->offset / 4))));
}
END_TEST

START_TEST(test_named_fields) {
  Graph *g = compile_ok(bottleneck_net);
  char *c = emit(g, false, false);
  // Structs are named by module path and initialise fields by name; a field
  // at zero is left out, the rest are there.
  const char *conv2 = strstr(c, "static const netc_conv2d_layer conv_layer1_conv2 = {");
  ck_assert_msg(conv2, "no struct named after layer1.conv2:\n%s", c);
  ck_assert_ptr_nonnull(strstr(conv2, ".p = {.n = 1, .in_c = 4, .in_h = 12, .in_w = 12, .out_c = 4, .out_h = 6, "
                                      ".out_w = 6,"));
  ck_assert_ptr_nonnull(strstr(conv2, ".kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, "
                                      ".dilation_h = 1, .dilation_w = 1, .groups = 1,"));
  ck_assert_ptr_nonnull(strstr(conv2, ".pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1, "
                                      ".act = NETC_ACT_RELU},"));
  Layer *l = tu_layer(g, "layer1.conv2");
  ck_assert_ptr_nonnull(strstr(conv2, format(".weight = %lld, .bias = %lld, .packed = %lld};", (long long)l->slots.w,
                                             (long long)l->slots.b, (long long)l->slots.packed)));
  // The depthwise conv is not packed, its slope is decimal; the pool names
  // its fields too.
  const char *dw = strstr(c, "static const netc_conv2d_layer conv_dw = {");
  ck_assert_ptr_nonnull(dw);
  ck_assert_ptr_nonnull(strstr(dw, ".groups = 16,"));
  ck_assert_ptr_nonnull(strstr(dw, ".act = NETC_ACT_LEAKY_RELU, .act_slope = 0.2f},"));
  ck_assert_ptr_nonnull(strstr(dw, ".packed = -1};"));
  ck_assert_ptr_nonnull(strstr(c, "static const netc_pool2d_params pool_pool = {"));
  ck_assert_ptr_nonnull(strstr(c, "netc_maxpool2d_f32(&pool_pool, "));
  // No positional initializer of a parameter struct, and no hex float.
  ck_assert_ptr_null(strstr(c, "_params p = {"));
  ck_assert_ptr_null(strstr(c, "0x1."));
  ck_assert_ptr_null(strstr(c, "0x0p"));
  // The batch norm folded into the depthwise conv keeps eps as written; the
  // one after the pool runs on its own.
  ck_assert_ptr_nonnull(strstr(c, ".eps = 0.001f, .had_bias = 1}, /* dwbn into dw */"));
  ck_assert_int_eq(count(c, "netc_batchnorm2d_f32("), 1);
}
END_TEST

START_TEST(test_arena_is_the_plan) {
  Graph *g = compile_ok(bottleneck_net);
  const Totals *t = &g->totals;
  char *h = emit(g, true, false), *c = emit(g, false, false);
  // The header's arena is the memory plan's: activations, then the scratch
  // of the hungriest kernel, each rounded to 16 floats.
  ck_assert_ptr_nonnull(strstr(h, format("#define SMALL_ARENA_FLOATS %lldLL ", (long long)t->arena_floats)));
  ck_assert_int_ge(t->scratch_offset * 4, t->arena_bytes);
  ck_assert_int_ge(t->arena_floats - t->scratch_offset, t->scratch_floats);
  ck_assert_int_gt(t->scratch_floats, 0);
  ck_assert_ptr_nonnull(strstr(c, format("float *scratch = arena + %lld;", (long long)t->scratch_offset)));
  // Its two parts have macros of their own, which add up to the whole.
  ck_assert_ptr_nonnull(strstr(h, "#define SMALL_ARENA_BYTES (SMALL_ARENA_FLOATS * 4)\n"));
  ck_assert_ptr_nonnull(strstr(h, format("#define SMALL_ACTIVATION_BYTES %lldLL ", (long long)t->scratch_offset * 4)));
  ck_assert_ptr_nonnull(strstr(h, format("#define SMALL_SCRATCH_BYTES %lldLL ", (long long)t->scratch_bytes)));
  ck_assert_int_eq(t->scratch_offset * 4 + t->scratch_bytes, t->arena_floats * 4);
  ck_assert_ptr_nonnull(strstr(h, format("#define SMALL_WEIGHT_FLOATS %lldLL", (long long)t->weight_floats)));
  ck_assert_ptr_nonnull(strstr(h, format("#define SMALL_PACKED_FLOATS %lldLL", (long long)t->packed_floats)));
  // Every layer's output lies inside the activations.
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->offset >= 0)
      ck_assert_int_le(l->offset + l->bytes, t->scratch_offset * 4);
  }
}
END_TEST

// Writes the generated files under build/check_emit and compiles them
// warning-free, as a user's build would.
static void assert_compiles(Graph *g, const char *c, const char *h) {
  const char *dir = "build/check_emit";
  ck_assert_int_eq(system(format("mkdir -p %s", dir)), 0);
  const char *texts[2] = {c, h}, *ext[2] = {"c", "h"};
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(format("%s/%s.%s", dir, g->net, ext[i]), "w");
    ck_assert_ptr_nonnull(f);
    fputs(texts[i], f);
    fclose(f);
  }
  int rc = system(format("cc -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Werror -fsyntax-only -Iruntime -I%s "
                         "%s/%s.c", dir, dir, g->net));
  ck_assert_msg(rc == 0, "the generated C for net '%s' does not compile (see %s/%s.c)", g->net, dir, g->net);
}

// The file must compile, warning-free, with names a user may choose: a net
// called like a parameter struct's family whose layers are called like its
// API (conv_load would be both), paths that differ only in '.' versus '_',
// and an input whose parameter would shadow a struct.
START_TEST(test_param_names_compile) {
  Graph *g = compile_ok("block one(x) {\n"
                        "  return x -> @b conv2d(4, 1);\n"
                        "}\n"
                        "net conv(x: [1, 3, 8, 8], conv_c: [1, 4, 8, 8]) {\n"
                        "  y = x -> @load conv2d(4, 3, padding=1) -> @forward conv2d(4, 1) -> @a one()\n"
                        "        -> @a_b conv2d(4, 1) -> @c_in conv2d(4, 1) -> @desc maxpool2d(2) -> @packs avgpool2d(1);\n"
                        "  z = conv_c -> @free maxpool2d(2);\n"
                        "  return y + z;\n"
                        "}\n");
  char *c = emit(g, false, true), *h = emit(g, true, true);
  const char *decl = "static const netc_conv2d_layer ";
  ck_assert_ptr_nonnull(strstr(c, format("%sconv_load_%d = {", decl, tu_layer(g, "load")->id))); // the API's conv_load
  ck_assert_ptr_nonnull(strstr(c, format("%sconv_forward_%d = {", decl, tu_layer(g, "forward")->id)));
  ck_assert_ptr_nonnull(strstr(c, format("%sconv_a_b = {", decl)));                              // a.b, first
  ck_assert_ptr_nonnull(strstr(c, format("%sconv_a_b_%d = {", decl, tu_layer(g, "a_b")->id)));   // then a_b
  ck_assert_ptr_nonnull(strstr(c, format("%sconv_c_in_%d = {", decl, tu_layer(g, "c_in")->id))); // input conv_c
  ck_assert_ptr_nonnull(strstr(c, "static const netc_pool2d_params pool_free = {"));   // conv_free is the API's
  assert_compiles(g, c, h);
}
END_TEST

// A float that overflows float32 is infinite in the network; the C must
// still compile ("%a" printed it as inff).
START_TEST(test_nonfinite_floats) {
  Graph *g = compile_ok("net big(x: [1, 2, 4, 4]) {\n"
                        "  return x -> pad(left=1, value=1e300) -> leaky_relu(0 - 3e38 * 10) + 1e-45;\n"
                        "}\n");
  char *c = emit(g, false, false);
  ck_assert_ptr_nonnull(strstr(c, "netc_pad2d_f32(1, 2, 4, 4, 0, 0, 1, 0, HUGE_VALF, "));
  ck_assert_ptr_nonnull(strstr(c, "NETC_ACT_LEAKY_RELU, -HUGE_VALF, "));
  ck_assert_ptr_nonnull(strstr(c, "1e-45f")); // the smallest denormal, exact in decimal too
  assert_compiles(g, c, emit(g, true, false));
}
END_TEST

//
// Death tests: the emitter trusts the passes before it, and says which
// promise was broken when one is.
//

static void emit_corrupt_offset(void *ctx) {
  Graph *g = ctx;
  tu_layer(g, "layer1.conv2")->offset += 2; // not a float boundary
  emit(g, false, false);
}

START_TEST(test_dies_on_misaligned_offset) {
  tu_expect_death(emit_corrupt_offset, compile_ok(bottleneck_net), "l->offset >= 0 && l->offset % 4 == 0");
}
END_TEST

static void verify_overlap(void *ctx) {
  Graph *g = ctx;
  Layer *a = tu_layer(g, "layer1.conv1"), *b = tu_layer(g, "layer1.conv2");
  for (int i = 0; i < g->nlayers; i++) // b (and what is computed in its memory) over a,
    if (g->layers[i] == b || g->layers[i]->alias == b) // which b reads: both live at once
      g->layers[i]->offset = a->offset;
  verify_graph(g);
}

START_TEST(test_verify_names_overlap) {
  tu_expect_death(verify_overlap, compile_ok(bottleneck_net),
                  "l->offset + l->bytes <= live[j].off || live[j].off + live[j].size <= l->offset");
}
END_TEST

static void verify_bad_fold(void *ctx) {
  Graph *g = ctx;
  Layer *pool = tu_layer(g, "pool"), *bn = tu_layer(g, "pbn");
  pool->fold_bn = bn; // as if a pass folded it into the pool
  bn->fused_into = pool;
  verify_graph(g);
}

START_TEST(test_verify_names_bad_fold) {
  Graph *g = compile_ok(bottleneck_net);
  ck_assert_ptr_null(tu_layer(g, "pool")->fold_bn); // fuse.c folds only into a conv2d ...
  tu_expect_death(verify_bad_fold, g, "op_is_conv(l->op)"); // ... and the verifier says so
}
END_TEST

// --max-scratch: layers whose usual kernel needs more scratch than the
// budget run scratch-free ones, chosen in the params the runtime reads.
static const char *const scratchy_net =
    "net s(x: [16, 16, 32, 32]) {\n"
    "  y = x -> @c conv2d(32, 3, padding=1) -> relu -> global_avgpool2d -> flatten -> @fc linear(24);\n"
    "  return y;\n"
    "}\n";

START_TEST(test_max_scratch_zero) {
  Graph *g = compile_ok(scratchy_net);
  Layer *c = tu_layer(g, "c"), *fc = tu_layer(g, "fc");
  // Unlimited: the fast kernels, which need scratch (16 rows: linear's GEMM).
  ck_assert_str_ne(kernel_name(c), "loop");
  ck_assert_str_eq(kernel_name(fc), "gemm");
  ck_assert_int_gt(c->scratch, 0);
  ck_assert_int_gt(fc->scratch, 0);
  ck_assert_int_gt(g->totals.scratch_bytes, 0);

  limits.max_scratch = 0;
  g = compile_ok(scratchy_net);
  limits.max_scratch = -1;
  c = tu_layer(g, "c"), fc = tu_layer(g, "fc");
  ck_assert_str_eq(kernel_name(c), "loop");
  ck_assert_str_eq(kernel_name(fc), "gemv");
  ck_assert_int_eq(g->totals.scratch_bytes, 0);
  ck_assert_int_eq(g->totals.arena_floats, g->totals.scratch_offset);
  netc_conv2d_params p = lower_conv2d(c);
  ck_assert_int_eq(p.path, NETC_CONV_NO_SCRATCH);
  ck_assert_int_eq(netc_conv2d_scratch_floats(&p), 0);
  char *src = emit(g, false, false), *h = emit(g, true, false);
  ck_assert_ptr_nonnull(strstr(src, ".path = NETC_CONV_NO_SCRATCH"));
  ck_assert_ptr_nonnull(strstr(src, "netc_linear_dot_f32(16, 32, 24, "));
  ck_assert_ptr_null(strstr(src, "netc_linear_f32("));
  ck_assert_ptr_nonnull(strstr(h, "#define S_SCRATCH_BYTES 0LL "));
}
END_TEST

// A budget between the two layers' needs: only the layer over it changes.
START_TEST(test_max_scratch_between) {
  Graph *g = compile_ok(scratchy_net);
  int64_t conv = lower_scratch_region_bytes(tu_layer(g, "c")->scratch);
  int64_t fc = lower_scratch_region_bytes(tu_layer(g, "fc")->scratch);
  ck_assert_int_ne(conv, fc);
  int64_t lo = conv < fc ? conv : fc, hi = conv < fc ? fc : conv;
  limits.max_scratch = lo;
  g = compile_ok(scratchy_net);
  limits.max_scratch = -1;
  Layer *small = tu_layer(g, conv < fc ? "c" : "fc"), *big = tu_layer(g, conv < fc ? "fc" : "c");
  ck_assert_int_eq(lower_scratch_region_bytes(small->scratch), lo);
  ck_assert_int_eq(big->scratch, 0);
  ck_assert(big->no_scratch && !small->no_scratch);
  ck_assert_int_eq(g->totals.scratch_bytes, lo);
  ck_assert_int_lt(g->totals.scratch_bytes, hi);
}
END_TEST

// A layer with no scratch-free kernel (matmul) is an error at its call,
// naming it and the budget.
START_TEST(test_max_scratch_no_kernel) {
  limits.max_scratch = 1024;
  Graph *g = tu_compile("net m(a: [1, 64, 64], b: [1, 64, 64]) {\n"
                        "  return @mm matmul(a, b);\n"
                        "}\n");
  limits.max_scratch = -1;
  ck_assert_int_ge(tu_errors(), 1);
  ck_assert(tu_has_error(2, "layer 'mm' (matmul) needs "));
  ck_assert(tu_has_error(2, "fits the scratch budget of 1,024 bytes set by --max-scratch"));
  (void)g;
}
END_TEST

// Byte sizes for the budget options.
START_TEST(test_parse_byte_size) {
  static const struct {
    const char *s;
    int64_t v;
  } good[] = {{"0", 0},
              {"32768", 32768},
              {"32K", 32 * 1024},
              {"32k", 32 * 1024},
              {"32KiB", 32 * 1024},
              {"32kib", 32 * 1024},
              {"32KB", 32000},
              {"2M", 2 * 1024 * 1024},
              {"2MiB", 2 * 1024 * 1024},
              {"2MB", 2000000},
              {"3G", 3LL * 1024 * 1024 * 1024},
              {"3GiB", 3LL * 1024 * 1024 * 1024},
              {"3GB", 3000000000LL},
              {"17B", 17},
              {"9223372036854775807", INT64_MAX},
              {"8589934591G", 8589934591LL * 1024 * 1024 * 1024}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int64_t v = -1;
    const char *why = parse_byte_size(good[i].s, &v);
    ck_assert_msg(why == NULL, "'%s' refused: %s", good[i].s, why);
    ck_assert_msg(v == good[i].v, "'%s' gave %lld", good[i].s, (long long)v);
  }
  static const struct {
    const char *s, *why;
  } bad[] = {{"", "starts with a digit"},
             {"-1", "negative"},
             {"-2MiB", "negative"},
             {"+5", "starts with a digit"},
             {" 5", "starts with a digit"},
             {"MiB", "starts with a digit"},
             {"1.5MiB", "whole number"},
             {"1,5", "whole number"},
             {"5 KiB", "unknown unit"},
             {"5KiBs", "unknown unit"},
             {"5T", "unknown unit"},
             {"5Ki", "unknown unit"},
             {"0x10", "unknown unit"},
             {"9223372036854775808", "too large"},
             {"99999999999999999999", "too large"},
             {"8589934592G", "too large"},
             {"9223372036854775807K", "too large"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = 42;
    const char *why = parse_byte_size(bad[i].s, &v);
    ck_assert_msg(why != NULL, "'%s' accepted as %lld", bad[i].s, (long long)v);
    ck_assert_msg(strstr(why, bad[i].why), "'%s': %s", bad[i].s, why);
    ck_assert_int_eq(v, 42); // not written
  }
}
END_TEST

Suite *make_emit_suite(void) {
  Suite *s = suite_create("emit");
  TCase *tc = tcase_create("text");
  tcase_add_test(tc, test_one_call_per_conv);
  tcase_add_test(tc, test_fingerprint);
  tcase_add_test(tc, test_calibrate_forward);
  tcase_add_test(tc, test_named_fields);
  tcase_add_test(tc, test_arena_is_the_plan);
  tcase_add_test(tc, test_param_names_compile);
  tcase_add_test(tc, test_nonfinite_floats);
  tcase_add_test(tc, test_max_scratch_zero);
  tcase_add_test(tc, test_max_scratch_between);
  tcase_add_test(tc, test_max_scratch_no_kernel);
  tcase_add_test(tc, test_parse_byte_size);
  suite_add_tcase(s, tc);
  tc = tcase_create("death");
  tcase_add_test(tc, test_dies_on_misaligned_offset);
  tcase_add_test(tc, test_verify_names_overlap);
  tcase_add_test(tc, test_verify_names_bad_fold);
  suite_add_tcase(s, tc);
  return s;
}
