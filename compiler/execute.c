// execute.c -- runs the lowered graph in process, with the runtime's kernels.
//
// requires: every pass (fusion, lowering, memory plan); the loader's tables
//           (model_desc, lower.c).
// produces: nothing on the graph. Two users:
//
//   the forward fuzzer (tests/fuzz/fuzz_forward.c) runs any net as its
//   generated C would, from the same sources: loading through
//   netc_model_load_memory / netc_model_init_random with model_desc()'s
//   tables plus the packs emit.c prints (batch norms fold, convolution
//   weights pack, the blob shrinks to its kept prefix); then per layer the
//   runtime call emit_layer prints (EXEC_RUNTIME), with lower.c's structs,
//   weights at lower.c's slots, activations at memplan.c's offsets in one
//   arena, scratch after them;
//
//   --self-test (exec_reference) runs the net once at compile time on the
//   built-in input with the runtime's naive reference kernels, netc_ref_*
//   (EXEC_REFERENCE), every layer's output in a buffer of its own: the
//   expected outputs it records depend on neither the optimized kernels the
//   target runs nor the memory plan.
//
// exec_layer mirrors emit_layer case by case, both kernel sets in one
// switch: a change to either must be made to both (the forward fuzzer's
// replay of models/ notices most drift only as a crash, the self-tests of
// check-backend as a wrong number).
#include "netc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exec_prepare(Graph *g, ExecModel *m) {
  *m = (ExecModel){0};
  m->g = g;
  model_desc(g, &m->desc);
  // The packs emit_conv_params prints: one per conv with a packed slot, in
  // layer order, with the struct the forward pass runs it with.
  m->conv = xalloc((size_t)g->nlayers * sizeof *m->conv);
  m->packs = xalloc((size_t)(g->nlayers + 1) * sizeof *m->packs);
  int npacks = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (!op_is_conv(l->op) || l->fused_into)
      continue;
    m->conv[i] = lower_conv2d_layer(l);
    if (l->slots.packed >= 0)
      m->packs[npacks++] = &m->conv[i];
  }
  m->desc.packs = m->packs;
  m->desc.npacks = npacks;
  m->desc.packed_floats = g->totals.packed_floats;
  m->arena_floats = g->totals.arena_floats;
  m->scratch_off = g->totals.scratch_offset;
}

// The loader's tables for m; embedded: as emit_weights (weights.c) builds the
// blob of --weights: whole, folded, nothing packed.
static netc_model_desc load_desc(const ExecModel *m, bool embedded) {
  netc_model_desc d = m->desc;
  if (embedded) {
    d.packs = NULL;
    d.npacks = 0;
    d.bpacks = NULL;
    d.nbpacks = 0;
    d.packed_floats = 0;
    d.keep_floats = 0;
  }
  return d;
}

static int adopt(ExecModel *m, int32_t rc, netc_model_blobs b, bool embedded) {
  if (rc != 0)
    return -1;
  m->weights = b.weights;
  m->packed = b.packed;
  if (embedded) {
    free(b.packed);
    m->packed = NULL; // PREFIX_init_embedded leaves packed_ NULL
  }
  return 0;
}

int exec_load(ExecModel *m, const void *data, size_t size, uint64_t seed, bool embedded, char *err, size_t errlen) {
  exec_unload(m);
  netc_model_desc d = load_desc(m, embedded);
  netc_model_blobs b;
  int32_t rc = data ? netc_model_load_memory(&d, data, size, &b, err, errlen)
                    : netc_model_init_random(&d, seed, &b, err, errlen);
  return adopt(m, rc, b, embedded);
}

int exec_load_file(ExecModel *m, const char *path, bool embedded, char *err, size_t errlen) {
  exec_unload(m);
  netc_model_desc d = load_desc(m, embedded);
  netc_model_blobs b;
  return adopt(m, netc_model_load_file(&d, path, &b, err, errlen), b, embedded);
}

void exec_unload(ExecModel *m) {
  free(m->weights);
  free(m->packed);
  m->weights = m->packed = NULL;
}

