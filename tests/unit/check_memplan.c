// check_memplan.c -- the static arena plan (memplan.c).
//
// Every graph goes through tb_run_passes, so verify_graph also checks each
// plan (alignment, aliases, no overlap of live blocks). Offsets below are
// worked out by hand: blocks are taken before a step's inputs are freed,
// best fit, holes coalesce, a hole at the top lowers the top.
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "graphs.h"
#include "testutil.h"

enum { S = 4 * 8 * 16 * 16 }; // one [1, 8, 16, 16] float tensor: 8192 bytes

// 3x3, stride 1, pad 1: same H and W, c channels
static Layer *conv3(Builder *b, Layer *x, int64_t c) {
  return tb_conv(b, x, c, 3, 1, 1, 1, 1, true);
}

// Equal sizes: two blocks ping-pong.
START_TEST(test_chain) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 3, 16, 16);
  Layer *c[4];
  c[0] = conv3(b, x, 8);
  for (int i = 1; i < 4; i++)
    c[i] = conv3(b, c[i - 1], 8);
  tb_output(b, c[3]);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_int_eq(g->arena_align, 64);
  ck_assert_int_eq(x->offset, -1);
  ck_assert_int_eq(c[0]->offset, 0);
  ck_assert_int_eq(c[1]->offset, S);
  ck_assert_int_eq(c[2]->offset, 0);
  ck_assert_int_eq(c[3]->offset, S);
  ck_assert_int_eq(g->totals.arena_bytes, 2 * S);
  ck_assert_int_eq(c[0]->last_use, 2);
  ck_assert_int_eq(c[3]->last_use, g->nlayers); // an output lives to the end
}
END_TEST

// Shrinking sizes 8192, 4096, 2048, 1024: the peak is the largest adjacent
// pair, 8192 + 4096; 2048 reuses the bottom of the first block's hole.
START_TEST(test_chain_shrinking) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 3, 16, 16);
  Layer *d = conv3(b, x, 8);
  Layer *c = conv3(b, d, 4);
  Layer *bb = conv3(b, c, 2);
  Layer *a = conv3(b, bb, 1);
  tb_output(b, a);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_int_eq(d->offset, 0);
  ck_assert_int_eq(c->offset, 8192);
  ck_assert_int_eq(bb->offset, 0);
  ck_assert_int_eq(a->offset, 2048);
  ck_assert_int_eq(g->totals.arena_bytes, 8192 + 4096);
}
END_TEST

// c0 -> c1 -> c2, add(c2, c0): the skip c0 stays live across c1 and c2,
// so three blocks; the add then overwrites c2, which dies there.
START_TEST(test_residual) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c0 = conv3(b, x, 8);
  Layer *c1 = conv3(b, c0, 8);
  Layer *c2 = conv3(b, c1, 8);
  Layer *sum = tb_binary(b, OP_ADD, c2, c0);
  tb_output(b, sum);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_int_eq(c0->last_use, sum->id);
  ck_assert_int_eq(c0->offset, 0);
  ck_assert_int_eq(c1->offset, S);
  ck_assert_int_eq(c2->offset, 2 * S);
  ck_assert_int_eq(sum->offset, 2 * S);
  ck_assert_ptr_eq(sum->alias, c2);
  ck_assert_int_eq(g->totals.arena_bytes, 3 * S);
}
END_TEST

// tb_run_passes with fuse.c before the plan, as netc runs them.
static void run_with_fusion(Graph *g) {
  verify_graph(g);
  fill_rf(g);
  fill_cost(g);
  fill_fusion(g);
  fill_lowering(g);
  fill_memplan(g);
  verify_graph(g);
}

