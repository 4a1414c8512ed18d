// app.c -- the smallest complete program around a net compiled by netc:
// load the weights, read one input, run the net, print the best class.
#include <stdio.h>

#include "lenet.h"

static float arena[LENET_ARENA_FLOATS], x[LENET_INPUT_FLOATS], y[LENET_OUTPUT_FLOATS];

int main(int argc, char **argv) {
  static lenet_model m; // starts zeroed, as lenet_load requires
  if (argc != 3) {
    fprintf(stderr, "usage: %s WEIGHTS.safetensors INPUT.f32\n", argv[0]);
    return 2;
  }
  if (lenet_load(&m, argv[1]) != 0) {
    fprintf(stderr, "%s: %s\n", argv[0], lenet_error(&m)); // names the file and what is wrong
    return 1;
  }
  FILE *f = fopen(argv[2], "rb");
  size_t n = f ? fread(x, sizeof x[0], LENET_INPUT_FLOATS, f) : 0;
  if (f)
    fclose(f);
  if (n != LENET_INPUT_FLOATS) {
    fprintf(stderr, "%s: %s: expected %d float32 values\n", argv[0], argv[2], (int)LENET_INPUT_FLOATS);
    lenet_free(&m);
    return 1;
  }
  lenet_forward(&m, x, y, arena); // no allocation, no I/O
  int best = 0;
  for (int i = 1; i < LENET_OUTPUT_FLOATS; i++)
    if (y[i] > y[best])
      best = i;
  printf("class %d (score %g)\n", best, y[best]);
  lenet_free(&m);
  return 0;
}
