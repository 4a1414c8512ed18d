// report.c -- the text table, the JSON document and the torch-style lines.
//
// requires: every pass (shape.c, rf.c, cost.c, memplan.c) has filled the
//           graph. Reports only read stored fields: numbers are formatted
//           here, never computed inside a printf (block rows sum the stored
//           numbers of their layers, in one place: fill_sums).
// fills:    nothing; writes to the FILE * it is given.
//
// --report=json writes exactly this schema (tests/parity depends on it; keep
// this comment and the code in step). Integers are exact; other numbers are
// printed with %.17g, integral ones as integers.
//
//   {"netc": "0.1.0", "net": str, "file": str,
//    "conventions": {"params": str, "macs": str, "flops": str, "rf": str},
//    "inputs":  [{"name": str, "shape": [int...]}],
//    "outputs": [{"layer": id, "shape": [int...]}],
//    "layers":  [{"id": int, "name": str, "op": str (net-language name; "input"
//                 for net inputs), "torch": str|null (PyTorch class),
//                 "scope": str (innermost block instance, "" for the net),
//                 "depth": int (its depth), "inputs": [id...],
//                 "shape": [int...], "params": int, "buffers": int,
//                 "macs": int, "flops": int, "bytes": int,
//                 "offset": int (arena byte offset; -1: not in the arena),
//                 "alias": id|-1 (layer whose memory this one shares),
//                 "rf": {"size": [h, w], "jump": [h, w], "start": [h, w],
//                        "global": bool (both axes global)},
//                 "loc": "file:line:col",
//                 "kernel": str (the runtime kernel chosen: "direct", "gemm_1x1",
//                   "gemm_im2col", "winograd", "depthwise", "gemv", "broadcast", "fused", "view", ...)}],
//    "blocks":  [{"name": str, "block": str, "depth": int, "first": id,
//                 "last": id, "shape": [int...]|null (the returned tensor),
//                 "params": int, "macs": int, "flops": int}]
//               (every block instance except the net, insts[1..]),
//    "weights": [{"name": str, "shape": [int...], "kind": "param"|"buffer",
//                 "role": "weight"|"bias"|"gamma"|"beta"|"running_mean"|"running_var"|
//                         "counter"|"param"|"buffer"|"index",
//                 "dtype": "f32"|"i64", "layer": id, "index_limit": int (an index buffer)}]
//                (state_dict order),
//    "totals":  {"params": int, "buffers": int, "macs": int, "flops": int,
//                "weight_bytes": int, "activation_bytes": int,
//                "arena_activation_bytes": int, "arena_scratch_bytes": int,
//                "arena_total_bytes": int, "live_peak_bytes": int,
//                "two_largest_live_bytes": int},
//    "int8":    (netc --quantize int8 only) {"int8_weight_bytes": int,
//                "int8_blob_bytes": int, "float_weight_bytes_kept": int,
//                "float_build_weight_bytes": int, "float_build_arena_total_bytes": int,
//                "float_layers": [{"name": str, "why": str}]}}
//    (in an int8 build "totals" are the int8 build's: uint8 activations)
//    activation_bytes sums every layer's output (no reuse). The arena is
//    three numbers, as the generated header names them:
//      arena_activation_bytes  the activations as the plan places them (PREFIX_ACTIVATION_BYTES)
//      arena_scratch_bytes     the kernels' scratch region after them (PREFIX_SCRATCH_BYTES)
//      arena_total_bytes       their sum, the buffer forward() takes (PREFIX_ARENA_BYTES;
//                              --max-arena limits it, --max-scratch the scratch)
#include "netc.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// The counting conventions, stated once for both the text and JSON reports.
static const char conv_params[] =
    "trainable numel, as sum(p.numel() for p in model.parameters()); "
    "BatchNorm running_mean/running_var are buffers (num_batches_tracked not counted)";
static const char conv_macs[] =
    "multiply-accumulates of conv, conv_transpose, linear and matmul, bias excluded (= fvcore's "
    "conv/linear/matmul \"flops\"; ptflops and torchinfo's Mult-Adds also count bias terms; thop, ptflops "
    "and fvcore normalisation terms)";
static const char conv_flops[] =
    "2*MACs + elementwise work (bias, activations, normalisation, pooling, reductions, tensor arithmetic); "
    "darknet BFLOPs = 2*MACs/1e9";
static const char conv_rf[] =
    "receptive field per axis [H, W] in net-input pixels: size, jump between adjacent "
    "outputs, start = centre of output 0's field; global = sees the whole input";

//
// Stored numbers of block instances: prefix sums over the layers, so a block
// [first, last] costs one subtraction however deep it is.
//

typedef struct Sums {
  int64_t *params, *macs, *flops; // sum over layers[0 .. i-1]
} Sums;

