// lower.c -- lowering: the runtime parameters of each layer.
//
// requires: shapes (shape.c) and fusion (fuse.c: l->act).
// produces: nothing on the graph; builds the runtime's parameter structs and
//           arguments of a layer's kernel call.
//
// The C back end (emit.c) prints these structs into the generated source and
// sizes the arena's scratch and the packed weights from them; the fuzzers'
// in-process executor (tests/fuzz/exec_graph.c) passes the very same structs
// to the runtime. Building them in one place is what lets the executor stand
// for the generated code: they cannot drift apart.
#include "netc.h"

netc_act lower_act(const Layer *a, float *slope) {
  *slope = 0;
  if (!a)
    return NETC_ACT_NONE;
  switch (a->op) {
  case OP_RELU: return NETC_ACT_RELU;
  case OP_RELU6: return NETC_ACT_RELU6;
  case OP_LEAKY_RELU: *slope = (float)a->slope; return NETC_ACT_LEAKY_RELU;
  case OP_SIGMOID: return NETC_ACT_SIGMOID;
  case OP_TANH: return NETC_ACT_TANH;
  case OP_GELU: return a->gelu_tanh ? NETC_ACT_GELU_TANH : NETC_ACT_GELU;
  default: unreachable();
  }
}

netc_conv2d_params lower_conv2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_conv2d_params p = {0};
  p.n = in->d[0], p.in_c = in->d[1], p.in_h = in->d[2], p.in_w = in->d[3];
  p.out_c = l->shape.d[1], p.out_h = l->shape.d[2], p.out_w = l->shape.d[3];
  p.kernel_h = l->kh, p.kernel_w = l->kw, p.stride_h = l->sh, p.stride_w = l->sw;
  p.pad_top = l->pad_top, p.pad_left = l->pad_left, p.pad_bottom = l->pad_bottom, p.pad_right = l->pad_right;
  p.dilation_h = l->dh, p.dilation_w = l->dw, p.groups = l->groups;
  p.act = lower_act(l->act, &p.act_slope);
  return p;
}

netc_conv_transpose2d_params lower_conv_transpose2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_conv_transpose2d_params p = {0};
  p.n = in->d[0], p.in_c = in->d[1], p.in_h = in->d[2], p.in_w = in->d[3];
  p.out_c = l->shape.d[1], p.out_h = l->shape.d[2], p.out_w = l->shape.d[3];
  p.kernel_h = l->kh, p.kernel_w = l->kw, p.stride_h = l->sh, p.stride_w = l->sw;
  p.pad_top = l->pad_top, p.pad_left = l->pad_left, p.pad_bottom = l->pad_bottom, p.pad_right = l->pad_right;
  p.output_pad_h = l->oph, p.output_pad_w = l->opw;
  p.dilation_h = l->dh, p.dilation_w = l->dw, p.groups = l->groups;
  p.act = lower_act(l->act, &p.act_slope);
  return p;
}

netc_pool2d_params lower_pool2d(const Layer *l) {
  const Shape *in = &l->in[0]->shape;
  netc_pool2d_params p = {0};
  p.n = in->d[0], p.c = in->d[1], p.in_h = in->d[2], p.in_w = in->d[3];
  p.out_h = l->shape.d[2], p.out_w = l->shape.d[3];
  p.kernel_h = l->kh, p.kernel_w = l->kw, p.stride_h = l->sh, p.stride_w = l->sw;
  p.pad_top = l->pad_top, p.pad_left = l->pad_left, p.pad_bottom = l->pad_bottom, p.pad_right = l->pad_right;
  p.dilation_h = l->op == OP_MAXPOOL2D ? l->dh : 1, p.dilation_w = l->op == OP_MAXPOOL2D ? l->dw : 1;
  p.ceil_mode = l->ceil_mode, p.count_include_pad = l->count_include_pad;
  return p;
}

int64_t lower_linear_batch(const Layer *l) {
  return shape_numel(&l->shape) / l->out_channels;
}

// The scratch a layer's kernel needs, in floats: the arena's scratch region
// (emit.c's arena_floats) is the largest of these. 0 for a fused layer.
int64_t lower_scratch_floats(const Layer *l) {
  if (l->fused_into)
    return 0;
  switch (l->op) {
  case OP_CONV2D: {
    netc_conv2d_params p = lower_conv2d(l);
    return netc_conv2d_scratch_floats(&p);
  }
  case OP_CONV_TRANSPOSE2D: {
    netc_conv_transpose2d_params p = lower_conv_transpose2d(l);
    return netc_conv_transpose2d_scratch_floats(&p);
  }
  case OP_LINEAR:
    return netc_linear_scratch_floats(lower_linear_batch(l), l->weights[0].shape.d[1], l->out_channels);
  default:
    return 0;
  }
}
