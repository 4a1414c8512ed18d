// memplan.c -- a static arena plan for the activations (liveness + best fit).
//
// requires: layers in topological order with l->in set; l->bytes (cost.c);
//           g->outputs; l->fused_into (fuse.c).
// fills:    l->last_use, l->alias, l->offset of every layer;
//           g->arena_align (64 if it was 0); g->totals.arena_bytes.
//
// The plan follows ggml's graph allocator (ggml-alloc.c), done once at
// compile time instead of per run:
//
//   - A layer's output is live from the step that computes it to its last
//     reader (l->last_use). Graph outputs are read by the caller, so they
//     stay live to the end: their last_use is g->nlayers, one past the last
//     step, and their memory is never handed to anyone else.
//   - Net inputs are not in the arena: the caller owns them (offset -1).
//   - Views (OPF_VIEW: flatten, dropout) cost nothing: they alias their
//     input's memory and stretch its lifetime to their own readers.
//   - Unary elementwise ops (OPF_ELEMENTWISE) run in place when nothing reads
//     their input's memory after them (and that memory is in the arena, so
//     net inputs and graph outputs are never overwritten).
//   - A two-tensor add/sub/mul runs in place over an operand that dies there.
//   - Everything else gets a block: the best-fitting free hole (smallest that
//     fits, lowest offset on a tie), else fresh space at the top. A block is
//     taken before the step's inputs are released, so a layer never writes
//     over its own inputs. Freed holes coalesce with their neighbours, and a
//     hole that reaches the top lowers the top.
//   - Every block size, hence every offset, is a multiple of g->arena_align.
//
// For the emitter: l->offset is where a layer's output lives (for a view or
// an in-place layer, the offset of the memory it shares), and l->alias is the
// layer that owns that memory (always a root: alias->alias is NULL), or NULL
// when the layer owns its block. A view of a net input has alias = that
// input and offset -1.
#include "netc.h"

#include <stdlib.h>

typedef struct Hole {
  int64_t off, size;
} Hole;

typedef struct Arena {
  Hole *holes; int nholes;  // free space below top, sorted by offset, coalesced
  int64_t top;              // end of the used part
  int64_t peak;             // high-water mark of top
} Arena;

// Scratch memory for the pass; freed on return (the graph keeps nothing).
static void *scratch(size_t n, size_t elem) {
  void *p = calloc(n ? n : 1, elem);
  if (!p)
    internal_error(__FILE__, __LINE__, "out of memory in the memory planner");
  return p;
}

static int64_t align_up(int64_t n, int64_t a) { return (n + a - 1) / a * a; }

static void remove_hole(Arena *a, int i) {
  for (int j = i + 1; j < a->nholes; j++)
    a->holes[j - 1] = a->holes[j];
  a->nholes--;
}

static int64_t arena_alloc(Arena *a, int64_t size) {
  int best = -1;
  for (int i = 0; i < a->nholes; i++)
    if (a->holes[i].size >= size && (best < 0 || a->holes[i].size < a->holes[best].size))
      best = i;
  if (best < 0) {
    // Shapes are capped at 2^40 elements, so only billions of huge layers
    // could get here; refuse rather than wrap.
    if (a->top > INT64_MAX - size)
      internal_error(__FILE__, __LINE__, "activation arena exceeds 2^63 bytes");
    int64_t off = a->top;
    a->top += size;
    if (a->top > a->peak)
      a->peak = a->top;
    return off;
  }
  Hole *h = &a->holes[best];
  int64_t off = h->off;
  h->off += size;
  h->size -= size;
  if (h->size == 0)
    remove_hole(a, best);
  return off;
}

static void arena_free(Arena *a, int64_t off, int64_t size) {
  int i = 0;
  while (i < a->nholes && a->holes[i].off < off)
    i++;
  NETC_ASSERT(i == a->nholes || off + size <= a->holes[i].off);
  NETC_ASSERT(i == 0 || a->holes[i - 1].off + a->holes[i - 1].size <= off);

  if (i > 0 && a->holes[i - 1].off + a->holes[i - 1].size == off) {
    // grow the hole on the left, then maybe swallow the one on the right
    Hole *l = &a->holes[i - 1];
    l->size += size;
    if (i < a->nholes && l->off + l->size == a->holes[i].off) {
      l->size += a->holes[i].size;
      remove_hole(a, i);
    }
  } else if (i < a->nholes && off + size == a->holes[i].off) {
    a->holes[i].off = off;
    a->holes[i].size += size;
  } else {
    for (int j = a->nholes; j > i; j--)
      a->holes[j] = a->holes[j - 1];
    a->holes[i] = (Hole){off, size};
    a->nholes++;
  }

  // A hole touching the top is not a hole: give it back to the top.
  Hole *last = &a->holes[a->nholes - 1];
  if (last->off + last->size == a->top) {
    a->top = last->off;
    a->nholes--;
  }
}