static Sums fill_sums(Graph *g) {
  Sums s;
  size_t n = (size_t)g->nlayers + 1;
  s.params = xalloc(n * sizeof(int64_t));
  s.macs = xalloc(n * sizeof(int64_t));
  s.flops = xalloc(n * sizeof(int64_t));
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    s.params[i + 1] = s.params[i] + l->params;
    s.macs[i + 1] = s.macs[i] + l->macs;
    s.flops[i + 1] = s.flops[i] + l->flops;
  }
  return s;
}

typedef struct Cost {
  int64_t params, macs, flops;
} Cost;

static Cost inst_cost(Sums *s, Inst *b) {
  if (b->last < b->first)
    return (Cost){0, 0, 0};
  return (Cost){s->params[b->last + 1] - s->params[b->first],
                s->macs[b->last + 1] - s->macs[b->first],
                s->flops[b->last + 1] - s->flops[b->first]};
}

static const char *file_name(Graph *g) { return g->file && g->file->name ? g->file->name : ""; }


// "(2,3)": a list of dims.
static char *dims_str(const int64_t *v, int n) {
  char *s = xstrdup("(");
  for (int i = 0; i < n; i++)
    s = format("%s%s%" PRId64, s, i ? "," : "", v[i]);
  return format("%s)", s);
}

static const char *op_name(Layer *l) {
  return l->op == OP_INPUT ? "input" : op_table[l->op].name;
}

//
// Text
//

// 3 significant digits with an SI suffix: 25557032 -> "25.6 M",
// 30972257256 -> "31.0 G". NULL below 1000, where the plain number says it
// all. The thresholds are the rounding points, so 999,600 is "1.00 M".
static char *human_count(int64_t v) {
  static const char *unit[] = {"K", "M", "G", "T", "P", "E"};
  if (v < 1000)
    return NULL;
  double x = (double)v;
  int u = -1;
  while (x >= 999.5 && u < 5) {
    x /= 1000;
    u++;
  }
  int decimals = x < 9.995 ? 2 : x < 99.95 ? 1 : 0;
  return format("%.*f %s", decimals, x, unit[u]);
}

// Binary units with one decimal: 102228128 -> "97.5 MiB".
static char *human_bytes(int64_t v) {
  static const char *unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (v < 1024)
    return format("%" PRId64 " B", v);
  double x = (double)v;
  int u = -1;
  while (x >= 1023.95 && u < 5) {
    x /= 1024;
    u++;
  }
  return format("%.1f %s", x, unit[u]);
}

// A field size or jump: integers exactly, fractions (after a transposed
// conv) with %g.
static const char *num_str(double v) {
  if (v == floor(v) && fabs(v) < 1e15)
    return format("%.0f", v);
  return format("%g", v);
}

// An H axis that is global with a field of one pixel is not an axis (a
// 1-D signal, a map one row high): the columns show W alone.
static bool no_h(const RF rf[2]) { return rf[0].global && rf[0].size == 1 && !rf[1].global; }

static const char *rf_size_str(const RF rf[2]) {
  if (rf[0].constant)
    return "const";
  if (rf[0].global && rf[1].global)
    return "global";
  if (no_h(rf))
    return num_str(rf[1].size);
  const char *h = rf[0].global ? "g" : num_str(rf[0].size);
  const char *w = rf[1].global ? "g" : num_str(rf[1].size);
  return strcmp(h, w) == 0 ? h : format("%sx%s", h, w);
}

static const char *rf_jump_str(const RF rf[2]) {
  if (rf[0].constant || (rf[0].global && rf[1].global))
    return "-";
  if (no_h(rf))
    return num_str(rf[1].jump);
  const char *h = rf[0].global ? "-" : num_str(rf[0].jump);
  const char *w = rf[1].global ? "-" : num_str(rf[1].jump);
  return strcmp(h, w) == 0 ? h : format("%sx%s", h, w);
}

// "3x3" or "1x7"; "2" for strides and "2x1" when they differ.
static char *pair_str(int64_t h, int64_t w, bool always_both) {
  if (h == w && !always_both)
    return format("%" PRId64, h);
  return format("%" PRId64 "x%" PRId64, h, w);
}

// " p1", " p1x2" (H x W), or " p0,1x0,1" (top,bottom x left,right) when a
// side differs, as padding="same" with an even kernel gives.
static const char *pad_str(Layer *l) {
  int64_t t = l->win.pad_top, b = l->win.pad_bottom, lf = l->win.pad_left, r = l->win.pad_right;
  if (t == 0 && b == 0 && lf == 0 && r == 0)
    return "";
  if (t == b && lf == r)
    return format(" p%s", pair_str(t, lf, false));
  return format(" p%" PRId64 ",%" PRId64 "x%" PRId64 ",%" PRId64, t, b, lf, r);
}

