// conv.c -- 2-D convolution, NCHW, PyTorch weight layout.
//
//   y[b, o, oh, ow] = act(bias[o] + sum_{i, ky, kx} w[o, i, ky, kx] *
//                         x[b, g * cig + i, oh * sh - pt + ky * dh, ow * sw - pl + kx * dw])
//
// with g = o / cog the group of output channel o, cig = in_c / groups,
// cog = out_c / groups, and x = 0 outside the input (zero padding).
//
// Three paths:
//   depthwise (in_c == groups > 1): a direct kernel, one output plane at a
//     time, vectorised along the output row when stride_w == 1;
//   1x1, stride 1, no padding: per group, y_g [cog, H*W] = w_g [cog, cig] x_g [cig, H*W],
//     a GEMM on the image as stored;
//   otherwise: per group, the same GEMM against the im2col matrix
//     [cig*kh*kw, OH*OW], whose micro-panels are gathered from the image
//     by the GEMM's B packer (implicit im2col: no im2col buffer).
// Bias and activation are the GEMM's epilogue.

#include "netc_internal.h"

#include <string.h>

int64_t netc_conv2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad0, int64_t pad1,
                             int64_t dilation) {
  if (stride <= 0)
    return 0;
  return netc_floor_div(in + pad0 + pad1 - dilation * (k - 1) - 1, stride) + 1;
}

int32_t netc_conv2d_check(const netc_conv2d_params *p, char *err, size_t errlen) {
  if (p->n < 1 || p->in_c < 1 || p->in_h < 1 || p->in_w < 1 || p->out_c < 1)
    return netc_errorf(err, errlen, "conv2d: sizes must be >= 1 (n %lld, in [%lld, %lld, %lld], out_c %lld)",
                       (long long)p->n, (long long)p->in_c, (long long)p->in_h,
                       (long long)p->in_w, (long long)p->out_c);
  if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 ||
      p->dilation_h < 1 || p->dilation_w < 1)
    return netc_errorf(err, errlen, "conv2d: kernel %lldx%lld, stride %lldx%lld, dilation %lldx%lld must all be >= 1",
                       (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                       (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w);
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0)
    return netc_errorf(err, errlen, "conv2d: negative padding (top %lld, left %lld, bottom %lld, right %lld)",
                       (long long)p->pad_top, (long long)p->pad_left, (long long)p->pad_bottom,
                       (long long)p->pad_right);
  if (p->groups < 1 || p->in_c % p->groups != 0 || p->out_c % p->groups != 0)
    return netc_errorf(err, errlen, "conv2d: groups %lld must divide in_c %lld and out_c %lld",
                       (long long)p->groups, (long long)p->in_c, (long long)p->out_c);
  if ((int)p->act < 0 || p->act >= NETC_ACT_COUNT)
    return netc_errorf(err, errlen, "conv2d: bad activation %d", (int)p->act);
  int64_t oh = netc_conv2d_out_size(p->in_h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom,
                                    p->dilation_h);
  int64_t ow = netc_conv2d_out_size(p->in_w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right,
                                    p->dilation_w);
  if (oh < 1 || ow < 1)
    return netc_errorf(err, errlen, "conv2d: kernel does not fit: output would be %lldx%lld", (long long)oh,
                       (long long)ow);
  if (oh != p->out_h || ow != p->out_w)
    return netc_errorf(err, errlen, "conv2d: output is %lldx%lld, params say %lldx%lld", (long long)oh,
                       (long long)ow, (long long)p->out_h, (long long)p->out_w);
  return 0;
}

static int is_depthwise(const netc_conv2d_params *p) {
  return p->groups > 1 && p->groups == p->in_c;
}

static int is_pointwise(const netc_conv2d_params *p) {
  return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
         p->pad_top == 0 && p->pad_left == 0 && p->pad_bottom == 0 && p->pad_right == 0;
}

int64_t netc_conv2d_scratch_floats(const netc_conv2d_params *p) {
  if (is_depthwise(p))
    return 0;
  int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  return netc_gemm_scratch_floats(cog, p->out_h * p->out_w, cig * p->kernel_h * p->kernel_w);
}

