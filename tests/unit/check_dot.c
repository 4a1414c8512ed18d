// check_dot.c -- the Graphviz graph of --dot (dot.c).
//
// The output is read back with a small strict reader for the subset of DOT
// that report_dot writes (one statement per line): every quoted string must
// be well formed (only \" \\ and \n escapes, no raw control bytes), braces
// must balance outside strings, and nodes, edges and clusters are collected
// with their decoded labels so the tests can compare them with the Graph.
// Rendering with Graphviz itself is `make docs` (every model in models/).
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void report_dot(Graph *g, FILE *out); // netc.h declares it too (report.c's section)

static char *capture_dot(Graph *g) {
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  report_dot(g, f);
  long n = ftell(f);
  ck_assert_int_gt(n, 0);
  rewind(f);
  char *buf = xalloc((size_t)n + 1);
  ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return buf;
}

//
// The reader
//

enum { MAX_NEST = 16 };

typedef struct DotNode {
  char *id;
  char *label;                 // decoded
  const char *attrs;           // the raw line
  int nclusters;
  char *clusters[MAX_NEST];    // labels of the enclosing clusters, outermost first
} DotNode;

typedef struct DotEdge {
  char *from, *to;
  char *label;                 // decoded; NULL if the edge has none
  bool dashed;
} DotEdge;

typedef struct Dot {
  char *title;                 // the graph's label
  DotNode *nodes; int nnodes;
  DotEdge *edges; int nedges;
  int nclusters, maxnest;
} Dot;

// Decodes the DOT string starting at p (at the opening quote); *end is set
// past the closing quote. Fails the test on a malformed string.
static char *decode(const char *p, const char **end) {
  ck_assert_int_eq(*p, '"');
  p++;
  char *s = xalloc(strlen(p) + 1);
  size_t o = 0;
  for (;;) {
    unsigned char c = (unsigned char)*p;
    ck_assert_msg(c != '\0', "unterminated string");
    ck_assert_msg(c >= 0x20 && c != 0x7f, "raw control byte 0x%02x in a string", c);
    if (c == '"')
      break;
    if (c == '\\') {
      p++;
      ck_assert_msg(*p == '"' || *p == '\\' || *p == 'n', "unexpected escape \\%c", *p);
      s[o++] = *p == 'n' ? '\n' : *p;
      p++;
      continue;
    }
    s[o++] = (char)c;
    p++;
  }
  *end = p + 1;
  s[o] = '\0';
  return s;
}

// The decoded value of `key="..."` in a line, or NULL.
static char *attr_str(const char *line, const char *key) {
  const char *p = line;
  size_t k = strlen(key);
  while ((p = strstr(p, key)) != NULL) {
    bool starts = p == line || p[-1] == ' ' || p[-1] == '[' || p[-1] == ',';
    if (starts && p[k] == '=' && p[k + 1] == '"') {
      const char *end;
      return decode(p + k + 1, &end);
    }
    p += k;
  }
  return NULL;
}

static char *ident(const char *p, const char **end) {
  const char *q = p;
  while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')
    q++;
  ck_assert_msg(q > p, "expected an identifier at '%.20s'", p);
  *end = q;
  return xstrndup(p, (size_t)(q - p));
}

