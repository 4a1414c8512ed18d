// cost.c -- parameters, buffers, MACs, FLOPs and output bytes of every layer.
//
// requires: l->shape, the attributes and l->weights of every layer
//           (elaborate.c, shape.c, ops.c).
// fills:    l->params, l->buffers, l->macs, l->flops, l->bytes of every layer;
//           g->totals.params, buffers, macs, flops, weight_bytes,
//           activation_bytes (arena_bytes is memplan.c's).
//
// Counting conventions (PyTorch's own for params and buffers; MACs as
// fvcore counts conv and linear. thop, ptflops, fvcore and torchinfo differ
// on bias terms and elementwise work: docs/language.md 12.2 compares them):
//
//   params   trainable numel, as sum(p.numel() for p in m.parameters()).
//            Taken from the layer's Weight list so that it can never disagree
//            with the state_dict names the compiler reports.
//   buffers  BatchNorm running_mean + running_var; num_batches_tracked (the
//            int64 scalar) is not counted.
//   MACs     multiply-accumulates of conv / conv_transpose / linear, bias
//            excluded; nothing else has MACs.
//   FLOPs    2*MACs plus the elementwise work listed in op_flops().
//   bytes    float32 output: 4*numel.
//
// All counts are int64_t and saturate at INT64_MAX rather than wrap: no real
// net gets near that, and a saturated number is obviously wrong in a report,
// where a wrapped one would look plausible.
#include "netc.h"

static int64_t add64(int64_t a, int64_t b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t mul64(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  return a > INT64_MAX / b ? INT64_MAX : a * b;
}

static int64_t numel(const Shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++)
    n = mul64(n, s->d[i]);
  return n;
}

static int64_t groups(Layer *l) { return l->conv.groups > 0 ? l->conv.groups : 1; }

static int64_t op_macs(Layer *l) {
  int64_t out = numel(&l->shape);
  switch (l->op) {
  case OP_CONV2D: {
    // N*Cout*Hout*Wout * (Cin/groups)*kh*kw; the first factor is numel(out).
    int64_t cin = l->in[0]->shape.d[1];
    return mul64(mul64(out, cin / groups(l)), mul64(l->win.kh, l->win.kw));
  }
  case OP_CONV_TRANSPOSE2D: {
    // Every input pixel scatters a (Cout/groups)*kh*kw patch.
    int64_t cout = l->shape.d[1];
    return mul64(mul64(numel(&l->in[0]->shape), cout / groups(l)), mul64(l->win.kh, l->win.kw));
  }
  case OP_MATMUL: {
    // Each output element is a dot product of length k (fvcore's count).
    const Shape *a = &l->in[0]->shape;
    return mul64(out, a->d[a->rank - 1]);
  }
  case OP_CONV1D: {
    // Each output element: (Cin/groups) * k products.
    const Shape *xs = &l->in[0]->shape;
    return mul64(out, mul64(xs->d[1] / l->conv.groups, l->win.kw));
  }
  case OP_LINEAR: {
    // (numel(out)/out_features) rows of in_features*out_features.
    const Shape *xs = &l->in[0]->shape;
    return mul64(out, xs->d[xs->rank - 1]);
  }
  // No multiply-accumulates of weights: the rest is elementwise work, which
  // op_flops counts.
  case OP_INPUT:
  case OP_PARAM:
  case OP_BUFFER:
  case OP_INDEX_SELECT:
  case OP_SLICE:
  case OP_ROLL:
  case OP_EXPAND:
  case OP_ARANGE:
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL1D:
  case OP_BATCHNORM1D:
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
  case OP_UPSAMPLE:
  case OP_INTERPOLATE:
  case OP_FLATTEN:
  case OP_BATCHNORM2D:
  case OP_LAYERNORM:
  case OP_GROUPNORM:
  case OP_SOFTPLUS:
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
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX:
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_PERMUTE:
  case OP_TRANSPOSE:
  case OP_NARROW:
  case OP_DROPOUT:
  case OP_IDENTITY:
  case OP_STOCHASTIC_DEPTH:
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_CONCAT:
  case OP_PAD:
  case OP_NORMALIZE:
    return 0;
  case OP__COUNT:
    break;
  }
  unreachable();
}

