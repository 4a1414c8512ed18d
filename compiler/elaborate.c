// elaborate.c -- compile-time interpretation of a net into a Graph.
//
// Requires: a loaded Program (load.c).
// Fills:    a Graph: one Layer per primitive op in topological order, each
//           with attributes, shape (shape.c), module name and weights; and
//           one Inst per block instance (naming scope, report row).
//
// The interpreter is small and dynamically typed: calling a built-in op on a
// tensor appends a layer and computes its shape at once; calling a block
// runs its body in a fresh scope; `for` unrolls; `if` is decided here. What
// remains is a static DAG with every shape known.
//
// Errors: the first error in a block instance stops that instance; the
// failed value becomes "poison", which later statements pass along silently,
// so one mistake gives one message (plus the instantiation backtrace as notes)
// while independent mistakes in the net body are all reported.
//
// This file holds statements, calls of ops and blocks, naming and the net
// driver; expressions are in eval.c and the built-in functions in
// builtins.c, sharing the interpreter state of elab.h.
#include "elab.h"

#include <string.h>

Limits limits = {200, 50000000, 10000000, 0, -1, 0, 0};

Value elab_poison = {.kind = V_NONE};

// ---- scopes ---------------------------------------------------------------------

Value *scope_get(Scope *s, const char *k) {
  if (!s->cap)
    return NULL;
  size_t h = ((uintptr_t)k >> 3) & (size_t)(s->cap - 1);
  while (s->keys[h]) {
    if (s->keys[h] == k)
      return s->vals[h];
    h = (h + 1) & (size_t)(s->cap - 1);
  }
  return NULL;
}

void scope_set(Scope *s, const char *k, Value *v) {
  if ((s->n + 1) * 2 > s->cap) {
    Scope ns = {0};
    ns.cap = s->cap ? s->cap * 2 : 16;
    ns.keys = xalloc((size_t)ns.cap * sizeof *ns.keys);
    ns.vals = xalloc((size_t)ns.cap * sizeof *ns.vals);
    for (int i = 0; i < s->cap; i++)
      if (s->keys[i])
        scope_set(&ns, s->keys[i], s->vals[i]);
    *s = ns;
  }
  size_t h = ((uintptr_t)k >> 3) & (size_t)(s->cap - 1);
  while (s->keys[h] && s->keys[h] != k)
    h = (h + 1) & (size_t)(s->cap - 1);
  if (!s->keys[h])
    s->n++;
  s->keys[h] = k;
  s->vals[h] = v;
}

// ---- limits and diagnostics -----------------------------------------------------

// Backtrace notes of deep recursion: the innermost and outermost five
// frames are shown, the ones between summarised in one line (as GCC does).
#define BACKTRACE_EDGE 5
static bool backtrace_note(Interp *I, Loc loc) {
  if (I->note_top < 0)
    I->note_top = I->depth;
  if (I->note_top - I->depth < BACKTRACE_EDGE || I->depth < BACKTRACE_EDGE)
    return true;
  if (I->depth == BACKTRACE_EDGE)
    note_at(loc, "[skipping %d further block instantiations]", I->note_top - 2 * BACKTRACE_EDGE + 1);
  return false;
}

static bool exec_block(Interp *I, Frame *F, Node **body, int nbody);

// Did-you-mean: the nearest name within an edit distance of about a third.
const char *nearest(const char *name, const char **cands, int n) {
  const char *best = NULL;
  int len = (int)strlen(name);
  int bestd = len / 3 + 1;
  for (int i = 0; i < n; i++) {
    if (!cands[i] || strcmp(cands[i], name) == 0)
      continue;
    int d = edit_distance(name, cands[i]);
    // Replacing most of a short name is not a typo ("k" is not "x").
    if (d < bestd || (d == bestd && best == NULL)) {
      if (d <= bestd && d < len) {
        bestd = d;
        best = cands[i];
      }
    }
  }
  return best;
}

bool count_step(Interp *I, Loc loc) {
  if (++I->steps <= limits.max_steps)
    return true;
  if (!I->step_limit_hit)
    error_at(loc, "elaboration exceeded %lld steps (statements and loop iterations); is a loop too long? "
                  "(raise the limit with --max-steps)", (long long)limits.max_steps);
  I->step_limit_hit = true;
  return false;
}

// ---- graph building -------------------------------------------------------------

static Layer *new_layer(Interp *I, OpKind op, Loc loc, Inst *inst) {
  Graph *g = I->g;
  Layer *l = xalloc(sizeof *l);
  l->op = op;
  l->loc = loc;
  l->inst = inst;
  l->offset = -1;
  l->conv.stated_in = l->norm.num_features = -1; // not stated
  l->id = g->nlayers;
  return l;
}

static bool append_layer(Interp *I, Layer *l) {
  Graph *g = I->g;
  if (g->nlayers >= limits.max_layers) {
    error_at(l->loc, "the net has more than %lld layers (raise the limit with --max-layers)",
             (long long)limits.max_layers);
    return false;
  }
  g->layers = grow(g->layers, &g->caplayers, g->nlayers + 1, sizeof *g->layers);
  l->id = g->nlayers;
  g->layers[g->nlayers++] = l;
  return true;
}

static const char *join_name(const char *scope, const char *comp) {
  return scope[0] ? format("%s.%s", scope, comp) : xstrdup(comp);
}

// A block instance takes its name (and its parent's next auto index) only
// when it creates its first layer: a block called merely to compute a value
// must not shift nn.Sequential numbering. Until then inst->name is NULL and
// inst->label holds its label, if it had one.
static const char *inst_name(Inst *inst) {
  if (!inst->name) {
    const char *parent = inst_name(inst->parent);
    const char *comp = inst->label ? inst->label : format("%d", inst->parent->next_index++);
    inst->name = join_name(parent, comp);
  }
  return inst->name;
}

