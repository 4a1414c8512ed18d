// gemm.c -- matrix multiply: C = act(alpha op(A) op(B) + beta C + bias).
//
// The fast path is the GotoBLAS / BLIS loop nest (see Goto and van de Geijn,
// "Anatomy of High-Performance Matrix Multiplication", and BLIS's
// bli_gemm_ker_var2): A and B are copied ("packed") into scratch in the
// order the micro-kernel reads them, one cache-sized block at a time.
//
//   for jc in [0, N) by NC                 columns of C and B
//     for pc in [0, K) by KC               depth
//       pack B[pc:pc+KC, jc:jc+NC]         KC x NC, micro-panels of NR columns (L3)
//       for ic in [0, M) by MC             rows of C and A
//         pack A[ic:ic+MC, pc:pc+KC]       MC x KC, micro-panels of MR rows (L2)
//         for jr in [0, NC) by NR          one B micro-panel, KC x NR (L1)
//           for ir in [0, MC) by MR        one A micro-panel, MR x KC
//             micro-kernel: C[MR x NR] += A panel * B panel, tile in registers
//
// The last depth block applies the epilogue (bias, activation) to each
// tile while it is still in registers or L1. Under OpenMP, packing and the
// (jr, ir) tile loop are shared out among the threads; the packed blocks are
// shared, so scratch does not grow with the thread count.
//
// B is packed through a function pointer so that conv.c can gather
// im2col patches straight from the image while packing (implicit GEMM)
// instead of materialising the im2col matrix.

#include "netc_internal.h"

#include <string.h>

#define MR NETC_GEMM_MR
#define NRV NETC_GEMM_NRV
#define NR NETC_GEMM_NR
#define KC NETC_GEMM_KC
#define MC NETC_GEMM_MC
#define NC NETC_GEMM_NC
#define EPR NETC_F32_EPR

NETC_STATIC_ASSERT(KC <= NETC_GEMM_KC_MAX, kc_within_public_bound);
NETC_STATIC_ASSERT(MC <= NETC_GEMM_MC_MAX, mc_within_public_bound);
NETC_STATIC_ASSERT(NC <= NETC_GEMM_NC_MAX, nc_within_public_bound);
NETC_STATIC_ASSERT(MR <= NETC_GEMM_TILE_MAX && NR <= NETC_GEMM_TILE_MAX, tile_within_bound);
NETC_STATIC_ASSERT(MC % MR == 0 && NC % NR == 0, blocks_hold_whole_panels);

// Below this many multiply-adds a GEMM runs on one thread: waking the
// others costs more than it saves.
#define PARALLEL_MIN_MACS (1 << 20)

int64_t netc_gemm_scratch_floats(int64_t M, int64_t N, int64_t K) {
  if (M <= 0 || N <= 0 || K <= 0)
    return 0;
  int64_t kc = NETC_MIN(K, (int64_t)NETC_GEMM_KC_MAX);
  return kc * (NETC_MIN(N, (int64_t)NETC_GEMM_NC_MAX) + NETC_MIN(M, (int64_t)NETC_GEMM_MC_MAX) +
               2 * NETC_GEMM_TILE_MAX) + 32;
}

//
// Packing
//

// Rows [i0, i0 + mr) (mr <= MR) and depth [k0, k0 + kc) of op(A) into one
// micro-panel: column p of the panel (MR floats, zero past mr) at dst + p * MR.
static void pack_a_panel(const netc_gemm_job *job, int64_t i0, int64_t mr, int64_t k0,
                         int64_t kc, float *restrict dst) {
  const float *a = job->a;
  int64_t lda = job->lda;
  if (job->ta == NETC_NO_TRANS) {
    const float *rows[MR];
    for (int64_t r = 0; r < MR; r++)
      rows[r] = r < mr ? a + (i0 + r) * lda + k0 : NULL;
    for (int64_t p = 0; p < kc; p++) {
      for (int64_t r = 0; r < mr; r++)
        dst[p * MR + r] = rows[r][p];
      for (int64_t r = mr; r < MR; r++)
        dst[p * MR + r] = 0.0f;
    }
  } else {
    for (int64_t p = 0; p < kc; p++) {
      const float *src = a + (k0 + p) * lda + i0;
      for (int64_t r = 0; r < mr; r++)
        dst[p * MR + r] = src[r];
      for (int64_t r = mr; r < MR; r++)
        dst[p * MR + r] = 0.0f;
    }
  }
}

void netc_gemm_pack_b_matrix(const netc_gemm_job *job, int64_t k0, int64_t kc, int64_t j0,
                             int64_t nc, float *restrict dst) {
  const float *b = job->b;
  int64_t ldb = job->ldb;
  assert(nc <= NR);
  if (job->tb == NETC_NO_TRANS) {
    for (int64_t p = 0; p < kc; p++) {
      const float *src = b + (k0 + p) * ldb + j0;
      float *d = dst + p * NR;
      if (nc == NR) {
        memcpy(d, src, sizeof(float) * NR);
      } else {
        for (int64_t j = 0; j < nc; j++)
          d[j] = src[j];
        for (int64_t j = nc; j < NR; j++)
          d[j] = 0.0f;
      }
    }
  } else {
    for (int64_t j = 0; j < nc; j++) {
      const float *src = b + (j0 + j) * ldb + k0;
      for (int64_t p = 0; p < kc; p++)
        dst[p * NR + j] = src[p];
    }
    for (int64_t j = nc; j < NR; j++)
      for (int64_t p = 0; p < kc; p++)
        dst[p * NR + j] = 0.0f;
  }
}

