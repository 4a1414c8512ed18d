// check_model.c -- model.c and runner.c on a small model described here the
// way netc describes one: a 3x3 convolution without bias, then a batch norm
// folded into it, the convolution's weights packed.
//
// Loading: a good file gives folded, packed weights that compute what the
// reference kernels compute; every bad or truncated file is refused with a
// message, hands back nothing, and leaves blobs loaded before untouched.
// init_random follows its documented recipe. The runner reads and writes
// exact-size files and refuses bad ones.

#define _POSIX_C_SOURCE 200809L  // mkstemp, open, dup2, close, unlink

#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//
// The model: conv [3, 2, 3, 3] (no bias) on [1, 2, 5, 5], padding 1; bn(3).
//

enum { W_OFF = 0, B_OFF = 64, GAMMA = 80, BETA = 96, MEAN = 112, VAR = 128, WEIGHT_FLOATS = 144 };

#define CONV_PARAMS                                                                                          \
  {.n = 1, .in_c = 2, .in_h = 5, .in_w = 5, .out_c = 3, .out_h = 5, .out_w = 5, .kernel_h = 3, .kernel_w = 3,    \
   .stride_h = 1, .stride_w = 1, .pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1,                \
   .dilation_h = 1, .dilation_w = 1, .groups = 1}
static const netc_conv2d_layer conv_layer = {.p = CONV_PARAMS, .weight = W_OFF, .bias = B_OFF, .packed = 0};
static const netc_conv2d_layer *const packs[1] = {&conv_layer};
static const netc_conv2d_params *const conv = &conv_layer.p;

static const netc_model_tensor tensors[6] = {
    {"conv.weight", 4, {3, 2, 3, 3}, W_OFF, NETC_TENSOR_WEIGHT, 18},
    {"bn.weight", 1, {3}, GAMMA, NETC_TENSOR_GAMMA, 1},
    {"bn.bias", 1, {3}, BETA, NETC_TENSOR_BETA, 1},
    {"bn.running_mean", 1, {3}, MEAN, NETC_TENSOR_BN_MEAN, 1},
    {"bn.running_var", 1, {3}, VAR, NETC_TENSOR_BN_VAR, 1},
    {"bn.num_batches_tracked", 0, {0}, -1, NETC_TENSOR_COUNTER, 1},
};
static const netc_model_fold folds[1] = {{W_OFF, B_OFF, MEAN, VAR, GAMMA, BETA, 3, 18, 1e-5f, 0}};

static netc_model_desc desc(void) {
  netc_model_desc d = {tensors, 6, folds, 1, packs, 1, WEIGHT_FLOATS, 0, 0, NULL, 0};
  d.packed_floats = netc_conv2d_packed_floats(conv);
  return d;
}

// The same tables, but neither folded nor packed: init_random's raw draws.
static netc_model_desc raw_desc(void) {
  netc_model_desc d = {tensors, 6, NULL, 0, NULL, 0, WEIGHT_FLOATS, 0, 0, NULL, 0};
  return d;
}

//
// Safetensors files for it, built here
//

typedef struct {
  uint8_t *bytes;
  size_t size;
} Bytes;

// The model's file with values v(i) = 0.01 * (i % 17) + 0.1 per tensor
// element (positive, so running_var is valid). skip: a tensor index to leave
// out; extra: add "extra" [2]; bad_dtype: the counter as F32; bad_shape: the
// weight's last dim 4.
static Bytes model_file(int skip, int extra, int bad_dtype, int bad_shape) {
  char header[2048];
  size_t h = 0;
  uint64_t off = 0;
  float data[256];
  int nf = 0;
  h += (size_t)snprintf(header + h, sizeof header - h, "{");
  for (int i = 0; i < 6 + extra; i++) {
    if (i == skip)
      continue;
    const char *name = i < 6 ? tensors[i].name : "extra";
    int64_t shape[4] = {2, 0, 0, 0};
    int32_t rank = 1;
    if (i < 6) {
      rank = tensors[i].rank;
      memcpy(shape, tensors[i].shape, sizeof shape);
    }
    if (i == 0 && bad_shape)
      shape[3] = 4;
    int counter = i == 5 && !bad_dtype;
    int64_t n = 1;
    for (int d = 0; d < rank; d++)
      n *= shape[d];
    uint64_t bytes = (uint64_t)n * (counter ? 8 : 4);
    h += (size_t)snprintf(header + h, sizeof header - h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", h > 1 ? "," : "",
                          name, counter ? "I64" : "F32");
    for (int d = 0; d < rank; d++)
      h += (size_t)snprintf(header + h, sizeof header - h, "%s%lld", d ? "," : "", (long long)shape[d]);
    h += (size_t)snprintf(header + h, sizeof header - h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                          (unsigned long long)(off + bytes));
    for (int64_t k = 0; k < n; k++)
      data[nf++] = counter ? 0.0f : 0.01f * (float)(k % 17) + 0.1f;
    if (counter)
      data[nf++] = 0.0f;  // an int64 is two floats' worth of zero bytes
    off += bytes;
  }
  h += (size_t)snprintf(header + h, sizeof header - h, "}");
  while (h % 8)
    header[h++] = ' ';
  ck_assert_uint_eq(off, (uint64_t)nf * 4);
  Bytes b;
  b.size = 8 + h + off;
  b.bytes = calloc(1, b.size);
  ck_assert_ptr_nonnull(b.bytes);
  for (int i = 0; i < 8; i++)
    b.bytes[i] = (uint8_t)((uint64_t)h >> (8 * i));
  memcpy(b.bytes + 8, header, h);
  memcpy(b.bytes + 8 + h, data, off);  // little-endian hosts (as the runtime's other tests)
  return b;
}

