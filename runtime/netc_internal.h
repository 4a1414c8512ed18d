// netc_internal.h -- private helpers shared by the runtime's .c files.
//
// Not installed, not included by generated code. Sections:
//   pragmas        OpenMP, unroll and prefetch hints that vanish when unsupported
//   SIMD mappings  one set of macros per instruction set; GEMM tile sizes
//   scalar helpers constants, alignment, messages
//   vector math    exp, sigmoid, tanh, GELU on a register; netc_act_vec
//   vector spans   fill, copy and lane moves of short spans
//   common.c       netc_parallel, the one parallel loop of the runtime
//   elementwise.c  single-thread spans for kernels already inside a thread
//   gemm.c         the GEMM driver with a pluggable B packer, pre-packed A
//                  and an epilogue (bias, residual, activation)
//   register tile  the FMA loop of the GEMM, direct and Winograd kernels
//   winograd.c     the Winograd path of conv.c
//   conv paths     the depthwise and direct paths of conv.c

#ifndef NETC_INTERNAL_H
#define NETC_INTERNAL_H

#include "netc_rt.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

// Prefetch the cache line at p for writing or reading (a hint; nothing
// without GCC/Clang; the address need not be valid).
#if defined(__GNUC__) || defined(__clang__)
#define NETC_PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#define NETC_PREFETCH_R(p) __builtin_prefetch((p), 0, 3)
#else
#define NETC_PREFETCH_W(p) ((void)(p))
#define NETC_PREFETCH_R(p) ((void)(p))
#endif

// 64-byte alignment of a local array (aligned vector loads and stores).
#if defined(__GNUC__) || defined(__clang__)
#define NETC_ALIGN64 __attribute__((aligned(64)))
#else
#define NETC_ALIGN64
#endif

// Force inlining where a kernel's constant tile shape must reach the loops
// (GCC and Clang; elsewhere the static inline hint alone).
#if defined(__GNUC__) || defined(__clang__)
#define NETC_ALWAYS_INLINE __attribute__((always_inline))
#else
#define NETC_ALWAYS_INLINE
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
//   NETC_F32_VEC_MAXNAN(a, b)    max that is NaN when either is (max pooling)
//   NETC_F32_VEC_LOADN(p, n)     the first n < EPR lanes from p, the rest 0
//   NETC_F32_VEC_STOREN(p, v, n) the first n < EPR lanes of v to p
//                                (masked on AVX-512 / AVX2: nothing past p + n
//                                is touched)
//   NETC_F32_VEC_ROUND, _POW2I, _ABS, _COPYSIGN, _SELECT_LT: for the vector
//                                math below (exp, sigmoid, tanh, GELU)
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

// Vector math helpers (see "vector math" below): round to nearest, 2^n for
// integral n in [-126, 127], |x|, mag with the sign of s (mag >= 0), and a
// lane select x where a < b else y; partial loads / stores of n < EPR floats.
#define NETC_F32_VEC_ROUND(x) _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define NETC_F32_VEC_POW2I(n) \
  _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
#define NETC_F32_VEC_ABS(x) _mm512_abs_ps(x)
#define NETC_F32_VEC_COPYSIGN(mag, s)                                    \
  _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(mag),          \
                                      _mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32(INT32_MIN))))
#define NETC_F32_VEC_SELECT_LT(a, b, x, y) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x)
// max(a, b) that returns NaN when either is NaN (max pooling).
#define NETC_F32_VEC_MAXNAN(a, b) \
  _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), _mm512_max_ps(a, b), a)
// 1 / x for finite x > 0 (to an ulp or two): the 14-bit estimate and one
// Newton step, cheaper than a division (sigmoid, tanh).
static inline __m512 netc_avx512_recip(__m512 x) {
  __m512 r = _mm512_rcp14_ps(x);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(x, r, _mm512_set1_ps(1.0f)), r);
}
#define NETC_F32_VEC_RECIP(x) netc_avx512_recip(x)
#define NETC_F32_VEC_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), p)
#define NETC_F32_VEC_STOREN(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1u), v)

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

#define NETC_F32_VEC_ROUND(x) _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define NETC_F32_VEC_POW2I(n) \
  _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))
#define NETC_F32_VEC_ABS(x) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x)
#define NETC_F32_VEC_COPYSIGN(mag, s) _mm256_or_ps(mag, _mm256_and_ps(s, _mm256_set1_ps(-0.0f)))
#define NETC_F32_VEC_SELECT_LT(a, b, x, y) _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ))
#define NETC_F32_VEC_MAXNAN(a, b) _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q))
static inline __m256i netc_avx_maskn(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define NETC_F32_VEC_LOADN(p, n) _mm256_maskload_ps(p, netc_avx_maskn(n))
#define NETC_F32_VEC_STOREN(p, v, n) _mm256_maskstore_ps(p, netc_avx_maskn(n), v)

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

#define NETC_F32_VEC_ROUND(x) vrndnq_f32(x)
#define NETC_F32_VEC_POW2I(n) \
  vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23))
