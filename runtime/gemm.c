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
// scratch, so there is no barrier inside a GEMM: one parallel region
// (netc_parallel: a thread that starts late leaves its rectangle to the
// others), one join. The split that gives the smallest largest share (counting packing)
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

int64_t netc_gemm_packed_b_floats(int64_t K, int64_t N) {
  if (N <= 0 || K <= 0)
    return 0;
  return (N + NETC_GEMM_TILE_MAX - 1) * K;
}

//
// Packing
//

// Rows [i0, i0 + mr) (mr <= rows) and depth [k0, k0 + kc) of op(A) into one
// micro-panel of height rows: column p of the panel (rows floats, zero past
// mr) at dst + p * rows.
#if defined(__AVX__)
// dst[q * ld + r] = rows[r][p + q] for q, r < 8: the 8 x 8 transpose of AVX
// (unpack, shuffle, swap halves), 24 shuffles for 64 floats.
static inline void transpose8x8(const float *const *rows, int64_t p, float *restrict dst, int64_t ld) {
  __m256 r0 = _mm256_loadu_ps(rows[0] + p), r1 = _mm256_loadu_ps(rows[1] + p);
  __m256 r2 = _mm256_loadu_ps(rows[2] + p), r3 = _mm256_loadu_ps(rows[3] + p);
  __m256 r4 = _mm256_loadu_ps(rows[4] + p), r5 = _mm256_loadu_ps(rows[5] + p);
  __m256 r6 = _mm256_loadu_ps(rows[6] + p), r7 = _mm256_loadu_ps(rows[7] + p);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(dst + 0 * ld, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + 1 * ld, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld, _mm256_permute2f128_ps(s3, s7, 0x31));
}
#endif

static void pack_a_panel(netc_trans ta, const float *a, int64_t lda, int64_t i0, int64_t mr,
                         int64_t k0, int64_t kc, int64_t rows, float *restrict dst) {
#if defined(__AVX__)
  if (ta == NETC_NO_TRANS && rows == 8 && mr == 8) {
    const float *src[8];
    for (int r = 0; r < 8; r++)
      src[r] = a + (i0 + r) * lda + k0;
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8)
      transpose8x8(src, p, dst + p * 8, 8);
    for (; p < kc; p++)
      for (int r = 0; r < 8; r++)
        dst[p * 8 + r] = src[r][p];
    return;
  }
#endif
  if (ta == NETC_NO_TRANS) {
    if (mr < rows)
      memset(dst, 0, sizeof(float) * (size_t)(kc * rows));
    // Row by row: each source row is read once, contiguously; the strided
    // writes stay inside the panel (kc * rows floats, in L1).
    for (int64_t r = 0; r < mr; r++) {
      const float *src = a + (i0 + r) * lda + k0;
      float *d = dst + r;
      int64_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        d[(p + 0) * rows] = src[p + 0];
        d[(p + 1) * rows] = src[p + 1];
        d[(p + 2) * rows] = src[p + 2];
        d[(p + 3) * rows] = src[p + 3];
      }
      for (; p < kc; p++)
        d[p * rows] = src[p];
    }
  } else {
    for (int64_t p = 0; p < kc; p++) {
      const float *src = a + (k0 + p) * lda + i0;
      float *d = dst + p * rows;
      for (int64_t r = 0; r < mr; r++)
        d[r] = src[r];
      for (int64_t r = mr; r < rows; r++)
        d[r] = 0.0f;
    }
  }
}

void netc_pack_a_rows(netc_trans ta, int64_t M, int64_t K, const float *A, int64_t lda,
                      int64_t rows, float *packed) {
  assert(rows >= 1 && rows <= PACKED_MR_MAX);
  if (M <= 0 || K <= 0)
    return;
  const int64_t m_total = netc_round_up(M, rows);
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = NETC_MIN((int64_t)KC, K - pc);
    for (int64_t q = 0; q * rows < M; q++)
      pack_a_panel(ta, A, lda, q * rows, NETC_MIN(rows, M - q * rows), pc, kc, rows,
                   packed + netc_panel_offset(m_total, pc, kc, q, rows));
  }
}

