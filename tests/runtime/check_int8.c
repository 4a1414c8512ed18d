// check_int8.c -- the int8 kernels: requantization against double
// arithmetic, the quantization rules on hand-derived cases, the fast
// convolution / linear kernels bit-identical to their references over many
// shapes, add / rescale / pools against float computations within a step.

#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//
// Helpers
//

// ck_assert_msg without its mark point on success: Check records every passing
// assertion through a pipe, far too slow for per-element checks.
#define CHECK(expr, ...)          \
  do {                            \
    if (!(expr))                  \
      ck_abort_msg(__VA_ARGS__);  \
  } while (0)

static uint32_t rng_next(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;  // 24 bits
}
static int32_t rng_int(uint32_t *s, int32_t lo, int32_t hi) {  // [lo, hi]
  return lo + (int32_t)(rng_next(s) % (uint32_t)(hi - lo + 1));
}
static double rng_unit(uint32_t *s) { return (double)rng_next(s) / (double)(1u << 24); }

// Byte buffers with guard bytes on both sides (checked by u8_free), and
// `misalign` bytes shifting the start. Layout:
//   [misalign][header: n, misalign][GUARD8][n bytes][GUARD8]
#define GUARD8 64
#define SENT8 0xA5

static uint8_t *u8_alloc(int64_t n, int misalign) {
  uint8_t *raw = malloc((size_t)(misalign + 16 + 2 * GUARD8 + n));
  ck_assert_ptr_nonnull(raw);
  int64_t hdr[2] = {n, misalign};
  memcpy(raw + misalign, hdr, sizeof hdr);
  uint8_t *p = raw + misalign + 16 + GUARD8;
  memset(p - GUARD8, SENT8, GUARD8);
  memset(p + n, SENT8, GUARD8);
  memset(p, 0x5A, (size_t)n);  // not zero: unwritten output shows
  return p;
}

static void u8_free(void *q) {
  uint8_t *p = q;
  if (!p)
    return;
  int64_t hdr[2];
  memcpy(hdr, p - GUARD8 - 16, sizeof hdr);
  for (int i = 0; i < GUARD8; i++) {
    CHECK(p[-1 - i] == SENT8, "byte buffer underrun at -%d", i + 1);
    CHECK(p[hdr[0] + i] == SENT8, "byte buffer overrun at n + %d (n = %lld)", i, (long long)hdr[0]);
  }
  free(p - GUARD8 - 16 - hdr[1]);
}

static int64_t r4(int64_t k) { return (k + 3) / 4 * 4; }

static void fill_u8(uint8_t *x, int64_t n, uint32_t *s) {
  for (int64_t i = 0; i < n; i++)
    x[i] = (uint8_t)rng_int(s, 0, 255);
}

// int8 [rows][K4] with the K4 - K padding columns 0, as the loader stores it.
static void fill_w(int8_t *w, int64_t rows, int64_t K, uint32_t *s) {
  int64_t K4 = r4(K);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t k = 0; k < K4; k++)
      w[r * K4 + k] = (int8_t)(k < K ? rng_int(s, -128, 127) : 0);
}

// A float bias's part of the rounding offset (netc_quantize_bias_s32): up to
// 8 output steps either way in 2^-20 of a step, so each channel's offset
// differs and is not a multiple of 2^(shift - 1). Drawn from the
// multiplier, not from the tests' random stream (whose data stay as they were).
static void add_round(netc_requant *rq) {
  uint32_t s = (uint32_t)rq->mult;
  if (rq->mult != 0 && rq->shift > 24)
    rq->round += (int64_t)rng_int(&s, -(1 << 23), 1 << 23) * ((int64_t)1 << (rq->shift - 20));
}

// Biases and multipliers that put the outputs in [0, 255] mostly, not at
// the clamp: |acc| is about sqrt(K) * 74 * 147 for uniform data.
static void fill_bias_rq(int64_t rows, int64_t K, int32_t *bias, netc_requant *rq, uint32_t *s) {
  for (int64_t r = 0; r < rows; r++) {
    bias[r] = rng_int(s, -60000, 60000);
    double M = 60.0 / (sqrt((double)K) * 11000.0) * (0.5 + 1.5 * rng_unit(s));
    rq[r] = netc_requant_from_real(M);
    add_round(&rq[r]);
  }
}

// "Fine" data: inputs in [0, 3], weights in [-3, 3], M in [0.5, 1], so that
// an accumulator wrong by one changes the output most of the time (with the
// data above, only an error of about 1/M would show).
static void make_fine(uint8_t *x, int64_t nx, int8_t *w, int64_t rows, int64_t K, int32_t *bias,
                      netc_requant *rq, uint32_t *s) {
  for (int64_t i = 0; i < nx; i++)
    x[i] = (uint8_t)rng_int(s, 0, 3);
  const int64_t K4 = r4(K);
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t k = 0; k < K; k++)
      w[r * K4 + k] = (int8_t)rng_int(s, -3, 3);
    bias[r] = rng_int(s, -20, 20);
    rq[r] = netc_requant_from_real(0.5 + 0.5 * rng_unit(s));
    add_round(&rq[r]);
  }
}

// Fails unless got == want everywhere, naming the first difference.
static void assert_same_u8(const char *what, const uint8_t *got, const uint8_t *want, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    CHECK(got[i] == want[i], "%s: element %lld is %d, the reference says %d", what, (long long)i,
                  got[i], want[i]);
}

