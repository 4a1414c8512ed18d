// gemm_bench.c -- times one square single-precision GEMM, C = A B (row-major),
// for tests/bench/bench.py (a benchmark, not a test).
//
//   gemm_bench SIZE REPS THREADS
//
// Built twice from this file:
//   - against the netc runtime (netc_gemm_f32), without or with -fopenmp;
//   - with -DUSE_OPENBLAS against Debian's OpenBLAS (libopenblas-dev,
//     cblas_sgemm), linked with -lopenblas.
// Prints, one "key=value" per line:
//   impl=netc|openblas  threads=T  [core=<openblas_get_corename()>  config=...]
//   median_ms=<ms>  gflops=<2 n^3 / median>
// after two untimed warm-up calls. Operands are filled with small
// deterministic values; eight elements of the result are checked against a
// dot product in double (exit 1 if wrong).

#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef USE_OPENBLAS
// Declared here rather than taken from <cblas.h>: Debian's cblas.h is an
// alternative that may be netlib's, which lacks the openblas_* functions.
enum { ROW_MAJOR = 101, NO_TRANS = 111 };
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
#else
#include "netc_rt.h"
#endif

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void *xalloc(size_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
    fprintf(stderr, "gemm_bench: out of memory (%zu bytes)\n", bytes);
    exit(1);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s SIZE REPS THREADS\n", argv[0]);
    return 2;
  }
  const int64_t n = atoll(argv[1]);
  const int reps = atoi(argv[2]);
  const int threads = atoi(argv[3]);
  if (n <= 0 || reps <= 0 || threads <= 0) {
    fprintf(stderr, "gemm_bench: SIZE, REPS and THREADS must be positive\n");
    return 2;
  }
  float *a = xalloc(sizeof(float) * (size_t)(n * n));
  float *b = xalloc(sizeof(float) * (size_t)(n * n));
  float *c = xalloc(sizeof(float) * (size_t)(n * n));
  for (int64_t i = 0; i < n * n; i++) {
    a[i] = (float)((i * 7 + 3) % 17 - 8) / 16.0f;
    b[i] = (float)((i * 5 + 1) % 13 - 6) / 16.0f;
    c[i] = 0.0f;
  }

#ifdef USE_OPENBLAS
  openblas_set_num_threads(threads);
  printf("impl=openblas\nthreads=%d\ncore=%s\nconfig=%s\n", openblas_get_num_threads(),
         openblas_get_corename(), openblas_get_config());
#define RUN() \
  cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, (int)n, (int)n, (int)n, 1.0f, a, (int)n, b, (int)n, \
              0.0f, c, (int)n)
#else
  netc_threads_set(threads);
  float *scratch = xalloc(sizeof(float) * (size_t)netc_gemm_scratch_floats(n, n, n));
  printf("impl=netc\nthreads=%d\n", (int)netc_threads_get());
#define RUN() \
  netc_gemm_f32(NETC_NO_TRANS, NETC_NO_TRANS, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n, scratch)
#endif

  RUN();
  RUN();
  double *t = malloc(sizeof(double) * (size_t)reps);
  if (!t)
    return 1;
  for (int r = 0; r < reps; r++) {
    double t0 = now_ms();
    RUN();
    t[r] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  double med = t[reps / 2];
  // A fast wrong answer is no result: spot-check a few elements in double.
  for (int s = 0; s < 8; s++) {
    int64_t i = (s * 977 + 13) % n, j = (s * 1291 + 7) % n;
    double ref = 0.0, mag = 0.0;
    for (int64_t p = 0; p < n; p++) {
      ref += (double)a[i * n + p] * b[p * n + j];
      mag += fabs((double)a[i * n + p] * b[p * n + j]);
    }
    if (fabs(c[i * n + j] - ref) > 1e-5 * mag + 1e-6) {
      fprintf(stderr, "gemm_bench: wrong result at (%lld, %lld): %g, expected %g\n", (long long)i,
              (long long)j, c[i * n + j], ref);
      return 1;
    }
  }
  printf("min_ms=%.3f\nmedian_ms=%.3f\ngflops=%.2f\n", t[0], med, 2.0 * (double)n * n * n / (med * 1e6));
  free(t);
  free(a);
  free(b);
  free(c);
  return 0;
}
