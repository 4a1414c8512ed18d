// check_safetensors.c -- the safetensors reader on a valid file built here,
// on a table of broken ones (each must fail with a message that says what
// is wrong), on every truncation of a valid file and on random byte flips.

#define _POSIX_C_SOURCE 200809L  // mkstemp, close, unlink for the file tests

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// An in-memory file: 8-byte little-endian header length, header, data.
typedef struct {
  uint8_t *bytes;
  size_t size;
} File;

static File make_file_len(const char *header, uint64_t hlen, const uint8_t *data, size_t ndata) {
  size_t h = strlen(header);
  File f;
  f.size = 8 + h + ndata;
  f.bytes = malloc(f.size + 1);
  ck_assert_ptr_nonnull(f.bytes);
  for (int i = 0; i < 8; i++)
    f.bytes[i] = (uint8_t)(hlen >> (8 * i));
  memcpy(f.bytes + 8, header, h);
  if (ndata)
    memcpy(f.bytes + 8 + h, data, ndata);
  return f;
}

static File make_file(const char *header, const uint8_t *data, size_t ndata) {
  return make_file_len(header, strlen(header), data, ndata);
}

static void put_f32(uint8_t *p, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(u >> (8 * i));  // little-endian whatever the host
}

//
// A valid file
//

// Tensor order in the data section differs from the key order, the header
// is padded with spaces to a multiple of 8, and there is metadata.
static const char valid_header[] =
    "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9\"},"
    "\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
    "\"conv.bias\":{\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[0,8]},"
    "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[32,40]},"
    "\"half\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[40,44]}}";

static File valid_file(void) {
  char header[512];
  size_t h = strlen(valid_header);
  ck_assert_uint_lt(h + 8, sizeof header);
  memcpy(header, valid_header, h);
  while (h % 8)
    header[h++] = ' ';
  header[h] = '\0';
  uint8_t data[44];
  memset(data, 0, sizeof data);
  put_f32(data + 0, 0.25f);    // conv.bias
  put_f32(data + 4, -1.5f);
  for (int i = 0; i < 6; i++)  // conv.weight = 0.5, 1.5, ... 5.5
    put_f32(data + 8 + 4 * i, (float)i + 0.5f);
  data[32] = 7;                // num_batches_tracked = 7
  data[40] = 0x00;             // half = [1.0, 2.0] in F16
  data[41] = 0x3c;
  data[42] = 0x00;
  data[43] = 0x40;
  return make_file(header, data, sizeof data);
}

START_TEST(test_valid_file) {
  File f = valid_file();
  netc_safetensors st;
  char err[256] = "";
  ck_assert_msg(netc_safetensors_init(&st, f.bytes, f.size, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(st.ntensors, 4);
  ck_assert_uint_eq(st.data_size, 44);
  ck_assert_str_eq(netc_safetensors_get_metadata(&st, "format"), "pt");
  ck_assert_str_eq(netc_safetensors_get_metadata(&st, "note"), "caf\xc3\xa9");
  ck_assert_ptr_null(netc_safetensors_get_metadata(&st, "nope"));

  const netc_st_tensor *t = netc_safetensors_find(&st, "conv.weight");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(t->rank, 2);
  ck_assert_int_eq(t->shape[0], 2);
  ck_assert_int_eq(t->shape[1], 3);
  ck_assert_int_eq(t->numel, 6);
  ck_assert_ptr_null(netc_safetensors_find(&st, "conv"));

  float w[6], b[2];
  const int64_t wshape[2] = {2, 3}, bshape[1] = {2};
  ck_assert_msg(netc_safetensors_read_f32(&st, "conv.weight", 2, wshape, w, err, sizeof err) == 0, "%s", err);
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq(w[i], (float)i + 0.5f);
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "conv.bias", 1, bshape, b, err, sizeof err), 0);
  ck_assert_float_eq(b[0], 0.25f);
  ck_assert_float_eq(b[1], -1.5f);

  // A scalar I64 is checked, not read.
  ck_assert_int_eq(netc_safetensors_expect(&st, "bn.num_batches_tracked", NETC_DTYPE_I64, 0, NULL, err,
                                           sizeof err), 0);

  // Lookup errors.
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "half", 1, bshape, b, err, sizeof err), -1);
  tu_assert_contains(err, "tensor 'half' has dtype F16, expected F32");
  const int64_t wrong[2] = {3, 2};
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "conv.weight", 2, wrong, w, err, sizeof err), -1);
  tu_assert_contains(err, "tensor 'conv.weight' has shape [2, 3], expected [3, 2]");
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "conv.weight", 1, wshape, w, err, sizeof err), -1);
  tu_assert_contains(err, "has shape [2, 3], expected [2]");
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "fc.weight", 2, wshape, w, err, sizeof err), -1);
  tu_assert_contains(err, "missing tensor 'fc.weight'");

  // Extra tensors: "half" was never read successfully.
  ck_assert_int_eq(netc_safetensors_check_unused(&st, err, sizeof err), -1);
  tu_assert_contains(err, "unexpected tensor 'half'");
  ck_assert_int_eq(netc_safetensors_expect(&st, "half", NETC_DTYPE_F16, 1, bshape, err, sizeof err), 0);
  ck_assert_int_eq(netc_safetensors_check_unused(&st, err, sizeof err), 0);

  netc_safetensors_free(&st);
  ck_assert_ptr_null(st.tensors);
  netc_safetensors_free(&st);  // twice is harmless
  free(f.bytes);
}
END_TEST