// Fails when the output is one value: such a test would prove nothing.
static void assert_varied(const char *what, const uint8_t *y, int64_t n) {
  if (n < 8)
    return;
  int64_t distinct = 0;
  int seen[256] = {0};
  for (int64_t i = 0; i < n; i++)
    if (!seen[y[i]]++)
      distinct++;
  CHECK(distinct >= 3, "%s: only %lld distinct output values", what, (long long)distinct);
}

//
// Requantization
//

START_TEST(test_requant_hand) {
  netc_requant r = netc_requant_from_real(0.5);
  ck_assert_int_eq(r.mult, 1 << 30);
  ck_assert_int_eq(r.shift, 31);
  // round half up: 1.5 -> 2, -1.5 -> -1, 2.5 -> 3, -2.5 -> -2
  ck_assert_int_eq(netc_requant_apply(3, r), 2);
  ck_assert_int_eq(netc_requant_apply(-3, r), -1);
  ck_assert_int_eq(netc_requant_apply(5, r), 3);
  ck_assert_int_eq(netc_requant_apply(-5, r), -2);
  ck_assert_int_eq(netc_requant_apply(0, r), 0);
  // 1/3 = (2/3) 2^-1: mult = round(2^32 / 3) = 1431655765, shift 32
  r = netc_requant_from_real(1.0 / 3.0);
  ck_assert_int_eq(r.mult, 1431655765);
  ck_assert_int_eq(r.shift, 32);
  ck_assert_int_eq(netc_requant_apply(300, r), 100);
  // f rounds up to 1: mult 2^30 with the exponent one higher
  r = netc_requant_from_real(1.0 - ldexp(1.0, -40));
  ck_assert_int_eq(r.mult, 1 << 30);
  ck_assert_int_eq(r.shift, 30);
  ck_assert_int_eq(netc_requant_apply(-1000, r), -1000);
  // 2^-31 = 2^30 * 2^-61; 2^-33 is below the range: zero
  r = netc_requant_from_real(ldexp(1.0, -31));
  ck_assert_int_eq(r.mult, 1 << 30);
  ck_assert_int_eq(r.shift, 61);
  r = netc_requant_from_real(ldexp(1.0, -33));
  ck_assert_int_eq(r.mult, 0);
  ck_assert_int_eq(r.shift, 62);
  ck_assert_int_eq(netc_requant_apply(INT32_MAX, r), 0);
  ck_assert_int_eq(netc_requant_apply(INT32_MIN, r), 0);
  r = netc_requant_from_real(0.0);
  ck_assert_int_eq(r.mult, 0);
  r = netc_requant_from_real(ldexp(1.0, 31));
  ck_assert_int_eq(r.mult, INT32_MAX);
  ck_assert_int_eq(r.shift, 1);
}
END_TEST

START_TEST(test_requant_random) {
  uint32_t s = 7;
  for (int i = 0; i < 200000; i++) {
    double M = pow(10.0, -6.0 + 6.0 * rng_unit(&s));
    if (M >= 1.0)
      continue;
    netc_requant r = netc_requant_from_real(M);
    CHECK(r.mult >= (1 << 30) && r.shift >= 1 && r.shift <= 62, "M = %.17g: mult %d shift %d", M,
                  r.mult, r.shift);
    // The multiplier is M to 2^-31 relative.
    double Mq = ldexp((double)r.mult, -r.shift);
    CHECK(fabs(Mq - M) <= M * ldexp(1.0, -31), "M = %.17g represented as %.17g", M, Mq);
    // Accumulators of every size up to 2^30 (so |acc| * M * 2^-31 < 0.5).
    int32_t bits = rng_int(&s, 0, 30);
    int32_t acc = (int32_t)(((int64_t)rng_next(&s) << 8 | (rng_next(&s) & 0xff)) & (((int64_t)1 << bits) - 1));
    if (rng_next(&s) & 1)
      acc = -acc;
    double want = (double)acc * M;
    int32_t got = netc_requant_apply(acc, r);
    CHECK(fabs((double)got - want) <= 1.0, "acc %d * M %.17g = %.17g, got %d", acc, M, want, got);
    // With the represented M the result is the correctly rounded one (half up).
    double exact = (double)acc * Mq;  // exact: 31 + 30 bits < 2^62 but may round; compare loosely
    CHECK(fabs((double)got - exact) <= 0.5 + 1e-6, "acc %d * %.17g = %.17g, got %d", acc, Mq, exact,
                  got);
  }
}
END_TEST

//
// Quantization rules
//

START_TEST(test_quantize_hand) {
  // scale 0.5 (inv 2), zp 10: x * 2 rounded to even, + 10, clamped.
  const float x[] = {1.25f, 1.75f, -1.25f, 0.0f, -5.0f, -100.0f, 1000.0f, 122.5f, 122.75f, NAN, INFINITY, -INFINITY};
  const uint8_t want[] = {12, 14, 8, 10, 0, 0, 255, 255, 255, 0, 255, 0};
  uint8_t y[12];
  netc_quantize_u8(12, x, 2.0f, 10, y);
  for (int i = 0; i < 12; i++)
    CHECK(y[i] == want[i], "quantize(%g) = %d, want %d", (double)x[i], y[i], want[i]);
  // 122.25 * 2 = 244.5 -> 244 (even) + 10 = 254
  float x2 = 122.25f;
  netc_quantize_u8(1, &x2, 2.0f, 10, y);
  ck_assert_int_eq(y[0], 254);
  const uint8_t q[] = {0, 10, 12, 255};
  float d[4];
  netc_dequantize_u8(4, q, 0.5f, 10, d);
  ck_assert(d[0] == -5.0f && d[1] == 0.0f && d[2] == 1.0f && d[3] == 122.5f);
}
END_TEST

