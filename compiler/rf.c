// rf.c -- receptive field of every layer, per spatial axis.
//
// requires: l->shape and the attributes of every layer (elaborate.c, shape.c);
//           layers in topological order, g->inputs[0] set.
// fills:    l->rf[0] (H) and l->rf[1] (W) of every layer.
//
// The rules are the usual recurrence (Araujo, Norris & Sim, "Computing
// receptive fields of convolutional neural networks", Distill 2019), in input
// pixels of the net input:
//
//   size  r   pixels of the input that one output pixel sees
//   jump  j   input pixels between two adjacent output pixels
//   start     input coordinate of the centre of output pixel 0's field
//
// A net input has r = 1, j = 1, start = 0. A conv or pool with effective
// kernel ke = d*(k-1)+1, stride s and leading pad p maps (r, j, start) to
//
//   r' = r + (ke-1)*j    j' = j*s    start' = start + ((ke-1)/2 - p)*j
//
// A transposed conv divides the jump instead (so j may become fractional):
//
//   r' = r + (ceil(ke/s)-1)*j    j' = j/s    start' = start + (p - (ke-1)/2)/s*j
//
// An axis is *global* once an output pixel depends on the whole input map
// along it (flatten, global pooling, a linear over it, ...). A global axis
// stays global and reports the net input's extent: r = j = extent and
// start = (extent-1)/2, the centre of the map.
//
// Each axis is followed to the dim that holds it (RF.dim): 2 and 3 in the
// NCHW input, wherever permute, transpose, squeeze, unsqueeze and reshapes
// that keep it whole move it (ConvNeXt's NHWC layer norm and MLP, a channel
// shuffle), so an op that mixes one dim (linear, layer norm, softmax, a
// reduction, index_select) makes global only the axis it mixes. The windowed
// ops (conv, pools, resizing, pad) apply their rule when the axes are at dims
// 2 and 3, the only place their windows slide.
#include "netc.h"

enum { AXIS_H, AXIS_W };

// The net input's extent along an axis; 1 when the input has no spatial axes
// (an MLP on [N, features]), so every layer of such a net is global with r = 1.
static double input_extent(Graph *g, int axis) {
  if (g->ninputs == 0)
    return 1;
  Layer *in = g->inputs[0];
  if (in->shape.rank == 3) // [N, C, L]: L is the W axis, there is no H
    return axis == AXIS_W ? (double)in->shape.d[2] : 1;
  if (in->shape.rank < 4)
    return 1;
  return (double)in->shape.d[2 + axis];
}

static RF global_rf(Graph *g, int axis) {
  double e = input_extent(g, axis);
  return (RF){.size = e, .jump = e, .start = (e - 1) / 2, .global = true, .dim = -1};
}

// The same field, its axis now at dim d (-1: no longer one dim: global).
static RF moved(Graph *g, RF in, int axis, int d) {
  if (d < 0)
    return global_rf(g, axis);
  in.dim = d;
  return in;
}

static int64_t pick(int axis, int64_t h, int64_t w) { return axis == AXIS_H ? h : w; }

// conv2d, maxpool2d, avgpool2d. Pools have no dilation in PyTorch's avgpool;
// the elaborator may leave dh/dw at 0 there, which means 1.
static RF conv_rf(RF in, int64_t k, int64_t s, int64_t p, int64_t d) {
  if (d < 1)
    d = 1;
  double ke = (double)(d * (k - 1) + 1);
  RF out = in;
  out.size = in.size + (ke - 1) * in.jump;
  out.jump = in.jump * (double)s;
  out.start = in.start + ((ke - 1) / 2 - (double)p) * in.jump;
  return out;
}

static RF convt_rf(RF in, int64_t k, int64_t s, int64_t p, int64_t d) {
  if (d < 1)
    d = 1;
  int64_t ke = d * (k - 1) + 1;
  int64_t taps = (ke + s - 1) / s; // input pixels that reach one output pixel (at most)
  RF out = in;
  out.size = in.size + (double)(taps - 1) * in.jump;
  out.jump = in.jump / (double)s;
  out.start = in.start + ((double)p - (double)(ke - 1) / 2) / (double)s * in.jump;
  return out;
}

// adaptive_avgpool2d from n to m pixels: output i averages input
// [floor(i*n/m), ceil((i+1)*n/m)). When m divides n that is a plain pool with
// k = s = n/m. Otherwise the windows differ in size: the field size uses the
// largest window and the jump the fractional stride n/m, as the spec says; the
// start is the centre of window 0, which is what "start" means.
static RF adaptive_rf(RF in, int64_t n, int64_t m) {
  if (n % m == 0)
    return conv_rf(in, n / m, n / m, 0, 1);
  int64_t kmax = 0;
  for (int64_t i = 0; i < m; i++) {
    int64_t lo = i * n / m;
    int64_t hi = ((i + 1) * n + m - 1) / m;
    if (hi - lo > kmax)
      kmax = hi - lo;
  }
  int64_t k0 = (n + m - 1) / m; // window 0 is [0, ceil(n/m))
  RF out = in;
  out.size = in.size + (double)(kmax - 1) * in.jump;
  out.jump = in.jump * (double)n / (double)m;
  out.start = in.start + (double)(k0 - 1) / 2 * in.jump;
  return out;
}