static char *write_temp(const void *data, size_t size) {
  char *path = malloc(64);
  ck_assert_ptr_nonnull(path);
  strcpy(path, "/tmp/netc_model_XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
  close(fd);
  return path;
}

//
// Loading
//

// A good file: the blob holds the file's values with the batch norm folded
// in, and the packed convolution computes conv(x, w) then the batch norm.
START_TEST(test_load_good) {
  netc_model_desc d = desc();
  Bytes f = model_file(-1, 0, 0, 0);
  netc_model_blobs b;
  char err[256] = "";
  ck_assert_int_eq(netc_model_load_memory(&d, f.bytes, f.size, &b, err, sizeof err), 0);
  ck_assert_str_eq(err, "");
  ck_assert_ptr_nonnull(b.weights);
  ck_assert_ptr_nonnull(b.packed);

  // The reference: the unfolded conv, then the batch norm, in the ref kernels.
  float w[54], stat[3] = {0.1f, 0.11f, 0.12f};
  for (int k = 0; k < 54; k++)
    w[k] = 0.01f * (float)(k % 17) + 0.1f;
  float *x = tu_random(50, 3), *y = tu_alloc(75, 0), *ref = tu_alloc(75, 0);
  netc_ref_conv2d_f32(conv, x, w, NULL, ref);
  netc_ref_batchnorm2d_f32(1, 3, 25, stat, stat, stat, stat, 1e-5f, ref, ref);
  float *scratch = tu_alloc(netc_conv2d_scratch_floats(conv) + 1, 1);
  netc_conv2d_packed_f32(conv, x, b.packed, b.weights + B_OFF, NULL, y, scratch);
  tu_assert_close("packed, folded", y, ref, 75, 1e-5);
  netc_conv2d_f32(conv, x, b.weights + W_OFF, b.weights + B_OFF, y, scratch);
  tu_assert_close("folded blob", y, ref, 75, 1e-5);
  // As the generated forward pass calls it: packed weights when there are
  // some, else the raw ones (this blob keeps them: keep_floats is 0).
  memset(y, 0, 75 * sizeof *y);
  netc_conv2d_layer_f32(&conv_layer, b.weights, b.packed, x, NULL, y, scratch);
  tu_assert_close("netc_conv2d_layer_f32, packed", y, ref, 75, 1e-5);
  memset(y, 0, 75 * sizeof *y);
  netc_conv2d_layer_f32(&conv_layer, b.weights, NULL, x, NULL, y, scratch);
  tu_assert_close("netc_conv2d_layer_f32, raw", y, ref, 75, 1e-5);
  // The padding between tensors stays zero.
  for (int k = 54; k < B_OFF; k++)
    ck_assert_float_eq(b.weights[k], 0.0f);

  // The same through a file.
  char *path = write_temp(f.bytes, f.size);
  netc_model_blobs b2;
  ck_assert_int_eq(netc_model_load_file(&d, path, &b2, err, sizeof err), 0);
  ck_assert_mem_eq(b.weights, b2.weights, sizeof(float) * WEIGHT_FLOATS);
  ck_assert_mem_eq(b.packed, b2.packed, sizeof(float) * (size_t)d.packed_floats);
  unlink(path);
  free(path);
  free(b2.weights);
  free(b2.packed);
  tu_free(x);
  tu_free(y);
  tu_free(ref);
  tu_free(scratch);
  free(b.weights);
  free(b.packed);
  free(f.bytes);
}
END_TEST

// The layout netc emits (plan_weights): what the forward pass reads first
// (the bias), then what only loading reads (the packed conv's raw weights,
// the folded batch norm's statistics); keep_floats = the first part. The
// loaded blob is shrunk to it (under ASan any read past it fails), and
// holds and packs the same values as the other layout.
enum { KB_OFF = 0, KW_OFF = 16, KGAMMA = 80, KBETA = 96, KMEAN = 112, KVAR = 128, KEEP = 16 };
static const netc_model_tensor kept_tensors[6] = {
    {"conv.weight", 4, {3, 2, 3, 3}, KW_OFF, NETC_TENSOR_WEIGHT, 18},
    {"bn.weight", 1, {3}, KGAMMA, NETC_TENSOR_GAMMA, 1},
    {"bn.bias", 1, {3}, KBETA, NETC_TENSOR_BETA, 1},
    {"bn.running_mean", 1, {3}, KMEAN, NETC_TENSOR_BN_MEAN, 1},
    {"bn.running_var", 1, {3}, KVAR, NETC_TENSOR_BN_VAR, 1},
    {"bn.num_batches_tracked", 0, {0}, -1, NETC_TENSOR_COUNTER, 1},
};
static const netc_model_fold kept_folds[1] = {{KW_OFF, KB_OFF, KMEAN, KVAR, KGAMMA, KBETA, 3, 18, 1e-5f, 0}};
static const netc_conv2d_layer kept_conv = {.p = CONV_PARAMS, .weight = KW_OFF, .bias = KB_OFF, .packed = 0};
static const netc_conv2d_layer *const kept_packs[1] = {&kept_conv};

START_TEST(test_load_keeps_prefix) {
  netc_model_desc d = desc();
  netc_model_desc k = {kept_tensors, 6, kept_folds, 1, kept_packs, 1, WEIGHT_FLOATS, 0, KEEP, NULL, 0};
  k.packed_floats = d.packed_floats;
  Bytes f = model_file(-1, 0, 0, 0);
  netc_model_blobs a, b;
  char err[256] = "";
  ck_assert_int_eq(netc_model_load_memory(&d, f.bytes, f.size, &a, err, sizeof err), 0);
  ck_assert_int_eq(netc_model_load_memory(&k, f.bytes, f.size, &b, err, sizeof err), 0);
  ck_assert_mem_eq(b.weights + KB_OFF, a.weights + B_OFF, 3 * sizeof(float));  // the folded bias
  ck_assert_mem_eq(b.packed, a.packed, sizeof(float) * (size_t)d.packed_floats);
  for (int i = 3; i < KEEP; i++)  // the padding of the kept part, still readable
    ck_assert_float_eq(b.weights[i], 0.0f);
  free(a.weights);
  free(a.packed);
  free(b.weights);
  free(b.packed);
  free(f.bytes);
}
END_TEST

static void assert_refused(const netc_model_desc *d, const void *data, size_t size, const char *why) {
  netc_model_blobs b = {(float *)1, (float *)1};
  char err[256] = "";
  ck_assert_int_eq(netc_model_load_memory(d, data, size, &b, err, sizeof err), -1);
  ck_assert_ptr_null(b.weights);
  ck_assert_ptr_null(b.packed);
  ck_assert_msg(err[0] != '\0', "no message for %s", why);
  if (why)
    tu_assert_contains(err, why);
}

// Every bad file is refused with a message naming the problem, and hands
// back nothing; blobs loaded before stay exactly as they were (the generated
// PREFIX_load swaps blobs in only on success).
START_TEST(test_bad_files_refused) {
  netc_model_desc d = desc();
  Bytes good = model_file(-1, 0, 0, 0);
  netc_model_blobs keep;
  char err[256];
  ck_assert_int_eq(netc_model_load_memory(&d, good.bytes, good.size, &keep, err, sizeof err), 0);
  float before[WEIGHT_FLOATS];
  memcpy(before, keep.weights, sizeof before);

  struct {
    Bytes f;
    const char *why;
  } bad[] = {
      {model_file(2, 0, 0, 0), "bn.bias"},                 // missing
      {model_file(5, 0, 0, 0), "num_batches_tracked"},     // the counter missing
      {model_file(-1, 1, 0, 0), "extra"},                  // one too many
      {model_file(-1, 0, 1, 0), "num_batches_tracked"},    // counter as F32
      {model_file(-1, 0, 0, 1), "conv.weight"},            // wrong shape
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_refused(&d, bad[i].f.bytes, bad[i].f.size, bad[i].why);
    free(bad[i].f.bytes);
  }
  // Truncated anywhere (a short file), and not a safetensors file at all.
  for (size_t cut = 0; cut < good.size; cut += cut < 16 ? 1 : 37)
    assert_refused(&d, good.bytes, cut, NULL);
  assert_refused(&d, "not a safetensors file", 22, NULL);
  // A missing file names the path.
  netc_model_blobs b = {(float *)1, (float *)1};
  ck_assert_int_eq(netc_model_load_file(&d, "/nonexistent/no-such.safetensors", &b, err, sizeof err), -1);
  ck_assert_ptr_null(b.weights);
  tu_assert_contains(err, "no-such.safetensors");
  // A short file on disk.
  char *path = write_temp(good.bytes, good.size - 5);
  ck_assert_int_eq(netc_model_load_file(&d, path, &b, err, sizeof err), -1);
  ck_assert_ptr_null(b.weights);
  unlink(path);
  free(path);

  ck_assert_mem_eq(keep.weights, before, sizeof before);
  free(keep.weights);
  free(keep.packed);
  free(good.bytes);
}
END_TEST

//
// Random weights
//

START_TEST(test_splitmix64) {
  // The generator's published outputs for seed 0.
  uint64_t s = 0;
  ck_assert_uint_eq(netc_splitmix64(&s), 0xE220A8397B1DCDAFull);
  ck_assert_uint_eq(netc_splitmix64(&s), 0x6E789E6AA1B965F4ull);
  ck_assert_uint_eq(netc_splitmix64(&s), 0x06C45D188009454Full);
}
END_TEST

START_TEST(test_init_random) {
  netc_model_desc d = raw_desc();
  netc_model_blobs a, b, c;
  char err[64];
  ck_assert_int_eq(netc_model_init_random(&d, 7, &a, err, sizeof err), 0);
  ck_assert_int_eq(netc_model_init_random(&d, 7, &b, err, sizeof err), 0);
  ck_assert_int_eq(netc_model_init_random(&d, 8, &c, err, sizeof err), 0);
  ck_assert_mem_eq(a.weights, b.weights, sizeof(float) * WEIGHT_FLOATS);
  ck_assert(memcmp(a.weights, c.weights, sizeof(float) * WEIGHT_FLOATS) != 0);

  // The recipe, recomputed: one draw per element, tensors in table order.
  uint64_t s = 7;
  float bound = 1.0f / sqrtf(18.0f);
  for (int k = 0; k < 54; k++) {
    float u = (float)(netc_splitmix64(&s) >> 40) * (1.0f / 16777216.0f);
    ck_assert_float_eq(a.weights[W_OFF + k], (2.0f * u - 1.0f) * bound);
  }
  const int offs[4] = {GAMMA, BETA, MEAN, VAR};
  for (int t = 0; t < 4; t++)
    for (int k = 0; k < 3; k++) {
      float u = (float)(netc_splitmix64(&s) >> 40) * (1.0f / 16777216.0f);
      float want = offs[t] == GAMMA || offs[t] == VAR ? 0.5f + u : u - 0.5f;
      ck_assert_float_eq(a.weights[offs[t] + k], want);
    }
  // Everything else (padding, the absent bias) stays zero.
  for (int k = 0; k < WEIGHT_FLOATS; k++)
    if ((k >= 54 && k < GAMMA) || (k % 16 >= 3 && k >= GAMMA))
      ck_assert_float_eq(a.weights[k], 0.0f);

  // With the fold and the pack: the same draws, then folded.
  netc_model_desc full = desc();
  netc_model_blobs f;
  ck_assert_int_eq(netc_model_init_random(&full, 7, &f, err, sizeof err), 0);
  float w[54], bias[3];
  netc_batchnorm_fold_f32(3, 18, a.weights + W_OFF, NULL, a.weights + MEAN, a.weights + VAR, a.weights + GAMMA,
                          a.weights + BETA, 1e-5f, w, bias);
  ck_assert_mem_eq(f.weights + W_OFF, w, sizeof w);
  ck_assert_mem_eq(f.weights + B_OFF, bias, sizeof bias);
  ck_assert_ptr_nonnull(f.packed);

  // A model without weights at all.
  netc_model_desc none = {NULL, 0, NULL, 0, NULL, 0, 0, 0, 0, NULL, 0};
  netc_model_blobs z;
  ck_assert_int_eq(netc_model_init_random(&none, 1, &z, err, sizeof err), 0);
  free(z.weights);
  free(z.packed);
  free(f.weights);
  free(f.packed);
  free(a.weights);
  free(a.packed);
  free(b.weights);
  free(b.packed);
  free(c.weights);
  free(c.packed);
}
END_TEST

//
// The runner, on a model that copies its input (4 floats) to its output
//

static int loads;

static const char *copy_load(const char *path, uint64_t seed) {
  (void)seed;
  loads++;
  return path ? "cannot load weights here" : NULL;
}

static void copy_forward(const float *const *in, float *const *out, float *arena) {
  arena[0] = 1.0f;  // the arena is there and writable
  memcpy(out[0], in[0], 4 * sizeof(float));
}

// netc_model_main with up to five arguments (NULL ends them); its messages
// and usage text go to /dev/null, so that Check's summary stays readable.
static int run_main(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4) {
  static const int64_t four[1] = {4};
  static const netc_runner r = {"copy", "copy", 0, 1, 1, four, four, 16, copy_load, copy_forward};
  char *argv[6] = {(char *)"copy", (char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4};
  int argc = 1;
  while (argc < 6 && argv[argc])
    argc++;
  fflush(stderr);
  int saved = dup(2), null = open("/dev/null", O_WRONLY);
  ck_assert_int_ge(saved, 0);
  ck_assert_int_ge(null, 0);
  dup2(null, 2);
  close(null);
  int rc = netc_model_main(argc, argv, &r);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  return rc;
}

START_TEST(test_runner) {
  const float in[4] = {1.5f, -2.0f, 0.25f, 8.0f};
  char *inp = write_temp(in, sizeof in), *shortp = write_temp(in, sizeof in - 1);
  char *outp = write_temp("", 0);
  ck_assert_int_eq(run_main("--input", inp, "--output", outp, NULL), 0);
  float got[4];
  FILE *f = fopen(outp, "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fread(got, sizeof(float), 4, f), 4);
  ck_assert_int_eq(fgetc(f), EOF);
  fclose(f);
  ck_assert_mem_eq(got, in, sizeof in);

  // Without --input: (2u - 1) from a generator seeded with seed + 1.
  ck_assert_int_eq(run_main("--seed", "41", "--output", outp, NULL), 0);
  f = fopen(outp, "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fread(got, sizeof(float), 4, f), 4);
  fclose(f);
  uint64_t s = 42;
  for (int k = 0; k < 4; k++)
    ck_assert_float_eq(got[k], (float)(netc_splitmix64(&s) >> 40) * (2.0f / 16777216.0f) - 1.0f);

  loads = 0;
  ck_assert_int_eq(run_main("--input", shortp, NULL, NULL, NULL), 1);       // short input
  ck_assert_int_eq(run_main("--input", "/nonexistent/x.f32", NULL, NULL, NULL), 1);
  ck_assert_int_eq(run_main("--weights", "w.safetensors", NULL, NULL, NULL), 1);  // load fails
  ck_assert_int_eq(loads, 3);
  ck_assert_int_eq(run_main("--bench", "x", NULL, NULL, NULL), 2);          // not a number
  ck_assert_int_eq(run_main("--seed", NULL, NULL, NULL, NULL), 2);          // no value
  ck_assert_int_eq(run_main("--input", inp, "--input", inp, NULL), 2);      // one input only
  ck_assert_int_eq(run_main("--frob", "1", NULL, NULL, NULL), 2);
  // A runner initialised without the calibration fields (as this one, and
  // any written before them) refuses --calibrate as bad usage.
  ck_assert_int_eq(run_main("--calibrate", inp, "--ranges", "/nonexistent/r.json", NULL), 2);
  ck_assert_int_eq(loads, 3);  // usage errors stop before loading
  ck_assert_int_eq(run_main("--output", "/nonexistent/dir/y.f32", NULL, NULL, NULL), 1);
  unlink(inp);
  unlink(shortp);
  unlink(outp);
  free(inp);
  free(shortp);
  free(outp);
}
END_TEST

Suite *make_model_suite(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("model");
  tcase_add_test(tc, test_load_good);
  tcase_add_test(tc, test_load_keeps_prefix);
  tcase_add_test(tc, test_bad_files_refused);
  tcase_add_test(tc, test_splitmix64);
  tcase_add_test(tc, test_init_random);
  tcase_add_test(tc, test_runner);
  suite_add_tcase(s, tc);
  return s;
}
