// qconv.c -- int8 convolution and linear layers (netc_qconv2d_u8,
// netc_qlinear_u8) and their reference kernels.
//
// Requires: netc_internal.h (netc_qgemm_rows and its packed layout,
//           netc_parallel).
// Provides: the int8 conv2d / linear API of netc_rt.h.
//
// Dense and grouped convolutions copy one group's patches of one image
// into scratch in the packed layout qgemm.c reads (im2col with in_zp for
// padding taps), then split the group's output channels among threads.
// Depthwise convolutions (groups == in_c > 1) are a direct loop per output
// plane: there, K is only kernel_h * kernel_w and a patch matrix would
// cost more to build than it saves. Batch-1 linear layers are bandwidth
// bound: one dot product per output, vectorised along in, reading W once.

#include "netc_internal.h"

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

// Below this many multiply-adds a layer runs on one thread (as conv.c).
#define PARALLEL_MIN_MACS (1 << 19)
// Output channels per parallel chunk: a multiple of qgemm.c's 4-row tile,
// at least ROWS_MIN, otherwise large: each chunk reads all of the packed
// patches once, keeping its rows' weights in cache (at most ROWS_MAX_BYTES
// of them), with about two chunks per thread for the load balance.
#define ROWS_MIN 16
#define ROWS_MAX_BYTES (256 * 1024)

static inline int64_t round4(int64_t k) { return (k + 3) / 4 * 4; }

static inline uint8_t qclamp(int64_t zp, int32_t acc, netc_requant rq, int32_t lo, int32_t hi) {
  int64_t v = zp + netc_requant_apply(acc, rq);
  return (uint8_t)(v < lo ? lo : v > hi ? hi : v);
}

// int64 sum reduced to int32 the way the fast kernels' int32 sums wrap.
static inline int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

//
// References
//

void netc_ref_qconv2d_u8(const netc_qconv2d_params *q, const uint8_t *x, const int8_t *w,
                         const int32_t *bias_eff, const netc_requant *rq, uint8_t *y) {
  const netc_conv2d_params *p = &q->p;
  const int64_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups;
  const int64_t K4 = round4(icg * p->kernel_h * p->kernel_w);
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t oc = 0; oc < p->out_c; oc++) {
      const int64_t g = oc / ocg;
      for (int64_t oh = 0; oh < p->out_h; oh++)
        for (int64_t ow = 0; ow < p->out_w; ow++) {
          int64_t acc = bias_eff ? bias_eff[oc] : 0;
          for (int64_t ic = 0; ic < icg; ic++)
            for (int64_t ky = 0; ky < p->kernel_h; ky++)
              for (int64_t kx = 0; kx < p->kernel_w; kx++) {
                int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
                int64_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
                int64_t xv = q->in_zp;
                if (ih >= 0 && ih < p->in_h && iw >= 0 && iw < p->in_w)
                  xv = x[((n * p->in_c + g * icg + ic) * p->in_h + ih) * p->in_w + iw];
                acc += xv * w[oc * K4 + (ic * p->kernel_h + ky) * p->kernel_w + kx];
              }
          y[((n * p->out_c + oc) * p->out_h + oh) * p->out_w + ow] =
              qclamp(q->out_zp, wrap32(acc), rq[oc], q->out_min, q->out_max);
        }
    }
}

void netc_ref_qlinear_u8(int64_t batch, int64_t in, int64_t out, const uint8_t *x, int32_t in_zp,
                         const int8_t *w, const int32_t *bias_eff, const netc_requant *rq,
                         int32_t out_zp, int32_t out_min, int32_t out_max, uint8_t *y) {
  (void)in_zp;
  const int64_t in4 = round4(in);
  for (int64_t b = 0; b < batch; b++)
    for (int64_t o = 0; o < out; o++) {
      int64_t acc = bias_eff ? bias_eff[o] : 0;
      for (int64_t k = 0; k < in; k++)
        acc += (int64_t)x[b * in + k] * w[o * in4 + k];
      y[b * out + o] = qclamp(out_zp, wrap32(acc), rq[o], out_min, out_max);
    }
}

//
// Convolution
//

static int is_depthwise(const netc_conv2d_params *p) { return p->groups == p->in_c && p->groups > 1; }

int64_t netc_qconv2d_scratch_bytes(const netc_qconv2d_params *q) {
  const netc_conv2d_params *p = &q->p;
  if (is_depthwise(p))
    return 0;
  int64_t K4 = round4(p->in_c / p->groups * p->kernel_h * p->kernel_w);
  return K4 * netc_qgemm_n64(p->out_h * p->out_w) + 64;
}

// Pixels per slice of im2col's row buffers (on the stack: 4 of them).
#define IM2COL_PIX 512