START_TEST(test_empty_and_escapes) {
  netc_safetensors st;
  char err[256] = "";
  File f = make_file("{}", NULL, 0);
  ck_assert_msg(netc_safetensors_init(&st, f.bytes, f.size, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(st.ntensors, 0);
  ck_assert_ptr_null(netc_safetensors_find(&st, "x"));
  ck_assert_int_eq(netc_safetensors_check_unused(&st, err, sizeof err), 0);
  netc_safetensors_free(&st);
  free(f.bytes);

  // Escaped names decode: "a\u00e9", "b\n\"\/", "\ud83d\ude00" (U+1F600), and a
  // zero-element tensor.
  static const char header[] =
      "{ \"a\\u00e9\" : {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]} ,\n"
      "\t\"b\\n\\\"\\/\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},\r\n"
      "\"\\ud83d\\ude00\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]}}   ";
  uint8_t data[8] = {0, 0, 0x80, 0x3f, 1, 2, 3, 4};
  f = make_file(header, data, sizeof data);
  ck_assert_msg(netc_safetensors_init(&st, f.bytes, f.size, err, sizeof err) == 0, "%s", err);
  ck_assert_ptr_nonnull(netc_safetensors_find(&st, "a\xc3\xa9"));
  ck_assert_ptr_nonnull(netc_safetensors_find(&st, "b\n\"/"));
  const netc_st_tensor *e = netc_safetensors_find(&st, "\xf0\x9f\x98\x80");
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(e->numel, 0);
  float one;
  const int64_t s1[1] = {1}, s03[2] = {0, 3};
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "a\xc3\xa9", 1, s1, &one, err, sizeof err), 0);
  ck_assert_float_eq(one, 1.0f);
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "\xf0\x9f\x98\x80", 2, s03, NULL, err, sizeof err), 0);
  netc_safetensors_free(&st);
  free(f.bytes);
}
END_TEST

//
// Broken files
//

typedef struct {
  const char *header;
  size_t ndata;         // zero bytes of data after the header
  int64_t hlen;         // header length to write; -1: the true one, -2: 2^64 - 1
  int64_t truncate;     // keep only this many bytes; -1: all
  const char *needle;   // expected in the message
} BadCase;

#define T(name, rest) "\"" name "\":{" rest "}"
#define F32_1 "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"

