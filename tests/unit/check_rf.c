// check_rf.c -- receptive field (rf.c) on hand-built graphs.
//
// Expected values are worked out by hand from the recurrence in rf.c's
// header (r' = r + (ke-1)*j, j' = j*s, start' = start + ((ke-1)/2 - p)*j).
#include <check.h>

#include "graphs.h"
#include "testutil.h"

#define TOL 1e-9

// Both axes of l have field (size, jump, start) and are not global.
static void expect_rf(Layer *l, double size, double jump, double start) {
  for (int a = 0; a < 2; a++) {
    ck_assert_msg(!l->rf[a].global, "layer %d axis %d is global", l->id, a);
    ck_assert_double_eq_tol(l->rf[a].size, size, TOL);
    ck_assert_double_eq_tol(l->rf[a].jump, jump, TOL);
    ck_assert_double_eq_tol(l->rf[a].start, start, TOL);
  }
}

static void expect_axis(Layer *l, int a, double size, double jump, double start, bool global) {
  ck_assert_int_eq(l->rf[a].global, global);
  ck_assert_double_eq_tol(l->rf[a].size, size, TOL);
  ck_assert_double_eq_tol(l->rf[a].jump, jump, TOL);
  ck_assert_double_eq_tol(l->rf[a].start, start, TOL);
}

static void expect_global(Layer *l, double extent_h, double extent_w) {
  expect_axis(l, 0, extent_h, extent_h, (extent_h - 1) / 2, true);
  expect_axis(l, 1, extent_w, extent_w, (extent_w - 1) / 2, true);
}

// The seed's LeNet: conv5 p2 -> r5; pool 2/2 -> r6 j2; conv5 -> r14 j2;
// pool -> r16 j4; then flatten and the linears see all 28x28.
START_TEST(test_lenet) {
  Graph *g = tb_lenet();
  fill_rf(g);
  Layer **L = g->layers;
  expect_rf(L[0], 1, 1, 0);    // input
  expect_rf(L[1], 5, 1, 0);    // conv 5x5 p2: start 0 + (2 - 2)*1
  expect_rf(L[2], 5, 1, 0);    // sigmoid
  expect_rf(L[3], 6, 2, 0.5);  // avgpool 2/2: start 0 + (0.5 - 0)*1
  expect_rf(L[4], 14, 2, 4.5); // conv 5x5: 6 + 4*2; start 0.5 + 2*2
  expect_rf(L[5], 14, 2, 4.5);
  expect_rf(L[6], 16, 4, 5.5); // avgpool: 14 + 1*2; start 4.5 + 0.5*2
  for (int i = 7; i < g->nlayers; i++)
    expect_global(L[i], 28, 28);
  verify_graph(g);
}
END_TEST

// 3x3, stride 2, dilation 2, pad 2: ke = 5 -> r 5, j 2, start (2-2)*1 = 0;
// then 3x3 pad 1: r 5 + 2*2 = 9, start 0 + (1-1)*2 = 0.
START_TEST(test_dilated_strided) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 3, 32, 32);
  Layer *c1 = tb_conv(b, x, 8, 3, 2, 2, 2, 1, true);
  Layer *c2 = tb_conv(b, c1, 8, 3, 1, 1, 1, 1, true);
  Layer *c3 = tb_conv(b, c2, 8, 3, 2, 0, 1, 1, true); // r 9 + 2*2 = 13, j 4, start 0 + 1*2 = 2
  tb_output(b, c3);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_rf(c1, 5, 2, 0);
  expect_rf(c2, 9, 2, 0);
  expect_rf(c3, 13, 4, 2);
}
END_TEST

// ResNet stem: conv 7/2 p3 -> r 7, j 2, start 0; maxpool 3/2 p1 ->
// r 7 + 2*2 = 11, j 4, start 0 + (1-1)*2 = 0.
START_TEST(test_resnet_stem) {
  Graph *g = tb_resnet50();
  fill_rf(g);
  expect_rf(g->layers[1], 7, 2, 0);
  expect_rf(g->layers[3], 7, 2, 0); // bn, relu keep it
  expect_rf(g->layers[4], 11, 4, 0);
  // the head: adaptive 7 -> 1 is global, and so is everything after it
  Layer *fc = g->layers[g->nlayers - 1];
  expect_global(fc, 224, 224);
  expect_global(g->layers[g->nlayers - 3], 224, 224);
  // ResNet-50's last block sees 427 pixels at jump 32 (the published figure).
  expect_rf(g->layers[g->nlayers - 4], 427, 32, 0);
}
END_TEST

