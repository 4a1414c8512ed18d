// memplan.c -- a static arena plan for the activations (liveness + best fit).
//
// requires: layers in topological order with l->in set; l->bytes (cost.c);
//           g->outputs; l->fused_into (fuse.c); totals.scratch_floats
//           (lower.c; 0 if the graph was not lowered).
// fills:    l->last_use, l->alias, l->offset of every layer;
//           g->arena_align (64 if it was 0); g->totals.arena_bytes, and the
//           plan's floor for the report: live_peak_bytes, two_largest_bytes;
//           the whole arena: totals.scratch_offset, arena_floats (the
//           generated header's _ARENA_FLOATS) and scratch_bytes.
//
// The plan follows ggml's graph allocator (ggml-alloc.c), done once at
// compile time instead of per run:
//
//   - A layer's output is live from the step that computes it to its last
//     reader (l->last_use). Graph outputs are read by the caller, so they
//     stay live to the end: their last_use is g->nlayers, one past the last
//     step, and their memory is never handed to anyone else.
//   - Net inputs are not in the arena: the caller owns them (offset -1).
//   - Views (layer_is_view: flatten, reshape, dropout, a contiguous narrow)
//     cost nothing: they alias their input's memory, at view_off bytes into
//     it for a narrow, and stretch its lifetime to their own readers.
//   - Unary ops whose kernel may run in place (OPF_INPLACE) do when nothing reads
//     their input's memory after them (and that memory is in the arena, so
//     net inputs and graph outputs are never overwritten).
//   - A two-tensor add/sub/mul runs in place over an operand that dies there;
//     so does a conv whose residual add is fused into it (y = conv(x) + r
//     written over r: a ResNet block needs no third full-size tensor).
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

