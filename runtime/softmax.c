// softmax.c -- softmax and log-softmax over one dimension.
//
// x is viewed as [outer, dim, inner]; for each (o, i) the dim values
// x[o, :, i] become exp(x - max) / sum(exp(x - max)). Subtracting the max
// keeps exp() from overflowing; the result is the same in exact arithmetic.
// If the max is infinite or NaN the row comes out NaN, as in PyTorch.

#include "netc_internal.h"

// inner == 1: each row is contiguous.
static void softmax_rows(int64_t rows, int64_t dim, const float *x, float *y) {
  const int64_t EPR = NETC_F32_EPR;
  int par = (double)rows * dim >= (double)(1 << 14);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * dim;
    float *yr = y + r * dim;
    float max = xr[0];
    int64_t i = 1;
    if (dim >= EPR) {
      NETC_F32_VEC vmax = NETC_F32_VEC_LOAD(xr);
      for (i = EPR; i + EPR <= dim; i += EPR)
        vmax = NETC_F32_VEC_MAX(NETC_F32_VEC_LOAD(xr + i), vmax);
      float lanes[NETC_F32_EPR];
      NETC_F32_VEC_STORE(lanes, vmax);
      max = lanes[0];
      for (int64_t l = 1; l < EPR; l++)
        max = lanes[l] > max || lanes[l] != lanes[l] ? lanes[l] : max;
    }
    for (; i < dim; i++)
      max = xr[i] > max || xr[i] != xr[i] ? xr[i] : max;
    // exp in vectors (netc_vexp: Cephes' polynomial; below -87.3 it gives
    // 2^-126 where expf gives 0, which no sum notices), the tail with the
    // same vectors, masked.
    const NETC_F32_VEC vmax = NETC_F32_VEC_SET1(max);
    NETC_F32_VEC acc = NETC_F32_VEC_ZERO;
    for (i = 0; i + EPR <= dim; i += EPR) {
      NETC_F32_VEC e = netc_vexp(NETC_F32_VEC_SUB(NETC_F32_VEC_LOAD(xr + i), vmax));
      NETC_F32_VEC_STORE(yr + i, e);
      acc = NETC_F32_VEC_ADD(acc, e);
    }
    float sum = NETC_F32_VEC_REDUCE(acc);
    for (; i < dim; i++) {
      yr[i] = expf(xr[i] - max);
      sum += yr[i];
    }
    const NETC_F32_VEC vsum = NETC_F32_VEC_SET1(sum);
    for (i = 0; i + EPR <= dim; i += EPR)
      NETC_F32_VEC_STORE(yr + i, NETC_F32_VEC_DIV(NETC_F32_VEC_LOAD(yr + i), vsum));
    for (; i < dim; i++)
      yr[i] /= sum;
  }
}

// inner > 1: the dim values are inner apart. Columns go in blocks of 64,
// with each block's running max and sum in local arrays, so every pass reads
// rows of the block contiguously. In place is fine: each element is read
// before it is written, at the same position.
#define COLS 64
static void softmax_strided(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i0 = 0; i0 < inner; i0 += COLS) {
      const int64_t nb = NETC_MIN((int64_t)COLS, inner - i0);
      const float *xo = x + o * dim * inner + i0;
      float *yo = y + o * dim * inner + i0;
      float max[COLS], sum[COLS];
      for (int64_t j = 0; j < nb; j++) {
        max[j] = xo[j];
        sum[j] = 0.0f;
      }
      for (int64_t d = 1; d < dim; d++)
        for (int64_t j = 0; j < nb; j++) {
          float v = xo[d * inner + j];
          max[j] = v > max[j] || v != v ? v : max[j];
        }
      for (int64_t d = 0; d < dim; d++)
        for (int64_t j = 0; j < nb; j++) {
          float e = expf(xo[d * inner + j] - max[j]);
          yo[d * inner + j] = e;
          sum[j] += e;
        }
      for (int64_t d = 0; d < dim; d++)
        for (int64_t j = 0; j < nb; j++)
          yo[d * inner + j] /= sum[j];
    }
}

void netc_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y) {
  if (outer <= 0 || dim <= 0 || inner <= 0)
    return;
  if (inner == 1)
    softmax_rows(outer, dim, x, y);
  else
    softmax_strided(outer, dim, inner, x, y);
}

// Reference: per (o, i), max, then sum of exp in double, then divide.
void netc_ref_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const float *xs = x + o * dim * inner + i;
      float *ys = y + o * dim * inner + i;
      double max = -INFINITY;
      int nan = 0;
      for (int64_t d = 0; d < dim; d++) {
        if (isnan(xs[d * inner]))
          nan = 1;
        if (xs[d * inner] > max)
          max = xs[d * inner];
      }
      double sum = 0.0;
      for (int64_t d = 0; d < dim; d++)
        sum += exp((double)xs[d * inner] - max);
      for (int64_t d = 0; d < dim; d++)
        ys[d * inner] = nan ? NAN : (float)(exp((double)xs[d * inner] - max) / sum);
    }
}

// log_softmax: y = x - max - log(sum(exp(x - max))), per (o, i). Two passes
// that only read x, then one that writes: in place is fine.
void netc_log_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y) {
  if (outer <= 0 || dim <= 0 || inner <= 0)
    return;
  int par = (double)outer * dim * inner >= (double)(1 << 14);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i0 = 0; i0 < inner; i0 += COLS) {
      const int64_t nb = NETC_MIN((int64_t)COLS, inner - i0);
      const float *xo = x + o * dim * inner + i0;
      float *yo = y + o * dim * inner + i0;
      float max[COLS], sum[COLS];
      for (int64_t j = 0; j < nb; j++) {
        max[j] = xo[j];
        sum[j] = 0.0f;
      }
      for (int64_t d = 1; d < dim; d++)
        for (int64_t j = 0; j < nb; j++) {
          float v = xo[d * inner + j];
          max[j] = v > max[j] || v != v ? v : max[j];
        }
      for (int64_t d = 0; d < dim; d++)
        for (int64_t j = 0; j < nb; j++)
          sum[j] += expf(xo[d * inner + j] - max[j]);
      for (int64_t j = 0; j < nb; j++)
        sum[j] = max[j] + logf(sum[j]); // the row's log-sum-exp
      for (int64_t d = 0; d < dim; d++)
        for (int64_t j = 0; j < nb; j++)
          yo[d * inner + j] = xo[d * inner + j] - sum[j];
    }
}

// Reference: per (o, i), the log-sum-exp in double.
void netc_ref_log_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const float *xs = x + o * dim * inner + i;
      float *ys = y + o * dim * inner + i;
      double max = -INFINITY;
      int nan = 0;
      for (int64_t d = 0; d < dim; d++) {
        if (isnan(xs[d * inner]))
          nan = 1;
        if (xs[d * inner] > max)
          max = xs[d * inner];
      }
      double sum = 0.0;
      for (int64_t d = 0; d < dim; d++)
        sum += exp((double)xs[d * inner] - max);
      double lse = max + log(sum);
      for (int64_t d = 0; d < dim; d++)
        ys[d * inner] = nan ? NAN : (float)((double)xs[d * inner] - lse);
    }
}
