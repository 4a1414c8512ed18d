// check_elab.c -- the elaborator: blocks, loops, naming, weights, -D, limits.
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Graph *compile_ok(const char *src) {
  Graph *g = tu_compile(src);
  if (!g) {
    tu_dump();
    ck_abort_msg("expected the program to compile");
  }
  return g;
}

static const char *shape_of(Graph *g, const char *layer) {
  Layer *l = tu_layer(g, layer);
  ck_assert_msg(l != NULL, "no layer named %s", layer);
  return shape_str(&l->shape);
}

// The seed's d2l LeNet: shapes from its printed table, Sequential names.
static const char *lenet_src =
    "net lenet(x: f32[1, 1, 28, 28]) {\n"
    "  return x -> conv2d(6, 5, padding=2) -> sigmoid -> avgpool2d(2, stride=2)\n"
    "           -> conv2d(16, 5) -> sigmoid -> avgpool2d(2, stride=2)\n"
    "           -> flatten -> linear(120, in_features=16 * 5 * 5) -> sigmoid\n"
    "           -> linear(84) -> sigmoid -> linear(10);\n"
    "}\n";

START_TEST(test_lenet) {
  Graph *g = compile_ok(lenet_src);
  const char *want[][2] = {{"0", "[1, 6, 28, 28]"}, {"1", "[1, 6, 28, 28]"}, {"2", "[1, 6, 14, 14]"},
                           {"3", "[1, 16, 10, 10]"}, {"4", "[1, 16, 10, 10]"}, {"5", "[1, 16, 5, 5]"},
                           {"6", "[1, 400]"}, {"7", "[1, 120]"}, {"8", "[1, 120]"}, {"9", "[1, 84]"},
                           {"10", "[1, 84]"}, {"11", "[1, 10]"}};
  ck_assert_int_eq(g->nlayers, 13); // the input plus 12 modules
  for (int i = 0; i < 12; i++)
    ck_assert_str_eq(shape_of(g, want[i][0]), want[i][1]);
  // state_dict keys of the PyTorch nn.Sequential, in order.
  const char *w[] = {"0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias",
                     "9.weight", "9.bias", "11.weight", "11.bias"};
  ck_assert_int_eq(g->nweights, 10);
  for (int i = 0; i < 10; i++)
    ck_assert_str_eq(g->weights[i]->name, w[i]);
  ck_assert_str_eq(shape_str(&g->weights[4]->shape), "[120, 400]");
  ck_assert_str_eq(shape_str(&g->weights[2]->shape), "[16, 6, 5, 5]");
}
END_TEST

// The seed's VGG-11: a block with repetition driven by a tuple list.
static const char *vgg_src =
    "conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512));\n"
    "block vgg_block(x, num_convs, channels) {\n"
    "  for _ in range(num_convs) { x = x -> conv2d(channels, 3, padding=1) -> relu; }\n"
    "  return x -> maxpool2d(2, stride=2);\n"
    "}\n"
    "net vgg11(x: [1, 1, 224, 224], arch = conv_arch, classes = 10) {\n"
    "  for (n, c) in arch { x = x -> vgg_block(n, c); }\n"
    "  feats: [1, 512, 7, 7] = x;\n"
    "  return feats -> flatten -> linear(4096) -> relu -> dropout(0.5)\n"
    "               -> linear(4096) -> relu -> dropout(0.5) -> linear(classes);\n"
    "}\n";

START_TEST(test_vgg_blocks) {
  Graph *g = compile_ok(vgg_src);
  ck_assert_int_eq(g->ninsts, 6); // the net and five block instances
  const char *out[] = {"[1, 64, 112, 112]", "[1, 128, 56, 56]", "[1, 256, 28, 28]", "[1, 512, 14, 14]",
                       "[1, 512, 7, 7]"};
  for (int i = 0; i < 5; i++) {
    Inst *in = g->insts[i + 1];
    ck_assert_str_eq(in->name, format("%d", i));
    ck_assert_str_eq(in->block, "vgg_block");
    ck_assert_int_eq(in->depth, 1);
    ck_assert_str_eq(shape_str(&in->output->shape), out[i]);
  }
  // Block 2 has two convs: Sequential indices 0 and 2 (relu is 1).
  ck_assert_str_eq(shape_of(g, "2.2"), "[1, 256, 56, 56]");
  ck_assert_ptr_nonnull(tu_layer(g, "2.4"));
  ck_assert_str_eq(shape_of(g, "6"), "[1, 4096]");
  ck_assert_str_eq(shape_str(&tu_layer(g, "6")->weights[0].shape), "[4096, 25088]");
  ck_assert_str_eq(g->weights[0]->name, "0.0.weight");
  ck_assert_str_eq(g->weights[g->nweights - 1]->name, "12.bias");
}
END_TEST

