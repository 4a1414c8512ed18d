// check_winograd.c -- the Winograd F(4x4, 3x3) path of conv2d (winograd.c)
// against netc_ref_conv2d_f32: ragged tile grids, padding 0 to 2, channel
// counts off the vector width, several tile blocks and channel groups,
// bias or none, residual (also in place), every activation; the error on
// ResNet-50's real layer sizes; results independent of the thread count.
// Small shapes that conv2d sends elsewhere run through the path's own
// entry points (netc_internal.h).

#include "testutil.h"

#include "netc_internal.h"  // netc_winograd_*: shapes plan_conv does not choose

#include <math.h>
#include <stdio.h>
#include <string.h>

static netc_conv2d_params wino_params(int64_t n, int64_t in_c, int64_t h, int64_t w, int64_t out_c,
                                      int64_t pt, int64_t pl, int64_t pb, int64_t pr, netc_act act) {
  netc_conv2d_params p;
  memset(&p, 0, sizeof p);
  p.n = n;
  p.in_c = in_c;
  p.in_h = h;
  p.in_w = w;
  p.out_c = out_c;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 1;
  p.dilation_h = p.dilation_w = 1;
  p.pad_top = pt;
  p.pad_left = pl;
  p.pad_bottom = pb;
  p.pad_right = pr;
  p.groups = 1;
  p.act = act;
  p.act_slope = 0.1f;
  p.out_h = netc_conv2d_out_size(h, 3, 1, pt, pb, 1);
  p.out_w = netc_conv2d_out_size(w, 3, 1, pl, pr, 1);
  return p;
}

// Tolerance, relative to max(max |y|, 1) as in tu_assert_close. Winograd
// is not the direct sum: the transforms scale terms by up to 8 (A^T) and
// 3/2 (B^T, per axis) before they cancel, so an output's rounding error is
// a few times the direct path's, and it scales with the convolution's
// magnitude before the activation (here sums of up to 2700 terms in
// [-1, 1): |conv| ~ 10-20, while tanh or sigmoid bring |y| under 1).
// Measured with these cases (AVX-512): at most 2.3e-5 (tanh), 1.8e-5
// relative elsewhere, against the 1e-5 the other conv paths are held to;
// with trained-like data (test_wino_real_layers) 3.5e-6 of max |y|. 1e-4
// leaves room for other instruction sets' summation orders without hiding
// a wrong transform, tile or epilogue (off by O(1)).
#define WINO_TOL 1e-4

typedef struct {
  const char *what;
  int64_t n, in_c, h, w, out_c, pt, pl, pb, pr;
  netc_act act;
  int bias;
  int chosen;  // conv2d takes the path (else only the direct entry points are tested)
} WinoCase;

