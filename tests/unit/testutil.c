// testutil.c -- see testutil.h.
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

Captured tu_diags[256];
int tu_ndiags;

static void consume(DiagKind kind, Loc loc, const char *msg, void *ctx) {
  (void)ctx;
  if (tu_ndiags < 256)
    tu_diags[tu_ndiags++] = (Captured){kind, loc.line, loc.col, xstrdup(msg)};
}

void tu_capture(void) {
  tu_ndiags = 0;
  diag_reset();
  diag_set_consumer(consume, NULL);
}

Module *tu_parse(const char *src) {
  tu_capture();
  SrcFile *f = new_srcfile("test.net", xstrdup(src), strlen(src));
  return parse_source(f);
}

Graph *tu_compile_net(const char *src, const char *net, Define *defs, int ndefs) {
  tu_capture();
  Program *p = load_program("test.net", xstrdup(src), strlen(src), NULL, 0);
  if (!p)
    return NULL;
  const char **nets;
  int n = program_nets(p, &nets);
  if (!net) {
    if (n == 0)
      return NULL;
    net = nets[0];
  }
  Graph *g = elaborate(p, net, defs, ndefs);
  if (!g)
    return NULL;
  fill_rf(g);
  fill_cost(g);
  fill_fusion(g);
  fill_lowering(g);
  fill_memplan(g);
  verify_graph(g);
  return g;
}

Graph *tu_compile(const char *src) { return tu_compile_net(src, NULL, NULL, 0); }

Layer *tu_layer(Graph *g, const char *name) {
  for (int i = 0; i < g->nlayers; i++)
    if (strcmp(g->layers[i]->name, name) == 0)
      return g->layers[i];
  return NULL;
}

bool tu_has_error(int line, const char *text) {
  for (int i = 0; i < tu_ndiags; i++)
    if (tu_diags[i].kind == D_ERROR && tu_diags[i].line == line && strstr(tu_diags[i].msg, text))
      return true;
  return false;
}

bool tu_has_note(const char *text) {
  for (int i = 0; i < tu_ndiags; i++)
    if (tu_diags[i].kind == D_NOTE && strstr(tu_diags[i].msg, text))
      return true;
  return false;
}

int tu_errors(void) {
  int n = 0;
  for (int i = 0; i < tu_ndiags; i++)
    n += tu_diags[i].kind == D_ERROR;
  return n;
}

void tu_dump(void) {
  for (int i = 0; i < tu_ndiags; i++)
    fprintf(stderr, "  %d:%d: %s: %s\n", tu_diags[i].line, tu_diags[i].col,
            tu_diags[i].kind == D_ERROR ? "error" : tu_diags[i].kind == D_NOTE ? "note" : "warning",
            tu_diags[i].msg);
}

void tu_expect_death(void (*fn)(void *ctx), void *ctx, const char *invariant) {
  int fd[2];
  ck_assert_int_eq(pipe(fd), 0);
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fd[0]);
    dup2(fd[1], 2);
    fn(ctx);
    _exit(0); // survived: the parent reports it
  }
  close(fd[1]);
  char out[4096];
  size_t n = 0;
  ssize_t r;
  while ((r = read(fd[0], out + n, sizeof out - 1 - n)) > 0)
    n += (size_t)r;
  out[n] = '\0';
  close(fd[0]);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                "expected an abort naming '%s'; the child %s (stderr: %s)", invariant,
                WIFEXITED(status) ? "exited normally" : "died otherwise", out);
  ck_assert_msg(strstr(out, "internal error") && strstr(out, invariant),
                "the abort does not name the invariant '%s': %s", invariant, out);
}