float *exec_arena_buf(const ExecModel *m, const Layer *l, float *arena, const float *const *inputs) {
  const Layer *r = l->alias ? l->alias : l;
  if (r->op == OP_INPUT) {
    for (int i = 0; i < m->g->ninputs; i++)
      if (m->g->inputs[i] == r)
        return (float *)inputs[i] + l->view_off / 4; // kernels only read it (fuzz_forward checks)
    unreachable();
  }
  if (op_in_blob(r->op)) // a param or buffer: its slot in the blob (kernels only read it)
    return m->weights + r->slots.w + l->view_off / 4;
  NETC_ASSERT(l->offset >= 0 && l->offset % 4 == 0);
  return arena + l->offset / 4;
}

// wptr() of emit.c.
static const float *wptr(const ExecModel *m, int64_t off) { return off < 0 ? NULL : m->weights + off; }

// The reference of a binary elementwise op: y = x op b (b NULL: the scalar s),
// swapped when the scalar is on the left.
static void ref_arith(const Layer *l, int64_t n, const float *x, const float *b, float *y) {
  char sym = op_arith_sym(l->op);
  if (b)
    netc_ref_binary_f32(sym, n, x, b, 0.0f, 0, y);
  else
    netc_ref_binary_f32(sym, n, x, NULL, (float)l->ew.scalar, l->ew.scalar_left, y);
}

