// testutil.h -- helpers shared by the runtime's Check suites.

#ifndef NETC_TESTUTIL_H
#define NETC_TESTUTIL_H

#include <check.h>
#include <stdint.h>

#include "netc_rt.h"

// The suites, one per runtime module; check_runtime.c runs them.
Suite *make_gemm_suite(void);
Suite *make_conv_suite(void);
Suite *make_pool_suite(void);
Suite *make_elementwise_suite(void);
Suite *make_norm_suite(void);
Suite *make_safetensors_suite(void);
Suite *make_winograd_suite(void);
Suite *make_model_suite(void);
Suite *make_tensor_suite(void);
Suite *make_int8_suite(void);

// A float buffer of n elements between two guard zones of sentinel values,
// so a kernel writing out of bounds fails tu_free's check even without
// AddressSanitizer. misalign shifts the start by that many floats (to test
// that kernels take unaligned scratch and data).
float *tu_alloc(int64_t n, int misalign);
// Checks the guards (ck_assert) and frees. NULL is fine.
void tu_free(float *p);
// Deterministic uniform values in [-1, 1) from seed.
void tu_fill(float *x, int64_t n, uint32_t seed);
// A buffer of n values filled from seed.
float *tu_random(int64_t n, uint32_t seed);

// Fails the test unless max |got - want| <= tol * max(max |want|, 1), naming
// the worst element and both values. what: a label printed on failure.
void tu_assert_close(const char *what, const float *got, const float *want, int64_t n, double tol);

// ck_assert that err contains needle, printing err on failure.
void tu_assert_contains(const char *err, const char *needle);

#endif