//
// Epilogue and micro-kernel
//

// Bias and activation on an mr x nr block of C at c (rows from row0,
// columns from col0 of the whole C), scalar.
static void epilogue_block(const netc_gemm_job *job, float *c, int64_t ldc, int64_t mr,
                           int64_t nr, int64_t row0, int64_t col0) {
  for (int64_t i = 0; i < mr; i++) {
    float br = job->bias_row ? job->bias_row[row0 + i] : 0.0f;
    for (int64_t j = 0; j < nr; j++) {
      float v = c[i * ldc + j] + br;
      if (job->bias_col)
        v += job->bias_col[col0 + j];
      c[i * ldc + j] = netc_act1(job->act, job->act_slope, v);
    }
  }
}

// C[mr x nr] = alpha * (A panel x B panel) + beta * C, then the epilogue if
// epi is not NULL (the last depth block). a: kc x MR, b: kc x NR, packed.
static void micro_kernel(int64_t kc, const float *restrict a, const float *restrict b,
                         float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float alpha,
                         float beta, const netc_gemm_job *epi, int64_t row0, int64_t col0) {
  NETC_F32_VEC acc[MR][NRV];

  NETC_UNROLL(16)
  for (int i = 0; i < MR; i++) {
    NETC_UNROLL(8)
    for (int j = 0; j < NRV; j++)
      acc[i][j] = NETC_F32_VEC_ZERO;
  }

  for (int64_t p = 0; p < kc; p++) {
    NETC_F32_VEC bv[NRV];
    NETC_UNROLL(8)
    for (int j = 0; j < NRV; j++)
      bv[j] = NETC_F32_VEC_LOAD(b + j * EPR);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_F32_VEC av = NETC_F32_VEC_SET1(a[i]);
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++)
        acc[i][j] = NETC_F32_VEC_FMA(acc[i][j], av, bv[j]);
    }
    a += MR;
    b += NR;
  }

  if (mr < MR || nr < NR) {
    // Edge tile: spill to memory and finish element by element.
    float t[MR * NR];
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NRV; j++)
        NETC_F32_VEC_STORE(t + i * NR + j * EPR, acc[i][j]);
    for (int64_t i = 0; i < mr; i++)
      for (int64_t j = 0; j < nr; j++) {
        float v = alpha * t[i * NR + j];
        c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];
      }
    if (epi)
      epilogue_block(epi, c, ldc, mr, nr, row0, col0);
    return;
  }

  if (alpha != 1.0f) {
    NETC_F32_VEC va = NETC_F32_VEC_SET1(alpha);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++)
        acc[i][j] = NETC_F32_VEC_MUL(acc[i][j], va);
    }
  }
  if (beta != 0.0f) {
    NETC_F32_VEC vb = NETC_F32_VEC_SET1(beta);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++)
        acc[i][j] = NETC_F32_VEC_FMA(acc[i][j], vb, NETC_F32_VEC_LOAD(c + i * ldc + j * EPR));
    }
  }

  netc_act act = NETC_ACT_NONE;
  if (epi) {
    if (epi->bias_row) {
      NETC_UNROLL(16)
      for (int i = 0; i < MR; i++) {
        NETC_F32_VEC vb = NETC_F32_VEC_SET1(epi->bias_row[row0 + i]);
        NETC_UNROLL(8)
        for (int j = 0; j < NRV; j++)
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], vb);
      }
    }
    if (epi->bias_col) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++) {
        NETC_F32_VEC vb = NETC_F32_VEC_LOAD(epi->bias_col + col0 + j * EPR);
        NETC_UNROLL(16)
        for (int i = 0; i < MR; i++)
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], vb);
      }
    }
    act = epi->act;
  }

  // ReLU family in registers; max(0, v) keeps v's NaN (see the SIMD notes).
  NETC_F32_VEC zero = NETC_F32_VEC_ZERO;
  if (act == NETC_ACT_RELU || act == NETC_ACT_RELU6) {
    NETC_F32_VEC six = NETC_F32_VEC_SET1(6.0f);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++) {
        acc[i][j] = NETC_F32_VEC_MAX(zero, acc[i][j]);
        if (act == NETC_ACT_RELU6)
          acc[i][j] = NETC_F32_VEC_MIN(six, acc[i][j]);
      }
    }
    act = NETC_ACT_NONE;
  } else if (act == NETC_ACT_LEAKY_RELU) {
    NETC_F32_VEC slope = NETC_F32_VEC_SET1(epi->act_slope);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++)
        acc[i][j] = NETC_F32_VEC_FMA(NETC_F32_VEC_MAX(zero, acc[i][j]), slope,
                                     NETC_F32_VEC_MIN(zero, acc[i][j]));
    }
    act = NETC_ACT_NONE;
  }

  NETC_UNROLL(16)
  for (int i = 0; i < MR; i++) {
    NETC_UNROLL(8)
    for (int j = 0; j < NRV; j++)
      NETC_F32_VEC_STORE(c + i * ldc + j * EPR, acc[i][j]);
  }

  // Transcendental activations: scalar libm on the tile, still in L1.
  if (act != NETC_ACT_NONE)
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++)
        c[i * ldc + j] = netc_act1(act, epi->act_slope, c[i * ldc + j]);
}

