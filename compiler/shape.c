// shape.c -- output-shape rules, one per op family.
//
// Requires: a Layer with op, inputs (whose shapes are known) and attributes.
// Fills:    l->shape, and normalises axis attributes (softmax, concat,
//           flatten) and layernorm's default normalized_shape.
//
// Called by the elaborator as each layer is created, because block code may
// read x.shape right away. PyTorch's output-size formulas themselves are the
// runtime's (netc_conv2d_out_size and its siblings), which the kernels'
// parameter checks use too: there is one definition of each.
#include "netc.h"

#include <math.h>
#include <string.h>

// Dimensions and attributes above this are rejected up front, so that every
// formula below is exact in 64-bit arithmetic.
#define DIM_LIMIT ((int64_t)1 << 31)
// Largest tensor: 2^40 elements (4 TiB of float32) is far beyond any target.
#define NUMEL_LIMIT ((int64_t)1 << 40)

void layer_roll_shifts(const Layer *l, Shape *s, int64_t *shifts) {
  for (int d = 0; d < MAX_RANK; d++)
    shifts[d] = 0;
  if (l->dims.n == 0) { // the flattened tensor
    *s = (Shape){1, {shape_numel(s)}};
    shifts[0] = l->dims.shift[0];
    return;
  }
  for (int i = 0; i < l->dims.n; i++)
    shifts[l->dims.v[i]] = l->dims.shift[i];
}

Shape layer_expand_in(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  Shape s = {l->shape.rank, {0}};
  int lead = l->shape.rank - in->rank;
  for (int i = 0; i < s.rank; i++)
    s.d[i] = i < lead ? 1 : in->d[i - lead];
  return s;
}

int64_t slice_bounds(int64_t size, int64_t *start, int64_t end, int64_t step) {
  int64_t s = *start;
  if (s < 0)
    s = s < -size ? 0 : s + size;
  if (s > size)
    s = size;
  if (end < 0)
    end = end < -size ? 0 : end + size;
  if (end > size)
    end = size;
  *start = s;
  return end > s ? (end - s + step - 1) / step : 0;
}

void shape_split_at(const Shape *s, int dim, int64_t *outer, int64_t *inner) {
  *outer = *inner = 1;
  for (int d = 0; d < dim; d++)
    *outer *= s->d[d];
  for (int d = dim + 1; d < s->rank; d++)
    *inner *= s->d[d];
}

int64_t shape_numel(const Shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++)
    n *= s->d[i];
  return n;
}

char *shape_str(const Shape *s) {
  char buf[256];
  size_t o = 0;
  buf[o++] = '[';
  for (int i = 0; i < s->rank; i++)
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%lld", i ? ", " : "", (long long)s->d[i]);
  buf[o++] = ']';
  buf[o] = '\0';
  return xstrdup(buf);
}

bool shape_eq(const Shape *a, const Shape *b) {
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i])
      return false;
  return true;
}

static const char *opname(const Layer *l) { return op_table[l->op].name; }

static bool need_rank(Layer *l, int idx, int rank) {
  const Shape *s = &l->in[idx]->shape;
  if (s->rank == rank)
    return true;
  error_at(l->loc, "%s: expected a %dD input (%s), got %s", opname(l), rank,
           rank == 4 ? "N, C, H, W" : rank == 3 ? "N, C, L" : rank == 2 ? "N, features" : "", shape_str(s));
  return false;
}

static void explain_window(Layer *l, const char *axis, int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1,
                           int64_t d, int64_t out);

// conv1d, maxpool1d, avgpool1d: the window along L, with PyTorch's formulas.
static bool window_shape_1d(Layer *l, int64_t cout) {
  const Shape *in = &l->in[0]->shape;
  int64_t o = op_is_conv(l->op) ? netc_conv2d_out_size(in->d[2], l->win.kw, l->win.sw, l->win.pad_left,
                                                       l->win.pad_right, l->win.dw)
                                : netc_pool2d_out_size(in->d[2], l->win.kw, l->win.sw, l->win.pad_left,
                                                       l->win.pad_right, l->win.dw, l->pool.ceil_mode);
  if (o < 1) {
    explain_window(l, "length", in->d[2], l->win.kw, l->win.sw, l->win.pad_left, l->win.pad_right, l->win.dw, o);
    return false;
  }
  l->shape = (Shape){3, {in->d[0], cout, o}};
  return true;
}

