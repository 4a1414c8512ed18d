// check_elementwise.c -- activations, arithmetic, pad, concat, normalize.

#include "testutil.h"

#include <math.h>
#include <string.h>

//
// Activations
//

typedef struct {
  netc_act act;
  float x, want;  // want from the formula, evaluated in Python's math module
} ActValue;

static const ActValue act_values[] = {
  {NETC_ACT_NONE, -3.0f, -3.0f},
  {NETC_ACT_RELU, -1.0f, 0.0f},
  {NETC_ACT_RELU, 2.5f, 2.5f},
  {NETC_ACT_RELU6, 7.0f, 6.0f},
  {NETC_ACT_RELU6, -2.0f, 0.0f},
  {NETC_ACT_RELU6, 3.0f, 3.0f},
  {NETC_ACT_LEAKY_RELU, -2.0f, -0.2f},  // slope 0.1
  {NETC_ACT_LEAKY_RELU, 2.0f, 2.0f},
  {NETC_ACT_SIGMOID, 0.0f, 0.5f},
  {NETC_ACT_SIGMOID, 2.0f, 0.8807970779778823f},
  {NETC_ACT_SIGMOID, -100.0f, 0.0f},
  {NETC_ACT_TANH, 0.5f, 0.46211715726000974f},
  {NETC_ACT_GELU, 1.0f, 0.8413447460685429f},
  {NETC_ACT_GELU, -1.0f, -0.15865525393145707f},
  {NETC_ACT_GELU, 2.0f, 1.9544997361036416f},
  {NETC_ACT_GELU_TANH, 1.0f, 0.8411919906082768f},
  {NETC_ACT_GELU_TANH, -1.0f, -0.15880800939172324f},
  {NETC_ACT_GELU_TANH, 2.0f, 1.954597694087775f},
  // PyTorch 1.13's F.silu, hardswish, hardsigmoid, mish, elu(alpha=0.1) in float64.
  {NETC_ACT_SILU, 1.0f, 0.7310585786300049f},
  {NETC_ACT_SILU, -4.0f, -0.07194483984836623f},
  {NETC_ACT_SILU, 0.25f, 0.14054412522144952f},
  {NETC_ACT_HARDSWISH, -1.0f, -0.3333333333333333f},
  {NETC_ACT_HARDSWISH, 2.5f, 2.2916666666666665f},
  {NETC_ACT_HARDSWISH, -4.0f, 0.0f},
  {NETC_ACT_HARDSIGMOID, 1.0f, 0.6666666666666666f},
  {NETC_ACT_HARDSIGMOID, 0.25f, 0.5416666666666666f},
  {NETC_ACT_HARDSIGMOID, 4.0f, 1.0f},
  {NETC_ACT_MISH, 1.0f, 0.8650983882673103f},
  {NETC_ACT_MISH, -1.0f, -0.30340146137410895f},
  {NETC_ACT_MISH, 2.5f, 2.471392304557881f},
  {NETC_ACT_MISH, -4.0f, -0.07259174079202535f},
  {NETC_ACT_ELU, -1.0f, -0.06321205588285576f},  // alpha 0.1
  {NETC_ACT_ELU, -4.0f, -0.09816843611112658f},
  {NETC_ACT_ELU, 2.5f, 2.5f},
};

START_TEST(test_act_values) {
  const ActValue *v = &act_values[_i];
  float y, r;
  netc_act_f32(v->act, 0.1f, 1, &v->x, &y);
  netc_ref_act_f32(v->act, 0.1f, 1, &v->x, &r);
  ck_assert_msg(fabsf(y - v->want) <= 1e-6f, "%s(%g) = %.9g, want %.9g", netc_act_name(v->act),
                (double)v->x, (double)y, (double)v->want);
  ck_assert_msg(fabsf(r - v->want) <= 1e-6f, "ref %s(%g) = %.9g, want %.9g", netc_act_name(v->act),
                (double)v->x, (double)r, (double)v->want);
}
END_TEST