void exec_layer(const ExecModel *m, const Layer *l, ExecKernels k, ExecWhere *where, void *ctx, float *scratch) {
  const bool ref = k == EXEC_REFERENCE;
  const Slots *s = &l->slots;
  const Shape *in = l->nin ? &l->in[0]->shape : NULL;
  const float *x = l->nin ? where(ctx, l->in[0]) : NULL;
  float *y = where(ctx, l);
  switch (l->op) {
  case OP_CONV2D:
  case OP_CONV1D: {
    const float *res = l->residual ? where(ctx, l->residual) : NULL;
    if (!ref) {
      netc_conv2d_layer_f32(&m->conv[l->id], m->weights, m->packed, x, res, y, scratch);
      return;
    }
    // The reference has no residual: the convolution with its bias (BN
    // folded into both), then + residual and the activation, as
    // netc_conv2d_packed_f32 defines its epilogue.
    netc_conv2d_layer c = lower_conv2d_layer(l);
    if (!res) {
      netc_ref_conv2d_f32(&c.p, x, wptr(m, c.weight), wptr(m, c.bias), y);
      return;
    }
    netc_conv2d_params p = c.p;
    p.act = NETC_ACT_NONE;
    netc_ref_conv2d_f32(&p, x, wptr(m, c.weight), wptr(m, c.bias), y);
    int64_t n = shape_numel(&l->shape);
    netc_ref_binary_f32('+', n, y, res, 0.0f, 0, y);
    netc_ref_act_f32(c.p.act, c.p.act_slope, n, y, y);
    return;
  }
  case OP_CONV_TRANSPOSE2D: {
    netc_conv_transpose2d_params p = lower_conv_transpose2d(l);
    if (ref)
      netc_ref_conv_transpose2d_f32(&p, x, wptr(m, s->w), wptr(m, s->b), y);
    else
      netc_conv_transpose2d_f32(&p, x, wptr(m, s->w), wptr(m, s->b), y, scratch);
    return;
  }
  case OP_LINEAR: {
    float slope;
    netc_act a = lower_act(l->act, &slope);
    int64_t batch = lower_linear_batch(l), nin = l->weights[0].shape.d[1], nout = l->conv.out_channels;
    if (ref)
      netc_ref_linear_f32(batch, nin, nout, x, wptr(m, s->w), wptr(m, s->b), a, slope, y);
    else if (l->no_scratch) // emit.c's choice under --max-scratch
      netc_linear_dot_f32(batch, nin, nout, x, wptr(m, s->w), wptr(m, s->b), a, slope, y);
    else if (lower_linear_packs(l) && m->packed) // emit.c's choice: packed when loaded
      netc_linear_packed_f32(batch, nin, nout, x, m->packed + s->packed, wptr(m, s->b), a, slope, y, scratch);
    else
      netc_linear_f32(batch, nin, nout, x, wptr(m, s->w), wptr(m, s->b), a, slope, y, scratch);
    return;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D: {
    netc_pool2d_params p = lower_pool2d(l);
    if (op_is_maxpool(l->op))
      (ref ? netc_ref_maxpool2d_f32 : netc_maxpool2d_f32)(&p, x, y);
    else
      (ref ? netc_ref_avgpool2d_f32 : netc_avgpool2d_f32)(&p, x, y);
    return;
  }
  case OP_UPSAMPLE:
  case OP_INTERPOLATE: {
    netc_resize2d_params p = lower_resize2d(l);
    (ref ? netc_ref_resize2d_f32 : netc_resize2d_f32)(&p, x, y);
    return;
  }
  case OP_ADAPTIVE_AVGPOOL1D:
    (ref ? netc_ref_adaptive_avgpool2d_f32 : netc_adaptive_avgpool2d_f32)(in->d[0], in->d[1], 1, in->d[2], 1,
                                                                           l->shape.d[2], x, y);
    return;
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
    (ref ? netc_ref_adaptive_avgpool2d_f32 : netc_adaptive_avgpool2d_f32)(in->d[0], in->d[1], in->d[2], in->d[3],
                                                                           l->shape.d[2], l->shape.d[3], x, y);
    return;
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D: {
    int64_t hw = shape_numel(in) / (in->d[0] * in->d[1]);
    (ref ? netc_ref_batchnorm2d_f32 : netc_batchnorm2d_f32)(in->d[0], in->d[1], hw, wptr(m, s->mean), wptr(m, s->var),
                                                            wptr(m, s->gamma), wptr(m, s->beta), (float)l->norm.eps,
                                                            x, y);
    return;
  }
  case OP_GROUPNORM:
    (ref ? netc_ref_groupnorm_f32 : netc_groupnorm_f32)(in->d[0], in->d[1], shape_numel(in) / (in->d[0] * in->d[1]),
                                                        l->norm.groups, wptr(m, s->gamma), wptr(m, s->beta),
                                                        (float)l->norm.eps, x, y);
    return;
  case OP_SOFTPLUS:
    (ref ? netc_ref_softplus_f32 : netc_softplus_f32)(shape_numel(in), (float)l->ew.beta, (float)l->ew.threshold, x,
                                                      y);
    return;
  case OP_LAYERNORM: {
    int64_t inner = shape_numel(&l->norm.shape);
    (ref ? netc_ref_layernorm_f32 : netc_layernorm_f32)(shape_numel(in) / inner, inner, wptr(m, s->gamma),
                                                        wptr(m, s->beta), (float)l->norm.eps, x, y);
    return;
  }
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
  case OP_ELU: {
    float slope;
    netc_act a = lower_act(l, &slope);
    (ref ? netc_ref_act_f32 : netc_act_f32)(a, slope, shape_numel(&l->shape), x, y);
    return;
  }
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX: {
    int64_t outer, inner;
    shape_split_at(in, l->axes.axis, &outer, &inner);
    if (l->op == OP_SOFTMAX)
      (ref ? netc_ref_softmax_f32 : netc_softmax_f32)(outer, in->d[l->axes.axis], inner, x, y);
    else
      (ref ? netc_ref_log_softmax_f32 : netc_log_softmax_f32)(outer, in->d[l->axes.axis], inner, x, y);
    return;
  }
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX: {
    int32_t dims[MAX_RANK];
    for (int i = 0; i < l->dims.n; i++)
      dims[i] = (int32_t)l->dims.v[i];
    (ref ? netc_ref_reduce_f32 : netc_reduce_f32)(l->op == OP_MEAN  ? NETC_REDUCE_MEAN
                                                  : l->op == OP_SUM ? NETC_REDUCE_SUM
                                                                    : NETC_REDUCE_AMAX,
                                                  in->rank, in->d, l->dims.n, dims, x, y);
    return;
  }
  case OP_MATMUL: {
    Shape a, b, out;
    int r = matmul_shapes(l, &a, &b, &out);
    if (l->trans_b) { // emit.c's: b is the fused transpose's input
      int64_t t = b.d[r - 2];
      b.d[r - 2] = b.d[r - 1];
      b.d[r - 1] = t;
    }
    if (ref)
      netc_ref_matmul_f32(r, out.d, a.d, b.d, l->trans_b, x, where(ctx, l->in[1]), y);
    else
      netc_matmul_f32(r, out.d, a.d, b.d, l->trans_b, x, where(ctx, l->in[1]), y, scratch);
    return;
  }
  case OP_PERMUTE:
  case OP_TRANSPOSE: {
    int64_t perm[MAX_RANK];
    int32_t p32[MAX_RANK];
    layer_perm(l, perm);
    for (int i = 0; i < in->rank; i++)
      p32[i] = (int32_t)perm[i];
    (ref ? netc_ref_permute_f32 : netc_permute_f32)(in->rank, in->d, p32, x, y);
    return;
  }
  case OP_NARROW: {
    if (l->kernel == KERNEL_VIEW)
      return; // where() points into the input
    // No reference kernel (a copy of rows): both sets run netc_narrow_f32.
    int64_t outer, inner, d0 = l->dims.v[0];
    shape_split_at(in, (int)d0, &outer, &inner);
    netc_narrow_f32(outer, in->d[d0], l->dims.start, l->dims.length, inner, x, y);
    return;
  }
  case OP_ARANGE: // no reference kernel (y[i] = start + i * step): both sets run netc_arange_f32
    netc_arange_f32(l->dims.length, l->dims.start, l->dims.step, y);
    return;
  case OP_ROLL: {
    int64_t shifts[MAX_RANK];
    Shape rs = *in;
    layer_roll_shifts(l, &rs, shifts);
    (ref ? netc_ref_roll_f32 : netc_roll_f32)(rs.rank, rs.d, shifts, x, y);
    return;
  }
  case OP_EXPAND: {
    Shape es = layer_expand_in(l);
    (ref ? netc_ref_expand_f32 : netc_expand_f32)(l->shape.rank, l->shape.d, es.d, x, y);
    return;
  }
  case OP_SLICE: {
    int64_t outer, inner, d0 = l->dims.v[0];
    shape_split_at(in, (int)d0, &outer, &inner);
    (ref ? netc_ref_slice_f32 : netc_slice_f32)(outer, in->d[d0], inner, l->dims.start, l->dims.step, l->dims.length,
                                                x, y);
    return;
  }
  case OP_INDEX_SELECT: {
    int64_t outer, inner, d0 = l->dims.v[0];
    shape_split_at(in, (int)d0, &outer, &inner);
    (ref ? netc_ref_index_select_f32 : netc_index_select_f32)(outer, in->d[d0], inner, l->shape.d[d0],
                                                              where(ctx, l->in[1]), x, y);
    return;
  }
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV: {
    int64_t n = shape_numel(&l->shape);
    if (l->kernel == KERNEL_BROADCAST) {
      // As emit_layer prints it: the shapes at the output's rank.
      const int r = l->shape.rank;
      Shape as = shape_at_rank(&l->in[0]->shape, r), bs = shape_at_rank(&l->in[1]->shape, r);
      (ref ? netc_ref_broadcast_f32 : netc_broadcast_f32)(op_arith_sym(l->op), r, l->shape.d, as.d, bs.d, x,
                                                          where(ctx, l->in[1]), y);
    } else if (ref) { // the binary family's one reference, then a fused activation's
      ref_arith(l, n, x, l->nin == 2 ? where(ctx, l->in[1]) : NULL, y);
      if (l->act) {
        float slope;
        netc_act a = lower_act(l->act, &slope);
        netc_ref_act_f32(a, slope, n, y, y);
      }
    } else if (l->nin == 2) {
      const float *b = where(ctx, l->in[1]);
      if (l->act) {
        float slope;
        netc_act a = lower_act(l->act, &slope);
        netc_add_act_f32(a, slope, n, x, b, y);
      } else if (l->op == OP_ADD) {
        netc_add_f32(n, x, b, y);
      } else if (l->op == OP_SUB) {
        netc_sub_f32(n, x, b, y);
      } else if (l->op == OP_MUL) {
        netc_mul_f32(n, x, b, y);
      } else {
        netc_div_f32(n, x, b, y);
      }
    } else if (l->op == OP_ADD) {
      netc_add_scalar_f32(n, x, (float)l->ew.scalar, y);
    } else if (l->op == OP_MUL) {
      netc_mul_scalar_f32(n, x, (float)l->ew.scalar, y);
    } else if (l->op == OP_DIV) {
      if (l->ew.scalar_left)
        netc_rdiv_scalar_f32(n, (float)l->ew.scalar, x, y);
      else
        netc_div_scalar_f32(n, x, (float)l->ew.scalar, y);
    } else if (l->ew.scalar_left) {
      netc_rsub_scalar_f32(n, (float)l->ew.scalar, x, y);
    } else {
      netc_add_scalar_f32(n, x, (float)-l->ew.scalar, y);
    }
    return;
  }
  case OP_CONCAT: {
    int64_t outer = 1;
    for (int d = 0; d < l->axes.axis; d++)
      outer *= l->shape.d[d];
    const float **xs = xalloc((size_t)l->nin * sizeof *xs);
    int64_t *inner = xalloc((size_t)l->nin * sizeof *inner);
    for (int i = 0; i < l->nin; i++) {
      xs[i] = where(ctx, l->in[i]);
      inner[i] = shape_numel(&l->in[i]->shape) / outer;
    }
    (ref ? netc_ref_concat_f32 : netc_concat_f32)(outer, l->nin, xs, inner, y);
    return;
  }
  case OP_PAD:
    (ref ? netc_ref_pad2d_f32 : netc_pad2d_f32)(in->d[0], in->d[1], in->d[2], in->d[3], l->pad.top, l->pad.bottom,
                                                l->pad.left, l->pad.right, (float)l->pad.value, x, y);
    return;
  case OP_NORMALIZE: {
    float *mean = xalloc((size_t)l->norm.nmean * sizeof *mean), *std = xalloc((size_t)l->norm.nmean * sizeof *std);
    for (int i = 0; i < l->norm.nmean; i++) {
      mean[i] = (float)l->norm.mean[i];
      std[i] = (float)l->norm.std[i];
    }
    (ref ? netc_ref_normalize_f32 : netc_normalize_f32)(in->d[0], in->d[1], shape_numel(in) / (in->d[0] * in->d[1]),
                                                        mean, std, x, y);
    return;
  }
  case OP_FLATTEN:
  case OP_DROPOUT:
  case OP_IDENTITY:
  case OP_STOCHASTIC_DEPTH:
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
    return; // views: the input's memory, nothing to compute
  case OP_INPUT: // not run: the caller's memory, or the blob
  case OP_PARAM:
  case OP_BUFFER:
  case OP__COUNT:
    break;
  }
  unreachable();
}

typedef struct ArenaRun {
  const ExecModel *m;
  float *arena;
  const float *const *inputs;
} ArenaRun;

static float *arena_where(void *ctx, const Layer *l) {
  ArenaRun *r = ctx;
  return exec_arena_buf(r->m, l, r->arena, r->inputs);
}

void exec_forward(const ExecModel *m, const float *const *inputs, float *const *outputs, float *arena,
                  void (*after)(void *ctx, const Layer *l), void *ctx) {
  Graph *g = m->g;
  ArenaRun run = {m, arena, inputs};
  float *scratch = arena + m->scratch_off;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (op_is_source(l->op) || l->fused_into)
      continue;
    exec_layer(m, l, EXEC_RUNTIME, arena_where, &run, scratch);
    if (after && !layer_is_view(l))
      after(ctx, l);
  }
  for (int i = 0; i < g->noutputs; i++) {
    Layer *ol = g->outputs[i];
    memcpy(outputs[i], exec_arena_buf(m, ol, arena, inputs), sizeof(float) * (size_t)shape_numel(&ol->shape));
  }
}

