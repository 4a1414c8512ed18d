// runner.c -- the command-line runner of `netc --main`: options, input and
// output files, --bench timing. The generated main() hands it the model's
// sizes and two callbacks (load, forward).
//
// A file of its own so that a program without --main never links it: it is
// the one part of the runtime that needs POSIX (clock_gettime) and stdio
// streams, which targets without a file system may not have.
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L // clock_gettime
#endif

// A device build (-DNETC_NO_STDIO: no heap, no files, no printf) compiles
// this file to nothing: the command-line runner needs stdio and the heap. Generated code then has
// PREFIX_init_embedded for its weights.
#ifndef NETC_NO_STDIO

#include "netc_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// Exactly n floats from path, no more and no less.
static int read_exact(const netc_runner *r, const char *path, float *dst, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open %s\n", r->name, path);
    return -1;
  }
  size_t got = fread(dst, sizeof(float), n, f);
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != n || extra) {
    fprintf(stderr, "%s: %s: expected exactly %zu float32 values (%zu bytes)\n", r->name, path, n, n * 4);
    return -1;
  }
  return 0;
}

// --threads N that this build cannot give is said on stderr, never silently
// dropped: a runtime without OpenMP runs one thread, and threads beyond the
// processors available share them (netc_threads_set still asks for N).
static void check_threads(const char *argv0, int threads) {
#ifdef _OPENMP
  int procs = omp_get_num_procs(), limit = omp_get_thread_limit();
  if (limit < threads)
    fprintf(stderr, "%s: warning: --threads %d: OMP_THREAD_LIMIT caps the threads at %d\n", argv0,
            threads, limit);
  else if (threads > procs)
    fprintf(stderr, "%s: warning: --threads %d: only %d processors are available; the threads will share them\n",
            argv0, threads, procs);
#else
  if (threads > 1)
    fprintf(stderr,
            "%s: warning: --threads %d: this runtime was built without OpenMP, so the net runs on one thread "
            "(link libnetcrt-omp: pkg-config --cflags --libs netcrt-omp)\n",
            argv0, threads);
#endif
}

