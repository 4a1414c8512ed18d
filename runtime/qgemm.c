// qgemm.c -- the int8 GEMM: int32 sums of u8 (activations, packed 4 k per
// column by the caller) times s8 (weights [M][K4] as stored), each row
// requantized to u8 in the epilogue.
//
// Requires: netc_internal.h (netc_qgemm_out, the packed layout, NETC_MIN).
// Provides: netc_qgemm_rows, for qconv.c's convolutions and linear layers.
//
// One tile is 4 rows (output channels) by 64 columns (pixels). The three
// instruction sets compute the same integers in different orders (integer
// addition is associative), so every build is bit-identical to the
// reference kernels:
//   AVX-512 VNNI  vpdpbusd: each 32-bit lane adds the 4 products of one
//                 column's 4 packed k with one row's 4 broadcast weights;
//   AVX2          widen both to 16 bits and vpmaddwd (pairs of products in
//                 32 bits). vpmaddubsw would take u8 x s8 directly but
//                 saturates its pair sums at int16 (255 * 127 * 2 > 32767);
//   C             the sum as written.

#include "netc_internal.h"

#if defined(__AVX512VNNI__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#define MR 4

#if defined(__AVX512VNNI__) || defined(__AVX2__)
// 4 weights as one 32-bit word (to broadcast them).
static inline int32_t load4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512F__)

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

// t[r][0 .. 16 nv) = sums over the kb4 groups of 4 k for rows w[r], columns
// from b; nv is a constant at each call (the accumulators stay in registers).
static ALWAYS_INLINE void tile_nv(const int8_t *const w[MR], const uint8_t *b, int64_t n64, int64_t kb4,
                                  int32_t t[MR][NETC_QGEMM_NR], const int nv) {
  __m512i c[MR][4], bv[4];
  NETC_UNROLL(4)
  for (int r = 0; r < MR; r++)
    NETC_UNROLL(4)
    for (int j = 0; j < nv; j++)
      c[r][j] = _mm512_setzero_si512();
  for (int64_t kb = 0; kb < kb4; kb++) {
    const uint8_t *bk = b + kb * n64 * 4;
    NETC_UNROLL(4)
    for (int j = 0; j < nv; j++)
      bv[j] = _mm512_loadu_si512((const void *)(bk + 64 * j));
    NETC_UNROLL(4)
    for (int r = 0; r < MR; r++) {
      __m512i a = _mm512_set1_epi32(load4(w[r] + kb * 4));
      NETC_UNROLL(4)
      for (int j = 0; j < nv; j++)
        c[r][j] = _mm512_dpbusd_epi32(c[r][j], bv[j], a);
    }
  }
  NETC_UNROLL(4)
  for (int r = 0; r < MR; r++)
    NETC_UNROLL(4)
    for (int j = 0; j < nv; j++)
      _mm512_storeu_si512((void *)(t[r] + 16 * j), c[r][j]);
}

// The first `cols` columns (and up to 15 more) of the tile: narrow matrices
// (a linear layer's batch) do not pay for 64.
static void tile(const int8_t *const w[MR], const uint8_t *b, int64_t n64, int64_t kb4,
                 int32_t t[MR][NETC_QGEMM_NR], int64_t cols) {
  switch ((cols + 15) / 16) {
  case 1: tile_nv(w, b, n64, kb4, t, 1); break;
  case 2: tile_nv(w, b, n64, kb4, t, 2); break;
  case 3: tile_nv(w, b, n64, kb4, t, 3); break;
  default: tile_nv(w, b, n64, kb4, t, 4); break;
  }
}

#elif defined(__AVX2__)

