// graphs.c -- the hand builder behind graphs.h.
#include "graphs.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_WEIGHTS = 5 }; // batchnorm2d has the most: weight, bias, 2 stats, a counter

static Shape shp(int rank, int64_t a, int64_t b, int64_t c, int64_t d) {
  Shape s = {.rank = rank};
  int64_t v[4] = {a, b, c, d};
  for (int i = 0; i < rank; i++)
    s.d[i] = v[i];
  return s;
}

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

static const char *child_name(Builder *b) {
  const char *comp = b->label ? b->label : format("%d", b->scope->next_index++);
  b->label = NULL;
  return *b->scope->name ? format("%s.%s", b->scope->name, comp) : comp;
}

Builder *tb_new(const char *net) {
  Builder *b = xalloc(sizeof *b);
  Graph *g = b->g = xalloc(sizeof *g);
  g->net = net;
  g->file = xalloc(sizeof *g->file);
  g->file->name = "test.net";
  g->file->text = "";
  Inst *root = xalloc(sizeof *root);
  root->name = "";
  root->block = net;
  root->first = 0;
  root->last = -1;
  g->insts = grow(g->insts, &g->capinsts, 1, sizeof(Inst *));
  g->insts[g->ninsts++] = root;
  b->scope = root;
  return b;
}

void tb_label(Builder *b, const char *label) { b->label = label; }

Inst *tb_begin(Builder *b, const char *block) {
  Graph *g = b->g;
  Inst *s = xalloc(sizeof *s);
  s->name = child_name(b);
  s->block = block;
  s->parent = b->scope;
  s->depth = b->scope->depth + 1;
  s->first = g->nlayers;
  s->last = g->nlayers - 1;
  g->insts = grow(g->insts, &g->capinsts, g->ninsts + 1, sizeof(Inst *));
  g->insts[g->ninsts++] = s;
  b->scope = s;
  return s;
}

void tb_end(Builder *b, Layer *output) {
  b->scope->output = output;
  b->scope = b->scope->parent;
}

void tb_output(Builder *b, Layer *x) {
  Graph *g = b->g;
  g->outputs = xrealloc(g->outputs, (size_t)g->noutputs * sizeof(Layer *), (size_t)(g->noutputs + 1) * sizeof(Layer *));
  g->outputs[g->noutputs++] = x;
}

Graph *tb_finish(Builder *b) {
  b->g->insts[0]->output = b->g->noutputs ? b->g->outputs[0] : NULL;
  return b->g;
}

static Layer *new_layer(Builder *b, OpKind op, Layer **in, int nin, Shape shape) {
  Graph *g = b->g;
  Layer *l = xalloc(sizeof *l);
  l->op = op;
  l->id = g->nlayers;
  l->inst = b->scope;
  l->loc = (Loc){g->file, l->id + 1, 5, 1};
  l->in = xalloc((size_t)(nin ? nin : 1) * sizeof(Layer *));
  if (nin)
    memcpy(l->in, in, (size_t)nin * sizeof(Layer *));
  l->nin = nin;
  l->shape = shape;
  l->win.sh = l->win.sw = l->win.dh = l->win.dw = l->conv.groups = 1;
  l->conv.stated_in = l->norm.num_features = -1;
  l->offset = -1;
  if (op != OP_INPUT && (op_table[op].flags & OPF_MODULE))
    l->name = child_name(b);
  else if (op != OP_INPUT)
    l->name = "";
  l->weights = xalloc(MAX_WEIGHTS * sizeof(Weight));
  g->layers = grow(g->layers, &g->caplayers, g->nlayers + 1, sizeof(Layer *));
  g->layers[g->nlayers++] = l;
  for (Inst *s = b->scope; s; s = s->parent)
    s->last = l->id;
  return l;
}

static void add_weight(Builder *b, Layer *l, const char *what, Shape s, bool buffer, bool i64) {
  Graph *g = b->g;
  NETC_ASSERT(l->nweights < MAX_WEIGHTS);
  Weight *w = &l->weights[l->nweights++];
  w->name = format("%s.%s", l->name, what);
  w->shape = s;
  w->buffer = buffer;
  w->i64 = i64;
  // Its role, as ops.c's add_weight sets it (the report and the cost read it).
  bool norm = op_is_bn(l->op) || l->op == OP_LAYERNORM || l->op == OP_GROUPNORM;
  if (i64)
    w->kind = NETC_TENSOR_COUNTER;
  else if (buffer)
    w->kind = strcmp(what, "running_mean") == 0 ? NETC_TENSOR_BN_MEAN : NETC_TENSOR_BN_VAR;
  else if (strcmp(what, "weight") == 0)
    w->kind = norm ? NETC_TENSOR_GAMMA : NETC_TENSOR_WEIGHT;
  else
    w->kind = norm ? NETC_TENSOR_BETA : NETC_TENSOR_BIAS;
  w->layer = l;
  g->weights = grow(g->weights, &g->capweights, g->nweights + 1, sizeof(Weight *));
  g->weights[g->nweights++] = w;
}