START_TEST(test_quantize_weights_hand) {
  // Channel 0: amax 7.96875 = 127.5 / 16, so scale 1/16 (exact) and w * 16
  // is exact; the max maps to 127.5 -> 128 -> clamped to 127.
  // Channel 1: min -7.96875 -> -127.5 -> -128 (ties to even).
  // Ties elsewhere: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -1.5 -> -2.
  // Channel 2: zeros: scale FLT_EPSILON, all 0. Channel 3: max 1.0 only:
  // scale 1 / 127.5, 1.0 -> 127.5 -> 127 (in float: 127.5 exactly? allow 127).
  const float w[4 * 5] = {
      7.96875f, 0.03125f, 0.09375f, 0.15625f, -0.09375f,
      -7.96875f, 1.0f, -1.0f, 0.0f, 7.9375f,
      0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
      1.0f, 0.0f, -1.0f, 0.5f, 0.25f,
  };
  int8_t wq[4 * 8];
  float sc[4];
  memset(wq, 0x55, sizeof wq);
  netc_quantize_weights_s8(4, 5, w, wq, sc);
  ck_assert(sc[0] == 0.0625f && sc[1] == 0.0625f);
  ck_assert(sc[2] == FLT_EPSILON);
  ck_assert(sc[3] == 1.0f / 127.5f);
  const int8_t want0[8] = {127, 0, 2, 2, -2, 0, 0, 0};
  const int8_t want1[8] = {-128, 16, -16, 0, 127, 0, 0, 0};
  for (int k = 0; k < 8; k++) {
    CHECK(wq[k] == want0[k], "channel 0, k %d: %d, want %d", k, wq[k], want0[k]);
    CHECK(wq[8 + k] == want1[k], "channel 1, k %d: %d, want %d", k, wq[8 + k], want1[k]);
    ck_assert_int_eq(wq[16 + k], 0);
  }
  ck_assert_int_eq(wq[24], 127);
  ck_assert_int_eq(wq[26], -127);
  ck_assert_int_eq(wq[27], 64);  // 63.75 -> 64
  ck_assert_int_eq(wq[28], 32);  // 31.875 -> 32
  ck_assert_int_eq(wq[29], 0);

  // Bias: in_scale 0.5, scales 1/16: the accumulator unit is 1/32, bias 1.0
  // = 32 units, -0.046875 = -1.5 units (not rounded: in the offset); in_zp 3
  // times the row sums (127+0+2+2-2 = 129, -128+16-16+0+127 = -1); M = 0.5
  // / 16 / 0.125 = 0.25 = 2^30 * 2^-32, so round = 2^31 + units * 2^30.
  const float bias[2] = {1.0f, -0.046875f};
  int32_t be[2];
  netc_requant rq[2];
  netc_quantize_bias_s32(2, 5, wq, sc, bias, 0.5f, 3, 0.125f, be, rq);
  ck_assert_int_eq(be[0], -3 * 129);
  ck_assert_int_eq(be[1], -3 * -1);
  ck_assert_int_eq(rq[0].mult, 1 << 30);
  ck_assert_int_eq(rq[0].shift, 32);
  ck_assert(rq[0].round == ((int64_t)1 << 31) + ((int64_t)32 << 30));
  ck_assert(rq[1].round == ((int64_t)1 << 31) - ((int64_t)3 << 29));
  netc_quantize_bias_s32(2, 5, wq, sc, NULL, 0.5f, 0, 0.125f, be, rq);
  ck_assert_int_eq(be[0], 0);
  ck_assert_int_eq(be[1], 0);
  ck_assert(rq[0].round == (int64_t)1 << 31 && rq[1].round == (int64_t)1 << 31);
  // A huge bias saturates the offset at 2^61 (plus the half), not beyond.
  const float big[2] = {1e30f, -1e30f};
  netc_quantize_bias_s32(2, 5, wq, sc, big, 0.5f, 0, 0.125f, be, rq);
  ck_assert(rq[0].round == ((int64_t)1 << 31) + ((int64_t)1 << 61));
  ck_assert(rq[1].round == ((int64_t)1 << 31) - ((int64_t)1 << 61));
  ck_assert_int_eq(netc_requant_apply(INT32_MIN, rq[0]), (int32_t)(((int64_t)INT32_MIN * (1 << 30) + rq[0].round) >> 32));
  ck_assert_int_eq(netc_requant_apply(INT32_MIN, rq[1]), INT32_MIN / 4 - (1 << 29));
}
END_TEST

