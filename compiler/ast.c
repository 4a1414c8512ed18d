// ast.c -- syntax tree constructors (the parser's actions call these).
#include "netc.h"
#include "parser.h"

#include <string.h>

Node *new_node(NodeKind kind, Loc loc) {
  Node *n = xalloc(sizeof *n);
  n->kind = kind;
  n->loc = loc;
  return n;
}

void node_push(Node ***arr, int *n, Node *kid) {
  // Grow when the count reaches a power of two: no capacity field needed.
  if ((*n & (*n - 1)) == 0) {
    int cap = *n ? *n * 2 : 1;
    Node **na = xalloc((size_t)cap * sizeof *na);
    if (*n)
      memcpy(na, *arr, (size_t)*n * sizeof *na);
    *arr = na;
  }
  (*arr)[(*n)++] = kid;
}

const char *binop_str(int op) {
  switch (op) {
  case TOK_OROR: return "||";
  case TOK_ANDAND: return "&&";
  case TOK_EQ: return "==";
  case TOK_NE: return "!=";
  case TOK_LE: return "<=";
  case TOK_GE: return ">=";
  case TOK_FLOORDIV: return "//";
  case TOK_POW: return "**";
  case '<': return "<";
  case '>': return ">";
  case '+': return "+";
  case '-': return "-";
  case '*': return "*";
  case '/': return "/";
  case '%': return "%";
  case '@': return "@";
  case '!': return "!";
  default: return "?";
  }
}
