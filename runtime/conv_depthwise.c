// conv_depthwise.c -- the depthwise path of conv.c: in_c == groups > 1,
// each output plane from one input plane (out_c / in_c planes per input).
//
// Requires: netc_internal.h (vector spans, netc_fill_phase_row,
//           netc_parallel, netc_act_span_f32).
// Provides: netc_conv_depthwise, which conv.c's planner calls for every
//           depthwise layer (raw and packed weights are the same layout).
//
// Three kernels: a direct one per output plane on a zero-padded,
// stride-phase-split copy of the input (flat outputs, every tap a
// contiguous load; depthwise_band); its fallback for rows too wide for that
// copy (depthwise_plane_direct); and on AVX-512, for planes up to 14 wide,
// sixteen channels at a time through a channels-last copy (depthwise_cl16).

#include "netc_internal.h"

// Sum of the taps of output pixel (oh, ow) whose input lies inside the
// image (the border case).
static float depthwise_pixel(const netc_conv2d_params *p, const float *x, const float *w,
                             int64_t oh, int64_t ow) {
  float sum = 0.0f;
  for (int64_t ky = 0; ky < p->kernel_h; ky++) {
    int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
    if (ih < 0 || ih >= p->in_h)
      continue;
    for (int64_t kx = 0; kx < p->kernel_w; kx++) {
      int64_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
      if (iw >= 0 && iw < p->in_w)
        sum += w[ky * p->kernel_w + kx] * x[ih * p->in_w + iw];
    }
  }
  return sum;
}

// One output plane: x [in_h, in_w] (one channel), w [kh, kw], y [out_h, out_w]
// (+ res [out_h, out_w] if not NULL; res may be y: every element of y is
// written once, after its res is read).
// Direct form, for rows too wide for depthwise_band's buffer: border
// pixels check every tap, interior ones only the rows.
static void depthwise_plane_direct(const netc_conv2d_params *p, const float *restrict x,
                                   const float *restrict w, float b, const float *res, float *y) {
  const int64_t sw = p->stride_w, dw = p->dilation_w, kw = p->kernel_w;
  // Columns whose every tap is inside the input: ow*sw - pl >= 0 and
  // ow*sw - pl + (kw-1)*dw <= in_w - 1.
  int64_t ow_lo = NETC_MIN(netc_ceil_div(p->pad_left, sw), p->out_w);
  int64_t ow_hi = netc_floor_div(p->in_w - 1 + p->pad_left - (kw - 1) * dw, sw) + 1;
  ow_hi = NETC_MAX(ow_lo, NETC_MIN(ow_hi, p->out_w));

  for (int64_t oh = 0; oh < p->out_h; oh++) {
    float *yr = y + oh * p->out_w;
    const float *rr = res ? res + oh * p->out_w : NULL;
    for (int64_t ow = 0; ow < ow_lo; ow++)
      yr[ow] = b + depthwise_pixel(p, x, w, oh, ow) + (rr ? rr[ow] : 0.0f);
    for (int64_t ow = ow_hi; ow < p->out_w; ow++)
      yr[ow] = b + depthwise_pixel(p, x, w, oh, ow) + (rr ? rr[ow] : 0.0f);

    // Interior: only the rows need checking.
    int64_t ih0 = oh * p->stride_h - p->pad_top;
    int64_t ky_lo = NETC_MAX((int64_t)0, netc_ceil_div(-ih0, p->dilation_h));
    int64_t ky_hi = NETC_MIN(p->kernel_h, netc_floor_div(p->in_h - 1 - ih0, p->dilation_h) + 1);
    int64_t ow = ow_lo;
    if (sw == 1) {
      const int64_t EPR = NETC_F32_EPR;
      for (; ow + 4 * EPR <= ow_hi; ow += 4 * EPR) {
        NETC_F32_VEC acc[4];
        NETC_UNROLL(4)
        for (int u = 0; u < 4; u++)
          acc[u] = NETC_F32_VEC_SET1(b);
        for (int64_t ky = ky_lo; ky < ky_hi; ky++) {
          const float *xr = x + (ih0 + ky * p->dilation_h) * p->in_w + ow - p->pad_left;
          for (int64_t kx = 0; kx < kw; kx++) {
            NETC_F32_VEC wv = NETC_F32_VEC_SET1(w[ky * kw + kx]);
            NETC_UNROLL(4)
            for (int u = 0; u < 4; u++)
              acc[u] = NETC_F32_VEC_FMA(acc[u], wv, NETC_F32_VEC_LOAD(xr + kx * dw + u * EPR));
          }
        }
        if (rr) {
          NETC_UNROLL(4)
          for (int u = 0; u < 4; u++)
            acc[u] = NETC_F32_VEC_ADD(acc[u], NETC_F32_VEC_LOAD(rr + ow + u * EPR));
        }
        NETC_UNROLL(4)
        for (int u = 0; u < 4; u++)
          NETC_F32_VEC_STORE(yr + ow + u * EPR, acc[u]);
      }
      for (; ow + EPR <= ow_hi; ow += EPR) {
        NETC_F32_VEC acc = NETC_F32_VEC_SET1(b);
        for (int64_t ky = ky_lo; ky < ky_hi; ky++) {
          const float *xr = x + (ih0 + ky * p->dilation_h) * p->in_w + ow - p->pad_left;
          for (int64_t kx = 0; kx < kw; kx++)
            acc = NETC_F32_VEC_FMA(acc, NETC_F32_VEC_SET1(w[ky * kw + kx]),
                                   NETC_F32_VEC_LOAD(xr + kx * dw));
        }
        if (rr)
          acc = NETC_F32_VEC_ADD(acc, NETC_F32_VEC_LOAD(rr + ow));
        NETC_F32_VEC_STORE(yr + ow, acc);
      }
    }
    for (; ow < ow_hi; ow++) {
      float sum = b + (rr ? rr[ow] : 0.0f);
      for (int64_t ky = ky_lo; ky < ky_hi; ky++) {
        const float *xr = x + (ih0 + ky * p->dilation_h) * p->in_w + ow * sw - p->pad_left;
        for (int64_t kx = 0; kx < kw; kx++)
          sum += w[ky * kw + kx] * xr[kx * dw];
      }
      yr[ow] = sum;
    }
  }
  if (p->act != NETC_ACT_NONE)
    netc_act_span_f32(p->act, p->act_slope, p->out_h * p->out_w, y, y);
}

