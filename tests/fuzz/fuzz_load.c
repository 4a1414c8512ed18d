// fuzz_load.c -- libFuzzer target: a generated model (the seed's LeNet,
// compiled by netc into build/fuzz/lenet.c) loads arbitrary bytes as weights
// and, when they are accepted, runs one forward pass. Loading must validate
// everything first: no out-of-bounds read, and a failed load leaves the
// previous model usable. (fuzz_forward.c runs any net the compiler accepts,
// from well-formed weight files.)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lenet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lenet_model m;
  static float arena[LENET_ARENA_FLOATS], input[LENET_INPUT_FLOATS], output[LENET_OUTPUT_FLOATS];
  static int ready;
  if (!ready) {
    if (lenet_init_random(&m, 1) != 0)
      abort();
    for (int i = 0; i < LENET_INPUT_FLOATS; i++)
      input[i] = (float)(i % 17) / 17.0f;
    ready = 1;
  }
  const float *before = m.weights;
  if (lenet_load_memory(&m, data, size) != 0) {
    if (m.weights != before || lenet_error(&m)[0] == '\0')
      abort();
  }
  lenet_forward(&m, input, output, arena);
  return 0;
}