static Dot *read_dot(const char *text) {
  Dot *d = xalloc(sizeof *d);
  int cap = 0, ecap = 0;
  char *stack[MAX_NEST];
  int nest = 0;
  bool awaiting_label = false;

  // Whole-text pass: strings well formed, braces balanced outside them.
  int depth = 0;
  for (const char *p = text; *p;) {
    if (*p == '"') {
      decode(p, &p);
      continue;
    }
    if (*p == '{')
      depth++;
    if (*p == '}')
      ck_assert_int_ge(--depth, 0);
    p++;
  }
  ck_assert_int_eq(depth, 0);
  ck_assert_msg(strncmp(text, "digraph \"", 9) == 0, "not a digraph: %.30s", text);

  char *copy = xstrdup(text);
  for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
    while (*line == ' ')
      line++;
    const char *end;
    if (strncmp(line, "digraph ", 8) == 0 || strncmp(line, "node [", 6) == 0 || strncmp(line, "edge [", 6) == 0)
      continue;
    if (strncmp(line, "graph [", 7) == 0) {
      d->title = attr_str(line, "label");
    } else if (strncmp(line, "subgraph cluster_", 17) == 0) {
      ck_assert_int_lt(nest, MAX_NEST);
      stack[nest++] = NULL;
      d->nclusters++;
      if (nest > d->maxnest)
        d->maxnest = nest;
      awaiting_label = true;
    } else if (strncmp(line, "label=", 6) == 0) {
      ck_assert_msg(awaiting_label, "a label statement outside a cluster's first line");
      stack[nest - 1] = decode(line + 6, &end);
      awaiting_label = false;
    } else if (strcmp(line, "}") == 0) {
      if (nest > 0)
        nest--;
    } else {
      ck_assert_msg(!awaiting_label, "cluster without a label");
      char *a = ident(line, &end);
      if (strncmp(end, " -> ", 4) == 0) {
        char *b = ident(end + 4, &end);
        d->edges = grow(d->edges, &ecap, d->nedges + 1, sizeof *d->edges);
        DotEdge *e = &d->edges[d->nedges++];
        e->from = a;
        e->to = b;
        e->label = attr_str(end, "label");
        e->dashed = strstr(end, "style=dashed") != NULL;
      } else {
        ck_assert_msg(strncmp(end, " [", 2) == 0, "unexpected statement: %s", line);
        d->nodes = grow(d->nodes, &cap, d->nnodes + 1, sizeof *d->nodes);
        DotNode *n = &d->nodes[d->nnodes++];
        n->id = a;
        n->label = attr_str(end, "label");
        n->attrs = xstrdup(line);
        n->nclusters = nest;
        for (int k = 0; k < nest; k++)
          n->clusters[k] = stack[k];
      }
    }
  }
  return d;
}

static DotNode *find_node(Dot *d, const char *id) {
  DotNode *found = NULL;
  for (int i = 0; i < d->nnodes; i++)
    if (strcmp(d->nodes[i].id, id) == 0) {
      ck_assert_msg(!found, "node %s declared twice", id);
      found = &d->nodes[i];
    }
  return found;
}

//
// Tests
//

static const char nested_src[] =
    "block inner(x, c) { return x -> conv2d(c, 3, padding=1) -> relu; }\n"
    "block outer(x, c) {\n"
    "    y = x -> @a inner(c);\n"
    "    return y -> @b inner(c) -> maxpool2d(2);\n"
    "}\n"
    "net t(x: f32[1, 3, 8, 8]) {\n"
    "    y = x -> @s1 outer(4);\n"
    "    z = y -> @s2 outer(8);\n"
    "    return z -> flatten -> linear(10), y;\n"
    "}\n";

// Every layer is one node, inside exactly the clusters of its block
// instances (outermost first), and the clusters carry block and instance names.
START_TEST(test_dot_clusters_nest) {
  Graph *g = tu_compile(nested_src);
  ck_assert_ptr_nonnull(g);
  Dot *d = read_dot(capture_dot(g));
  ck_assert_int_eq(d->nclusters, g->ninsts - 1); // s1, s1.a, s1.b, s2, s2.a, s2.b
  ck_assert_int_eq(d->nclusters, 6);
  ck_assert_int_eq(d->maxnest, 2);
  ck_assert_int_eq(d->nnodes, g->nlayers + g->noutputs);
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    DotNode *n = find_node(d, format("L%d", l->id));
    ck_assert_msg(n, "no node for layer %d (%s)", l->id, l->name);
    ck_assert_int_eq(n->nclusters, l->inst->depth);
    for (Inst *b = l->inst; b->depth > 0; b = b->parent) {
      const char *want = format("%s  %s\n(c=", b->block, b->name);
      ck_assert_ptr_nonnull(n->clusters[b->depth - 1]);
      ck_assert_msg(strncmp(n->clusters[b->depth - 1], want, strlen(want)) == 0,
                    "layer %s: cluster %d is '%s', expected '%s...'", l->name, b->depth - 1,
                    n->clusters[b->depth - 1], want);
    }
  }
  Layer *conv = tu_layer(g, "s2.b.0");
  ck_assert_ptr_nonnull(conv);
  DotNode *n = find_node(d, format("L%d", conv->id));
  ck_assert_str_eq(n->clusters[0], "outer  s2\n(c=8)");
  ck_assert_str_eq(n->clusters[1], "inner  s2.b\n(c=8)");
  ck_assert_str_eq(n->label, "s2.b.0\nconv2d 3x3 p1\nparams 584  MACs 9,216");
  // The net's input sits outside every cluster.
  n = find_node(d, "L0");
  ck_assert_int_eq(n->nclusters, 0);
  ck_assert_str_eq(n->label, "input x\n[1, 3, 8, 8]");
  ck_assert_ptr_nonnull(strstr(n->attrs, "shape=invhouse"));
  Totals *t = &g->totals;
  ck_assert_int_eq(t->scratch_offset * 4 + t->scratch_bytes, t->arena_floats * 4);
  ck_assert_str_eq(d->title, format("net t  (test.net)\nparams %s  MACs %s\narena total %s bytes = activations %s + "
                                    "kernel scratch %s", fmt_int(t->params), fmt_int(t->macs),
                                    fmt_int(t->arena_floats * 4), fmt_int(t->scratch_offset * 4),
                                    fmt_int(t->scratch_bytes)));
}
END_TEST

