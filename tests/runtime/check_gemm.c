// check_gemm.c -- netc_gemm_f32 and netc_linear_f32 against their references
// and against hand-computed values.

#include "testutil.h"

#include <math.h>
#include <string.h>

//
// reference
//

// [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
START_TEST(test_ref_gemm_hand) {
  const float a[6] = {1, 2, 3, 4, 5, 6};
  const float b[6] = {7, 8, 9, 10, 11, 12};
  float c[4] = {1, 1, 1, 1};
  netc_ref_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
  ck_assert_float_eq(c[0], 58);
  ck_assert_float_eq(c[1], 64);
  ck_assert_float_eq(c[2], 139);
  ck_assert_float_eq(c[3], 154);
  // C = 0.5 A B + 2 C
  netc_ref_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, 2, 2, 3, 0.5f, a, 3, b, 2, 2.0f, c, 2);
  ck_assert_float_eq(c[0], 29 + 116);
  ck_assert_float_eq(c[3], 77 + 308);
  // A^T stored as [1 4; 2 5; 3 6], B^T as [7 9 11; 8 10 12]
  const float at[6] = {1, 4, 2, 5, 3, 6};
  const float bt[6] = {7, 9, 11, 8, 10, 12};
  netc_ref_gemm_f32(NETC_TRANS, NETC_TRANS, 2, 2, 3, 1.0f, at, 2, bt, 3, 0.0f, c, 2);
  ck_assert_float_eq(c[1], 64);
  ck_assert_float_eq(c[2], 139);
}
END_TEST

// The same product through the fast path.
START_TEST(test_gemm_hand) {
  const float a[6] = {1, 2, 3, 4, 5, 6};
  const float b[6] = {7, 8, 9, 10, 11, 12};
  float c[4];
  float *s = tu_alloc(netc_gemm_scratch_floats(2, 2, 3), 0);
  netc_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2, s);
  ck_assert_float_eq(c[0], 58);
  ck_assert_float_eq(c[1], 64);
  ck_assert_float_eq(c[2], 139);
  ck_assert_float_eq(c[3], 154);
  tu_free(s);
}
END_TEST

//
// fast vs reference
//

typedef struct {
  int64_t m, n, k;
  int ta, tb;
  int64_t pad;  // extra leading-dimension slack
  float alpha, beta;
} GemmCase;

// Sizes straddle the tiles of every build (MR 4..8, NR 8..48), KC (256),
// MC (<= 512) and NC (<= 4096).
static const GemmCase gemm_cases[] = {
  {1, 1, 1, 0, 0, 0, 1.0f, 0.0f},
  {1, 37, 5, 0, 0, 0, 1.0f, 0.0f},
  {37, 1, 5, 0, 0, 0, 1.0f, 0.0f},
  {5, 7, 1, 0, 0, 0, 1.0f, 0.0f},
  {11, 31, 17, 0, 0, 3, 1.0f, 0.0f},
  {12, 32, 256, 0, 0, 0, 1.0f, 0.0f},
  {13, 33, 257, 0, 0, 0, 1.0f, 1.0f},
  {25, 65, 600, 0, 0, 1, 0.5f, 0.0f},
  {97, 130, 73, 1, 0, 2, 1.0f, 0.0f},
  {97, 130, 73, 0, 1, 2, 1.0f, 0.5f},
  {97, 130, 73, 1, 1, 0, -1.5f, 0.25f},
  {300, 45, 31, 0, 0, 0, 1.0f, 0.0f},
  {531, 17, 9, 1, 1, 1, 1.0f, 0.0f},
  {3, 4100, 7, 0, 0, 0, 1.0f, 0.0f},
  {7, 4099, 9, 0, 1, 5, 1.0f, 2.0f},
  {64, 196, 576, 0, 0, 0, 1.0f, 0.0f},
  {129, 127, 300, 0, 0, 0, 1.0f, -1.0f},
  {2, 3, 0, 0, 0, 0, 1.0f, 0.5f},     // K == 0: C = beta C
  {4, 4, 4, 0, 0, 0, 0.0f, 2.0f},     // alpha == 0
  // Large enough to be shared among threads (OpenMP builds): few columns
  // and many rows (split by rows), many columns (split by columns), and
  // parts longer than a thread's share of scratch.
  {300, 49, 600, 0, 0, 0, 1.0f, 0.0f},
  {301, 50, 257, 1, 1, 2, 1.0f, 0.5f},
  {40, 2000, 70, 0, 0, 0, 1.0f, 0.0f},
  {13, 9000, 20, 0, 1, 1, 1.0f, 1.0f},
  {1030, 20, 40, 0, 0, 0, 2.0f, 0.0f},
  // Edge panels whose last columns go column by column (49 = 48 + 1,
  // 97 = 96 + 1, 196 = 192 + 4 on AVX-512), with residual depth blocks.
  {17, 97, 300, 0, 0, 1, 1.0f, 0.5f},
  {40, 196, 520, 0, 1, 0, 1.0f, 0.0f},
};

