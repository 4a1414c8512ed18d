// value.c -- compile-time values: constructors, conversions, printing.
//
// The elaborator is a small dynamically typed interpreter; these helpers keep
// its type errors uniform ("stride: expected an integer or an (h, w) pair,
// got 2.5").
#include "netc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

Value *new_int(int64_t i) {
  Value *v = xalloc(sizeof *v);
  v->kind = V_INT;
  v->i = i;
  return v;
}

Value *new_float(double f) {
  Value *v = xalloc(sizeof *v);
  v->kind = V_FLOAT;
  v->f = f;
  return v;
}

Value *new_bool(bool b) {
  Value *v = xalloc(sizeof *v);
  v->kind = V_BOOL;
  v->i = b;
  return v;
}

Value *new_str(const char *s) {
  Value *v = xalloc(sizeof *v);
  v->kind = V_STR;
  v->s = s;
  return v;
}

Value *new_tuple(int n) {
  Value *v = xalloc(sizeof *v);
  v->kind = V_TUPLE;
  v->n = n;
  v->items = xalloc((size_t)(n ? n : 1) * sizeof *v->items);
  return v;
}

Value *new_tensor(Layer *t) {
  Value *v = xalloc(sizeof *v);
  v->kind = V_TENSOR;
  v->t = t;
  return v;
}

const char *value_kind_name(const Value *v) {
  switch (v->kind) {
  case V_NONE: return "nothing";
  case V_INT: return "integer";
  case V_FLOAT: return "float";
  case V_BOOL: return "bool";
  case V_STR: return "string";
  case V_TUPLE: return "tuple";
  case V_TENSOR: return "tensor";
  case V_BLOCK: return "block";
  case V_OP: return "layer";
  case V_FUNC: return "function";
  case V_WILD: return "'?'";
  }
  unreachable();
}

static void append(char **buf, size_t *len, size_t *cap, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap * 2 : 64;
    while (c < *len + n + 1)
      c *= 2;
    char *nb = xalloc(c);
    if (*buf)
      memcpy(nb, *buf, *len);
    *buf = nb;
    *cap = c;
  }
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

static void value_str_into(const Value *v, char **buf, size_t *len, size_t *cap, int depth) {
  switch (v->kind) {
  case V_INT: append(buf, len, cap, format("%lld", (long long)v->i)); break;
  case V_FLOAT: {
    char *s = format("%.17g", v->f);
    // Shortest form that reads back exactly.
    for (int prec = 1; prec <= 17; prec++) {
      char *t = format("%.*g", prec, v->f);
      if (strtod(t, NULL) == v->f) {
        s = t;
        break;
      }
    }
    if (!strpbrk(s, ".eEn"))
      s = format("%s.0", s);
    append(buf, len, cap, s);
    break;
  }
  case V_BOOL: append(buf, len, cap, v->i ? "true" : "false"); break;
  case V_STR: append(buf, len, cap, format("\"%s\"", v->s)); break;
  case V_TUPLE:
    append(buf, len, cap, "(");
    for (int i = 0; i < v->n; i++) {
      if (i)
        append(buf, len, cap, ", ");
      if (depth > 8 || (*len > 200 && i < v->n - 1)) {
        append(buf, len, cap, "...");
        break;
      }
      value_str_into(v->items[i], buf, len, cap, depth + 1);
    }
    append(buf, len, cap, v->n == 1 ? ",)" : ")");
    break;
  case V_TENSOR: append(buf, len, cap, format("tensor %s", shape_str(&v->t->shape))); break;
  case V_BLOCK: append(buf, len, cap, format("block '%s'", v->blk->str)); break;
  case V_OP: append(buf, len, cap, format("layer '%s'", v->op->name)); break;
  case V_FUNC: append(buf, len, cap, format("function '%s'", v->s)); break;
  case V_WILD: append(buf, len, cap, "?"); break;
  case V_NONE: append(buf, len, cap, "nothing"); break;
  }
}