// Every size attribute of the groups that hold them; the groups an op does
// not use are zero, so each op's own attributes are checked in their order.
static bool attrs_in_range(Layer *l) {
  int64_t v[] = {l->win.kh, l->win.kw, l->win.sh, l->win.sw, l->win.dh, l->win.dw,
                 l->win.pad_top, l->win.pad_bottom, l->win.pad_left, l->win.pad_right,
                 l->pad.top, l->pad.bottom, l->pad.left, l->pad.right,
                 l->conv.output_pad_h, l->conv.output_pad_w, l->pool.out_h, l->pool.out_w,
                 l->conv.out_channels, l->conv.groups, l->resize.out_h, l->resize.out_w};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (v[i] > DIM_LIMIT) {
      error_at(l->loc, "%s: attribute value %lld is too large (the limit is %lld)", opname(l), (long long)v[i],
               (long long)DIM_LIMIT);
      return false;
    }
  return true;
}

// "out = floor((5 + 2*0 - 1*(7-1) - 1)/1) + 1 = -1"
static void explain_window(Layer *l, const char *axis, int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1,
                           int64_t d, int64_t out) {
  const char *fn = l->pool.ceil_mode ? "ceil" : "floor";
  char *pad = p0 == p1 ? format("2*%lld", (long long)p0) : format("%lld + %lld", (long long)p0, (long long)p1);
  char *win = op_is_1d(l->op) ? format("%lld-wide", (long long)l->win.kw)
                              : format("%lldx%lld", (long long)l->win.kh, (long long)l->win.kw);
  error_at(l->loc, "%s: output %s would be %lld: the %s window does not fit the padded input", opname(l), axis,
           (long long)out, win);
  note_at(l->loc, "out = %s((%lld + %s - %lld*(%lld-1) - 1)/%lld) + 1 = %lld", fn, (long long)in, pad, (long long)d,
          (long long)k, (long long)s, (long long)out);
}

static bool window_shape(Layer *l, int64_t cout) {
  const Shape *in = &l->in[0]->shape;
  // PyTorch's formulas, from the runtime: the kernels check their parameters
  // with the same functions, so the two cannot disagree.
  int64_t oh, ow;
  if (l->op == OP_CONV2D) {
    oh = netc_conv2d_out_size(in->d[2], l->win.kh, l->win.sh, l->win.pad_top, l->win.pad_bottom, l->win.dh);
    ow = netc_conv2d_out_size(in->d[3], l->win.kw, l->win.sw, l->win.pad_left, l->win.pad_right, l->win.dw);
  } else {
    oh = netc_pool2d_out_size(in->d[2], l->win.kh, l->win.sh, l->win.pad_top, l->win.pad_bottom, l->win.dh,
                              l->pool.ceil_mode);
    ow = netc_pool2d_out_size(in->d[3], l->win.kw, l->win.sw, l->win.pad_left, l->win.pad_right, l->win.dw,
                              l->pool.ceil_mode);
  }
  if (oh < 1) {
    explain_window(l, "height", in->d[2], l->win.kh, l->win.sh, l->win.pad_top, l->win.pad_bottom, l->win.dh, oh);
    return false;
  }
  if (ow < 1) {
    explain_window(l, "width", in->d[3], l->win.kw, l->win.sw, l->win.pad_left, l->win.pad_right, l->win.dw, ow);
    return false;
  }
  l->shape = (Shape){4, {in->d[0], cout, oh, ow}};
  return true;
}

static bool check_stated(Layer *l, const char *what, int64_t stated, int64_t actual) {
  if (stated < 0 || stated == actual)
    return true;
  error_at(l->loc, "%s: %s=%lld was stated but the input has %lld (input shape %s)", opname(l), what,
           (long long)stated, (long long)actual, shape_str(&l->in[0]->shape));
  return false;
}

Shape shape_at_rank(const Shape *s, int rank) {
  NETC_ASSERT(rank >= s->rank && rank <= MAX_RANK);
  Shape r = {.rank = rank};
  for (int d = 0; d < rank; d++)
    r.d[d] = d < rank - s->rank ? 1 : s->d[d - (rank - s->rank)];
  return r;
}

bool layer_broadcasts(const Layer *l) {
  return op_arith_sym(l->op) && l->nin == 2 &&
         !(shape_eq(&l->in[0]->shape, &l->shape) && shape_eq(&l->in[1]->shape, &l->shape));
}

// NumPy / PyTorch broadcasting of a two-tensor add / sub / mul / div: shapes
// aligned on the right, each dim equal or 1 in one of them; the output has
// the larger size in every dim and the larger rank.
static bool broadcast(Layer *l) {
  const Shape *a = &l->in[0]->shape, *b = &l->in[1]->shape;
  const int rank = a->rank > b->rank ? a->rank : b->rank;
  Shape pa = shape_at_rank(a, rank), pb = shape_at_rank(b, rank), out = {.rank = rank};
  for (int d = 0; d < rank; d++) { // the first dim that fails, from the left
    int64_t x = pa.d[d], y = pb.d[d];
    if (x != y && x != 1 && y != 1) {
      error_at(l->loc, "'%c': shapes %s and %s do not broadcast on dim %d (%lld vs %lld)", op_arith_sym(l->op),
               shape_str(a), shape_str(b), d, (long long)x, (long long)y);
      return false;
    }
    out.d[d] = x == 1 ? y : x;
  }
  l->shape = out;
  return true;
}

