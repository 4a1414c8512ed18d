// gemm.c -- matrix multiply: C = act(alpha op(A) op(B) + beta C + bias + res).
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
// A may come packed already (netc_gemm_pack_a, e.g. weights packed once at
// load time): then the A packing step disappears and the blocks are read
// in place. The last depth block applies the epilogue (bias, residual,
// activation) to each tile while it is in registers.
//
// Threads. The output is cut into one rectangle per thread, either by
// column panels (each thread packs only its own columns of B; A is shared
// when packed ahead, else each thread packs all of it) or by row panels
// (each thread packs its own rows of A and its own copy of B). Each thread
// then runs the loop nest above on its rectangle with its own slice of
// scratch, so there is no barrier inside a GEMM: one parallel region, one
// join. The split that gives the smallest largest share (counting packing)
// wins. A thread's result does not depend on the split: every element is
// summed in the same KC blocks, in the same order, whatever the thread
// count.
//
// B is packed through a function pointer so that conv.c can gather
// im2col patches straight from the image while packing (implicit GEMM)
// instead of materialising the im2col matrix.

#include "netc_internal.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define MR NETC_GEMM_MR
#define NRV NETC_GEMM_NRV
#define NR NETC_GEMM_NR
#define KC NETC_GEMM_KC
#define MC NETC_GEMM_MC
#define NC NETC_GEMM_NC
#define EPR NETC_F32_EPR

// Pre-packed A is sized with MR <= 16 (netc_gemm_packed_a_floats).
#define PACKED_MR_MAX 16

NETC_STATIC_ASSERT(KC <= NETC_GEMM_KC_MAX, kc_within_public_bound);
NETC_STATIC_ASSERT(MC <= NETC_GEMM_MC_MAX, mc_within_public_bound);
NETC_STATIC_ASSERT(NC <= NETC_GEMM_NC_MAX, nc_within_public_bound);
NETC_STATIC_ASSERT(MR <= NETC_GEMM_TILE_MAX && NR <= NETC_GEMM_TILE_MAX, tile_within_bound);
NETC_STATIC_ASSERT(MR <= PACKED_MR_MAX, mr_within_packed_bound);
NETC_STATIC_ASSERT(MC % MR == 0 && NC % NR == 0, blocks_hold_whole_panels);

// Below this many multiply-adds a GEMM runs on one thread: waking the
// others costs more than it saves.
#define PARALLEL_MIN_MACS (1 << 19)

int64_t netc_gemm_scratch_floats(int64_t M, int64_t N, int64_t K) {
  if (M <= 0 || N <= 0 || K <= 0)
    return 0;
  int64_t kc = NETC_MIN(K, (int64_t)NETC_GEMM_KC_MAX);
  return kc * (NETC_MIN(N, (int64_t)NETC_GEMM_NC_MAX) + NETC_MIN(M, (int64_t)NETC_GEMM_MC_MAX) +
               2 * NETC_GEMM_TILE_MAX) + 32;
}

int64_t netc_gemm_packed_a_floats(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0)
    return 0;
  return (M + PACKED_MR_MAX - 1) * K;
}

//
// Packing
//

// Rows [i0, i0 + mr) (mr <= MR) and depth [k0, k0 + kc) of op(A) into one
// micro-panel: column p of the panel (MR floats, zero past mr) at dst + p * MR.
static void pack_a_panel(netc_trans ta, const float *a, int64_t lda, int64_t i0, int64_t mr,
                         int64_t k0, int64_t kc, float *restrict dst) {
  if (ta == NETC_NO_TRANS) {
    if (mr < MR)
      memset(dst, 0, sizeof(float) * (size_t)(kc * MR));
    // Row by row: each source row is read once, contiguously; the strided
    // writes stay inside the panel (kc * MR floats, in L1).
    for (int64_t r = 0; r < mr; r++) {
      const float *src = a + (i0 + r) * lda + k0;
      float *d = dst + r;
      int64_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        d[(p + 0) * MR] = src[p + 0];
        d[(p + 1) * MR] = src[p + 1];
        d[(p + 2) * MR] = src[p + 2];
        d[(p + 3) * MR] = src[p + 3];
      }
      for (; p < kc; p++)
        d[p * MR] = src[p];
    }
  } else {
    for (int64_t p = 0; p < kc; p++) {
      const float *src = a + (k0 + p) * lda + i0;
      float *d = dst + p * MR;
      if (mr == MR) {
        memcpy(d, src, sizeof(float) * MR);
      } else {
        for (int64_t r = 0; r < mr; r++)
          d[r] = src[r];
        for (int64_t r = mr; r < MR; r++)
          d[r] = 0.0f;
      }
    }
  }
}