// Case i against the reference, with A as stored or packed ahead of time
// (netc_gemm_pack_a, as the emitter does for weights).
static void gemm_case(int i, int packed) {
  const GemmCase *tc = &gemm_cases[i];
  const int64_t arows = tc->ta ? tc->k : tc->m, acols = tc->ta ? tc->m : tc->k;
  const int64_t brows = tc->tb ? tc->n : tc->k, bcols = tc->tb ? tc->k : tc->n;
  const int64_t lda = acols + tc->pad, ldb = bcols + tc->pad, ldc = tc->n + tc->pad;
  const netc_trans ta = tc->ta ? NETC_TRANS : NETC_NO_TRANS, tb = tc->tb ? NETC_TRANS : NETC_NO_TRANS;
  float *a = tu_random(arows * lda, 1 + (uint32_t)i);
  float *b = tu_random(brows * ldb, 2 + (uint32_t)i);
  float *c = tu_random(tc->m * ldc, 3 + (uint32_t)i);
  float *r = tu_alloc(tc->m * ldc, 0);
  for (int64_t k = 0; k < tc->m * ldc; k++)
    r[k] = c[k];
  float *s = tu_alloc(netc_gemm_scratch_floats(tc->m, tc->n, tc->k), i % 3);
  float *pa = NULL;
  if (packed) {
    pa = tu_alloc(netc_gemm_packed_a_floats(tc->m, tc->k), 1 + i % 2);
    netc_gemm_pack_a(ta, tc->m, tc->k, a, lda, pa);
    netc_gemm_packed_f32(tb, tc->m, tc->n, tc->k, tc->alpha, pa, b, ldb, tc->beta, c, ldc, s);
  } else {
    netc_gemm_f32(ta, tb, tc->m, tc->n, tc->k, tc->alpha, a, lda, b, ldb, tc->beta, c, ldc, s);
  }
  netc_ref_gemm_f32(ta, tb, tc->m, tc->n, tc->k, tc->alpha, a, lda, b, ldb, tc->beta, r, ldc);
  tu_assert_close(packed ? "packed gemm" : "gemm", c, r, tc->m * ldc, 1e-5);
  tu_free(a);
  tu_free(b);
  tu_free(c);
  tu_free(r);
  tu_free(s);
  if (pa)
    tu_free(pa);
}

START_TEST(test_gemm_vs_ref) { gemm_case(_i, 0); }
END_TEST

START_TEST(test_gemm_packed_vs_ref) { gemm_case(_i, 1); }
END_TEST