static bool norm_dim(Layer *l, int64_t *dim, int rank, const char *what) {
  int64_t a = *dim;
  if (a < -rank || a >= rank) {
    error_at(l->loc, "%s: %s=%lld is out of range for a %dD input %s (expected %d..%d)", opname(l), what,
             (long long)a, rank, shape_str(&l->in[0]->shape), -rank, rank - 1);
    return false;
  }
  *dim = a < 0 ? a + rank : a;
  return true;
}

// norm_dim for the int axis attributes (softmax, concat, flatten).
static bool norm_axis(Layer *l, int *axis, int rank, const char *what) {
  int64_t a = *axis;
  if (!norm_dim(l, &a, rank, what))
    return false;
  *axis = (int)a;
  return true;
}

void layer_perm(const Layer *l, int64_t *perm) {
  int rank = l->in[0]->shape.rank;
  for (int d = 0; d < rank; d++)
    perm[d] = l->op == OP_PERMUTE ? l->dims.v[d] : d;
  if (l->op == OP_TRANSPOSE) {
    perm[l->dims.v[0]] = l->dims.v[1];
    perm[l->dims.v[1]] = l->dims.v[0];
  }
}

// narrow's slice is one contiguous block when every dim before its own is 1.
static bool narrow_contiguous(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  for (int d = 0; d < l->dims.v[0]; d++)
    if (in->d[d] != 1)
      return false;
  return true;
}

bool layer_is_view(const Layer *l) {
  return (op_table[l->op].flags & OPF_VIEW) || (l->op == OP_NARROW && narrow_contiguous(l));
}

int64_t view_floats(const Layer *l) {
  if (l->op != OP_NARROW)
    return 0;
  const Shape *in = &l->in[0]->shape;
  int64_t inner = 1;
  for (int d = (int)l->dims.v[0] + 1; d < in->rank; d++)
    inner *= in->d[d];
  return l->dims.start * inner;
}

// reshape / view: the written shape with its one -1 inferred; the element
// counts must agree (PyTorch's rule; netc's tensors are always contiguous,
// so view never needs a copy either).
static bool reshape_shape(Layer *l) {
  const Shape *in = &l->in[0]->shape;
  int64_t n = shape_numel(in), known = 1;
  int infer_at = -1;
  Shape out = {.rank = l->dims.n};
  char *written = xstrdup("");
  for (int i = 0; i < l->dims.n; i++)
    written = format("%s%s%lld", written, i ? ", " : "", (long long)l->dims.v[i]);
  for (int i = 0; i < l->dims.n; i++) {
    int64_t d = l->dims.v[i];
    if (d == -1 && infer_at < 0) {
      infer_at = i;
      continue;
    }
    if (d == -1) {
      error_at(l->loc, "%s: only one dimension can be -1, got (%s)", opname(l), written);
      return false;
    }
    if (d < 1 || d > DIM_LIMIT) {
      error_at(l->loc, "%s: dimension %d of (%s) is %lld; netc's dimensions are positive (or one -1, inferred)",
               opname(l), i, written, (long long)d);
      return false;
    }
    out.d[i] = d;
    if (__builtin_mul_overflow(known, d, &known) || known > NUMEL_LIMIT)
      known = NUMEL_LIMIT + 1;
  }
  if (infer_at >= 0) {
    if (n % known != 0) {
      error_at(l->loc, "%s: shape (%s) is invalid for an input of %lld elements %s: %lld is not a multiple of %lld",
               opname(l), written, (long long)n, shape_str(in), (long long)n, (long long)known);
      return false;
    }
    out.d[infer_at] = n / known;
  } else if (known != n) {
    error_at(l->loc, "%s: shape (%s) is invalid for an input of %lld elements %s", opname(l), written, (long long)n,
             shape_str(in));
    return false;
  }
  l->shape = out;
  return true;
}

int matmul_shapes(const Layer *l, Shape *a, Shape *b, Shape *out) {
  Shape x = l->in[0]->shape, y = l->in[1]->shape;
  if (x.rank == 1)
    x = (Shape){2, {1, x.d[0]}};
  if (y.rank == 1)
    y = (Shape){2, {y.d[0], 1}};
  int rank = x.rank > y.rank ? x.rank : y.rank;
  *a = shape_at_rank(&x, rank);
  *b = shape_at_rank(&y, rank);
  *out = *a;
  for (int d = 0; d < rank - 2; d++)
    out->d[d] = a->d[d] == 1 ? b->d[d] : a->d[d];
  out->d[rank - 1] = b->d[rank - 1];
  return rank;
}

