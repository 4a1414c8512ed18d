// winograd.c -- 3x3 stride-1 convolution by Winograd's minimal filtering,
// F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016).
//
// Each 4x4 block of output pixels ("tile") of one output channel o is
//
//   Y = A^T [ sum_c (G g_oc G^T) (.) (B^T d_c B) ] A
//
// with d_c the 6x6 block of input channel c under the tile (zero outside the
// image), g_oc the 3x3 kernel and (.) the elementwise product. Over all tiles
// and channels the bracket is 36 matrix products, one per point xi of the
// 6x6 transform: M_xi [out_c, tiles] = U_xi [out_c, in_c] V_xi [in_c, tiles],
// U = G g G^T (the weights, transformed and packed once by
// netc_winograd_pack_weights), V = B^T d B (the input, transformed per call).
// The products cost 36 multiply-adds per tile and channel pair where the
// direct convolution costs 16 x 9 = 144.
//
// Interpolation points 0, 1, -1, 1/2, -2 and infinity. Against the common
// 0, +-1, +-2 (Lavin's) they give about a third of the rounding error:
// measured in float32 against a double reference over 512 input channels
// (ReLU-like inputs in [0, 1), He-initialised weights), max |error| / max
// |y| is 3.0e-6 with these points, 8.6e-6 with Lavin's, 7.8e-6 with
// 0, +-1, +-1/2. The 3x3 and 6x6 data transforms have dyadic coefficients
// (exact in float); G's (2/3, 16/15, ...) are applied in double at pack time.
//
//        | 1  -3/2   -2   3/2    1   0 |          | 1  1   1    1    1  0 |
//        | 0  -1/2  1/4   5/4  1/2   0 |    A^T = | 0  1  -1  1/2   -2  0 |
//  B^T = | 0   1/2 -5/4   1/4  1/2   0 |          | 0  1   1  1/4    4  0 |
//        | 0    -2   -1     2    1   0 |          | 0  1  -1  1/8   -8  1 |
//        | 0   1/4 -1/2  -1/4  1/2   0 |
//        | 0     1 -3/2    -2  3/2   1 |
//
//  G = [1 0 0; 2/3 2/3 2/3; -2/3 2/3 -2/3; -16/15 -8/15 -4/15; 2/15 -4/15 8/15; 0 0 1]
//
// Work is cut into items: a block of tiles of one image (row-major over the
// tile grid, at most tb of them) times a group of ocb output channels. An
// item transforms its block of the input (all in_c channels, vectorised
// across tiles: rows are combined first, whole rows at a time, then the
// six columns of EPR tiles are pulled apart with unzips), runs the 36
// products for its channels, and applies the output transform with the
// epilogue (bias, residual, activation) while the products are in cache.
// The products use the GEMM's register tile (MR rows x NRV registers) on
// the weights as netc_gemm_pack_a packed them, reading the transformed
// input in place: through netc_gemm_run each block's input would be copied
// into B panels and its ragged last columns would go column by column
// (measured 10-30% slower per layer). Items are handed out one at a time
// (netc_parallel) to at most WINO_SLOTS threads, each with its own slot of
// scratch (its number in the team), and a thread keeps its transformed
// block for its next item of the same block; every item is computed the
// same way whichever thread runs it, so the result does not depend on the
// thread count. Sizes (packed weights, scratch) depend on the params alone.

#include "netc_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define EPR NETC_F32_EPR
#define VEC NETC_F32_VEC
#define VLOAD NETC_F32_VEC_LOAD
#define VLOADN NETC_F32_VEC_LOADN
#define VSTORE NETC_F32_VEC_STORE
#define VSTOREN NETC_F32_VEC_STOREN
#define VSET1 NETC_F32_VEC_SET1
#define VADD NETC_F32_VEC_ADD
#define VSUB NETC_F32_VEC_SUB
#define VMUL NETC_F32_VEC_MUL
#define VFMA NETC_F32_VEC_FMA

// Output channels per item and the most tiles per block. A block's
// transformed input is 36 in_c tb floats and its products 36 ocb tb; the
// wider the block, the better the products' micro-kernel runs.
#ifndef NETC_WINO_OCB
#define NETC_WINO_OCB 64
#endif
#ifndef NETC_WINO_TB_MAX
#define NETC_WINO_TB_MAX 96
#endif
// Workers (each with its own slot of scratch): the scratch size may not
// depend on the thread count, so it is fixed.
#define WINO_SLOTS 2
// The scratch the slots may take at least (floats), when the GEMM paths
// would take less: just under what the GEMM paths take for a 64-channel
// 3x3 layer at 56 x 56 (852,000), which every ResNet has, so that their
// deeper layers (128 channels at 28 x 28: 680,000) do not grow the arena.
#ifndef NETC_WINO_SCRATCH_MIN
#define NETC_WINO_SCRATCH_MIN 850000
#endif
#define WINO_EPR_MAX 16  // the widest vector of any build (sizes are ISA-independent)
#define WINO_ALIGN 16    // blocks start at multiples of this many tiles