#define NETC_F32_VEC_ABS(x) vabsq_f32(x)
#define NETC_F32_VEC_COPYSIGN(mag, s) vbslq_f32(vdupq_n_u32(0x80000000u), s, mag)
#define NETC_F32_VEC_SELECT_LT(a, b, x, y) vbslq_f32(vcltq_f32(a, b), x, y)
#define NETC_F32_VEC_MAXNAN(a, b) vmaxq_f32(a, b)
static inline float32x4_t netc_neon_loadn(const float *p, int64_t n) {
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int64_t i = 0; i < n; i++)
    t[i] = p[i];
  return vld1q_f32(t);
}
static inline void netc_neon_storen(float *p, float32x4_t v, int64_t n) {
  float t[4];
  vst1q_f32(t, v);
  for (int64_t i = 0; i < n; i++)
    p[i] = t[i];
}
#define NETC_F32_VEC_LOADN(p, n) netc_neon_loadn(p, n)
#define NETC_F32_VEC_STOREN(p, v, n) netc_neon_storen(p, v, n)

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

static inline float netc_pow2i_scalar(float n) {
  int32_t e = n == n ? (int32_t)n + 127 : 0;  // NaN: any finite factor (the value is NaN already)
  uint32_t bits = (uint32_t)e << 23;
  float r;
  memcpy(&r, &bits, sizeof r);
  return r;
}
#define NETC_F32_VEC_ROUND(x) rintf(x)
#define NETC_F32_VEC_POW2I(n) netc_pow2i_scalar(n)
#define NETC_F32_VEC_ABS(x) fabsf(x)
#define NETC_F32_VEC_COPYSIGN(mag, s) copysignf(mag, s)
#define NETC_F32_VEC_SELECT_LT(a, b, x, y) ((a) < (b) ? (x) : (y))
#define NETC_F32_VEC_MAXNAN(a, b) ((a) != (a) ? (a) : (a) > (b) ? (a) : (b))
#define NETC_F32_VEC_LOADN(p, n) ((n) > 0 ? *(p) : 0.0f)
#define NETC_F32_VEC_STOREN(p, v, n) \
  do {                               \
    if ((n) > 0)                     \
      *(p) = (v);                    \
  } while (0)

#endif

// GEMM micro-tile: NETC_GEMM_MR rows of C by NETC_GEMM_NRV registers
// (NETC_GEMM_NR = NRV * EPR columns), held in registers for a whole
// KC-long block. KC sizes the B micro-panel (KC x NR) to stay in L1, MC the
// packed A block (MC x KC) for L2, NC the packed B block (KC x NC) for L3.
// All can be overridden with -D for tuning.
#if defined(__AVX512F__)
// 8 x 48: 24 accumulators + 3 B registers + 1 broadcast of 32. Measured on
// Zen 5 against 12 x 32: equal on large GEMMs, 2-4% faster on whole
// networks (out_c of 16, 32, 64 fill 8-row panels; 49 = 48 + 1 columns).
#define NETC_GEMM_MR_DEFAULT 8
#define NETC_GEMM_NRV_DEFAULT 3
#define NETC_GEMM_MC_DEFAULT 288
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
#ifndef NETC_GEMM_MC_DEFAULT
#define NETC_GEMM_MC_DEFAULT (NETC_GEMM_MR * 24)
#endif
#ifndef NETC_GEMM_MC
#define NETC_GEMM_MC NETC_GEMM_MC_DEFAULT
#endif
#ifndef NETC_GEMM_NC
#define NETC_GEMM_NC (4096 / NETC_GEMM_NR * NETC_GEMM_NR)
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

//
// vector math
//
// exp, sigmoid, tanh and the two GELUs on one register, for the
// activations of every kernel (netc_act_vec). Accuracy against double
// precision, measured on every 61st float: exp 1.3 ulp, sigmoid 3 ulp, tanh
// 1.3 ulp; both GELUs 2e-6 relative where |y| > 1e-6 (deep in the negative
// tail, where rounding x^2 costs relative accuracy) and below 1e-35
// absolute elsewhere. NaN propagates.
//
//   exp(x):  x clamped to [-87.3, 88] (results stay normal, finite); x =
//            n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2 (ln2 in two
//            parts, Cody-Waite); exp(r) by Cephes' degree-7 polynomial; the
//            2^n scaling goes straight into the exponent bits.
//   sigmoid: 1 / (1 + exp(-x)).
//   tanh:    |x| < 0.625: x + x^3 P(x^2) (Cephes tanhf); else
//            sign(x) (1 - 2 / (exp(2|x|) + 1)).
//   gelu:    x/2 (1 + erf(u)), u = x / sqrt 2, written with
//            c = erfc(|u|) = exp(-u^2) R(t), t = 1 / (1 + |u| / 2), R a
//            degree-10 polynomial fitted to erfc(u) exp(u^2) on t in (0, 1]:
//            x >= 0: x/2 (2 - c), x < 0: x/2 c (no cancellation for x << 0).
//   gelu_tanh: x/2 (1 + tanh(z)) = x / (1 + exp(-2z)), z = sqrt(2/pi)(x + 0.044715 x^3);
//            0 below x = -10.