START_TEST(test_defines_override) {
  Define d[2] = {{"classes", "1000"}, {"arch", "((1, 8),)"}};
  Graph *g = tu_compile_net(vgg_src, "vgg11", d, 1);
  ck_assert_ptr_nonnull(g);
  ck_assert_str_eq(shape_str(&g->outputs[0]->shape), "[1, 1000]");
  // A shorter arch changes the trunk, so the stated [1, 512, 7, 7] fails.
  g = tu_compile_net(vgg_src, "vgg11", d + 1, 1);
  ck_assert_ptr_null(g);
  ck_assert(tu_has_error(8, "stated shape [1, 512, 7, 7] does not match the computed shape [1, 8, 112, 112]"));
  Define tensor = {"x", "(1, 2, 3, 4)"};
  ck_assert_ptr_null(tu_compile_net(vgg_src, "vgg11", &tensor, 1));
  ck_assert(tu_has_error(0, "'x' is a tensor parameter"));
  Define bad = {"clases", "3"};
  ck_assert_ptr_null(tu_compile_net(vgg_src, "vgg11", &bad, 1));
  ck_assert(tu_has_error(0, "did you mean 'classes'?"));
}
END_TEST

static const char *resnet_src =
    "block bottleneck(x, planes, stride = 1, expansion = 4) {\n"
    "  out_c = planes * expansion;\n"
    "  y = x -> @conv1 conv2d(planes, 1, bias=false) -> @bn1 batchnorm2d -> @relu relu\n"
    "        -> @conv2 conv2d(planes, 3, stride=stride, padding=1, bias=false) -> @bn2 batchnorm2d -> @relu relu\n"
    "        -> @conv3 conv2d(out_c, 1, bias=false) -> @bn3 batchnorm2d;\n"
    "  if stride != 1 || x.channels != out_c {\n"
    "    x = x -> @downsample proj(out_c, stride);\n"
    "  }\n"
    "  return y + x -> @relu relu;\n"
    "}\n"
    "block proj(x, c, s) { return x -> conv2d(c, 1, stride=s, bias=false) -> batchnorm2d; }\n"
    "block stage(x, planes, blocks, stride) {\n"
    "  x = x -> bottleneck(planes, stride=stride);\n"
    "  for _ in range(1, blocks) { x = x -> bottleneck(planes); }\n"
    "  return x;\n"
    "}\n"
    "net r(x: [1, 64, 56, 56]) {\n"
    "  return x -> @layer1 stage(64, 3, 1) -> @(\"layer\" + str(2)) stage(128, 2, 2);\n"
    "}\n";

START_TEST(test_resnet_names) {
  Graph *g = compile_ok(resnet_src);
  ck_assert_str_eq(g->weights[0]->name, "layer1.0.conv1.weight");
  ck_assert_str_eq(g->weights[1]->name, "layer1.0.bn1.weight");
  ck_assert_str_eq(g->weights[3]->name, "layer1.0.bn1.running_mean");
  ck_assert_str_eq(g->weights[5]->name, "layer1.0.bn1.num_batches_tracked");
  ck_assert(g->weights[5]->buffer && g->weights[5]->i64);
  ck_assert_int_eq(g->weights[5]->shape.rank, 0);
  // The projection comes after the main path, as torchvision registers it.
  ck_assert_str_eq(g->weights[18]->name, "layer1.0.downsample.0.weight");
  ck_assert_str_eq(g->weights[19]->name, "layer1.0.downsample.1.weight");
  // Only the first block of a stage projects (64 != 256); later ones do not.
  ck_assert_ptr_null(tu_layer(g, "layer1.1.downsample.0"));
  ck_assert_ptr_nonnull(tu_layer(g, "layer2.0.downsample.0"));
  ck_assert_str_eq(shape_of(g, "layer2.0.conv2"), "[1, 128, 28, 28]");
  ck_assert_str_eq(shape_str(&g->outputs[0]->shape), "[1, 512, 28, 28]");
}
END_TEST