// As above, eight columns at a time: the 32 bytes of 8 columns widen to two
// registers of 4 columns x 4 k in int16; vpmaddwd against the row's 4
// weights (int16, repeated) leaves 2 partial sums per column, which one
// vphaddd and a lane permutation put back in column order.
static void tile(const int8_t *const w[MR], const uint8_t *b, int64_t n64, int64_t kb4,
                 int32_t t[MR][NETC_QGEMM_NR], int64_t cols) {
  for (int g = 0; g < (cols + 7) / 8; g++) {
    __m256i lo[MR], hi[MR];
    NETC_UNROLL(4)
    for (int r = 0; r < MR; r++)
      lo[r] = hi[r] = _mm256_setzero_si256();
    for (int64_t kb = 0; kb < kb4; kb++) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(b + (kb * n64 + 8 * g) * 4));
      __m256i v0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v));
      __m256i v1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1));
      NETC_UNROLL(4)
      for (int r = 0; r < MR; r++) {
        __m128i w4 = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(load4(w[r] + kb * 4)));
        __m256i a = _mm256_broadcastq_epi64(w4);
        lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(v0, a));
        hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(v1, a));
      }
    }
    NETC_UNROLL(4)
    for (int r = 0; r < MR; r++) {
      // hadd: [c0 c1 c4 c5 | c2 c3 c6 c7] -> 64-bit lanes 0, 2, 1, 3.
      __m256i s = _mm256_hadd_epi32(lo[r], hi[r]);
      s = _mm256_permute4x64_epi64(s, 0xD8);
      _mm256_storeu_si256((__m256i *)(t[r] + 8 * g), s);
    }
  }
}

#else

static void tile(const int8_t *const w[MR], const uint8_t *b, int64_t n64, int64_t kb4,
                 int32_t t[MR][NETC_QGEMM_NR], int64_t cols) {
  for (int r = 0; r < MR; r++)
    for (int n = 0; n < cols; n++)
      t[r][n] = 0;
  for (int64_t kb = 0; kb < kb4; kb++) {
    const uint8_t *bk = b + kb * n64 * 4;
    for (int r = 0; r < MR; r++) {
      const int8_t *wk = w[r] + kb * 4;
      int32_t w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3];
      for (int n = 0; n < cols; n++)
        t[r][n] += bk[4 * n] * w0 + bk[4 * n + 1] * w1 + bk[4 * n + 2] * w2 + bk[4 * n + 3] * w3;
    }
  }
}

#endif

// Requantizes cnt sums of row m to o->y (bias added here: the tiles start at 0).
static void store_row(const netc_qgemm_out *o, int64_t m, int64_t n0, int64_t cnt, const int32_t *t) {
  const int32_t bias = o->bias ? o->bias[m] : 0;
  const netc_requant rq = o->rq[m];
  uint8_t *y = o->y + m * o->ldm + n0 * o->ldn;
  if (o->ldn == 1) {
    netc_qstore_row(cnt, t, bias, rq, o->zp, o->lo, o->hi, y);
    return;
  }
  for (int64_t n = 0; n < cnt; n++) {
    // Unsigned addition: wraps like the reference's int32 sum would, without UB.
    int32_t acc = (int32_t)((uint32_t)t[n] + (uint32_t)bias);
    int64_t v = (int64_t)o->zp + netc_requant_apply(acc, rq);
    v = v < o->lo ? o->lo : v > o->hi ? o->hi : v;
    y[n * o->ldn] = (uint8_t)v;
  }
}

void netc_qgemm_rows(int64_t m0, int64_t m1, int64_t N, int64_t K4, const int8_t *w,
                     const uint8_t *b, const netc_qgemm_out *o) {
  const int64_t n64 = netc_qgemm_n64(N), kb4 = K4 / 4;
  int32_t t[MR][NETC_QGEMM_NR];
  // Columns outside: one panel of B (K4 x 64 bytes) is read by every row
  // tile while it is in cache, and the rows' weights stay in cache across
  // panels (the caller keeps m1 - m0 moderate). Rows inside the panel loop
  // would stream all of B once per 4 rows.
  for (int64_t n0 = 0; n0 < N; n0 += NETC_QGEMM_NR) {
    const int64_t cols = NETC_MIN((int64_t)NETC_QGEMM_NR, N - n0);
    for (int64_t m = m0; m < m1; m += MR) {
      // Rows past m1 repeat the last one (computed, never stored).
      const int8_t *wr[MR];
      for (int r = 0; r < MR; r++)
        wr[r] = w + NETC_MIN(m + r, m1 - 1) * K4;
      tile(wr, b + n0 * 4, n64, kb4, t, cols);
      for (int r = 0; r < MR && m + r < m1; r++)
        store_row(o, m + r, n0, cols, t[r]);
    }
  }
}