#ifndef NETC_F32_VEC_RECIP
#define NETC_F32_VEC_RECIP(x) NETC_F32_VEC_DIV(NETC_F32_VEC_SET1(1.0f), x)
#endif

static inline NETC_F32_VEC netc_vexp(NETC_F32_VEC x) {
  // MIN / MAX keep x's NaN (it is the second operand).
  x = NETC_F32_VEC_MIN(NETC_F32_VEC_SET1(88.0f), x);
  x = NETC_F32_VEC_MAX(NETC_F32_VEC_SET1(-87.3f), x);
  NETC_F32_VEC n = NETC_F32_VEC_ROUND(NETC_F32_VEC_MUL(x, NETC_F32_VEC_SET1(1.44269504088896341f)));
  NETC_F32_VEC r = NETC_F32_VEC_FMA(x, n, NETC_F32_VEC_SET1(-0.693359375f));
  r = NETC_F32_VEC_FMA(r, n, NETC_F32_VEC_SET1(2.12194440e-4f));
  NETC_F32_VEC p = NETC_F32_VEC_SET1(1.9875691500e-4f);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(1.3981999507e-3f), p, r);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(8.3334519073e-3f), p, r);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(4.1665795894e-2f), p, r);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(1.6666665459e-1f), p, r);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(5.0000001201e-1f), p, r);
  NETC_F32_VEC r2 = NETC_F32_VEC_MUL(r, r);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_ADD(r, NETC_F32_VEC_SET1(1.0f)), p, r2);
  return NETC_F32_VEC_MUL(p, NETC_F32_VEC_POW2I(n));
}

static inline NETC_F32_VEC netc_vsigmoid(NETC_F32_VEC x) {
  const NETC_F32_VEC one = NETC_F32_VEC_SET1(1.0f);
  // 1 + exp(-x) is finite (exp is clamped): a reciprocal will do.
  return NETC_F32_VEC_RECIP(NETC_F32_VEC_ADD(one, netc_vexp(NETC_F32_VEC_SUB(NETC_F32_VEC_ZERO, x))));
}

static inline NETC_F32_VEC netc_vtanh(NETC_F32_VEC x) {
  const NETC_F32_VEC one = NETC_F32_VEC_SET1(1.0f);
  NETC_F32_VEC a = NETC_F32_VEC_ABS(x);
  NETC_F32_VEC e = netc_vexp(NETC_F32_VEC_ADD(a, a));
  NETC_F32_VEC big = NETC_F32_VEC_SUB(one, NETC_F32_VEC_MUL(NETC_F32_VEC_SET1(2.0f), NETC_F32_VEC_RECIP(NETC_F32_VEC_ADD(e, one))));
  big = NETC_F32_VEC_COPYSIGN(big, x);
  NETC_F32_VEC z = NETC_F32_VEC_MUL(x, x);
  NETC_F32_VEC p = NETC_F32_VEC_SET1(-5.70498872745e-3f);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(2.06390887954e-2f), p, z);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(-5.37397155531e-2f), p, z);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(1.33314422036e-1f), p, z);
  p = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(-3.33332819422e-1f), p, z);
  NETC_F32_VEC small = NETC_F32_VEC_FMA(x, NETC_F32_VEC_MUL(p, z), x);
  return NETC_F32_VEC_SELECT_LT(a, NETC_F32_VEC_SET1(0.625f), small, big);
}

