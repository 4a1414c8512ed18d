// resize.c -- nearest and bilinear resizing of the two trailing dims, as
// PyTorch's F.interpolate / nn.Upsample.
//
// Which input pixels an output pixel reads is decided by float arithmetic
// in PyTorch (the scale is a float, the source coordinate of bilinear mode
// a double rounded to float), and a different rounding picks a different
// pixel, which no tolerance forgives. So the index rules below follow
// PyTorch's expression by expression; the blend itself is plain.

#include "netc_internal.h"

// The per-axis scale: in/out, 1/scale_factor when one was given, or
// (in-1)/(out-1) when corners are aligned.
static float axis_scale(const netc_resize2d_params *p, int64_t in, int64_t out, double given) {
  if (p->bilinear && p->align_corners)
    return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
  return given > 0 ? (float)(1.0 / given) : (float)in / (float)out;
}

// PyTorch (1.13, CPU) has two nearest kernels: the NCHW one reads
// floor(o * scale) always; the channels-last one, which it also takes for an
// NCHW tensor with one channel (its strides are channels-last ones too),
// copies when out == in and halves when out == 2 * in. The two differ only
// when a scale_factor disagrees with the sizes (1.25 on 2 pixels gives 2:
// the first reads 0, 0, the second 0, 1); shortcuts says which applies.
static int64_t nearest_src(int64_t o, int64_t in, int64_t out, float scale, int shortcuts) {
  if (shortcuts && out == in)
    return o;
  if (shortcuts && out == 2 * in)
    return o >> 1;
  int64_t i = (int64_t)floorf((float)o * scale);
  return i < in - 1 ? i : in - 1;
}

// Bilinear: the two source pixels and the weight of the second.
static void linear_src(const netc_resize2d_params *p, int64_t o, int64_t in, int64_t out, float scale, int64_t *i0,
                       int64_t *i1, float *w1) {
  if (out == in) {
    *i0 = *i1 = o;
    *w1 = 0.0f;
    return;
  }
  float src;
  if (p->align_corners) {
    src = scale * (float)o;
  } else {
    src = (float)((double)scale * ((double)o + 0.5) - 0.5);
    if (src < 0)
      src = 0;
  }
  *i0 = (int64_t)src;
  *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
  float f = src - (float)*i0;
  *w1 = f < 0 ? 0 : f > 1 ? 1 : f;
}

void netc_resize2d_f32(const netc_resize2d_params *p, const float *x, float *y) {
  const int64_t planes = p->n * p->c, ih = p->in_h, iw = p->in_w, oh = p->out_h, ow = p->out_w;
  const float sh = axis_scale(p, ih, oh, p->scale_h), sw = axis_scale(p, iw, ow, p->scale_w);
  int par = (double)planes * oh * ow >= (double)(1 << 15);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * ih * iw;
    float *yp = y + pl * oh * ow;
    for (int64_t r = 0; r < oh; r++) {
      float *yr = yp + r * ow;
      if (!p->bilinear) {
        const float *xr = xp + nearest_src(r, ih, oh, sh, p->c == 1) * iw;
        for (int64_t c = 0; c < ow; c++)
          yr[c] = xr[nearest_src(c, iw, ow, sw, p->c == 1)];
        continue;
      }
      int64_t r0, r1;
      float wr1;
      linear_src(p, r, ih, oh, sh, &r0, &r1, &wr1);
      const float wr0 = 1.0f - wr1, *x0 = xp + r0 * iw, *x1 = xp + r1 * iw;
      for (int64_t c = 0; c < ow; c++) {
        int64_t c0, c1;
        float wc1;
        linear_src(p, c, iw, ow, sw, &c0, &c1, &wc1);
        const float wc0 = 1.0f - wc1;
        yr[c] = wr0 * (wc0 * x0[c0] + wc1 * x0[c1]) + wr1 * (wc0 * x1[c0] + wc1 * x1[c1]);
      }
    }
  }
}

// Reference: every output element on its own, the blend in double.
void netc_ref_resize2d_f32(const netc_resize2d_params *p, const float *x, float *y) {
  const int64_t ih = p->in_h, iw = p->in_w, oh = p->out_h, ow = p->out_w;
  const float sh = axis_scale(p, ih, oh, p->scale_h), sw = axis_scale(p, iw, ow, p->scale_w);
  for (int64_t pl = 0; pl < p->n * p->c; pl++)
    for (int64_t r = 0; r < oh; r++)
      for (int64_t c = 0; c < ow; c++) {
        const float *xp = x + pl * ih * iw;
        double v;
        if (!p->bilinear) {
          v = xp[nearest_src(r, ih, oh, sh, p->c == 1) * iw + nearest_src(c, iw, ow, sw, p->c == 1)];
        } else {
          int64_t r0, r1, c0, c1;
          float a, b;
          linear_src(p, r, ih, oh, sh, &r0, &r1, &a);
          linear_src(p, c, iw, ow, sw, &c0, &c1, &b);
          v = (1.0 - a) * (1.0 - b) * xp[r0 * iw + c0] + (1.0 - a) * b * xp[r0 * iw + c1] +
              a * (1.0 - b) * xp[r1 * iw + c0] + a * b * xp[r1 * iw + c1];
        }
        y[(pl * oh + r) * ow + c] = (float)v;
      }
}
