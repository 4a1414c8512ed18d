// quant.c -- the int8 scheme's small pieces: requantization multipliers,
// the float <-> uint8 boundaries, load-time weight and bias quantization,
// and the uint8 elementwise ops and pools.
//
// Requires: netc_internal.h (NETC_MIN / NETC_MAX).
// Provides: the rest of netc_rt.h's int8 section (qgemm.c and qconv.c
//           have the GEMM, convolution and linear layers).
//
// Float appears only where the spec allows it: deriving the fixed-point
// constants and quantizing weights at load time, and the float boundaries.
// The per-element paths of add, rescale and pools are integer only.

#include "netc_internal.h"

#include <float.h>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

static inline int32_t clamp_i64(int64_t v, int32_t lo, int32_t hi) {
  return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

netc_requant netc_requant_from_real(double M) {
  netc_requant r = {0, 62, (int64_t)1 << 61};
  if (!(M > 0.0))
    return r;
  int e;
  double f = frexp(M, &e);  // M = f * 2^e, f in [0.5, 1)
  long long m = llround(ldexp(f, 31));
  if (m == (1LL << 31)) {   // f rounded up to 1: 2^30 * 2^(e+1-31)
    m = 1LL << 30;
    e++;
  }
  int64_t shift = 31 - (int64_t)e;
  if (shift > 62)
    return r;               // below 2^-32: zero for any int32 accumulator
  if (shift < 1) {
    r.mult = INT32_MAX;
    r.shift = 1;
    r.round = 1;
    return r;
  }
  r.mult = (int32_t)m;
  r.shift = (int32_t)shift;
  r.round = (int64_t)1 << (shift - 1);
  return r;
}

//
// Float boundaries
//

void netc_quantize_u8(int64_t count, const float *x, float inv_scale, int32_t zp, uint8_t *y) {
  for (int64_t i = 0; i < count; i++) {
    // Clamped in float first: the cast of an out-of-range float is undefined.
    float v = nearbyintf(x[i] * inv_scale) + (float)zp;
    y[i] = !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
  }
}

void netc_dequantize_u8(int64_t count, const uint8_t *x, float scale, int32_t zp, float *y) {
  for (int64_t i = 0; i < count; i++)
    y[i] = scale * (float)((int32_t)x[i] - zp);
}

void netc_quantize_weights_s8(int64_t out_c, int64_t K, const float *w, int8_t *wq, float *scales) {
  const int64_t K4 = (K + 3) / 4 * 4;
  for (int64_t c = 0; c < out_c; c++) {
    const float *wc = w + c * K;
    float lo = 0.0f, hi = 0.0f;  // the observer's range always contains 0
    for (int64_t k = 0; k < K; k++) {
      lo = wc[k] < lo ? wc[k] : lo;
      hi = wc[k] > hi ? wc[k] : hi;
    }
    float amax = -lo > hi ? -lo : hi;
    float s = amax / 127.5f;
    s = s > FLT_EPSILON ? s : FLT_EPSILON;
    scales[c] = s;
    const float inv = 1.0f / s;
    for (int64_t k = 0; k < K4; k++) {
      float v = k < K ? nearbyintf(wc[k] * inv) : 0.0f;
      wq[c * K4 + k] = (int8_t)(v < -128.0f ? -128 : v > 127.0f ? 127 : (int32_t)v);
    }
  }
}

void netc_quantize_bias_s32(int64_t out_c, int64_t K, const int8_t *wq, const float *scales,
                            const float *bias, float in_scale, int32_t in_zp, float out_scale,
                            int32_t *bias_eff, netc_requant *rq) {
  const int64_t K4 = (K + 3) / 4 * 4;
  for (int64_t c = 0; c < out_c; c++) {
    const double s = (double)in_scale * (double)scales[c];
    int64_t wsum = 0;
    for (int64_t k = 0; k < K; k++)
      wsum += wq[c * K4 + k];
    bias_eff[c] = clamp_i64(-(int64_t)in_zp * wsum, INT32_MIN, INT32_MAX);
    rq[c] = netc_requant_from_real(s / (double)out_scale);
    if (bias && rq[c].mult != 0) {
      // The bias in units of 2^-shift of the output: b / s * mult, not
      // rounded to the accumulator's units first. NaN counts as 0.
      const double lim = ldexp(1.0, 61);
      double v = (double)bias[c] / s * (double)rq[c].mult;
      v = v < -lim ? -lim : v > lim ? lim : v == v ? v : 0.0;
      rq[c].round += (int64_t)llround(v);
    }
  }
}

//
// Elementwise
//

netc_qadd_params netc_qadd_params_from_scales(float sa, int32_t za, float sb, int32_t zb, float sy,
                                              int32_t zy, int32_t ymin, int32_t ymax) {
  netc_qadd_params p;
  const double ra = (double)sa / (double)sy, rb = (double)sb / (double)sy;
  const double r = ra > rb ? ra : rb;
  int e;
  frexp(r, &e);  // r < 2^e, so r * 2^(31 - e) < 2^31 (before rounding)
  int32_t shift = 31 - e;
  shift = shift > 62 ? 62 : shift < 1 ? 1 : shift;
  for (;; shift--) {
    long long ma = llround(ldexp(ra, shift)), mb = llround(ldexp(rb, shift));
    if ((ma < (1LL << 31) && mb < (1LL << 31)) || shift == 1) {
      p.a_mult = (int32_t)(ma < INT32_MAX ? ma : INT32_MAX);
      p.b_mult = (int32_t)(mb < INT32_MAX ? mb : INT32_MAX);
      break;
    }
  }
  p.shift = shift;
  p.a_zp = za;
  p.b_zp = zb;
  p.y_zp = zy;
  p.y_min = ymin;
  p.y_max = ymax;
  return p;
}

void netc_qadd_u8(const netc_qadd_params *p, int64_t count, const uint8_t *a, const uint8_t *b,
                  uint8_t *y) {
  const int64_t half = (int64_t)1 << (p->shift - 1);
  int64_t i = 0;
#if (defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)) || defined(__AVX2__)
  // The vectors keep only the low 32 bits of each shifted sum: exact when
  // |sum >> shift| < 2^31 for every input, i.e. unless a scale ratio is
  // near 2^23 (the scalar loop takes those).
  const int64_t bound = ((int64_t)255 * ((int64_t)p->a_mult + p->b_mult) >> p->shift) + 2;
  if (bound < ((int64_t)1 << 30)) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
    // 16 at a time: 32x32 -> 64-bit products for even and odd lanes apart.
    const __m512i za = _mm512_set1_epi32(p->a_zp), zb = _mm512_set1_epi32(p->b_zp);
    const __m512i ma = _mm512_set1_epi64(p->a_mult), mb = _mm512_set1_epi64(p->b_mult);
    const __m512i vh = _mm512_set1_epi64(half), zy = _mm512_set1_epi32(p->y_zp);
    const __m512i lo = _mm512_set1_epi32(p->y_min), hi = _mm512_set1_epi32(p->y_max);
    const __m128i sh = _mm_cvtsi32_si128(p->shift);
    for (; i < count; i += 16) {
      const __mmask16 m = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1u);
      __m512i da = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, a + i)), za);
      __m512i db = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, b + i)), zb);
      __m512i ev = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epi32(da, ma), _mm512_mul_epi32(db, mb)), vh);
      __m512i od = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(da, 32), ma),
                                                     _mm512_mul_epi32(_mm512_srli_epi64(db, 32), mb)),
                                    vh);
      ev = _mm512_sra_epi64(ev, sh);
      od = _mm512_sra_epi64(od, sh);
      __m512i r = _mm512_mask_blend_epi32((__mmask16)0xAAAA, ev, _mm512_slli_epi64(od, 32));
      r = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(r, zy), lo), hi);
      _mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(r));
    }
