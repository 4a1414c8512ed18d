// parse.h -- shared between lexer.l, parser.y and parse.c (not used elsewhere).
#ifndef NETC_PARSE_H
#define NETC_PARSE_H

#include "netc.h"

// Scanner state, kept in flex's "extra" so the scanner has no statics.
#define MAX_BRACKETS 256

typedef struct Bracket {
  char c;               // '(', '[' or '{'
  int line, col;
} Bracket;

typedef struct LexState {
  SrcFile *file;
  int line, col;        // position of the next character (columns count UTF-8 characters)
  int err_line;         // line of the last lexical error (0: none), to silence parser cascades
  // Open brackets, for "expected ')'" notes pointing at the opener. Only a
  // hint: after error recovery it may be off, so it is never trusted for more.
  Bracket brackets[MAX_BRACKETS];
  int nbrackets;        // may exceed MAX_BRACKETS; deeper ones are not recorded
} LexState;

// Parser state for one file.
typedef struct ParseCtx {
  SrcFile *file;
  LexState *ls;
  Module *mod;
  int prev_line, prev_end_col;   // end of the previous token (for "missing ';'")
  int cur_line, cur_col;         // start of the current token
  int nerrors;
} ParseCtx;

#endif