// Depthwise on a zero-padded, phase-split copy of the input ("band").
//
// Pad the input plane with zeros and split it by stride phase: phase (g, f)
// holds padded rows g, g + sh, g + 2 sh, ... and of those the columns f,
// f + sw, ..., each phase a grid of rows of plen = ceil(wp / sw) floats
// (wp = pl + in_w + pr). Tap (ky, kx) of output (oh, ow) reads padded
// (oh sh + ky dh, ow sw + kx dw) = ((oh + qy) sh + g, (ow + qx) sw + f) with
// (qy, g) = divmod(ky dh, sh), (qx, f) = divmod(kx dw, sw): element
// (oh + qy, ow + qx) of phase (g, f). Over the flat index t = oh * plen + ow,
// every tap is one contiguous run at a fixed offset, whatever the stride,
// dilation or padding, and the padding is stored zeros. So the kernel is
// taps x contiguous FMAs over t, vectorised even for 7x7 planes; the
// columns ow in [out_w, plen) are computed and dropped as the results are
// stored (with bias and residual; the activation follows on the band's
// rows, still in L1). Output rows are done in bands whose padded input fits
// DW_BAND floats of stack; the phases are filled with vector stores only
// (reading a freshly written buffer at another alignment would stall on
// store forwarding).
#define DW_BAND 8192  // floats: the padded, phase-split input of one band
#define DW_TAPS 256

// Output rows per band (0: the plane does not fit; use the direct kernel).
static int64_t dw_band_rows(const netc_conv2d_params *p) {
  const int64_t sh = p->stride_h, sw = p->stride_w;
  const int64_t wp = p->pad_left + p->in_w + p->pad_right, plen = (wp + sw - 1) / sw;
  if (p->kernel_h * p->kernel_w > DW_TAPS || plen > NETC_PHASE_CHUNK || sw * plen > 2 * NETC_PHASE_CHUNK)
    return 0;
  // Rows per phase for nb output rows: nb + extra.
  const int64_t extra = ((p->kernel_h - 1) * p->dilation_h + 1 + sh - 1) / sh - 1;
  int64_t nb = (DW_BAND - plen - 2 * NETC_F32_EPR) / (sh * sw * plen) - extra;
  return nb < 1 ? 0 : NETC_MIN(nb, p->out_h);
}

