// check_pool.c -- max / avg / adaptive pooling: PyTorch's window rules by
// hand, the fast kernels against the references, output sizes.

#include "testutil.h"

#include <math.h>
#include <string.h>

static netc_pool2d_params pool_params(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh,
                                      int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl,
                                      int64_t pb, int64_t pr, int64_t dh, int64_t dw, int32_t ceil_mode,
                                      int32_t include_pad) {
  netc_pool2d_params p;
  memset(&p, 0, sizeof p);
  p.n = n;
  p.c = c;
  p.in_h = h;
  p.in_w = w;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_top = pt;
  p.pad_left = pl;
  p.pad_bottom = pb;
  p.pad_right = pr;
  p.dilation_h = dh;
  p.dilation_w = dw;
  p.ceil_mode = ceil_mode;
  p.count_include_pad = include_pad;
  p.out_h = netc_pool2d_out_size(h, kh, sh, pt, pb, dh, ceil_mode);
  p.out_w = netc_pool2d_out_size(w, kw, sw, pl, pr, dw, ceil_mode);
  return p;
}

static void ramp(float *x, int n) {
  for (int i = 0; i < n; i++)
    x[i] = (float)(i + 1);
}

//
// Hand-computed (x = 1..16 as 4x4, or 1..25 as 5x5)
//

START_TEST(test_pool_hand_2x2) {
  float x[16], y[4];
  ramp(x, 16);
  netc_pool2d_params p = pool_params(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1);
  const float max_want[4] = {6, 8, 14, 16}, avg_want[4] = {3.5f, 5.5f, 11.5f, 13.5f};
  netc_ref_maxpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], max_want[i]);
  netc_maxpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], max_want[i]);
  netc_ref_avgpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], avg_want[i]);
  netc_avgpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], avg_want[i]);
}
END_TEST

