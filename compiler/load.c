// load.c -- reads the main file and its imports into a Program.
//
// Imports are searched next to the importing file, then in the -I
// directories. Each file is parsed once (keyed by its canonical path); a
// cycle is an error that shows the chain. All definitions share one flat
// namespace; a duplicate is an error citing both places.
#include "netc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IMPORT_DEPTH 64

// Cleared by the fuzzer, whose inputs must not read arbitrary files.
bool load_allow_imports = true;

typedef struct Loader {
  Program *p;
  const char **dirs; int ndirs;
  const char **done; int ndone, capdone;     // canonical paths parsed
  const char *stack[MAX_IMPORT_DEPTH]; int nstack; // canonical paths being loaded
  Loc stack_loc[MAX_IMPORT_DEPTH];
  bool ok;
} Loader;

Def *find_def(Program *p, const char *name) {
  for (int i = 0; i < p->ndefs; i++)
    if (p->defs[i]->name == name)
      return p->defs[i];
  return NULL;
}

static void add_defs(Loader *ld, Module *m) {
  Program *p = ld->p;
  for (int i = 0; i < m->nitems; i++) {
    Node *it = m->items[i];
    if (it->kind == I_IMPORT)
      continue;
    Def *old = find_def(p, it->str);
    if (old) {
      error_at(it->loc, "'%s' is defined twice", it->str);
      note_at(old->node->loc, "the first definition is here");
      ld->ok = false;
      continue;
    }
    if (find_op(it->str) || strcmp(it->str, "range") == 0) {
      error_at(it->loc, "'%s' is the name of a built-in; choose another name", it->str);
      ld->ok = false;
      continue;
    }
    Def *d = xalloc(sizeof *d);
    d->name = it->str;
    d->node = it;
    p->defs = grow(p->defs, &p->capdefs, p->ndefs + 1, sizeof *p->defs);
    p->defs[p->ndefs++] = d;
  }
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return xstrdup(".");
  if (slash == path)
    return xstrdup("/");
  return xstrndup(path, (size_t)(slash - path));
}

static void load_file(Loader *ld, const char *name, const char *canon, const char *text, size_t len, Loc from);

static void load_imports(Loader *ld, Module *m) {
  char *here = dir_of(m->file->name);
  for (int i = 0; i < m->nitems; i++) {
    Node *it = m->items[i];
    if (it->kind != I_IMPORT)
      continue;
    if (!load_allow_imports) {
      error_at(it->loc, "imports are disabled here");
      ld->ok = false;
      continue;
    }
    // Try the importing file's directory, then each -I directory.
    const char *found = NULL;
    char canon[PATH_MAX];
    if (it->str[0] == '/') {
      if (access(it->str, R_OK) == 0)
        found = it->str;
    } else {
      // Next to the importing file ("lib/x.net", not "./lib/x.net", in messages).
      const char *cand = strcmp(here, ".") == 0 ? it->str : format("%s/%s", here, it->str);
      if (access(cand, R_OK) == 0)
        found = cand;
      for (int d = 0; !found && d < ld->ndirs; d++) {
        cand = format("%s/%s", ld->dirs[d], it->str);
        if (access(cand, R_OK) == 0)
          found = cand;
      }
    }
    if (!found || !realpath(found, canon)) {
      error_at(it->loc, "cannot find imported file \"%s\"", it->str);
      note_at(it->loc, "searched %s/%s%s", here, it->str, ld->ndirs ? " and the -I directories" : "");
      ld->ok = false;
      continue;
    }
    bool cycle = false;
    for (int s = 0; s < ld->nstack; s++)
      if (strcmp(ld->stack[s], canon) == 0) {
        error_at(it->loc, "import cycle: \"%s\" is already being imported", it->str);
        for (int t = ld->nstack - 1; t > s; t--)
          note_at(ld->stack_loc[t], "imported from here");
        ld->ok = false;
        cycle = true;
        break;
      }
    if (cycle)
      continue;
    bool seen = false;
    for (int d = 0; d < ld->ndone; d++)
      if (strcmp(ld->done[d], canon) == 0)
        seen = true;
    if (seen)
      continue;
    size_t n;
    const char *err;
    char *text = read_file(found, &n, &err);
    if (!text) {
      error_at(it->loc, "cannot read imported file \"%s\": %s", it->str, err);
      ld->ok = false;
      continue;
    }
    load_file(ld, found, xstrdup(canon), text, n, it->loc);
  }
}

static void load_file(Loader *ld, const char *name, const char *canon, const char *text, size_t len, Loc from) {
  if (ld->nstack >= MAX_IMPORT_DEPTH) {
    error_at(from, "imports nested too deeply (limit %d)", MAX_IMPORT_DEPTH);
    ld->ok = false;
    return;
  }
  ld->done = grow(ld->done, &ld->capdone, ld->ndone + 1, sizeof *ld->done);
  ld->done[ld->ndone++] = canon;
  SrcFile *f = new_srcfile(name, text, len);
  Module *m = parse_source(f);
  if (!m) {
    ld->ok = false;
    return;
  }
  Program *p = ld->p;
  p->mods = xrealloc(p->mods, (size_t)p->nmods * sizeof *p->mods, (size_t)(p->nmods + 1) * sizeof *p->mods);
  p->mods[p->nmods++] = m;
  ld->stack[ld->nstack] = canon;
  ld->stack_loc[ld->nstack] = from;
  ld->nstack++;
  load_imports(ld, m);
  ld->nstack--;
  add_defs(ld, m);
}

Program *load_program(const char *path, const char *text, size_t len, const char **dirs, int ndirs) {
  Loader ld = {0};
  ld.p = xalloc(sizeof *ld.p);
  ld.dirs = dirs;
  ld.ndirs = ndirs;
  ld.ok = true;
  char canon[PATH_MAX];
  const char *c = realpath(path, canon) ? xstrdup(canon) : path;
  Loc none = {0};
  load_file(&ld, path, c, text, len, none);
  return ld.ok && diag_error_count() == 0 ? ld.p : NULL;
}

int program_nets(Program *p, const char ***names) {
  int n = 0;
  const char **out = xalloc((size_t)(p->nmods && p->mods[0]->nitems ? p->mods[0]->nitems : 1) * sizeof *out);
  if (p->nmods)
    for (int i = 0; i < p->mods[0]->nitems; i++)
      if (p->mods[0]->items[i]->kind == I_NET)
        out[n++] = p->mods[0]->items[i]->str;
  *names = out;
  return n;
}