//
// Implicit im2col: the GEMM's B operand, gathered while packing
//

typedef struct {
  const netc_conv2d_params *p;
  const float *x;  // [cig, in_h, in_w]: this batch item's input channels of this group
} im2col_src;

// Row r of the im2col matrix is (i, ky, kx) = (r / (kh*kw), r / kw % kh, r % kw);
// column j is the output pixel (oh, ow) = (j / out_w, j % out_w); the entry is
// x[i, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw] or 0 in the padding. A panel's
// columns are cut into runs within one output row, so a stride-1 run that
// is inside the input is one memcpy.
static void pack_b_im2col(const netc_gemm_job *job, int64_t k0, int64_t kc, int64_t j0,
                          int64_t nc, float *restrict dst) {
  const im2col_src *src = job->b_ctx;
  const netc_conv2d_params *p = src->p;
  const int64_t h = p->in_h, w = p->in_w, khw = p->kernel_h * p->kernel_w;
  const int64_t sw = p->stride_w;

  // Runs of consecutive columns in the same output row.
  int64_t run_start[NETC_GEMM_NR], run_len[NETC_GEMM_NR], run_ih[NETC_GEMM_NR],
      run_iw[NETC_GEMM_NR];
  int64_t nruns = 0;
  for (int64_t j = 0; j < nc;) {
    int64_t oh = (j0 + j) / p->out_w, ow = (j0 + j) % p->out_w;
    int64_t len = NETC_MIN(nc - j, p->out_w - ow);
    run_start[nruns] = j;
    run_len[nruns] = len;
    run_ih[nruns] = oh * p->stride_h - p->pad_top;
    run_iw[nruns] = ow * sw - p->pad_left;
    nruns++;
    j += len;
  }

  int64_t i = k0 / khw, ky = k0 % khw / p->kernel_w, kx = k0 % p->kernel_w;
  for (int64_t r = 0; r < kc; r++) {
    float *d = dst + r * NETC_GEMM_NR;
    const float *xi = src->x + i * h * w;
    const int64_t dy = ky * p->dilation_h, dx = kx * p->dilation_w;
    for (int64_t q = 0; q < nruns; q++) {
      float *dq = d + run_start[q];
      const int64_t len = run_len[q], ih = run_ih[q] + dy, iw0 = run_iw[q] + dx;
      if (ih < 0 || ih >= h) {
        memset(dq, 0, sizeof(float) * (size_t)len);
        continue;
      }
      const float *row = xi + ih * w;
      if (sw == 1 && iw0 >= 0 && iw0 + len <= w) {
        memcpy(dq, row + iw0, sizeof(float) * (size_t)len);
      } else {
        for (int64_t j = 0, iw = iw0; j < len; j++, iw += sw)
          dq[j] = iw >= 0 && iw < w ? row[iw] : 0.0f;
      }
    }
    for (int64_t j = nc; j < NETC_GEMM_NR; j++)
      d[j] = 0.0f;
    if (++kx == p->kernel_w) {
      kx = 0;
      if (++ky == p->kernel_h) {
        ky = 0;
        i++;
      }
    }
  }
}

//
// Depthwise
//

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