//
// Driver
//

// K == 0 or alpha == 0: C = beta C, then the epilogue.
static void scale_only(const netc_gemm_job *job) {
  for (int64_t i = 0; i < job->m; i++) {
    float *c = job->c + i * job->ldc;
    for (int64_t j = 0; j < job->n; j++)
      c[j] = job->beta == 0.0f ? 0.0f : job->beta * c[j];
  }
  epilogue_block(job, job->c, job->ldc, job->m, job->n, 0, 0);
}

void netc_gemm_run(const netc_gemm_job *job, float *scratch) {
  const int64_t m = job->m, n = job->n, k = job->k;
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0 || job->alpha == 0.0f) {
    scale_only(job);
    return;
  }
  assert(scratch != NULL);
  netc_pack_b_fn pack_b = job->pack_b ? job->pack_b : netc_gemm_pack_b_matrix;
  const int64_t kc_max = NETC_MIN(k, (int64_t)KC);
  float *bp = netc_align64(scratch);
  float *ap = netc_align64(bp + kc_max * netc_round_up(NETC_MIN(n, (int64_t)NC), NR));
  assert(ap + kc_max * netc_round_up(NETC_MIN(m, (int64_t)MC), MR) <=
         scratch + netc_gemm_scratch_floats(m, n, k));
  int par = (double)m * (double)n * (double)k >= (double)PARALLEL_MIN_MACS;
  (void)par;

  NETC_OMP(parallel if (par))
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = NETC_MIN((int64_t)NC, n - jc);
    const int64_t nb = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = NETC_MIN((int64_t)KC, k - pc);
      const float beta = pc == 0 ? job->beta : 1.0f;
      const netc_gemm_job *epi = pc + kc == k ? job : NULL;

      NETC_OMP(for schedule(static))
      for (int64_t q = 0; q < nb; q++)
        pack_b(job, pc, kc, jc + q * NR, NETC_MIN((int64_t)NR, nc - q * NR), bp + q * kc * NR);

      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = NETC_MIN((int64_t)MC, m - ic);
        const int64_t na = (mc + MR - 1) / MR;

        NETC_OMP(for schedule(static))
        for (int64_t q = 0; q < na; q++)
          pack_a_panel(job, ic + q * MR, NETC_MIN((int64_t)MR, mc - q * MR), pc, kc,
                       ap + q * kc * MR);

        NETC_OMP(for collapse(2) schedule(static))
        for (int64_t jr = 0; jr < nb; jr++)
          for (int64_t ir = 0; ir < na; ir++) {
            int64_t row = ic + ir * MR, col = jc + jr * NR;
            micro_kernel(kc, ap + ir * kc * MR, bp + jr * kc * NR, job->c + row * job->ldc + col,
                         job->ldc, NETC_MIN((int64_t)MR, mc - ir * MR),
                         NETC_MIN((int64_t)NR, nc - jr * NR), job->alpha, beta, epi, row, col);
          }
      }
    }
  }
}

void netc_gemm_f32(netc_trans ta, netc_trans tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc, float *scratch) {
  netc_gemm_job job;
  memset(&job, 0, sizeof job);
  job.m = M;
  job.n = N;
  job.k = K;
  job.alpha = alpha;
  job.beta = beta;
  job.a = A;
  job.lda = lda;
  job.ta = ta;
  job.b = B;
  job.ldb = ldb;
  job.tb = tb;
  job.c = C;
  job.ldc = ldc;
  job.act = NETC_ACT_NONE;
  netc_gemm_run(&job, scratch);
}

// Reference: the definition, one dot product per element, in double.
void netc_ref_gemm_f32(netc_trans ta, netc_trans tb, int64_t M, int64_t N, int64_t K,
                       float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
                       float beta, float *C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double sum = 0.0;
      for (int64_t p = 0; p < K; p++) {
        double a = ta == NETC_NO_TRANS ? A[i * lda + p] : A[p * lda + i];
        double b = tb == NETC_NO_TRANS ? B[p * ldb + j] : B[j * ldb + p];
        sum += a * b;
      }
      double c = beta == 0.0f ? 0.0 : (double)beta * C[i * ldc + j];
      C[i * ldc + j] = (float)((double)alpha * sum + c);
    }
}
