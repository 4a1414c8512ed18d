// check_report.c -- text, JSON and torch-style reports (report.c).
//
// Reports are written to a temporary file and read back. The JSON is checked
// with a strict little RFC 8259 recogniser below, then for a few keys and
// values; the torch lines are compared with the seed transcripts in
// tests/golden/torch/.
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "graphs.h"

typedef enum { R_TEXT, R_JSON, R_TORCH } ReportKind;

static char *capture(Graph *g, ReportKind kind, int depth) {
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  if (kind == R_TEXT)
    report_text(g, f, depth);
  else if (kind == R_JSON)
    report_json(g, f);
  else
    report_torch(g, f);
  long n = ftell(f);
  ck_assert_int_ge(n, 0);
  rewind(f);
  char *buf = xalloc((size_t)n + 1);
  ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return buf;
}

static Graph *passes(Graph *g) {
  tb_run_passes(g);
  return g;
}

//
// A strict JSON recogniser: true if p..end is exactly one JSON value.
//

static const char *json_value(const char *p);

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

static const char *json_string(const char *p) {
  if (*p++ != '"')
    return NULL;
  while (*p != '"') {
    if ((unsigned char)*p < 0x20)
      return NULL; // raw control characters (and the end of the text)
    if (*p++ != '\\')
      continue;
    if (*p == 'u') {
      for (int i = 1; i <= 4; i++)
        if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
          return NULL;
      p += 5;
    } else if (*p && strchr("\"\\/bfnrt", *p)) {
      p++;
    } else {
      return NULL;
    }
  }
  return p + 1;
}

static const char *digits(const char *p) {
  if (*p < '0' || *p > '9')
    return NULL;
  while (*p >= '0' && *p <= '9')
    p++;
  return p;
}

static const char *json_number(const char *p) {
  if (*p == '-')
    p++;
  if (*p == '0')
    p++;
  else if (!(p = digits(p)))
    return NULL;
  if (*p == '.' && !(p = digits(p + 1)))
    return NULL;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!(p = digits(p)))
      return NULL;
  }
  return p;
}

static const char *json_seq(const char *p, char close, bool object) {
  p = ws(p + 1);
  if (*p == close)
    return p + 1;
  for (;;) {
    if (object) {
      if (!(p = json_string(ws(p))))
        return NULL;
      p = ws(p);
      if (*p++ != ':')
        return NULL;
    }
    if (!(p = json_value(p)))
      return NULL;
    p = ws(p);
    if (*p == close)
      return p + 1;
    if (*p++ != ',')
      return NULL;
  }
}

static const char *json_value(const char *p) {
  p = ws(p);
  switch (*p) {
  case '{': return json_seq(p, '}', true);
  case '[': return json_seq(p, ']', false);
  case '"': return json_string(p);
  case 't': return strncmp(p, "true", 4) ? NULL : p + 4;
  case 'f': return strncmp(p, "false", 5) ? NULL : p + 5;
  case 'n': return strncmp(p, "null", 4) ? NULL : p + 4;
  default: return json_number(p);
  }
}

static bool json_valid(const char *s) {
  const char *end = json_value(s);
  return end && *ws(end) == '\0';
}

#define ck_assert_has(hay, needle) \
  ck_assert_msg(strstr(hay, needle), "missing: %s\n--- in ---\n%s", needle, hay)
#define ck_assert_lacks(hay, needle) \
  ck_assert_msg(!strstr(hay, needle), "unexpected: %s\n--- in ---\n%s", needle, hay)

START_TEST(test_json_recogniser) {
  ck_assert(json_valid("{\"a\": [1, -2.5e3, true, null, \"x\\n\\u00e9\"], \"b\": {}}"));
  ck_assert(!json_valid("{\"a\": 1,}"));
  ck_assert(!json_valid("{\"a\": 01}"));
  ck_assert(!json_valid("[\"tab\there\"]"));
  ck_assert(!json_valid("[1] 2"));
}
END_TEST

