// conv_direct.c -- the direct path of conv.c: a GEMM whose B rows are read
// where they lie.
//
// Requires: netc_internal.h (the GEMM's tile sizes and A packing,
//           netc_fill_phase_row, vector spans, netc_parallel).
// Provides: netc_direct_eligible, netc_direct_band_rows and netc_direct_tile
//           for conv.c's planner, which decides when the path is taken;
//           netc_conv_direct, which runs it.
//
// For a stride-1 convolution, tap (i, ky, kx) of output (oh, ow) reads the
// zero-padded input at (i, oh + ky dh, ow + kx dw). Number the outputs by
// t = oh * wp + ow, rows of the padded width wp: then that tap reads element
// t + off(i, ky, kx) of the flat padded input, with
// off = (i hp + ky dh) wp + kx dw. So NR consecutive t of one im2col row are
// NR consecutive floats of the input, and the micro-kernel loads them in
// place: nothing is packed, the weights come packed (ahead of time, or one
// panel at a time on the stack). Columns ow in [out_w, wp) are computed and
// dropped when storing. A padded convolution reads a zero-padded copy of x
// in scratch; an unpadded one reads x itself (the last tile only up to the
// end of x). Used for depths up to KC (one pass, the epilogue in registers)
// when the weights are few next to the image (small out_c, a kernel wider
// than 1x1), where packing im2col panels would cost as much as the
// arithmetic: LeNet, VGG's one-channel first layer. (A 1x1 unpadded
// convolution is a GEMM on x as stored, whose packing is a plain copy: that
// measured as fast or faster.)

#include "netc_internal.h"

#define DR_MAX NETC_TILE_ROWS_MAX // rows of a direct tile (a packed A panel)
#define DV_MAX NETC_TILE_NV_MAX   // registers across a direct tile
// A 6 x 4-register shape besides MR x NRV and MR/2 x 2 NRV where it fits
// the register file and is distinct (AVX-512's 8 x 3).
#define DIRECT_HAS_SIX (NETC_GEMM_MR == 8 && NETC_GEMM_NRV == 3)

// Flat geometry of one output plane.
typedef struct {
  int64_t wp;     // flat row length: the padded input width
  int64_t out_w;  // valid columns per flat row
  int64_t t_end;  // flat positions [0, t_end) hold every output
} flat_geom;

// Where the valid lanes of the vector at flat position t go: seg_n[s]
// lanes from lane seg_lo[s] to plane offset seg_dst[s].
typedef struct {
  int32_t nseg;
  int32_t seg_lo[NETC_F32_EPR + 1], seg_n[NETC_F32_EPR + 1];
  int64_t seg_dst[NETC_F32_EPR + 1];
} flat_segs;


// The vector whose lanes per s hold plane[s's lanes] (0 elsewhere).
static inline NETC_F32_VEC load_segs(const float *plane, const flat_segs *s) {
  float t[NETC_F32_EPR];
  for (int64_t i = 0; i < NETC_F32_EPR; i++)
    t[i] = 0.0f;
  for (int32_t k = 0; k < s->nseg; k++)
    for (int32_t i = 0; i < s->seg_n[k]; i++)
      t[s->seg_lo[k] + i] = plane[s->seg_dst[k] + i];
  return NETC_F32_VEC_LOAD(t);
}

// The epilogue of a direct tile, shared by both shapes.
typedef struct {
  const flat_geom *g;
  float *y;            // output channel row0's plane
  const float *res;    // the residual's plane for row0, or NULL
  const float *bias;   // bias + row0, or NULL
  int64_t plane;       // floats between channel planes
  netc_act act;
  float slope;
} direct_out;

