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

#include <math.h>
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
          "       [--seed S] [--bench N] [--threads T]\n",
          r->name);
  if (r->forward_calibrate)
    fprintf(f,
            "       %s [--weights W.safetensors] --calibrate CALIB.f32 --ranges OUT.json\n"
            "       [--method minmax|percentile[=P]]\n",
            r->name);
  fprintf(f, "Runs net '%s' on raw little-endian float32 NCHW files. Without --weights the\n", r->net);
  if (r->embedded)
    fputs("weights are the ones compiled in; without --input the input is uniform in\n", f);
  else
    fprintf(f, "weights are %s_init_random(seed); without --input the input is uniform in\n", r->name);
  fputs("[-1, 1) from the same generator seeded with seed + 1.\n", f);
  if (r->forward_calibrate)
    fputs("--calibrate runs the net unfused on every sample of CALIB.f32 (the inputs back to\n"
          "back, raw float32) and writes each layer's range to OUT.json (see netc_rt.h).\n", f);
}

// ---- --calibrate -------------------------------------------------------------
//
// Every layer's range over a file of samples, for netc --quantize. The
// generated forward_calibrate runs the net before fusion and calls the
// observer below once per layer with that layer's values (netc_rt.h).
//
//   minmax:        the smallest and largest value seen, over all samples;
//   percentile=P:  a first pass as minmax, then a second over the same file
//     filling per layer CALIB_BINS equal bins over [min, max] (a value v in
//     bin floor((v - min) / width), the maximum in the last bin). Of the
//     layer's C values in all, the q-th percentile (q = 100 - P for the low
//     end, P for the high one) is the value of rank t = q * C / 100, read
//     off the cumulative histogram linearly within its bin: min + width *
//     (b + (t - before) / count_b) for the first bin b whose cumulative
//     count reaches t (t = 0: min; t = C: max). The exact value of that rank
//     is the ceil(t)-th smallest (numpy's quantile method 'inverted_cdf'),
//     which lies in bin b too: the result is within one bin width of it.
//     The two ends are put in order (they cross for P < 50), then the range
//     is widened to include 0 (lo = min(lo, 0), hi = max(hi, 0)): a
//     quantized tensor represents 0 exactly, so an all-positive layer keeps
//     0 as its low end.
// A NaN or an infinity in any layer (an input included) is an error naming
// the layer and the sample: ranges from such a run would be meaningless.

#define CALIB_BINS 2048

typedef struct calib_state {
  const netc_runner *r;
  int pass;                 // 1: min / max; 2: histograms
  int64_t sample;           // 0-based, in the file
  float *mn, *mx;           // [nlayers]
  int64_t *count;           // [nlayers] values per sample (-1: not seen yet)
  uint64_t *hist;           // [nlayers][CALIB_BINS] in pass 2, else NULL
  int32_t seen;             // observer calls this sample
  int32_t bad_layer;        // the first layer with a non-finite value (-1: none)
  int64_t bad_sample;
  int order_broken;         // a layer out of order or repeated: a runner bug
} calib_state;

