// linear.c -- fully connected layer, y [batch, out] = act(x [batch, in] W^T + b),
// W [out, in] row-major (PyTorch's nn.Linear.weight).
//
// For a small batch the layer is bound by reading W (VGG's first classifier
// layer is 400 MB of weights): each row of W is read once and dotted with
// every batch row while it is in cache, and rows of W are split across
// threads. Larger batches are a GEMM with op(B) = W^T, bias per column;
// a loaded model packs W for it once (netc_linear_packed_f32).

#include "netc_internal.h"

// Batches below this use dot products.
#define GEMV_MAX_BATCH 8

int64_t netc_linear_scratch_floats(int64_t batch, int64_t in, int64_t out) {
  return batch < GEMV_MAX_BATCH ? 0 : netc_gemm_scratch_floats(batch, out, in);
}

// y[o] = W[o, :] . x for four rows o0..o0+3 at once: the four rows are
// four sequential streams (what the hardware prefetcher follows best), x is
// loaded once for all of them, and two partial sums per row keep eight
// FMA chains in flight.
static void dot4(int64_t n, const float *restrict w, int64_t ldw, const float *restrict x,
                 float *restrict y) {
  const int64_t EPR = NETC_F32_EPR;
  const float *w0 = w, *w1 = w + ldw, *w2 = w + 2 * ldw, *w3 = w + 3 * ldw;
  NETC_F32_VEC a0 = NETC_F32_VEC_ZERO, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  int64_t i = 0;
  for (; i + 2 * EPR <= n; i += 2 * EPR) {
    NETC_F32_VEC x0 = NETC_F32_VEC_LOAD(x + i), x1 = NETC_F32_VEC_LOAD(x + i + EPR);
    a0 = NETC_F32_VEC_FMA(a0, x0, NETC_F32_VEC_LOAD(w0 + i));
    a1 = NETC_F32_VEC_FMA(a1, x0, NETC_F32_VEC_LOAD(w1 + i));
    a2 = NETC_F32_VEC_FMA(a2, x0, NETC_F32_VEC_LOAD(w2 + i));
    a3 = NETC_F32_VEC_FMA(a3, x0, NETC_F32_VEC_LOAD(w3 + i));
    b0 = NETC_F32_VEC_FMA(b0, x1, NETC_F32_VEC_LOAD(w0 + i + EPR));
    b1 = NETC_F32_VEC_FMA(b1, x1, NETC_F32_VEC_LOAD(w1 + i + EPR));
    b2 = NETC_F32_VEC_FMA(b2, x1, NETC_F32_VEC_LOAD(w2 + i + EPR));
    b3 = NETC_F32_VEC_FMA(b3, x1, NETC_F32_VEC_LOAD(w3 + i + EPR));
  }
  for (; i < n; i += EPR) {
    const int64_t len = NETC_MIN(EPR, n - i);
    NETC_F32_VEC x0 = NETC_F32_VEC_LOADN(x + i, len);
    a0 = NETC_F32_VEC_FMA(a0, x0, NETC_F32_VEC_LOADN(w0 + i, len));
    a1 = NETC_F32_VEC_FMA(a1, x0, NETC_F32_VEC_LOADN(w1 + i, len));
    a2 = NETC_F32_VEC_FMA(a2, x0, NETC_F32_VEC_LOADN(w2 + i, len));
    a3 = NETC_F32_VEC_FMA(a3, x0, NETC_F32_VEC_LOADN(w3 + i, len));
  }
  y[0] = NETC_F32_VEC_REDUCE(NETC_F32_VEC_ADD(a0, b0));
  y[1] = NETC_F32_VEC_REDUCE(NETC_F32_VEC_ADD(a1, b1));
  y[2] = NETC_F32_VEC_REDUCE(NETC_F32_VEC_ADD(a2, b2));
  y[3] = NETC_F32_VEC_REDUCE(NETC_F32_VEC_ADD(a3, b3));
}