#else
    // 8 at a time. AVX2 has no 64-bit arithmetic shift: the sums are
    // shifted logically after adding 2^62 (a multiple of 2^shift, and
    // |sum| < 2^41), which adds 2^(62 - shift) to every quotient.
    const __m256i za = _mm256_set1_epi32(p->a_zp), zb = _mm256_set1_epi32(p->b_zp);
    const __m256i ma = _mm256_set1_epi64x(p->a_mult), mb = _mm256_set1_epi64x(p->b_mult);
    const __m256i vh = _mm256_set1_epi64x(half + ((int64_t)1 << 62));
    const __m256i off = _mm256_set1_epi64x((int64_t)1 << (62 - p->shift));
    const __m256i zy = _mm256_set1_epi32(p->y_zp);
    const __m256i lo = _mm256_set1_epi32(p->y_min), hi = _mm256_set1_epi32(p->y_max);
    const __m128i sh = _mm_cvtsi32_si128(p->shift);
    const __m256i pick = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
    for (; i + 8 <= count; i += 8) {
      __m256i da = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(a + i))), za);
      __m256i db = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b + i))), zb);
      __m256i ev = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epi32(da, ma), _mm256_mul_epi32(db, mb)), vh);
      __m256i od = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(da, 32), ma),
                                                     _mm256_mul_epi32(_mm256_srli_epi64(db, 32), mb)),
                                    vh);
      ev = _mm256_sub_epi64(_mm256_srl_epi64(ev, sh), off);
      od = _mm256_sub_epi64(_mm256_srl_epi64(od, sh), off);
      __m256i r = _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xAA);
      r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, zy), lo), hi);
      // Bytes 0, 4, 8, ... of each 128-bit lane, then the two lanes' words together.
      r = _mm256_shuffle_epi8(r, _mm256_set1_epi32(0x0C080400));
      r = _mm256_permutevar8x32_epi32(r, pick);
      _mm_storel_epi64((__m128i *)(y + i), _mm256_castsi256_si128(r));
    }