// The 1-D window: "k5/2 p2 d2" along L.
static char *window_str_1d(Layer *l) {
  char *s = format(" k%" PRId64, l->win.kw);
  if (l->win.sw != 1)
    s = format("%s/%" PRId64, s, l->win.sw);
  if (l->win.pad_left || l->win.pad_right)
    s = l->win.pad_left == l->win.pad_right ? format("%s p%" PRId64, s, l->win.pad_left)
                                            : format("%s p%" PRId64 ",%" PRId64, s, l->win.pad_left, l->win.pad_right);
  if (l->win.dw > 1 && l->op != OP_AVGPOOL1D)
    s = format("%s d%" PRId64, s, l->win.dw);
  return s;
}

// kernel, stride, padding and dilation of a conv or pool: "3x3/2 p1 d2".
static char *window_str(Layer *l) {
  if (op_is_1d(l->op))
    return window_str_1d(l);
  char *s = format(" %s", pair_str(l->win.kh, l->win.kw, true));
  if (l->win.sh != 1 || l->win.sw != 1)
    s = format("%s/%s", s, pair_str(l->win.sh, l->win.sw, false));
  s = format("%s%s", s, pad_str(l));
  if ((l->win.dh > 1 || l->win.dw > 1) && l->op != OP_AVGPOOL2D && l->op != OP_AVGPOOL1D)
    s = format("%s d%s", s, pair_str(l->win.dh, l->win.dw, false));
  return s;
}