// The named wrappers are the generic function with a fixed act.
START_TEST(test_act_wrappers) {
  const float x[3] = {-1.0f, 0.5f, 8.0f};
  float y[3];
  netc_relu_f32(3, x, y);
  ck_assert_float_eq(y[0], 0.0f);
  netc_relu6_f32(3, x, y);
  ck_assert_float_eq(y[2], 6.0f);
  netc_leaky_relu_f32(3, 0.5f, x, y);
  ck_assert_float_eq(y[0], -0.5f);
  netc_sigmoid_f32(3, x, y);
  ck_assert_float_eq_tol(y[1], 0.6224593312018546f, 1e-6);
  netc_tanh_f32(3, x, y);
  ck_assert_float_eq_tol(y[1], 0.46211715726000974f, 1e-6);
  netc_gelu_f32(3, x, y);
  ck_assert_float_eq_tol(y[0], -0.15865525393145707f, 1e-6);
  netc_gelu_tanh_f32(3, x, y);
  ck_assert_float_eq_tol(y[0], -0.15880800939172324f, 1e-6);
  netc_silu_f32(3, x, y);
  ck_assert_float_eq_tol(y[0], -0.2689414213699951f, 1e-6);
  netc_hardswish_f32(3, x, y);
  ck_assert_float_eq_tol(y[0], -0.3333333333333333f, 1e-6);
  netc_hardsigmoid_f32(3, x, y);
  ck_assert_float_eq_tol(y[2], 1.0f, 1e-6);
  netc_mish_f32(3, x, y);
  ck_assert_float_eq_tol(y[0], -0.30340146137410895f, 1e-6);
  netc_elu_f32(3, 0.1f, x, y);
  ck_assert_float_eq_tol(y[0], -0.06321205588285576f, 1e-6);
  ck_assert_str_eq(netc_act_name(NETC_ACT_ELU), "elu");
  ck_assert_str_eq(netc_act_name(NETC_ACT_GELU_TANH), "gelu_tanh");
  ck_assert_str_eq(netc_act_name(NETC_ACT_COUNT), "?");
}
END_TEST

// ReLU keeps NaN (PyTorch's clamp_min propagates it), in the vector body
// and in the scalar tail.
START_TEST(test_relu_nan) {
  float x[37];
  for (int i = 0; i < 37; i++)
    x[i] = i % 2 ? NAN : -1.0f;
  float y[37];
  netc_relu_f32(37, x, y);
  for (int i = 0; i < 37; i++)
    ck_assert_msg(i % 2 ? isnan(y[i]) : y[i] == 0.0f, "relu element %d", i);
  netc_relu6_f32(37, x, y);
  for (int i = 1; i < 37; i += 2)
    ck_assert(isnan(y[i]));
}
END_TEST

static const int64_t act_counts[] = {1, 15, 16, 17, 1000, 100003};

START_TEST(test_act_vs_ref) {
  for (int a = 0; a < NETC_ACT_COUNT; a++) {
    const int64_t n = act_counts[_i];
    float *x = tu_random(n, 900 + (uint32_t)a), *y = tu_alloc(n, 1), *r = tu_alloc(n, 0);
    for (int64_t i = 0; i < n; i++)
      x[i] *= 8.0f;  // cover relu6's top and the tails of sigmoid / tanh
    netc_act_f32((netc_act)a, 0.01f, n, x, y);
    netc_ref_act_f32((netc_act)a, 0.01f, n, x, r);
    tu_assert_close(netc_act_name((netc_act)a), y, r, n, 1e-6);
    // In place gives the same.
    netc_act_f32((netc_act)a, 0.01f, n, x, x);
    tu_assert_close("in place", x, r, n, 1e-6);
    tu_free(x);
    tu_free(y);
    tu_free(r);
  }
}
END_TEST

