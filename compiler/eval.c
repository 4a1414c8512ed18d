// eval.c -- expressions of compile-time interpretation: literals, names,
// operators, calls, pipes, indexing, attributes and stated shapes.
//
// Requires: elab.h (interpreter state), elaborate.c (calls of ops and
//           blocks: arithmetic on tensors and pipe stages become layers),
//           builtins.c (built-in functions).
// Provides: eval, eval_args, attr, eval_shape_spec.
//
// Nesting is bounded by MAX_NESTING so the C stack cannot overflow; pipes are
// walked with a loop and do not count.
#include "elab.h"
#include "parser.h"

#include <math.h>
#include <string.h>

// Did-you-mean for an undefined name: anything a name could refer to here.
static const char *suggest_name(Interp *I, Frame *F, const char *name) {
  int cap = F->scope.cap + I->prog->ndefs + OP__COUNT + 16, n = 0;
  const char **c = xalloc((size_t)cap * sizeof *c);
  for (int i = 0; i < F->scope.cap; i++)
    if (F->scope.keys[i])
      c[n++] = F->scope.keys[i];
  for (int i = 0; i < I->prog->ndefs; i++)
    if (I->prog->defs[i]->node->kind != I_NET) // nets are not values
      c[n++] = I->prog->defs[i]->name;
  for (int i = 1; i < OP__COUNT; i++)
    c[n++] = op_table[i].name;
  for (int i = 0; builtin_funcs[i]; i++)
    c[n++] = builtin_funcs[i];
  return nearest(name, c, n);
}

Value *eval_args(Interp *I, Frame *F, Node **kids, int nkids, Value *piped, Loc piped_loc, CallArgs *a) {
  int n = nkids + (piped ? 1 : 0);
  a->pos = xalloc((size_t)(n + 1) * sizeof *a->pos);
  a->posloc = xalloc((size_t)(n + 1) * sizeof *a->posloc);
  a->kw = xalloc((size_t)(n + 1) * sizeof *a->kw);
  a->kwval = xalloc((size_t)(n + 1) * sizeof *a->kwval);
  a->kwloc = xalloc((size_t)(n + 1) * sizeof *a->kwloc);
  if (piped) {
    a->pos[a->npos] = piped;
    a->posloc[a->npos++] = piped_loc;
  }
  Value *failed = NULL;
  for (int i = 0; i < nkids; i++) {
    Node *k = kids[i];
    if (k->kind == N_ARG) {
      for (int j = 0; j < a->nkw; j++)
        if (a->kw[j] == k->str) {
          error_at(k->loc, "keyword argument '%s' given twice", k->str);
          return POISON;
        }
      Value *v = eval(I, F, k->lhs);
      a->kw[a->nkw] = k->str;
      a->kwval[a->nkw] = v ? v : POISON;
      a->kwloc[a->nkw++] = k->loc;
      if (!v)
        failed = POISON;
    } else {
      if (a->nkw) {
        error_at(k->loc, "positional argument after keyword arguments");
        return POISON;
      }
      Value *v = eval(I, F, k);
      a->pos[a->npos] = v ? v : POISON;
      a->posloc[a->npos++] = k->loc;
      if (!v)
        failed = POISON;
    }
  }
  return failed;
}

