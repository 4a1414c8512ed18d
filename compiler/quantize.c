// quantize.c -- int8 post-training quantization (netc --quantize int8).
//
// requires: fusion (fuse.c) and the calibrated range of every layer
//           (ranges.c checked the file against the graph: one per layer id).
// fills:    l->q on every layer; l->bytes to the sizes the int8 build
//           stores (1 byte per element of a uint8 tensor); after lowering,
//           plan_qblob lays out the int8 blob (l->q.qw/qb/qrq, totals).
//
// The scheme is the one PyTorch's x86 backends use, so that PyTorch's own
// quantized model (FX graph mode) is the oracle: weights int8, symmetric
// per output channel; activations uint8, affine per tensor; int32
// accumulation; a fixed-point requantization per output channel.
//
// Which tensor gets which scale follows FX's observer placement (its
// backend config, torch/ao/quantization/backend_config), because a different
// placement gives different numbers, not just different rounding:
//   - observed: net inputs; a conv / linear after its folded batch norm, or
//     after the relu fused into it (FX's ConvReLU2d / LinearReLU); a tensor
//     add, or the relu after it (add_relu); concat; every op below that is
//     neither shared nor fixed;
//   - shared with the input: max / avg / adaptive pooling, views (flatten,
//     reshape, view, squeeze, unsqueeze, dropout, identity, narrow), permute,
//     transpose, mean, upsample, relu when it stands alone, relu6 and
//     hardtanh (so conv -> bn -> relu6 keeps the conv's scale and relu6
//     becomes a clamp at the quantized 6);
//   - fixed: sigmoid, hardsigmoid and softmax (1/256, 0), tanh (2/256, 128).
// Unary elementwise ops run as 256-entry tables. An op with no int8 kernel
// runs its float kernel between a dequantize and a quantize, as PyTorch's
// reference model would, and the report says so.
#include "netc.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "../runtime/netc_rt.h"

void quant_params(double min, double max, float *scale, int32_t *zp) {
  // In float, as the observer computes them (torch.float32 tensors).
  float lo = fminf((float)min, 0.0f), hi = fmaxf((float)max, 0.0f);
  float s = (hi - lo) / 255.0f;
  if (!(s > FLT_EPSILON))
    s = FLT_EPSILON;
  int32_t z = 0 - (int32_t)nearbyintf(lo / s);
  *scale = s;
  *zp = z < 0 ? 0 : z > 255 ? 255 : z;
}

int64_t layer_elem_bytes(const Layer *l) { return l->q.u8 ? 1 : 4; }

// A two-tensor add whose operands both have its shape (qadd does not broadcast).
static bool plain_add(const Layer *l) { return l->op == OP_ADD && l->nin == 2 && !layer_broadcasts(l); }

static bool is_activation(OpKind op) { return op_table[op].act != NETC_ACT_NONE; }

// The fusions int8 kernels do not have: every activation but relu and relu6
// after a conv, linear or add (the others become tables), a residual add
// in a conv's epilogue (a separate qadd: the two operands have their own
// scales) and a transpose read in place by a matmul (matmul runs in float).
static void unfuse(Graph *g) {
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->trans_b) {
      l->in[1]->fused_into = NULL;
      l->trans_b = false;
    }
    if (l->residual) {
      // The activation after the add was fused into this conv too: it is
      // the add's again.
      Layer *add = NULL;
      for (int s = i + 1; s < g->nlayers && !add; s++)
        if (g->layers[s]->fused_into == l && g->layers[s]->nin == 2)
          add = g->layers[s];
      NETC_ASSERT(add);
      add->fused_into = NULL;
      if (l->act) {
        add->act = l->act;
        l->act->fused_into = add;
        l->act = NULL;
      }
      l->residual = NULL;
    }
  }
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->act && l->act->op != OP_RELU && l->act->op != OP_RELU6) {
      l->act->fused_into = NULL;
      l->act = NULL;
    }
  }
}