// The vectorised sigmoid / tanh / GELU at the ends of the float range:
// infinities, NaN, signed zeros, tiny and huge values, in the vector body
// and in the partial tail, against the reference in double.
START_TEST(test_act_extremes) {
  const float v[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-8f, -1e-8f, 0.3f, -0.3f, 0.625f, -0.625f,
                     3.9f, -3.9f, 9.0f, -9.0f, 10.5f, -10.5f, 20.0f, -20.0f, 44.0f, -44.0f,
                     88.5f, -88.5f, 100.0f, -100.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN};
  const int64_t n = (int64_t)(sizeof v / sizeof v[0]);
  float y[sizeof v / sizeof v[0]], r[sizeof v / sizeof v[0]];
  for (int a = 0; a < NETC_ACT_COUNT; a++) {
    netc_act_f32((netc_act)a, 0.01f, n, v, y);
    netc_ref_act_f32((netc_act)a, 0.01f, n, v, r);
    for (int64_t i = 0; i < n; i++) {
      const char *name = netc_act_name((netc_act)a);
      if (isnan(r[i])) {
        ck_assert_msg(isnan(y[i]), "%s(%g) = %g, want NaN", name, (double)v[i], (double)y[i]);
      } else if (isinf(r[i])) {
        ck_assert_msg(y[i] == r[i], "%s(%g) = %g, want %g", name, (double)v[i], (double)y[i], (double)r[i]);
      } else {
        double tol = 1e-6 * fmax(fabs((double)r[i]), 1.0);
        ck_assert_msg(fabs((double)y[i] - (double)r[i]) <= tol, "%s(%g) = %.9g, want %.9g", name,
                      (double)v[i], (double)y[i], (double)r[i]);
      }
    }
  }
}
END_TEST

//
// Arithmetic
//

// Broadcasting against the definition: SE scales, row and column vectors,
// scalars-as-tensors, operands broadcast on both sides, lengths off the
// vector width; then in place over the full-shape operand.
static const struct {
  int32_t rank;
  int64_t out[4], a[4], b[4];
} bcast_cases[] = {
  {4, {2, 24, 7, 9}, {2, 24, 7, 9}, {2, 24, 1, 1}},   // x * se(x)
  {4, {2, 24, 7, 9}, {1, 24, 1, 1}, {2, 24, 7, 9}},   // a scale first
  {4, {1, 3, 5, 17}, {1, 3, 5, 17}, {1, 1, 1, 17}},   // a row vector
  {4, {1, 3, 5, 17}, {1, 3, 5, 1}, {1, 3, 1, 17}},    // both broadcast: an outer product
  {3, {4, 1, 33}, {4, 1, 33}, {1, 1, 1}},             // one element
  {2, {6, 40}, {1, 40}, {6, 1}},
  {1, {19}, {19}, {1}},
};

START_TEST(test_broadcast_vs_ref) {
  const int32_t rank = bcast_cases[_i].rank;
  const int64_t *out = bcast_cases[_i].out, *as = bcast_cases[_i].a, *bs = bcast_cases[_i].b;
  int64_t n = 1, na = 1, nb = 1;
  for (int d = 0; d < rank; d++)
    n *= out[d], na *= as[d], nb *= bs[d];
  float *a = tu_random(na, 30 + (uint32_t)_i), *b = tu_random(nb, 40 + (uint32_t)_i);
  float *y = tu_alloc(n, 1), *r = tu_alloc(n, 0);
  const char ops[4] = {'+', '-', '*', '/'};
  for (int k = 0; k < 4; k++) {
    netc_broadcast_f32(ops[k], rank, out, as, bs, a, b, y);
    netc_ref_broadcast_f32(ops[k], rank, out, as, bs, a, b, r);
    char what[16];
    snprintf(what, sizeof what, "broadcast %c", ops[k]);
    tu_assert_close(what, y, r, n, 0);
  }
  // In place over the operand that has the output's shape.
  if (na == n) {
    netc_ref_broadcast_f32('-', rank, out, as, bs, a, b, r);
    netc_broadcast_f32('-', rank, out, as, bs, a, b, a);
    tu_assert_close("broadcast - in place over a", a, r, n, 0);
  } else if (nb == n) {
    netc_ref_broadcast_f32('-', rank, out, as, bs, a, b, r);
    netc_broadcast_f32('-', rank, out, as, bs, a, b, b);
    tu_assert_close("broadcast - in place over b", b, r, n, 0);
  }
  tu_free(a);
  tu_free(b);
  tu_free(y);
  tu_free(r);
}
END_TEST

