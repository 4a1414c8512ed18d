// netc_internal.h -- private helpers shared by the runtime's .c files.
//
// Not installed, not included by generated code. Sections:
//   pragmas        OpenMP and unroll hints that vanish when unsupported
//   SIMD mappings  one set of macros per instruction set
//   scalar helpers activation of one value, alignment, messages
//   gemm.c         the GEMM driver with a pluggable B packer and epilogue

#ifndef NETC_INTERNAL_H
#define NETC_INTERNAL_H

#include "netc_rt.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

//
// pragmas
//

#define NETC_PRAGMA(x) _Pragma(#x)

// NETC_OMP(parallel for) on the line before a loop. Expands to nothing
// without -fopenmp, so the sources compile warning-free either way.
#ifdef _OPENMP
#define NETC_OMP(x) NETC_PRAGMA(omp x)
#else
#define NETC_OMP(x)
#endif

// Full unrolling of short constant loops (the GEMM micro-kernel keeps its
// accumulator tile in registers only if these loops disappear).
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define NETC_UNROLL(n) NETC_PRAGMA(GCC unroll n)
#else
#define NETC_UNROLL(n)
#endif

#define NETC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NETC_MAX(a, b) ((a) > (b) ? (a) : (b))

//
// SIMD mappings
//
// Kernels are written once against these macros (after ggml's
// src/ggml-cpu/simd-mappings.h) and get the widest vectors the compiler
// was told about (-march=...):
//
//   NETC_SIMD_NAME               "avx512", "avx2", "neon" or "scalar"
//   NETC_F32_EPR                 floats per register
//   NETC_F32_VEC                 the register type
//   NETC_F32_VEC_ZERO            all lanes 0
//   NETC_F32_VEC_SET1(x)         all lanes x
//   NETC_F32_VEC_LOAD(p)         EPR floats from p (no alignment needed)
//   NETC_F32_VEC_STORE(p, v)
//   NETC_F32_VEC_FMA(a, b, c)    a + b * c
//   NETC_F32_VEC_ADD/SUB/MUL/DIV(a, b)
//   NETC_F32_VEC_MAX(a, b)       a > b ? a : b, so b is returned when either is NaN:
//   NETC_F32_VEC_MIN(a, b)       a < b ? a : b  put the value whose NaN must survive second
//   NETC_F32_VEC_REDUCE(v)       sum of the lanes, as a float
//   NETC_F32_VEC_UNZIP(lo, hi, ev, od)  split the 2*EPR floats lo:hi into
//                                the even-indexed (ev) and odd-indexed (od) ones
//
// A kernel's main loop steps by NETC_F32_EPR (or a multiple) and a scalar
// loop finishes the leftover elements.

#if defined(__AVX512F__)

#include <immintrin.h>

#define NETC_SIMD_NAME "avx512"
#define NETC_F32_EPR 16
#define NETC_F32_VEC __m512
#define NETC_F32_VEC_ZERO _mm512_setzero_ps()
#define NETC_F32_VEC_SET1(x) _mm512_set1_ps(x)
#define NETC_F32_VEC_LOAD(p) _mm512_loadu_ps(p)
#define NETC_F32_VEC_STORE(p, v) _mm512_storeu_ps(p, v)
#define NETC_F32_VEC_FMA(a, b, c) _mm512_fmadd_ps(b, c, a)
#define NETC_F32_VEC_ADD(a, b) _mm512_add_ps(a, b)
#define NETC_F32_VEC_SUB(a, b) _mm512_sub_ps(a, b)
#define NETC_F32_VEC_MUL(a, b) _mm512_mul_ps(a, b)
#define NETC_F32_VEC_DIV(a, b) _mm512_div_ps(a, b)
#define NETC_F32_VEC_MAX(a, b) _mm512_max_ps(a, b)
#define NETC_F32_VEC_MIN(a, b) _mm512_min_ps(a, b)
#define NETC_F32_VEC_REDUCE(v) _mm512_reduce_add_ps(v)
#define NETC_F32_VEC_UNZIP(lo, hi, ev, od)                                                     \
  do {                                                                                         \
    (ev) = _mm512_permutex2var_ps(lo, _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, \
                                                       10, 8, 6, 4, 2, 0), hi);                \
    (od) = _mm512_permutex2var_ps(lo, _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, \
                                                       11, 9, 7, 5, 3, 1), hi);                \
  } while (0)

#elif defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

