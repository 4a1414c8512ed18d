// netc.h -- the one internal header of the netc compiler.
//
// Pipeline (main.c's compile_net): lexer.l + parser.y build an AST per file
// (ast.c, load.c); elaborate.c interprets the chosen net at compile time and
// appends one Layer per primitive op to a Graph, calling the shape rules in
// shape.c as each layer is created (blocks need x.shape while they run). The
// passes then fill fields on the finished graph, one concern per file, in
// this order:
//
//   rf.c       fill_rf        receptive field size / jump / start per axis
//   cost.c     fill_cost      params, buffers, MACs, FLOPs, activation bytes
//   fuse.c     fill_fusion    folded batch norms, fused activations and adds
//   lower.c    fill_lowering  each layer's kernel, scratch and weight slots
//   memplan.c  fill_memplan   liveness-based arena offsets, peak and scratch
//   verify.c   verify_graph   invariants between passes (aborts)
//
// and the back ends only read what the passes stored: report.c and dot.c
// (text, JSON, torch, Graphviz), emit.c (C source and header) and weights.c
// (--weights). execute.c runs the lowered graph in process with the
// runtime's kernels: the forward fuzzer, and --self-test's compile-time run
// with the reference kernels, whose outputs emit.c stores. The ops themselves
// are listed once, in ops.def.
//
// Sections below are banner-separated by the file that defines them.
#ifndef NETC_H
#define NETC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// The compiler lowers to the runtime's own types (netc_act, the kernels'
// parameter structs, the loader's tables) and links the runtime.
#include "../runtime/netc_rt.h"

#define NETC_VERSION "0.1.0"
#define MAX_RANK 6

typedef struct Node Node;
typedef struct Layer Layer;
typedef struct Graph Graph;
typedef struct Inst Inst;
typedef struct Value Value;
typedef struct OpInfo OpInfo;

//
// util.c: arena allocation, interned strings, growable arrays
//

void *xalloc(size_t n);                    // zeroed, from the arena; exits on OOM
void *xrealloc(void *p, size_t old, size_t n); // a larger copy in the arena (the old block stays)
void xfree_all(void);                      // releases every xalloc'd byte and the intern table
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *intern(const char *s, size_t n); // equal strings get equal pointers
void *grow(void *p, int *cap, int need, size_t elem); // realloc for dynamic arrays
_Noreturn void internal_error(const char *file, int line, const char *msg);
#define unreachable() internal_error(__FILE__, __LINE__, "unreachable")
#define NETC_ASSERT(c) ((c) ? (void)0 : internal_error(__FILE__, __LINE__, "assertion failed: " #c))
int edit_distance(const char *a, const char *b);
char *read_file(const char *path, size_t *len, const char **err);
extern int64_t max_source_bytes;           // read_file's limit (--max-source)
char *fmt_int(int64_t v);                  // 25557032 -> "25,557,032"
const char *parse_byte_size(const char *s, int64_t *out); // "2MiB" -> 2097152; NULL or why not
size_t utf8_len(const char *s, size_t n);  // bytes in the valid UTF-8 sequence at s, 0 if invalid

//
// diag.c: located diagnostics
//

typedef struct SrcFile {
  const char *name;   // as given on the command line or in an import
  const char *text;   // NUL-terminated contents
  size_t len;
  int line_base;      // subtracted from line numbers when printed (-D values)
  int last_line;      // when > 0, the last line the user wrote (-D values): a
                      // location past it is shown at that line's end
} SrcFile;

typedef struct Loc {
  SrcFile *file;
  int line, col;      // 1-based; col counts characters (UTF-8 sequences), as the caret is drawn
  int len;            // length of the underlined token (>= 1)
} Loc;

typedef enum { D_ERROR, D_WARNING, D_NOTE } DiagKind;

// Every diagnostic goes through here; tests can install a consumer.
typedef void DiagConsumer(DiagKind kind, Loc loc, const char *msg, void *ctx);
void diag_set_consumer(DiagConsumer *fn, void *ctx);
void diag(DiagKind kind, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void error_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void note_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2))); // "netc: error: ..."
int diag_error_count(void);
void diag_reset(void);
extern int diag_max_errors; // stop reporting after this many (default 50)
extern bool diag_color;