typedef struct {
  int64_t tiles_y, tiles_x, tiles;  // the tile grid of one image
  int64_t tb, nblk;                 // tiles per block (the rows of V and M), blocks per image
  int aligned;                      // block boundaries at multiples of WINO_ALIGN
  int64_t ldv;                      // floats per row of V
  int64_t vxi, mxi;                 // floats from one xi to the next in V and M
  int64_t ocb, nog;                 // output channels per group, groups
  int64_t rowlen;                   // floats per row of the row-transformed input
  int64_t v_floats, m_floats, rows_floats, slot_floats;
  int64_t pstride;                  // floats per packed slice (one group, one xi)
} wino_geom;

// The sizes of blocks of tb tiles.
static void wino_sizes(const netc_conv2d_params *p, wino_geom *g) {
  // A segment of a block within one tile row has at most min(tiles_x, tb)
  // tiles; the column unzip reads 4 (EPR + 1) floats past the segment's
  // last group start.
  const int64_t seg = NETC_MIN(g->tiles_x, g->tb);
  g->rowlen = netc_round_up(4 * netc_round_up(seg, WINO_EPR_MAX) + 4 + WINO_EPR_MAX, WINO_EPR_MAX);
  g->ldv = netc_round_up(g->tb, WINO_EPR_MAX);  // whole registers of tiles
  // Matrices xi one cache line more than their size apart: at a multiple
  // of 4 KB, the 36 stores of a tile's transform would all fall in one set
  // of the L1 (measured 30% slower for 128 channels, 64-float rows).
  g->vxi = p->in_c * g->ldv + 16;
  g->mxi = g->ocb * g->tb + 16;
  g->v_floats = 36 * g->vxi + 16;
  g->m_floats = 36 * g->mxi + 16;
  g->rows_floats = 12 * g->rowlen + 16;  // two sets of six
  g->slot_floats = g->v_floats + g->m_floats + g->rows_floats;
}

static wino_geom wino_geom_of(const netc_conv2d_params *p) {
  wino_geom g;
  g.tiles_y = netc_ceil_div(p->out_h, 4);
  g.tiles_x = netc_ceil_div(p->out_w, 4);
  g.tiles = g.tiles_y * g.tiles_x;
  g.ocb = NETC_MIN(p->out_c, (int64_t)NETC_WINO_OCB);
  g.nog = netc_ceil_div(p->out_c, g.ocb);
  g.pstride = netc_gemm_packed_a_floats(g.ocb, p->in_c);
  // Blocks: as few as hold at most TB_MAX tiles each and fit the slots in
  // the scratch the GEMM paths would take (but at least WINO_SCRATCH_MIN),
  // an even number of items for two workers.
  const int64_t budget = NETC_MAX((int64_t)NETC_WINO_SCRATCH_MIN,
                                  netc_gemm_scratch_floats(p->out_c, p->out_h * p->out_w, 9 * p->in_c)) /
                         WINO_SLOTS;
  g.nblk = netc_ceil_div(g.tiles, NETC_WINO_TB_MAX);
  for (;;) {
    const int64_t even = netc_ceil_div(g.tiles, g.nblk);
    g.aligned = g.nblk > 1 && even >= 2 * WINO_ALIGN;  // see wino_block
    g.tb = g.aligned ? even + WINO_ALIGN - 1 : even;
    wino_sizes(p, &g);
    if (g.nblk >= g.tiles || (g.slot_floats <= budget && (g.nblk * g.nog) % WINO_SLOTS == 0))
      break;
    g.nblk++;
  }
  return g;
}

int netc_winograd_applies(const netc_conv2d_params *p) {
  return p->kernel_h == 3 && p->kernel_w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
         p->dilation_h == 1 && p->dilation_w == 1 && p->groups == 1;
}

int64_t netc_winograd_packed_floats(const netc_conv2d_params *p) {
  const wino_geom g = wino_geom_of(p);
  // One slice more than the 36 nog used: room to transform the last slice
  // before packing it (netc_winograd_pack_weights).
  return (36 * g.nog + 1) * g.pstride;
}