void netc_gemm_pack_a(netc_trans ta, int64_t M, int64_t K, const float *A, int64_t lda,
                      float *packed) {
  if (M <= 0 || K <= 0)
    return;
  const int64_t mr_total = netc_round_up(M, MR);
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = NETC_MIN((int64_t)KC, K - pc);
    for (int64_t q = 0; q * MR < M; q++)
      pack_a_panel(ta, A, lda, q * MR, NETC_MIN((int64_t)MR, M - q * MR), pc, kc,
                   packed + pc * mr_total + q * kc * MR);
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
    if (nc < NR)
      memset(dst, 0, sizeof(float) * (size_t)(kc * NR));
    for (int64_t j = 0; j < nc; j++) {
      const float *src = b + (j0 + j) * ldb + k0;
      for (int64_t p = 0; p < kc; p++)
        dst[p * NR + j] = src[p];
    }
  }
}

//
// Epilogue and micro-kernel
//

// Bias, residual and activation on an mr x nr block of C at c (rows from
// row0, columns from col0 of the whole C). For K == 0 only.
static void epilogue_block(const netc_gemm_job *job, float *c, int64_t ldc, int64_t mr,
                           int64_t nr, int64_t row0, int64_t col0) {
  for (int64_t i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    float br = job->bias_row ? job->bias_row[row0 + i] : 0.0f;
    for (int64_t j = 0; j < nr; j++) {
      float v = ci[j] + br;
      if (job->bias_col)
        v += job->bias_col[col0 + j];
      if (job->res)
        v += job->res[(row0 + i) * job->ldres + col0 + j];
      ci[j] = v;
    }
    netc_act_span_f32(job->act, job->act_slope, nr, ci, ci);
  }
}

// C[mr x nr] = alpha * (A panel x B panel) + beta * C, then, if epi is not
// NULL (the last depth block), + bias + residual and the activation.
// a: kc x MR, b: kc x NR, packed. Edge tiles (mr < MR or nr < NR) use the
// same registers with partial loads and stores.
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

  if (alpha != 1.0f) {
    NETC_F32_VEC va = NETC_F32_VEC_SET1(alpha);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++)
        acc[i][j] = NETC_F32_VEC_MUL(acc[i][j], va);
    }
  }

  // Valid floats of column register j: NR, or fewer in an edge tile.
  int64_t nv[NRV];
  NETC_UNROLL(8)
  for (int j = 0; j < NRV; j++)
    nv[j] = NETC_MAX((int64_t)0, NETC_MIN((int64_t)EPR, nr - j * EPR));
  const int full = mr == MR && nr == NR;

#define TILE_LOAD(dst_, p_, j_)                       \
  do {                                                \
    if (full || nv[j_] == EPR)                        \
      (dst_) = NETC_F32_VEC_LOAD(p_);                 \
    else if (nv[j_] > 0)                              \
      (dst_) = NETC_F32_VEC_LOADN(p_, nv[j_]);        \
    else                                              \
      (dst_) = NETC_F32_VEC_ZERO;                     \
  } while (0)

  if (beta != 0.0f) {
    NETC_F32_VEC vb = NETC_F32_VEC_SET1(beta);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      if (i >= mr)
        break;
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++) {
        NETC_F32_VEC cv;
        TILE_LOAD(cv, c + i * ldc + j * EPR, j);
        acc[i][j] = NETC_F32_VEC_FMA(acc[i][j], vb, cv);
      }
    }
  }

  netc_act act = NETC_ACT_NONE;
  if (epi) {
    if (epi->bias_row) {
      NETC_UNROLL(16)
      for (int i = 0; i < MR; i++) {
        if (i >= mr)
          break;
        NETC_F32_VEC vb = NETC_F32_VEC_SET1(epi->bias_row[row0 + i]);
        NETC_UNROLL(8)
        for (int j = 0; j < NRV; j++)
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], vb);
      }
    }
    if (epi->bias_col) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++) {
        NETC_F32_VEC vb;
        TILE_LOAD(vb, epi->bias_col + col0 + j * EPR, j);
        NETC_UNROLL(16)
        for (int i = 0; i < MR; i++)
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], vb);
      }
    }
    if (epi->res) {
      const float *res = epi->res + row0 * epi->ldres + col0;
      NETC_UNROLL(16)
      for (int i = 0; i < MR; i++) {
        if (i >= mr)
          break;
        NETC_UNROLL(8)
        for (int j = 0; j < NRV; j++) {
          NETC_F32_VEC rv;
          TILE_LOAD(rv, res + i * epi->ldres + j * EPR, j);
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], rv);
        }
      }
    }
    act = epi->act;
  }