// The op column: the op's name and a short summary of its attributes
// (also the op line of --dot's nodes).
const char *op_summary(Layer *l) {
  const char *name = op_name(l);
  switch (l->op) {
  case OP_CONV2D:
  case OP_CONV1D:
  case OP_CONV_TRANSPOSE2D: {
    char *s = format("%s%s", name, window_str(l));
    if (l->op == OP_CONV_TRANSPOSE2D && (l->conv.output_pad_h || l->conv.output_pad_w))
      s = format("%s op%s", s, pair_str(l->conv.output_pad_h, l->conv.output_pad_w, false));
    if (l->conv.groups > 1)
      s = format("%s g%" PRId64, s, l->conv.groups);
    return s;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
    return format("%s%s%s", name, window_str(l), l->pool.ceil_mode ? " ceil" : "");
  case OP_ADAPTIVE_AVGPOOL2D:
    return format("%s %s", name, pair_str(l->pool.out_h, l->pool.out_w, true));
  case OP_ADAPTIVE_AVGPOOL1D:
    return format("%s %" PRId64, name, l->pool.out_w);
  case OP_UPSAMPLE:
  case OP_INTERPOLATE: {
    const char *mode = l->resize.bilinear ? (l->resize.align_corners ? " bilinear ac" : " bilinear") : " nearest";
    if (l->resize.out_h)
      return format("%s%s", name, mode);
    if (l->resize.scale_h == l->resize.scale_w)
      return format("%s x%g%s", name, l->resize.scale_h, mode);
    return format("%s x(%g,%g)%s", name, l->resize.scale_h, l->resize.scale_w, mode);
  }
  case OP_LINEAR: {
    const Shape *xs = &l->in[0]->shape;
    return format("%s %" PRId64 "->%" PRId64, name, xs->d[xs->rank - 1],
                  l->shape.d[l->shape.rank - 1]);
  }
  case OP_FLATTEN:
    if (l->axes.start_dim != 1 || l->axes.end_dim != l->in[0]->shape.rank - 1)
      return format("%s %d..%d", name, l->axes.start_dim, l->axes.end_dim);
    return name;
  case OP_LEAKY_RELU:
    return format("%s %g", name, l->ew.slope);
  case OP_GELU:
    return l->ew.gelu_tanh ? format("%s tanh", name) : name;
  case OP_ELU:
    return format("%s %g", name, l->ew.alpha);
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_CONCAT:
    return format("%s dim=%d", name, l->axes.axis);
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX:
    return format("%s dim=%s%s", name, dims_str(l->dims.v, l->dims.n), l->dims.keepdim ? " keepdim" : "");
  case OP_PERMUTE:
    return format("%s %s", name, dims_str(l->dims.v, l->dims.n));
  case OP_TRANSPOSE:
    return format("%s %" PRId64 ",%" PRId64, name, l->dims.v[0], l->dims.v[1]);
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
    return l->dims.n ? format("%s dim=%" PRId64, name, l->dims.v[0]) : name;
  case OP_NARROW:
    return format("%s dim=%" PRId64 " %" PRId64 "+%" PRId64, name, l->dims.v[0], l->dims.start, l->dims.length);
  case OP_INDEX_SELECT:
    return format("%s dim=%" PRId64, name, l->dims.v[0]);
  case OP_ROLL: {
    char *s = format("%s", name);
    for (int i = 0; i < l->dims.nshift; i++)
      s = l->dims.n ? format("%s%s%" PRId64 "@%" PRId64, s, i ? "," : " ", l->dims.shift[i], l->dims.v[i])
                    : format("%s %" PRId64, s, l->dims.shift[i]);
    return s;
  }
  case OP_EXPAND:
    return name; // the shape column says it
  case OP_ARANGE:
    return format("%s %" PRId64 ":%" PRId64 ":%" PRId64, name, l->dims.start, l->dims.end, l->dims.step);
  case OP_SLICE: // start::step, as written in an index
    return format("%s dim=%" PRId64 " %" PRId64 "::%" PRId64, name, l->dims.v[0], l->dims.start, l->dims.step);
  case OP_MATMUL:
    return l->trans_b ? format("%s b^T", name) : name; // b^T: a transpose read in place (fuse.c)
  case OP_RESHAPE:
  case OP_VIEW:
    return name; // the shape column says it
  case OP_DROPOUT:
    return format("%s %g", name, l->ew.p);
  case OP_STOCHASTIC_DEPTH:
    return format("%s %g %s", name, l->ew.p, l->ew.row_mode ? "row" : "batch");
  case OP_IDENTITY:
    return name;
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV: {
    if (l->nin != 1)
      return name;
    const char sym = op_arith_sym(l->op);
    if (l->ew.scalar_left)
      return format("%s %g%cx", name, l->ew.scalar, sym);
    return format("%s x%c%g", name, sym, l->ew.scalar);
  }
  case OP_PAD: {
    char *s = format("%s l%" PRId64 " r%" PRId64 " t%" PRId64 " b%" PRId64, name, l->pad.left,
                     l->pad.right, l->pad.top, l->pad.bottom);
    return l->pad.value != 0 ? format("%s =%g", s, l->pad.value) : s;
  }
  case OP_GROUPNORM:
    return format("%s %" PRId64 "%s", name, l->norm.groups, l->norm.eps != 1e-5 ? format(" eps=%g", l->norm.eps) : "");
  case OP_SOFTPLUS:
    return l->ew.beta != 1 || l->ew.threshold != 20 ? format("%s %g,%g", name, l->ew.beta, l->ew.threshold) : name;
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D:
  case OP_LAYERNORM:
    return l->norm.eps != 1e-5 ? format("%s eps=%g", name, l->norm.eps) : name; // PyTorch's default eps is not news
  case OP_BUFFER:
    return l->decl.i64 ? "buffer i64" : name;
  case OP_INPUT:
  case OP_PARAM:
  case OP_GLOBAL_AVGPOOL2D:
  case OP_RELU:
  case OP_RELU6:
  case OP_SIGMOID:
  case OP_TANH:
  case OP_SILU:
  case OP_HARDSWISH:
  case OP_HARDSIGMOID:
  case OP_MISH:
  case OP_NORMALIZE:
    return name;
  case OP__COUNT:
    break;
  }
  unreachable();
}

// Zero shows as "-" so the columns that matter stand out.
static const char *count_str(int64_t v) { return v ? fmt_int(v) : "-"; }

enum { C_NAME, C_OP, C_SHAPE, C_PARAMS, C_MACS, C_RF, C_JUMP, NCOLS };

static const char *col_title[NCOLS] = {"layer", "op", "output", "params", "MACs", "RF", "jump"};
static const bool col_right[NCOLS] = {false, false, false, true, true, true, true};

typedef struct Row {
  int indent;                // spaces before the name
  const char *cell[NCOLS];
} Row;

typedef struct Table {
  Row *rows; int nrows, cap;
} Table;

static Row *new_row(Table *t, int indent) {
  t->rows = grow(t->rows, &t->cap, t->nrows + 1, sizeof(Row));
  Row *r = &t->rows[t->nrows++];
  r->indent = indent;
  return r;
}

static void add_layer_row(Table *t, Layer *l, int indent) {
  Row *r = new_row(t, indent);
  r->cell[C_NAME] = l->name && *l->name ? l->name : format("(%s)", op_name(l));
  r->cell[C_OP] = op_summary(l);
  r->cell[C_SHAPE] = shape_str(&l->shape);
  r->cell[C_PARAMS] = count_str(l->params);
  r->cell[C_MACS] = count_str(l->macs);
  r->cell[C_RF] = rf_size_str(l->rf);
  r->cell[C_JUMP] = rf_jump_str(l->rf);
}

// A block instance: its returned tensor, and the totals of its layers.
static void add_inst_row(Table *t, Inst *b, Cost c, int indent) {
  Row *r = new_row(t, indent);
  r->cell[C_NAME] = b->name;
  r->cell[C_OP] = b->block;
  r->cell[C_SHAPE] = b->output ? shape_str(&b->output->shape) : "";
  r->cell[C_PARAMS] = count_str(c.params);
  r->cell[C_MACS] = count_str(c.macs);
  r->cell[C_RF] = b->output ? rf_size_str(b->output->rf) : "";
  r->cell[C_JUMP] = b->output ? rf_jump_str(b->output->rf) : "";
}

// Rows in layer order; a block's row comes right above its first layer.
// Nesting depth of a row: a block instance at Inst.depth d is at depth d, a
// layer in it at d+1 (so net-level layers are at 1). Rows deeper than
// 'depth' are hidden, which collapses their block into its row.
static Table build_table(Graph *g, int depth) {
  Table t = {0};
  Sums sums = fill_sums(g);
  int maxdepth = 0;
  for (int i = 0; i < g->ninsts; i++)
    if (g->insts[i]->depth > maxdepth)
      maxdepth = g->insts[i]->depth;
  Inst **open = xalloc(((size_t)maxdepth + 1) * sizeof *open); // open[k]: depth k+1
  Inst **chain = xalloc(((size_t)maxdepth + 1) * sizeof *chain);
  int nopen = 0;

  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->op == OP_INPUT)
      continue;
    int d = l->inst->depth; // chain[0..d-1]: the instances from depth 1 down to l->inst
    for (Inst *b = l->inst; b && b->depth > 0; b = b->parent)
      chain[b->depth - 1] = b;
    int k = 0;
    while (k < nopen && k < d && open[k] == chain[k])
      k++;
    for (nopen = k; nopen < d; nopen++) {
      Inst *b = chain[nopen];
      open[nopen] = b;
      if (depth < 0 || b->depth <= depth)
        add_inst_row(&t, b, inst_cost(&sums, b), 2 * (b->depth - 1));
    }
    if (depth < 0 || d + 1 <= depth)
      add_layer_row(&t, l, 2 * d);
  }
  return t;
}

