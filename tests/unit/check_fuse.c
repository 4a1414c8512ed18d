// check_fuse.c -- which layers are folded or fused into their producer.
#include "testutil.h"

static Graph *compile_ok(const char *src) {
  Graph *g = tu_compile(src);
  if (!g) {
    tu_dump();
    ck_abort_msg("expected the program to compile");
  }
  return g;
}

START_TEST(test_conv_bn_relu) {
  Graph *g = compile_ok("net n(x: [1, 3, 8, 8]) {\n"
                        "  return x -> @c conv2d(4, 3, bias=false) -> @bn batchnorm2d -> @r relu -> @p maxpool2d(2);\n"
                        "}\n");
  Layer *c = tu_layer(g, "c"), *bn = tu_layer(g, "bn"), *r = tu_layer(g, "r"), *p = tu_layer(g, "p");
  ck_assert_ptr_eq(c->fold_bn, bn);
  ck_assert_ptr_eq(c->act, r);
  ck_assert_ptr_eq(bn->fused_into, c);
  ck_assert_ptr_eq(r->fused_into, c);
  ck_assert_ptr_null(p->fused_into);
  // Absorbed layers share the producer's memory.
  ck_assert_int_eq(bn->offset, c->offset);
  ck_assert_int_eq(r->offset, c->offset);
}
END_TEST

START_TEST(test_not_across_observers) {
  // c is read twice: its BN cannot be folded (the skip needs c itself).
  Graph *g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                        "  c = x -> @c conv2d(4, 3, padding=1);\n"
                        "  y = c -> @bn batchnorm2d;\n"
                        "  return y + c;\n"
                        "}\n");
  ck_assert_ptr_null(tu_layer(g, "c")->fold_bn);
  ck_assert_ptr_null(tu_layer(g, "bn")->fused_into);
  // A net output is observed too: relu after it is not fused.
  g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                 "  c = x -> @c conv2d(4, 3);\n"
                 "  return c, c -> @r relu;\n"
                 "}\n");
  ck_assert_ptr_null(tu_layer(g, "c")->act);
  // BN after a pool, or after a conv_transpose, stays a layer of its own.
  g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                 "  return x -> @p maxpool2d(2) -> @bn batchnorm2d -> @t conv_transpose2d(2, 2, stride=2)\n"
                 "           -> @bn2 batchnorm2d;\n"
                 "}\n");
  ck_assert_ptr_null(tu_layer(g, "bn")->fused_into);
  ck_assert_ptr_null(tu_layer(g, "bn2")->fused_into);
}
END_TEST

START_TEST(test_bn_after_linear_not_folded) {
  // A linear on a 4-D tensor maps its last axis; batchnorm2d normalises axis
  // 1. Folding one into the other scaled the wrong axis (and, with more
  // output features than channels, read past the norm's statistics).
  const char *srcs[] = {
      "net g(x: [1, 2, 1, 3]) { return x -> @l linear(2) -> @bn batchnorm2d; }\n",
      "net g(x: [1, 2, 3, 5]) { return x -> @l linear(100) -> @bn batchnorm2d; }\n",
      "net g(x: [1, 4, 3, 4]) { return x -> @l linear(4) -> @bn batchnorm2d -> @r relu; }\n",
  };
  for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
    Graph *g = compile_ok(srcs[i]);
    ck_assert_ptr_null(tu_layer(g, "l")->fold_bn);
    ck_assert_ptr_null(tu_layer(g, "bn")->fused_into);
  }
  // The batch norm stays a layer; the activation after it is its own too.
  Graph *g = compile_ok(srcs[2]);
  ck_assert_ptr_null(tu_layer(g, "r")->fused_into);
}
END_TEST

START_TEST(test_add_relu_and_linear) {
  Graph *g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                        "  y = x -> @c conv2d(4, 3, padding=1) -> @a relu6;\n"
                        "  z = y + x -> @r relu;\n"
                        "  return z -> flatten -> @l linear(10) -> @s sigmoid -> @d dropout(0.1);\n"
                        "}\n");
  ck_assert_ptr_eq(tu_layer(g, "c")->act, tu_layer(g, "a"));
  Layer *r = tu_layer(g, "r");
  ck_assert_int_eq(r->in[0]->op, OP_ADD);
  ck_assert_ptr_eq(r->in[0]->act, r);
  ck_assert_ptr_eq(tu_layer(g, "l")->act, tu_layer(g, "s"));
  ck_assert_ptr_null(tu_layer(g, "d")->fused_into); // a view, not an activation
  // Only one activation per kernel: relu after relu stays separate.
  g = compile_ok("net n(x: [1, 4]) { return x -> @l linear(3) -> @r1 relu -> @r2 relu; }\n");
  ck_assert_ptr_eq(tu_layer(g, "l")->act, tu_layer(g, "r1"));
  ck_assert_ptr_null(tu_layer(g, "r2")->fused_into);
}
END_TEST

START_TEST(test_residual_add) {
  // Identity shortcut: the add (and the relu after it) join conv b's epilogue.
  Graph *g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                        "  y = x -> @a conv2d(4, 3, padding=1) -> @r1 relu -> @b conv2d(4, 3, padding=1) -> @bn batchnorm2d;\n"
                        "  return y + x -> @r2 relu;\n"
                        "}\n");
  Layer *b = tu_layer(g, "b"), *r2 = tu_layer(g, "r2");
  Layer *add = r2->in[0];
  ck_assert_int_eq(add->op, OP_ADD);
  ck_assert_ptr_eq(b->residual, g->inputs[0]);
  ck_assert_ptr_eq(add->fused_into, b);
  ck_assert_ptr_eq(b->act, r2);
  ck_assert_int_eq(add->offset, b->offset);
  // The other operand must exist before the conv runs: here p is computed
  // after q's conv, so the add is fused into p's conv, with q as residual.
  g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                 "  q = x -> @q conv2d(4, 1);\n"
                 "  p = x -> @p conv2d(4, 1);\n"
                 "  return q + p;\n"
                 "}\n");
  ck_assert_ptr_null(tu_layer(g, "q")->residual);
  ck_assert_ptr_eq(tu_layer(g, "p")->residual, tu_layer(g, "q"));
  // Depthwise convs and convs read twice keep a separate add.
  g = compile_ok("net n(x: [1, 4, 8, 8]) {\n"
                 "  d = x -> @d conv2d(4, 3, padding=1, groups=4);\n"
                 "  c = x -> @c conv2d(4, 1);\n"
                 "  return d + x, c + x, c;\n"
                 "}\n");
  ck_assert_ptr_null(tu_layer(g, "d")->residual);
  ck_assert_ptr_null(tu_layer(g, "c")->residual);
}
END_TEST

Suite *make_fuse_suite(void) {
  Suite *s = suite_create("fuse");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_conv_bn_relu);
  tcase_add_test(tc, test_not_across_observers);
  tcase_add_test(tc, test_add_relu_and_linear);
  tcase_add_test(tc, test_bn_after_linear_not_folded);
  tcase_add_test(tc, test_residual_add);
  suite_add_tcase(s, tc);
  return s;
}