// The same graph with fusion: the add runs in c2's epilogue and c0 dies
// there, so c2 writes over c0 (the kernel reads each residual element
// before writing its place): two blocks, not three.
START_TEST(test_conv_over_residual) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c0 = conv3(b, x, 8);
  Layer *c1 = conv3(b, c0, 8);
  Layer *c2 = conv3(b, c1, 8);
  Layer *sum = tb_binary(b, OP_ADD, c2, c0);
  tb_output(b, sum);
  Graph *g = tb_finish(b);
  run_with_fusion(g);
  ck_assert_ptr_eq(c2->residual, c0);
  ck_assert_ptr_eq(sum->fused_into, c2);
  ck_assert_ptr_eq(c2->alias, c0);
  ck_assert_int_eq(c2->offset, c0->offset);
  ck_assert_int_eq(sum->offset, c0->offset);
  ck_assert_int_ne(c1->offset, c0->offset);
  ck_assert_int_eq(g->totals.arena_bytes, 2 * S);
}
END_TEST

// Not over a residual that is the conv's own input (y = conv(c0) + c0), nor
// over one read after the add.
START_TEST(test_conv_not_over_residual) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c0 = conv3(b, x, 8);
  Layer *c1 = conv3(b, c0, 8);
  Layer *sum = tb_binary(b, OP_ADD, c1, c0);
  Layer *c2 = conv3(b, sum, 8);
  Layer *c3 = conv3(b, c2, 8);
  Layer *sum2 = tb_binary(b, OP_ADD, c3, c2);
  Layer *z = tb_binary(b, OP_ADD, sum2, c2);
  tb_output(b, z);
  Graph *g = tb_finish(b);
  run_with_fusion(g);
  ck_assert_ptr_eq(c1->residual, c0);
  ck_assert_ptr_null(c1->alias);
  ck_assert_int_ne(c1->offset, c0->offset);
  ck_assert_ptr_eq(c3->residual, c2);
  ck_assert_ptr_null(c3->alias);     // c2 is read again by z
  ck_assert_int_ne(c3->offset, c2->offset);
}
END_TEST

START_TEST(test_inplace_relu) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c1 = conv3(b, x, 8);
  Layer *r = tb_unary(b, OP_RELU, c1);
  Layer *c2 = conv3(b, r, 8);
  tb_output(b, c2);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_eq(r->alias, c1);
  ck_assert_int_eq(r->offset, c1->offset);
  ck_assert_int_eq(c2->offset, S);
  ck_assert_int_eq(g->totals.arena_bytes, 2 * S);
}
END_TEST

// relu's input is read again later (by the add): no in place.
START_TEST(test_no_inplace_when_read_later) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c1 = conv3(b, x, 8);
  Layer *r = tb_unary(b, OP_RELU, c1);
  Layer *sum = tb_binary(b, OP_ADD, r, c1);
  tb_output(b, sum);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_null(r->alias);
  ck_assert_int_ne(r->offset, c1->offset);
  // Both operands die at the add, which then overwrites the first one.
  ck_assert_ptr_eq(sum->alias, r);
  ck_assert_int_eq(g->totals.arena_bytes, 2 * S);
}
END_TEST

// Net inputs belong to the caller, graph outputs to the caller after the
// run: neither is overwritten in place, and an output's block is never reused.
START_TEST(test_no_inplace_on_input_or_output) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *rx = tb_unary(b, OP_RELU, x);
  Layer *c1 = conv3(b, rx, 8);
  Layer *r1 = tb_unary(b, OP_RELU, c1);
  Layer *c2 = conv3(b, r1, 8);
  Layer *c3 = conv3(b, c2, 8);
  tb_output(b, c1);
  tb_output(b, c3);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_null(rx->alias);
  ck_assert_int_eq(rx->offset, 0);
  ck_assert_int_eq(c1->offset, S);
  ck_assert_ptr_null(r1->alias);
  ck_assert_int_eq(r1->offset, 0); // rx died at c1
  ck_assert_int_eq(c2->offset, 2 * S);
  ck_assert_int_eq(c3->offset, 0); // r1's block, never c1's
  ck_assert_int_eq(g->totals.arena_bytes, 3 * S);
}
END_TEST