// Bias, residual and activation on a finished tile (rows x nv registers,
// row-major at tile), then the store of its valid lanes. The lanes' places
// are worked out once per tile (one division), then for every row.
static void direct_epilogue(float *tile, int64_t rows, int64_t nv, int64_t mr, int64_t t0,
                            const direct_out *o) {
  const int64_t EPR = NETC_F32_EPR, wp = o->g->wp, out_w = o->g->out_w, t_end = o->g->t_end;
  flat_segs segs[DV_MAX];
  int full[DV_MAX];
  int64_t r = t0 / wp, c = t0 - r * wp;
  for (int64_t j = 0; j < nv; j++) {
    flat_segs *sg = &segs[j];
    const int64_t v0 = t0 + j * EPR, v1 = NETC_MIN(v0 + EPR, t_end);
    int32_t ns = 0;
    int64_t first_n = 0;  // kept in registers: reading the just-written
                          // struct back would stall on store forwarding
    for (int64_t t = v0; t < v1;) {
      if (c >= out_w) {  // dropped columns
        const int64_t skip = NETC_MIN(wp - c, v1 - t);
        t += skip;
        c += skip;
      } else {
        const int64_t n = NETC_MIN(out_w - c, v1 - t);
        if (ns == 0)
          first_n = t == v0 ? n : 0;
        sg->seg_lo[ns] = (int32_t)(t - v0);
        sg->seg_n[ns] = (int32_t)n;
        sg->seg_dst[ns] = r * out_w + c;
        ns++;
        t += n;
        c += n;
      }
      if (c == wp) {
        c = 0;
        r++;
      }
    }
    if (v1 < v0 + EPR) {  // the tile ran past t_end: keep (r, c) in step
      c += v0 + EPR - v1;
      while (c >= wp) {
        c -= wp;
        r++;
      }
    }
    sg->nseg = ns;
    full[j] = ns == 1 && first_n == EPR;
  }
  const int64_t m = NETC_MIN(rows, mr);
  // One pass per register: bias, residual, activation, store. The switch
  // is outside the loops (one loop per activation), as in netc_act_span_f32:
  // for a small layer (LeNet) the epilogue costs as much as the tile's FMAs.
#define DIRECT_EPI_LOOP(ACT)                                                                   \
  for (int64_t i = 0; i < m; i++) {                                                            \
    const NETC_F32_VEC b = NETC_F32_VEC_SET1(o->bias ? o->bias[i] : 0.0f);                     \
    const float *res = o->res ? o->res + i * o->plane : NULL;                                  \
    float *y = o->y + i * o->plane;                                                            \
    for (int64_t j = 0; j < nv; j++) {                                                         \
      NETC_F32_VEC v = NETC_F32_VEC_ADD(NETC_F32_VEC_LOAD(tile + (i * nv + j) * EPR), b);      \
      if (res)                                                                                 \
        v = NETC_F32_VEC_ADD(v, full[j] ? NETC_F32_VEC_LOAD(res + segs[j].seg_dst[0])          \
                                        : load_segs(res, &segs[j]));                           \
      v = ACT;                                                                                 \
      if (full[j])                                                                             \
        NETC_F32_VEC_STORE(y + segs[j].seg_dst[0], v);                                         \
      else                                                                                     \
        for (int32_t q = 0; q < segs[j].nseg; q++)                                             \
          netc_store_lanes(y + segs[j].seg_dst[q], v, segs[j].seg_lo[q], segs[j].seg_n[q]);         \
    }                                                                                          \
  }
  const NETC_F32_VEC zero = NETC_F32_VEC_ZERO;
  switch (o->act) {
  case NETC_ACT_NONE: DIRECT_EPI_LOOP(v) break;
  case NETC_ACT_RELU: DIRECT_EPI_LOOP(NETC_F32_VEC_MAX(zero, v)) break;
  case NETC_ACT_SIGMOID: DIRECT_EPI_LOOP(netc_vsigmoid(v)) break;
  // The rest through the generic dispatch (a new activation lands here).
  case NETC_ACT_RELU6:
  case NETC_ACT_LEAKY_RELU:
  case NETC_ACT_TANH:
  case NETC_ACT_GELU:
  case NETC_ACT_GELU_TANH:
  case NETC_ACT_SILU:
  case NETC_ACT_HARDSWISH:
  case NETC_ACT_HARDSIGMOID:
  case NETC_ACT_MISH:
  case NETC_ACT_ELU:
  case NETC_ACT_COUNT: {
    const NETC_F32_VEC slope = NETC_F32_VEC_SET1(o->slope);
    const netc_act act = o->act;
    DIRECT_EPI_LOOP(netc_act_vec(act, slope, v))
    break;
  }
  }
#undef DIRECT_EPI_LOOP
}

// Where a tile's weights are: panel q of the packed layout of
// netc_pack_a_rows (depth blocks of KC, each m_total rows), panel q of the
// depth block at pc starting at w + pc m_total + q kc rows.
typedef struct {
  const float *w;
  int64_t m_total, q;
} direct_a;

