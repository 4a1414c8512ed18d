// convt.c -- 2-D transposed convolution, NCHW, PyTorch weight layout.
//
// Every input pixel (ih, iw) of channel i spreads a kernel-sized stamp over
// the output:
//
//   y[b, g*cog + o, ih*sh - pt + ky*dh, iw*sw - pl + kx*dw] += x[b, i, ih, iw] * w[i, o, ky, kx]
//
// for i in group g (g = i / cig), o < cog, and every tap that lands inside
// the output; then bias and activation. pad_bottom / pad_right and
// output_padding only decide the output size.
//
// Fast path, per batch item and group: the GEMM
//   col [cog*kh*kw, HW] = w_g^T [cog*kh*kw, cig] x_g [cig, HW]
// (w_g is [cig, cog*kh*kw] as stored, so A is used transposed), then col2im
// scatters and adds every column into the output. Columns are processed in
// chunks so that col stays a bounded size.

#include "netc_internal.h"

// Upper bound on the col buffer, in floats (chunking keeps it below).
#define COL_BUDGET (1 << 20)

int64_t netc_conv_transpose2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad0,
                                       int64_t pad1, int64_t output_pad, int64_t dilation) {
  return (in - 1) * stride - pad0 - pad1 + dilation * (k - 1) + output_pad + 1;
}

int32_t netc_conv_transpose2d_check(const netc_conv_transpose2d_params *p, char *err,
                                    size_t errlen) {
  if (p->n < 1 || p->in_c < 1 || p->in_h < 1 || p->in_w < 1 || p->out_c < 1)
    return netc_errorf(err, errlen,
                       "conv_transpose2d: sizes must be >= 1 (n %lld, in [%lld, %lld, %lld], out_c %lld)",
                       (long long)p->n, (long long)p->in_c, (long long)p->in_h,
                       (long long)p->in_w, (long long)p->out_c);
  if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 ||
      p->dilation_h < 1 || p->dilation_w < 1)
    return netc_errorf(err, errlen,
                       "conv_transpose2d: kernel %lldx%lld, stride %lldx%lld, dilation %lldx%lld must all be >= 1",
                       (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                       (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w);
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0)
    return netc_errorf(err, errlen, "conv_transpose2d: negative padding");
  // PyTorch: output_padding must be smaller than either stride or dilation.
  if (p->output_pad_h < 0 || p->output_pad_w < 0 ||
      (p->output_pad_h >= p->stride_h && p->output_pad_h >= p->dilation_h) ||
      (p->output_pad_w >= p->stride_w && p->output_pad_w >= p->dilation_w))
    return netc_errorf(err, errlen,
                       "conv_transpose2d: output_padding %lldx%lld must be smaller than stride %lldx%lld or dilation",
                       (long long)p->output_pad_h, (long long)p->output_pad_w,
                       (long long)p->stride_h, (long long)p->stride_w);
  if (p->groups < 1 || p->in_c % p->groups != 0 || p->out_c % p->groups != 0)
    return netc_errorf(err, errlen, "conv_transpose2d: groups %lld must divide in_c %lld and out_c %lld",
                       (long long)p->groups, (long long)p->in_c, (long long)p->out_c);
  if ((unsigned)p->act >= (unsigned)NETC_ACT_COUNT)
    return netc_errorf(err, errlen, "conv_transpose2d: bad activation %d", (int)p->act);
  int64_t oh = netc_conv_transpose2d_out_size(p->in_h, p->kernel_h, p->stride_h, p->pad_top,
                                              p->pad_bottom, p->output_pad_h, p->dilation_h);
  int64_t ow = netc_conv_transpose2d_out_size(p->in_w, p->kernel_w, p->stride_w, p->pad_left,
                                              p->pad_right, p->output_pad_w, p->dilation_w);
  if (oh < 1 || ow < 1)
    return netc_errorf(err, errlen, "conv_transpose2d: output would be %lldx%lld", (long long)oh,
                       (long long)ow);
  if (oh != p->out_h || ow != p->out_w)
    return netc_errorf(err, errlen, "conv_transpose2d: output is %lldx%lld, params say %lldx%lld",
                       (long long)oh, (long long)ow, (long long)p->out_h, (long long)p->out_w);
  return 0;
}

// Columns of x per GEMM: all of them, unless col would exceed the budget.
static int64_t chunk_cols(const netc_conv_transpose2d_params *p) {
  int64_t rows = p->out_c / p->groups * p->kernel_h * p->kernel_w;
  int64_t hw = p->in_h * p->in_w;
  return NETC_MAX((int64_t)1, NETC_MIN(hw, COL_BUDGET / rows));
}

int64_t netc_conv_transpose2d_scratch_floats(const netc_conv_transpose2d_params *p) {
  int64_t rows = p->out_c / p->groups * p->kernel_h * p->kernel_w;
  int64_t cols = chunk_cols(p);
  return rows * cols + netc_gemm_scratch_floats(rows, cols, p->in_c / p->groups);
}