// One output plane: x [in_h, in_w] (one channel), w [kh, kw], y [out_h, out_w].
// Direct form, for rows too wide for depthwise_band's buffer: border
// pixels check every tap, interior ones only the rows.
static void depthwise_plane_direct(const netc_conv2d_params *p, const float *restrict x,
                            const float *restrict w, float b, float *restrict y) {
  const int64_t sw = p->stride_w, dw = p->dilation_w, kw = p->kernel_w;
  // Columns whose every tap is inside the input: ow*sw - pl >= 0 and
  // ow*sw - pl + (kw-1)*dw <= in_w - 1.
  int64_t ow_lo = NETC_MIN(netc_ceil_div(p->pad_left, sw), p->out_w);
  int64_t ow_hi = netc_floor_div(p->in_w - 1 + p->pad_left - (kw - 1) * dw, sw) + 1;
  ow_hi = NETC_MAX(ow_lo, NETC_MIN(ow_hi, p->out_w));

  for (int64_t oh = 0; oh < p->out_h; oh++) {
    float *yr = y + oh * p->out_w;
    for (int64_t ow = 0; ow < ow_lo; ow++)
      yr[ow] = b + depthwise_pixel(p, x, w, oh, ow);
    for (int64_t ow = ow_hi; ow < p->out_w; ow++)
      yr[ow] = b + depthwise_pixel(p, x, w, oh, ow);

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
        NETC_F32_VEC_STORE(yr + ow, acc);
      }
    }
    for (; ow < ow_hi; ow++) {
      float sum = b;
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
// columns ow in [out_w, plen) are computed and dropped. Output rows are
// done in bands whose padded input fits DW_BAND floats of stack.
#define DW_BAND 8192  // floats: the padded, phase-split input of one band
#define DW_CHUNK 1024 // floats: flat outputs computed before they are copied out
#define DW_TAPS 256

// Short fills and copies as loops: a plane of a late MobileNet layer is 7x7,
// and a libc call per 7-float row would cost more than the arithmetic.
static inline void zero_floats(float *dst, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    dst[i] = 0.0f;
}
static inline void copy_floats(float *restrict dst, const float *restrict src, int64_t n) {
  if (n >= 64) {
    memcpy(dst, src, sizeof(float) * (size_t)n);
    return;
  }
  for (int64_t i = 0; i < n; i++)
    dst[i] = src[i];
}

// Output rows per band (0: the plane does not fit; use the direct kernel).
static int64_t dw_band_rows(const netc_conv2d_params *p) {
  const int64_t sh = p->stride_h, sw = p->stride_w;
  const int64_t wp = p->pad_left + p->in_w + p->pad_right, plen = (wp + sw - 1) / sw;
  if (p->kernel_h * p->kernel_w > DW_TAPS || plen > DW_CHUNK || sw * plen > 2 * DW_CHUNK)
    return 0;
  // Rows per phase for nb output rows: nb + extra.
  const int64_t extra = ((p->kernel_h - 1) * p->dilation_h + 1 + sh - 1) / sh - 1;
  int64_t nb = (DW_BAND - plen - 4 * NETC_F32_EPR) / (sh * sw * plen) - extra;
  return nb < 1 ? 0 : NETC_MIN(nb, p->out_h);
}

// Output rows [oh0, oh1) of one plane; buf holds DW_BAND floats.
static void depthwise_band(const netc_conv2d_params *p, const float *restrict x,
                           const float *restrict w, float b, float *restrict y, int64_t oh0,
                           int64_t oh1, float *restrict buf) {
  const int64_t sh = p->stride_h, sw = p->stride_w, kh = p->kernel_h, kw = p->kernel_w;
  const int64_t wp = p->pad_left + p->in_w + p->pad_right, plen = (wp + sw - 1) / sw;
  const int64_t nb = oh1 - oh0;
  const int64_t rows_in = (nb - 1) * sh + (kh - 1) * p->dilation_h + 1;
  const int64_t rp = (rows_in + sh - 1) / sh;  // rows per phase
  const int64_t r0 = oh0 * sh - p->pad_top;     // input row of padded band row 0
  const int64_t EPR = NETC_F32_EPR;
  assert(sh * sw * rp * plen + plen + 4 * EPR <= DW_BAND);

  // Fill the phases. A padded row is assembled in `row` (zeros, the input
  // row, zeros), then dealt out to the sw column phases (for sw == 2 with
  // vector unzips). The floats after the last phase absorb the reads of the
  // dropped columns and of the vector-rounded tail.
  float row[2 * DW_CHUNK + 2 * NETC_F32_EPR];
  for (int64_t g = 0; g < sh; g++)
    for (int64_t ii = 0; ii < rp; ii++) {
      const int64_t ih = r0 + ii * sh + g;
      const int inside = ii * sh + g < rows_in && ih >= 0 && ih < p->in_h;
      float *dst0 = buf + (g * sw * rp + ii) * plen;  // phase (g, 0); phase f is f*rp*plen further
      float *prow = sw == 1 ? dst0 : row;
      const int64_t pl = p->pad_left, n = p->in_w;
      if (!inside) {
        for (int64_t f = 0; f < sw; f++)
          zero_floats(dst0 + f * rp * plen, plen);
        continue;
      }
      zero_floats(prow, pl);
      copy_floats(prow + pl, x + ih * n, n);
      zero_floats(prow + pl + n, sw * plen - pl - n);
      if (sw == 1)
        continue;
      int64_t j = 0;
      if (sw == 2) {
        const int64_t EPR2 = NETC_F32_EPR;
        for (; j + EPR2 <= plen; j += EPR2) {
          NETC_F32_VEC ev, od;
          NETC_F32_VEC_UNZIP(NETC_F32_VEC_LOAD(row + 2 * j), NETC_F32_VEC_LOAD(row + 2 * j + EPR2), ev, od);
          NETC_F32_VEC_STORE(dst0 + j, ev);
          NETC_F32_VEC_STORE(dst0 + rp * plen + j, od);
        }
      }
      for (; j < plen; j++)
        for (int64_t f = 0; f < sw; f++)
          dst0[f * rp * plen + j] = row[j * sw + f];
    }
  zero_floats(buf + sh * sw * rp * plen, plen + 4 * EPR);

  int64_t off[DW_TAPS];
  float wt[DW_TAPS];
  int64_t ntaps = 0;
  for (int64_t ky = 0; ky < kh; ky++)
    for (int64_t kx = 0; kx < kw; kx++) {
      int64_t dy = ky * p->dilation_h, dx = kx * p->dilation_w;
      off[ntaps] = ((dy % sh * sw + dx % sw) * rp + dy / sh) * plen + dx / sw;
      wt[ntaps] = w[ky * kw + kx];
      ntaps++;
    }

  float out[DW_CHUNK + NETC_F32_EPR];
  const int64_t rows_per_chunk = DW_CHUNK / plen;
  for (int64_t c0 = 0; c0 < nb; c0 += rows_per_chunk) {
    const int64_t crows = NETC_MIN(rows_per_chunk, nb - c0);
    const int64_t t0 = c0 * plen, tn = crows * plen;
    int64_t t = 0;
    for (; t + 4 * EPR <= tn; t += 4 * EPR) {
      NETC_F32_VEC a0 = NETC_F32_VEC_SET1(b), a1 = a0, a2 = a0, a3 = a0;
      const float *base = buf + t0 + t;
      for (int64_t k = 0; k < ntaps; k++) {
        const float *src = base + off[k];
        NETC_F32_VEC wv = NETC_F32_VEC_SET1(wt[k]);
        a0 = NETC_F32_VEC_FMA(a0, wv, NETC_F32_VEC_LOAD(src));
        a1 = NETC_F32_VEC_FMA(a1, wv, NETC_F32_VEC_LOAD(src + EPR));
        a2 = NETC_F32_VEC_FMA(a2, wv, NETC_F32_VEC_LOAD(src + 2 * EPR));
        a3 = NETC_F32_VEC_FMA(a3, wv, NETC_F32_VEC_LOAD(src + 3 * EPR));
      }
      NETC_F32_VEC_STORE(out + t, a0);
      NETC_F32_VEC_STORE(out + t + EPR, a1);
      NETC_F32_VEC_STORE(out + t + 2 * EPR, a2);
      NETC_F32_VEC_STORE(out + t + 3 * EPR, a3);
    }
    // The last vector may run past tn (into dropped columns / the slack).
    for (; t < tn; t += EPR) {
      NETC_F32_VEC a0 = NETC_F32_VEC_SET1(b);
      const float *base = buf + t0 + t;
      for (int64_t k = 0; k < ntaps; k++)
        a0 = NETC_F32_VEC_FMA(a0, NETC_F32_VEC_SET1(wt[k]), NETC_F32_VEC_LOAD(base + off[k]));
      NETC_F32_VEC_STORE(out + t, a0);
    }
    for (int64_t r = 0; r < crows; r++)
      memcpy(y + (oh0 + c0 + r) * p->out_w, out + r * plen, sizeof(float) * (size_t)p->out_w);
  }
}

static void depthwise_plane_banded(const netc_conv2d_params *p, const float *x, const float *w,
                                   float b, float *y, int64_t band) {
  float buf[DW_BAND];
  for (int64_t oh = 0; oh < p->out_h; oh += band)
    depthwise_band(p, x, w, b, y, oh, NETC_MIN(oh + band, p->out_h), buf);
  if (p->act != NETC_ACT_NONE)
    netc_act_span_f32(p->act, p->act_slope, p->out_h * p->out_w, y, y);
}

static void conv_depthwise(const netc_conv2d_params *p, const float *x, const float *w,
                           const float *bias, float *y) {
  const int64_t mult = p->out_c / p->in_c, khw = p->kernel_h * p->kernel_w;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  const int64_t planes = p->n * p->out_c;
  const int64_t band = dw_band_rows(p);
  int par = (double)planes * (double)out_plane * (double)khw >= (double)(1 << 18);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t q = 0; q < planes; q++) {
    int64_t b = q / p->out_c, o = q % p->out_c, i = o / mult;
    const float *xq = x + (b * p->in_c + i) * in_plane;
    float bq = bias ? bias[o] : 0.0f;
    if (band > 0)
      depthwise_plane_banded(p, xq, w + o * khw, bq, y + q * out_plane, band);
    else
      depthwise_plane_direct(p, xq, w + o * khw, bq, y + q * out_plane);
  }
}