#undef TILE_LOAD

  // ReLU family in registers; max(0, v) keeps v's NaN (see the SIMD notes).
  const NETC_F32_VEC zero = NETC_F32_VEC_ZERO;
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

  if (full) {
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++)
        NETC_F32_VEC_STORE(c + i * ldc + j * EPR, acc[i][j]);
    }
  } else {
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      if (i >= mr)
        break;
      NETC_UNROLL(8)
      for (int j = 0; j < NRV; j++) {
        if (nv[j] == EPR)
          NETC_F32_VEC_STORE(c + i * ldc + j * EPR, acc[i][j]);
        else if (nv[j] > 0)
          NETC_F32_VEC_STOREN(c + i * ldc + j * EPR, acc[i][j], nv[j]);
      }
    }
  }

  // Transcendental activations: vectorised, on the tile while it is in L1.
  if (act != NETC_ACT_NONE)
    for (int64_t i = 0; i < mr; i++)
      netc_act_span_f32(act, epi->act_slope, nr, c + i * ldc, c + i * ldc);
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

// One thread's share: rows [m0, m1) (m0 a multiple of MR) and columns
// [n0, n1) (n0 a multiple of NR) of C, with private buffers bp (kc_max x
// ncap, ncap a multiple of NR) and ap (kc_max x mcap, mcap a multiple of
// MR; unused when A comes packed).
typedef struct {
  int64_t m0, m1, n0, n1;
  float *bp, *ap;
  int64_t ncap, mcap;
} gemm_part;

static void gemm_part_run(const netc_gemm_job *job, const gemm_part *pt) {
  const int64_t k = job->k;
  netc_pack_b_fn pack_b = job->pack_b ? job->pack_b : netc_gemm_pack_b_matrix;
  const int64_t mr_total = netc_round_up(job->m, MR);
  const int64_t mstep = job->a_packed ? (int64_t)MC : pt->mcap;
  for (int64_t jc = pt->n0; jc < pt->n1; jc += pt->ncap) {
    const int64_t nc = NETC_MIN(pt->ncap, pt->n1 - jc);
    const int64_t nb = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = NETC_MIN((int64_t)KC, k - pc);
      const float beta = pc == 0 ? job->beta : 1.0f;
      const netc_gemm_job *epi = pc + kc == k ? job : NULL;

      for (int64_t q = 0; q < nb; q++)
        pack_b(job, pc, kc, jc + q * NR, NETC_MIN((int64_t)NR, nc - q * NR), pt->bp + q * kc * NR);

      for (int64_t ic = pt->m0; ic < pt->m1; ic += mstep) {
        const int64_t mc = NETC_MIN(mstep, pt->m1 - ic);
        const int64_t na = (mc + MR - 1) / MR;
        const float *ap;
        if (job->a_packed) {
          ap = job->a_packed + pc * mr_total + ic * kc;
        } else {
          for (int64_t q = 0; q < na; q++)
            pack_a_panel(job->ta, job->a, job->lda, ic + q * MR, NETC_MIN((int64_t)MR, pt->m1 - ic - q * MR),
                         pc, kc, pt->ap + q * kc * MR);
          ap = pt->ap;
        }
        for (int64_t jr = 0; jr < nb; jr++)
          for (int64_t ir = 0; ir < na; ir++) {
            int64_t row = ic + ir * MR, col = jc + jr * NR;
            micro_kernel(kc, ap + ir * kc * MR, pt->bp + jr * kc * NR, job->c + row * job->ldc + col,
                         job->ldc, NETC_MIN((int64_t)MR, pt->m1 - row), NETC_MIN((int64_t)NR, pt->n1 - col),
                         job->alpha, beta, epi, row, col);
          }
      }
    }
  }
}

