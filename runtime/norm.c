// norm.c -- batch norm (inference), layer norm, and folding batch norm
// into the convolution or linear layer before it.

#include "netc_internal.h"

// y = x * scale[c] + shift[c] with scale = gamma / sqrt(var + eps) and
// shift = beta - mean * scale, as PyTorch's CPU batch_norm does at inference.
void netc_batchnorm2d_f32(int64_t n, int64_t c, int64_t hw, const float *mean, const float *var,
                          const float *gamma, const float *beta, float eps, const float *x,
                          float *y) {
  const int64_t EPR = NETC_F32_EPR;
  const int64_t planes = n * c;
  int par = (double)planes * hw >= (double)(1 << 16);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t q = 0; q < planes; q++) {
    const int64_t ch = q % c;
    const float scale = (gamma ? gamma[ch] : 1.0f) / sqrtf(var[ch] + eps);
    const float shift = (beta ? beta[ch] : 0.0f) - mean[ch] * scale;
    const NETC_F32_VEC vscale = NETC_F32_VEC_SET1(scale), vshift = NETC_F32_VEC_SET1(shift);
    const float *xp = x + q * hw;
    float *yp = y + q * hw;
    int64_t i = 0;
    for (; i + EPR <= hw; i += EPR)
      NETC_F32_VEC_STORE(yp + i, NETC_F32_VEC_FMA(vshift, NETC_F32_VEC_LOAD(xp + i), vscale));
    for (; i < hw; i++)
      yp[i] = xp[i] * scale + shift;
  }
}

// Reference: the textbook formula, in double.
void netc_ref_batchnorm2d_f32(int64_t n, int64_t c, int64_t hw, const float *mean,
                              const float *var, const float *gamma, const float *beta, float eps,
                              const float *x, float *y) {
  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t i = 0; i < hw; i++) {
        int64_t at = (b * c + ch) * hw + i;
        double v = ((double)x[at] - mean[ch]) / sqrt((double)var[ch] + eps);
        y[at] = (float)(v * (gamma ? gamma[ch] : 1.0) + (beta ? beta[ch] : 0.0));
      }
}

// The mean and 1/sqrt(var + eps) of one row of len floats: two passes, the
// mean, then the variance of (x - mean), vectorised with float lanes. Layer
// norm and group norm share it.
static void row_stats(const float *xr, int64_t len, float eps, float *mean_out, float *rstd_out) {
  const int64_t EPR = NETC_F32_EPR;
  // The mean of the data shifted by its first element: x0 + sum(x - x0) / len.
  // Sums of differences lose less than sums of values, and a row of equal
  // values gets exactly their value as its mean (so a variance of exactly 0
  // and an output of exactly 0, as PyTorch's Welford moments give).
  const float x0 = xr[0];
  const NETC_F32_VEC vx0 = NETC_F32_VEC_SET1(x0);
  NETC_F32_VEC acc = NETC_F32_VEC_ZERO;
  int64_t i = 0;
  for (; i + EPR <= len; i += EPR)
    acc = NETC_F32_VEC_ADD(acc, NETC_F32_VEC_SUB(NETC_F32_VEC_LOAD(xr + i), vx0));
  float sum = NETC_F32_VEC_REDUCE(acc);
  for (; i < len; i++)
    sum += xr[i] - x0;
  const float mean = x0 + sum / (float)len;

  const NETC_F32_VEC vmean = NETC_F32_VEC_SET1(mean);
  acc = NETC_F32_VEC_ZERO;
  for (i = 0; i + EPR <= len; i += EPR) {
    NETC_F32_VEC d = NETC_F32_VEC_SUB(NETC_F32_VEC_LOAD(xr + i), vmean);
    acc = NETC_F32_VEC_FMA(acc, d, d);
  }
  float sq = NETC_F32_VEC_REDUCE(acc);
  for (; i < len; i++)
    sq += (xr[i] - mean) * (xr[i] - mean);
  *mean_out = mean;
  *rstd_out = 1.0f / sqrtf(sq / (float)len + eps);
}