// A monotonic wall clock where POSIX has one; elsewhere (newlib on a
// microcontroller, which declares no CLOCK_MONOTONIC) the processor time of
// ISO C's clock(), which there is the same thing or, without a timer, -1
// (then --bench reports zeros rather than failing to build).
static double now_ms(void) {
#ifdef CLOCK_MONOTONIC
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
#else
  return (double)clock() * 1e3 / CLOCKS_PER_SEC;
#endif
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void usage(FILE *f, const netc_runner *r) {
  fprintf(f,
          "usage: %s [--weights W.safetensors] [--input IN.f32]... [--output OUT.f32]...\n"
          "       [--seed S] [--bench N] [--threads T]\n"
          "Runs net '%s' on raw little-endian float32 NCHW files. Without --weights the\n",
          r->name, r->net);
  if (r->embedded)
    fputs("weights are the ones compiled in; without --input the input is uniform in\n", f);
  else
    fprintf(f, "weights are %s_init_random(seed); without --input the input is uniform in\n", r->name);
  fputs("[-1, 1) from the same generator seeded with seed + 1.\n", f);
}

// Everything after the options: the buffers, one untimed call, the timed
// calls, the outputs. Returns main's exit status.
static int run(const netc_runner *r, const char *argv0, const char *const *inputs, int ninputs,
               const char *const *outputs, int noutputs, uint64_t seed, int bench, float **ins, float **outs) {
  float *arena = (float *)malloc(sizeof(float) * (size_t)r->arena_floats + 64);
  int oom = !arena;
  for (int32_t i = 0; i < r->ninputs; i++)
    oom |= !(ins[i] = (float *)malloc(sizeof(float) * (size_t)r->input_floats[i]));
  for (int32_t i = 0; i < r->noutputs; i++)
    oom |= !(outs[i] = (float *)malloc(sizeof(float) * (size_t)r->output_floats[i]));
  if (oom) {
    fprintf(stderr, "%s: out of memory\n", argv0);
    free(arena);
    return 1;
  }
  // One generator for all the inputs not read from files, in input order.
  uint64_t s = seed + 1;
  for (int32_t i = 0; i < r->ninputs; i++) {
    size_t n = (size_t)r->input_floats[i];
    if (ninputs > i) {
      if (read_exact(r, inputs[i], ins[i], n) != 0) {
        free(arena);
        return 1;
      }
    } else {
      for (size_t k = 0; k < n; k++)
        ins[i][k] = (float)(netc_splitmix64(&s) >> 40) * (2.0f / 16777216.0f) - 1.0f;
    }
  }
  const float *const *cins = (const float *const *)ins;
  r->forward(cins, outs, arena);
  if (bench > 0) {
    double *t = (double *)malloc(sizeof(double) * (size_t)bench);
    if (!t) {
      fprintf(stderr, "%s: out of memory for %d timings\n", argv0, bench);
      free(arena);
      return 1;
    }
    for (int k = 0; k < bench; k++) {
      double t0 = now_ms();
      r->forward(cins, outs, arena);
      t[k] = now_ms() - t0;
    }
    qsort(t, (size_t)bench, sizeof *t, cmp_double);
    printf("runs=%d threads=%d min_ms=%.4f\n", bench, (int)netc_threads_get(), t[0]);
    // The last line, which tests/bench/bench.py and tools/layer_profile.py read.
    printf("median_ms=%.4f\n", t[bench / 2]);
    free(t);
  }
  free(arena);
  for (int i = 0; i < noutputs; i++) {
    size_t n = (size_t)r->output_floats[i];
    FILE *f = fopen(outputs[i], "wb");
    int bad = !f || fwrite(outs[i], sizeof(float), n, f) != n;
    if (f && fclose(f) != 0)
      bad = 1;
    if (bad) {
      // No half-written file left behind that looks like a result.
      remove(outputs[i]);
      fprintf(stderr, "%s: cannot write %s\n", argv0, outputs[i]);
      return 1;
    }
  }
  return 0;
}

int netc_model_main(int argc, char **argv, const netc_runner *r) {
  // One allocation for the option values and the buffers' pointers.
  size_t slots = (size_t)(r->ninputs + r->noutputs);
  void **mem = (void **)calloc(2 * slots + 1, sizeof(void *));
  if (!mem) {
    fprintf(stderr, "%s: out of memory\n", argv[0]);
    return 1;
  }
  const char **inputs = (const char **)(void *)mem, **outputs = inputs + r->ninputs;
  float **ins = (float **)(void *)(mem + slots), **outs = ins + r->ninputs;
  const char *weights = NULL;
  int ninputs = 0, noutputs = 0, bench = 0, threads = 0, rc = 0;
  unsigned long long seed = 1;
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout, r);
      free(mem);
      return 0;
    }
    if (!v) {
      fprintf(stderr, "%s: option %s needs a value\n", argv[0], a);
      usage(stderr, r);
      rc = 2;
      break;
    }
    char *end = NULL;
    i++;
    if (strcmp(a, "--weights") == 0) {
      weights = v;
    } else if (strcmp(a, "--input") == 0 && ninputs < r->ninputs) {
      inputs[ninputs++] = v;
    } else if (strcmp(a, "--output") == 0 && noutputs < r->noutputs) {
      outputs[noutputs++] = v;
    } else if (strcmp(a, "--seed") == 0) {
      seed = strtoull(v, &end, 10);
    } else if (strcmp(a, "--bench") == 0 || strcmp(a, "--threads") == 0) {
      long n = strtol(v, &end, 10);
      if (!*end && end != v && (n < 0 || n > 1000000000L)) {  // a count: not negative, not wrapped
        fprintf(stderr, "%s: %s expects a count from 0 to 1000000000, got '%s'\n", argv[0], a, v);
        rc = 2;
      }
      *(a[2] == 'b' ? &bench : &threads) = (int)n;
    } else {
      fprintf(stderr, "%s: unknown or repeated option %s\n", argv[0], a);
      usage(stderr, r);
      rc = 2;
      break;
    }
    if (end && (*end || end == v)) {
      fprintf(stderr, "%s: %s expects a number, got '%s'\n", argv[0], a, v);
      rc = 2;
    }
  }
  if (rc == 0) {
    if (threads > 0) {
      netc_threads_set(threads);
      check_threads(argv[0], threads);
    }
    const char *msg = r->load(weights, (uint64_t)seed);
    if (msg) {
      fprintf(stderr, "%s: %s\n", argv[0], msg);
      rc = 1;
    } else {
      rc = run(r, argv[0], inputs, ninputs, outputs, noutputs, (uint64_t)seed, bench, ins, outs);
    }
  }
  for (size_t i = 0; i < slots; i++)
    free(ins[i]);
  free(mem);
  return rc;
}

#else
typedef int netc_runner_absent; // ISO C wants something in a translation unit
#endif /* NETC_NO_STDIO */
