// testutil.c -- see testutil.h.

#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 32                 // floats on each side
#define SENTINEL 0x7fbadbadu     // a NaN no kernel computes

typedef struct {
  int64_t n;
  int misalign;
} Header;

// Layout: [misalign floats][Header, 64 bytes][GUARD][n floats][GUARD]
float *tu_alloc(int64_t n, int misalign) {
  size_t floats = (size_t)(misalign + 2 * GUARD) + (size_t)(n > 0 ? n : 0);
  char *raw = malloc(64 + floats * sizeof(float));
  ck_assert_ptr_nonnull(raw);
  Header h = {n, misalign};
  char *hdr = raw + (size_t)misalign * sizeof(float);
  memcpy(hdr, &h, sizeof h);
  float *base = (float *)(void *)(hdr + 64);
  uint32_t s = SENTINEL;
  for (int i = 0; i < GUARD; i++) {
    memcpy(base + i, &s, 4);
    memcpy(base + GUARD + n + i, &s, 4);
  }
  return base + GUARD;
}

void tu_free(float *p) {
  if (!p)
    return;
  float *base = p - GUARD;
  char *hdr = (char *)(void *)base - 64;
  Header h;
  memcpy(&h, hdr, sizeof h);
  for (int i = 0; i < GUARD; i++) {
    uint32_t a, b;
    memcpy(&a, base + i, 4);
    memcpy(&b, base + GUARD + h.n + i, 4);
    ck_assert_msg(a == SENTINEL, "buffer underrun: guard word %d before the start was overwritten", GUARD - i);
    ck_assert_msg(b == SENTINEL, "buffer overrun: guard word %d past the end (n = %lld) was overwritten", i,
                  (long long)h.n);
  }
  free(hdr - (size_t)h.misalign * sizeof(float));
}

void tu_fill(float *x, int64_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 12345u;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((double)(s >> 8) / (double)(1u << 23) - 1.0);
  }
}

float *tu_random(int64_t n, uint32_t seed) {
  float *x = tu_alloc(n, 0);
  tu_fill(x, n, seed);
  return x;
}

void tu_assert_close(const char *what, const float *got, const float *want, int64_t n, double tol) {
  double scale = 1.0, worst = -1.0;
  int64_t at = -1;
  for (int64_t i = 0; i < n; i++)
    if (fabs(want[i]) > scale)
      scale = fabs(want[i]);
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    if (isnan(got[i]) != isnan(want[i]))
      d = INFINITY;
    else if (isnan(got[i]))
      d = 0.0;
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (n > 0)
    ck_assert_msg(worst <= tol * scale,
                  "%s: worst element %lld of %lld: got %.9g, want %.9g (|diff| %.3g > %.3g)", what,
                  (long long)at, (long long)n, (double)got[at], (double)want[at], worst, tol * scale);
}

void tu_assert_contains(const char *err, const char *needle) {
  ck_assert_msg(strstr(err, needle) != NULL, "message \"%s\" does not contain \"%s\"", err, needle);
}