// 3x3, stride 2, padding 1 on the 4x4 ramp: 2x2 outputs whose windows are
//   (0,0) rows 0-1 x cols 0-1: 1+2+5+6 = 14              (4 inside, 9 padded)
//   (0,1) rows 0-1 x cols 1-3: 2+3+4+6+7+8 = 30          (6 inside, 9 padded)
//   (1,0) rows 1-3 x cols 0-1: 5+6+9+10+13+14 = 57       (6 inside, 9 padded)
//   (1,1) rows 1-3 x cols 1-3: 6+7+8+10+11+12+14+15+16 = 99 (9, 9)
START_TEST(test_avgpool_hand_count_include_pad) {
  float x[16], y[4];
  ramp(x, 16);
  const float incl[4] = {14.0f / 9, 30.0f / 9, 57.0f / 9, 11};
  const float excl[4] = {3.5f, 5, 9.5f, 11};
  netc_pool2d_params p = pool_params(1, 1, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1);
  ck_assert_int_eq(p.out_h, 2);
  netc_ref_avgpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(y[i], incl[i], 1e-6);
  netc_avgpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(y[i], incl[i], 1e-6);
  p.count_include_pad = 0;
  netc_ref_avgpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(y[i], excl[i], 1e-6);
  netc_avgpool2d_f32(&p, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq_tol(y[i], excl[i], 1e-6);
  // Max ignores padding: 6, 8, 14, 16.
  netc_maxpool2d_f32(&p, x, y);
  ck_assert_float_eq(y[0], 6);
  ck_assert_float_eq(y[1], 8);
  ck_assert_float_eq(y[2], 14);
  ck_assert_float_eq(y[3], 16);
}
END_TEST

// ceil_mode, 2x2 stride 2 on the 5x5 ramp: 3x3 outputs; the last row and
// column of windows hang past the input and, with no padding, PyTorch's
// divisor counts only the taps inside (even with count_include_pad):
//   (0,2): x[0][4] + x[1][4] = 5 + 10 -> 7.5
//   (2,0): x[4][0] + x[4][1] = 21 + 22 -> 21.5
//   (2,2): x[4][4] = 25 -> 25
START_TEST(test_avgpool_hand_ceil_mode) {
  float x[25], y[9];
  ramp(x, 25);
  netc_pool2d_params p = pool_params(1, 1, 5, 5, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1);
  ck_assert_int_eq(p.out_h, 3);
  ck_assert_int_eq(p.out_w, 3);
  netc_avgpool2d_f32(&p, x, y);
  ck_assert_float_eq(y[0], 4);  // (1+2+6+7)/4
  ck_assert_float_eq(y[2], 7.5f);
  ck_assert_float_eq(y[6], 21.5f);
  ck_assert_float_eq(y[8], 25);
  float r[9];
  netc_ref_avgpool2d_f32(&p, x, r);
  for (int i = 0; i < 9; i++)
    ck_assert_float_eq(y[i], r[i]);
  netc_maxpool2d_f32(&p, x, y);
  ck_assert_float_eq(y[2], 10);
  ck_assert_float_eq(y[8], 25);
}
END_TEST

// Output sizes, PyTorch's pooling_output_shape.
START_TEST(test_pool_out_size) {
  ck_assert_int_eq(netc_pool2d_out_size(112, 3, 2, 1, 1, 1, 0), 56);   // ResNet max pool
  ck_assert_int_eq(netc_pool2d_out_size(112, 3, 2, 0, 0, 1, 0), 55);   // floor
  ck_assert_int_eq(netc_pool2d_out_size(112, 3, 2, 0, 0, 1, 1), 56);   // Caffe-like ceil
  ck_assert_int_eq(netc_pool2d_out_size(5, 2, 2, 0, 0, 1, 1), 3);
  // ceil gives 3 windows, but the third would start at 6 >= 5 + 1: dropped.
  ck_assert_int_eq(netc_pool2d_out_size(5, 3, 3, 1, 1, 1, 1), 2);
  ck_assert_int_eq(netc_pool2d_out_size(7, 3, 2, 0, 0, 2, 0), 2);      // dilation 2
  ck_assert_int_eq(netc_pool2d_out_size(1, 1, 1, 0, 0, 1, 0), 1);
}
END_TEST

START_TEST(test_pool_check_errors) {
  char err[200];
  netc_pool2d_params p = pool_params(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1);
  p.out_w = 3;
  ck_assert_int_eq(netc_pool2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "output is 2x2, params say 2x3");
  p = pool_params(1, 1, 2, 2, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1);
  ck_assert_int_eq(netc_pool2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "window does not fit");
}
END_TEST

// NaN wins a max-pool window (PyTorch), and -inf comes out of a window
// that only sees -inf.
START_TEST(test_maxpool_nan) {
  float x[4] = {1, NAN, 3, 2}, y[1], r[1];
  netc_pool2d_params p = pool_params(1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1);
  netc_maxpool2d_f32(&p, x, y);
  netc_ref_maxpool2d_f32(&p, x, r);
  ck_assert(isnan(y[0]));
  ck_assert(isnan(r[0]));
  x[1] = -INFINITY;
  x[0] = x[2] = x[3] = -INFINITY;
  netc_maxpool2d_f32(&p, x, y);
  ck_assert(isinf(y[0]) && y[0] < 0);
}
END_TEST

// NaN wins in the vectorised path too, wherever it sits in the window.
START_TEST(test_maxpool_nan_vector) {
  static const int64_t geo[][6] = {{2, 2, 2, 2, 0, 0}, {3, 3, 2, 2, 1, 1}, {3, 3, 1, 1, 1, 1}, {3, 2, 3, 3, 0, 1}};
  for (int g = 0; g < 4; g++) {
    netc_pool2d_params p = pool_params(1, 2, 12, 70, geo[g][0], geo[g][1], geo[g][2], geo[g][3], geo[g][4],
                                       geo[g][5], geo[g][4], geo[g][5], 1, 1, 0, 1);
    const int64_t xn = 2 * 12 * 70, yn = 2 * p.out_h * p.out_w;
    float *x = tu_random(xn, 900 + (uint32_t)g), *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
    for (int64_t i = 3; i < xn; i += 37)
      x[i] = NAN;
    netc_maxpool2d_f32(&p, x, y);
    netc_ref_maxpool2d_f32(&p, x, r);
    for (int64_t i = 0; i < yn; i++)
      ck_assert_msg(isnan(y[i]) ? isnan(r[i]) : y[i] == r[i], "geometry %d, element %lld: %g vs %g", g,
                    (long long)i, (double)y[i], (double)r[i]);
    tu_free(x);
    tu_free(y);
    tu_free(r);
  }
}
END_TEST

//
// Fast vs reference
//

typedef struct {
  int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  int32_t ceil_mode, include_pad;
} PoolCase;

static const PoolCase pool_cases[] = {
  {1, 3, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1},  // ResNet
  {2, 5, 13, 11, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1},    // ceil mode, odd
  {1, 4, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0},    // ceil + pad, exclude pad
  {1, 4, 14, 10, 3, 2, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},    // ceil drops a window
  {1, 2, 9, 9, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1},
  {1, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1},      // 1x1 input
  {1, 2, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1},      // 1x1 input, padded 3x3
  {1, 3, 7, 7, 7, 7, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1},      // global window
  {1, 3, 10, 12, 3, 5, 1, 2, 1, 2, 0, 2, 1, 1, 0, 1},    // asymmetric padding
  {1, 3, 10, 12, 3, 5, 1, 2, 1, 2, 0, 2, 1, 1, 1, 0},
  {1, 2, 17, 19, 5, 3, 3, 1, 2, 1, 2, 1, 1, 1, 1, 1},
  {1, 32, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1},  // big enough for threads
  {1, 3, 30, 224, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1},    // VGG: wide rows, 2x2 stride 2
  {1, 5, 54, 54, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1},     // AlexNet
  {1, 2, 23, 40, 4, 5, 3, 3, 1, 2, 1, 2, 1, 1, 1, 0},     // stride 3 (phases dealt one by one)
  {1, 2, 9, 10, 3, 3, 1, 1, 4, 5, 3, 6, 1, 1, 0, 1},      // padding wider than the kernel
  {1, 2, 4, 3000, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1},    // too wide for the fast path
  {1, 2, 5, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},      // stride 1, excluding padding
};

static void pool_compare(const PoolCase *c, int avg, uint32_t seed) {
  netc_pool2d_params p = pool_params(c->n, c->c, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->pt, c->pl,
                                     c->pb, c->pr, avg ? 1 : c->dh, avg ? 1 : c->dw, c->ceil_mode,
                                     c->include_pad);
  char err[200];
  ck_assert_msg(netc_pool2d_check(&p, err, sizeof err) == 0, "bad case: %s", err);
  const int64_t xn = p.n * p.c * p.in_h * p.in_w, yn = p.n * p.c * p.out_h * p.out_w;
  float *x = tu_random(xn, seed), *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
  if (avg) {
    netc_avgpool2d_f32(&p, x, y);
    netc_ref_avgpool2d_f32(&p, x, r);
  } else {
    netc_maxpool2d_f32(&p, x, y);
    netc_ref_maxpool2d_f32(&p, x, r);
  }
  tu_assert_close(avg ? "avgpool2d" : "maxpool2d", y, r, yn, 1e-6);
  tu_free(x);
  tu_free(y);
  tu_free(r);
}

START_TEST(test_maxpool_vs_ref) { pool_compare(&pool_cases[_i], 0, 500 + (uint32_t)_i); }
END_TEST

START_TEST(test_avgpool_vs_ref) { pool_compare(&pool_cases[_i], 1, 600 + (uint32_t)_i); }
END_TEST

// Max pool with dilation (avg pool has none in PyTorch).
START_TEST(test_maxpool_dilation_vs_ref) {
  const PoolCase cases[] = {
    {1, 3, 15, 16, 3, 3, 2, 2, 1, 1, 1, 1, 2, 2, 0, 1},
    {1, 3, 15, 16, 3, 2, 1, 2, 2, 1, 2, 1, 3, 2, 1, 1},
  };
  for (int i = 0; i < 2; i++)
    pool_compare(&cases[i], 0, 700 + (uint32_t)i);
}
END_TEST

//
// Adaptive average pooling
//

// 1..5 into 3 cells: windows [0,2), [1,4), [3,5) -> 1.5, 3, 4.5.
START_TEST(test_adaptive_hand) {
  const float x[5] = {1, 2, 3, 4, 5};
  float y[3];
  netc_adaptive_avgpool2d_f32(1, 1, 1, 5, 1, 3, x, y);
  ck_assert_float_eq(y[0], 1.5f);
  ck_assert_float_eq(y[1], 3.0f);
  ck_assert_float_eq(y[2], 4.5f);
  netc_ref_adaptive_avgpool2d_f32(1, 1, 1, 5, 1, 3, x, y);
  ck_assert_float_eq(y[1], 3.0f);
  // Global average of 1..16.
  float r[16];
  ramp(r, 16);
  netc_adaptive_avgpool2d_f32(1, 1, 4, 4, 1, 1, r, y);
  ck_assert_float_eq(y[0], 8.5f);
}
END_TEST

static const int64_t adaptive_cases[][4] = {
  {7, 7, 1, 1}, {10, 13, 4, 3}, {224, 224, 7, 7}, {5, 5, 5, 5}, {3, 4, 5, 7}, {1, 1, 1, 1}, {33, 17, 6, 6},
};

START_TEST(test_adaptive_vs_ref) {
  const int64_t *c = adaptive_cases[_i];
  const int64_t n = 2, ch = 3;
  float *x = tu_random(n * ch * c[0] * c[1], 800 + (uint32_t)_i);
  float *y = tu_alloc(n * ch * c[2] * c[3], 0), *r = tu_alloc(n * ch * c[2] * c[3], 0);
  netc_adaptive_avgpool2d_f32(n, ch, c[0], c[1], c[2], c[3], x, y);
  netc_ref_adaptive_avgpool2d_f32(n, ch, c[0], c[1], c[2], c[3], x, r);
  tu_assert_close("adaptive_avgpool2d", y, r, n * ch * c[2] * c[3], 1e-5);
  tu_free(x);
  tu_free(y);
  tu_free(r);
}
END_TEST

Suite *make_pool_suite(void) {
  Suite *s = suite_create("pool");

  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, test_pool_hand_2x2);
  tcase_add_test(tc, test_avgpool_hand_count_include_pad);
  tcase_add_test(tc, test_avgpool_hand_ceil_mode);
  tcase_add_test(tc, test_pool_out_size);
  tcase_add_test(tc, test_maxpool_nan);
  tcase_add_test(tc, test_maxpool_nan_vector);
  tcase_add_test(tc, test_adaptive_hand);
  suite_add_tcase(s, tc);

  tc = tcase_create("fast");
  int npool = (int)(sizeof pool_cases / sizeof pool_cases[0]);
  tcase_add_loop_test(tc, test_maxpool_vs_ref, 0, npool);
  tcase_add_loop_test(tc, test_avgpool_vs_ref, 0, npool);
  tcase_add_test(tc, test_maxpool_dilation_vs_ref);
  tcase_add_loop_test(tc, test_adaptive_vs_ref, 0,
                      (int)(sizeof adaptive_cases / sizeof adaptive_cases[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_pool_check_errors);
  suite_add_tcase(s, tc);
  return s;
}