static inline NETC_F32_VEC netc_vgelu(NETC_F32_VEC x) {
  const NETC_F32_VEC half = NETC_F32_VEC_SET1(0.5f), one = NETC_F32_VEC_SET1(1.0f);
  NETC_F32_VEC u = NETC_F32_VEC_MUL(NETC_F32_VEC_ABS(x), NETC_F32_VEC_SET1((float)NETC_SQRT1_2));
  NETC_F32_VEC t = NETC_F32_VEC_DIV(one, NETC_F32_VEC_FMA(one, half, u));
  NETC_F32_VEC r = NETC_F32_VEC_SET1(4.327579555e-02f);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(-2.351370480e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(4.945569409e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(-4.559954186e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(1.329100962e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(-5.953789317e-02f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(9.355130182e-02f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(1.753020199e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(2.468856979e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(2.820937166e-01f), r, t);
  r = NETC_F32_VEC_FMA(NETC_F32_VEC_SET1(2.820947957e-01f), r, t);
  r = NETC_F32_VEC_MUL(r, t);
  NETC_F32_VEC c = NETC_F32_VEC_MUL(netc_vexp(NETC_F32_VEC_SUB(NETC_F32_VEC_ZERO, NETC_F32_VEC_MUL(u, u))), r);
  // x < 0: x/2 c; else x/2 (2 - c).
  NETC_F32_VEC f = NETC_F32_VEC_SELECT_LT(x, NETC_F32_VEC_ZERO, c, NETC_F32_VEC_SUB(NETC_F32_VEC_SET1(2.0f), c));
  return NETC_F32_VEC_MUL(NETC_F32_VEC_MUL(half, x), f);
}

static inline NETC_F32_VEC netc_vgelu_tanh(NETC_F32_VEC x) {
  NETC_F32_VEC x3 = NETC_F32_VEC_MUL(NETC_F32_VEC_MUL(x, x), x);
  NETC_F32_VEC z = NETC_F32_VEC_MUL(NETC_F32_VEC_SET1((float)NETC_SQRT_2_OVER_PI),
                                    NETC_F32_VEC_FMA(x, NETC_F32_VEC_SET1(0.044715f), x3));
  NETC_F32_VEC e = netc_vexp(NETC_F32_VEC_MUL(NETC_F32_VEC_SET1(-2.0f), z));
  NETC_F32_VEC g = NETC_F32_VEC_DIV(x, NETC_F32_VEC_ADD(NETC_F32_VEC_SET1(1.0f), e));
  // Below -10 the true value is under 1e-36 but exp's clamp would leave
  // x / 1.7e38: 0 x instead (-0, or NaN at -inf as in the formula).
  return NETC_F32_VEC_SELECT_LT(x, NETC_F32_VEC_SET1(-10.0f), NETC_F32_VEC_MUL(NETC_F32_VEC_ZERO, x), g);
}

// silu: x sigmoid(x). Below x = -88 the true value is under 1e-36 but
// exp's clamp would leave x / 1.7e38: 0 x instead (-0, and NaN at -inf, as
// PyTorch's x * sigmoid(x) gives).
static inline NETC_F32_VEC netc_vsilu(NETC_F32_VEC x) {
  return NETC_F32_VEC_SELECT_LT(x, NETC_F32_VEC_SET1(-88.0f), NETC_F32_VEC_MUL(NETC_F32_VEC_ZERO, x),
                                NETC_F32_VEC_MUL(x, netc_vsigmoid(x)));
}

// hardsigmoid: relu6(x + 3) / 6 (NaN stays NaN: MAX / MIN keep it).
static inline NETC_F32_VEC netc_vhardsigmoid(NETC_F32_VEC x) {
  NETC_F32_VEC t = NETC_F32_VEC_MAX(NETC_F32_VEC_ZERO, NETC_F32_VEC_ADD(x, NETC_F32_VEC_SET1(3.0f)));
  return NETC_F32_VEC_MUL(NETC_F32_VEC_MIN(NETC_F32_VEC_SET1(6.0f), t), NETC_F32_VEC_SET1(1.0f / 6.0f));
}

// mish: x tanh(softplus(x)) without a logarithm: with e = exp(x),
// tanh(log(1 + e)) = n / (n + 2), n = e (e + 2). Above x = 15 the factor is
// 1 in float (1 - 2e-13) and n would overflow: x itself. Below -88, as
// silu: 0 x (NaN at -inf, as PyTorch).
static inline NETC_F32_VEC netc_vmish(NETC_F32_VEC x) {
  NETC_F32_VEC e = netc_vexp(NETC_F32_VEC_MIN(NETC_F32_VEC_SET1(15.0f), x));
  NETC_F32_VEC n = NETC_F32_VEC_MUL(e, NETC_F32_VEC_ADD(e, NETC_F32_VEC_SET1(2.0f)));
  NETC_F32_VEC m = NETC_F32_VEC_DIV(NETC_F32_VEC_MUL(x, n), NETC_F32_VEC_ADD(n, NETC_F32_VEC_SET1(2.0f)));
  m = NETC_F32_VEC_SELECT_LT(x, NETC_F32_VEC_SET1(-88.0f), NETC_F32_VEC_MUL(NETC_F32_VEC_ZERO, x), m);
  return NETC_F32_VEC_SELECT_LT(NETC_F32_VEC_SET1(15.0f), x, x, m);
}

// elu: x > 0 ? x : alpha (exp(x) - 1). exp(x) - 1 loses relative accuracy
// near 0 (absolute error a few 1e-8 alpha, as the rest of the math).
static inline NETC_F32_VEC netc_velu(NETC_F32_VEC x, NETC_F32_VEC alpha) {
  NETC_F32_VEC neg = NETC_F32_VEC_MUL(alpha, NETC_F32_VEC_SUB(netc_vexp(NETC_F32_VEC_MIN(NETC_F32_VEC_ZERO, x)),
                                                              NETC_F32_VEC_SET1(1.0f)));
  return NETC_F32_VEC_SELECT_LT(NETC_F32_VEC_ZERO, x, x, neg);
}

// act(x) on one register; slope is NETC_F32_VEC_SET1(act_slope). For a
// loop, hoist the switch: netc_act_span_f32 does.
static inline NETC_F32_VEC netc_act_vec(netc_act act, NETC_F32_VEC slope, NETC_F32_VEC x) {
  const NETC_F32_VEC zero = NETC_F32_VEC_ZERO;
  switch (act) {
  case NETC_ACT_NONE: return x;
  case NETC_ACT_RELU: return NETC_F32_VEC_MAX(zero, x);
  case NETC_ACT_RELU6: return NETC_F32_VEC_MIN(NETC_F32_VEC_SET1(6.0f), NETC_F32_VEC_MAX(zero, x));
  case NETC_ACT_LEAKY_RELU:
    return NETC_F32_VEC_FMA(NETC_F32_VEC_MAX(zero, x), slope, NETC_F32_VEC_MIN(zero, x));
  case NETC_ACT_SIGMOID: return netc_vsigmoid(x);
  case NETC_ACT_TANH: return netc_vtanh(x);
  case NETC_ACT_GELU: return netc_vgelu(x);
  case NETC_ACT_GELU_TANH: return netc_vgelu_tanh(x);
  case NETC_ACT_SILU: return netc_vsilu(x);
  case NETC_ACT_HARDSWISH: return NETC_F32_VEC_MUL(x, netc_vhardsigmoid(x));
  case NETC_ACT_HARDSIGMOID: return netc_vhardsigmoid(x);
  case NETC_ACT_MISH: return netc_vmish(x);
  case NETC_ACT_ELU: return netc_velu(x, slope);
  case NETC_ACT_COUNT: break;
  }
  assert(!"bad activation");
  return x;
}

//
// vector spans
//
// Fills, copies and lane moves of short spans (a partial vector for the
// tail), for the kernels that build their own buffers (conv.c's im2col
// packer, conv_depthwise.c, conv_direct.c, winograd.c).

// Vector fill and copy of short spans (a partial vector for the tail).
static inline void netc_vzero(float *dst, int64_t n) {
  const int64_t EPR = NETC_F32_EPR;
  int64_t i = 0;
  for (; i + EPR <= n; i += EPR)
    NETC_F32_VEC_STORE(dst + i, NETC_F32_VEC_ZERO);
  if (i < n)
    NETC_F32_VEC_STOREN(dst + i, NETC_F32_VEC_ZERO, n - i);
}
static inline void netc_vcopy(float *restrict dst, const float *restrict src, int64_t n) {
  const int64_t EPR = NETC_F32_EPR;
  int64_t i = 0;
  for (; i + EPR <= n; i += EPR)
    NETC_F32_VEC_STORE(dst + i, NETC_F32_VEC_LOAD(src + i));
  if (i < n)
    NETC_F32_VEC_STOREN(dst + i, NETC_F32_VEC_LOADN(src + i, n - i), n - i);
}

// Lanes [lo, lo + n) of v to dst[0, n).
static inline void netc_store_lanes(float *dst, NETC_F32_VEC v, int64_t lo, int64_t n) {
#if defined(__AVX512F__)
  __m512i idx = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                 _mm512_set1_epi32((int)lo));
  _mm512_mask_storeu_ps(dst, (__mmask16)((1u << n) - 1u), _mm512_permutexvar_ps(idx, v));
#elif defined(__AVX2__) && defined(__FMA__)
  __m256i idx = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)lo));
  NETC_F32_VEC_STOREN(dst, _mm256_permutevar8x32_ps(v, idx), n);
#else
  float t[NETC_F32_EPR];
  NETC_F32_VEC_STORE(t, v);
  for (int64_t i = 0; i < n; i++)
    dst[i] = t[lo + i];
#endif
}

// The vector with src[0, n) in lanes [lo, lo + n) and 0 elsewhere.
static inline NETC_F32_VEC netc_load_lanes(const float *src, int64_t lo, int64_t n) {
#if defined(__AVX512F__)
  __m512i idx = _mm512_sub_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                 _mm512_set1_epi32((int)lo));
  __mmask16 m = (__mmask16)((1u << n) - 1u);
  return _mm512_maskz_permutexvar_ps((__mmask16)(m << lo), idx, _mm512_maskz_loadu_ps(m, src));
#else
  float t[NETC_F32_EPR];
  for (int64_t i = 0; i < NETC_F32_EPR; i++)
    t[i] = i >= lo && i < lo + n ? src[i - lo] : 0.0f;
  return NETC_F32_VEC_LOAD(t);
#endif
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
// common.c: the parallel loop
//

// fn(ctx, c) for every chunk c in [0, nchunks), exactly once each, shared
// among up to `threads` threads (<= 0: netc_threads_get()) in one OpenMP
// region; chunks go to whichever thread asks next, and waiting threads nap
// instead of spinning (see common.c). Serial, in order, without OpenMP,
// with one thread, or inside a parallel region.
typedef void (*netc_chunk_fn)(void *ctx, int64_t chunk);
void netc_parallel(int64_t nchunks, int64_t threads, netc_chunk_fn fn, void *ctx);

//
// elementwise.c
//

// netc_act_f32 on the calling thread only (for kernels that are already
// inside a parallel loop).
void netc_act_span_f32(netc_act act, float slope, int64_t count, const float *x, float *y);

//
// qgemm.c: the int8 GEMM behind netc_qconv2d_u8 and netc_qlinear_u8
//

// B packed for vpdpbusd: element (k, n) of a K4 x N u8 matrix at
//   b[((k / 4) * n64 + n) * 4 + k % 4],   n64 = N rounded up to 64,
// i.e. for each group of 4 k, every column's 4 bytes side by side; the
// padding (k >= K, n >= N) holds anything finite (the weights' padding
// columns are 0 and padded columns are never stored).
#define NETC_QGEMM_NR 64
static inline int64_t netc_qgemm_n64(int64_t n) { return (n + NETC_QGEMM_NR - 1) / NETC_QGEMM_NR * NETC_QGEMM_NR; }

// Where and how the int32 results go: for row m (output channel) and
// column n, y[m * ldm + n * ldn] = clamp(zp + netc_requant_apply(acc, rq[m]),
// lo, hi), acc = bias[m] (0 if NULL) + sum_k w[m][k] * b(k, n).
typedef struct netc_qgemm_out {
  uint8_t *y;
  int64_t ldm, ldn;
  const int32_t *bias;
  const netc_requant *rq;
  int32_t zp, lo, hi;
} netc_qgemm_out;

// y[i] = clamp(zp + netc_requant_apply(acc[i] + bias, rq), lo, hi) for i < cnt,
// the epilogue every int8 kernel ends with (int32 wrap-around for the bias
// addition, as the kernels' int32 sums; vectorised on AVX-512, where the
// 32x32 -> 64-bit products are formed for even and odd lanes apart).
static inline void netc_qstore_row(int64_t cnt, const int32_t *acc, int32_t bias, netc_requant rq, int32_t zp,
                                   int32_t lo, int32_t hi, uint8_t *y) {
  int64_t i = 0;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  const __m512i vb = _mm512_set1_epi32(bias), vm = _mm512_set1_epi64(rq.mult);
  const __m512i vr = _mm512_set1_epi64(rq.round);
  const __m512i vz = _mm512_set1_epi32(zp), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
  const __m128i sh = _mm_cvtsi32_si128(rq.shift);
  for (; i < cnt; i += 16) {
    const __mmask16 m = cnt - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cnt - i)) - 1u);
    __m512i a = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, acc + i), vb);
    __m512i ev = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, vm), vr), sh);
    __m512i od = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), vm), vr), sh);
    __m512i r = _mm512_mask_blend_epi32((__mmask16)0xAAAA, ev, _mm512_slli_epi64(od, 32));
    r = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(r, vz), vlo), vhi);
    _mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(r));
  }