START_TEST(test_json_lenet) {
  char *s = capture(passes(tb_lenet()), R_JSON, -1);
  ck_assert_msg(json_valid(s), "invalid JSON:\n%s", s);
  ck_assert_has(s, "\"netc\": \"0.1.0\"");
  ck_assert_has(s, "\"net\": \"lenet\"");
  ck_assert_has(s, "\"file\": \"test.net\"");
  ck_assert_has(s, "\"conventions\": {\"params\": \"");
  ck_assert_has(s, ", \"kernel\": \"direct\"}"); // LeNet's 5x5 convs: read in place, no packing panels
  ck_assert_has(s, ", \"kernel\": \"view\"}");   // flatten
  ck_assert_has(s, "{\"name\": \"x\", \"shape\": [1, 1, 28, 28]}");
  ck_assert_has(s, "\"outputs\": [\n    {\"layer\": 12, \"shape\": [1, 10]}");
  ck_assert_has(s, "{\"id\": 0, \"name\": \"x\", \"op\": \"input\", \"torch\": null, "
                   "\"scope\": \"\", \"depth\": 0, \"inputs\": [], \"shape\": [1, 1, 28, 28]");
  ck_assert_has(s, "{\"id\": 1, \"name\": \"0\", \"op\": \"conv2d\", \"torch\": \"Conv2d\", "
                   "\"scope\": \"\", \"depth\": 0, \"inputs\": [0], \"shape\": [1, 6, 28, 28], "
                   "\"params\": 156, \"buffers\": 0, \"macs\": 117600, \"flops\": 239904, "
                   "\"bytes\": 18816, \"offset\": 0, \"alias\": -1, "
                   "\"rf\": {\"size\": [5, 5], \"jump\": [1, 1], \"start\": [0, 0], "
                   "\"global\": false}, \"loc\": \"test.net:2:5\", \"kernel\": \"direct\"}");
  ck_assert_has(s, "\"alias\": 1, \"rf\""); // sigmoid runs in place over conv 0
  ck_assert_has(s, "\"rf\": {\"size\": [16, 16], \"jump\": [4, 4], \"start\": [5.5, 5.5], "
                   "\"global\": false}");
  ck_assert_has(s, "\"rf\": {\"size\": [28, 28], \"jump\": [28, 28], \"start\": [13.5, 13.5], "
                   "\"global\": true}");
  ck_assert_has(s, "\"blocks\": []");
  ck_assert_has(s, "{\"name\": \"0.weight\", \"shape\": [6, 1, 5, 5], \"kind\": \"param\", "
                   "\"role\": \"weight\", \"dtype\": \"f32\", \"layer\": 1}");
  ck_assert_has(s, "{\"name\": \"11.bias\", \"shape\": [10], \"kind\": \"param\", "
                   "\"role\": \"bias\", \"dtype\": \"f32\", \"layer\": 12}");
  ck_assert_has(s, "\"totals\": {\"params\": 61706, \"buffers\": 0, \"macs\": 416520, "
                   "\"flops\": 852370, \"weight_bytes\": 246824, \"activation_bytes\": 60008, "
                   "\"arena_activation_bytes\": ");
}
END_TEST

// The arena's three figures in the JSON: the plan's activations, the
// kernels' scratch, and their sum, which is the buffer forward() takes.
START_TEST(test_json_arena_parts) {
  Graph *g = passes(tb_vgg11()); // GEMM convolutions: scratch > 0
  char *s = capture(g, R_JSON, -1);
  const Totals *t = &g->totals;
  long long act = -1, scr = -1, tot = -1;
  const char *p = strstr(s, "\"arena_activation_bytes\": ");
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(sscanf(p, "\"arena_activation_bytes\": %lld, \"arena_scratch_bytes\": %lld, "
                             "\"arena_total_bytes\": %lld", &act, &scr, &tot), 3);
  ck_assert_int_gt(scr, 0);
  ck_assert_int_eq(act + scr, tot);
  ck_assert_int_eq(tot, t->arena_floats * 4);
  ck_assert_int_ge(act, t->arena_bytes);
  ck_assert_int_ge(scr, t->scratch_floats * 4);
  ck_assert_ptr_null(strstr(s, "\"arena_bytes\"")); // the old, ambiguous name is gone
}
END_TEST

