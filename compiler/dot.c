// dot.c -- `netc --dot`: the net as a Graphviz digraph.
//
//   void report_dot(Graph *g, FILE *out);   // declared in netc.h, report.c's section
//
// requires: every pass has filled the graph (shapes, cost, fusion).
// fills:    nothing; writes one `digraph` to the FILE * it is given.
//
// What is drawn (render with `netc --dot FILE.net | dot -Tsvg > FILE.svg`):
//   - one node per layer, `L<id>`, in layer order, labelled with its module
//     name ("(relu)" when it has none), its op with a short attribute summary
//     ("conv2d 3x3/2 p1"), and "params N  MACs M" when either is non-zero.
//     Layers that run inside their producer's kernel (a folded batch norm, a
//     fused activation) are drawn dashed, with "fused into NAME";
//   - net inputs as `L<id>` too (they are layers), drawn as inverted houses;
//     net outputs as extra nodes `out<i>`, drawn as houses;
//   - block instances as nested clusters `cluster_<k>` (k counts clusters in
//     the order they open), labelled "BLOCK  NAME" and the call's arguments;
//   - one edge per layer input, labelled with that tensor's shape, and one
//     from each output layer to its output node. Edges into fused layers are
//     dashed: that tensor is never stored.
// Output depends only on the graph (no addresses, no hash order), so the same
// net always gives the same bytes. Every string goes through dot_str, which
// escapes for DOT's double-quoted strings.
#include "netc.h"

#include <inttypes.h>
#include <string.h>

// Writes s as a DOT double-quoted string. Inside one, DOT treats \" as a quote
// and, in labels, \n \l \r \N \G ... as escapes, so a backslash is doubled.
// A newline in s becomes a centred line break (\n). Other control characters
// and bytes that are not valid UTF-8 (Graphviz rejects them) become '?'.
static void dot_str(FILE *out, const char *s) {
  fputc('"', out);
  size_t n = s ? strlen(s) : 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      i++;
    } else if (c == '\n') {
      fputs("\\n", out);
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      fputc('?', out);
      i++;
    } else {
      size_t k = utf8_len(s + i, n - i);
      if (k == 0) {
        fputc('?', out);
        i++;
      } else {
        fwrite(s + i, 1, k, out);
        i += k;
      }
    }
  }
  fputc('"', out);
}

static const char *op_name(Layer *l) { return l->op == OP_INPUT ? "input" : op_table[l->op].name; }

static const char *layer_name(Layer *l) {
  return l->name && *l->name ? l->name : format("(%s)", op_name(l));
}

// The op line of a node: the report's op column, plus a missing bias, which
// the picture has room to say.
static const char *op_line(Layer *l) {
  const char *s = op_summary(l);
  if ((op_is_conv(l->op) || l->op == OP_CONV_TRANSPOSE2D || l->op == OP_LINEAR) && !l->conv.bias)
    return format("%s no bias", s);
  return s;
}

// Fill colours by op family, so convs, pools and joins stand apart.
static const char *op_color(OpKind op) {
  switch (op) {
  case OP_INPUT: return "#d9ead3";
  case OP_PARAM:
  case OP_BUFFER: return "#ead1dc";
  case OP_CONV2D:
  case OP_CONV1D:
  case OP_CONV_TRANSPOSE2D: return "#cfe2f3";
  case OP_LINEAR:
  case OP_MATMUL: return "#d9d2e9";
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_MAXPOOL1D:
  case OP_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL1D:
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL2D:
  case OP_UPSAMPLE:
  case OP_INTERPOLATE: return "#d0e0e3";
  case OP_BATCHNORM2D:
  case OP_BATCHNORM1D:
  case OP_LAYERNORM:
  case OP_GROUPNORM:
  case OP_NORMALIZE: return "#fff2cc";
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
  case OP_SOFTMAX:
  case OP_SOFTPLUS:
  case OP_LOG_SOFTMAX: return "#fce5cd";
  case OP_MEAN:
  case OP_SUM:
  case OP_AMAX: return "#d0e0e3";
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
  case OP_FLATTEN:
  case OP_PAD: return "#f3f3f3";
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_CONCAT: return "#f4cccc";
  case OP__COUNT: break;
  }
  unreachable();
}

static void indent(FILE *out, int level) {
  for (int i = 0; i < level; i++)
    fputs("  ", out);
}