// The caller's memory or the weight blob, not the arena: net inputs and
// declared tensors. An int8 build quantizes each net input into the arena
// first (quantize.c), so there an input has a block like any layer.
static bool outside_arena(const Layer *l) { return op_is_source(l->op) && !l->q.u8; }

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
    const OpInfo *op = &op_table[l->op];
    int flags = op->flags;
    l->alias = NULL;
    l->view_off = 0;
    // A residual add fused into its conv (nin == 2) is that conv's memory too.
    if (l->fused_into && l->nin == 2) {
      Layer *r = root_of(l->fused_into);
      l->alias = r;
      l->view_off = l->fused_into->view_off;
      if (l->last_use > end[r->id])
        end[r->id] = l->last_use;
      continue;
    }
    bool unary_inplace = (flags & OPF_INPLACE) && op->arity == OPA_UNARY;
    bool view = layer_is_view(l);
    if (!op_is_source(l->op) && l->nin == 1 && (l->fused_into || view || unary_inplace)) {
      Layer *r = root_of(l->in[0]);
      // A layer fused into its producer's kernel (fuse.c) writes nothing of
      // its own: like a view, it is the producer's memory. A narrow view
      // starts inside it (view_off); an in-place op writes where its input is.
      bool inplace = view || l->fused_into || (!op_is_source(r->op) && end[r->id] == t && l->bytes <= r->bytes);
      if (inplace) {
        l->view_off = l->in[0]->view_off + (view ? view_floats(l) * layer_elem_bytes(l) : 0);
        NETC_ASSERT(l->view_off + l->bytes <= r->bytes);
        l->alias = r;
        if (l->last_use > end[r->id])
          end[r->id] = l->last_use;
        continue;
      }
    }
    // A conv with a fused residual add writes over the residual when the
    // add is the residual's last reader: the kernel reads each residual
    // element before it writes the output element at the same place
    // (netc_conv2d_packed_f32 allows residual == y). Only layers folded into
    // this conv may come between it and the add, so nobody reads the
    // residual in between; and the conv's own input must be other memory.
    if (op_is_conv(l->op) && l->residual) {
      Layer *add = NULL;
      for (int s = t + 1; s < g->nlayers && g->layers[s]->fused_into == l; s++)
        if (g->layers[s]->nin == 2)
          add = g->layers[s];
      Layer *r = root_of(l->residual);
      if (add && !op_is_source(r->op) && end[r->id] == add->id && l->bytes == r->bytes &&
          root_of(l->in[0]) != r) {
        l->alias = r;
        l->view_off = l->residual->view_off;
        if (l->last_use > end[r->id])
          end[r->id] = l->last_use;
        continue;
      }
    }
    // A tensor add/sub/mul may overwrite an operand that dies here (the
    // kernels allow y == a or y == b): a residual add reuses its branch.
    if ((flags & OPF_INPLACE) && op->arity == OPA_BINARY && l->nin == 2) {
      for (int k = 0; k < 2; k++) {
        Layer *r = root_of(l->in[k]);
        if (!op_is_source(r->op) && end[r->id] == t && l->bytes == r->bytes) {
          l->alias = r;
          l->view_off = l->in[k]->view_off;
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

// The second plan: greedy by size (Pisarchyk and Lee, "Efficient Memory
// Management for Deep Neural Net Inference", 2020; TFLite's arena planner).
// Largest block first, each at the lowest offset where it overlaps no
// placed block whose lifetime meets its own. Knowing every lifetime ahead,
// it fragments less than allocating in execution order (ResNet-50: 5.0 MiB
// instead of 6.9). Quadratic in the number of blocks, so only for up to
// GREEDY_MAX_BLOCKS of them; returns the arena size and fills off[].
enum { GREEDY_MAX_BLOCKS = 4096 };
bool memplan_try_greedy = true;

typedef struct Block {
  int id;                 // the root layer
  int64_t size, start, end; // live over steps [start, end]
} Block;

static int by_size_desc(const void *pa, const void *pb) {
  const Block *a = pa, *b = pb;
  if (a->size != b->size)
    return a->size > b->size ? -1 : 1;
  return a->start < b->start ? -1 : a->start > b->start;
}

static int by_offset(const void *pa, const void *pb) {
  const Block *a = pa, *b = pb;
  return a->start < b->start ? -1 : a->start > b->start; // start holds the offset here
}

static int64_t plan_greedy_by_size(Block *blk, int nb, int64_t *off) {
  qsort(blk, (size_t)nb, sizeof *blk, by_size_desc);
  Block *near = scratch((size_t)nb + 1, sizeof *near); // conflicting placed blocks: {offset, size}
  int64_t arena = 0;
  for (int i = 0; i < nb; i++) {
    int nn = 0;
    for (int j = 0; j < i; j++)
      if (blk[j].start <= blk[i].end && blk[i].start <= blk[j].end)
        near[nn++] = (Block){0, blk[j].size, off[blk[j].id], 0};
    qsort(near, (size_t)nn, sizeof *near, by_offset);
    int64_t at = 0;
    for (int j = 0; j < nn; j++) {
      if (near[j].start - at >= blk[i].size)
        break;
      if (near[j].start + near[j].size > at)
        at = near[j].start + near[j].size;
    }
    off[blk[i].id] = at;
    if (at + blk[i].size > arena)
      arena = at + blk[i].size;
  }
  free(near);
  return arena;
}

// Replaces the best-fit plan by the greedy one when that is smaller.
static void try_greedy_by_size(Graph *g, const int *end) {
  if (!memplan_try_greedy)
    return;
  int n = g->nlayers, nb = 0;
  for (int i = 0; i < n; i++)
    nb += !g->layers[i]->alias && !outside_arena(g->layers[i]);
  if (nb == 0 || nb > GREEDY_MAX_BLOCKS)
    return;
  Block *blk = scratch((size_t)nb, sizeof *blk);
  int64_t *off = scratch((size_t)n, sizeof *off);
  nb = 0;
  for (int i = 0; i < n; i++) {
    Layer *l = g->layers[i];
    if (!l->alias && !outside_arena(l))
      blk[nb++] = (Block){i, align_up(l->bytes, g->arena_align), i, end[i]};
  }
  int64_t arena = plan_greedy_by_size(blk, nb, off);
  if (arena < g->totals.arena_bytes) {
    g->totals.arena_bytes = arena;
    // Net inputs stay outside the arena (-1), and so do views of them.
    for (int i = 0; i < n; i++)
      if (outside_arena(g->layers[i]))
        off[i] = -1;
    for (int i = 0; i < n; i++) {
      Layer *l = g->layers[i];
      l->offset = l->alias ? (off[l->alias->id] < 0 ? -1 : off[l->alias->id] + l->view_off) : off[i];
    }
  }
  free(off);
  free(blk);
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
    if (l->alias || outside_arena(l) || end[i] >= n)
      continue;
    next[i] = head[end[i]];
    head[end[i]] = i;
  }

  Arena a = {.holes = scratch((size_t)n + 1, sizeof(Hole))};
  // What any plan with these lifetimes needs, to compare the arena with:
  // the most bytes live at one step, and the two largest blocks live at
  // one step (the arena's floor for a plain chain: a layer's input and
  // output). Live blocks are tracked in a list of their ids.
  int *live = scratch((size_t)n + 1, sizeof *live);
  int nlive = 0;
  int64_t live_bytes = 0;
  Totals *tot = &g->totals;
  tot->live_peak_bytes = tot->two_largest_bytes = 0;
  tot->live_peak_at = tot->two_largest_at = -1;
  for (int t = 0; t < n; t++) {
    Layer *l = g->layers[t];
    if (outside_arena(l)) {
      l->offset = -1;
    } else if (l->alias) {
      l->offset = l->alias->offset < 0 ? -1 : l->alias->offset + l->view_off;
    } else {
      NETC_ASSERT(l->bytes > 0);
      int64_t size = align_up(l->bytes, g->arena_align);
      l->offset = arena_alloc(&a, size);
      live[nlive++] = t;
      live_bytes += size;
      int64_t big[2] = {0, 0};
      for (int i = 0; i < nlive; i++) {
        int64_t b = align_up(g->layers[live[i]]->bytes, g->arena_align);
        if (b > big[0]) {
          big[1] = big[0];
          big[0] = b;
        } else if (b > big[1]) {
          big[1] = b;
        }
      }
      if (live_bytes > tot->live_peak_bytes) {
        tot->live_peak_bytes = live_bytes;
        tot->live_peak_at = t;
      }
      if (big[0] + big[1] > tot->two_largest_bytes) {
        tot->two_largest_bytes = big[0] + big[1];
        tot->two_largest_at = t;
      }
    }
    for (int r = head[t]; r >= 0; r = next[r]) {
      Layer *dead = g->layers[r];
      arena_free(&a, dead->offset, align_up(dead->bytes, g->arena_align));
      live_bytes -= align_up(dead->bytes, g->arena_align);
      for (int i = 0; i < nlive; i++)
        if (live[i] == r) {
          live[i] = live[--nlive];
          break;
        }
    }
  }
  g->totals.arena_bytes = a.peak;
  try_greedy_by_size(g, end);
  free(live);

  // The whole arena: the activations, then one scratch region that every
  // kernel reuses (lower.c sized it), each rounded to 16 floats.
  tot->scratch_offset = align_up(tot->arena_bytes / 4, 16);
  tot->arena_floats = tot->scratch_offset + align_up(tot->scratch_floats, 16);
  tot->scratch_bytes = (tot->arena_floats - tot->scratch_offset) * 4;

  free(a.holes);
  free(next);
  free(head);
  free(end);
}