// Block rows, BN buffers, fractional jumps, and escaping.
START_TEST(test_json_details) {
  char *s = capture(passes(tb_vgg11()), R_JSON, -1);
  ck_assert(json_valid(s));
  ck_assert_has(s, "{\"name\": \"0\", \"block\": \"vgg_block\", \"depth\": 1, \"first\": 1, "
                   "\"last\": 3, \"shape\": [1, 64, 112, 112], \"params\": 640, "
                   "\"macs\": 28901376, \"flops\": ");
  ck_assert_has(s, "\"name\": \"0.0\", \"op\": \"conv2d\", \"torch\": \"Conv2d\", "
                   "\"scope\": \"0\", \"depth\": 1");

  Builder *b = tb_new("we\"ird\\net\n");
  Layer *x = tb_input(b, "x\t1", 1, 4, 7, 7);
  tb_label(b, "\x01" "bn");
  Layer *bn = tb_bn(b, x);
  Layer *up = tb_convt(b, bn, 4, 3, 2, 1, true);
  Layer *up2 = tb_convt(b, up, 4, 3, 2, 0, false);
  Layer *ad = tb_adaptive(b, up2, 3, 3);
  tb_output(b, ad);
  s = capture(passes(tb_finish(b)), R_JSON, -1);
  ck_assert_msg(json_valid(s), "invalid JSON:\n%s", s);
  ck_assert_has(s, "\"net\": \"we\\\"ird\\\\net\\n\"");
  ck_assert_has(s, "\"name\": \"x\\t1\"");
  ck_assert_has(s, "\"name\": \"\\u0001bn.num_batches_tracked\", \"shape\": [], "
                   "\"kind\": \"buffer\", \"role\": \"counter\", \"dtype\": \"i64\"");
  ck_assert_has(s, "\"name\": \"\\u0001bn.running_var\", \"shape\": [4], \"kind\": \"buffer\", "
                   "\"role\": \"running_var\", \"dtype\": \"f32\"");
  ck_assert_has(s, "\"params\": 8, \"buffers\": 8,");
  ck_assert_has(s, "\"jump\": [0.5, 0.5], \"start\": [0, 0]");
  ck_assert_has(s, "\"jump\": [0.25, 0.25], \"start\": [-0.25, -0.25]");
  // 27 -> 3 divides: k = s = 9 at jump 0.25
  ck_assert_has(s, "\"size\": [4.5, 4.5], \"jump\": [2.25, 2.25], \"start\": [0.75, 0.75]");
}
END_TEST

// Adaptive pooling with a fractional stride: 7/3 needs all 17 digits.
START_TEST(test_json_fraction) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 1, 7, 7);
  tb_output(b, tb_adaptive(b, x, 3, 3));
  char *s = capture(passes(tb_finish(b)), R_JSON, -1);
  ck_assert(json_valid(s));
  ck_assert_has(s, "\"jump\": [2.3333333333333335, 2.3333333333333335]");
}
END_TEST

// Returns the lines of s between the table's header and the blank line.
static int table_lines(char *s, char **lines, int max) {
  char *p = strstr(s, "\nlayer ");
  ck_assert_ptr_nonnull(p);
  p++;
  int n = 0;
  while (*p && *p != '\n' && n < max) {
    char *e = strchr(p, '\n');
    ck_assert_ptr_nonnull(e);
    *e = '\0';
    lines[n++] = p;
    p = e + 1;
  }
  return n;
}

