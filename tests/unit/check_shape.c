// check_shape.c -- output-size formulas against values worked out by hand
// from PyTorch's documented formulas and the seed's printed tables.
#include "testutil.h"

START_TEST(test_conv_sizes) {
  // AlexNet (seed): Conv2d(1, 96, 11, stride=4, padding=1) on 224 -> 54.
  ck_assert_int_eq(netc_conv2d_out_size(224, 11, 4, 1, 1, 1), 54);
  // MaxPool2d(3, stride=2) on 54 -> 26, on 26 -> 12, on 12 -> 5.
  ck_assert_int_eq(netc_conv2d_out_size(54, 3, 2, 0, 0, 1), 26);
  ck_assert_int_eq(netc_conv2d_out_size(26, 3, 2, 0, 0, 1), 12);
  ck_assert_int_eq(netc_conv2d_out_size(12, 3, 2, 0, 0, 1), 5);
  // The seed's MaxPool2d(kernel_size=3, padding=1) on a 4x4 input -> 2x2.
  ck_assert_int_eq(netc_conv2d_out_size(4, 3, 3, 1, 1, 1), 2);
  // ResNet stem: 7x7/2 p3 on 224 -> 112; dilation 2, 3x3, p2 keeps 56.
  ck_assert_int_eq(netc_conv2d_out_size(224, 7, 2, 3, 3, 1), 112);
  ck_assert_int_eq(netc_conv2d_out_size(56, 3, 1, 2, 2, 2), 56);
  // Asymmetric padding (0 top, 1 bottom), 3x3/2 on 112 -> 56.
  ck_assert_int_eq(netc_conv2d_out_size(112, 3, 2, 0, 1, 1), 56);
  // A kernel larger than the input: floor((5 - 6 - 1)/1) + 1 = -1.
  ck_assert_int_eq(netc_conv2d_out_size(5, 7, 1, 0, 0, 1), -1);
}
END_TEST

START_TEST(test_ceil_mode) {
  // GoogLeNet: MaxPool2d(3, 2, ceil_mode=True) on 112 -> 56 (floor mode: 55).
  ck_assert_int_eq(netc_pool2d_out_size(112, 3, 2, 0, 0, 1, 1), 56);
  ck_assert_int_eq(netc_conv2d_out_size(112, 3, 2, 0, 0, 1), 55);
  // The last window would start in the right padding: dropped. k2 s2 p1 on 5:
  // ceil((5+2-1-1)/2)+1 = 4, but (4-1)*2 = 6 >= 5+1, so 3.
  ck_assert_int_eq(netc_pool2d_out_size(5, 2, 2, 1, 1, 1, 1), 3);
  // Exact fit: ceil and floor agree.
  ck_assert_int_eq(netc_pool2d_out_size(8, 2, 2, 0, 0, 1, 1), 4);
}
END_TEST

START_TEST(test_convt_sizes) {
  // The seed's W' = (W-1)*S + K - 2P: 7 -> (6*2 + 4 - 2) = 14 for k4 s2 p1.
  ck_assert_int_eq(netc_conv_transpose2d_out_size(7, 4, 2, 1, 1, 0, 1), 14);
  // U-Net up-sampling: k2 s2 doubles.
  ck_assert_int_eq(netc_conv_transpose2d_out_size(16, 2, 2, 0, 0, 0, 1), 32);
  // output_padding 1 and dilation 2: 6*2 - 2 + 2*2 + 1 + 1 = 16.
  ck_assert_int_eq(netc_conv_transpose2d_out_size(7, 3, 2, 1, 1, 1, 2), 16);
}
END_TEST

START_TEST(test_shape_helpers) {
  Shape s = {4, {1, 64, 56, 56}};
  ck_assert_int_eq(shape_numel(&s), 200704);
  ck_assert_str_eq(shape_str(&s), "[1, 64, 56, 56]");
  Shape t = s;
  ck_assert(shape_eq(&s, &t));
  t.d[3] = 55;
  ck_assert(!shape_eq(&s, &t));
  Shape scalar = {0, {0}};
  ck_assert_int_eq(shape_numel(&scalar), 1);
  ck_assert_str_eq(shape_str(&scalar), "[]");
}
END_TEST

// Whole ops through the elaborator: the rule each op applies to its input.
static Shape out_of(const char *stage, const char *in) {
  Graph *g = tu_compile(format("net n(x: %s) { return x -> %s; }", in, stage));
  if (!g) {
    tu_dump();
    ck_abort_msg("did not compile: %s", stage);
  }
  return g->outputs[0]->shape;
}

