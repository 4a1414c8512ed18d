// conv.c -- 2-D convolution, NCHW, PyTorch weight layout.
//
//   y[b, o, oh, ow] = act(bias[o] + sum_{i, ky, kx} w[o, i, ky, kx] *
//                         x[b, g * cig + i, oh * sh - pt + ky * dh, ow * sw - pl + kx * dw])
//
// with g = o / cog the group of output channel o, cig = in_c / groups,
// cog = out_c / groups, and x = 0 outside the input (zero padding).
//
// Five paths, chosen from the params alone (plan_conv; netc_conv2d_path
// names them):
//   winograd (3x3, stride 1, enough channels and tiles; weights packed
//     ahead): Winograd's F(4x4, 3x3), in winograd.c;
//   depthwise (in_c == groups > 1): a direct kernel per output plane on a
//     zero-padded, stride-phase-split copy of the input (flat outputs, all
//     taps contiguous loads); on AVX-512, planes up to 14 wide go sixteen
//     channels at a time through a channels-last copy instead;
//   direct (small or shallow-enough stride-1 layers, small-depth strided
//     ones): a GEMM whose B rows are read in place from a padded, phase-split
//     band of the input (see "Direct path" below), weights packed in panels;
//   1x1, stride 1, no padding: per group, y_g [cog, H*W] = w_g [cog, cig] x_g [cig, H*W],
//     a GEMM on the image as stored;
//   otherwise: per group, the same GEMM against the im2col matrix
//     [cig*kh*kw, OH*OW], whose micro-panels are gathered from the image
//     by the GEMM's B packer (implicit im2col: no im2col buffer).
// Bias, a residual (netc_conv2d_packed_f32) and the activation are applied
// in the kernels' epilogues. Weights may come packed ahead of time
// (netc_conv2d_pack_weights) in the layout the chosen path reads.

#include "netc_internal.h"

#include <string.h>

// Vector fill and copy of short spans (a partial vector for the tail).
static inline void vzero(float *dst, int64_t n) {
  const int64_t EPR = NETC_F32_EPR;
  int64_t i = 0;
  for (; i + EPR <= n; i += EPR)
    NETC_F32_VEC_STORE(dst + i, NETC_F32_VEC_ZERO);
  if (i < n)
    NETC_F32_VEC_STOREN(dst + i, NETC_F32_VEC_ZERO, n - i);
}
static inline void vcopy(float *restrict dst, const float *restrict src, int64_t n) {
  const int64_t EPR = NETC_F32_EPR;
  int64_t i = 0;
  for (; i + EPR <= n; i += EPR)
    NETC_F32_VEC_STORE(dst + i, NETC_F32_VEC_LOAD(src + i));
  if (i < n)
    NETC_F32_VEC_STOREN(dst + i, NETC_F32_VEC_LOADN(src + i, n - i), n - i);
}

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

// Winograd F(4x4, 3x3) (winograd.c) for stride-1 3x3 convolutions with
// enough channels that the 36 products, not the transforms, dominate, and
// enough 4 x 4 output tiles per image that the transformed weights (four
// times the size of the plain ones) serve enough columns. Measured on Zen 5
// (AVX-512), against the direct and im2col paths, 1 / 2 threads: 64 -> 64
// at 56 x 56 1.7x / 1.8x faster, 128 -> 128 at 28 x 28 2.4x / 2.6x, 256 ->
// 256 at 14 x 14 (16 tiles) 1.7x / 1.4x, 512 -> 512 at 14 x 14 1.7x / 1.6x,
// 32 -> 32 at 28 x 28 1.5x / 1.9x; but 512 -> 512 at 7 x 7 (4 tiles) 5x
// slower, and at 16 tiles with out_c <= 128 no faster on two threads (each
// of the two works on half the channels and transforms the whole input).
#ifndef NETC_WINO_MIN_IN_C
#define NETC_WINO_MIN_IN_C 32
#endif
#ifndef NETC_WINO_MIN_OUT_C
#define NETC_WINO_MIN_OUT_C 32
#endif
#ifndef NETC_WINO_MIN_TILES
#define NETC_WINO_MIN_TILES 16
#endif

static int winograd_chosen(const netc_conv2d_params *p) {
  const int64_t tiles = (p->out_h + 3) / 4 * ((p->out_w + 3) / 4);
  return netc_winograd_applies(p) && !is_depthwise(p) && p->in_c >= NETC_WINO_MIN_IN_C &&
         p->out_c >= NETC_WINO_MIN_OUT_C && tiles >= NETC_WINO_MIN_TILES &&
         (tiles >= 25 || p->out_c >= 192);
}