// Where an op's output scale comes from (FX's observation types). Every op
// decides: a new op is a compile error here until it does.
typedef enum {
  QP_OBSERVED, // its own calibrated range
  QP_SHARED,   // its input's (data movement, max, averages of the input's values, relu / relu6)
  QP_FIXED_01, // 1/256, zero point 0: outputs in [0, 1]
  QP_FIXED_11, // 2/256, zero point 128: outputs in [-1, 1]
} QParamsRule;

static QParamsRule qparams_rule(OpKind op) {
  switch (op) {
  case OP_MAXPOOL2D: case OP_MAXPOOL1D: case OP_AVGPOOL2D: case OP_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL2D: case OP_ADAPTIVE_AVGPOOL1D: case OP_GLOBAL_AVGPOOL2D:
  case OP_RELU: case OP_RELU6: case OP_PERMUTE: case OP_TRANSPOSE: case OP_MEAN:
  case OP_UPSAMPLE: case OP_INTERPOLATE: case OP_SLICE: case OP_NARROW: case OP_ROLL: case OP_EXPAND:
  case OP_FLATTEN: case OP_RESHAPE: case OP_VIEW: case OP_SQUEEZE: case OP_UNSQUEEZE:
  case OP_DROPOUT: case OP_IDENTITY: case OP_STOCHASTIC_DEPTH: case OP_INDEX_SELECT: case OP_AMAX:
    return QP_SHARED;
  case OP_SIGMOID: case OP_HARDSIGMOID: case OP_SOFTMAX:
    return QP_FIXED_01;
  case OP_TANH:
    return QP_FIXED_11;
  case OP_INPUT: case OP_PARAM: case OP_BUFFER: case OP_CONV2D: case OP_CONV_TRANSPOSE2D: case OP_CONV1D:
  case OP_LINEAR: case OP_MATMUL: case OP_ARANGE: case OP_BATCHNORM2D: case OP_BATCHNORM1D: case OP_GROUPNORM:
  case OP_LAYERNORM: case OP_LEAKY_RELU: case OP_GELU: case OP_SILU: case OP_HARDSWISH: case OP_MISH: case OP_ELU:
  case OP_SOFTPLUS: case OP_LOG_SOFTMAX: case OP_SUM: case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
  case OP_CONCAT: case OP_PAD: case OP_NORMALIZE:
    return QP_OBSERVED;
  case OP__COUNT:
    break;
  }
  unreachable();
}

// A unary op computed elementwise from one number: a table of 256 entries.
static bool table_op(const Layer *l) {
  if (l->nin != 1)
    return false;
  if (is_activation(l->op) || l->op == OP_SOFTPLUS)
    return true;
  return op_arith_sym(l->op) != 0; // x + 2, 1 - x, x * 0.5, x / 3
}

static bool all_u8(const Layer *l) {
  for (int k = 0; k < l->nin; k++)
    if (!l->in[k]->q.u8)
      return false;
  return l->nin > 0;
}

static void set_params(Layer *l, float scale, int32_t zp) {
  l->q.u8 = true;
  l->q.scale = scale;
  l->q.zp = zp;
  l->q.out_min = 0;
  l->q.out_max = 255;
}

static void observed(Layer *l, const Layer *at, const double *min, const double *max) {
  float s;
  int32_t z;
  quant_params(min[at->id], max[at->id], &s, &z);
  set_params(l, s, z);
}

// The clamp a fused relu or relu6 puts on the kernel's uint8 output.
static void clamp_for(Layer *l, const Layer *act) {
  if (!act)
    return;
  l->q.out_min = l->q.zp;
  if (act->op == OP_RELU6) {
    double six = l->q.zp + nearbyint(6.0 / l->q.scale);
    l->q.out_max = six > 255 ? 255 : (int32_t)six;
  }
}