// flatten is a view: it shares conv's block and keeps it live until the
// linear that reads the view has run.
START_TEST(test_flatten_alias) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 4, 4);
  Layer *c = conv3(b, x, 8);          // 128 floats: 512 bytes
  Layer *f = tb_flatten(b, c);
  Layer *lin = tb_linear(b, f, 10, true); // 40 bytes -> a 64-byte block
  tb_output(b, lin);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_eq(f->alias, c);
  ck_assert_int_eq(f->offset, 0);
  ck_assert_int_eq(c->last_use, f->id);
  ck_assert_int_eq(f->last_use, lin->id);
  ck_assert_int_eq(lin->offset, 512);
  ck_assert_int_eq(g->totals.arena_bytes, 576);
}
END_TEST

// A view of a net input aliases the input and stays out of the arena.
START_TEST(test_view_of_input) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 4, 4);
  Layer *f = tb_flatten(b, x);
  Layer *r = tb_unary(b, OP_RELU, f);
  tb_output(b, r);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_eq(f->alias, x);
  ck_assert_int_eq(f->offset, -1);
  ck_assert_ptr_null(r->alias); // never in place over the caller's input
  ck_assert_int_eq(r->offset, 0);
}
END_TEST

// relu after a view runs in place over the view's root; but not when the
// view is read after the relu.
START_TEST(test_inplace_through_view) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c = conv3(b, x, 8);
  Layer *d = tb_unary(b, OP_DROPOUT, c);
  Layer *r = tb_unary(b, OP_RELU, d);
  Layer *c2 = conv3(b, r, 8);
  Layer *d2 = tb_unary(b, OP_DROPOUT, c2);
  Layer *r2 = tb_unary(b, OP_RELU, c2);
  Layer *sum = tb_binary(b, OP_ADD, r2, d2);
  tb_output(b, sum);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_eq(d->alias, c);
  ck_assert_ptr_eq(r->alias, c); // the root, not the view
  ck_assert_int_eq(r->offset, 0);
  ck_assert_ptr_eq(d2->alias, c2);
  ck_assert_ptr_null(r2->alias); // d2 still reads c2's memory at the add
  ck_assert_int_ne(r2->offset, c2->offset);
}
END_TEST

// A layer nobody reads gets a block for its own step only.
START_TEST(test_dead_branch) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *c1 = conv3(b, x, 8);
  Layer *dead = conv3(b, x, 8);
  Layer *c3 = conv3(b, c1, 8);
  tb_output(b, c3);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_int_eq(dead->last_use, dead->id);
  ck_assert_int_eq(dead->offset, S);
  ck_assert_int_eq(c3->offset, S);
  ck_assert_int_eq(g->totals.arena_bytes, 2 * S);
}
END_TEST

// Two freed 64-byte neighbours merge into a hole that fits 128 bytes.
START_TEST(test_coalesce) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 1, 4, 4); // 64 bytes
  Layer *a = conv3(b, x, 1);
  Layer *bb = conv3(b, x, 1);
  Layer *ab[2] = {a, bb};
  Layer *c = tb_concat(b, ab, 2);            // 128 bytes
  Layer *d = conv3(b, c, 2);                 // 128 bytes
  tb_output(b, d);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_int_eq(a->offset, 0);
  ck_assert_int_eq(bb->offset, 64);
  ck_assert_int_eq(c->offset, 128);
  ck_assert_int_eq(d->offset, 0);           // in the merged hole [0, 128)
  ck_assert_int_eq(g->totals.arena_bytes, 256);
}
END_TEST

// A residual add writes over the branch that dies there, not over the skip
// that is still read afterwards.
START_TEST(test_inplace_add) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  Layer *skip = conv3(b, x, 8);
  Layer *y = conv3(b, skip, 8);
  Layer *sum = tb_binary(b, OP_ADD, skip, y);
  Layer *z = tb_binary(b, OP_ADD, sum, skip);
  tb_output(b, z);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  ck_assert_ptr_eq(sum->alias, y);          // skip is read again by z
  ck_assert_int_eq(sum->offset, y->offset);
  // y's memory, now sum, dies at z too: z takes it over and keeps it to the end.
  ck_assert_ptr_eq(z->alias, y);
  ck_assert_int_eq(z->last_use, g->nlayers);
  ck_assert_int_eq(g->totals.arena_bytes, 2 * S);
}
END_TEST

