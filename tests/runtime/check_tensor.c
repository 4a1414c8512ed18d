// check_tensor.c -- permute, narrow, reductions (tensor.c), resizing (resize.c) and log_softmax.

#include "testutil.h"

#include <math.h>
#include <string.h>

//
// permute
//

// [[0 1 2] [3 4 5]] transposed is [[0 3] [1 4] [2 5]].
START_TEST(test_permute_hand) {
  const float x[6] = {0, 1, 2, 3, 4, 5};
  const float want[6] = {0, 3, 1, 4, 2, 5};
  const int64_t shape[2] = {2, 3};
  const int32_t perm[2] = {1, 0};
  float y[6];
  netc_permute_f32(2, shape, perm, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_ref_permute_f32(2, shape, perm, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  // The identity permutation copies.
  const int32_t id[2] = {0, 1};
  netc_permute_f32(2, shape, id, x, y);
  ck_assert_mem_eq(y, x, sizeof want);
}
END_TEST

// Shapes that hit each simplification: size-1 dims, mergeable runs (the
// channel shuffle), the row-copy path (last dim kept), tiles with ragged
// edges, rank 6.
static const struct {
  int32_t rank;
  int64_t shape[6];
  int32_t perm[6];
} perms[] = {
    {5, {1, 2, 58, 28, 28}, {0, 2, 1, 3, 4}},  // ShuffleNet's channel shuffle
    {4, {1, 96, 7, 9}, {0, 2, 3, 1}},          // NCHW -> NHWC (ConvNeXt)
    {4, {2, 7, 9, 96}, {0, 3, 1, 2}},          // and back
    {3, {3, 1, 5}, {2, 1, 0}},
    {4, {2, 3, 4, 5}, {0, 1, 3, 2}},
    {4, {2, 3, 4, 5}, {3, 2, 1, 0}},
    {6, {2, 3, 1, 4, 2, 3}, {5, 0, 4, 2, 1, 3}},
    {2, {67, 33}, {1, 0}},
    {3, {5, 40, 70}, {0, 2, 1}},
    {1, {17}, {0}},
};

START_TEST(test_permute_vs_ref) {
  int i = _i;
  int64_t n = 1;
  for (int d = 0; d < perms[i].rank; d++)
    n *= perms[i].shape[d];
  float *x = tu_random(n, 100u + (uint32_t)i), *y = tu_alloc(n, 1), *r = tu_alloc(n, 0);
  netc_permute_f32(perms[i].rank, perms[i].shape, perms[i].perm, x, y);
  netc_ref_permute_f32(perms[i].rank, perms[i].shape, perms[i].perm, x, r);
  ck_assert_msg(memcmp(y, r, (size_t)n * sizeof *y) == 0, "permute case %d differs from the reference", i);
  tu_free(x);
  tu_free(y);
  tu_free(r);
}
END_TEST

//
// narrow
//

START_TEST(test_narrow_hand) {
  // [2, 4, 2] narrowed to dim 1, start 1, length 2.
  float x[16];
  for (int i = 0; i < 16; i++)
    x[i] = (float)i;
  const float want[8] = {2, 3, 4, 5, 10, 11, 12, 13};
  float y[8];
  netc_narrow_f32(2, 4, 1, 2, 2, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
}
END_TEST

//
// reductions
//

START_TEST(test_reduce_hand) {
  // [2, 3]: [[1 2 3] [4 5 -6]].
  const float x[6] = {1, 2, 3, 4, 5, -6};
  const int64_t shape[2] = {2, 3};
  const int32_t d1[1] = {1}, d0[1] = {0}, both[2] = {0, 1};
  float y[3];
  netc_reduce_f32(NETC_REDUCE_SUM, 2, shape, 1, d1, x, y);
  ck_assert_float_eq(y[0], 6);
  ck_assert_float_eq(y[1], 3);
  netc_reduce_f32(NETC_REDUCE_MEAN, 2, shape, 1, d0, x, y);
  ck_assert_float_eq(y[0], 2.5f);
  ck_assert_float_eq(y[1], 3.5f);
  ck_assert_float_eq(y[2], -1.5f);
  netc_reduce_f32(NETC_REDUCE_AMAX, 2, shape, 1, d1, x, y);
  ck_assert_float_eq(y[0], 3);
  ck_assert_float_eq(y[1], 5);
  netc_reduce_f32(NETC_REDUCE_AMAX, 2, shape, 2, both, x, y);
  ck_assert_float_eq(y[0], 5);
  netc_reduce_f32(NETC_REDUCE_MEAN, 2, shape, 2, both, x, y);
  ck_assert_float_eq(y[0], 1.5f);
}
END_TEST

// amax propagates NaN (torch.amax does), wherever it is in the row.
START_TEST(test_reduce_nan) {
  float x[40];
  for (int i = 0; i < 40; i++)
    x[i] = (float)i;
  const int64_t rows[2] = {2, 20}, cols[2] = {20, 2};
  const int32_t d1[1] = {1}, d0[1] = {0};
  float y[2];
  x[7] = NAN;
  netc_reduce_f32(NETC_REDUCE_AMAX, 2, rows, 1, d1, x, y);
  ck_assert(isnan(y[0]));
  ck_assert_float_eq(y[1], 39);
  netc_reduce_f32(NETC_REDUCE_AMAX, 2, cols, 1, d0, x, y);
  ck_assert(isnan(y[1])); // element 7 is column 1
  ck_assert_float_eq(y[0], 38);
  netc_reduce_f32(NETC_REDUCE_SUM, 2, rows, 1, d1, x, y);
  ck_assert(isnan(y[0]));
}
END_TEST

static const struct {
  int32_t rank;
  int64_t shape[6];
  int32_t ndims;
  int32_t dims[6];
} reductions[] = {
    {4, {1, 64, 7, 7}, 2, {2, 3}},        // global average pooling
    {4, {2, 1000, 3, 5}, 1, {1}},         // over channels
    {3, {2, 197, 768}, 1, {2}},           // a token's features
    {4, {2, 3, 4, 5}, 2, {1, 3}},         // reduced groups apart: the general loop
    {4, {2, 3, 4, 5}, 3, {0, 1, 3}},
    {5, {1, 2, 1, 3, 4}, 2, {0, 2}},      // only size-1 dims: a copy
    {6, {2, 1, 3, 2, 5, 2}, 3, {1, 3, 4}},
    {1, {4099}, 1, {0}},
};

START_TEST(test_reduce_vs_ref) {
  int i = _i;
  int64_t n = 1, ny = 1;
  for (int d = 0; d < reductions[i].rank; d++) {
    n *= reductions[i].shape[d];
    int red = 0;
    for (int k = 0; k < reductions[i].ndims; k++)
      red |= reductions[i].dims[k] == d;
    if (!red)
      ny *= reductions[i].shape[d];
  }
  float *x = tu_random(n, 300u + (uint32_t)i), *y = tu_alloc(ny, 1), *r = tu_alloc(ny, 0);
  static const netc_reduce ops[3] = {NETC_REDUCE_SUM, NETC_REDUCE_MEAN, NETC_REDUCE_AMAX};
  for (int o = 0; o < 3; o++) {
    netc_reduce_f32(ops[o], reductions[i].rank, reductions[i].shape, reductions[i].ndims, reductions[i].dims, x, y);
    netc_ref_reduce_f32(ops[o], reductions[i].rank, reductions[i].shape, reductions[i].ndims, reductions[i].dims, x,
                        r);
    // Sums are summed in another order: float rounding only.
    tu_assert_close(o == 0 ? "sum" : o == 1 ? "mean" : "amax", y, r, ny, o == 2 ? 0 : 1e-5);
  }
  tu_free(x);
  tu_free(y);
  tu_free(r);
}
END_TEST

//
// log_softmax
//

// torch.log_softmax(torch.tensor([1., 2., 3.]), 0) and with an offset of 1000
// (stable: no exp overflow, no log(0)).
START_TEST(test_log_softmax_hand) {
  const float x[3] = {1, 2, 3}, big[3] = {1001, 1002, 1003};
  const float want[3] = {-2.4076058864593506f, -1.4076058864593506f, -0.40760594606399536f};
  float y[3];
  netc_log_softmax_f32(1, 3, 1, x, y);
  for (int i = 0; i < 3; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-6);
  netc_log_softmax_f32(1, 3, 1, big, y);
  for (int i = 0; i < 3; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-4);
  // Far below the max: exp underflows, the log-softmax does not (-1000 - log(1 + e^-1000)).
  const float far[2] = {0, 1000};
  netc_log_softmax_f32(1, 2, 1, far, y);
  ck_assert_float_eq_tol(y[0], -1000.0f, 1e-3);
  ck_assert_float_eq(y[1], 0.0f);
  netc_ref_log_softmax_f32(1, 3, 1, x, y);
  for (int i = 0; i < 3; i++)
    ck_assert_float_eq_tol(y[i], want[i], 1e-6);
}
END_TEST

START_TEST(test_log_softmax_vs_ref) {
  static const int64_t shapes[][3] = {{4, 1000, 1}, {2, 7, 130}, {1, 1, 5}, {3, 65, 65}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int64_t n = shapes[s][0] * shapes[s][1] * shapes[s][2];
    float *x = tu_random(n, 500u + (uint32_t)s), *y = tu_alloc(n, 1), *r = tu_alloc(n, 0);
    for (int64_t i = 0; i < n; i++)
      x[i] *= 20; // spread: some rows far from uniform
    netc_log_softmax_f32(shapes[s][0], shapes[s][1], shapes[s][2], x, y);
    netc_ref_log_softmax_f32(shapes[s][0], shapes[s][1], shapes[s][2], x, r);
    tu_assert_close("log_softmax", y, r, n, 1e-5);
    // In place gives the same.
    netc_log_softmax_f32(shapes[s][0], shapes[s][1], shapes[s][2], x, x);
    ck_assert_mem_eq(x, y, (size_t)n * sizeof *x);
    tu_free(x);
    tu_free(y);
    tu_free(r);
  }
}
END_TEST

START_TEST(test_log_softmax_nan) {
  const float x[4] = {1, NAN, 3, 4};
  float y[4];
  netc_log_softmax_f32(1, 4, 1, x, y);
  for (int i = 0; i < 4; i++)
    ck_assert(isnan(y[i]));
}
END_TEST

//
// resize (resize.c)
//

// x = arange(12) as [1, 1, 3, 4]; the wanted values are PyTorch's
// F.interpolate on it (torch 1.13, CPU).
static void resize_case(netc_resize2d_params p, const float *want, int64_t stride, int64_t count) {
  float x[12], y[128], r[128]; // every case below has at most 128 outputs
  for (int i = 0; i < 12; i++)
    x[i] = (float)i;
  p.n = p.c = 1, p.in_h = 3, p.in_w = 4;
  netc_resize2d_f32(&p, x, y);
  netc_ref_resize2d_f32(&p, x, r);
  for (int64_t i = 0; i < count; i++) {
    ck_assert_float_eq_tol(y[i * stride], want[i], 1e-6);
    ck_assert_float_eq_tol(r[i * stride], want[i], 1e-6);
  }
}

START_TEST(test_resize_hand) {
  // nearest, scale_factor 2.5: 7 rows, column 0 (the source row is floor(o * 0.4)).
  const float near_rows[7] = {0, 0, 0, 4, 4, 8, 8};
  resize_case((netc_resize2d_params){.out_h = 7, .out_w = 10, .scale_h = 2.5, .scale_w = 2.5}, near_rows, 10, 7);
  // nearest, size (7, 3): row 0.
  const float near_cols[3] = {0, 1, 2};
  resize_case((netc_resize2d_params){.out_h = 7, .out_w = 3}, near_cols, 1, 3);
  // bilinear x2, row 0 (half-pixel centres, clamped at the border).
  const float bil[8] = {0, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3};
  resize_case((netc_resize2d_params){.out_h = 6, .out_w = 8, .bilinear = 1, .scale_h = 2, .scale_w = 2}, bil, 1, 8);
  // bilinear, align_corners, size (5, 7), row 0.
  const float ac[7] = {0, 0.5f, 1, 1.5f, 2, 2.5f, 3};
  resize_case((netc_resize2d_params){.out_h = 5, .out_w = 7, .bilinear = 1, .align_corners = 1}, ac, 1, 7);
  // bilinear downsampling x0.6: one row of two.
  const float down[2] = {1.6666665077209473f, 3.3333330154418945f};
  resize_case((netc_resize2d_params){.out_h = 1, .out_w = 2, .bilinear = 1, .scale_h = 0.6, .scale_w = 0.6}, down, 1,
              2);
}
END_TEST

START_TEST(test_resize_vs_ref) {
  static const netc_resize2d_params cases[] = {
      {2, 3, 7, 9, 14, 18, 0, 0, 2, 2},   {2, 3, 7, 9, 16, 11, 1, 0, 0, 0}, {1, 4, 8, 8, 3, 5, 1, 1, 0, 0},
      {1, 2, 5, 6, 12, 9, 1, 0, 2.5, 1.5}, {1, 1, 1, 1, 4, 4, 1, 1, 0, 0},  {1, 2, 9, 9, 4, 4, 0, 0, 0.5, 0.5},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const netc_resize2d_params *p = &cases[i];
    int64_t nx = p->n * p->c * p->in_h * p->in_w, ny = p->n * p->c * p->out_h * p->out_w;
    float *x = tu_random(nx, 700u + (uint32_t)i), *y = tu_alloc(ny, 1), *r = tu_alloc(ny, 0);
    netc_resize2d_f32(p, x, y);
    netc_ref_resize2d_f32(p, x, r);
    tu_assert_close("resize2d", y, r, ny, 1e-6);
    tu_free(x);
    tu_free(y);
    tu_free(r);
  }
}
END_TEST

//
// matmul
//

// [[1 2] [3 4]] @ [[5 6] [7 8]] = [[19 22] [43 50]], and batch broadcasting.
START_TEST(test_matmul_hand) {
  const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, want[4] = {19, 22, 43, 50};
  const int64_t s[2] = {2, 2};
  float y[4], scratch[4096];
  ck_assert_int_le(netc_gemm_scratch_floats(2, 2, 2), 4096);
  netc_matmul_f32(2, s, s, s, 0, a, b, y, scratch);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_ref_matmul_f32(2, s, s, s, 0, a, b, y);
  ck_assert_mem_eq(y, want, sizeof want);
  // The same product with B stored transposed, [[5 7] [6 8]].
  const float bt[4] = {5, 7, 6, 8};
  netc_matmul_f32(2, s, s, s, 1, a, bt, y, scratch);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_ref_matmul_f32(2, s, s, s, 1, a, bt, y);
  ck_assert_mem_eq(y, want, sizeof want);
}
END_TEST

START_TEST(test_matmul_vs_ref) {
  static const struct {
    int32_t rank;
    int64_t out[4], a[4], b[4];
  } cases[] = {
      {4, {2, 3, 7, 5}, {2, 3, 7, 9}, {2, 3, 9, 5}},     // attention-like: every batch dim its own
      {4, {2, 3, 7, 5}, {2, 1, 7, 9}, {1, 3, 9, 5}},     // both broadcast
      {3, {4, 33, 17}, {4, 33, 65}, {1, 65, 17}},        // a weight shared by the batch
      {2, {1, 130}, {1, 70}, {70, 130}},                 // a row times a matrix
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = cases[i].rank;
    int64_t na = 1, nb = 1, ny = 1;
    for (int d = 0; d < r; d++)
      na *= cases[i].a[d], nb *= cases[i].b[d], ny *= cases[i].out[d];
    int64_t n = cases[i].out[r - 2], m = cases[i].out[r - 1], k = cases[i].a[r - 1];
    float *a = tu_random(na, 1000u + (uint32_t)i), *b = tu_random(nb, 1100u + (uint32_t)i);
    float *y = tu_alloc(ny, 1), *ref = tu_alloc(ny, 0), *scratch = tu_alloc(netc_gemm_scratch_floats(n, m, k), 3);
    netc_matmul_f32(r, cases[i].out, cases[i].a, cases[i].b, 0, a, b, y, scratch);
    netc_ref_matmul_f32(r, cases[i].out, cases[i].a, cases[i].b, 0, a, b, ref);
    tu_assert_close("matmul", y, ref, ny, 1e-5);
    // B stored transposed: bt[..., j, t] = b[..., t, j], read in place.
    int64_t bt_shape[4];
    memcpy(bt_shape, cases[i].b, sizeof bt_shape);
    bt_shape[r - 2] = cases[i].b[r - 1];
    bt_shape[r - 1] = cases[i].b[r - 2];
    float *bt = tu_alloc(nb, 0);
    int64_t kk = cases[i].b[r - 2], mm = cases[i].b[r - 1];
    for (int64_t o = 0; o < nb / (kk * mm); o++)
      for (int64_t t = 0; t < kk; t++)
        for (int64_t j = 0; j < mm; j++)
          bt[o * kk * mm + j * kk + t] = b[o * kk * mm + t * mm + j];
    netc_matmul_f32(r, cases[i].out, cases[i].a, bt_shape, 1, a, bt, y, scratch);
    tu_assert_close("matmul trans_b", y, ref, ny, 1e-5);
    netc_ref_matmul_f32(r, cases[i].out, cases[i].a, bt_shape, 1, a, bt, y);
    tu_assert_close("ref matmul trans_b", y, ref, ny, 1e-12);
    tu_free(bt);
    tu_free(a);
    tu_free(b);
    tu_free(y);
    tu_free(ref);
    tu_free(scratch);
  }
}
END_TEST

// slice

// Rows 1 and 3 of each [4, 2] block (x[:, 1::2]), and every third element
// of a row (inner 1).
START_TEST(test_slice_hand) {
  const float x[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const float want[8] = {2, 3, 6, 7, 10, 11, 14, 15}, want1[6] = {0, 3, 6, 8, 11, 14};
  float y[8];
  netc_slice_f32(2, 4, 2, 1, 2, 2, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_ref_slice_f32(2, 4, 2, 1, 2, 2, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_slice_f32(2, 8, 1, 0, 3, 3, x, y);
  ck_assert_mem_eq(y, want1, sizeof want1);
}
END_TEST

START_TEST(test_slice_vs_ref) {
  // [3, 57, 5] along dim 1 from 4 by 7 (8 positions), and [2, 9, 1] from 0 by 4.
  float *x = tu_random(3 * 57 * 5, 91u), *y = tu_alloc(3 * 8 * 5, 0), *r = tu_alloc(3 * 8 * 5, 1);
  netc_slice_f32(3, 57, 5, 4, 7, 8, x, y);
  netc_ref_slice_f32(3, 57, 5, 4, 7, 8, x, r);
  tu_assert_close("slice", y, r, 3 * 8 * 5, 0);
  netc_slice_f32(2, 9, 1, 0, 4, 3, x, y);
  netc_ref_slice_f32(2, 9, 1, 0, 4, 3, x, r);
  tu_assert_close("slice inner 1", y, r, 6, 0);
  tu_free(x);
  tu_free(y);
  tu_free(r);
}
END_TEST

// roll and expand

// [[0 1 2] [3 4 5]] rolled by (1, 1) is [[5 3 4] [2 0 1]]; [1, 3] expanded to
// [2, 3] repeats the row.
START_TEST(test_roll_expand_hand) {
  const float x[6] = {0, 1, 2, 3, 4, 5}, want[6] = {5, 3, 4, 2, 0, 1}, want_e[6] = {0, 1, 2, 0, 1, 2};
  const int64_t s[2] = {2, 3}, sh[2] = {1, 1}, in[2] = {1, 3};
  float y[6];
  netc_roll_f32(2, s, sh, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_ref_roll_f32(2, s, sh, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  netc_expand_f32(2, s, in, x, y);
  ck_assert_mem_eq(y, want_e, sizeof want_e);
  netc_ref_expand_f32(2, s, in, x, y);
  ck_assert_mem_eq(y, want_e, sizeof want_e);
}
END_TEST

START_TEST(test_roll_expand_vs_ref) {
  // A Swin-like shift of a small map on two dims, the last dim rolled too,
  // and an expand of dims 0 and 2.
  const int64_t s[4] = {2, 9, 11, 5}, sh[4] = {0, 6, 8, 3}, in[4] = {1, 9, 1, 5};
  float *x = tu_random(2 * 9 * 11 * 5, 19u), *y = tu_alloc(2 * 9 * 11 * 5, 0), *r = tu_alloc(2 * 9 * 11 * 5, 1);
  netc_roll_f32(4, s, sh, x, y);
  netc_ref_roll_f32(4, s, sh, x, r);
  tu_assert_close("roll", y, r, 2 * 9 * 11 * 5, 0);
  netc_expand_f32(4, s, in, x, y);
  netc_ref_expand_f32(4, s, in, x, r);
  tu_assert_close("expand", y, r, 2 * 9 * 11 * 5, 0);
  tu_free(x);
  tu_free(y);
  tu_free(r);
}
END_TEST

// index_select

// Rows 2, 0, 2 of a [2, 3, 2] tensor along dim 1 (a repeated index too).
START_TEST(test_index_select_hand) {
  const float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, idx[3] = {2, 0, 2};
  const float want[12] = {4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11};
  float y[12];
  netc_index_select_f32(2, 3, 2, 3, idx, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
  memset(y, 0, sizeof y);
  netc_ref_index_select_f32(2, 3, 2, 3, idx, x, y);
  ck_assert_mem_eq(y, want, sizeof want);
}
END_TEST

// Swin's use: a [169, 3] table gathered by 2401 indices along dim 0.
START_TEST(test_index_select_vs_ref) {
  float *x = tu_random(169 * 3, 77u), *idx = tu_alloc(2401, 0);
  for (int j = 0; j < 2401; j++)
    idx[j] = (float)((j * 37 + j / 49) % 169);
  float *y = tu_alloc(2401 * 3, 1), *ref = tu_alloc(2401 * 3, 2);
  netc_index_select_f32(1, 169, 3, 2401, idx, x, y);
  netc_ref_index_select_f32(1, 169, 3, 2401, idx, x, ref);
  tu_assert_close("index_select", y, ref, 2401 * 3, 0);
  tu_free(x);
  tu_free(idx);
  tu_free(y);
  tu_free(ref);
}
END_TEST

Suite *make_tensor_suite(void) {
  Suite *s = suite_create("tensor");
  TCase *tc = tcase_create("permute");
  tcase_add_test(tc, test_permute_hand);
  tcase_add_loop_test(tc, test_permute_vs_ref, 0, (int)(sizeof perms / sizeof perms[0]));
  suite_add_tcase(s, tc);
  tc = tcase_create("narrow");
  tcase_add_test(tc, test_narrow_hand);
  suite_add_tcase(s, tc);
  tc = tcase_create("reduce");
  tcase_add_test(tc, test_reduce_hand);
  tcase_add_test(tc, test_reduce_nan);
  tcase_add_loop_test(tc, test_reduce_vs_ref, 0, (int)(sizeof reductions / sizeof reductions[0]));
  suite_add_tcase(s, tc);
  tc = tcase_create("matmul");
  tcase_add_test(tc, test_matmul_hand);
  tcase_add_test(tc, test_matmul_vs_ref);
  suite_add_tcase(s, tc);
  tc = tcase_create("roll_expand");
  tcase_add_test(tc, test_roll_expand_hand);
  tcase_add_test(tc, test_roll_expand_vs_ref);
  suite_add_tcase(s, tc);
  tc = tcase_create("slice");
  tcase_add_test(tc, test_slice_hand);
  tcase_add_test(tc, test_slice_vs_ref);
  suite_add_tcase(s, tc);
  tc = tcase_create("index_select");
  tcase_add_test(tc, test_index_select_hand);
  tcase_add_test(tc, test_index_select_vs_ref);
  suite_add_tcase(s, tc);
  tc = tcase_create("resize");
  tcase_add_test(tc, test_resize_hand);
  tcase_add_test(tc, test_resize_vs_ref);
  suite_add_tcase(s, tc);
  tc = tcase_create("log_softmax");
  tcase_add_test(tc, test_log_softmax_hand);
  tcase_add_test(tc, test_log_softmax_vs_ref);
  tcase_add_test(tc, test_log_softmax_nan);
  suite_add_tcase(s, tc);
  return s;
}