// d[i] = r0[i], r1[i], r2[i], r3[i] as 4 consecutive bytes, i < n: four
// patch rows into the packed layout (4 k per pixel).
static void interleave4(int64_t n, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                        const uint8_t *r3, uint8_t *d) {
  int64_t i = 0;
#if defined(__AVX2__)
  for (; i + 32 <= n; i += 32) {
    // In-lane unpacks give pixels 0-3, 16-19 | 4-7, 20-23 | ...: 128-bit
    // lanes are put back in order by the permutes.
    __m256i a = _mm256_loadu_si256((const __m256i *)(r0 + i)), b = _mm256_loadu_si256((const __m256i *)(r1 + i));
    __m256i c = _mm256_loadu_si256((const __m256i *)(r2 + i)), e = _mm256_loadu_si256((const __m256i *)(r3 + i));
    __m256i ab0 = _mm256_unpacklo_epi8(a, b), ab1 = _mm256_unpackhi_epi8(a, b);
    __m256i ce0 = _mm256_unpacklo_epi8(c, e), ce1 = _mm256_unpackhi_epi8(c, e);
    __m256i o0 = _mm256_unpacklo_epi16(ab0, ce0), o1 = _mm256_unpackhi_epi16(ab0, ce0);
    __m256i o2 = _mm256_unpacklo_epi16(ab1, ce1), o3 = _mm256_unpackhi_epi16(ab1, ce1);
    // o0 = px 0-3 | 16-19, o1 = 4-7 | 20-23, o2 = 8-11 | 24-27, o3 = 12-15 | 28-31
    _mm256_storeu_si256((__m256i *)(d + 4 * i), _mm256_permute2x128_si256(o0, o1, 0x20));
    _mm256_storeu_si256((__m256i *)(d + 4 * i + 32), _mm256_permute2x128_si256(o2, o3, 0x20));
    _mm256_storeu_si256((__m256i *)(d + 4 * i + 64), _mm256_permute2x128_si256(o0, o1, 0x31));
    _mm256_storeu_si256((__m256i *)(d + 4 * i + 96), _mm256_permute2x128_si256(o2, o3, 0x31));
  }
#endif
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(r0 + i)), b = _mm_loadu_si128((const __m128i *)(r1 + i));
    __m128i c = _mm_loadu_si128((const __m128i *)(r2 + i)), e = _mm_loadu_si128((const __m128i *)(r3 + i));
    __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
    __m128i ce0 = _mm_unpacklo_epi8(c, e), ce1 = _mm_unpackhi_epi8(c, e);
    _mm_storeu_si128((__m128i *)(d + 4 * i), _mm_unpacklo_epi16(ab0, ce0));
    _mm_storeu_si128((__m128i *)(d + 4 * i + 16), _mm_unpackhi_epi16(ab0, ce0));
    _mm_storeu_si128((__m128i *)(d + 4 * i + 32), _mm_unpacklo_epi16(ab1, ce1));
    _mm_storeu_si128((__m128i *)(d + 4 * i + 48), _mm_unpackhi_epi16(ab1, ce1));
  }
#endif
  for (; i < n; i++) {
    d[4 * i] = r0[i];
    d[4 * i + 1] = r1[i];
    d[4 * i + 2] = r2[i];
    d[4 * i + 3] = r3[i];
  }
}

// d[0 .. n) = s[0 .. n), and d[0 .. n) = v: rows of the patch matrix are
// mostly short runs (a 14- or 7-pixel output row), too short for memcpy's
// call; AVX-512 masks touch nothing past the n bytes.
static inline void copy_run(uint8_t *d, const uint8_t *s, int64_t n) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  for (; n >= 32; n -= 32, d += 32, s += 32)
    _mm256_storeu_si256((__m256i *)d, _mm256_loadu_si256((const __m256i *)s));
  if (n > 0) {
    const __mmask32 m = (__mmask32)((1u << n) - 1u);
    _mm256_mask_storeu_epi8(d, m, _mm256_maskz_loadu_epi8(m, s));
  }
#else
  memcpy(d, s, (size_t)n);
#endif
}

// d[i] = s[2 i] for i < n (stride-2 rows: ResNet's stem and downsampling
// layers); the even bytes of 64 are the truncation of 32 16-bit lanes.
// The last load is masked to end at s[2 n - 2].
static inline void gather2_run(uint8_t *d, const uint8_t *s, int64_t n) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  for (; n > 32; n -= 32, d += 32, s += 64)
    _mm256_storeu_si256((__m256i *)d, _mm512_cvtepi16_epi8(_mm512_loadu_si512((const void *)s)));
  if (n > 0) {
    const __m512i v = _mm512_maskz_loadu_epi8((__mmask64)((((uint64_t)1) << (2 * n - 1)) - 1u), s);
    _mm256_mask_storeu_epi8(d, (__mmask32)(((uint64_t)1 << n) - 1u), _mm512_cvtepi16_epi8(v));
  }