static const BadCase bad_cases[] = {
  {"", 0, -1, 0, "too short for the 8-byte header length"},
  {"", 0, -1, 5, "too short for the 8-byte header length"},
  {"{}", 0, 1000, -1, "header length 1000 runs past the end of the file (2 bytes"},
  {"{}", 0, -2, -1, "header length 18446744073709551615 runs past the end"},
  {"{}", 0, 0, -1, "too short for a JSON object"},
  {"{" T("a", F32_1), 4, -1, -1, "expected ',' or '}' after an entry at end of header"},
  {"{\"a\" {" F32_1 "}}", 4, -1, -1, "expected ':' after a tensor name"},
  {"[1,2]", 0, -1, -1, "the header must be a JSON object"},
  {"{} x", 0, -1, -1, "byte 3 ('x'): unexpected bytes after the header object"},
  {"{" T("a", "\"dtype\":\"F4\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "tensor 'a': unknown dtype \"F4\""},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "expected a non-negative integer"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "found a fraction or exponent"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]") "}", 4, -1, -1, "leading zero"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "integer too large"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,4]") "}", 4, -1,
   -1, "tensor 'a': element count overflows"},
  {"{" T("a", "\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "tensor 'a': byte size overflows"},
  {"{" T("a", "\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]") "}", 1, -1, -1,
   "tensor 'a': more than 8 dimensions"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "tensor 'a': data_offsets [0, 4] span 4 bytes, but F32 x 2 elements is 8"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]") "}", 8, -1, -1,
   "data_offsets [8, 4] end before they begin"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]") "}", 8, -1, -1,
   "past the end of the data section (8 bytes)"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") ","
       T("b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]") "}", 12, -1, -1,
   "tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
  {"{" T("b", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]") ","
       T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 12, -1, -1,
   "data bytes [4, 8) belong to no tensor (gap before 'b')"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]") "}", 8, -1, -1,
   "data bytes [0, 4) belong to no tensor"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") "}", 12, -1, -1,
   "data section has 12 bytes but the tensors cover only 8"},
  {"{" T("a", F32_1) "," T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]") "}", 8, -1, -1,
   "duplicate tensor name 'a'"},
  {"{" T("a", "\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "duplicate key \"dtype\""},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"offsets\":[0,4]") "}", 4, -1, -1,
   "tensor 'a': unknown key \"offsets\""},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1]") "}", 4, -1, -1, "tensor 'a': missing \"data_offsets\""},
  {"{" T("a", "") "}", 4, -1, -1, "empty tensor entry"},
  {"{\"a\":5}", 0, -1, -1, "expected '{' to open a tensor entry"},
  {"{" T("a", F32_1) ",}", 4, -1, -1, "expected a string"},
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]") "}", 8, -1, -1,
   "expected ']' after two data_offsets"},
  {"{\"abc", 0, -1, -1, "unterminated string"},
  {"{\"__metadata__\":{\"k\":1}}", 0, -1, -1, "__metadata__ values must be strings"},
  {"{\"__metadata__\":\"x\"}", 0, -1, -1, "__metadata__ must be an object of strings"},
  {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, -1, -1, "duplicate __metadata__ key 'k'"},
  {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, -1, -1, "duplicate \"__metadata__\""},
  {"{\"a\tb\":{" F32_1 "}}", 4, -1, -1, "control character in string"},
  {"{\"a\xff\":{" F32_1 "}}", 4, -1, -1, "invalid UTF-8 in string"},
  {"{\"a\xc0\xaf\":{" F32_1 "}}", 4, -1, -1, "invalid UTF-8 in string"},  // overlong '/'
  {"{\"a\\q\":{" F32_1 "}}", 4, -1, -1, "bad escape in string"},
  {"{\"a\\udc00\":{" F32_1 "}}", 4, -1, -1, "lone low surrogate"},
  {"{\"a\\ud800x\":{" F32_1 "}}", 4, -1, -1, "high surrogate not followed"},
  {"{\"a\\u0000\":{" F32_1 "}}", 4, -1, -1, "\\u0000 is not allowed"},
  {"{\"a\\u12G4\":{" F32_1 "}}", 4, -1, -1, "bad hex digit"},
  // Long strings are cut in messages, never overflow a buffer.
  {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"a_rather_long_unknown_key_of_many_bytes\":[0,4]") "}", 4,
   -1, -1, "unknown key \"a_rather_long_unknown_key_of_ma"},
  {"{" T("a", "\"dtype\":\"FLOAT32_SPELLED_OUT_IN_FULL\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, -1,
   -1, "unknown dtype \"FLOAT32_SP"},
  {"{" T("layer1.0.downsample.0.weight.and.a.very.long.suffix.that.goes.on.and.on.and.on",
         "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]") "}", 4, -1, -1,
   "tensor 'layer1.0.downsample.0.weight.and.a.very.long.suffix.that.goe...'"},
};

