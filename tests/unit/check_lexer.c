// check_lexer.c -- tokens, literals and lexical errors.
#include "testutil.h"

#include "parse.h"
#include "parser.h"
#include "lexer.h"

#include <string.h>

typedef struct Tok {
  int kind;
  YYSTYPE val;
  YYLTYPE loc;
} Tok;

// Scans src into toks (at most max); returns the count (excluding EOF).
static int scan(const char *src, Tok *toks, int max) {
  tu_capture();
  SrcFile *f = new_srcfile("lex.net", src, strlen(src));
  LexState ls = {0};
  ls.file = f;
  ls.line = ls.col = 1;
  yyscan_t sc;
  ck_assert_int_eq(netc_yylex_init_extra(&ls, &sc), 0);
  YY_BUFFER_STATE b = netc_yy_scan_bytes(src, (int)strlen(src), sc);
  int n = 0;
  for (;;) {
    Tok t;
    t.kind = netc_yylex(&t.val, &t.loc, sc);
    if (t.kind == TOK_YYEOF || n == max)
      break;
    toks[n++] = t;
  }
  netc_yy_delete_buffer(b, sc);
  netc_yylex_destroy(sc);
  return n;
}

START_TEST(test_operators) {
  Tok t[32];
  int n = scan("-> - > // / ** * == = != ! <= < >= > || &&", t, 32);
  int want[] = {TOK_ARROW, '-', '>', TOK_FLOORDIV, '/', TOK_POW, '*', TOK_EQ, '=', TOK_NE, '!',
                TOK_LE, '<', TOK_GE, '>', TOK_OROR, TOK_ANDAND};
  ck_assert_int_eq(n, (int)(sizeof want / sizeof want[0]));
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(t[i].kind, want[i]);
  ck_assert_int_eq(tu_errors(), 0);
}
END_TEST

START_TEST(test_keywords_and_names) {
  Tok t[16];
  int n = scan("import block net for in if else return assert true false conv2d in_channels _x1", t, 16);
  int want[] = {TOK_IMPORT, TOK_BLOCK, TOK_NET, TOK_FOR, TOK_IN, TOK_IF, TOK_ELSE, TOK_RETURN, TOK_ASSERT,
                TOK_TRUE, TOK_FALSE, TOK_IDENT, TOK_IDENT, TOK_IDENT};
  ck_assert_int_eq(n, 14);
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(t[i].kind, want[i]);
  // Identifiers are interned: the same spelling is the same pointer.
  ck_assert_ptr_eq(t[12].val.TOK_IDENT, intern("in_channels", 11));
  ck_assert_str_eq(t[13].val.TOK_IDENT, "_x1");
}
END_TEST

START_TEST(test_numbers) {
  Tok t[8];
  int n = scan("0 42 9223372036854775807 1.5 2. 1e-5 3E2", t, 8);
  ck_assert_int_eq(n, 7);
  ck_assert_int_eq(t[0].kind, TOK_INT);
  ck_assert_int_eq(t[1].val.TOK_INT, 42);
  ck_assert(t[2].val.TOK_INT == INT64_MAX);
  ck_assert_int_eq(t[3].kind, TOK_FLOAT);
  ck_assert_double_eq(t[3].val.TOK_FLOAT, 1.5);
  ck_assert_double_eq(t[4].val.TOK_FLOAT, 2.0);
  ck_assert_double_eq_tol(t[5].val.TOK_FLOAT, 1e-5, 1e-20);
  ck_assert_double_eq(t[6].val.TOK_FLOAT, 300.0);
  ck_assert_int_eq(tu_errors(), 0);
}
END_TEST

START_TEST(test_strings) {
  Tok t[4];
  int n = scan("\"same\" \"a\\\"b\\\\c\\n\"", t, 4);
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(t[0].kind, TOK_STRING);
  ck_assert_str_eq(t[0].val.TOK_STRING, "same");
  ck_assert_str_eq(t[1].val.TOK_STRING, "a\"b\\c\n");
}
END_TEST

START_TEST(test_locations) {
  Tok t[8];
  int n = scan("x\n  -> relu # comment\n\ty", t, 8);
  ck_assert_int_eq(n, 4);
  ck_assert_int_eq(t[1].loc.first_line, 2);
  ck_assert_int_eq(t[1].loc.first_column, 3);
  ck_assert_int_eq(t[1].loc.last_column, 5);
  ck_assert_int_eq(t[2].loc.first_column, 6);
  ck_assert_int_eq(t[3].loc.first_line, 3);
  ck_assert_int_eq(t[3].loc.first_column, 2);
}
END_TEST

START_TEST(test_errors) {
  Tok t[8];
  scan("a $ b", t, 8);
  ck_assert(tu_has_error(1, "unexpected character '$'"));
  scan("99999999999999999999", t, 8);
  ck_assert(tu_has_error(1, "too large"));
  scan("x = 12abc;", t, 8);
  ck_assert(tu_has_error(1, "invalid number '12abc'"));
  scan("s = \"open\n", t, 8);
  ck_assert(tu_has_error(1, "unterminated string"));
  scan("\"bad \\q escape\"", t, 8);
  ck_assert(tu_has_error(1, "unknown escape"));
  scan("caf\xc3\xa9", t, 8);
  ck_assert(tu_has_error(1, "non-ASCII"));
  // A NUL byte in the middle of the text is an error, not the end of the file.
  const char src[] = "a \0 b";
  tu_capture();
  SrcFile *f = new_srcfile("nul.net", src, 5);
  LexState ls = {0};
  ls.file = f;
  ls.line = ls.col = 1;
  yyscan_t sc;
  netc_yylex_init_extra(&ls, &sc);
  YY_BUFFER_STATE b = netc_yy_scan_bytes(src, 5, sc);
  YYSTYPE v;
  YYLTYPE l;
  int kinds[4], n = 0;
  while (n < 4 && (kinds[n] = netc_yylex(&v, &l, sc)) != TOK_YYEOF)
    n++;
  netc_yy_delete_buffer(b, sc);
  netc_yylex_destroy(sc);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(kinds[1], TOK_INVALID);
  ck_assert(tu_has_error(1, "control byte 0x00"));
}
END_TEST

Suite *make_lexer_suite(void) {
  Suite *s = suite_create("lexer");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_operators);
  tcase_add_test(tc, test_keywords_and_names);
  tcase_add_test(tc, test_numbers);
  tcase_add_test(tc, test_strings);
  tcase_add_test(tc, test_locations);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("errors");
  tcase_add_test(te, test_errors);
  suite_add_tcase(s, te);
  return s;
}