// ---- the reference run (--self-test) ----------------------------------------------

const Layer *exec_owner(const Layer *l, int64_t *off) {
  *off = 0;
  for (;;) {
    if (l->fused_into && l->fused_into->id < l->id) {
      l = l->fused_into;
    } else if (layer_is_view(l) || l->fused_into) {
      *off += view_floats(l);
      l = l->in[0];
    } else {
      return l;
    }
  }
}

typedef struct PrivateRun {
  const ExecModel *m;
  const float *const *inputs;
  float **buf; // per layer id: the output of each layer that runs a kernel, while it is read
} PrivateRun;

static float *private_where(void *ctx, const Layer *l) {
  PrivateRun *r = ctx;
  int64_t off;
  l = exec_owner(l, &off);
  if (l->op == OP_INPUT) {
    for (int i = 0; i < r->m->g->ninputs; i++)
      if (r->m->g->inputs[i] == l)
        return (float *)r->inputs[i] + off; // kernels only read it
    unreachable();
  }
  if (op_in_blob(l->op))
    return r->m->weights + l->slots.w + off;
  NETC_ASSERT(r->buf[l->id]);
  return r->buf[l->id] + off;
}

int exec_reference(const ExecModel *m, const float *const *inputs, float *const *outputs, char *err, size_t errlen) {
  Graph *g = m->g;
  PrivateRun run = {m, inputs, calloc((size_t)g->nlayers, sizeof(float *))};
  // last[i]: the last layer whose kernel reads the value layer i computed
  // (a fused layer's reads happen in its producer's kernel, earlier: the
  // buffer lives a little longer than it must). Outputs live to the end.
  int *last = calloc((size_t)g->nlayers, sizeof *last);
  int rc = 0;
  if (!run.buf || !last) {
    snprintf(err, errlen, "out of memory");
    rc = -1;
  }
  for (int i = 0; i < g->nlayers && rc == 0; i++) {
    const Layer *l = g->layers[i];
    int64_t off;
    for (int k = 0; k <= l->nin; k++) {
      const Layer *r = k < l->nin ? l->in[k] : l->residual;
      if (r) {
        const Layer *o = exec_owner(r, &off);
        last[o->id] = last[o->id] > i ? last[o->id] : i;
      }
    }
  }
  for (int i = 0; i < g->noutputs && rc == 0; i++) {
    int64_t off;
    last[exec_owner(g->outputs[i], &off)->id] = g->nlayers;
  }
  for (int i = 0; i < g->nlayers && rc == 0; i++) {
    Layer *l = g->layers[i];
    int64_t off;
    if (!op_is_source(l->op) && exec_owner(l, &off) == l) {
      int64_t n = shape_numel(&l->shape);
      if (!(run.buf[i] = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1)))) { // malloc(0) may be NULL
        snprintf(err, errlen, "out of memory for the output of layer '%s' (%s)", l->name, shape_str(&l->shape));
        rc = -1;
        break;
      }
      exec_layer(m, l, EXEC_REFERENCE, private_where, &run, NULL);
    }
    for (int j = 0; j <= i; j++)
      if (run.buf[j] && last[j] <= i) {
        free(run.buf[j]);
        run.buf[j] = NULL;
      }
  }
  if (rc == 0)
    for (int i = 0; i < g->noutputs; i++)
      memcpy(outputs[i], private_where(&run, g->outputs[i]), sizeof(float) * (size_t)shape_numel(&g->outputs[i]->shape));
  if (run.buf)
    for (int i = 0; i < g->nlayers; i++)
      free(run.buf[i]);
  free(run.buf);
  free(last);
  return rc;
}

