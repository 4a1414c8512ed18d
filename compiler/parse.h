// parse.h -- shared between lexer.l, parser.y and parse.c (not used elsewhere).
#ifndef NETC_PARSE_H
#define NETC_PARSE_H

#include "netc.h"

// Scanner state, kept in flex's "extra" so the scanner has no statics.
typedef struct LexState {
  SrcFile *file;
  int line, col;        // position of the next byte
} LexState;

// Parser state for one file.
typedef struct ParseCtx {
  SrcFile *file;
  Module *mod;
  int prev_line, prev_end_col;   // end of the previous token (for "missing ';'")
  int cur_line, cur_col;         // start of the current token
  int nerrors;
} ParseCtx;

#endif
