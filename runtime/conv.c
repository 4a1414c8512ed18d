// conv.c -- 2-D convolution, NCHW, PyTorch weight layout.
//
//   y[b, o, oh, ow] = act(bias[o] + sum_{i, ky, kx} w[o, i, ky, kx] *
//                         x[b, g * cig + i, oh * sh - pt + ky * dh, ow * sw - pl + kx * dw])
//
// with g = o / cog the group of output channel o, cig = in_c / groups,
// cog = out_c / groups, and x = 0 outside the input (zero padding).
//
// Six paths, chosen from the params alone (plan_conv; netc_conv2d_path
// names them):
//   loop (p->path NETC_CONV_NO_SCRATCH, or a layer so small that the GEMM's
//     packing panels would outweigh it): a direct sum over the taps, reading
//     the input and the weights in place, accumulating into y; no scratch;
//   winograd (3x3, stride 1, enough channels and tiles; weights packed
//     ahead): Winograd's F(4x4, 3x3), in winograd.c;
//   depthwise (in_c == groups > 1), in conv_depthwise.c: a direct kernel
//     per output plane on a zero-padded, stride-phase-split copy of the
//     input (flat outputs, all taps contiguous loads); on AVX-512, planes up
//     to 14 wide go sixteen channels at a time through a channels-last copy
//     instead;
//   direct (small or shallow-enough stride-1 layers, small-depth strided
//     ones), in conv_direct.c: a GEMM whose B rows are read in place from a
//     padded, phase-split band of the input, weights packed in panels;
//   1x1, stride 1, no padding: per group, y_g [cog, H*W] = w_g [cog, cig] x_g [cig, H*W],
//     a GEMM on the image as stored;
//   otherwise: per group, the same GEMM against the im2col matrix
//     [cig*kh*kw, OH*OW], whose micro-panels are gathered from the image
//     by the GEMM's B packer (implicit im2col: no im2col buffer).
// Bias, a residual (netc_conv2d_packed_f32, netc_conv2d_layer_f32) and the
// activation are applied in the kernels' epilogues. Weights may come packed
// ahead of time (netc_conv2d_pack_weights) in the layout the chosen path
// reads.
//
// This file: checking, the plan (which path), weight packing, the im2col
// GEMM and the public entry points.

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
  if ((unsigned)p->act >= (unsigned)NETC_ACT_COUNT)
    return netc_errorf(err, errlen, "conv2d: bad activation %d", (int)p->act);
  if ((unsigned)p->path >= (unsigned)NETC_CONV_PATH_COUNT) /* unsigned: ARM enums may be unsigned chars */
    return netc_errorf(err, errlen, "conv2d: bad path %d", (int)p->path);
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

// The scratch-free loop: forced by p->path, or chosen for a small layer
// (at most NETC_LOOP_MAX_MACS multiply-adds) when the GEMM's scratch
// (packing panels padded to whole 64-wide tiles and blocks) would hold more
// floats than the layer's input, output and weights together: then the
// panels cost more memory than the little time they save is worth (LeNet's
// 5x5 convolutions: 36,632 floats of panels for a layer of 5,176, and
// 240,000 multiply-adds). Larger layers keep their fast paths whatever
// their scratch (ResNet's 3x3 layers at 56 x 56 have more scratch than
// data, and 115 M multiply-adds). Not for depthwise layers, whose own
// kernel needs no scratch either.
#ifndef NETC_LOOP_MAX_MACS
#define NETC_LOOP_MAX_MACS (1 << 20)
#endif

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

// The direct path's test in plan_conv_base (after depthwise and the loop).
static int direct_chosen(const netc_conv2d_params *p) {
  const int64_t cog = p->out_c / p->groups;
  const int64_t k = p->in_c / p->groups * p->kernel_h * p->kernel_w;
  return !is_pointwise(p) && netc_direct_eligible(p) && netc_direct_band_rows(p) >= 1 &&
         ((cog <= NETC_DIRECT_MAX_OUT_C && k <= NETC_GEMM_KC) ||
          (cog <= NETC_DIRECT_DEEP_MAX_OUT_C && p->out_w >= NETC_DIRECT_MIN_OUT_W &&
           (k <= NETC_GEMM_KC || (p->stride_h == 1 && p->stride_w == 1))));
}