int64_t netc_winograd_scratch_floats(const netc_conv2d_params *p) {
  return WINO_SLOTS * wino_geom_of(p).slot_floats + p->in_w;  // + the zero row
}

//
// Weights: U_xi = G g G^T, in double
//

static const double wino_g[6][3] = {
  {1.0, 0.0, 0.0},
  {2.0 / 3, 2.0 / 3, 2.0 / 3},
  {-2.0 / 3, 2.0 / 3, -2.0 / 3},
  {-16.0 / 15, -8.0 / 15, -4.0 / 15},
  {2.0 / 15, -4.0 / 15, 8.0 / 15},
  {0.0, 0.0, 1.0},
};

// Slice k = og * 36 + xi holds U_xi's rows [og ocb, og ocb + m) packed by
// netc_gemm_pack_a at packed + k * pstride. Each slice is first computed as
// a plain m x in_c matrix in the next slice's room (not yet written), then
// packed into its own.
void netc_winograd_pack_weights(const netc_conv2d_params *p, const float *w, float *packed) {
  const wino_geom g = wino_geom_of(p);
  const int64_t in_c = p->in_c;
  for (int64_t og = 0; og < g.nog; og++) {
    const int64_t o0 = og * g.ocb, m = NETC_MIN(g.ocb, p->out_c - o0);
    for (int64_t xi = 0; xi < 36; xi++) {
      const int64_t i = xi / 6, j = xi % 6, k = og * 36 + xi;
      float *tmp = packed + (k + 1) * g.pstride;
      for (int64_t o = 0; o < m; o++)
        for (int64_t c = 0; c < in_c; c++) {
          const float *gk = w + ((o0 + o) * in_c + c) * 9;
          double t[3];  // (G g)[i][b]
          for (int b = 0; b < 3; b++)
            t[b] = wino_g[i][0] * gk[b] + wino_g[i][1] * gk[3 + b] + wino_g[i][2] * gk[6 + b];
          tmp[o * in_c + c] = (float)(t[0] * wino_g[j][0] + t[1] * wino_g[j][1] + t[2] * wino_g[j][2]);
        }
      netc_gemm_pack_a(NETC_NO_TRANS, m, in_c, tmp, in_c, packed + k * g.pstride);
    }
  }
}

//
// Data transforms, on registers
//

// o = B^T d (six values to six).
static inline void wino_bt(const VEC d[6], VEC o[6]) {
  const VEC a = VSUB(d[3], d[1]), b = VSUB(d[4], d[2]);
  const VEC h = VSET1(0.5f), q = VSET1(0.25f), h3 = VSET1(1.5f);
  o[0] = VFMA(VADD(VSUB(d[0], d[2]), b), h3, a);                        // d0 - 3/2 d1 - 2 d2 + 3/2 d3 + d4
  o[1] = VFMA(VFMA(VMUL(q, d[2]), VSET1(1.25f), d[3]), h, VSUB(d[4], d[1]));   // -1/2 d1 + 1/4 d2 + 5/4 d3 + 1/2 d4
  o[2] = VFMA(VFMA(VMUL(q, d[3]), VSET1(-1.25f), d[2]), h, VADD(d[4], d[1]));  // 1/2 d1 - 5/4 d2 + 1/4 d3 + 1/2 d4
  o[3] = VFMA(b, VSET1(2.0f), a);                                       // -2 d1 - d2 + 2 d3 + d4
  o[4] = VFMA(VMUL(h, b), VSET1(-0.25f), a);                            // 1/4 d1 - 1/2 d2 - 1/4 d3 + 1/2 d4
  o[5] = VFMA(VSUB(VSUB(d[5], d[3]), a), h3, b);                        // d1 - 3/2 d2 - 2 d3 + 3/2 d4 + d5
}

// o = A^T m (six values to four).
static inline void wino_at(const VEC m[6], VEC o[4]) {
  const VEC s = VADD(m[1], m[2]), t = VSUB(m[1], m[2]);
  o[0] = VADD(VADD(m[0], s), VADD(m[3], m[4]));
  o[1] = VFMA(VFMA(t, VSET1(0.5f), m[3]), VSET1(-2.0f), m[4]);
  o[2] = VFMA(VFMA(s, VSET1(0.25f), m[3]), VSET1(4.0f), m[4]);
  o[3] = VADD(VFMA(VFMA(t, VSET1(0.125f), m[3]), VSET1(-8.0f), m[4]), m[5]);
}

