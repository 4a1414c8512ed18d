// lower.c -- lowering: what runs each layer, and where its tensors live.
//
// requires: shapes (shape.c), weights (ops.c) and fusion (fuse.c: l->act,
//           l->fold_bn, l->residual, l->fused_into).
// fills:    l->kernel, l->scratch, l->no_scratch and l->slots on every layer;
//           the totals' weight_floats, packed_floats, kept_floats and
//           scratch_floats. Under --max-scratch (limits.max_scratch >= 0) a
//           layer whose kernel needs more runs a scratch-free one, or is an
//           error at its call (fit_scratch).
//           The memory plan (memplan.c) then places the scratch in the arena.
//
// Reports, the emitter and --weights read these fields; nothing after this
// pass chooses a kernel or lays out weights again. The runtime parameter
// structs are built here too: the emitter prints them into the generated
// source, and the in-process executor (execute.c: the forward fuzzer, --self-test)
// passes the very same structs to the runtime, so the two cannot drift.
#include "netc.h"

#include <string.h>

#define SLOT_ALIGN 16 // floats: every tensor starts on a 64-byte boundary

// The activation a layer lowers to: the registry's act column, with the
// two attributes it depends on (leaky_relu's slope, gelu's approximation).
netc_act lower_act(const Layer *a, float *slope) {
  *slope = 0;
  if (!a)
    return NETC_ACT_NONE;
  netc_act act = op_table[a->op].act;
  NETC_ASSERT(act != NETC_ACT_NONE); // only activations are fused (fuse.c)
  if (act == NETC_ACT_LEAKY_RELU)
    *slope = (float)a->ew.slope;
  if (act == NETC_ACT_ELU)
    *slope = (float)a->ew.alpha; // the runtime's one activation parameter
  if (act == NETC_ACT_GELU && a->ew.gelu_tanh)
    act = NETC_ACT_GELU_TANH;
  return act;
}

// The 1-D ops run as their 2-D kernels on [N, C, 1, L].
static void nchw(const Shape *s, int64_t *h, int64_t *w) {
  *h = s->rank == 3 ? 1 : s->d[2];
  *w = s->d[s->rank - 1];
}

netc_conv2d_params lower_conv2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_conv2d_params p = {0};
  p.n = in->d[0], p.in_c = in->d[1];
  nchw(in, &p.in_h, &p.in_w);
  p.out_c = l->shape.d[1];
  nchw(&l->shape, &p.out_h, &p.out_w);
  p.kernel_h = l->win.kh, p.kernel_w = l->win.kw, p.stride_h = l->win.sh, p.stride_w = l->win.sw;
  p.pad_top = l->win.pad_top, p.pad_left = l->win.pad_left;
  p.pad_bottom = l->win.pad_bottom, p.pad_right = l->win.pad_right;
  p.dilation_h = l->win.dh, p.dilation_w = l->win.dw, p.groups = l->conv.groups;
  p.act = lower_act(l->act, &p.act_slope);
  p.path = l->no_scratch ? NETC_CONV_NO_SCRATCH : NETC_CONV_AUTO;
  return p;
}

netc_conv2d_layer lower_conv2d_layer(const Layer *l) {
  return (netc_conv2d_layer){.p = lower_conv2d(l), .weight = l->slots.w, .bias = l->slots.b,
                             .packed = l->slots.packed};
}

netc_conv_transpose2d_params lower_conv_transpose2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_conv_transpose2d_params p = {0};
  p.n = in->d[0], p.in_c = in->d[1], p.in_h = in->d[2], p.in_w = in->d[3];
  p.out_c = l->shape.d[1], p.out_h = l->shape.d[2], p.out_w = l->shape.d[3];
  p.kernel_h = l->win.kh, p.kernel_w = l->win.kw, p.stride_h = l->win.sh, p.stride_w = l->win.sw;
  p.pad_top = l->win.pad_top, p.pad_left = l->win.pad_left;
  p.pad_bottom = l->win.pad_bottom, p.pad_right = l->win.pad_right;
  p.output_pad_h = l->conv.output_pad_h, p.output_pad_w = l->conv.output_pad_w;
  p.dilation_h = l->win.dh, p.dilation_w = l->win.dw, p.groups = l->conv.groups;
  p.act = lower_act(l->act, &p.act_slope);
  return p;
}