// upsample / interpolate: output pixel o reads input coordinate o * scale
// (nearest: rounded down; align_corners: exactly) or (o + 1/2) * scale - 1/2
// (bilinear, clamped at 0), scale = in/out (or 1/scale_factor); bilinear
// mixes two neighbours. So j' = j * scale, r' = r (+ j for bilinear), and
// start moves to output 0's source coordinate.
static RF resize_rf(const Layer *l, RF in, int axis) {
  int64_t n = l->in[0]->shape.d[2 + axis], m = l->shape.d[2 + axis];
  double given = axis == 0 ? l->resize.scale_h : l->resize.scale_w;
  double scale = l->resize.align_corners ? (m > 1 ? (double)(n - 1) / (double)(m - 1) : 0)
                 : given > 0             ? 1 / given
                                         : (double)n / (double)m;
  if (scale <= 0) // align_corners to one pixel: no step between outputs; say in/out
    scale = (double)n / (double)m;
  RF out = in;
  out.jump = in.jump * scale;
  if (l->resize.bilinear && n > 1) {
    out.size = in.size + in.jump;
    if (!l->resize.align_corners && scale > 1)
      out.start = in.start + (scale / 2 - 0.5) * in.jump;
  }
  return out;
}

// Joins (add, sub, mul of two tensors, concat): the input with the largest
// field along the axis (the first one on a tie). Global inputs never get
// here: layer_rf has made the join global already.
static RF join_rf(Layer *l, int axis) {
  const RF *best = NULL;
  int rank = 0;
  for (int i = 0; i < l->nin; i++) {
    const RF *r = &l->in[i]->rf[axis];
    if (!r->constant && (!best || r->size > best->size)) {
      best = r;
      rank = l->in[i]->shape.rank;
    }
  }
  NETC_ASSERT(best); // layer_rf made a join of constants constant
  RF out = *best;
  out.dim += l->shape.rank - rank; // broadcasting aligns trailing dims
  return out;
}

// Where dim d of shape a is in shape b when b is a's elements regrouped
// (reshape, view, flatten, squeeze, unsqueeze): the dim of b with the same
// size and the same number of elements before it; -1 when the regrouping
// splits or merges it.
static int regrouped_dim(const Shape *a, const Shape *b, int d) {
  int64_t before = 1, at = 1;
  for (int k = 0; k < d; k++)
    before *= a->d[k];
  for (int k = 0; k < b->rank; k++) {
    if (at == before && b->d[k] == a->d[d])
      return k;
    at *= b->d[k];
  }
  return -1;
}

// layernorm normalises the trailing dims of its input: norm_dims of them, or
// those of the stated normalized_shape, or all dims but N by default.
static int layernorm_dims(Layer *l, int in_rank) {
  if (l->norm.dims > 0)
    return l->norm.dims;
  if (l->norm.shape.rank > 0)
    return l->norm.shape.rank;
  return in_rank - 1;
}