// v[s] lane l (s < 4) is column 4 l + s of an output row: put the 4 EPR
// floats in column order, z[q] = columns [q EPR, (q + 1) EPR).
static inline void wino_zip4(const VEC v[4], VEC z[4]) {
#if defined(__AVX512F__)
  const __m512 t0 = _mm512_unpacklo_ps(v[0], v[1]), t1 = _mm512_unpackhi_ps(v[0], v[1]);
  const __m512 t2 = _mm512_unpacklo_ps(v[2], v[3]), t3 = _mm512_unpackhi_ps(v[2], v[3]);
  // u_k, 128-bit lane L: the four columns of tile 4 L + k.
  const __m512 u0 = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m512 u1 = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m512 u2 = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m512 u3 = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m512 a = _mm512_shuffle_f32x4(u0, u1, 0x44), b = _mm512_shuffle_f32x4(u2, u3, 0x44);
  const __m512 c = _mm512_shuffle_f32x4(u0, u1, 0xEE), d = _mm512_shuffle_f32x4(u2, u3, 0xEE);
  z[0] = _mm512_shuffle_f32x4(a, b, 0x88);
  z[1] = _mm512_shuffle_f32x4(a, b, 0xDD);
  z[2] = _mm512_shuffle_f32x4(c, d, 0x88);
  z[3] = _mm512_shuffle_f32x4(c, d, 0xDD);
#elif defined(__AVX2__) && defined(__FMA__)
  const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
  const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  z[0] = _mm256_permute2f128_ps(u0, u1, 0x20);
  z[1] = _mm256_permute2f128_ps(u2, u3, 0x20);
  z[2] = _mm256_permute2f128_ps(u0, u1, 0x31);
  z[3] = _mm256_permute2f128_ps(u2, u3, 0x31);
#else
  float in[4][EPR], out[4 * EPR];
  for (int s = 0; s < 4; s++)
    VSTORE(in[s], v[s]);
  for (int l = 0; l < EPR; l++)
    for (int s = 0; s < 4; s++)
      out[4 * l + s] = in[s][l];
  for (int q = 0; q < 4; q++)
    z[q] = VLOAD(out + q * EPR);
#endif
}

//
// The run
//

typedef struct {
  const netc_conv2d_params *p;
  wino_geom g;
  const float *x, *packed, *bias, *res;
  float *y, *scratch;
  int64_t items, workers;
  int nested;                   // called inside a parallel region: all on slot 0
  int64_t have[WINO_SLOTS];     // the block whose input transform is in each slot
} wino_job;

// Floats of slot s: V [36][in_c][ldv], M [36][ocb][tb], two sets of six
// transformed rows.
typedef struct {
  float *v, *m, *rows;
  const float *zero;  // in_w zeros (shared by the slots)
} wino_slot;

static wino_slot slot_of(const wino_job *j, int64_t s) {
  wino_slot sl;
  float *base = j->scratch + s * j->g.slot_floats;
  sl.v = netc_align64(base);
  sl.m = netc_align64(base + j->g.v_floats);
  sl.rows = netc_align64(base + j->g.v_floats + j->g.m_floats);
  sl.zero = j->scratch + WINO_SLOTS * j->g.slot_floats;
  return sl;
}

// The tiles [t0, t1) of a block, one tile row at a time: calls
// body(tile row, first column, count, offset in the block).
#define FOR_SEGMENTS(g, t0, t1, ty, txa, ntx, tl)                                        \
  for (int64_t t_ = (t0), ty, txa, ntx, tl; t_ < (t1) &&                                 \
       (ty = t_ / (g).tiles_x, txa = t_ % (g).tiles_x,                                   \
        ntx = NETC_MIN((g).tiles_x - txa, (t1) - t_), tl = t_ - (t0), 1);                \
       t_ += ntx)

