// verify.c -- cheap invariant checks between passes (QBE's ssacheck).
//
// requires: a graph from elaborate(); any subset of the later passes.
// fills:    nothing. A broken invariant is a bug in netc, never in the user's
//           net, so it aborts through internal_error with this file's line.
//
// What is checked depends on which passes have run, detected from the fields
// they fill (the graph has no pass flags):
//
//   always          ids match positions; every layer has a shape (rank in
//                   1..MAX_RANK, every dim > 0); inputs precede their
//                   consumers; OP_INPUT layers are the graph's inputs and
//                   have no inputs; outputs and weights point into the graph;
//                   every layer lies inside the [first, last] of each block
//                   instance around it (the net's own range is not used).
//   fill_rf         (the inputs' jump is set) every field is finite with
//                   size >= 1 and jump > 0, or it is constant (a param or
//                   buffer, or computed from them only) with size 0; a
//                   local axis names a dim of the layer's output.
//   fill_cost       (bytes are set) the per-layer sums equal g->totals.
//   fill_memplan    (arena_bytes > 0) offsets are aligned and inside the
//                   arena, aliases point at roots that share the offset,
//                   last_use covers every reader, and no two blocks overlap
//                   while both are live.
#include "netc.h"

#include <math.h>
#include <stdlib.h>

#define CHECK(c) NETC_ASSERT(c)

static void check_structure(Graph *g) {
  CHECK(g->nlayers >= 0 && g->ninsts >= 1 && g->insts[0]->depth == 0);
  int ninput_layers = 0;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    CHECK(l && l->id == i);
    CHECK((int)l->op >= 0 && l->op < OP__COUNT);
    CHECK(l->shape.rank >= 1 && l->shape.rank <= MAX_RANK);
    for (int k = 0; k < l->shape.rank; k++)
      CHECK(l->shape.d[k] > 0);
    if (op_is_source(l->op)) {
      CHECK(l->nin == 0);
      ninput_layers += l->op == OP_INPUT;
      CHECK(op_in_blob(l->op) == (l->nweights == 1)); // a param or buffer is its one tensor
    } else {
      CHECK(l->nin >= 1 || (op_table[l->op].arity == OPA_NULLARY && l->nin == 0));
    }
    for (int k = 0; k < l->nin; k++) {
      Layer *x = l->in[k];
      CHECK(x && x->id < i && g->layers[x->id] == x);
    }
    CHECK(l->inst);
    for (Inst *s = l->inst; s && s->depth > 0; s = s->parent)
      CHECK(s->first <= i && i <= s->last);
    for (int k = 0; k < l->nweights; k++)
      CHECK(l->weights[k].layer == l);
  }

  CHECK(ninput_layers == g->ninputs);
  for (int i = 0; i < g->ninputs; i++)
    CHECK(g->inputs[i]->op == OP_INPUT && g->layers[g->inputs[i]->id] == g->inputs[i]);
  for (int i = 0; i < g->noutputs; i++)
    CHECK(g->layers[g->outputs[i]->id] == g->outputs[i]);

  for (int i = 0; i < g->nweights; i++) {
    Weight *w = g->weights[i];
    Layer *l = w->layer;
    CHECK(l && g->layers[l->id] == l);
    CHECK(w >= l->weights && w < l->weights + l->nweights);
  }

  for (int i = 1; i < g->ninsts; i++) {
    Inst *s = g->insts[i];
    CHECK(s->parent && s->depth == s->parent->depth + 1);
    if (s->last < s->first)
      continue; // an empty instance
    CHECK(s->first >= 0 && s->last < g->nlayers);
    CHECK(s->parent->first <= s->first && s->last <= s->parent->last);
  }
}

static void check_rf(Graph *g) {
  for (int i = 0; i < g->nlayers; i++)
    for (int a = 0; a < 2; a++) {
      Layer *l = g->layers[i];
      RF *r = &l->rf[a];
      CHECK(isfinite(r->size) && isfinite(r->jump) && isfinite(r->start));
      CHECK(r->constant ? !r->global && r->size == 0 : r->size >= 1 && r->jump > 0);
      CHECK(r->global || r->constant ? r->dim == -1 : r->dim >= 0 && r->dim < l->shape.rank);
      bool constant = l->op != OP_INPUT;
      for (int k = 0; k < l->nin; k++)
        constant &= l->in[k]->rf[a].constant;
      CHECK(r->constant == constant);
    }
}