static void calib_observe(void *ctx, int32_t layer, const float *x, int64_t count) {
  calib_state *c = (calib_state *)ctx;
  if (layer != c->seen || layer >= c->r->nlayers || (c->count[layer] >= 0 && c->count[layer] != count)) {
    c->order_broken = 1;
    return;
  }
  c->seen++;
  c->count[layer] = count;
  if (c->pass == 1) {
    float lo = c->mn[layer], hi = c->mx[layer];
    for (int64_t i = 0; i < count; i++) {
      float v = x[i];
      if (!isfinite(v)) {
        if (c->bad_layer < 0) {
          c->bad_layer = layer;
          c->bad_sample = c->sample;
        }
        return;
      }
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    c->mn[layer] = lo;
    c->mx[layer] = hi;
    return;
  }
  // Pass 2: the values lie in [mn, mx] of pass 1 (same file, same weights,
  // same code: the same numbers); clamping the bin guards the last one.
  uint64_t *h = c->hist + (size_t)layer * CALIB_BINS;
  double lo = c->mn[layer], width = ((double)c->mx[layer] - lo) / CALIB_BINS;
  for (int64_t i = 0; i < count; i++) {
    double b = width > 0 ? ((double)x[i] - lo) / width : 0;
    int64_t k = b <= 0 ? 0 : b >= CALIB_BINS - 1 ? CALIB_BINS - 1 : (int64_t)b;
    h[k]++;
  }
}

// The value at rank t (0 <= t <= total) of a layer's histogram (see above).
static double calib_quantile(const uint64_t *h, uint64_t total, double t, double lo, double hi) {
  double width = (hi - lo) / CALIB_BINS, before = 0;
  if (t <= 0)
    return lo;
  if (t >= (double)total)
    return hi;
  for (int b = 0; b < CALIB_BINS; b++) {
    double n = (double)h[b];
    if (n > 0 && before + n >= t) {
      double v = lo + width * (b + (t - before) / n);
      return v < lo ? lo : v > hi ? hi : v;
    }
    before += n;
  }
  return hi;
}

// A JSON string for s: names are identifiers and dots, but escape anyway.
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

// Reads sample k's inputs (the file is positioned there). 0 or -1.
static int calib_read(FILE *f, const netc_runner *r, float **ins) {
  for (int32_t i = 0; i < r->ninputs; i++)
    if (fread(ins[i], sizeof(float), (size_t)r->input_floats[i], f) != (size_t)r->input_floats[i])
      return -1;
  return 0;
}

// One pass over the file's samples; 0, or 1 with the message printed.
static int calib_pass(calib_state *c, FILE *f, const char *argv0, const char *path, int64_t samples, float **ins,
                      float **outs, float *arena) {
  const netc_runner *r = c->r;
  if (fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "%s: %s: cannot seek back to the first sample\n", argv0, path);
    return 1;
  }
  for (c->sample = 0; c->sample < samples; c->sample++) {
    if (calib_read(f, r, ins) != 0) {
      fprintf(stderr, "%s: %s: cannot read sample %lld\n", argv0, path, (long long)c->sample);
      return 1;
    }
    c->seen = 0;
    r->forward_calibrate((const float *const *)ins, outs, arena, calib_observe, c);
    if (c->order_broken || c->seen != r->nlayers) {
      fprintf(stderr, "%s: internal error: the calibration forward reported %d of %d layers, or out of order\n",
              argv0, (int)c->seen, (int)r->nlayers);
      return 1;
    }
    if (c->bad_layer >= 0) {
      fprintf(stderr, "%s: %s: layer %d '%s' (%s) has a NaN or an infinity in sample %lld (counting from 0): "
              "no range can be recorded\n", argv0, path, (int)c->bad_layer, r->layer_names[c->bad_layer],
              r->layer_ops[c->bad_layer], (long long)c->bad_sample);
      return 1;
    }
  }
  return 0;
}