START_TEST(test_values) {
  Graph *g = compile_ok("block b(x, k, s = k, p = (k - 1) // 2) { return x -> conv2d(4, k, stride=s, padding=p); }\n"
                        "net n(x: [1, 2, 9, 9]) {\n"
                        "  t = (1, 2, 3) + (4,);\n"
                        "  assert len(t) == 4 && t[-1] == 4 && min(t) == 1 && max(3, 7) == 7;\n"
                        "  assert 7 // -2 == -4 && -7 % 3 == 2 && 2 ** 10 == 1024 && 7 / 2 == 3.5;\n"
                        "  assert int(3.9) == 3 && abs(-2) == 2 && str(12) == \"12\" && \"a\" + \"b\" == \"ab\";\n"
                        "  assert x.shape == [1, 2, 9, 9] && x.channels == 2 && x.rank == 4 && x.numel == 162;\n"
                        "  assert (true ? 1 : 2) == 1 && !false && range(1, 7, 2) == (1, 3, 5);\n"
                        "  return x -> b(3);\n"
                        "}\n");
  // Defaults use earlier parameters: stride = k = 3, padding = 1.
  ck_assert_str_eq(shape_str(&g->outputs[0]->shape), "[1, 4, 3, 3]");
}
END_TEST

START_TEST(test_dag_ops) {
  Graph *g = compile_ok("block branch(x, c) { return x -> conv2d(c, 1) -> relu; }\n"
                        "net n(x: [1, 8, 9, 9]) {\n"
                        "  a = x -> branch(4);\n"
                        "  b = x -> maxpool2d(3, stride=1, padding=1) -> branch(2);\n"
                        "  y = concat(a, b, x);\n"
                        "  z = y -> conv_transpose2d(6, 2, stride=2);\n"
                        "  u = z -> pad(left=1, right=0, top=1, bottom=0);\n"
                        "  return u * 0.5 - 1, -y;\n"
                        "}\n");
  ck_assert_int_eq(g->noutputs, 2);
  ck_assert_str_eq(shape_str(&g->outputs[0]->shape), "[1, 6, 19, 19]");
  ck_assert_str_eq(shape_str(&g->outputs[1]->shape), "[1, 14, 9, 9]");
  // Unlabeled modules and blocks share the scope's auto index; concat,
  // pad and tensor arithmetic are functions, not modules, and take none.
  ck_assert_str_eq(tu_layer(g, "0.0")->inst->block, "branch");
  ck_assert_int_eq(tu_layer(g, "1")->op, OP_MAXPOOL2D);
  ck_assert_int_eq(tu_layer(g, "3")->op, OP_CONV_TRANSPOSE2D);
  ck_assert_str_eq(shape_of(g, "3"), "[1, 6, 18, 18]");
  ck_assert_ptr_null(tu_layer(g, "4"));
}
END_TEST

// A block that only computes a value is no naming scope: it must not take
// an nn.Sequential index from the layers around it.
START_TEST(test_value_blocks_take_no_index) {
  Graph *g = compile_ok("block mk(c) { return c * 2; }\n"
                        "block pair(x, c) { return x -> conv2d(c, 1) -> relu; }\n"
                        "net n(x: [1, 3, 8, 8]) { return x -> conv2d(mk(2), 1) -> pair(mk(1)) -> @(\"f\" + str(mk(3))) relu; }\n");
  ck_assert_str_eq(g->weights[0]->name, "0.weight");
  ck_assert_str_eq(g->weights[2]->name, "1.0.weight");
  ck_assert_ptr_nonnull(tu_layer(g, "f6"));
  ck_assert_int_eq(g->ninsts, 2); // the net and pair; no rows for mk
  ck_assert_str_eq(g->insts[1]->name, "1");
}
END_TEST

static int count_warnings(const char *text) {
  int n = 0;
  for (int i = 0; i < tu_ndiags; i++)
    n += tu_diags[i].kind == D_WARNING && strstr(tu_diags[i].msg, text) != NULL;
  return n;
}

