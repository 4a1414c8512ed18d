// pool.c -- max, average and adaptive average pooling, NCHW, as PyTorch's CPU
// kernels (aten/src/ATen/native/cpu/MaxPoolKernel.cpp, AvgPoolKernel.cpp,
// AdaptiveAvgPoolKernel.cpp).
//
// Window of output (oh, ow): rows ih = oh*sh - pt + ky*dh, ky < kh, and
// columns likewise.
//   max: the largest tap inside the input (padding is -inf; NaN wins);
//   avg: the sum of the taps inside the input, divided by either the number
//        of taps inside the padded input [-pt, in_h + pb) x [-pl, in_w + pr)
//        (count_include_pad) or the number inside the input; 0 if none.
// In ceil mode the last window may hang past the padded input; those taps
// count for neither divisor, exactly as in PyTorch.

#include "netc_internal.h"

#include <string.h>

int64_t netc_pool2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad0, int64_t pad1,
                             int64_t dilation, int32_t ceil_mode) {
  if (stride <= 0)
    return 0;
  int64_t span = in + pad0 + pad1 - dilation * (k - 1) - 1;
  int64_t out = (ceil_mode ? netc_ceil_div(span, stride) : netc_floor_div(span, stride)) + 1;
  // The last window must start inside the input or the leading padding.
  if (ceil_mode && out > 0 && (out - 1) * stride >= in + pad0)
    out--;
  return out;
}

int32_t netc_pool2d_check(const netc_pool2d_params *p, char *err, size_t errlen) {
  if (p->n < 1 || p->c < 1 || p->in_h < 1 || p->in_w < 1)
    return netc_errorf(err, errlen, "pool2d: sizes must be >= 1 (n %lld, c %lld, in %lldx%lld)",
                       (long long)p->n, (long long)p->c, (long long)p->in_h, (long long)p->in_w);
  if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 ||
      p->dilation_h < 1 || p->dilation_w < 1)
    return netc_errorf(err, errlen, "pool2d: kernel %lldx%lld, stride %lldx%lld, dilation %lldx%lld must all be >= 1",
                       (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                       (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w);
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0)
    return netc_errorf(err, errlen, "pool2d: negative padding");
  int64_t oh = netc_pool2d_out_size(p->in_h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom,
                                    p->dilation_h, p->ceil_mode);
  int64_t ow = netc_pool2d_out_size(p->in_w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right,
                                    p->dilation_w, p->ceil_mode);
  if (oh < 1 || ow < 1)
    return netc_errorf(err, errlen, "pool2d: window does not fit: output would be %lldx%lld",
                       (long long)oh, (long long)ow);
  if (oh != p->out_h || ow != p->out_w)
    return netc_errorf(err, errlen, "pool2d: output is %lldx%lld, params say %lldx%lld", (long long)oh,
                       (long long)ow, (long long)p->out_h, (long long)p->out_w);
  return 0;
}

// First and one-past-last tap index t of a window starting at `start` with
// spacing d whose coordinate start + t*d lies in [lo, hi).
static void tap_range(int64_t start, int64_t k, int64_t d, int64_t lo, int64_t hi, int64_t *t0,
                      int64_t *t1) {
  *t0 = NETC_MAX((int64_t)0, netc_ceil_div(lo - start, d));
  *t1 = NETC_MIN(k, netc_floor_div(hi - 1 - start, d) + 1);
  if (*t1 < *t0)
    *t1 = *t0;
}

static int parallel_planes(const netc_pool2d_params *p) {
  return (double)p->n * p->c * p->out_h * p->out_w * p->kernel_h * p->kernel_w >= (double)(1 << 18);
}

//
// Fast path, one output row at a time, vectorised:
//   1. vertical: the window's rows that lie inside the input are reduced
//      (max or sum) into row[], indexed from the left padding: row[pl + iw];
//      positions in the padding or past it hold the identity (-inf or 0);
//   2. horizontal: y[ow] = reduce over kx of row[ow sw + kx dw]. Stride 1
//      reads row[] at kx dw; stride s first deals row[] into s phases,
//      ph[f][j] = row[j s + f] (two vector unzips for s == 2), so tap
//      kx dw = q s + f reads ph[f][ow + q]: contiguous again.
// Max uses a NaN-propagating max (NaN wins, as in PyTorch); padding never
// wins over an input value, and a window with no input value gives -inf.
// Average divides each sum by its window's count (computed per column once).
//