int64_t netc_conv2d_scratch_floats(const netc_conv2d_params *p) {
  if (is_depthwise(p))
    return 0;
  int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  int64_t s = netc_gemm_scratch_floats(cog, p->out_h * p->out_w, cig * p->kernel_h * p->kernel_w);
  // Winograd layers run the other paths too (netc_conv2d_f32, raw weights).
  if (winograd_chosen(p))
    s = NETC_MAX(s, netc_winograd_scratch_floats(p));
  return s;
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

  const int64_t EPR = NETC_F32_EPR;
  int64_t i = k0 / khw, ky = k0 % khw / p->kernel_w, kx = k0 % p->kernel_w;
  for (int64_t r = 0; r < kc; r++) {
    float *d = dst + r * NETC_GEMM_NR;
    const float *xi = src->x + i * h * w;
    const int64_t dy = ky * p->dilation_h, dx = kx * p->dilation_w;
    for (int64_t q = 0; q < nruns; q++) {
      float *dq = d + run_start[q];
      const int64_t len = run_len[q], ih = run_ih[q] + dy, iw0 = run_iw[q] + dx;
      if (ih < 0 || ih >= h) {
        vzero(dq, len);
        continue;
      }
      const float *row = xi + ih * w;
      if (sw == 1) {
        // Columns [lo, hi) of the run are inside the row.
        const int64_t lo = NETC_MIN(len, NETC_MAX((int64_t)0, -iw0));
        const int64_t hi = NETC_MAX(lo, NETC_MIN(len, w - iw0));
        vzero(dq, lo);
        vcopy(dq + lo, row + iw0 + lo, hi - lo);
        vzero(dq + hi, len - hi);
      } else if (sw == 2 && iw0 >= 0 && iw0 + 2 * (len - 1) < w) {
        // Every other float: two loads and an unzip per EPR columns.
        for (int64_t j = 0; j < len; j += EPR) {
          const int64_t n = NETC_MIN(EPR, len - j), span = 2 * n - 1;
          const float *sp = row + iw0 + 2 * j;
          NETC_F32_VEC a, b, ev, od;
          if (span > EPR && 2 * EPR <= w - iw0 - 2 * j) {
            a = NETC_F32_VEC_LOAD(sp);
            b = NETC_F32_VEC_LOAD(sp + EPR);
          } else {
            a = NETC_F32_VEC_LOADN(sp, NETC_MIN(EPR, span));
            b = span > EPR ? NETC_F32_VEC_LOADN(sp + EPR, span - EPR) : NETC_F32_VEC_ZERO;
          }
          NETC_F32_VEC_UNZIP(a, b, ev, od);
          (void)od;
          if (n == EPR)
            NETC_F32_VEC_STORE(dq + j, ev);
          else
            NETC_F32_VEC_STOREN(dq + j, ev, n);
        }
      } else {
        for (int64_t j = 0, iw = iw0; j < len; j++, iw += sw)
          dq[j] = iw >= 0 && iw < w ? row[iw] : 0.0f;
      }
    }
    vzero(d + nc, NETC_GEMM_NR - nc);
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
#define DW_CHUNK 1024 // floats: the longest phase row (half a padded row's room)
#define DW_TAPS 256

// One padded row -- pl zeros, the input row xr (in_w floats; NULL: all
// zeros), zeros -- dealt out to sw column phases: element j of phase f is
// padded column j sw + f, for j < plen; phase f is at dst + f * pstride.
// tmp holds sw * plen + 4 EPR floats (used for sw > 2).
static inline void fill_phase_row(const float *xr, int64_t in_w, int64_t pl, int64_t plen, int64_t sw,
                           float *dst, int64_t pstride, float *tmp) {
  const int64_t EPR = NETC_F32_EPR;
  if (!xr) {
    for (int64_t f = 0; f < sw; f++)
      vzero(dst + f * pstride, plen);
    return;
  }
  if (sw == 1) {
    vzero(dst, pl);
    vcopy(dst + pl, xr, in_w);
    vzero(dst + pl + in_w, plen - pl - in_w);
    return;
  }
  if (sw == 2) {
    // Input column 2m + q (parity q) is padded column 2m + q + pl, so it
    // lands in phase f = (q + pl) % 2 at index m + (q + pl - f) / 2: the
    // unzipped even and odd columns of x are stored whole, each at its
    // phase's shift, over phase rows zeroed first (stores only: reading
    // back a just-written buffer would stall on store forwarding).
    vzero(dst, plen);
    vzero(dst + pstride, plen);
    const int64_t fe = pl % 2, fo = (1 + pl) % 2;
    float *de = dst + fe * pstride + (pl - fe) / 2, *dd = dst + fo * pstride + (1 + pl - fo) / 2;
    const int64_t ne = (in_w + 1) / 2, no = in_w / 2;  // even and odd columns
    for (int64_t c = 0, m = 0; c < in_w; c += 2 * EPR, m += EPR) {
      NETC_F32_VEC lo, hi, ev, od;
      if (c + 2 * EPR <= in_w) {
        lo = NETC_F32_VEC_LOAD(xr + c);
        hi = NETC_F32_VEC_LOAD(xr + c + EPR);
      } else {
        lo = NETC_F32_VEC_LOADN(xr + c, NETC_MIN(EPR, in_w - c));
        hi = c + EPR < in_w ? NETC_F32_VEC_LOADN(xr + c + EPR, in_w - c - EPR) : NETC_F32_VEC_ZERO;
      }
      NETC_F32_VEC_UNZIP(lo, hi, ev, od);
      if (m + EPR <= no) {
        NETC_F32_VEC_STORE(de + m, ev);
        NETC_F32_VEC_STORE(dd + m, od);
      } else {
        if (ne > m)
          NETC_F32_VEC_STOREN(de + m, ev, NETC_MIN(EPR, ne - m));
        if (no > m)
          NETC_F32_VEC_STOREN(dd + m, od, NETC_MIN(EPR, no - m));
      }
    }
    return;
  }
  vzero(tmp, pl);
  vcopy(tmp + pl, xr, in_w);
  vzero(tmp + pl + in_w, sw * plen - pl - in_w);
  for (int64_t j = 0; j < plen; j++)
    for (int64_t f = 0; f < sw; f++)
      dst[f * pstride + j] = tmp[j * sw + f];
}

// Output rows per band (0: the plane does not fit; use the direct kernel).
static int64_t dw_band_rows(const netc_conv2d_params *p) {
  const int64_t sh = p->stride_h, sw = p->stride_w;
  const int64_t wp = p->pad_left + p->in_w + p->pad_right, plen = (wp + sw - 1) / sw;
  if (p->kernel_h * p->kernel_w > DW_TAPS || plen > DW_CHUNK || sw * plen > 2 * DW_CHUNK)
    return 0;
  // Rows per phase for nb output rows: nb + extra.
  const int64_t extra = ((p->kernel_h - 1) * p->dilation_h + 1 + sh - 1) / sh - 1;
  int64_t nb = (DW_BAND - plen - 2 * NETC_F32_EPR) / (sh * sw * plen) - extra;
  return nb < 1 ? 0 : NETC_MIN(nb, p->out_h);
}

// Lanes [lo, lo + n) of v to dst[0, n).
static inline void store_lanes(float *dst, NETC_F32_VEC v, int64_t lo, int64_t n) {
#if defined(__AVX512F__)
  __m512i idx = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                 _mm512_set1_epi32((int)lo));
  _mm512_mask_storeu_ps(dst, (__mmask16)((1u << n) - 1u), _mm512_permutexvar_ps(idx, v));
#elif defined(__AVX2__) && defined(__FMA__)
  __m256i idx = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)lo));
  NETC_F32_VEC_STOREN(dst, _mm256_permutevar8x32_ps(v, idx), n);
