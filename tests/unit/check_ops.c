// check_ops.c -- every row of the op registry (compiler/ops.def) is a whole op.
//
// For each row: a minimal use compiles and builds one layer of that op; its
// columns say what the compiler then does (an activation fuses into a conv
// and lowers to its runtime activation, an in-place unary op shares its
// dying input's memory, a same-shape op keeps the input's shape, a scalar op
// takes a number); the op is in docs/language.md's op table with the same
// positional and keyword parameters and module column; and the fuzz
// dictionary knows its name. A row added without these fails here by name
// (docs/adding-an-op.md is the checklist).
//
// Runs from the repository root (make check-unit), where docs/ and tests/ are.
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

// A minimal use of each op on x: [2, 6, 9, 7] (rank 4, odd sizes), as the
// expression of `return`. Ops left out of this list fail test_minimal_use.
static const struct {
  OpKind op;
  const char *use;
} uses[] = {
    {OP_CONV2D, "x -> @t conv2d(4, 3)"},
    {OP_CONV_TRANSPOSE2D, "x -> @t conv_transpose2d(4, 3, stride=2)"},
    {OP_CONV1D, "x -> flatten(2) -> @t conv1d(4, 3, padding=1)"},
    {OP_MAXPOOL1D, "x -> flatten(2) -> @t maxpool1d(3, stride=2)"},
    {OP_AVGPOOL1D, "x -> flatten(2) -> @t avgpool1d(2)"},
    {OP_ADAPTIVE_AVGPOOL1D, "x -> flatten(2) -> @t adaptive_avgpool1d(5)"},
    {OP_BATCHNORM1D, "x -> flatten(2) -> @t batchnorm1d"},
    {OP_MAXPOOL2D, "x -> @t maxpool2d(2)"},
    {OP_AVGPOOL2D, "x -> @t avgpool2d(3, stride=2, padding=1)"},
    {OP_ADAPTIVE_AVGPOOL2D, "x -> @t adaptive_avgpool2d((4, 3))"},
    {OP_GLOBAL_AVGPOOL2D, "x -> @t global_avgpool2d"},
    {OP_UPSAMPLE, "x -> @t upsample(scale_factor=2, mode=\"bilinear\")"},
    {OP_INTERPOLATE, "x -> @t interpolate(size=(3, 5))"},
    {OP_LINEAR, "x -> @t linear(5)"},
    {OP_MATMUL, "@t matmul(x, x -> transpose(2, 3))"},
    {OP_PARAM, "param t: [6, 1, 1]; return x * t"},
    {OP_BUFFER, "buffer t: i64[4]; return x"},
    {OP_SLICE, "x -> @t slice(2, 1, 8, 3)"},
    {OP_ROLL, "x -> @t roll((3, -1), dims=(2, 3))"},
    {OP_ARANGE, "@t arange(3, 9, 2), x"},
    {OP_EXPAND, "x -> narrow(2, 0, 1) -> @t expand((3, -1, -1, 9, 7))"},
    {OP_INDEX_SELECT, "buffer i: i64[4]; return x -> @t index_select(2, i)"},
    {OP_FLATTEN, "x -> @t flatten"},
    {OP_BATCHNORM2D, "x -> @t batchnorm2d"},
    {OP_LAYERNORM, "x -> @t layernorm"},
    {OP_GROUPNORM, "x -> @t groupnorm(3)"},
    {OP_SOFTPLUS, "x -> @t softplus(beta=2)"},
    {OP_RELU, "x -> @t relu"},
    {OP_RELU6, "x -> @t relu6"},
    {OP_LEAKY_RELU, "x -> @t leaky_relu(0.2)"},
    {OP_SIGMOID, "x -> @t sigmoid"},
    {OP_TANH, "x -> @t tanh"},
    {OP_GELU, "x -> @t gelu"},
    {OP_SILU, "x -> @t silu"},
    {OP_HARDSWISH, "x -> @t hardswish(inplace=true)"},
    {OP_HARDSIGMOID, "x -> @t hardsigmoid"},
    {OP_MISH, "x -> @t mish"},
    {OP_ELU, "x -> @t elu(0.5)"},
    {OP_SOFTMAX, "x -> @t softmax"},
    {OP_LOG_SOFTMAX, "x -> @t log_softmax(dim=-1)"},
    {OP_MEAN, "x -> @t mean((2, 3), keepdim=true)"},
    {OP_SUM, "x -> @t sum(1)"},
    {OP_AMAX, "x -> @t amax(-1)"},
    {OP_RESHAPE, "x -> @t reshape((2, 3, -1))"},
    {OP_VIEW, "x -> @t view((2, 6, 63))"},
    {OP_SQUEEZE, "x -> reshape((2, 1, 6, 63)) -> @t squeeze(1)"},
    {OP_UNSQUEEZE, "x -> @t unsqueeze(0)"},
    {OP_PERMUTE, "x -> @t permute((0, 2, 3, 1))"},
    {OP_TRANSPOSE, "x -> @t transpose(1, 2)"},
    {OP_NARROW, "x -> @t narrow(1, 2, 3)"},
    {OP_DROPOUT, "x -> @t dropout(0.1)"},
    {OP_IDENTITY, "x -> @t identity"},
    {OP_STOCHASTIC_DEPTH, "x -> @t stochastic_depth(0.2, \"row\")"},
    {OP_ADD, "@t add(x, x)"},
    {OP_SUB, "@t sub(x, x)"},
    {OP_MUL, "@t mul(x, x)"},
    {OP_DIV, "@t div(x, x -> sigmoid)"},
    {OP_CONCAT, "@t concat(x, x, x, dim=2)"},
    {OP_PAD, "x -> @t pad(left=1, bottom=2)"},
    {OP_NORMALIZE, "x -> @t normalize((1, 2, 3, 4, 5, 6), (1, 1, 1, 2, 2, 2))"},
};