// FLOPs beyond 2*MACs: one per bias add, per activation, per arithmetic
// step of a normalisation, per pooled element.
static int64_t op_flops(Layer *l) {
  int64_t out = numel(&l->shape);
  switch (l->op) {
  case OP_INPUT:
  case OP_PARAM:
  case OP_BUFFER:
  case OP_FLATTEN:
  case OP_DROPOUT:
  case OP_IDENTITY:
  case OP_STOCHASTIC_DEPTH:
  case OP_CONCAT:
  case OP_PAD:
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_PERMUTE:
  case OP_TRANSPOSE:
  case OP_NARROW:
  case OP_INDEX_SELECT: // a gather copies
  case OP_SLICE:
  case OP_ROLL:
  case OP_EXPAND:
  case OP_ARANGE: // written, not computed
    return 0;
  case OP_CONV2D:
  case OP_CONV1D:
  case OP_CONV_TRANSPOSE2D:
  case OP_LINEAR:
    return l->conv.bias ? out : 0;
  case OP_MATMUL:
    return 0;
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D:
    return mul64(2, out); // (x - mean) * scale + shift, folded
  case OP_SOFTPLUS:
    return mul64(3, out); // exp, log1p, divide
  case OP_LAYERNORM:
  case OP_GROUPNORM:
    // mean, subtract, square, mean, divide; then scale and shift
    return mul64(l->norm.affine ? 7 : 5, out);
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
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
    return out;
  case OP_SOFTMAX:
    return mul64(3, out); // exp, sum, divide
  case OP_LOG_SOFTMAX:
    return mul64(3, out); // exp, sum, subtract (one log per row is not counted)
  case OP_MEAN: // k-1 adds and a divide per window of k, as adaptive pooling
    return numel(&l->in[0]->shape);
  case OP_SUM: // k-1 adds (comparisons) per window of k
  case OP_AMAX:
    return numel(&l->in[0]->shape) - out;
  case OP_MAXPOOL2D:
  case OP_MAXPOOL1D: // kh = 1
    return mul64(mul64(l->win.kh, l->win.kw) - 1, out); // kh*kw-1 comparisons
  case OP_AVGPOOL2D:
  case OP_AVGPOOL1D:
    return mul64(mul64(l->win.kh, l->win.kw), out); // kh*kw-1 adds and a divide
  case OP_ADAPTIVE_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
    // k-1 adds and a divide per window of k: one op per input element.
    return numel(&l->in[0]->shape);
  case OP_NORMALIZE:
    return mul64(2, out);
  case OP_UPSAMPLE:
  case OP_INTERPOLATE:
    // bilinear: four weights times four neighbours, summed (4 multiplies, 3
    // adds); nearest copies.
    return l->resize.bilinear ? mul64(7, out) : 0;
  case OP__COUNT:
    break;
  }
  unreachable();
}

static void layer_cost(Layer *l) {
  l->params = l->buffers = 0;
  for (int i = 0; i < l->nweights; i++) {
    Weight *w = &l->weights[i];
    if (!w->buffer)
      l->params = add64(l->params, numel(&w->shape));
    else if (w->kind != NETC_TENSOR_COUNTER) // an i64 index buffer is held (as floats)
      l->buffers = add64(l->buffers, numel(&w->shape));
  }
  l->macs = op_macs(l);
  l->flops = add64(mul64(2, l->macs), op_flops(l));
  l->bytes = mul64(numel(&l->shape), (int64_t)sizeof(float));
}

void fill_cost(Graph *g) {
  Totals *t = &g->totals;
  t->params = t->buffers = t->macs = t->flops = t->activation_bytes = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    layer_cost(l);
    t->params = add64(t->params, l->params);
    t->buffers = add64(t->buffers, l->buffers);
    t->macs = add64(t->macs, l->macs);
    t->flops = add64(t->flops, l->flops);
    if (!op_is_source(l->op))
      t->activation_bytes = add64(t->activation_bytes, l->bytes);
  }
  t->weight_bytes = mul64((int64_t)sizeof(float), add64(t->params, t->buffers));
}
