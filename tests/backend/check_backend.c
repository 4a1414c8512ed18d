// check_backend.c -- the generated API of one model (the seed's LeNet), built by
// `netc models/lenet.net -o build/backend/lenet.c`: loading and its failures,
// deterministic random weights, re-entrancy, and that forward never needs an
// aligned arena.
//
// The safetensors files are built here from LeNet's state_dict layout as
// PyTorch defines it (nn.Sequential indices 0, 3, 7, 9, 11), not from netc.
#define _POSIX_C_SOURCE 200809L // mkstemp
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lenet.h"

typedef struct {
  const char *name;
  int rank;
  int64_t shape[4];
} TensorSpec;

static const TensorSpec lenet_sd[] = {
    {"0.weight", 4, {6, 1, 5, 5}},  {"0.bias", 1, {6}},   {"3.weight", 4, {16, 6, 5, 5}}, {"3.bias", 1, {16}},
    {"7.weight", 2, {120, 400}},    {"7.bias", 1, {120}}, {"9.weight", 2, {84, 120}},      {"9.bias", 1, {84}},
    {"11.weight", 2, {10, 84}},     {"11.bias", 1, {10}},
};
#define NSPEC ((int)(sizeof lenet_sd / sizeof lenet_sd[0]))

typedef struct {
  unsigned char *data;
  size_t size;
} Bytes;

// A safetensors file for the specs (skip: index to leave out; extra: add a
// tensor; dtype_of0: dtype string of the first tensor; shape_fix: last dim
// of the first tensor). Values: a deterministic small pattern.
static Bytes make_file(int skip, int extra, const char *dtype_of0, int64_t shape_fix) {
  char header[4096];
  size_t h = 0;
  uint64_t off = 0;
  h += (size_t)snprintf(header + h, sizeof header - h, "{");
  int first = 1;
  for (int i = 0; i < NSPEC + extra; i++) {
    if (i == skip)
      continue;
    const TensorSpec *t = i < NSPEC ? &lenet_sd[i] : &(TensorSpec){"extra.weight", 1, {3}};
    int64_t shape[4];
    memcpy(shape, t->shape, sizeof shape);
    if (i == 0 && shape_fix)
      shape[t->rank - 1] = shape_fix;
    uint64_t n = 1;
    for (int d = 0; d < t->rank; d++)
      n *= (uint64_t)shape[d];
    const char *dt = i == 0 && dtype_of0 ? dtype_of0 : "F32";
    uint64_t bytes = n * (strcmp(dt, "F16") == 0 ? 2 : 4);
    h += (size_t)snprintf(header + h, sizeof header - h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", first ? "" : ",",
                          t->name, dt);
    for (int d = 0; d < t->rank; d++)
      h += (size_t)snprintf(header + h, sizeof header - h, "%s%lld", d ? "," : "", (long long)shape[d]);
    h += (size_t)snprintf(header + h, sizeof header - h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                          (unsigned long long)(off + bytes));
    off += bytes;
    first = 0;
  }
  h += (size_t)snprintf(header + h, sizeof header - h, "}");
  while (h % 8)
    header[h++] = ' ';
  Bytes b;
  b.size = 8 + h + off;
  b.data = calloc(1, b.size);
  for (int i = 0; i < 8; i++)
    b.data[i] = (unsigned char)((uint64_t)h >> (8 * i));
  memcpy(b.data + 8, header, h);
  for (uint64_t i = 0; i + 4 <= off; i += 4) {
    float v = (float)((i / 4) % 13) * 0.01f - 0.06f;
    memcpy(b.data + 8 + h + i, &v, 4);
  }
  return b;
}

static float input[LENET_INPUT_FLOATS];

static void run(const lenet_model *m, float *out) {
  float *arena = malloc(sizeof(float) * LENET_ARENA_FLOATS);
  ck_assert_ptr_nonnull(arena);
  lenet_forward(m, input, out, arena);
  free(arena);
}