#else
  for (int64_t i = 0; i < n; i++)
    d[i] = s[2 * i];
#endif
}

static inline void fill_run(uint8_t *d, uint8_t v, int64_t n) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  const __m256i vv = _mm256_set1_epi8((char)v);
  for (; n >= 32; n -= 32, d += 32)
    _mm256_storeu_si256((__m256i *)d, vv);
  if (n > 0)
    _mm256_mask_storeu_epi8(d, (__mmask32)((1u << n) - 1u), vv);
#else
  memset(d, v, (size_t)n);
#endif
}

// Pixels [p0, p1) of row k = (ic, ky, kx) of one group's patch matrix into
// d[0 .. p1 - p0): the input pixel the tap falls on, in_zp for a padding
// tap, 0 for k >= K (the weights' zero columns).
static void patch_slice(const netc_qconv2d_params *q, const uint8_t *x, int64_t k, int64_t p0, int64_t p1,
                        uint8_t *d) {
  const netc_conv2d_params *p = &q->p;
  const int64_t khw = p->kernel_h * p->kernel_w, K = p->in_c / p->groups * khw;
  if (k >= K) {
    fill_run(d, 0, p1 - p0);
    return;
  }
  const int64_t ic = k / khw, ky = k % khw / p->kernel_w, kx = k % p->kernel_w, sw = p->stride_w;
  const int64_t off = kx * p->dilation_w - p->pad_left;
  // Output columns whose input column ow * sw + off is inside: [lo, hi).
  int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
  int64_t hi = p->in_w - 1 - off < 0 ? 0 : (p->in_w - 1 - off) / sw + 1;
  hi = NETC_MIN(hi, p->out_w);
  lo = NETC_MIN(lo, hi);
  const int zp = q->in_zp;
  for (int64_t pix = p0; pix < p1;) {
    const int64_t oh = pix / p->out_w, ow0 = pix % p->out_w, ow1 = NETC_MIN(p->out_w, ow0 + (p1 - pix));
    uint8_t *dr = d + (pix - p0) - ow0;  // dr[ow]
    const int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
    if (ih < 0 || ih >= p->in_h) {
      fill_run(dr + ow0, (uint8_t)zp, ow1 - ow0);
    } else {
      const int64_t a = NETC_MIN(NETC_MAX(lo, ow0), ow1), b = NETC_MIN(NETC_MAX(hi, a), ow1);
      const uint8_t *src = x + (ic * p->in_h + ih) * p->in_w + off;
      fill_run(dr + ow0, (uint8_t)zp, a - ow0);
      if (sw == 1)
        copy_run(dr + a, src + a, b - a);
      else if (sw == 2)
        gather2_run(dr + a, src + 2 * a, b - a);
      else
        for (int64_t ow = a; ow < b; ow++)
          dr[ow] = src[ow * sw];
      fill_run(dr + b, (uint8_t)zp, ow1 - b);
    }
    pix += ow1 - ow0;
  }
}

typedef struct im2col_job {
  const netc_qconv2d_params *q;
  const uint8_t *x;  // the group's first input channel
  uint8_t *b;
} im2col_job;

// Group kb of 4 rows of one group's patch matrix into the packed layout
// (netc_internal.h): row k = (ic, ky, kx) at b[((k / 4) * n64 + pixel) * 4 + k % 4];
// columns past out_h * out_w are not written (nor read). A 1x1 stride-1
// unpadded layer's rows are the input channels themselves: interleaved
// straight from x.
static void im2col_chunk(void *ctx, int64_t kb) {
  const im2col_job *j = (const im2col_job *)ctx;
  const netc_qconv2d_params *q = j->q;
  const netc_conv2d_params *p = &q->p;
  const int64_t K = p->in_c / p->groups * p->kernel_h * p->kernel_w, npix = p->out_h * p->out_w;
  uint8_t *bk = j->b + kb * 4 * netc_qgemm_n64(npix);
  const int64_t k0 = kb * 4;
  if (p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
      p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w && k0 + 4 <= K) {
    const uint8_t *r = j->x + k0 * npix;
    interleave4(npix, r, r + npix, r + 2 * npix, r + 3 * npix, bk);
    return;
  }
  uint8_t rows[4][IM2COL_PIX];
  for (int64_t p0 = 0; p0 < npix; p0 += IM2COL_PIX) {
    const int64_t p1 = NETC_MIN(p0 + IM2COL_PIX, npix);
    for (int r = 0; r < 4; r++)
      patch_slice(q, j->x, k0 + r, p0, p1, rows[r]);
    interleave4(p1 - p0, rows[0], rows[1], rows[2], rows[3], bk + p0 * 4);
  }
}

