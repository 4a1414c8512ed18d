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

// netc reads UTF-8 text. The first invalid byte is reported with its
// position (a UTF-16 file starts with 0xff 0xfe, a binary file anywhere).
static bool check_utf8(SrcFile *f) {
  int line = 1, col = 1;
  for (size_t i = 0; i < f->len;) {
    if (f->text[i] == '\0') {
      // One message for a binary file, not one per byte.
      error_at((Loc){f, line, col, 1}, "NUL byte at offset %zu: this is not a text file", i);
      return false;
    }
    size_t n = utf8_len(f->text + i, f->len - i);
    if (n == 0) {
      error_at((Loc){f, line, col, 1}, "invalid UTF-8 byte 0x%02x: netc reads UTF-8 text",
               (unsigned char)f->text[i]);
      return false;
    }
    if (f->text[i] == '\n')
      line++, col = 1;
    else
      col++;
    i += n;
  }
  return true;
}

Module *parse_source(SrcFile *file) {
  if (!check_utf8(file))
    return NULL;
  LexState ls = {0};
  ls.file = file;
  ls.line = ls.col = 1;
  ParseCtx pc = {0};
  pc.file = file;
  pc.ls = &ls;
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