void netc_gemm_pack_a(netc_trans ta, int64_t M, int64_t K, const float *A, int64_t lda,
                      float *packed) {
  netc_pack_a_rows(ta, M, K, A, lda, MR, packed);
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
        NETC_UNROLL(8)
        for (int j = 0; j < NRV; j++)
          NETC_F32_VEC_STORE(d + j * EPR, NETC_F32_VEC_LOAD(src + j * EPR));
      } else {
        for (int64_t j = 0; j < nc; j++)
          d[j] = src[j];
        for (int64_t j = nc; j < NR; j++)
          d[j] = 0.0f;
      }
    }
  } else {
    // B^T is stored: column j of the panel is row j0 + j of b. Eight rows
    // at a time through the 8 x 8 transpose (a linear layer's [out, in]
    // weight, attention's keys), the rest element by element.
    if (nc < NR)
      memset(dst, 0, sizeof(float) * (size_t)(kc * NR));
    int64_t j = 0;
#if defined(__AVX__)
    for (; j + 8 <= nc; j += 8) {
      const float *src[8];
      for (int r = 0; r < 8; r++)
        src[r] = b + (j0 + j + r) * ldb + k0;
      int64_t p = 0;
      for (; p + 8 <= kc; p += 8)
        transpose8x8(src, p, dst + p * NR + j, NR);
      for (; p < kc; p++)
        for (int r = 0; r < 8; r++)
          dst[p * NR + j + r] = src[r][p];
    }
#endif
    for (; j < nc; j++) {
      const float *src = b + (j0 + j) * ldb + k0;
      for (int64_t p = 0; p < kc; p++)
        dst[p * NR + j] = src[p];
    }
  }
}

// Every depth block of B, each as the column panels gemm_part_run packs
// (panel q of depth block p0 at netc_panel_offset(round_up(N, NR), p0, kc, q, NR)).
void netc_gemm_pack_b(netc_trans tb, int64_t K, int64_t N, const float *B, int64_t ldb, float *packed) {
  if (N <= 0 || K <= 0)
    return;
  const netc_gemm_job job = {.b = B, .ldb = ldb, .tb = tb};
  const int64_t n_total = netc_round_up(N, NR);
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = NETC_MIN((int64_t)KC, K - pc);
    for (int64_t q = 0; q * NR < N; q++)
      netc_gemm_pack_b_matrix(&job, pc, kc, q * NR, NETC_MIN((int64_t)NR, N - q * NR),
                              packed + netc_panel_offset(n_total, pc, kc, q, NR));
  }
}

//
// Epilogue and micro-kernel
//

// C[mr x nr] = alpha * (A panel x B panel) + beta * C (+ the residual tile
// res, on the first depth block), then, if epi is not NULL (the last depth
// block), + bias and the activation. res may be c itself: each element is
// read before it is written.
// a: kc x MR, b: kc x NR, packed. Edge tiles (mr < MR or nr < NR) use the
// same registers with partial loads and stores.
NETC_ALWAYS_INLINE static inline void micro_kernel_n(const int nrv, int64_t kc, const float *restrict a,
                                                     const float *restrict b, float *c, int64_t ldc,
                                                     int64_t mr, int64_t nr, float alpha, float beta,
                                                     const float *res, int64_t ldres,
                                                     const netc_gemm_job *epi, int64_t row0, int64_t col0) {
  NETC_F32_VEC acc[MR][NRV];

  netc_tile_zero(MR, nrv, NRV, acc);
  // The C tile is read (beta, later depth blocks) and written at the end;
  // its rows are far apart and rarely cached: fetch them while computing.
  for (int64_t i = 0; i < mr; i++) {
    NETC_PREFETCH_W(c + i * ldc);
    NETC_PREFETCH_W(c + i * ldc + nr - 1);
  }
  // A streams through once per column panel (see netc_tile_fma); B is one
  // packed micro-panel, rows NR apart.
  netc_tile_fma(MR, nrv, kc, a, b, NR, 0, NULL, NULL, NRV, acc);

  if (alpha != 1.0f) {
    NETC_F32_VEC va = NETC_F32_VEC_SET1(alpha);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < nrv; j++)
        acc[i][j] = NETC_F32_VEC_MUL(acc[i][j], va);
    }
  }

  // Valid floats of column register j: EPR, or fewer in an edge tile.
  int64_t nv[NRV];
  NETC_UNROLL(8)
  for (int j = 0; j < nrv; j++)
    nv[j] = NETC_MAX((int64_t)0, NETC_MIN((int64_t)EPR, nr - j * EPR));
  const int full = mr == MR && nr == nrv * EPR;

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
      for (int j = 0; j < nrv; j++) {
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
        for (int j = 0; j < nrv; j++)
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], vb);
      }
    }
    if (epi->bias_col) {
      NETC_UNROLL(8)
      for (int j = 0; j < nrv; j++) {
        NETC_F32_VEC vb;
        TILE_LOAD(vb, epi->bias_col + col0 + j * EPR, j);
        NETC_UNROLL(16)
        for (int i = 0; i < MR; i++)
          acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], vb);
      }
    }
    act = epi->act;
  }
  if (res) {
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      if (i >= mr)
        break;
      NETC_UNROLL(8)
      for (int j = 0; j < nrv; j++) {
        NETC_F32_VEC rv;
        TILE_LOAD(rv, res + i * ldres + j * EPR, j);
        acc[i][j] = NETC_F32_VEC_ADD(acc[i][j], rv);
      }
    }
  }