// The bias is applied unrounded, as PyTorch adds it: a bias of half an
// accumulator unit moves an output by one where rounding it to the
// accumulator's units (to 0, ties to even) would not, and 0.4 of a unit
// at M = 2 adds 0.8 steps (rounded away by the old scheme as well).
START_TEST(test_bias_unrounded) {
  // One channel, K = 4: w[0] = 7.96875 is the channel's max, so its scale
  // is 7.96875 / 127.5 = 1/16 and wq[0] = 127 (127.5 clamped); in_scale 0.5:
  // the accumulator unit is 1/32. x[0] = 1: acc = 127 (the other weights 0).
  const float w[4] = {7.96875f, 0.0f, 0.0f, 0.0f};
  int8_t wq[4];
  float sc;
  netc_quantize_weights_s8(1, 4, w, wq, &sc);
  ck_assert(sc == 0.0625f && wq[0] == 127);
  const uint8_t x[4] = {1, 9, 9, 9};
  const float unit = 1.0f / 32.0f;
  const struct {
    float bias, out_scale;
    int want;
  } cases[] = {
      {0.5f * unit, unit, 128},        // M 1: 127.5 -> 128 (old: bias 0 -> 127)
      {-0.5f * unit, unit, 127},       // 126.5 -> 127 (half up)
      {-0.5001f * unit, unit, 126},    // just below the half
      {0.4f * unit, unit / 2, 255},    // M 2: 254.8 -> 255 (old: bias 0 -> 254)
      {0.2f * unit, unit / 2, 254},    // 254.4 -> 254
  };
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    int32_t be;
    netc_requant rq;
    netc_quantize_bias_s32(1, 4, wq, &sc, &cases[i].bias, 0.5f, 0, cases[i].out_scale, &be, &rq);
    ck_assert_int_eq(be, 0);
    uint8_t y = 0, yr = 0;
    netc_ref_qlinear_u8(1, 4, 1, x, 0, wq, &be, &rq, 0, 0, 255, &yr);
    netc_qlinear_u8(1, 4, 1, x, 0, wq, &be, &rq, 0, 0, 255, &y, NULL);
    CHECK(yr == cases[i].want, "case %d: reference %d, want %d", i, yr, cases[i].want);
    CHECK(y == yr, "case %d: fast %d, reference %d", i, y, yr);
  }
}
END_TEST

//
// Convolution: fast vs reference
//

typedef struct {
  int64_t n, ic, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups;
  int32_t in_zp, out_zp, act;  // act: 0 none, 1 relu, 2 relu6
} QConvCase;

static const QConvCase qconv_cases[] = {
  {1, 3, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 128, 0, 0},       // K = 27
  {3, 4, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 128, 1},        // batch 3, out_c 5
  {1, 8, 10, 10, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 255, 3, 0},     // 1x1, N = 100
  {1, 6, 11, 13, 9, 3, 5, 2, 3, 2, 0, 1, 3, 1, 1, 1, 17, 200, 2},     // strided, asymmetric pad
  {2, 5, 12, 12, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 90, 60, 0},      // dilated
  {1, 8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 128, 128, 1},     // groups 4
  {3, 6, 9, 7, 10, 3, 3, 2, 1, 1, 1, 0, 2, 1, 1, 2, 255, 0, 0},       // groups 2, icg 3
  {1, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, 128, 0, 1},   // depthwise
  {3, 8, 9, 11, 16, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1, 8, 255, 77, 2},     // depthwise x2, stride 2
  {1, 4, 13, 13, 4, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 4, 0, 128, 0},      // depthwise 5x5 dilated
  {1, 32, 15, 15, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 32, 100, 50, 0},  // depthwise 7x7 stride 2
  {1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100, 5, 1},    // big enough for threads
  {1, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, 30, 0, 1},       // LeNet conv1
  {1, 2, 3, 3, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, 200, 90, 0},       // kernel beyond the input
  {2, 3, 1, 1, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 7, 7, 0},          // 1x1 image
  {1, 3, 33, 35, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 64, 192, 2},     // N = 1155, columns tail
  {1, 5, 9, 75, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 30, 60, 0},       // stride 2: runs over 32
  {1, 3, 12, 70, 8, 7, 7, 2, 2, 3, 3, 3, 2, 1, 1, 1, 128, 0, 1},      // 7x7 stride-2 stem-like
};

static netc_qconv2d_params make_qconv(const QConvCase *c) {
  netc_qconv2d_params q;
  memset(&q, 0, sizeof q);
  netc_conv2d_params *p = &q.p;
  p->n = c->n;
  p->in_c = c->ic;
  p->in_h = c->h;
  p->in_w = c->w;
  p->out_c = c->oc;
  p->kernel_h = c->kh;
  p->kernel_w = c->kw;
  p->stride_h = c->sh;
  p->stride_w = c->sw;
  p->pad_top = c->pt;
  p->pad_bottom = c->pb;
  p->pad_left = c->pl;
  p->pad_right = c->pr;
  p->dilation_h = c->dh;
  p->dilation_w = c->dw;
  p->groups = c->groups;
  p->out_h = netc_conv2d_out_size(c->h, c->kh, c->sh, c->pt, c->pb, c->dh);
  p->out_w = netc_conv2d_out_size(c->w, c->kw, c->sw, c->pl, c->pr, c->dw);
  q.in_zp = c->in_zp;
  q.out_zp = c->out_zp;
  q.out_min = c->act ? c->out_zp : 0;
  q.out_max = c->act == 2 ? (c->out_zp + 40 > 255 ? 255 : c->out_zp + 40) : 255;
  return q;
}

