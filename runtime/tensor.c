// tensor.c -- moving data between layouts (permute, narrow), reductions
// over dims (mean, sum, amax) and the batched matrix product (matmul).
//
// Both families first simplify the shape: size-1 dims are dropped and
// neighbouring dims that stay neighbours (permute) or share their fate
// (reduced or kept) are merged. A channel shuffle's transpose of
// [1, 2, 58, 28, 28] becomes a 2-D transpose of [2, 58*784]; a mean over
// (2, 3) of [1, 64, 7, 7] becomes 64 contiguous rows of 49. What is left is
// handled by one loop nest each, with the common cases fast.

#include "netc_internal.h"

#include <string.h>

// ---- permute ------------------------------------------------------------------

// Drops size-1 dims and merges x dims that are adjacent in both orders.
// Returns the new rank; xs and p get the simplified shape and permutation.
static int simplify_perm(int rank, const int64_t *shape, const int32_t *perm, int64_t *xs, int32_t *p) {
  int keep[NETC_MAX_RANK], nk = 0, newidx[NETC_MAX_RANK];
  for (int d = 0; d < rank; d++)
    if (shape[d] != 1)
      newidx[d] = nk, keep[nk++] = d;
  int32_t q[NETC_MAX_RANK];
  int nq = 0;
  for (int i = 0; i < rank; i++)
    if (shape[perm[i]] != 1)
      q[nq++] = newidx[perm[i]];
  // Runs of q that are consecutive (q[i+1] == q[i] + 1) become one dim.
  int64_t ks[NETC_MAX_RANK];
  for (int i = 0; i < nk; i++)
    ks[i] = shape[keep[i]];
  int first[NETC_MAX_RANK], nr = 0; // each run's first x dim, in y order
  int64_t len[NETC_MAX_RANK];
  for (int i = 0; i < nq; i++) {
    if (nr && q[i] == q[i - 1] + 1) {
      len[nr - 1] *= ks[q[i]];
      continue;
    }
    first[nr] = q[i];
    len[nr++] = ks[q[i]];
  }
  // Number the runs in x order.
  for (int r = 0; r < nr; r++) {
    int rank_in_x = 0;
    for (int s = 0; s < nr; s++)
      rank_in_x += first[s] < first[r];
    p[r] = rank_in_x;
    xs[rank_in_x] = len[r];
  }
  return nr;
}

enum { TILE = 32 };

void netc_permute_f32(int32_t rank, const int64_t *shape, const int32_t *perm, const float *x, float *y) {
  int64_t xs[NETC_MAX_RANK];
  int32_t p[NETC_MAX_RANK];
  int r = simplify_perm(rank, shape, perm, xs, p);
  int64_t n = 1;
  for (int d = 0; d < r; d++)
    n *= xs[d];
  if (r <= 1) { // the identity
    memcpy(y, x, (size_t)n * sizeof *x);
    return;
  }
  int64_t xstride[NETC_MAX_RANK], ys[NETC_MAX_RANK], st[NETC_MAX_RANK];
  xstride[r - 1] = 1;
  for (int d = r - 2; d >= 0; d--)
    xstride[d] = xstride[d + 1] * xs[d + 1];
  for (int i = 0; i < r; i++)
    ys[i] = xs[p[i]], st[i] = xstride[p[i]];
  // The last two y dims are copied in TILE x TILE tiles (a transpose reads
  // and writes whole cache lines); the dims before them are an odometer.
  const int64_t a = ys[r - 2], b = ys[r - 1], sa = st[r - 2], sb = st[r - 1];
  int64_t outer = n / (a * b);
  int par = n >= (1 << 15);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t o = 0; o < outer; o++) {
    int64_t xo = 0, rem = o;
    for (int d = r - 3; d >= 0; d--) {
      xo += (rem % ys[d]) * st[d];
      rem /= ys[d];
    }
    const float *xb = x + xo;
    float *yb = y + o * a * b;
    if (sb == 1) { // rows stay rows
      for (int64_t i = 0; i < a; i++)
        memcpy(yb + i * b, xb + i * sa, (size_t)b * sizeof *x);
      continue;
    }
    for (int64_t i0 = 0; i0 < a; i0 += TILE)
      for (int64_t j0 = 0; j0 < b; j0 += TILE) {
        const int64_t ie = NETC_MIN(a, i0 + TILE), je = NETC_MIN(b, j0 + TILE);
        for (int64_t i = i0; i < ie; i++)
          for (int64_t j = j0; j < je; j++)
            yb[i * b + j] = xb[i * sa + j * sb];
      }
  }
}