// One row: the leftovers of dot4's blocks.
static float dot1(int64_t n, const float *restrict w, const float *restrict x) {
  const int64_t EPR = NETC_F32_EPR;
  NETC_F32_VEC a0 = NETC_F32_VEC_ZERO, a1 = a0;
  int64_t i = 0;
  for (; i + 2 * EPR <= n; i += 2 * EPR) {
    a0 = NETC_F32_VEC_FMA(a0, NETC_F32_VEC_LOAD(x + i), NETC_F32_VEC_LOAD(w + i));
    a1 = NETC_F32_VEC_FMA(a1, NETC_F32_VEC_LOAD(x + i + EPR), NETC_F32_VEC_LOAD(w + i + EPR));
  }
  for (; i < n; i += EPR) {
    const int64_t len = NETC_MIN(EPR, n - i);
    a0 = NETC_F32_VEC_FMA(a0, NETC_F32_VEC_LOADN(x + i, len), NETC_F32_VEC_LOADN(w + i, len));
  }
  return NETC_F32_VEC_REDUCE(NETC_F32_VEC_ADD(a0, a1));
}

// Outputs [o0, o1) of every batch row: dots, bias, activation.
static void linear_rows(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                        const float *bias, netc_act act, float act_slope, float *y, int64_t o0,
                        int64_t o1) {
  for (int64_t r = 0; r < batch; r++) {
    const float *xr = x + r * in;
    float *yr = y + r * out;
    int64_t o = o0;
    for (; o + 4 <= o1; o += 4)
      dot4(in, w + o * in, in, xr, yr + o);
    for (; o < o1; o++)
      yr[o] = dot1(in, w + o * in, xr);
    if (bias)
      for (o = o0; o < o1; o++)
        yr[o] += bias[o];
    netc_act_span_f32(act, act_slope, o1 - o0, yr + o0, yr + o0);
  }
}

typedef struct {
  int64_t batch, in, out;
  const float *x, *w, *bias;
  netc_act act;
  float act_slope;
  float *y;
  int64_t blocks, nchunks;
} linear_job;

static void linear_chunk(void *ctx, int64_t c) {
  const linear_job *j = ctx;
  const int64_t o0 = NETC_MIN(j->out, j->blocks * c / j->nchunks * 4);
  const int64_t o1 = NETC_MIN(j->out, j->blocks * (c + 1) / j->nchunks * 4);
  linear_rows(j->batch, j->in, j->out, j->x, j->w, j->bias, j->act, j->act_slope, j->y, o0, o1);
}

void netc_linear_f32(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                     const float *bias, netc_act act, float act_slope, float *y, float *scratch) {
  if (batch >= GEMV_MAX_BATCH) {
    const netc_gemm_job job = {
        .m = batch, .n = out, .k = in, .alpha = 1.0f, .beta = 0.0f,
        .a = x, .lda = in, .ta = NETC_NO_TRANS,
        .b = w, .ldb = in, .tb = NETC_TRANS,
        .c = y, .ldc = out, .bias_col = bias, .act = act, .act_slope = act_slope};
    netc_gemm_run(&job, scratch);
    return;
  }
  (void)scratch;
  netc_linear_dot_f32(batch, in, out, x, w, bias, act, act_slope, y);
}

void netc_linear_dot_f32(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                         const float *bias, netc_act act, float act_slope, float *y) {
  // Chunks are contiguous ranges of rows of W (multiples of 4), a few per
  // thread: each streams its rows once.
  int64_t threads = 1;
  if ((double)out * (double)in * (double)batch >= (double)(1 << 17) && out >= 8)
    threads = netc_threads_get();
  linear_job j = {batch, in, out, x, w, bias, act, act_slope, y, (out + 3) / 4, 1};
  if (threads > 1)
    j.nchunks = NETC_MIN(j.blocks, 4 * threads);
  netc_parallel(j.nchunks, threads, linear_chunk, &j);
}

void netc_linear_packed_f32(int64_t batch, int64_t in, int64_t out, const float *x,
                            const float *w_packed, const float *bias, netc_act act, float act_slope,
                            float *y, float *scratch) {
  const netc_gemm_job job = {
      .m = batch, .n = out, .k = in, .alpha = 1.0f, .beta = 0.0f,
      .a = x, .lda = in, .ta = NETC_NO_TRANS, .b_packed = w_packed,
      .c = y, .ldc = out, .bias_col = bias, .act = act, .act_slope = act_slope};
  netc_gemm_run(&job, scratch);
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