netc_pool2d_params lower_pool2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_pool2d_params p = {0};
  p.n = in->d[0], p.c = in->d[1];
  nchw(in, &p.in_h, &p.in_w);
  nchw(&l->shape, &p.out_h, &p.out_w);
  p.kernel_h = l->win.kh, p.kernel_w = l->win.kw, p.stride_h = l->win.sh, p.stride_w = l->win.sw;
  p.pad_top = l->win.pad_top, p.pad_left = l->win.pad_left;
  p.pad_bottom = l->win.pad_bottom, p.pad_right = l->win.pad_right;
  p.dilation_h = op_is_maxpool(l->op) ? l->win.dh : 1, p.dilation_w = op_is_maxpool(l->op) ? l->win.dw : 1;
  p.ceil_mode = l->pool.ceil_mode, p.count_include_pad = l->pool.count_include_pad;
  return p;
}

netc_resize2d_params lower_resize2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_resize2d_params p = {0};
  p.n = in->d[0], p.c = in->d[1], p.in_h = in->d[2], p.in_w = in->d[3];
  p.out_h = l->shape.d[2], p.out_w = l->shape.d[3];
  p.bilinear = l->resize.bilinear, p.align_corners = l->resize.align_corners;
  p.scale_h = l->resize.scale_h, p.scale_w = l->resize.scale_w;
  return p;
}

int64_t lower_linear_batch(const Layer *l) {
  return shape_numel(&l->shape) / l->conv.out_channels;
}