#endif
  }
#endif
  for (; i < count; i++) {
    int64_t s = (int64_t)((int32_t)a[i] - p->a_zp) * p->a_mult +
                (int64_t)((int32_t)b[i] - p->b_zp) * p->b_mult + half;
    y[i] = (uint8_t)clamp_i64(p->y_zp + (s >> p->shift), p->y_min, p->y_max);
  }
}

void netc_requantize_u8(int64_t count, const uint8_t *x, int32_t x_zp, netc_requant rq, int32_t y_zp,
                        uint8_t *y) {
  for (int64_t i = 0; i < count; i++)
    y[i] = (uint8_t)clamp_i64((int64_t)y_zp + netc_requant_apply((int32_t)x[i] - x_zp, rq), 0, 255);
}

void netc_lut_u8(int64_t count, const uint8_t table[256], const uint8_t *x, uint8_t *y) {
  for (int64_t i = 0; i < count; i++)
    y[i] = table[x[i]];
}

//
// Pools
//

// Bytes of maxpool's row buffer (on the stack); wider layers take the generic loop.
#define MAXPOOL_ROW 2048

// t[i] = max(t[i], r[i]) for i < n.
static void max_row_u8(int64_t n, const uint8_t *r, uint8_t *t) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128((__m128i *)(t + i), _mm_max_epu8(_mm_loadu_si128((const __m128i *)(t + i)),
                                                      _mm_loadu_si128((const __m128i *)(r + i))));
#endif
  for (; i < n; i++)
    t[i] = r[i] > t[i] ? r[i] : t[i];
}

// The window's taps inside the input, padding taps skipped, a window with
// none giving 0: as every value is >= 0, the same as padding taps reading
// 0. So each output row is the max of its window's input rows (a row of
// the padded width, 0 outside the input), then the max along the row.
static void maxpool_rows(const netc_pool2d_params *p, const uint8_t *xp, uint8_t *yp) {
  const int64_t sw = p->stride_w, dw = p->dilation_w, kw = p->kernel_w;
  const int64_t tw = (p->out_w - 1) * sw + (kw - 1) * dw + 1 + 32;
  const int64_t c0 = NETC_MIN(p->pad_left, tw), cn = NETC_MAX(0, NETC_MIN(p->in_w, tw - c0));
  uint8_t t[MAXPOOL_ROW];
  for (int64_t oh = 0; oh < p->out_h; oh++) {
    memset(t, 0, (size_t)tw);
    for (int64_t ky = 0; ky < p->kernel_h; ky++) {
      const int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
      if (ih >= 0 && ih < p->in_h)
        max_row_u8(cn, xp + ih * p->in_w, t + c0);
    }
    uint8_t *yr = yp + oh * p->out_w;
    int64_t ow = 0;
#if defined(__SSE2__)
    if (sw == 2 && dw == 1 && (kw == 2 || kw == 3)) {
      // 8 outputs from 16 bytes: the even and odd bytes as 16-bit lanes (and
      // for 3 taps the next even byte), packed back to bytes.
      const __m128i lo8 = _mm_set1_epi16(0xFF);
      for (; ow + 8 <= p->out_w; ow += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(t + 2 * ow));
        __m128i m = _mm_max_epi16(_mm_and_si128(v, lo8), _mm_srli_epi16(v, 8));
        if (kw == 3)
          m = _mm_max_epi16(m, _mm_and_si128(_mm_loadu_si128((const __m128i *)(t + 2 * ow + 2)), lo8));
        _mm_storel_epi64((__m128i *)(yr + ow), _mm_packus_epi16(m, m));
      }
    }
#endif
    for (; ow < p->out_w; ow++) {
      uint8_t m = 0;
      for (int64_t kx = 0; kx < kw; kx++) {
        const uint8_t v = t[ow * sw + kx * dw];
        m = v > m ? v : m;
      }
      yr[ow] = m;
    }
  }
}