#undef TILE_LOAD

  // ReLU family in registers; max(0, v) keeps v's NaN (see the SIMD notes).
  const NETC_F32_VEC zero = NETC_F32_VEC_ZERO;
  if (act == NETC_ACT_RELU || act == NETC_ACT_RELU6) {
    NETC_F32_VEC six = NETC_F32_VEC_SET1(6.0f);
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < nrv; j++) {
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
      for (int j = 0; j < nrv; j++)
        acc[i][j] = NETC_F32_VEC_FMA(NETC_F32_VEC_MAX(zero, acc[i][j]), slope,
                                     NETC_F32_VEC_MIN(zero, acc[i][j]));
    }
    act = NETC_ACT_NONE;
  }

  if (full) {
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      NETC_UNROLL(8)
      for (int j = 0; j < nrv; j++)
        NETC_F32_VEC_STORE(c + i * ldc + j * EPR, acc[i][j]);
    }
  } else {
    NETC_UNROLL(16)
    for (int i = 0; i < MR; i++) {
      if (i >= mr)
        break;
      NETC_UNROLL(8)
      for (int j = 0; j < nrv; j++) {
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


// The full tile, and one register of columns (edge panels; see below).
static void micro_kernel(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                         int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta,
                         const float *res, int64_t ldres, const netc_gemm_job *epi, int64_t row0,
                         int64_t col0) {
  micro_kernel_n(NRV, kc, a, b, c, ldc, mr, nr, alpha, beta, res, ldres, epi, row0, col0);
}
#if NRV > 1
static void micro_kernel_1(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                           int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta,
                           const float *res, int64_t ldres, const netc_gemm_job *epi, int64_t row0,
                           int64_t col0) {
  micro_kernel_n(1, kc, a, b, c, ldc, mr, nr, alpha, beta, res, ldres, epi, row0, col0);
}
#endif

// One column of C (the last few columns of an edge panel): rows in the
// vector lanes, column col0 of B row p at b[p * NR]. The same sums in the
// same order as the micro-kernel's, one FMA per k instead of a tile's NRV
// per row, so an output of 49 columns costs 48 + 1 rather than 64.
#define CV ((MR + EPR - 1) / EPR)  // registers across the MR rows
static void micro_column(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                         int64_t ldc, int64_t mr, float alpha, float beta, const float *res,
                         int64_t ldres, const netc_gemm_job *epi, int64_t row0, int64_t col0) {
  NETC_F32_VEC acc[4][CV];
  int64_t nl[CV];
  NETC_UNROLL(4)
  for (int u = 0; u < 4; u++) {
    NETC_UNROLL(4)
    for (int v = 0; v < CV; v++)
      acc[u][v] = NETC_F32_VEC_ZERO;
  }
  NETC_UNROLL(4)
  for (int v = 0; v < CV; v++)
    nl[v] = NETC_MIN((int64_t)EPR, (int64_t)MR - v * EPR);
  // Four k-steps at a time in separate sums, added in the end: the tile's
  // order differs, but only by rounding.
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    NETC_UNROLL(4)
    for (int u = 0; u < 4; u++) {
      const NETC_F32_VEC bv = NETC_F32_VEC_SET1(b[(p + u) * NR]);
      NETC_UNROLL(4)
      for (int v = 0; v < CV; v++) {
        const float *ap = a + (p + u) * MR + v * EPR;
        acc[u][v] = NETC_F32_VEC_FMA(acc[u][v], bv, nl[v] == EPR ? NETC_F32_VEC_LOAD(ap) : NETC_F32_VEC_LOADN(ap, nl[v]));
      }
    }
  }
  for (; p < kc; p++) {
    const NETC_F32_VEC bv = NETC_F32_VEC_SET1(b[p * NR]);
    NETC_UNROLL(4)
    for (int v = 0; v < CV; v++) {
      const float *ap = a + p * MR + v * EPR;
      acc[0][v] = NETC_F32_VEC_FMA(acc[0][v], bv, nl[v] == EPR ? NETC_F32_VEC_LOAD(ap) : NETC_F32_VEC_LOADN(ap, nl[v]));
    }
  }
  float t[CV * NETC_F32_EPR];
  NETC_UNROLL(4)
  for (int v = 0; v < CV; v++)
    NETC_F32_VEC_STORE(t + v * EPR, NETC_F32_VEC_ADD(NETC_F32_VEC_ADD(acc[0][v], acc[1][v]),
                                                     NETC_F32_VEC_ADD(acc[2][v], acc[3][v])));
  for (int64_t i = 0; i < mr; i++) {
    float x = alpha * t[i];
    if (beta != 0.0f)
      x += beta * c[i * ldc];
    if (res)
      x += res[i * ldres];
    if (epi) {
      if (epi->bias_row)
        x += epi->bias_row[row0 + i];
      if (epi->bias_col)
        x += epi->bias_col[col0];
    }
    t[i] = x;
  }
  if (epi)
    netc_act_span_f32(epi->act, epi->act_slope, mr, t, t);
  for (int64_t i = 0; i < mr; i++)
    c[i * ldc] = t[i];
}

// Tiles of an edge panel (nr < NR columns): when the columns past the last
// whole register are few, whole registers go through a narrower kernel and
// the rest column by column.
static void edge_tile(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                      int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta, const float *res,
                      int64_t ldres, const netc_gemm_job *epi, int64_t row0, int64_t col0) {
  const int64_t whole = nr / EPR, rest = nr % EPR;
  if (rest > (EPR + 3) / 4 || whole >= NRV) {
    micro_kernel(kc, a, b, c, ldc, mr, nr, alpha, beta, res, ldres, epi, row0, col0);
    return;
  }
  int64_t done = 0;
  if (whole > 0) {
#if NRV > 1
    if (whole == 1)
      micro_kernel_1(kc, a, b, c, ldc, mr, EPR, alpha, beta, res, ldres, epi, row0, col0);
    else
#endif
      micro_kernel(kc, a, b, c, ldc, mr, whole * EPR, alpha, beta, res, ldres, epi, row0, col0);
    done = whole * EPR;
  }
  for (int64_t j = done; j < nr; j++)
    micro_column(kc, a, b + j, c + j, ldc, mr, alpha, beta, res ? res + j : NULL, ldres, epi, row0,
                 col0 + j);
}

//
// Driver
//

// K == 0 or alpha == 0: C = act(beta C + bias + res), element by element
// (res, which may be C, is read before C is written).
static void scale_only(const netc_gemm_job *job) {
  for (int64_t i = 0; i < job->m; i++) {
    float *c = job->c + i * job->ldc;
    const float br = job->bias_row ? job->bias_row[i] : 0.0f;
    for (int64_t j = 0; j < job->n; j++) {
      float v = (job->beta == 0.0f ? 0.0f : job->beta * c[j]) + br;
      if (job->bias_col)
        v += job->bias_col[j];
      if (job->res)
        v += job->res[i * job->ldres + j];
      c[j] = v;
    }
    netc_act_span_f32(job->act, job->act_slope, job->n, c, c);
  }
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
  const int64_t mr_total = netc_round_up(job->m, MR), nr_total = netc_round_up(job->n, NR);
  const int64_t mstep = job->a_packed ? (int64_t)MC : pt->mcap;
  for (int64_t jc = pt->n0; jc < pt->n1; jc += pt->ncap) {
    const int64_t nc = NETC_MIN(pt->ncap, pt->n1 - jc);
    const int64_t nb = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = NETC_MIN((int64_t)KC, k - pc);
      const float beta = pc == 0 ? job->beta : 1.0f;
      const netc_gemm_job *epi = pc + kc == k ? job : NULL;

      // B's panels for this block: packed ahead of time (a weight), or now.
      const float *bp = pt->bp;
      if (job->b_packed)
        bp = job->b_packed + netc_panel_offset(nr_total, pc, kc, jc / NR, NR);
      else
        for (int64_t q = 0; q < nb; q++)
          pack_b(job, pc, kc, jc + q * NR, NETC_MIN((int64_t)NR, nc - q * NR), pt->bp + q * kc * NR);

      for (int64_t ic = pt->m0; ic < pt->m1; ic += mstep) {
        const int64_t mc = NETC_MIN(mstep, pt->m1 - ic);
        const int64_t na = (mc + MR - 1) / MR;
        const float *ap;
        if (job->a_packed) {
          ap = job->a_packed + netc_panel_offset(mr_total, pc, kc, ic / MR, MR);
        } else {
          for (int64_t q = 0; q < na; q++)
            pack_a_panel(job->ta, job->a, job->lda, ic + q * MR, NETC_MIN((int64_t)MR, pt->m1 - ic - q * MR),
                         pc, kc, MR, pt->ap + q * kc * MR);
          ap = pt->ap;
        }
        for (int64_t jr = 0; jr < nb; jr++)
          for (int64_t ir = 0; ir < na; ir++) {
            int64_t row = ic + ir * MR, col = jc + jr * NR;
            const int64_t nr = NETC_MIN((int64_t)NR, pt->n1 - col);
            const float *res = pc == 0 && job->res ? job->res + row * job->ldres + col : NULL;
            (nr == NR ? micro_kernel : edge_tile)(kc, ap + ir * kc * MR, bp + jr * kc * NR,
                                                  job->c + row * job->ldc + col, job->ldc,
                                                  NETC_MIN((int64_t)MR, pt->m1 - row), nr, job->alpha,
                                                  beta, res, job->ldres, epi, row, col);
          }
      }
    }
  }
}

typedef struct {
  const netc_gemm_job *job;
  const gemm_part *parts;
} gemm_parts;

// Each part has its own slice of scratch, so whichever thread runs it.
static void gemm_part_chunk(void *ctx, int64_t t) {
  const gemm_parts *g = ctx;
  const gemm_part *pt = &g->parts[t];
  if (pt->m0 < pt->m1 && pt->n0 < pt->n1)
    gemm_part_run(g->job, pt);
}

// The largest share, in units of one k-step of one full micro-tile, when
// the m x n output is cut by whole panels into parts_m x parts_n
// rectangles: its tiles (the columns of an edge panel counted as they are,
// so that 49 columns do not split as 48 + 1), plus its packing (an MR-row A
// panel costs about one tile k-step per k, an NR-column B panel about two).
static double split_cost(int64_t m, int64_t n, int64_t parts_m, int64_t parts_n, int packed_a) {
  const int64_t na = (m + MR - 1) / MR, nb = (n + NR - 1) / NR;
  double worst = 0.0;
  for (int64_t tm = 0; tm < parts_m; tm++)
    for (int64_t tn = 0; tn < parts_n; tn++) {
      const int64_t r0 = na * tm / parts_m, r1 = na * (tm + 1) / parts_m;
      const int64_t c0 = NETC_MIN(n, nb * tn / parts_n * NR), c1 = NETC_MIN(n, nb * (tn + 1) / parts_n * NR);
      const double rows = (double)(r1 - r0), cols = (double)(c1 - c0) / NR;
      const double cost = rows * cols + (packed_a ? 0.0 : rows) + 2.0 * (double)((c1 - c0 + NR - 1) / NR);
      worst = NETC_MAX(worst, cost);
    }
  return worst;
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
    double by_n = split_cost(m, n, 1, threads, packed_a);
    double by_m = split_cost(m, n, threads, 1, packed_a);
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
  gemm_parts ctx = {job, parts};
  netc_parallel(threads, threads, gemm_part_chunk, &ctx);
}

void netc_gemm_f32(netc_trans ta, netc_trans tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc, float *scratch) {
  const netc_gemm_job job = {.m = M, .n = N, .k = K, .alpha = alpha, .beta = beta,
                             .a = A, .lda = lda, .ta = ta, .b = B, .ldb = ldb, .tb = tb,
                             .c = C, .ldc = ldc, .act = NETC_ACT_NONE};
  netc_gemm_run(&job, scratch);
}

void netc_gemm_packed_f32(netc_trans tb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *packed_a, const float *B, int64_t ldb, float beta,
                          float *C, int64_t ldc, float *scratch) {
  const netc_gemm_job job = {.m = M, .n = N, .k = K, .alpha = alpha, .beta = beta,
                             .a_packed = packed_a, .b = B, .ldb = ldb, .tb = tb,
                             .c = C, .ldc = ldc, .act = NETC_ACT_NONE};
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