// varied: also require the outputs to be spread (not all clamped), for
// cases whose zero point and clamp leave room on both sides.
static void run_qconv_case(const QConvCase *c, uint32_t seed, int varied) {
  netc_qconv2d_params q = make_qconv(c);
  const netc_conv2d_params *p = &q.p;
  char err[256];
  CHECK(netc_conv2d_check(p, err, sizeof err) == 0, "%s", err);
  const int64_t K = p->in_c / p->groups * p->kernel_h * p->kernel_w, K4 = r4(K);
  const int64_t nx = p->n * p->in_c * p->in_h * p->in_w, ny = p->n * p->out_c * p->out_h * p->out_w;
  uint32_t s = seed;
  uint8_t *x = u8_alloc(nx, 1);
  int8_t *w = (int8_t *)u8_alloc(p->out_c * K4, 3);
  int32_t *bias = malloc(sizeof(int32_t) * (size_t)p->out_c);
  netc_requant *rq = malloc(sizeof(netc_requant) * (size_t)p->out_c);
  uint8_t *y = u8_alloc(ny, 0), *yr = u8_alloc(ny, 2);
  int64_t sb = netc_qconv2d_scratch_bytes(&q);
  ck_assert(sb >= 0);
  uint8_t *scratch = u8_alloc(sb, 5);
  fill_u8(x, nx, &s);
  fill_w(w, p->out_c, K, &s);
  fill_bias_rq(p->out_c, K, bias, rq, &s);
  netc_ref_qconv2d_u8(&q, x, w, bias, rq, yr);
  netc_qconv2d_u8(&q, x, w, bias, rq, y, scratch);
  char what[128];
  snprintf(what, sizeof what, "qconv %lldx%lld g%lld ic%lld oc%lld", (long long)c->kh, (long long)c->kw,
           (long long)c->groups, (long long)c->ic, (long long)c->oc);
  assert_same_u8(what, y, yr, ny);
  if (varied)
    assert_varied(what, yr, ny);
  // Without a bias too.
  netc_ref_qconv2d_u8(&q, x, w, NULL, rq, yr);
  netc_qconv2d_u8(&q, x, w, NULL, rq, y, scratch);
  assert_same_u8(what, y, yr, ny);
  // Fine data, in_zp within its range (padding taps count like pixels).
  make_fine(x, nx, w, p->out_c, K, bias, rq, &s);
  q.in_zp %= 4;
  netc_ref_qconv2d_u8(&q, x, w, bias, rq, yr);
  netc_qconv2d_u8(&q, x, w, bias, rq, y, scratch);
  assert_same_u8(what, y, yr, ny);
  u8_free(x);
  u8_free(w);
  u8_free(y);
  u8_free(yr);
  u8_free(scratch);
  free(bias);
  free(rq);
}

START_TEST(test_qconv_cases) { run_qconv_case(&qconv_cases[_i], 100u + (uint32_t)_i, 1); }
END_TEST

// Random shapes: dense, grouped and depthwise (multiplier 1 or 2).
START_TEST(test_qconv_random) {
  uint32_t s = 1000u + 31u * (uint32_t)_i;
  for (int tries = 0;; tries++) {
    QConvCase c;
    int kind = rng_int(&s, 0, 2);
    c.n = rng_int(&s, 0, 1) ? 1 : 3;
    int64_t icg = rng_int(&s, 1, 7), ocg = rng_int(&s, 1, 9);
    c.groups = kind == 0 ? 1 : rng_int(&s, 2, 4);
    if (kind == 2) {
      c.groups = rng_int(&s, 2, 12);
      icg = 1;
      ocg = rng_int(&s, 1, 2);
    }
    c.ic = icg * c.groups;
    c.oc = ocg * c.groups;
    c.h = rng_int(&s, 1, 14);
    c.w = rng_int(&s, 1, 14);
    c.kh = rng_int(&s, 1, 4);
    c.kw = rng_int(&s, 1, 4);
    c.sh = rng_int(&s, 1, 3);
    c.sw = rng_int(&s, 1, 3);
    c.dh = rng_int(&s, 1, 2);
    c.dw = rng_int(&s, 1, 2);
    c.pt = rng_int(&s, 0, 2);
    c.pb = rng_int(&s, 0, 2);
    c.pl = rng_int(&s, 0, 2);
    c.pr = rng_int(&s, 0, 2);
    const int32_t zps[] = {0, 128, 255, 37};
    c.in_zp = zps[rng_int(&s, 0, 3)];
    c.out_zp = zps[rng_int(&s, 0, 3)];
    c.act = rng_int(&s, 0, 2);
    if (netc_conv2d_out_size(c.h, c.kh, c.sh, c.pt, c.pb, c.dh) <= 0 ||
        netc_conv2d_out_size(c.w, c.kw, c.sw, c.pl, c.pr, c.dw) <= 0)
      continue;
    run_qconv_case(&c, s, c.act == 0 && (c.out_zp == 128 || c.out_zp == 37) && c.oc * c.n >= 12);
    if (tries > 40)
      break;
  }
}
END_TEST

