// check_runtime.c -- runs the runtime's Check suites.
//
//   build/check_runtime              all suites
//   build/check_runtime conv pool    only the named suites
//   CK_RUN_SUITE=gemm CK_RUN_CASE=fast build/check_runtime
//   CK_FORK=no gdb build/check_runtime
//
// Check's summary line ("100%: Checks: N, Failures: 0, Errors: 0") is the
// last line of the output; the exit status is non-zero on any failure.

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Suite *(*SuiteFn)(void);

static const struct {
  const char *name;
  SuiteFn make;
} suites[] = {
  {"gemm", make_gemm_suite},
  {"conv", make_conv_suite},
  {"pool", make_pool_suite},
  {"elementwise", make_elementwise_suite},
  {"norm", make_norm_suite},
  {"safetensors", make_safetensors_suite},
  {"winograd", make_winograd_suite},
  {"model", make_model_suite},
  {"tensor", make_tensor_suite},
  {"int8", make_int8_suite},
};
#define NSUITES (int)(sizeof suites / sizeof suites[0])

static int wanted(const char *name, int argc, char **argv) {
  if (argc < 2)
    return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return 1;
  return 0;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    int known = 0;
    for (int k = 0; k < NSUITES; k++)
      known |= strcmp(argv[i], suites[k].name) == 0;
    if (!known) {
      fprintf(stderr, "check_runtime: no suite named '%s' (suites:", argv[i]);
      for (int k = 0; k < NSUITES; k++)
        fprintf(stderr, " %s", suites[k].name);
      fprintf(stderr, ")\n");
      return 2;
    }
  }
  SRunner *sr = NULL;
  for (int k = 0; k < NSUITES; k++) {
    if (!wanted(suites[k].name, argc, argv))
      continue;
    if (!sr)
      sr = srunner_create(suites[k].make());
    else
      srunner_add_suite(sr, suites[k].make());
  }
  printf("netc runtime tests (kernels: %s, threads: %d)\n",
#if defined(__AVX512F__)
         "avx512",
#elif defined(__AVX2__) && defined(__FMA__)
         "avx2",
#elif defined(__ARM_NEON) && defined(__aarch64__)
         "neon",
#else
         "scalar",
#endif
         (int)netc_threads_get());
  fflush(stdout);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
