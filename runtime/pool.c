// pool.c -- max, average and adaptive average pooling, NCHW, as PyTorch's CPU
// kernels (aten/src/ATen/native/cpu/MaxPoolKernel.cpp, AvgPoolKernel.cpp,
// AdaptiveAvgPoolKernel.cpp).
//
// Window of output (oh, ow): rows ih = oh*sh - pt + ky*dh, ky < kh, and
// columns likewise.
//   max: the largest tap inside the input (padding is -inf; NaN wins);
//   avg: the sum of the taps inside the input, divided by either the number
//        of taps inside the padded input [-pt, in_h + pb) x [-pl, in_w + pr)
//        (count_include_pad) or the number inside the input; 0 if none.
// In ceil mode the last window may hang past the padded input; those taps
// count for neither divisor, exactly as in PyTorch.

#include "netc_internal.h"

int64_t netc_pool2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad0, int64_t pad1,
                             int64_t dilation, int32_t ceil_mode) {
  if (stride <= 0)
    return 0;
  int64_t span = in + pad0 + pad1 - dilation * (k - 1) - 1;
  int64_t out = (ceil_mode ? netc_ceil_div(span, stride) : netc_floor_div(span, stride)) + 1;
  // The last window must start inside the input or the leading padding.
  if (ceil_mode && out > 0 && (out - 1) * stride >= in + pad0)
    out--;
  return out;
}

int32_t netc_pool2d_check(const netc_pool2d_params *p, char *err, size_t errlen) {
  if (p->n < 1 || p->c < 1 || p->in_h < 1 || p->in_w < 1)
    return netc_errorf(err, errlen, "pool2d: sizes must be >= 1 (n %lld, c %lld, in %lldx%lld)",
                       (long long)p->n, (long long)p->c, (long long)p->in_h, (long long)p->in_w);
  if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 ||
      p->dilation_h < 1 || p->dilation_w < 1)
    return netc_errorf(err, errlen, "pool2d: kernel %lldx%lld, stride %lldx%lld, dilation %lldx%lld must all be >= 1",
                       (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                       (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w);
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0)
    return netc_errorf(err, errlen, "pool2d: negative padding");
  int64_t oh = netc_pool2d_out_size(p->in_h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom,
                                    p->dilation_h, p->ceil_mode);
  int64_t ow = netc_pool2d_out_size(p->in_w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right,
                                    p->dilation_w, p->ceil_mode);
  if (oh < 1 || ow < 1)
    return netc_errorf(err, errlen, "pool2d: window does not fit: output would be %lldx%lld",
                       (long long)oh, (long long)ow);
  if (oh != p->out_h || ow != p->out_w)
    return netc_errorf(err, errlen, "pool2d: output is %lldx%lld, params say %lldx%lld", (long long)oh,
                       (long long)ow, (long long)p->out_h, (long long)p->out_w);
  return 0;
}

// First and one-past-last tap index t of a window starting at `start` with
// spacing d whose coordinate start + t*d lies in [lo, hi).
static void tap_range(int64_t start, int64_t k, int64_t d, int64_t lo, int64_t hi, int64_t *t0,
                      int64_t *t1) {
  *t0 = NETC_MAX((int64_t)0, netc_ceil_div(lo - start, d));
  *t1 = NETC_MIN(k, netc_floor_div(hi - 1 - start, d) + 1);
  if (*t1 < *t0)
    *t1 = *t0;
}

static int parallel_planes(const netc_pool2d_params *p) {
  return (double)p->n * p->c * p->out_h * p->out_w * p->kernel_h * p->kernel_w >= (double)(1 << 18);
}

void netc_maxpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  assert(netc_pool2d_check(p, NULL, 0) == 0);
  const int64_t planes = p->n * p->c;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  int par = parallel_planes(p);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t q = 0; q < planes; q++) {
    const float *xp = x + q * in_plane;
    float *yp = y + q * out_plane;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
      int64_t ih0 = oh * p->stride_h - p->pad_top, ky0, ky1;
      tap_range(ih0, p->kernel_h, p->dilation_h, 0, p->in_h, &ky0, &ky1);
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        int64_t iw0 = ow * p->stride_w - p->pad_left, kx0, kx1;
        tap_range(iw0, p->kernel_w, p->dilation_w, 0, p->in_w, &kx0, &kx1);
        float m = -INFINITY;
        for (int64_t ky = ky0; ky < ky1; ky++) {
          const float *xr = xp + (ih0 + ky * p->dilation_h) * p->in_w + iw0;
          for (int64_t kx = kx0; kx < kx1; kx++) {
            float v = xr[kx * p->dilation_w];
            if (v > m || v != v)
              m = v;
          }
        }
        yp[oh * p->out_w + ow] = m;
      }
    }
  }
}