START_TEST(test_bad_file) {
  const BadCase *c = &bad_cases[_i];
  uint8_t zeros[64];
  memset(zeros, 0, sizeof zeros);
  ck_assert_uint_le(c->ndata, sizeof zeros);
  uint64_t hlen = c->hlen == -1 ? strlen(c->header) : c->hlen == -2 ? UINT64_MAX : (uint64_t)c->hlen;
  File f = make_file_len(c->header, hlen, zeros, c->ndata);
  size_t size = c->truncate >= 0 ? (size_t)c->truncate : f.size;
  // Copy to an exact-size buffer so that ASan sees any read past the end.
  uint8_t *exact = malloc(size ? size : 1);
  memcpy(exact, f.bytes, size);
  netc_safetensors st;
  char err[256] = "";
  ck_assert_int_eq(netc_safetensors_init(&st, exact, size, err, sizeof err), -1);
  tu_assert_contains(err, "safetensors: ");
  tu_assert_contains(err, c->needle);
  ck_assert_ptr_null(st.tensors);
  netc_safetensors_free(&st);
  free(exact);
  free(f.bytes);
}
END_TEST

// Every proper prefix of a valid file is an error (with a message), and
// never a crash or a read past the prefix.
START_TEST(test_truncated) {
  File f = valid_file();
  for (size_t len = 0; len < f.size; len++) {
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, f.bytes, len);
    netc_safetensors st;
    char err[256] = "";
    ck_assert_msg(netc_safetensors_init(&st, exact, len, err, sizeof err) == -1,
                  "prefix of %zu bytes accepted", len);
    ck_assert_msg(strncmp(err, "safetensors: ", 13) == 0, "prefix %zu: message \"%s\"", len, err);
    netc_safetensors_free(&st);
    free(exact);
  }
  free(f.bytes);
}
END_TEST

// Random byte flips: success or a message, and when a mutant is accepted
// every tensor must still lie inside the buffer.
START_TEST(test_mutations) {
  File f = valid_file();
  uint32_t s = 12345;
  uint8_t *m = malloc(f.size);
  int accepted = 0;
  for (int iter = 0; iter < 4000; iter++) {
    memcpy(m, f.bytes, f.size);
    int flips = 1 + iter % 3;
    for (int k = 0; k < flips; k++) {
      s = s * 1664525u + 1013904223u;
      size_t at = (s >> 8) % f.size;
      s = s * 1664525u + 1013904223u;
      // Mostly printable JSON-ish bytes, sometimes anything.
      static const char pool[] = "{}[]\":,0123456789 \\uFIBabcdef";
      m[at] = iter % 4 == 0 ? (uint8_t)(s >> 24) : (uint8_t)pool[(s >> 24) % (sizeof pool - 1)];
    }
    netc_safetensors st;
    char err[256] = "";
    if (netc_safetensors_init(&st, m, f.size, err, sizeof err) == 0) {
      accepted++;
      for (int32_t i = 0; i < st.ntensors; i++) {
        const netc_st_tensor *t = &st.tensors[i];
        ck_assert(t->data >= m && t->data + (t->end - t->begin) <= m + f.size);
        ck_assert_uint_eq(t->end - t->begin, (uint64_t)t->numel * (uint64_t)netc_dtype_size(t->dtype));
      }
    } else {
      ck_assert_msg(strncmp(err, "safetensors: ", 13) == 0, "message \"%s\"", err);
    }
    netc_safetensors_free(&st);
  }
  ck_assert_int_gt(accepted, 0);  // some flips only touch data or padding
  free(m);
  free(f.bytes);
}
END_TEST

//
// From a path
//

static char *write_temp(const File *f) {
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char *path = malloc(strlen(dir) + 32);
  sprintf(path, "%s/netc_st_XXXXXX", dir);
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *out = fdopen(fd, "wb");
  ck_assert_ptr_nonnull(out);
  ck_assert_uint_eq(fwrite(f->bytes, 1, f->size, out), f->size);
  fclose(out);
  return path;
}