// A label string: one or more parts joined by '.', each a non-empty run of
// letters, digits, '_' and '-'. A part is what PyTorch's add_module takes
// (RegNet's "block1-0"); the dots name nested modules at once ("a.b" is
// module b inside module a, as in the state_dict's "a.b.weight"). Nothing
// else: the names go into reports, C string literals and C identifiers
// (with '-' and '.' as '_').
static bool label_ok(const char *s) {
  static const char part[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  for (;;) {
    size_t n = strspn(s, part);
    if (n == 0)
      return false;
    s += n;
    if (*s == '\0')
      return true;
    if (*s++ != '.')
      return false;
  }
}

// The name component of a module or block call: its label, else the scope's
// next auto index (nn.Sequential numbering).
static const char *component(Interp *I, Frame *F, Node *label, bool takes_index, const char *fallback, bool *ok) {
  *ok = true;
  if (label) {
    Value *v = eval(I, F, label);
    if (!v) {
      *ok = false;
      return NULL;
    }
    if (v->kind == V_STR && label_ok(v->s))
      return v->s;
    if (v->kind == V_INT && v->i >= 0)
      return format("%lld", (long long)v->i);
    error_at(label->loc, "a label must be a name (letters, digits, '_', '-'; '.' between parts) or a non-negative "
             "integer, got %s", value_str(v));
    *ok = false;
    return NULL;
  }
  if (takes_index)
    return format("%d", F->inst->next_index++);
  return fallback;
}

static bool register_weights(Interp *I, Layer *l) {
  for (int i = 0; i < l->nweights; i++) {
    Weight *w = &l->weights[i];
    w->name = *w->name ? format("%s.%s", l->name, w->name) : l->name; // a param is its own tensor
    const char *key = intern(w->name, strlen(w->name));
    Value *prev = scope_get(&I->weight_names, key);
    if (prev) {
      error_at(l->loc, "duplicate weight name '%s'", w->name);
      if (op_in_blob(prev->t->op))
        note_at(prev->t->loc, "also the name of this %s", op_table[prev->t->op].name);
      else
        note_at(prev->t->loc, "also the name of this layer's weight; give one of them another label");
      return false;
    }
    scope_set(&I->weight_names, key, new_tensor(l));
    Graph *g = I->g;
    g->weights = grow(g->weights, &g->capweights, g->nweights + 1, sizeof *g->weights);
    g->weights[g->nweights++] = w;
  }
  return true;
}

// Flattens tensor arguments (a tuple of tensors counts as its elements).
static bool collect_tensors(Value *v, Layer ***out, int *n, int *cap, bool *poisoned) {
  if (v == POISON) {
    *poisoned = true;
    return true;
  }
  if (v->kind == V_TENSOR) {
    *out = grow(*out, cap, *n + 1, sizeof **out);
    (*out)[(*n)++] = v->t;
    return true;
  }
  if (v->kind == V_TUPLE) {
    for (int i = 0; i < v->n; i++)
      if (!collect_tensors(v->items[i], out, n, cap, poisoned))
        return false;
    return true;
  }
  return false;
}

// ---- argument binding -----------------------------------------------------------

// A callee as the argument binder sees it. Op and block calls bind their
// arguments alike and differ only in how a mistake is explained: an op shows
// its signature at the call, a block points at its definition.
typedef struct Callee {
  const char *name;          // the op's or the block's
  bool block;                // messages say "block 'name'"
  const char *const *params; // parameter names, positional ones first
  int nparams, npositional;  // a block's parameters are all positional
  const char *inferred;      // an op's parameter inferred when not given, named when positionals are too many
  const char *signature;     // an op's, noted at the call
  Loc call, defined;         // the call; a block's definition
} Callee;

// How messages name the callee.
static const char *callee_who(const Callee *c) { return c->block ? format("block '%s'", c->name) : c->name; }

static void callee_note(const Callee *c) {
  if (c->block)
    note_at(c->defined, "'%s' is defined here", c->name);
  else
    note_at(c->call, "signature: %s", c->signature);
}

// Binds a's positionals from index first on, then its keywords by name, to
// c's parameters: out[i] (and outloc[i], when given) for params[i], NULL when
// not given (out has nparams zeroed slots). Reports too many positionals, an
// unknown name (with the nearest one) and a parameter given twice. A keyword
// whose value failed to evaluate fails the binding silently.
static bool bind_args(const Callee *c, CallArgs *a, int first, Value **out, Loc *outloc) {
  int npos = a->npos - first;
  if (npos > c->npositional) {
    Loc at = a->posloc[first + c->npositional];
    const char *s = c->npositional == 1 ? "" : "s";
    if (c->block) {
      error_at(at, "block '%s' takes %d argument%s but %d were given", c->name, c->npositional, s, npos);
    } else if (c->inferred) {
      // PyTorch's Conv2d(3, 16, 3) and Linear(784, 10) take the input size first; netc infers it.
      char *names = xstrdup("");
      for (int j = 0; j < c->npositional; j++)
        names = format("%s%s%s", names, j ? ", " : "", c->params[j]);
      error_at(at, "%s takes %d positional argument%s (%s) but %d were given; %s is inferred (write %s=N to state "
                   "it)", c->name, c->npositional, s, names, npos, c->inferred, c->inferred);
    } else {
      error_at(at, "%s takes %d positional argument%s but %d were given", c->name, c->npositional, s, npos);
    }
    callee_note(c);
    return false;
  }
  for (int i = 0; i < npos; i++) {
    out[i] = a->pos[first + i];
    if (outloc)
      outloc[i] = a->posloc[first + i];
  }
  for (int k = 0; k < a->nkw; k++) {
    int idx = -1;
    for (int j = 0; j < c->nparams; j++)
      if (strcmp(c->params[j], a->kw[k]) == 0)
        idx = j;
    if (idx < 0) {
      const char *s = nearest(a->kw[k], (const char **)c->params, c->nparams);
      if (s)
        error_at(a->kwloc[k], "%s has no parameter '%s'; did you mean '%s'?", callee_who(c), a->kw[k], s);
      else
        error_at(a->kwloc[k], "%s has no parameter '%s'", callee_who(c), a->kw[k]);
      callee_note(c);
      return false;
    }
    if (out[idx]) {
      error_at(a->kwloc[k], "%s: argument '%s' given twice", callee_who(c), a->kw[k]);
      return false;
    }
    if (a->kwval[k] == POISON)
      return false;
    out[idx] = a->kwval[k];
    if (outloc)
      outloc[idx] = a->kwloc[k];
  }
  return true;
}

// Calls a built-in op: binds arguments, creates the layer, infers its shape.
Value *call_op(Interp *I, Frame *F, const OpInfo *op, CallArgs *a, Loc loc, Node *label) {
  Layer **ins = NULL;
  int nin = 0, capin = 0, first_attr = 0;
  bool poisoned = false;
  double scalar = 0;
  bool has_scalar = false, scalar_left = false;

  for (int i = 0; i < a->npos; i++)
    if (a->pos[i] == POISON)
      return NULL; // an earlier error already explains this

  switch (op->arity) {
  case OPA_VARIADIC:
    for (first_attr = 0; first_attr < a->npos; first_attr++) {
      Value *v = a->pos[first_attr];
      if (!collect_tensors(v, &ins, &nin, &capin, &poisoned)) {
        error_at(a->posloc[first_attr], "%s: expected tensors, got %s", op->name, value_what(v));
        return NULL;
      }
    }
    if (nin == 0) {
      error_at(loc, "%s: expected at least one tensor", op->name);
      return NULL;
    }
    break;
  case OPA_BINARY:
    if (a->npos != 2) {
      error_at(loc, "%s takes 2 arguments but %d were given", op->name, a->npos);
      return NULL;
    }
    for (int i = 0; i < 2; i++) {
      Value *v = a->pos[i];
      if (v->kind == V_TENSOR) {
        ins = grow(ins, &capin, nin + 1, sizeof *ins);
        ins[nin++] = v->t;
      } else if ((v->kind == V_INT || v->kind == V_FLOAT) && (op->flags & OPF_SCALAR) && !has_scalar &&
                 (i == 0 || nin == 1)) {
        scalar = v->kind == V_INT ? (double)v->i : v->f;
        has_scalar = true;
        scalar_left = i == 0;
      } else {
        if ((v->kind == V_INT || v->kind == V_FLOAT) && !(op->flags & OPF_SCALAR))
          error_at(a->posloc[i], "%s: both operands must be tensors, got %s", op->name, value_what(v));
        else if (v->kind == V_INT || v->kind == V_FLOAT)
          error_at(loc, "%s: at least one operand must be a tensor", op->name);
        else
          error_at(a->posloc[i], "%s: expected a tensor or a number, got %s", op->name, value_what(v));
        return NULL;
      }
    }
    if (nin == 0) {
      error_at(loc, "%s: at least one operand must be a tensor", op->name);
      return NULL;
    }
    first_attr = 2;
    break;
  case OPA_UNARY:
    if (a->npos == 0 || a->pos[0]->kind != V_TENSOR) {
      if (a->npos == 0)
        error_at(loc, "%s: missing the input tensor (write x -> %s(...) or %s(x, ...))", op->name, op->name, op->name);
      else
        error_at(a->posloc[0], "%s: expected an input tensor as the first argument, got %s", op->name,
                 value_what(a->pos[0]));
      note_at(loc, "signature: %s", op->signature);
      return NULL;
    }
    ins = xalloc(sizeof *ins);
    ins[nin++] = a->pos[0]->t;
    first_attr = 1;
    break;
  case OPA_NULLARY: // numbers only
    for (int i = 0; i < a->npos; i++)
      if (a->pos[i]->kind == V_TENSOR) {
        error_at(a->posloc[i], "%s makes a tensor from numbers and takes no tensor (a pipe passes one)", op->name);
        note_at(loc, "signature: %s", op->signature);
        return NULL;
      }
    first_attr = 0;
    break;
  case OPA_NONE: // net inputs are not callable (find_op never returns one)
    unreachable();
  }

  // Bind the remaining positionals and the keywords to the op's parameters.
  Value *args[16] = {0};
  Loc argloc[16];
  int nparams = 0;
  while (op->params[nparams])
    nparams++;
  const char *inferred = NULL;
  if (op_is_conv(op->kind) || op->kind == OP_CONV_TRANSPOSE2D)
    inferred = "in_channels";
  else if (op->kind == OP_LINEAR)
    inferred = "in_features";
  Callee c = {.name = op->name, .params = op->params, .nparams = nparams, .npositional = op->npositional,
              .inferred = inferred, .signature = op->signature, .call = loc};
  if (!bind_args(&c, a, first_attr, args, argloc))
    return NULL;
  // index_select's index is a tensor argument, its second input. It must be
  // an i64 buffer: a gather by a constant table (Swin's relative positions),
  // whose values the loader checks against the dim they index.
  if (op->kind == OP_INDEX_SELECT) {
    Value *iv = args[1];
    if (!iv) {
      error_at(loc, "index_select: missing required argument 'index'");
      note_at(loc, "signature: %s", op->signature);
      return NULL;
    }
    if (iv == POISON)
      return NULL;
    if (iv->kind != V_TENSOR || iv->t->op != OP_BUFFER || !iv->t->decl.i64) {
      error_at(argloc[1], "index_select: the index must be an i64 buffer (declared as 'buffer NAME: i64[n];'), got %s",
               iv->kind != V_TENSOR     ? value_what(iv)
               : iv->t->op == OP_BUFFER ? "a float buffer"
                                        : format("a tensor computed by %s", op_table[iv->t->op].name));
      return NULL;
    }
    ins = xrealloc(ins, sizeof *ins, 2 * sizeof *ins);
    ins[nin++] = iv->t;
    args[1] = NULL;
  }

  Layer *l = new_layer(I, op->kind, loc, F->inst);
  l->in = ins;
  l->nin = nin;
  l->ew.scalar = scalar;
  l->ew.scalar_left = scalar_left;
  if (has_scalar && op->kind == OP_MUL)
    l->ew.scalar_left = false; // commutative
  if (!op_set_attrs(l, args, argloc, loc) || !infer_shape(l))
    return NULL;
  if (l->op == OP_INDEX_SELECT) { // the loader checks the indices against the dim they pick from
    Weight *w = &l->in[1]->weights[0];
    int64_t n = l->in[0]->shape.d[l->dims.v[0]];
    if (n < w->index_limit)
      w->index_limit = n;
  }
  bool ok;
  const char *comp = component(I, F, label, op->flags & OPF_MODULE, op->name, &ok);
  if (!ok)
    return NULL;
  l->name = join_name(inst_name(F->inst), comp);
  op_make_weights(l);
  if (!register_weights(I, l) || !append_layer(I, l))
    return NULL;
  return new_tensor(l);
}

// A narrow, squeeze or slice layer on dim d of x, named SCOPE.comp (comp
// NULL: the op's name): the pieces of chunk / split and of a subscript.
static Layer *dim_layer(Interp *I, Frame *F, OpKind op, Layer *x, int d, int64_t start, int64_t end, int64_t step,
                        Loc loc, const char *comp) {
  Layer *l = new_layer(I, op, loc, F->inst);
  l->in = xalloc(sizeof *l->in);
  l->in[0] = x;
  l->nin = 1;
  l->dims.n = 1;
  l->dims.v[0] = d;
  l->dims.start = start;
  l->dims.length = end - start; // narrow
  l->dims.end = end;            // slice
  l->dims.step = step;
  if (!infer_shape(l))
    return NULL;
  l->name = join_name(inst_name(F->inst), comp ? comp : op_table[op].name);
  return append_layer(I, l) ? l : NULL;
}

// chunk and split: torch.chunk / torch.split, a tuple of slices along one
// dim, each a narrow layer (a view when the slice is contiguous). Sizes as
// PyTorch: chunk gives pieces of ceil(size / chunks), the last one smaller,
// and so possibly fewer than `chunks` pieces; split takes one piece size
// (the last piece smaller) or the list of sizes.
static const char *const chunk_params[] = {"chunks", "dim", NULL};
static const char *const split_params[] = {"split_size_or_sections", "dim", NULL};

Value *call_split(Interp *I, Frame *F, const char *f, CallArgs *a, Loc loc, Node *label) {
  bool chunk = strcmp(f, "chunk") == 0;
  const char *sig = chunk ? "chunk(x, chunks, dim=0)" : "split(x, split_size_or_sections, dim=0)";
  for (int i = 0; i < a->npos; i++)
    if (a->pos[i] == POISON)
      return NULL;
  if (a->npos == 0 || a->pos[0]->kind != V_TENSOR) {
    if (a->npos == 0)
      error_at(loc, "%s: missing the input tensor (write x -> %s(...) or %s(x, ...))", f, f, f);
    else
      error_at(a->posloc[0], "%s: expected an input tensor as the first argument, got %s", f,
               value_what(a->pos[0]));
    note_at(loc, "signature: %s", sig);
    return NULL;
  }
  Callee c = {.name = f, .params = chunk ? chunk_params : split_params, .nparams = 2, .npositional = 2,
              .signature = sig, .call = loc};
  Value *args[2] = {0};
  Loc argloc[2];
  if (!bind_args(&c, a, 1, args, argloc))
    return NULL;
  if (!args[0]) {
    error_at(loc, "%s: missing required argument '%s'", f, c.params[0]);
    note_at(loc, "signature: %s", sig);
    return NULL;
  }
  Layer *x = a->pos[0]->t;
  const Shape *xs = &x->shape;
  int64_t dim = 0;
  if (args[1] && !value_int(args[1], argloc[1], "dim", &dim))
    return NULL;
  if (dim < -xs->rank || dim >= xs->rank) {
    error_at(args[1] ? argloc[1] : loc, "%s: dim=%lld is out of range for a %dD input %s (expected %d..%d)", f,
             (long long)dim, xs->rank, shape_str(xs), -xs->rank, xs->rank - 1);
    return NULL;
  }
  if (dim < 0)
    dim += xs->rank;
  const int64_t size = xs->d[dim];
  // The piece sizes.
  int64_t *len = NULL;
  int n = 0, cap = 0;
  Value *v = args[0];
  if (!chunk && v->kind == V_TUPLE) {
    int64_t sum = 0;
    for (int i = 0; i < v->n; i++) {
      len = grow(len, &cap, n + 1, sizeof *len);
      if (!value_int(v->items[i], argloc[0], "split_size_or_sections", &len[n]))
        return NULL;
      if (len[n] < 1) {
        error_at(argloc[0], "split: section %d is %lld; sections must be positive", i, (long long)len[n]);
        return NULL;
      }
      if (__builtin_add_overflow(sum, len[n], &sum))
        sum = INT64_MAX;
      n++;
    }
    if (sum != size) {
      error_at(argloc[0], "split: the sections %s add up to %lld, but dim %lld of %s has size %lld", value_str(v),
               (long long)sum, (long long)dim, shape_str(xs), (long long)size);
      return NULL;
    }
  } else {
    int64_t k;
    if (!value_int(v, argloc[0], c.params[0], &k))
      return NULL;
    if (k < 1) {
      error_at(argloc[0], "%s: %s must be positive, got %lld", f, c.params[0], (long long)k);
      return NULL;
    }
    int64_t piece = chunk ? (size + k - 1) / k : k;
    if ((size + piece - 1) / piece > limits.max_layers) {
      error_at(loc, "%s: %lld pieces is more than the layer limit (%lld)", f, (long long)((size + piece - 1) / piece),
               (long long)limits.max_layers);
      return NULL;
    }
    for (int64_t at = 0; at < size; at += piece) {
      len = grow(len, &cap, n + 1, sizeof *len);
      len[n++] = size - at < piece ? size - at : piece;
    }
  }
  bool ok;
  const char *comp = component(I, F, label, false, f, &ok);
  if (!ok)
    return NULL;
  Value *t = new_tuple(n);
  int64_t start = 0;
  for (int i = 0; i < n; i++) {
    // The pieces fit by construction: only the layer limit can refuse one.
    Layer *l = dim_layer(I, F, OP_NARROW, x, (int)dim, start, start + len[i], 1, loc, format("%s.%d", comp, i));
    if (!l)
      return NULL;
    start += len[i];
    t->items[i] = new_tensor(l);
  }
  return t;
}

// x[...], PyTorch's basic indexing. An integer picks one position and drops
// its dim (narrow + squeeze); a slice a:b:s keeps every s-th position of
// [a, b) (a narrow when s is 1, a slice layer otherwise); '...' stands for
// the dims no subscript names. A subscript that keeps a whole dim makes no
// layer, so x[:, 0] is a narrow and a squeeze (views of a batch-1 tensor).
Value *index_tensor(Interp *I, Frame *F, Layer *x, Node *n) {
  const int rank = x->shape.rank;
  int nsub = 0, ell = -1;
  for (int k = 0; k < n->nkids; k++) {
    if (n->kids[k]->kind != N_ELLIPSIS) {
      nsub++;
    } else if (ell >= 0) {
      error_at(n->kids[k]->loc, "an index can have only one '...'");
      return NULL;
    } else {
      ell = k;
    }
  }
  if (nsub > rank) {
    error_at(n->loc, "too many indices for a %dD tensor %s: %d", rank, shape_str(&x->shape), nsub);
    return NULL;
  }
  Layer *cur = x;
  int d = 0; // the dim of cur the next subscript applies to
  for (int k = 0; k < n->nkids; k++) {
    Node *s = n->kids[k];
    if (s->kind == N_ELLIPSIS) {
      d += rank - nsub;
      continue;
    }
    const int64_t size = cur->shape.d[d];
    if (s->kind != N_SLICE) {
      Value *iv = eval(I, F, s);
      int64_t i;
      if (!iv || !value_int(iv, s->loc, "index", &i))
        return NULL;
      if (i < -size || i >= size) {
        error_at(s->loc, "index %lld is out of range for dim %d of %s (size %lld)", (long long)i, d,
                 shape_str(&cur->shape), (long long)size);
        return NULL;
      }
      if (cur->shape.rank == 1) {
        error_at(s->loc, "an integer index of a 1-D tensor gives a 0-d tensor, which netc does not have (keep the "
                         "dim with a slice: %lld:%lld)", (long long)i, (long long)i + 1);
        return NULL;
      }
      if (i < 0)
        i += size;
      if (!(cur = dim_layer(I, F, OP_NARROW, cur, d, i, i + 1, 1, s->loc, NULL)) ||
          !(cur = dim_layer(I, F, OP_SQUEEZE, cur, d, 0, 0, 1, s->loc, NULL)))
        return NULL;
      continue;
    }
    int64_t part[3];
    if (!eval_slice(I, F, s, part))
      return NULL;
    int64_t start = part[0];
    int64_t len = slice_bounds(size, &start, part[1], part[2]);
    if (len == 0) {
      error_at(s->loc, "this slice of dim %d of %s (size %lld) is empty; netc's tensors have no empty dims", d,
               shape_str(&cur->shape), (long long)size);
      return NULL;
    }
    if (part[2] == 1 && len < size)
      cur = dim_layer(I, F, OP_NARROW, cur, d, start, start + len, 1, s->loc, NULL);
    else if (part[2] > 1 && len > 1)
      cur = dim_layer(I, F, OP_SLICE, cur, d, start, part[1], part[2], s->loc, NULL);
    else if (part[2] > 1) // one position: a narrow
      cur = dim_layer(I, F, OP_NARROW, cur, d, start, start + 1, 1, s->loc, NULL);
    if (!cur)
      return NULL;
    d++;
  }
  return new_tensor(cur);
}

// ---- blocks ---------------------------------------------------------------------

static char *args_summary(Frame *callee, Node *blk) {
  char *s = xstrdup("");
  int shown = 0;
  for (int i = 0; i < blk->nparams; i++) {
    Value *v = scope_get(&callee->scope, blk->params[i]->str);
    if (!v || v->kind == V_TENSOR || v == POISON)
      continue;
    char *vs = value_str(v);
    if (strlen(vs) > 40)
      vs = format("%.37s...", vs);
    s = format("%s%s%s=%s", s, shown++ ? ", " : "", blk->params[i]->str, vs);
  }
  return s;
}

Value *call_block(Interp *I, Frame *F, Node *blk, CallArgs *a, Loc loc, Node *label) {
  for (int i = 0; i < a->npos; i++)
    if (a->pos[i] == POISON)
      return NULL;
  for (int i = 0; i < a->nkw; i++)
    if (a->kwval[i] == POISON)
      return NULL;
  if (I->depth >= limits.max_depth) {
    error_at(loc, "block calls nested more than %d deep (infinite recursion?); raise the limit with --max-depth",
             limits.max_depth);
    return NULL;
  }
  // The binder matches names and positions; defaults, missing arguments and
  // stated shapes are a block's own and are handled below.
  const char **names = xalloc((size_t)(blk->nparams + 1) * sizeof *names);
  for (int j = 0; j < blk->nparams; j++)
    names[j] = blk->params[j]->str;
  Callee c = {.name = blk->str, .block = true, .params = names, .nparams = blk->nparams,
              .npositional = blk->nparams, .call = loc, .defined = blk->loc};
  Value **bound = xalloc((size_t)(blk->nparams + 1) * sizeof *bound);
  if (!bind_args(&c, a, 0, bound, NULL))
    return NULL;

  bool ok;
  const char *comp = component(I, F, label, false, NULL, &ok);
  if (!ok)
    return NULL;
  Inst *inst = xalloc(sizeof *inst);
  inst->label = comp; // NULL: an auto index, taken when the first layer appears (inst_name)
  inst->block = blk->str;
  inst->parent = F->inst;
  inst->depth = F->inst->depth + 1;
  inst->call_loc = loc;
  inst->first = I->g->nlayers;
  Graph *g = I->g;
  g->insts = grow(g->insts, &g->capinsts, g->ninsts + 1, sizeof *g->insts);
  g->insts[g->ninsts++] = inst;

  Frame callee = {0};
  callee.inst = inst;
  int before = diag_error_count();
  // Defaults are evaluated in the callee, left to right, so they may use
  // earlier parameters (pooling's stride = kernel_size style).
  for (int j = 0; j < blk->nparams; j++) {
    Node *p = blk->params[j];
    Value *v = bound[j];
    if (!v) {
      if (!p->rhs) {
        error_at(loc, "block '%s': missing argument '%s'", blk->str, p->str);
        note_at(blk->loc, "'%s' is defined here", blk->str);
        return NULL;
      }
      v = eval(I, &callee, p->rhs);
      if (!v)
        goto fail;
    }
    scope_set(&callee.scope, p->str, v);
    // `x: [1, ?, 56, 56]` on a block parameter states the argument's shape.
    if (p->lhs) {
      Value *spec = eval_shape_spec(I, &callee, p->lhs, NULL);
      if (!spec)
        goto fail;
      Value *actual = v->kind == V_TENSOR ? attr(&(Node){.kind = N_ATTR, .str = "shape", .loc = loc}, v) : NULL;
      if (!actual || !value_eq(spec, actual)) {
        char *st = value_str(spec);
        st[0] = '[';
        st[strlen(st) - 1] = ']';
        error_at(loc, "block '%s': argument '%s' should be a tensor of shape %s, got %s", blk->str, p->str, st,
                 v->kind == V_TENSOR ? shape_str(&v->t->shape) : value_str(v));
        note_at(p->loc, "the parameter is declared here");
        goto fail;
      }
    }
  }
  inst->args = args_summary(&callee, blk);
  I->depth++;
  bool body_ok = exec_block(I, &callee, blk->body, blk->nbody);
  I->depth--;
  if (!body_ok)
    goto fail;
  blk->uses++;
  for (int j = 0; j < blk->nparams; j++)
    if (scope_get(&callee.used, blk->params[j]->str))
      blk->params[j]->uses++;
  inst->last = I->g->nlayers - 1;
  if (inst->last < inst->first) {
    // No layers: a block used to compute values. It is no scope and no row.
    NETC_ASSERT(I->g->insts[I->g->ninsts - 1] == inst);
    I->g->ninsts--;
  }
  Value *r = callee.ret ? callee.ret : new_tuple(0);
  if (!callee.ret)
    r->kind = V_NONE;
  if (r->kind == V_TENSOR)
    inst->output = r->t;
  else if (r->kind == V_TUPLE && r->n > 0 && r->items[0]->kind == V_TENSOR)
    inst->output = r->items[0]->t;
  return r;

fail:
  inst->last = I->g->nlayers - 1;
  if (diag_error_count() > before && backtrace_note(I, loc))
    note_at(loc, "in block '%s'%s%s%s", blk->str, inst->args && inst->args[0] ? " (" : "",
            inst->args ? inst->args : "", inst->args && inst->args[0] ? ")" : "");
  return NULL;
}

// ---- statements -----------------------------------------------------------------

static bool bind_targets(Interp *I, Frame *F, Node *s, Value *v) {
  (void)I;
  if (s->nkids == 1) {
    scope_set(&F->scope, s->kids[0]->str, v ? v : POISON);
    return v != NULL;
  }
  if (v && (v->kind != V_TUPLE || v->n != s->nkids)) {
    error_at(s->loc, "cannot unpack %s into %d names", value_what(v), s->nkids);
    v = NULL;
  }
  for (int i = 0; i < s->nkids; i++)
    scope_set(&F->scope, s->kids[i]->str, v ? v->items[i] : POISON);
  return v != NULL;
}

// "param NAME: SHAPE;" and "buffer NAME: SHAPE;": a tensor the block (or
// net) owns, as nn.Parameter / register_buffer make one. It is named like a
// module's weights, scope.NAME (ConvNeXt's "features.1.0.layer_scale"), is
// loaded and validated like them, and binds NAME to a tensor whose data is
// in the weight blob. An i64 buffer holds indices (index_select).
static bool exec_decl(Interp *I, Frame *F, Node *s) {
  const char *what = s->str, *name = s->kids[0]->str;
  bool param = strcmp(what, "param") == 0;
  if (!param && strcmp(what, "buffer") != 0) {
    error_at(s->loc, "unknown declaration '%s': a statement of the form 'WORD NAME: SHAPE;' declares a 'param' or "
                     "a 'buffer'", what);
    return bind_targets(I, F, s, NULL);
  }
  bool i64 = false;
  if (param && s->lhs->kind == N_INDEX && s->lhs->lhs->kind == N_NAME && strcmp(s->lhs->lhs->str, "i64") == 0) {
    error_at(s->lhs->lhs->loc, "param '%s' is learned, so f32; integer indices go in a buffer (buffer %s: i64[...];)",
             name, name);
    return bind_targets(I, F, s, NULL);
  }
  Value *spec = eval_shape_spec(I, F, s->lhs, param ? NULL : &i64);
  if (!spec)
    return bind_targets(I, F, s, NULL);
  Layer *l = new_layer(I, param ? OP_PARAM : OP_BUFFER, s->kids[0]->loc, F->inst);
  l->decl.i64 = i64;
  l->shape.rank = spec->n;
  for (int i = 0; i < spec->n; i++) {
    Value *dv = spec->items[i];
    if (dv->kind != V_INT || dv->i < 1 || dv->i > ((int64_t)1 << 31)) {
      error_at(s->lhs->loc, "%s '%s': dimension %d must be a positive integer (at most 2^31), got %s", what, name, i,
               value_str(dv));
      return bind_targets(I, F, s, NULL);
    }
    l->shape.d[i] = dv->i;
  }
  l->name = join_name(inst_name(F->inst), name);
  op_make_weights(l);
  if (!register_weights(I, l) || !append_layer(I, l))
    return bind_targets(I, F, s, NULL);
  return bind_targets(I, F, s, new_tensor(l));
}

static bool exec_stmt(Interp *I, Frame *F, Node *s);

static bool exec_block(Interp *I, Frame *F, Node **body, int nbody) {
  bool ok = true;
  for (int i = 0; i < nbody && !F->returned; i++) {
    if (!exec_stmt(I, F, body[i])) {
      ok = false;
      if (F->inst->depth == 0)
        I->note_top = -1; // the next error gets its own backtrace
      // Inside a block instance the first error ends it; at net level we
      // go on (failed names are poison) to report independent errors too.
      if (F->inst->depth > 0 || I->step_limit_hit || diag_error_count() >= diag_max_errors)
        return false;
    }
  }
  return ok;
}

static bool exec_for(Interp *I, Frame *F, Node *s) {
  // range() in a for loop is iterated lazily: no tuple of a million ints.
  Node *r = s->rhs;
  bool lazy = r->kind == N_CALL && r->lhs->kind == N_NAME && strcmp(r->lhs->str, "range") == 0 &&
              !scope_get(&F->scope, r->lhs->str) && !find_def(I->prog, r->lhs->str);
  int64_t rg[3] = {0, 0, 1}, count;
  Value *seq = NULL;
  if (lazy) {
    CallArgs a = {0};
    if (eval_args(I, F, r->kids, r->nkids, NULL, r->loc, &a) == POISON)
      return false;
    if (a.nkw) {
      error_at(a.kwloc[0], "range takes no keyword arguments");
      return false;
    }
    if (!range_args(a.pos, a.posloc, a.npos, r->loc, rg))
      return false;
    count = range_len(rg);
  } else {
    seq = eval(I, F, r);
    if (!seq)
      return false;
    if (seq->kind != V_TUPLE) {
      error_at(r->loc, "a for loop iterates over a tuple or range(), got %s", value_what(seq));
      return false;
    }
    count = seq->n;
  }
  for (int64_t i = 0; i < count && !F->returned; i++) {
    if (!count_step(I, s->loc))
      return false;
    Value *item = lazy ? new_int(rg[0] + i * rg[2]) : seq->items[i];
    if (s->nkids > 1 && (item->kind != V_TUPLE || item->n != s->nkids)) {
      error_at(s->loc, "iteration %lld: cannot unpack %s into %d names", (long long)i, value_str(item), s->nkids);
      return false;
    }
    for (int k = 0; k < s->nkids; k++)
      scope_set(&F->scope, s->kids[k]->str, s->nkids == 1 ? item : item->items[k]);
    int before = diag_error_count();
    if (!exec_block(I, F, s->body, s->nbody)) {
      if (diag_error_count() > before && (I->note_top < 0 || backtrace_note(I, s->loc)))
        note_at(s->loc, "in loop iteration %lld (%s = %s)", (long long)i,
                s->nkids == 1 ? s->kids[0]->str : "item", value_str(item));
      return false;
    }
  }
  return true;
}

static bool exec_stmt_node(Interp *I, Frame *F, Node *s);

static bool exec_stmt(Interp *I, Frame *F, Node *s) {
  if (!count_step(I, s->loc))
    return false;
  if (I->nesting >= MAX_NESTING) {
    error_at(s->loc, "statements nested too deeply (more than %d levels)", MAX_NESTING);
    return false;
  }
  I->nesting++;
  bool ok = exec_stmt_node(I, F, s);
  I->nesting--;
  return ok;
}

static bool exec_stmt_node(Interp *I, Frame *F, Node *s) {
  switch (s->kind) {
  case S_ASSIGN: {
    Value *v = eval(I, F, s->rhs);
    if (v && s->lhs) {
      Value *spec = eval_shape_spec(I, F, s->lhs, NULL);
      if (!spec) {
        v = NULL;
      } else if (v->kind != V_TENSOR) {
        error_at(s->loc, "'%s' has a stated shape but its value is %s", s->kids[0]->str, value_what(v));
        v = NULL;
      } else {
        Value *actual = attr(&(Node){.kind = N_ATTR, .str = "shape", .loc = s->loc}, v);
        if (!value_eq(spec, actual)) {
          char *st = value_str(spec);
          st[0] = '[';
          st[strlen(st) - 1] = ']';
          error_at(s->lhs->loc, "stated shape %s does not match the computed shape %s", st, shape_str(&v->t->shape));
          note_at(v->t->loc, "the value comes from this %s", op_table[v->t->op].name);
          v = NULL;
        }
      }
    }
    return bind_targets(I, F, s, v);
  }
  case S_DECL: return exec_decl(I, F, s);
  case S_FOR: return exec_for(I, F, s);
  case S_IF: {
    Value *c = eval(I, F, s->lhs);
    bool b;
    if (!c || !value_truth(c, s->lhs->loc, &b))
      return false;
    if (b)
      return exec_block(I, F, s->body, s->nbody);
    return s->has_else ? exec_block(I, F, s->els, s->nels) : true;
  }
  case S_RETURN: {
    Value *v;
    if (s->nkids == 1) {
      v = eval(I, F, s->kids[0]);
    } else {
      v = new_tuple(s->nkids);
      for (int i = 0; i < s->nkids && v; i++)
        if (!(v->items[i] = eval(I, F, s->kids[i])))
          v = NULL;
    }
    if (!v)
      return false;
    F->ret = v;
    F->ret_loc = s->loc;
    F->returned = true;
    return true;
  }
  case S_ASSERT: {
    Value *c = eval(I, F, s->lhs);
    bool b;
    if (!c || !value_truth(c, s->lhs->loc, &b))
      return false;
    if (b)
      return true;
    if (s->rhs) {
      Value *m = eval(I, F, s->rhs);
      if (!m)
        return false;
      error_at(s->loc, "assertion failed: %s", m->kind == V_STR ? m->s : value_str(m));
    } else {
      error_at(s->loc, "assertion failed");
    }
    return false;
  }
  // Expressions and items are not statements (the parser never puts one here).
  case N_INT:
  case N_FLOAT:
  case N_STR:
  case N_NAME:
  case N_WILD:
  case N_TUPLE:
  case N_LIST:
  case N_BINOP:
  case N_UNOP:
  case N_COND:
  case N_CALL:
  case N_PIPE:
  case N_INDEX:
  case N_SLICE:
  case N_ELLIPSIS:
  case N_ATTR:
  case N_ARG:
  case I_IMPORT:
  case I_BLOCK:
  case I_NET:
  case I_CONST:
  case N_PARAM:
    break;
  }
  internal_error(__FILE__, __LINE__, "exec_stmt: not a statement");
}

// ---- nets -----------------------------------------------------------------------

// Parses a -D value as an expression of the language ("10", "(1, 2)", "\"same\"").
static Value *define_value(Interp *I, Frame *F, Define *d) {
  // The value sits alone on line 2 so diagnostics show what the user typed
  // (an unfinished one is reported at the end of that line; an empty value
  // is refused by main.c before it gets here).
  const char *text = format("__define =\n%s\n;", d->value);
  SrcFile *f = new_srcfile(format("-D %s", d->name), text, strlen(text));
  f->line_base = 1;
  f->last_line = 2;
  int before = diag_error_count();
  Module *m = parse_source(f);
  if (!m || m->nitems != 1 || m->items[0]->kind != I_CONST) {
    if (m && diag_error_count() == before)
      diag_plain("-D %s=%s: the value must be a single expression", d->name, d->value);
    d->bad = true;
    return NULL;
  }
  Value *v = eval(I, F, m->items[0]->rhs);
  if (!v)
    d->bad = true;
  return v;
}

Graph *elaborate(Program *p, const char *net, Define *defs, int ndefs) {
  Def *d = find_def(p, intern(net, strlen(net)));
  if (!d || d->node->kind != I_NET) {
    const char **names;
    int n = program_nets(p, &names);
    const char *s = nearest(net, names, n);
    if (d)
      diag_plain("'%s' is a %s, not a net", net, d->node->kind == I_BLOCK ? "block" : "constant");
    else if (s)
      diag_plain("no net named '%s'; did you mean '%s'?", net, s);
    else
      diag_plain("no net named '%s'", net);
    return NULL;
  }
  Node *nn = d->node;
  Interp I = {0};
  I.prog = p;
  I.note_top = -1;
  Graph *g = xalloc(sizeof *g);
  g->net = nn->str;
  g->file = nn->loc.file;
  g->loc = nn->loc;
  g->arena_align = 64;
  I.g = g;

  Inst *root = xalloc(sizeof *root);
  root->name = "";
  root->block = nn->str;
  root->call_loc = nn->loc;
  g->insts = grow(g->insts, &g->capinsts, 1, sizeof *g->insts);
  g->insts[g->ninsts++] = root;

  Frame F = {0};
  F.inst = root;
  bool ok = true;

  // -D overrides must name parameters of this net.
  for (int i = 0; i < ndefs; i++) {
    bool found = false;
    const char **c = xalloc((size_t)(nn->nparams + 1) * sizeof *c);
    for (int j = 0; j < nn->nparams; j++) {
      c[j] = nn->params[j]->lhs ? NULL : nn->params[j]->str; // suggest only what -D can set
      if (strcmp(nn->params[j]->str, defs[i].name) == 0)
        found = true;
    }
    if (!found) {
      const char *s = nearest(defs[i].name, c, nn->nparams);
      diag_plain("-D %s: net '%s' has no parameter '%s'%s%s%s", defs[i].name, net, defs[i].name,
                 s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
      defs[i].bad = true;
      ok = false;
    }
  }
  if (!ok)
    return NULL;

  for (int i = 0; i < ndefs; i++)
    for (int j = 0; j < nn->nparams; j++)
      if (nn->params[j]->lhs && strcmp(nn->params[j]->str, defs[i].name) == 0) {
        diag_plain("-D %s: '%s' is a tensor parameter of net '%s'; its shape is fixed in the file (give the "
                   "net a parameter for it, e.g. x: [batch, 3, 224, 224], batch = 1, and set that)",
                   defs[i].name, defs[i].name, net);
        defs[i].bad = true;
        ok = false;
      }
  if (!ok)
    return NULL;

  // Non-tensor parameters first (in order), so shapes may use them.
  for (int j = 0; j < nn->nparams; j++) {
    Node *pn = nn->params[j];
    if (pn->lhs)
      continue;
    Value *v = NULL;
    Define *def = NULL;
    for (int i = 0; i < ndefs; i++)
      if (strcmp(defs[i].name, pn->str) == 0)
        def = &defs[i];
    if (def)
      v = define_value(&I, &F, def);
    else if (pn->rhs)
      v = eval(&I, &F, pn->rhs);
    else
      error_at(pn->loc, "net parameter '%s' needs a default value or a shape (e.g. %s: [1, 3, 224, 224])", pn->str,
               pn->str);
    if (!v)
      return NULL;
    scope_set(&F.scope, pn->str, v);
  }
  for (int j = 0; j < nn->nparams; j++) {
    Node *pn = nn->params[j];
    if (!pn->lhs)
      continue;
    Value *spec = eval_shape_spec(&I, &F, pn->lhs, NULL);
    if (!spec)
      return NULL;
    Layer *in = new_layer(&I, OP_INPUT, pn->loc, root);
    in->name = pn->str;
    in->shape.rank = spec->n;
    for (int i = 0; i < spec->n; i++) {
      Value *dv = spec->items[i];
      if (dv->kind != V_INT || dv->i < 1 || dv->i > ((int64_t)1 << 31)) {
        error_at(pn->lhs->loc, "input '%s': dimension %d must be a positive integer (at most 2^31), got %s", pn->str,
                 i, value_str(dv));
        return NULL;
      }
      in->shape.d[i] = dv->i;
    }
    if (pn->rhs)
      note_at(pn->rhs->loc, "the default of a tensor parameter is ignored");
    if (!append_layer(&I, in))
      return NULL;
    g->inputs = xrealloc(g->inputs, (size_t)g->ninputs * sizeof *g->inputs, (size_t)(g->ninputs + 1) * sizeof *g->inputs);
    g->inputs[g->ninputs++] = in;
    scope_set(&F.scope, pn->str, new_tensor(in));
  }
  if (g->ninputs == 0) {
    error_at(nn->loc, "net '%s' has no input: give it a tensor parameter such as x: [1, 3, 224, 224]", net);
    return NULL;
  }

  int before = diag_error_count();
  ok = exec_block(&I, &F, nn->body, nn->nbody);
  if (!ok || diag_error_count() > before) {
    note_at(nn->loc, "while elaborating net '%s'", net);
    return NULL;
  }
  root->first = 0;
  root->last = g->nlayers - 1;
  Value *r = F.ret;
  if (!r) {
    error_at(nn->loc, "net '%s' returns nothing: end it with 'return x;'", net);
    return NULL;
  }
  Value **outs = r->kind == V_TUPLE ? r->items : &r;
  int nout = r->kind == V_TUPLE ? r->n : 1;
  for (int i = 0; i < nout; i++) {
    if (outs[i]->kind != V_TENSOR) {
      error_at(F.ret_loc, "net '%s' must return tensors, but returns %s", net, value_what(outs[i]));
      return NULL;
    }
    g->outputs =
        xrealloc(g->outputs, (size_t)g->noutputs * sizeof *g->outputs, (size_t)(g->noutputs + 1) * sizeof *g->outputs);
    g->outputs[g->noutputs++] = outs[i]->t;
  }
  root->output = g->outputs[0];
  // -Wunused: parameters that no instance of their block (or the net) read.
  for (int j = 0; j < nn->nparams; j++)
    if (!nn->params[j]->lhs && !scope_get(&F.used, nn->params[j]->str) && nn->params[j]->str[0] != '_')
      warning_at(W_UNUSED, nn->params[j]->loc, "parameter '%s' of net '%s' is never used", nn->params[j]->str, net);
  for (int i = 0; i < p->ndefs; i++) {
    Node *b = p->defs[i]->node;
    if (b->kind != I_BLOCK || b->uses == 0)
      continue;
    for (int j = 0; j < b->nparams; j++)
      if (b->params[j]->uses == 0 && b->params[j]->str[0] != '_')
        warning_at(W_UNUSED, b->params[j]->loc, "parameter '%s' of block '%s' is never used", b->params[j]->str,
                   b->str);
  }
  // An input nothing reads is almost always a wiring mistake.
  bool *read = xalloc((size_t)g->nlayers);
  for (int i = 0; i < g->nlayers; i++)
    for (int k = 0; k < g->layers[i]->nin; k++)
      read[g->layers[i]->in[k]->id] = true;
  for (int i = 0; i < g->noutputs; i++)
    read[g->outputs[i]->id] = true;
  bool unused = false;
  for (int i = 0; i < g->ninputs; i++)
    if (!read[g->inputs[i]->id]) {
      error_at(g->inputs[i]->loc, "input '%s' of net '%s' is never used", g->inputs[i]->name, net);
      unused = true;
    }
  return unused ? NULL : g;
}
