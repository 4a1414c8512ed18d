// check_conv.c -- conv2d and conv_transpose2d: hand-computed values, the
// fast paths against the references, parameter checks.

#include "testutil.h"

#include <string.h>

// x = 1..16 as a 4x4 image (x[r][c] = 4r + c + 1).
static void ramp16(float *x) {
  for (int i = 0; i < 16; i++)
    x[i] = (float)(i + 1);
}

static netc_conv2d_params conv_params(int64_t n, int64_t in_c, int64_t h, int64_t w, int64_t out_c,
                                      int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                                      int64_t pl, int64_t pb, int64_t pr, int64_t dh, int64_t dw,
                                      int64_t groups, netc_act act) {
  netc_conv2d_params p;
  memset(&p, 0, sizeof p);
  p.n = n;
  p.in_c = in_c;
  p.in_h = h;
  p.in_w = w;
  p.out_c = out_c;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_top = pt;
  p.pad_left = pl;
  p.pad_bottom = pb;
  p.pad_right = pr;
  p.dilation_h = dh;
  p.dilation_w = dw;
  p.groups = groups;
  p.act = act;
  p.act_slope = 0.1f;
  p.out_h = netc_conv2d_out_size(h, kh, sh, pt, pb, dh);
  p.out_w = netc_conv2d_out_size(w, kw, sw, pl, pr, dw);
  return p;
}

// The reference with a residual: the conv without its activation, + res,
// then the activation (as the epilogues apply them).
static void ref_conv_residual(const netc_conv2d_params *p, const float *x, const float *w, const float *b,
                              const float *res, float *r) {
  netc_conv2d_params q = *p;
  q.act = NETC_ACT_NONE;
  netc_ref_conv2d_f32(&q, x, w, b, r);
  const int64_t yn = p->n * p->out_c * p->out_h * p->out_w;
  for (int64_t i = 0; i < yn; i++)
    r[i] += res[i];
  netc_ref_act_f32(p->act, p->act_slope, yn, r, r);
}

// "silu on winograd": a label for tu_assert_close (one test at a time).
static const char *format_act(const char *act, const char *path) {
  static char buf[96];
  snprintf(buf, sizeof buf, "%s on %s", act, path);
  return buf;
}

// Runs both versions of conv p and compares; random x, w, bias.
static void conv_compare(const netc_conv2d_params *p, int with_bias, uint32_t seed, double tol) {
  char err[200];
  ck_assert_msg(netc_conv2d_check(p, err, sizeof err) == 0, "bad test case: %s", err);
  const int64_t xn = p->n * p->in_c * p->in_h * p->in_w;
  const int64_t wn = p->out_c * (p->in_c / p->groups) * p->kernel_h * p->kernel_w;
  const int64_t yn = p->n * p->out_c * p->out_h * p->out_w;
  float *x = tu_random(xn, seed), *w = tu_random(wn, seed + 1);
  float *b = with_bias ? tu_random(p->out_c, seed + 2) : NULL;
  float *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
  float *s = tu_alloc(netc_conv2d_scratch_floats(p), (int)(seed % 3));
  netc_conv2d_f32(p, x, w, b, y, s);
  netc_ref_conv2d_f32(p, x, w, b, r);
  tu_assert_close("conv2d", y, r, yn, tol);
  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(y);
  tu_free(r);
  tu_free(s);
}

//
// Hand-computed
//

// A Laplacian [[0 1 0] [1 -4 1] [0 1 0]] over the 4x4 ramp with zero padding
// 1: interior pixels of a linear ramp give 0, border pixels lose the
// neighbours outside. Worked out by hand:
//   row 0:   3   2   1  -5
//   row 1:  -4   0   0  -9
//   row 2:  -8   0   0 -13
//   row 3: -29 -18 -19 -37
// plus bias 0.5.
static const float laplace_want[16] = {3, 2, 1, -5, -4, 0, 0, -9, -8, 0, 0, -13, -29, -18, -19, -37};