static const char *use_of(OpKind op) {
  for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++)
    if (uses[i].op == op)
      return uses[i].use;
  return NULL;
}

static Graph *compile_use(const char *body) {
  // A use with statements (a declaration) is the whole body.
  Graph *g = tu_compile(format(strchr(body, ';') ? "net n(x: [2, 6, 9, 7]) {\n  %s;\n}\n"
                                                 : "net n(x: [2, 6, 9, 7]) {\n  return %s;\n}\n",
                               body));
  if (!g)
    tu_dump();
  return g;
}

static char *slurp(const char *path) {
  const char *err;
  size_t len;
  char *text = read_file(path, &len, &err);
  ck_assert_msg(text, "cannot read %s (run from the repository root): %s", path, err);
  return text;
}

START_TEST(test_registry_rows) {
  // Rows are in enum order, named, unique, and their columns agree with
  // each other.
  for (int k = 0; k < OP__COUNT; k++) {
    const OpInfo *op = &op_table[k];
    ck_assert_int_eq(op->kind, k);
    ck_assert_ptr_nonnull(op->name);
    ck_assert_ptr_nonnull(op->signature);
    for (int j = 0; j < k; j++)
      ck_assert_msg(strcmp(op_table[j].name, op->name) != 0, "two rows named %s", op->name);
    if (op->arity != OPA_NONE)
      ck_assert_ptr_eq(find_op(op->name), op);
    else // inputs, params and buffers are declared, never called
      ck_assert_ptr_null(find_op(op->name));
    int nparams = 0;
    while (op->params[nparams])
      nparams++;
    ck_assert_msg(op->npositional <= nparams, "%s: more positionals than parameters", op->name);
    if (op->act != NETC_ACT_NONE)
      ck_assert_msg(op->family == OPFAM_ACTIVATION && op->arity == OPA_UNARY && op->shape == OPS_SAME,
                    "%s lowers to an activation, so it must be a unary same-shape activation", op->name);
    if (op->flags & OPF_SCALAR)
      ck_assert_msg(op->arity == OPA_BINARY, "%s: a scalar operand needs two operands", op->name);
    if (op->flags & OPF_VIEW)
      ck_assert_msg(op->arity == OPA_UNARY && !(op->flags & OPF_INPLACE), "%s: a view is unary, no kernel",
                    op->name);
  }
  ck_assert_ptr_null(find_op("input")); // a net input is not callable
}
END_TEST