// Display width: UTF-8 continuation bytes take no column (string labels may
// hold any text).
static int text_width(const char *s) {
  int w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    w += (*p & 0xc0) != 0x80;
  return w;
}

// One cell padded to width columns, after 'indent' spaces.
static void put_cell(FILE *out, const char *s, int indent, int width, bool right) {
  int pad = width - indent - text_width(s);
  if (right)
    fprintf(out, "%*s%s", indent + pad, "", s);
  else
    fprintf(out, "%*s%s%*s", indent, "", s, pad, "");
}

static void print_table(Table *t, FILE *out) {
  int width[NCOLS];
  for (int c = 0; c < NCOLS; c++)
    width[c] = text_width(col_title[c]);
  for (int i = 0; i < t->nrows; i++)
    for (int c = 0; c < NCOLS; c++) {
      int w = text_width(t->rows[i].cell[c]) + (c == C_NAME ? t->rows[i].indent : 0);
      if (w > width[c])
        width[c] = w;
    }

  for (int c = 0; c < NCOLS; c++) {
    fputs(c ? "  " : "", out);
    put_cell(out, col_title[c], 0, width[c], col_right[c]);
  }
  fputc('\n', out);
  for (int c = 0; c < NCOLS; c++) {
    fputs(c ? "  " : "", out);
    for (int k = 0; k < width[c]; k++)
      fputc('-', out);
  }
  fputc('\n', out);

  for (int i = 0; i < t->nrows; i++) {
    Row *r = &t->rows[i];
    for (int c = 0; c < NCOLS; c++) {
      fputs(c ? "  " : "", out);
      put_cell(out, r->cell[c], c == C_NAME ? r->indent : 0, width[c], col_right[c]);
    }
    fputc('\n', out);
  }
}

static void print_total(FILE *out, const char *label, int64_t v, const char *human, int w) {
  if (human)
    fprintf(out, "  %-24s %*s  (%s)\n", label, w, fmt_int(v), human);
  else
    fprintf(out, "  %-24s %*s\n", label, w, fmt_int(v));
}