//
// Entry points
//

void netc_conv2d_f32(const netc_conv2d_params *p, const float *x, const float *w,
                     const float *bias, float *y, float *scratch) {
  assert(netc_conv2d_check(p, NULL, 0) == 0);
  if (is_depthwise(p)) {
    conv_depthwise(p, x, w, bias, y);
    return;
  }
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t khw = p->kernel_h * p->kernel_w;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  const int pointwise = is_pointwise(p);

  for (int64_t b = 0; b < p->n; b++)
    for (int64_t g = 0; g < p->groups; g++) {
      const float *xg = x + (b * p->in_c + g * cig) * in_plane;
      im2col_src src = {p, xg};
      netc_gemm_job job;
      memset(&job, 0, sizeof job);
      job.m = cog;
      job.n = out_plane;
      job.k = cig * khw;
      job.alpha = 1.0f;
      job.beta = 0.0f;
      job.a = w + g * cog * cig * khw;
      job.lda = cig * khw;
      job.ta = NETC_NO_TRANS;
      if (pointwise) {
        job.b = xg;
        job.ldb = in_plane;
        job.tb = NETC_NO_TRANS;
      } else {
        job.pack_b = pack_b_im2col;
        job.b_ctx = &src;
      }
      job.c = y + (b * p->out_c + g * cog) * out_plane;
      job.ldc = out_plane;
      job.bias_row = bias ? bias + g * cog : NULL;
      job.act = p->act;
      job.act_slope = p->act_slope;
      netc_gemm_run(&job, scratch);
    }
}