static inline float netc_avx_reduce(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#define NETC_SIMD_NAME "avx2"
#define NETC_F32_EPR 8
#define NETC_F32_VEC __m256
#define NETC_F32_VEC_ZERO _mm256_setzero_ps()
#define NETC_F32_VEC_SET1(x) _mm256_set1_ps(x)
#define NETC_F32_VEC_LOAD(p) _mm256_loadu_ps(p)
#define NETC_F32_VEC_STORE(p, v) _mm256_storeu_ps(p, v)
#define NETC_F32_VEC_FMA(a, b, c) _mm256_fmadd_ps(b, c, a)
#define NETC_F32_VEC_ADD(a, b) _mm256_add_ps(a, b)
#define NETC_F32_VEC_SUB(a, b) _mm256_sub_ps(a, b)
#define NETC_F32_VEC_MUL(a, b) _mm256_mul_ps(a, b)
#define NETC_F32_VEC_DIV(a, b) _mm256_div_ps(a, b)
#define NETC_F32_VEC_MAX(a, b) _mm256_max_ps(a, b)
#define NETC_F32_VEC_MIN(a, b) _mm256_min_ps(a, b)
#define NETC_F32_VEC_REDUCE(v) netc_avx_reduce(v)
// shuffle_ps picks evens (odds) of each 128-bit lane of lo and hi; the
// 64-bit permute then puts lo's before hi's.
#define NETC_F32_VEC_UNZIP(lo, hi, ev, od)                                                     \
  do {                                                                                         \
    (ev) = _mm256_castpd_ps(_mm256_permute4x64_pd(                                            \
        _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0))); \
    (od) = _mm256_castpd_ps(_mm256_permute4x64_pd(                                            \
        _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0))); \
  } while (0)

#elif defined(__ARM_NEON) && defined(__aarch64__)

#include <arm_neon.h>

// NEON's vmaxq/vminq return NaN when either input is NaN, which satisfies
// the "b's NaN survives" rule above (and a's too).
#define NETC_SIMD_NAME "neon"
#define NETC_F32_EPR 4
#define NETC_F32_VEC float32x4_t
#define NETC_F32_VEC_ZERO vdupq_n_f32(0.0f)
#define NETC_F32_VEC_SET1(x) vdupq_n_f32(x)
#define NETC_F32_VEC_LOAD(p) vld1q_f32(p)
#define NETC_F32_VEC_STORE(p, v) vst1q_f32(p, v)
#define NETC_F32_VEC_FMA(a, b, c) vfmaq_f32(a, b, c)
#define NETC_F32_VEC_ADD(a, b) vaddq_f32(a, b)
#define NETC_F32_VEC_SUB(a, b) vsubq_f32(a, b)
#define NETC_F32_VEC_MUL(a, b) vmulq_f32(a, b)
#define NETC_F32_VEC_DIV(a, b) vdivq_f32(a, b)
#define NETC_F32_VEC_MAX(a, b) vmaxq_f32(a, b)
#define NETC_F32_VEC_MIN(a, b) vminq_f32(a, b)
#define NETC_F32_VEC_REDUCE(v) vaddvq_f32(v)
#define NETC_F32_VEC_UNZIP(lo, hi, ev, od) \
  do {                                     \
    (ev) = vuzp1q_f32(lo, hi);             \
    (od) = vuzp2q_f32(lo, hi);             \
  } while (0)

#else

// Scalar: one float per "register". The kernels' unrolled tiles still give
// the compiler independent chains to schedule or vectorise.
#define NETC_SIMD_NAME "scalar"
#define NETC_F32_EPR 1
#define NETC_F32_VEC float
#define NETC_F32_VEC_ZERO 0.0f
#define NETC_F32_VEC_SET1(x) (x)
#define NETC_F32_VEC_LOAD(p) (*(p))
#define NETC_F32_VEC_STORE(p, v) (*(p) = (v))
#define NETC_F32_VEC_FMA(a, b, c) ((a) + (b) * (c))
#define NETC_F32_VEC_ADD(a, b) ((a) + (b))
#define NETC_F32_VEC_SUB(a, b) ((a) - (b))
#define NETC_F32_VEC_MUL(a, b) ((a) * (b))
#define NETC_F32_VEC_DIV(a, b) ((a) / (b))
#define NETC_F32_VEC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define NETC_F32_VEC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NETC_F32_VEC_REDUCE(v) (v)
#define NETC_F32_VEC_UNZIP(lo, hi, ev, od) \
  do {                                     \
    (ev) = (lo);                           \
    (od) = (hi);                           \
  } while (0)

#endif

// GEMM micro-tile: NETC_GEMM_MR rows of C by NETC_GEMM_NRV registers
// (NETC_GEMM_NR = NRV * EPR columns), held in registers for a whole
// KC-long block. KC sizes the B micro-panel (KC x NR) to stay in L1, MC the
// packed A block (MC x KC) for L2, NC the packed B block (KC x NC) for L3.
// All can be overridden with -D for tuning.
#if defined(__AVX512F__)
#define NETC_GEMM_MR_DEFAULT 12    // 24 accumulators + 2 B registers + 1 broadcast of 32
#define NETC_GEMM_NRV_DEFAULT 2
#elif defined(__AVX2__) && defined(__FMA__)
#define NETC_GEMM_MR_DEFAULT 6     // 12 accumulators + 2 + 1 of 16
#define NETC_GEMM_NRV_DEFAULT 2
#elif defined(__ARM_NEON) && defined(__aarch64__)
#define NETC_GEMM_MR_DEFAULT 8     // 24 accumulators + 3 + 1 of 32
#define NETC_GEMM_NRV_DEFAULT 3
#else
#define NETC_GEMM_MR_DEFAULT 4
#define NETC_GEMM_NRV_DEFAULT 8
#endif