#define POOL_ROW 2048  // floats of row[] and of the phases (stack)

typedef struct {
  int64_t span;  // row[] positions the windows touch: (out_w - 1) sw + (kw - 1) dw + 1
  int64_t plen;  // floats per phase
} pool_geom;

static int pool_fast_geom(const netc_pool2d_params *p, pool_geom *g) {
  const int64_t EPR = NETC_F32_EPR;
  g->span = (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
  g->plen = p->out_w + (p->kernel_w - 1) * p->dilation_w / p->stride_w + EPR;
  return g->span + 4 * EPR <= POOL_ROW && p->stride_w * g->plen + 2 * EPR <= POOL_ROW &&
         p->out_w <= POOL_ROW;
}

// Vertical pass for output row oh: row[] as above, over the window rows
// inside the input, or (ky_only >= 0) just window row ky_only; returns the
// number of window rows inside the input.
static int64_t pool_vertical(const netc_pool2d_params *p, int is_max, const float *xp, int64_t oh,
                             const pool_geom *g, float *restrict row, int64_t ky_only) {
  const int64_t EPR = NETC_F32_EPR;
  const float ident = is_max ? -INFINITY : 0.0f;
  const int64_t ih0 = oh * p->stride_h - p->pad_top;
  int64_t ky0, ky1;
  tap_range(ih0, p->kernel_h, p->dilation_h, 0, p->in_h, &ky0, &ky1);
  const int64_t rows_in = ky1 - ky0;
  if (ky_only >= 0) {
    ky0 = ky_only;
    ky1 = ky_only + 1;
  }
  const int64_t j0 = NETC_MIN(p->pad_left, g->span), j1 = NETC_MIN(g->span, p->pad_left + p->in_w);
  // Everything the horizontal pass may read (its phase split reads up to
  // sw * plen) is initialised.
  const int64_t fill_end = NETC_MIN((int64_t)POOL_ROW + 4 * EPR,
                                    NETC_MAX(netc_round_up(g->span, EPR) + 2 * EPR, p->stride_w * g->plen + 2 * EPR));
  for (int64_t j = 0; j < j0; j++)
    row[j] = ident;
  for (int64_t j = NETC_MAX(j0, j1); j < fill_end; j++)
    row[j] = ident;
  if (j1 <= j0)
    return rows_in;
  if (ky0 >= ky1) {
    for (int64_t j = j0; j < j1; j++)
      row[j] = ident;
    return 0;
  }
  const int64_t n = j1 - j0;
  float *dst = row + j0;
  const float *src0 = xp + (ih0 + ky0 * p->dilation_h) * p->in_w + (j0 - p->pad_left);
  int64_t i = 0;
  for (; i + EPR <= n; i += EPR) {
    NETC_F32_VEC v = NETC_F32_VEC_LOAD(src0 + i);
    for (int64_t ky = ky0 + 1; ky < ky1; ky++) {
      NETC_F32_VEC u = NETC_F32_VEC_LOAD(src0 + (ky - ky0) * p->dilation_h * p->in_w + i);
      v = is_max ? NETC_F32_VEC_MAXNAN(v, u) : NETC_F32_VEC_ADD(v, u);
    }
    NETC_F32_VEC_STORE(dst + i, v);
  }
  for (; i < n; i++) {
    float v = src0[i];
    for (int64_t ky = ky0 + 1; ky < ky1; ky++) {
      float u = src0[(ky - ky0) * p->dilation_h * p->in_w + i];
      v = is_max ? (v != v ? v : (u > v || u != u) ? u : v) : v + u;
    }
    dst[i] = v;
  }
  return rows_in;
}

// Horizontal pass: the taps of row[] into out[0, out_w): their max, their
// sum, or (accumulate) out plus their sum, the taps added left to right.
static void pool_horizontal(const netc_pool2d_params *p, int is_max, int accumulate,
                            const pool_geom *g, const float *restrict row, float *restrict ph,
                            float *restrict out) {
  const int64_t EPR = NETC_F32_EPR, sw = p->stride_w, dw = p->dilation_w, kw = p->kernel_w;
  const float *base = row;
  int64_t pstride = 0;  // floats between phases
  if (sw > 1) {
    pstride = g->plen;
    int64_t j = 0;
    if (sw == 2) {
      for (; j + EPR <= g->plen && 2 * (j + EPR) <= POOL_ROW; j += EPR) {
        NETC_F32_VEC ev, od;
        NETC_F32_VEC_UNZIP(NETC_F32_VEC_LOAD(row + 2 * j), NETC_F32_VEC_LOAD(row + 2 * j + EPR), ev, od);
        NETC_F32_VEC_STORE(ph + j, ev);
        NETC_F32_VEC_STORE(ph + pstride + j, od);
      }
    }
    for (; j < g->plen; j++)
      for (int64_t f = 0; f < sw; f++)
        ph[f * pstride + j] = j * sw + f < POOL_ROW ? row[j * sw + f] : 0.0f;
    base = ph;
  }
  int64_t ow = 0;
  for (; ow < p->out_w; ow += EPR) {
    NETC_F32_VEC acc = accumulate ? NETC_F32_VEC_LOAD(out + ow) : NETC_F32_VEC_ZERO;
    for (int64_t kx = 0; kx < kw; kx++) {
      const int64_t t = kx * dw;
      const float *src = sw > 1 ? base + (t % sw) * pstride + t / sw + ow : base + t + ow;
      NETC_F32_VEC v = NETC_F32_VEC_LOAD(src);
      acc = is_max ? (kx == 0 ? v : NETC_F32_VEC_MAXNAN(acc, v)) : NETC_F32_VEC_ADD(acc, v);
    }
    NETC_F32_VEC_STORE(out + ow, acc);
  }
}

// Max (is_max) or average pooling of planes [q0, q1), fast path.
static void pool_fast(const netc_pool2d_params *p, int is_max, const pool_geom *g, const float *x,
                      float *y, int64_t q0, int64_t q1) {
  const int64_t EPR = NETC_F32_EPR;
  float row[POOL_ROW + 4 * NETC_F32_EPR], ph[POOL_ROW + 4 * NETC_F32_EPR];
  float out[POOL_ROW + NETC_F32_EPR];
  // Average: per column the window's width inside the padded input and
  // inside the input.
  float colp[POOL_ROW], colv[POOL_ROW];
  if (!is_max)
    for (int64_t ow = 0; ow < p->out_w; ow++) {
      int64_t iw0 = ow * p->stride_w - p->pad_left;
      int64_t iw1 = NETC_MIN(iw0 + p->kernel_w, p->in_w + p->pad_right);
      colp[ow] = (float)(iw1 - iw0);
      // A window with no input column sums to 0; any divisor but 0 keeps it 0.
      colv[ow] = (float)NETC_MAX((int64_t)1, NETC_MIN(iw1, p->in_w) - NETC_MAX(iw0, (int64_t)0));
    }
  for (int64_t q = q0; q < q1; q++) {
    const float *xp = x + q * p->in_h * p->in_w;
    float *yp = y + q * p->out_h * p->out_w;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
      float *yr = yp + oh * p->out_w;
      const int64_t ih0 = oh * p->stride_h - p->pad_top;
      if (is_max) {
        pool_vertical(p, 1, xp, oh, g, row, -1);
        pool_horizontal(p, 1, 0, g, row, ph, out);
        memcpy(yr, out, sizeof(float) * (size_t)p->out_w);
        continue;
      }
      // Average: row by row, each left to right, the order in which
      // PyTorch adds the window (so the sums come out bit for bit the same).
      int64_t ky0, ky1;
      tap_range(ih0, p->kernel_h, 1, 0, p->in_h, &ky0, &ky1);
      const int64_t rows_in = ky1 - ky0;
      for (int64_t ky = ky0; ky < ky1; ky++) {
        pool_vertical(p, 0, xp, oh, g, row, ky);
        pool_horizontal(p, 0, ky > ky0, g, row, ph, out);
      }
      const int64_t rows_padded = NETC_MIN(ih0 + p->kernel_h, p->in_h + p->pad_bottom) - ih0;
      if (rows_in <= 0) {
        for (int64_t ow = 0; ow < p->out_w; ow++)
          yr[ow] = 0.0f;
        continue;
      }
      const float rdiv = (float)(p->count_include_pad ? rows_padded : rows_in);
      const float *cdiv = p->count_include_pad ? colp : colv;
      int64_t ow = 0;
      for (; ow + EPR <= p->out_w; ow += EPR) {
        NETC_F32_VEC d = NETC_F32_VEC_MUL(NETC_F32_VEC_SET1(rdiv), NETC_F32_VEC_LOAD(cdiv + ow));
        NETC_F32_VEC_STORE(yr + ow, NETC_F32_VEC_DIV(NETC_F32_VEC_LOAD(out + ow), d));
      }
      for (; ow < p->out_w; ow++)
        yr[ow] = out[ow] / (rdiv * cdiv[ow]);
    }
  }
}