START_TEST(test_conv_hand_laplacian) {
  float x[16], y[16], s_fast[16];
  const float w[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0}, bias[1] = {0.5f};
  ramp16(x);
  netc_conv2d_params p = conv_params(1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(p.out_h, 4);
  ck_assert_int_eq(p.out_w, 4);
  netc_ref_conv2d_f32(&p, x, w, bias, y);
  for (int i = 0; i < 16; i++)
    ck_assert_float_eq(y[i], laplace_want[i] + 0.5f);
  float *s = tu_alloc(netc_conv2d_scratch_floats(&p), 0);
  netc_conv2d_f32(&p, x, w, bias, s_fast, s);
  for (int i = 0; i < 16; i++)
    ck_assert_float_eq(s_fast[i], laplace_want[i] + 0.5f);
  // With ReLU the negative pixels become 0.
  p.act = NETC_ACT_RELU;
  netc_conv2d_f32(&p, x, w, bias, s_fast, s);
  for (int i = 0; i < 16; i++)
    ck_assert_float_eq(s_fast[i], laplace_want[i] + 0.5f > 0 ? laplace_want[i] + 0.5f : 0.0f);
  tu_free(s);
}
END_TEST

// 2x2 kernel of ones, dilation 2, no padding, on the 4x4 ramp: each output
// sums x[r][c] + x[r][c+2] + x[r+2][c] + x[r+2][c+2]:
//   (0,0) 1+3+9+11 = 24, (0,1) 2+4+10+12 = 28, (1,0) 5+7+13+15 = 40, (1,1) 44.
START_TEST(test_conv_hand_dilation) {
  float x[16], y[4];
  const float w[4] = {1, 1, 1, 1};
  const float want[4] = {24, 28, 40, 44};
  ramp16(x);
  netc_conv2d_params p = conv_params(1, 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 0, 0, 2, 2, 1, NETC_ACT_NONE);
  ck_assert_int_eq(p.out_h, 2);
  netc_ref_conv2d_f32(&p, x, w, NULL, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], want[i]);
  float *s = tu_alloc(netc_conv2d_scratch_floats(&p), 0);
  netc_conv2d_f32(&p, x, w, NULL, y, s);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], want[i]);
  tu_free(s);
}
END_TEST

// Stride 2, asymmetric padding (top 1, left 0, bottom 0, right 1), 3x3 ones:
// out is 2x2; window of (oh, ow) covers rows 2oh-1..2oh+1, cols 2ow..2ow+2.
//   (0,0): rows 0..1, cols 0..2: 1+2+3+5+6+7 = 24
//   (0,1): rows 0..1, cols 2..3 (4 is padding): 3+4+7+8 = 22
//   (1,0): rows 1..3, cols 0..2: 5+6+7+9+10+11+13+14+15 = 90
//   (1,1): rows 1..3, cols 2..3: 7+8+11+12+15+16 = 69
// Depthwise with two identical channels must give the same per channel.
START_TEST(test_conv_hand_stride_asym) {
  float x[32], y[8];
  float w[18];
  const float want[4] = {24, 22, 90, 69};
  ramp16(x);
  ramp16(x + 16);
  for (int i = 0; i < 18; i++)
    w[i] = 1.0f;
  netc_conv2d_params p = conv_params(1, 1, 4, 4, 1, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(p.out_h, 2);
  ck_assert_int_eq(p.out_w, 2);
  netc_ref_conv2d_f32(&p, x, w, NULL, y);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], want[i]);
  float *s = tu_alloc(netc_conv2d_scratch_floats(&p), 0);
  netc_conv2d_f32(&p, x, w, NULL, y, s);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(y[i], want[i]);
  tu_free(s);

  netc_conv2d_params d = conv_params(1, 2, 4, 4, 2, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1, 2, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv2d_scratch_floats(&d), 0);  // the depthwise kernel needs none
  netc_conv2d_f32(&d, x, w, NULL, y, NULL);
  for (int i = 0; i < 8; i++)
    ck_assert_float_eq(y[i], want[i % 4]);
}
END_TEST

// Groups: channel 0 of group 0 scaled by 2, channel 1 of group 1 by 3 (1x1).
START_TEST(test_conv_hand_groups) {
  const float x[4] = {1, 2, 10, 20}, w[2] = {2, 3};
  float y[4];
  netc_conv2d_params p = conv_params(1, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, NETC_ACT_NONE);
  netc_ref_conv2d_f32(&p, x, w, NULL, y);
  ck_assert_float_eq(y[0], 2);
  ck_assert_float_eq(y[1], 4);
  ck_assert_float_eq(y[2], 30);
  ck_assert_float_eq(y[3], 60);
  netc_conv2d_f32(&p, x, w, NULL, y, NULL);
  ck_assert_float_eq(y[3], 60);
}
END_TEST

//
// Fast vs reference
//

typedef struct {
  const char *what;
  int64_t n, in_c, h, w, out_c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups;
  netc_act act;
  int bias;
} ConvCase;