// One group of one image into b, packed; the groups of 4 rows shared among
// threads like the GEMM that follows.
static void im2col_u8(const netc_qconv2d_params *q, const uint8_t *x, uint8_t *b, int64_t threads) {
  const netc_conv2d_params *p = &q->p;
  const int64_t K4 = round4(p->in_c / p->groups * p->kernel_h * p->kernel_w);
  im2col_job j = {q, x, b};
  netc_parallel(K4 / 4, threads, im2col_chunk, &j);
}

typedef struct qgemm_job {
  int64_t rows, N, K4, chunk;
  const int8_t *w;
  const uint8_t *b;
  netc_qgemm_out o;
} qgemm_job;

static void qgemm_chunk(void *ctx, int64_t c) {
  const qgemm_job *j = (const qgemm_job *)ctx;
  int64_t m0 = c * j->chunk;
  netc_qgemm_rows(m0, NETC_MIN(m0 + j->chunk, j->rows), j->N, j->K4, j->w, j->b, &j->o);
}

// Rows [0, rows) of the GEMM, shared among threads when it is large enough.
static void qgemm_parallel(qgemm_job *j) {
  const double macs = (double)j->rows * (double)j->N * (double)j->K4;
  const int64_t threads = macs >= PARALLEL_MIN_MACS ? netc_threads_get() : 1;
  int64_t c = (j->rows + 2 * threads - 1) / (2 * threads);
  c = NETC_MIN(c, ROWS_MAX_BYTES / NETC_MAX(j->K4, 1));
  c = NETC_MAX(ROWS_MIN, (c + 3) / 4 * 4);
  j->chunk = c;
  netc_parallel((j->rows + c - 1) / c, macs >= PARALLEL_MIN_MACS ? 0 : 1, qgemm_chunk, j);
}

typedef struct depthwise_job {
  const netc_qconv2d_params *q;
  const uint8_t *x;
  const int8_t *w;
  const int32_t *bias;
  const netc_requant *rq;
  uint8_t *y;
} depthwise_job;

// a[i] += x[i] * wv for i < cnt. Written out in vectors: GCC's -O2 does not
// vectorise loops of unknown length (and u8 pointers may alias the sums).
static void axpy_u8(int64_t cnt, int32_t wv, const uint8_t *restrict x, int32_t *restrict a) {
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512i w16 = _mm512_set1_epi32(wv);
  for (; i + 16 <= cnt; i += 16) {
    __m512i xv = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(x + i)));
    __m512i av = _mm512_loadu_si512((const void *)(a + i));
    _mm512_storeu_si512((void *)(a + i), _mm512_add_epi32(av, _mm512_mullo_epi32(xv, w16)));
  }
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  if (i < cnt) {  // the tail under a mask: nothing past x + cnt or a + cnt is touched
    const __mmask16 m = (__mmask16)((1u << (cnt - i)) - 1u);
    __m512i xv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, x + i));
    __m512i av = _mm512_maskz_loadu_epi32(m, a + i);
    _mm512_mask_storeu_epi32(a + i, m, _mm512_add_epi32(av, _mm512_mullo_epi32(xv, w16)));
    i = cnt;
  }
#endif
#elif defined(__AVX2__)
  const __m256i w8 = _mm256_set1_epi32(wv);
  for (; i + 8 <= cnt; i += 8) {
    __m256i xv = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(x + i)));
    __m256i av = _mm256_loadu_si256((const __m256i *)(a + i));
    _mm256_storeu_si256((__m256i *)(a + i), _mm256_add_epi32(av, _mm256_mullo_epi32(xv, w8)));
  }
#endif
  for (; i < cnt; i++)
    a[i] += x[i] * wv;
}

// Output columns per pass of the depthwise kernel (its accumulators live on the stack).
#define DW_COLS 256

#if defined(__AVX512F__) && defined(__AVX512BW__)
// The vpmaddwd depthwise kernel's limits: kernel rows, and bytes of each
// padded input row it builds on the stack.
#define DW1_MAXK 7
#define DW1_ROW 512

// Bytes of the padded plane of the small-plane depthwise kernel (on the
// stack, with 4 bytes of int32 sums per byte).
#define DWF_BYTES 2048

// The tap-pair sums of 32 consecutive outputs whose taps read base + toff[t]
// (an odd last tap paired with itself, its partner weight 0), into acc in
// column order.
static inline void dw_taps32(const uint8_t *base, const int64_t *toff, const __m512i *wp, int64_t ntap,
                             int32_t *acc) {
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
  for (int64_t t = 0; t < ntap; t += 2) {
    __m512i va = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(base + toff[t])));
    __m512i vb = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(base + toff[t + 1])));
    lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(va, vb), wp[t / 2]));
    hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(va, vb), wp[t / 2]));
  }
  _mm512_storeu_si512((void *)acc, _mm512_permutex2var_epi32(lo, first, hi));
  _mm512_storeu_si512((void *)(acc + 16), _mm512_permutex2var_epi32(lo, second, hi));
}