// The scratch of the fast path plan_conv_base takes when the loop is not
// chosen: the direct path's own need (often a few KB: LeNet) or the GEMM's
// packing panels. A direct layer deeper than one depth block runs the GEMM
// on raw weights (conv_run), so it keeps the GEMM's scratch.
static int64_t fast_scratch(const netc_conv2d_params *p) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  if (k <= NETC_GEMM_KC && direct_chosen(p))
    return netc_direct_scratch_floats(p, netc_direct_band_rows(p));
  return netc_gemm_scratch_floats(cog, p->out_h * p->out_w, k);
}

static int loop_chosen(const netc_conv2d_params *p) {
  if (is_depthwise(p))
    return 0;
  if (p->path != NETC_CONV_AUTO)
    return p->path == NETC_CONV_NO_SCRATCH;
  const int64_t k = p->in_c / p->groups * p->kernel_h * p->kernel_w;
  const int64_t touched = p->n * p->in_c * p->in_h * p->in_w + p->n * p->out_c * p->out_h * p->out_w +
                          p->out_c * k;
  const double macs = (double)p->n * p->out_c * p->out_h * p->out_w * k;
  return macs <= NETC_LOOP_MAX_MACS && fast_scratch(p) > touched;
}

static int winograd_chosen(const netc_conv2d_params *p) {
  const int64_t tiles = (p->out_h + 3) / 4 * ((p->out_w + 3) / 4);
  return !loop_chosen(p) && netc_winograd_applies(p) && !is_depthwise(p) && p->in_c >= NETC_WINO_MIN_IN_C &&
         p->out_c >= NETC_WINO_MIN_OUT_C && tiles >= NETC_WINO_MIN_TILES &&
         (tiles >= 25 || p->out_c >= 192);
}