static Value *do_call(Interp *I, Frame *F, Value *callee, Node *callee_node, Node **kids, int nkids, Value *piped,
                      Loc piped_loc, Loc loc, Node *label) {
  if (callee == POISON)
    return NULL;
  if (callee->kind != V_OP && callee->kind != V_BLOCK && callee->kind != V_FUNC) {
    if (piped)
      error_at(loc, "a pipe stage must name a layer or block; '%s' is %s",
               callee_node->kind == N_NAME ? callee_node->str : "this", value_what(callee));
    else
      error_at(loc, "%s is not callable", value_kind_name(callee));
    return NULL;
  }
  CallArgs a = {0};
  if (eval_args(I, F, kids, nkids, piped, piped_loc, &a) == POISON && diag_error_count())
    return NULL;
  if (callee->kind == V_FUNC && (strcmp(callee->s, "chunk") == 0 || strcmp(callee->s, "split") == 0))
    return call_split(I, F, callee->s, &a, loc, label);
  if (label && callee->kind == V_FUNC) {
    error_at(label->loc, "a label names a layer or block; '%s' is a function", callee->s);
    return NULL;
  }
  switch (callee->kind) {
  case V_OP: return call_op(I, F, callee->op, &a, loc, label);
  case V_BLOCK: return call_block(I, F, callee->blk, &a, loc, label);
  case V_FUNC: return call_func(I, callee->s, &a, loc);
  // do_call's caller checked that the callee is callable.
  case V_NONE:
  case V_INT:
  case V_FLOAT:
  case V_BOOL:
  case V_STR:
  case V_TUPLE:
  case V_TENSOR:
  case V_WILD:
    break;
  }
  unreachable();
}

static Value *lookup(Interp *I, Frame *F, Node *n) {
  Value *v = scope_get(&F->scope, n->str);
  if (v) {
    if (!scope_get(&F->used, n->str))
      scope_set(&F->used, n->str, v);
    return v;
  }
  Def *d = find_def(I->prog, n->str);
  if (d) {
    if (d->node->kind == I_BLOCK) {
      if (!d->val) {
        d->val = xalloc(sizeof *d->val);
        d->val->kind = V_BLOCK;
        d->val->blk = d->node;
      }
      return d->val;
    }
    if (d->node->kind == I_NET) {
      error_at(n->loc, "'%s' is a net; nets are entry points and cannot be called (make it a block)", n->str);
      return NULL;
    }
    if (d->state == 2)
      return d->val;
    if (d->state == 1) {
      error_at(n->loc, "constant '%s' is defined in terms of itself", n->str);
      return NULL;
    }
    d->state = 1;
    Frame top = {0};
    top.inst = F->inst;
    Value *cv = eval(I, &top, d->node->rhs);
    d->state = cv ? 2 : 0;
    d->val = cv;
    return cv;
  }
  const OpInfo *op = find_op(n->str);
  if (op) {
    Value *ov = xalloc(sizeof *ov);
    ov->kind = V_OP;
    ov->op = op;
    return ov;
  }
  for (int i = 0; builtin_funcs[i]; i++)
    if (strcmp(builtin_funcs[i], n->str) == 0) {
      Value *fv = xalloc(sizeof *fv);
      fv->kind = V_FUNC;
      fv->s = builtin_funcs[i];
      return fv;
    }
  const char *s = suggest_name(I, F, n->str);
  if (s)
    error_at(n->loc, "undefined name '%s'; did you mean '%s'?", n->str, s);
  else
    error_at(n->loc, "undefined name '%s'", n->str);
  return NULL;
}

static bool is_num(const Value *v) { return v->kind == V_INT || v->kind == V_FLOAT; }
static double num(const Value *v) { return v->kind == V_INT ? (double)v->i : v->f; }