// conv 3/2 p1 (r 3, j 2, start 0), then convT k2 s2 p0: j 2/2 = 1,
// r 3 + (ceil(2/2)-1)*2 = 3, start 0 + (0 - 0.5)/2*2 = -0.5.
// Directly on the input, convT k3 s2 p1: j 0.5, r 1 + (2-1)*1 = 2,
// start 0 + (1 - 1)/2 = 0.
START_TEST(test_transposed) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 4, 16, 16);
  Layer *down = tb_conv(b, x, 8, 3, 2, 1, 1, 1, true);
  Layer *up = tb_convt(b, down, 4, 2, 2, 0, true);
  Layer *up2 = tb_convt(b, x, 4, 3, 2, 1, true);
  Layer *up3 = tb_convt(b, up2, 4, 3, 2, 0, true); // j 0.25, r 2 + (2-1)*0.5, start 0 + (0-1)/2*0.5
  tb_output(b, up);
  tb_output(b, up3);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_rf(down, 3, 2, 0);
  expect_rf(up, 3, 1, -0.5);
  expect_rf(up2, 2, 0.5, 0);
  expect_rf(up3, 2.5, 0.25, -0.25);
}
END_TEST

// 1x7 kernel, pad (0, 3): the axes are independent.
START_TEST(test_axes_independent) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 3, 20, 30);
  Layer *c = tb_conv_hw(b, x, 4, 1, 7, 0, 3);
  Layer *p = tb_pool(b, OP_MAXPOOL2D, c, 2, 2, 0);
  tb_output(b, p);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_axis(c, 0, 1, 1, 0, false);
  expect_axis(c, 1, 7, 1, 0, false);
  expect_axis(p, 0, 2, 2, 0.5, false);
  expect_axis(p, 1, 8, 2, 0.5, false);
}
END_TEST

// Joins take the input with the largest field; a skip of r 1 loses to a
// branch of r 5.
START_TEST(test_join) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c1 = tb_conv(b, x, 8, 3, 1, 1, 1, 1, true);
  Layer *c2 = tb_conv(b, c1, 8, 3, 1, 1, 1, 1, true);
  Layer *sum = tb_binary(b, OP_ADD, x, c2);
  Layer *cat_in[3] = {x, c1, sum};
  Layer *cat = tb_concat(b, cat_in, 3);
  tb_output(b, cat);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_rf(c2, 5, 1, 0);
  expect_rf(sum, 5, 1, 0);
  expect_rf(cat, 5, 1, 0);
}
END_TEST

// pad shifts start by left*j (top*j on H): conv 3/2 p0 has start 1, j 2;
// pad left 1, top 2 -> start W 1 - 2 = -1, H 1 - 4 = -3.
START_TEST(test_pad) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 1, 9, 9);
  Layer *c = tb_conv(b, x, 1, 3, 2, 0, 1, 1, true);
  Layer *p = tb_pad(b, c, 1, 0, 2, 0);
  tb_output(b, p);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_rf(c, 3, 2, 1);
  expect_axis(p, 0, 3, 2, -3, false);
  expect_axis(p, 1, 3, 2, -1, false);
}
END_TEST

// adaptive 8 -> 4 is a 2/2 pool; 7 -> 3 has windows [0,3) [2,5) [4,7):
// r 3 (largest), j 7/3, start 1 (centre of window 0); -> 1 is global.
START_TEST(test_adaptive) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 2, 8, 7);
  Layer *a = tb_adaptive(b, x, 4, 3);
  Layer *one = tb_adaptive(b, x, 1, 1);
  Layer *half = tb_adaptive(b, x, 1, 7); // H global, W 7 -> 7 unchanged
  tb_output(b, a);
  tb_output(b, one);
  tb_output(b, half);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_axis(a, 0, 2, 2, 0.5, false);
  expect_axis(a, 1, 3, 7.0 / 3, 1, false);
  expect_global(one, 8, 7);
  expect_axis(half, 0, 8, 8, 3.5, true);
  expect_axis(half, 1, 1, 1, 0, false);
}
END_TEST