static void layer_node(FILE *out, Layer *l, int level) {
  const char *label;
  if (l->op == OP_INPUT) {
    label = format("input %s\n%s", l->name, shape_str(&l->shape));
  } else {
    label = format("%s\n%s", layer_name(l), op_line(l));
    if (l->params || l->macs) {
      label = format("%s\nparams %s", label, fmt_int(l->params));
      if (l->macs)
        label = format("%s  MACs %s", label, fmt_int(l->macs));
    }
    if (l->fused_into)
      label = format("%s\nfused into %s", label, layer_name(l->fused_into));
  }
  indent(out, level);
  fprintf(out, "L%d [label=", l->id);
  dot_str(out, label);
  if (l->op == OP_INPUT)
    fputs(", shape=invhouse, style=filled", out);
  else if (l->fused_into)
    fputs(", style=\"rounded,dashed,filled\", color=\"#666666\", fontcolor=\"#444444\"", out);
  fprintf(out, ", fillcolor=\"%s\"];\n", op_color(l->op));
}

// Cluster backgrounds get darker with nesting depth, cycling after four.
static const char *cluster_fill[] = {"#f7f7f7", "#eeeeee", "#e4e4e4", "#dadada"};

static void open_cluster(FILE *out, Inst *b, int number, int level) {
  indent(out, level);
  fprintf(out, "subgraph cluster_%d {\n", number);
  const char *label = format("%s  %s", b->block, b->name ? b->name : "");
  if (b->args && *b->args)
    label = format("%s\n(%s)", label, b->args);
  indent(out, level + 1);
  fputs("label=", out);
  dot_str(out, label);
  fprintf(out, "; style=\"rounded,filled\"; fillcolor=\"%s\"; color=\"#999999\";\n",
          cluster_fill[(b->depth - 1) % 4]);
}

void report_dot(Graph *g, FILE *out) {
  fputs("digraph ", out);
  dot_str(out, g->net);
  fputs(" {\n", out);
  const char *file = g->file && g->file->name ? g->file->name : "";
  Totals *t = &g->totals;
  // The arena as the report names its parts: the planned activations, the
  // kernels' scratch, and their sum (the generated header's _ARENA_BYTES).
  const char *title = format("net %s  (%s)\nparams %s  MACs %s\narena total %s bytes = activations %s + kernel scratch %s",
                             g->net, file, fmt_int(t->params), fmt_int(t->macs), fmt_int(t->arena_floats * 4),
                             fmt_int(t->scratch_offset * 4), fmt_int(t->scratch_bytes));
  fputs("  graph [label=", out);
  dot_str(out, title);
  fputs(", labelloc=t, fontname=\"Helvetica\", fontsize=12, rankdir=TB, nodesep=0.25, ranksep=0.3];\n", out);
  fputs("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n", out);
  fputs("  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n", out);

  // Layers in order; a block's layers are contiguous and nested blocks lie
  // inside their parent's range, so the clusters open and close like
  // brackets around the layer sequence (as the text report's block rows do).
  int maxdepth = 0;
  for (int i = 0; i < g->ninsts; i++)
    if (g->insts[i]->depth > maxdepth)
      maxdepth = g->insts[i]->depth;
  Inst **open = xalloc(((size_t)maxdepth + 1) * sizeof *open);  // open[k]: the cluster at depth k+1
  Inst **chain = xalloc(((size_t)maxdepth + 1) * sizeof *chain);
  int nopen = 0, nclusters = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    int d = l->inst ? l->inst->depth : 0;
    for (Inst *b = l->inst; b && b->depth > 0; b = b->parent)
      chain[b->depth - 1] = b;
    int k = 0;
    while (k < nopen && k < d && open[k] == chain[k])
      k++;
    for (; nopen > k; nopen--) {
      indent(out, nopen);
      fputs("}\n", out);
    }
    for (; nopen < d; nopen++) {
      open[nopen] = chain[nopen];
      open_cluster(out, chain[nopen], ++nclusters, nopen + 1);
    }
    layer_node(out, l, nopen + 1);
  }
  for (; nopen > 0; nopen--) {
    indent(out, nopen);
    fputs("}\n", out);
  }

  for (int i = 0; i < g->noutputs; i++) {
    const char *label = g->noutputs == 1 ? "output" : format("output %d", i);
    label = format("%s\n%s", label, shape_str(&g->outputs[i]->shape));
    fprintf(out, "  out%d [label=", i);
    dot_str(out, label);
    fputs(", shape=house, style=filled, fillcolor=\"#ead1dc\"];\n", out);
  }

  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    for (int k = 0; k < l->nin; k++) {
      fprintf(out, "  L%d -> L%d [label=", l->in[k]->id, l->id);
      dot_str(out, shape_str(&l->in[k]->shape));
      fputs(l->fused_into ? ", style=dashed];\n" : "];\n", out);
    }
  }
  for (int i = 0; i < g->noutputs; i++) {
    fprintf(out, "  L%d -> out%d [label=", g->outputs[i]->id, i);
    dot_str(out, shape_str(&g->outputs[i]->shape));
    fputs("];\n", out);
  }
  fputs("}\n", out);
}