// 2x2 windows at stride 2 that all lie inside the input (VGG, LeNet, UNet):
// two rows, one vertical op, one unzip, one horizontal op per EPR outputs.
static int pool_is_2x2(const netc_pool2d_params *p) {
  return p->kernel_h == 2 && p->kernel_w == 2 && p->stride_h == 2 && p->stride_w == 2 &&
         p->dilation_h == 1 && p->dilation_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
         2 * p->out_h <= p->in_h && 2 * p->out_w <= p->in_w;
}

static void pool_2x2(const netc_pool2d_params *p, int is_max, const float *x, float *y, int64_t q0,
                     int64_t q1) {
  const int64_t EPR = NETC_F32_EPR;
  const NETC_F32_VEC quarter = NETC_F32_VEC_SET1(0.25f);
  for (int64_t q = q0; q < q1; q++) {
    const float *xp = x + q * p->in_h * p->in_w;
    float *yp = y + q * p->out_h * p->out_w;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
      const float *r0 = xp + 2 * oh * p->in_w, *r1 = r0 + p->in_w;
      float *yr = yp + oh * p->out_w;
      for (int64_t ow = 0; ow < p->out_w; ow += EPR) {
        const int64_t n = NETC_MIN(EPR, p->out_w - ow), lo = NETC_MIN(EPR, 2 * n), hi = 2 * n - lo;
        NETC_F32_VEC a0, a1, b0, b1;
        if (n == EPR) {
          a0 = NETC_F32_VEC_LOAD(r0 + 2 * ow);
          a1 = NETC_F32_VEC_LOAD(r0 + 2 * ow + EPR);
          b0 = NETC_F32_VEC_LOAD(r1 + 2 * ow);
          b1 = NETC_F32_VEC_LOAD(r1 + 2 * ow + EPR);
        } else {
          a0 = NETC_F32_VEC_LOADN(r0 + 2 * ow, lo);
          b0 = NETC_F32_VEC_LOADN(r1 + 2 * ow, lo);
          a1 = hi > 0 ? NETC_F32_VEC_LOADN(r0 + 2 * ow + EPR, hi) : NETC_F32_VEC_ZERO;
          b1 = hi > 0 ? NETC_F32_VEC_LOADN(r1 + 2 * ow + EPR, hi) : NETC_F32_VEC_ZERO;
        }
        NETC_F32_VEC ev, od, r;
        if (is_max) {
          NETC_F32_VEC_UNZIP(NETC_F32_VEC_MAXNAN(a0, b0), NETC_F32_VEC_MAXNAN(a1, b1), ev, od);
          r = NETC_F32_VEC_MAXNAN(ev, od);
        } else {
          // ((x00 + x01) + x10) + x11: PyTorch's order, for identical sums.
          NETC_F32_VEC e1, o1;
          NETC_F32_VEC_UNZIP(a0, a1, ev, od);
          NETC_F32_VEC_UNZIP(b0, b1, e1, o1);
          r = NETC_F32_VEC_ADD(NETC_F32_VEC_ADD(NETC_F32_VEC_ADD(NETC_F32_VEC_ADD(NETC_F32_VEC_ZERO, ev), od), e1), o1);
          r = NETC_F32_VEC_MUL(r, quarter);
        }
        if (n == EPR)
          NETC_F32_VEC_STORE(yr + ow, r);
        else
          NETC_F32_VEC_STOREN(yr + ow, r, n);
      }
    }
  }
}