int64_t netc_conv2d_scratch_floats(const netc_conv2d_params *p) {
  if (is_depthwise(p) || loop_chosen(p))
    return 0;
  int64_t s = fast_scratch(p);
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
        netc_vzero(dq, len);
        continue;
      }
      const float *row = xi + ih * w;
      if (sw == 1) {
        // Columns [lo, hi) of the run are inside the row.
        const int64_t lo = NETC_MIN(len, NETC_MAX((int64_t)0, -iw0));
        const int64_t hi = NETC_MAX(lo, NETC_MIN(len, w - iw0));
        netc_vzero(dq, lo);
        netc_vcopy(dq + lo, row + iw0 + lo, hi - lo);
        netc_vzero(dq + hi, len - hi);
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
    netc_vzero(d + nc, NETC_GEMM_NR - nc);
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
// The scratch-free loop
//

// Outputs t in [*lo, *hi) of an axis whose input index t * s + d lies in
// [0, n), within [0, out).
static void inside(int64_t n, int64_t s, int64_t d, int64_t out, int64_t *lo, int64_t *hi) {
  *lo = d >= 0 ? 0 : (-d + s - 1) / s;
  *hi = n - 1 - d < 0 ? 0 : NETC_MIN(out, (n - 1 - d) / s + 1);
  if (*lo > *hi)
    *lo = *hi;
}

typedef struct {
  const netc_conv2d_params *p;
  const float *x, *w, *bias, *res;
  float *y;
  int64_t blocks;  // LOOP_OC blocks of output channels per group
} loop_job;

// Output channels computed together: each input row read feeds this many.
#define LOOP_OC 4

// Up to LOOP_OC output planes of one group (chunk c: batch item, group,
// block of channels): bias and residual, then every tap's weights times the
// input rows it meets (the padding is skipped, not read), then the
// activation. Each plane's residual is read at each element before that
// element is written, so res may be y.
static void loop_planes(void *ctx, int64_t c) {
  const loop_job *j = ctx;
  const netc_conv2d_params *p = j->p;
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t b = c / (p->groups * j->blocks), g = c / j->blocks % p->groups;
  const int64_t o0 = g * cog + c % j->blocks * LOOP_OC, cnt = NETC_MIN((int64_t)LOOP_OC, g * cog + cog - o0);
  const int64_t plane = p->out_h * p->out_w, in_plane = p->in_h * p->in_w, khw = p->kernel_h * p->kernel_w;
  float *yp[LOOP_OC];
  for (int64_t k = 0; k < cnt; k++) {
    const int64_t yc = (b * p->out_c + o0 + k) * plane;
    const float bo = j->bias ? j->bias[o0 + k] : 0.0f;
    yp[k] = j->y + yc;
    if (j->res)
      for (int64_t e = 0; e < plane; e++)
        yp[k][e] = j->res[yc + e] + bo;
    else
      for (int64_t e = 0; e < plane; e++)
        yp[k][e] = bo;
  }
  for (int64_t i = 0; i < cig; i++) {
    const float *xi = j->x + (b * p->in_c + g * cig + i) * in_plane;
    for (int64_t ky = 0; ky < p->kernel_h; ky++) {
      const int64_t dy = ky * p->dilation_h - p->pad_top;
      int64_t oh0, oh1;
      inside(p->in_h, p->stride_h, dy, p->out_h, &oh0, &oh1);
      for (int64_t kx = 0; kx < p->kernel_w; kx++) {
        const int64_t dx = kx * p->dilation_w - p->pad_left, sw = p->stride_w;
        const int64_t t = (i * p->kernel_h + ky) * p->kernel_w + kx;
        int64_t ow0, ow1;
        inside(p->in_w, sw, dx, p->out_w, &ow0, &ow1);
        if (cnt == LOOP_OC && sw == 1) {
          // Four planes at once from one stream of input.
          const float w0 = j->w[(o0 + 0) * cig * khw + t], w1 = j->w[(o0 + 1) * cig * khw + t];
          const float w2 = j->w[(o0 + 2) * cig * khw + t], w3 = j->w[(o0 + 3) * cig * khw + t];
          for (int64_t oh = oh0; oh < oh1; oh++) {
            const float *restrict row = xi + (oh * p->stride_h + dy) * p->in_w + dx;
            const int64_t r = oh * p->out_w;
            float *restrict y0 = yp[0] + r, *restrict y1 = yp[1] + r;
            float *restrict y2 = yp[2] + r, *restrict y3 = yp[3] + r;
            for (int64_t ow = ow0; ow < ow1; ow++) {
              const float xv = row[ow];
              y0[ow] += w0 * xv;
              y1[ow] += w1 * xv;
              y2[ow] += w2 * xv;
              y3[ow] += w3 * xv;
            }
          }
          continue;
        }
        for (int64_t k = 0; k < cnt; k++) {
          const float wv = j->w[(o0 + k) * cig * khw + t];
          for (int64_t oh = oh0; oh < oh1; oh++) {
            const float *restrict row = xi + (oh * p->stride_h + dy) * p->in_w + dx;
            float *restrict yr = yp[k] + oh * p->out_w;
            if (sw == 1)
              for (int64_t ow = ow0; ow < ow1; ow++)
                yr[ow] += wv * row[ow];
            else
              for (int64_t ow = ow0; ow < ow1; ow++)
                yr[ow] += wv * row[ow * sw];
          }
        }
      }
    }
  }
  for (int64_t k = 0; k < cnt; k++)
    netc_act_span_f32(p->act, p->act_slope, plane, yp[k], yp[k]);
}

// w as stored ([out_c, in_c / groups, kernel_h, kernel_w]); res may be y.
static void conv_loop(const netc_conv2d_params *p, const float *x, const float *w, const float *bias,
                      const float *res, float *y) {
  const int64_t cog = p->out_c / p->groups;
  loop_job j = {p, x, w, bias, res, y, (cog + LOOP_OC - 1) / LOOP_OC};
  const double macs = (double)p->n * p->out_c * p->out_h * p->out_w * (p->in_c / p->groups) * p->kernel_h *
                      p->kernel_w;
  netc_parallel(p->n * p->groups * j.blocks, macs >= (double)(1 << 19) ? 0 : 1, loop_planes, &j);
}

//
// The plan and the entry points
//


typedef enum { CONV_DEPTHWISE, CONV_LOOP, CONV_GEMM, CONV_DIRECT, CONV_WINOGRAD } conv_kind;

typedef struct {
  conv_kind kind;
  netc_direct_shape shape;  // CONV_DIRECT only: the tile
  int64_t band;             // CONV_DIRECT only: output rows per band
} conv_plan;

// The path of p without Winograd (netc_conv2d_f32, which has raw weights,
// always takes it).
static conv_plan plan_conv_base(const netc_conv2d_params *p) {
  conv_plan pl;
  memset(&pl, 0, sizeof pl);
  if (is_depthwise(p)) {
    pl.kind = CONV_DEPTHWISE;
  } else if (loop_chosen(p)) {
    pl.kind = CONV_LOOP;
  } else if (direct_chosen(p)) {
    pl.kind = CONV_DIRECT;
    pl.band = netc_direct_band_rows(p);
    pl.shape = netc_direct_tile(p, pl.band);
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
  case CONV_LOOP: return "loop";
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
  if (loop_chosen(p))
    return p->out_c * cig * p->kernel_h * p->kernel_w; // the weights as they are
  return p->groups * netc_gemm_packed_a_floats(cog, cig * p->kernel_h * p->kernel_w);
}

void netc_conv2d_pack_weights(const netc_conv2d_params *p, const float *w, float *packed) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  const int64_t stride = netc_gemm_packed_a_floats(cog, k);
  const conv_plan pl = plan_conv(p);
  if (pl.kind == CONV_DEPTHWISE || pl.kind == CONV_LOOP) {
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
    netc_conv_depthwise(p, x, packed ? packed : w, bias, res, y);
    return;
  }
  if (pl.kind == CONV_LOOP) {
    conv_loop(p, x, packed ? packed : w, bias, res, y);
    return;
  }
  const int64_t k = p->in_c / p->groups * p->kernel_h * p->kernel_w;
  // Deeper than one depth block, the direct kernel needs the weights packed
  // whole; netc_conv2d_f32 then takes the GEMM.
  if (pl.kind == CONV_DIRECT && (packed || k <= NETC_GEMM_KC)) {
    netc_conv_direct(p, pl.shape, pl.band, x, w, packed, bias, res, y, scratch);
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
      const int64_t cofs = (b * p->out_c + g * cog) * out_plane;
      // A: the packed weights, or w as stored; B: the image as stored (1x1),
      // or gathered by the im2col packer.
      const netc_gemm_job job = {
          .m = cog, .n = out_plane, .k = k, .alpha = 1.0f, .beta = 0.0f,
          .a_packed = packed ? packed + g * wstride : NULL,
          .a = packed ? NULL : w + g * cog * k, .lda = packed ? 0 : k, .ta = NETC_NO_TRANS,
          .b = pointwise ? xg : NULL, .ldb = pointwise ? in_plane : 0, .tb = NETC_NO_TRANS,
          .pack_b = pointwise ? NULL : pack_b_im2col, .b_ctx = pointwise ? NULL : &src,
          .c = y + cofs, .ldc = out_plane,
          .bias_row = bias ? bias + g * cog : NULL,
          .res = res ? res + cofs : NULL, .ldres = out_plane,
          .act = p->act, .act_slope = p->act_slope};
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

void netc_conv2d_layer_f32(const netc_conv2d_layer *c, const float *weights, const float *packed,
                           const float *x, const float *residual, float *y, float *scratch) {
  // Offsets become pointers only into the blob that holds them: a loaded
  // model has given back the raw weights of its packed layers.
  const float *bias = c->bias >= 0 ? weights + c->bias : NULL;
  if (packed && c->packed >= 0)
    conv_run(&c->p, x, NULL, packed + c->packed, bias, residual, y, scratch);
  else
    conv_run(&c->p, x, weights + c->weight, NULL, bias, residual, y, scratch);
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