// What every band of every plane of one depthwise call shares.
typedef struct {
  int64_t band;          // output rows per band (0: use depthwise_plane_direct)
  int64_t plen, rp;      // floats per phase row; rows per phase (of a full band)
  int64_t ntaps;
  int64_t off[DW_TAPS];  // tap k: offset from output t = (oh - oh0) plen + ow
} dw_plan;

// Tap (ky, kx) of output (oh, ow) is element (oh - oh0 + qy, ow + qx) of
// phase (gy, fx), with (qy, gy) = divmod(ky dh, sh) and (qx, fx) =
// divmod(kx dw, sw): one offset from the output's (row, column).
static void dw_make_plan(const netc_conv2d_params *p, dw_plan *pl) {
  const int64_t sh = p->stride_h, sw = p->stride_w;
  pl->band = dw_band_rows(p);
  pl->plen = (p->pad_left + p->in_w + p->pad_right + sw - 1) / sw;
  pl->rp = (((pl->band - 1) * sh + (p->kernel_h - 1) * p->dilation_h + 1) + sh - 1) / sh;
  pl->ntaps = 0;
  if (pl->band <= 0)
    return;
  for (int64_t ky = 0; ky < p->kernel_h; ky++)
    for (int64_t kx = 0; kx < p->kernel_w; kx++) {
      const int64_t dy = ky * p->dilation_h, dx = kx * p->dilation_w;
      pl->off[pl->ntaps++] = ((dy % sh * sw + dx % sw) * pl->rp + dy / sh) * pl->plen + dx / sw;
    }
}

// Output rows [oh0, oh1) of one plane: y = act(conv + b + res) (res may be
// y, or NULL); buf holds DW_BAND floats.
// nv consecutive vectors from src: acc[u] = b + sum_k wt[k] src[off[k] + u EPR].
// nv is a constant at every call (a switch), so acc stays in registers.
NETC_ALWAYS_INLINE static inline void dw_taps(const int nv, const float *restrict src,
                                              const int64_t *restrict off, const float *restrict wt,
                                              int64_t ntaps, NETC_F32_VEC b, NETC_F32_VEC *restrict acc) {
  const int64_t EPR = NETC_F32_EPR;
  NETC_F32_VEC a[8];
  NETC_UNROLL(8)
  for (int u = 0; u < nv; u++)
    a[u] = b;
  for (int64_t k = 0; k < ntaps; k++) {
    const NETC_F32_VEC wv = NETC_F32_VEC_SET1(wt[k]);
    const float *sk = src + off[k];
    NETC_UNROLL(8)
    for (int u = 0; u < nv; u++)
      a[u] = NETC_F32_VEC_FMA(a[u], wv, NETC_F32_VEC_LOAD(sk + u * EPR));
  }
  NETC_UNROLL(8)
  for (int u = 0; u < nv; u++)
    acc[u] = a[u];
}