START_TEST(test_init_file) {
  File f = valid_file();
  char *path = write_temp(&f);
  netc_safetensors st;
  char err[256] = "";
  ck_assert_msg(netc_safetensors_init_file(&st, path, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(st.ntensors, 4);
  float b[2];
  const int64_t bshape[1] = {2};
  ck_assert_int_eq(netc_safetensors_read_f32(&st, "conv.bias", 1, bshape, b, err, sizeof err), 0);
  ck_assert_float_eq(b[1], -1.5f);
  netc_safetensors_free(&st);
  unlink(path);

  // A broken file names the path; a missing one says why it cannot be opened.
  File bad = make_file_len("{}", 99, NULL, 0);
  char *bad_path = write_temp(&bad);
  ck_assert_int_eq(netc_safetensors_init_file(&st, bad_path, err, sizeof err), -1);
  tu_assert_contains(err, bad_path);
  tu_assert_contains(err, "header length 99 runs past the end");
  unlink(bad_path);
  ck_assert_int_eq(netc_safetensors_init_file(&st, bad_path, err, sizeof err), -1);
  tu_assert_contains(err, "cannot open");
  netc_safetensors_free(&st);
  free(path);
  free(bad_path);
  free(bad.bytes);
  free(f.bytes);
}
END_TEST

// The example at the top of netc_rt.h, run on a file made here.
START_TEST(test_header_example) {
  enum { WN = 16 * 3 * 3 * 3, BN = 16 };
  static uint8_t data[4 * (WN + BN)];
  for (int i = 0; i < WN + BN; i++)
    put_f32(data + 4 * i, (float)((i % 7) - 3) * 0.125f);
  char header[256];
  snprintf(header, sizeof header,
           "{\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[16,3,3,3],\"data_offsets\":[0,%d]},"
           "\"conv.bias\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[%d,%d]}}",
           4 * WN, 4 * WN, 4 * (WN + BN));
  File f = make_file(header, data, sizeof data);
  char *path = write_temp(&f);

  static float x[1 * 3 * 32 * 32], y[1 * 16 * 32 * 32];
  static float w[16 * 3 * 3 * 3], b[16];
  char err[256];
  netc_safetensors st;
  int64_t wshape[4] = {16, 3, 3, 3}, bshape[1] = {16};
  int rc = netc_safetensors_init_file(&st, path, err, sizeof err) != 0 ||
           netc_safetensors_read_f32(&st, "conv.weight", 4, wshape, w, err, sizeof err) != 0 ||
           netc_safetensors_read_f32(&st, "conv.bias", 1, bshape, b, err, sizeof err) != 0;
  ck_assert_msg(rc == 0, "%s", err);
  netc_safetensors_free(&st);

  netc_conv2d_params p = {0};
  p.n = 1;
  p.in_c = 3;   p.in_h = 32;  p.in_w = 32;
  p.out_c = 16; p.out_h = 32; p.out_w = 32;
  p.kernel_h = 3; p.kernel_w = 3;
  p.stride_h = 1; p.stride_w = 1;
  p.pad_top = 1;  p.pad_left = 1; p.pad_bottom = 1; p.pad_right = 1;
  p.dilation_h = 1; p.dilation_w = 1;
  p.groups = 1;
  p.act = NETC_ACT_RELU;
  ck_assert_msg(netc_conv2d_check(&p, err, sizeof err) == 0, "%s", err);
  tu_fill(x, 3 * 32 * 32, 99);
  float *scratch = malloc(sizeof(float) * (size_t)netc_conv2d_scratch_floats(&p));
  ck_assert_ptr_nonnull(scratch);
  netc_conv2d_f32(&p, x, w, b, y, scratch);
  free(scratch);

  float *r = tu_alloc(16 * 32 * 32, 0);
  netc_ref_conv2d_f32(&p, x, w, b, r);
  tu_assert_close("example conv", y, r, 16 * 32 * 32, 1e-5);
  tu_free(r);
  unlink(path);
  free(path);
  free(f.bytes);
}
END_TEST

START_TEST(test_dtype_table) {
  ck_assert_str_eq(netc_dtype_name(NETC_DTYPE_F32), "F32");
  ck_assert_int_eq(netc_dtype_size(NETC_DTYPE_F32), 4);
  ck_assert_str_eq(netc_dtype_name(NETC_DTYPE_BF16), "BF16");
  ck_assert_int_eq(netc_dtype_size(NETC_DTYPE_I64), 8);
  ck_assert_str_eq(netc_dtype_name(NETC_DTYPE_COUNT), "?");
  ck_assert_int_eq(netc_dtype_size(NETC_DTYPE_COUNT), 0);
}
END_TEST

Suite *make_safetensors_suite(void) {
  Suite *s = suite_create("safetensors");

  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_valid_file);
  tcase_add_test(tc, test_empty_and_escapes);
  tcase_add_test(tc, test_init_file);
  tcase_add_test(tc, test_header_example);
  tcase_add_test(tc, test_dtype_table);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_loop_test(tc, test_bad_file, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("limits");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_truncated);
  tcase_add_test(tc, test_mutations);
  suite_add_tcase(s, tc);
  return s;
}