// The net's name as the generated header's macros start (LENET_).
static const char *macro_prefix(const Graph *g) {
  char *u = xstrdup(g->net);
  for (char *p = u; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  return u;
}

// A ratio as "3.8x" (or "-" when there is nothing to compare).
static char *times(int64_t a, int64_t b) { return b > 0 ? format("%.1fx", (double)a / (double)b) : xstrdup("-"); }

// --quantize int8: the int8 build's memory beside the float build's, and
// what still runs in float (and why). The totals above are the int8 build's.
static void report_int8_text(Graph *g, FILE *out, int w) {
  const Totals *s = &g->totals, *f = &g->float_totals;
  int64_t qweights = s->qblob_bytes + s->float_kept_bytes;
  fprintf(out, "\nint8 (--quantize int8; ranges: %s)\n", g->ranges_note ? g->ranges_note : "?");
  print_total(out, "int8 weights", s->int8_weight_bytes,
              format("%s; float32 %s, %s smaller", human_bytes(s->int8_weight_bytes), fmt_int(f->weight_bytes),
                     times(f->weight_bytes, s->int8_weight_bytes)), w);
  print_total(out, "int8 blob", s->qblob_bytes,
              format("%s: the int8 weights, int32 biases, requantization", human_bytes(s->qblob_bytes)), w);
  print_total(out, "float weights kept", s->float_kept_bytes,
              s->float_kept_bytes ? format("%s, for the layers in float", human_bytes(s->float_kept_bytes)) : NULL, w);
  print_total(out, "weights in all", qweights,
              format("%s; float build %s", human_bytes(qweights), fmt_int(f->weight_bytes)), w);
  print_total(out, "activations (arena plan)", s->scratch_offset * 4,
              format("uint8; float build %s", fmt_int(f->scratch_offset * 4)), w);
  print_total(out, "kernel scratch", s->scratch_bytes, format("float build %s", fmt_int(f->scratch_bytes)), w);
  print_total(out, "arena total", s->arena_floats * 4,
              format("%s; float build %s", human_bytes(s->arena_floats * 4), fmt_int(f->arena_floats * 4)), w);
  fprintf(out, "  inputs are quantized on entry and outputs dequantized on exit: the API stays float32\n");
  if (s->nfloat_layers == 0) {
    fprintf(out, "  every layer runs in int8\n");
    return;
  }
  fprintf(out, "  %d layer%s in float (dequantize, float kernel, quantize):\n", s->nfloat_layers,
          s->nfloat_layers == 1 ? " runs" : "s run");
  for (int i = 0; i < g->nlayers; i++) {
    const Layer *l = g->layers[i];
    if (l->q.kind == Q_FLOAT)
      fprintf(out, "    %s (%s): %s\n", l->name, op_table[l->op].name, l->q.why_float);
  }
}

void report_text(Graph *g, FILE *out, int depth) {
  fprintf(out, "netc %s  net %s  file %s\n", NETC_VERSION, g->net, file_name(g));
  for (int i = 0; i < g->ninputs; i++)
    fprintf(out, "input %s %s\n", g->inputs[i]->name, shape_str(&g->inputs[i]->shape));
  fprintf(out, "params: %s\n", conv_params);
  fprintf(out, "MACs: %s\n", conv_macs);
  fprintf(out, "FLOPs: %s\n", conv_flops);
  fprintf(out, "RF: %s\n", conv_rf);

  if (depth != 0) {
    fputc('\n', out);
    Table t = build_table(g, depth);
    print_table(&t, out);
  }

  Totals *s = &g->totals;
  int w = (int)strlen(fmt_int(s->flops));
  int64_t all[] = {s->params, s->buffers, s->macs, s->weight_bytes, s->activation_bytes,
                   s->arena_bytes, s->scratch_bytes, s->arena_floats * 4};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if ((int)strlen(fmt_int(all[i])) > w)
      w = (int)strlen(fmt_int(all[i]));

  fputs("\ntotals\n", out);
  print_total(out, "params", s->params, human_count(s->params), w);
  print_total(out, "buffers", s->buffers, human_count(s->buffers), w);
  print_total(out, "MACs", s->macs, human_count(s->macs), w);
  print_total(out, "FLOPs", s->flops, human_count(s->flops), w);
  print_total(out, "weight bytes", s->weight_bytes, human_bytes(s->weight_bytes), w);
  print_total(out, "outputs (no reuse)", s->activation_bytes, human_bytes(s->activation_bytes), w);
  // The arena, in the three numbers of the generated header: the planned
  // activations (_ACTIVATION_BYTES), the kernels' scratch after them
  // (_SCRATCH_BYTES), and the whole (_ARENA_BYTES, what forward() takes).
  print_total(out, "activations (arena plan)", s->scratch_offset * 4, human_bytes(s->scratch_offset * 4), w);
  // What the plan is measured against: the most bytes any step keeps live
  // (no plan with these lifetimes needs less), and the two largest blocks
  // live together (a chain's input and output).
  if (s->live_peak_at >= 0) {
    print_total(out, "  live at once", s->live_peak_bytes,
                format("%s, at %s", human_bytes(s->live_peak_bytes), g->layers[s->live_peak_at]->name), w);
    print_total(out, "  two largest live", s->two_largest_bytes,
                format("%s, at %s", human_bytes(s->two_largest_bytes), g->layers[s->two_largest_at]->name), w);
  }
  print_total(out, "kernel scratch", s->scratch_bytes, s->scratch_bytes ? human_bytes(s->scratch_bytes) : NULL, w);
  print_total(out, "arena total", s->arena_floats * 4,
              format("%s, = %s_ARENA_BYTES", human_bytes(s->arena_floats * 4), macro_prefix(g)), w);
  if (g->nlayers && g->layers[0]->q.on)
    report_int8_text(g, out, w);
}

//
// JSON
//

static void json_str(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    case '\b': fputs("\\b", out); break;
    case '\f': fputs("\\f", out); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        fprintf(out, "\\u%04x", *p);
      else
        fputc(*p, out); // UTF-8 passes through
    }
  }
  fputc('"', out);
}