#ifndef NETC_GEMM_MR
#define NETC_GEMM_MR NETC_GEMM_MR_DEFAULT
#endif
#ifndef NETC_GEMM_NRV
#define NETC_GEMM_NRV NETC_GEMM_NRV_DEFAULT
#endif
#define NETC_GEMM_NR (NETC_GEMM_NRV * NETC_F32_EPR)
#ifndef NETC_GEMM_KC
#define NETC_GEMM_KC 256
#endif
#ifndef NETC_GEMM_MC
#define NETC_GEMM_MC (NETC_GEMM_MR * 24)
#endif
#ifndef NETC_GEMM_NC
#define NETC_GEMM_NC (NETC_GEMM_NR * 128)
#endif

// Bounds behind the public, architecture-independent scratch formula
// (netc_gemm_scratch_floats): any tuning must stay within them so that a
// size computed by the compiler fits every build of the runtime.
#define NETC_GEMM_KC_MAX 256
#define NETC_GEMM_MC_MAX 512
#define NETC_GEMM_NC_MAX 4096
#define NETC_GEMM_TILE_MAX 64       // MR and NR

// C99 static assertion at file scope.
#define NETC_STATIC_ASSERT(cond, name) typedef char netc_static_assert_##name[(cond) ? 1 : -1]

//
// scalar helpers
//

#define NETC_SQRT1_2 0.70710678118654752440   // 1 / sqrt(2)
#define NETC_SQRT_2_OVER_PI 0.79788456080286535588

// One activation, the definition used by every fast kernel's epilogue.
static inline float netc_act1(netc_act act, float slope, float x) {
  switch (act) {
  case NETC_ACT_NONE: return x;
  case NETC_ACT_RELU: return x < 0.0f ? 0.0f : x;
  case NETC_ACT_RELU6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
  case NETC_ACT_LEAKY_RELU: return x < 0.0f ? slope * x : x;
  case NETC_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case NETC_ACT_TANH: return tanhf(x);
  case NETC_ACT_GELU: return 0.5f * x * (1.0f + erff(x * (float)NETC_SQRT1_2));
  case NETC_ACT_GELU_TANH: {
    float inner = (float)NETC_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + tanhf(inner));
  }
  case NETC_ACT_COUNT: break;
  }
  assert(!"bad activation");
  return x;
}

// Round p up to a 64-byte boundary (scratch sizes include 16 floats of slack
// for each buffer aligned this way).
static inline float *netc_align64(float *p) {
  uintptr_t u = (uintptr_t)p;
  return (float *)(void *)((char *)p + ((64 - (u & 63)) & 63));
}

static inline int64_t netc_round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// floor(a / b) and ceil(a / b) for b > 0 and any sign of a.
static inline int64_t netc_floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static inline int64_t netc_ceil_div(int64_t a, int64_t b) { return -netc_floor_div(-a, b); }

// vsnprintf into err (if errlen > 0) and return -1; the runtime's one way to
// report a user-level error.
int32_t netc_errorf(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

//
// elementwise.c
//

// netc_act_f32 on the calling thread only (for kernels that are already
// inside a parallel loop).
void netc_act_span_f32(netc_act act, float slope, int64_t count, const float *x, float *y);

//
// gemm.c: the driver behind netc_gemm_f32, conv, conv_transpose and linear
//

typedef struct netc_gemm_job netc_gemm_job;

// Writes columns [j0, j0 + nc) of rows [k0, k0 + kc) of op(B) into dst as
// ceil(nc / NR) micro-panels, each kc rows of NR floats (row p of panel q at
// dst + q * kc * NR + p * NR), zero-filling columns past nc.
typedef void (*netc_pack_b_fn)(const netc_gemm_job *job, int64_t k0, int64_t kc,
                               int64_t j0, int64_t nc, float *dst);

// C = act(alpha op(A) op(B) + beta C + bias), one call of netc_gemm_run.
struct netc_gemm_job {
  int64_t m, n, k;
  float alpha, beta;
  const float *a;           // op(A) is m x k
  int64_t lda;
  netc_trans ta;
  const float *b;           // op(B) is k x n (used by the default packer)
  int64_t ldb;
  netc_trans tb;
  netc_pack_b_fn pack_b;    // NULL: pack from b / ldb / tb
  const void *b_ctx;        // for a custom packer (conv's implicit im2col)
  float *c;                 // m x n, row stride ldc
  int64_t ldc;
  const float *bias_row;    // [m]: added to every element of row i, or NULL
  const float *bias_col;    // [n]: added to every element of column j, or NULL
  netc_act act;             // applied last, after bias
  float act_slope;
};

void netc_gemm_run(const netc_gemm_job *job, float *scratch);
// The packer for B stored as a matrix (tb / ldb); custom packers may call it.
void netc_gemm_pack_b_matrix(const netc_gemm_job *job, int64_t k0, int64_t kc,
                             int64_t j0, int64_t nc, float *dst);

#endif // NETC_INTERNAL_H