// The scratch a layer's kernel needs, in floats: the arena's scratch region
// is the largest of these. 0 for a fused layer.
static int64_t float_scratch_of(const Layer *l);
static int64_t align16(int64_t n) { return (n + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN; }

static int64_t bytes_to_floats(int64_t bytes) { return (bytes + 3) / 4; }

// An int8 layer's scratch; a float layer in an int8 build also holds its
// dequantized inputs and its float output there, after the kernel's own
// scratch (emit.c: float_operands).
static int64_t scratch_of(const Layer *l) {
  if (l->fused_into)
    return 0;
  switch (l->q.kind) {
  case Q_CONV: {
    netc_qconv2d_params q = {.p = lower_conv2d(l)};
    return bytes_to_floats(netc_qconv2d_scratch_bytes(&q));
  }
  case Q_LINEAR:
    return bytes_to_floats(
        netc_qlinear_scratch_bytes(lower_linear_batch(l), l->weights[0].shape.d[1], l->conv.out_channels));
  case Q_FLOAT: {
    int64_t n = align16(float_scratch_of(l));
    for (int k = 0; k < l->nin; k++)
      if (l->in[k]->q.u8)
        n += align16(shape_numel(&l->in[k]->shape));
    return n + align16(shape_numel(&l->shape));
  }
  case Q_NONE:
    if (l->q.on)
      return 0;
    return float_scratch_of(l);
  case Q_QUANTIZE:
  case Q_ADD:
  case Q_MAXPOOL:
  case Q_AVGPOOL:
  case Q_ADAPTIVE:
  case Q_LUT:
  case Q_CONCAT:
    return 0;
  }
  unreachable();
}

static int64_t float_scratch_of(const Layer *l) {
  switch (l->op) {
  case OP_CONV2D:
  case OP_CONV1D: {
    netc_conv2d_params p = lower_conv2d(l);
    return netc_conv2d_scratch_floats(&p);
  }
  case OP_CONV_TRANSPOSE2D: {
    netc_conv_transpose2d_params p = lower_conv_transpose2d(l);
    return netc_conv_transpose2d_scratch_floats(&p);
  }
  case OP_MATMUL: {
    Shape a, b, out;
    int r = matmul_shapes(l, &a, &b, &out);
    return netc_gemm_scratch_floats(out.d[r - 2], out.d[r - 1], a.d[r - 1]);
  }
  case OP_LINEAR:
    if (l->no_scratch)
      return 0; // netc_linear_dot_f32
    return netc_linear_scratch_floats(lower_linear_batch(l), l->weights[0].shape.d[1], l->conv.out_channels);
  // Kernels that need no scratch.
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

// ---- kernels -----------------------------------------------------------------

static KernelKind conv_kernel(const Layer *l) {
  netc_conv2d_params p = lower_conv2d(l);
  const char *path = netc_conv2d_path(&p);
  static const struct {
    const char *name;
    KernelKind kind;
  } paths[] = {{"direct", KERNEL_CONV_DIRECT},           {"gemm_1x1", KERNEL_CONV_GEMM_1X1},
               {"gemm_im2col", KERNEL_CONV_GEMM_IM2COL}, {"winograd", KERNEL_CONV_WINOGRAD},
               {"depthwise", KERNEL_CONV_DEPTHWISE},     {"loop", KERNEL_CONV_LOOP}};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (strcmp(path, paths[i].name) == 0)
      return paths[i].kind;
  internal_error(__FILE__, __LINE__, format("the runtime chose a conv2d path netc does not know: %s", path));
}

static KernelKind kernel_of(const Layer *l) {
  if (l->q.kind != Q_NONE && l->q.kind != Q_FLOAT)
    return KERNEL_INT8;
  if (op_is_source(l->op))
    return KERNEL_INPUT;
  if (l->fused_into)
    return KERNEL_FUSED;
  if (layer_is_view(l))
    return KERNEL_VIEW;
  if (op_is_conv(l->op))
    return conv_kernel(l);
  if (l->op == OP_LINEAR)
    return lower_linear_batch(l) < 8 || l->no_scratch ? KERNEL_GEMV : KERNEL_GEMM;
  if (layer_broadcasts(l))
    return KERNEL_BROADCAST;
  return KERNEL_OP;
}

const char *kernel_name(const Layer *l) {
  switch (l->kernel) {
  case KERNEL_INPUT: return op_in_blob(l->op) ? "weights" : "input";
  case KERNEL_FUSED: return "fused";
  case KERNEL_VIEW: return "view";
  case KERNEL_CONV_DIRECT: return "direct";
  case KERNEL_CONV_GEMM_1X1: return "gemm_1x1";
  case KERNEL_CONV_GEMM_IM2COL: return "gemm_im2col";
  case KERNEL_CONV_WINOGRAD: return "winograd";
  case KERNEL_CONV_DEPTHWISE: return "depthwise";
  case KERNEL_CONV_LOOP: return "loop";
  case KERNEL_GEMV: return "gemv";
  case KERNEL_GEMM: return "gemm";
  case KERNEL_BROADCAST: return "broadcast";
  case KERNEL_OP: return op_table[l->op].name;
  case KERNEL_INT8:
    switch (l->q.kind) {
    case Q_QUANTIZE: return "quantize";
    case Q_CONV: return l->conv.groups > 1 && l->conv.groups == l->in[0]->shape.d[1] ? "int8_depthwise" : "int8_conv";
    case Q_LINEAR: return "int8_linear";
    case Q_ADD: return "int8_add";
    case Q_MAXPOOL: return "int8_maxpool";
    case Q_AVGPOOL: return "int8_avgpool";
    case Q_ADAPTIVE: return "int8_avgpool";
    case Q_LUT: return "int8_table";
    case Q_CONCAT: return "int8_concat";
    case Q_NONE:
    case Q_FLOAT: break;
    }
    break;
  }
  unreachable();
}

// ---- the weight blob -------------------------------------------------------

static int64_t take(int64_t *top, int64_t n) {
  int64_t off = *top;
  *top += align16(n);
  return off;
}

// Convolutions whose weights are packed once at load time for the GEMM
// micro-kernel (the depthwise and loop kernels read the weights as they are).
static bool packs(const Layer *l) {
  return !l->q.on && op_is_conv(l->op) && !l->fused_into && l->kernel != KERNEL_CONV_DEPTHWISE &&
         l->kernel != KERNEL_CONV_LOOP;
}

// A linear layer on the GEMM path has its weight packed at load time too
// (netc_gemm_pack_b): the GEMM then packs only its input. Below 8 rows the
// layer streams W as dot products and reads it raw.
bool lower_linear_packs(const Layer *l) { return !l->q.on && l->op == OP_LINEAR && l->kernel == KERNEL_GEMM; }

// An int8 conv or linear: its float weights and bias are read only while
// loading, to build the int8 blob (model.c).
static bool quantized_weights(const Layer *l) { return l->q.kind == Q_CONV || l->q.kind == Q_LINEAR; }

// Two regions: first what the forward pass reads once the model is loaded
// (biases, linear weights, depthwise weights, unfolded norms), then what
// only loading reads: the raw weights of packed convolutions (the forward
// pass reads the packed copy) and the statistics of folded batch norms. The
// loader shrinks the blob to the first region after packing (keep_floats),
// so a loaded ResNet-50 holds its conv weights once, packed, not twice.
// Weights embedded with --weights keep both regions (they are not packed).
static bool load_only(const Layer *l) {
  return packs(l) || lower_linear_packs(l) || quantized_weights(l) || (op_is_bn(l->op) && l->fused_into);
}

// The slot of a tensor of a layer, by its role.
static int64_t *slot_of(Slots *s, netc_model_kind kind) {
  switch (kind) {
  case NETC_TENSOR_WEIGHT: return &s->w;
  case NETC_TENSOR_BIAS: return &s->b;
  case NETC_TENSOR_GAMMA: return &s->gamma;
  case NETC_TENSOR_BETA: return &s->beta;
  case NETC_TENSOR_BN_MEAN: return &s->mean;
  case NETC_TENSOR_BN_VAR: return &s->var;
  case NETC_TENSOR_PARAM: // a declared tensor: the layer's output
  case NETC_TENSOR_BUFFER:
  case NETC_TENSOR_INDEX: return &s->w;
  case NETC_TENSOR_COUNTER: return NULL; // checked at load, not stored
  }
  unreachable();
}

// Lays the blob out in state_dict order within each region; a batch norm
// folded into a conv without bias gives that conv a bias slot.
static void plan_weights(Graph *g) {
  int64_t top = 0, ptop = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    l->slots = (Slots){-1, -1, -1, -1, -1, -1, -1};
    if (packs(l)) {
      netc_conv2d_params p = lower_conv2d(l);
      l->slots.packed = take(&ptop, netc_conv2d_packed_floats(&p));
    } else if (lower_linear_packs(l)) {
      l->slots.packed = take(&ptop, netc_gemm_packed_b_floats(l->weights[0].shape.d[1], l->conv.out_channels));
    }
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < g->nlayers; i++) {
      Layer *l = g->layers[i];
      bool late = load_only(l);
      // Statistics first, then gamma and beta; every other layer in
      // state_dict order.
      static const netc_model_kind bn_order[] = {NETC_TENSOR_BN_MEAN, NETC_TENSOR_BN_VAR, NETC_TENSOR_GAMMA,
                                                 NETC_TENSOR_BETA};
      bool bn = op_is_bn(l->op);
      for (int k = 0; k < (bn ? 4 : l->nweights); k++) {
        const Weight *w = NULL;
        for (int j = 0; j < l->nweights && bn && !w; j++)
          if (l->weights[j].kind == bn_order[k])
            w = &l->weights[j];
        if (!bn)
          w = &l->weights[k];
        int64_t *slot = w ? slot_of(&l->slots, w->kind) : NULL;
        // A packed conv's or linear's weight goes late, its bias (read by
        // the forward pass) stays; a folded norm goes late whole.
        bool w_late = late && ((!op_is_conv(l->op) && l->op != OP_LINEAR) || w->kind == NETC_TENSOR_WEIGHT ||
                               quantized_weights(l));
        if (slot && w_late == (pass == 1))
          *slot = take(&top, shape_numel(&w->shape));
      }
      if (pass == (quantized_weights(l) ? 1 : 0) && l->fold_bn && !l->conv.bias)
        l->slots.b = take(&top, l->conv.out_channels);
    }
    if (pass == 0)
      g->totals.kept_floats = top;
  }
  g->totals.weight_floats = top;
  g->totals.packed_floats = ptop;
}

// Bytes of the arena's scratch region for a kernel needing `floats`
// (memplan.c rounds the region to 16 floats).
int64_t lower_scratch_region_bytes(int64_t floats) { return align16(floats) * 4; }

// --max-scratch: a layer whose kernel needs more scratch than the budget
// runs a scratch-free kernel instead (a conv2d the runtime's "loop" path, a
// linear layer dot products at any batch); a layer that has none (matmul,
// conv_transpose2d, ...) is an error at its call. The choice is stored in
// the layer (no_scratch) and reaches the runtime through the params the
// emitter prints (netc_conv2d_params.path) or the function it calls, so
// both sides agree on the kernel and its scratch.
static void fit_scratch(Layer *l) {
  int64_t limit = limits.max_scratch;
  if (limit < 0 || lower_scratch_region_bytes(l->scratch) <= limit)
    return;
  if ((op_is_conv(l->op) || l->op == OP_LINEAR) && !l->q.on) {
    l->no_scratch = true;
    l->kernel = kernel_of(l);
    l->scratch = scratch_of(l);
    NETC_ASSERT(l->scratch == 0);
    return;
  }
  error_at(l->loc, "layer '%s' (%s) needs %s bytes of kernel scratch and netc has no kernel for it that fits "
           "the scratch budget of %s bytes set by --max-scratch",
           l->name, op_table[l->op].name, fmt_int(lower_scratch_region_bytes(l->scratch)), fmt_int(limit));
}

void fill_lowering(Graph *g) {
  int64_t scratch = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    l->no_scratch = false;
    l->kernel = kernel_of(l);
    l->scratch = scratch_of(l);
    fit_scratch(l);
    if (l->scratch > scratch)
      scratch = l->scratch;
  }
  g->totals.scratch_floats = scratch;
  plan_weights(g);
  if (g->nlayers && g->layers[0]->q.on)
    plan_qblob(g);
}

