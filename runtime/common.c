// common.c -- what every kernel family shares: activation names, the
// thread count, error messages.

#include "netc_internal.h"

#include <stdio.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static const char *const act_names[] = {
  "none",        // NETC_ACT_NONE
  "relu",        // NETC_ACT_RELU
  "relu6",       // NETC_ACT_RELU6
  "leaky_relu",  // NETC_ACT_LEAKY_RELU
  "sigmoid",     // NETC_ACT_SIGMOID
  "tanh",        // NETC_ACT_TANH
  "gelu",        // NETC_ACT_GELU
  "gelu_tanh",   // NETC_ACT_GELU_TANH
};
NETC_STATIC_ASSERT(sizeof act_names / sizeof act_names[0] == NETC_ACT_COUNT, act_names_complete);

const char *netc_act_name(netc_act act) {
  if ((int)act < 0 || act >= NETC_ACT_COUNT)
    return "?";
  return act_names[act];
}

void netc_threads_set(int32_t n) {
#ifdef _OPENMP
  omp_set_num_threads(n > 0 ? (int)n : omp_get_num_procs());
#else
  (void)n;
#endif
}

int32_t netc_threads_get(void) {
#ifdef _OPENMP
  return (int32_t)omp_get_max_threads();
#else
  return 1;
#endif
}

int32_t netc_errorf(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}
