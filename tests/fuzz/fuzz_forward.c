// fuzz_forward.c -- libFuzzer target: any net the compiler accepts, loaded
// and run forward in process (compiler/execute.c) as its generated C
// would run, so the kernels' shape-dependent paths, the loader's batch-norm
// folding and weight packing, and the memory plan are fuzzed under the
// sanitizers with shapes no hand-written test thought of.
//
// Input: .net source text (the compiler fuzzer's corpus and dictionary are
// seeds), optionally followed by a NUL byte and a tail that supplies values:
//
//   no tail     weights from netc_model_init_random seeded with a hash of the
//               input, net inputs uniform in [-1, 1) from the same hash;
//   tail        mode byte, then value bytes (cycled as needed) that become the
//               weights, through a safetensors file built in memory and loaded
//               by netc_model_load_memory (the generated _load_memory's path):
//                 bit 0   values are raw float32 bits (NaN, inf, huge: all
//                         fine) instead of signed bytes / 32;
//                 bit 1   weights as --weights embeds them (whole, unpacked:
//                         the raw-weight convolution paths);
//                 bit 2   the net inputs come from the value bytes too.
//               Without a tail, a quarter of the hashes pick embedded weights.
//
// Nets that are too expensive to run per input are compiled and skipped
// (limits below; the seeds in models/ are mostly such, the small nets in
// tests/fuzz/seeds/forward/ are not).
//
// The oracle besides the sanitizers: after each kernel in the arena, the same
// kernel runs again on private, exactly sized copies (every layer its own
// output buffer and scratch, inputs from the private copies), and the two
// results must match bit for bit (NaN matches NaN). A difference means the
// memory plan let two live tensors overlap, an in-place kernel is wrong, or
// a kernel read memory it had not written (the arena starts as NaN, private
// buffers as a large finite number). The net inputs must be unchanged and
// every output must still be intact at the end. Any failure aborts.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

// Per-input budgets: an input should run in milliseconds. 4M MACs admits a
// small Winograd layer (32 -> 32 channels at 17 x 17 is 2.7M).
enum {
  MAX_MACS = 4 << 20,
  MAX_FLOPS = 16 << 20,
  MAX_ACTIVATION_BYTES = 16 << 20, // every layer's output, summed (the private run's memory)
  MAX_ARENA_FLOATS = 4 << 20,
  MAX_WEIGHT_FLOATS = 4 << 20,     // the blob plus the packed blob
};

static void swallow(DiagKind kind, Loc loc, const char *msg, void *ctx) {
  (void)kind, (void)loc, (void)msg, (void)ctx;
}

__attribute__((format(printf, 1, 2))) static _Noreturn void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz_forward: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

// 64-byte aligned, as the arena's blocks are (kernels may take paths that
// depend on alignment; both runs must see the same), exactly n floats (ASan
// then sees one float too many), filled with a bit pattern.
static float *new_floats(int64_t n, uint32_t pattern) {
  void *p = NULL;
  if (posix_memalign(&p, 64, sizeof(float) * (size_t)n) != 0)
    fail("out of memory for a buffer");
  for (int64_t i = 0; i < n; i++)
    memcpy((float *)p + i, &pattern, sizeof pattern);
  return p;
}

enum { ARENA_GARBAGE = 0x7fc5a5a5u, PRIVATE_GARBAGE = 0x4e5a5a5au }; // a quiet NaN; 9.1e8

// ---- values from the input ------------------------------------------------------

typedef struct Values {
  const uint8_t *p;
  size_t n, at;
  bool raw;
  uint64_t rng; // when there are no value bytes
} Values;

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static float uniform(uint64_t *rng) {
  float u = (float)(netc_splitmix64(rng) >> 40) * (1.0f / 16777216.0f);
  return 2.0f * u - 1.0f;
}

static float next_value(Values *v) {
  if (v->n == 0)
    return uniform(&v->rng);
  if (!v->raw) {
    int8_t b = (int8_t)v->p[v->at++ % v->n];
    return b / 32.0f;
  }
  uint8_t b[4];
  for (int k = 0; k < 4; k++)
    b[k] = v->p[v->at++ % v->n];
  uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

// ---- a safetensors image of the model's state_dict -------------------------------

typedef struct Bytes {
  uint8_t *p;
  size_t n, cap;
} Bytes;

static void put(Bytes *b, const void *s, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n)
      cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
      fail("out of memory for the weights file");
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void put_str(Bytes *b, const char *s) { put(b, s, strlen(s)); }

static void put_int(Bytes *b, long long v) {
  char tmp[24];
  put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", v));
}

// A JSON string (names are letters, digits, '_' and '.', but escape anyway).
static void put_name(Bytes *b, const char *s) {
  put(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      put(b, "\\", 1);
      put(b, c, 1);
    } else if (*c < 0x20) {
      char tmp[8];
      put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", *c));
    } else {
      put(b, c, 1);
    }
  }
  put(b, "\"", 1);
}

