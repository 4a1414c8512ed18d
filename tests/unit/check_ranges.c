// check_ranges.c -- the ranges file reader (its JSON parser) and checker (ranges.c).
//
// The golden diagnostics of whole bad files are in tests/quant/errors; here
// the parser's corners: escapes, numbers, nesting, hostile bytes, and the
// line:col of each error.
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Writes n bytes to a temporary file and reads it as a ranges file, with
// diagnostics captured.
static Ranges *read_bytes(const char *text, size_t n) {
  char path[] = "/tmp/netc_ranges_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
  close(fd);
  tu_capture();
  Ranges *r = ranges_read(path);
  unlink(path);
  return r;
}

static Ranges *read_text(const char *text) { return read_bytes(text, strlen(text)); }

// A file of version 1 with the given layers array (its text).
static const char *with_layers(const char *layers) {
  return format("{\"netc_ranges\": 1, \"net\": \"n\", \"fingerprint\": \"0123456789abcdef\",\n"
                " \"method\": \"minmax\", \"samples\": 10,\n \"layers\": %s}\n", layers);
}

START_TEST(test_minimal) {
  Ranges *r = read_text(with_layers("[]"));
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(tu_errors(), 0);
  ck_assert_str_eq(r->net, "n");
  ck_assert_str_eq(r->fingerprint, "0123456789abcdef");
  ck_assert_str_eq(r->method, "minmax");
  ck_assert_int_eq(r->samples, 10);
  ck_assert_int_eq(r->nlayers, 0);
  ck_assert_int_eq(r->loc.line, 1);
  ck_assert_int_eq(r->loc.col, 1);
}
END_TEST

START_TEST(test_layer_fields) {
  Ranges *r = read_text(with_layers("[\n  {\"index\": 0, \"name\": \"x\", \"op\": \"input\", \"min\": -0.5e2, \"max\": 1E+3},\n"
                                    "  {\"max\": 0, \"min\": -0, \"op\": \"relu\", \"name\": \"r\", \"index\": 1}]"));
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(r->nlayers, 2);
  ck_assert_int_eq(r->layers[0].index, 0);
  ck_assert_str_eq(r->layers[0].name, "x");
  ck_assert_str_eq(r->layers[0].op, "input");
  ck_assert(r->layers[0].min == -50.0 && r->layers[0].max == 1000.0);
  ck_assert_int_eq(r->layers[1].index, 1);
  ck_assert_int_eq(r->layers[0].loc.line, 4);
  ck_assert_int_eq(r->layers[0].loc.col, 3);
  ck_assert_int_eq(r->layers[0].min_loc.col, 51); // the number "-0.5e2"
  ck_assert_int_eq(r->layers[0].min_loc.len, 6);
}
END_TEST

START_TEST(test_string_escapes) {
  // \u00e9 (2 bytes), a surrogate pair (U+1F600, 4 bytes), \n, \", \\, \/, and raw UTF-8.
  Ranges *r = read_text(with_layers("[{\"index\": 0, \"name\": \"a\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\xc3\xa9\", "
                                    "\"op\": \"input\", \"min\": 0, \"max\": 1}]"));
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(r->layers[0].name, "a\xc3\xa9\xf0\x9f\x98\x80\n\"\\/\xc3\xa9");
}
END_TEST

START_TEST(test_non_finite_tokens) {
  Ranges *r = read_text(with_layers("[{\"index\": 0, \"name\": \"x\", \"op\": \"input\", \"min\": -Infinity, \"max\": NaN},"
                                    " {\"index\": 1, \"name\": \"y\", \"op\": \"relu\", \"min\": 0, \"max\": Infinity}]"));
  ck_assert_ptr_nonnull(r); // read; ranges_check reports them
  ck_assert(isinf(r->layers[0].min) && r->layers[0].min < 0);
  ck_assert(isnan(r->layers[0].max));
  ck_assert(isinf(r->layers[1].max) && r->layers[1].max > 0);
}
END_TEST

// One syntax error at (line, col) whose message contains text; no result.
static void expect_error(const char *text, size_t n, int line, int col, const char *msg) {
  Ranges *r = read_bytes(text, n);
  if (r || tu_errors() != 1 || !tu_has_error(line, msg))
    tu_dump();
  ck_assert_ptr_null(r);
  ck_assert_int_eq(tu_errors(), 1);
  ck_assert(tu_has_error(line, msg));
  for (int i = 0; i < tu_ndiags; i++)
    if (tu_diags[i].kind == D_ERROR)
      ck_assert_int_eq(tu_diags[i].col, col);
}

static void expect_error_str(const char *text, int line, int col, const char *msg) {
  expect_error(text, strlen(text), line, col, msg);
}

