// builtins.c -- the built-in functions of compile-time interpretation:
// range, len, str, min, max, int, float, abs.
//
// Requires: elab.h (call arguments, POISON), value.c (conversions).
// Provides: builtin_funcs (their names, for lookups and did-you-mean),
//           call_func, and range_args / range_len, which elaborate.c also
//           uses to iterate `for i in range(...)` without building a tuple.
#include "elab.h"

#include <math.h>
#include <string.h>

// chunk and split make layers: eval.c sends them to call_split (elaborate.c).
const char *const builtin_funcs[] = {"range", "len", "str", "min", "max", "int", "float", "abs", "chunk", "split", NULL};

bool range_args(Value **args, Loc *locs, int n, Loc loc, int64_t out[3]) {
  if (n < 1 || n > 3) {
    error_at(loc, "range takes 1 to 3 arguments but %d were given", n);
    return false;
  }
  int64_t v[3];
  for (int i = 0; i < n; i++)
    if (!value_int(args[i], locs[i], "range", &v[i]))
      return false;
  out[0] = n == 1 ? 0 : v[0];
  out[1] = n == 1 ? v[0] : v[1];
  out[2] = n == 3 ? v[2] : 1;
  if (out[2] == 0) {
    error_at(locs[2], "range: step must not be zero");
    return false;
  }
  return true;
}

int64_t range_len(const int64_t r[3]) {
  if (r[2] > 0)
    return r[1] > r[0] ? (int64_t)(((uint64_t)r[1] - (uint64_t)r[0] - 1) / (uint64_t)r[2] + 1) : 0;
  return r[0] > r[1] ? (int64_t)(((uint64_t)r[0] - (uint64_t)r[1] - 1) / (uint64_t)(-r[2]) + 1) : 0;
}

Value *call_func(Interp *I, const char *f, CallArgs *a, Loc loc) {
  (void)I;
  if (a->nkw) {
    error_at(a->kwloc[0], "%s takes no keyword arguments", f);
    return NULL;
  }
  for (int i = 0; i < a->npos; i++)
    if (a->pos[i] == POISON)
      return NULL;
  Value **v = a->pos;
  int n = a->npos;
  if (strcmp(f, "range") == 0) {
    int64_t r[3];
    if (!range_args(v, a->posloc, n, loc, r))
      return NULL;
    int64_t len = range_len(r);
    if (len > 1000000) {
      error_at(loc, "range of %lld elements is too long to build as a value (a for loop over range may be longer)",
               (long long)len);
      return NULL;
    }
    Value *t = new_tuple((int)len);
    for (int64_t i = 0; i < len; i++)
      t->items[i] = new_int(r[0] + i * r[2]);
    return t;
  }
  if (strcmp(f, "min") == 0 || strcmp(f, "max") == 0) {
    Value **items = v;
    int m = n;
    if (n == 1 && v[0]->kind == V_TUPLE)
      items = v[0]->items, m = v[0]->n;
    if (m == 0) {
      error_at(loc, "%s of nothing", f);
      return NULL;
    }
    Value *best = NULL;
    double bv = 0;
    for (int i = 0; i < m; i++) {
      double x;
      if (!value_float(items[i], n == 1 ? a->posloc[0] : a->posloc[i], f, &x))
        return NULL;
      if (!best || (f[1] == 'i' ? x < bv : x > bv))
        best = items[i], bv = x;
    }
    return best;
  }
  if (n != 1) {
    error_at(loc, "%s takes 1 argument but %d were given", f, n);
    return NULL;
  }
  Value *x = v[0];
  if (strcmp(f, "len") == 0) {
    if (x->kind == V_TUPLE)
      return new_int(x->n);
    if (x->kind == V_STR)
      return new_int((int64_t)strlen(x->s));
    error_at(a->posloc[0], "len: expected a tuple or a string, got %s", value_kind_name(x));
    return NULL;
  }
  if (strcmp(f, "str") == 0) {
    if (x->kind == V_STR)
      return x;
    char *s = value_str(x);
    return new_str(intern(s, strlen(s)));
  }
  if (strcmp(f, "int") == 0) {
    if (x->kind == V_INT || x->kind == V_BOOL)
      return new_int(x->i);
    if (x->kind == V_FLOAT && isfinite(x->f) && fabs(x->f) < 9.2e18)
      return new_int((int64_t)x->f); // truncates toward zero, as Python
    error_at(a->posloc[0], "int: cannot convert %s", value_str(x));
    return NULL;
  }
  if (strcmp(f, "float") == 0) {
    if (x->kind == V_BOOL)
      return new_float((double)x->i);
    double d;
    return value_float(x, a->posloc[0], "float", &d) ? new_float(d) : NULL;
  }
  if (strcmp(f, "abs") == 0) {
    if (x->kind == V_INT) {
      if (x->i == INT64_MIN) {
        error_at(a->posloc[0], "integer overflow in abs(%lld)", (long long)x->i);
        return NULL;
      }
      return new_int(x->i < 0 ? -x->i : x->i);
    }
    double d;
    return value_float(x, a->posloc[0], "abs", &d) ? new_float(fabs(d)) : NULL;
  }
  unreachable();
}