// One tile: output channels [row0, row0 + mr) (packed panel a, kc x ROWS)
// times flat positions [t0, t0 + NV * EPR): B row p is NV registers at
// xb + off[p] (xb = the flat input + t0), of which only the first nload
// floats may be read (>= NV * EPR: all). ROWS and NV are constants at every
// call, so acc[][] lives in registers.
static inline void direct_tile(const int64_t ROWS, const int64_t NV, int64_t k,
                               const direct_a *A, const float *restrict xb,
                               const int32_t *restrict off, int64_t nload, int64_t mr,
                               int64_t t0, const direct_out *o) {
  const int64_t EPR = NETC_F32_EPR;
  NETC_F32_VEC acc[DR_MAX][DV_MAX];
  netc_tile_zero(ROWS, NV, DV_MAX, acc);
  // The whole depth in registers, one packed depth block of A at a time.
  for (int64_t pc = 0; pc < k; pc += NETC_GEMM_KC) {
    const int64_t kc = NETC_MIN((int64_t)NETC_GEMM_KC, k - pc);
    const float *restrict a = A->w + netc_panel_offset(A->m_total, pc, kc, A->q, ROWS);
    if (nload >= NV * EPR) {
      netc_tile_fma(ROWS, NV, kc, a, xb, 0, 1, off + pc, NULL, DV_MAX, acc);
    } else {
      int64_t nl[DV_MAX];
      NETC_UNROLL(8)
      for (int64_t j = 0; j < NV; j++)
        nl[j] = NETC_MAX((int64_t)0, NETC_MIN(EPR, nload - j * EPR));
      netc_tile_fma(ROWS, NV, kc, a, xb, 0, 1, off + pc, nl, DV_MAX, acc);
    }
  }
  // The epilogue works from memory: the tile goes to the stack first.
  float tile[DR_MAX * DV_MAX * NETC_F32_EPR];
  NETC_UNROLL(16)
  for (int64_t i = 0; i < ROWS; i++) {
    NETC_UNROLL(8)
    for (int64_t j = 0; j < NV; j++)
      NETC_F32_VEC_STORE(tile + (i * NV + j) * EPR, acc[i][j]);
  }
  direct_epilogue(tile, ROWS, NV, mr, t0, o);
}

// The two tile shapes: MR x NR (the GEMM's) and MR/2 x 2NR.
static void direct_tile_full(int64_t k, const direct_a *a, const float *xb, const int32_t *off,
                             int64_t nload, int64_t mr, int64_t t0, const direct_out *o) {
  direct_tile(NETC_GEMM_MR, NETC_GEMM_NRV, k, a, xb, off, nload, mr, t0, o);
}
#if NETC_GEMM_MR >= 2
static void direct_tile_half(int64_t k, const direct_a *a, const float *xb, const int32_t *off,
                             int64_t nload, int64_t mr, int64_t t0, const direct_out *o) {
  direct_tile(NETC_GEMM_MR / 2, 2 * NETC_GEMM_NRV, k, a, xb, off, nload, mr, t0, o);
}
#if DIRECT_HAS_SIX
// 6 x 64 for six output channels (LeNet's first layer).
static void direct_tile_six(int64_t k, const direct_a *a, const float *xb, const int32_t *off,
                            int64_t nload, int64_t mr, int64_t t0, const direct_out *o) {
  direct_tile(6, 4, k, a, xb, off, nload, mr, t0, o);
}
#endif
#endif
NETC_STATIC_ASSERT(NETC_GEMM_MR <= DR_MAX, direct_rows_bound);

