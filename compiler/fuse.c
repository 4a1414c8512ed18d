// fuse.c -- which layers run inside their producer's kernel.
//
// requires: the graph in topological order with inputs and shapes.
// fills:    l->fused_into on absorbed layers, l->fold_bn and l->act on the
//           producers that absorb them.
//
// Three rewrites, all exact up to float rounding:
//   - a batchnorm2d right after a conv2d is folded into its weights and
//     bias at load time (w' = w * gamma / sqrt(var + eps), and so on). The
//     fold scales output feature k by channel k's statistics, so it is exact
//     only when the producer's feature axis is the axis the norm normalises
//     (axis 1): true of conv2d, never of a linear, whose features are the
//     last axis of its (necessarily 4-D) input;
//   - an activation (an op with a runtime activation in ops.def) right
//     after a conv2d, conv_transpose2d, linear or tensor add runs in the
//     producer's epilogue, while the output tile is still in registers.
//   - a residual add y = conv(x) + r, when r was computed before the conv,
//     becomes the conv's epilogue (y = act(conv(x) + bias + r)): one pass
//     over the activations less per ResNet / MobileNet block;
//   - a transpose of the last two dims feeding a matmul's second operand is
//     read in place by the GEMM (trans_b): attention's q @ k^T and a
//     weight stored [out, in] (x @ w^T) copy nothing.
// "Right after" means the producer's only reader is the absorbed layer and
// the producer's own value is not a net output, so nobody can observe the
// intermediate tensor. An absorbed layer shares its producer's memory
// (memplan.c treats it like a view) and emits no code.
#include "netc.h"

#include <stdlib.h>

// The axis along which a layer's output features (its weight's rows) lie,
// or -1 when a per-feature scale and shift cannot be folded into it.
static int feature_axis(const Layer *k) {
  if (op_is_conv(k->op))
    return 1;
  if (k->op == OP_LINEAR)
    return k->shape.rank - 1;
  return -1;
}

// An op that lowers to a runtime activation (the registry's act column)
// can run in its producer's epilogue.
static bool is_activation(OpKind op) { return op_table[op].act != NETC_ACT_NONE; }

// A two-tensor add whose operands both have its shape: the fused kernels
// (a conv's residual epilogue, netc_add_act_f32) do not broadcast.
static bool plain_add(const Layer *l) { return l->op == OP_ADD && l->nin == 2 && !layer_broadcasts(l); }

void fill_fusion(Graph *g) {
  int n = g->nlayers;
  int *readers = calloc((size_t)(n ? n : 1), sizeof *readers);
  if (!readers)
    internal_error(__FILE__, __LINE__, "out of memory");
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->layers[i]->nin; k++)
      readers[g->layers[i]->in[k]->id]++;
  for (int i = 0; i < g->noutputs; i++)
    readers[g->outputs[i]->id] += 2; // a net output is observed: never fuse past it

  for (int i = 0; i < n; i++) {
    Layer *l = g->layers[i];
    l->fused_into = l->fold_bn = l->act = l->residual = NULL;
    l->trans_b = false;
  }
  for (int i = 0; i < n; i++) {
    Layer *l = g->layers[i];
    if (l->op == OP_ADD && l->nin == 2) {
      for (int k = 0; k < 2 && plain_add(l); k++) {
        Layer *p = l->in[k], *r = l->in[1 - k];
        Layer *c = p->fused_into ? p->fused_into : p;
        bool depthwise = op_is_conv(c->op) && c->conv.groups > 1 && c->conv.groups == c->in[0]->shape.d[1];
        if (op_is_conv(c->op) && !depthwise && !c->act && !c->residual && readers[p->id] == 1 && r->id < c->id) {
          c->residual = r;
          l->fused_into = c;
          break;
        }
      }
      continue;
    }
    if (l->op == OP_MATMUL && l->nin == 2) {
      Layer *t = l->in[1];
      int r = t->shape.rank;
      if (t->op == OP_TRANSPOSE && r >= 2 && readers[t->id] == 1 && t != l->in[0] &&
          t->dims.v[0] + t->dims.v[1] == 2 * r - 3 && t->dims.v[0] >= r - 2 && t->dims.v[1] >= r - 2) {
        t->fused_into = l;
        l->trans_b = true;
      }
      continue;
    }
    if (l->nin != 1)
      continue;
    Layer *p = l->in[0];
    // The kernel that will compute p (p itself unless p was absorbed too).
    Layer *k = p->fused_into ? p->fused_into : p;
    if (readers[p->id] != 1 || k->act)
      continue;
    // batchnorm2d / batchnorm1d normalise axis 1 of their input. Only a
    // convolution's weights are folded at load time (model.c); a
    // batchnorm1d after a linear runs as its own kernel.
    if (op_is_bn(l->op) && p == k && op_is_conv(k->op) && feature_axis(k) == 1 && !k->fold_bn) {
      k->fold_bn = l;
      l->fused_into = k;
    } else if (is_activation(l->op) &&
               (op_is_conv(k->op) || k->op == OP_CONV_TRANSPOSE2D || k->op == OP_LINEAR ||
                plain_add(k))) {
      k->act = l;
      l->fused_into = k;
    }
  }
  free(readers);
}