// Weight pairs for vpmaddwd: (w[t] low, w[t + 1] high), the last one's partner 0.
static void dw_weight_pairs(const int8_t *wk, int64_t ntap, __m512i *wp) {
  for (int64_t t = 0; t < ntap; t += 2) {
    const int32_t w0 = (uint16_t)(int16_t)wk[t];
    const int32_t w1 = t + 1 < ntap ? (uint16_t)(int16_t)wk[t + 1] : 0;
    wp[t / 2] = _mm512_set1_epi32((int32_t)((uint32_t)w0 | (uint32_t)w1 << 16));
  }
}

// Small planes at stride 1 (MobileNetV2's 14x14 and 7x7): the whole padded
// plane, pitch P = pad_left + in_w + pad_right, is one array, where output
// (oh, ow) is flat index oh * P + ow and its taps are at the constant
// offsets ky * dilation_h * P + kx * dilation_w; the flat outputs are
// computed 32 at a time (the P - out_w columns past each row's end are
// computed and dropped), so a 7-wide row does not take a 32-wide pass.
static int dw_flat_fits(const netc_conv2d_params *p) {
  const int64_t P = p->pad_left + p->in_w + p->pad_right, H = p->pad_top + p->in_h + p->pad_bottom;
  return p->stride_h == 1 && p->stride_w == 1 && p->out_w < 32 && p->kernel_h * p->kernel_w <= 64 &&
         p->out_w == P - (p->kernel_w - 1) * p->dilation_w && p->out_h == H - (p->kernel_h - 1) * p->dilation_h &&
         (p->out_h * P + 31) / 32 * 32 + (H - p->out_h) * P + (p->kernel_w - 1) * p->dilation_w + 32 <= DWF_BYTES;
}

static void depthwise_plane_flat(const netc_qconv2d_params *q, const uint8_t *xp, const int8_t *wk,
                                 int32_t bias, netc_requant rq, uint8_t *yp) {
  const netc_conv2d_params *p = &q->p;
  const int64_t kw = p->kernel_w, ntap = p->kernel_h * kw;
  const int64_t P = p->pad_left + p->in_w + p->pad_right, F = p->out_h * P;
  const int64_t bytes = (F + 31) / 32 * 32 + (p->pad_top + p->in_h + p->pad_bottom - p->out_h) * P +
                       (kw - 1) * p->dilation_w + 32;
  uint8_t plane[DWF_BYTES];
  int32_t acc[DWF_BYTES];
  __m512i wp[32];
  int64_t toff[65];
  dw_weight_pairs(wk, ntap, wp);
  for (int64_t t = 0; t < ntap; t++)
    toff[t] = (t / kw) * p->dilation_h * P + (t % kw) * p->dilation_w;
  toff[ntap] = toff[ntap - 1];
  fill_run(plane, (uint8_t)q->in_zp, bytes);
  for (int64_t ih = 0; ih < p->in_h; ih++)
    copy_run(plane + (p->pad_top + ih) * P + p->pad_left, xp + ih * p->in_w, p->in_w);
  for (int64_t c0 = 0; c0 < F; c0 += 32)
    dw_taps32(plane + c0, toff, wp, ntap, acc + c0);
  for (int64_t oh = 0; oh < p->out_h; oh++)
    netc_qstore_row(p->out_w, acc + oh * P, bias, rq, q->out_zp, q->out_min, q->out_max, yp + oh * p->out_w);
}

// Whether depthwise_plane_s12 takes the layer: stride 1 or 2 along the
// row, and its padded rows (per phase: out_w rounded up to 32, the
// kernel's reach, and a vector's slack) fit the buffers.
static int dw_s12_fits(const netc_conv2d_params *p) {
  const int64_t sw = p->stride_w, reach = (p->kernel_w - 1) * p->dilation_w;
  return (sw == 1 || sw == 2) && p->kernel_h <= DW1_MAXK && p->kernel_h * p->kernel_w <= 64 &&
         (p->out_w + 31) / 32 * 32 + (reach / sw + 31) / 32 * 32 + 32 <= DW1_ROW;
}