#else
  float t[NETC_F32_EPR];
  NETC_F32_VEC_STORE(t, v);
  for (int64_t i = 0; i < n; i++)
    dst[i] = t[lo + i];
#endif
}

// The vector with src[0, n) in lanes [lo, lo + n) and 0 elsewhere.
static inline NETC_F32_VEC load_lanes(const float *src, int64_t lo, int64_t n) {
#if defined(__AVX512F__)
  __m512i idx = _mm512_sub_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                 _mm512_set1_epi32((int)lo));
  __mmask16 m = (__mmask16)((1u << n) - 1u);
  return _mm512_maskz_permutexvar_ps((__mmask16)(m << lo), idx, _mm512_maskz_loadu_ps(m, src));
#else
  float t[NETC_F32_EPR];
  for (int64_t i = 0; i < NETC_F32_EPR; i++)
    t[i] = i >= lo && i < lo + n ? src[i - lo] : 0.0f;
  return NETC_F32_VEC_LOAD(t);
#endif
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
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline void dw_taps(const int nv, const float *restrict src, const int64_t *restrict off,
                           const float *restrict wt, int64_t ntaps, NETC_F32_VEC b,
                           NETC_F32_VEC *restrict acc) {
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
  float row[2 * DW_CHUNK + 4 * NETC_F32_EPR];
  for (int64_t rr = 0, g = 0, ii = 0; rr < rows_in; rr++, g == sh - 1 ? (g = 0, ii++) : g++) {
    const int64_t ih = r0 + rr;
    fill_phase_row(ih >= 0 && ih < p->in_h ? x + ih * in_w : NULL, in_w, pl, plen, sw,
                   buf + (g * sw * rp + ii) * plen, rp * plen, row);
  }
  // Phase rows of the last band past rows_in are never read; loads that run
  // past a row end into the next, or past the last phase into this slack.
  vzero(buf + sh * sw * rp * plen, plen + 2 * EPR);

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
              v = NETC_F32_VEC_ADD(v, load_lanes(res + (yp - y), lane, n));
            store_lanes(yp, v, lane, n);
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

static void conv_depthwise(const netc_conv2d_params *p, const float *x, const float *w,
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

//
// Direct path: a GEMM whose B rows are read where they lie
//
// For a stride-1 convolution, tap (i, ky, kx) of output (oh, ow) reads the
// zero-padded input at (i, oh + ky dh, ow + kx dw). Number the outputs by
// t = oh * wp + ow, rows of the padded width wp: then that tap reads element
// t + off(i, ky, kx) of the flat padded input, with
// off = (i hp + ky dh) wp + kx dw. So NR consecutive t of one im2col row are
// NR consecutive floats of the input, and the micro-kernel loads them in
// place: nothing is packed, the weights come packed (ahead of time, or one
// panel at a time on the stack). Columns ow in [out_w, wp) are computed and
// dropped when storing. A padded convolution reads a zero-padded copy of x
// in scratch; an unpadded one reads x itself (the last tile only up to the
// end of x). Used for depths up to KC (one pass, the epilogue in registers)
// when the weights are few next to the image (small out_c, a kernel wider
// than 1x1), where packing im2col panels would cost as much as the
// arithmetic: LeNet, VGG's one-channel first layer. (A 1x1 unpadded
// convolution is a GEMM on x as stored, whose packing is a plain copy: that
// measured as fast or faster.)

#define DR_MAX 16                 // rows of a direct tile (a packed A panel)
#define DV_MAX (2 * NETC_GEMM_NRV) // registers across a direct tile
// A 6 x 4-register shape besides MR x NRV and MR/2 x 2 NRV where it fits
// the register file and is distinct (AVX-512's 8 x 3).
#define DIRECT_HAS_SIX (NETC_GEMM_MR == 8 && NETC_GEMM_NRV == 3)

typedef struct {
  int64_t rows, nv;  // tile: rows x (nv * EPR) flat columns
} direct_shape;

// Flat geometry of one output plane.
typedef struct {
  int64_t wp;     // flat row length: the padded input width
  int64_t out_w;  // valid columns per flat row
  int64_t t_end;  // flat positions [0, t_end) hold every output
} flat_geom;

// Where the valid lanes of the vector at flat position t go: seg_n[s]
// lanes from lane seg_lo[s] to plane offset seg_dst[s].
typedef struct {
  int32_t nseg;
  int32_t seg_lo[NETC_F32_EPR + 1], seg_n[NETC_F32_EPR + 1];
  int64_t seg_dst[NETC_F32_EPR + 1];
} flat_segs;


// The vector whose lanes per s hold plane[s's lanes] (0 elsewhere).
static inline NETC_F32_VEC load_segs(const float *plane, const flat_segs *s) {
  float t[NETC_F32_EPR];
  for (int64_t i = 0; i < NETC_F32_EPR; i++)
    t[i] = 0.0f;
  for (int32_t k = 0; k < s->nseg; k++)
    for (int32_t i = 0; i < s->seg_n[k]; i++)
      t[s->seg_lo[k] + i] = plane[s->seg_dst[k] + i];
  return NETC_F32_VEC_LOAD(t);
}

// The epilogue of a direct tile, shared by both shapes.
typedef struct {
  const flat_geom *g;
  float *y;            // output channel row0's plane
  const float *res;    // the residual's plane for row0, or NULL
  const float *bias;   // bias + row0, or NULL
  int64_t plane;       // floats between channel planes
  netc_act act;
  float slope;
} direct_out;

// Bias, residual and activation on a finished tile (rows x nv registers,
// row-major at tile), then the store of its valid lanes. The lanes' places
// are worked out once per tile (one division), then for every row.
static void direct_epilogue(float *tile, int64_t rows, int64_t nv, int64_t mr, int64_t t0,
                            const direct_out *o) {
  const int64_t EPR = NETC_F32_EPR, wp = o->g->wp, out_w = o->g->out_w, t_end = o->g->t_end;
  flat_segs segs[DV_MAX];
  int full[DV_MAX];
  int64_t r = t0 / wp, c = t0 - r * wp;
  for (int64_t j = 0; j < nv; j++) {
    flat_segs *sg = &segs[j];
    const int64_t v0 = t0 + j * EPR, v1 = NETC_MIN(v0 + EPR, t_end);
    int32_t ns = 0;
    int64_t first_n = 0;  // kept in registers: reading the just-written
                          // struct back would stall on store forwarding
    for (int64_t t = v0; t < v1;) {
      if (c >= out_w) {  // dropped columns
        const int64_t skip = NETC_MIN(wp - c, v1 - t);
        t += skip;
        c += skip;
      } else {
        const int64_t n = NETC_MIN(out_w - c, v1 - t);
        if (ns == 0)
          first_n = t == v0 ? n : 0;
        sg->seg_lo[ns] = (int32_t)(t - v0);
        sg->seg_n[ns] = (int32_t)n;
        sg->seg_dst[ns] = r * out_w + c;
        ns++;
        t += n;
        c += n;
      }
      if (c == wp) {
        c = 0;
        r++;
      }
    }
    if (v1 < v0 + EPR) {  // the tile ran past t_end: keep (r, c) in step
      c += v0 + EPR - v1;
      while (c >= wp) {
        c -= wp;
        r++;
      }
    }
    sg->nseg = ns;
    full[j] = ns == 1 && first_n == EPR;
  }
  const int64_t m = NETC_MIN(rows, mr);
  // One pass per register: bias, residual, activation, store. The switch
  // is outside the loops (one loop per activation), as in netc_act_span_f32:
  // for a small layer (LeNet) the epilogue costs as much as the tile's FMAs.
#define DIRECT_EPI_LOOP(ACT)                                                                   \
  for (int64_t i = 0; i < m; i++) {                                                            \
    const NETC_F32_VEC b = NETC_F32_VEC_SET1(o->bias ? o->bias[i] : 0.0f);                     \
    const float *res = o->res ? o->res + i * o->plane : NULL;                                  \
    float *y = o->y + i * o->plane;                                                            \
    for (int64_t j = 0; j < nv; j++) {                                                         \
      NETC_F32_VEC v = NETC_F32_VEC_ADD(NETC_F32_VEC_LOAD(tile + (i * nv + j) * EPR), b);      \
      if (res)                                                                                 \
        v = NETC_F32_VEC_ADD(v, full[j] ? NETC_F32_VEC_LOAD(res + segs[j].seg_dst[0])          \
                                        : load_segs(res, &segs[j]));                           \
      v = ACT;                                                                                 \
      if (full[j])                                                                             \
        NETC_F32_VEC_STORE(y + segs[j].seg_dst[0], v);                                         \
      else                                                                                     \
        for (int32_t q = 0; q < segs[j].nseg; q++)                                             \
          store_lanes(y + segs[j].seg_dst[q], v, segs[j].seg_lo[q], segs[j].seg_n[q]);         \
    }                                                                                          \
  }
  const NETC_F32_VEC zero = NETC_F32_VEC_ZERO;
  switch (o->act) {
  case NETC_ACT_NONE: DIRECT_EPI_LOOP(v) break;
  case NETC_ACT_RELU: DIRECT_EPI_LOOP(NETC_F32_VEC_MAX(zero, v)) break;
  case NETC_ACT_SIGMOID: DIRECT_EPI_LOOP(netc_vsigmoid(v)) break;
  default: {
    const NETC_F32_VEC slope = NETC_F32_VEC_SET1(o->slope);
    const netc_act act = o->act;
    DIRECT_EPI_LOOP(netc_act_vec(act, slope, v))
    break;
  }
  }
#undef DIRECT_EPI_LOOP
}

// Where a tile's weights are: panel q of the packed layout of
// netc_pack_a_rows (depth blocks of KC, each m_total rows), panel q of the
// depth block at pc starting at w + pc m_total + q kc rows.
typedef struct {
  const float *w;
  int64_t m_total, q;
} direct_a;

// One tile: output channels [row0, row0 + mr) (packed panel a, kc x ROWS)
// times flat positions [t0, t0 + NV * EPR): B row p is NV registers at
// xb + off[p] (xb = the flat input + t0), of which only the first nload
// floats may be read (>= NV * EPR: all). ROWS and NV are constants at every
// call, so acc[][] lives in registers.
static inline void direct_tile(const int64_t ROWS, const int64_t NV, int64_t k,
                               const direct_a *A, const float *restrict xb,
                               const int32_t *restrict off, int64_t nload, int64_t mr,
                               int64_t t0, const direct_out *o) {
  const int64_t EPR = NETC_F32_EPR;
  NETC_F32_VEC acc[DR_MAX][DV_MAX];
  NETC_UNROLL(16)
  for (int64_t i = 0; i < ROWS; i++) {
    NETC_UNROLL(8)
    for (int64_t j = 0; j < NV; j++)
      acc[i][j] = NETC_F32_VEC_ZERO;
  }
  // The whole depth in registers, one packed depth block of A at a time.
  for (int64_t pc = 0; pc < k; pc += NETC_GEMM_KC) {
  const int64_t kc = NETC_MIN((int64_t)NETC_GEMM_KC, k - pc);
  const float *restrict a = A->w + pc * A->m_total + A->q * kc * ROWS;
  const int32_t *restrict offp = off + pc;
  if (nload >= NV * EPR) {
    for (int64_t p = 0; p < kc; p++) {
      NETC_PREFETCH_R(a + 128 * ROWS);  // the weights stream from memory (see gemm.c)
      const float *bp = xb + offp[p];
      NETC_F32_VEC bv[DV_MAX];
      NETC_UNROLL(8)
      for (int64_t j = 0; j < NV; j++)
        bv[j] = NETC_F32_VEC_LOAD(bp + j * EPR);
      NETC_UNROLL(16)
      for (int64_t i = 0; i < ROWS; i++) {
        NETC_F32_VEC av = NETC_F32_VEC_SET1(a[i]);
        NETC_UNROLL(8)
        for (int64_t j = 0; j < NV; j++)
          acc[i][j] = NETC_F32_VEC_FMA(acc[i][j], av, bv[j]);
      }
      a += ROWS;
    }
  } else {
    int64_t nl[DV_MAX];
    NETC_UNROLL(8)
    for (int64_t j = 0; j < NV; j++)
      nl[j] = NETC_MAX((int64_t)0, NETC_MIN(EPR, nload - j * EPR));
    for (int64_t p = 0; p < kc; p++) {
      const float *bp = xb + offp[p];
      NETC_F32_VEC bv[DV_MAX];
      NETC_UNROLL(8)
      for (int64_t j = 0; j < NV; j++)
        bv[j] = nl[j] > 0 ? NETC_F32_VEC_LOADN(bp + j * EPR, nl[j]) : NETC_F32_VEC_ZERO;
      NETC_UNROLL(16)
      for (int64_t i = 0; i < ROWS; i++) {
        NETC_F32_VEC av = NETC_F32_VEC_SET1(a[i]);
        NETC_UNROLL(8)
        for (int64_t j = 0; j < NV; j++)
          acc[i][j] = NETC_F32_VEC_FMA(acc[i][j], av, bv[j]);
      }
      a += ROWS;
    }
  }
  }
  // The epilogue works from memory: the tile goes to the stack first.
  float tile[DR_MAX * DV_MAX * NETC_F32_EPR];
  NETC_UNROLL(16)
  for (int64_t i = 0; i < ROWS; i++) {
    NETC_UNROLL(8)
    for (int64_t j = 0; j < NV; j++)
      NETC_F32_VEC_STORE(tile + (i * NV + j) * EPR, acc[i][j]);
  }
  direct_epilogue(tile, ROWS, NV, mr, t0, o);
}

// The two tile shapes: MR x NR (the GEMM's) and MR/2 x 2NR.
static void direct_tile_full(int64_t k, const direct_a *a, const float *xb, const int32_t *off,
                             int64_t nload, int64_t mr, int64_t t0, const direct_out *o) {
  direct_tile(NETC_GEMM_MR, NETC_GEMM_NRV, k, a, xb, off, nload, mr, t0, o);
}
#if NETC_GEMM_MR >= 2
static void direct_tile_half(int64_t k, const direct_a *a, const float *xb, const int32_t *off,
                             int64_t nload, int64_t mr, int64_t t0, const direct_out *o) {
  direct_tile(NETC_GEMM_MR / 2, 2 * NETC_GEMM_NRV, k, a, xb, off, nload, mr, t0, o);
}
#if DIRECT_HAS_SIX
// 6 x 64 for six output channels (LeNet's first layer).
static void direct_tile_six(int64_t k, const direct_a *a, const float *xb, const int32_t *off,
                            int64_t nload, int64_t mr, int64_t t0, const direct_out *o) {
  direct_tile(6, 4, k, a, xb, off, nload, mr, t0, o);
}
#endif
#endif
NETC_STATIC_ASSERT(NETC_GEMM_MR <= DR_MAX, direct_rows_bound);

// The tile shape for out_c rows and t_end flat columns: the one that
// computes fewer padded elements (the wider one on a tie).
static direct_shape direct_pick(int64_t rows, int64_t t_end) {
  const int64_t EPR = NETC_F32_EPR;
  direct_shape cand[3] = {{NETC_GEMM_MR, NETC_GEMM_NRV}, {0, 0}, {0, 0}};
  int ncand = 1;
#if NETC_GEMM_MR >= 2
  cand[ncand].rows = NETC_GEMM_MR / 2;
  cand[ncand++].nv = 2 * NETC_GEMM_NRV;
#endif
#if DIRECT_HAS_SIX
  cand[ncand].rows = 6;
  cand[ncand++].nv = 4;
#endif
  direct_shape best = cand[0];
  int64_t best_cost = netc_round_up(rows, best.rows) * netc_round_up(t_end, best.nv * EPR);
  for (int c = 1; c < ncand; c++) {
    int64_t cost = netc_round_up(rows, cand[c].rows) * netc_round_up(t_end, cand[c].nv * EPR);
    if (cost < best_cost || (cost == best_cost && c == 1)) {
      best = cand[c];
      best_cost = cost;
    }
  }
  return best;
}

// Flat geometry of p (stride 1): the padded input width and height.
static void direct_dims(const netc_conv2d_params *p, int64_t *hp, int64_t *wp) {
  *hp = p->pad_top + p->in_h + p->pad_bottom;
  *wp = p->pad_left + p->in_w + p->pad_right;
}

static int has_padding(const netc_conv2d_params *p) {
  return p->pad_top || p->pad_left || p->pad_bottom || p->pad_right;
}

static int64_t direct_band_rows(const netc_conv2d_params *p);

static int direct_eligible(const netc_conv2d_params *p) {
  const int64_t cig = p->in_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  if (k > (int64_t)1 << 20)
    return 0;
  int64_t hp, wp;
  direct_dims(p, &hp, &wp);
  // Offsets are int32; a stride past 2 deals its phases through a row of
  // stack.
  if ((double)cig * (hp + p->stride_h) * (wp + p->stride_w) > (double)INT32_MAX / 2 ||
      (p->stride_w > 2 && wp + p->stride_w > 2 * DW_CHUNK))
    return 0;
  // The copied input needs at least one band of output rows in the scratch
  // sized for the GEMM paths (plan_conv checks; see direct_band_rows).
  return 1;
}

// The direct path is preferred for out_c (per group) up to MAX_OUT_C with a
// depth of one block, or up to DEEP_MAX_OUT_C at any depth (weights packed
// ahead) for outputs at least MIN_OUT_W wide, where the dropped columns cost
// less than packing im2col panels (2 of 58 at 56 x 56; 2 of 16 at 14 x 14
// would not). Past 128 output channels the GEMM amortises its packing and
// keeps its blocks in cache better (measured: 256 -> 256 at 56 x 56 loses
// 10% on the direct path, 64 -> 64 at 56 x 56 gains 30%); so does a strided
// convolution deeper than one block (128 -> 128 at 56 -> 28 lost 35%).
#ifndef NETC_DIRECT_MAX_OUT_C
#define NETC_DIRECT_MAX_OUT_C 64
#endif
#ifndef NETC_DIRECT_DEEP_MAX_OUT_C
#define NETC_DIRECT_DEEP_MAX_OUT_C 128
#endif
#ifndef NETC_DIRECT_MIN_OUT_W
#define NETC_DIRECT_MIN_OUT_W 24
#endif

// One group of one batch item, for netc_parallel.
typedef struct {
  const netc_conv2d_params *p;
  direct_shape sh;
  const flat_geom *g;
  const float *src;         // the flat (padded) input of the group
  int64_t src_len;          // floats readable from src
  const int32_t *off;       // [k]
  int64_t k;
  const float *w;           // packed panels, or raw weights [cog, k]
  int packed;
  const float *bias, *res;  // of the group, or NULL
  float *y;
  int64_t plane, cog, ntiles, npanels, nchunks;
  int by_tiles;
} direct_job;

static void direct_chunk(void *ctx, int64_t c) {
  const direct_job *j = ctx;
  const int64_t EPR = NETC_F32_EPR, rows = j->sh.rows, width = j->sh.nv * EPR;
  const int64_t units = j->by_tiles ? j->ntiles : j->npanels;
  const int64_t u0 = units * c / j->nchunks, u1 = units * (c + 1) / j->nchunks;
  const int64_t q0 = j->by_tiles ? 0 : u0, q1 = j->by_tiles ? j->npanels : u1;
  const int64_t c0 = j->by_tiles ? u0 : 0, c1 = j->by_tiles ? u1 : j->ntiles;
  float apanel[DR_MAX * NETC_GEMM_KC];
  for (int64_t q = q0; q < q1; q++) {
    const int64_t row0 = q * rows, mr = NETC_MIN(rows, j->cog - row0);
    direct_a a = {j->w, netc_round_up(j->cog, rows), q};
    if (!j->packed) {  // depth <= KC: one panel, packed here
      assert(j->k <= NETC_GEMM_KC);
      netc_pack_a_rows(NETC_NO_TRANS, mr, j->k, j->w + row0 * j->k, j->k, rows, apanel);
      a.w = apanel;
      a.m_total = 0;
      a.q = 0;
    }
    direct_out o = {j->g, j->y + row0 * j->plane, j->res ? j->res + row0 * j->plane : NULL,
                    j->bias ? j->bias + row0 : NULL, j->plane, j->p->act, j->p->act_slope};
    for (int64_t t = c0; t < c1; t++) {
      const int64_t t0 = t * width;
      const int64_t nload = j->src_len - j->off[j->k - 1] - t0;
#if DIRECT_HAS_SIX
      if (rows == 6 && j->sh.nv == 4)
        direct_tile_six(j->k, &a, j->src + t0, j->off, nload, mr, t0, &o);
      else
#endif
#if NETC_GEMM_MR >= 2
      if (rows != NETC_GEMM_MR)
        direct_tile_half(j->k, &a, j->src + t0, j->off, nload, mr, t0, &o);
      else
#endif
        direct_tile_full(j->k, &a, j->src + t0, j->off, nload, mr, t0, &o);
    }
  }
}

#define DIRECT_BAND_FLOATS (1 << 17)

// Output rows per band of a padded direct convolution: as many as the
// scratch holds (the offsets, then cig x (band + (kh - 1) dh) padded rows
// and a tile of slack); 0 if not even one fits.
// The copy of the input the direct kernel reads, for bands of `band`
// output rows: each channel's padded rows split into sh x sw stride phases
// of rp rows of plen floats (stride 1: the padded rows themselves).
typedef struct {
  int64_t plen, rp, nphase;
  int in_place;  // stride 1, no padding: x itself, all rows, no copy
} direct_layout;

static direct_layout direct_layout_for(const netc_conv2d_params *p, int64_t band) {
  direct_layout l;
  int64_t hp, wp;
  direct_dims(p, &hp, &wp);
  l.in_place = !has_padding(p) && p->stride_h == 1 && p->stride_w == 1;
  l.plen = (wp + p->stride_w - 1) / p->stride_w;
  l.nphase = p->stride_h * p->stride_w;
  const int64_t rows = (band - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
  l.rp = l.in_place ? hp : (rows + p->stride_h - 1) / p->stride_h;
  return l;
}

// Output rows per band of a copied input: as many as the scratch holds
// (the offsets, then cig phases x rp rows x plen and a tile of slack) and,
// when that leaves a few rows, no more than about half of a 1 MB L2 (every
// panel of weights sweeps the band); 0 if not even one row fits.
static int64_t direct_band_rows(const netc_conv2d_params *p) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  if (direct_layout_for(p, 1).in_place)
    return p->out_h;
  const int64_t room = netc_gemm_scratch_floats(cog, p->out_h * p->out_w, k) - k - 2 * NETC_GEMM_TILE_MAX - 64;
  int64_t band = p->out_h;
  for (int64_t pass = 0; pass < 2; pass++) {
    const int64_t cap = pass == 0 ? room : DIRECT_BAND_FLOATS;
    // Floats per band of b rows: cig nphase rp(b) plen, rp(b) ~ b + extra.
    direct_layout l = direct_layout_for(p, 1);
    int64_t b = cap / (cig * l.nphase * l.plen) - (l.rp - 1);
    b = NETC_MIN(b, band);
    while (b > 0) {
      l = direct_layout_for(p, b);
      if (cig * l.nphase * l.rp * l.plen <= cap)
        break;
      b--;
    }
    if (pass == 0)
      band = b;
    else if (b >= 4)
      band = NETC_MIN(band, b);
    if (band <= 0)
      return 0;
  }
  return band;
}

static void conv_direct(const netc_conv2d_params *p, direct_shape sh, int64_t band,
                        const float *x, const float *w, const float *packed, const float *bias,
                        const float *res, float *y, float *scratch) {
  const int64_t EPR = NETC_F32_EPR;
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t kh = p->kernel_h, kw = p->kernel_w, k = cig * kh * kw;
  const int64_t sh_ = p->stride_h, sw_ = p->stride_w;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  // The input is copied one band of output rows at a time (zero-padded,
  // split into stride phases); an unpadded stride-1 one is read in place.
  const direct_layout lay = direct_layout_for(p, band);
  const int64_t plen = lay.plen, rp = lay.rp, nph = lay.nphase;
  const int64_t width = sh.nv * EPR;
  const int64_t npanels = (cog + sh.rows - 1) / sh.rows;
  assert(band >= 1);

  // Scratch: the offset table, then the band copy. Tap (i, ky, kx) of flat
  // output t = (oh - oh0) plen + ow reads phase (i, dy % sh, dx % sw) at row
  // oh - oh0 + dy / sh, column ow + dx / sw (dy = ky dh, dx = kx dw).
  int32_t *off = (int32_t *)(void *)netc_align64(scratch);
  float *buf = netc_align64((float *)(void *)(off + k));
  for (int64_t i = 0, t = 0; i < cig; i++)
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++) {
        const int64_t dy = ky * p->dilation_h, dx = kx * p->dilation_w;
        off[t++] = (int32_t)(((i * nph + dy % sh_ * sw_ + dx % sw_) * rp + dy / sh_) * plen + dx / sw_);
      }
  // Floats readable from the source: the band copy has a tile of zero
  // slack; x is read only up to its end.
  const int64_t src_len = lay.in_place ? cig * in_plane : cig * nph * rp * plen + width;
  if (!lay.in_place)
    vzero(buf + cig * nph * rp * plen, width + 16);

  int64_t threads = 1;
  if ((double)cog * (double)out_plane * (double)k >= (double)(1 << 19))
    threads = netc_threads_get();
  const int64_t wstride = netc_gemm_packed_a_floats(cog, k);

  for (int64_t b = 0; b < p->n; b++)
    for (int64_t gr = 0; gr < p->groups; gr++) {
      const float *xg = x + (b * p->in_c + gr * cig) * in_plane;
      const int64_t cofs = (b * p->out_c + gr * cog) * out_plane;
      for (int64_t oh0 = 0; oh0 < p->out_h; oh0 += band) {
        const int64_t nbr = NETC_MIN(band, p->out_h - oh0);
        const float *src = xg;
        if (!lay.in_place) {
          // Padded band row rr (padded input row oh0 sh + rr) goes to row
          // rr / sh of the phases (i, rr % sh, f).
          float tmp[2 * DW_CHUNK + 4 * NETC_F32_EPR];
          const int64_t rows = (nbr - 1) * sh_ + (kh - 1) * p->dilation_h + 1;
          for (int64_t i = 0; i < cig; i++)
            for (int64_t rr = 0; rr < rows; rr++) {
              const int64_t ih = oh0 * sh_ + rr - p->pad_top;
              fill_phase_row(ih >= 0 && ih < p->in_h ? xg + i * in_plane + ih * p->in_w : NULL, p->in_w,
                             p->pad_left, plen, sw_, buf + ((i * nph + rr % sh_ * sw_) * rp + rr / sh_) * plen,
                             rp * plen, tmp);
            }
          src = buf;
        }
        const flat_geom g = {plen, p->out_w, (nbr - 1) * plen + p->out_w};
        const int64_t ntiles = (g.t_end + width - 1) / width;
        // Chunks are ranges of tiles (or of panels, when there are too few
        // tiles to share), a few per thread.
        const int by_tiles = ntiles >= 2 * threads || ntiles >= npanels;
        const int64_t units = by_tiles ? ntiles : npanels;
        // Deep layers: one chunk per thread, so that each panel of weights
        // (loaded from memory) serves as many tiles as possible.
        const int64_t nchunks = threads > 1 ? NETC_MIN(units, (k > NETC_GEMM_KC ? 1 : 4) * threads) : 1;
        direct_job job = {p, sh, &g, src, src_len, off, k,
                          packed ? packed + gr * wstride : w + gr * cog * k, packed != NULL,
                          bias ? bias + gr * cog : NULL, res ? res + cofs + oh0 * p->out_w : NULL,
                          y + cofs + oh0 * p->out_w, out_plane, cog, ntiles, npanels, nchunks, by_tiles};
        netc_parallel(nchunks, threads, direct_chunk, &job);
      }
    }
}

//
// Entry points
//

typedef enum { CONV_DEPTHWISE, CONV_GEMM, CONV_DIRECT, CONV_WINOGRAD } conv_kind;

typedef struct {
  conv_kind kind;
  direct_shape shape;  // CONV_DIRECT only: the tile
  int64_t band;        // CONV_DIRECT only: output rows per band
} conv_plan;

// The path of p without Winograd (netc_conv2d_f32, which has raw weights,
// always takes it).
static conv_plan plan_conv_base(const netc_conv2d_params *p) {
  conv_plan pl;
  memset(&pl, 0, sizeof pl);
  const int64_t cog = p->out_c / p->groups;
  const int64_t k = p->in_c / p->groups * p->kernel_h * p->kernel_w;
  if (is_depthwise(p)) {
    pl.kind = CONV_DEPTHWISE;
  } else if (!is_pointwise(p) && direct_eligible(p) && direct_band_rows(p) >= 1 &&
             ((cog <= NETC_DIRECT_MAX_OUT_C && k <= NETC_GEMM_KC) ||
              (cog <= NETC_DIRECT_DEEP_MAX_OUT_C && p->out_w >= NETC_DIRECT_MIN_OUT_W &&
               (k <= NETC_GEMM_KC || (p->stride_h == 1 && p->stride_w == 1))))) {
    pl.kind = CONV_DIRECT;
    pl.band = direct_band_rows(p);
    pl.shape = direct_pick(cog, (pl.band - 1) * direct_layout_for(p, pl.band).plen + p->out_w);
  } else {
    pl.kind = CONV_GEMM;
  }
  return pl;
}

// The path of p; the same at packing and at run time (in one build).
static conv_plan plan_conv(const netc_conv2d_params *p) {
  if (winograd_chosen(p)) {
    conv_plan pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = CONV_WINOGRAD;
    return pl;
  }
  return plan_conv_base(p);
}

const char *netc_conv2d_path(const netc_conv2d_params *p) {
  switch (plan_conv(p).kind) {
  case CONV_DEPTHWISE: return "depthwise";
  case CONV_DIRECT: return "direct";
  case CONV_WINOGRAD: return "winograd";
  case CONV_GEMM: break;
  }
  return is_pointwise(p) ? "gemm_1x1" : "gemm_im2col";
}

int64_t netc_conv2d_packed_floats(const netc_conv2d_params *p) {
  if (winograd_chosen(p))
    return netc_winograd_packed_floats(p);
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  return p->groups * netc_gemm_packed_a_floats(cog, cig * p->kernel_h * p->kernel_w);
}

void netc_conv2d_pack_weights(const netc_conv2d_params *p, const float *w, float *packed) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  const int64_t stride = netc_gemm_packed_a_floats(cog, k);
  const conv_plan pl = plan_conv(p);
  if (pl.kind == CONV_DEPTHWISE) {
    memcpy(packed, w, sizeof(float) * (size_t)(p->out_c * k));
    return;
  }
  if (pl.kind == CONV_WINOGRAD) {
    netc_winograd_pack_weights(p, w, packed);
    return;
  }
  for (int64_t g = 0; g < p->groups; g++) {
    if (pl.kind == CONV_DIRECT)
      netc_pack_a_rows(NETC_NO_TRANS, cog, k, w + g * cog * k, k, pl.shape.rows, packed + g * stride);
    else
      netc_gemm_pack_a(NETC_NO_TRANS, cog, k, w + g * cog * k, k, packed + g * stride);
  }
}