// V [xi][c][tl ...] for the tiles [t0, t1) of image b.
// Rows of channel c for one segment: rb[i] = sum_k B^T[i][k] x row k over
// columns [ja, jb) (input columns ix0 + [ja, jb)); a row outside the image
// reads the zero row instead.
static inline void rows_transform(const wino_job *j, const wino_slot *sl, const float *xc, int64_t ty,
                                  int64_t ix0, int64_t ja, int64_t jb, float *rb) {
  const netc_conv2d_params *p = j->p;
  const int64_t in_h = p->in_h, in_w = p->in_w, rowlen = j->g.rowlen;
  const float *rp[6];
  NETC_UNROLL(6)
  for (int k = 0; k < 6; k++) {
    const int64_t iy = 4 * ty - p->pad_top + k;
    rp[k] = iy >= 0 && iy < in_h ? xc + iy * in_w : sl->zero;
  }
  int64_t col = ja;
  for (; col + EPR <= jb; col += EPR) {
    VEC d[6], o[6];
    NETC_UNROLL(6)
    for (int k = 0; k < 6; k++)
      d[k] = VLOAD(rp[k] + (ix0 + col));
    wino_bt(d, o);
    NETC_UNROLL(6)
    for (int i = 0; i < 6; i++)
      VSTORE(rb + i * rowlen + col, o[i]);
  }
  if (col < jb) {
    const int64_t n = jb - col;
    VEC d[6], o[6];
    NETC_UNROLL(6)
    for (int k = 0; k < 6; k++)
      d[k] = VLOADN(rp[k] + (ix0 + col), n);
    wino_bt(d, o);
    NETC_UNROLL(6)
    for (int i = 0; i < 6; i++)
      VSTOREN(rb + i * rowlen + col, o[i], n);
  }
}

// Columns of channel c: tile l of a group of EPR reads row floats 4 l ..
// 4 l + 5; V [xi = 6 i + jj][c][tl + tile].
static inline void cols_transform(const wino_job *j, const wino_slot *sl, const float *rb, int64_t c,
                                  int64_t ntx, int64_t tl, int64_t nt) {
  const int64_t ldv = j->g.ldv, vxi = j->g.vxi, rowlen = j->g.rowlen;
  const int64_t ngroups = netc_ceil_div(ntx, EPR);
  for (int i = 0; i < 6; i++) {
    const float *r = rb + i * rowlen;
    float *vd = sl->v + i * 6 * vxi + c * ldv + tl;
    for (int64_t q = 0; q < ngroups; q++) {
      const float *s = r + 4 * EPR * q;
      VEC d[6], o[6], e0, o0, e1, o1, unused;
      NETC_F32_VEC_UNZIP(VLOAD(s), VLOAD(s + EPR), e0, o0);
      NETC_F32_VEC_UNZIP(VLOAD(s + 2 * EPR), VLOAD(s + 3 * EPR), e1, o1);
      NETC_F32_VEC_UNZIP(e0, e1, d[0], d[2]);
      NETC_F32_VEC_UNZIP(o0, o1, d[1], d[3]);
      NETC_F32_VEC_UNZIP(VLOAD(s + 4), VLOAD(s + 4 + EPR), e0, o0);
      NETC_F32_VEC_UNZIP(VLOAD(s + 4 + 2 * EPR), VLOAD(s + 4 + 3 * EPR), e1, o1);
      NETC_F32_VEC_UNZIP(e0, e1, d[4], unused);
      NETC_F32_VEC_UNZIP(o0, o1, d[5], unused);
      (void)unused;
      wino_bt(d, o);
      // Whole registers also past the segment's last tile, when they stay
      // within the block's: those are the next segment's, written later.
      if (tl + (q + 1) * EPR <= nt) {
        NETC_UNROLL(6)
        for (int jj = 0; jj < 6; jj++)
          VSTORE(vd + jj * vxi + q * EPR, o[jj]);
      } else {
        const int64_t n = NETC_MIN((int64_t)EPR, ntx - q * EPR);
        NETC_UNROLL(6)
        for (int jj = 0; jj < 6; jj++)
          VSTOREN(vd + jj * vxi + q * EPR, o[jj], n);
      }
    }
  }
}

