// check_cost.c -- params, buffers, MACs, FLOPs and bytes (cost.c).
//
// The LeNet and ResNet-50 totals were computed independently (by hand and
// with a short Python transcription of the conventions in cost.c's header);
// ResNet-50's params and MACs are torchvision's published 25,557,032 and
// 4,089,184,256 (thop / ptflops "MACs" at 1x3x224x224).
#include <check.h>

#include "graphs.h"

static void expect_cost(Layer *l, int64_t params, int64_t macs, int64_t flops, int64_t bytes) {
  ck_assert_int_eq(l->params, params);
  ck_assert_int_eq(l->macs, macs);
  ck_assert_int_eq(l->flops, flops);
  ck_assert_int_eq(l->bytes, bytes);
}

START_TEST(test_lenet) {
  Graph *g = tb_lenet();
  fill_cost(g);
  Layer **L = g->layers;
  expect_cost(L[0], 0, 0, 0, 4 * 784);            // input: bytes only
  // conv 1->6 5x5 p2 on 28x28: 6*25+6 params; 6*28*28*25 MACs; +1 bias/out
  expect_cost(L[1], 156, 117600, 2 * 117600 + 4704, 4 * 4704);
  expect_cost(L[2], 0, 0, 4704, 4 * 4704);        // sigmoid: 1/elem
  expect_cost(L[3], 0, 0, 4 * 1176, 4 * 1176);    // avgpool 2x2: 4 per output
  expect_cost(L[4], 2416, 240000, 2 * 240000 + 1600, 4 * 1600); // 6*16*25+16; 16*10*10*6*25
  expect_cost(L[7], 0, 0, 0, 4 * 400);            // flatten: free
  expect_cost(L[8], 48120, 48000, 2 * 48000 + 120, 4 * 120);
  expect_cost(L[12], 850, 840, 2 * 840 + 10, 40);

  Totals *t = &g->totals;
  ck_assert_int_eq(t->params, 61706);
  ck_assert_int_eq(t->buffers, 0);
  ck_assert_int_eq(t->macs, 416520);
  ck_assert_int_eq(t->flops, 852370);
  ck_assert_int_eq(t->weight_bytes, 4 * 61706);
  ck_assert_int_eq(t->activation_bytes, 60008); // 15,002 floats, input excluded
  verify_graph(g);
}
END_TEST

START_TEST(test_resnet50) {
  Graph *g = tb_resnet50();
  fill_cost(g);
  Totals *t = &g->totals;
  ck_assert_int_eq(t->params, 25557032);
  ck_assert_int_eq(t->macs, 4089184256);
  ck_assert_int_eq(t->buffers, 53120); // 2 * 26,560 BatchNorm channels
  ck_assert_int_eq(t->flops, 8217431528);
  ck_assert_int_eq(t->weight_bytes, 4 * (25557032 + 53120));
  ck_assert_int_eq(t->activation_bytes, 150247328);

  // params come from the Weight list: its non-buffer numels add up to the total.
  int64_t params = 0;
  for (int i = 0; i < g->nweights; i++)
    if (!g->weights[i]->buffer)
      params += shape_numel(&g->weights[i]->shape);
  ck_assert_int_eq(params, t->params);
  verify_graph(g);
}
END_TEST

// BN: gamma and beta are params, running stats buffers, the counter nothing.
START_TEST(test_batchnorm) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 2, 16, 5, 5);
  Layer *bn = tb_bn(b, x);
  tb_output(b, bn);
  Graph *g = tb_finish(b);
  fill_cost(g);
  ck_assert_int_eq(bn->params, 32);
  ck_assert_int_eq(bn->buffers, 32);
  ck_assert_int_eq(bn->macs, 0);
  ck_assert_int_eq(bn->flops, 2 * 800);
  ck_assert_int_eq(g->totals.weight_bytes, 4 * 64);
}
END_TEST

// Depthwise 3x3 (groups = C) on [1,32,10,10], pad 1: MACs 32*10*10*(1*9),
// params 32*1*9 + 32. A 1x1 without bias has no bias FLOPs.
START_TEST(test_grouped_conv) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 32, 10, 10);
  Layer *dw = tb_conv(b, x, 32, 3, 1, 1, 1, 32, true);
  Layer *pw = tb_conv(b, dw, 64, 1, 1, 0, 1, 1, false);
  Layer *g4 = tb_conv(b, pw, 64, 3, 2, 1, 1, 4, true); // 5x5 out; 64*25*(16*9)
  tb_output(b, g4);
  Graph *g = tb_finish(b);
  fill_cost(g);
  expect_cost(dw, 320, 28800, 2 * 28800 + 3200, 4 * 3200);
  expect_cost(pw, 2048, 204800, 2 * 204800, 4 * 6400);
  expect_cost(g4, 64 * 16 * 9 + 64, 230400, 2 * 230400 + 1600, 4 * 1600);
}
END_TEST

