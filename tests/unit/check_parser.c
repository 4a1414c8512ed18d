// check_parser.c -- the grammar: precedence, items, statements, recovery.
#include "testutil.h"

#include "parser.h"

#include <string.h>

// Parses "X = <expr>;" and returns the expression.
static Node *expr(const char *e) {
  char *src = format("X = %s;", e);
  Module *m = tu_parse(src);
  ck_assert_msg(m != NULL, "parse failed: %s", e);
  ck_assert_int_eq(m->nitems, 1);
  ck_assert_int_eq(m->items[0]->kind, I_CONST);
  return m->items[0]->rhs;
}

// Fully parenthesised rendering, to check precedence and associativity.
static char *show(Node *n) {
  switch (n->kind) {
  case N_INT: return format("%lld", (long long)n->ival);
  case N_FLOAT: return format("%g", n->fval);
  case N_NAME: return format("%s", n->str);
  case N_STR: return format("\"%s\"", n->str);
  case N_WILD: return format("?");
  case N_BINOP: return format("(%s %s %s)", show(n->lhs), binop_str(n->op), show(n->rhs));
  case N_UNOP: return format("(%c%s)", n->op, show(n->lhs));
  case N_COND: return format("(%s ? %s : %s)", show(n->lhs), show(n->rhs), show(n->third));
  case N_PIPE: return format("(%s -> %s)", show(n->lhs), show(n->rhs));
  case N_ATTR: return format("%s.%s", show(n->lhs), n->str);
  case N_INDEX: {
    char *s = format("%s[", show(n->lhs));
    for (int i = 0; i < n->nkids; i++)
      s = format("%s%s%s", s, i ? ", " : "", show(n->kids[i]));
    return format("%s]", s);
  }
  case N_SLICE:
    return format("%s:%s%s%s", n->lhs ? show(n->lhs) : "", n->rhs ? show(n->rhs) : "", n->third ? ":" : "",
                  n->third ? show(n->third) : "");
  case N_ELLIPSIS: return format("...");
  case N_ARG: return format("%s=%s", n->str, show(n->lhs));
  case N_CALL: {
    char *s = format("%s%s(", n->label ? format("@%s ", show(n->label)) : "", show(n->lhs));
    for (int i = 0; i < n->nkids; i++)
      s = format("%s%s%s", s, i ? ", " : "", show(n->kids[i]));
    return format("%s)", s);
  }
  case N_TUPLE:
  case N_LIST: {
    char *s = format("%c", n->kind == N_LIST ? '[' : '(');
    for (int i = 0; i < n->nkids; i++)
      s = format("%s%s%s", s, i ? ", " : "", show(n->kids[i]));
    return format("%s%s%c", s, n->kind == N_TUPLE && n->nkids == 1 ? "," : "", n->kind == N_LIST ? ']' : ')');
  }
  // Statements and items are not expressions.
  case S_ASSIGN:
  case S_FOR:
  case S_IF:
  case S_RETURN:
  case S_ASSERT:
  case S_DECL:
  case I_IMPORT:
  case I_BLOCK:
  case I_NET:
  case I_CONST:
  case N_PARAM:
    break;
  }
  return format("<%d>", n->kind);
}

START_TEST(test_precedence) {
  ck_assert_str_eq(show(expr("1 + 2 * 3")), "(1 + (2 * 3))");
  ck_assert_str_eq(show(expr("1 - 2 - 3")), "((1 - 2) - 3)");
  ck_assert_str_eq(show(expr("2 ** 3 ** 2")), "(2 ** (3 ** 2))");
  ck_assert_str_eq(show(expr("-2 ** 2")), "(-(2 ** 2))");
  ck_assert_str_eq(show(expr("a || b && c == d")), "(a || (b && (c == d)))");
  ck_assert_str_eq(show(expr("7 // 2 % 3")), "((7 // 2) % 3)");
  // The pipe binds loosest: y + x -> relu is (y + x) -> relu.
  ck_assert_str_eq(show(expr("y + x -> relu")), "((y + x) -> relu)");
  ck_assert_str_eq(show(expr("x -> f -> g(1, k=2)")), "((x -> f) -> g(1, k=2))");
  ck_assert_str_eq(show(expr("c ? a : b")), "(c ? a : b)");
  ck_assert_str_eq(show(expr("x.shape[2] * 2")), "(x.shape[2] * 2)");
  // Subscripts: slices with omitted parts, '...', and a conditional inside
  // a subscript, whose ':' is the conditional's.
  ck_assert_str_eq(show(expr("x[..., 0::2, :, 1:n - 1, ::3]")), "x[..., 0::2, :, 1:(n - 1), ::3]");
  ck_assert_str_eq(show(expr("x[c ? 1 : 2, a:b]")), "x[(c ? 1 : 2), a:b]");
  ck_assert_str_eq(show(expr("x[:, 0]")), "x[:, 0]");
  // '@' after an operand is the matrix product, at '*''s level; before one, a label.
  ck_assert_str_eq(show(expr("a @ b + c * d @ e")), "((a @ b) + ((c * d) @ e))");
  ck_assert_str_eq(show(expr("a @ @l f(x)")), "(a @ @\"l\" f(x))");
}
END_TEST