// Adds col [cog*kh*kw, nc] (columns j0.. of the input plane) into the
// group's output planes y [cog, out_h, out_w].
static void col2im_add(const netc_conv_transpose2d_params *p, const float *col, int64_t j0,
                       int64_t nc, float *y) {
  const int64_t cog = p->out_c / p->groups, kh = p->kernel_h, kw = p->kernel_w;
  const int64_t out_plane = p->out_h * p->out_w;
  int par = (double)cog * (double)kh * kw * nc >= (double)(1 << 18);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t o = 0; o < cog; o++) {
    float *yo = y + o * out_plane;
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++) {
        const float *cr = col + ((o * kh + ky) * kw + kx) * nc;
        for (int64_t j = 0; j < nc;) {
          // One run of input pixels in the same input row.
          int64_t ih = (j0 + j) / p->in_w, iw = (j0 + j) % p->in_w;
          int64_t len = NETC_MIN(nc - j, p->in_w - iw);
          int64_t oh = ih * p->stride_h - p->pad_top + ky * p->dilation_h;
          if (oh >= 0 && oh < p->out_h) {
            float *yr = yo + oh * p->out_w;
            int64_t ow = iw * p->stride_w - p->pad_left + kx * p->dilation_w;
            for (int64_t t = 0; t < len; t++, ow += p->stride_w)
              if (ow >= 0 && ow < p->out_w)
                yr[ow] += cr[j + t];
          }
          j += len;
        }
      }
  }
}

void netc_conv_transpose2d_f32(const netc_conv_transpose2d_params *p, const float *x,
                               const float *w, const float *bias, float *y, float *scratch) {
  assert(netc_conv_transpose2d_check(p, NULL, 0) == 0);
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t rows = cog * p->kernel_h * p->kernel_w;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  const int64_t chunk = chunk_cols(p);
  float *col = scratch, *gemm_scratch = scratch + rows * chunk;

  for (int64_t b = 0; b < p->n; b++)
    for (int64_t g = 0; g < p->groups; g++) {
      float *yg = y + (b * p->out_c + g * cog) * out_plane;
      for (int64_t o = 0; o < cog; o++) {
        float v = bias ? bias[g * cog + o] : 0.0f;
        for (int64_t t = 0; t < out_plane; t++)
          yg[o * out_plane + t] = v;
      }
      const float *xg = x + (b * p->in_c + g * cig) * in_plane;
      for (int64_t j0 = 0; j0 < in_plane; j0 += chunk) {
        int64_t nc = NETC_MIN(chunk, in_plane - j0);
        const netc_gemm_job job = {
            .m = rows, .n = nc, .k = cig, .alpha = 1.0f, .beta = 0.0f,
            .a = w + g * cig * rows, .lda = rows, .ta = NETC_TRANS,  // [cig, rows], used transposed
            .b = xg + j0, .ldb = in_plane, .tb = NETC_NO_TRANS,
            .c = col, .ldc = nc, .act = NETC_ACT_NONE};
        netc_gemm_run(&job, gemm_scratch);
        col2im_add(p, col, j0, nc, yg);
      }
      if (p->act != NETC_ACT_NONE)
        netc_act_f32(p->act, p->act_slope, cog * out_plane, yg, yg);
    }
}

// Reference, gather form: output (oh, ow) receives tap (ky, kx) of input
// pixel (ih, iw) when oh = ih*sh - pt + ky*dh, i.e. when oh + pt - ky*dh is a
// non-negative multiple of sh (likewise for columns). Double accumulation.
void netc_ref_conv_transpose2d_f32(const netc_conv_transpose2d_params *p, const float *x,
                                   const float *w, const float *bias, float *y) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  for (int64_t b = 0; b < p->n; b++)
    for (int64_t oc = 0; oc < p->out_c; oc++) {
      const int64_t g = oc / cog, o = oc % cog;
      float *yp = y + (b * p->out_c + oc) * p->out_h * p->out_w;
      for (int64_t oh = 0; oh < p->out_h; oh++)
        for (int64_t ow = 0; ow < p->out_w; ow++) {
          double sum = bias ? bias[oc] : 0.0;
          for (int64_t ky = 0; ky < p->kernel_h; ky++) {
            int64_t th = oh + p->pad_top - ky * p->dilation_h;
            if (th < 0 || th % p->stride_h != 0 || th / p->stride_h >= p->in_h)
              continue;
            int64_t ih = th / p->stride_h;
            for (int64_t kx = 0; kx < p->kernel_w; kx++) {
              int64_t tw = ow + p->pad_left - kx * p->dilation_w;
              if (tw < 0 || tw % p->stride_w != 0 || tw / p->stride_w >= p->in_w)
                continue;
              int64_t iw = tw / p->stride_w;
              for (int64_t i = 0; i < cig; i++) {
                int64_t ic = g * cig + i;
                double xv = x[((b * p->in_c + ic) * p->in_h + ih) * p->in_w + iw];
                double wv = w[((ic * cog + o) * p->kernel_h + ky) * p->kernel_w + kx];
                sum += xv * wv;
              }
            }
          }
          yp[oh * p->out_w + ow] = (float)sum;
        }
      netc_ref_act_f32(p->act, p->act_slope, p->out_h * p->out_w, yp, yp);
    }
}