#define CK_SHAPE(stage, in, want)                                                                               \
  do {                                                                                                                 \
    Shape s_ = out_of(stage, in);                                                                                      \
    ck_assert_str_eq(shape_str(&s_), want);                                                                            \
  } while (0)

START_TEST(test_op_rules) {
  CK_SHAPE("conv2d(8, 3, padding=1)", "[1, 3, 10, 12]", "[1, 8, 10, 12]");
  CK_SHAPE("conv2d(8, (3, 5), stride=(2, 1), padding=(1, 2))", "[2, 3, 10, 12]", "[2, 8, 5, 12]");
  CK_SHAPE("conv2d(8, 4, padding=\"same\")", "[1, 3, 9, 9]", "[1, 8, 9, 9]");
  CK_SHAPE("conv2d(6, 3, groups=3)", "[1, 3, 5, 5]", "[1, 6, 3, 3]");
  CK_SHAPE("conv_transpose2d(4, 3, stride=2, padding=1, output_padding=1)", "[1, 8, 7, 7]", "[1, 4, 14, 14]");
  CK_SHAPE("maxpool2d(2)", "[1, 3, 7, 7]", "[1, 3, 3, 3]");
  CK_SHAPE("maxpool2d(2, ceil_mode=true)", "[1, 3, 7, 7]", "[1, 3, 4, 4]");
  CK_SHAPE("avgpool2d(3, stride=2, padding=1)", "[1, 3, 8, 8]", "[1, 3, 4, 4]");
  CK_SHAPE("adaptive_avgpool2d((7, 5))", "[1, 3, 9, 9]", "[1, 3, 7, 5]");
  CK_SHAPE("global_avgpool2d", "[1, 3, 9, 9]", "[1, 3, 1, 1]");
  CK_SHAPE("flatten", "[2, 16, 5, 5]", "[2, 400]");
  CK_SHAPE("flatten(start_dim=2)", "[2, 16, 5, 5]", "[2, 16, 25]");
  CK_SHAPE("flatten(0, -2)", "[2, 16, 5, 5]", "[160, 5]");
  CK_SHAPE("linear(10)", "[1, 400]", "[1, 10]");
  CK_SHAPE("linear(10)", "[1, 7, 400]", "[1, 7, 10]");
  CK_SHAPE("pad(left=1, right=2, top=3)", "[1, 3, 4, 4]", "[1, 3, 7, 7]");
  CK_SHAPE("softmax(dim=-1)", "[1, 10]", "[1, 10]");
  CK_SHAPE("layernorm", "[1, 4, 3, 3]", "[1, 4, 3, 3]");
  CK_SHAPE("normalize(mean=(0.5, 0.5), std=(0.25, 0.25))", "[1, 2, 3, 3]", "[1, 2, 3, 3]");
  // The tensor ops, as torch.reshape / squeeze / unsqueeze / permute / transpose / narrow / mean.
  CK_SHAPE("reshape((3, -1))", "[1, 6, 2, 2]", "[3, 8]");
  CK_SHAPE("view(24)", "[1, 6, 2, 2]", "[24]");
  CK_SHAPE("squeeze", "[1, 6, 1, 2]", "[6, 2]");
  CK_SHAPE("squeeze(1)", "[1, 6, 1, 2]", "[1, 6, 1, 2]"); // size 6: unchanged, as PyTorch
  CK_SHAPE("squeeze(-2)", "[1, 6, 1, 2]", "[1, 6, 2]");
  CK_SHAPE("unsqueeze(-1)", "[1, 6]", "[1, 6, 1]");
  CK_SHAPE("unsqueeze(1)", "[1, 6]", "[1, 1, 6]");
  CK_SHAPE("permute((0, 2, 3, 1))", "[1, 6, 5, 4]", "[1, 5, 4, 6]");
  CK_SHAPE("transpose(-1, 1)", "[1, 6, 5, 4]", "[1, 4, 5, 6]");
  CK_SHAPE("narrow(-1, -3, 2)", "[1, 6, 5, 4]", "[1, 6, 5, 2]");
  CK_SHAPE("mean((2, 3))", "[1, 6, 5, 4]", "[1, 6]");
  CK_SHAPE("sum(1, keepdim=true)", "[1, 6, 5, 4]", "[1, 1, 5, 4]");
  CK_SHAPE("amax((-1, 0))", "[2, 6, 5, 4]", "[6, 5]");
  CK_SHAPE("log_softmax(1)", "[2, 6]", "[2, 6]");
}
END_TEST