// Reference: every y element from its multi-index.
void netc_ref_permute_f32(int32_t rank, const int64_t *shape, const int32_t *perm, const float *x, float *y) {
  int64_t xstride[NETC_MAX_RANK], n = 1;
  for (int d = rank - 1; d >= 0; d--) {
    xstride[d] = n;
    n *= shape[d];
  }
  for (int64_t k = 0; k < n; k++) {
    int64_t rem = k, xi = 0;
    for (int i = rank - 1; i >= 0; i--) {
      int64_t size = shape[perm[i]];
      xi += (rem % size) * xstride[perm[i]];
      rem /= size;
    }
    y[k] = x[xi];
  }
}

// ---- narrow ---------------------------------------------------------------------

void netc_narrow_f32(int64_t outer, int64_t size, int64_t start, int64_t length, int64_t inner, const float *x,
                     float *y) {
  for (int64_t o = 0; o < outer; o++)
    memcpy(y + o * length * inner, x + (o * size + start) * inner, (size_t)(length * inner) * sizeof *x);
}

// ---- reductions -----------------------------------------------------------------

static float combine(netc_reduce op, float acc, float v) {
  if (op == NETC_REDUCE_AMAX)
    return v > acc || v != v ? v : acc; // NaN wins, and stays
  return acc + v;
}

static float initial(netc_reduce op) { return op == NETC_REDUCE_AMAX ? -INFINITY : 0.0f; }

// One reduced block: x as [outer, r, inner] -> y [outer, inner].
static void reduce_block(netc_reduce op, int64_t outer, int64_t r, int64_t inner, const float *x, float *y) {
  const float scale = op == NETC_REDUCE_MEAN ? 1.0f / (float)r : 1.0f;
  int par = (double)outer * r * inner >= (double)(1 << 15);
  (void)par;
  if (inner == 1) {
    // Contiguous rows: vector partial sums (amax: scalar, for NaN).
    NETC_OMP(parallel for schedule(static) if (par))
    for (int64_t o = 0; o < outer; o++) {
      const float *xr = x + o * r;
      float acc = initial(op);
      int64_t j = 0;
#ifdef NETC_F32_VEC
      if (op != NETC_REDUCE_AMAX && r >= NETC_F32_EPR) {
        NETC_F32_VEC v = NETC_F32_VEC_SET1(0.0f);
        for (; j + NETC_F32_EPR <= r; j += NETC_F32_EPR)
          v = NETC_F32_VEC_ADD(v, NETC_F32_VEC_LOAD(xr + j));
        float lanes[NETC_F32_EPR];
        NETC_F32_VEC_STORE(lanes, v);
        for (int l = 0; l < NETC_F32_EPR; l++)
          acc += lanes[l];
      }
#endif
      for (; j < r; j++)
        acc = combine(op, acc, xr[j]);
      y[o] = op == NETC_REDUCE_MEAN ? acc * scale : acc;
    }
    return;
  }
  // Strided: accumulate whole rows of inner values into y.
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t o = 0; o < outer; o++) {
    float *yo = y + o * inner;
    const float *xo = x + o * r * inner;
    for (int64_t i = 0; i < inner; i++)
      yo[i] = xo[i];
    for (int64_t j = 1; j < r; j++) {
      const float *xr = xo + j * inner;
      if (op == NETC_REDUCE_AMAX)
        for (int64_t i = 0; i < inner; i++)
          yo[i] = xr[i] > yo[i] || xr[i] != xr[i] ? xr[i] : yo[i];
      else
        for (int64_t i = 0; i < inner; i++)
          yo[i] += xr[i];
    }
    if (op == NETC_REDUCE_MEAN)
      for (int64_t i = 0; i < inner; i++)
        yo[i] *= scale;
  }
}

void netc_reduce_f32(netc_reduce op, int32_t rank, const int64_t *shape, int32_t ndims, const int32_t *dims,
                     const float *x, float *y) {
  // Merge neighbours of the same kind (reduced or kept), dropping 1s.
  int64_t len[NETC_MAX_RANK];
  int red[NETC_MAX_RANK], ng = 0;
  for (int d = 0; d < rank; d++) {
    int is_red = 0;
    for (int k = 0; k < ndims; k++)
      is_red |= dims[k] == d;
    if (shape[d] == 1)
      continue;
    if (ng && red[ng - 1] == is_red) {
      len[ng - 1] *= shape[d];
      continue;
    }
    len[ng] = shape[d], red[ng++] = is_red;
  }
  int nred = 0;
  for (int g = 0; g < ng; g++)
    nred += red[g];
  if (nred <= 1) { // kept, reduced, kept: one block
    int64_t outer = 1, r = 1, inner = 1;
    int g = 0;
    for (; g < ng && !red[g]; g++)
      outer *= len[g];
    if (g < ng && red[g])
      r = len[g++];
    for (; g < ng; g++)
      inner *= len[g];
    reduce_block(op, outer, r, inner, x, y);
    return;
  }
  // Reduced groups apart (mean over dims 1 and 3): by definition.
  netc_ref_reduce_f32(op, rank, shape, ndims, dims, x, y);
}