#endif
  for (; i < cnt; i++) {
    int32_t a = (int32_t)((uint32_t)acc[i] + (uint32_t)bias);
    int64_t v = (int64_t)zp + netc_requant_apply(a, rq);
    y[i] = (uint8_t)(v < lo ? lo : v > hi ? hi : v);
  }
}

// Rows [m0, m1) of the product of w int8 [M][K4] (row-major) and the packed
// b (n64 columns, see above), N columns stored. Single-threaded: callers
// split the rows among threads.
void netc_qgemm_rows(int64_t m0, int64_t m1, int64_t N, int64_t K4, const int8_t *w,
                     const uint8_t *b, const netc_qgemm_out *o);

//
// gemm.c: the driver behind netc_gemm_f32, conv, conv_transpose and linear
//

typedef struct netc_gemm_job netc_gemm_job;

// Writes columns [j0, j0 + nc) of rows [k0, k0 + kc) of op(B) into dst as
// ceil(nc / NR) micro-panels, each kc rows of NR floats (row p of panel q at
// dst + q * kc * NR + p * NR), zero-filling columns past nc.
typedef void (*netc_pack_b_fn)(const netc_gemm_job *job, int64_t k0, int64_t kc,
                               int64_t j0, int64_t nc, float *dst);

// C = act(alpha op(A) op(B) + beta C + bias + res), one call of netc_gemm_run.
struct netc_gemm_job {
  int64_t m, n, k;
  float alpha, beta;
  const float *a;           // op(A) is m x k (ignored when a_packed is set)
  int64_t lda;
  netc_trans ta;
  const float *a_packed;    // or NULL: A already packed by netc_gemm_pack_a (m, k)
  const float *b_packed;    // or NULL: B already packed by netc_gemm_pack_b (k, n)
  const float *b;           // op(B) is k x n (used by the default packer)
  int64_t ldb;
  netc_trans tb;
  netc_pack_b_fn pack_b;    // NULL: pack from b / ldb / tb
  const void *b_ctx;        // for a custom packer (conv's implicit im2col)
  float *c;                 // m x n, row stride ldc
  int64_t ldc;
  const float *bias_row;    // [m]: added to every element of row i, or NULL
  const float *bias_col;    // [n]: added to every element of column j, or NULL
  const float *res;         // m x n, row stride ldres, or NULL: added (in the first depth
  int64_t ldres;            //   block); may be c itself (ldres == ldc), may not overlap it otherwise
  netc_act act;             // applied last
  float act_slope;
  int32_t max_threads;      // 0: netc_threads_get(); else at most this many
};

