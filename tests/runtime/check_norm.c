// check_norm.c -- batch norm, layer norm, batch-norm folding, softmax.

#include "testutil.h"

#include <math.h>
#include <string.h>

//
// Batch norm
//

// x = [1 2], mean 1, var 4, eps 0, gamma 2, beta 1:
//   (1 - 1) / 2 * 2 + 1 = 1,  (2 - 1) / 2 * 2 + 1 = 2.
START_TEST(test_batchnorm_hand) {
  const float x[2] = {1, 2}, mean[1] = {1}, var[1] = {4}, gamma[1] = {2}, beta[1] = {1};
  float y[2];
  netc_batchnorm2d_f32(1, 1, 2, mean, var, gamma, beta, 0.0f, x, y);
  ck_assert_float_eq(y[0], 1);
  ck_assert_float_eq(y[1], 2);
  netc_ref_batchnorm2d_f32(1, 1, 2, mean, var, gamma, beta, 0.0f, x, y);
  ck_assert_float_eq(y[0], 1);
  ck_assert_float_eq(y[1], 2);
  // affine=False: (2 - 1) / 2 = 0.5.
  netc_batchnorm2d_f32(1, 1, 2, mean, var, NULL, NULL, 0.0f, x, y);
  ck_assert_float_eq(y[1], 0.5f);
}
END_TEST

static const int64_t bn_shapes[][3] = {{2, 5, 53}, {1, 1, 1}, {2, 16, 3001}};

START_TEST(test_batchnorm_vs_ref) {
  const int64_t n = bn_shapes[_i][0], c = bn_shapes[_i][1], hw = bn_shapes[_i][2];
  float *x = tu_random(n * c * hw, 50), *mean = tu_random(c, 51), *var = tu_random(c, 52);
  float *gamma = tu_random(c, 53), *beta = tu_random(c, 54);
  for (int64_t i = 0; i < c; i++)
    var[i] = var[i] * var[i] + 0.1f;
  float *y = tu_alloc(n * c * hw, 0), *r = tu_alloc(n * c * hw, 0);
  netc_batchnorm2d_f32(n, c, hw, mean, var, gamma, beta, 1e-5f, x, y);
  netc_ref_batchnorm2d_f32(n, c, hw, mean, var, gamma, beta, 1e-5f, x, r);
  tu_assert_close("batchnorm2d", y, r, n * c * hw, 1e-5);
  netc_batchnorm2d_f32(n, c, hw, mean, var, gamma, beta, 1e-5f, x, x);  // in place
  tu_assert_close("batchnorm2d in place", x, r, n * c * hw, 1e-5);
  tu_free(x);
  tu_free(mean);
  tu_free(var);
  tu_free(gamma);
  tu_free(beta);
  tu_free(y);
  tu_free(r);
}
END_TEST

// Folding: conv then BN equals the conv with folded weights and bias.
START_TEST(test_batchnorm_fold) {
  netc_conv2d_params p;
  memset(&p, 0, sizeof p);
  p.n = 1;
  p.in_c = 3;
  p.in_h = 9;
  p.in_w = 8;
  p.out_c = 6;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 1;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.dilation_h = p.dilation_w = 1;
  p.groups = 1;
  p.out_h = 9;
  p.out_w = 8;
  const int64_t per_out = 3 * 9, yn = 6 * 9 * 8;
  float *x = tu_random(3 * 9 * 8, 60), *w = tu_random(6 * per_out, 61), *b = tu_random(6, 62);
  float *mean = tu_random(6, 63), *var = tu_random(6, 64), *gamma = tu_random(6, 65);
  float *beta = tu_random(6, 66);
  for (int i = 0; i < 6; i++)
    var[i] = var[i] * var[i] + 0.05f;
  float *want = tu_alloc(yn, 0), *got = tu_alloc(yn, 0);
  float *wf = tu_alloc(6 * per_out, 0), *bf = tu_alloc(6, 0);

  netc_ref_conv2d_f32(&p, x, w, b, want);
  netc_ref_batchnorm2d_f32(1, 6, 72, mean, var, gamma, beta, 1e-5f, want, want);
  netc_batchnorm_fold_f32(6, per_out, w, b, mean, var, gamma, beta, 1e-5f, wf, bf);
  netc_ref_conv2d_f32(&p, x, wf, bf, got);
  tu_assert_close("conv + bn vs folded conv", got, want, yn, 1e-5);

  // No conv bias, and folding in place.
  netc_ref_conv2d_f32(&p, x, w, NULL, want);
  netc_ref_batchnorm2d_f32(1, 6, 72, mean, var, gamma, beta, 1e-5f, want, want);
  netc_batchnorm_fold_f32(6, per_out, w, NULL, mean, var, gamma, beta, 1e-5f, w, bf);
  netc_ref_conv2d_f32(&p, x, w, bf, got);
  tu_assert_close("bias-free conv + bn vs folded conv", got, want, yn, 1e-5);

  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(mean);
  tu_free(var);
  tu_free(gamma);
  tu_free(beta);
  tu_free(want);
  tu_free(got);
  tu_free(wf);
  tu_free(bf);
}
END_TEST