// JSON has no NaN or infinity; integral values print as integers.
static void json_num(FILE *out, double v) {
  if (!isfinite(v))
    fputs("null", out);
  else if (v == floor(v) && fabs(v) < 9007199254740992.0) // 2^53: exact in a double
    fprintf(out, "%" PRId64, (int64_t)v);
  else
    fprintf(out, "%.17g", v);
}

static void json_shape(FILE *out, const Shape *s) {
  fputc('[', out);
  for (int i = 0; i < s->rank; i++)
    fprintf(out, "%s%" PRId64, i ? ", " : "", s->d[i]);
  fputc(']', out);
}

static void json_pair(FILE *out, double h, double w) {
  fputc('[', out);
  json_num(out, h);
  fputs(", ", out);
  json_num(out, w);
  fputc(']', out);
}

static void json_layer(FILE *out, Graph *g, Layer *l) {
  fprintf(out, "{\"id\": %d, \"name\": ", l->id);
  json_str(out, l->name);
  fputs(", \"op\": ", out);
  json_str(out, op_name(l));
  fputs(", \"torch\": ", out);
  const char *torch = l->op == OP_INPUT ? NULL : op_table[l->op].torch_name;
  if (torch && *torch)
    json_str(out, torch);
  else
    fputs("null", out);
  fputs(", \"scope\": ", out);
  json_str(out, l->inst ? l->inst->name : "");
  fprintf(out, ", \"depth\": %d, \"inputs\": [", l->inst ? l->inst->depth : 0);
  for (int k = 0; k < l->nin; k++)
    fprintf(out, "%s%d", k ? ", " : "", l->in[k]->id);
  fputs("], \"shape\": ", out);
  json_shape(out, &l->shape);
  fprintf(out,
          ", \"params\": %" PRId64 ", \"buffers\": %" PRId64 ", \"macs\": %" PRId64
          ", \"flops\": %" PRId64 ", \"bytes\": %" PRId64 ", \"offset\": %" PRId64
          ", \"alias\": %d",
          l->params, l->buffers, l->macs, l->flops, l->bytes, l->offset,
          l->alias ? l->alias->id : -1);
  fputs(", \"rf\": {\"size\": ", out);
  json_pair(out, l->rf[0].size, l->rf[1].size);
  fputs(", \"jump\": ", out);
  json_pair(out, l->rf[0].jump, l->rf[1].jump);
  fputs(", \"start\": ", out);
  json_pair(out, l->rf[0].start, l->rf[1].start);
  bool global = l->rf[0].global && l->rf[1].global;
  fprintf(out, ", \"global\": %s%s}, \"loc\": ", global ? "true" : "false",
          l->rf[0].constant ? ", \"constant\": true" : "");
  const char *file = l->loc.file && l->loc.file->name ? l->loc.file->name : file_name(g);
  json_str(out, format("%s:%d:%d", file, l->loc.line, l->loc.col));
  fputs(", \"kernel\": ", out);
  json_str(out, kernel_name(l));
  fputc('}', out);
}

static void report_int8_json(const Graph *g, FILE *out);