// The 256 outputs of a table op for the uint8 inputs 0..255: the float op
// on the dequantized value, quantized with the output's parameters as
// PyTorch quantizes (q = nearbyint(y * (1 / scale)) + zp).
static uint8_t *make_table(const Layer *l) {
  const Layer *in = l->in[0];
  float x[256], y[256];
  for (int v = 0; v < 256; v++)
    x[v] = in->q.scale * (float)(v - in->q.zp);
  if (l->op == OP_SOFTPLUS) {
    netc_ref_softplus_f32(256, (float)l->ew.beta, (float)l->ew.threshold, x, y);
  } else if (op_arith_sym(l->op)) {
    netc_ref_binary_f32(op_arith_sym(l->op), 256, x, NULL, (float)l->ew.scalar, l->ew.scalar_left, y);
  } else {
    float slope;
    netc_act a = lower_act(l, &slope);
    netc_ref_act_f32(a, slope, 256, x, y);
  }
  uint8_t *t = xalloc(256);
  float inv = 1.0f / l->q.scale;
  for (int v = 0; v < 256; v++) {
    float q = nearbyintf(y[v] * inv) + (float)l->q.zp;
    t[v] = (uint8_t)(q < 0.0f ? 0 : q > 255.0f ? 255 : q); // NaN (none expected) -> 0
  }
  return t;
}

static void assign(Layer *l, const double *min, const double *max, bool keep_float) {
  l->q.kind = Q_NONE;
  l->q.qw = l->q.qb = l->q.qrq = -1;
  if (l->op == OP_INPUT) {
    observed(l, l, min, max);
    l->q.kind = Q_QUANTIZE;
    return;
  }
  if (op_in_blob(l->op))
    return; // a param or buffer: float, in the weight blob
  if (l->fused_into) {
    // A folded batch norm or a fused relu / relu6: the producer's output
    // (assigned already: producers come first).
    l->q = l->fused_into->q;
    l->q.kind = Q_NONE;
    l->q.lut = NULL;
    l->q.qw = l->q.qb = l->q.qrq = -1;
    return;
  }
  const Layer *in = l->nin ? l->in[0] : NULL;
  bool u8 = all_u8(l);
  // A float kernel applies what is fused into it: its output is the
  // fused chain's last layer's.
  const Layer *chain_end = l->act ? l->act : l->fold_bn ? l->fold_bn : l;
  if (keep_float && !layer_is_view(l)) {
    // --float-layers: the user's choice, for accuracy.
    observed(l, chain_end, min, max);
    l->q.kind = Q_FLOAT;
    l->q.why_float = "kept in float by --float-layers";
    return;
  }
  if ((op_is_conv(l->op) || l->op == OP_LINEAR || plain_add(l)) && u8) {
    // The observer sits after a fused relu (ConvReLU2d, add_relu), before
    // a relu6, which shares it and clamps.
    const Layer *at = l->act && l->act->op == OP_RELU ? l->act : l->fold_bn ? l->fold_bn : l;
    observed(l, at, min, max);
    clamp_for(l, l->act);
    l->q.kind = op_is_conv(l->op) ? Q_CONV : l->op == OP_LINEAR ? Q_LINEAR : Q_ADD;
    return;
  }
  if (u8 && layer_is_view(l)) {
    l->q = in->q;
    l->q.kind = Q_NONE;
    l->q.lut = NULL;
    l->q.qw = l->q.qb = l->q.qrq = -1;
    return;
  }
  if (!u8 && layer_is_view(l))
    return; // a view of a float param: float
  QParamsRule rule = qparams_rule(l->op);
  if (rule == QP_SHARED && in && in->q.u8)
    set_params(l, in->q.scale, in->q.zp);
  else if (rule == QP_FIXED_01)
    set_params(l, 1.0f / 256.0f, 0);
  else if (rule == QP_FIXED_11)
    set_params(l, 2.0f / 256.0f, 128);
  else
    observed(l, chain_end, min, max);
  if (u8) {
    if (op_is_maxpool(l->op)) {
      l->q.kind = Q_MAXPOOL;
      return;
    }
    if (l->op == OP_AVGPOOL2D || l->op == OP_AVGPOOL1D) {
      l->q.kind = Q_AVGPOOL;
      return;
    }
    if (l->op == OP_ADAPTIVE_AVGPOOL2D || l->op == OP_ADAPTIVE_AVGPOOL1D || l->op == OP_GLOBAL_AVGPOOL2D) {
      l->q.kind = Q_ADAPTIVE;
      return;
    }
    if (table_op(l)) {
      l->q.kind = Q_LUT;
      l->q.lut = make_table(l);
      return;
    }
    if (l->op == OP_CONCAT) {
      l->q.kind = Q_CONCAT;
      return;
    }
  }
  l->q.kind = Q_FLOAT;
  l->q.why_float = !u8 ? "an input is a float tensor (a param or buffer)"
                       : plain_add(l) || op_is_conv(l->op) || l->op == OP_LINEAR ? "an input is float"
                       : "netc has no int8 kernel for it";
}