static const WinoCase wino_cases[] = {
  {"ragged 19x17 pad 1", 1, 33, 19, 17, 37, 1, 1, 1, 1, NETC_ACT_RELU, 1, 1},
  {"pad 0", 1, 40, 22, 21, 48, 0, 0, 0, 0, NETC_ACT_NONE, 1, 1},
  {"no bias, batch 2", 2, 48, 18, 19, 40, 1, 1, 1, 1, NETC_ACT_LEAKY_RELU, 0, 1},
  {"asymmetric pad", 1, 34, 18, 17, 36, 2, 0, 1, 2, NETC_ACT_SIGMOID, 1, 1},
  {"tanh", 1, 32, 17, 17, 32, 1, 1, 1, 1, NETC_ACT_TANH, 1, 1},
  {"gelu", 1, 50, 17, 21, 33, 1, 1, 1, 1, NETC_ACT_GELU, 1, 1},
  {"gelu_tanh", 1, 32, 14, 30, 41, 1, 1, 1, 1, NETC_ACT_GELU_TANH, 1, 1},
  {"relu6", 1, 32, 17, 18, 32, 1, 1, 1, 1, NETC_ACT_RELU6, 1, 1},
  {"several blocks", 1, 32, 45, 43, 32, 1, 1, 1, 1, NETC_ACT_RELU, 1, 1},
  // Blocks that end inside a tile row (each writes only its own tiles,
  // or the in-place residual would be read after it was overwritten).
  {"blocks split rows", 1, 32, 50, 50, 40, 1, 1, 1, 1, NETC_ACT_RELU, 1, 1},
  {"ResNet-50 layer1 shape", 1, 64, 56, 56, 64, 1, 1, 1, 1, NETC_ACT_RELU, 1, 1},
  {"several channel groups", 1, 40, 19, 17, 150, 1, 1, 1, 1, NETC_ACT_RELU, 1, 1},
  {"deep (in_c > KC)", 1, 300, 18, 20, 70, 1, 1, 1, 1, NETC_ACT_NONE, 1, 1},
  {"blocks x groups x batch", 3, 35, 30, 34, 131, 1, 1, 1, 1, NETC_ACT_RELU, 1, 1},
  {"wide rows", 1, 32, 13, 150, 33, 1, 1, 1, 1, NETC_ACT_NONE, 1, 1},
  // Below the path's thresholds: the entry points only.
  {"1x1 input pad 1", 1, 32, 1, 1, 35, 1, 1, 1, 1, NETC_ACT_NONE, 1, 0},
  {"3x3 input pad 0 (1x1 out)", 2, 36, 3, 3, 33, 0, 0, 0, 0, NETC_ACT_RELU6, 1, 0},
  {"7x7 ragged", 1, 17, 7, 6, 5, 1, 1, 1, 1, NETC_ACT_TANH, 0, 0},
  {"1 channel, pad 2", 1, 1, 9, 11, 3, 2, 2, 2, 2, NETC_ACT_NONE, 1, 0},
  {"16 tiles, 128 out", 1, 128, 14, 14, 128, 1, 1, 1, 1, NETC_ACT_RELU, 1, 0},
  {"2x9 output", 2, 5, 4, 11, 9, 0, 1, 0, 0, NETC_ACT_GELU, 1, 0},
};

// y = act(conv(x) + bias + res) through conv2d (public) or the path's own
// entry points.
static void run_wino(const netc_conv2d_params *p, int public, const float *x, const float *pk,
                     const float *b, const float *res, float *y, float *s) {
  if (public)
    netc_conv2d_packed_f32(p, x, pk, b, res, y, s);
  else
    netc_winograd_run(p, x, pk, b, res, y, s);
}