void netc_maxpool2d_u8(const netc_pool2d_params *p, const uint8_t *x, uint8_t *y) {
  if (p->out_w > 0 && (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1 + 32 <= MAXPOOL_ROW) {
    for (int64_t q = 0; q < p->n * p->c; q++)
      maxpool_rows(p, x + q * p->in_h * p->in_w, y + q * p->out_h * p->out_w);
    return;
  }
  for (int64_t q = 0; q < p->n * p->c; q++) {
    const uint8_t *xp = x + q * p->in_h * p->in_w;
    for (int64_t oh = 0; oh < p->out_h; oh++)
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        int32_t m = 0;  // a window with no input pixel gives 0
        for (int64_t ky = 0; ky < p->kernel_h; ky++) {
          const int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
          if (ih < 0 || ih >= p->in_h)
            continue;
          for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            const int64_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
            if (iw >= 0 && iw < p->in_w && xp[ih * p->in_w + iw] > m)
              m = xp[ih * p->in_w + iw];
          }
        }
        y[(q * p->out_h + oh) * p->out_w + ow] = (uint8_t)m;
      }
  }
}

void netc_avgpool2d_u8(const netc_pool2d_params *p, int32_t zp, const uint8_t *x, uint8_t *y) {
  for (int64_t q = 0; q < p->n * p->c; q++) {
    const uint8_t *xp = x + q * p->in_h * p->in_w;
    for (int64_t oh = 0; oh < p->out_h; oh++)
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        // PyTorch's window: clipped to the padded input for the divisor,
        // then to the input for the sum.
        int64_t h0 = oh * p->stride_h - p->pad_top, w0 = ow * p->stride_w - p->pad_left;
        int64_t h1 = NETC_MIN(h0 + p->kernel_h, p->in_h + p->pad_bottom);
        int64_t w1 = NETC_MIN(w0 + p->kernel_w, p->in_w + p->pad_right);
        const int64_t padded = (h1 - h0) * (w1 - w0);
        h0 = NETC_MAX(h0, 0);
        w0 = NETC_MAX(w0, 0);
        h1 = NETC_MIN(h1, p->in_h);
        w1 = NETC_MIN(w1, p->in_w);
        const int64_t inside = h1 > h0 && w1 > w0 ? (h1 - h0) * (w1 - w0) : 0;
        int64_t sum = 0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            sum += xp[ih * p->in_w + iw];
        int64_t div = inside;
        if (p->count_include_pad) {
          div = padded;
          sum += (int64_t)zp * (padded - inside);
        }
        y[(q * p->out_h + oh) * p->out_w + ow] =
            (uint8_t)(inside == 0 ? zp : clamp_i64((sum + div / 2) / div, 0, 255));
      }
  }
}

void netc_adaptive_avgpool2d_u8(int64_t n, int64_t c, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w, const uint8_t *x, uint8_t *y) {
  for (int64_t q = 0; q < n * c; q++) {
    const uint8_t *xp = x + q * in_h * in_w;
    for (int64_t oh = 0; oh < out_h; oh++) {
      const int64_t h0 = oh * in_h / out_h, h1 = ((oh + 1) * in_h + out_h - 1) / out_h;
      for (int64_t ow = 0; ow < out_w; ow++) {
        const int64_t w0 = ow * in_w / out_w, w1 = ((ow + 1) * in_w + out_w - 1) / out_w;
        const int64_t div = (h1 - h0) * (w1 - w0);
        int64_t sum = 0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            sum += xp[ih * in_w + iw];
        y[(q * out_h + oh) * out_w + ow] = (uint8_t)((sum + div / 2) / div);
      }
    }
  }
}