static void depthwise_band(const netc_conv2d_params *p, const dw_plan *plan,
                           const float *restrict x, const float *restrict w, float b,
                           const float *res, float *y, int64_t oh0, int64_t oh1,
                           float *restrict buf) {
  const int64_t EPR = NETC_F32_EPR;
  const int64_t sh = p->stride_h, sw = p->stride_w, kh = p->kernel_h;
  const int64_t pl = p->pad_left, in_w = p->in_w;
  const int64_t plen = plan->plen, rp = plan->rp;
  const int64_t nb = oh1 - oh0;
  const int64_t rows_in = (nb - 1) * sh + (kh - 1) * p->dilation_h + 1;
  const int64_t r0 = oh0 * sh - p->pad_top;     // input row of padded band row 0
  assert(sh * sw * rp * plen + plen + 2 * EPR <= DW_BAND && rows_in <= rp * sh);

  // Fill the phases: phase (g, f) row ii is padded row ii sh + g (input
  // row r0 + ii sh + g), columns f, f + sw, ...
  float row[2 * NETC_PHASE_CHUNK + 4 * NETC_F32_EPR];
  for (int64_t rr = 0, g = 0, ii = 0; rr < rows_in; rr++, g == sh - 1 ? (g = 0, ii++) : g++) {
    const int64_t ih = r0 + rr;
    netc_fill_phase_row(ih >= 0 && ih < p->in_h ? x + ih * in_w : NULL, in_w, pl, plen, sw,
                   buf + (g * sw * rp + ii) * plen, rp * plen, row);
  }
  // Phase rows of the last band past rows_in are never read; loads that run
  // past a row end into the next, or past the last phase into this slack.
  netc_vzero(buf + sh * sw * rp * plen, plen + 2 * EPR);

  const int64_t ntaps = plan->ntaps;
  const int64_t *off = plan->off;
  const float *wt = w;  // taps in (ky, kx) order, as plan->off

  // Outputs are numbered t = (oh - oh0) plen + ow over the phase width;
  // every tap is then one contiguous run at off[k] from t. Eight vectors
  // of consecutive t at a time (eight FMA chains); the columns ow in
  // [out_w, plen) are computed and dropped as each vector is stored.
  const int64_t t_end = (nb - 1) * plen + p->out_w;
  const NETC_F32_VEC vb = NETC_F32_VEC_SET1(b);
  int64_t r = oh0, c = 0;
  for (int64_t t = 0; t < t_end; t += 8 * EPR) {
    const float *src = buf + t;
    NETC_F32_VEC acc[8];
    switch (NETC_MIN((int64_t)8, (t_end - t + EPR - 1) / EPR)) {
    case 1: dw_taps(1, src, off, wt, ntaps, vb, acc); break;
    case 2: dw_taps(2, src, off, wt, ntaps, vb, acc); break;
    case 3: dw_taps(3, src, off, wt, ntaps, vb, acc); break;
    case 4: dw_taps(4, src, off, wt, ntaps, vb, acc); break;
    case 5: dw_taps(5, src, off, wt, ntaps, vb, acc); break;
    case 6: dw_taps(6, src, off, wt, ntaps, vb, acc); break;
    case 7: dw_taps(7, src, off, wt, ntaps, vb, acc); break;
    default: dw_taps(8, src, off, wt, ntaps, vb, acc); break;
    }
    // Store the valid lanes, row piece by row piece; (r, c) is the output
    // row and flat column of the next lane (c in [out_w, plen): dropped).
    for (int u = 0; u < 8; u++) {
      const int64_t v0 = t + u * EPR, v1 = NETC_MIN(v0 + EPR, t_end);
      if (v1 - v0 == EPR && c + EPR <= p->out_w) {  // inside one row: the common case
        float *yp = y + r * p->out_w + c;
        NETC_F32_VEC v = acc[u];
        if (res)
          v = NETC_F32_VEC_ADD(v, NETC_F32_VEC_LOAD(res + (yp - y)));
        NETC_F32_VEC_STORE(yp, v);
        c += EPR;
        if (c == plen) {
          c = 0;
          r++;
        }
        continue;
      }
      for (int64_t tt = v0; tt < v1;) {
        if (c >= p->out_w) {
          const int64_t skip = NETC_MIN(plen - c, v1 - tt);
          tt += skip;
          c += skip;
        } else {
          const int64_t n = NETC_MIN(p->out_w - c, v1 - tt), lane = tt - v0;
          float *yp = y + r * p->out_w + c;
          NETC_F32_VEC v = acc[u];
          if (n == EPR) {
            if (res)
              v = NETC_F32_VEC_ADD(v, NETC_F32_VEC_LOAD(res + (yp - y)));
            NETC_F32_VEC_STORE(yp, v);
          } else {
            if (res)
              v = NETC_F32_VEC_ADD(v, netc_load_lanes(res + (yp - y), lane, n));
            netc_store_lanes(yp, v, lane, n);
          }
          tt += n;
          c += n;
        }
        if (c == plen) {
          c = 0;
          r++;
        }
      }
    }
  }
  // The activation on the band's rows, still in L1.
  if (p->act != NETC_ACT_NONE)
    netc_act_span_f32(p->act, p->act_slope, nb * p->out_w, y + oh0 * p->out_w, y + oh0 * p->out_w);
}

static void depthwise_plane_banded(const netc_conv2d_params *p, const dw_plan *plan,
                                   const float *x, const float *w, float b, const float *res,
                                   float *y) {
  float buf[DW_BAND];
  for (int64_t oh = 0; oh < p->out_h; oh += plan->band)
    depthwise_band(p, plan, x, w, b, res, y, oh, NETC_MIN(oh + plan->band, p->out_h), buf);
}