// Packed path against the reference: plain, with a residual, with the
// residual in place (y = act(conv + bias + y)).
START_TEST(test_wino_vs_ref) {
  const WinoCase *c = &wino_cases[_i / 2];
  const int public = _i % 2 == 0;
  netc_conv2d_params p = wino_params(c->n, c->in_c, c->h, c->w, c->out_c, c->pt, c->pl, c->pb, c->pr, c->act);
  char err[200];
  ck_assert_msg(netc_conv2d_check(&p, err, sizeof err) == 0, "bad case %s: %s", c->what, err);
  ck_assert_msg(strcmp(netc_conv2d_path(&p), "winograd") == 0 || !c->chosen, "%s: path %s", c->what,
                netc_conv2d_path(&p));
  if (public && !c->chosen)
    return;
  const int64_t xn = p.n * p.in_c * p.in_h * p.in_w, wn = p.out_c * p.in_c * 9;
  const int64_t yn = p.n * p.out_c * p.out_h * p.out_w;
  const uint32_t seed = 900 + 10 * (uint32_t)_i;
  float *x = tu_random(xn, seed), *w = tu_random(wn, seed + 1);
  float *b = c->bias ? tu_random(p.out_c, seed + 2) : NULL;
  float *res = tu_random(yn, seed + 3);
  float *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
  float *pk = tu_alloc(public ? netc_conv2d_packed_floats(&p) : netc_winograd_packed_floats(&p), _i / 2 % 2);
  float *s = tu_alloc(public ? netc_conv2d_scratch_floats(&p) : netc_winograd_scratch_floats(&p), (int)(seed % 3));
  if (public)
    netc_conv2d_pack_weights(&p, w, pk);
  else
    netc_winograd_pack_weights(&p, w, pk);

  run_wino(&p, public, x, pk, b, NULL, y, s);
  netc_ref_conv2d_f32(&p, x, w, b, r);
  tu_assert_close(c->what, y, r, yn, WINO_TOL);

  if (public) {  // netc_conv2d_f32 (raw weights) takes another path; same answer
    netc_conv2d_f32(&p, x, w, b, y, s);
    tu_assert_close("raw weights", y, r, yn, 1e-5);
  }

  netc_conv2d_params q = p;
  q.act = NETC_ACT_NONE;
  netc_ref_conv2d_f32(&q, x, w, b, r);
  for (int64_t i = 0; i < yn; i++)
    r[i] += res[i];
  netc_ref_act_f32(p.act, p.act_slope, yn, r, r);
  run_wino(&p, public, x, pk, b, res, y, s);
  tu_assert_close("+ residual", y, r, yn, WINO_TOL);
  memcpy(y, res, sizeof(float) * (size_t)yn);
  run_wino(&p, public, x, pk, b, y, y, s);
  tu_assert_close("+ residual in place", y, r, yn, WINO_TOL);

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

// Real layer sizes, with ReLU-like inputs in [0, 1) and He-scaled weights
// (as in a trained net: the outputs are sums of many terms of both signs):
// the error relative to max |y|, printed, and held to 1e-5 (the network
// bar is 1e-4 after ~16 such layers).
typedef struct {
  const char *what;
  int64_t c, hw;
} RealCase;

static const RealCase real_cases[] = {
  {"ResNet-50 layer1 3x3 (64, 56x56)", 64, 56},
  {"ResNet-50 layer2 3x3 (128, 28x28)", 128, 28},
  {"ResNet-50 layer3 3x3 (256, 14x14)", 256, 14},
  {"VGG-11 conv (512, 14x14)", 512, 14},
};

START_TEST(test_wino_real_layers) {
  const RealCase *c = &real_cases[_i];
  netc_conv2d_params p = wino_params(1, c->c, c->hw, c->hw, c->c, 1, 1, 1, 1, NETC_ACT_NONE);
  if (strcmp(netc_conv2d_path(&p), "winograd") != 0)
    return;  // not chosen for this shape: nothing to measure
  const int64_t xn = p.in_c * p.in_h * p.in_w, wn = p.out_c * p.in_c * 9, yn = p.out_c * p.out_h * p.out_w;
  float *x = tu_random(xn, 77), *w = tu_random(wn, 78), *b = tu_random(p.out_c, 79);
  const float scale = (float)sqrt(6.0 / (9.0 * (double)p.in_c));  // uniform He: var 2 / fan_in
  for (int64_t i = 0; i < xn; i++)
    x[i] = 0.5f * (x[i] + 1.0f);
  for (int64_t i = 0; i < wn; i++)
    w[i] *= scale;
  float *y = tu_alloc(yn, 0), *r = tu_alloc(yn, 0);
  float *pk = tu_alloc(netc_conv2d_packed_floats(&p), 0);
  float *s = tu_alloc(netc_conv2d_scratch_floats(&p), 0);
  netc_conv2d_pack_weights(&p, w, pk);
  netc_conv2d_packed_f32(&p, x, pk, b, NULL, y, s);
  netc_ref_conv2d_f32(&p, x, w, b, r);
  double worst = 0.0, big = 0.0;
  for (int64_t i = 0; i < yn; i++) {
    worst = fmax(worst, fabs((double)y[i] - (double)r[i]));
    big = fmax(big, fabs((double)r[i]));
  }
  printf("winograd %s: max |err| / max |y| = %.2e\n", c->what, worst / big);
  ck_assert_msg(worst <= 1e-5 * big, "%s: max |err| %g vs max |y| %g", c->what, worst, big);
  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(y);
  tu_free(r);
  tu_free(pk);
  tu_free(s);
}
END_TEST

// One thread or two: bitwise the same (OpenMP builds; elsewhere trivially).
START_TEST(test_wino_threads) {
  netc_conv2d_params p = wino_params(2, 64, 23, 29, 96, 1, 1, 1, 1, NETC_ACT_RELU);
  ck_assert_str_eq(netc_conv2d_path(&p), "winograd");
  const int64_t xn = p.n * p.in_c * p.in_h * p.in_w, wn = p.out_c * p.in_c * 9;
  const int64_t yn = p.n * p.out_c * p.out_h * p.out_w;
  float *x = tu_random(xn, 11), *w = tu_random(wn, 12), *b = tu_random(p.out_c, 13);
  float *res = tu_random(yn, 14);
  float *y1 = tu_alloc(yn, 0), *y2 = tu_alloc(yn, 0);
  float *pk = tu_alloc(netc_conv2d_packed_floats(&p), 0);
  float *s = tu_alloc(netc_conv2d_scratch_floats(&p), 1);
  netc_conv2d_pack_weights(&p, w, pk);
  const int32_t saved = netc_threads_get();
  netc_threads_set(1);
  netc_conv2d_packed_f32(&p, x, pk, b, res, y1, s);
  netc_threads_set(2);
  netc_conv2d_packed_f32(&p, x, pk, b, res, y2, s);
  netc_threads_set(saved);
  ck_assert_msg(memcmp(y1, y2, sizeof(float) * (size_t)yn) == 0, "1 and 2 threads differ");
  tu_free(x);
  tu_free(w);
  tu_free(b);
  tu_free(res);
  tu_free(y1);
  tu_free(y2);
  tu_free(pk);
  tu_free(s);
}
END_TEST

// Sizes are functions of the params alone, and the narrow and strided
// shapes stay off the path.
START_TEST(test_wino_choice) {
  netc_conv2d_params p = wino_params(1, 64, 56, 56, 64, 1, 1, 1, 1, NETC_ACT_RELU);
  ck_assert_str_eq(netc_conv2d_path(&p), "winograd");
  ck_assert_int_ge(netc_conv2d_packed_floats(&p), 36 * 64 * 64);
  netc_conv2d_params q = p;
  q.stride_h = q.stride_w = 2;
  q.out_h = q.out_w = 28;
  ck_assert_str_ne(netc_conv2d_path(&q), "winograd");
  q = wino_params(1, 3, 32, 32, 64, 1, 1, 1, 1, NETC_ACT_NONE);
  ck_assert_str_ne(netc_conv2d_path(&q), "winograd");
  q = p;
  q.groups = 64;
  ck_assert_str_ne(netc_conv2d_path(&q), "winograd");
  q = wino_params(1, 512, 7, 7, 512, 1, 1, 1, 1, NETC_ACT_NONE);  // 4 tiles: slower there
  ck_assert_str_ne(netc_conv2d_path(&q), "winograd");
}
END_TEST

Suite *make_winograd_suite(void) {
  Suite *s = suite_create("winograd");
  TCase *tc = tcase_create("vs_ref");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_wino_vs_ref, 0, 2 * (int)(sizeof wino_cases / sizeof wino_cases[0]));
  tcase_add_loop_test(tc, test_wino_real_layers, 0, (int)(sizeof real_cases / sizeof real_cases[0]));
  tcase_add_test(tc, test_wino_threads);
  tcase_add_test(tc, test_wino_choice);
  suite_add_tcase(s, tc);
  return s;
}