// Three convs side by side, two of them concatenated, then a fourth conv,
// then everything concatenated: L = {a, bb, c, d, s, e, out}. Best fit
// plans it as commented (holes [0, 256) and [320, 448) when e comes: the
// 128-byte block takes the tighter one).
// With L[7] != NULL, also a view of the net input as a second output.
static Graph *holes_graph(Layer **L) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 1, 4, 4);
  if (L[7])
    L[7] = tb_flatten(b, x);
  L[0] = conv3(b, x, 4);          // a: 256 at 0
  L[1] = conv3(b, x, 1);          // bb: 64 at 256
  L[2] = conv3(b, x, 2);          // c: 128 at 320
  L[3] = conv3(b, x, 1);          // d: 64 at 448
  Layer *ac[2] = {L[0], L[2]};
  L[4] = tb_concat(b, ac, 2);     // s: 384 at 512; frees a and c
  L[5] = conv3(b, x, 2);          // e: 128: best fit 320, first fit would say 0
  Layer *all[4] = {L[1], L[3], L[4], L[5]};
  L[6] = tb_concat(b, all, 4);    // out: 640: only [0, 256) is free -> top
  tb_output(b, L[6]);
  if (L[7])
    tb_output(b, L[7]);
  return tb_finish(b);
}

START_TEST(test_best_fit) {
  Layer *L[8] = {NULL};
  Graph *g = holes_graph(L);
  memplan_try_greedy = false;
  tb_run_passes(g);
  memplan_try_greedy = true;
  static const int64_t want[7] = {0, 256, 320, 448, 512, 320, 896};
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq(L[i]->offset, want[i]);
  ck_assert_int_eq(g->totals.arena_bytes, 1536);
}
END_TEST

// The same graph planned greedily by size, largest first, each block at the
// lowest offset clear of the placed blocks it is live with (steps: a 1-5,
// bb 2-7, c 3-5, d 4-7, s 5-7, e 6-7, out 7-end): out [0, 640); s [640,
// 1024); a [0, 256) (out is not live yet); c [256, 384); e [1024, 1152) (out
// and s are live); bb [1152, 1216); d [1216, 1280). 1280 < best fit's 1536,
// so this plan is kept.
START_TEST(test_greedy_by_size) {
  Layer *L[8] = {NULL};
  Graph *g = holes_graph(L);
  tb_run_passes(g);
  static const int64_t want[7] = {0, 1152, 256, 1216, 640, 1024, 0};
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq(L[i]->offset, want[i]);
  ck_assert_int_eq(g->totals.arena_bytes, 1280);
  // Nothing is live at once above 1280 bytes here: the plan meets the floor.
  ck_assert_int_eq(g->totals.live_peak_bytes, 1280);
}
END_TEST

// A view of the net input stays outside the arena when the greedy plan is
// the one kept (the fuzzer's first find: it got offset 0, not -1).
START_TEST(test_greedy_keeps_input_views_out) {
  Layer *L[8] = {NULL};
  L[7] = (Layer *)L; // any non-NULL: ask for the view
  Graph *g = holes_graph(L);
  tb_run_passes(g);
  ck_assert_int_eq(g->totals.arena_bytes, 1280);
  ck_assert_ptr_eq(L[7]->alias, g->inputs[0]);
  ck_assert_int_eq(L[7]->offset, -1);
  ck_assert_int_eq(g->inputs[0]->offset, -1);
}
END_TEST