#if defined(__AVX512F__)
// Depthwise on small planes (7 x 7, 14 x 14: MobileNet's late layers),
// sixteen channels at a time, channels in the vector lanes: the block is
// gathered into a zero-padded channels-last copy (one gather per input
// pixel), each output pixel is taps FMAs of whole registers whatever the
// plane's width, and the results go back through a channels-last buffer,
// one gathered register per 16 outputs of a channel. In NCHW a 7 x 7 plane
// would fill a quarter of its vectors and pay its setup 16 times over.
#define DW_CL_FLOATS 6144  // the padded block: hp * wp * 16 floats (24 KB)
#define DW_CL_OUT 3136     // the output block: out_h * out_w * 16 floats
#define DW_CL_TAPS 49

static int dw_cl_ok(const netc_conv2d_params *p) {
  const int64_t hp = p->pad_top + p->in_h + p->pad_bottom, wp = p->pad_left + p->in_w + p->pad_right;
  return p->out_c == p->in_c && p->kernel_h * p->kernel_w <= DW_CL_TAPS && hp * wp * 16 <= DW_CL_FLOATS &&
         p->out_h * p->out_w * 16 <= DW_CL_OUT && p->out_w <= 14 && (double)p->in_c * p->in_h * p->in_w < 2e9;
}

// In-register 16 x 16 transpose: r[i] lane j becomes r[j] lane i.
static inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
  }
}

// Channels [c0, c0 + nc) of batch item b.
static void depthwise_cl16(const netc_conv2d_params *p, const float *x, const float *w,
                           const float *bias, const float *res, float *y, int64_t b, int64_t c0,
                           int64_t nc) {
  const int64_t C = p->in_c, H = p->in_h, W = p->in_w, OH = p->out_h, OW = p->out_w;
  const int64_t hp = p->pad_top + H + p->pad_bottom, wp = p->pad_left + W + p->pad_right;
  const int64_t khw = p->kernel_h * p->kernel_w, hw = H * W, ohw = OH * OW;
  const __mmask16 m = (__mmask16)((1u << nc) - 1u);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  NETC_ALIGN64 float buf[DW_CL_FLOATS];
  NETC_ALIGN64 float out[DW_CL_OUT];
  __m512 wt[DW_CL_TAPS];
  int64_t toff[DW_CL_TAPS];

  for (int64_t i = 0; i < hp * wp; i++)
    _mm512_store_ps(buf + i * 16, _mm512_setzero_ps());
  // Sixteen pixels of the sixteen planes at a time, transposed in registers.
  const float *xb = x + (b * C + c0) * hw;
  for (int64_t p0 = 0, ih = 0, iw = 0; p0 < hw; p0 += 16) {
    const int64_t n = NETC_MIN((int64_t)16, hw - p0);
    const __mmask16 mn = (__mmask16)((1u << n) - 1u);
    __m512 r[16];
    for (int64_t c = 0; c < 16; c++)
      r[c] = c < nc ? _mm512_maskz_loadu_ps(mn, xb + c * hw + p0) : _mm512_setzero_ps();
    transpose16x16(r);
    for (int64_t i = 0; i < n; i++) {
      _mm512_store_ps(buf + ((ih + p->pad_top) * wp + iw + p->pad_left) * 16, r[i]);
      if (++iw == W) {
        iw = 0;
        ih++;
      }
    }
  }
  const __m512i vw = _mm512_mullo_epi32(iota, _mm512_set1_epi32((int)khw));
  for (int64_t k = 0; k < khw; k++) {
    wt[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, vw, w + c0 * khw + k, 4);
    toff[k] = ((k / p->kernel_w) * p->dilation_h * wp + (k % p->kernel_w) * p->dilation_w) * 16;
  }
  const __m512 vb = bias ? _mm512_maskz_loadu_ps(m, bias + c0) : _mm512_setzero_ps();
  const __m512 slope = _mm512_set1_ps(p->act_slope);

  // Four output pixels at a time: four FMA chains.
  for (int64_t t = 0; t < ohw; t += 4) {
    const float *src[4];
    for (int64_t u = 0; u < 4; u++) {
      const int64_t tt = NETC_MIN(t + u, ohw - 1), oh = tt / OW, ow = tt % OW;
      src[u] = buf + (oh * p->stride_h * wp + ow * p->stride_w) * 16;
    }
    __m512 a0 = vb, a1 = vb, a2 = vb, a3 = vb;
    for (int64_t k = 0; k < khw; k++) {
      a0 = _mm512_fmadd_ps(wt[k], _mm512_load_ps(src[0] + toff[k]), a0);
      a1 = _mm512_fmadd_ps(wt[k], _mm512_load_ps(src[1] + toff[k]), a1);
      a2 = _mm512_fmadd_ps(wt[k], _mm512_load_ps(src[2] + toff[k]), a2);
      a3 = _mm512_fmadd_ps(wt[k], _mm512_load_ps(src[3] + toff[k]), a3);
    }
    _mm512_store_ps(out + t * 16, a0);
    if (t + 1 < ohw)
      _mm512_store_ps(out + (t + 1) * 16, a1);
    if (t + 2 < ohw)
      _mm512_store_ps(out + (t + 2) * 16, a2);
    if (t + 3 < ohw)
      _mm512_store_ps(out + (t + 3) * 16, a3);
  }

  // Back to NCHW, sixteen outputs of the sixteen channels at a time.
  float *yb = y + (b * C + c0) * ohw;
  const float *rb = res ? res + (b * C + c0) * ohw : NULL;
  for (int64_t t = 0; t < ohw; t += 16) {
    const int64_t n = NETC_MIN((int64_t)16, ohw - t);
    const __mmask16 mt = (__mmask16)((1u << n) - 1u);
    __m512 r[16];
    for (int64_t i = 0; i < 16; i++)
      r[i] = i < n ? _mm512_load_ps(out + (t + i) * 16) : _mm512_setzero_ps();
    transpose16x16(r);
    for (int64_t c = 0; c < nc; c++) {
      __m512 v = r[c];
      if (rb)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mt, rb + c * ohw + t));
      _mm512_mask_storeu_ps(yb + c * ohw + t, mt, netc_act_vec(p->act, slope, v));
    }
  }
}
#endif