START_TEST(test_bad_numbers) {
  expect_error_str("{\"a\": 01}", 1, 7, "may not start with 0");
  expect_error_str("{\"a\": 1.}", 1, 7, "digits after its '.'");
  expect_error_str("{\"a\": -}", 1, 7, "digits after its '-'");
  expect_error_str("{\"a\": 1e}", 1, 7, "exponent must have digits");
  expect_error_str("{\"a\": +1}", 1, 7, "expected a JSON value, found '+'");
  expect_error_str("{\"a\": -NaN}", 1, 7, "digits after its '-'");
}
END_TEST

START_TEST(test_bad_strings) {
  expect_error_str("{\"a\": \"x\\q\"}", 1, 9, "unknown escape");
  expect_error_str("{\"a\": \"\\u12\"}", 1, 8, "four hexadecimal digits");
  expect_error_str("{\"a\": \"\\udc00\"}", 1, 8, "lone low surrogate");
  expect_error_str("{\"a\": \"\\ud800x\"}", 1, 8, "without its low half");
  expect_error_str("{\"a\": \"\\u0000\"}", 1, 8, "\\u0000");
  expect_error_str("{\"a\": \"x\ty\"}", 1, 9, "control character");
  expect_error_str("{\"a\": \"x\xff\"}", 1, 9, "invalid UTF-8");
  expect_error_str("{\"a\":\n \"abc\n\"}", 2, 2, "not closed");
  expect_error_str("{\"a\": \"abc", 1, 11, "ends inside a string");
}
END_TEST

START_TEST(test_structure_errors) {
  expect_error_str("", 0, 0, "is empty");
  expect_error_str("  \n[1, 2]", 2, 1, "JSON object starting with '{'");
  expect_error_str("{\"a\": 1,}", 1, 9, "member name in quotes, found '}'");
  expect_error_str("{\"a\" 1}", 1, 6, "expected ':'");
  expect_error_str("{\"a\": [1 2]}", 1, 10, "expected ',' or ']'");
  expect_error_str("{\"a\": 1} x", 1, 10, "after the end of the JSON value");
  expect_error_str("{\"a\": [1,\n  2,\n", 2, 5, "ends inside an array");
  expect_error_str("{\"a\": tru}", 1, 7, "expected a JSON value");
  // A NUL byte is not whitespace: reported where it is, not read past.
  expect_error("{\"a\": 1\0}", 9, 1, 8, "byte 0x00");
}
END_TEST

START_TEST(test_depth_limit) {
  // 100,000 '[' must neither recurse that deep nor crash.
  size_t n = 100000;
  char *text = xalloc(n + 8);
  memcpy(text, "{\"a\": ", 6);
  memset(text + 6, '[', n);
  Ranges *r = read_text(text);
  ck_assert_ptr_null(r);
  ck_assert_int_eq(tu_errors(), 1);
  ck_assert(tu_has_error(1, "nested deeper than 64"));
}
END_TEST

START_TEST(test_schema_errors) {
  // Every schema problem of the top level is reported, not only the first.
  Ranges *r = read_text("{\"netc_ranges\": 1, \"net\": 3, \"fingerprint\": \"ABC\", \"method\": \"mean\",\n"
                " \"samples\": 0, \"layers\": [{\"index\": 1.5, \"name\": \"x\", \"op\": \"input\", \"min\": 0,"
                " \"max\": true, \"colour\": 1}], \"extra\": null}");
  ck_assert_ptr_null(r);
  ck_assert(tu_has_error(1, "\"net\" must be a string, not a number"));
  ck_assert(tu_has_error(1, "16 lowercase hexadecimal digits"));
  ck_assert(tu_has_error(1, "unknown calibration method \"mean\""));
  ck_assert(tu_has_error(2, "\"samples\" must be a whole number from 1"));
  ck_assert(tu_has_error(2, "\"index\" must be a whole number from 0"));
  ck_assert(tu_has_error(2, "\"max\" must be a number, not a boolean"));
  ck_assert(tu_has_error(2, "unknown key \"colour\" in this layer entry"));
  ck_assert(tu_has_error(2, "unknown key \"extra\" in the ranges file"));
  ck_assert_int_eq(tu_errors(), 8);
}
END_TEST

START_TEST(test_version_first) {
  // Another version: nothing else is judged (its keys may differ).
  Ranges *r = read_text("{\"netc_ranges\": 2, \"bins\": []}");
  ck_assert_ptr_null(r);
  ck_assert_int_eq(tu_errors(), 1);
  ck_assert(tu_has_error(1, "version 1"));
  r = read_text("{\"net\": \"n\"}");
  ck_assert_ptr_null(r);
  ck_assert(tu_has_error(1, "no \"netc_ranges\""));
}
END_TEST

START_TEST(test_percentile) {
  const char *head = "{\"netc_ranges\": 1, \"net\": \"n\", \"fingerprint\": \"0123456789abcdef\", \"samples\": 1, "
                     "\"layers\": [], ";
  Ranges *r = read_text(format("%s\"method\": \"percentile\", \"percentile\": 99.99}", head));
  ck_assert_ptr_nonnull(r);
  ck_assert(r->percentile == 99.99);
  r = read_text(format("%s\"method\": \"percentile\"}", head));
  ck_assert_ptr_null(r);
  ck_assert(tu_has_error(1, "has no \"percentile\""));
  r = read_text(format("%s\"method\": \"percentile\", \"percentile\": 0}", head));
  ck_assert_ptr_null(r);
  ck_assert(tu_has_error(1, "above 0 and at most 100"));
}
END_TEST