START_TEST(test_minimal_use) {
  // _i: one test per registry row.
  OpKind k = (OpKind)_i;
  const OpInfo *op = &op_table[k];
  const char *use = use_of(k);
  ck_assert_msg(use, "no minimal use of '%s' in check_ops.c's uses[]: add one", op->name);
  Graph *g = compile_use(use);
  ck_assert_msg(g, "the minimal use of '%s' does not compile: %s", op->name, use);
  Layer *t = tu_layer(g, "t");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(t->op, k);
  // Every back end has a switch over the op: reports, the graph, the C.
  // A forgotten case aborts here (netc's unreachable()), not in a user's build.
  FILE *sink = fopen("/dev/null", "w");
  ck_assert_ptr_nonnull(sink);
  report_text(g, sink, -1);
  report_json(g, sink);
  report_torch(g, sink);
  report_dot(g, sink);
  EmitOptions eo = {.prefix = "n", .header_name = "n.h", .with_main = true};
  emit_header(g, &eo, sink);
  emit_source(g, &eo, sink);
  fclose(sink);
  Layer *x = g->inputs[0];
  if (op->shape == OPS_SAME || op->shape == OPS_ELEMENTWISE)
    ck_assert_msg(shape_eq(&t->shape, &x->shape), "%s: same-shape op changed the shape", op->name);
  if (op->flags & OPF_VIEW)
    ck_assert_ptr_eq(t->alias, x); // a view is its input's memory
  if (op->flags & OPF_SCALAR) {
    // A number may stand for either operand.
    ck_assert_ptr_nonnull(compile_use(format("x -> conv2d(6, 1) -> @t %s(2.5)", op->name)));
    ck_assert_ptr_nonnull(compile_use(format("@t %s(0.5, x)", op->name)));
  }
  if (op->act != NETC_ACT_NONE) {
    // An activation runs in the epilogue of the conv before it.
    g = compile_use(format("x -> @c conv2d(4, 3) -> %s", use + strlen("x -> ")));
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_eq(tu_layer(g, "c")->act, tu_layer(g, "t"));
    ck_assert_ptr_eq(tu_layer(g, "t")->fused_into, tu_layer(g, "c"));
  }
  if ((op->flags & OPF_INPLACE) && op->arity == OPA_UNARY) {
    // Computed over its input's memory when nothing reads that later (a
    // pool, which cannot absorb it, produces the input).
    g = compile_use(format("x -> @p maxpool2d(1) -> %s", use + strlen("x -> ")));
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_eq(tu_layer(g, "t")->alias, tu_layer(g, "p"));
  }
}
END_TEST

// The row of docs/language.md's op table (10.1) that names op, or NULL.
static char *doc_row(const char *doc, const char *name) {
  const char *want = format("`%s`", name);
  // Only section 10.1's table: other tables (10.9's arguments, 12.1's
  // costs) also start rows with op names.
  const char *from = strstr(doc, "\n### 10.1 "), *to = from ? strstr(from + 1, "\n### ") : NULL;
  ck_assert_msg(from && to, "docs/language.md has no section 10.1 (the op table)");
  doc = xstrndup(from, (size_t)(to - from));
  for (const char *line = doc; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    if (n > 2 && line[0] == '|' && line[1] == ' ' && line[2] == '`') {
      char *row = xstrndup(line, n);
      char *first_cell_end = strchr(row + 1, '|');
      if (first_cell_end) {
        *first_cell_end = '\0';
        if (strstr(row, want)) {
          *first_cell_end = '|';
          return row;
        }
      }
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

// The cell-th cell (0-based) of a table row, trimmed.
static char *cell(const char *row, int idx) {
  const char *p = row;
  for (int i = 0; i <= idx; i++) {
    p = strchr(p, '|');
    ck_assert_ptr_nonnull(p);
    p++;
  }
  const char *e = strchr(p, '|');
  while (*p == ' ')
    p++;
  while (e > p && e[-1] == ' ')
    e--;
  return xstrndup(p, (size_t)(e - p));
}

START_TEST(test_documented) {
  char *doc = slurp("docs/language.md");
  char *dict = slurp("tests/fuzz/netc.dict");
  for (int k = 1; k < OP__COUNT; k++) {
    const OpInfo *op = &op_table[k];
    char *row = doc_row(doc, op->name);
    ck_assert_msg(row, "'%s' has no row in docs/language.md's op table (section 10.1)", op->name);
    // The parameters, as the reference lists them: positionals, then
    // keyword-only ones (binary and variadic ops list their operands).
    char *pos = xstrdup(""), *kw = xstrdup("");
    for (int i = 0; op->params[i]; i++) {
      char **s = i < op->npositional ? &pos : &kw;
      *s = format("%s%s%s", *s, **s ? ", " : "", op->params[i]);
    }
    char *dpos = cell(row, 1), *dkw = cell(row, 2);
    if (op->arity == OPA_UNARY)
      ck_assert_msg(strcmp(dpos, *pos ? format("`%s`", pos) : "") == 0, "%s: the reference lists positionals '%s', "
                    "the registry '%s'", op->name, dpos, pos);
    ck_assert_msg(strcmp(dkw, *kw ? format("`%s`", kw) : "") == 0,
                  "%s: the reference lists keywords '%s', the registry '%s'", op->name, dkw, kw);
    char *module = cell(row, 4);
    ck_assert_msg(strcmp(module, op->flags & OPF_MODULE ? "yes" : "no") == 0,
                  "%s: the reference says module '%s'", op->name, module);
    ck_assert_msg(strstr(dict, format("\"%s\"", op->name)), "'%s' is missing from tests/fuzz/netc.dict", op->name);
  }
  free(doc); // read_file's buffers are malloc'd, not the arena's
  free(dict);
}
END_TEST

Suite *make_ops_suite(void) {
  Suite *s = suite_create("ops");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_registry_rows);
  tcase_add_loop_test(tc, test_minimal_use, 1, OP__COUNT);
  tcase_add_test(tc, test_documented);
  suite_add_tcase(s, tc);
  return s;
}