static const ConvCase conv_cases[] = {
  {"1x1 pointwise", 1, 64, 7, 7, 32, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_RELU, 1},
  {"1x1 pointwise odd", 2, 13, 5, 9, 17, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE, 0},
  {"1x1 stride 2", 1, 16, 9, 11, 24, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE, 1},
  {"1x1 padded", 1, 5, 4, 4, 6, 1, 1, 1, 1, 1, 2, 1, 0, 1, 1, 1, NETC_ACT_NONE, 1},
  {"3x3 pad 1 odd", 1, 3, 13, 11, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"3x3 stride 2", 2, 7, 15, 16, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU6, 1},
  {"7x7 stem", 1, 3, 33, 31, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, NETC_ACT_RELU, 0},
  {"5x5 dilation 2", 1, 4, 17, 19, 6, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 1, NETC_ACT_NONE, 1},
  {"3x3 dilation 3x1", 1, 4, 17, 19, 6, 3, 3, 1, 2, 2, 0, 1, 3, 3, 1, 1, NETC_ACT_NONE, 1},
  {"asymmetric pad", 1, 5, 10, 12, 7, 3, 4, 1, 2, 0, 1, 2, 3, 1, 1, 1, NETC_ACT_LEAKY_RELU, 1},
  {"pad > kernel", 1, 3, 6, 5, 4, 3, 3, 2, 1, 4, 5, 4, 6, 1, 1, 1, NETC_ACT_NONE, 1},
  {"kernel > input", 1, 2, 3, 2, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, NETC_ACT_NONE, 1},
  {"1x1 input 3x3 pad 1", 1, 9, 1, 1, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_SIGMOID, 1},
  {"1x1 input 1x1", 3, 40, 1, 1, 50, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_GELU, 1},
  {"groups 2", 1, 8, 9, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, NETC_ACT_NONE, 1},
  {"groups 4 stride 2", 2, 8, 11, 9, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, NETC_ACT_TANH, 1},
  {"groups 3 1x1", 1, 9, 6, 6, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3, NETC_ACT_NONE, 1},
  {"depthwise 3x3", 1, 16, 19, 23, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, NETC_ACT_RELU6, 1},
  {"depthwise wide", 2, 5, 7, 71, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, NETC_ACT_RELU, 1},
  {"depthwise stride 2", 1, 12, 17, 18, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 12, NETC_ACT_NONE, 0},
  {"depthwise 5x5 dil 2", 1, 6, 21, 40, 6, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 6, NETC_ACT_NONE, 1},
  {"depthwise multiplier 3", 1, 4, 9, 35, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, NETC_ACT_NONE, 1},
  {"depthwise pad > kernel", 1, 3, 5, 6, 3, 3, 3, 1, 1, 5, 4, 3, 6, 1, 1, 3, NETC_ACT_NONE, 1},
  {"depthwise 1x1 input", 1, 7, 1, 1, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7, NETC_ACT_NONE, 1},
  {"depthwise asym", 1, 4, 12, 37, 4, 3, 5, 1, 1, 0, 2, 2, 0, 1, 1, 4, NETC_ACT_NONE, 1},
  {"depthwise 7x7 planes", 2, 24, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 24, NETC_ACT_RELU6, 1},
  {"depthwise stride 2 odd", 1, 6, 57, 57, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, NETC_ACT_RELU6, 1},
  {"depthwise stride 3 dil 2", 1, 5, 31, 29, 5, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 5, NETC_ACT_NONE, 1},
  {"depthwise stride 2x1", 1, 3, 20, 45, 6, 5, 3, 2, 1, 2, 1, 2, 1, 1, 1, 3, NETC_ACT_NONE, 1},
  {"depthwise 7x7 dil 3", 1, 2, 40, 40, 2, 7, 7, 1, 1, 9, 9, 9, 9, 3, 3, 2, NETC_ACT_NONE, 1},
  {"depthwise several bands", 1, 2, 130, 100, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, NETC_ACT_NONE, 1},
  {"depthwise, threads", 1, 32, 64, 64, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, NETC_ACT_RELU, 1},
  {"depthwise very wide rows", 1, 2, 5, 1200, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, NETC_ACT_RELU, 1},
  {"depthwise very wide stride 2", 1, 2, 6, 2500, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, NETC_ACT_NONE, 1},
  {"K > KC", 1, 40, 9, 9, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_NONE, 1},
  {"N > NC", 1, 3, 70, 70, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_NONE, 1},
  {"M > MC", 1, 4, 6, 5, 600, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"one channel (LeNet)", 1, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, NETC_ACT_SIGMOID, 1},
  {"11x11 stride 4", 1, 1, 63, 63, 16, 11, 11, 4, 4, 2, 2, 2, 2, 1, 1, 1, NETC_ACT_RELU, 1},
  // The direct path (stride 1, out_c / groups <= 64, depth <= 256, not an
  // unpadded 1x1, which is a plain GEMM): rows
  // of flat outputs that wrap, tiles past the end of an unpadded input,
  // both tile shapes, groups, dilation, every activation.
  {"direct LeNet conv2", 1, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_SIGMOID, 1},
  {"pointwise small", 1, 24, 9, 13, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_RELU6, 1},
  {"pointwise depth 256", 2, 256, 5, 7, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE, 1},
  {"pointwise one row", 1, 16, 1, 200, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_TANH, 0},
  {"direct 3x3 unpadded", 1, 7, 12, 19, 13, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_GELU, 1},
  {"direct 3x3 wide", 1, 3, 9, 70, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_GELU_TANH, 1},
  {"direct dilated padded", 1, 4, 11, 13, 9, 3, 3, 1, 1, 2, 3, 1, 2, 2, 3, 1, NETC_ACT_LEAKY_RELU, 1},
  {"direct groups", 2, 12, 10, 11, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, NETC_ACT_RELU, 1},
  {"direct 1-wide output", 1, 5, 8, 3, 7, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE, 1},
  {"direct threads", 1, 28, 30, 30, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"pointwise few tiles", 1, 64, 4, 4, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_RELU, 1},
  {"gemm just past direct", 1, 8, 9, 9, 65, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"direct bands 1x1 padded", 2, 3, 80, 75, 10, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, NETC_ACT_NONE, 1},
  {"direct bands VGG conv0", 1, 1, 224, 224, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  // Deeper than one depth block (256): direct only with packed weights
  // (several depth blocks summed in registers), the GEMM otherwise.
  {"direct deep", 1, 30, 26, 30, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"direct deep bands", 2, 150, 12, 40, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_SIGMOID, 1},
  {"direct deep 5x5 dilated", 1, 20, 30, 33, 128, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 1, NETC_ACT_NONE, 1},
  // Strided direct: the padded band split into stride phases (ResNet's and
  // MobileNet's stems, ResNet's stride-2 3x3 layers, asymmetric strides).
  {"direct stride 2 stem", 1, 3, 60, 58, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU6, 1},
  {"direct stride 2 7x7", 1, 3, 64, 70, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, NETC_ACT_RELU, 1},
  {"direct stride 2 K 250", 1, 27, 57, 56, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"gemm stride 2 deep", 1, 40, 57, 56, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU, 1},
  {"direct stride 3x2", 2, 5, 31, 40, 12, 4, 3, 3, 2, 2, 1, 0, 2, 1, 2, 1, NETC_ACT_NONE, 1},
};

// The three choices of netc_conv2d_params.path, each case run under each.
static const netc_conv_path every_path[] = {NETC_CONV_FAST, NETC_CONV_NO_SCRATCH, NETC_CONV_AUTO};

START_TEST(test_conv_vs_ref) {
  const ConvCase *c = &conv_cases[_i];
  netc_conv2d_params p = conv_params(c->n, c->in_c, c->h, c->w, c->out_c, c->kh, c->kw, c->sh, c->sw,
                                     c->pt, c->pl, c->pb, c->pr, c->dh, c->dw, c->groups, c->act);
  // Without the small-layer rule (NETC_CONV_FAST) the cases named for a
  // path take it.
  p.path = NETC_CONV_FAST;
  const char *path = netc_conv2d_path(&p);
  if (strncmp(c->what, "direct", 6) == 0)
    ck_assert_str_eq(path, "direct");
  if (strncmp(c->what, "depthwise", 9) == 0)
    ck_assert_str_eq(path, "depthwise");
  if (strncmp(c->what, "gemm", 4) == 0)
    ck_assert_str_eq(path, "gemm_im2col");
  if (strncmp(c->what, "1x1 stride 2", 12) == 0 || strcmp(c->what, "7x7 stem") == 0 ||
      strcmp(c->what, "11x11 stride 4") == 0)
    ck_assert_str_eq(path, "direct");  // strided: phases of the padded input
  if (strncmp(c->what, "pointwise", 9) == 0 || strcmp(c->what, "1x1 pointwise") == 0)
    ck_assert_str_eq(path, "gemm_1x1");
  if (strcmp(c->what, "M > MC") == 0)
    ck_assert_str_eq(path, "gemm_im2col");
  conv_compare(&p, c->bias, 100 + (uint32_t)_i, 1e-5);
  // NETC_CONV_NO_SCRATCH: the loop (depthwise layers keep their own
  // kernel, which needs no scratch either), no scratch.
  p.path = NETC_CONV_NO_SCRATCH;
  ck_assert_str_eq(netc_conv2d_path(&p), strncmp(c->what, "depthwise", 9) == 0 ? "depthwise" : "loop");
  ck_assert_int_eq(netc_conv2d_scratch_floats(&p), 0);
  conv_compare(&p, c->bias, 200 + (uint32_t)_i, 1e-5);
  p.path = NETC_CONV_AUTO;
  conv_compare(&p, c->bias, 300 + (uint32_t)_i, 1e-5);
}
END_TEST

// The same cases through pre-packed weights, with and without a residual
// (y = act(conv + bias + residual)).
START_TEST(test_conv_packed_vs_ref) {
  const ConvCase *c = &conv_cases[_i / 3];
  netc_conv2d_params p = conv_params(c->n, c->in_c, c->h, c->w, c->out_c, c->kh, c->kw, c->sh, c->sw,
                                     c->pt, c->pl, c->pb, c->pr, c->dh, c->dw, c->groups, c->act);
  p.path = every_path[_i % 3];
  const int64_t xn = p.n * p.in_c * p.in_h * p.in_w;
  const int64_t wn = p.out_c * (p.in_c / p.groups) * p.kernel_h * p.kernel_w;
  const int64_t yn = p.n * p.out_c * p.out_h * p.out_w;
  const uint32_t seed = 500 + (uint32_t)_i;
  float *x = tu_random(xn, seed), *w = tu_random(wn, seed + 1);
  float *b = c->bias ? tu_random(p.out_c, seed + 2) : NULL;
  float *res = tu_random(yn, seed + 3);
  float *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
  float *pk = tu_alloc(netc_conv2d_packed_floats(&p), _i % 2);
  float *s = tu_alloc(netc_conv2d_scratch_floats(&p), (int)(seed % 3));
  ck_assert_int_ge(netc_conv2d_packed_floats(&p), wn);
  netc_conv2d_pack_weights(&p, w, pk);

  netc_conv2d_packed_f32(&p, x, pk, b, NULL, y, s);
  netc_ref_conv2d_f32(&p, x, w, b, r);
  tu_assert_close("packed conv2d", y, r, yn, 1e-5);

  ref_conv_residual(&p, x, w, b, res, r);
  netc_conv2d_packed_f32(&p, x, pk, b, res, y, s);
  tu_assert_close("packed conv2d + residual", y, r, yn, 1e-5);
  // In place: the residual is y.
  memcpy(y, res, sizeof(float) * (size_t)yn);
  netc_conv2d_packed_f32(&p, x, pk, b, y, y, s);
  tu_assert_close("packed conv2d + residual in place", y, r, yn, 1e-5);

  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(res);
  tu_free(y);
  tu_free(r);
  tu_free(pk);
  tu_free(s);
}
END_TEST

// The default (NETC_CONV_AUTO) and the small-layer rule. LeNet's two
// convolutions take the direct path, whose scratch is its own need (the
// offsets, and for the padded first layer a padded copy of the input), far
// below the GEMM's packing panels and below the layer's own data: the
// small-layer rule leaves them alone. A 1 x 1 layer (a GEMM on x as stored,
// whose panels, kc * (N + M + 128) + 32 floats, outweigh its data) with up
// to 2^20 multiply-adds takes the scratch-free loop; twice the outputs does
// not; a ResNet 3x3 layer at 56 x 56 keeps Winograd.
START_TEST(test_conv_auto_small) {
  netc_conv2d_params c1 = conv_params(1, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, NETC_ACT_SIGMOID);
  netc_conv2d_params c2 = conv_params(1, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_SIGMOID);
  const netc_conv2d_params *lenet[2] = {&c1, &c2};
  for (int i = 0; i < 2; i++) {
    netc_conv2d_params p = *lenet[i];
    const int64_t k = p.in_c * p.kernel_h * p.kernel_w;
    const int64_t data = p.in_c * p.in_h * p.in_w + p.out_c * p.out_h * p.out_w + p.out_c * k;
    ck_assert_int_gt(netc_gemm_scratch_floats(p.out_c, p.out_h * p.out_w, k), data);
    ck_assert_str_eq(netc_conv2d_path(&p), "direct");
    // The offsets, at most a padded copy of the input, and 192 floats of slack.
    const int64_t padded = p.in_c * (p.in_h + p.pad_top + p.pad_bottom + 1) * (p.in_w + p.pad_left + p.pad_right);
    ck_assert_int_le(netc_conv2d_scratch_floats(&p), k + (i == 0 ? padded : 0) + 192);
    ck_assert_int_lt(netc_conv2d_scratch_floats(&p), data);
    p.path = NETC_CONV_NO_SCRATCH;
    ck_assert_str_eq(netc_conv2d_path(&p), "loop");
    ck_assert_int_eq(netc_conv2d_scratch_floats(&p), 0);
  }
  netc_conv2d_params r = conv_params(1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_RELU);
  ck_assert_int_gt(netc_gemm_scratch_floats(64, 56 * 56, 64 * 9), 2 * 64 * 56 * 56 + 64 * 64 * 9);
  ck_assert_str_eq(netc_conv2d_path(&r), "winograd");
  // 256 -> 256 channels, 1 x 1 at 4 x 4: 2^20 multiply-adds is still small;
  // 256 -> 512 is not.
  netc_conv2d_params e = conv_params(1, 256, 4, 4, 256, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(e.out_c * e.out_h * e.out_w * e.in_c, 1 << 20);
  ck_assert_int_gt(netc_gemm_scratch_floats(256, 16, 256), 2 * 256 * 16 + 256 * 256);
  ck_assert_str_eq(netc_conv2d_path(&e), "loop");
  e = conv_params(1, 256, 4, 4, 512, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_str_ne(netc_conv2d_path(&e), "loop");
}
END_TEST

// Every activation through every path's epilogue (each has its own switch
// over netc_act, with fast cases for some): packed and raw weights, with a
// residual, against the reference conv then the reference activation.
static const struct {
  const char *path;
  int64_t in_c, h, out_c, k, stride, pad, groups;
} act_paths[] = {
  {"direct", 6, 14, 16, 5, 1, 0, 1},
  {"winograd", 32, 20, 32, 3, 1, 1, 1},
  {"depthwise", 16, 10, 16, 3, 1, 1, 16},
  {"gemm_1x1", 96, 8, 160, 1, 1, 0, 1},
  {"gemm_im2col", 64, 16, 160, 3, 2, 1, 1},
  {"loop", 6, 14, 16, 5, 1, 0, 1},
  {"loop", 8, 9, 12, 3, 2, 1, 2},
};

START_TEST(test_conv_every_act) {
  const int c = _i;
  for (int a = 0; a < NETC_ACT_COUNT; a++) {
    netc_conv2d_params p = conv_params(1, act_paths[c].in_c, act_paths[c].h, act_paths[c].h, act_paths[c].out_c,
                                       act_paths[c].k, act_paths[c].k, act_paths[c].stride, act_paths[c].stride,
                                       act_paths[c].pad, act_paths[c].pad, act_paths[c].pad, act_paths[c].pad, 1, 1,
                                       act_paths[c].groups, (netc_act)a);
    p.act_slope = 0.3f;
    p.path = strcmp(act_paths[c].path, "loop") == 0 ? NETC_CONV_NO_SCRATCH : NETC_CONV_FAST;
    ck_assert_str_eq(netc_conv2d_path(&p), act_paths[c].path);
    const int64_t xn = p.in_c * p.in_h * p.in_w, wn = p.out_c * (p.in_c / p.groups) * p.kernel_h * p.kernel_w;
    const int64_t yn = p.out_c * p.out_h * p.out_w;
    const uint32_t seed = 700 + 10 * (uint32_t)c + (uint32_t)a;
    float *x = tu_random(xn, seed), *w = tu_random(wn, seed + 1), *b = tu_random(p.out_c, seed + 2);
    float *res = tu_random(yn, seed + 3), *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
    for (int64_t i = 0; i < xn; i++)
      x[i] *= 3.0f; // outputs over the activations' interesting range (hardswish's -3..3, the tails)
    float *pk = tu_alloc(netc_conv2d_packed_floats(&p), 0);
    float *s = tu_alloc(netc_conv2d_scratch_floats(&p), 1);
    netc_conv2d_pack_weights(&p, w, pk);
    ref_conv_residual(&p, x, w, b, res, r);
    const char *what = format_act(netc_act_name(p.act), act_paths[c].path);
    // Winograd's rounding error is a few 1e-6 of the largest pre-activation
    // (here ~30), which tanh passes on at slope ~1 near 0: 1e-4 of max |y|.
    const double tol = strcmp(act_paths[c].path, "winograd") == 0 ? 2e-4 : 2e-5;
    netc_conv2d_packed_f32(&p, x, pk, b, res, y, s);
    tu_assert_close(what, y, r, yn, tol);
    memset(y, 0, sizeof(float) * (size_t)yn);
    netc_conv2d_residual_f32(&p, x, w, b, res, y, s);
    tu_assert_close(what, y, r, yn, tol);
    tu_free(x);
    tu_free(w);
    tu_free(b);
    tu_free(res);
    tu_free(y);
    tu_free(r);
    tu_free(pk);
    tu_free(s);
  }
}
END_TEST

// The packed size is a formula of the params alone.
START_TEST(test_conv_packed_size) {
  netc_conv2d_params p = conv_params(1, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE);
  p.path = NETC_CONV_FAST;
  ck_assert_int_eq(netc_conv2d_packed_floats(&p), (16 + 15) * 150);
  p.path = NETC_CONV_NO_SCRATCH; // the loop reads the weights as they are
  ck_assert_int_eq(netc_conv2d_packed_floats(&p), 16 * 150);
  p = conv_params(1, 8, 9, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, NETC_ACT_NONE);
  p.path = NETC_CONV_FAST;
  ck_assert_int_eq(netc_conv2d_packed_floats(&p), 2 * (6 + 15) * 36);
  p = conv_params(1, 32, 9, 10, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv2d_packed_floats(&p), 32 * (1 + 15) * 9);
}
END_TEST

START_TEST(test_conv_check_errors) {
  char err[200];
  netc_conv2d_params p = conv_params(1, 6, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "groups 4 must divide in_c 6");
  p = conv_params(1, 6, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NETC_ACT_NONE);
  p.out_h = 7;
  ck_assert_int_eq(netc_conv2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "output is 8x8, params say 7x8");
  p = conv_params(1, 1, 2, 2, 1, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "kernel does not fit");
  p = conv_params(1, 1, 4, 4, 1, 3, 3, 0, 1, 0, 0, 0, 0, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "stride 0x1");
  // Output size formula: floor((in + p0 + p1 - d(k-1) - 1) / s) + 1.
  ck_assert_int_eq(netc_conv2d_out_size(224, 7, 2, 3, 3, 1), 112);
  ck_assert_int_eq(netc_conv2d_out_size(5, 3, 2, 0, 0, 1), 2);
  ck_assert_int_eq(netc_conv2d_out_size(2, 5, 1, 0, 0, 1), -2);
}
END_TEST

//
// Transposed convolution
//

static netc_conv_transpose2d_params convt_params(int64_t n, int64_t in_c, int64_t h, int64_t w,
                                                 int64_t out_c, int64_t k, int64_t s, int64_t pad,
                                                 int64_t opad, int64_t d, int64_t groups,
                                                 netc_act act) {
  netc_conv_transpose2d_params p;
  memset(&p, 0, sizeof p);
  p.n = n;
  p.in_c = in_c;
  p.in_h = h;
  p.in_w = w;
  p.out_c = out_c;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.output_pad_h = p.output_pad_w = opad;
  p.dilation_h = p.dilation_w = d;
  p.groups = groups;
  p.act = act;
  p.out_h = netc_conv_transpose2d_out_size(h, k, s, pad, pad, opad, d);
  p.out_w = netc_conv_transpose2d_out_size(w, k, s, pad, pad, opad, d);
  return p;
}

// x = [[1 2] [3 4]], 2x2 kernel of ones.
//   stride 2: every input pixel becomes a 2x2 block.
//   stride 1: overlapping stamps: [[1 3 2] [4 10 6] [3 7 4]].
START_TEST(test_convt_hand) {
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1};
  const float want2[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  const float want1[9] = {1, 3, 2, 4, 10, 6, 3, 7, 4};
  float y[16];
  netc_conv_transpose2d_params p = convt_params(1, 1, 2, 2, 1, 2, 2, 0, 0, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(p.out_h, 4);
  netc_ref_conv_transpose2d_f32(&p, x, w, NULL, y);
  for (int i = 0; i < 16; i++)
    ck_assert_float_eq(y[i], want2[i]);
  float *s = tu_alloc(netc_conv_transpose2d_scratch_floats(&p), 0);
  netc_conv_transpose2d_f32(&p, x, w, NULL, y, s);
  for (int i = 0; i < 16; i++)
    ck_assert_float_eq(y[i], want2[i]);
  tu_free(s);

  p = convt_params(1, 1, 2, 2, 1, 2, 1, 0, 0, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(p.out_h, 3);
  netc_ref_conv_transpose2d_f32(&p, x, w, NULL, y);
  for (int i = 0; i < 9; i++)
    ck_assert_float_eq(y[i], want1[i]);
  s = tu_alloc(netc_conv_transpose2d_scratch_floats(&p), 0);
  netc_conv_transpose2d_f32(&p, x, w, NULL, y, s);
  for (int i = 0; i < 9; i++)
    ck_assert_float_eq(y[i], want1[i]);
  tu_free(s);
}
END_TEST

typedef struct {
  int64_t n, in_c, h, w, out_c, k, s, pad, opad, d, groups;
  netc_act act;
  int bias;
} ConvtCase;

static const ConvtCase convt_cases[] = {
  {1, 3, 5, 5, 4, 3, 2, 1, 1, 1, 1, NETC_ACT_NONE, 1},
  {2, 4, 4, 6, 6, 4, 2, 1, 0, 1, 2, NETC_ACT_RELU, 1},   // DCGAN-style, groups
  {1, 5, 7, 3, 3, 3, 1, 0, 0, 2, 1, NETC_ACT_NONE, 0},   // dilation
  {1, 6, 3, 4, 9, 3, 3, 2, 2, 1, 3, NETC_ACT_TANH, 1},   // stride 3, output_padding 2
  {1, 8, 1, 1, 5, 4, 1, 0, 0, 1, 1, NETC_ACT_NONE, 1},   // 1x1 input
  {1, 4, 6, 6, 8, 2, 2, 0, 0, 1, 4, NETC_ACT_NONE, 1},   // depthwise-like groups
  {1, 2, 90, 91, 16, 3, 2, 1, 1, 1, 1, NETC_ACT_NONE, 1}, // col chunked
  {1, 3, 4, 4, 2, 5, 2, 4, 1, 1, 1, NETC_ACT_NONE, 1},   // padding near kernel size
};

START_TEST(test_convt_vs_ref) {
  const ConvtCase *c = &convt_cases[_i];
  netc_conv_transpose2d_params p = convt_params(c->n, c->in_c, c->h, c->w, c->out_c, c->k, c->s, c->pad,
                                                c->opad, c->d, c->groups, c->act);
  char err[200];
  ck_assert_msg(netc_conv_transpose2d_check(&p, err, sizeof err) == 0, "bad case: %s", err);
  const int64_t xn = p.n * p.in_c * p.in_h * p.in_w;
  const int64_t wn = p.in_c * (p.out_c / p.groups) * p.kernel_h * p.kernel_w;
  const int64_t yn = p.n * p.out_c * p.out_h * p.out_w;
  float *x = tu_random(xn, 300 + (uint32_t)_i), *w = tu_random(wn, 301 + (uint32_t)_i);
  float *b = c->bias ? tu_random(p.out_c, 302) : NULL;
  float *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
  float *s = tu_alloc(netc_conv_transpose2d_scratch_floats(&p), _i % 2);
  netc_conv_transpose2d_f32(&p, x, w, b, y, s);
  netc_ref_conv_transpose2d_f32(&p, x, w, b, r);
  tu_assert_close("conv_transpose2d", y, r, yn, 1e-5);
  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(y);
  tu_free(r);
  tu_free(s);
}
END_TEST

START_TEST(test_convt_check_errors) {
  char err[200];
  netc_conv_transpose2d_params p = convt_params(1, 4, 4, 4, 4, 3, 2, 1, 2, 1, 1, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv_transpose2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "output_padding 2x2 must be smaller");
  p = convt_params(1, 4, 4, 4, 6, 3, 2, 1, 1, 1, 4, NETC_ACT_NONE);
  ck_assert_int_eq(netc_conv_transpose2d_check(&p, err, sizeof err), -1);
  tu_assert_contains(err, "groups 4 must divide");
  // (in - 1) s - 2p + d (k - 1) + op + 1
  ck_assert_int_eq(netc_conv_transpose2d_out_size(4, 4, 2, 1, 1, 0, 1), 8);
  ck_assert_int_eq(netc_conv_transpose2d_out_size(5, 3, 2, 1, 1, 1, 1), 10);
}
END_TEST

Suite *make_conv_suite(void) {
  Suite *s = suite_create("conv");

  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, test_conv_hand_laplacian);
  tcase_add_test(tc, test_conv_hand_dilation);
  tcase_add_test(tc, test_conv_hand_stride_asym);
  tcase_add_test(tc, test_conv_hand_groups);
  tcase_add_test(tc, test_convt_hand);
  suite_add_tcase(s, tc);

  tc = tcase_create("fast");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_conv_vs_ref, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
  tcase_add_loop_test(tc, test_conv_packed_vs_ref, 0, 3 * (int)(sizeof conv_cases / sizeof conv_cases[0]));
  tcase_add_test(tc, test_conv_auto_small);
  tcase_add_test(tc, test_conv_packed_size);
  tcase_add_loop_test(tc, test_conv_every_act, 0, (int)(sizeof act_paths / sizeof act_paths[0]));
  tcase_add_loop_test(tc, test_convt_vs_ref, 0, (int)(sizeof convt_cases / sizeof convt_cases[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_conv_check_errors);
  tcase_add_test(tc, test_convt_check_errors);
  suite_add_tcase(s, tc);
  return s;
}