// One output plane of a depthwise layer of stride 1 or 2 along the row,
// 32 output columns at a time with every tap in registers: for each output
// row the kernel_h input rows it reads are copied with their padding
// (in_zp) into rows[] (at stride 2 split into even and odd columns, so
// that every tap reads consecutive bytes), then taps go in pairs through
// vpmaddwd (u8 and s8 widened to int16: each 32-bit lane adds x0 * w0 +
// x1 * w1 exactly). The unpacks leave the columns in the order [0-3, 8-11,
// 16-19, 24-27] and [4-7, 12-15, ...], put back by one permute before the
// epilogue.
static void depthwise_plane_s12(const netc_qconv2d_params *q, const uint8_t *xp, const int8_t *wk,
                                int32_t bias, netc_requant rq, uint8_t *yp) {
  const netc_conv2d_params *p = &q->p;
  const int64_t kh = p->kernel_h, kw = p->kernel_w, ntap = kh * kw, dw = p->dilation_w, sw = p->stride_w;
  const int64_t reach = (kw - 1) * dw, width = (p->out_w + 31) / 32 * 32 + (reach / sw + 31) / 32 * 32 + 32;
  uint8_t rows[DW1_MAXK][2][DW1_ROW], pad[2 * DW1_ROW];
  int32_t acc[DW1_ROW];
  __m512i wp[32];  // weight pairs (w[t] low, w[t + 1] high), the last one's partner 0
  for (int64_t t = 0; t < ntap; t += 2) {
    const int32_t w0 = (uint16_t)(int16_t)wk[t];
    const int32_t w1 = t + 1 < ntap ? (uint16_t)(int16_t)wk[t + 1] : 0;
    wp[t / 2] = _mm512_set1_epi32((int32_t)((uint32_t)w0 | (uint32_t)w1 << 16));
  }
  // Tap column kx of output column ow reads padded column ow * sw + kx * dw
  // (padded column c = input column c - pad_left): phase (kx * dw) % sw,
  // rows[.][phase][ow + kx * dw / sw].
  int64_t toff[65];  // tap t's bytes from rows[0][0] (the partner of an odd last tap: itself)
  for (int64_t t = 0; t < ntap; t++) {
    const int64_t c = (t % kw) * dw;
    toff[t] = ((t / kw) * 2 + c % sw) * DW1_ROW + c / sw;
  }
  toff[ntap] = toff[ntap - 1];
  const int64_t pw = width * sw;
  const int64_t cpy0 = NETC_MIN(p->pad_left, pw), cpyn = NETC_MAX(0, NETC_MIN(p->in_w, pw - cpy0));
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  for (int64_t oh = 0; oh < p->out_h; oh++) {
    for (int64_t ky = 0; ky < kh; ky++) {
      const int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
      uint8_t *r = sw == 1 ? rows[ky][0] : pad;
      if (ih < 0 || ih >= p->in_h) {
        memset(r, q->in_zp, (size_t)pw);
      } else {
        memset(r, q->in_zp, (size_t)cpy0);
        memcpy(r + cpy0, xp + ih * p->in_w, (size_t)cpyn);
        memset(r + cpy0 + cpyn, q->in_zp, (size_t)(pw - cpy0 - cpyn));
      }
      if (sw == 2)
        for (int64_t c = 0; c < width; c += 32) {  // width and pw are multiples of 32 and 64
          __m512i v = _mm512_loadu_si512((const void *)(pad + 2 * c));
          _mm256_storeu_si256((__m256i *)(rows[ky][0] + c), _mm512_cvtepi16_epi8(v));
          _mm256_storeu_si256((__m256i *)(rows[ky][1] + c), _mm512_cvtepi16_epi8(_mm512_srli_epi16(v, 8)));
        }
    }
    for (int64_t c0 = 0; c0 < p->out_w; c0 += 32) {
      __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
      for (int64_t t = 0; t < ntap; t += 2) {
        const uint8_t *a = rows[0][0] + toff[t] + c0, *b = rows[0][0] + toff[t + 1] + c0;
        __m512i va = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)a));
        __m512i vb = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)b));
        lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(va, vb), wp[t / 2]));
        hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(va, vb), wp[t / 2]));
      }
      _mm512_storeu_si512((void *)(acc + c0), _mm512_permutex2var_epi32(lo, first, hi));
      _mm512_storeu_si512((void *)(acc + c0 + 16), _mm512_permutex2var_epi32(lo, second, hi));
    }
    netc_qstore_row(p->out_w, acc, bias, rq, q->out_zp, q->out_min, q->out_max, yp + oh * p->out_w);
  }
}
#endif