// Every tensor of the desc, in table order: F32 values from v, I64
// counters of 0 (the loader checks only their dtype and shape), and I64
// index buffers with values in [0, index_limit), as the loader requires. The bytes are
// the host's: little-endian, as everywhere the runtime's tests run.
static Bytes safetensors_image(const netc_model_desc *d, Values *v) {
  Bytes hdr = {0}, data = {0};
  put_str(&hdr, "{");
  for (int32_t i = 0; i < d->ntensors; i++) {
    const netc_model_tensor *t = &d->tensors[i];
    int64_t n = 1;
    for (int32_t k = 0; k < t->rank; k++)
      n *= t->shape[k];
    bool counter = t->kind == NETC_TENSOR_COUNTER, index = t->kind == NETC_TENSOR_INDEX;
    size_t begin = data.n;
    for (int64_t k = 0; k < n; k++) {
      if (counter) {
        int64_t zero = 0;
        put(&data, &zero, sizeof zero);
      } else if (index) {
        // Any valid index: which one is the fuzzer's to pick.
        // (from the value's bits: a value may be NaN or infinite).
        float f = next_value(v);
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        int64_t at = (int64_t)(bits % (uint64_t)(t->index_limit > 0 ? t->index_limit : 1));
        put(&data, &at, sizeof at);
      } else {
        float f = next_value(v);
        put(&data, &f, sizeof f);
      }
    }
    if (i)
      put_str(&hdr, ",");
    put_name(&hdr, t->name);
    put_str(&hdr, counter || index ? ":{\"dtype\":\"I64\",\"shape\":[" : ":{\"dtype\":\"F32\",\"shape\":[");
    for (int32_t k = 0; k < t->rank; k++) {
      if (k)
        put_str(&hdr, ",");
      put_int(&hdr, (long long)t->shape[k]);
    }
    put_str(&hdr, "],\"data_offsets\":[");
    put_int(&hdr, (long long)begin);
    put_str(&hdr, ",");
    put_int(&hdr, (long long)data.n);
    put_str(&hdr, "]}");
  }
  put_str(&hdr, "}");
  Bytes file = {0};
  uint8_t len[8];
  for (int k = 0; k < 8; k++)
    len[k] = (uint8_t)((uint64_t)hdr.n >> (8 * k));
  put(&file, len, 8);
  put(&file, hdr.p, hdr.n);
  if (data.n)
    put(&file, data.p, data.n);
  free(hdr.p);
  free(data.p);
  return file;
}

// ---- the differential run ---------------------------------------------------------

typedef struct Check {
  const ExecModel *m;
  float *arena;
  const float *const *inputs;
  float **priv; // per layer id: the private output of each layer that runs a kernel
} Check;

static float *priv_where(void *ctx, const Layer *l) {
  Check *c = ctx;
  int64_t off;
  l = exec_owner(l, &off);
  if (l->op == OP_INPUT) {
    for (int i = 0; i < c->m->g->ninputs; i++)
      if (c->m->g->inputs[i] == l)
        return (float *)c->inputs[i] + off;
    unreachable();
  }
  if (op_in_blob(l->op))
    return (float *)c->m->weights + l->slots.w + off;
  return c->priv[l->id] + off;
}

static bool same(float a, float b) {
  uint32_t x, y;
  memcpy(&x, &a, sizeof x);
  memcpy(&y, &b, sizeof y);
  return x == y || (a != a && b != b);
}

static void compare(const char *what, const Layer *l, const float *got, const float *want) {
  int64_t n = shape_numel(&l->shape);
  for (int64_t i = 0; i < n; i++)
    if (!same(got[i], want[i])) {
      fprintf(stderr, "fuzz_forward: %s of layer %d '%s' (%s %s): element %lld is %a in the arena run, %a alone\n",
              what, l->id, l->name, op_table[l->op].name, shape_str(&l->shape), (long long)i, (double)got[i],
              (double)want[i]);
      abort();
    }
}

// After each kernel of the arena run: the same kernel on the private copies.
static void rerun(void *ctx, const Layer *l) {
  Check *c = ctx;
  int64_t ns = l->scratch;
  float *scratch = new_floats(ns, PRIVATE_GARBAGE);
  exec_layer(c->m, l, EXEC_RUNTIME, priv_where, c, scratch);
  free(scratch);
  compare("the output", l, exec_arena_buf(c->m, l, c->arena, c->inputs), c->priv[l->id]);
}

// FUZZ_FORWARD_VERBOSE=1 in the environment: a line per net, run or skipped
// (to see what a corpus covers).
static int verbose = -1;