// The checker against a compiled net: one entry per layer, in order.
START_TEST(test_check) {
  const char *src = "net n(x: [1, 4]) {\n  return x -> @fc linear(2) -> @act relu;\n}\n";
  const char *ok = "[{\"index\": 0, \"name\": \"x\", \"op\": \"input\", \"min\": -1, \"max\": 1},\n"
                   " {\"index\": 1, \"name\": \"fc\", \"op\": \"linear\", \"min\": -2, \"max\": 2},\n"
                   " {\"index\": 2, \"name\": \"act\", \"op\": \"relu\", \"min\": 0, \"max\": 2}]";
  Ranges *r = read_text(with_layers(ok));
  ck_assert_ptr_nonnull(r);
  Graph *g = tu_compile(src);
  ck_assert_ptr_nonnull(g);
  tu_capture();
  ck_assert(ranges_check(r, g, "0123456789abcdef"));
  ck_assert_int_eq(tu_errors(), 0);

  tu_capture();
  ck_assert(!ranges_check(r, g, "fedcba9876543210"));
  ck_assert(tu_has_error(1, "another version of net 'n'"));

  // The relu's entry dropped, and the input's min above its max.
  const char *bad = "[{\"index\": 0, \"name\": \"x\", \"op\": \"input\", \"min\": 3, \"max\": 1},\n"
                    " {\"index\": 1, \"name\": \"fc\", \"op\": \"linear\", \"min\": -2, \"max\": 2}]";
  r = read_text(with_layers(bad));
  ck_assert_ptr_nonnull(r);
  tu_capture();
  ck_assert(!ranges_check(r, g, "0123456789abcdef"));
  ck_assert(tu_has_error(3, "min 3 above its max 1"));
  ck_assert(tu_has_error(3, "layer 'act' (relu) has no range")); // at the layers array
  ck_assert(tu_has_note("layer 'act' is made here"));
  ck_assert_int_eq(tu_errors(), 2);
}
END_TEST

// A module called twice (ResNet's relu) makes two layers of one name: each
// entry is for the layer at its index.
START_TEST(test_check_shared_name) {
  Graph *g = tu_compile("net n(x: [1, 4]) {\n  return x -> @act relu -> @fc linear(4) -> @act relu;\n}\n");
  ck_assert_ptr_nonnull(g);
  ck_assert_int_eq(g->nlayers, 4);
  const char *entries = "[{\"index\": 0, \"name\": \"x\", \"op\": \"input\", \"min\": -1, \"max\": 1},\n"
                        " {\"index\": 1, \"name\": \"act\", \"op\": \"relu\", \"min\": 0, \"max\": 1},\n"
                        " {\"index\": 2, \"name\": \"fc\", \"op\": \"linear\", \"min\": -2, \"max\": 2},\n"
                        " {\"index\": %d, \"name\": \"act\", \"op\": \"relu\", \"min\": 0, \"max\": 2}]";
  Ranges *r = read_text(with_layers(format(entries, 3)));
  ck_assert_ptr_nonnull(r);
  tu_capture();
  ck_assert(ranges_check(r, g, "0123456789abcdef"));
  // The second 'act' said to be index 1: the first layer of that name twice, the last one missing.
  r = read_text(with_layers(format(entries, 1)));
  ck_assert_ptr_nonnull(r);
  tu_capture();
  ck_assert(!ranges_check(r, g, "0123456789abcdef"));
  ck_assert(tu_has_error(6, "layer 'act' has two entries"));
  ck_assert(tu_has_error(3, "layer 'act' (relu) has no range: its entry (index 3) belongs at the end"));
  ck_assert_int_eq(tu_errors(), 2);
}
END_TEST

Suite *make_ranges_suite(void) {
  Suite *s = suite_create("ranges");
  TCase *tc = tcase_create("read");
  tcase_add_test(tc, test_minimal);
  tcase_add_test(tc, test_layer_fields);
  tcase_add_test(tc, test_string_escapes);
  tcase_add_test(tc, test_non_finite_tokens);
  tcase_add_test(tc, test_bad_numbers);
  tcase_add_test(tc, test_bad_strings);
  tcase_add_test(tc, test_structure_errors);
  tcase_add_test(tc, test_depth_limit);
  tcase_add_test(tc, test_schema_errors);
  tcase_add_test(tc, test_version_first);
  tcase_add_test(tc, test_percentile);
  suite_add_tcase(s, tc);
  tc = tcase_create("check");
  tcase_add_test(tc, test_check);
  tcase_add_test(tc, test_check_shared_name);
  suite_add_tcase(s, tc);
  return s;
}
