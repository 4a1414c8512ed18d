// app.c -- a program outside the netc tree, built against an installed netc.
//
// tests/install/run.sh generates lenet.c / lenet.h with the installed netc and
// compiles this file with them using only `pkg-config --cflags --libs netcrt`
// (no -Iruntime, no build/ paths). It runs LeNet once with seeded random
// weights and a fixed input and prints the 10 outputs, one per line; it fails
// unless there are exactly 10 and all are finite.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lenet.h"
#include "netc_rt.h" // the installed runtime header, included directly too

int main(void) {
  static lenet_model m; // zeroed, as lenet_init_random requires
  if (lenet_init_random(&m, 2026) != 0) {
    fprintf(stderr, "app: lenet_init_random: %s\n", lenet_error(&m));
    return 1;
  }
  float *arena = malloc(sizeof(float) * (size_t)LENET_ARENA_FLOATS);
  float *x = malloc(sizeof(float) * LENET_INPUT_FLOATS);
  float y[LENET_OUTPUT_FLOATS];
  if (!arena || !x) {
    fprintf(stderr, "app: out of memory\n");
    return 1;
  }
  for (int i = 0; i < LENET_INPUT_FLOATS; i++)
    x[i] = (float)((i * 37 % 101) / 50.0 - 1.0); // a fixed pattern in [-1, 1]
  lenet_forward(&m, x, y, arena);

  int bad = LENET_OUTPUT_FLOATS != 10;
  for (int i = 0; i < LENET_OUTPUT_FLOATS; i++) {
    printf("%.9g\n", y[i]);
    bad |= !isfinite(y[i]);
  }
  if (bad)
    fprintf(stderr, "app: expected 10 finite outputs (got %d)\n", LENET_OUTPUT_FLOATS);
  fprintf(stderr, "app: runtime threads %d\n", (int)netc_threads_get());
  lenet_free(&m);
  free(arena);
  free(x);
  return bad;
}