START_TEST(test_warnings) {
  // A parameter read by some instance is used; one no instance reads is not;
  // a leading underscore says "unused on purpose".
  Graph *g = compile_ok("block b(x, c, k = 1, _spare = 0) {\n"
                        "  if c > 4 { x = x -> conv2d(c, k); }\n"
                        "  return x;\n"
                        "}\n"
                        "block never(x, q) { return x; }\n"
                        "net n(x: [1, 3, 8, 8], unused = 2, _knob = 3) {\n"
                        "  return x -> b(2) -> b(8) -> conv2d(4, 4, padding=\"same\") -> conv2d(4, 3, padding=\"same\");\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  ck_assert_int_eq(count_warnings("parameter 'unused' of net 'n' is never used [-Wunused]"), 1);
  ck_assert_int_eq(count_warnings("'_knob'"), 0); // net parameters too
  ck_assert_int_eq(count_warnings("of block 'b'"), 0);
  ck_assert_int_eq(count_warnings("block 'never'"), 0); // never instantiated: nothing to say
  ck_assert_int_eq(count_warnings("4x4 kernel pads unevenly (1/2 rows, 1/2 columns"), 1);
  ck_assert_int_eq(count_warnings("3x3 kernel"), 0);
  // -Wno-... and -Werror.
  diag_warnings = W_SAME_PADDING;
  compile_ok("net n(x: [1, 3, 8, 8], unused = 2) { return x -> relu; }\n");
  ck_assert_int_eq(count_warnings("never used"), 0);
  diag_warnings = W_UNUSED | W_SAME_PADDING;
  diag_werror = true;
  ck_assert_ptr_nonnull(tu_compile("net n(x: [1, 3, 8, 8], unused = 2) { return x -> relu; }\n"));
  diag_werror = false;
  ck_assert(tu_has_error(1, "never used [-Werror=unused]"));
}
END_TEST

START_TEST(test_several_nets) {
  const char *src = "net a(x: [1, 4]) { return x -> linear(2); }\n"
                    "net b(x: [1, 4], n = 3) { return x -> linear(n); }\n";
  Graph *g = tu_compile_net(src, "b", NULL, 0);
  ck_assert_ptr_nonnull(g);
  ck_assert_str_eq(shape_str(&g->outputs[0]->shape), "[1, 3]");
  ck_assert_ptr_null(tu_compile_net(src, "c", NULL, 0));
  ck_assert(tu_has_error(0, "no net named 'c'"));
}
END_TEST

START_TEST(test_errors_with_backtrace) {
  ck_assert_ptr_null(tu_compile("block blk(x, c) {\n"
                                "  y = x -> conv2d(c, 3, padding=1);\n"
                                "  return y + x;\n"
                                "}\n"
                                "net n(x: [1, 3, 8, 8]) {\n"
                                "  for c in (3, 4) { y = x -> blk(c); }\n"
                                "  q = x -> conv2d(8, 3, strde=2);\n"
                                "  return x;\n"
                                "}\n"));
  ck_assert(tu_has_error(3, "'+': shapes [1, 4, 8, 8] and [1, 3, 8, 8] do not broadcast on dim 1 (4 vs 3)"));
  ck_assert(tu_has_note("in block 'blk' (c=4)"));
  ck_assert(tu_has_note("in loop iteration 1 (c = 4)"));
  ck_assert(tu_has_note("while elaborating net 'n'"));
  // An independent mistake later in the net is reported in the same run.
  ck_assert(tu_has_error(7, "conv2d has no parameter 'strde'; did you mean 'stride'?"));
  ck_assert_int_eq(tu_errors(), 2);
}
END_TEST

START_TEST(test_errors_semantic) {
  struct { const char *body; int line; const char *msg; } cases[] = {
    {"return x -> conv2d(1, 6, 5);", 1, "conv2d takes 2 positional arguments"},
    {"return x -> conv2d(8, 3, stride=1.5);", 1, "stride: expected an integer or an (h, w) pair"},
    {"return x -> conv2d(8, 3, padding=\"same\", stride=2);", 1, "only supported for stride 1"},
    {"return x -> conv2d(8, 3, in_channels=4);", 1, "in_channels=4 was stated but the input has 3"},
    {"return x -> conv2d(8, 3, groups=3);", 1, "out_channels (8) must be divisible by groups (3)"},
    {"return x -> conv2d(9, 3, groups=9);", 1, "input channels (3) must be divisible by groups (9)"},
    {"return x -> conv2d(8, 11);", 1, "output height would be -2"},
    {"return x -> maxpool2d(2, padding=2);", 1, "at most half the kernel size"},
    {"return x -> flatten -> linear(10, in_features=100);", 1, "in_features=100 was stated but the input has 192"},
    {"return x -> batchnorm2d(num_features=4);", 1, "num_features=4 was stated but the input has 3"},
    {"return x -> relu(8);", 1, "relu takes 0 positional arguments"},
    {"return x -> relus;", 1, "undefined name 'relus'; did you mean 'relu'?"},
    {"return x -> conv2d(8, 3 // 0);", 1, "division by zero"},
    {"return x -> conv2d(8, 9223372036854775807 * 2);", 1, "integer overflow"},
    {"return x -> concat(x -> maxpool2d(2));", 1, "does not match"},
    {"y = (1, 2); return y[2];", 1, "index 2 is out of range"},
    {"(a, b) = (1, 2, 3); return x;", 1, "cannot unpack"},
    {"return x.chanels;", 1, "did you mean 'channels'?"},
    {"assert x.channels == 4, \"need RGBA\"; return x;", 1, "assertion failed: need RGBA"},
    {"return x -> @(1.5) relu;", 1, "a label must be"},
    {"return x -> @a conv2d(2, 1) -> @a conv2d(2, 1);", 1, "duplicate weight name 'a.weight'"},
    {"y = 3; return x -> y;", 1, "a pipe stage must name a layer or block"},
    {"return 3;", 1, "must return tensors"},
    {"y = x;", 0, "returns nothing"},
    {"return x -> dropout(1.5);", 1, "between 0 and 1"},
    {"return x -> softmax(dim=4);", 1, "dim=4 is out of range"},
    {"return x * (0 ** -1);", 1, "division by zero (0 ** -1)"},
    {"return x -> @(\"a..b\") relu;", 1, "a label must be a name"},
    {"return x -> @(\"a.\") relu;", 1, "a label must be a name"},
    {"return x -> @(\"a b\") relu;", 1, "a label must be a name"},
    {"return x -> @(\"a.b\") conv2d(2, 1) -> @a conv2d(2, 1) -> @(\"a.b\") conv2d(2, 1);", 1,
     "duplicate weight name 'a.b.weight'"},
    {"return x -> layernorm(eps=0);", 1, "eps: must be positive"},
    {"return x -> maxpool2d(3, padding=2, dilation=2);", 1, "at most half the kernel size"},
    {"return add(1, 2);", 1, "at least one operand must be a tensor"},
    {"return x -> chk(2);", 1, "argument 'x' should be a tensor of shape [1, 4, ?, ?], got [1, 3, 8, 8]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *src = format("net n(x: [1, 3, 8, 8]) {\n%s\n}\nblock chk(x: [1, 4, ?, ?], k) { return x; }\n",
                       cases[i].body);
    Graph *g = tu_compile(src);
    if (g || !tu_has_error(cases[i].line + 1, cases[i].msg)) {
      tu_dump();
      ck_abort_msg("case %zu (%s): expected an error at line %d containing \"%s\"", i, cases[i].body,
                   cases[i].line + 1, cases[i].msg);
    }
  }
}
END_TEST

START_TEST(test_limits) {
  ck_assert_ptr_null(tu_compile("block f(x) { return x -> f; }\nnet n(x: [1, 2]) { return x -> f; }\n"));
  ck_assert(tu_has_error(1, "nested more than 200 deep"));
  int64_t saved = limits.max_steps;
  limits.max_steps = 100000;
  // A loop over range(10^12) runs lazily until the step limit stops it.
  ck_assert_ptr_null(tu_compile("net n(x: [1, 2]) {\n for i in range(1000000000000) { x = x; }\n return x; }\n"));
  limits.max_steps = saved;
  ck_assert(tu_has_error(2, "exceeded 100000 steps"));
  ck_assert_ptr_null(tu_compile("net n(x: [1, 2]) { y = range(1000000000000); return x; }\n"));
  ck_assert(tu_has_error(1, "too long"));
  // Pathological nesting is a located error, never a stack overflow.
  char *sum = xalloc(300000), *pipe = xalloc(1200000), *paren = xalloc(50000);
  strcpy(sum, "net n(x: [1, 2]) { c = 1");
  for (int i = 0; i < 100000; i++)
    strcat(sum + 20 + 2 * i, "+1");
  strcat(sum, "; return x; }\n");
  ck_assert_ptr_null(tu_compile(sum));
  ck_assert(tu_has_error(1, "expression nested too deeply"));
  // ...but a 100,000-stage pipe is just a long chain, evaluated iteratively.
  strcpy(pipe, "net n(x: [1, 2]) { return x");
  size_t len = strlen(pipe);
  for (int i = 0; i < 100000; i++, len += 8)
    memcpy(pipe + len, " -> relu", 9);
  strcat(pipe, "; }\n");
  Graph *g = tu_compile(pipe);
  ck_assert_ptr_nonnull(g);
  ck_assert_int_eq(g->nlayers, 100001);
  strcpy(paren, "net n(x: [1, 2]) { c = ");
  for (int i = 0; i < 20000; i++)
    strcat(paren + 23 + i, "(");
  strcat(paren, "1; return x; }\n");
  ck_assert_ptr_null(tu_parse(paren));
  ck_assert(tu_has_error(1, "nested too deeply"));
  // Overflowing element counts are caught before any arithmetic wraps.
  ck_assert_ptr_null(tu_compile("net n(x: [2147483648, 2147483648, 4]) { return x -> relu; }\n"));
  ck_assert(tu_has_error(1, "too large"));
}
END_TEST

START_TEST(test_imports) {
  char dir[] = "/tmp/netc_imp_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  FILE *f = fopen(format("%s/lib.net", dir), "w");
  fputs("block twice(x, c) { return x -> conv2d(c, 3, padding=1) -> conv2d(c, 3, padding=1); }\n", f);
  fclose(f);
  f = fopen(format("%s/a.net", dir), "w");
  fputs("import \"b.net\";\n", f);
  fclose(f);
  f = fopen(format("%s/b.net", dir), "w");
  fputs("import \"a.net\";\n", f);
  fclose(f);
  const char *main_src = "import \"lib.net\";\nnet n(x: [1, 3, 8, 8]) { return x -> twice(4); }\n";
  tu_capture();
  char *path = format("%s/main.net", dir);
  Program *p = load_program(path, main_src, strlen(main_src), NULL, 0);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(p->nmods, 2);
  Graph *g = elaborate(p, "n", NULL, 0);
  ck_assert_ptr_nonnull(g);
  ck_assert_str_eq(g->weights[0]->name, "0.0.weight");
  const char *cyc = "import \"a.net\";\nnet n(x: [1]) { return x; }\n";
  tu_capture();
  ck_assert_ptr_null(load_program(path, cyc, strlen(cyc), NULL, 0));
  ck_assert(tu_has_error(1, "import cycle"));
  const char *missing = "import \"nope.net\";\n";
  tu_capture();
  ck_assert_ptr_null(load_program(path, missing, strlen(missing), NULL, 0));
  ck_assert(tu_has_error(1, "cannot find imported file \"nope.net\""));
  unlink(format("%s/lib.net", dir));
  unlink(format("%s/a.net", dir));
  unlink(format("%s/b.net", dir));
  rmdir(dir);
}
END_TEST

// Labels spell any state_dict key segment: RegNet's "block1-0", and dotted
// paths that name nested modules without a block for each.
START_TEST(test_label_segments) {
  Graph *g = tu_compile("block unit(x) {\n"
                        "  return x -> @(\"block1-0\") conv2d(4, 1) -> @(\"se.fc1\") conv2d(4, 1);\n"
                        "}\n"
                        "net n(x: [1, 3, 8, 8]) {\n"
                        "  return x -> @(\"trunk_output.block1\") unit() -> @(\"block1-1\") relu;\n"
                        "}\n");
  if (!g)
    tu_dump();
  ck_assert_ptr_nonnull(g);
  const char *want[] = {"trunk_output.block1.block1-0.weight", "trunk_output.block1.block1-0.bias",
                        "trunk_output.block1.se.fc1.weight", "trunk_output.block1.se.fc1.bias"};
  ck_assert_int_eq(g->nweights, 4);
  for (int i = 0; i < 4; i++)
    ck_assert_str_eq(g->weights[i]->name, want[i]);
  ck_assert_ptr_nonnull(tu_layer(g, "block1-1"));
}
END_TEST

Suite *make_elab_suite(void) {
  Suite *s = suite_create("elab");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_lenet);
  tcase_add_test(tc, test_vgg_blocks);
  tcase_add_test(tc, test_defines_override);
  tcase_add_test(tc, test_resnet_names);
  tcase_add_test(tc, test_label_segments);
  tcase_add_test(tc, test_values);
  tcase_add_test(tc, test_dag_ops);
  tcase_add_test(tc, test_several_nets);
  tcase_add_test(tc, test_warnings);
  tcase_add_test(tc, test_value_blocks_take_no_index);
  tcase_add_test(tc, test_imports);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("errors");
  tcase_add_test(te, test_errors_with_backtrace);
  tcase_add_test(te, test_errors_semantic);
  suite_add_tcase(s, te);
  TCase *tl = tcase_create("limits");
  tcase_set_timeout(tl, 60);
  tcase_add_test(tl, test_limits);
  suite_add_tcase(s, tl);
  return s;
}