static Value *arith(Interp *I, Frame *F, Node *n, Value *a, Value *b) {
  int op = n->op;
  // Tensor arithmetic becomes a layer.
  if (a->kind == V_TENSOR || b->kind == V_TENSOR) {
    OpKind k = op == '@' ? OP_MATMUL : OP__COUNT; // the op whose symbol this is (op_arith_sym)
    for (int i = 0; i < OP__COUNT && k == OP__COUNT; i++)
      if (op_arith_sym((OpKind)i) == op)
        k = (OpKind)i;
    if (k == OP__COUNT) {
      error_at(n->loc, "'%s' is not defined for tensors (only +, -, *, / and @)", binop_str(op));
      return NULL;
    }
    CallArgs ca = {0};
    Value *pos[2] = {a, b};
    Loc locs[2] = {n->lhs->loc, n->rhs->loc};
    ca.pos = pos;
    ca.posloc = locs;
    ca.npos = 2;
    return call_op(I, F, &op_table[k], &ca, n->loc, NULL);
  }
  if (op == '+' && a->kind == V_STR && b->kind == V_STR) {
    char *s = format("%s%s", a->s, b->s);
    return new_str(intern(s, strlen(s)));
  }
  if (op == '+' && a->kind == V_TUPLE && b->kind == V_TUPLE) {
    Value *t = new_tuple(a->n + b->n);
    memcpy(t->items, a->items, (size_t)a->n * sizeof *t->items);
    memcpy(t->items + a->n, b->items, (size_t)b->n * sizeof *t->items);
    return t;
  }
  if (!is_num(a) || !is_num(b) || op == '@') {
    error_at(n->loc, "'%s' is not defined for %s and %s (%s, %s)%s", binop_str(op), value_kind_name(a),
             value_kind_name(b), value_str(a), value_str(b), op == '@' ? ": '@' multiplies tensors (matmul)" : "");
    return NULL;
  }
  if (a->kind == V_INT && b->kind == V_INT && op != '/') {
    int64_t x = a->i, y = b->i, r = 0;
    bool ovf = false;
    switch (op) {
    case '+': ovf = __builtin_add_overflow(x, y, &r); break;
    case '-': ovf = __builtin_sub_overflow(x, y, &r); break;
    case '*': ovf = __builtin_mul_overflow(x, y, &r); break;
    case TOK_FLOORDIV:
    case '%':
      if (y == 0) {
        error_at(n->loc, "division by zero (%lld %s 0)", (long long)x, binop_str(op));
        return NULL;
      }
      if (x == INT64_MIN && y == -1) {
        ovf = true;
        break;
      }
      r = x / y;
      if (x % y != 0 && ((x < 0) != (y < 0)))
        r--;
      if (op == '%')
        r = x - r * y;
      break;
    case TOK_POW:
      if (y < 0) {
        if (x == 0) {
          error_at(n->loc, "division by zero (0 ** %lld)", (long long)y);
          return NULL;
        }
        return new_float(pow((double)x, (double)y));
      }
      r = 1;
      for (int64_t i = 0; i < y && !ovf; i++)
        ovf = __builtin_mul_overflow(r, x, &r);
      break;
    default: unreachable();
    }
    if (ovf) {
      error_at(n->loc, "integer overflow in %lld %s %lld", (long long)x, binop_str(op), (long long)y);
      return NULL;
    }
    return new_int(r);
  }
  double x = num(a), y = num(b), r;
  switch (op) {
  case '+': r = x + y; break;
  case '-': r = x - y; break;
  case '*': r = x * y; break;
  case '/':
  case TOK_FLOORDIV:
  case '%':
    if (y == 0) {
      error_at(n->loc, "division by zero (%s %s 0)", value_str(a), binop_str(op));
      return NULL;
    }
    r = op == '/' ? x / y : op == '%' ? x - floor(x / y) * y : floor(x / y);
    break;
  case TOK_POW: r = pow(x, y); break;
  default: unreachable();
  }
  if (!isfinite(r)) {
    error_at(n->loc, "'%s' gives a result that is not finite", binop_str(op));
    return NULL;
  }
  return new_float(r);
}

static Value *compare(Node *n, Value *a, Value *b) {
  int op = n->op;
  if (op == TOK_EQ || op == TOK_NE) {
    bool eq = value_eq(a, b);
    return new_bool(op == TOK_EQ ? eq : !eq);
  }
  double x, y;
  if (is_num(a) && is_num(b)) {
    if (a->kind == V_INT && b->kind == V_INT) {
      int64_t p = a->i, q = b->i;
      return new_bool(op == '<' ? p < q : op == '>' ? p > q : op == TOK_LE ? p <= q : p >= q);
    }
    x = num(a), y = num(b);
    return new_bool(op == '<' ? x < y : op == '>' ? x > y : op == TOK_LE ? x <= y : x >= y);
  }
  if (a->kind == V_STR && b->kind == V_STR) {
    int c = strcmp(a->s, b->s);
    return new_bool(op == '<' ? c < 0 : op == '>' ? c > 0 : op == TOK_LE ? c <= 0 : c >= 0);
  }
  error_at(n->loc, "cannot compare %s and %s with '%s'", value_kind_name(a), value_kind_name(b), binop_str(op));
  return NULL;
}

