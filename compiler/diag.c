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
unsigned diag_warnings = W_UNUSED | W_SAME_PADDING;
bool diag_werror;

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
// Columns count UTF-8 characters (as the lexer does); control and invalid
// bytes print as '?' so a hostile file cannot corrupt the terminal.
static void print_source_line(Loc loc) {
  const char *text = loc.file->text;
  size_t len = loc.file->len, i = 0;
  for (int l = 1; l < loc.line && i < len; i++)
    if (text[i] == '\n')
      l++;
  size_t end = i;
  while (end < len && text[end] != '\n')
    end++;
  fprintf(stderr, "%5d | ", loc.line - loc.file->line_base);
  // A very long line (generated code) is shown as a window around the caret.
  int col = loc.col < 1 ? 1 : loc.col;
  int skip = col > 100 ? col - 60 : 0;
  for (int c = 0; c < skip && i < end; i++)
    if (((unsigned char)text[i] & 0xC0) != 0x80)
      c++;
  while (i < end && ((unsigned char)text[i] & 0xC0) == 0x80)
    i++;
  if (skip) {
    fputs("...", stderr);
    col = col - skip + 3;
  }
  int nchars = skip ? 3 : 0;
  for (size_t k = i; k < end && nchars < col + 100; k++) {
    unsigned char c = (unsigned char)text[k];
    if (c >= 0x80) {
      size_t n = utf8_len(text + k, end - k);
      if (n)
        fwrite(text + k, 1, n, stderr), k += n - 1;
      else
        fputc('?', stderr); // invalid UTF-8 (the error being reported, probably)
      nchars++;
      continue;
    }
    fputc(c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : c, stderr);
    nchars++;
  }
  if (nchars >= col + 100)
    fputs("...", stderr);
  fputs("\n      | ", stderr);
  for (int k = 1; k < col; k++)
    fputc(' ', stderr);
  if (diag_color)
    fputs("\033[1;32m", stderr);
  fputc('^', stderr);
  int n = loc.len;
  if (col - 1 + n > nchars)
    n = nchars - (col - 1);
  for (int k = 1; k < n; k++)
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
  // A -D value is parsed with a ';' the user never typed after it, so a
  // syntax error past the value's line can only mean the value ended early:
  // it is shown, and worded, at the end of what was typed.
  if (loc.file && loc.file->last_line > 0 && loc.line > loc.file->last_line) {
    const char *t = loc.file->text;
    size_t i = 0;
    for (int l = 1; l < loc.file->last_line && i < loc.file->len; i++)
      if (t[i] == '\n')
        l++;
    int col = 1;
    for (; i < loc.file->len && t[i] != '\n'; i++)
      col += ((unsigned char)t[i] & 0xC0) != 0x80;
    loc.line = loc.file->last_line, loc.col = col, loc.len = 1;
    if (strncmp(msg, "syntax error", 12) == 0)
      msg = "the value ends too early";
  }
  if (consumer) {
    consumer(kind, loc, msg, consumer_ctx);
  } else {
    if (diag_color)
      fputs("\033[1m", stderr);
    if (loc.file)
      fprintf(stderr, "%s:%d:%d: ", loc.file->name, loc.line - loc.file->line_base, loc.col);
    else
      fputs("netc: ", stderr);
    if (diag_color)
      fprintf(stderr, "%s%s:\033[0m\033[1m %s\033[0m\n", kind_color[kind], kind_name[kind], msg);
    else
      fprintf(stderr, "%s: %s\n", kind_name[kind], msg);
    if (loc.file && loc.line > 0)
      print_source_line(loc);
  }
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

void warning_at(WarnKind w, Loc loc, const char *fmt, ...) {
  if (!(diag_warnings & w))
    return;
  const char *name = w == W_UNUSED ? "unused" : "same-padding";
  va_list ap;
  va_start(ap, fmt);
  char *msg = xalloc(1024);
  vsnprintf(msg, 1024, fmt, ap);
  va_end(ap);
  diag(diag_werror ? D_ERROR : D_WARNING, loc, "%s [-W%s%s]", msg, diag_werror ? "error=" : "", name);
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