// torch.matmul: [..., n, k] @ [..., k, m] -> [..., n, m], the batch dims
// broadcast; a 1-D operand is a row (left) or a column (right) whose dim
// the result drops.
static bool matmul_shape(Layer *l) {
  const Shape *x = &l->in[0]->shape, *y = &l->in[1]->shape;
  if (x->rank == 1 && y->rank == 1) {
    error_at(l->loc, "matmul: %s and %s give a 0-d tensor (a dot product), and netc's tensors have 1 to %d dims",
             shape_str(x), shape_str(y), MAX_RANK);
    note_at(l->loc, "write it as a (1, k) by (k, 1) product: unsqueeze(0) the first and unsqueeze(1) the second");
    return false;
  }
  Shape a, b, out;
  int rank = matmul_shapes(l, &a, &b, &out);
  if (a.d[rank - 1] != b.d[rank - 2]) {
    error_at(l->loc, "matmul: %s @ %s: the first's last dim (%lld) and the second's %s dim (%lld) differ",
             shape_str(x), shape_str(y), (long long)a.d[rank - 1], y->rank == 1 ? "only" : "second-to-last",
             (long long)b.d[rank - 2]);
    return false;
  }
  for (int d = 0; d < rank - 2; d++)
    if (a.d[d] != b.d[d] && a.d[d] != 1 && b.d[d] != 1) {
      error_at(l->loc, "matmul: the batch dims of %s and %s do not broadcast on dim %d (%lld vs %lld)", shape_str(x),
               shape_str(y), d, (long long)a.d[d], (long long)b.d[d]);
      return false;
    }
  // The output drops a 1-D operand's added dim.
  Shape s = {0, {0}};
  for (int d = 0; d < rank; d++)
    if (!(d == rank - 2 && x->rank == 1) && !(d == rank - 1 && y->rank == 1))
      s.d[s.rank++] = out.d[d];
  l->shape = s;
  return true;
}

// mean / sum / amax: each listed dim (distinct) reduced to 1, or dropped.
static bool reduce_shape(Layer *l) {
  const Shape *in = &l->in[0]->shape;
  bool reduced[MAX_RANK] = {false};
  for (int i = 0; i < l->dims.n; i++) {
    if (!norm_dim(l, &l->dims.v[i], in->rank, "dim"))
      return false;
    if (reduced[l->dims.v[i]]) {
      error_at(l->loc, "%s: dim %lld appears twice in the reduced dims", opname(l), (long long)l->dims.v[i]);
      return false;
    }
    reduced[l->dims.v[i]] = true;
  }
  // Sorted, as the kernel and the report want them.
  l->dims.n = 0;
  for (int d = 0; d < in->rank; d++)
    if (reduced[d])
      l->dims.v[l->dims.n++] = d;
  Shape out = {0, {0}};
  for (int d = 0; d < in->rank; d++)
    if (!reduced[d])
      out.d[out.rank++] = in->d[d];
    else if (l->dims.keepdim)
      out.d[out.rank++] = 1;
  if (out.rank == 0) {
    error_at(l->loc, "%s over every dim of %s leaves a 0-d tensor, and netc's tensors have 1 to %d dims", opname(l),
             shape_str(in), MAX_RANK);
    note_at(l->loc, "keep them with keepdim=true");
    return false;
  }
  l->shape = out;
  return true;
}