// Scalar fallback for rows too wide for the fast path.
static void maxpool_planes(const netc_pool2d_params *p, const float *x, float *y, int64_t q0,
                           int64_t q1) {
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  for (int64_t q = q0; q < q1; q++) {
    const float *xp = x + q * in_plane;
    float *yp = y + q * out_plane;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
      int64_t ih0 = oh * p->stride_h - p->pad_top, ky0, ky1;
      tap_range(ih0, p->kernel_h, p->dilation_h, 0, p->in_h, &ky0, &ky1);
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        int64_t iw0 = ow * p->stride_w - p->pad_left, kx0, kx1;
        tap_range(iw0, p->kernel_w, p->dilation_w, 0, p->in_w, &kx0, &kx1);
        float m = -INFINITY;
        for (int64_t ky = ky0; ky < ky1; ky++) {
          const float *xr = xp + (ih0 + ky * p->dilation_h) * p->in_w + iw0;
          for (int64_t kx = kx0; kx < kx1; kx++) {
            float v = xr[kx * p->dilation_w];
            if (v > m || v != v)
              m = v;
          }
        }
        yp[oh * p->out_w + ow] = m;
      }
    }
  }
}

static void avgpool_planes(const netc_pool2d_params *p, const float *x, float *y, int64_t q0,
                           int64_t q1) {
  const int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
  for (int64_t q = q0; q < q1; q++) {
    const float *xp = x + q * in_plane;
    float *yp = y + q * out_plane;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
      int64_t ih0 = oh * p->stride_h - p->pad_top;
      int64_t ih1 = NETC_MIN(ih0 + p->kernel_h, p->in_h + p->pad_bottom);
      int64_t rows_padded = ih1 - ih0;
      ih0 = NETC_MAX(ih0, (int64_t)0);
      ih1 = NETC_MIN(ih1, p->in_h);
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        int64_t iw0 = ow * p->stride_w - p->pad_left;
        int64_t iw1 = NETC_MIN(iw0 + p->kernel_w, p->in_w + p->pad_right);
        int64_t cols_padded = iw1 - iw0;
        iw0 = NETC_MAX(iw0, (int64_t)0);
        iw1 = NETC_MIN(iw1, p->in_w);
        if (ih0 >= ih1 || iw0 >= iw1) {
          yp[oh * p->out_w + ow] = 0.0f;
          continue;
        }
        float sum = 0.0f;
        for (int64_t ih = ih0; ih < ih1; ih++)
          for (int64_t iw = iw0; iw < iw1; iw++)
            sum += xp[ih * p->in_w + iw];
        int64_t div = p->count_include_pad ? rows_padded * cols_padded : (ih1 - ih0) * (iw1 - iw0);
        yp[oh * p->out_w + ow] = sum / (float)div;
      }
    }
  }
}