// One output plane (chunk = n * out_c + oc) of a depthwise convolution, a
// row at a time: for each tap, the columns whose input lies inside the row
// add x * w in one loop the compiler vectorises (stride 1: contiguous), the
// others add in_zp * w; rows outside the image add in_zp * w everywhere.
static void depthwise_chunk(void *ctx, int64_t chunk) {
  const depthwise_job *j = (const depthwise_job *)ctx;
  const netc_qconv2d_params *q = j->q;
  const netc_conv2d_params *p = &q->p;
  const int64_t oc = chunk % p->out_c, n = chunk / p->out_c;
  const int64_t ic = oc / (p->out_c / p->in_c);
  const int64_t kh = p->kernel_h, kw = p->kernel_w, K4 = round4(kh * kw), sw = p->stride_w;
  const uint8_t *xp = j->x + (n * p->in_c + ic) * p->in_h * p->in_w;
  const int8_t *wk = j->w + oc * K4;
  uint8_t *yp = j->y + chunk * p->out_h * p->out_w;
  const int32_t bias = j->bias ? j->bias[oc] : 0;
  const netc_requant rq = j->rq[oc];
#if defined(__AVX512F__) && defined(__AVX512BW__)
  if (dw_flat_fits(p)) {
    depthwise_plane_flat(q, xp, wk, bias, rq, yp);
    return;
  }
  if (dw_s12_fits(p)) {
    depthwise_plane_s12(q, xp, wk, bias, rq, yp);
    return;
  }
#endif
  int32_t acc[DW_COLS];
  for (int64_t oh = 0; oh < p->out_h; oh++)
    for (int64_t c0 = 0; c0 < p->out_w; c0 += DW_COLS) {
      const int64_t c1 = NETC_MIN(c0 + DW_COLS, p->out_w), nc = c1 - c0;
      for (int64_t i = 0; i < nc; i++)
        acc[i] = 0;
      for (int64_t ky = 0; ky < kh; ky++) {
        const int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
        for (int64_t kx = 0; kx < kw; kx++) {
          const int32_t wv = wk[ky * kw + kx], zpw = q->in_zp * wv;
          // Input column of output column ow: ow * sw + off, inside for ow in [lo, hi).
          const int64_t off = kx * p->dilation_w - p->pad_left;
          int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
          int64_t hi = p->in_w - 1 - off < 0 ? 0 : (p->in_w - 1 - off) / sw + 1;
          if (ih < 0 || ih >= p->in_h)
            lo = hi = c1;
          lo = NETC_MIN(NETC_MAX(lo, c0), c1);
          hi = NETC_MIN(NETC_MAX(hi, lo), c1);
          for (int64_t ow = c0; ow < lo; ow++)
            acc[ow - c0] += zpw;
          for (int64_t ow = hi; ow < c1; ow++)
            acc[ow - c0] += zpw;
          if (lo == hi)
            continue;
          const uint8_t *xr = xp + ih * p->in_w + (lo * sw + off);
          int32_t *a = acc + (lo - c0);
          const int64_t cnt = hi - lo;
          if (sw == 1)
            axpy_u8(cnt, wv, xr, a);
          else
            for (int64_t i = 0; i < cnt; i++)
              a[i] += xr[i * sw] * wv;
        }
      }
      netc_qstore_row(nc, acc, bias, rq, q->out_zp, q->out_min, q->out_max, yp + oh * p->out_w + c0);
    }
}

void netc_qconv2d_u8(const netc_qconv2d_params *q, const uint8_t *x, const int8_t *w,
                     const int32_t *bias_eff, const netc_requant *rq, uint8_t *y, void *scratch) {
  const netc_conv2d_params *p = &q->p;
  if (is_depthwise(p)) {
    depthwise_job j = {q, x, w, bias_eff, rq, y};
    double macs = (double)p->n * p->out_c * p->out_h * p->out_w * p->kernel_h * p->kernel_w;
    netc_parallel(p->n * p->out_c, macs >= PARALLEL_MIN_MACS ? 0 : 1, depthwise_chunk, &j);
    return;
  }
  const int64_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups;
  const int64_t K4 = round4(icg * p->kernel_h * p->kernel_w), npix = p->out_h * p->out_w;
  // The packed matrix starts on a cache line (scratch_bytes includes the 64).
  uint8_t *b = (uint8_t *)scratch;
  b += (64 - (uintptr_t)b % 64) % 64;
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t g = 0; g < p->groups; g++) {
      const double macs = (double)ocg * (double)npix * (double)K4;
      im2col_u8(q, x + (n * p->in_c + g * icg) * p->in_h * p->in_w, b, macs >= PARALLEL_MIN_MACS ? 0 : 1);
      qgemm_job j;
      j.rows = ocg;
      j.N = npix;
      j.K4 = K4;
      j.w = w + g * ocg * K4;
      j.b = b;
      j.o.y = y + (n * p->out_c + g * ocg) * npix;
      j.o.ldm = npix;
      j.o.ldn = 1;
      j.o.bias = bias_eff ? bias_eff + g * ocg : NULL;
      j.o.rq = rq + g * ocg;
      j.o.zp = q->out_zp;
      j.o.lo = q->out_min;
      j.o.hi = q->out_max;
      qgemm_parallel(&j);
    }
}