START_TEST(test_alignment) {
  for (int64_t align = 0; align <= 256; align += 256) {
    Builder *b = tb_new("t");
    Layer *x = tb_input(b, "x", 1, 1, 3, 3);
    Layer *c1 = conv3(b, x, 1); // 36 bytes
    Layer *c2 = conv3(b, c1, 1);
    tb_output(b, c2);
    Graph *g = tb_finish(b);
    g->arena_align = align;
    tb_run_passes(g);
    int64_t a = align ? align : 64;
    ck_assert_int_eq(g->arena_align, a);
    ck_assert_int_eq(c1->offset, 0);
    ck_assert_int_eq(c2->offset, a);
    ck_assert_int_eq(g->totals.arena_bytes, 2 * a);
  }
}
END_TEST

// ResNet-50: the plan verifies, is deterministic, runs its relus in place,
// and sits between one bottleneck add's working set (output plus two live
// [1,256,56,56] inputs) and the sum of all activations.
START_TEST(test_resnet50) {
  Graph *g = tb_resnet50();
  tb_run_passes(g);
  int64_t arena = g->totals.arena_bytes;
  ck_assert_int_ge(arena, 3 * 4 * 256 * 56 * 56);
  ck_assert_int_lt(arena, g->totals.activation_bytes / 4);
  int inplace = 0;
  for (int i = 0; i < g->nlayers; i++)
    inplace += g->layers[i]->op == OP_RELU && g->layers[i]->alias;
  ck_assert_int_eq(inplace, 1 + 3 * 16); // the stem's and three per bottleneck

  int64_t *off = xalloc((size_t)g->nlayers * sizeof *off);
  for (int i = 0; i < g->nlayers; i++)
    off[i] = g->layers[i]->offset;
  fill_memplan(g);
  verify_graph(g);
  ck_assert_int_eq(g->totals.arena_bytes, arena);
  for (int i = 0; i < g->nlayers; i++)
    ck_assert_int_eq(g->layers[i]->offset, off[i]);
}
END_TEST

//
// verify_graph must catch a broken plan: each case corrupts a good plan and
// expects internal_error's abort naming the invariant it broke.
//

static Graph *planned_chain(Layer **c) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 8, 16, 16);
  c[0] = conv3(b, x, 8);
  c[1] = conv3(b, c[0], 8);
  c[2] = conv3(b, c[1], 8);
  tb_output(b, c[2]);
  Graph *g = tb_finish(b);
  tb_run_passes(g);
  return g;
}

static Layer *chain[3];

static void overlap(void *g) {
  chain[1]->offset = chain[0]->offset + 64; // both live while chain[1] is computed
  verify_graph(g);
}

static void misalign(void *g) {
  chain[2]->offset += 4;
  verify_graph(g);
}

static void read_later(void *g) {
  chain[1]->in[0] = chain[2]; // reads a later layer
  verify_graph(g);
}

static void bad_alias(void *g) {
  chain[1]->alias = chain[0]; // claims chain[0]'s memory at another offset
  verify_graph(g);
}

START_TEST(test_verify_overlap) {
  tu_expect_death(overlap, planned_chain(chain),
                  "l->offset + l->bytes <= live[j].off || live[j].off + live[j].size <= l->offset");
}
END_TEST

START_TEST(test_verify_alignment) {
  tu_expect_death(misalign, planned_chain(chain), "l->offset >= 0 && l->offset % align == 0");
}
END_TEST

START_TEST(test_verify_order) {
  tu_expect_death(read_later, planned_chain(chain), "x && x->id < i && g->layers[x->id] == x");
}
END_TEST