START_TEST(test_qconv_ref_hand) {
  // 1 channel 3x3 input, 2x2 kernel, pad 1 on the top only, stride 1:
  // output 3x2. in_zp 10 for the padding row; M = 1 (mult 2^30, shift 30).
  netc_qconv2d_params q;
  memset(&q, 0, sizeof q);
  q.p.n = 1;
  q.p.in_c = 1;
  q.p.in_h = 3;
  q.p.in_w = 3;
  q.p.out_c = 1;
  q.p.kernel_h = 2;
  q.p.kernel_w = 2;
  q.p.stride_h = q.p.stride_w = 1;
  q.p.dilation_h = q.p.dilation_w = 1;
  q.p.pad_top = 1;
  q.p.groups = 1;
  q.p.out_h = 3;
  q.p.out_w = 2;
  q.in_zp = 10;
  q.out_zp = 100;
  q.out_min = 0;
  q.out_max = 255;
  const uint8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const int8_t w[4] = {1, -1, 2, 0};  // K = 4 = K4
  const int32_t bias = -5;
  netc_requant rq = netc_requant_from_real(1.0);
  // row 0: taps (pad, pad, x0 x1) = 10 - 10 + 2 * x[ow] -> 2, 4; + bias - 5
  // row 1: x[0][ow] - x[0][ow+1] + 2 x[1][ow] -> -1 + 8 = 7, -1 + 10 = 9
  // row 2: -1 + 14 = 13, -1 + 16 = 15
  const uint8_t want[6] = {100 - 3, 100 - 1, 100 + 2, 100 + 4, 100 + 8, 100 + 10};
  uint8_t y[6];
  netc_ref_qconv2d_u8(&q, x, w, &bias, &rq, y);
  for (int i = 0; i < 6; i++)
    CHECK(y[i] == want[i], "y[%d] = %d, want %d", i, y[i], want[i]);
  uint8_t scratch[1024];
  ck_assert(netc_qconv2d_scratch_bytes(&q) <= (int64_t)sizeof scratch);
  memset(y, 0, sizeof y);
  netc_qconv2d_u8(&q, x, w, &bias, &rq, y, scratch);
  for (int i = 0; i < 6; i++)
    CHECK(y[i] == want[i], "fast y[%d] = %d, want %d", i, y[i], want[i]);
}
END_TEST

//
// Linear
//

static const int64_t qlin_shapes[][3] = {
  {1, 1, 1}, {1, 3, 5}, {1, 17, 70}, {1, 64, 16}, {1, 100, 33}, {1, 257, 129}, {1, 1000, 10},
  {3, 1, 1}, {3, 5, 17}, {3, 64, 70}, {3, 130, 9}, {9, 257, 65}, {70, 33, 20}, {2, 4096, 200},
};

START_TEST(test_qlinear) {
  const int64_t batch = qlin_shapes[_i][0], in = qlin_shapes[_i][1], out = qlin_shapes[_i][2];
  const int32_t zps[] = {0, 128, 255};
  uint32_t s = 77u + (uint32_t)_i;
  uint8_t *x = u8_alloc(batch * in, 3);
  int8_t *w = (int8_t *)u8_alloc(out * r4(in), 1);
  int32_t *bias = malloc(sizeof(int32_t) * (size_t)out);
  netc_requant *rq = malloc(sizeof(netc_requant) * (size_t)out);
  uint8_t *y = u8_alloc(batch * out, 0), *yr = u8_alloc(batch * out, 0);
  uint8_t *scratch = u8_alloc(netc_qlinear_scratch_bytes(batch, in, out), 7);
  fill_u8(x, batch * in, &s);
  fill_w(w, out, in, &s);
  fill_bias_rq(out, in, bias, rq, &s);
  for (int z = 0; z < 3; z++) {
    int32_t ozp = zps[z], lo = z == 1 ? ozp : 0, hi = z == 2 ? 255 : (z == 1 ? 200 : 255);
    netc_ref_qlinear_u8(batch, in, out, x, zps[2 - z], w, bias, rq, ozp, lo, hi, yr);
    netc_qlinear_u8(batch, in, out, x, zps[2 - z], w, bias, rq, ozp, lo, hi, y, scratch);
    char what[96];
    snprintf(what, sizeof what, "qlinear %lld x %lld -> %lld, zp %d", (long long)batch, (long long)in,
             (long long)out, ozp);
    assert_same_u8(what, y, yr, batch * out);
    if (z == 0)
      assert_varied(what, yr, batch * out);
  }
  make_fine(x, batch * in, w, out, in, bias, rq, &s);
  netc_ref_qlinear_u8(batch, in, out, x, 0, w, bias, rq, 128, 0, 255, yr);
  netc_qlinear_u8(batch, in, out, x, 0, w, bias, rq, 128, 0, 255, y, scratch);
  assert_same_u8("qlinear, fine data", y, yr, batch * out);
  u8_free(x);
  u8_free(w);
  u8_free(y);
  u8_free(yr);
  u8_free(scratch);
  free(bias);
  free(rq);
}
END_TEST

//
// Add, rescale, table
//