// Every element is summed in the same order whatever the thread count, so
// one thread and two give bit-identical results (trivially so without
// OpenMP).
START_TEST(test_gemm_threads_identical) {
  static const int64_t shapes[][3] = {{300, 49, 600}, {40, 2000, 70}, {129, 700, 300}};
  const int32_t saved = netc_threads_get();
  for (int t = 0; t < 3; t++) {
    const int64_t m = shapes[t][0], n = shapes[t][1], k = shapes[t][2];
    float *a = tu_random(m * k, 40 + (uint32_t)t), *b = tu_random(k * n, 41 + (uint32_t)t);
    float *c1 = tu_alloc(m * n, 0), *c2 = tu_alloc(m * n, 0);
    float *pa = tu_alloc(netc_gemm_packed_a_floats(m, k), 0);
    float *s = tu_alloc(netc_gemm_scratch_floats(m, n, k), 0);
    netc_gemm_pack_a(NETC_NO_TRANS, m, k, a, k, pa);
    for (int packed = 0; packed < 2; packed++) {
      netc_threads_set(1);
      if (packed)
        netc_gemm_packed_f32(NETC_NO_TRANS, m, n, k, 1.0f, pa, b, n, 0.0f, c1, n, s);
      else
        netc_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n, s);
      netc_threads_set(2);
      if (packed)
        netc_gemm_packed_f32(NETC_NO_TRANS, m, n, k, 1.0f, pa, b, n, 0.0f, c2, n, s);
      else
        netc_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n, s);
      ck_assert_msg(memcmp(c1, c2, sizeof(float) * (size_t)(m * n)) == 0,
                    "%lldx%lldx%lld (packed %d): 1 and 2 threads differ", (long long)m,
                    (long long)n, (long long)k, packed);
    }
    tu_free(a);
    tu_free(b);
    tu_free(c1);
    tu_free(c2);
    tu_free(pa);
    tu_free(s);
  }
  netc_threads_set(saved);
}
END_TEST

// beta == 0 must not read C: NaN there may not leak into the result.
START_TEST(test_gemm_beta0_ignores_c) {
  const int64_t m = 29, n = 45, k = 19;
  float *a = tu_random(m * k, 7), *b = tu_random(k * n, 8);
  float *c = tu_alloc(m * n, 0), *r = tu_alloc(m * n, 0);
  for (int64_t i = 0; i < m * n; i++)
    c[i] = NAN;
  float *s = tu_alloc(netc_gemm_scratch_floats(m, n, k), 0);
  netc_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n, s);
  netc_ref_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, r, n);
  for (int64_t i = 0; i < m * n; i++)
    ck_assert_msg(!isnan(c[i]), "element %lld is NaN", (long long)i);
  tu_assert_close("gemm beta=0", c, r, m * n, 1e-5);
  tu_free(a);
  tu_free(b);
  tu_free(c);
  tu_free(r);
  tu_free(s);
}
END_TEST

// The scratch formula stated in netc_rt.h.
START_TEST(test_gemm_scratch_formula) {
  ck_assert_int_eq(netc_gemm_scratch_floats(0, 5, 5), 0);
  ck_assert_int_eq(netc_gemm_scratch_floats(5, 5, 0), 0);
  ck_assert_int_eq(netc_gemm_scratch_floats(10, 20, 30), 30 * (20 + 10 + 128) + 32);
  ck_assert_int_eq(netc_gemm_scratch_floats(1000, 10000, 1000), 256 * (4096 + 512 + 128) + 32);
  ck_assert_int_eq(netc_gemm_packed_a_floats(10, 30), (10 + 15) * 30);
  ck_assert_int_eq(netc_gemm_packed_a_floats(0, 30), 0);
}
END_TEST

//
// linear
//

typedef struct {
  int64_t batch, in, out;
  int bias;
  netc_act act;
} LinearCase;

static const LinearCase linear_cases[] = {
  {1, 1, 1, 1, NETC_ACT_NONE},
  {1, 400, 120, 1, NETC_ACT_SIGMOID},
  {1, 1000, 37, 0, NETC_ACT_RELU},
  {1, 1000, 100, 1, NETC_ACT_RELU},    // threads
  {2, 4096, 64, 1, NETC_ACT_NONE},
  {3, 77, 10, 1, NETC_ACT_NONE},
  {7, 129, 65, 1, NETC_ACT_LEAKY_RELU},
  {8, 129, 65, 1, NETC_ACT_RELU},      // first GEMM batch
  {17, 300, 33, 0, NETC_ACT_GELU},
  {64, 512, 100, 1, NETC_ACT_RELU6},
  {1, 25088, 67, 1, NETC_ACT_RELU},    // VGG-like: long rows, split across threads
  {1, 33, 1001, 1, NETC_ACT_TANH},     // rows not a multiple of 4, short dots
  {3, 1000, 203, 0, NETC_ACT_GELU_TANH},
  {197, 768, 301, 1, NETC_ACT_GELU},    // ViT-like: depth over one block, columns past a panel
  {40, 3072, 96, 1, NETC_ACT_NONE},     // several depth blocks
};