// Once global, always global: a 1x1 conv after global pooling.
START_TEST(test_global_sticks) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 16, 10, 12);
  Layer *gp = tb_gap(b, x);
  Layer *c = tb_conv(b, gp, 4, 1, 1, 0, 1, 1, true);
  Layer *r = tb_unary(b, OP_RELU, c);
  tb_output(b, r);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_global(gp, 10, 12);
  expect_global(c, 10, 12);
  expect_global(r, 10, 12);
}
END_TEST

// Reductions over a spatial axis make that axis global: softmax over W, a
// linear on a rank-4 tensor (it mixes the last dim, W), layernorm over C,H,W.
START_TEST(test_spatial_reductions) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 4, 6, 6);
  Layer *c = tb_conv(b, x, 4, 3, 1, 1, 1, 1, true);
  Layer *sm = tb_softmax(b, c, 3);
  Layer *sm1 = tb_softmax(b, c, 1);
  Layer *lin = tb_linear(b, c, 5, true);
  Layer *ln = tb_layernorm(b, c, true);
  tb_output(b, sm);
  tb_output(b, sm1);
  tb_output(b, lin);
  tb_output(b, ln);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_axis(sm, 0, 3, 1, 0, false);
  expect_axis(sm, 1, 6, 6, 2.5, true);
  expect_rf(sm1, 3, 1, 0);
  expect_axis(lin, 0, 3, 1, 0, false);
  expect_axis(lin, 1, 6, 6, 2.5, true);
  expect_global(ln, 6, 6);
}
END_TEST