void report_json(Graph *g, FILE *out) {
  fputs("{\n  \"netc\": ", out);
  json_str(out, NETC_VERSION);
  fputs(",\n  \"net\": ", out);
  json_str(out, g->net);
  fputs(",\n  \"file\": ", out);
  json_str(out, file_name(g));

  fputs(",\n  \"conventions\": {\"params\": ", out);
  json_str(out, conv_params);
  fputs(", \"macs\": ", out);
  json_str(out, conv_macs);
  fputs(", \"flops\": ", out);
  json_str(out, conv_flops);
  fputs(", \"rf\": ", out);
  json_str(out, conv_rf);
  fputc('}', out);

  fputs(",\n  \"inputs\": [", out);
  for (int i = 0; i < g->ninputs; i++) {
    fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
    json_str(out, g->inputs[i]->name);
    fputs(", \"shape\": ", out);
    json_shape(out, &g->inputs[i]->shape);
    fputc('}', out);
  }
  fputs(g->ninputs ? "\n  ]" : "]", out);

  fputs(",\n  \"outputs\": [", out);
  for (int i = 0; i < g->noutputs; i++) {
    fprintf(out, "%s{\"layer\": %d, \"shape\": ", i ? ",\n    " : "\n    ", g->outputs[i]->id);
    json_shape(out, &g->outputs[i]->shape);
    fputc('}', out);
  }
  fputs(g->noutputs ? "\n  ]" : "]", out);

  fputs(",\n  \"layers\": [", out);
  for (int i = 0; i < g->nlayers; i++) {
    fputs(i ? ",\n    " : "\n    ", out);
    json_layer(out, g, g->layers[i]);
  }
  fputs(g->nlayers ? "\n  ]" : "]", out);

  Sums sums = fill_sums(g);
  fputs(",\n  \"blocks\": [", out);
  for (int i = 1; i < g->ninsts; i++) {
    Inst *b = g->insts[i];
    Cost c = inst_cost(&sums, b);
    fputs(i > 1 ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
    json_str(out, b->name);
    fputs(", \"block\": ", out);
    json_str(out, b->block);
    fprintf(out, ", \"depth\": %d, \"first\": %d, \"last\": %d, \"shape\": ", b->depth, b->first,
            b->last);
    if (b->output)
      json_shape(out, &b->output->shape);
    else
      fputs("null", out);
    fprintf(out, ", \"params\": %" PRId64 ", \"macs\": %" PRId64 ", \"flops\": %" PRId64 "}",
            c.params, c.macs, c.flops);
  }
  fputs(g->ninsts > 1 ? "\n  ]" : "]", out);

  fputs(",\n  \"weights\": [", out);
  for (int i = 0; i < g->nweights; i++) {
    Weight *w = g->weights[i];
    fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
    json_str(out, w->name);
    fputs(", \"shape\": ", out);
    json_shape(out, &w->shape);
    static const char *const roles[] = {"weight", "bias", "gamma", "beta", "running_mean", "running_var",
                                        "counter", "param", "buffer", "index"};
    fprintf(out, ", \"kind\": \"%s\", \"role\": \"%s\", \"dtype\": \"%s\", \"layer\": %d",
            w->buffer ? "buffer" : "param", roles[w->kind], w->i64 ? "i64" : "f32", w->layer->id);
    if (w->index_limit)
      fprintf(out, ", \"index_limit\": %" PRId64, w->index_limit);
    fputs("}", out);
  }
  fputs(g->nweights ? "\n  ]" : "]", out);

  Totals *t = &g->totals;
  fprintf(out,
          ",\n  \"totals\": {\"params\": %" PRId64 ", \"buffers\": %" PRId64
          ", \"macs\": %" PRId64 ", \"flops\": %" PRId64 ", \"weight_bytes\": %" PRId64
          ", \"activation_bytes\": %" PRId64 ", \"arena_activation_bytes\": %" PRId64
          ", \"arena_scratch_bytes\": %" PRId64 ", \"arena_total_bytes\": %" PRId64
          ", \"live_peak_bytes\": %" PRId64 ", \"two_largest_live_bytes\": %" PRId64 "}",
          t->params, t->buffers, t->macs, t->flops, t->weight_bytes, t->activation_bytes,
          t->scratch_offset * 4, t->scratch_bytes, t->arena_floats * 4, t->live_peak_bytes, t->two_largest_bytes);
  if (g->nlayers && g->layers[0]->q.on)
    report_int8_json(g, out);
  fputs("\n}\n", out);
}

// --quantize int8: the int8 figures beside the float build's, and the
// layers that run in float.
static void report_int8_json(const Graph *g, FILE *out) {
  const Totals *t = &g->totals, *f = &g->float_totals;
  fprintf(out,
          ",\n  \"int8\": {\"int8_weight_bytes\": %" PRId64 ", \"int8_blob_bytes\": %" PRId64
          ", \"float_weight_bytes_kept\": %" PRId64 ", \"float_build_weight_bytes\": %" PRId64
          ", \"float_build_arena_total_bytes\": %" PRId64 ", \"float_layers\": [",
          t->int8_weight_bytes, t->qblob_bytes, t->float_kept_bytes, f->weight_bytes, f->arena_floats * 4);
  bool first = true;
  for (int i = 0; i < g->nlayers; i++) {
    const Layer *l = g->layers[i];
    if (l->q.kind != Q_FLOAT)
      continue;
    fputs(first ? "" : ", ", out);
    first = false;
    fputs("{\"name\": ", out);
    json_str(out, l->name);
    fputs(", \"why\": ", out);
    json_str(out, l->q.why_float);
    fputs("}", out);
  }
  fputs("]}", out);
}

//
// torch: the lines of the seed notes' loop
//   for layer in net: X = layer(X); print(layer.__class__.__name__, 'output shape:\t', X.shape)
// one per net-level call: a module op at net level, or a block (a Sequential).
//

static void torch_line(FILE *out, const char *cls, const Shape *s) {
  fprintf(out, "%s output shape:\t torch.Size(", cls);
  json_shape(out, s); // "[1, 6, 28, 28]", the same digits and spacing as torch.Size
  fputs(")\n", out);
}

void report_torch(Graph *g, FILE *out) {
  Inst *net = g->insts[0];
  Inst *last = NULL; // the depth-1 instance printed last
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (l->op == OP_INPUT)
      continue;
    if (l->inst == net) {
      const OpInfo *op = &op_table[l->op];
      if (op->flags & OPF_MODULE)
        torch_line(out, op->torch_name ? op->torch_name : op->name, &l->shape);
      continue;
    }
    Inst *b = l->inst;
    while (b->depth > 1)
      b = b->parent;
    if (b == last)
      continue;
    last = b;
    torch_line(out, "Sequential", b->output ? &b->output->shape : &g->layers[b->last]->shape);
  }
}