void netc_gemm_run(const netc_gemm_job *job, float *scratch);
// netc_gemm_pack_a with panels of `rows` (1..16) rows instead of MR.
void netc_pack_a_rows(netc_trans ta, int64_t M, int64_t K, const float *A, int64_t lda,
                      int64_t rows, float *packed);
// The packer for B stored as a matrix (tb / ldb); custom packers may call it.
void netc_gemm_pack_b_matrix(const netc_gemm_job *job, int64_t k0, int64_t kc,
                             int64_t j0, int64_t nc, float *dst);

// The packed layout of A (netc_pack_a_rows, netc_gemm_pack_a with rows =
// MR), for callers that find panels themselves: depth blocks of
// NETC_GEMM_KC, each holding ceil(m / rows) panels of kc x rows floats (rows
// past m zero). Panel q of the block at depth p0 (kc deep) starts this many
// floats into the packing, m_total being round_up(m, rows).
static inline int64_t netc_panel_offset(int64_t m_total, int64_t p0, int64_t kc, int64_t q, int64_t rows) {
  return p0 * m_total + q * kc * rows;
}

//
// the register tile: gemm.c's micro-kernel, conv_direct.c, winograd.c
//

// Bounds of every register tile: rows x NV registers of columns (the
// widest, conv_direct.c's MR / 2 x 2 NRV, sets NV_MAX).
#define NETC_TILE_ROWS_MAX 16
#define NETC_TILE_NV_MAX (2 * NETC_GEMM_NRV)