Layer *tb_input(Builder *b, const char *name, int64_t n, int64_t c, int64_t h, int64_t w) {
  Layer *l = new_layer(b, OP_INPUT, NULL, 0, shp(4, n, c, h, w));
  l->name = name;
  Graph *g = b->g;
  g->inputs = xrealloc(g->inputs, (size_t)g->ninputs * sizeof(Layer *), (size_t)(g->ninputs + 1) * sizeof(Layer *));
  g->inputs[g->ninputs++] = l;
  return l;
}

Layer *tb_input2(Builder *b, const char *name, int64_t n, int64_t features) {
  Layer *l = tb_input(b, name, n, features, 1, 1);
  l->shape = shp(2, n, features, 0, 0);
  return l;
}

Layer *tb_conv(Builder *b, Layer *x, int64_t cout, int64_t k, int64_t s, int64_t p, int64_t d,
               int64_t groups, bool bias) {
  const Shape *xs = &x->shape;
  Shape o = shp(4, xs->d[0], cout, out_size(xs->d[2], k, s, p, d), out_size(xs->d[3], k, s, p, d));
  Layer *l = new_layer(b, OP_CONV2D, &x, 1, o);
  l->conv.out_channels = cout;
  l->win.kh = l->win.kw = k;
  l->win.sh = l->win.sw = s;
  l->win.pad_top = l->win.pad_bottom = l->win.pad_left = l->win.pad_right = p;
  l->win.dh = l->win.dw = d;
  l->conv.groups = groups;
  l->conv.bias = bias;
  add_weight(b, l, "weight", shp(4, cout, xs->d[1] / groups, k, k), false, false);
  if (bias)
    add_weight(b, l, "bias", shp(1, cout, 0, 0, 0), false, false);
  return l;
}

Layer *tb_conv_hw(Builder *b, Layer *x, int64_t cout, int64_t kh, int64_t kw, int64_t ph,
                  int64_t pw) {
  const Shape *xs = &x->shape;
  Shape o = shp(4, xs->d[0], cout, out_size(xs->d[2], kh, 1, ph, 1),
                out_size(xs->d[3], kw, 1, pw, 1));
  Layer *l = new_layer(b, OP_CONV2D, &x, 1, o);
  l->conv.out_channels = cout;
  l->win.kh = kh;
  l->win.kw = kw;
  l->win.pad_top = l->win.pad_bottom = ph;
  l->win.pad_left = l->win.pad_right = pw;
  l->conv.bias = true;
  add_weight(b, l, "weight", shp(4, cout, xs->d[1], kh, kw), false, false);
  add_weight(b, l, "bias", shp(1, cout, 0, 0, 0), false, false);
  return l;
}

Layer *tb_convt(Builder *b, Layer *x, int64_t cout, int64_t k, int64_t s, int64_t p, bool bias) {
  const Shape *xs = &x->shape;
  int64_t oh = (xs->d[2] - 1) * s - 2 * p + (k - 1) + 1;
  int64_t ow = (xs->d[3] - 1) * s - 2 * p + (k - 1) + 1;
  Layer *l = new_layer(b, OP_CONV_TRANSPOSE2D, &x, 1, shp(4, xs->d[0], cout, oh, ow));
  l->conv.out_channels = cout;
  l->win.kh = l->win.kw = k;
  l->win.sh = l->win.sw = s;
  l->win.pad_top = l->win.pad_bottom = l->win.pad_left = l->win.pad_right = p;
  l->conv.bias = bias;
  add_weight(b, l, "weight", shp(4, xs->d[1], cout, k, k), false, false);
  if (bias)
    add_weight(b, l, "bias", shp(1, cout, 0, 0, 0), false, false);
  return l;
}

Layer *tb_pool(Builder *b, OpKind op, Layer *x, int64_t k, int64_t s, int64_t p) {
  const Shape *xs = &x->shape;
  Shape o = shp(4, xs->d[0], xs->d[1], out_size(xs->d[2], k, s, p, 1),
                out_size(xs->d[3], k, s, p, 1));
  Layer *l = new_layer(b, op, &x, 1, o);
  l->win.kh = l->win.kw = k;
  l->win.sh = l->win.sw = s;
  l->win.pad_top = l->win.pad_bottom = l->win.pad_left = l->win.pad_right = p;
  l->pool.count_include_pad = true;
  return l;
}