void self_test_input(const Graph *g, float *const *inputs) {
  uint64_t s = NETC_SELF_TEST_SEED;
  for (int i = 0; i < g->ninputs; i++)
    for (int64_t k = 0, n = shape_numel(&g->inputs[i]->shape); k < n; k++)
      inputs[i][k] = (float)(netc_splitmix64(&s) >> 40) * 0x1p-23f - 1.0f;
}

float **self_test_outputs(Graph *g, const char *weights_path) {
  ExecModel m;
  exec_prepare(g, &m);
  char err[512];
  if (exec_load_file(&m, weights_path, true, err, sizeof err) != 0) {
    diag_plain("--weights %s: %s", weights_path, err);
    return NULL;
  }
  float **in = xalloc((size_t)g->ninputs * sizeof *in), **out = xalloc((size_t)g->noutputs * sizeof *out);
  for (int i = 0; i < g->ninputs; i++)
    in[i] = xalloc(sizeof(float) * (size_t)shape_numel(&g->inputs[i]->shape));
  for (int i = 0; i < g->noutputs; i++)
    out[i] = xalloc(sizeof(float) * (size_t)shape_numel(&g->outputs[i]->shape));
  self_test_input(g, in);
  int rc = exec_reference(&m, (const float *const *)in, out, err, sizeof err);
  exec_unload(&m);
  if (rc != 0) {
    diag_plain("--self-test: %s", err);
    return NULL;
  }
  for (int i = 0; i < g->noutputs; i++)
    for (int64_t k = 0, n = shape_numel(&g->outputs[i]->shape); k < n; k++)
      if (!isfinite(out[i][k])) {
        diag_plain("--self-test: on the built-in input, element %lld of output %d of net '%s' is %g with the weights "
                   "of %s: a self-test against it could never pass", (long long)k, i, g->net, (double)out[i][k],
                   weights_path);
        return NULL;
      }
  return out;
}
