// diag.c -- located diagnostics in the GCC/Clang format:
//
//   models/lenet.net:7:12: error: linear: in_features=400 was stated but the input has 256
//       7 |         -> linear(120, in_features=400)
//         |            ^~~~~~
//
// Everything goes through diag(); a test can install a consumer to collect
// messages instead of printing them (nvc's diag_set_consumer).
#include "netc.h"

#include <stdlib.h>
#include <string.h>

int diag_max_errors = 50;
bool diag_color;

static DiagConsumer *consumer;
static void *consumer_ctx;
static int nerrors;
static bool suppressed; // past diag_max_errors: stay quiet, keep counting

void diag_set_consumer(DiagConsumer *fn, void *ctx) {
  consumer = fn;
  consumer_ctx = ctx;
}

int diag_error_count(void) { return nerrors; }

void diag_reset(void) {
  nerrors = 0;
  suppressed = false;
}

static const char *kind_name[] = {"error", "warning", "note"};
static const char *kind_color[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};

// Prints the source line of loc with a caret and tildes under the token.
static void print_source_line(Loc loc) {
  const char *text = loc.file->text;
  const char *p = text;
  for (int l = 1; l < loc.line && *p; p++)
    if (*p == '\n')
      l++;
  const char *end = p;
  while (*end && *end != '\n')
    end++;
  int n = (int)(end - p);
  fprintf(stderr, "%5d | ", loc.line);
  for (int i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    // Tabs keep the caret aligned; control bytes would corrupt the terminal.
    fputc(c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : c, stderr);
  }
  fputs("\n      | ", stderr);
  int col = loc.col < 1 ? 1 : loc.col;
  for (int i = 1; i < col; i++)
    fputc(' ', stderr);
  if (diag_color)
    fputs("\033[1;32m", stderr);
  fputc('^', stderr);
  int len = loc.len;
  if (col - 1 + len > n)
    len = n - (col - 1);
  for (int i = 1; i < len; i++)
    fputc('~', stderr);
  if (diag_color)
    fputs("\033[0m", stderr);
  fputc('\n', stderr);
}

static void vdiag(DiagKind kind, Loc loc, const char *fmt, va_list ap) {
  if (kind == D_ERROR)
    nerrors++;
  if (suppressed)
    return;
  char *msg;
  {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    msg = xalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
  }
  if (consumer) {
    consumer(kind, loc, msg, consumer_ctx);
  } else {
    if (diag_color)
      fputs("\033[1m", stderr);
    if (loc.file)
      fprintf(stderr, "%s:%d:%d: ", loc.file->name, loc.line, loc.col);
    else
      fputs("netc: ", stderr);
    if (diag_color)
      fprintf(stderr, "%s%s:\033[0m\033[1m %s\033[0m\n", kind_color[kind], kind_name[kind], msg);
    else
      fprintf(stderr, "%s: %s\n", kind_name[kind], msg);
    if (loc.file && loc.line > 0)
      print_source_line(loc);
  }
  free(msg);
  if (kind == D_ERROR && nerrors >= diag_max_errors) {
    suppressed = true;
    if (!consumer)
      fprintf(stderr, "netc: too many errors (%d), stopping\n", nerrors);
  }
}

void diag(DiagKind kind, Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(kind, loc, fmt, ap);
  va_end(ap);
}

void error_at(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(D_ERROR, loc, fmt, ap);
  va_end(ap);
}

void note_at(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(D_NOTE, loc, fmt, ap);
  va_end(ap);
}

void diag_plain(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Loc none = {0};
  vdiag(D_ERROR, none, fmt, ap);
  va_end(ap);
}