START_TEST(test_text_lenet) {
  char *s = capture(passes(tb_lenet()), R_TEXT, -1);
  ck_assert_has(s, "netc 0.1.0  net lenet  file test.net\n");
  ck_assert_has(s, "input x [1, 1, 28, 28]\n");
  ck_assert_has(s, "MACs: multiply-accumulates of conv, conv_transpose, linear and matmul, bias excluded");
  ck_assert_has(s, "darknet BFLOPs = 2*MACs/1e9");
  ck_assert_has(s, "\ntotals\n");
  ck_assert_has(s, "61,706  (61.7 K)\n");
  ck_assert_has(s, "416,520  (417 K)\n");
  ck_assert_has(s, "852,370  (852 K)\n");
  ck_assert_has(s, "246,824  (241.0 KiB)\n");
  ck_assert_has(s, "\n  activations (arena plan)  23,552  (23.0 KiB)\n");
  // The direct kernel's padded copy of conv 3's input (netc_direct_scratch_floats).
  ck_assert_has(s, "\n  kernel scratch             4,992  (4.9 KiB)\n");
  ck_assert_has(s, "\n  arena total               28,544  (27.9 KiB, = LENET_ARENA_BYTES)\n");

  char *copy = xstrdup(s);
  char *lines[64];
  int n = table_lines(copy, lines, 64);
  ck_assert_int_eq(n, 2 + 12); // header, rule, 12 layers (the input is in the header)
  for (int i = 1; i < n; i++)
    ck_assert_msg(strlen(lines[i]) == strlen(lines[0]), "ragged line: '%s'", lines[i]);
  // the columns start where the titles do
  size_t op_col = (size_t)(strstr(lines[0], "op ") - lines[0]);
  size_t out_col = (size_t)(strstr(lines[0], "output") - lines[0]);
  ck_assert_str_eq(lines[2] + op_col,
                   "conv2d 5x5 p2    [1, 6, 28, 28]      156  117,600       5     1");
  ck_assert(strncmp(lines[4] + op_col, "avgpool2d 2x2/2", 15) == 0);
  ck_assert(strncmp(lines[11] + out_col, "[1, 84]", 7) == 0); // lines[k]: layer k-1
  ck_assert_has(s, "linear 400->120");
  ck_assert_has(s, "global     -\n");
}
END_TEST

// Labels may be any string: columns are counted in characters, not bytes.
START_TEST(test_text_utf8) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 1, 8, 8);
  tb_label(b, "caf\xc3\xa9");
  x = tb_conv(b, x, 2, 3, 1, 1, 1, 1, true);
  tb_label(b, "pool");
  x = tb_pool(b, OP_MAXPOOL2D, x, 2, 2, 0);
  tb_output(b, x);
  char *s = capture(passes(tb_finish(b)), R_TEXT, -1);
  char *lines[8];
  int n = table_lines(s, lines, 8);
  ck_assert_int_eq(n, 4);
  ck_assert_str_eq(lines[2],
                   "caf\xc3\xa9   conv2d 3x3 p1    [1, 2, 8, 8]      20  1,152   3     1");
  ck_assert_str_eq(lines[3], "pool   maxpool2d 2x2/2  [1, 2, 4, 4]       -      -   4     2");
}
END_TEST

START_TEST(test_text_depth) {
  Graph *g = passes(tb_resnet50());
  char *all = capture(g, R_TEXT, -1);
  ck_assert_has(all, "\nlayer1 ");
  ck_assert_has(all, "\n  layer1.0 ");
  ck_assert_has(all, "\n    layer1.0.conv1 ");
  ck_assert_has(all, "\n    layer1.0.downsample ");
  ck_assert_has(all, "\n      layer1.0.downsample.0 ");
  ck_assert_has(all, "\nconv1 ");
  ck_assert_has(all, "\nfc ");
  ck_assert_has(all, "25,557,032  (25.6 M)\n");
  ck_assert_has(all, "4,089,184,256  (4.09 G)\n");
  ck_assert_has(all, "\n  buffers ");

  char *d1 = capture(g, R_TEXT, 1);
  ck_assert_has(d1, "\nlayer4 ");
  ck_assert_has(d1, "\nfc ");
  ck_assert_lacks(d1, "\nlayer1.0");
  ck_assert_lacks(d1, "\n  layer1.0");
  // layer1 (3 bottlenecks): 215,808 params; its row shows the collapsed totals
  ck_assert_has(d1, "res_stage");
  ck_assert_has(d1, "215,808");

  char *d2 = capture(g, R_TEXT, 2);
  ck_assert_has(d2, "\n  layer1.0 ");
  ck_assert_lacks(d2, "layer1.0.conv1");

  char *d0 = capture(g, R_TEXT, 0);
  ck_assert_lacks(d0, "\nlayer ");
  ck_assert_lacks(d0, "conv1");
  ck_assert_has(d0, "\ntotals\n");
  ck_assert_has(d0, "25,557,032");
}
END_TEST