Value *attr(Node *n, Value *v) {
  const char *a = n->str;
  if (v->kind == V_TENSOR) {
    const Shape *s = &v->t->shape;
    if (strcmp(a, "shape") == 0) {
      Value *t = new_tuple(s->rank);
      for (int i = 0; i < s->rank; i++)
        t->items[i] = new_int(s->d[i]);
      return t;
    }
    if (strcmp(a, "rank") == 0)
      return new_int(s->rank);
    if (strcmp(a, "numel") == 0)
      return new_int(shape_numel(s));
    int idx = strcmp(a, "channels") == 0 ? 1 : strcmp(a, "height") == 0 ? 2 : strcmp(a, "width") == 0 ? 3 : -1;
    if (idx >= 0) {
      if (s->rank <= idx) {
        error_at(n->loc, "'%s' needs a tensor of rank %d or more; this one is %s", a, idx + 1, shape_str(s));
        return NULL;
      }
      return new_int(s->d[idx]);
    }
    const char *attrs[] = {"shape", "rank", "numel", "channels", "height", "width"};
    const char *sug = nearest(a, attrs, 6);
    error_at(n->loc, "a tensor has no attribute '%s'%s%s%s", a, sug ? "; did you mean '" : "", sug ? sug : "",
             sug ? "'?" : "");
    return NULL;
  }
  error_at(n->loc, "%s has no attribute '%s'", value_what(v), a);
  return NULL;
}

static Value *eval_node(Interp *I, Frame *F, Node *n);

Value *eval(Interp *I, Frame *F, Node *n) {
  if (I->nesting >= MAX_NESTING) {
    error_at(n->loc, "expression nested too deeply (more than %d levels)", MAX_NESTING);
    return NULL;
  }
  I->nesting++;
  Value *v = eval_node(I, F, n);
  I->nesting--;
  return v;
}

// x -> a -> b -> c is a left-deep chain of N_PIPE nodes; walking it with a
// loop keeps the C stack flat for pipes of any length.
static Value *eval_pipe(Interp *I, Frame *F, Node *n) {
  int len = 0;
  for (Node *p = n; p->kind == N_PIPE; p = p->lhs)
    len++;
  Node **chain = xalloc((size_t)len * sizeof *chain);
  int k = len;
  Node *p = n;
  for (; p->kind == N_PIPE; p = p->lhs)
    chain[--k] = p;
  Value *x = eval(I, F, p);
  for (int i = 0; i < len && x; i++) {
    Node *st = chain[i]->rhs;
    Node *name = st->kind == N_CALL ? st->lhs : st;
    Value *callee = lookup(I, F, name);
    if (!callee || callee == POISON) {
      x = NULL;
      break;
    }
    if (!count_step(I, st->loc))
      x = NULL;
    else
      x = do_call(I, F, callee, name, st->kind == N_CALL ? st->kids : NULL, st->kind == N_CALL ? st->nkids : 0, x,
                  chain[i]->lhs->loc, st->loc, st->label);
  }
  return x;
}