START_TEST(test_binary_vs_ref) {
  const int64_t n = act_counts[_i];
  float *a = tu_random(n, 10), *b = tu_random(n, 11), *y = tu_alloc(n, 0), *r = tu_alloc(n, 0);
  netc_add_f32(n, a, b, y);
  netc_ref_binary_f32('+', n, a, b, 0, 0, r);
  tu_assert_close("add", y, r, n, 0);
  netc_sub_f32(n, a, b, y);
  netc_ref_binary_f32('-', n, a, b, 0, 0, r);
  tu_assert_close("sub", y, r, n, 0);
  netc_mul_f32(n, a, b, y);
  netc_ref_binary_f32('*', n, a, b, 0, 0, r);
  tu_assert_close("mul", y, r, n, 0);
  netc_add_scalar_f32(n, a, 0.75f, y);
  netc_ref_binary_f32('+', n, a, NULL, 0.75f, 0, r);
  tu_assert_close("add scalar", y, r, n, 0);
  netc_mul_scalar_f32(n, a, -3.0f, y);
  netc_ref_binary_f32('*', n, a, NULL, -3.0f, 0, r);
  tu_assert_close("mul scalar", y, r, n, 0);
  netc_rsub_scalar_f32(n, 1.0f, a, y);
  netc_ref_binary_f32('-', n, a, NULL, 1.0f, 1, r);
  tu_assert_close("rsub scalar", y, r, n, 0);
  netc_div_f32(n, a, b, y);
  netc_ref_binary_f32('/', n, a, b, 0, 0, r);
  tu_assert_close("div", y, r, n, 0);
  netc_div_scalar_f32(n, a, 3.0f, y);
  netc_ref_binary_f32('/', n, a, NULL, 3.0f, 0, r);
  tu_assert_close("div scalar", y, r, n, 0);
  netc_rdiv_scalar_f32(n, -2.0f, a, y);
  netc_ref_binary_f32('/', n, a, NULL, -2.0f, 1, r);
  tu_assert_close("rdiv scalar", y, r, n, 0);
  // Residual add + ReLU, and in place (y == a).
  netc_ref_binary_f32('+', n, a, b, 0, 0, r);
  netc_ref_act_f32(NETC_ACT_RELU, 0, n, r, r);
  netc_add_act_f32(NETC_ACT_RELU, 0, n, a, b, a);
  tu_assert_close("add + relu in place", a, r, n, 0);
  tu_free(a);
  tu_free(b);
  tu_free(y);
  tu_free(r);
}
END_TEST

START_TEST(test_binary_hand) {
  const float a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
  float y[3];
  netc_sub_f32(3, a, b, y);
  ck_assert_float_eq(y[2], -27);
  netc_rsub_scalar_f32(3, 1.0f, a, y);
  ck_assert_float_eq(y[0], 0);
  ck_assert_float_eq(y[2], -2);
  netc_add_act_f32(NETC_ACT_RELU6, 0, 3, a, b, y);
  ck_assert_float_eq(y[0], 6);
}
END_TEST

//
// Pad, concat, normalize
//