// Whether l is one of the --float-layers (by name; a name may be a block
// instance's, which keeps every layer inside it).
static bool kept_float(const Layer *l, const char *const *names, int n) {
  for (int k = 0; k < n; k++) {
    size_t len = strlen(names[k]);
    if (strcmp(l->name, names[k]) == 0 || (strncmp(l->name, names[k], len) == 0 && l->name[len] == '.'))
      return true;
  }
  return false;
}

bool fill_quant(Graph *g, const double *min, const double *max, const char *const *float_layers, int nfloat) {
  for (int k = 0; k < nfloat; k++) {
    bool found = false;
    for (int i = 0; i < g->nlayers && !found; i++)
      found = kept_float(g->layers[i], &float_layers[k], 1) && !op_is_source(g->layers[i]->op);
    if (!found)
      error_at(g->loc, "--float-layers: net '%s' has no layer or block named '%s' (netc --report lists them)",
               g->net, float_layers[k]);
  }
  if (diag_error_count() > 0)
    return false;
  unfuse(g);
  // A layer kept in float keeps its fused activation and batch norm (its
  // float kernel runs them) but nothing fused stays across the boundary.
  int *readers = xalloc((size_t)(g->nlayers + 1) * sizeof *readers);
  for (int i = 0; i < g->nlayers; i++)
    for (int k = 0; k < g->layers[i]->nin; k++)
      readers[g->layers[i]->in[k]->id]++;
  int64_t act_bytes = 0;
  g->totals.nfloat_layers = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    memset(&l->q, 0, sizeof l->q);
    l->q.on = true;
    assign(l, min, max, !op_is_source(l->op) && kept_float(l, float_layers, nfloat));
    // A float layer that only the caller reads (a net output) hands over
    // its float result as it is: no round trip through uint8.
    if (l->q.kind == Q_FLOAT && readers[l->id] == 0)
      l->q.u8 = false;
    if (!op_in_blob(l->op) || l->q.u8)
      l->bytes = shape_numel(&l->shape) * layer_elem_bytes(l);
    if (!op_is_source(l->op))
      act_bytes += l->bytes;
    g->totals.nfloat_layers += l->q.kind == Q_FLOAT;
  }
  g->totals.activation_bytes = act_bytes;
  return true;
}

static int64_t align64(int64_t n) { return (n + 63) / 64 * 64; }

void plan_qblob(Graph *g) {
  int64_t top = 0, wbytes = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->q.kind != Q_CONV && l->q.kind != Q_LINEAR)
      continue;
    int64_t out_c = l->conv.out_channels;
    l->q.k = shape_numel(&l->weights[0].shape) / out_c;
    l->q.k4 = (l->q.k + 3) / 4 * 4;
    l->q.qw = top;
    top += align64(out_c * l->q.k4);
    l->q.qb = top;
    top += align64(out_c * 4);
    l->q.qrq = top;
    top += align64(out_c * (int64_t)sizeof(netc_requant));
    wbytes += out_c * l->q.k4;
  }
  g->totals.qblob_bytes = top;
  g->totals.int8_weight_bytes = wbytes;
  // The loader builds the int8 blob where a float build keeps its packed
  // weights (a float build of this graph packs nothing: lower.c).
  g->totals.packed_floats = (top + 3) / 4;
  g->totals.float_kept_bytes = g->totals.kept_floats * 4;
}
