// linear.c -- fully connected layer, y [batch, out] = act(x [batch, in] W^T + b),
// W [out, in] row-major (PyTorch's nn.Linear.weight).
//
// For a small batch the layer is bound by reading W (VGG's first classifier
// layer is 400 MB of weights): each row of W is read once and dotted with
// every batch row while it is in cache, and rows of W are split across
// threads. Larger batches are a GEMM with op(B) = W^T, bias per column.

#include "netc_internal.h"

#include <string.h>

// Batches below this use dot products.
#define GEMV_MAX_BATCH 8

int64_t netc_linear_scratch_floats(int64_t batch, int64_t in, int64_t out) {
  return batch < GEMV_MAX_BATCH ? 0 : netc_gemm_scratch_floats(batch, out, in);
}

// Dot product of n floats, four registers of partial sums.
static inline float dot(int64_t n, const float *restrict a, const float *restrict b) {
  const int64_t EPR = NETC_F32_EPR;
  NETC_F32_VEC s0 = NETC_F32_VEC_ZERO, s1 = NETC_F32_VEC_ZERO, s2 = NETC_F32_VEC_ZERO,
               s3 = NETC_F32_VEC_ZERO;
  int64_t i = 0;
  for (; i + 4 * EPR <= n; i += 4 * EPR) {
    s0 = NETC_F32_VEC_FMA(s0, NETC_F32_VEC_LOAD(a + i), NETC_F32_VEC_LOAD(b + i));
    s1 = NETC_F32_VEC_FMA(s1, NETC_F32_VEC_LOAD(a + i + EPR), NETC_F32_VEC_LOAD(b + i + EPR));
    s2 = NETC_F32_VEC_FMA(s2, NETC_F32_VEC_LOAD(a + i + 2 * EPR), NETC_F32_VEC_LOAD(b + i + 2 * EPR));
    s3 = NETC_F32_VEC_FMA(s3, NETC_F32_VEC_LOAD(a + i + 3 * EPR), NETC_F32_VEC_LOAD(b + i + 3 * EPR));
  }
  for (; i + EPR <= n; i += EPR)
    s0 = NETC_F32_VEC_FMA(s0, NETC_F32_VEC_LOAD(a + i), NETC_F32_VEC_LOAD(b + i));
  float sum = NETC_F32_VEC_REDUCE(NETC_F32_VEC_ADD(NETC_F32_VEC_ADD(s0, s1), NETC_F32_VEC_ADD(s2, s3)));
  for (; i < n; i++)
    sum += a[i] * b[i];
  return sum;
}

void netc_linear_f32(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                     const float *bias, netc_act act, float act_slope, float *y, float *scratch) {
  if (batch >= GEMV_MAX_BATCH) {
    netc_gemm_job job;
    memset(&job, 0, sizeof job);
    job.m = batch;
    job.n = out;
    job.k = in;
    job.alpha = 1.0f;
    job.beta = 0.0f;
    job.a = x;
    job.lda = in;
    job.ta = NETC_NO_TRANS;
    job.b = w;
    job.ldb = in;
    job.tb = NETC_TRANS;
    job.c = y;
    job.ldc = out;
    job.bias_col = bias;
    job.act = act;
    job.act_slope = act_slope;
    netc_gemm_run(&job, scratch);
    return;
  }
  (void)scratch;
  int par = (double)out * (double)in >= (double)(1 << 16);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t o = 0; o < out; o++) {
    const float *wr = w + o * in;
    const float b = bias ? bias[o] : 0.0f;
    for (int64_t r = 0; r < batch; r++)
      y[r * out + o] = netc_act1(act, act_slope, dot(in, wr, x + r * in) + b);
  }
}

void netc_ref_linear_f32(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                         const float *bias, netc_act act, float act_slope, float *y) {
  for (int64_t r = 0; r < batch; r++) {
    for (int64_t o = 0; o < out; o++) {
      double sum = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < in; i++)
        sum += (double)x[r * in + i] * w[o * in + i];
      y[r * out + o] = (float)sum;
    }
    netc_ref_act_f32(act, act_slope, out, y + r * out, y + r * out);
  }
}