// Both entry points: raw weights w, or packed ones; res may be NULL.
static void conv_run(const netc_conv2d_params *p, const float *x, const float *w,
                     const float *packed, const float *bias, const float *res, float *y,
                     float *scratch) {
  assert(netc_conv2d_check(p, NULL, 0) == 0);
  conv_plan pl = plan_conv(p);
  if (pl.kind == CONV_WINOGRAD) {
    if (packed) {
      netc_winograd_run(p, x, packed, bias, res, y, scratch);
      return;
    }
    pl = plan_conv_base(p);  // raw weights: the path without Winograd
  }
  if (pl.kind == CONV_DEPTHWISE) {
    conv_depthwise(p, x, packed ? packed : w, bias, res, y);
    return;
  }
  const int64_t k = p->in_c / p->groups * p->kernel_h * p->kernel_w;
  // Deeper than one depth block, the direct kernel needs the weights packed
  // whole; netc_conv2d_f32 then takes the GEMM.
  if (pl.kind == CONV_DIRECT && (packed || k <= NETC_GEMM_KC)) {
    conv_direct(p, pl.shape, pl.band, x, w, packed, bias, res, y, scratch);
    return;
  }
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  const int pointwise = is_pointwise(p);
  const int64_t wstride = netc_gemm_packed_a_floats(cog, k);

  for (int64_t b = 0; b < p->n; b++)
    for (int64_t g = 0; g < p->groups; g++) {
      const float *xg = x + (b * p->in_c + g * cig) * in_plane;
      im2col_src src = {p, xg};
      netc_gemm_job job;
      memset(&job, 0, sizeof job);
      job.m = cog;
      job.n = out_plane;
      job.k = k;
      job.alpha = 1.0f;
      job.beta = 0.0f;
      if (packed) {
        job.a_packed = packed + g * wstride;
      } else {
        job.a = w + g * cog * k;
        job.lda = k;
        job.ta = NETC_NO_TRANS;
      }
      if (pointwise) {
        job.b = xg;
        job.ldb = in_plane;
        job.tb = NETC_NO_TRANS;
      } else {
        job.pack_b = pack_b_im2col;
        job.b_ctx = &src;
      }
      const int64_t cofs = (b * p->out_c + g * cog) * out_plane;
      job.c = y + cofs;
      job.ldc = out_plane;
      job.bias_row = bias ? bias + g * cog : NULL;
      job.res = res ? res + cofs : NULL;
      job.ldres = out_plane;
      job.act = p->act;
      job.act_slope = p->act_slope;
      netc_gemm_run(&job, scratch);
    }
}

void netc_conv2d_f32(const netc_conv2d_params *p, const float *x, const float *w,
                     const float *bias, float *y, float *scratch) {
  conv_run(p, x, w, NULL, bias, NULL, y, scratch);
}

void netc_conv2d_residual_f32(const netc_conv2d_params *p, const float *x, const float *w,
                              const float *bias, const float *residual, float *y, float *scratch) {
  conv_run(p, x, w, NULL, bias, residual, y, scratch);
}

void netc_conv2d_packed_f32(const netc_conv2d_params *p, const float *x, const float *packed,
                            const float *bias, const float *residual, float *y, float *scratch) {
  conv_run(p, x, NULL, packed, bias, residual, y, scratch);
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