static void setup(void) {
  for (int i = 0; i < LENET_INPUT_FLOATS; i++)
    input[i] = (float)((i * 7) % 11) / 11.0f;
}

START_TEST(test_load_good_file) {
  Bytes b = make_file(-1, 0, NULL, 0);
  lenet_model m = {0};
  ck_assert_int_eq(lenet_load_memory(&m, b.data, b.size), 0);
  float out[LENET_OUTPUT_FLOATS];
  run(&m, out);
  for (int i = 0; i < LENET_OUTPUT_FLOATS; i++)
    ck_assert(isfinite(out[i]));
  // Through a path as well.
  char path[] = "/tmp/netc_lenet_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "wb");
  ck_assert_ptr_nonnull(f);
  fwrite(b.data, 1, b.size, f);
  fclose(f);
  lenet_model m2 = {0};
  ck_assert_int_eq(lenet_load(&m2, path), 0);
  unlink(path);
  float out2[LENET_OUTPUT_FLOATS];
  run(&m2, out2);
  ck_assert_mem_eq(out, out2, sizeof out);
  lenet_free(&m);
  lenet_free(&m2);
  free(b.data);
}
END_TEST

// Every bad file is refused with a message, and the model loaded before
// keeps working exactly as it did.
START_TEST(test_bad_files_keep_model) {
  Bytes good = make_file(-1, 0, NULL, 0);
  lenet_model m = {0};
  ck_assert_int_eq(lenet_load_memory(&m, good.data, good.size), 0);
  const float *before = m.weights;
  float ref[LENET_OUTPUT_FLOATS], out[LENET_OUTPUT_FLOATS];
  run(&m, ref);

  struct {
    Bytes b;
    const char *why;
  } bad[] = {
      {make_file(9, 0, NULL, 0), "11.bias"},        // a tensor missing
      {make_file(-1, 1, NULL, 0), "extra.weight"},  // a tensor too many
      {make_file(-1, 0, "F16", 0), "0.weight"},     // wrong dtype
      {make_file(-1, 0, NULL, 4), "0.weight"},      // wrong shape
  };
  int nbad = (int)(sizeof bad / sizeof bad[0]);
  for (int i = 0; i < nbad; i++) {
    ck_assert_int_eq(lenet_load_memory(&m, bad[i].b.data, bad[i].b.size), -1);
    ck_assert_msg(strstr(lenet_error(&m), bad[i].why) != NULL, "case %d: '%s' does not mention %s", i,
                  lenet_error(&m), bad[i].why);
    free(bad[i].b.data);
  }
  // Truncated anywhere: in the length, in the header, in the data.
  size_t cuts[] = {0, 5, 8, 20, good.size / 2, good.size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    ck_assert_int_eq(lenet_load_memory(&m, good.data, cuts[i]), -1);
    ck_assert_msg(lenet_error(&m)[0] != '\0', "truncation at %zu gave no message", cuts[i]);
  }
  // A header length past the end of the file, and corrupted JSON.
  unsigned char *c = malloc(good.size);
  memcpy(c, good.data, good.size);
  c[6] = 0x7f;
  ck_assert_int_eq(lenet_load_memory(&m, c, good.size), -1);
  memcpy(c, good.data, good.size);
  c[8] = '[';
  ck_assert_int_eq(lenet_load_memory(&m, c, good.size), -1);
  free(c);
  ck_assert_int_eq(lenet_load(&m, "/nonexistent/no-such-file.safetensors"), -1);
  ck_assert_ptr_nonnull(strstr(lenet_error(&m), "no-such-file"));

  ck_assert_ptr_eq(m.weights, before);
  run(&m, out);
  ck_assert_mem_eq(out, ref, sizeof out);
  lenet_free(&m);
  free(good.data);
}
END_TEST