typedef struct {
  const netc_pool2d_params *p;
  int is_max, fast;
  pool_geom g;
  const float *x;
  float *y;
  int64_t planes, nchunks;
} pool_job;

static void pool_chunk(void *ctx, int64_t c) {
  const pool_job *j = ctx;
  const int64_t q0 = j->planes * c / j->nchunks, q1 = j->planes * (c + 1) / j->nchunks;
  if (pool_is_2x2(j->p))
    pool_2x2(j->p, j->is_max, j->x, j->y, q0, q1);
  else if (j->fast)
    pool_fast(j->p, j->is_max, &j->g, j->x, j->y, q0, q1);
  else if (j->is_max)
    maxpool_planes(j->p, j->x, j->y, q0, q1);
  else
    avgpool_planes(j->p, j->x, j->y, q0, q1);
}

static void pool_run(const netc_pool2d_params *p, int is_max, const float *x, float *y) {
  pool_job j;
  j.p = p;
  j.is_max = is_max;
  j.fast = pool_fast_geom(p, &j.g);
  j.x = x;
  j.y = y;
  j.planes = p->n * p->c;
  const int64_t threads = parallel_planes(p) ? netc_threads_get() : 1;
  j.nchunks = threads > 1 ? NETC_MIN(j.planes, 8 * threads) : 1;
  netc_parallel(j.nchunks, threads, pool_chunk, &j);
}

void netc_maxpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  assert(netc_pool2d_check(p, NULL, 0) == 0);
  pool_run(p, 1, x, y);
}

void netc_avgpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  assert(netc_pool2d_check(p, NULL, 0) == 0);
  assert(p->dilation_h == 1 && p->dilation_w == 1);
  pool_run(p, 0, x, y);
}

// Reference max: every tap of the window, each checked against the input.
void netc_ref_maxpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  for (int64_t q = 0; q < p->n * p->c; q++)
    for (int64_t oh = 0; oh < p->out_h; oh++)
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        float m = -INFINITY;
        for (int64_t ky = 0; ky < p->kernel_h; ky++)
          for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            int64_t ih = oh * p->stride_h - p->pad_top + ky * p->dilation_h;
            int64_t iw = ow * p->stride_w - p->pad_left + kx * p->dilation_w;
            if (ih < 0 || ih >= p->in_h || iw < 0 || iw >= p->in_w)
              continue;
            float v = x[(q * p->in_h + ih) * p->in_w + iw];
            if (isnan(v) || (!isnan(m) && v > m))
              m = v;
          }
        y[(q * p->out_h + oh) * p->out_w + ow] = m;
      }
}