// One edge per layer input plus one per net output, each labelled with the
// shape of the tensor it carries; both ends are declared nodes.
START_TEST(test_dot_edges_have_shapes) {
  Graph *g = tu_compile(nested_src);
  ck_assert_ptr_nonnull(g);
  Dot *d = read_dot(capture_dot(g));
  int want = g->noutputs;
  for (int i = 0; i < g->nlayers; i++)
    want += g->layers[i]->nin;
  ck_assert_int_eq(d->nedges, want);
  int k = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    for (int j = 0; j < l->nin; j++, k++) {
      DotEdge *e = &d->edges[k];
      ck_assert_str_eq(e->from, format("L%d", l->in[j]->id));
      ck_assert_str_eq(e->to, format("L%d", l->id));
      ck_assert_ptr_nonnull(e->label);
      ck_assert_str_eq(e->label, shape_str(&l->in[j]->shape));
    }
  }
  // Two results: two output nodes; the second is s1's pooled map.
  ck_assert_int_eq(g->noutputs, 2);
  for (int i = 0; i < g->noutputs; i++, k++) {
    DotEdge *e = &d->edges[k];
    ck_assert_str_eq(e->from, format("L%d", g->outputs[i]->id));
    ck_assert_str_eq(e->to, format("out%d", i));
    ck_assert_str_eq(e->label, shape_str(&g->outputs[i]->shape));
    DotNode *n = find_node(d, format("out%d", i));
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->label, format("output %d\n%s", i, shape_str(&g->outputs[i]->shape)));
    ck_assert_ptr_nonnull(strstr(n->attrs, "shape=house"));
  }
  ck_assert_str_eq(d->edges[k - 1].label, "[1, 4, 4, 4]");
  for (int i = 0; i < d->nedges; i++) {
    ck_assert_ptr_nonnull(find_node(d, d->edges[i].from));
    ck_assert_ptr_nonnull(find_node(d, d->edges[i].to));
  }
}
END_TEST

// Fused layers (each relu here runs in its conv's epilogue) are drawn, dashed,
// and say where they went; the edge into them is dashed too.
START_TEST(test_dot_fused_layers_shown) {
  Graph *g = tu_compile(nested_src);
  ck_assert_ptr_nonnull(g);
  Dot *d = read_dot(capture_dot(g));
  int fused = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    DotNode *n = find_node(d, format("L%d", l->id));
    ck_assert_ptr_nonnull(n);
    bool dashed = strstr(n->attrs, "dashed") != NULL;
    ck_assert_int_eq(dashed, (l->fused_into != NULL));
    if (l->fused_into) {
      fused++;
      ck_assert_ptr_nonnull(strstr(n->label, format("\nfused into %s", l->fused_into->name)));
    }
  }
  ck_assert_int_eq(fused, 4); // one relu per inner block
  Layer *relu = tu_layer(g, "s1.a.1");
  ck_assert_ptr_nonnull(relu);
  ck_assert_ptr_nonnull(relu->fused_into);
  for (int i = 0; i < d->nedges; i++)
    if (strcmp(d->edges[i].to, format("L%d", relu->id)) == 0)
      ck_assert(d->edges[i].dashed);
}
END_TEST