static bool infer(Layer *l) {
  const Shape *in = l->nin ? &l->in[0]->shape : NULL;
  switch (l->op) {
  case OP_INPUT: // declared shapes
  case OP_PARAM:
  case OP_BUFFER:
    return true;
  case OP_CONV2D: {
    if (!need_rank(l, 0, 4) || !attrs_in_range(l))
      return false;
    int64_t cin = in->d[1];
    if (!check_stated(l, "in_channels", l->conv.stated_in, cin))
      return false;
    if (cin % l->conv.groups != 0) {
      error_at(l->loc, "conv2d: input channels (%lld) must be divisible by groups (%lld)", (long long)cin,
               (long long)l->conv.groups);
      return false;
    }
    return window_shape(l, l->conv.out_channels);
  }
  case OP_CONV_TRANSPOSE2D: {
    if (!need_rank(l, 0, 4) || !attrs_in_range(l))
      return false;
    int64_t cin = in->d[1];
    if (!check_stated(l, "in_channels", l->conv.stated_in, cin))
      return false;
    if (cin % l->conv.groups != 0) {
      error_at(l->loc, "conv_transpose2d: input channels (%lld) must be divisible by groups (%lld)", (long long)cin,
               (long long)l->conv.groups);
      return false;
    }
    int64_t oh = netc_conv_transpose2d_out_size(in->d[2], l->win.kh, l->win.sh, l->win.pad_top, l->win.pad_bottom,
                                                l->conv.output_pad_h, l->win.dh);
    int64_t ow = netc_conv_transpose2d_out_size(in->d[3], l->win.kw, l->win.sw, l->win.pad_left, l->win.pad_right,
                                                l->conv.output_pad_w, l->win.dw);
    if (oh < 1 || ow < 1) {
      bool h = oh < 1;
      error_at(l->loc, "conv_transpose2d: output %s would be %lld", h ? "height" : "width", (long long)(h ? oh : ow));
      note_at(l->loc, "out = (%lld-1)*%lld - 2*%lld + %lld*(%lld-1) + %lld + 1 = %lld", (long long)in->d[h ? 2 : 3],
              (long long)(h ? l->win.sh : l->win.sw), (long long)(h ? l->win.pad_top : l->win.pad_left),
              (long long)(h ? l->win.dh : l->win.dw), (long long)(h ? l->win.kh : l->win.kw),
              (long long)(h ? l->conv.output_pad_h : l->conv.output_pad_w), (long long)(h ? oh : ow));
      return false;
    }
    l->shape = (Shape){4, {in->d[0], l->conv.out_channels, oh, ow}};
    return true;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
    if (!need_rank(l, 0, 4) || !attrs_in_range(l))
      return false;
    return window_shape(l, in->d[1]);
  case OP_CONV1D: {
    if (!need_rank(l, 0, 3) || !attrs_in_range(l))
      return false;
    int64_t cin = in->d[1];
    if (!check_stated(l, "in_channels", l->conv.stated_in, cin))
      return false;
    if (cin % l->conv.groups != 0) {
      error_at(l->loc, "conv1d: input channels (%lld) must be divisible by groups (%lld)", (long long)cin,
               (long long)l->conv.groups);
      return false;
    }
    return window_shape_1d(l, l->conv.out_channels);
  }
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
    if (!need_rank(l, 0, 3) || !attrs_in_range(l))
      return false;
    return window_shape_1d(l, in->d[1]);
  case OP_ADAPTIVE_AVGPOOL1D:
    if (!need_rank(l, 0, 3) || !attrs_in_range(l))
      return false;
    l->shape = (Shape){3, {in->d[0], in->d[1], l->pool.out_w}};
    return true;
  case OP_BATCHNORM1D:
    if (in->rank != 2 && in->rank != 3) {
      error_at(l->loc, "batchnorm1d: expected a 2D (N, C) or 3D (N, C, L) input, got %s", shape_str(in));
      return false;
    }
    if (!check_stated(l, "num_features", l->norm.num_features, in->d[1]))
      return false;
    l->shape = *in;
    return true;
  case OP_UPSAMPLE:
  case OP_INTERPOLATE: {
    if (!need_rank(l, 0, 4) || !attrs_in_range(l))
      return false;
    // PyTorch: floor(in * scale_factor), computed in double.
    int64_t oh = l->resize.out_h, ow = l->resize.out_w;
    if (!oh) {
      oh = (int64_t)floor((double)in->d[2] * l->resize.scale_h);
      ow = (int64_t)floor((double)in->d[3] * l->resize.scale_w);
    }
    if (oh < 1 || ow < 1) {
      error_at(l->loc, "%s: scale_factor (%g, %g) on %s gives an empty output (%lld x %lld)", opname(l),
               l->resize.scale_h, l->resize.scale_w, shape_str(in), (long long)oh, (long long)ow);
      return false;
    }
    l->shape = (Shape){4, {in->d[0], in->d[1], oh, ow}};
    return true;
  }
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
    if (!need_rank(l, 0, 4) || !attrs_in_range(l))
      return false;
    l->shape = (Shape){4, {in->d[0], in->d[1], l->pool.out_h, l->pool.out_w}};
    return true;
  case OP_LINEAR: {
    if (in->rank < 2) {
      error_at(l->loc, "linear: expected an input with a batch dimension, got %s", shape_str(in));
      return false;
    }
    if (!attrs_in_range(l))
      return false;
    int64_t f = in->d[in->rank - 1];
    if (l->conv.stated_in >= 0 && l->conv.stated_in != f) {
      error_at(l->loc, "linear: in_features=%lld was stated but the input has %lld features (input shape %s)",
               (long long)l->conv.stated_in, (long long)f, shape_str(in));
      if (in->rank > 2)
        note_at(l->loc, "linear acts on the last dimension; flatten the input first");
      return false;
    }
    l->shape = *in;
    l->shape.d[in->rank - 1] = l->conv.out_channels;
    return true;
  }
  case OP_FLATTEN: {
    int s = l->axes.start_dim, e = l->axes.end_dim;
    if (!norm_axis(l, &s, in->rank, "start_dim") || !norm_axis(l, &e, in->rank, "end_dim"))
      return false;
    if (s > e) {
      error_at(l->loc, "flatten: start_dim (%d) comes after end_dim (%d)", s, e);
      return false;
    }
    l->axes.start_dim = s, l->axes.end_dim = e;
    Shape out = {0, {0}};
    for (int i = 0; i < in->rank; i++) {
      if (i <= s || i > e)
        out.d[out.rank++] = in->d[i];
      else
        out.d[out.rank - 1] *= in->d[i];
    }
    l->shape = out;
    return true;
  }
  case OP_BATCHNORM2D:
    if (!need_rank(l, 0, 4) || !check_stated(l, "num_features", l->norm.num_features, in->d[1]))
      return false;
    l->shape = *in;
    return true;
  case OP_GROUPNORM:
    if (in->rank < 2) {
      error_at(l->loc, "groupnorm: expected an input with channels (N, C, ...), got %s", shape_str(in));
      return false;
    }
    if (!check_stated(l, "num_channels", l->norm.num_features, in->d[1]))
      return false;
    if (in->d[1] % l->norm.groups != 0) {
      error_at(l->loc, "groupnorm: %lld channels (input %s) do not split into num_groups=%lld groups",
               (long long)in->d[1], shape_str(in), (long long)l->norm.groups);
      return false;
    }
    // PyTorch's F.group_norm refuses N * (C / groups) * spatial == 1: one
    // value per group and batch, whose variance is no statistic.
    if (shape_numel(in) / l->norm.groups == 1) {
      error_at(l->loc, "groupnorm: input %s with num_groups=%lld leaves one value per group; PyTorch rejects it "
                       "(\"Expected more than 1 value per channel\")", shape_str(in), (long long)l->norm.groups);
      return false;
    }
    l->shape = *in;
    return true;
  case OP_LAYERNORM: {
    Shape *ns = &l->norm.shape;
    if (ns->rank == 0) {
      if (in->rank < 2) {
        error_at(l->loc, "layernorm: expected an input with a batch dimension, got %s", shape_str(in));
        return false;
      }
      ns->rank = in->rank - 1;
      memcpy(ns->d, in->d + 1, (size_t)ns->rank * sizeof ns->d[0]);
    }
    bool ok = ns->rank <= in->rank;
    for (int i = 0; ok && i < ns->rank; i++)
      ok = ns->d[i] == in->d[in->rank - ns->rank + i];
    if (!ok) {
      error_at(l->loc, "layernorm: normalized_shape %s does not match the trailing dimensions of the input %s",
               shape_str(ns), shape_str(in));
      return false;
    }
    l->norm.dims = ns->rank;
    l->shape = *in;
    return true;
  }
  case OP_RESHAPE:
  case OP_VIEW:
    return reshape_shape(l);
  case OP_MATMUL:
    return matmul_shape(l);
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX:
    return reduce_shape(l);
  case OP_SQUEEZE: {
    Shape out = {0, {0}};
    if (l->dims.n == 1 && !norm_dim(l, &l->dims.v[0], in->rank, "dim"))
      return false;
    for (int d = 0; d < in->rank; d++)
      if (in->d[d] != 1 || (l->dims.n == 1 && d != l->dims.v[0]))
        out.d[out.rank++] = in->d[d];
    if (out.rank == 0) {
      error_at(l->loc, "squeeze: %s would become a 0-d tensor, and netc's tensors have 1 to %d dims",
               shape_str(in), MAX_RANK);
      return false;
    }
    l->shape = out;
    return true;
  }
  case OP_UNSQUEEZE: {
    if (in->rank == MAX_RANK) {
      error_at(l->loc, "unsqueeze: %s already has %d dims, the most netc supports", shape_str(in), MAX_RANK);
      return false;
    }
    int64_t d = l->dims.v[0];
    if (d < -in->rank - 1 || d > in->rank) {
      error_at(l->loc, "unsqueeze: dim=%lld is out of range for a %dD input %s (expected %d..%d)", (long long)d,
               in->rank, shape_str(in), -in->rank - 1, in->rank);
      return false;
    }
    if (d < 0)
      d += in->rank + 1;
    l->dims.v[0] = d;
    Shape out = {.rank = in->rank + 1};
    for (int i = 0, j = 0; i < out.rank; i++)
      out.d[i] = i == d ? 1 : in->d[j++];
    l->shape = out;
    return true;
  }
  case OP_PERMUTE: {
    if (l->dims.n != in->rank) {
      error_at(l->loc, "permute: %d dims given for a %dD input %s", l->dims.n, in->rank, shape_str(in));
      return false;
    }
    bool seen[MAX_RANK] = {false};
    Shape out = {.rank = in->rank};
    for (int i = 0; i < in->rank; i++) {
      if (!norm_dim(l, &l->dims.v[i], in->rank, "dims"))
        return false;
      if (seen[l->dims.v[i]]) {
        error_at(l->loc, "permute: dim %lld appears twice in dims", (long long)l->dims.v[i]);
        return false;
      }
      seen[l->dims.v[i]] = true;
      out.d[i] = in->d[l->dims.v[i]];
    }
    l->shape = out;
    return true;
  }
  case OP_TRANSPOSE: {
    if (!norm_dim(l, &l->dims.v[0], in->rank, "dim0") || !norm_dim(l, &l->dims.v[1], in->rank, "dim1"))
      return false;
    l->shape = *in;
    l->shape.d[l->dims.v[0]] = in->d[l->dims.v[1]];
    l->shape.d[l->dims.v[1]] = in->d[l->dims.v[0]];
    return true;
  }
  case OP_ARANGE: {
    int64_t st = l->dims.start, end = l->dims.end, step = l->dims.step;
    if (step == 0) {
      error_at(l->loc, "arange: step must not be 0");
      return false;
    }
    const int64_t lim = NUMEL_LIMIT; // keeps the arithmetic below in range
    if (st < -lim || st > lim || end < -lim || end > lim || step < -lim || step > lim) {
      error_at(l->loc, "arange: start, end and step must be within +-2^40");
      return false;
    }
    int64_t span = end - st, n = step > 0 ? (span + step - 1) / step : (span + step + 1) / step;
    if (n < 1) {
      error_at(l->loc, "arange(%lld, %lld, %lld) is empty; netc's tensors have no empty dims", (long long)st,
               (long long)end, (long long)step);
      return false;
    }
    if (n > NUMEL_LIMIT) {
      error_at(l->loc, "arange: %lld elements is more than netc's limit (%lld)", (long long)n, (long long)NUMEL_LIMIT);
      return false;
    }
    l->dims.length = (int64_t)n;
    l->shape = (Shape){1, {(int64_t)n}};
    return true;
  }
  case OP_ROLL: {
    if (l->dims.n == 0 && l->dims.nshift != 1) {
      error_at(l->loc, "roll: without dims, shifts must be one integer (the flattened tensor's), got %d",
               l->dims.nshift);
      return false;
    }
    if (l->dims.n > 0 && l->dims.nshift != l->dims.n) {
      error_at(l->loc, "roll: %d shifts for %d dims; give one shift per dim", l->dims.nshift, l->dims.n);
      return false;
    }
    for (int i = 0; i < l->dims.n; i++) {
      if (!norm_dim(l, &l->dims.v[i], in->rank, "dims"))
        return false;
      for (int j = 0; j < i; j++)
        if (l->dims.v[j] == l->dims.v[i]) {
          error_at(l->loc, "roll: dim %lld appears twice in dims", (long long)l->dims.v[i]);
          return false;
        }
    }
    // Each shift as PyTorch takes it, modulo its dim's size (of the whole
    // tensor when there are no dims).
    for (int i = 0; i < l->dims.nshift; i++) {
      int64_t size = l->dims.n ? in->d[l->dims.v[i]] : shape_numel(in);
      l->dims.shift[i] = ((l->dims.shift[i] % size) + size) % size;
    }
    l->shape = *in;
    return true;
  }
  case OP_EXPAND: {
    const int n = l->dims.n;
    if (n < in->rank) {
      error_at(l->loc, "expand: the number of sizes (%d) must be at least the input's rank: %s", n, shape_str(in));
      return false;
    }
    Shape out = {n, {0}};
    for (int i = 0; i < n; i++) {
      int64_t want = l->dims.v[i];
      int j = i - (n - in->rank); // the input dim aligned with output dim i (< 0: a new leading dim)
      if (j < 0) {
        if (want < 1) {
          error_at(l->loc, "expand: size %lld for new leading dim %d (-1 only keeps an existing dim)",
                   (long long)want, i);
          return false;
        }
        out.d[i] = want;
      } else if (want == -1 || want == in->d[j]) {
        out.d[i] = in->d[j];
      } else if (in->d[j] == 1 && want >= 1) {
        out.d[i] = want;
      } else {
        error_at(l->loc, "expand: the expanded size (%lld) must match the existing size (%lld) at non-singleton dim %d "
                         "of %s", (long long)want, (long long)in->d[j], j, shape_str(in));
        return false;
      }
    }
    l->shape = out; // infer_shape checks its size
    return true;
  }
  case OP_SLICE: {
    if (!norm_dim(l, &l->dims.v[0], in->rank, "dim"))
      return false;
    int64_t size = in->d[l->dims.v[0]], st = l->dims.start;
    if (l->dims.step < 1) {
      error_at(l->loc, "slice: step must be positive (PyTorch has no negative steps), got %lld",
               (long long)l->dims.step);
      return false;
    }
    int64_t n = slice_bounds(size, &st, l->dims.end, l->dims.step);
    if (n == 0) {
      error_at(l->loc, "slice: %lld:%s:%lld of dim %lld of %s (size %lld) is empty; netc's tensors have no empty dims",
               (long long)l->dims.start, l->dims.end == INT64_MAX ? "" : format("%lld", (long long)l->dims.end),
               (long long)l->dims.step, (long long)l->dims.v[0], shape_str(in), (long long)size);
      return false;
    }
    l->dims.start = st;
    l->dims.length = n;
    l->shape = *in;
    l->shape.d[l->dims.v[0]] = n;
    return true;
  }
  case OP_INDEX_SELECT: {
    const Shape *is = &l->in[1]->shape;
    if (!norm_dim(l, &l->dims.v[0], in->rank, "dim"))
      return false;
    if (is->rank != 1) {
      error_at(l->loc, "index_select: the index must be 1-D, got %s", shape_str(is));
      return false;
    }
    l->shape = *in;
    l->shape.d[l->dims.v[0]] = is->d[0];
    return true;
  }
  case OP_NARROW: {
    if (!norm_dim(l, &l->dims.v[0], in->rank, "dim"))
      return false;
    int64_t size = in->d[l->dims.v[0]], st = l->dims.start, len = l->dims.length;
    if (st < -size || st > size) {
      error_at(l->loc, "narrow: start=%lld is out of range for dim %lld of %s (expected %lld..%lld)",
               (long long)st, (long long)l->dims.v[0], shape_str(in), (long long)-size, (long long)size);
      return false;
    }
    if (st < 0)
      st += size;
    if (len < 1 || len > size - st) {
      error_at(l->loc, "narrow: length=%lld from start %lld does not fit dim %lld of %s (size %lld; expected "
                       "1..%lld)", (long long)len, (long long)st, (long long)l->dims.v[0], shape_str(in),
               (long long)size, (long long)(size - st));
      return false;
    }
    l->dims.start = st;
    l->shape = *in;
    l->shape.d[l->dims.v[0]] = len;
    return true;
  }
  case OP_LOG_SOFTMAX:
  case OP_SOFTMAX:
    if (!norm_axis(l, &l->axes.axis, in->rank, "dim"))
      return false;
    l->shape = *in;
    return true;
  case OP_RELU:
  case OP_RELU6:
  case OP_LEAKY_RELU:
  case OP_SIGMOID:
  case OP_TANH:
  case OP_GELU:
  case OP_SILU:
  case OP_HARDSWISH:
  case OP_HARDSIGMOID:
  case OP_MISH:
  case OP_ELU:
  case OP_SOFTPLUS:
  case OP_DROPOUT:
  case OP_IDENTITY:
  case OP_STOCHASTIC_DEPTH:
    l->shape = *in;
    return true;
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
    if (l->nin == 1) { // with a number
      l->shape = *in;
      return true;
    }
    return broadcast(l);
  case OP_CONCAT: {
    if (!norm_axis(l, &l->axes.axis, in->rank, "dim"))
      return false;
    Shape out = *in;
    for (int i = 1; i < l->nin; i++) {
      const Shape *s = &l->in[i]->shape;
      bool ok = s->rank == in->rank;
      for (int d = 0; ok && d < s->rank; d++)
        ok = d == l->axes.axis || s->d[d] == in->d[d];
      if (!ok) {
        error_at(l->loc, "concat: input %d has shape %s, which does not match %s outside dim %d", i + 1,
                 shape_str(s), shape_str(in), l->axes.axis);
        return false;
      }
      out.d[l->axes.axis] += s->d[l->axes.axis];
    }
    l->shape = out;
    return true;
  }
  case OP_PAD:
    if (!need_rank(l, 0, 4) || !attrs_in_range(l))
      return false;
    l->shape = *in;
    l->shape.d[2] += l->pad.top + l->pad.bottom;
    l->shape.d[3] += l->pad.left + l->pad.right;
    return true;
  case OP_NORMALIZE:
    if (!need_rank(l, 0, 4))
      return false;
    if (l->norm.nmean != in->d[1]) {
      error_at(l->loc, "normalize: %d mean/std values given but the input has %lld channels", l->norm.nmean,
               (long long)in->d[1]);
      return false;
    }
    l->shape = *in;
    return true;
  case OP__COUNT:
    break;
  }
  unreachable();
}

bool infer_shape(Layer *l) {
  for (int i = 0; i < l->nin; i++)
    for (int d = 0; d < l->in[i]->shape.rank; d++)
      NETC_ASSERT(l->in[i]->shape.d[d] > 0);
  if (!infer(l))
    return false;
  int64_t n = 1;
  for (int d = 0; d < l->shape.rank; d++) {
    if (l->shape.d[d] > DIM_LIMIT || __builtin_mul_overflow(n, l->shape.d[d], &n) || n > NUMEL_LIMIT) {
      error_at(l->loc, "%s: output %s is too large (limits: %lld per dimension, %lld elements)", opname(l),
               shape_str(&l->shape), (long long)DIM_LIMIT, (long long)NUMEL_LIMIT);
      return false;
    }
  }
  return true;
}
