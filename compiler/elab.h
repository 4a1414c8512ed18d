// elab.h -- the interpreter state shared by the files of compile-time
// interpretation, and nothing else includes it:
//
//   elaborate.c  statements, calls of ops and blocks, naming, the net driver
//   eval.c       expressions: operators, names, calls, indexing, attributes
//   builtins.c   the built-in functions (range, len, str, min, max, ...)
//
// The rest of the compiler sees only elaborate() (netc.h).
#ifndef NETC_ELAB_H
#define NETC_ELAB_H

#include "netc.h"

// The value of a name whose definition failed: later statements pass it
// along silently, so one mistake gives one message (elaborate.c).
extern Value elab_poison;
#define POISON (&elab_poison)

// A name -> value map with interned keys (compared by pointer).
typedef struct Scope {
  const char **keys; // interned
  Value **vals;
  int n, cap;        // cap is a power of two
} Scope;

Value *scope_get(Scope *s, const char *k);
void scope_set(Scope *s, const char *k, Value *v);

typedef struct Frame {
  Scope scope;
  Scope used;       // names of the scope that were read (for -Wunused)
  Inst *inst;
  Value *ret;       // set by `return`
  Loc ret_loc;
  bool returned;
} Frame;

typedef struct Interp {
  Program *prog;
  Graph *g;
  int depth;        // block call nesting
  int64_t steps;
  bool step_limit_hit;
  Scope weight_names; // weight name -> tensor of the owning layer (duplicates check)
  int note_top;       // block depth of the first backtrace note of the current error, -1: none
  int nesting;        // eval/exec recursion depth: bounded so the C stack cannot overflow
} Interp;

// Expressions and statements nested deeper than this are refused. Pipes are
// evaluated iteratively and do not count, so `x -> a -> b -> ...` may be as
// long as the step limit allows.
#define MAX_NESTING 2000

// The evaluated arguments of a call: positionals, then keywords.
typedef struct CallArgs {
  Value **pos; Loc *posloc; int npos;
  const char **kw; Value **kwval; Loc *kwloc; int nkw;
} CallArgs;

// elaborate.c
const char *nearest(const char *name, const char **cands, int n); // did-you-mean, NULL: none
bool count_step(Interp *I, Loc loc);      // false (reported once) past limits.max_steps
Value *call_op(Interp *I, Frame *F, const OpInfo *op, CallArgs *a, Loc loc, Node *label);
Value *call_block(Interp *I, Frame *F, Node *blk, CallArgs *a, Loc loc, Node *label);
// chunk / split: a tuple of narrow layers.
Value *call_split(Interp *I, Frame *F, const char *f, CallArgs *a, Loc loc, Node *label);

// eval.c; each returns NULL after reporting an error.
Value *eval(Interp *I, Frame *F, Node *n);
// Fills a (piped, if any, is the first positional); POISON if an argument failed.
Value *eval_args(Interp *I, Frame *F, Node **kids, int nkids, Value *piped, Loc piped_loc, CallArgs *a);
Value *attr(Node *n, Value *v);           // x.shape, x.channels, ...
// a:b:s of a subscript: start, end (INT64_MAX: omitted), step (checked >= 1).
bool eval_slice(Interp *I, Frame *F, Node *s, int64_t part[3]);
Value *index_tensor(Interp *I, Frame *F, Layer *x, Node *n); // x[i, a:b:s, ...] (elaborate.c)
Value *eval_shape_spec(Interp *I, Frame *F, Node *spec, bool *i64); // [1, ?, 7, 7] as a tuple of ints and wildcards

// builtins.c
extern const char *const builtin_funcs[]; // their names, NULL-terminated
// range(stop) / range(start, stop[, step]) as {start, stop, step}.
bool range_args(Value **args, Loc *locs, int n, Loc loc, int64_t out[3]);
int64_t range_len(const int64_t r[3]);
Value *call_func(Interp *I, const char *f, CallArgs *a, Loc loc);

#endif