START_TEST(test_linear_vs_ref) {
  const LinearCase *tc = &linear_cases[_i];
  float *x = tu_random(tc->batch * tc->in, 11 + (uint32_t)_i);
  float *w = tu_random(tc->out * tc->in, 12 + (uint32_t)_i);
  float *b = tc->bias ? tu_random(tc->out, 13) : NULL;
  float *y = tu_alloc(tc->batch * tc->out, 0), *r = tu_alloc(tc->batch * tc->out, 0);
  float *s = tu_alloc(netc_linear_scratch_floats(tc->batch, tc->in, tc->out), 1);
  netc_linear_f32(tc->batch, tc->in, tc->out, x, w, b, tc->act, 0.1f, y, s);
  netc_ref_linear_f32(tc->batch, tc->in, tc->out, x, w, b, tc->act, 0.1f, r);
  tu_assert_close("linear", y, r, tc->batch * tc->out, 1e-5);
  // W packed once, as a loaded model does: the same numbers, bit for bit
  // with the GEMM path (the same panels in the same order).
  float *wp = tu_alloc(netc_gemm_packed_b_floats(tc->in, tc->out), 5);
  netc_gemm_pack_b(NETC_TRANS, tc->in, tc->out, w, tc->in, wp);
  float *yp = tu_alloc(tc->batch * tc->out, 2);
  float *sp = tu_alloc(netc_gemm_scratch_floats(tc->batch, tc->out, tc->in), 1);
  netc_linear_packed_f32(tc->batch, tc->in, tc->out, x, wp, b, tc->act, 0.1f, yp, sp);
  tu_free(sp);
  if (tc->batch >= 8)
    ck_assert_mem_eq(yp, y, sizeof(float) * (size_t)(tc->batch * tc->out));
  else
    tu_assert_close("linear packed", yp, r, tc->batch * tc->out, 1e-5);
  tu_free(wp);
  tu_free(yp);
  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(y);
  tu_free(r);
  tu_free(s);
}
END_TEST

// y = x W^T + b with x = [1 2], W = [[1 0], [0 1], [1 1]], b = [0.5 0 -4]
// -> [1.5 2 -1], then ReLU -> [1.5 2 0].
START_TEST(test_linear_hand) {
  const float x[2] = {1, 2}, w[6] = {1, 0, 0, 1, 1, 1}, b[3] = {0.5f, 0, -4};
  float y[3];
  netc_ref_linear_f32(1, 2, 3, x, w, b, NETC_ACT_NONE, 0, y);
  ck_assert_float_eq(y[0], 1.5f);
  ck_assert_float_eq(y[1], 2.0f);
  ck_assert_float_eq(y[2], -1.0f);
  netc_linear_f32(1, 2, 3, x, w, b, NETC_ACT_RELU, 0, y, NULL);
  ck_assert_float_eq(y[0], 1.5f);
  ck_assert_float_eq(y[1], 2.0f);
  ck_assert_float_eq(y[2], 0.0f);
}
END_TEST

Suite *make_gemm_suite(void) {
  Suite *s = suite_create("gemm");

  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, test_ref_gemm_hand);
  tcase_add_test(tc, test_gemm_hand);
  tcase_add_test(tc, test_gemm_scratch_formula);
  tcase_add_test(tc, test_linear_hand);
  suite_add_tcase(s, tc);

  tc = tcase_create("fast");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_gemm_vs_ref, 0, (int)(sizeof gemm_cases / sizeof gemm_cases[0]));
  tcase_add_loop_test(tc, test_gemm_packed_vs_ref, 0, (int)(sizeof gemm_cases / sizeof gemm_cases[0]));
  tcase_add_test(tc, test_gemm_threads_identical);
  tcase_add_test(tc, test_gemm_beta0_ignores_c);
  tcase_add_loop_test(tc, test_linear_vs_ref, 0, (int)(sizeof linear_cases / sizeof linear_cases[0]));
  suite_add_tcase(s, tc);
  return s;
}