// For messages: the kind, then the value ("integer 3", "tuple (1, 2)"),
// but "tensor [1, 3]" and "nothing", whose printed form names the kind.
char *value_what(const Value *v) {
  switch (v->kind) {
  case V_TENSOR:
  case V_BLOCK:
  case V_OP:
  case V_FUNC:
  case V_NONE:
    return value_str(v);
  case V_INT:
  case V_FLOAT:
  case V_BOOL:
  case V_STR:
  case V_TUPLE:
  case V_WILD:
    break;
  }
  return format("%s %s", value_kind_name(v), value_str(v));
}

char *value_str(const Value *v) {
  char *buf = NULL;
  size_t len = 0, cap = 0;
  value_str_into(v, &buf, &len, &cap, 0);
  return buf;
}

bool value_eq(const Value *a, const Value *b) {
  bool an = a->kind == V_INT || a->kind == V_FLOAT || a->kind == V_BOOL;
  bool bn = b->kind == V_INT || b->kind == V_FLOAT || b->kind == V_BOOL;
  if (an && bn) {
    if (a->kind != V_FLOAT && b->kind != V_FLOAT)
      return a->i == b->i;
    double x = a->kind == V_FLOAT ? a->f : (double)a->i;
    double y = b->kind == V_FLOAT ? b->f : (double)b->i;
    return x == y;
  }
  if (a->kind == V_WILD || b->kind == V_WILD)
    return true;
  if (a->kind != b->kind)
    return false;
  switch (a->kind) {
  case V_STR: case V_FUNC: return a->s == b->s || strcmp(a->s, b->s) == 0;
  case V_TUPLE:
    if (a->n != b->n)
      return false;
    for (int i = 0; i < a->n; i++)
      if (!value_eq(a->items[i], b->items[i]))
        return false;
    return true;
  case V_TENSOR: return a->t == b->t;
  case V_BLOCK: return a->blk == b->blk;
  case V_OP: return a->op == b->op;
  case V_NONE: return true;
  // Settled above the switch: numbers compare by value, '?' matches anything.
  case V_INT:
  case V_FLOAT:
  case V_BOOL:
  case V_WILD:
    break;
  }
  unreachable();
}

bool value_truth(const Value *v, Loc loc, bool *out) {
  if (v->kind == V_BOOL || v->kind == V_INT) {
    *out = v->i != 0;
    return true;
  }
  error_at(loc, "expected a condition (bool), got %s", value_what(v));
  return false;
}

bool value_int(const Value *v, Loc loc, const char *what, int64_t *out) {
  if (v->kind == V_INT) {
    *out = v->i;
    return true;
  }
  if (v->kind == V_FLOAT)
    error_at(loc, "%s: expected an integer, got %s (use // for integer division)", what, value_str(v));
  else
    error_at(loc, "%s: expected an integer, got %s", what, value_what(v));
  return false;
}

bool value_float(const Value *v, Loc loc, const char *what, double *out) {
  if (v->kind == V_FLOAT) {
    *out = v->f;
    return true;
  }
  if (v->kind == V_INT) {
    *out = (double)v->i;
    return true;
  }
  error_at(loc, "%s: expected a number, got %s", what, value_what(v));
  return false;
}

bool value_bool(const Value *v, Loc loc, const char *what, bool *out) {
  if (v->kind == V_BOOL) {
    *out = v->i != 0;
    return true;
  }
  error_at(loc, "%s: expected true or false, got %s", what, value_what(v));
  return false;
}

bool value_pair(const Value *v, Loc loc, const char *what, int64_t out[2]) {
  if (v->kind == V_INT) {
    out[0] = out[1] = v->i;
    return true;
  }
  if (v->kind == V_TUPLE && v->n == 2 && v->items[0]->kind == V_INT && v->items[1]->kind == V_INT) {
    out[0] = v->items[0]->i;
    out[1] = v->items[1]->i;
    return true;
  }
  error_at(loc, "%s: expected an integer or an (h, w) pair of integers, got %s", what, value_str(v));
  return false;
}
