// exec_graph.c -- a compiled graph's forward pass, run in process as the
// generated C would run it (see exec_graph.h).
#include "exec_graph.h"

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

int exec_load(ExecModel *m, const void *data, size_t size, uint64_t seed, bool embedded, char *err, size_t errlen) {
  exec_unload(m);
  netc_model_desc d = m->desc;
  if (embedded) {
    // As emit_weights (weights.c) builds the blob of --weights: whole, folded, nothing packed.
    d.packs = NULL;
    d.npacks = 0;
    d.bpacks = NULL;
    d.nbpacks = 0;
    d.packed_floats = 0;
    d.keep_floats = 0;
  }
  netc_model_blobs b;
  int32_t rc = data ? netc_model_load_memory(&d, data, size, &b, err, errlen)
                    : netc_model_init_random(&d, seed, &b, err, errlen);
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

void exec_layer(const ExecModel *m, const Layer *l, ExecWhere *where, void *ctx, float *scratch) {
  const Slots *s = &l->slots;
  const Shape *in = l->nin ? &l->in[0]->shape : NULL;
  const float *x = l->nin ? where(ctx, l->in[0]) : NULL;
  float *y = where(ctx, l);
  switch (l->op) {
  case OP_CONV2D:
  case OP_CONV1D:
    netc_conv2d_layer_f32(&m->conv[l->id], m->weights, m->packed, x, l->residual ? where(ctx, l->residual) : NULL, y,
                          scratch);
    return;
  case OP_CONV_TRANSPOSE2D: {
    netc_conv_transpose2d_params p = lower_conv_transpose2d(l);
    netc_conv_transpose2d_f32(&p, x, wptr(m, s->w), wptr(m, s->b), y, scratch);
    return;
  }
  case OP_LINEAR: {
    float slope;
    netc_act a = lower_act(l->act, &slope);
    if (l->no_scratch) // emit.c's choice under --max-scratch
      netc_linear_dot_f32(lower_linear_batch(l), l->weights[0].shape.d[1], l->conv.out_channels, x, wptr(m, s->w),
                          wptr(m, s->b), a, slope, y);
    else if (lower_linear_packs(l) && m->packed) // emit.c's choice: packed when loaded
      netc_linear_packed_f32(lower_linear_batch(l), l->weights[0].shape.d[1], l->conv.out_channels, x,
                             m->packed + s->packed, wptr(m, s->b), a, slope, y, scratch);
    else
      netc_linear_f32(lower_linear_batch(l), l->weights[0].shape.d[1], l->conv.out_channels, x, wptr(m, s->w),
                      wptr(m, s->b), a, slope, y, scratch);
    return;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D: {
    netc_pool2d_params p = lower_pool2d(l);
    if (op_is_maxpool(l->op))
      netc_maxpool2d_f32(&p, x, y);
    else
      netc_avgpool2d_f32(&p, x, y);
    return;
  }
  case OP_UPSAMPLE:
  case OP_INTERPOLATE: {
    netc_resize2d_params p = lower_resize2d(l);
    netc_resize2d_f32(&p, x, y);
    return;
  }
  case OP_ADAPTIVE_AVGPOOL1D:
    netc_adaptive_avgpool2d_f32(in->d[0], in->d[1], 1, in->d[2], 1, l->shape.d[2], x, y);
    return;
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
    netc_adaptive_avgpool2d_f32(in->d[0], in->d[1], in->d[2], in->d[3], l->shape.d[2], l->shape.d[3], x, y);
    return;
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D: {
    int64_t hw = shape_numel(in) / (in->d[0] * in->d[1]);
    netc_batchnorm2d_f32(in->d[0], in->d[1], hw, wptr(m, s->mean), wptr(m, s->var), wptr(m, s->gamma),
                         wptr(m, s->beta), (float)l->norm.eps, x, y);
    return;
  }
  case OP_GROUPNORM:
    netc_groupnorm_f32(in->d[0], in->d[1], shape_numel(in) / (in->d[0] * in->d[1]), l->norm.groups, wptr(m, s->gamma),
                       wptr(m, s->beta), (float)l->norm.eps, x, y);
    return;
  case OP_SOFTPLUS:
    netc_softplus_f32(shape_numel(in), (float)l->ew.beta, (float)l->ew.threshold, x, y);
    return;
  case OP_LAYERNORM: {
    int64_t inner = shape_numel(&l->norm.shape);
    netc_layernorm_f32(shape_numel(in) / inner, inner, wptr(m, s->gamma), wptr(m, s->beta), (float)l->norm.eps, x, y);
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
    netc_act_f32(a, slope, shape_numel(&l->shape), x, y);
    return;
  }
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX: {
    int64_t outer, inner;
    shape_split_at(in, l->axes.axis, &outer, &inner);
    if (l->op == OP_SOFTMAX)
      netc_softmax_f32(outer, in->d[l->axes.axis], inner, x, y);
    else
      netc_log_softmax_f32(outer, in->d[l->axes.axis], inner, x, y);
    return;
  }
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX: {
    int32_t dims[MAX_RANK];
    for (int i = 0; i < l->dims.n; i++)
      dims[i] = (int32_t)l->dims.v[i];
    netc_reduce_f32(l->op == OP_MEAN ? NETC_REDUCE_MEAN : l->op == OP_SUM ? NETC_REDUCE_SUM : NETC_REDUCE_AMAX,
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
    netc_permute_f32(in->rank, in->d, p32, x, y);
    return;
  }
  case OP_NARROW: {
    if (l->kernel == KERNEL_VIEW)
      return; // where() points into the input
    int64_t outer, inner, d0 = l->dims.v[0];
    shape_split_at(in, (int)d0, &outer, &inner);
    netc_narrow_f32(outer, in->d[d0], l->dims.start, l->dims.length, inner, x, y);
    return;
  }
  case OP_ARANGE:
    netc_arange_f32(l->dims.length, l->dims.start, l->dims.step, y);
    return;
  case OP_ROLL: {
    int64_t shifts[MAX_RANK];
    Shape rs = *in;
    layer_roll_shifts(l, &rs, shifts);
    netc_roll_f32(rs.rank, rs.d, shifts, x, y);
    return;
  }
  case OP_EXPAND: {
    Shape es = layer_expand_in(l);
    netc_expand_f32(l->shape.rank, l->shape.d, es.d, x, y);
    return;
  }
  case OP_SLICE: {
    int64_t outer, inner, d0 = l->dims.v[0];
    shape_split_at(in, (int)d0, &outer, &inner);
    netc_slice_f32(outer, in->d[d0], inner, l->dims.start, l->dims.step, l->dims.length, x, y);
    return;
  }
  case OP_INDEX_SELECT: {
    int64_t outer, inner, d0 = l->dims.v[0];
    shape_split_at(in, (int)d0, &outer, &inner);
    netc_index_select_f32(outer, in->d[d0], inner, l->shape.d[d0], where(ctx, l->in[1]), x, y);
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
      netc_broadcast_f32(op_arith_sym(l->op), r, l->shape.d, as.d, bs.d, x, where(ctx, l->in[1]), y);
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
    for (int k = 0; k < l->nin; k++) {
      xs[k] = where(ctx, l->in[k]);
      inner[k] = shape_numel(&l->in[k]->shape) / outer;
    }
    netc_concat_f32(outer, l->nin, xs, inner, y);
    return;
  }
  case OP_PAD:
    netc_pad2d_f32(in->d[0], in->d[1], in->d[2], in->d[3], l->pad.top, l->pad.bottom, l->pad.left, l->pad.right,
                   (float)l->pad.value, x, y);
    return;
  case OP_NORMALIZE: {
    float *mean = xalloc((size_t)l->norm.nmean * sizeof *mean), *std = xalloc((size_t)l->norm.nmean * sizeof *std);
    for (int k = 0; k < l->norm.nmean; k++) {
      mean[k] = (float)l->norm.mean[k];
      std[k] = (float)l->norm.std[k];
    }
    netc_normalize_f32(in->d[0], in->d[1], shape_numel(in) / (in->d[0] * in->d[1]), mean, std, x, y);
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
    exec_layer(m, l, arena_where, &run, scratch);
    if (after && !layer_is_view(l))
      after(ctx, l);
  }
  for (int i = 0; i < g->noutputs; i++) {
    Layer *ol = g->outputs[i];
    memcpy(outputs[i], exec_arena_buf(m, ol, arena, inputs), sizeof(float) * (size_t)shape_numel(&ol->shape));
  }
}