START_TEST(test_random_weights_deterministic) {
  lenet_model a = {0}, b = {0};
  ck_assert_int_eq(lenet_init_random(&a, 7), 0);
  ck_assert_int_eq(lenet_init_random(&b, 7), 0);
  // LeNet's convolutions run the direct path on packed weights: a loaded
  // model keeps the blob's first KEPT_FLOATS (0.weight, packed, is not among
  // them); the packed copies are equal too.
  ck_assert_int_gt(LENET_PACKED_FLOATS, 0);
  ck_assert_int_lt(LENET_KEPT_FLOATS, LENET_WEIGHT_FLOATS);
  ck_assert_mem_eq(a.weights, b.weights, sizeof(float) * LENET_KEPT_FLOATS);
  ck_assert_mem_eq(a.packed_, b.packed_, sizeof(float) * LENET_PACKED_FLOATS);
  // The documented recipe, recomputed here: draw 151 of splitmix64 seeded
  // with 7 (after 0.weight's 6 x 1 x 5 x 5 = 150) is 0.bias[0]: u = its top
  // 24 bits / 2^24, (2u - 1) * (1 / sqrt(25)) in float arithmetic (fan_in 25).
  uint64_t s = 7, z = 0;
  for (int i = 0; i < 151; i++) {
    z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
  }
  float u = (float)(z >> 40) * (1.0f / 16777216.0f);
  // 0.bias is the blob's first tensor: 0.weight, packed, went to the tail.
  ck_assert_float_eq(a.weights[0], (2.0f * u - 1.0f) * (1.0f / sqrtf(25.0f)));
  lenet_model c = {0};
  ck_assert_int_eq(lenet_init_random(&c, 8), 0);
  ck_assert(memcmp(a.weights, c.weights, sizeof(float) * LENET_KEPT_FLOATS) != 0);
  lenet_free(&a);
  lenet_free(&b);
  lenet_free(&c);
}
END_TEST

// Two arenas, one deliberately misaligned, give identical results: forward
// keeps no state between calls and needs no alignment.
START_TEST(test_reentrant_and_unaligned) {
  lenet_model m = {0};
  ck_assert_int_eq(lenet_init_random(&m, 3), 0);
  float *a1 = malloc(sizeof(float) * LENET_ARENA_FLOATS);
  char *raw = malloc(sizeof(float) * LENET_ARENA_FLOATS + 4);
  float *a2 = (float *)(void *)(raw + 4);
  float o1[LENET_OUTPUT_FLOATS], o2[LENET_OUTPUT_FLOATS], o3[LENET_OUTPUT_FLOATS];
  lenet_forward(&m, input, o1, a1);
  lenet_forward(&m, input, o2, a2);
  memset(a1, 0xff, sizeof(float) * LENET_ARENA_FLOATS); // garbage (NaN) arena
  lenet_forward(&m, input, o3, a1);
  ck_assert_mem_eq(o1, o2, sizeof o1);
  ck_assert_mem_eq(o1, o3, sizeof o1);
  free(a1);
  free(raw);
  lenet_free(&m);
}
END_TEST

START_TEST(test_header_tables) {
  ck_assert_int_eq(LENET_NUM_LAYERS, 12);
  ck_assert_str_eq(lenet_layers[0].op, "conv2d");
  ck_assert_int_eq(lenet_layers[0].shape[1], 6);
  ck_assert_int_eq(lenet_layers[11].shape[1], 10);
  ck_assert_int_eq(LENET_PARAMS, 61706);
  long long macs = 0;
  for (int i = 0; i < LENET_NUM_LAYERS; i++)
    macs += lenet_layers[i].macs;
  ck_assert_int_eq(macs, LENET_MACS);
  ck_assert_int_eq(LENET_INPUT_FLOATS, 784);
}
END_TEST

int main(void) {
  Suite *s = suite_create("backend");
  TCase *tc = tcase_create("lenet");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_load_good_file);
  tcase_add_test(tc, test_bad_files_keep_model);
  tcase_add_test(tc, test_random_weights_deterministic);
  tcase_add_test(tc, test_reentrant_and_unaligned);
  tcase_add_test(tc, test_header_tables);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