// [[1 2] [3 4]] padded top 1, bottom 0, left 2, right 1 with 9:
//   9 9 9 9 9
//   9 9 1 2 9
//   9 9 3 4 9
START_TEST(test_pad_hand) {
  const float x[4] = {1, 2, 3, 4};
  const float want[15] = {9, 9, 9, 9, 9, 9, 9, 1, 2, 9, 9, 9, 3, 4, 9};
  float y[15];
  netc_pad2d_f32(1, 1, 2, 2, 1, 0, 2, 1, 9.0f, x, y);
  for (int i = 0; i < 15; i++)
    ck_assert_float_eq(y[i], want[i]);
  netc_ref_pad2d_f32(1, 1, 2, 2, 1, 0, 2, 1, 9.0f, x, y);
  for (int i = 0; i < 15; i++)
    ck_assert_float_eq(y[i], want[i]);
  // Negative padding crops: drop the first row and the last column -> [3].
  netc_pad2d_f32(1, 1, 2, 2, -1, 0, 0, -1, 0.0f, x, y);
  ck_assert_float_eq(y[0], 3);
}
END_TEST

START_TEST(test_pad_vs_ref) {
  const int64_t cases[][6] = {
    {0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 0, 0}, {0, 3, 2, 0, 0, 0}, {-2, 1, 3, -4, 0, 0},
    {5, 5, 7, 7, 0, 0}, {-1, -1, -1, -1, 0, 0},
  };
  const int64_t n = 2, c = 3, h = 7, w = 9;
  float *x = tu_random(n * c * h * w, 20);
  for (int i = 0; i < 6; i++) {
    const int64_t *p = cases[i];
    int64_t oh = h + p[0] + p[1], ow = w + p[2] + p[3];
    float *y = tu_alloc(n * c * oh * ow, 0), *r = tu_alloc(n * c * oh * ow, 0);
    netc_pad2d_f32(n, c, h, w, p[0], p[1], p[2], p[3], -0.5f, x, y);
    netc_ref_pad2d_f32(n, c, h, w, p[0], p[1], p[2], p[3], -0.5f, x, r);
    tu_assert_close("pad2d", y, r, n * c * oh * ow, 0);
    tu_free(y);
    tu_free(r);
  }
  tu_free(x);
}
END_TEST

// Channel concat of [1, 1, 2] and [1, 2, 2] tensors (hw = 2) with batch 2.
START_TEST(test_concat_hand) {
  const float a[4] = {1, 2, /* batch 1 */ 3, 4};
  const float b[8] = {10, 11, 12, 13, /* batch 1 */ 20, 21, 22, 23};
  const float *xs[2] = {a, b};
  const int64_t inner[2] = {2, 4};
  const float want[12] = {1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23};
  float y[12];
  netc_concat_f32(2, 2, xs, inner, y);
  for (int i = 0; i < 12; i++)
    ck_assert_float_eq(y[i], want[i]);
  netc_ref_concat_f32(2, 2, xs, inner, y);
  for (int i = 0; i < 12; i++)
    ck_assert_float_eq(y[i], want[i]);
}
END_TEST

START_TEST(test_concat_vs_ref) {
  const int64_t inner[3] = {3 * 49, 1 * 49, 5 * 49}, outer = 3;
  float *xs[3];
  for (int i = 0; i < 3; i++)
    xs[i] = tu_random(outer * inner[i], 30 + (uint32_t)i);
  const int64_t total = outer * (inner[0] + inner[1] + inner[2]);
  float *y = tu_alloc(total, 0), *r = tu_alloc(total, 0);
  netc_concat_f32(outer, 3, (const float *const *)xs, inner, y);
  netc_ref_concat_f32(outer, 3, (const float *const *)xs, inner, r);
  tu_assert_close("concat", y, r, total, 0);
  for (int i = 0; i < 3; i++)
    tu_free(xs[i]);
  tu_free(y);
  tu_free(r);
}
END_TEST