static RF layer_rf(Graph *g, Layer *l, int axis) {
  if (l->op == OP_INPUT) {
    // A 1-D signal [N, C, L] has a field along L, the W axis; H is one
    // pixel, global from the start.
    if (l->shape.rank == 3 && axis == AXIS_W)
      return (RF){.size = 1, .jump = 1, .start = 0, .global = false, .dim = 2};
    if (l->shape.rank < 4)
      return global_rf(g, axis);
    return (RF){.size = 1, .jump = 1, .start = 0, .global = false, .dim = 2 + axis};
  }
  // A param or buffer sees no input pixel, nor does anything computed from
  // them alone (a transposed weight); a join ignores such an operand, so
  // ConvNeXt's layer_scale * x keeps x's field.
  bool constant = true;
  for (int i = 0; i < l->nin; i++)
    constant &= l->in[i]->rf[axis].constant;
  if (constant)
    return (RF){.size = 0, .jump = 0, .start = 0, .constant = true, .dim = -1};
  // Anything computed from a global axis is global: no later op narrows it.
  for (int i = 0; i < l->nin; i++)
    if (l->in[i]->rf[axis].global)
      return global_rf(g, axis);

  // The first operand that sees the input (matmul and the joins may have a
  // constant one first), and the dim its axis is at.
  RF in = l->in[0]->rf[axis];
  const Shape *xs = &l->in[0]->shape;
  for (int i = 0; in.constant && i + 1 < l->nin; i++) {
    in = l->in[i + 1]->rf[axis];
    xs = &l->in[i + 1]->shape;
  }
  const int d = in.dim;
  // The windowed ops slide over dims 2 and 3 of an NCHW tensor.
  const bool at_hw = xs->rank == 4 && d == 2 + axis;

  switch (l->op) {
  case OP_INPUT:
  case OP_PARAM: // constant: returned above
  case OP_BUFFER:
    unreachable();
  case OP_CONV2D:
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
    if (!at_hw)
      return global_rf(g, axis);
    return conv_rf(in, pick(axis, l->win.kh, l->win.kw), pick(axis, l->win.sh, l->win.sw),
                   pick(axis, l->win.pad_top, l->win.pad_left), pick(axis, l->win.dh, l->win.dw));
  case OP_CONV_TRANSPOSE2D:
    if (!at_hw)
      return global_rf(g, axis);
    return convt_rf(in, pick(axis, l->win.kh, l->win.kw), pick(axis, l->win.sh, l->win.sw),
                    pick(axis, l->win.pad_top, l->win.pad_left), pick(axis, l->win.dh, l->win.dw));
  case OP_ADAPTIVE_AVGPOOL2D: {
    if (!at_hw)
      return global_rf(g, axis);
    int64_t n = xs->d[2 + axis], m = l->shape.d[2 + axis];
    if (m == 1)
      return global_rf(g, axis);
    return adaptive_rf(in, n, m);
  }
  case OP_GLOBAL_AVGPOOL2D:
  case OP_GROUPNORM: // statistics over each group's channels and every position
  case OP_MATMUL:    // every output mixes a whole row of one operand with a column of the other
    return global_rf(g, axis);
  case OP_UPSAMPLE:
  case OP_INTERPOLATE:
    return at_hw ? resize_rf(l, in, axis) : global_rf(g, axis);
  case OP_PAD: {
    if (!at_hw)
      return global_rf(g, axis);
    RF out = in;
    out.start = in.start - (double)pick(axis, l->pad.top, l->pad.left) * in.jump;
    return out;
  }
  // The 1-D ops slide over the last dim of [N, C, L], with the window fields
  // of a 2-D op of height 1 (kw, sw, pad_left, dw).
  case OP_CONV1D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
    if (xs->rank != 3 || d != 2)
      return global_rf(g, axis);
    return conv_rf(in, l->win.kw, l->win.sw, l->win.pad_left, l->win.dw);
  case OP_ADAPTIVE_AVGPOOL1D: {
    if (xs->rank != 3 || d != 2)
      return global_rf(g, axis);
    int64_t n = xs->d[2], m = l->shape.d[2];
    return m == 1 ? global_rf(g, axis) : adaptive_rf(in, n, m);
  }
  case OP_LINEAR: // mixes the last dim
    return d == xs->rank - 1 ? global_rf(g, axis) : in;
  case OP_LAYERNORM: // the mean and variance run over the normalised trailing dims
    return d >= xs->rank - layernorm_dims(l, xs->rank) ? global_rf(g, axis) : in;
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
    return l->axes.axis == d ? global_rf(g, axis) : in;
  case OP_INDEX_SELECT: // any index may pick any position along its dim
    return l->dims.v[0] == d ? global_rf(g, axis) : in;
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX: {
    int before = 0;
    for (int i = 0; i < l->dims.n; i++) {
      if (l->dims.v[i] == d)
        return global_rf(g, axis);
      before += l->dims.v[i] < d;
    }
    return moved(g, in, axis, l->dims.keepdim ? d : d - before);
  }
  case OP_FLATTEN:
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
    return moved(g, in, axis, regrouped_dim(xs, &l->shape, d));
  case OP_PERMUTE:
  case OP_TRANSPOSE: {
    int64_t perm[MAX_RANK];
    layer_perm(l, perm);
    for (int k = 0; k < l->shape.rank; k++)
      if (perm[k] == d)
        return moved(g, in, axis, k);
    unreachable();
  }
  case OP_NARROW: {
    // Rows (or columns) start..start+length-1: the field moves with the start.
    RF out = in;
    if (l->dims.v[0] == d)
      out.start = in.start + (double)l->dims.start * in.jump;
    return out;
  }
  case OP_ARANGE: // no inputs: constant, returned above
    unreachable();
  case OP_ROLL: { // a cyclic shift along an axis wraps far pixels next to each other
    if (l->dims.n == 0)
      return global_rf(g, axis);
    for (int i = 0; i < l->dims.n; i++)
      if (l->dims.v[i] == d && l->dims.shift[i] != 0)
        return global_rf(g, axis);
    return in;
  }
  case OP_EXPAND: // new leading dims shift the axis
    return moved(g, in, axis, d + l->shape.rank - xs->rank);
  case OP_SLICE: {
    // Every step-th row from start: a stride without a window.
    RF out = in;
    if (l->dims.v[0] == d) {
      out.start = in.start + (double)l->dims.start * in.jump;
      out.jump = in.jump * (double)l->dims.step;
    }
    return out;
  }
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_CONCAT:
    return join_rf(l, axis);
  case OP_BATCHNORM1D:
  case OP_BATCHNORM2D:
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
  case OP_NORMALIZE:
    return in;
  case OP__COUNT:
    break;
  }
  unreachable();
}

void fill_rf(Graph *g) {
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    for (int axis = AXIS_H; axis <= AXIS_W; axis++)
      l->rf[axis] = layer_rf(g, l, axis);
  }
}