// Each kernel declares its accumulators as acc[ROWS][ld], ld >= nv, at the
// size it needs, and passes ld along: the declared size weighs in GCC's
// inlining decisions (at 2 NRV for all, AVX2's Winograd products stopped
// being inlined).

// acc = 0 on a rows x nv tile.
NETC_ALWAYS_INLINE static inline void netc_tile_zero(const int rows, const int nv, const int ld,
                                                     NETC_F32_VEC acc[][ld]) {
  NETC_UNROLL(16)
  for (int i = 0; i < rows; i++) {
    NETC_UNROLL(8)
    for (int j = 0; j < nv; j++)
      acc[i][j] = NETC_F32_VEC_ZERO;
  }
}

// The FMA loop of every register-tiled kernel (gemm.c's micro-kernel,
// conv_direct.c's tiles, winograd.c's products): for p in [0, kc),
//
//   acc[i][j] += a[p rows + i] * (register j of B row p),
//
// a being one packed A panel (kc x rows, netc_pack_a_rows) and B row p at
// b + p ldb or, if gather is 1, at b + off[p] (conv_direct.c reads the
// image in place; a flag rather than off's nullness, which the compiler
// cannot always see, so that the choice leaves the loop).
// With nl NULL, B rows are whole registers and A is prefetched 128 k-steps
// (4 KB on AVX-512) ahead: it streams from memory once per panel of B
// (weights), and 32 steps were too short to hide DRAM latency (ResNet-50
// 5% slower). Else register j of a row holds nl[j] floats (0: zeros), for
// a tile at the end of its input.
// rows, nv, gather and ld must be constants where this is inlined (it
// always is), so that the loops unroll and acc stays in registers.
NETC_ALWAYS_INLINE static inline void netc_tile_fma(const int rows, const int nv, int64_t kc,
                                                    const float *restrict a, const float *restrict b,
                                                    int64_t ldb, const int gather,
                                                    const int32_t *restrict off, const int64_t *restrict nl,
                                                    const int ld, NETC_F32_VEC acc[][ld]) {
  const int64_t EPR = NETC_F32_EPR;
  const float *bs = b;  // B row p when strided
  for (int64_t p = 0; p < kc; p++) {
    if (!nl)
      NETC_PREFETCH_R(a + 128 * rows);
    const float *bp = gather ? b + off[p] : bs;
    NETC_F32_VEC bv[NETC_TILE_NV_MAX];
    NETC_UNROLL(8)
    for (int j = 0; j < nv; j++)
      bv[j] = !nl ? NETC_F32_VEC_LOAD(bp + j * EPR)
                  : nl[j] > 0 ? NETC_F32_VEC_LOADN(bp + j * EPR, nl[j]) : NETC_F32_VEC_ZERO;
    NETC_UNROLL(16)
    for (int i = 0; i < rows; i++) {
      NETC_F32_VEC av = NETC_F32_VEC_SET1(a[i]);
      NETC_UNROLL(8)
      for (int j = 0; j < nv; j++)
        acc[i][j] = NETC_F32_VEC_FMA(acc[i][j], av, bv[j]);
    }
    a += rows;
    bs += ldb;
  }
}

//
// winograd.c: 3x3 stride-1 convolution by Winograd's F(4x4, 3x3), for conv.c
//

// 1 if the path can run p (3x3, stride 1, dilation 1, groups 1); conv.c's
// plan_conv decides whether it should.
int netc_winograd_applies(const netc_conv2d_params *p);
// Floats of the transformed, packed weights and of the scratch (functions
// of p alone, as for every conv path).
int64_t netc_winograd_packed_floats(const netc_conv2d_params *p);
int64_t netc_winograd_scratch_floats(const netc_conv2d_params *p);
// packed = U = G w G^T, 36 matrices [out_c, in_c] in groups of output
// channels, each packed by netc_gemm_pack_a.
void netc_winograd_pack_weights(const netc_conv2d_params *p, const float *w, float *packed);
// y = act(conv(x) + bias + res), as netc_conv2d_packed_f32 (res may be y).
void netc_winograd_run(const netc_conv2d_params *p, const float *x, const float *packed, const float *bias,
                       const float *res, float *y, float *scratch);

//
// conv.c's paths: conv_depthwise.c, conv_direct.c
//

