// qconv_bench.c -- per-layer times of the int8 convolution (netc_qconv2d_u8)
// on ResNet-50, MobileNetV2 and VGG-11 layer shapes (a benchmark, not a test).
//
//   cc -std=c99 -O2 -march=native [-fopenmp] -Iruntime tests/bench/qconv_bench.c runtime/*.c -lm
//      -o qconv_bench
//   ./qconv_bench [REPS] [THREADS]
//
// Prints one line per layer: its shape, the median of REPS calls in ms and
// GMAC/s (multiply-adds of the layer over the median). Inputs and weights
// are deterministic pseudo-random bytes; nothing is checked (the runtime
// tests do that).

#define _POSIX_C_SOURCE 200809L

#include "netc_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  const char *name;
  int64_t ic, h, w, oc, k, s, pad, groups;
} Layer;

static const Layer layers[] = {
  {"r50 conv1 7x7/2", 3, 224, 224, 64, 7, 2, 3, 1},
  {"r50 l1 1x1 64->64", 64, 56, 56, 64, 1, 1, 0, 1},
  {"r50 l1 3x3 64", 64, 56, 56, 64, 3, 1, 1, 1},
  {"r50 l1 1x1 64->256", 64, 56, 56, 256, 1, 1, 0, 1},
  {"r50 l2 3x3/2 128", 128, 56, 56, 128, 3, 2, 1, 1},
  {"r50 l3 3x3 256", 256, 14, 14, 256, 3, 1, 1, 1},
  {"r50 l3 1x1 1024->256", 1024, 14, 14, 256, 1, 1, 0, 1},
  {"r50 l4 3x3 512", 512, 7, 7, 512, 3, 1, 1, 1},
  {"r50 l4 1x1 512->2048", 512, 7, 7, 2048, 1, 1, 0, 1},
  {"mv2 dw 3x3 144 56", 144, 56, 56, 144, 3, 1, 1, 144},
  {"mv2 dw 3x3/2 144 56", 144, 56, 56, 144, 3, 2, 1, 144},
  {"mv2 dw 3x3 960 7", 960, 7, 7, 960, 3, 1, 1, 960},
  {"vgg 3x3 64->128 112", 64, 112, 112, 128, 3, 1, 1, 1},
  {"vgg 3x3 256 56", 256, 56, 56, 256, 3, 1, 1, 1},
};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 20;
  netc_threads_set(argc > 2 ? atoi(argv[2]) : 1);
  if (reps < 1 || reps > 1000)
    reps = 20;
  uint32_t seed = 1;
  for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
    const Layer *l = &layers[li];
    netc_qconv2d_params q = {0};
    netc_conv2d_params *p = &q.p;
    p->n = 1;
    p->in_c = l->ic;
    p->in_h = l->h;
    p->in_w = l->w;
    p->out_c = l->oc;
    p->kernel_h = p->kernel_w = l->k;
    p->stride_h = p->stride_w = l->s;
    p->pad_top = p->pad_bottom = p->pad_left = p->pad_right = l->pad;
    p->dilation_h = p->dilation_w = 1;
    p->groups = l->groups;
    p->out_h = netc_conv2d_out_size(l->h, l->k, l->s, l->pad, l->pad, 1);
    p->out_w = netc_conv2d_out_size(l->w, l->k, l->s, l->pad, l->pad, 1);
    q.in_zp = 100;
    q.out_zp = 3;
    q.out_min = 3;
    q.out_max = 255;
    const int64_t K = l->ic / l->groups * l->k * l->k, K4 = (K + 3) / 4 * 4;
    const int64_t nx = l->ic * l->h * l->w, ny = l->oc * p->out_h * p->out_w;
    uint8_t *x = malloc((size_t)nx), *y = malloc((size_t)ny);
    int8_t *w = malloc((size_t)(l->oc * K4));
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)l->oc);
    netc_requant *rq = malloc(sizeof(netc_requant) * (size_t)l->oc);
    void *scratch = malloc((size_t)netc_qconv2d_scratch_bytes(&q) + 1);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!x || !y || !w || !bias || !rq || !scratch || !t)
      return 1;
    for (int64_t i = 0; i < nx; i++)
      x[i] = (uint8_t)((seed = seed * 1664525u + 1013904223u) >> 24);
    for (int64_t i = 0; i < l->oc * K4; i++)
      w[i] = (int8_t)(i % K4 < K ? (int)((seed = seed * 1664525u + 1013904223u) >> 24) - 128 : 0);
    for (int64_t c = 0; c < l->oc; c++) {
      bias[c] = -(int32_t)(c * 7);
      rq[c] = netc_requant_from_real(1e-4);
    }
    netc_qconv2d_u8(&q, x, w, bias, rq, y, scratch);  // warm-up
    for (int r = 0; r < reps; r++) {
      double t0 = now_ms();
      netc_qconv2d_u8(&q, x, w, bias, rq, y, scratch);
      t[r] = now_ms() - t0;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_d);
    const double macs = (double)l->oc * p->out_h * p->out_w * K;
    printf("%-24s %8.3f ms %7.1f GMAC/s\n", l->name, t[reps / 2], macs / (t[reps / 2] * 1e6));
    free(x);
    free(y);
    free(w);
    free(bias);
    free(rq);
    free(scratch);
    free(t);
  }
  return 0;
}