// The tile shape for out_c rows and t_end flat columns: the one that
// computes fewer padded elements (the wider one on a tie).
static netc_direct_shape direct_pick(int64_t rows, int64_t t_end) {
  const int64_t EPR = NETC_F32_EPR;
  netc_direct_shape cand[3] = {{NETC_GEMM_MR, NETC_GEMM_NRV}, {0, 0}, {0, 0}};
  int ncand = 1;
#if NETC_GEMM_MR >= 2
  cand[ncand].rows = NETC_GEMM_MR / 2;
  cand[ncand++].nv = 2 * NETC_GEMM_NRV;
#endif
#if DIRECT_HAS_SIX
  cand[ncand].rows = 6;
  cand[ncand++].nv = 4;
#endif
  netc_direct_shape best = cand[0];
  int64_t best_cost = netc_round_up(rows, best.rows) * netc_round_up(t_end, best.nv * EPR);
  for (int c = 1; c < ncand; c++) {
    int64_t cost = netc_round_up(rows, cand[c].rows) * netc_round_up(t_end, cand[c].nv * EPR);
    if (cost < best_cost || (cost == best_cost && c == 1)) {
      best = cand[c];
      best_cost = cost;
    }
  }
  return best;
}

// Flat geometry of p (stride 1): the padded input width and height.
static void direct_dims(const netc_conv2d_params *p, int64_t *hp, int64_t *wp) {
  *hp = p->pad_top + p->in_h + p->pad_bottom;
  *wp = p->pad_left + p->in_w + p->pad_right;
}

static int has_padding(const netc_conv2d_params *p) {
  return p->pad_top || p->pad_left || p->pad_bottom || p->pad_right;
}

int netc_direct_eligible(const netc_conv2d_params *p) {
  const int64_t cig = p->in_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  if (k > (int64_t)1 << 20)
    return 0;
  int64_t hp, wp;
  direct_dims(p, &hp, &wp);
  // Offsets are int32; a stride past 2 deals its phases through a row of
  // stack.
  if ((double)cig * (hp + p->stride_h) * (wp + p->stride_w) > (double)INT32_MAX / 2 ||
      (p->stride_w > 2 && wp + p->stride_w > 2 * NETC_PHASE_CHUNK))
    return 0;
  // The copied input needs at least one band of output rows in the scratch
  // sized for the GEMM paths (plan_conv checks; see netc_direct_band_rows).
  return 1;
}

// One group of one batch item, for netc_parallel.
typedef struct {
  const netc_conv2d_params *p;
  netc_direct_shape sh;
  const flat_geom *g;
  const float *src;         // the flat (padded) input of the group
  int64_t src_len;          // floats readable from src
  const int32_t *off;       // [k]
  int64_t k;
  const float *w;           // packed panels, or raw weights [cog, k]
  int packed;
  const float *bias, *res;  // of the group, or NULL
  float *y;
  int64_t plane, cog, ntiles, npanels, nchunks;
  int by_tiles;
} direct_job;

static void direct_chunk(void *ctx, int64_t c) {
  const direct_job *j = ctx;
  const int64_t EPR = NETC_F32_EPR, rows = j->sh.rows, width = j->sh.nv * EPR;
  const int64_t units = j->by_tiles ? j->ntiles : j->npanels;
  const int64_t u0 = units * c / j->nchunks, u1 = units * (c + 1) / j->nchunks;
  const int64_t q0 = j->by_tiles ? 0 : u0, q1 = j->by_tiles ? j->npanels : u1;
  const int64_t c0 = j->by_tiles ? u0 : 0, c1 = j->by_tiles ? u1 : j->ntiles;
  float apanel[DR_MAX * NETC_GEMM_KC];
  for (int64_t q = q0; q < q1; q++) {
    const int64_t row0 = q * rows, mr = NETC_MIN(rows, j->cog - row0);
    direct_a a = {j->w, netc_round_up(j->cog, rows), q};
    if (!j->packed) {  // depth <= KC: one panel, packed here
      assert(j->k <= NETC_GEMM_KC);
      netc_pack_a_rows(NETC_NO_TRANS, mr, j->k, j->w + row0 * j->k, j->k, rows, apanel);
      a.w = apanel;
      a.m_total = 0;
      a.q = 0;
    }
    direct_out o = {j->g, j->y + row0 * j->plane, j->res ? j->res + row0 * j->plane : NULL,
                    j->bias ? j->bias + row0 : NULL, j->plane, j->p->act, j->p->act_slope};
    for (int64_t t = c0; t < c1; t++) {
      const int64_t t0 = t * width;
      const int64_t nload = j->src_len - j->off[j->k - 1] - t0;
#if DIRECT_HAS_SIX
      if (rows == 6 && j->sh.nv == 4)
        direct_tile_six(j->k, &a, j->src + t0, j->off, nload, mr, t0, &o);
      else
#endif
#if NETC_GEMM_MR >= 2
      if (rows != NETC_GEMM_MR)
        direct_tile_half(j->k, &a, j->src + t0, j->off, nload, mr, t0, &o);
      else
#endif
        direct_tile_full(j->k, &a, j->src + t0, j->off, nload, mr, t0, &o);
    }
  }
}