// Reference: every x element into its y element, in index order.
void netc_ref_reduce_f32(netc_reduce op, int32_t rank, const int64_t *shape, int32_t ndims, const int32_t *dims,
                         const float *x, float *y) {
  int64_t n = 1, ny = 1, count = 1;
  int is_red[NETC_MAX_RANK] = {0};
  for (int k = 0; k < ndims; k++)
    is_red[dims[k]] = 1;
  for (int d = 0; d < rank; d++) {
    n *= shape[d];
    if (is_red[d])
      count *= shape[d];
    else
      ny *= shape[d];
  }
  for (int64_t k = 0; k < ny; k++)
    y[k] = initial(op);
  for (int64_t k = 0; k < n; k++) {
    int64_t rem = k, yi = 0, ystride = 1;
    for (int d = rank - 1; d >= 0; d--) {
      int64_t i = rem % shape[d];
      rem /= shape[d];
      if (!is_red[d]) {
        yi += i * ystride;
        ystride *= shape[d];
      }
    }
    y[yi] = combine(op, y[yi], x[k]);
  }
  if (op == NETC_REDUCE_MEAN)
    for (int64_t k = 0; k < ny; k++)
      y[k] = (float)((double)y[k] / (double)count);
}

// ---- matmul -----------------------------------------------------------------------

// The batch offsets of a and b for output batch index o: each batch dim of
// an operand either matches the output's or is 1 (broadcast: stride 0).
static void batch_offsets(int32_t rank, const int64_t *out_shape, const int64_t *a_shape, const int64_t *b_shape,
                          int64_t o, int64_t *ao, int64_t *bo) {
  int64_t sa = a_shape[rank - 2] * a_shape[rank - 1], sb = b_shape[rank - 2] * b_shape[rank - 1];
  *ao = *bo = 0;
  for (int d = rank - 3; d >= 0; d--) {
    int64_t i = o % out_shape[d];
    o /= out_shape[d];
    if (a_shape[d] != 1)
      *ao += i * sa;
    if (b_shape[d] != 1)
      *bo += i * sb;
    sa *= a_shape[d];
    sb *= b_shape[d];
  }
}

void netc_matmul_f32(int32_t rank, const int64_t *out_shape, const int64_t *a_shape, const int64_t *b_shape,
                     int32_t trans_b, const float *a, const float *b, float *y, float *scratch) {
  const int64_t n = out_shape[rank - 2], m = out_shape[rank - 1], k = a_shape[rank - 1];
  int64_t batches = 1;
  for (int d = 0; d < rank - 2; d++)
    batches *= out_shape[d];
  for (int64_t o = 0; o < batches; o++) {
    int64_t ao, bo;
    batch_offsets(rank, out_shape, a_shape, b_shape, o, &ao, &bo);
    netc_gemm_f32(NETC_NO_TRANS, trans_b ? NETC_TRANS : NETC_NO_TRANS, n, m, k, 1.0f, a + ao, k, b + bo,
                  trans_b ? k : m, 0.0f, y + o * n * m, m, scratch);
  }
}

// Reference: every output element as a dot product, in double.
void netc_ref_matmul_f32(int32_t rank, const int64_t *out_shape, const int64_t *a_shape, const int64_t *b_shape,
                         int32_t trans_b, const float *a, const float *b, float *y) {
  const int64_t n = out_shape[rank - 2], m = out_shape[rank - 1], k = a_shape[rank - 1];
  int64_t batches = 1;
  for (int d = 0; d < rank - 2; d++)
    batches *= out_shape[d];
  for (int64_t o = 0; o < batches; o++) {
    int64_t ao, bo;
    batch_offsets(rank, out_shape, a_shape, b_shape, o, &ao, &bo);
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < m; j++) {
        double s = 0;
        for (int64_t t = 0; t < k; t++)
          s += (double)a[ao + i * k + t] * b[bo + (trans_b ? j * k + t : t * m + j)];
        y[(o * n + i) * m + j] = (float)s;
      }
  }
}

// ---- index_select -----------------------------------------------------------------

void netc_index_select_f32(int64_t outer, int64_t n, int64_t inner, int64_t nidx, const float *index,
                           const float *x, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nidx; j++)
      memcpy(y + (o * nidx + j) * inner, x + (o * n + (int64_t)index[j]) * inner, (size_t)inner * sizeof *y);
}

// Reference: element by element, from the definition.
void netc_ref_index_select_f32(int64_t outer, int64_t n, int64_t inner, int64_t nidx, const float *index,
                               const float *x, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nidx; j++)
      for (int64_t i = 0; i < inner; i++)
        y[(o * nidx + j) * inner + i] = x[(o * n + (int64_t)index[j]) * inner + i];
}