//
// Layer norm
//

// [1 2 3 4]: mean 2.5, biased variance 1.25, eps 0:
//   (x - 2.5) / sqrt(1.25) = [-1.3416408, -0.4472136, 0.4472136, 1.3416408]
START_TEST(test_layernorm_hand) {
  const float x[4] = {1, 2, 3, 4};
  const float want[4] = {-1.3416407865f, -0.4472135955f, 0.4472135955f, 1.3416407865f};
  float y[4];
  netc_layernorm_f32(1, 4, NULL, NULL, 0.0f, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-6);
  netc_ref_layernorm_f32(1, 4, NULL, NULL, 0.0f, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-6);
  const float gamma[4] = {1, 2, 3, 4}, beta[4] = {0, 0, 0, 1};
  netc_layernorm_f32(1, 4, gamma, beta, 0.0f, x, y);
  ck_assert_float_eq_tol(y[3], 4 * want[3] + 1, 1e-5);
}
END_TEST

START_TEST(test_layernorm_vs_ref) {
  const int64_t shapes[][2] = {{1, 1}, {3, 7}, {5, 768}, {2, 1001}, {40, 2000}};
  for (int s = 0; s < 5; s++) {
    const int64_t outer = shapes[s][0], inner = shapes[s][1];
    float *x = tu_random(outer * inner, 70 + (uint32_t)s);
    float *g = tu_random(inner, 71), *b = tu_random(inner, 72);
    float *y = tu_alloc(outer * inner, 0), *r = tu_alloc(outer * inner, 0);
    for (int64_t i = 0; i < outer * inner; i++)
      x[i] = x[i] * 3.0f + 10.0f;  // an offset mean
    netc_layernorm_f32(outer, inner, g, b, 1e-5f, x, y);
    netc_ref_layernorm_f32(outer, inner, g, b, 1e-5f, x, r);
    tu_assert_close("layernorm", y, r, outer * inner, 1e-5);
    netc_ref_layernorm_f32(outer, inner, NULL, NULL, 1e-5f, x, r);
    netc_layernorm_f32(outer, inner, NULL, NULL, 1e-5f, x, x);  // in place
    tu_assert_close("layernorm in place", x, r, outer * inner, 1e-5);
    tu_free(x);
    tu_free(g);
    tu_free(b);
    tu_free(y);
    tu_free(r);
  }
}
END_TEST

//
// Softmax
//

START_TEST(test_softmax_hand) {
  const float x[3] = {1, 2, 3};
  const float want[3] = {0.09003057317038046f, 0.24472847105479767f, 0.6652409557748219f};
  float y[3];
  netc_softmax_f32(1, 3, 1, x, y);
  for (int i = 0; i < 3; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-7);
  netc_ref_softmax_f32(1, 3, 1, x, y);
  for (int i = 0; i < 3; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-7);
  // Stable for large inputs: softmax(1000, 1001) = softmax(0, 1).
  const float big[2] = {1000, 1001};
  netc_softmax_f32(1, 2, 1, big, y);
  ck_assert_float_eq_tol(y[0], 0.2689414213699951f, 1e-7);
  ck_assert_float_eq_tol(y[1], 1 - 0.2689414213699951f, 1e-7);
  // Over dim 0 of a [3, 2] tensor (inner = 2): columns are independent.
  const float cols[6] = {1, 5, 2, 5, 3, 5};
  float yc[6];
  netc_softmax_f32(1, 3, 2, cols, yc);
  ck_assert_float_eq_tol(yc[4], want[2], 1e-7);
  ck_assert_float_eq_tol(yc[1], 1.0f / 3, 1e-7);
}
END_TEST