// Quotes and backslashes in a block's string argument and in the file name
// are escaped; bytes that are not UTF-8 are replaced (Graphviz rejects them).
START_TEST(test_dot_escapes) {
  Graph *g = tu_compile("block tagged(x, tag) { return x -> relu; }\n"
                        "net q(x: f32[1, 2, 4, 4]) { return x -> tagged(\"say \\\"hi\\\" \\\\ \\\\n\"); }\n");
  ck_assert_ptr_nonnull(g);
  g->file->name = "we\"ird\\dir/\xff\xc3\xa9.net";
  const char *text = capture_dot(g);
  // The raw DOT: every quote inside a label is \" and every backslash \\.
  ck_assert_ptr_nonnull(strstr(text, "(tag=\\\"say \\\"hi\\\" \\\\ \\\\n\\\")"));
  ck_assert_ptr_nonnull(strstr(text, "net q  (we\\\"ird\\\\dir/?\xc3\xa9.net)"));
  Dot *d = read_dot(text); // strings well formed, braces balanced
  ck_assert_int_eq(d->nclusters, 1);
  DotNode *n = find_node(d, "L1");
  ck_assert_ptr_nonnull(n);
  ck_assert_str_eq(n->clusters[0], "tagged  0\n(tag=\"say \"hi\" \\ \\n\")");
  ck_assert_str_eq(d->title, format("net q  (we\"ird\\dir/?\xc3\xa9.net)\nparams 0  MACs 0\narena total %s bytes = "
                                    "activations %s + kernel scratch 0", fmt_int(g->totals.arena_floats * 4),
                                    fmt_int(g->totals.arena_floats * 4)));
}
END_TEST

// The same net gives the same bytes (no addresses or hash order).
START_TEST(test_dot_deterministic) {
  char *a = capture_dot(tu_compile(nested_src));
  char *b = capture_dot(tu_compile(nested_src));
  ck_assert_str_eq(a, b);
}
END_TEST

// LeNet: flat, so no clusters; op summaries and counts as in the text report.
START_TEST(test_dot_lenet) {
  Graph *g = tu_compile("net lenet(x: f32[1, 1, 28, 28]) {\n"
                        "  return x -> conv2d(6, 5, padding=2) -> sigmoid -> avgpool2d(2, stride=2)\n"
                        "    -> conv2d(16, 5) -> sigmoid -> avgpool2d(2, stride=2) -> flatten\n"
                        "    -> linear(120) -> sigmoid -> linear(84) -> sigmoid -> linear(10);\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  Dot *d = read_dot(capture_dot(g));
  ck_assert_int_eq(d->nclusters, 0);
  ck_assert_int_eq(d->nnodes, 14); // input, 12 layers, output
  ck_assert_str_eq(find_node(d, "L1")->label, "0\nconv2d 5x5 p2\nparams 156  MACs 117,600");
  ck_assert_str_eq(find_node(d, "L3")->label, "2\navgpool2d 2x2/2");
  ck_assert_str_eq(find_node(d, "L7")->label, "6\nflatten");
  ck_assert_str_eq(find_node(d, "L8")->label, "7\nlinear 400->120\nparams 48,120  MACs 48,000");
  ck_assert_str_eq(find_node(d, "out0")->label, "output\n[1, 10]");
}
END_TEST

Suite *make_dot_suite(void) {
  Suite *s = suite_create("dot");
  TCase *tc = tcase_create("dot");
  tcase_add_test(tc, test_dot_clusters_nest);
  tcase_add_test(tc, test_dot_edges_have_shapes);
  tcase_add_test(tc, test_dot_fused_layers_shown);
  tcase_add_test(tc, test_dot_escapes);
  tcase_add_test(tc, test_dot_deterministic);
  tcase_add_test(tc, test_dot_lenet);
  suite_add_tcase(s, tc);
  return s;
}
