// ops.c -- the built-in layer kinds: the table (from the registry, ops.def),
// argument binding and weight tensors. Adding an op: docs/adding-an-op.md.
#include "netc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// The table, from the registry. act names a netc_act (NETC_ACT_##act).
#define PARAMS(...) {__VA_ARGS__, NULL}
#define NOPARAMS {NULL}
const OpInfo op_table[OP__COUNT] = {
#define OP(K, name, torch, fam, arity, act, flags, shape, npos, params, sig) \
  [OP_##K] = {OP_##K, name, torch, fam, arity, NETC_ACT_##act, flags, shape, npos, params, sig},
#include "ops.def"
#undef OP
};
#undef PARAMS
#undef NOPARAMS

// The registry is the only list of ops, so the table cannot miss a row; the
// count is pinned here so that a new row is a deliberate act that also
// updates the runtime's activation list below and the tests' expectations
// (tests/unit/check_ops.c walks every row).
#define OP_COUNT_PINNED 61
_Static_assert(OP__COUNT == OP_COUNT_PINNED, "a row was added to ops.def: follow docs/adding-an-op.md, then bump "
                                             "OP_COUNT_PINNED");
// The runtime's activations (GELU has two: approximate="none" and "tanh").
_Static_assert(NETC_ACT_COUNT == 13, "netc_act changed: give each runtime activation its op row in ops.def, "
                                      "then update this count (docs/adding-an-op.md)");

const OpInfo *find_op(const char *name) {
  for (int i = 1; i < OP__COUNT; i++)
    if (op_table[i].arity != OPA_NONE && strcmp(op_table[i].name, name) == 0)
      return &op_table[i];
  return NULL;
}

static int param_index(const OpInfo *op, const char *name) {
  for (int i = 0; op->params[i]; i++)
    if (strcmp(op->params[i], name) == 0)
      return i;
  return -1;
}

// Argument accessors: a missing argument takes its default.
typedef struct Args {
  const OpInfo *op;
  Value **v;
  Loc *loc;
  Loc call;
  bool ok;
} Args;

static Value *arg(Args *a, const char *name, Loc *loc) {
  int i = param_index(a->op, name);
  NETC_ASSERT(i >= 0);
  *loc = a->v[i] ? a->loc[i] : a->call;
  return a->v[i];
}

static int64_t get_int(Args *a, const char *name, int64_t def) {
  Loc loc;
  Value *v = arg(a, name, &loc);
  int64_t out = def;
  if (v && !value_int(v, loc, name, &out))
    a->ok = false;
  return out;
}

static double get_float(Args *a, const char *name, double def) {
  Loc loc;
  Value *v = arg(a, name, &loc);
  double out = def;
  if (v && !value_float(v, loc, name, &out))
    a->ok = false;
  return out;
}

static bool get_bool(Args *a, const char *name, bool def) {
  Loc loc;
  Value *v = arg(a, name, &loc);
  bool out = def;
  if (v && !value_bool(v, loc, name, &out))
    a->ok = false;
  return out;
}

static void get_pair(Args *a, const char *name, int64_t def, int64_t out[2]) {
  Loc loc;
  Value *v = arg(a, name, &loc);
  out[0] = out[1] = def;
  if (v && !value_pair(v, loc, name, out))
    a->ok = false;
}

// A positive integer attribute (kernel sizes, strides, dilations, groups).
static void require_positive(Args *a, const char *name, const int64_t *vals, int n) {
  Loc loc;
  arg(a, name, &loc);
  for (int i = 0; i < n; i++)
    if (vals[i] < 1) {
      error_at(loc, "%s: must be positive, got %lld", name, (long long)vals[i]);
      a->ok = false;
      return;
    }
}

static void require_nonneg(Args *a, const char *name, const int64_t *vals, int n) {
  Loc loc;
  arg(a, name, &loc);
  for (int i = 0; i < n; i++)
    if (vals[i] < 0) {
      error_at(loc, "%s: must not be negative, got %lld", name, (long long)vals[i]);
      a->ok = false;
      return;
    }
}

static void required(Args *a, const char *name) {
  Loc loc;
  if (!arg(a, name, &loc)) {
    error_at(a->call, "%s: missing required argument '%s'", a->op->name, name);
    note_at(a->call, "signature: %s", a->op->signature);
    a->ok = false;
  }
}

// Kernel-window attributes shared by conv, conv_transpose and the pools.
static void window(Args *a, Layer *l, bool pool) {
  int64_t k[2], s[2], d[2] = {1, 1};
  required(a, "kernel_size");
  get_pair(a, "kernel_size", 1, k);
  if (pool && !a->v[param_index(a->op, "stride")])
    s[0] = k[0], s[1] = k[1]; // PyTorch: pooling stride defaults to the kernel size
  else
    get_pair(a, "stride", 1, s);
  if (param_index(a->op, "dilation") >= 0)
    get_pair(a, "dilation", 1, d);
  if (!a->ok)
    return;
  require_positive(a, "kernel_size", k, 2);
  require_positive(a, "stride", s, 2);
  if (param_index(a->op, "dilation") >= 0)
    require_positive(a, "dilation", d, 2);
  l->win.kh = k[0], l->win.kw = k[1], l->win.sh = s[0], l->win.sw = s[1], l->win.dh = d[0], l->win.dw = d[1];
}

// padding: int, (h, w), or for conv2d "valid" / "same" (PyTorch's rules).
static void padding(Args *a, Layer *l, bool allow_strings) {
  Loc loc;
  Value *v = arg(a, "padding", &loc);
  if (v && v->kind == V_STR && allow_strings) {
    if (strcmp(v->s, "valid") == 0)
      return;
    if (strcmp(v->s, "same") == 0) {
      if (l->win.sh != 1 || l->win.sw != 1) {
        error_at(loc, "padding=\"same\" is only supported for stride 1 (as in PyTorch); give the padding as "
                      "integers");
        a->ok = false;
        return;
      }
      // Total dilation*(k-1); PyTorch puts the odd pixel at the bottom/right.
      int64_t th = l->win.dh * (l->win.kh - 1), tw = l->win.dw * (l->win.kw - 1);
      if (th % 2 || tw % 2)
        warning_at(W_SAME_PADDING, loc,
                   "padding=\"same\" with a %lldx%lld kernel pads unevenly (%lld/%lld rows, %lld/%lld columns; PyTorch "
                   "puts the extra pixel at the bottom and right, TensorFlow too, others may not)",
                   (long long)l->win.kh, (long long)l->win.kw, (long long)(th / 2), (long long)(th - th / 2),
                   (long long)(tw / 2), (long long)(tw - tw / 2));
      l->win.pad_top = th / 2, l->win.pad_bottom = th - th / 2;
      l->win.pad_left = tw / 2, l->win.pad_right = tw - tw / 2;
      return;
    }
    error_at(loc, "padding: expected an integer, an (h, w) pair, \"same\" or \"valid\", got %s", value_str(v));
    a->ok = false;
    return;
  }
  int64_t p[2];
  get_pair(a, "padding", 0, p);
  if (!a->ok)
    return;
  require_nonneg(a, "padding", p, 2);
  l->win.pad_top = l->win.pad_bottom = p[0];
  l->win.pad_left = l->win.pad_right = p[1];
}

// An input size the source states (in_channels, in_features, num_features),
// checked against the input by shape.c; -1 when not stated.
static void stated(Args *a, int64_t *out, const char *name) {
  Loc loc;
  *out = -1;
  if (arg(a, name, &loc)) {
    *out = get_int(a, name, -1);
    if (a->ok && *out < 1) {
      error_at(loc, "%s: must be positive, got %lld", name, (long long)*out);
      a->ok = false;
    }
  }
}

// Binding, one function per attribute group of struct Layer (netc.h), split
// further where the ops of a group share no argument. Each fills its group
// from the arguments, reports a bad one at its location and returns false.

// conv_transpose2d's output_padding: PyTorch requires it to be smaller than
// either the stride or the dilation.
static void output_padding(Args *a, Layer *l) {
  int64_t op[2];
  get_pair(a, "output_padding", 0, op);
  if (!a->ok)
    return;
  require_nonneg(a, "output_padding", op, 2);
  l->conv.output_pad_h = op[0], l->conv.output_pad_w = op[1];
  Loc loc;
  arg(a, "output_padding", &loc);
  if (a->ok && ((op[0] >= l->win.sh && op[0] >= l->win.dh) || (op[1] >= l->win.sw && op[1] >= l->win.dw))) {
    error_at(loc, "output_padding (%lld, %lld) must be smaller than either stride (%lld, %lld) or "
                  "dilation (%lld, %lld)",
             (long long)op[0], (long long)op[1], (long long)l->win.sh, (long long)l->win.sw, (long long)l->win.dh,
             (long long)l->win.dw);
    a->ok = false;
  }
}

// The 1-D ops (conv1d, maxpool1d, avgpool1d) run as 2-D windows of height
// 1: their sizes are integers along the last axis. one_d_ints rejects a
// tuple before the pair readers take it; flatten_h sets the height's part.
static void one_d_ints(Args *a) {
  static const char *const names[] = {"kernel_size", "stride", "padding", "dilation"};
  for (size_t i = 0; i < sizeof names / sizeof names[0] && a->ok; i++) {
    Loc loc;
    Value *v = param_index(a->op, names[i]) >= 0 ? arg(a, names[i], &loc) : NULL;
    if (v && v->kind == V_TUPLE) {
      error_at(loc, "%s: %s: expected an integer (a 1-D window), got %s", a->op->name, names[i], value_str(v));
      a->ok = false;
    }
  }
}

static void flatten_h(Layer *l) {
  l->win.kh = l->win.sh = l->win.dh = 1;
  l->win.pad_top = l->win.pad_bottom = 0;
}

// conv2d, conv1d, conv_transpose2d: win and conv.
static bool set_conv_attrs(Args *a, Layer *l) {
  required(a, "out_channels");
  l->conv.out_channels = get_int(a, "out_channels", 1);
  if (op_is_1d(l->op))
    one_d_ints(a);
  if (a->ok)
    window(a, l, false);
  if (!a->ok)
    return false;
  if (op_is_1d(l->op))
    flatten_h(l);
  padding(a, l, op_is_conv(l->op));
  if (op_is_1d(l->op))
    flatten_h(l);
  l->conv.groups = get_int(a, "groups", 1);
  l->conv.bias = get_bool(a, "bias", true);
  stated(a, &l->conv.stated_in, "in_channels");
  if (l->op == OP_CONV_TRANSPOSE2D)
    output_padding(a, l);
  if (a->ok && l->conv.out_channels < 1) {
    Loc loc;
    arg(a, "out_channels", &loc);
    error_at(loc, "out_channels: must be positive, got %lld", (long long)l->conv.out_channels);
    a->ok = false;
  }
  if (a->ok) {
    int64_t g = l->conv.groups;
    require_positive(a, "groups", &g, 1);
  }
  if (a->ok && l->conv.out_channels % l->conv.groups != 0) {
    Loc loc;
    arg(a, "groups", &loc);
    error_at(loc, "out_channels (%lld) must be divisible by groups (%lld)", (long long)l->conv.out_channels,
             (long long)l->conv.groups);
    a->ok = false;
  }
  return a->ok;
}

// linear: conv (out_features, bias, in_features).
static bool set_linear_attrs(Args *a, Layer *l) {
  required(a, "out_features");
  l->conv.out_channels = get_int(a, "out_features", 1);
  l->conv.bias = get_bool(a, "bias", true);
  stated(a, &l->conv.stated_in, "in_features");
  if (a->ok && l->conv.out_channels < 1) {
    Loc loc;
    arg(a, "out_features", &loc);
    error_at(loc, "out_features: must be positive, got %lld", (long long)l->conv.out_channels);
    a->ok = false;
  }
  return a->ok;
}

// maxpool2d, avgpool2d, maxpool1d, avgpool1d: win and pool.
static bool set_pool_attrs(Args *a, Layer *l) {
  if (op_is_1d(l->op))
    one_d_ints(a);
  if (a->ok)
    window(a, l, true);
  if (!a->ok)
    return false;
  padding(a, l, false);
  if (op_is_1d(l->op))
    flatten_h(l);
  l->pool.ceil_mode = get_bool(a, "ceil_mode", false);
  if (l->op == OP_AVGPOOL2D || l->op == OP_AVGPOOL1D)
    l->pool.count_include_pad = get_bool(a, "count_include_pad", true);
  if (a->ok) {
    // PyTorch 1.13: "pad should be at most half of kernel size", compared
    // with kernel_size itself, dilation or not.
    Loc loc;
    arg(a, "padding", &loc);
    int64_t kh = l->win.kh, kw = l->win.kw;
    if (op_is_1d(l->op) && l->win.pad_left > kw / 2) {
      error_at(loc, "padding %lld must be at most half the kernel size %lld, as in PyTorch", (long long)l->win.pad_left,
               (long long)kw);
      a->ok = false;
    } else if (l->win.pad_top > kh / 2 || l->win.pad_left > kw / 2) {
      error_at(loc, "padding (%lld, %lld) must be at most half the kernel size (%lld, %lld), as in PyTorch",
               (long long)l->win.pad_top, (long long)l->win.pad_left, (long long)kh, (long long)kw);
      a->ok = false;
    }
  }
  return a->ok;
}

// adaptive_avgpool2d, global_avgpool2d (1x1), adaptive_avgpool1d: the
// pool's output size.
static bool set_adaptive_pool_attrs(Args *a, Layer *l) {
  if (l->op == OP_GLOBAL_AVGPOOL2D) {
    l->pool.out_h = l->pool.out_w = 1;
    return true;
  }
  required(a, "output_size");
  if (l->op == OP_ADAPTIVE_AVGPOOL1D) {
    one_d_ints(a);
    l->pool.out_h = 1;
    l->pool.out_w = a->ok ? get_int(a, "output_size", 1) : 1;
    if (a->ok)
      require_positive(a, "output_size", &l->pool.out_w, 1);
    return a->ok;
  }
  int64_t o[2];
  get_pair(a, "output_size", 1, o);
  if (a->ok)
    require_positive(a, "output_size", o, 2);
  l->pool.out_h = o[0], l->pool.out_w = o[1];
  return a->ok;
}

// A positive number or a pair of them (scale_factor).
static bool number_pair(Args *a, const char *name, double out[2]) {
  Loc loc;
  Value *v = arg(a, name, &loc);
  if (v->kind == V_TUPLE && v->n == 2) {
    for (int i = 0; i < 2; i++)
      if (!value_float(v->items[i], loc, name, &out[i]))
        return false;
  } else if (v->kind == V_INT || v->kind == V_FLOAT) {
    if (!value_float(v, loc, name, &out[0]))
      return false;
    out[1] = out[0];
  } else {
    error_at(loc, "%s: expected a number or an (h, w) pair of numbers, got %s", name, value_str(v));
    return false;
  }
  if (!(out[0] > 0 && out[1] > 0 && out[0] < 1e9 && out[1] < 1e9)) {
    error_at(loc, "%s: must be positive (and below 1e9), got %s", name, value_str(v));
    return false;
  }
  return true;
}

// upsample, interpolate: resize. Exactly one of size and scale_factor, as
// PyTorch; align_corners only with bilinear.
static bool set_resize_attrs(Args *a, Layer *l) {
  Loc sloc, floc, mloc, aloc;
  Value *size = arg(a, "size", &sloc), *scale = arg(a, "scale_factor", &floc);
  Value *mode = arg(a, "mode", &mloc), *ac = arg(a, "align_corners", &aloc);
  if (!size == !scale) {
    error_at(size ? floc : a->call, "%s: give either size or scale_factor%s", a->op->name,
             size ? ", not both" : "");
    note_at(a->call, "signature: %s", a->op->signature);
    return false;
  }
  if (size) {
    int64_t hw[2];
    get_pair(a, "size", 1, hw);
    if (!a->ok)
      return false;
    require_positive(a, "size", hw, 2);
    l->resize.out_h = hw[0], l->resize.out_w = hw[1];
  } else {
    double s[2];
    if (!number_pair(a, "scale_factor", s))
      return false;
    l->resize.scale_h = s[0], l->resize.scale_w = s[1];
  }
  if (mode && !(mode->kind == V_STR && (strcmp(mode->s, "nearest") == 0 || strcmp(mode->s, "bilinear") == 0))) {
    error_at(mloc, "mode: expected \"nearest\" or \"bilinear\", got %s", value_str(mode));
    return false;
  }
  l->resize.bilinear = mode && strcmp(mode->s, "bilinear") == 0;
  l->resize.align_corners = get_bool(a, "align_corners", false);
  if (a->ok && ac && !l->resize.bilinear) {
    error_at(aloc, "align_corners: only the bilinear mode has it (as in PyTorch); mode is \"nearest\"");
    return false;
  }
  return a->ok;
}

// batchnorm2d: norm.
static bool set_batchnorm_attrs(Args *a, Layer *l) {
  l->norm.eps = get_float(a, "eps", 1e-5);
  get_float(a, "momentum", 0.1); // training only; accepted for PyTorch compatibility
  l->norm.affine = get_bool(a, "affine", true);
  stated(a, &l->norm.num_features, "num_features");
  if (a->ok && !(l->norm.eps > 0)) {
    Loc loc;
    arg(a, "eps", &loc);
    error_at(loc, "eps: must be positive, got %g", l->norm.eps);
    a->ok = false;
  }
  return a->ok;
}

// groupnorm: norm (num_groups; num_channels as stated, checked by shape.c).
static bool set_groupnorm_attrs(Args *a, Layer *l) {
  required(a, "num_groups");
  l->norm.groups = get_int(a, "num_groups", 1);
  l->norm.eps = get_float(a, "eps", 1e-5);
  l->norm.affine = get_bool(a, "affine", true);
  stated(a, &l->norm.num_features, "num_channels");
  if (a->ok)
    require_positive(a, "num_groups", &l->norm.groups, 1);
  if (a->ok && !(l->norm.eps > 0)) {
    Loc loc;
    arg(a, "eps", &loc);
    error_at(loc, "eps: must be positive, got %g", l->norm.eps);
    a->ok = false;
  }
  return a->ok;
}

// layernorm: norm.
static bool set_layernorm_attrs(Args *a, Layer *l) {
  l->norm.eps = get_float(a, "eps", 1e-5);
  l->norm.affine = get_bool(a, "elementwise_affine", true);
  Loc loc;
  if (a->ok && !(l->norm.eps > 0)) {
    arg(a, "eps", &loc);
    error_at(loc, "eps: must be positive, got %g", l->norm.eps);
    return false;
  }
  Value *ns = arg(a, "normalized_shape", &loc);
  if (ns) {
    if (ns->kind == V_INT) {
      l->norm.shape.rank = 1;
      l->norm.shape.d[0] = ns->i;
    } else if (ns->kind == V_TUPLE && ns->n >= 1 && ns->n <= MAX_RANK) {
      l->norm.shape.rank = ns->n;
      for (int i = 0; i < ns->n; i++)
        if (!value_int(ns->items[i], loc, "normalized_shape", &l->norm.shape.d[i]))
          return false;
    } else {
      error_at(loc, "normalized_shape: expected an integer or a tuple of integers, got %s", value_str(ns));
      return false;
    }
  }
  return a->ok;
}

// normalize: norm (one mean and std per channel).
static bool set_normalize_attrs(Args *a, Layer *l) {
  required(a, "mean");
  required(a, "std");
  if (!a->ok)
    return false;
  Loc lm, ls;
  Value *m = arg(a, "mean", &lm), *s = arg(a, "std", &ls);
  if (m->kind != V_TUPLE || s->kind != V_TUPLE || m->n != s->n || m->n == 0) {
    error_at(m->kind != V_TUPLE ? lm : ls, "normalize: mean and std must be tuples of the same length, got %s "
                                          "and %s", value_str(m), value_str(s));
    return false;
  }
  l->norm.nmean = m->n;
  l->norm.mean = xalloc((size_t)m->n * sizeof *l->norm.mean);
  l->norm.std = xalloc((size_t)m->n * sizeof *l->norm.std);
  for (int i = 0; i < m->n; i++) {
    if (!value_float(m->items[i], lm, "mean", &l->norm.mean[i]) ||
        !value_float(s->items[i], ls, "std", &l->norm.std[i]))
      return false;
    if (!(l->norm.std[i] > 0)) {
      error_at(ls, "std: every value must be positive, got %g", l->norm.std[i]);
      return false;
    }
  }
  return true;
}

// The activations (relu ... gelu, silu, hardswish, hardsigmoid, mish, elu): ew.
static bool set_activation_attrs(Args *a, Layer *l) {
  if (l->op == OP_LEAKY_RELU)
    l->ew.slope = get_float(a, "negative_slope", 0.01);
  if (l->op == OP_ELU)
    l->ew.alpha = get_float(a, "alpha", 1.0);
  if (l->op == OP_SOFTPLUS) {
    l->ew.beta = get_float(a, "beta", 1.0);
    l->ew.threshold = get_float(a, "threshold", 20.0);
    if (a->ok && (l->ew.beta == 0 || !isfinite(l->ew.beta))) {
      Loc loc;
      arg(a, "beta", &loc);
      error_at(loc, "beta: must be a finite non-zero number (softplus divides by it), got %g", l->ew.beta);
      return false;
    }
  }
  if (l->op == OP_GELU) {
    Loc loc;
    Value *v = arg(a, "approximate", &loc);
    if (v && v->kind == V_STR && strcmp(v->s, "tanh") == 0)
      l->ew.gelu_tanh = true;
    else if (v && !(v->kind == V_STR && strcmp(v->s, "none") == 0)) {
      error_at(loc, "approximate: expected \"none\" or \"tanh\", got %s", value_str(v));
      return false;
    }
  }
  if (param_index(a->op, "inplace") >= 0)
    get_bool(a, "inplace", false); // accepted and checked; in-place is decided by the memory plan
  return a->ok;
}

// dropout: ew (the probability, which inference ignores but PyTorch checks).
// dropout, stochastic_depth (torchvision.ops.StochasticDepth: p and mode
// required, as there): the identity at inference, the arguments checked.
static bool set_dropout_attrs(Args *a, Layer *l) {
  bool sd = l->op == OP_STOCHASTIC_DEPTH;
  if (sd) {
    required(a, "p");
    required(a, "mode");
    if (!a->ok)
      return false;
  }
  l->ew.p = get_float(a, "p", 0.5);
  if (!sd)
    get_bool(a, "inplace", false);
  if (a->ok && (l->ew.p < 0 || l->ew.p > 1)) {
    Loc loc;
    arg(a, "p", &loc);
    error_at(loc, "p: a %s probability must be between 0 and 1, got %g", sd ? "stochastic depth" : "dropout",
             l->ew.p);
    a->ok = false;
  }
  if (a->ok && sd) {
    Loc loc;
    Value *m = arg(a, "mode", &loc);
    if (m->kind == V_STR && (strcmp(m->s, "row") == 0 || strcmp(m->s, "batch") == 0))
      l->ew.row_mode = strcmp(m->s, "row") == 0;
    else {
      error_at(loc, "mode: expected \"row\" or \"batch\", got %s", value_str(m));
      a->ok = false;
    }
  }
  return a->ok;
}

// softmax, concat (dim), flatten (start_dim, end_dim): axes, as written;
// shape.c normalises them against the input's rank.
static bool set_axes_attrs(Args *a, Layer *l) {
  if (l->op == OP_FLATTEN) {
    l->axes.start_dim = (int)get_int(a, "start_dim", 1);
    l->axes.end_dim = (int)get_int(a, "end_dim", -1);
  } else {
    l->axes.axis = (int)get_int(a, "dim", 1);
  }
  return a->ok;
}

// An int or a tuple of ints (a shape, a permutation, a list of dims) into
// dims.n / dims.v; an empty tuple only where allow_empty.
static bool int_list(Args *a, const char *name, Layer *l, bool allow_empty) {
  Loc loc;
  Value *v = arg(a, name, &loc);
  if (v->kind == V_INT) {
    l->dims.n = 1;
    l->dims.v[0] = v->i;
    return true;
  }
  if (v->kind != V_TUPLE || v->n > MAX_RANK || (v->n == 0 && !allow_empty)) {
    error_at(loc, "%s: %s: expected an integer or a tuple of 1 to %d integers, got %s", a->op->name, name, MAX_RANK,
             value_str(v));
    return false;
  }
  l->dims.n = v->n;
  for (int i = 0; i < v->n; i++)
    if (!value_int(v->items[i], loc, name, &l->dims.v[i]))
      return false;
  return true;
}

// reshape, view, permute, squeeze, unsqueeze, transpose, narrow, mean, sum,
// amax: dims, as written; shape.c checks them against the input.
static bool set_dims_attrs(Args *a, Layer *l) {
  Loc loc;
  OpKind k = l->op;
  if (k == OP_RESHAPE || k == OP_VIEW || k == OP_PERMUTE) {
    const char *name = k == OP_PERMUTE ? "dims" : "shape";
    required(a, name);
    return a->ok && int_list(a, name, l, false);
  }
  if (k == OP_MEAN || k == OP_SUM || k == OP_AMAX) {
    required(a, "dim");
    l->dims.keepdim = get_bool(a, "keepdim", false);
    return a->ok && int_list(a, "dim", l, false);
  }
  if (k == OP_SQUEEZE && !arg(a, "dim", &loc))
    return true; // every size-1 dim
  if (k == OP_TRANSPOSE) {
    required(a, "dim0");
    required(a, "dim1");
    l->dims.n = 2;
    l->dims.v[0] = get_int(a, "dim0", 0);
    l->dims.v[1] = get_int(a, "dim1", 0);
    return a->ok;
  }
  if (k == OP_ROLL) { // torch.roll: shifts and dims, an integer or a tuple each
    required(a, "shifts");
    if (!a->ok || !int_list(a, "shifts", l, false))
      return false;
    l->dims.nshift = l->dims.n;
    memcpy(l->dims.shift, l->dims.v, sizeof l->dims.shift);
    l->dims.n = 0;
    return !arg(a, "dims", &loc) || int_list(a, "dims", l, false);
  }
  if (k == OP_ARANGE) { // torch.arange: arange(end) or arange(start, end, step)
    if (!arg(a, "start", &loc) && !arg(a, "end", &loc)) {
      error_at(a->call, "arange: missing required argument 'end'");
      return false;
    }
    l->dims.start = get_int(a, "start", 0);
    l->dims.end = get_int(a, "end", INT64_MIN);
    l->dims.step = get_int(a, "step", 1);
    if (l->dims.end == INT64_MIN) { // one number: it is the end
      l->dims.end = l->dims.start;
      l->dims.start = 0;
    }
    return a->ok;
  }
  if (k == OP_EXPAND) {
    required(a, "size");
    return a->ok && int_list(a, "size", l, false);
  }
  if (k == OP_SLICE) { // aten::slice: every argument has a default
    l->dims.n = 1;
    l->dims.v[0] = get_int(a, "dim", 0);
    l->dims.start = get_int(a, "start", 0);
    l->dims.end = get_int(a, "end", INT64_MAX);
    l->dims.step = get_int(a, "step", 1);
    return a->ok;
  }
  // squeeze, unsqueeze, narrow, index_select (whose index the elaborator
  // has bound as its second input): one dim
  required(a, "dim");
  l->dims.n = 1;
  l->dims.v[0] = get_int(a, "dim", 0);
  if (k == OP_NARROW) {
    required(a, "start");
    required(a, "length");
    l->dims.start = get_int(a, "start", 0);
    l->dims.length = get_int(a, "length", 1);
  }
  return a->ok;
}

// pad: pad.
static bool set_pad_attrs(Args *a, Layer *l) {
  l->pad.left = get_int(a, "left", 0);
  l->pad.right = get_int(a, "right", 0);
  l->pad.top = get_int(a, "top", 0);
  l->pad.bottom = get_int(a, "bottom", 0);
  l->pad.value = get_float(a, "value", 0.0);
  if (a->ok) {
    int64_t p[4] = {l->pad.left, l->pad.right, l->pad.top, l->pad.bottom};
    const char *n[4] = {"left", "right", "top", "bottom"};
    for (int i = 0; i < 4; i++) {
      require_nonneg(a, n[i], &p[i], 1);
      if (!a->ok)
        break;
    }
  }
  return a->ok;
}

// The dispatch is a switch over the op rather than over the registry's
// family: with no default, a new row in ops.def fails to compile here until
// it is bound, where a family switch would route it silently.
char op_arith_sym(OpKind k) {
  return k == OP_ADD ? '+' : k == OP_SUB ? '-' : k == OP_MUL ? '*' : k == OP_DIV ? '/' : 0;
}

bool op_set_attrs(Layer *l, Value **args, Loc *argloc, Loc call) {
  Args a = {&op_table[l->op], args, argloc, call, true};
  l->conv.stated_in = l->norm.num_features = -1;
  switch (l->op) {
  case OP_CONV2D:
  case OP_CONV1D:
  case OP_CONV_TRANSPOSE2D:
    return set_conv_attrs(&a, l);
  case OP_LINEAR:
    return set_linear_attrs(&a, l);
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
    return set_pool_attrs(&a, l);
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
  case OP_ADAPTIVE_AVGPOOL1D:
    return set_adaptive_pool_attrs(&a, l);
  case OP_UPSAMPLE:
  case OP_INTERPOLATE:
    return set_resize_attrs(&a, l);
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D:
    return set_batchnorm_attrs(&a, l);
  case OP_LAYERNORM:
    return set_layernorm_attrs(&a, l);
  case OP_GROUPNORM:
    return set_groupnorm_attrs(&a, l);
  case OP_NORMALIZE:
    return set_normalize_attrs(&a, l);
  case OP_RELU:
  case OP_RELU6:
  case OP_LEAKY_RELU:
  case OP_SIGMOID:
  case OP_TANH:
  case OP_GELU:
  case OP_SILU:
  case OP_HARDSWISH:
  case OP_HARDSIGMOID:
  case OP_MISH:
  case OP_ELU:
  case OP_SOFTPLUS:
    return set_activation_attrs(&a, l);
  case OP_DROPOUT:
  case OP_STOCHASTIC_DEPTH:
    return set_dropout_attrs(&a, l);
  case OP_IDENTITY:
    return true;
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_CONCAT:
  case OP_FLATTEN:
    return set_axes_attrs(&a, l);
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_PERMUTE:
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_TRANSPOSE:
  case OP_NARROW:
  case OP_INDEX_SELECT:
  case OP_SLICE:
  case OP_ROLL:
  case OP_EXPAND:
  case OP_ARANGE:
    return set_dims_attrs(&a, l);
  case OP_PAD:
    return set_pad_attrs(&a, l);
  case OP_MATMUL:
  case OP_ADD: // a scalar operand is bound by the elaborator (ew.scalar)
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_INPUT:
  case OP_PARAM: // declared, not called: the elaborator sets them
  case OP_BUFFER:
    return true;
  case OP__COUNT:
    break;
  }
  unreachable();
}

// kind is the tensor's role: how it is loaded, folded and drawn at random.
static void add_weight(Layer *l, const char *suffix, Shape s, netc_model_kind kind) {
  l->weights =
      xrealloc(l->weights, (size_t)l->nweights * sizeof *l->weights, (size_t)(l->nweights + 1) * sizeof *l->weights);
  Weight *w = &l->weights[l->nweights++];
  memset(w, 0, sizeof *w);
  w->name = suffix; // the elaborator prefixes the layer's module path
  w->shape = s;
  w->kind = kind;
  w->buffer = kind == NETC_TENSOR_BN_MEAN || kind == NETC_TENSOR_BN_VAR || kind == NETC_TENSOR_COUNTER ||
              kind == NETC_TENSOR_BUFFER || kind == NETC_TENSOR_INDEX;
  w->i64 = kind == NETC_TENSOR_COUNTER || kind == NETC_TENSOR_INDEX;
  // An index buffer's values must be exact in the float blob; a layer that
  // indexes with it lowers the limit to the size of the dim it indexes.
  w->index_limit = kind == NETC_TENSOR_INDEX ? (int64_t)1 << 24 : 0;
  w->layer = l;
}

static Shape shape1(int64_t a) { return (Shape){1, {a}}; }

// Weight tensors in PyTorch's registration order (weight, bias, then buffers).
void op_make_weights(Layer *l) {
  int64_t cin = l->nin ? l->in[0]->shape.d[1] : 0;
  switch (l->op) {
  case OP_CONV2D:
    add_weight(l, "weight", (Shape){4, {l->conv.out_channels, cin / l->conv.groups, l->win.kh, l->win.kw}},
               NETC_TENSOR_WEIGHT);
    if (l->conv.bias)
      add_weight(l, "bias", shape1(l->conv.out_channels), NETC_TENSOR_BIAS);
    break;
  case OP_CONV1D:
    add_weight(l, "weight", (Shape){3, {l->conv.out_channels, cin / l->conv.groups, l->win.kw}}, NETC_TENSOR_WEIGHT);
    if (l->conv.bias)
      add_weight(l, "bias", shape1(l->conv.out_channels), NETC_TENSOR_BIAS);
    break;
  case OP_CONV_TRANSPOSE2D:
    add_weight(l, "weight", (Shape){4, {cin, l->conv.out_channels / l->conv.groups, l->win.kh, l->win.kw}},
               NETC_TENSOR_WEIGHT);
    if (l->conv.bias)
      add_weight(l, "bias", shape1(l->conv.out_channels), NETC_TENSOR_BIAS);
    break;
  case OP_LINEAR: {
    const Shape *in = &l->in[0]->shape;
    add_weight(l, "weight", (Shape){2, {l->conv.out_channels, in->d[in->rank - 1]}}, NETC_TENSOR_WEIGHT);
    if (l->conv.bias)
      add_weight(l, "bias", shape1(l->conv.out_channels), NETC_TENSOR_BIAS);
    break;
  }
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D:
    if (l->norm.affine) {
      add_weight(l, "weight", shape1(cin), NETC_TENSOR_GAMMA);
      add_weight(l, "bias", shape1(cin), NETC_TENSOR_BETA);
    }
    add_weight(l, "running_mean", shape1(cin), NETC_TENSOR_BN_MEAN);
    add_weight(l, "running_var", shape1(cin), NETC_TENSOR_BN_VAR);
    add_weight(l, "num_batches_tracked", (Shape){0, {0}}, NETC_TENSOR_COUNTER);
    break;
  case OP_LAYERNORM:
    if (l->norm.affine) {
      add_weight(l, "weight", l->norm.shape, NETC_TENSOR_GAMMA);
      add_weight(l, "bias", l->norm.shape, NETC_TENSOR_BETA);
    }
    break;
  case OP_GROUPNORM:
    if (l->norm.affine) {
      add_weight(l, "weight", shape1(cin), NETC_TENSOR_GAMMA);
      add_weight(l, "bias", shape1(cin), NETC_TENSOR_BETA);
    }
    break;
  case OP_PARAM: // the tensor is the layer: named as it, no suffix
    add_weight(l, "", l->shape, NETC_TENSOR_PARAM);
    break;
  case OP_BUFFER:
    add_weight(l, "", l->shape, l->decl.i64 ? NETC_TENSOR_INDEX : NETC_TENSOR_BUFFER);
    break;
  // No tensors of their own (normalize's mean and std are constants).
  case OP_INPUT:
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
  case OP_UPSAMPLE:
  case OP_INTERPOLATE:
  case OP_FLATTEN:
  case OP_RELU:
  case OP_RELU6:
  case OP_LEAKY_RELU:
  case OP_SIGMOID:
  case OP_TANH:
  case OP_GELU:
  case OP_SILU:
  case OP_HARDSWISH:
  case OP_HARDSIGMOID:
  case OP_MISH:
  case OP_ELU:
  case OP_SOFTPLUS:
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX:
  case OP_RESHAPE:
  case OP_VIEW:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_PERMUTE:
  case OP_TRANSPOSE:
  case OP_NARROW:
  case OP_INDEX_SELECT:
  case OP_SLICE:
  case OP_ROLL:
  case OP_EXPAND:
  case OP_ARANGE:
  case OP_DROPOUT:
  case OP_IDENTITY:
  case OP_STOCHASTIC_DEPTH:
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_MATMUL:
  case OP_CONCAT:
  case OP_PAD:
  case OP_NORMALIZE:
    break;
  case OP__COUNT:
    unreachable();
  }
}