static const char lenet_torch[] =
    "Conv2d output shape:\t torch.Size([1, 6, 28, 28])\n"
    "Sigmoid output shape:\t torch.Size([1, 6, 28, 28])\n"
    "AvgPool2d output shape:\t torch.Size([1, 6, 14, 14])\n"
    "Conv2d output shape:\t torch.Size([1, 16, 10, 10])\n"
    "Sigmoid output shape:\t torch.Size([1, 16, 10, 10])\n"
    "AvgPool2d output shape:\t torch.Size([1, 16, 5, 5])\n"
    "Flatten output shape:\t torch.Size([1, 400])\n"
    "Linear output shape:\t torch.Size([1, 120])\n"
    "Sigmoid output shape:\t torch.Size([1, 120])\n"
    "Linear output shape:\t torch.Size([1, 84])\n"
    "Sigmoid output shape:\t torch.Size([1, 84])\n"
    "Linear output shape:\t torch.Size([1, 10])\n";

static const char vgg11_torch[] =
    "Sequential output shape:\t torch.Size([1, 64, 112, 112])\n"
    "Sequential output shape:\t torch.Size([1, 128, 56, 56])\n"
    "Sequential output shape:\t torch.Size([1, 256, 28, 28])\n"
    "Sequential output shape:\t torch.Size([1, 512, 14, 14])\n"
    "Sequential output shape:\t torch.Size([1, 512, 7, 7])\n"
    "Flatten output shape:\t torch.Size([1, 25088])\n"
    "Linear output shape:\t torch.Size([1, 4096])\n"
    "ReLU output shape:\t torch.Size([1, 4096])\n"
    "Dropout output shape:\t torch.Size([1, 4096])\n"
    "Linear output shape:\t torch.Size([1, 4096])\n"
    "ReLU output shape:\t torch.Size([1, 4096])\n"
    "Dropout output shape:\t torch.Size([1, 4096])\n"
    "Linear output shape:\t torch.Size([1, 10])\n";

START_TEST(test_torch) {
  ck_assert_str_eq(capture(passes(tb_lenet()), R_TORCH, -1), lenet_torch);
  ck_assert_str_eq(capture(passes(tb_vgg11()), R_TORCH, -1), vgg11_torch);
}
END_TEST

// Net-level non-module ops (the add) print nothing; blocks print their
// returned tensor.
START_TEST(test_torch_skips_functional) {
  Builder *b = tb_new("t");
  Layer *x = tb_input(b, "x", 1, 4, 8, 8);
  tb_begin(b, "pair");
  Layer *c = tb_conv(b, x, 4, 3, 1, 1, 1, 1, true);
  Layer *p = tb_pool(b, OP_MAXPOOL2D, c, 2, 2, 0);
  tb_end(b, c);
  (void)p;
  Layer *y = tb_binary(b, OP_ADD, c, x);
  Layer *r = tb_unary(b, OP_RELU, y);
  tb_output(b, r);
  ck_assert_str_eq(capture(passes(tb_finish(b)), R_TORCH, -1),
                   "Sequential output shape:\t torch.Size([1, 4, 8, 8])\n"
                   "ReLU output shape:\t torch.Size([1, 4, 8, 8])\n");
}
END_TEST

Suite *make_report_suite(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("json");
  tcase_add_test(tc, test_json_recogniser);
  tcase_add_test(tc, test_json_lenet);
  tcase_add_test(tc, test_json_arena_parts);
  tcase_add_test(tc, test_json_details);
  tcase_add_test(tc, test_json_fraction);
  suite_add_tcase(s, tc);
  tc = tcase_create("text");
  tcase_add_test(tc, test_text_lenet);
  tcase_add_test(tc, test_text_utf8);
  tcase_add_test(tc, test_text_depth);
  suite_add_tcase(s, tc);
  tc = tcase_create("torch");
  tcase_add_test(tc, test_torch);
  tcase_add_test(tc, test_torch_skips_functional);
  suite_add_tcase(s, tc);
  return s;
}