// V [xi][c][tl ...] for the tiles [t0, t1) of image b, zeros up to a whole
// register (the products read whole registers). The rows of channel
// c + 1 are transformed before the columns of channel c (two row buffers):
// reading rows just written, at other offsets and after masked stores,
// would wait on store forwarding (measured: half the transform's time).
static void input_transform(const wino_job *j, const wino_slot *sl, int64_t b, int64_t t0, int64_t t1) {
  const netc_conv2d_params *p = j->p;
  const wino_geom *g = &j->g;
  const int64_t in_c = p->in_c, in_w = p->in_w, rowlen = g->rowlen, plane = p->in_h * in_w;
  const float *xb = j->x + b * in_c * plane;
  FOR_SEGMENTS(*g, t0, t1, ty, txa, ntx, tl) {
    const int64_t ix0 = 4 * txa - p->pad_left, len = 4 * ntx + 2;
    const int64_t ja = NETC_MIN(len, NETC_MAX((int64_t)0, -ix0));
    const int64_t jb = NETC_MAX(ja, NETC_MIN(len, in_w - ix0));
    const int64_t ngroups = netc_ceil_div(ntx, EPR), span = 4 * ngroups * EPR + 4 + EPR;
    assert(span <= rowlen);
    // Every channel writes columns [ja, jb) of the rows; the rest is zero.
    for (int i = 0; i < 12; i++) {
      netc_vzero(sl->rows + i * rowlen, ja);
      netc_vzero(sl->rows + i * rowlen + jb, span - jb);
    }
    rows_transform(j, sl, xb, ty, ix0, ja, jb, sl->rows);
    for (int64_t c = 0; c < in_c; c++) {
      if (c + 1 < in_c)
        rows_transform(j, sl, xb + (c + 1) * plane, ty, ix0, ja, jb, sl->rows + (c + 1) % 2 * 6 * rowlen);
      cols_transform(j, sl, sl->rows + c % 2 * 6 * rowlen, c, ntx, tl, t1 - t0);
    }
  }
  const int64_t nt = t1 - t0, pad = netc_round_up(nt, EPR) - nt;
  if (pad > 0)
    for (int64_t xi = 0; xi < 36; xi++)
      for (int64_t c = 0; c < in_c; c++)
        netc_vzero(sl->v + xi * g->vxi + c * g->ldv + nt, pad);
}

// y for output channels [o0, o0 + m) and the tiles [t0, t1) of image b from
// M [xi][o - o0][tl ...], with bias, residual (read before y is written at
// the same place) and activation.
// Inlined once per common activation, so that the activation's switch
// leaves the loops.
NETC_ALWAYS_INLINE static inline void output_transform_act(const wino_job *j, const wino_slot *sl, int64_t b,
                                                           int64_t t0, int64_t t1, int64_t o0, int64_t m,
                                                           const netc_act act) {
  const netc_conv2d_params *p = j->p;
  const wino_geom *g = &j->g;
  const int64_t tb = g->tb, mstride = g->mxi, out_h = p->out_h, out_w = p->out_w;
  const int64_t plane = out_h * out_w;
  const VEC slope = VSET1(p->act_slope);
  FOR_SEGMENTS(*g, t0, t1, ty, txa, ntx, tl) {
    const int64_t rows = NETC_MIN((int64_t)4, out_h - 4 * ty);
    for (int64_t o = 0; o < m; o++) {
      const float *mo = sl->m + o * tb + tl;
      const VEC bv = VSET1(j->bias ? j->bias[o0 + o] : 0.0f);
      const int64_t yofs = (b * p->out_c + o0 + o) * plane + 4 * ty * out_w;
      float *yo = j->y + yofs;
      const float *ro = j->res ? j->res + yofs : NULL;
      for (int64_t q = 0; q * EPR < ntx; q++) {
        const int64_t n = NETC_MIN((int64_t)EPR, ntx - q * EPR);
        VEC h[6][4];
        if (n == EPR) {
          NETC_UNROLL(6)
          for (int i = 0; i < 6; i++) {
            VEC mv[6];
            NETC_UNROLL(6)
            for (int jj = 0; jj < 6; jj++)
              mv[jj] = VLOAD(mo + (i * 6 + jj) * mstride + q * EPR);
            wino_at(mv, h[i]);
          }
        } else {
          NETC_UNROLL(6)
          for (int i = 0; i < 6; i++) {
            VEC mv[6];
            NETC_UNROLL(6)
            for (int jj = 0; jj < 6; jj++)
              mv[jj] = VLOADN(mo + (i * 6 + jj) * mstride + q * EPR, n);
            wino_at(mv, h[i]);
          }
        }
        const int64_t ow0 = 4 * (txa + q * EPR), cols = NETC_MIN(4 * n, out_w - ow0);  // this group's tiles only
        NETC_UNROLL(4)
        for (int s = 0; s < 4; s++) {
          VEC col[6], out[4];
          NETC_UNROLL(6)
          for (int i = 0; i < 6; i++)
            col[i] = h[i][s];
          wino_at(col, out);
          NETC_UNROLL(4)
          for (int i = 0; i < 4; i++)
            h[i][s] = out[i];  // h[r][s]: output row r, column 4 l + s
        }
        for (int64_t r = 0; r < rows; r++) {
          VEC z[4];
          wino_zip4(h[r], z);
          float *yr = yo + r * out_w + ow0;
          const float *rr = ro ? ro + r * out_w + ow0 : NULL;
          for (int64_t u = 0; u < 4 && u * EPR < cols; u++) {
            const int64_t cn = NETC_MIN((int64_t)EPR, cols - u * EPR);
            VEC v = VADD(z[u], bv);
            if (cn == EPR) {
              if (rr)
                v = VADD(v, VLOAD(rr + u * EPR));
              VSTORE(yr + u * EPR, netc_act_vec(act, slope, v));
            } else {
              if (rr)
                v = VADD(v, VLOADN(rr + u * EPR, cn));
              VSTOREN(yr + u * EPR, netc_act_vec(act, slope, v), cn);
            }
          }
        }
      }
    }
  }
}