// conv_transpose: every input pixel scatters (Cout/groups)*kh*kw:
// [1,8,4,4] -> 4 channels, k2 s2 -> 8*16*4*4 = 2048 MACs; weight [8,4,2,2].
START_TEST(test_transposed) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 4, 4);
  Layer *up = tb_convt(b, x, 4, 2, 2, 0, true);
  tb_output(b, up);
  Graph *g = tb_finish(b);
  fill_cost(g);
  ck_assert_int_eq(up->shape.d[2], 8);
  expect_cost(up, 8 * 4 * 2 * 2 + 4, 2048, 2 * 2048 + 256, 4 * 256);
}
END_TEST

// linear on a rank-3 tensor: (numel(out)/out) rows of in*out.
START_TEST(test_linear_rank3) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 5, 16, 1);
  x->shape.rank = 3;
  Layer *lin = tb_linear(b, x, 8, false);
  tb_output(b, lin);
  Graph *g = tb_finish(b);
  fill_cost(g);
  expect_cost(lin, 128, 5 * 16 * 8, 2 * 640, 4 * 40);
}
END_TEST

// The elementwise table: maxpool kh*kw-1, avgpool kh*kw per output, global
// pooling one per input element, layernorm 5 (+2 affine), softmax 3,
// add 1, concat / dropout / pad 0.
START_TEST(test_elementwise) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 4, 8, 8); // 256 elements
  Layer *mp = tb_pool(b, OP_MAXPOOL2D, x, 3, 1, 1);
  Layer *ap = tb_pool(b, OP_AVGPOOL2D, x, 2, 2, 0);
  Layer *gp = tb_gap(b, x);
  Layer *ad = tb_adaptive(b, x, 2, 2);
  Layer *ln = tb_layernorm(b, x, true);
  Layer *ln0 = tb_layernorm(b, x, false);
  Layer *sm = tb_softmax(b, x, 1);
  Layer *sum = tb_binary(b, OP_ADD, mp, x);
  Layer *cat_in[2] = {x, mp};
  Layer *cat = tb_concat(b, cat_in, 2);
  Layer *dr = tb_unary(b, OP_DROPOUT, cat);
  Layer *pd = tb_pad(b, x, 1, 1, 1, 1);
  Layer *outs[] = {ap, gp, ad, ln, ln0, sm, sum, dr, pd};
  for (int i = 0; i < 9; i++)
    tb_output(b, outs[i]);
  Graph *g = tb_finish(b);
  fill_cost(g);
  ck_assert_int_eq(mp->flops, 8 * 256);
  ck_assert_int_eq(ap->flops, 4 * 64);
  ck_assert_int_eq(gp->flops, 256);
  ck_assert_int_eq(ad->flops, 256);
  ck_assert_int_eq(ln->flops, 7 * 256);
  ck_assert_int_eq(ln->params, 2 * 256);
  ck_assert_int_eq(ln0->flops, 5 * 256);
  ck_assert_int_eq(ln0->params, 0);
  ck_assert_int_eq(sm->flops, 3 * 256);
  ck_assert_int_eq(sum->flops, 256);
  ck_assert_int_eq(cat->flops, 0);
  ck_assert_int_eq(cat->bytes, 4 * 512);
  ck_assert_int_eq(dr->flops, 0);
  ck_assert_int_eq(pd->flops, 0);
  ck_assert_int_eq(pd->bytes, 4 * 400);
  for (int i = 0; i < g->nlayers; i++)
    ck_assert_int_eq(g->layers[i]->macs, 0);
}
END_TEST

// Counts saturate instead of wrapping.
START_TEST(test_saturates) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 1 << 20, 1 << 20, 1 << 20);
  Layer *c = tb_conv(b, x, 1 << 20, 1, 1, 0, 1, 1, false);
  tb_output(b, c);
  Graph *g = tb_finish(b);
  fill_cost(g);
  ck_assert_int_eq(c->macs, INT64_MAX);
  ck_assert_int_eq(g->totals.macs, INT64_MAX);
  ck_assert_int_eq(g->totals.flops, INT64_MAX);
}
END_TEST

Suite *make_cost_suite(void) {
  Suite *s = suite_create("cost");
  TCase *tc = tcase_create("nets");
  tcase_add_test(tc, test_lenet);
  tcase_add_test(tc, test_resnet50);
  suite_add_tcase(s, tc);
  tc = tcase_create("ops");
  tcase_add_test(tc, test_batchnorm);
  tcase_add_test(tc, test_grouped_conv);
  tcase_add_test(tc, test_transposed);
  tcase_add_test(tc, test_linear_rank3);
  tcase_add_test(tc, test_elementwise);
  suite_add_tcase(s, tc);
  tc = tcase_create("limits");
  tcase_add_test(tc, test_saturates);
  suite_add_tcase(s, tc);
  return s;
}