// ---- slice ----------------------------------------------------------------------

void netc_slice_f32(int64_t outer, int64_t n, int64_t inner, int64_t start, int64_t step, int64_t count,
                    const float *x, float *y) {
  if (inner == 1) { // a strided gather of single elements
    for (int64_t o = 0; o < outer; o++) {
      const float *xo = x + o * n + start;
      float *yo = y + o * count;
      for (int64_t j = 0; j < count; j++)
        yo[j] = xo[j * step];
    }
    return;
  }
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < count; j++)
      memcpy(y + (o * count + j) * inner, x + (o * n + start + j * step) * inner, (size_t)inner * sizeof *y);
}

void netc_ref_slice_f32(int64_t outer, int64_t n, int64_t inner, int64_t start, int64_t step, int64_t count,
                        const float *x, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < count; j++)
      for (int64_t i = 0; i < inner; i++)
        y[(o * count + j) * inner + i] = x[(o * n + start + j * step) * inner + i];
}

// ---- roll and expand -----------------------------------------------------------------
//
// Both copy rows of the last dim: the row of y at multi-index i (over the
// dims but the last) comes from one row of x, found digit by digit.

// x's offset (in rows of the last dim) of y's row `row`, for roll.
static int64_t roll_src_row(int32_t rank, const int64_t *shape, const int64_t *shifts, int64_t row) {
  int64_t src = 0, stride = 1;
  for (int32_t d = rank - 2; d >= 0; d--) {
    int64_t i = row % shape[d];
    row /= shape[d];
    i -= shifts[d];
    if (i < 0)
      i += shape[d];
    src += i * stride;
    stride *= shape[d];
  }
  return src;
}

void netc_roll_f32(int32_t rank, const int64_t *shape, const int64_t *shifts, const float *x, float *y) {
  const int64_t n = shape[rank - 1], s = shifts[rank - 1];
  int64_t rows = 1;
  for (int32_t d = 0; d < rank - 1; d++)
    rows *= shape[d];
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + roll_src_row(rank, shape, shifts, r) * n;
    float *yr = y + r * n;
    memcpy(yr + s, xr, (size_t)(n - s) * sizeof *y); // y[s..n) = x[0..n-s)
    memcpy(yr, xr + n - s, (size_t)s * sizeof *y);   // y[0..s) = x[n-s..n)
  }
}

void netc_ref_roll_f32(int32_t rank, const int64_t *shape, const int64_t *shifts, const float *x, float *y) {
  int64_t total = 1;
  for (int32_t d = 0; d < rank; d++)
    total *= shape[d];
  for (int64_t o = 0; o < total; o++) {
    int64_t rest = o, src = 0, stride = 1;
    for (int32_t d = rank - 1; d >= 0; d--) {
      int64_t i = rest % shape[d];
      rest /= shape[d];
      src += ((i - shifts[d] + shape[d]) % shape[d]) * stride;
      stride *= shape[d];
    }
    y[o] = x[src];
  }
}

void netc_expand_f32(int32_t rank, const int64_t *out_shape, const int64_t *in_shape, const float *x, float *y) {
  const int64_t n = out_shape[rank - 1], nin = in_shape[rank - 1];
  int64_t rows = 1;
  for (int32_t d = 0; d < rank - 1; d++)
    rows *= out_shape[d];
  for (int64_t r = 0; r < rows; r++) {
    int64_t rest = r, src = 0, stride = 1;
    for (int32_t d = rank - 2; d >= 0; d--) {
      int64_t i = rest % out_shape[d];
      rest /= out_shape[d];
      src += (in_shape[d] == 1 ? 0 : i) * stride;
      stride *= in_shape[d];
    }
    const float *xr = x + src * nin;
    float *yr = y + r * n;
    if (nin == n) {
      memcpy(yr, xr, (size_t)n * sizeof *y);
    } else {
      for (int64_t j = 0; j < n; j++)
        yr[j] = xr[0];
    }
  }
}

void netc_ref_expand_f32(int32_t rank, const int64_t *out_shape, const int64_t *in_shape, const float *x, float *y) {
  int64_t total = 1;
  for (int32_t d = 0; d < rank; d++)
    total *= out_shape[d];
  for (int64_t o = 0; o < total; o++) {
    int64_t rest = o, src = 0, stride = 1;
    for (int32_t d = rank - 1; d >= 0; d--) {
      int64_t i = rest % out_shape[d];
      rest /= out_shape[d];
      src += (in_shape[d] == 1 ? 0 : i) * stride;
      stride *= in_shape[d];
    }
    y[o] = x[src];
  }
}

// ---- arange ----------------------------------------------------------------------

void netc_arange_f32(int64_t n, int64_t start, int64_t step, float *y) {
  for (int64_t i = 0; i < n; i++)
    y[i] = (float)(start + i * step);
}
