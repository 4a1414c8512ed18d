// check_diag.c -- the printed diagnostic format and the error cap.
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Runs fn with stderr redirected to a temporary file; returns what it wrote.
static char *capture_stderr(void (*fn)(void)) {
  fflush(stderr);
  char path[] = "/tmp/netc_diag_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  int saved = dup(2);
  dup2(fd, 2);
  diag_set_consumer(NULL, NULL);
  diag_reset();
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  size_t n;
  const char *err;
  char *heap = read_file(path, &n, &err);
  close(fd);
  unlink(path);
  ck_assert_ptr_nonnull(heap);
  char *text = xstrdup(heap); // the arena's copy; the heap buffer is ours to free
  free(heap);
  return text;
}

static SrcFile *file;

static void emit_one(void) {
  Loc at = {file, 2, 12, 6};
  error_at(at, "linear: in_features=%d was stated but the input has %d", 400, 256);
  note_at((Loc){file, 1, 5, 5}, "in block '%s'", "lenet");
}

START_TEST(test_format) {
  const char *src = "net lenet(x: [1, 400]) {\n  return x\t-> linear(120, in_features=400);\n}\n";
  file = new_srcfile("m/lenet.net", src, strlen(src));
  diag_color = false;
  char *out = capture_stderr(emit_one);
  const char *want = "m/lenet.net:2:12: error: linear: in_features=400 was stated but the input has 256\n"
                     "    2 |   return x -> linear(120, in_features=400);\n"
                     "      |            ^~~~~~\n"
                     "m/lenet.net:1:5: note: in block 'lenet'\n"
                     "    1 | net lenet(x: [1, 400]) {\n"
                     "      |     ^~~~~\n";
  ck_assert_str_eq(out, want);
  ck_assert_int_eq(diag_error_count(), 1);
}
END_TEST

static void emit_many(void) {
  for (int i = 0; i < 60; i++)
    error_at((Loc){file, 1, 1, 1}, "error %d", i);
}

START_TEST(test_cap) {
  const char *src = "x\n";
  file = new_srcfile("f.net", src, strlen(src));
  int saved = diag_max_errors;
  diag_max_errors = 3;
  char *out = capture_stderr(emit_many);
  diag_max_errors = saved;
  ck_assert_ptr_nonnull(strstr(out, "error 2"));
  ck_assert_ptr_null(strstr(out, "error 3"));
  ck_assert_ptr_nonnull(strstr(out, "too many errors (3), stopping"));
  ck_assert_int_eq(diag_error_count(), 60); // still counted: the exit status stays 1
}
END_TEST

static void emit_plain(void) { diag_plain("no net named '%s'", "x"); }

START_TEST(test_plain) {
  char *out = capture_stderr(emit_plain);
  ck_assert_str_eq(out, "netc: error: no net named 'x'\n");
}
END_TEST

START_TEST(test_did_you_mean_distance) {
  ck_assert_int_eq(edit_distance("maxpol2d", "maxpool2d"), 1);
  ck_assert_int_eq(edit_distance("strid", "stride"), 1);
  ck_assert_int_eq(edit_distance("abc", "xyz"), 3);
  ck_assert_int_eq(edit_distance("", "relu"), 4);
  ck_assert_str_eq(fmt_int(25557032), "25,557,032");
  ck_assert_str_eq(fmt_int(-1000), "-1,000");
  ck_assert_str_eq(fmt_int(999), "999");
}
END_TEST

Suite *make_diag_suite(void) {
  Suite *s = suite_create("diag");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_format);
  tcase_add_test(tc, test_cap);
  tcase_add_test(tc, test_plain);
  tcase_add_test(tc, test_did_you_mean_distance);
  suite_add_tcase(s, tc);
  return s;
}