typedef struct {
  const netc_conv2d_params *p;
  const dw_plan *plan;
  const float *x, *w, *bias, *res;
  float *y;
  int64_t planes, nchunks;
} depthwise_job;

static void depthwise_chunk(void *ctx, int64_t c) {
  const depthwise_job *j = ctx;
  const netc_conv2d_params *p = j->p;
  const int64_t mult = p->out_c / p->in_c, khw = p->kernel_h * p->kernel_w;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  for (int64_t q = j->planes * c / j->nchunks; q < j->planes * (c + 1) / j->nchunks; q++) {
    int64_t b = q / p->out_c, o = q % p->out_c, i = o / mult;
    const float *xq = j->x + (b * p->in_c + i) * in_plane;
    float bq = j->bias ? j->bias[o] : 0.0f;
    const float *rq = j->res ? j->res + q * out_plane : NULL;
    if (j->plan->band > 0)
      depthwise_plane_banded(p, j->plan, xq, j->w + o * khw, bq, rq, j->y + q * out_plane);
    else
      depthwise_plane_direct(p, xq, j->w + o * khw, bq, rq, j->y + q * out_plane);
  }
}

#if defined(__AVX512F__)
static void depthwise_cl_chunk(void *ctx, int64_t c) {
  const depthwise_job *j = ctx;
  const int64_t blocks = (j->p->in_c + 15) / 16, total = j->p->n * blocks;
  for (int64_t q = total * c / j->nchunks; q < total * (c + 1) / j->nchunks; q++) {
    const int64_t b = q / blocks, c0 = q % blocks * 16;
    depthwise_cl16(j->p, j->x, j->w, j->bias, j->res, j->y, b, c0, NETC_MIN((int64_t)16, j->p->in_c - c0));
  }
}
#endif

void netc_conv_depthwise(const netc_conv2d_params *p, const float *x, const float *w,
                         const float *bias, const float *res, float *y) {
  const int64_t khw = p->kernel_h * p->kernel_w, out_plane = p->out_h * p->out_w;
  const int64_t planes = p->n * p->out_c;
  int64_t threads = 1;
  if ((double)planes * (double)out_plane * (double)khw >= (double)(1 << 18))
    threads = netc_threads_get();
#if defined(__AVX512F__)
  if (dw_cl_ok(p)) {
    const int64_t blocks = p->n * ((p->in_c + 15) / 16);
    depthwise_job job = {p, NULL, x, w, bias, res, y, planes,
                         threads > 1 ? NETC_MIN(blocks, 4 * threads) : 1};
    netc_parallel(job.nchunks, threads, depthwise_cl_chunk, &job);
    return;
  }
#endif
  dw_plan plan;
  dw_make_plan(p, &plan);
  depthwise_job job = {p, &plan, x, w, bias, res, y, planes,
                       threads > 1 ? NETC_MIN(planes, 8 * threads) : 1};
  netc_parallel(job.nchunks, threads, depthwise_chunk, &job);
}