Layer *tb_adaptive(Builder *b, Layer *x, int64_t oh, int64_t ow) {
  const Shape *xs = &x->shape;
  Layer *l = new_layer(b, OP_ADAPTIVE_AVGPOOL2D, &x, 1, shp(4, xs->d[0], xs->d[1], oh, ow));
  l->pool.out_h = oh;
  l->pool.out_w = ow;
  return l;
}

Layer *tb_gap(Builder *b, Layer *x) {
  const Shape *xs = &x->shape;
  return new_layer(b, OP_GLOBAL_AVGPOOL2D, &x, 1, shp(4, xs->d[0], xs->d[1], 1, 1));
}

Layer *tb_linear(Builder *b, Layer *x, int64_t out, bool bias) {
  Shape o = x->shape;
  int64_t in = o.d[o.rank - 1];
  o.d[o.rank - 1] = out;
  Layer *l = new_layer(b, OP_LINEAR, &x, 1, o);
  l->conv.out_channels = out;
  l->conv.bias = bias;
  add_weight(b, l, "weight", shp(2, out, in, 0, 0), false, false);
  if (bias)
    add_weight(b, l, "bias", shp(1, out, 0, 0, 0), false, false);
  return l;
}

Layer *tb_flatten(Builder *b, Layer *x) {
  const Shape *xs = &x->shape;
  int64_t f = 1;
  for (int i = 1; i < xs->rank; i++)
    f *= xs->d[i];
  Layer *l = new_layer(b, OP_FLATTEN, &x, 1, shp(2, xs->d[0], f, 0, 0));
  l->axes.start_dim = 1;
  l->axes.end_dim = xs->rank - 1;
  return l;
}

Layer *tb_bn(Builder *b, Layer *x) {
  Layer *l = new_layer(b, OP_BATCHNORM2D, &x, 1, x->shape);
  int64_t c = x->shape.d[1];
  l->norm.eps = 1e-5;
  l->norm.affine = true;
  add_weight(b, l, "weight", shp(1, c, 0, 0, 0), false, false);
  add_weight(b, l, "bias", shp(1, c, 0, 0, 0), false, false);
  add_weight(b, l, "running_mean", shp(1, c, 0, 0, 0), true, false);
  add_weight(b, l, "running_var", shp(1, c, 0, 0, 0), true, false);
  add_weight(b, l, "num_batches_tracked", shp(0, 0, 0, 0, 0), true, true);
  return l;
}

Layer *tb_layernorm(Builder *b, Layer *x, bool affine) {
  Layer *l = new_layer(b, OP_LAYERNORM, &x, 1, x->shape);
  l->norm.eps = 1e-5;
  l->norm.affine = affine;
  l->norm.dims = x->shape.rank - 1;
  if (affine) {
    Shape ns = x->shape;
    ns.rank--;
    memmove(ns.d, ns.d + 1, (size_t)ns.rank * sizeof ns.d[0]);
    add_weight(b, l, "weight", ns, false, false);
    add_weight(b, l, "bias", ns, false, false);
  }
  return l;
}

Layer *tb_unary(Builder *b, OpKind op, Layer *x) {
  Layer *l = new_layer(b, op, &x, 1, x->shape);
  l->ew.slope = 0.01;
  l->ew.p = 0.5;
  l->axes.axis = 1;
  return l;
}

Layer *tb_softmax(Builder *b, Layer *x, int axis) {
  Layer *l = tb_unary(b, OP_SOFTMAX, x);
  l->axes.axis = axis;
  return l;
}

Layer *tb_binary(Builder *b, OpKind op, Layer *x, Layer *y) {
  Layer *in[2] = {x, y};
  return new_layer(b, op, in, 2, x->shape);
}

Layer *tb_concat(Builder *b, Layer **xs, int n) {
  Shape o = xs[0]->shape;
  for (int i = 1; i < n; i++)
    o.d[1] += xs[i]->shape.d[1];
  Layer *l = new_layer(b, OP_CONCAT, xs, n, o);
  l->axes.axis = 1;
  return l;
}

Layer *tb_pad(Builder *b, Layer *x, int64_t left, int64_t right, int64_t top, int64_t bottom) {
  Shape o = x->shape;
  o.d[2] += top + bottom;
  o.d[3] += left + right;
  Layer *l = new_layer(b, OP_PAD, &x, 1, o);
  l->pad.left = left;
  l->pad.right = right;
  l->pad.top = top;
  l->pad.bottom = bottom;
  return l;
}