// ---- the loader's tables ---------------------------------------------------

void model_desc(Graph *g, netc_model_desc *d) {
  *d = (netc_model_desc){0};
  d->weight_floats = g->totals.weight_floats;
  d->keep_floats = g->totals.kept_floats;
  netc_model_tensor *ts = xalloc((size_t)(g->nweights + 1) * sizeof *ts);
  for (int i = 0; i < g->nweights; i++) {
    Weight *w = g->weights[i];
    netc_model_tensor *t = &ts[i];
    *t = (netc_model_tensor){0};
    t->name = w->name;
    t->rank = w->shape.rank;
    for (int k = 0; k < w->shape.rank; k++)
      t->shape[k] = w->shape.d[k];
    int64_t *slot = slot_of(&w->layer->slots, w->kind);
    t->offset = slot ? *slot : -1;
    t->kind = w->kind;
    t->index_limit = w->index_limit;
    // PyTorch's fan_in: size(1) * receptive field, from the layer's weight.
    const Shape *ws = &w->layer->weights[0].shape;
    t->fan_in = 1;
    for (int k = 1; k < ws->rank; k++)
      t->fan_in *= ws->d[k];
  }
  netc_model_fold *fs = xalloc((size_t)(g->nlayers + 1) * sizeof *fs);
  int nfolds = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (!l->fold_bn)
      continue;
    const Slots *s = &l->slots, *bs = &l->fold_bn->slots;
    fs[nfolds++] = (netc_model_fold){s->w, s->b, bs->mean, bs->var, bs->gamma, bs->beta, l->conv.out_channels,
                                     shape_numel(&l->weights[0].shape) / l->conv.out_channels,
                                     (float)l->fold_bn->norm.eps, l->conv.bias};
  }
  netc_model_bpack *bs = xalloc((size_t)(g->nlayers + 1) * sizeof *bs);
  int nb = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (lower_linear_packs(l))
      bs[nb++] = (netc_model_bpack){l->slots.w, l->weights[0].shape.d[1], l->conv.out_channels, l->slots.packed};
  }
  netc_model_qlayer *qs = xalloc((size_t)(g->nlayers + 1) * sizeof *qs);
  int nq = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (quantized_weights(l))
      qs[nq++] = (netc_model_qlayer){l->slots.w, l->slots.b, l->conv.out_channels, l->q.k, l->in[0]->q.scale,
                                     l->q.scale, l->in[0]->q.zp, l->q.qw, l->q.qb, l->q.qrq};
  }
  d->qlayers = qs;
  d->nqlayers = nq;
  if (nq)
    d->packed_floats = g->totals.packed_floats; // the int8 blob is built where packed weights go
  d->tensors = ts;
  d->ntensors = g->nweights;
  d->folds = fs;
  d->nfolds = nfolds;
  d->bpacks = bs;
  d->nbpacks = nb;
}