START_TEST(test_softmax_nan) {
  const float x[20] = {1, 2, NAN, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  float y[20], r[20];
  netc_softmax_f32(1, 20, 1, x, y);
  netc_ref_softmax_f32(1, 20, 1, x, r);
  for (int i = 0; i < 20; i++) {
    ck_assert(isnan(y[i]));
    ck_assert(isnan(r[i]));
  }
}
END_TEST

START_TEST(test_softmax_vs_ref) {
  const int64_t shapes[][3] = {{1, 1, 1}, {1, 1000, 1}, {7, 33, 1}, {2, 5, 49},
                               {3, 17, 100}, {1, 2, 130}, {4, 1, 9}, {20, 1000, 1}, {2, 10, 5000}};
  for (int s = 0; s < 9; s++) {
    const int64_t o = shapes[s][0], d = shapes[s][1], in = shapes[s][2], n = o * d * in;
    float *x = tu_random(n, 80 + (uint32_t)s), *y = tu_alloc(n, 0), *r = tu_alloc(n, 0);
    for (int64_t i = 0; i < n; i++)
      x[i] *= 20.0f;
    netc_softmax_f32(o, d, in, x, y);
    netc_ref_softmax_f32(o, d, in, x, r);
    tu_assert_close("softmax", y, r, n, 1e-6);
    netc_softmax_f32(o, d, in, x, x);  // in place
    tu_assert_close("softmax in place", x, r, n, 1e-6);
    tu_free(x);
    tu_free(y);
    tu_free(r);
  }
}
END_TEST

// torch.nn.functional.group_norm(arange(8).reshape(1, 4, 2), 2): each group is
// 0..3 (and 4..7): (v - 1.5) / sqrt(1.25 + 1e-5).
START_TEST(test_groupnorm_hand) {
  float x[8], y[8];
  const float want[4] = {-1.3416354656219482f, -0.4472118318080902f, 0.4472118318080902f, 1.3416354656219482f};
  for (int i = 0; i < 8; i++)
    x[i] = (float)i;
  netc_groupnorm_f32(1, 4, 2, 2, NULL, NULL, 1e-5f, x, y);
  for (int i = 0; i < 8; i++)
    ck_assert_float_eq_tol(y[i], want[i % 4], 1e-6);
  // gamma, beta per channel: channel 3 is scaled by 2 and shifted by 1.
  const float gamma[4] = {1, 1, 1, 2}, beta[4] = {0, 0, 0, 1};
  netc_groupnorm_f32(1, 4, 2, 2, gamma, beta, 1e-5f, x, y);
  ck_assert_float_eq_tol(y[6], 2 * want[2] + 1, 1e-6);
  ck_assert_float_eq_tol(y[1], want[1], 1e-6);
}
END_TEST

START_TEST(test_groupnorm_vs_ref) {
  static const int64_t shapes[][4] = {{2, 32, 49, 8}, {1, 6, 1, 3}, {3, 16, 100, 16}, {1, 64, 7, 1}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int64_t n = shapes[s][0], c = shapes[s][1], hw = shapes[s][2], g = shapes[s][3], total = n * c * hw;
    float *x = tu_random(total, 900u + (uint32_t)s), *y = tu_alloc(total, 1), *r = tu_alloc(total, 0);
    float *gamma = tu_random(c, 950u), *beta = tu_random(c, 960u);
    netc_groupnorm_f32(n, c, hw, g, gamma, beta, 1e-5f, x, y);
    netc_ref_groupnorm_f32(n, c, hw, g, gamma, beta, 1e-5f, x, r);
    tu_assert_close("groupnorm", y, r, total, 1e-5);
    netc_groupnorm_f32(n, c, hw, g, gamma, beta, 1e-5f, x, x); // in place
    ck_assert_mem_eq(x, y, (size_t)total * sizeof *x);
    tu_free(x);
    tu_free(y);
    tu_free(r);
    tu_free(gamma);
    tu_free(beta);
  }
}
END_TEST

Suite *make_norm_suite(void) {
  Suite *s = suite_create("norm");

  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, test_batchnorm_hand);
  tcase_add_test(tc, test_batchnorm_fold);
  tcase_add_test(tc, test_layernorm_hand);
  tcase_add_test(tc, test_groupnorm_hand);
  tcase_add_test(tc, test_softmax_hand);
  tcase_add_test(tc, test_softmax_nan);
  suite_add_tcase(s, tc);

  tc = tcase_create("fast");
  tcase_add_loop_test(tc, test_batchnorm_vs_ref, 0, (int)(sizeof bn_shapes / sizeof bn_shapes[0]));
  tcase_add_test(tc, test_layernorm_vs_ref);
  tcase_add_test(tc, test_groupnorm_vs_ref);
  tcase_add_test(tc, test_softmax_vs_ref);
  suite_add_tcase(s, tc);
  return s;
}