// Warnings (-W flags). Each has a name for -Wname / -Wno-name.
typedef enum {
  W_UNUSED = 1,        // -Wunused: a block or net parameter no instance reads
  W_SAME_PADDING = 2,  // -Wsame-padding: padding="same" that pads unevenly
} WarnKind;
extern unsigned diag_warnings;  // enabled warnings (default: all)
extern bool diag_werror;        // -Werror: warnings count as errors
// Reports warning w (if enabled) at loc; the message gets a [-Wname] suffix.
void warning_at(WarnKind w, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

//
// ast.c: the syntax tree
//

typedef enum {
  N_INT,      // integer literal: ival
  N_FLOAT,    // float literal: fval
  N_STR,      // string literal: str
  N_NAME,     // identifier: str
  N_WILD,     // '?' (any dimension in a stated shape)
  N_TUPLE,    // (a, b, ...) : kids
  N_LIST,     // [a, b, ...] : kids
  N_BINOP,    // lhs op rhs : op, lhs, rhs
  N_UNOP,     // op operand : op, lhs
  N_COND,     // cond ? then : else : lhs(cond), rhs(then), third(else)
  N_CALL,     // callee(args) : lhs (callee), kids (args), label
  N_PIPE,     // lhs -> stage : lhs, rhs (an N_CALL or N_NAME stage), label
  N_INDEX,    // lhs[kids]
  N_SLICE,    // start:stop:step in a subscript: lhs, rhs, third (each NULL when omitted)
  N_ELLIPSIS, // '...' in a subscript
  N_ATTR,     // lhs.str
  N_ARG,      // keyword argument str=lhs (only inside call args)
  // statements
  S_ASSIGN,   // targets (kids of N_NAME) = rhs; lhs = stated shape or NULL
  S_FOR,      // for targets in rhs { body }
  S_IF,       // if lhs { body } else { els }
  S_RETURN,   // return kids
  S_ASSERT,   // assert lhs [, rhs message]
  S_DECL,     // str kids[0]: lhs (param / buffer: a learned tensor or a buffer of the block)
  // items
  I_IMPORT,   // import str
  I_BLOCK,    // block str(params) { body }
  I_NET,      // net str(params) { body }
  I_CONST,    // str = rhs
  N_PARAM,    // parameter str [: lhs] [= rhs]
} NodeKind;

struct Node {
  NodeKind kind;
  Loc loc;
  int op;             // token code for N_BINOP / N_UNOP
  int64_t ival;
  double fval;
  const char *str;    // interned
  Node *lhs, *rhs, *third;
  Node *label;        // '@label' on a call or pipe stage (N_NAME, N_INT or an expression)
  Node **kids; int nkids;
  Node **params; int nparams;    // I_BLOCK / I_NET
  Node **body; int nbody;        // statement lists
  Node **els; int nels;
  bool has_else;
  int uses;           // elaborate.c: N_PARAM reads / I_BLOCK instances (for -Wunused)
};

Node *new_node(NodeKind kind, Loc loc);
void node_push(Node ***arr, int *n, Node *kid);
const char *binop_str(int op);

// A parsed file.
typedef struct Module {
  SrcFile *file;
  Node **items; int nitems;
} Module;

//
// parse.c (wraps parser.y and lexer.l)
//

// Parses text into a Module; reports syntax errors through diag and returns
// NULL if there were any.
Module *parse_source(SrcFile *file);
SrcFile *new_srcfile(const char *name, const char *text, size_t len);

//
// ops.c: the table of built-in layer kinds
//

// The op registry is ops.def; see its header for the columns.
typedef enum {
#define OP(K, ...) OP_##K,
#include "ops.def"
#undef OP
  OP__COUNT
} OpKind;

typedef enum {
  OPFAM_INPUT,      // a net input
  OPFAM_CONV,       // conv2d, conv_transpose2d
  OPFAM_POOL,       // max / average / adaptive pooling, reductions, resizing
  OPFAM_LINEAR,     // linear
  OPFAM_NORM,       // batch norm, layer norm, normalize
  OPFAM_ACTIVATION, // elementwise nonlinearities and softmax
  OPFAM_ARITH,      // tensor arithmetic (add, sub, mul)
  OPFAM_TENSOR,     // moves or copies data: flatten, dropout, concat, pad
} OpFamily;

typedef enum {
  OPA_NONE,         // no tensor input, not callable (a net input, a declared tensor)
  OPA_NULLARY,      // no tensor input, called with numbers only (arange)
  OPA_UNARY,        // one tensor
  OPA_BINARY,       // two tensors (one may be a number with OPF_SCALAR)
  OPA_VARIADIC,     // one or more tensors (concat)
} OpArity;

typedef enum {
  OPF_MODULE = 1,   // a PyTorch module: takes an auto index in its scope
  OPF_INPLACE = 2,  // the kernel may write its output over a same-size tensor operand
  OPF_VIEW = 4,     // the output is the input's memory (flatten, dropout)
  OPF_SCALAR = 8,   // a number may stand for one operand (x + 1)
} OpFlags;

typedef enum {
  OPS_SAME,         // the output has the input's shape
  OPS_ELEMENTWISE,  // two equal shapes (or a tensor and a number) -> that shape
  OPS_OWN,          // a rule of its own in shape.c
} OpShapeRule;

struct OpInfo {
  OpKind kind;
  const char *name;        // as written in .net files
  const char *torch_name;  // PyTorch class for --report=torch
  OpFamily family;
  OpArity arity;
  netc_act act;            // the runtime activation it lowers to (NETC_ACT_NONE: not an activation)
  int flags;               // OpFlags
  OpShapeRule shape;
  int npositional;         // positional args after the input tensor(s)
  const char *params[16];  // parameter names accepted, NULL-terminated
  const char *signature;   // for notes and docs
};

extern const OpInfo op_table[OP__COUNT];
const OpInfo *find_op(const char *name);

//
// graph: the elaborated network
//

typedef struct Shape {
  int rank;
  int64_t d[MAX_RANK];
} Shape;

typedef struct RF {
  double size;   // receptive field size in input pixels
  double jump;   // distance in input pixels between adjacent outputs
  double start;  // input coordinate of the centre of output 0's field
  bool global;   // depends on the whole input map
  bool constant; // depends on no input pixel: a param or buffer, or computed from them only
  int dim;       // the dim of the layer's output that holds this axis (-1: global or constant)
} RF;

// Where a layer's tensors live in the model's float blob (-1: none), by role.
// Slots are 16-float aligned so every tensor starts on a 64-byte boundary.
typedef struct Slots {
  int64_t w, b;                 // conv / conv_transpose / linear weight and bias
  int64_t gamma, beta;          // batch norm / layer norm weight and bias
  int64_t mean, var;            // batch norm statistics (also when folded: the fold reads them at load)
  int64_t packed;               // conv2d: offset of its pre-packed weights in the packed blob
} Slots;

// The runtime kernel a layer runs as (lower.c; the report's "kernel").
// How a layer runs in an int8 build (quantize.c).
typedef enum {
  Q_NONE,      // nothing of its own: fused into its producer, a view, a param or buffer
  Q_QUANTIZE,  // a net input: float -> uint8 at entry
  Q_CONV,      // int8 convolution (dense, grouped, depthwise), clamp for a fused relu / relu6
  Q_LINEAR,    // int8 linear
  Q_ADD,       // uint8 + uint8 with their own scales (and a fused relu)
  Q_MAXPOOL,   // on uint8, the input's scale
  Q_AVGPOOL,   // window average on uint8, the input's scale
  Q_ADAPTIVE,  // adaptive / global average pooling on uint8
  Q_LUT,       // a unary elementwise op as a 256-entry table
  Q_CONCAT,    // each input rescaled to the output's scale
  Q_FLOAT,     // the float kernel between a dequantize and a quantize
} QKind;

typedef enum {
  KERNEL_INPUT,             // a net input: nothing runs
  KERNEL_FUSED,             // computed inside its producer's kernel (fuse.c)
  KERNEL_VIEW,              // its input's memory: nothing runs
  KERNEL_CONV_DIRECT,       // conv2d paths (runtime/conv.c chooses from the parameters)
  KERNEL_CONV_GEMM_1X1,
  KERNEL_CONV_GEMM_IM2COL,
  KERNEL_CONV_WINOGRAD,
  KERNEL_CONV_DEPTHWISE,
  KERNEL_CONV_LOOP,         // the scratch-free conv2d: small layers, or --max-scratch
  KERNEL_GEMV,              // linear, fewer than 8 rows
  KERNEL_GEMM,              // linear
  KERNEL_BROADCAST,         // add / sub / mul / div of shapes that broadcast (netc_broadcast_f32)
  KERNEL_OP,                // the op's own kernel, named after the op
  KERNEL_INT8,              // an int8 build's uint8 kernel (l->q.kind says which)
} KernelKind;

// A weight or buffer tensor of a layer, named after PyTorch's state_dict.
typedef struct Weight {
  const char *name;   // e.g. "layer1.0.conv1.weight"
  Shape shape;
  netc_model_kind kind; // its role (conv weight, bias, norm gamma, running_mean, ...): set once, where it is made
  bool buffer;        // running_mean / running_var / num_batches_tracked
  bool i64;           // num_batches_tracked is int64 in PyTorch
  int64_t index_limit; // an index buffer (NETC_TENSOR_INDEX): its values are in [0, index_limit)
  Layer *layer;
} Weight;

// A block instance: a naming scope and a row in collapsed reports.
struct Inst {
  const char *name;     // full path ("layer1.0"), "" for the net; NULL until its first layer
  const char *label;    // its label, or NULL for an auto index
  const char *block;    // block name ("bottleneck") or net name
  Inst *parent;
  int depth;            // net = 0
  Loc call_loc;         // where it was instantiated
  const char *args;     // "planes=64, stride=1" for notes
  int first, last;      // layer index range [first, last] (inclusive); last < first if empty
  Layer *output;        // the layer whose output the call returned (first result)
  int next_index;       // auto index for unlabeled module calls
};

struct Layer {
  OpKind op;
  int id;               // index in Graph.layers (topological order)
  const char *name;     // module path, e.g. "layer1.0.conv1" (PyTorch's module name)
  Loc loc;              // the call in the source
  Inst *inst;           // innermost block instance
  Layer **in; int nin;  // inputs

  // Attributes, in groups with one meaning per field. Each group's comment
  // names the ops that set it (ops.c); a group an op does not use stays zero,
  // except the two stated sizes, which are -1 ("inferred") on every layer.

  struct {                // the sliding window: conv2d, conv_transpose2d, maxpool2d, avgpool2d
    int64_t kh, kw;       // kernel_size
    int64_t sh, sw;       // stride
    int64_t dh, dw;       // dilation (1 for avgpool2d, which has none)
    int64_t pad_top, pad_bottom, pad_left, pad_right; // padding (padding="same" may be uneven)
  } win;
  struct {                // conv2d, conv_transpose2d, linear
    int64_t out_channels; // out_channels; linear's out_features
    int64_t groups;       // conv2d / conv_transpose2d (0 for linear)
    bool bias;
    int64_t output_pad_h, output_pad_w; // conv_transpose2d: output_padding
    int64_t stated_in;    // in_channels / in_features as stated (-1: inferred)
  } conv;
  struct {                // maxpool2d, avgpool2d, adaptive_avgpool2d, global_avgpool2d
    bool ceil_mode;       // maxpool2d / avgpool2d
    bool count_include_pad; // avgpool2d
    int64_t out_h, out_w; // adaptive_avgpool2d: output_size (global_avgpool2d: 1x1)
  } pool;
  struct {                // batchnorm2d / 1d, layernorm, groupnorm, normalize
    double eps;           // batchnorm2d / layernorm
    bool affine;          // batchnorm2d affine / layernorm elementwise_affine
    int64_t num_features; // batchnorm2d: as stated (-1: inferred)
    Shape shape;          // layernorm: normalized_shape (rank 0 until shape.c: all dims but N)
    int dims;             // layernorm: number of trailing dims normalised (shape.c)
    double *mean, *std; int nmean; // normalize: one of each per channel
    int64_t groups;       // groupnorm: num_groups
  } norm;
  struct {                // the elementwise ops: activations, add / sub / mul, dropout
    double slope;         // leaky_relu: negative_slope
    double alpha;         // elu: alpha
    double beta, threshold; // softplus
    bool gelu_tanh;       // gelu: approximate="tanh"
    double p;             // dropout, stochastic_depth: the probability (unused at inference)
    bool row_mode;        // stochastic_depth: mode="row" (else "batch")
    double scalar;        // add / sub / mul with a number (nin == 1)
    bool scalar_left;     // sub: number - x rather than x - number
  } ew;
  struct {                // upsample, interpolate
    int64_t out_h, out_w; // size as given (0: from scale_factor)
    double scale_h, scale_w; // scale_factor as given (0: size was given)
    bool bilinear;        // mode="bilinear" (else "nearest")
    bool align_corners;
  } resize;
  struct {                // pad: its explicit padding, apart from a window's
    int64_t top, bottom, left, right;
    double value;         // the fill
  } pad;
  struct {                // softmax, concat (axis); flatten (start_dim, end_dim); shape.c normalises them to >= 0
    int axis;
    int start_dim, end_dim;
  } axes;
  struct {                // the tensor-shape ops and reductions; shape.c normalises dims to >= 0
    int n;                // entries of v
    int64_t v[MAX_RANK];  // reshape / view: the shape as written (one -1); permute: the order;
                          // mean / sum / amax: the reduced dims (sorted by shape.c); squeeze: the dim
                          // (n = 0: every size-1 dim); unsqueeze: the dim; transpose: dim0, dim1;
                          // narrow, slice, index_select: the dim; expand: the sizes (-1: keep);
                          // roll: the dims
    bool keepdim;         // mean / sum / amax
    int64_t start, length; // narrow, slice (slice: shape.c computes length from end)
    int64_t end, step;    // slice: end as given (INT64_MAX: the dim's size), step >= 1
    int nshift;           // roll: entries of shift (v holds the dims, n of them; n = 0: flattened)
    int64_t shift[MAX_RANK]; // roll: the shifts as written; shape.c reduces them to 0..size-1
  } dims;

  struct {                // param, buffer
    bool i64;             // buffer: i64[...] (indices), else float
  } decl;

  Weight *weights; int nweights; // in state_dict order

  // filled by shape.c (at creation)
  Shape shape;
  // filled by rf.c
  RF rf[2];             // [0] = H axis, [1] = W axis
  // filled by cost.c
  int64_t params, buffers, macs, flops, bytes;
  // filled by fuse.c (the emitter and memplan.c honour them)
  Layer *fused_into;    // computed inside this producer's kernel (folded BN, fused activation), or
                        // read in place by this later matmul (a transpose: trans_b)
  Layer *fold_bn;       // conv2d / linear: the batchnorm2d folded into it at load time
  Layer *act;           // conv / convT / linear / add: the activation applied in its epilogue
  Layer *residual;      // conv2d: a tensor added in its epilogue (a fused residual add), before act
  bool trans_b;         // matmul: its second operand is a transpose of the last two dims, fused:
                        // the GEMM reads the transpose's input in place

  // filled by lower.c
  KernelKind kernel;    // the runtime kernel it runs as
  int64_t scratch;      // floats of arena scratch that kernel needs
  bool no_scratch;      // --max-scratch: its usual kernel needs more, so it runs a scratch-free
                        // one (conv2d: NETC_CONV_NO_SCRATCH; linear: dot products at any batch)
  Slots slots;          // where its tensors live in the weight blob

  // filled by memplan.c
  int64_t offset;       // byte offset in the arena (-1: not in the arena)
  Layer *alias;         // shares the memory of this layer (in place / view)
  int64_t view_off;     // bytes from alias's start to this layer's output (a narrow view)
  int last_use;         // id of the last layer that reads this one

  // filled by quantize.c (netc --quantize int8); all zero in a float build
  struct {
    bool on;              // the graph is quantized (set on every layer)
    bool u8;              // the output is uint8 with scale and zp; else float (a param, a buffer)
    QKind kind;           // what runs it (Q_NONE: nothing of its own: fused, a view, a param)
    float scale;          // real = scale * (q - zp)
    int32_t zp;
    int32_t out_min, out_max; // the kernel's clamp in the output's uint8 domain (relu, relu6)
    const char *why_float; // Q_FLOAT: why this layer runs in float
    int64_t k, k4;        // conv / linear: the weight as [out_c][k], rows padded to k4 (a multiple of 4)
    int64_t qw, qb, qrq;  // conv / linear: byte offsets in the int8 blob of the weights, bias_eff, requant
    uint8_t *lut;         // Q_LUT: the 256-entry table
  } q;
};

typedef struct Totals {
  int64_t params, buffers, macs, flops;
  int64_t weight_bytes;      // float32 params + float running statistics
  int64_t activation_bytes;  // sum over all layer outputs
  int64_t arena_bytes;       // peak of the memory plan: the arena's activations (the report's
                             // "activations (arena plan)"; the header's _ACTIVATION_BYTES is
                             // scratch_offset * 4, this rounded to 16 floats)
  int64_t live_peak_bytes;   // most activation bytes live at one step (any plan's floor)
  int64_t two_largest_bytes; // most bytes in the two largest blocks live at one step
  int live_peak_at, two_largest_at; // the layer ids where (-1: none)
  // lower.c: the weight blob and the kernels' scratch
  int64_t weight_floats;     // the model's float blob
  int64_t packed_floats;     // the blob of convolution weights packed at load time
  int64_t kept_floats;       // the blob's prefix a loaded model keeps once its convolutions are packed
  int64_t scratch_floats;    // the most scratch one kernel needs
  // memplan.c: the whole arena, activations then scratch (the header's _ARENA_FLOATS)
  int64_t scratch_offset;    // floats: where the scratch region starts
  int64_t arena_floats;      // floats in all
  int64_t scratch_bytes;     // bytes of the scratch region (arena_floats - scratch_offset)
  // quantize.c (--quantize int8): the int8 blob the loader builds from the float weights
  int64_t qblob_bytes;       // int8 weights, int32 biases and requantization tables
  int64_t int8_weight_bytes; // of which the int8 weights
  int64_t float_kept_bytes;  // float weights the int8 forward pass still reads (float layers)
  int nfloat_layers;         // layers that run in float between a dequantize and a quantize
} Totals;

struct Graph {
  const char *net;          // net name
  SrcFile *file;
  Loc loc;
  Layer **layers; int nlayers, caplayers;
  Layer **inputs; int ninputs;
  Layer **outputs; int noutputs;
  Inst **insts; int ninsts, capinsts;   // insts[0] is the net itself
  Weight **weights; int nweights, capweights; // all, in state_dict order
  Totals totals;
  int64_t arena_align;      // bytes (64)
  // --quantize int8: the float build's totals, for the report to compare
  // (set when the graph is quantized: layers[i]->q.on)
  Totals float_totals;
  const char *ranges_note;  // where the ranges came from, for the report ("FILE: minmax, 1000 samples")
};

//
// shape.c: output-shape rules, one per op family
//

// Fills l->shape from its inputs and attributes. On an impossible shape it
// reports an error at l->loc (with the formula and numbers) and returns false.
bool infer_shape(Layer *l);
// PyTorch's output-size formulas are the runtime's (netc_conv2d_out_size,
// netc_pool2d_out_size, netc_conv_transpose2d_out_size): one definition.
int64_t shape_numel(const Shape *s);
// Python's slice start:end:step (step >= 1) of a dim of `size`: start and end
// clamped as Python does (negative counts from the end); returns how many
// positions it keeps (0: none) and sets *start to the first.
int64_t slice_bounds(int64_t size, int64_t *start, int64_t end, int64_t step);
// roll: the shape the kernel sees (*s: the input's, or [numel] for a
// flattened roll) and the shift of each of its dims (0: not rolled).
void layer_roll_shifts(const Layer *l, Shape *s, int64_t *shifts);
// expand: the input's shape with leading 1s up to the output's rank.
Shape layer_expand_in(const Layer *l);
// s viewed as [outer, s->d[dim], inner] (the kernels' layout along one dim).
void shape_split_at(const Shape *s, int dim, int64_t *outer, int64_t *inner);
char *shape_str(const Shape *s);           // "[1, 64, 56, 56]"
bool shape_eq(const Shape *a, const Shape *b);
Shape shape_at_rank(const Shape *s, int rank); // leading 1s up to rank (>= s->rank), as broadcasting aligns
// A two-tensor add / sub / mul / div whose operands do not both have its
// shape: it broadcasts (its own kernel; fuse.c leaves it alone).
bool layer_broadcasts(const Layer *l);
// The 1-D ops run as their 2-D kernels on a height of 1 (lower.c): the
// passes that treat them alike ask these.
// A layer with no inputs whose output is not computed: a net input (the
// caller's memory) or a declared param / buffer (the weight blob). Nothing
// may write over one in place.
static inline bool op_is_source(OpKind k) { return k == OP_INPUT || k == OP_PARAM || k == OP_BUFFER; }
static inline bool op_in_blob(OpKind k) { return k == OP_PARAM || k == OP_BUFFER; }
static inline bool op_is_conv(OpKind k) { return k == OP_CONV2D || k == OP_CONV1D; }
static inline bool op_is_bn(OpKind k) { return k == OP_BATCHNORM2D || k == OP_BATCHNORM1D; }
static inline bool op_is_maxpool(OpKind k) { return k == OP_MAXPOOL2D || k == OP_MAXPOOL1D; }
static inline bool op_is_window_pool(OpKind k) {
  return op_is_maxpool(k) || k == OP_AVGPOOL2D || k == OP_AVGPOOL1D;
}
static inline bool op_is_1d(OpKind k) {
  return k == OP_CONV1D || k == OP_MAXPOOL1D || k == OP_AVGPOOL1D || k == OP_ADAPTIVE_AVGPOOL1D;
}
bool layer_is_view(const Layer *l);      // its output is its input's memory: no kernel runs
int64_t view_floats(const Layer *l);     // a view's offset into its input, in floats (0 but for narrow)
void layer_perm(const Layer *l, int64_t *perm); // permute / transpose: output dim i is input dim perm[i]
// matmul: the operands and the output as the runtime sees them, [batch..., rows, cols] at one rank
// (>= 2): a 1-D operand is [1, k] or [k, 1], its size-1 dim dropped from the output.
int matmul_shapes(const Layer *l, Shape *a, Shape *b, Shape *out);

//
// value.c: the values of compile-time interpretation
//

typedef enum {
  V_NONE,     // no value (a block that returns nothing)
  V_INT,      // i
  V_FLOAT,    // f
  V_BOOL,     // i (0 or 1)
  V_STR,      // s
  V_TUPLE,    // items[n] (lists and tuples are the same value)
  V_TENSOR,   // t: the layer that produces it
  V_BLOCK,    // blk: a block definition (blocks are values)
  V_OP,       // op: a built-in layer kind
  V_FUNC,     // s: a built-in function (range, len, ...)
  V_WILD,     // '?' in a stated shape
} ValueKind;

struct Value {
  ValueKind kind;
  int64_t i;
  double f;
  const char *s;
  Value **items; int n;
  Layer *t;
  Node *blk;
  const OpInfo *op;
};

Value *new_int(int64_t i);
Value *new_float(double f);
Value *new_bool(bool b);
Value *new_str(const char *s);
Value *new_tuple(int n);
Value *new_tensor(Layer *t);
const char *value_kind_name(const Value *v);  // "integer", "tensor", ...
char *value_str(const Value *v);              // for messages: 3, 2.5, "same", (1, 2), tensor [1, 3, 8, 8]
char *value_what(const Value *v);             // kind and value: integer 3, tuple (1, 2), tensor [1, 3], nothing
bool value_eq(const Value *a, const Value *b);
bool value_truth(const Value *v, Loc loc, bool *out);
// Conversions used by op argument binding; each reports at loc on failure.
bool value_int(const Value *v, Loc loc, const char *what, int64_t *out);
bool value_float(const Value *v, Loc loc, const char *what, double *out);
bool value_bool(const Value *v, Loc loc, const char *what, bool *out);
bool value_pair(const Value *v, Loc loc, const char *what, int64_t out[2]); // int or (h, w)

//
// ops.c: binding arguments of a built-in op to a Layer
//

// Fills l's attributes from bound arguments (args[i] matches op->params[i],
// NULL when not given) and creates its weights once l->in is set and shapes
// are known. Reports errors at the argument's location.
bool op_set_attrs(Layer *l, Value **args, Loc *argloc, Loc call);
char op_arith_sym(OpKind k); // '+', '-', '*', '/' for add, sub, mul, div; else 0
void op_make_weights(Layer *l); // after infer_shape: weight shapes need input channels

//
// elaborate.c: compile-time interpretation of a net into a Graph
//

// A -D NAME=VALUE from the command line. elaborate() sets bad when the
// override itself is wrong (no such parameter, a value that is not one
// expression): a usage error (exit 2), not an error in the file.
typedef struct Define { const char *name; const char *value; bool bad; } Define;

// A top-level definition: a block, a net or a constant.
typedef struct Def {
  const char *name;   // interned
  Node *node;         // I_BLOCK, I_NET or I_CONST
  Value *val;         // constants: evaluated on first use
  int state;          // 0 new, 1 evaluating (cycle check), 2 done
} Def;

typedef struct Program {
  Module **mods; int nmods;     // mods[0] is the main file; imports follow
  Def **defs; int ndefs, capdefs;
} Program;

Def *find_def(Program *p, const char *name); // name interned
extern bool load_allow_imports;              // load.c: false refuses every import (fuzzing)

typedef struct Limits {
  int max_depth;          // block call nesting (default 200)
  int64_t max_steps;      // statements + loop iterations (default 50,000,000)
  int64_t max_layers;     // layers in one graph (default 10,000,000)
  // Build budgets (0: none), checked after the passes (main.c).
  int64_t max_arena;      // bytes of the whole arena, the header's _ARENA_BYTES (activations + scratch)
  // Scratch budget (-1: none; 0 is a budget: no scratch at all), applied by
  // lower.c, which picks for each layer a kernel whose scratch fits.
  int64_t max_scratch;    // bytes of the kernels' scratch region (_SCRATCH_BYTES)
  int64_t max_weights;    // bytes of float32 weights
  int64_t max_macs;       // multiply-accumulates
} Limits;
extern Limits limits;

// Parses the main file (text, named path) and its imports, searched next to
// the importing file and then in dirs; NULL (with diagnostics) on error.
Program *load_program(const char *path, const char *text, size_t len, const char **dirs, int ndirs);
// Names of the nets defined in the program's main file, in order.
int program_nets(Program *p, const char ***names);
// Elaborates one net; NULL (with diagnostics) on error.
Graph *elaborate(Program *p, const char *net, Define *defs, int ndefs);

//
// the passes
//

void fill_rf(Graph *g);       // rf.c
void fill_fusion(Graph *g);   // fuse.c (fill_lowering, lower.c, comes next)
void fill_cost(Graph *g);     // cost.c
void fill_memplan(Graph *g);  // memplan.c
// Whether fill_memplan also tries the greedy-by-size plan and keeps the
// smaller (default true; unit tests switch it off to check best fit alone).
extern bool memplan_try_greedy;
void verify_graph(Graph *g);  // verify.c: invariants between passes (aborts)

//
// quantize.c: int8 post-training quantization (netc --quantize int8)
//
// After fusion, before lowering: undoes the fusions the int8 kernels do not
// have, gives every tensor its uint8 scale and zero point from the
// calibrated ranges (min[i], max[i] for layer id i) by PyTorch FX's rules,
// picks each layer's int8 kernel or float fallback (l->q) and sets l->bytes
// to the uint8 sizes the memory plan then uses.
// float_layers (--float-layers): layers, or block instances, kept in float;
// false (with a diagnostic) when one names nothing.
bool fill_quant(Graph *g, const double *min, const double *max, const char *const *float_layers, int nfloat);
// After lowering: the int8 blob's layout (l->q.qw, qb, qrq; totals.qblob_bytes).
void plan_qblob(Graph *g);
// uint8 qparams of a range, as PyTorch's MinMaxObserver (quint8, reduce_range=False).
void quant_params(double min, double max, float *scale, int32_t *zp);
int64_t layer_elem_bytes(const Layer *l); // 1 for a uint8 output, else 4

//
// lower.c: what runs each layer, and where its tensors live
//
// fill_lowering (after fusion, before the memory plan) stores per layer its
// kernel, its scratch and its weight slots, and the blob's totals; with
// limits.max_scratch >= 0 it picks kernels whose scratch fits, reporting
// (error_at) a layer that has none. The
// emitter prints the parameter structs below, and an in-process executor
// (the forward-pass fuzzer) passes the very same structs to the runtime.

void fill_lowering(Graph *g);
bool lower_linear_packs(const Layer *l); // a linear whose weight is packed at load time
int64_t lower_scratch_region_bytes(int64_t floats); // the arena's scratch region for a kernel's floats
const char *kernel_name(const Layer *l);                     // "direct", "gemv", "fused", or the op's name
netc_act lower_act(const Layer *a, float *slope);            // a: an activation layer or NULL (none)
netc_conv2d_params lower_conv2d(const Layer *l);             // with l->act as the epilogue
netc_conv2d_layer lower_conv2d_layer(const Layer *l);       // lower_conv2d and the slots (after fill_lowering)
netc_conv_transpose2d_params lower_conv_transpose2d(const Layer *l);
netc_pool2d_params lower_pool2d(const Layer *l);
netc_resize2d_params lower_resize2d(const Layer *l);             // maxpool2d / avgpool2d
int64_t lower_linear_batch(const Layer *l);                  // rows of a linear: numel(out) / out_features
// The loader's tables (state_dict tensors and batch-norm folds, no packs) as
// the runtime's netc_model_* read them: the generated source prints them, and
// --weights loads its file through them, so both accept the same files and
// build the same blob. Arrays allocated with xalloc.
void model_desc(Graph *g, netc_model_desc *d);

//
// execute.c: the lowered graph run in process with the runtime's kernels
//
// The forward fuzzer runs a net as its generated C would (EXEC_RUNTIME:
// emit_layer's calls, memplan.c's arena); --self-test runs it once at compile
// time with the naive reference kernels netc_ref_* (EXEC_REFERENCE), each
// layer into a buffer of its own. See execute.c's header.

typedef enum {
  EXEC_RUNTIME,   // the kernel emit_layer calls (packed weights when loaded)
  EXEC_REFERENCE, // its netc_ref_* twin; the runtime kernel where an op has none (named in execute.c)
} ExecKernels;

typedef struct ExecModel {
  Graph *g;
  netc_conv2d_layer *conv;    // lower_conv2d_layer per conv2d layer: packed and run with the same struct
  const netc_conv2d_layer **packs;
  netc_model_desc desc;       // the generated loader's tables
  int64_t arena_floats;       // the header's _ARENA_FLOATS
  int64_t scratch_off;        // where the kernels' scratch starts in the arena
  // Loaded weights (exec_load): the kept blob, and the packed convolution
  // weights or NULL (weights embedded with --weights: raw, whole, unpacked).
  float *weights, *packed;
} ExecModel;

// The tables of g (after every pass); allocated with xalloc.
void exec_prepare(Graph *g, ExecModel *m);
// Loads weights from a safetensors image (data, size), or seeded random
// weights (netc_model_init_random) when data is NULL. embedded: the blob
// --weights embeds instead (whole, folded, not packed), which the forward
// pass reads as PREFIX_init_embedded's model does. 0, or -1 with a message
// in err.
int exec_load(ExecModel *m, const void *data, size_t size, uint64_t seed, bool embedded, char *err, size_t errlen);
// The same from the safetensors file at path.
int exec_load_file(ExecModel *m, const char *path, bool embedded, char *err, size_t errlen);
void exec_unload(ExecModel *m);

// Where a layer's value lives for one run.
typedef float *ExecWhere(void *ctx, const Layer *l);
// The kernel call of layer l (neither an input nor fused), from kernel set
// k, reading its inputs and writing its output where `where` says, with
// `scratch` of at least l->scratch floats (EXEC_REFERENCE needs none: NULL
// is fine). EXEC_REFERENCE needs an output that overlaps no input.
void exec_layer(const ExecModel *m, const Layer *l, ExecKernels k, ExecWhere *where, void *ctx, float *scratch);
// The layer whose kernel computes l's value: fused layers are their
// producer's, views their input's (*off: floats into it, for a narrow view).
// A transpose fused into the matmul that reads it (trans_b) is its input's.
const Layer *exec_owner(const Layer *l, int64_t *off);

// buf() of emit.c: a layer's memory in the arena, or the net input it is.
float *exec_arena_buf(const ExecModel *m, const Layer *l, float *arena, const float *const *inputs);

// PREFIX_forward with EXEC_RUNTIME: inputs[g->ninputs], outputs[g->noutputs],
// an arena of m->arena_floats floats. after (may be NULL) is called after
// every kernel call with the layer that ran (not for views: they run nothing).
void exec_forward(const ExecModel *m, const float *const *inputs, float *const *outputs, float *arena,
                  void (*after)(void *ctx, const Layer *l), void *ctx);
// The forward pass with EXEC_REFERENCE, every layer's output in a buffer of
// its own (freed after its last reader): no arena, no in-place kernel.
// 0, or -1 with a message in err (out of memory).
int exec_reference(const ExecModel *m, const float *const *inputs, float *const *outputs, char *err, size_t errlen);

// --self-test's built-in input, which the generated PREFIX_self_test makes
// with the same loop (emit.c): one netc_splitmix64 generator seeded with
// NETC_SELF_TEST_SEED, continued across the inputs in order; each element
// (float)(next() >> 40) * 2^-23 - 1, uniform in [-1, 1) and exact in any
// float arithmetic (a 24-bit integer times a power of two, minus one).
#define NETC_SELF_TEST_SEED 0x6e657463u // "netc"
void self_test_input(const Graph *g, float *const *inputs);
// --self-test: loads the weights file as --weights embeds it and runs the
// net on the built-in input with the reference kernels. Per output, its
// shape_numel floats (xalloc'd); NULL with a diagnostic on a bad file, out
// of memory, or an output that is not finite (no self-test could pass).
float **self_test_outputs(Graph *g, const char *weights_path);

//
// emit.c: standalone C99 source and header for a graph
//

typedef struct EmitOptions {
  const char *prefix;        // symbol prefix (the net's name)
  const char *header_name;   // "vgg11.h", as the .c includes it
  bool with_main;            // --main: a command-line runner
  const char *weights_name;  // --weights: the embedded-weights TU's file name, or NULL
  bool weights_hex;          // --weights-hex: float literals instead of one byte string
  float *const *self_test;   // --self-test: per output, the reference run's result on the
                             // built-in input (self_test_outputs); NULL: no self-test
} EmitOptions;

// Whether the net's name and inputs make valid, collision-free C names
// (the prefix is not the runtime's netc_, inputs differ beyond case);
// reports located errors otherwise. Called before anything is written.
bool check_c_names(Graph *g);
void emit_header(Graph *g, const EmitOptions *o, FILE *out);
void emit_source(Graph *g, const EmitOptions *o, FILE *out);

// weights.c: --weights, the folded weight blob as a C translation unit
// Reads a safetensors file, checks it against the graph, folds batch norms;
// returns false with a diagnostic on a bad file.
bool emit_weights(Graph *g, const EmitOptions *o, const char *safetensors_path, FILE *out);

//
// ranges.c: the ranges file of --quantize int8 (written by the float runner's --calibrate)
//

typedef struct LayerRange {
  int64_t index; const char *name, *op; double min, max;
  Loc loc;                                   // the entry's '{'
  Loc index_loc, name_loc, op_loc, min_loc, max_loc; // its values, for located errors
} LayerRange;

typedef struct Ranges {
  SrcFile *file; Loc loc;                    // the file, and the location of its top-level object
  const char *net, *fingerprint, *method; double percentile; int64_t samples;
  LayerRange *layers; int nlayers;
  Loc net_loc, fingerprint_loc, layers_loc;  // the values of "net", "fingerprint" and "layers"
} Ranges;

// Reads and parses the ranges file at path (read_file: --max-source applies).
// A file that cannot be read, is not JSON or is not a ranges file (types,
// missing, unknown or duplicate keys, "netc_ranges" not 1) gets located
// errors and NULL. min and max may be NaN or infinite: ranges_check says so.
Ranges *ranges_read(const char *path);
// Checks r against g: its net, its fingerprint (the 16 hex digits of
// graph_fingerprint), one entry per layer in id order with that index, name
// and op, finite min <= max. Reports every problem; false if there was one.
bool ranges_check(const Ranges *r, const Graph *g, const char *fingerprint);
// FNV-1a 64 over every layer's id, name, op name and shape (before fusion).
uint64_t graph_fingerprint(const Graph *g);

//
// report.c
//

void report_text(Graph *g, FILE *out, int depth);  // depth < 0: all
void report_json(Graph *g, FILE *out);
void report_torch(Graph *g, FILE *out);
void report_dot(Graph *g, FILE *out);               // dot.c: a Graphviz digraph (--dot)
const char *op_summary(Layer *l);                  // "conv2d 3x3/2 p1", the report's op column

//
// fingerprint.c
//

// FNV-1a 64 over every layer in id order: its id (4 bytes, little-endian),
// name and op name (each with its NUL), rank (4 bytes LE) and dims (8 bytes LE
// each). Depends only on the elaborated graph (fusion and lowering change
// none of these): the header's PREFIX_FINGERPRINT, the ranges file's
// "fingerprint" (printed "%016llx"), and what --quantize checks it against.
uint64_t graph_fingerprint(const Graph *g);

#endif