START_TEST(test_tuples_and_labels) {
  ck_assert_str_eq(show(expr("(1)")), "1");
  ck_assert_str_eq(show(expr("(1,)")), "(1,)");
  ck_assert_str_eq(show(expr("((1, 64), (2, 128),)")), "((1, 64), (2, 128))");
  ck_assert_str_eq(show(expr("[1, ?, 3]")), "[1, ?, 3]");
  ck_assert_str_eq(show(expr("[]")), "[]");
  ck_assert_str_eq(show(expr("x -> @conv1 conv2d(64, 7)")), "(x -> @\"conv1\" conv2d(64, 7))");
  ck_assert_str_eq(show(expr("@(\"layer\" + str(i)) stage(x)")), "@(\"layer\" + str(i)) stage(x)");
}
END_TEST

START_TEST(test_items_and_statements) {
  Module *m = tu_parse("import \"lib/a.net\";\n"
                       "arch = ((1, 64),);\n"
                       "block b(x, c, s = 1) {\n"
                       "  (p, q) = f(x);\n"
                       "  y: [1, ?, 8, 8] = x;\n"
                       "  for (n, c) in arch { x = x -> g; }\n"
                       "  if s != 1 { x = x; } else if c { x = x; } else { x = x; }\n"
                       "  assert c > 0, \"positive\";\n"
                       "  return x, y;\n"
                       "}\n"
                       "net n(x: f32[1, 3, 8, 8], k = 2) { return x; }\n");
  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(m->nitems, 4);
  ck_assert_int_eq(m->items[0]->kind, I_IMPORT);
  ck_assert_str_eq(m->items[0]->str, "lib/a.net");
  Node *b = m->items[2];
  ck_assert_int_eq(b->kind, I_BLOCK);
  ck_assert_int_eq(b->nparams, 3);
  ck_assert_ptr_nonnull(b->params[2]->rhs);
  ck_assert_int_eq(b->nbody, 6);
  ck_assert_int_eq(b->body[0]->kind, S_ASSIGN);
  ck_assert_int_eq(b->body[0]->nkids, 2);
  ck_assert_ptr_nonnull(b->body[1]->lhs); // stated shape
  ck_assert_int_eq(b->body[2]->kind, S_FOR);
  ck_assert_int_eq(b->body[2]->nkids, 2);
  ck_assert_int_eq(b->body[3]->kind, S_IF);
  ck_assert_int_eq(b->body[3]->nels, 1);
  ck_assert_int_eq(b->body[3]->els[0]->kind, S_IF); // else if
  ck_assert_int_eq(b->body[4]->kind, S_ASSERT);
  ck_assert_int_eq(b->body[5]->kind, S_RETURN);
  ck_assert_int_eq(b->body[5]->nkids, 2);
  Node *n = m->items[3];
  ck_assert_int_eq(n->kind, I_NET);
  ck_assert_int_eq(n->params[0]->lhs->kind, N_INDEX); // f32[...]
  ck_assert_int_eq(n->loc.line, 11);
  ck_assert_int_eq(n->loc.col, 5);
}
END_TEST

START_TEST(test_missing_semicolon) {
  ck_assert_ptr_null(tu_parse("net n(x: [1]) {\n  y = x -> relu\n  return y;\n}\n"));
  ck_assert_int_eq(tu_errors(), 1);
  // Reported at the end of the statement, not at the next line's 'return'.
  ck_assert(tu_has_error(2, "expected ';'"));
  ck_assert_int_eq(tu_diags[0].col, 16);
}
END_TEST

START_TEST(test_recovery_reports_all) {
  ck_assert_ptr_null(tu_parse("net n(x: [1]) {\n"
                              "  a = (1 + ;\n"
                              "  b = 2;\n"
                              "  c = ] ;\n"
                              "  return x;\n"
                              "}\n"
                              "block b(x) { return x -> ; }\n"));
  ck_assert(tu_has_error(2, "unexpected ';'"));
  ck_assert(tu_has_error(4, "unexpected ']'"));
  ck_assert(tu_has_error(7, "unexpected ';'"));
  ck_assert_int_eq(tu_errors(), 3);
}
END_TEST

START_TEST(test_keyword_misplaced) {
  ck_assert_ptr_null(tu_parse("net return(x: [1]) { return x; }\n"));
  ck_assert(tu_has_error(1, "unexpected 'return', expected identifier"));
}
END_TEST

Suite *make_parser_suite(void) {
  Suite *s = suite_create("parser");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_precedence);
  tcase_add_test(tc, test_tuples_and_labels);
  tcase_add_test(tc, test_items_and_statements);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("errors");
  tcase_add_test(te, test_missing_semicolon);
  tcase_add_test(te, test_recovery_reports_all);
  tcase_add_test(te, test_keyword_misplaced);
  suite_add_tcase(s, te);
  return s;
}