// An MLP has no spatial axes: everything is global over an extent of 1.
// Shape ops keep H and W while they stay the last two dims (a channel
// shuffle); NHWC moves them and the field is global from there; a narrow
// along H moves the start by start*j; a mean over H and W is global.
START_TEST(test_tensor_ops) {
  Graph *g = tu_compile("net n(x: [1, 4, 16, 16]) {\n"
                        "  a = x -> @a conv2d(4, 3, stride=2, padding=1);\n"             // r 3, j 2, start 0
                        "  s = a -> view((1, 2, 2, 8, 8)) -> @t transpose(1, 2) -> @s view((1, 4, 8, 8));\n"
                        "  h = s -> @h narrow(2, 3, 4);\n"                                // rows 3..6: start 6
                        "  p = s -> @p permute((0, 2, 3, 1));\n"
                        "  m = s -> @m mean(3, keepdim=true);\n"
                        "  return h, p, m;\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  expect_rf(tu_layer(g, "a"), 3, 2, 0);
  expect_rf(tu_layer(g, "t"), 3, 2, 0);
  expect_rf(tu_layer(g, "s"), 3, 2, 0);
  Layer *h = tu_layer(g, "h");
  expect_axis(h, 0, 3, 2, 6, false);
  expect_axis(h, 1, 3, 2, 0, false);
  // NHWC: H and W move to dims 1 and 2, their fields unchanged.
  Layer *p = tu_layer(g, "p");
  expect_rf(p, 3, 2, 0);
  ck_assert_int_eq(p->rf[0].dim, 1);
  ck_assert_int_eq(p->rf[1].dim, 2);
  Layer *m = tu_layer(g, "m");
  expect_axis(m, 0, 3, 2, 0, false);
  expect_axis(m, 1, 16, 16, 7.5, true);
}
END_TEST

// ConvNeXt's block: NHWC, layer norm and linear over channels, back to NCHW:
// local throughout; a declared layer_scale keeps the field of what it scales.
// A linear over W (NCHW's last dim) or a reshape merging H and W (ViT's
// sequence) makes the axes it touches global; a constant is 'const'.
START_TEST(test_axes_followed) {
  Graph *g = tu_compile("net n(x: [1, 4, 16, 16]) {\n"
                        "  param gamma: [4, 1, 1];\n"
                        "  c = x -> @c conv2d(4, 7, padding=3, groups=4);\n"
                        "  y = c -> permute((0, 2, 3, 1)) -> @ln layernorm(normalized_shape=4)\n"
                        "        -> @fc linear(16) -> @fc2 linear(4) -> @back permute((0, 3, 1, 2));\n"
                        "  z = gamma * y + x;\n"
                        "  w = z -> @k conv2d(4, 3, padding=1) -> @lw linear(16);\n"
                        "  v = z -> @seq reshape([1, 4, 256]);\n"
                        "  t = gamma -> @t transpose(0, 1);\n"
                        "  return w, v, t;\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  expect_rf(tu_layer(g, "ln"), 7, 1, 0);
  expect_rf(tu_layer(g, "fc2"), 7, 1, 0);
  Layer *back = tu_layer(g, "back");
  expect_rf(back, 7, 1, 0);
  ck_assert_int_eq(back->rf[0].dim, 2);
  ck_assert_int_eq(back->rf[1].dim, 3);
  expect_rf(tu_layer(g, "add"), 7, 1, 0);        // gamma * y + x: y's field
  expect_rf(tu_layer(g, "k"), 9, 1, 0);
  Layer *lw = tu_layer(g, "lw");
  expect_axis(lw, 0, 9, 1, 0, false);            // H untouched
  expect_axis(lw, 1, 16, 16, 7.5, true);         // W mixed
  expect_global(tu_layer(g, "seq"), 16, 16);
  Layer *gm = tu_layer(g, "gamma"), *t = tu_layer(g, "t");
  ck_assert(gm->rf[0].constant && gm->rf[1].constant && t->rf[0].constant && !t->rf[0].global);
  verify_graph(g);
}
END_TEST

// A 1-D signal [N, C, L]: L is the W axis, with the 2-D rules along it; H is
// one pixel, global from the start.
START_TEST(test_one_d) {
  Graph *g = tu_compile("net n(x: [1, 2, 100]) {\n"
                        "  return x -> @c conv1d(4, 5, stride=2, padding=2) -> @p maxpool1d(3)\n"
                        "           -> @a adaptive_avgpool1d(1);\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  Layer *c = tu_layer(g, "c"), *p = tu_layer(g, "p");
  expect_axis(c, 0, 1, 1, 0, true);
  expect_axis(c, 1, 5, 2, 0, false);       // start: (5 - 1) / 2 - 2 = 0
  expect_axis(p, 1, 9, 6, 2, false);       // r 5 + 2 * 2, j 2 * 3, start 0 + 1 * 2
  expect_axis(tu_layer(g, "a"), 1, 100, 100, 49.5, true);
  verify_graph(g);
}
END_TEST

START_TEST(test_mlp) {
  Builder *b = tb_new("t");
  Layer *x = tb_input2(b, "x", 1, 784);
  Layer *h = tb_linear(b, x, 32, true);
  tb_output(b, h);
  Graph *g = tb_finish(b);
  fill_rf(g);
  expect_global(x, 1, 1);
  expect_global(h, 1, 1);
  verify_graph(g);
}
END_TEST

Suite *make_rf_suite(void) {
  Suite *s = suite_create("rf");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_lenet);
  tcase_add_test(tc, test_dilated_strided);
  tcase_add_test(tc, test_resnet_stem);
  tcase_add_test(tc, test_transposed);
  tcase_add_test(tc, test_axes_independent);
  tcase_add_test(tc, test_join);
  tcase_add_test(tc, test_pad);
  suite_add_tcase(s, tc);
  tc = tcase_create("global");
  tcase_add_test(tc, test_adaptive);
  tcase_add_test(tc, test_global_sticks);
  tcase_add_test(tc, test_spatial_reductions);
  tcase_add_test(tc, test_mlp);
  tcase_add_test(tc, test_tensor_ops);
  tcase_add_test(tc, test_axes_followed);
  tcase_add_test(tc, test_one_d);
  suite_add_tcase(s, tc);
  return s;
}