static void output_transform(const wino_job *j, const wino_slot *sl, int64_t b, int64_t t0, int64_t t1,
                             int64_t o0, int64_t m) {
  switch (j->p->act) {
  case NETC_ACT_NONE: output_transform_act(j, sl, b, t0, t1, o0, m, NETC_ACT_NONE); break;
  case NETC_ACT_RELU: output_transform_act(j, sl, b, t0, t1, o0, m, NETC_ACT_RELU); break;
  // The rest through the generic dispatch (a new activation lands here).
  case NETC_ACT_RELU6:
  case NETC_ACT_LEAKY_RELU:
  case NETC_ACT_SIGMOID:
  case NETC_ACT_TANH:
  case NETC_ACT_GELU:
  case NETC_ACT_GELU_TANH:
  case NETC_ACT_SILU:
  case NETC_ACT_HARDSWISH:
  case NETC_ACT_HARDSIGMOID:
  case NETC_ACT_MISH:
  case NETC_ACT_ELU:
  case NETC_ACT_COUNT: output_transform_act(j, sl, b, t0, t1, o0, m, j->p->act); break;
  }
}

//
// The products M_xi = U_xi V_xi
//

#define WMR NETC_GEMM_MR
#define WNRV NETC_GEMM_NRV

// Rows [0, mr) of M (row stride ldm), columns [0, nrv EPR) of which the
// last register holds nlast valid ones, = panel q of a packed slice x V
// [K][ldv]. The slice is netc_gemm_pack_a's layout (netc_internal.h):
// depth blocks of KC rows, each m_total x kc in panels of MR rows. V is
// read in place (its rows are short: a block's tiles); the last
// register's lanes past nlast are zeros there (input_transform) and are
// not stored.
NETC_ALWAYS_INLINE static inline void product_tile(const int nrv, const float *a, int64_t m_total, int64_t q,
                                                   int64_t K, const float *v, int64_t ldv, int64_t nlast,
                                                   float *mo, int64_t ldm, int64_t mr) {
  VEC acc[WMR][WNRV];
  netc_tile_zero(WMR, nrv, WNRV, acc);
  for (int64_t p0 = 0; p0 < K; p0 += NETC_GEMM_KC) {
    const int64_t kc = NETC_MIN((int64_t)NETC_GEMM_KC, K - p0);
    // The weights stream through once per block (from memory for deep
    // layers), as in the GEMM's micro-kernel; V's rows are ldv apart.
    netc_tile_fma(WMR, nrv, kc, a + netc_panel_offset(m_total, p0, kc, q, WMR), v + p0 * ldv, ldv, 0, NULL,
                  NULL, WNRV, acc);
  }
  NETC_UNROLL(16)
  for (int i = 0; i < WMR; i++) {
    if (i >= mr)
      break;
    NETC_UNROLL(8)
    for (int jj = 0; jj < nrv - 1; jj++)
      VSTORE(mo + i * ldm + jj * EPR, acc[i][jj]);
    if (nlast == EPR)
      VSTORE(mo + i * ldm + (nrv - 1) * EPR, acc[i][nrv - 1]);
    else
      VSTOREN(mo + i * ldm + (nrv - 1) * EPR, acc[i][nrv - 1], nlast);
  }
}

// (Masked loads of the last register instead of the zeros: 5% slower.)
#define PRODUCT_TILE(name, nrv)                                                                   \
  static void name(const float *a, int64_t m_total, int64_t q, int64_t K, const float *v, int64_t ldv, \
                   int64_t nlast, float *mo, int64_t ldm, int64_t mr) {                             \
    product_tile(nrv, a, m_total, q, K, v, ldv, nlast, mo, ldm, mr);                                \
  }
PRODUCT_TILE(product_tile_full, WNRV)
PRODUCT_TILE(product_tile_1, 1)
#if WNRV > 2
PRODUCT_TILE(product_tile_2, 2)
#endif
#undef PRODUCT_TILE