Graph *tb_lenet(void) {
  Builder *b = tb_new("lenet");
  Layer *x = tb_input(b, "x", 1, 1, 28, 28);
  x = tb_conv(b, x, 6, 5, 1, 2, 1, 1, true);
  x = tb_unary(b, OP_SIGMOID, x);
  x = tb_pool(b, OP_AVGPOOL2D, x, 2, 2, 0);
  x = tb_conv(b, x, 16, 5, 1, 0, 1, 1, true);
  x = tb_unary(b, OP_SIGMOID, x);
  x = tb_pool(b, OP_AVGPOOL2D, x, 2, 2, 0);
  x = tb_flatten(b, x);
  x = tb_linear(b, x, 120, true);
  x = tb_unary(b, OP_SIGMOID, x);
  x = tb_linear(b, x, 84, true);
  x = tb_unary(b, OP_SIGMOID, x);
  x = tb_linear(b, x, 10, true);
  tb_output(b, x);
  return tb_finish(b);
}

Graph *tb_vgg11(void) {
  static const int arch[5][2] = {{1, 64}, {1, 128}, {2, 256}, {2, 512}, {2, 512}};
  Builder *b = tb_new("vgg11");
  Layer *x = tb_input(b, "x", 1, 1, 224, 224);
  for (int i = 0; i < 5; i++) {
    tb_begin(b, "vgg_block");
    for (int k = 0; k < arch[i][0]; k++) {
      x = tb_conv(b, x, arch[i][1], 3, 1, 1, 1, 1, true);
      x = tb_unary(b, OP_RELU, x);
    }
    x = tb_pool(b, OP_MAXPOOL2D, x, 2, 2, 0);
    tb_end(b, x);
  }
  x = tb_flatten(b, x);
  for (int i = 0; i < 2; i++) {
    x = tb_linear(b, x, 4096, true);
    x = tb_unary(b, OP_RELU, x);
    x = tb_unary(b, OP_DROPOUT, x);
  }
  x = tb_linear(b, x, 10, true);
  tb_output(b, x);
  return tb_finish(b);
}

static Layer *bottleneck(Builder *b, Layer *x, int64_t planes, int64_t stride) {
  int64_t out_c = planes * 4;
  tb_begin(b, "bottleneck");
  tb_label(b, "conv1");
  Layer *y = tb_conv(b, x, planes, 1, 1, 0, 1, 1, false);
  tb_label(b, "bn1");
  y = tb_bn(b, y);
  tb_label(b, "relu");
  y = tb_unary(b, OP_RELU, y);
  tb_label(b, "conv2");
  y = tb_conv(b, y, planes, 3, stride, 1, 1, 1, false);
  tb_label(b, "bn2");
  y = tb_bn(b, y);
  tb_label(b, "relu");
  y = tb_unary(b, OP_RELU, y);
  tb_label(b, "conv3");
  y = tb_conv(b, y, out_c, 1, 1, 0, 1, 1, false);
  tb_label(b, "bn3");
  y = tb_bn(b, y);
  if (stride != 1 || x->shape.d[1] != out_c) {
    tb_label(b, "downsample");
    tb_begin(b, "projection");
    x = tb_conv(b, x, out_c, 1, stride, 0, 1, 1, false);
    x = tb_bn(b, x);
    tb_end(b, x);
  }
  y = tb_binary(b, OP_ADD, y, x);
  tb_label(b, "relu");
  y = tb_unary(b, OP_RELU, y);
  tb_end(b, y);
  return y;
}

Graph *tb_resnet50(void) {
  static const int stages[4][3] = {{64, 3, 1}, {128, 4, 2}, {256, 6, 2}, {512, 3, 2}};
  Builder *b = tb_new("resnet50");
  Layer *x = tb_input(b, "x", 1, 3, 224, 224);
  tb_label(b, "conv1");
  x = tb_conv(b, x, 64, 7, 2, 3, 1, 1, false);
  tb_label(b, "bn1");
  x = tb_bn(b, x);
  tb_label(b, "relu");
  x = tb_unary(b, OP_RELU, x);
  tb_label(b, "maxpool");
  x = tb_pool(b, OP_MAXPOOL2D, x, 3, 2, 1);
  for (int s = 0; s < 4; s++) {
    tb_label(b, format("layer%d", s + 1));
    tb_begin(b, "res_stage");
    for (int k = 0; k < stages[s][1]; k++)
      x = bottleneck(b, x, stages[s][0], k == 0 ? stages[s][2] : 1);
    tb_end(b, x);
  }
  tb_label(b, "avgpool");
  x = tb_adaptive(b, x, 1, 1);
  x = tb_flatten(b, x);
  tb_label(b, "fc");
  x = tb_linear(b, x, 1000, true);
  tb_output(b, x);
  return tb_finish(b);
}

void tb_run_passes(Graph *g) {
  verify_graph(g);
  fill_rf(g);
  verify_graph(g);
  fill_cost(g);
  verify_graph(g);
  fill_lowering(g); // no fusion: these tests plan every layer on its own
  verify_graph(g);
  fill_memplan(g);
  verify_graph(g);
}