static Value *eval_node(Interp *I, Frame *F, Node *n) {
  switch (n->kind) {
  case N_INT:
    if (n->op == TOK_TRUE || n->op == TOK_FALSE)
      return new_bool(n->ival != 0);
    return new_int(n->ival);
  case N_FLOAT: return new_float(n->fval);
  case N_STR: return new_str(n->str);
  case N_WILD: {
    Value *w = xalloc(sizeof *w);
    w->kind = V_WILD;
    return w;
  }
  case N_NAME: {
    Value *v = lookup(I, F, n);
    return v == POISON ? NULL : v;
  }
  case N_TUPLE:
  case N_LIST: {
    Value *t = new_tuple(n->nkids);
    for (int i = 0; i < n->nkids; i++)
      if (!(t->items[i] = eval(I, F, n->kids[i])))
        return NULL;
    return t;
  }
  case N_UNOP: {
    Value *v = eval(I, F, n->lhs);
    if (!v)
      return NULL;
    if (n->op == '!') {
      bool b;
      return value_truth(v, n->lhs->loc, &b) ? new_bool(!b) : NULL;
    }
    if (v->kind == V_INT) {
      if (v->i == INT64_MIN) {
        error_at(n->loc, "integer overflow in negation");
        return NULL;
      }
      return new_int(-v->i);
    }
    if (v->kind == V_FLOAT)
      return new_float(-v->f);
    if (v->kind == V_TENSOR) {
      CallArgs ca = {0};
      Value *pos[2] = {new_int(-1), v};
      Loc locs[2] = {n->loc, n->lhs->loc};
      ca.pos = pos, ca.posloc = locs, ca.npos = 2;
      return call_op(I, F, &op_table[OP_MUL], &ca, n->loc, NULL);
    }
    error_at(n->loc, "unary '-' is not defined for %s", value_kind_name(v));
    return NULL;
  }
  case N_BINOP: {
    Value *a = eval(I, F, n->lhs);
    if (!a)
      return NULL;
    if (n->op == TOK_ANDAND || n->op == TOK_OROR) {
      bool x;
      if (!value_truth(a, n->lhs->loc, &x))
        return NULL;
      if (x == (n->op == TOK_OROR))
        return new_bool(x);
      Value *b = eval(I, F, n->rhs);
      bool y;
      if (!b || !value_truth(b, n->rhs->loc, &y))
        return NULL;
      return new_bool(y);
    }
    Value *b = eval(I, F, n->rhs);
    if (!b)
      return NULL;
    switch (n->op) {
    case TOK_EQ: case TOK_NE: case '<': case '>': case TOK_LE: case TOK_GE: return compare(n, a, b);
    default: return arith(I, F, n, a, b);
    }
  }
  case N_COND: {
    Value *c = eval(I, F, n->lhs);
    bool b;
    if (!c || !value_truth(c, n->lhs->loc, &b))
      return NULL;
    return eval(I, F, b ? n->rhs : n->third);
  }
  case N_CALL: {
    Value *callee = eval(I, F, n->lhs);
    if (!callee)
      return NULL;
    return do_call(I, F, callee, n->lhs, n->kids, n->nkids, NULL, n->loc, n->loc, n->label);
  }
  case N_PIPE:
    return eval_pipe(I, F, n);
  case N_INDEX: {
    Value *v = eval(I, F, n->lhs);
    if (!v)
      return NULL;
    if (v->kind == V_TENSOR)
      return index_tensor(I, F, v->t, n);
    for (int k = 0; k < n->nkids; k++) {
      Node *sub = n->kids[k];
      if (sub->kind == N_SLICE && v->kind == V_TUPLE) { // Python's t[a:b:s], step >= 1
        int64_t part[3];
        if (!eval_slice(I, F, sub, part))
          return NULL;
        int64_t start = part[0], len = slice_bounds(v->n, &start, part[1], part[2]);
        Value *t = new_tuple((int)len);
        for (int64_t j = 0; j < len; j++)
          t->items[j] = v->items[start + j * part[2]];
        v = t;
        continue;
      }
      if (sub->kind == N_SLICE || sub->kind == N_ELLIPSIS) {
        error_at(sub->loc, "a %s indexes a tensor%s, not %s", sub->kind == N_SLICE ? "slice" : "'...'",
                 sub->kind == N_SLICE ? " or a tuple" : "", value_what(v));
        return NULL;
      }
      Value *iv = eval(I, F, n->kids[k]);
      int64_t i;
      if (!iv || !value_int(iv, n->kids[k]->loc, "index", &i))
        return NULL;
      if (v->kind != V_TUPLE) {
        error_at(n->loc, "cannot index %s", value_what(v));
        return NULL;
      }
      if (i < -(int64_t)v->n || i >= v->n) {
        error_at(n->kids[k]->loc, "index %lld is out of range for a tuple of %d element%s", (long long)i, v->n,
                 v->n == 1 ? "" : "s");
        return NULL;
      }
      v = v->items[i < 0 ? i + v->n : i];
    }
    return v;
  }
  case N_ATTR: {
    Value *v = eval(I, F, n->lhs);
    return v ? attr(n, v) : NULL;
  }
  // Keyword arguments are bound by their call; statements and items are
  // never evaluated as expressions (the parser keeps them apart).
  // A subscript takes its slices apart before evaluating their bounds, so a
  // slice reaching here stands where a value is needed: a shape's dims
  // (f32[1, :3]) or a shape tuple.
  case N_SLICE:
  case N_ELLIPSIS:
    error_at(n->loc, "%s stands only in a subscript of a tensor or a tuple, not where a value is needed",
             n->kind == N_SLICE ? "a slice" : "'...'");
    return NULL;
  case N_ARG:
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
  internal_error(__FILE__, __LINE__, format("eval: unexpected node kind %d", n->kind));
}

bool eval_slice(Interp *I, Frame *F, Node *s, int64_t part[3]) {
  part[0] = 0, part[1] = INT64_MAX, part[2] = 1;
  Node *pn[3] = {s->lhs, s->rhs, s->third};
  static const char *const what[3] = {"slice start", "slice end", "slice step"};
  for (int p = 0; p < 3; p++) {
    if (!pn[p])
      continue;
    Value *pv = eval(I, F, pn[p]);
    if (!pv || !value_int(pv, pn[p]->loc, what[p], &part[p]))
      return false;
  }
  if (part[2] < 1) {
    error_at(pn[2]->loc, "slice step must be positive (PyTorch has no negative steps), got %lld", (long long)part[2]);
    return false;
  }
  return true;
}

// A stated shape: [1, 512, ?, ?] or f32[1, 512, 7, 7]; dims are ints or '?'.
// With i64 non-NULL (a buffer), i64[...] is accepted too and *i64 says which.
Value *eval_shape_spec(Interp *I, Frame *F, Node *spec, bool *i64) {
  Node **dims;
  int n;
  if (i64)
    *i64 = false;
  if (spec->kind == N_INDEX && spec->lhs->kind == N_NAME) {
    if (i64 && strcmp(spec->lhs->str, "i64") == 0) {
      *i64 = true;
    } else if (strcmp(spec->lhs->str, "f32") != 0) {
      error_at(spec->lhs->loc, "unknown element type '%s' (%s)", spec->lhs->str,
               i64 ? "a buffer is f32 or i64" : "netc supports f32");
      return NULL;
    }
    dims = spec->kids, n = spec->nkids;
  } else if (spec->kind == N_LIST || spec->kind == N_TUPLE) {
    dims = spec->kids, n = spec->nkids;
  } else {
    error_at(spec->loc, "expected a shape such as [1, 3, 224, 224]");
    return NULL;
  }
  if (n < 1 || n > MAX_RANK) {
    error_at(spec->loc, "a shape has 1 to %d dimensions, got %d", MAX_RANK, n);
    return NULL;
  }
  Value *t = new_tuple(n);
  for (int i = 0; i < n; i++) {
    Value *v = eval(I, F, dims[i]);
    if (!v)
      return NULL;
    if (v->kind != V_WILD && v->kind != V_INT) {
      error_at(dims[i]->loc, "a dimension must be an integer or '?', got %s", value_str(v));
      return NULL;
    }
    t->items[i] = v;
  }
  return t;
}