// M_xi [o][t] for the m channels of group og and the block's nt tiles, all 36 xi.
static void products(const wino_job *j, const wino_slot *sl, int64_t og, int64_t m, int64_t nt) {
  const wino_geom *g = &j->g;
  const int64_t K = j->p->in_c, tb = g->tb, ldv = g->ldv, m_total = netc_round_up(m, WMR);
  const int64_t nvec = netc_ceil_div(nt, EPR), nlast = nt - (nvec - 1) * EPR;
  for (int64_t xi = 0; xi < 36; xi++) {
    const float *a = j->packed + (og * 36 + xi) * g->pstride;
    const float *v = sl->v + xi * g->vxi;
    float *mx = sl->m + xi * g->mxi;
    for (int64_t q = 0; q * WMR < m; q++) {
      const int64_t mr = NETC_MIN((int64_t)WMR, m - q * WMR);
      float *mo = mx + q * WMR * tb;
      int64_t r = 0;
      for (; r + WNRV <= nvec; r += WNRV)
        product_tile_full(a, m_total, q, K, v + r * EPR, ldv, r + WNRV == nvec ? nlast : EPR, mo + r * EPR, tb, mr);
#if WNRV > 2
      for (; r + 2 <= nvec; r += 2)
        product_tile_2(a, m_total, q, K, v + r * EPR, ldv, r + 2 == nvec ? nlast : EPR, mo + r * EPR, tb, mr);
#endif
      for (; r < nvec; r++)
        product_tile_1(a, m_total, q, K, v + r * EPR, ldv, r + 1 == nvec ? nlast : EPR, mo + r * EPR, tb, mr);
    }
  }
}

// Block bi of an image: tiles [*t0, *t1), at most tb of them. An even
// split; for blocks of 32 tiles or more, with the boundaries rounded down to
// multiples of WINO_ALIGN, so that only the image's last block has a
// ragged register of columns (a block of 49 tiles as 48 + 1 costs about as
// much as 64).
static void wino_block(const wino_geom *g, int64_t bi, int64_t *t0, int64_t *t1) {
  const int64_t al = g->aligned ? WINO_ALIGN : 1;
  *t0 = g->tiles * bi / g->nblk / al * al;
  *t1 = bi + 1 == g->nblk ? g->tiles : g->tiles * (bi + 1) / g->nblk / al * al;
}


// One item, on the slot of the calling thread (each thread of the team
// has its own: its number in the team, below WINO_SLOTS).
static void wino_item(void *ctx, int64_t it) {
  wino_job *j = ctx;
  const netc_conv2d_params *p = j->p;
  const wino_geom *g = &j->g;
  int64_t s = 0;
#ifdef _OPENMP
  if (!j->nested)
    s = omp_get_thread_num();
#endif
  assert(s >= 0 && s < WINO_SLOTS);
  const wino_slot sl = slot_of(j, s);
  const int64_t og = it % g->nog, blk = it / g->nog;  // blk counts over images
  const int64_t b = blk / g->nblk;
  int64_t t0, t1;
  wino_block(g, blk % g->nblk, &t0, &t1);
  const int64_t nt = t1 - t0;
  assert(nt >= 1 && nt <= g->tb);
  if (j->have[s] != blk) {
    input_transform(j, &sl, b, t0, t1);
    j->have[s] = blk;
  }
  const int64_t o0 = og * g->ocb, m = NETC_MIN(g->ocb, p->out_c - o0);
  products(j, &sl, og, m, nt);
  output_transform(j, &sl, b, t0, t1, o0, m);
}

void netc_winograd_run(const netc_conv2d_params *p, const float *x, const float *packed, const float *bias,
                       const float *res, float *y, float *scratch) {
  assert(netc_winograd_applies(p));
  wino_job j;
  j.p = p;
  j.g = wino_geom_of(p);
  j.x = x;
  j.packed = packed;
  j.bias = bias;
  j.res = res;
  j.y = y;
  j.scratch = scratch;
  netc_vzero(scratch + WINO_SLOTS * j.g.slot_floats, p->in_w);
  j.items = p->n * j.g.nblk * j.g.nog;
  int64_t threads = 1;
  if ((double)p->out_c * (double)p->in_c * (double)p->out_h * (double)p->out_w * 9.0 >= (double)(1 << 19))
    threads = netc_threads_get();
  j.workers = NETC_MAX((int64_t)1, NETC_MIN(NETC_MIN(threads, (int64_t)WINO_SLOTS), j.items));
  j.nested = 0;
#ifdef _OPENMP
  j.nested = omp_in_parallel();
#endif
  for (int s = 0; s < WINO_SLOTS; s++)
    j.have[s] = -1;
  netc_parallel(j.items, j.workers, wino_item, &j);
}