//
// Linear
//

int64_t netc_qlinear_scratch_bytes(int64_t batch, int64_t in, int64_t out) {
  (void)out;
  return batch <= 1 ? 0 : round4(in) * netc_qgemm_n64(batch) + 64;
}

// sum_k x[k] * w[k] over k < in (w has in4 >= in entries; those past in are 0).
static int32_t dot_u8s8(int64_t in, const uint8_t *x, const int8_t *w) {
  int64_t k = 0;
  int32_t acc = 0;
#if defined(__AVX512VNNI__) && defined(__AVX512F__) && defined(__AVX512BW__)
  // 64 k per vpdpbusd; the tail is a masked load (x may end anywhere).
  __m512i s = _mm512_setzero_si512();
  for (; k + 64 <= in; k += 64)
    s = _mm512_dpbusd_epi32(s, _mm512_loadu_si512((const void *)(x + k)),
                            _mm512_loadu_si512((const void *)(w + k)));
  if (k < in) {
    __mmask64 m = (__mmask64)((1ULL << (in - k)) - 1);
    s = _mm512_dpbusd_epi32(s, _mm512_maskz_loadu_epi8(m, x + k), _mm512_maskz_loadu_epi8(m, w + k));
    k = in;
  }
  acc = _mm512_reduce_add_epi32(s);
#elif defined(__AVX2__)
  __m256i s = _mm256_setzero_si256();
  for (; k + 16 <= in; k += 16) {
    __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + k)));
    __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + k)));
    s = _mm256_add_epi32(s, _mm256_madd_epi16(xv, wv));
  }
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  acc = _mm_cvtsi128_si32(h);
#endif
  for (; k < in; k++)
    acc += x[k] * w[k];
  return acc;
}

typedef struct gemv_job {
  int64_t in, out;
  const uint8_t *x;
  const int8_t *w;
  const int32_t *bias;
  const netc_requant *rq;
  int32_t zp, lo, hi;
  uint8_t *y;
} gemv_job;

#define GEMV_ROWS 64

static void gemv_chunk(void *ctx, int64_t c) {
  const gemv_job *j = (const gemv_job *)ctx;
  const int64_t in4 = round4(j->in);
  for (int64_t o = c * GEMV_ROWS; o < NETC_MIN((c + 1) * GEMV_ROWS, j->out); o++) {
    int32_t acc = dot_u8s8(j->in, j->x, j->w + o * in4);
    acc = (int32_t)((uint32_t)acc + (uint32_t)(j->bias ? j->bias[o] : 0));
    j->y[o] = qclamp(j->zp, acc, j->rq[o], j->lo, j->hi);
  }
}

// x [batch][in] into the packed layout: column b of the K4 x batch matrix is row b of x.
static void pack_rows_u8(int64_t batch, int64_t in, const uint8_t *x, uint8_t *b) {
  const int64_t in4 = round4(in), n64 = netc_qgemm_n64(batch);
  for (int64_t r = 0; r < batch; r++)
    for (int64_t k = 0; k < in4; k++)
      b[((k / 4) * n64 + r) * 4 + k % 4] = k < in ? x[r * in + k] : 0;
}

void netc_qlinear_u8(int64_t batch, int64_t in, int64_t out, const uint8_t *x, int32_t in_zp,
                     const int8_t *w, const int32_t *bias_eff, const netc_requant *rq,
                     int32_t out_zp, int32_t out_min, int32_t out_max, uint8_t *y, void *scratch) {
  (void)in_zp;
  if (batch <= 0)
    return;
  if (batch == 1) {
    gemv_job j = {in, out, x, w, bias_eff, rq, out_zp, out_min, out_max, y};
    netc_parallel((out + GEMV_ROWS - 1) / GEMV_ROWS, (double)in * out >= PARALLEL_MIN_MACS ? 0 : 1,
                  gemv_chunk, &j);
    return;
  }
  uint8_t *b = (uint8_t *)scratch;
  b += (64 - (uintptr_t)b % 64) % 64;
  pack_rows_u8(batch, in, x, b);
  // Rows of the GEMM are output features, columns the batch: y is its transpose.
  qgemm_job j;
  j.rows = out;
  j.N = batch;
  j.K4 = round4(in);
  j.w = w;
  j.b = b;
  j.o.y = y;
  j.o.ldm = 1;
  j.o.ldn = out;
  j.o.bias = bias_eff;
  j.o.rq = rq;
  j.o.zp = out_zp;
  j.o.lo = out_min;
  j.o.hi = out_max;
  qgemm_parallel(&j);
}