// cost.c saturates its sums at INT64_MAX; so does this check.
static int64_t add64(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

static void check_cost(Graph *g) {
  Totals t = {0};
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    CHECK(l->params >= 0 && l->buffers >= 0 && l->macs >= 0);
    CHECK(l->flops >= l->macs && l->bytes > 0);
    t.params = add64(t.params, l->params);
    t.buffers = add64(t.buffers, l->buffers);
    t.macs = add64(t.macs, l->macs);
    t.flops = add64(t.flops, l->flops);
  }
  CHECK(t.params == g->totals.params && t.buffers == g->totals.buffers);
  CHECK(t.macs == g->totals.macs && t.flops == g->totals.flops);
}

typedef struct Live {
  int64_t off, size;
  int end;
} Live;

static void check_memplan(Graph *g) {
  int64_t align = g->arena_align;
  CHECK(align > 0);
  int n = g->nlayers;

  // The lifetime of each root's memory: the latest reader of any layer
  // sharing it.
  int *end = calloc(n ? (size_t)n : 1, sizeof *end);
  Live *live = calloc(n ? (size_t)n : 1, sizeof *live);
  if (!end || !live)
    internal_error(__FILE__, __LINE__, "out of memory in the verifier");

  for (int i = 0; i < n; i++) {
    Layer *l = g->layers[i];
    CHECK(l->last_use >= i && l->last_use <= n);
    for (int k = 0; k < l->nin; k++)
      CHECK(l->in[k]->last_use >= i);
    if (op_is_source(l->op) && !l->q.u8) { // an int8 build's inputs are quantized into the arena
      CHECK(l->offset == -1 && !l->alias);
      continue;
    }
    if (l->alias) {
      Layer *r = l->alias;
      CHECK(r->id < i && !r->alias && l->view_off >= 0 && l->view_off % layer_elem_bytes(l) == 0 && l->view_off + l->bytes <= r->bytes);
      CHECK(l->offset == (r->offset < 0 ? -1 : r->offset + l->view_off));
      if (l->last_use > end[r->id])
        end[r->id] = l->last_use;
      continue;
    }
    CHECK(l->offset >= 0 && l->offset % align == 0);
    CHECK(l->bytes <= g->totals.arena_bytes - l->offset);
    if (l->last_use > end[i])
      end[i] = l->last_use;
  }
  for (int i = 0; i < g->noutputs; i++)
    CHECK(g->outputs[i]->last_use == n);

  // Sweep the roots in the order they are written. A block written at step
  // t must not overlap any block still live at t: one whose lifetime ends
  // at t is read by step t itself.
  int nlive = 0;
  for (int i = 0; i < n; i++) {
    Layer *l = g->layers[i];
    if ((op_is_source(l->op) && !l->q.u8) || l->alias)
      continue;
    int k = 0;
    for (int j = 0; j < nlive; j++)
      if (live[j].end >= i)
        live[k++] = live[j];
    nlive = k;
    for (int j = 0; j < nlive; j++)
      CHECK(l->offset + l->bytes <= live[j].off || live[j].off + live[j].size <= l->offset);
    live[nlive++] = (Live){l->offset, l->bytes, end[i]};
  }

  free(live);
  free(end);
}

// A folded batch norm scales and shifts its producer's output features: it
// must be the producer's only reader, normalise the axis the features lie
// on (1: a conv2d's channels) and have one statistic per feature, or the
// fold at load time computes something else (and reads past the statistics).
static void check_fusion(Graph *g) {
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    if (!l->fold_bn)
      continue;
    Layer *bn = l->fold_bn;
    CHECK(op_is_bn(bn->op) && bn->fused_into == l && bn->in[0] == l);
    CHECK(op_is_conv(l->op) && l->shape.rank == (l->op == OP_CONV1D ? 3 : 4) && bn->shape.d[1] == l->conv.out_channels);
  }
}

void verify_graph(Graph *g) {
  check_structure(g);
  check_fusion(g);
  if (g->ninputs > 0 && g->inputs[0]->rf[0].jump != 0)
    check_rf(g);
  if (g->nlayers > 0 && g->layers[0]->bytes != 0)
    check_cost(g);
  if (g->totals.arena_bytes > 0)
    check_memplan(g);
}
