// parse.c -- runs the flex scanner and bison parser over one source file.
#include "netc.h"
#include "parse.h"
#include "parser.h"
#include "lexer.h"

#include <string.h>

SrcFile *new_srcfile(const char *name, const char *text, size_t len) {
  SrcFile *f = xalloc(sizeof *f);
  f->name = xstrdup(name);
  f->text = text;
  f->len = len;
  return f;
}

Module *parse_source(SrcFile *file) {
  LexState ls = {file, 1, 1};
  ParseCtx pc = {0};
  pc.file = file;
  pc.mod = xalloc(sizeof *pc.mod);
  pc.mod->file = file;

  yyscan_t scanner;
  if (netc_yylex_init_extra(&ls, &scanner) != 0)
    internal_error(__FILE__, __LINE__, "cannot create scanner");
  // scan_bytes copies the text, so embedded NUL bytes reach the lexer and
  // get a proper diagnostic instead of silently ending the file.
  YY_BUFFER_STATE buf = netc_yy_scan_bytes(file->text, (int)file->len, scanner);
  int before = diag_error_count();
  int rc = yyparse(scanner, &pc);
  netc_yy_delete_buffer(buf, scanner);
  netc_yylex_destroy(scanner);
  if (rc != 0 || pc.nerrors > 0 || diag_error_count() > before)
    return NULL;
  return pc.mod;
}
