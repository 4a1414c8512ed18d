// common.c -- what every kernel family shares: activation names, the
// thread count, the parallel loop, error messages.

#if defined(_OPENMP) && !defined(_POSIX_C_SOURCE) && (defined(__unix__) || defined(__APPLE__))
#define _POSIX_C_SOURCE 200809L  // nanosleep
#endif

#include "netc_internal.h"

#ifndef NETC_NO_STDIO
#include <stdio.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
#define NETC_HAVE_NANOSLEEP 1
#endif
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
  "silu",        // NETC_ACT_SILU
  "hardswish",   // NETC_ACT_HARDSWISH
  "hardsigmoid", // NETC_ACT_HARDSIGMOID
  "mish",        // NETC_ACT_MISH
  "elu",         // NETC_ACT_ELU
};
NETC_STATIC_ASSERT(sizeof act_names / sizeof act_names[0] == NETC_ACT_COUNT, act_names_complete);

const char *netc_act_name(netc_act act) {
  if ((unsigned)act >= (unsigned)NETC_ACT_COUNT)
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

//
// netc_parallel
//
// One OpenMP parallel region per call. Chunks are handed out from a shared
// counter rather than by a fixed schedule: on a busy machine a thread can
// be descheduled for milliseconds, and with a static schedule the others
// would wait for its share; here they take it over. A thread that runs out
// of chunks must still wait for the others before the region can end;
// rather than spinning in libgomp's barrier for up to a few milliseconds
// (holding a processor that a late thread, or another process, needs), it
// spins briefly, then sleeps in short naps. So a region costs about the
// work divided among the threads that actually run, and a thread that never
// got a processor costs one nap. The counters live on the caller's stack.

#ifdef _OPENMP
static void relax(void) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  __builtin_ia32_pause();
#endif
}

static void nap(void) {
#ifdef NETC_HAVE_NANOSLEEP
  struct timespec ts = {0, 20000};  // 20 us
  nanosleep(&ts, NULL);
#endif
}
#endif

void netc_parallel(int64_t nchunks, int64_t threads, netc_chunk_fn fn, void *ctx) {
  if (nchunks <= 0)
    return;
  if (threads <= 0)
    threads = netc_threads_get();
  threads = NETC_MIN(threads, nchunks);
#ifdef _OPENMP
  if (threads > 1 && !omp_in_parallel()) {
    int64_t next = 0, done = 0;
    NETC_OMP(parallel num_threads((int)threads))
    {
      const int64_t team = omp_get_num_threads();
      for (;;) {
        int64_t c;
        NETC_OMP(atomic capture)
        c = next++;
        if (c >= nchunks)
          break;
        fn(ctx, c);
      }
      NETC_OMP(atomic update)
      done++;
      for (int64_t spin = 0;; spin++) {
        int64_t d;
        NETC_OMP(atomic read)
        d = done;
        if (d >= team)
          break;
        if (spin < 4096)
          relax();
        else
          nap();
      }
    }
    return;
  }
#endif
  (void)threads;
  for (int64_t c = 0; c < nchunks; c++)
    fn(ctx, c);
}

#ifndef NETC_NO_STDIO
int32_t netc_errorf(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}
#else
// NETC_NO_STDIO (a device build): the kernels' messages use %d, %lld and %s
// only, and formatting them here keeps vsnprintf, and the printf machinery
// and heap that newlib's brings along, out of the program. Anything else is
// copied as written. Truncates like vsnprintf; err is always terminated.
static void put_char(char *err, size_t errlen, size_t *at, char c) {
  if (*at + 1 < errlen)
    err[(*at)++] = c;
}

static void put_int(char *err, size_t errlen, size_t *at, long long v) {
  char digits[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do {
    digits[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (v < 0)
    put_char(err, errlen, at, '-');
  while (n)
    put_char(err, errlen, at, digits[--n]);
}

int32_t netc_errorf(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  size_t at = 0;
  for (const char *f = fmt; *f; f++) {
    if (f[0] == '%' && f[1] == 'd') {
      put_int(err, errlen, &at, va_arg(ap, int));
      f++;
    } else if (f[0] == '%' && f[1] == 'l' && f[2] == 'l' && f[3] == 'd') {
      put_int(err, errlen, &at, va_arg(ap, long long));
      f += 3;
    } else if (f[0] == '%' && f[1] == 's') {
      for (const char *a = va_arg(ap, const char *); *a; a++)
        put_char(err, errlen, &at, *a);
      f++;
    } else if (f[0] == '%' && f[1] == '%') {
      put_char(err, errlen, &at, '%');
      f++;
    } else {
      put_char(err, errlen, &at, *f);
    }
  }
  va_end(ap);
  err[at] = '\0';
  return -1;
}
#endif

// In common.c, not model.c: a device build (NETC_NO_STDIO) has no model.c,
// and the generated PREFIX_self_test draws its input with this generator.
uint64_t netc_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