// Per row: row_stats, then y = (x - mean) * rstd * gamma + beta.
void netc_layernorm_f32(int64_t outer, int64_t inner, const float *gamma, const float *beta,
                        float eps, const float *x, float *y) {
  int par = (double)outer * inner >= (double)(1 << 16);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t r = 0; r < outer; r++) {
    const float *xr = x + r * inner;
    float *yr = y + r * inner;
    float mean, rstd;
    row_stats(xr, inner, eps, &mean, &rstd);
    for (int64_t i = 0; i < inner; i++) {
      float v = (xr[i] - mean) * rstd;
      yr[i] = v * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
    }
  }
}

void netc_ref_layernorm_f32(int64_t outer, int64_t inner, const float *gamma, const float *beta,
                            float eps, const float *x, float *y) {
  for (int64_t r = 0; r < outer; r++) {
    const float *xr = x + r * inner;
    float *yr = y + r * inner;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < inner; i++)
      mean += xr[i];
    mean /= (double)inner;
    for (int64_t i = 0; i < inner; i++)
      var += ((double)xr[i] - mean) * ((double)xr[i] - mean);
    var /= (double)inner;
    for (int64_t i = 0; i < inner; i++) {
      double v = ((double)xr[i] - mean) / sqrt(var + eps);
      yr[i] = (float)(v * (gamma ? gamma[i] : 1.0) + (beta ? beta[i] : 0.0));
    }
  }
}

// Group norm: the group's channels are contiguous, [cpg * hw] floats: one
// row_stats row, then each channel's own gamma and beta.
void netc_groupnorm_f32(int64_t n, int64_t c, int64_t hw, int64_t groups, const float *gamma, const float *beta,
                        float eps, const float *x, float *y) {
  const int64_t cpg = c / groups, len = cpg * hw;
  int par = (double)n * c * hw >= (double)(1 << 16);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t r = 0; r < n * groups; r++) {
    const float *xr = x + r * len;
    float *yr = y + r * len;
    float mean, rstd;
    row_stats(xr, len, eps, &mean, &rstd);
    const int64_t c0 = (r % groups) * cpg;
    for (int64_t ch = 0; ch < cpg; ch++) {
      const float g = gamma ? gamma[c0 + ch] * rstd : rstd;
      const float b = (beta ? beta[c0 + ch] : 0.0f) - mean * g;
      for (int64_t k = 0; k < hw; k++)
        yr[ch * hw + k] = xr[ch * hw + k] * g + b;
    }
  }
}

void netc_ref_groupnorm_f32(int64_t n, int64_t c, int64_t hw, int64_t groups, const float *gamma,
                            const float *beta, float eps, const float *x, float *y) {
  const int64_t cpg = c / groups, len = cpg * hw;
  for (int64_t r = 0; r < n * groups; r++) {
    const float *xr = x + r * len;
    float *yr = y + r * len;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < len; i++)
      mean += xr[i];
    mean /= (double)len;
    for (int64_t i = 0; i < len; i++)
      var += ((double)xr[i] - mean) * ((double)xr[i] - mean);
    var /= (double)len;
    for (int64_t i = 0; i < len; i++) {
      int64_t ch = (r % groups) * cpg + i / hw;
      double v = ((double)xr[i] - mean) / sqrt(var + eps);
      yr[i] = (float)(v * (gamma ? gamma[ch] : 1.0) + (beta ? beta[ch] : 0.0));
    }
  }
}

void netc_batchnorm_fold_f32(int64_t out_c, int64_t per_out, const float *w, const float *b,
                             const float *mean, const float *var, const float *gamma,
                             const float *beta, float eps, float *w_out, float *b_out) {
  for (int64_t o = 0; o < out_c; o++) {
    double s = (gamma ? (double)gamma[o] : 1.0) / sqrt((double)var[o] + (double)eps);
    for (int64_t i = 0; i < per_out; i++)
      w_out[o * per_out + i] = (float)((double)w[o * per_out + i] * s);
    double bias = b ? b[o] : 0.0;
    b_out[o] = (float)((bias - mean[o]) * s + (beta ? beta[o] : 0.0));
  }
}