// chunk and split give the pieces torch.chunk and torch.split give.
START_TEST(test_chunk_split) {
  const struct {
    const char *call, *sizes;
  } cases[] = {
      {"chunk(x, 4, dim=1)", "2 2 1"},       // torch.chunk: ceil(5/4) = 2 each, so 3 pieces
      {"chunk(x, 5, dim=1)", "1 1 1 1 1"},
      {"chunk(x, 2, 1)", "3 2"},
      {"chunk(x, 9, dim=1)", "1 1 1 1 1"},   // more chunks than elements
      {"split(x, 2, dim=1)", "2 2 1"},
      {"split(x, (1, 4), dim=-3)", "1 4"},
      {"split(x, 7, dim=1)", "5"},
      {"x -> chunk(3, dim=3)", "1 1 1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    Graph *g = tu_compile(format("net n(x: [2, 5, 4, 3]) {\n  return %s;\n}\n", cases[i].call));
    ck_assert_msg(g, "%s did not compile", cases[i].call);
    char *sizes = xstrdup("");
    const Layer *l0 = g->outputs[0];
    int dim = (int)l0->dims.v[0];
    for (int k = 0; k < g->noutputs; k++) {
      const Layer *l = g->outputs[k];
      ck_assert_int_eq(l->op, OP_NARROW);
      sizes = format("%s%s%lld", sizes, k ? " " : "", (long long)l->shape.d[dim]);
    }
    ck_assert_msg(strcmp(sizes, cases[i].sizes) == 0, "%s: pieces %s, PyTorch gives %s", cases[i].call, sizes,
                  cases[i].sizes);
  }
  // The pieces are named after the call, or its label.
  Graph *g = tu_compile("net n(x: [1, 4, 2, 2]) {\n  (a, b) = x -> @halves chunk(2, dim=1);\n  return b;\n}\n");
  ck_assert_ptr_nonnull(tu_layer(g, "halves.0"));
  ck_assert_ptr_nonnull(tu_layer(g, "halves.1"));
}
END_TEST

// add / sub / mul broadcast as NumPy does; a broadcasting add fuses into
// nothing (the fused kernels take same-shape operands), a plain one does.
START_TEST(test_broadcast) {
  const struct {
    const char *b, *want;
  } ok[] = {
      {"[1, 8, 1, 1]", "[2, 8, 6, 6]"}, {"[6]", "[2, 8, 6, 6]"},       {"[8, 1, 1]", "[2, 8, 6, 6]"},
      {"[2, 1, 6, 1]", "[2, 8, 6, 6]"}, {"[3, 2, 8, 6, 6]", "[3, 2, 8, 6, 6]"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    Graph *g = tu_compile(format("net n(x: [2, 8, 6, 6], y: %s) { return x * y; }", ok[i].b));
    ck_assert_msg(g, "x [2, 8, 6, 6] * y %s did not compile", ok[i].b);
    ck_assert_str_eq(shape_str(&g->outputs[0]->shape), ok[i].want);
  }
  ck_assert_ptr_null(tu_compile("net n(x: [2, 8, 6, 6], y: [1, 4, 1, 1]) {\n  return x + y;\n}"));
  ck_assert(tu_has_error(2, "'+': shapes [2, 8, 6, 6] and [1, 4, 1, 1] do not broadcast on dim 1 (8 vs 4)"));
  ck_assert_ptr_null(tu_compile("net n(x: [2, 8, 6, 6], y: [5]) {\n  return y - x;\n}"));
  ck_assert(tu_has_error(2, "'-': shapes [5] and [2, 8, 6, 6] do not broadcast on dim 3 (5 vs 6)"));
  Graph *g = tu_compile("net n(x: [1, 8, 6, 6]) {\n"
                        "  s = x -> global_avgpool2d -> @c1 conv2d(8, 1);\n"
                        "  y = x -> @c2 conv2d(8, 3, padding=1);\n"
                        "  return y * s + x -> relu;\n"
                        "}");
  ck_assert_ptr_nonnull(g);
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->op == OP_MUL) { // broadcasting: its own kernel, not c2's epilogue
      ck_assert_ptr_null(l->fused_into);
      ck_assert_str_eq(kernel_name(l), "broadcast");
    }
    if (l->op == OP_ADD) // same shapes: fused (into the mul's producer chain or with relu)
      ck_assert(l->fused_into || l->act);
  }
}
END_TEST

Suite *make_shape_suite(void) {
  Suite *s = suite_create("shape");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_conv_sizes);
  tcase_add_test(tc, test_ceil_mode);
  tcase_add_test(tc, test_convt_sizes);
  tcase_add_test(tc, test_shape_helpers);
  tcase_add_test(tc, test_op_rules);
  tcase_add_test(tc, test_broadcast);
  tcase_add_test(tc, test_chunk_split);
  suite_add_tcase(s, tc);
  return s;
}