static int calib_write(const calib_state *c, const char *argv0, const char *out, double percentile,
                       int64_t samples) {
  const netc_runner *r = c->r;
  size_t n = strlen(out);
  char *tmp = (char *)malloc(n + 16);
  if (!tmp) {
    fprintf(stderr, "%s: out of memory\n", argv0);
    return 1;
  }
  // A temporary name beside the result, renamed into place once complete:
  // no half-written ranges file is ever left under the name asked for.
  memcpy(tmp, out, n);
  memcpy(tmp + n, ".tmp", 5);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write %s\n", argv0, tmp);
    free(tmp);
    return 1;
  }
  fprintf(f, "{\n  \"netc_ranges\": 1,\n  \"net\": ");
  json_str(f, r->net);
  fprintf(f, ",\n  \"fingerprint\": ");
  json_str(f, r->fingerprint);
  fprintf(f, ",\n  \"method\": \"%s\",\n", c->hist ? "percentile" : "minmax");
  if (c->hist)
    fprintf(f, "  \"percentile\": %.9g,\n", percentile);
  fprintf(f, "  \"samples\": %lld,\n  \"layers\": [\n", (long long)samples);
  for (int32_t l = 0; l < r->nlayers; l++) {
    double lo = c->mn[l], hi = c->mx[l];
    if (c->hist) {
      const uint64_t *h = c->hist + (size_t)l * CALIB_BINS;
      uint64_t total = (uint64_t)c->count[l] * (uint64_t)samples;
      double a = calib_quantile(h, total, (100.0 - percentile) / 100.0 * (double)total, lo, hi);
      double b = calib_quantile(h, total, percentile / 100.0 * (double)total, lo, hi);
      if (a > b) { // P < 50: the two ranks cross; the range is still [smaller, larger]
        double t = a;
        a = b;
        b = t;
      }
      lo = a < 0 ? a : 0;
      hi = b > 0 ? b : 0;
    }
    fprintf(f, "    {\"index\": %d, \"name\": ", (int)l);
    json_str(f, r->layer_names[l]);
    fprintf(f, ", \"op\": ");
    json_str(f, r->layer_ops[l]);
    fprintf(f, ", \"min\": %.9g, \"max\": %.9g}%s\n", (double)(float)lo, (double)(float)hi,
            l + 1 < r->nlayers ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  int bad = ferror(f) != 0;
  if (fclose(f) != 0)
    bad = 1;
  if (bad || rename(tmp, out) != 0) {
    remove(tmp);
    fprintf(stderr, "%s: cannot write %s\n", argv0, out);
    free(tmp);
    return 1;
  }
  free(tmp);
  return 0;
}

// --calibrate: main's exit status.
static int calibrate(const netc_runner *r, const char *argv0, const char *path, const char *out, double percentile,
                     float **ins, float **outs) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open %s\n", argv0, path);
    return 1;
  }
  int64_t sample_bytes = 0;
  for (int32_t i = 0; i < r->ninputs; i++)
    sample_bytes += r->input_floats[i] * (int64_t)sizeof(float);
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size < 0) {
    fprintf(stderr, "%s: %s: cannot tell its size\n", argv0, path);
    fclose(f);
    return 1;
  }
  if (size == 0 || size % sample_bytes != 0) {
    fprintf(stderr, "%s: %s: %ld bytes is not a whole, nonzero number of samples of %lld bytes (the net's inputs, "
            "float32, back to back)\n", argv0, path, size, (long long)sample_bytes);
    fclose(f);
    return 1;
  }
  int64_t samples = size / sample_bytes;
  size_t nl = (size_t)r->nlayers;
  calib_state c;
  memset(&c, 0, sizeof c);
  c.r = r;
  c.bad_layer = -1;
  c.mn = (float *)malloc(nl * sizeof(float));
  c.mx = (float *)malloc(nl * sizeof(float));
  c.count = (int64_t *)malloc(nl * sizeof(int64_t));
  if (percentile > 0)
    c.hist = (uint64_t *)calloc(nl * CALIB_BINS, sizeof(uint64_t));
  // The runner callocs the arena: regions the net never writes read as 0.
  float *arena = (float *)calloc((size_t)r->calib_arena_floats + 16, sizeof(float));
  int oom = !arena || !c.mn || !c.mx || !c.count || (percentile > 0 && !c.hist);
  for (int32_t i = 0; i < r->ninputs; i++)
    oom |= !(ins[i] = (float *)malloc(sizeof(float) * (size_t)r->input_floats[i]));
  for (int32_t i = 0; i < r->noutputs; i++)
    oom |= !(outs[i] = (float *)malloc(sizeof(float) * (size_t)r->output_floats[i]));
  int rc = 0;
  if (oom) {
    fprintf(stderr, "%s: out of memory\n", argv0);
    rc = 1;
  } else {
    for (size_t l = 0; l < nl; l++) {
      c.mn[l] = HUGE_VALF;
      c.mx[l] = -HUGE_VALF;
      c.count[l] = -1;
    }
    c.pass = 1;
    rc = calib_pass(&c, f, argv0, path, samples, ins, outs, arena);
    if (rc == 0 && c.hist) {
      c.pass = 2;
      rc = calib_pass(&c, f, argv0, path, samples, ins, outs, arena);
    }
    if (rc == 0)
      rc = calib_write(&c, argv0, out, percentile, samples);
    if (rc == 0)
      printf("calibrated %lld samples, %d layers -> %s\n", (long long)samples, (int)r->nlayers, out);
  }
  fclose(f);
  free(arena);
  free(c.mn);
  free(c.mx);
  free(c.count);
  free(c.hist);
  return rc;
}

// --method minmax (0) or percentile[=P] (P, default 99.99); -1 if malformed.
static double parse_method(const char *v) {
  if (strcmp(v, "minmax") == 0)
    return 0;
  if (strcmp(v, "percentile") == 0)
    return 99.99;
  if (strncmp(v, "percentile=", 11) != 0)
    return -1;
  char *end = NULL;
  double p = strtod(v + 11, &end);
  return end != v + 11 && !*end && p > 0 && p <= 100 ? p : -1;
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
  const char *weights = NULL, *calib = NULL, *ranges = NULL, *method = NULL;
  double percentile = 0;
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
    } else if (strcmp(a, "--calibrate") == 0 && !calib) {
      calib = v;
    } else if (strcmp(a, "--ranges") == 0 && !ranges) {
      ranges = v;
    } else if (strcmp(a, "--method") == 0 && !method) {
      method = v;
      if ((percentile = parse_method(v)) < 0) {
        fprintf(stderr, "%s: --method expects minmax, percentile or percentile=P with 0 < P <= 100, got '%s'\n",
                argv[0], v);
        rc = 2;
      }
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
  // --calibrate is a run of its own: it needs --ranges, and has no use for
  // --input, --output or --bench.
  if (rc == 0 && (calib || ranges || method)) {
    const char *why = !r->forward_calibrate ? "this runner was generated without calibration (netc --main of an "
                                              "older netc)"
                      : !calib              ? "--ranges and --method need --calibrate CALIB.f32"
                      : !ranges             ? "--calibrate needs --ranges OUT.json (where to write the ranges)"
                      : ninputs || noutputs || bench ? "--calibrate cannot be combined with --input, --output or --bench"
                                                      : NULL;
    if (why) {
      fprintf(stderr, "%s: %s\n", argv[0], why);
      usage(stderr, r);
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
    } else if (calib) {
      rc = calibrate(r, argv[0], calib, ranges, percentile, ins, outs);
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