// chunk on the channels of a batch-1 tensor: each piece is a view at its
// offset into the conv's block; a later in-place op may not write over the
// block while another piece is still to be read.
START_TEST(test_narrow_views) {
  Graph *g = tu_compile("net n(x: [1, 8, 4, 4]) {\n"
                        "  a = x -> @a conv2d(8, 1);\n"
                        "  (p, q) = a -> @c chunk(2, dim=1);\n"
                        "  r = q -> @r relu;\n"
                        "  return concat(r, p);\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  Layer *a = tu_layer(g, "a"), *p = tu_layer(g, "c.0"), *q = tu_layer(g, "c.1"), *r = tu_layer(g, "r");
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(p->kernel, KERNEL_VIEW);
  ck_assert_int_eq(q->kernel, KERNEL_VIEW);
  ck_assert_ptr_eq(p->alias, a);
  ck_assert_ptr_eq(q->alias, a);
  ck_assert_int_eq(p->view_off, 0);
  ck_assert_int_eq(q->view_off, 4 * 4 * 4 * 4); // 4 channels of 4x4 floats
  ck_assert_int_eq(q->offset, a->offset + q->view_off);
  ck_assert_int_eq(p->last_use, tu_layer(g, "concat")->id); // p, so a, lives to the concat
  ck_assert_ptr_null(r->alias);                               // so relu gets its own block
}
END_TEST

// With batch 2 a channel slice is two runs, not one: a copy, not a view.
START_TEST(test_narrow_copy) {
  Graph *g = tu_compile("net n(x: [2, 8, 4, 4]) {\n"
                        "  return x -> conv2d(8, 1) -> @s narrow(1, 4, 4);\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  Layer *s = tu_layer(g, "s");
  ck_assert_int_eq(s->kernel, KERNEL_OP);
  ck_assert_ptr_null(s->alias);
  ck_assert_int_eq(s->view_off, 0);
}
END_TEST

// A narrow view of a net input: outside the arena, the input pointer plus its offset.
START_TEST(test_narrow_of_input) {
  Graph *g = tu_compile("net n(x: [1, 8, 4, 4]) {\n"
                        "  return x -> @s narrow(1, 2, 3) -> @r relu;\n"
                        "}\n");
  ck_assert_ptr_nonnull(g);
  Layer *s = tu_layer(g, "s"), *r = tu_layer(g, "r");
  ck_assert_ptr_eq(s->alias, g->inputs[0]);
  ck_assert_int_eq(s->offset, -1);
  ck_assert_int_eq(s->view_off, 2 * 16 * 4);
  ck_assert_ptr_null(r->alias); // never in place over an input
  ck_assert_int_ge(r->offset, 0);
}
END_TEST

START_TEST(test_verify_alias) {
  tu_expect_death(bad_alias, planned_chain(chain), "l->offset == (r->offset");
}
END_TEST

Suite *make_memplan_suite(void) {
  Suite *s = suite_create("memplan");
  TCase *tc = tcase_create("reuse");
  tcase_add_test(tc, test_chain);
  tcase_add_test(tc, test_chain_shrinking);
  tcase_add_test(tc, test_residual);
  tcase_add_test(tc, test_dead_branch);
  tcase_add_test(tc, test_coalesce);
  tcase_add_test(tc, test_inplace_add);
  tcase_add_test(tc, test_best_fit);
  tcase_add_test(tc, test_conv_over_residual);
  tcase_add_test(tc, test_conv_not_over_residual);
  tcase_add_test(tc, test_greedy_by_size);
  tcase_add_test(tc, test_greedy_keeps_input_views_out);
  tcase_add_test(tc, test_alignment);
  suite_add_tcase(s, tc);
  tc = tcase_create("alias");
  tcase_add_test(tc, test_inplace_relu);
  tcase_add_test(tc, test_no_inplace_when_read_later);
  tcase_add_test(tc, test_no_inplace_on_input_or_output);
  tcase_add_test(tc, test_flatten_alias);
  tcase_add_test(tc, test_narrow_views);
  tcase_add_test(tc, test_narrow_copy);
  tcase_add_test(tc, test_narrow_of_input);
  tcase_add_test(tc, test_view_of_input);
  tcase_add_test(tc, test_inplace_through_view);
  suite_add_tcase(s, tc);
  tc = tcase_create("nets");
  tcase_add_test(tc, test_resnet50);
  suite_add_tcase(s, tc);
  tc = tcase_create("verify");
  tcase_add_test(tc, test_verify_overlap);
  tcase_add_test(tc, test_verify_alignment);
  tcase_add_test(tc, test_verify_order);
  tcase_add_test(tc, test_verify_alias);
  suite_add_tcase(s, tc);
  return s;
}