static int32_t quant_ref(double real, double scale, int32_t zp, int32_t lo, int32_t hi) {
  double v = nearbyint(real / scale) + zp;
  return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

START_TEST(test_qadd) {
  uint32_t s = 4242;
  for (int t = 0; t < 300; t++) {
    float sa = (float)(0.001 + 0.2 * rng_unit(&s)), sb = (float)(0.001 + 0.2 * rng_unit(&s));
    float sy = (float)(0.002 + 0.3 * rng_unit(&s));
    int32_t za = rng_int(&s, 0, 255), zb = rng_int(&s, 0, 255), zy = rng_int(&s, 0, 255);
    int relu = t % 3 == 0;
    netc_qadd_params p = netc_qadd_params_from_scales(sa, za, sb, zb, sy, zy, relu ? zy : 0, 255);
    ck_assert(p.shift >= 1 && p.shift <= 62 && p.a_mult > 0 && p.b_mult > 0);
    uint8_t a[64], b[64], y[64];
    fill_u8(a, 64, &s);
    fill_u8(b, 64, &s);
    netc_qadd_u8(&p, 64, a, b, y);
    for (int i = 0; i < 64; i++) {
      double real = (double)sa * (a[i] - za) + (double)sb * (b[i] - zb);
      int32_t want = quant_ref(real, sy, zy, relu ? zy : 0, 255);
      CHECK(abs((int)y[i] - want) <= 1, "add %d(%g,%d) + %d(%g,%d) -> (%g,%d): %d, want %d", a[i],
                    (double)sa, za, b[i], (double)sb, zb, (double)sy, zy, y[i], want);
    }
    // In place.
    uint8_t a2[64];
    memcpy(a2, a, 64);
    netc_qadd_u8(&p, 64, a2, b, a2);
    ck_assert(memcmp(a2, y, 64) == 0);
  }
}
END_TEST

// The definition in netc_rt.h, exactly, at every length (vector tails) and
// for scale ratios from tiny to huge (the vectors' range check).
#define NETC_TEST_MAX(a, b) ((a) > (b) ? (a) : (b))

static uint8_t qadd_def(const netc_qadd_params *p, uint8_t a, uint8_t b) {
  int64_t v = ((int64_t)(a - p->a_zp) * p->a_mult + (int64_t)(b - p->b_zp) * p->b_mult +
               ((int64_t)1 << (p->shift - 1))) >> p->shift;
  v += p->y_zp;
  return (uint8_t)(v < p->y_min ? p->y_min : v > p->y_max ? p->y_max : v);
}

START_TEST(test_qadd_exact) {
  uint32_t s = 99;
  uint8_t a[300], b[300], y[300];
  for (int t = 0; t < 400; t++) {
    double e = -12.0 + 36.0 * rng_unit(&s);  // sa / sy and sb / sy from 2^-12 to 2^24
    float sy = 0.01f, sa = (float)(0.01 * pow(2.0, e)), sb = (float)(0.01 * pow(2.0, e - 3.0 + 6.0 * rng_unit(&s)));
    int32_t za = rng_int(&s, 0, 255), zb = rng_int(&s, 0, 255), zy = rng_int(&s, 0, 255);
    netc_qadd_params p = netc_qadd_params_from_scales(sa, za, sb, zb, sy, zy, t % 2 ? zy : 0,
                                                      t % 3 ? 255 : NETC_TEST_MAX(zy, 200));
    int64_t n = rng_int(&s, 1, 300);
    fill_u8(a, n, &s);
    fill_u8(b, n, &s);
    netc_qadd_u8(&p, n, a, b, y);
    for (int64_t i = 0; i < n; i++)
      CHECK(y[i] == qadd_def(&p, a[i], b[i]), "add %d + %d (mults %d %d, shift %d), element %lld of %lld: %d, want %d",
            a[i], b[i], p.a_mult, p.b_mult, p.shift, (long long)i, (long long)n, y[i], qadd_def(&p, a[i], b[i]));
  }
}
END_TEST

START_TEST(test_requantize_lut) {
  uint32_t s = 99;
  for (int t = 0; t < 100; t++) {
    double M = 0.01 + 3.0 * rng_unit(&s);
    int32_t xz = rng_int(&s, 0, 255), yz = rng_int(&s, 0, 255);
    netc_requant rq = netc_requant_from_real(M);
    uint8_t x[256], y[256];
    for (int i = 0; i < 256; i++)
      x[i] = (uint8_t)i;
    netc_requantize_u8(256, x, xz, rq, yz, y);
    for (int i = 0; i < 256; i++) {
      int32_t want = quant_ref((i - xz) * M, 1.0, yz, 0, 255);
      CHECK(abs((int)y[i] - want) <= 1, "requantize %d: %d, want %d", i, y[i], want);
    }
  }
  uint8_t table[256], x[300], y[300];
  for (int i = 0; i < 256; i++)
    table[i] = (uint8_t)(i * 7 + 3);
  for (int i = 0; i < 300; i++)
    x[i] = (uint8_t)(i * 13);
  netc_lut_u8(300, table, x, y);
  for (int i = 0; i < 300; i++)
    ck_assert_int_eq(y[i], (uint8_t)(x[i] * 7 + 3));
  netc_lut_u8(300, table, x, x);  // in place
  ck_assert(memcmp(x, y, 300) == 0);
}
END_TEST

//
// Pools: against the float pools on dequantized data
//

typedef struct {
  int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  int32_t ceil_mode, include_pad;
} QPoolCase;

static const QPoolCase qpool_cases[] = {
  {1, 3, 12, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1},
  {2, 5, 13, 11, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1},
  {1, 4, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0},
  {1, 4, 14, 10, 3, 2, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},
  {1, 2, 9, 9, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1},
  {1, 2, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1},
  {1, 3, 7, 7, 7, 7, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1},
  {1, 3, 10, 12, 3, 5, 1, 2, 1, 2, 0, 2, 1, 1, 0, 1},
  {1, 3, 10, 12, 3, 5, 1, 2, 1, 2, 0, 2, 1, 1, 1, 0},
  {1, 2, 9, 10, 3, 3, 1, 1, 4, 5, 3, 6, 1, 1, 0, 1},  // padding wider than the kernel
  {1, 3, 40, 57, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1},  // wide enough for maxpool's vectors
  {1, 3, 34, 70, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1},
  {1, 2, 20, 67, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 1, 0},
};

static netc_pool2d_params qpool_params(const QPoolCase *c, int dil) {
  netc_pool2d_params p;
  memset(&p, 0, sizeof p);
  p.n = c->n;
  p.c = c->c;
  p.in_h = c->h;
  p.in_w = c->w;
  p.kernel_h = c->kh;
  p.kernel_w = c->kw;
  p.stride_h = c->sh;
  p.stride_w = c->sw;
  p.pad_top = c->pt;
  p.pad_left = c->pl;
  p.pad_bottom = c->pb;
  p.pad_right = c->pr;
  p.dilation_h = dil ? 2 : 1;
  p.dilation_w = dil ? 2 : 1;
  p.ceil_mode = c->ceil_mode;
  p.count_include_pad = c->include_pad;
  p.out_h = netc_pool2d_out_size(c->h, c->kh, c->sh, c->pt, c->pb, p.dilation_h, c->ceil_mode);
  p.out_w = netc_pool2d_out_size(c->w, c->kw, c->sw, c->pl, c->pr, p.dilation_w, c->ceil_mode);
  return p;
}

// y against quantize(yf) (scale s, zp): |difference| <= tol steps.
static void assert_within(const char *what, const uint8_t *y, const float *yf, int64_t n, float s, int32_t zp,
                          int tol) {
  for (int64_t i = 0; i < n; i++) {
    double v = isinf(yf[i]) ? (yf[i] < 0 ? 0.0 : 255.0) : nearbyint((double)yf[i] / s) + zp;
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    CHECK(fabs((double)y[i] - v) <= tol, "%s: element %lld is %d, float says %g (%g)", what,
                  (long long)i, y[i], v, (double)yf[i]);
  }
}

START_TEST(test_qpools) {
  const QPoolCase *c = &qpool_cases[_i];
  const float s = 0.1f;
  const int32_t zps[] = {0, 37, 128, 255};
  for (int z = 0; z < 4; z++)
    for (int dil = 0; dil < 2; dil++) {
      netc_pool2d_params p = qpool_params(c, dil);
      char err[256];
      if (p.out_h <= 0 || p.out_w <= 0 || netc_pool2d_check(&p, err, sizeof err) != 0)
        continue;
      const int64_t nx = p.n * p.c * p.in_h * p.in_w, ny = p.n * p.c * p.out_h * p.out_w;
      uint32_t seed = 5u + (uint32_t)_i;
      uint8_t *x = u8_alloc(nx, 1), *y = u8_alloc(ny, 0);
      float *xf = tu_alloc(nx, 0), *yf = tu_alloc(ny, 0);
      fill_u8(x, nx, &seed);
      netc_dequantize_u8(nx, x, s, zps[z], xf);
      netc_ref_maxpool2d_f32(&p, xf, yf);
      netc_maxpool2d_u8(&p, x, y);
      assert_within("maxpool", y, yf, ny, s, zps[z], 0);
      if (!dil) {
        netc_ref_avgpool2d_f32(&p, xf, yf);
        netc_avgpool2d_u8(&p, zps[z], x, y);
        assert_within("avgpool", y, yf, ny, s, zps[z], 1);
      }
      u8_free(x);
      u8_free(y);
      tu_free(xf);
      tu_free(yf);
    }
}
END_TEST

START_TEST(test_qadaptive) {
  const int64_t shapes[][4] = {{7, 7, 1, 1}, {10, 9, 3, 4}, {5, 5, 7, 7}, {13, 6, 2, 5}, {1, 1, 2, 2}};
  for (int i = 0; i < 5; i++) {
    const int64_t h = shapes[i][0], w = shapes[i][1], oh = shapes[i][2], ow = shapes[i][3];
    const int64_t nx = 2 * 3 * h * w, ny = 2 * 3 * oh * ow;
    uint32_t seed = 11u + (uint32_t)i;
    uint8_t *x = u8_alloc(nx, 0), *y = u8_alloc(ny, 0);
    float *xf = tu_alloc(nx, 0), *yf = tu_alloc(ny, 0);
    fill_u8(x, nx, &seed);
    netc_dequantize_u8(nx, x, 0.05f, 60, xf);
    netc_ref_adaptive_avgpool2d_f32(2, 3, h, w, oh, ow, xf, yf);
    netc_adaptive_avgpool2d_u8(2, 3, h, w, oh, ow, x, y);
    assert_within("adaptive avgpool", y, yf, ny, 0.05f, 60, 1);
    u8_free(x);
    u8_free(y);
    tu_free(xf);
    tu_free(yf);
  }
}
END_TEST

Suite *make_int8_suite(void) {
  Suite *s = suite_create("int8");

  TCase *tc = tcase_create("rules");
  tcase_add_test(tc, test_requant_hand);
  tcase_add_test(tc, test_requant_random);
  tcase_add_test(tc, test_quantize_hand);
  tcase_add_test(tc, test_quantize_weights_hand);
  tcase_add_test(tc, test_bias_unrounded);
  tcase_add_test(tc, test_qconv_ref_hand);
  suite_add_tcase(s, tc);

  tc = tcase_create("fast");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_qconv_cases, 0, (int)(sizeof qconv_cases / sizeof qconv_cases[0]));
  tcase_add_loop_test(tc, test_qconv_random, 0, 12);
  tcase_add_loop_test(tc, test_qlinear, 0, (int)(sizeof qlin_shapes / sizeof qlin_shapes[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("elementwise");
  tcase_add_test(tc, test_qadd);
  tcase_add_test(tc, test_qadd_exact);
  tcase_add_test(tc, test_requantize_lut);
  tcase_add_loop_test(tc, test_qpools, 0, (int)(sizeof qpool_cases / sizeof qpool_cases[0]));
  tcase_add_test(tc, test_qadaptive);
  suite_add_tcase(s, tc);
  return s;
}