static void run_graph(Graph *g, uint64_t hash, const uint8_t *tail, size_t ntail) {
  const Totals *t = &g->totals;
  ExecModel m;
  exec_prepare(g, &m);
  bool skip = t->macs > MAX_MACS || t->flops > MAX_FLOPS || t->activation_bytes > MAX_ACTIVATION_BYTES ||
              m.arena_floats > MAX_ARENA_FLOATS || m.desc.weight_floats + m.desc.packed_floats > MAX_WEIGHT_FLOATS;
  if (verbose < 0)
    verbose = getenv("FUZZ_FORWARD_VERBOSE") != NULL;
  if (verbose) {
    fprintf(stderr, "fuzz_forward: net %s: %d layers, %lld MACs, %lld FLOPs, arena %lld floats, weights %lld + %lld: %s\n",
            g->net, g->nlayers, (long long)t->macs, (long long)t->flops, (long long)m.arena_floats,
            (long long)m.desc.weight_floats, (long long)m.desc.packed_floats, skip ? "skipped" : "run");
    for (int i = 0; i < g->nlayers && !skip; i++)
      fprintf(stderr, "  %s %s %s\n", g->layers[i]->name, shape_str(&g->layers[i]->shape), kernel_name(g->layers[i]));
  }
  if (skip)
    return;

  int mode = ntail ? tail[0] : 0;
  Values v = {ntail ? tail + 1 : NULL, ntail ? ntail - 1 : 0, 0, mode & 1, hash};
  bool embedded = ntail ? (mode & 2) != 0 : (hash >> 32 & 3) == 0;
  char err[512];
  int rc;
  if (ntail) {
    Bytes file = safetensors_image(&m.desc, &v);
    rc = exec_load(&m, file.p, file.n, 0, embedded, err, sizeof err);
    free(file.p);
  } else {
    rc = exec_load(&m, NULL, 0, hash, embedded, err, sizeof err);
  }
  if (rc != 0) // the file is well formed and complete, the sizes small
    fail("loading the weights failed: %s", err);

  Values iv = v;
  if (!(ntail && (mode & 4)))
    iv = (Values){NULL, 0, 0, false, hash + 1};
  float **inputs = xalloc((size_t)g->ninputs * sizeof *inputs), **copies = xalloc((size_t)g->ninputs * sizeof *copies);
  for (int i = 0; i < g->ninputs; i++) {
    int64_t n = shape_numel(&g->inputs[i]->shape);
    inputs[i] = new_floats(n, 0);
    copies[i] = new_floats(n, 0);
    for (int64_t k = 0; k < n; k++)
      inputs[i][k] = next_value(&iv);
    memcpy(copies[i], inputs[i], sizeof(float) * (size_t)n);
  }
  float **outputs = xalloc((size_t)g->noutputs * sizeof *outputs);
  for (int i = 0; i < g->noutputs; i++)
    outputs[i] = new_floats(shape_numel(&g->outputs[i]->shape), ARENA_GARBAGE);

  Check c = {&m, new_floats(m.arena_floats, ARENA_GARBAGE), (const float *const *)inputs,
             xalloc((size_t)g->nlayers * sizeof(float *))};
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    int64_t off;
    if (exec_owner(l, &off) == l && !op_is_source(l->op))
      c.priv[i] = new_floats(shape_numel(&l->shape), PRIVATE_GARBAGE);
  }
  exec_forward(&m, c.inputs, outputs, c.arena, rerun, &c);

  for (int i = 0; i < g->noutputs; i++)
    compare("net output", g->outputs[i], outputs[i], priv_where(&c, g->outputs[i]));
  for (int i = 0; i < g->ninputs; i++)
    if (memcmp(inputs[i], copies[i], sizeof(float) * (size_t)shape_numel(&g->inputs[i]->shape)) != 0)
      fail("net input '%s' was written by the forward pass", g->inputs[i]->name);

  for (int i = 0; i < g->nlayers; i++)
    free(c.priv[i]);
  free(c.arena);
  for (int i = 0; i < g->noutputs; i++)
    free(outputs[i]);
  for (int i = 0; i < g->ninputs; i++) {
    free(inputs[i]);
    free(copies[i]);
  }
  exec_unload(&m);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (size > 1 << 20)
    return 0;
  const unsigned char *nul = memchr(data, 0, size);
  size_t ntext = nul ? (size_t)(nul - data) : size;
  const uint8_t *tail = nul ? nul + 1 : NULL;
  size_t ntail = nul ? size - ntext - 1 : 0;
  uint64_t hash = fnv1a(data, size);

  // As fuzz_compiler.c: diagnostics swallowed, no imports, lowered limits.
  diag_set_consumer(swallow, NULL);
  diag_reset();
  load_allow_imports = false;
  limits.max_depth = 50;
  limits.max_steps = 20000;
  limits.max_layers = 2000;

  char *text = xalloc(ntext + 1);
  memcpy(text, data, ntext);
  Program *p = load_program("fuzz.net", text, ntext, NULL, 0);
  if (p) {
    const char **nets;
    int n = program_nets(p, &nets);
    for (int i = 0; i < n && i < 3; i++) {
      diag_reset();
      Graph *g = elaborate(p, nets[i], NULL, 0);
      if (!g)
        continue;
      fill_rf(g);
      fill_cost(g);
      fill_fusion(g);
      fill_lowering(g);
      fill_memplan(g);
      verify_graph(g);
      run_graph(g, hash + (uint64_t)i, tail, ntail);
    }
  }
  xfree_all();
  return 0;
}
