// testutil.h -- compiling .net snippets in memory with diagnostics captured.
#ifndef NETC_TESTUTIL_H
#define NETC_TESTUTIL_H

#include <check.h>

#include "netc.h"

typedef struct Captured {
  DiagKind kind;
  int line, col;
  const char *msg;
} Captured;

// Diagnostics of the last tu_* call.
extern Captured tu_diags[256];
extern int tu_ndiags;

void tu_capture(void);                       // start capturing (resets)
Module *tu_parse(const char *src);           // parse only
Graph *tu_compile(const char *src);          // parse + elaborate the first net, then every pass
Graph *tu_compile_net(const char *src, const char *net, Define *defs, int ndefs);
Layer *tu_layer(Graph *g, const char *name); // by module name; NULL if none
// True if some captured error (kind D_ERROR) is at line and contains text.
bool tu_has_error(int line, const char *text);
bool tu_has_note(const char *text);
int tu_errors(void);
void tu_dump(void);                          // print captured diagnostics (debugging failures)
// A death test: runs fn(ctx) in a child process and asserts that it aborts
// (internal_error) with a message on stderr that contains invariant, the
// text of the violated assertion, so a test names what it expects to break.
void tu_expect_death(void (*fn)(void *ctx), void *ctx, const char *invariant);

#endif