// The largest share, in units of one k-step of one micro-tile, when na row
// panels and nb column panels are cut into parts_m x parts_n rectangles:
// its tiles, plus its packing (an MR-row A panel costs about one tile
// k-step per k, an NR-column B panel about two).
static double split_cost(int64_t na, int64_t nb, int64_t parts_m, int64_t parts_n, int packed_a) {
  int64_t ma = (na + parts_m - 1) / parts_m, mb = (nb + parts_n - 1) / parts_n;
  return (double)ma * (double)mb + (packed_a ? 0.0 : (double)ma) + 2.0 * (double)mb;
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
  const int64_t kc_max = NETC_MIN(k, (int64_t)KC);
  const int64_t na = (m + MR - 1) / MR, nb = (n + NR - 1) / NR;
  const int packed_a = job->a_packed != NULL;
  float *base = netc_align64(scratch);
  const int64_t total = netc_gemm_scratch_floats(m, n, k) - (base - scratch);

  int64_t threads = 1;
#ifdef _OPENMP
  if ((double)m * (double)n * (double)k >= (double)PARALLEL_MIN_MACS && !omp_in_parallel())
    threads = job->max_threads > 0 ? NETC_MIN((int64_t)job->max_threads, (int64_t)netc_threads_get())
                                   : (int64_t)netc_threads_get();
#endif
  threads = NETC_MAX((int64_t)1, NETC_MIN(threads, (int64_t)64));

  // By columns or by rows, whichever leaves the smallest largest share.
  int64_t parts_m = 1, parts_n = 1, ncap = 0, mcap = 0, part_floats = total;
  while (threads > 1) {
    double by_n = split_cost(na, nb, 1, threads, packed_a);
    double by_m = split_cost(na, nb, threads, 1, packed_a);
    parts_m = parts_n = 1;
    if (by_m < by_n && na >= threads)
      parts_m = threads;
    else if (nb >= threads)
      parts_n = threads;
    else if (na >= threads)
      parts_m = threads;
    else {
      threads--;
      continue;
    }
    // Each part's buffers: A up to MC rows (rounded to panels), B the rest,
    // plus 32 floats for aligning both.
    part_floats = total / threads;
    const int64_t lines = (part_floats - 32) / kc_max;
    mcap = 0;
    if (!packed_a) {
      mcap = NETC_MIN(netc_round_up((na + parts_m - 1) / parts_m * MR, MR), (int64_t)MC);
      mcap = NETC_MIN(mcap, (lines - NR) / MR * MR);
    }
    ncap = NETC_MIN((int64_t)NC, (nb + parts_n - 1) / parts_n * NR);
    ncap = NETC_MIN(ncap, (lines - mcap) / NR * NR);
    if ((packed_a || mcap >= MR) && ncap >= NR)
      break;
    threads--;
  }
  if (threads == 1) {
    parts_m = parts_n = 1;
    part_floats = total;
    ncap = netc_round_up(NETC_MIN(n, (int64_t)NC), NR);
    mcap = packed_a ? 0 : netc_round_up(NETC_MIN(m, (int64_t)MC), MR);
  }

  gemm_part parts[64];
  for (int64_t t = 0; t < threads; t++) {
    gemm_part *pt = &parts[t];
    int64_t tm = parts_m > 1 ? t : 0, tn = parts_n > 1 ? t : 0;
    pt->m0 = NETC_MIN(m, na * tm / parts_m * MR);
    pt->m1 = NETC_MIN(m, na * (tm + 1) / parts_m * MR);
    pt->n0 = NETC_MIN(n, nb * tn / parts_n * NR);
    pt->n1 = NETC_MIN(n, nb * (tn + 1) / parts_n * NR);
    pt->bp = netc_align64(base + t * part_floats);
    pt->ap = netc_align64(pt->bp + ncap * kc_max);
    pt->ncap = ncap;
    pt->mcap = mcap;
    assert(pt->ap + mcap * kc_max <= base + (t + 1) * part_floats);
  }

  if (threads == 1) {
    gemm_part_run(job, &parts[0]);
    return;
  }
  NETC_OMP(parallel for schedule(static, 1) num_threads((int)threads))
  for (int64_t t = 0; t < threads; t++)
    if (parts[t].m0 < parts[t].m1 && parts[t].n0 < parts[t].n1)
      gemm_part_run(job, &parts[t]);
}

static void gemm_job_init(netc_gemm_job *job, int64_t M, int64_t N, int64_t K, float alpha,
                          float beta, float *C, int64_t ldc) {
  memset(job, 0, sizeof *job);
  job->m = M;
  job->n = N;
  job->k = K;
  job->alpha = alpha;
  job->beta = beta;
  job->c = C;
  job->ldc = ldc;
  job->act = NETC_ACT_NONE;
}

void netc_gemm_f32(netc_trans ta, netc_trans tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc, float *scratch) {
  netc_gemm_job job;
  gemm_job_init(&job, M, N, K, alpha, beta, C, ldc);
  job.a = A;
  job.lda = lda;
  job.ta = ta;
  job.b = B;
  job.ldb = ldb;
  job.tb = tb;
  netc_gemm_run(&job, scratch);
}

void netc_gemm_packed_f32(netc_trans tb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *packed_a, const float *B, int64_t ldb, float beta,
                          float *C, int64_t ldc, float *scratch) {
  netc_gemm_job job;
  gemm_job_init(&job, M, N, K, alpha, beta, C, ldc);
  job.a_packed = packed_a;
  job.b = B;
  job.ldb = ldb;
  job.tb = tb;
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
