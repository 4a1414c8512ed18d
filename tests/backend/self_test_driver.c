/* self_test_driver.c -- calls a generated model's PREFIX_self_test as a device would (tests/backend/self_test.sh).
 *
 *   cc -DMODEL_H='"lenet.h"' -DPREFIX=lenet -DUPREFIX=LENET self_test_driver.c lenet.c lenet_weights.c ...
 *   ./driver                      init_embedded, then the self-test
 *   ./driver --load W.safetensors PREFIX_load (packed weights), then the self-test
 *   ./driver --corrupt K          embedded weights with float K of the blob off by 1 (a copy in RAM; a
 *                                 random weight here is at most 1 / sqrt(fan_in) in magnitude)
 *
 * Prints the error and the tolerance; exit status 0 if the self-test passes, 1 if it fails, 2 on a usage or
 * loading error. */
#include MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define API(name) CAT(PREFIX, name)
#define MACRO(name) CAT(UPREFIX, name)

static float arena[MACRO(_ARENA_FLOATS)];
static API(_model) m;

int main(int argc, char **argv) {
  float *copy = NULL;
  if (argc == 3 && strcmp(argv[1], "--load") == 0) {
    if (API(_load)(&m, argv[2]) != 0) {
      fprintf(stderr, "driver: %s\n", API(_error)(&m));
      return 2;
    }
  } else if (argc == 3 && strcmp(argv[1], "--corrupt") == 0) {
    long k = strtol(argv[2], NULL, 10);
    API(_init_embedded)(&m);
    if (k < 0 || k >= MACRO(_WEIGHT_FLOATS) || !(copy = malloc(sizeof(float) * MACRO(_WEIGHT_FLOATS))))
      return 2;
    memcpy(copy, m.weights, sizeof(float) * MACRO(_WEIGHT_FLOATS));
    copy[k] += 1.0f;
    m.weights = copy;
  } else if (argc == 1) {
    API(_init_embedded)(&m);
  } else {
    fprintf(stderr, "usage: driver [--load W.safetensors | --corrupt K]\n");
    return 2;
  }
  {
    float e = API(_self_test)(&m, arena);
    int pass = e <= MACRO(_SELF_TEST_TOLERANCE);
    printf("self-test error %g, tolerance %g: %s\n", (double)e, (double)MACRO(_SELF_TEST_TOLERANCE),
           pass ? "pass" : "FAIL");
    if (copy)
      m.weights = NULL; /* not the model's to free */
    API(_free)(&m);
    free(copy);
    return pass ? 0 : 1;
  }
}