#define DIRECT_BAND_FLOATS (1 << 17)

// Output rows per band of a padded direct convolution: as many as the
// scratch holds (the offsets, then cig x (band + (kh - 1) dh) padded rows
// and a tile of slack); 0 if not even one fits.
// The copy of the input the direct kernel reads, for bands of `band`
// output rows: each channel's padded rows split into sh x sw stride phases
// of rp rows of plen floats (stride 1: the padded rows themselves).
typedef struct {
  int64_t plen, rp, nphase;
  int in_place;  // stride 1, no padding: x itself, all rows, no copy
} direct_layout;

static direct_layout direct_layout_for(const netc_conv2d_params *p, int64_t band) {
  direct_layout l;
  int64_t hp, wp;
  direct_dims(p, &hp, &wp);
  l.in_place = !has_padding(p) && p->stride_h == 1 && p->stride_w == 1;
  l.plen = (wp + p->stride_w - 1) / p->stride_w;
  l.nphase = p->stride_h * p->stride_w;
  const int64_t rows = (band - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
  l.rp = l.in_place ? hp : (rows + p->stride_h - 1) / p->stride_h;
  return l;
}

// Output rows per band of a copied input: as many as the scratch holds
// (the offsets, then cig phases x rp rows x plen and a tile of slack) and,
// when that leaves a few rows, no more than about half of a 1 MB L2 (every
// panel of weights sweeps the band); 0 if not even one row fits.
int64_t netc_direct_band_rows(const netc_conv2d_params *p) {
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  if (direct_layout_for(p, 1).in_place)
    return p->out_h;
  const int64_t room = netc_gemm_scratch_floats(cog, p->out_h * p->out_w, k) - k - 2 * NETC_GEMM_TILE_MAX - 64;
  int64_t band = p->out_h;
  for (int64_t pass = 0; pass < 2; pass++) {
    const int64_t cap = pass == 0 ? room : DIRECT_BAND_FLOATS;
    // Floats per band of b rows: cig nphase rp(b) plen, rp(b) ~ b + extra.
    direct_layout l = direct_layout_for(p, 1);
    int64_t b = cap / (cig * l.nphase * l.plen) - (l.rp - 1);
    b = NETC_MIN(b, band);
    while (b > 0) {
      l = direct_layout_for(p, b);
      if (cig * l.nphase * l.rp * l.plen <= cap)
        break;
      b--;
    }
    if (pass == 0)
      band = b;
    else if (b >= 4)
      band = NETC_MIN(band, b);
    if (band <= 0)
      return 0;
  }
  return band;
}

// The room netc_direct_band_rows leaves around the copy: the offsets (k
// int32), two 64-byte alignments, and the zeroed tail of one tile.
int64_t netc_direct_scratch_floats(const netc_conv2d_params *p, int64_t band) {
  const int64_t cig = p->in_c / p->groups;
  const int64_t k = cig * p->kernel_h * p->kernel_w;
  const direct_layout l = direct_layout_for(p, band);
  const int64_t copy = l.in_place ? 0 : cig * l.nphase * l.rp * l.plen;
  return k + 2 * NETC_GEMM_TILE_MAX + 64 + copy;
}

netc_direct_shape netc_direct_tile(const netc_conv2d_params *p, int64_t band) {
  return direct_pick(p->out_c / p->groups, (band - 1) * direct_layout_for(p, band).plen + p->out_w);
}

void netc_conv_direct(const netc_conv2d_params *p, netc_direct_shape sh, int64_t band,
                      const float *x, const float *w, const float *packed, const float *bias,
                      const float *res, float *y, float *scratch) {
  const int64_t EPR = NETC_F32_EPR;
  const int64_t cig = p->in_c / p->groups, cog = p->out_c / p->groups;
  const int64_t kh = p->kernel_h, kw = p->kernel_w, k = cig * kh * kw;
  const int64_t sh_ = p->stride_h, sw_ = p->stride_w;
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  // The input is copied one band of output rows at a time (zero-padded,
  // split into stride phases); an unpadded stride-1 one is read in place.
  const direct_layout lay = direct_layout_for(p, band);
  const int64_t plen = lay.plen, rp = lay.rp, nph = lay.nphase;
  const int64_t width = sh.nv * EPR;
  const int64_t npanels = (cog + sh.rows - 1) / sh.rows;
  assert(band >= 1);

  // Scratch: the offset table, then the band copy. Tap (i, ky, kx) of flat
  // output t = (oh - oh0) plen + ow reads phase (i, dy % sh, dx % sw) at row
  // oh - oh0 + dy / sh, column ow + dx / sw (dy = ky dh, dx = kx dw).
  int32_t *off = (int32_t *)(void *)netc_align64(scratch);
  float *buf = netc_align64((float *)(void *)(off + k));
  for (int64_t i = 0, t = 0; i < cig; i++)
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++) {
        const int64_t dy = ky * p->dilation_h, dx = kx * p->dilation_w;
        off[t++] = (int32_t)(((i * nph + dy % sh_ * sw_ + dx % sw_) * rp + dy / sh_) * plen + dx / sw_);
      }
  // Floats readable from the source: the band copy has a tile of zero
  // slack; x is read only up to its end.
  const int64_t src_len = lay.in_place ? cig * in_plane : cig * nph * rp * plen + width;
  if (!lay.in_place)
    netc_vzero(buf + cig * nph * rp * plen, width + 16);

  int64_t threads = 1;
  if ((double)cog * (double)out_plane * (double)k >= (double)(1 << 19))
    threads = netc_threads_get();
  const int64_t wstride = netc_gemm_packed_a_floats(cog, k);

  for (int64_t b = 0; b < p->n; b++)
    for (int64_t gr = 0; gr < p->groups; gr++) {
      const float *xg = x + (b * p->in_c + gr * cig) * in_plane;
      const int64_t cofs = (b * p->out_c + gr * cog) * out_plane;
      for (int64_t oh0 = 0; oh0 < p->out_h; oh0 += band) {
        const int64_t nbr = NETC_MIN(band, p->out_h - oh0);
        const float *src = xg;
        if (!lay.in_place) {
          // Padded band row rr (padded input row oh0 sh + rr) goes to row
          // rr / sh of the phases (i, rr % sh, f).
          float tmp[2 * NETC_PHASE_CHUNK + 4 * NETC_F32_EPR];
          const int64_t rows = (nbr - 1) * sh_ + (kh - 1) * p->dilation_h + 1;
          for (int64_t i = 0; i < cig; i++)
            for (int64_t rr = 0; rr < rows; rr++) {
              const int64_t ih = oh0 * sh_ + rr - p->pad_top;
              netc_fill_phase_row(ih >= 0 && ih < p->in_h ? xg + i * in_plane + ih * p->in_w : NULL, p->in_w,
                             p->pad_left, plen, sw_, buf + ((i * nph + rr % sh_ * sw_) * rp + rr / sh_) * plen,
                             rp * plen, tmp);
            }
          src = buf;
        }
        const flat_geom g = {plen, p->out_w, (nbr - 1) * plen + p->out_w};
        const int64_t ntiles = (g.t_end + width - 1) / width;
        // Chunks are ranges of tiles (or of panels, when there are too few
        // tiles to share), a few per thread.
        const int by_tiles = ntiles >= 2 * threads || ntiles >= npanels;
        const int64_t units = by_tiles ? ntiles : npanels;
        // Deep layers: one chunk per thread, so that each panel of weights
        // (loaded from memory) serves as many tiles as possible.
        const int64_t nchunks = threads > 1 ? NETC_MIN(units, (k > NETC_GEMM_KC ? 1 : 4) * threads) : 1;
        direct_job job = {p, sh, &g, src, src_len, off, k,
                          packed ? packed + gr * wstride : w + gr * cog * k, packed != NULL,
                          bias ? bias + gr * cog : NULL, res ? res + cofs + oh0 * p->out_w : NULL,
                          y + cofs + oh0 * p->out_w, out_plane, cog, ntiles, npanels, nchunks, by_tiles};
        netc_parallel(nchunks, threads, direct_chunk, &job);
      }
    }
}