START_TEST(test_normalize) {
  // (x - mean) / std per channel: channel 0 mean 1 std 2, channel 1 mean -1 std 0.5.
  const float x[4] = {3, 5, 0, 1}, mean[2] = {1, -1}, std[2] = {2, 0.5f};
  float y[4];
  netc_normalize_f32(1, 2, 2, mean, std, x, y);
  ck_assert_float_eq(y[0], 1);
  ck_assert_float_eq(y[1], 2);
  ck_assert_float_eq(y[2], 2);
  ck_assert_float_eq(y[3], 4);
  const int64_t n = 2, c = 3, hw = 37;
  float *in = tu_random(n * c * hw, 40), *out = tu_alloc(n * c * hw, 0), *r = tu_alloc(n * c * hw, 0);
  const float m3[3] = {0.485f, 0.456f, 0.406f}, s3[3] = {0.229f, 0.224f, 0.225f};
  netc_normalize_f32(n, c, hw, m3, s3, in, out);
  netc_ref_normalize_f32(n, c, hw, m3, s3, in, r);
  tu_assert_close("normalize", out, r, n * c * hw, 1e-6);
  tu_free(in);
  tu_free(out);
  tu_free(r);
}
END_TEST

// torch.nn.functional.softplus at a few points, default (beta 1, threshold
// 20) and beta=2, threshold=5 (where 2 * 3 > 5: the identity).
START_TEST(test_softplus_torch) {
  const float x[6] = {-30, -1, 0, 0.5f, 3, 12};
  const float want1[6] = {9.357622912219837e-14f, 0.3132616877555847f, 0.6931471824645996f, 0.9740769863128662f,
                          3.0485873222351074f, 12.000005722045898f};
  const float want2[6] = {4.37825544636038e-27f, 0.06346400082111359f, 0.3465735912322998f, 0.65663081407547f, 3, 12};
  float y[6], r[6];
  netc_softplus_f32(6, 1, 20, x, y);
  netc_ref_softplus_f32(6, 1, 20, x, r);
  for (int i = 0; i < 6; i++) {
    ck_assert_float_eq_tol(y[i], want1[i], 1e-6 * (fabsf(want1[i]) + 1e-30f) + 1e-7);
    ck_assert_float_eq_tol(r[i], want1[i], 1e-6 * (fabsf(want1[i]) + 1e-30f) + 1e-7);
  }
  netc_softplus_f32(6, 2, 5, x, y);
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq_tol(y[i], want2[i], 1e-6 * (fabsf(want2[i]) + 1e-30f) + 1e-7);
  // Large inputs stay finite (the threshold), -inf gives 0, NaN stays NaN.
  const float ext[3] = {1e30f, -INFINITY, NAN};
  netc_softplus_f32(3, 1, 20, ext, y);
  ck_assert_float_eq(y[0], 1e30f);
  ck_assert_float_eq(y[1], 0);
  ck_assert(isnan(y[2]));
}
END_TEST

Suite *make_elementwise_suite(void) {
  Suite *s = suite_create("elementwise");

  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, test_softplus_torch);
  tcase_add_loop_test(tc, test_act_values, 0, (int)(sizeof act_values / sizeof act_values[0]));
  tcase_add_test(tc, test_act_wrappers);
  tcase_add_test(tc, test_relu_nan);
  tcase_add_test(tc, test_act_extremes);
  tcase_add_test(tc, test_binary_hand);
  tcase_add_test(tc, test_pad_hand);
  tcase_add_test(tc, test_concat_hand);
  tcase_add_test(tc, test_normalize);
  suite_add_tcase(s, tc);

  tc = tcase_create("fast");
  int ncounts = (int)(sizeof act_counts / sizeof act_counts[0]);
  tcase_add_loop_test(tc, test_act_vs_ref, 0, ncounts);
  tcase_add_loop_test(tc, test_binary_vs_ref, 0, ncounts);
  tcase_add_loop_test(tc, test_broadcast_vs_ref, 0, (int)(sizeof bcast_cases / sizeof bcast_cases[0]));
  tcase_add_test(tc, test_pad_vs_ref);
  tcase_add_test(tc, test_concat_vs_ref);
  suite_add_tcase(s, tc);
  return s;
}
