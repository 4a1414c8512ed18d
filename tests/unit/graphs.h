// graphs.h -- a tiny hand builder of Graphs for the pass unit tests.
//
// It does what elaborate.c does for a net written out call by call, without
// the parser: layers in order, PyTorch names (labels or nn.Sequential-style
// auto indices per scope), weights in state_dict order, block instances, and
// output shapes by PyTorch's formulas (square kernels, symmetric padding,
// floor mode). Shapes are computed here, independently of shape.c, so the
// pass tests do not depend on it.
#ifndef NETC_TEST_GRAPHS_H
#define NETC_TEST_GRAPHS_H

#include "netc.h"

typedef struct Builder {
  Graph *g;
  Inst *scope;        // the innermost open block instance (insts[0]: the net)
  const char *label;  // label of the next module or block call, or NULL
} Builder;

Builder *tb_new(const char *net);
void tb_label(Builder *b, const char *label);       // '@label' for the next call
Inst *tb_begin(Builder *b, const char *block);      // enter a block instance
void tb_end(Builder *b, Layer *output);             // leave it; output = what it returned
void tb_output(Builder *b, Layer *x);               // a net result
Graph *tb_finish(Builder *b);                       // closes the net instance

Layer *tb_input(Builder *b, const char *name, int64_t n, int64_t c, int64_t h, int64_t w);
Layer *tb_input2(Builder *b, const char *name, int64_t n, int64_t features);
Layer *tb_conv(Builder *b, Layer *x, int64_t cout, int64_t k, int64_t s, int64_t p, int64_t d,
               int64_t groups, bool bias);
Layer *tb_conv_hw(Builder *b, Layer *x, int64_t cout, int64_t kh, int64_t kw, int64_t ph,
                  int64_t pw);                                // stride 1, bias
Layer *tb_convt(Builder *b, Layer *x, int64_t cout, int64_t k, int64_t s, int64_t p, bool bias);
Layer *tb_pool(Builder *b, OpKind op, Layer *x, int64_t k, int64_t s, int64_t p);
Layer *tb_adaptive(Builder *b, Layer *x, int64_t oh, int64_t ow);
Layer *tb_gap(Builder *b, Layer *x);
Layer *tb_linear(Builder *b, Layer *x, int64_t out, bool bias);
Layer *tb_flatten(Builder *b, Layer *x);
Layer *tb_bn(Builder *b, Layer *x);
Layer *tb_layernorm(Builder *b, Layer *x, bool affine);       // over all dims but N
Layer *tb_unary(Builder *b, OpKind op, Layer *x);             // activations, dropout
Layer *tb_softmax(Builder *b, Layer *x, int axis);
Layer *tb_binary(Builder *b, OpKind op, Layer *x, Layer *y);  // add / sub / mul
Layer *tb_concat(Builder *b, Layer **xs, int n);              // along channels
Layer *tb_pad(Builder *b, Layer *x, int64_t left, int64_t right, int64_t top, int64_t bottom);

// Whole nets, as in tests/parity/torch_models.py.
Graph *tb_lenet(void);     // the seed's d2l LeNet, 1x1x28x28
Graph *tb_vgg11(void);     // the seed's VGG-11 (blocks), 1x1x224x224
Graph *tb_resnet50(void);  // torchvision resnet50, 1x3x224x224, torchvision names

// The passes in main.c's order, each followed by verify_graph.
void tb_run_passes(Graph *g);

#endif