// The stride-phase split of a zero-padded input, read by the depthwise and
// direct kernels: element j of phase f of a padded row is padded column
// j sw + f, so that every tap of a strided convolution is a contiguous run.
#define NETC_PHASE_CHUNK 1024 // floats: the longest phase row (half a padded row's room)

// One padded row -- pl zeros, the input row xr (in_w floats; NULL: all
// zeros), zeros -- dealt out to sw column phases: element j of phase f is
// padded column j sw + f, for j < plen; phase f is at dst + f * pstride.
// tmp holds sw * plen + 4 EPR floats (used for sw > 2).
static inline void netc_fill_phase_row(const float *xr, int64_t in_w, int64_t pl, int64_t plen,
                                       int64_t sw, float *dst, int64_t pstride, float *tmp) {
  const int64_t EPR = NETC_F32_EPR;
  if (!xr) {
    for (int64_t f = 0; f < sw; f++)
      netc_vzero(dst + f * pstride, plen);
    return;
  }
  if (sw == 1) {
    netc_vzero(dst, pl);
    netc_vcopy(dst + pl, xr, in_w);
    netc_vzero(dst + pl + in_w, plen - pl - in_w);
    return;
  }
  if (sw == 2) {
    // Input column 2m + q (parity q) is padded column 2m + q + pl, so it
    // lands in phase f = (q + pl) % 2 at index m + (q + pl - f) / 2: the
    // unzipped even and odd columns of x are stored whole, each at its
    // phase's shift, over phase rows zeroed first (stores only: reading
    // back a just-written buffer would stall on store forwarding).
    netc_vzero(dst, plen);
    netc_vzero(dst + pstride, plen);
    const int64_t fe = pl % 2, fo = (1 + pl) % 2;
    float *de = dst + fe * pstride + (pl - fe) / 2, *dd = dst + fo * pstride + (1 + pl - fo) / 2;
    const int64_t ne = (in_w + 1) / 2, no = in_w / 2;  // even and odd columns
    for (int64_t c = 0, m = 0; c < in_w; c += 2 * EPR, m += EPR) {
      NETC_F32_VEC lo, hi, ev, od;
      if (c + 2 * EPR <= in_w) {
        lo = NETC_F32_VEC_LOAD(xr + c);
        hi = NETC_F32_VEC_LOAD(xr + c + EPR);
      } else {
        lo = NETC_F32_VEC_LOADN(xr + c, NETC_MIN(EPR, in_w - c));
        hi = c + EPR < in_w ? NETC_F32_VEC_LOADN(xr + c + EPR, in_w - c - EPR) : NETC_F32_VEC_ZERO;
      }
      NETC_F32_VEC_UNZIP(lo, hi, ev, od);
      if (m + EPR <= no) {
        NETC_F32_VEC_STORE(de + m, ev);
        NETC_F32_VEC_STORE(dd + m, od);
      } else {
        if (ne > m)
          NETC_F32_VEC_STOREN(de + m, ev, NETC_MIN(EPR, ne - m));
        if (no > m)
          NETC_F32_VEC_STOREN(dd + m, od, NETC_MIN(EPR, no - m));
      }
    }
    return;
  }
  netc_vzero(tmp, pl);
  netc_vcopy(tmp + pl, xr, in_w);
  netc_vzero(tmp + pl + in_w, sw * plen - pl - in_w);
  for (int64_t j = 0; j < plen; j++)
    for (int64_t f = 0; f < sw; f++)
      dst[f * pstride + j] = tmp[j * sw + f];
}

// y = act(conv(x) + bias + res) for depthwise p (in_c == groups > 1); w is
// [out_c, kh, kw], raw and packed alike; res may be NULL or y.
void netc_conv_depthwise(const netc_conv2d_params *p, const float *x, const float *w,
                         const float *bias, const float *res, float *y);

// A direct tile: rows output channels x nv registers of flat positions.
typedef struct {
  int64_t rows, nv;  // tile: rows x (nv * EPR) flat columns
} netc_direct_shape;

// 1 if the direct path can run p (its offsets fit, its phase rows fit).
int netc_direct_eligible(const netc_conv2d_params *p);
// Output rows per band of the input copy that fit the scratch (0: none).
int64_t netc_direct_band_rows(const netc_conv2d_params *p);
// The scratch the direct path uses with bands of `band` rows: the offsets,
// the band copy (none when x is read in place) and their slack. Never more
// than the GEMM's scratch for p when band is netc_direct_band_rows(p).
int64_t netc_direct_scratch_floats(const netc_conv2d_params *p, int64_t band);
// The tile shape for bands of `band` output rows: the one that computes
// the fewest padded elements.
netc_direct_shape netc_direct_tile(const netc_conv2d_params *p, int64_t band);
// y = act(conv(x) + bias + res) with weights raw (w, depth <= KC) or packed
// by netc_pack_a_rows in panels of sh.rows (packed); res may be NULL or y.
void netc_conv_direct(const netc_conv2d_params *p, netc_direct_shape sh, int64_t band, const float *x,
                      const float *w, const float *packed, const float *bias, const float *res, float *y,
                      float *scratch);

#endif // NETC_INTERNAL_H