void netc_avgpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  assert(netc_pool2d_check(p, NULL, 0) == 0);
  assert(p->dilation_h == 1 && p->dilation_w == 1);
  const int64_t planes = p->n * p->c;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  int par = parallel_planes(p);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t q = 0; q < planes; q++) {
    const float *xp = x + q * in_plane;
    float *yp = y + q * out_plane;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
      int64_t ih0 = oh * p->stride_h - p->pad_top;
      int64_t ih1 = NETC_MIN(ih0 + p->kernel_h, p->in_h + p->pad_bottom);
      int64_t rows_padded = ih1 - ih0;
      ih0 = NETC_MAX(ih0, (int64_t)0);
      ih1 = NETC_MIN(ih1, p->in_h);
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        int64_t iw0 = ow * p->stride_w - p->pad_left;
        int64_t iw1 = NETC_MIN(iw0 + p->kernel_w, p->in_w + p->pad_right);
        int64_t cols_padded = iw1 - iw0;
        iw0 = NETC_MAX(iw0, (int64_t)0);
        iw1 = NETC_MIN(iw1, p->in_w);
        if (ih0 >= ih1 || iw0 >= iw1) {
          yp[oh * p->out_w + ow] = 0.0f;
          continue;
        }
        float sum = 0.0f;
        for (int64_t ih = ih0; ih < ih1; ih++)
          for (int64_t iw = iw0; iw < iw1; iw++)
            sum += xp[ih * p->in_w + iw];
        int64_t div = p->count_include_pad ? rows_padded * cols_padded : (ih1 - ih0) * (iw1 - iw0);
        yp[oh * p->out_w + ow] = sum / (float)div;
      }
    }
  }
}

// Reference max: every tap of the window, each checked against the input.
void netc_ref_maxpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  for (int64_t q = 0; q < p->n * p->c; q++)
    for (int64_t oh = 0; oh < p->out_h; oh++)
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        float m = -INFINITY;
        for (int64_t ky = 0; ky < p->kernel_h; ky++)
          for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
            int64_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
            if (ih < 0 || ih >= p->in_h || iw < 0 || iw >= p->in_w)
              continue;
            float v = x[(q * p->in_h + ih) * p->in_w + iw];
            if (isnan(v) || (!isnan(m) && v > m))
              m = v;
          }
        y[(q * p->out_h + oh) * p->out_w + ow] = m;
      }
}

// Reference average: every tap is classified as inside the input (summed and
// counted), inside the padding (counted when count_include_pad) or beyond
// the padding (ceil mode's overhang: ignored). Double accumulation.
void netc_ref_avgpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  for (int64_t q = 0; q < p->n * p->c; q++)
    for (int64_t oh = 0; oh < p->out_h; oh++)
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        double sum = 0.0;
        int64_t inside = 0, padded = 0;
        for (int64_t ky = 0; ky < p->kernel_h; ky++)
          for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            int64_t ih = oh * p->stride_h - p->pad_top + ky;
            int64_t iw = ow * p->stride_w - p->pad_left + kx;
            if (ih >= -p->pad_top && ih < p->in_h + p->pad_bottom && iw >= -p->pad_left &&
                iw < p->in_w + p->pad_right)
              padded++;
            if (ih >= 0 && ih < p->in_h && iw >= 0 && iw < p->in_w) {
              inside++;
              sum += x[(q * p->in_h + ih) * p->in_w + iw];
            }
          }
        int64_t div = p->count_include_pad ? padded : inside;
        y[(q * p->out_h + oh) * p->out_w + ow] = inside == 0 ? 0.0f : (float)(sum / (double)div);
      }
}

// Adaptive windows: [floor(i * in / out), ceil((i + 1) * in / out)).
static int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return i * in / out; }
static int64_t adaptive_end(int64_t i, int64_t out, int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

void netc_adaptive_avgpool2d_f32(int64_t n, int64_t c, int64_t in_h, int64_t in_w, int64_t out_h,
                                 int64_t out_w, const float *x, float *y) {
  const int64_t planes = n * c;
  int par = (double)planes * in_h * in_w >= (double)(1 << 18);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t q = 0; q < planes; q++) {
    const float *xp = x + q * in_h * in_w;
    float *yp = y + q * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; oh++) {
      int64_t h0 = adaptive_start(oh, out_h, in_h), h1 = adaptive_end(oh, out_h, in_h);
      for (int64_t ow = 0; ow < out_w; ow++) {
        int64_t w0 = adaptive_start(ow, out_w, in_w), w1 = adaptive_end(ow, out_w, in_w);
        float sum = 0.0f;
        for (int64_t ih = h0; ih < h1; ih++) {
          const float *xr = xp + ih * in_w;
          int64_t iw = w0;
          if (w1 - w0 >= NETC_F32_EPR) {
            NETC_F32_VEC acc = NETC_F32_VEC_ZERO;
            for (; iw + NETC_F32_EPR <= w1; iw += NETC_F32_EPR)
              acc = NETC_F32_VEC_ADD(acc, NETC_F32_VEC_LOAD(xr + iw));
            sum += NETC_F32_VEC_REDUCE(acc);
          }
          for (; iw < w1; iw++)
            sum += xr[iw];
        }
        yp[oh * out_w + ow] = sum / (float)((h1 - h0) * (w1 - w0));
      }
    }
  }
}

// Reference: the window bounds written with floor() and ceil() on doubles,
// double accumulation.
void netc_ref_adaptive_avgpool2d_f32(int64_t n, int64_t c, int64_t in_h, int64_t in_w,
                                     int64_t out_h, int64_t out_w, const float *x, float *y) {
  for (int64_t q = 0; q < n * c; q++)
    for (int64_t oh = 0; oh < out_h; oh++)
      for (int64_t ow = 0; ow < out_w; ow++) {
        int64_t h0 = (int64_t)floor((double)(oh * in_h) / (double)out_h);
        int64_t h1 = (int64_t)ceil((double)((oh + 1) * in_h) / (double)out_h);
        int64_t w0 = (int64_t)floor((double)(ow * in_w) / (double)out_w);
        int64_t w1 = (int64_t)ceil((double)((ow + 1) * in_w) / (double)out_w);
        double sum = 0.0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            sum += x[(q * in_h + ih) * in_w + iw];
        y[(q * out_h + oh) * out_w + ow] = (float)(sum / (double)((h1 - h0) * (w1 - w0)));
      }
}