// Reference average: every tap is classified as inside the input (summed and
// counted), inside the padding (counted when count_include_pad) or beyond
// the padding (ceil mode's overhang: ignored). Double accumulation.
void netc_ref_avgpool2d_f32(const netc_pool2d_params *p, const float *x, float *y) {
  for (int64_t q = 0; q < p->n * p->c; q++)
    for (int64_t oh = 0; oh < p->out_h; oh++)
      for (int64_t ow = 0; ow < p->out_w; ow++) {
        double sum = 0.0;
        int64_t inside = 0, padded = 0;
        for (int64_t ky = 0; ky < p->kernel_h; ky++)
          for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            int64_t ih = oh * p->stride_h - p->pad_top + ky;
            int64_t iw = ow * p->stride_w - p->pad_left + kx;
            if (ih >= -p->pad_top && ih < p->in_h + p->pad_bottom && iw >= -p->pad_left &&
                iw < p->in_w + p->pad_right)
              padded++;
            if (ih >= 0 && ih < p->in_h && iw >= 0 && iw < p->in_w) {
              inside++;
              sum += x[(q * p->in_h + ih) * p->in_w + iw];
            }
          }
        int64_t div = p->count_include_pad ? padded : inside;
        y[(q * p->out_h + oh) * p->out_w + ow] = inside == 0 ? 0.0f : (float)(sum / (double)div);
      }
}

// Adaptive windows: [floor(i * in / out), ceil((i + 1) * in / out)).
static int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return i * in / out; }
static int64_t adaptive_end(int64_t i, int64_t out, int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

void netc_adaptive_avgpool2d_f32(int64_t n, int64_t c, int64_t in_h, int64_t in_w, int64_t out_h,
                                 int64_t out_w, const float *x, float *y) {
  const int64_t planes = n * c;
  int par = (double)planes * in_h * in_w >= (double)(1 << 18);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t q = 0; q < planes; q++) {
    const float *xp = x + q * in_h * in_w;
    float *yp = y + q * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; oh++) {
      int64_t h0 = adaptive_start(oh, out_h, in_h), h1 = adaptive_end(oh, out_h, in_h);
      for (int64_t ow = 0; ow < out_w; ow++) {
        int64_t w0 = adaptive_start(ow, out_w, in_w), w1 = adaptive_end(ow, out_w, in_w);
        float sum = 0.0f;
        for (int64_t ih = h0; ih < h1; ih++) {
          const float *xr = xp + ih * in_w;
          int64_t iw = w0;
          if (w1 - w0 >= NETC_F32_EPR) {
            NETC_F32_VEC acc = NETC_F32_VEC_ZERO;
            for (; iw + NETC_F32_EPR <= w1; iw += NETC_F32_EPR)
              acc = NETC_F32_VEC_ADD(acc, NETC_F32_VEC_LOAD(xr + iw));
            sum += NETC_F32_VEC_REDUCE(acc);
          }
          for (; iw < w1; iw++)
            sum += xr[iw];
        }
        yp[oh * out_w + ow] = sum / (float)((h1 - h0) * (w1 - w0));
      }
    }
  }
}

// Reference: the window bounds written with floor() and ceil() on doubles,
// double accumulation.
void netc_ref_adaptive_avgpool2d_f32(int64_t n, int64_t c, int64_t in_h, int64_t in_w,
                                     int64_t out_h, int64_t out_w, const float *x, float *y) {
  for (int64_t q = 0; q < n * c; q++)
    for (int64_t oh = 0; oh < out_h; oh++)
      for (int64_t ow = 0; ow < out_w; ow++) {
        int64_t h0 = (int64_t)floor((double)(oh * in_h) / (double)out_h);
        int64_t h1 = (int64_t)ceil((double)((oh + 1) * in_h) / (double)out_h);
        int64_t w0 = (int64_t)floor((double)(ow * in_w) / (double)out_w);
        int64_t w1 = (int64_t)ceil((double)((ow + 1) * in_w) / (double)out_w);
        double sum = 0.0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            sum += x[(q * in_h + ih) * in_w + iw];
        y[(q * out_h + oh) * out_w + ow] = (float)(sum / (double)((h1 - h0) * (w1 - w0)));
      }
}