// Reference: the definition above, term by term, in double.
void netc_ref_conv2d_f32(const netc_conv2d_params *p, const float *x, const float *w,
                         const float *bias, float *y) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  for (int64_t b = 0; b < p->n; b++)
    for (int64_t o = 0; o < p->out_c; o++) {
      const int64_t g = o / cog;
      float *yp = y + (b * p->out_c + o) * p->out_h * p->out_w;
      for (int64_t oh = 0; oh < p->out_h; oh++)
        for (int64_t ow = 0; ow < p->out_w; ow++) {
          double sum = bias ? bias[o] : 0.0;
          for (int64_t i = 0; i < cig; i++)
            for (int64_t ky = 0; ky < p->kernel_h; ky++)
              for (int64_t kx = 0; kx < p->kernel_w; kx++) {
                int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
                int64_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
                if (ih < 0 || ih >= p->in_h || iw < 0 || iw >= p->in_w)
                  continue;
                double xv = x[((b * p->in_c + g * cig + i) * p->in_h + ih) * p->in_w + iw];
                double wv = w[((o * cig + i) * p->kernel_h + ky) * p->kernel_w + kx];
                sum += xv * wv;
              }
          yp[oh * p->out_w + ow] = (float)sum;
        }
      netc_ref_act_f32(p->act, p->act_slope, p->out_h * p->out_w, yp, yp);
    }
}