static Layer *root_of(Layer *l) { return l->alias ? l->alias : l; }

// Who reads each layer last. A layer nobody reads (a dead branch) still needs
// memory while it is computed: its last use is itself.
static void fill_last_use(Graph *g) {
  for (int i = 0; i < g->nlayers; i++)
    g->layers[i]->last_use = i;
  for (int i = 0; i < g->nlayers; i++) {
    Layer *l = g->layers[i];
    for (int k = 0; k < l->nin; k++)
      if (l->in[k]->last_use < i)
        l->in[k]->last_use = i;
  }
  for (int i = 0; i < g->noutputs; i++)
    g->outputs[i]->last_use = g->nlayers;
}

// Decides views and in-place layers. end[r] is the lifetime of root r's
// memory: the latest last_use over r and every layer that shares it. When
// step t is reached, every layer that shares r and is read at or after t has
// an id below t (it is one of t's ancestors), so end[] is already exact for
// the in-place test.
static void fill_aliases(Graph *g, int *end) {
  for (int t = 0; t < g->nlayers; t++) {
    Layer *l = g->layers[t];
    int flags = op_table[l->op].flags;
    l->alias = NULL;
    // A residual add fused into its conv (nin == 2) is that conv's memory too.
    if (l->fused_into && l->nin == 2) {
      Layer *r = root_of(l->fused_into);
      l->alias = r;
      if (l->last_use > end[r->id])
        end[r->id] = l->last_use;
      continue;
    }
    if (l->op != OP_INPUT && l->nin == 1 && (l->fused_into || (flags & (OPF_VIEW | OPF_ELEMENTWISE)))) {
      Layer *r = root_of(l->in[0]);
      // A layer fused into its producer's kernel (fuse.c) writes nothing of
      // its own: like a view, it is the producer's memory.
      bool inplace = (flags & OPF_VIEW) || l->fused_into ||
                     (r->op != OP_INPUT && end[r->id] == t && l->bytes <= r->bytes);
      if (inplace) {
        NETC_ASSERT(l->bytes <= r->bytes);
        l->alias = r;
        if (l->last_use > end[r->id])
          end[r->id] = l->last_use;
        continue;
      }
    }
    // A tensor add/sub/mul may overwrite an operand that dies here (the
    // kernels allow y == a or y == b): a residual add reuses its branch.
    if ((op_table[l->op].flags & OPF_BINARY) && l->nin == 2) {
      for (int k = 0; k < 2; k++) {
        Layer *r = root_of(l->in[k]);
        if (r->op != OP_INPUT && end[r->id] == t && l->bytes == r->bytes) {
          l->alias = r;
          if (l->last_use > end[r->id])
            end[r->id] = l->last_use;
          break;
        }
      }
      if (l->alias)
        continue;
    }
    end[t] = l->last_use;
  }
}

void fill_memplan(Graph *g) {
  if (g->arena_align <= 0)
    g->arena_align = 64;
  int n = g->nlayers;
  fill_last_use(g);

  int *end = scratch((size_t)n, sizeof *end);
  fill_aliases(g, end);

  // Roots whose memory dies at step t, chained in id order: head[t], next[].
  int *head = scratch((size_t)n, sizeof *head);
  int *next = scratch((size_t)n, sizeof *next);
  for (int t = 0; t < n; t++)
    head[t] = -1;
  for (int i = n - 1; i >= 0; i--) {
    Layer *l = g->layers[i];
    if (l->alias || l->op == OP_INPUT || end[i] >= n)
      continue;
    next[i] = head[end[i]];
    head[end[i]] = i;
  }

  Arena a = {.holes = scratch((size_t)n + 1, sizeof(Hole))};
  for (int t = 0; t < n; t++) {
    Layer *l = g->layers[t];
    if (l->op == OP_INPUT) {
      l->offset = -1;
    } else if (l->alias) {
      l->offset = l->alias->offset;
    } else {
      NETC_ASSERT(l->bytes > 0);
      l->offset = arena_alloc(&a, align_up(l->bytes, g->arena_align));
    }
    for (int r = head[t]; r >= 0; r = next[r]) {
      Layer *dead = g->layers[r];
      arena_free(&a, dead->offset, align_up(dead->bytes, g->arena_align));
    }
  }
  g->totals.arena_bytes = a.peak;

  free(a.holes);
  free(next);
  free(head);
  free(end);
}
