/* parser.y -- the grammar of the netc language.
 *
 * The grammar checks syntax only: op and block names are ordinary
 * identifiers resolved during elaboration, so a new op never touches this
 * file and a misspelt op gets "did you mean", not "syntax error".
 * Actions are one-liners calling the constructors in ast.c.
 */

/* Reentrant: one parser per imported file, no globals. */
%define api.pure full
/* Every node keeps a location; most errors are found after parsing. */
%locations
/* Our own messages ("expected ';' after ...") with correct expected-token lists. */
%define parse.error custom
%define parse.lac full
%define api.token.prefix {TOK_}
%define api.value.type union
%param {yyscan_t scanner} {ParseCtx *pc}
/* Resolve conflicts with precedence, never by raising this number. */
%expect 0

%code top {
/* Deepest nesting of brackets and statements the parser accepts; beyond it
   the user gets a located "nested too deeply" error, not a crash. */
#define YYMAXDEPTH 10000
}

%code requires {
#include "netc.h"
#include "parse.h"
typedef void *yyscan_t;
}

%code {
#include <string.h>

int netc_yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);

// The parser sees tokens through here so the last token's end is known when
// a ';' turns out to be missing.
static int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, ParseCtx *pc) {
  pc->prev_line = pc->cur_line;
  pc->prev_end_col = pc->cur_col;
  int t = netc_yylex(lval, lloc, scanner);
  pc->cur_line = lloc->last_line;
  pc->cur_col = lloc->last_column;
  return t;
}

static Loc L(ParseCtx *pc, YYLTYPE l) {
  int len = l.last_line == l.first_line ? l.last_column - l.first_column : 1;
  return (Loc){pc->file, l.first_line, l.first_column, len > 0 ? len : 1};
}

static void yyerror(YYLTYPE *l, yyscan_t scanner, ParseCtx *pc, const char *msg) {
  (void)scanner;
  // Bison's only other message is stack exhaustion on absurd nesting.
  if (strcmp(msg, "memory exhausted") == 0)
    error_at(L(pc, *l), "expression or statement nested too deeply (the parser's limit is %d levels)", YYMAXDEPTH);
  else
    error_at(L(pc, *l), "%s", msg);
  pc->nerrors++;
}

static Node *binop(ParseCtx *pc, YYLTYPE l, int op, Node *a, Node *b) {
  Node *n = new_node(N_BINOP, L(pc, l));
  n->op = op;
  n->lhs = a;
  n->rhs = b;
  return n;
}

// After recovery, brackets opened inside the discarded text are closed as
// far as messages are concerned: keep only the enclosing '{' (or nothing at
// the top level), so later "to match this" notes point at live brackets.
static void resync_brackets(ParseCtx *pc, bool top_level) {
  LexState *ls = pc->ls;
  if (top_level) {
    ls->nbrackets = 0;
    return;
  }
  while (ls->nbrackets > 0 && ls->nbrackets <= MAX_BRACKETS && ls->brackets[ls->nbrackets - 1].c != '{')
    ls->nbrackets--;
}

static Node *leaf(ParseCtx *pc, YYLTYPE l, NodeKind k) { return new_node(k, L(pc, l)); }
static Node *push(Node *list, Node *kid) { node_push(&list->kids, &list->nkids, kid); return list; }
}

%token <int64_t> INT "integer"
%token <double> FLOAT "float"
%token <const char *> IDENT "identifier" STRING "string"
%token IMPORT "import" BLOCK "block" NET "net" FOR "for" IN "in" IF "if" ELSE "else"
%token RETURN "return" ASSERT "assert" TRUE "true" FALSE "false"
%token ARROW "->" OROR "||" ANDAND "&&" EQ "==" NE "!=" LE "<=" GE ">="
%token FLOORDIV "//" POW "**" ELLIPSIS "..."
%token INVALID "invalid token"

%nterm <Node *> item params param_list param stmts stmt if_stmt names expr exprs stage label
%nterm <Node *> postfix primary args arg_list arg subscripts subscript opt_expr

%precedence "->"
%right '?' ':'
%left "||"
%left "&&"
%nonassoc "==" "!=" '<' "<=" '>' ">="
%left '+' '-'
%left '*' '/' "//" '%' '@'
%precedence UNARY
%right "**"

%%

program:
  %empty
| program item          { if ($2) node_push(&pc->mod->items, &pc->mod->nitems, $2); }
;

item:
  "import" STRING ';'   { $$ = leaf(pc, @2, I_IMPORT); $$->str = $2; }
| "block" IDENT '(' params ')' '{' stmts '}'
                        { $$ = leaf(pc, @2, I_BLOCK); $$->str = $2; $$->params = $4->kids; $$->nparams = $4->nkids;
                          $$->body = $7->kids; $$->nbody = $7->nkids; }
| "net" IDENT '(' params ')' '{' stmts '}'
                        { $$ = leaf(pc, @2, I_NET); $$->str = $2; $$->params = $4->kids; $$->nparams = $4->nkids;
                          $$->body = $7->kids; $$->nbody = $7->nkids; }
| IDENT '=' expr ';'    { $$ = leaf(pc, @1, I_CONST); $$->str = $1; $$->rhs = $3; }
| error ';'             { $$ = NULL; yyerrok; resync_brackets(pc, true); }
| error '}'             { $$ = NULL; yyerrok; resync_brackets(pc, true); }
| error '{' stmts '}'   { $$ = NULL; yyerrok; resync_brackets(pc, true); } /* a broken header: still check the body */
;

params:
  %empty                { $$ = leaf(pc, @$, N_TUPLE); }
| param_list
| param_list ','
;

param_list:
  param                 { $$ = push(leaf(pc, @1, N_TUPLE), $1); }
| param_list ',' param  { $$ = push($1, $3); }
;

param:
  IDENT                 { $$ = leaf(pc, @1, N_PARAM); $$->str = $1; }
| IDENT '=' expr        { $$ = leaf(pc, @1, N_PARAM); $$->str = $1; $$->rhs = $3; }
| IDENT ':' expr        { $$ = leaf(pc, @1, N_PARAM); $$->str = $1; $$->lhs = $3; }
| IDENT ':' expr '=' expr { $$ = leaf(pc, @1, N_PARAM); $$->str = $1; $$->lhs = $3; $$->rhs = $5; }
;

stmts:
  %empty                { $$ = leaf(pc, @$, N_TUPLE); }
| stmts stmt            { $$ = $2 ? push($1, $2) : $1; }
;

stmt:
  IDENT '=' expr ';'    { $$ = leaf(pc, @1, S_ASSIGN); push($$, leaf(pc, @1, N_NAME))->kids[0]->str = $1; $$->rhs = $3; }
| '(' names ')' '=' expr ';'
                        { $$ = leaf(pc, @2, S_ASSIGN); $$->kids = $2->kids; $$->nkids = $2->nkids; $$->rhs = $5; }
| IDENT ':' expr '=' expr ';'
                        { $$ = leaf(pc, @1, S_ASSIGN); push($$, leaf(pc, @1, N_NAME))->kids[0]->str = $1;
                          $$->lhs = $3; $$->rhs = $5; }
| "for" IDENT "in" expr '{' stmts '}'
                        { $$ = leaf(pc, @1, S_FOR); push($$, leaf(pc, @2, N_NAME))->kids[0]->str = $2;
                          $$->rhs = $4; $$->body = $6->kids; $$->nbody = $6->nkids; }
| "for" '(' names ')' "in" expr '{' stmts '}'
                        { $$ = leaf(pc, @1, S_FOR); $$->kids = $3->kids; $$->nkids = $3->nkids;
                          $$->rhs = $6; $$->body = $8->kids; $$->nbody = $8->nkids; }
| if_stmt
| "return" exprs ';'    { $$ = leaf(pc, @1, S_RETURN); $$->kids = $2->kids; $$->nkids = $2->nkids; }
/* "param NAME: SHAPE;" and "buffer NAME: SHAPE;" -- the kind word is an
   identifier, not a keyword, so no name is taken from users. */
| IDENT IDENT ':' expr ';'
                        { $$ = leaf(pc, @1, S_DECL); $$->str = $1; push($$, leaf(pc, @2, N_NAME))->kids[0]->str = $2;
                          $$->lhs = $4; }
| "assert" expr ';'     { $$ = leaf(pc, @2, S_ASSERT); $$->lhs = $2; }
| "assert" expr ',' expr ';' { $$ = leaf(pc, @2, S_ASSERT); $$->lhs = $2; $$->rhs = $4; }
| error ';'             { $$ = NULL; yyerrok; resync_brackets(pc, false); }
;

if_stmt:
  "if" expr '{' stmts '}'
                        { $$ = leaf(pc, @1, S_IF); $$->lhs = $2; $$->body = $4->kids; $$->nbody = $4->nkids; }
| "if" expr '{' stmts '}' "else" '{' stmts '}'
                        { $$ = leaf(pc, @1, S_IF); $$->lhs = $2; $$->body = $4->kids; $$->nbody = $4->nkids;
                          $$->has_else = true; $$->els = $8->kids; $$->nels = $8->nkids; }
| "if" expr '{' stmts '}' "else" if_stmt
                        { $$ = leaf(pc, @1, S_IF); $$->lhs = $2; $$->body = $4->kids; $$->nbody = $4->nkids;
                          $$->has_else = true; node_push(&$$->els, &$$->nels, $7); }
;

names:
  IDENT                 { Node *n = leaf(pc, @1, N_NAME); n->str = $1; $$ = push(leaf(pc, @1, N_TUPLE), n); }
| names ',' IDENT       { Node *n = leaf(pc, @3, N_NAME); n->str = $3; $$ = push($1, n); }
;

exprs:
  expr                  { $$ = push(leaf(pc, @1, N_TUPLE), $1); }
| exprs ',' expr        { $$ = push($1, $3); }
;

expr:
  expr "->" stage       { $$ = leaf(pc, @3, N_PIPE); $$->lhs = $1; $$->rhs = $3; }
| expr '?' expr ':' expr { $$ = leaf(pc, @2, N_COND); $$->lhs = $1; $$->rhs = $3; $$->third = $5; }
| expr "||" expr        { $$ = binop(pc, @2, TOK_OROR, $1, $3); }
| expr "&&" expr        { $$ = binop(pc, @2, TOK_ANDAND, $1, $3); }
| expr "==" expr        { $$ = binop(pc, @2, TOK_EQ, $1, $3); }
| expr "!=" expr        { $$ = binop(pc, @2, TOK_NE, $1, $3); }
| expr '<' expr         { $$ = binop(pc, @2, '<', $1, $3); }
| expr "<=" expr        { $$ = binop(pc, @2, TOK_LE, $1, $3); }
| expr '>' expr         { $$ = binop(pc, @2, '>', $1, $3); }
| expr ">=" expr        { $$ = binop(pc, @2, TOK_GE, $1, $3); }
| expr '+' expr         { $$ = binop(pc, @2, '+', $1, $3); }
| expr '-' expr         { $$ = binop(pc, @2, '-', $1, $3); }
| expr '*' expr         { $$ = binop(pc, @2, '*', $1, $3); }
| expr '/' expr         { $$ = binop(pc, @2, '/', $1, $3); }
| expr "//" expr        { $$ = binop(pc, @2, TOK_FLOORDIV, $1, $3); }
| expr '%' expr         { $$ = binop(pc, @2, '%', $1, $3); }
/* Python's matrix product. After an operand '@' is this operator; where an
   operand would start it begins a label (x -> @fc linear(10)). */
| expr '@' expr         { $$ = binop(pc, @2, '@', $1, $3); }
| expr "**" expr        { $$ = binop(pc, @2, TOK_POW, $1, $3); }
| '-' expr %prec UNARY  { $$ = leaf(pc, @1, N_UNOP); $$->op = '-'; $$->lhs = $2; }
| '!' expr %prec UNARY  { $$ = leaf(pc, @1, N_UNOP); $$->op = '!'; $$->lhs = $2; }
| postfix
;

/* A pipe stage names a layer or block, optionally labelled and called. */
stage:
  IDENT                 { $$ = leaf(pc, @1, N_NAME); $$->str = $1; }
| IDENT '(' args ')'    { Node *f = leaf(pc, @1, N_NAME); f->str = $1;
                          $$ = leaf(pc, @1, N_CALL); $$->lhs = f; $$->kids = $3->kids; $$->nkids = $3->nkids; }
| label IDENT           { $$ = leaf(pc, @2, N_NAME); $$->str = $2; $$->label = $1; }
| label IDENT '(' args ')'
                        { Node *f = leaf(pc, @2, N_NAME); f->str = $2;
                          $$ = leaf(pc, @2, N_CALL); $$->lhs = f; $$->kids = $4->kids; $$->nkids = $4->nkids;
                          $$->label = $1; }
;

label:
  '@' IDENT             { $$ = leaf(pc, @2, N_STR); $$->str = $2; }
/* torchvision names modules "block" (MobileNetV3, EfficientNet): the keywords
   that are not Python keywords are labels too. */
| '@' "block"           { $$ = leaf(pc, @2, N_STR); $$->str = "block"; }
| '@' "net"             { $$ = leaf(pc, @2, N_STR); $$->str = "net"; }
| '@' INT               { $$ = leaf(pc, @2, N_INT); $$->ival = $2; }
| '@' '(' expr ')'      { $$ = $3; }
;

postfix:
  primary
| postfix '(' args ')'  { $$ = leaf(pc, @1, N_CALL); $$->lhs = $1; $$->kids = $3->kids; $$->nkids = $3->nkids;
                          $$->loc = $1->loc; }
| postfix '[' subscripts ']' { $$ = leaf(pc, @2, N_INDEX); $$->lhs = $1; $$->kids = $3->kids; $$->nkids = $3->nkids; }
| postfix '.' IDENT     { $$ = leaf(pc, @3, N_ATTR); $$->lhs = $1; $$->str = $3; }
| label IDENT '(' args ')'
                        { Node *f = leaf(pc, @2, N_NAME); f->str = $2;
                          $$ = leaf(pc, @2, N_CALL); $$->lhs = f; $$->kids = $4->kids; $$->nkids = $4->nkids;
                          $$->label = $1; }
;

primary:
  INT                   { $$ = leaf(pc, @1, N_INT); $$->ival = $1; }
| FLOAT                 { $$ = leaf(pc, @1, N_FLOAT); $$->fval = $1; }
| STRING                { $$ = leaf(pc, @1, N_STR); $$->str = $1; }
| IDENT                 { $$ = leaf(pc, @1, N_NAME); $$->str = $1; }
| "true"                { $$ = leaf(pc, @1, N_INT); $$->ival = 1; $$->op = TOK_TRUE; }
| "false"               { $$ = leaf(pc, @1, N_INT); $$->ival = 0; $$->op = TOK_FALSE; }
| '?'                   { $$ = leaf(pc, @1, N_WILD); }
| '(' expr ')'          { $$ = $2; }
| '(' expr ',' ')'      { $$ = push(leaf(pc, @1, N_TUPLE), $2); }
| '(' expr ',' exprs ')' { $$ = leaf(pc, @1, N_TUPLE); push($$, $2);
                          for (int i = 0; i < $4->nkids; i++) push($$, $4->kids[i]); }
| '(' expr ',' exprs ',' ')' { $$ = leaf(pc, @1, N_TUPLE); push($$, $2);
                          for (int i = 0; i < $4->nkids; i++) push($$, $4->kids[i]); }
| '[' ']'               { $$ = leaf(pc, @1, N_LIST); }
| '[' exprs ']'         { $$ = leaf(pc, @1, N_LIST); $$->kids = $2->kids; $$->nkids = $2->nkids; }
| '[' exprs ',' ']'     { $$ = leaf(pc, @1, N_LIST); $$->kids = $2->kids; $$->nkids = $2->nkids; }
;

/* Subscripts: an index, a slice start:stop:step (each part optional), or
   "..." (a tensor's remaining dims). A slice's colon cannot be the
   conditional's: that one always follows a '?'. */
subscripts:
  subscript             { $$ = push(leaf(pc, @1, N_TUPLE), $1); }
| subscripts ',' subscript { $$ = push($1, $3); }
;

subscript:
  expr
| "..."                 { $$ = leaf(pc, @1, N_ELLIPSIS); }
| opt_expr ':' opt_expr { $$ = leaf(pc, @2, N_SLICE); $$->lhs = $1; $$->rhs = $3; }
| opt_expr ':' opt_expr ':' opt_expr
                        { $$ = leaf(pc, @2, N_SLICE); $$->lhs = $1; $$->rhs = $3; $$->third = $5; }
;

opt_expr:
  %empty                { $$ = NULL; }
| expr
;

/* No error rule inside brackets: recovery at the statement or item level
   resynchronises on ';' or '}', never on a ')' far down the file. */
args:
  %empty                { $$ = leaf(pc, @$, N_TUPLE); }
| arg_list
| arg_list ','
;

arg_list:
  arg                   { $$ = push(leaf(pc, @1, N_TUPLE), $1); }
| arg_list ',' arg      { $$ = push($1, $3); }
;

arg:
  expr
| IDENT '=' expr        { $$ = leaf(pc, @1, N_ARG); $$->str = $1; $$->lhs = $3; }
;

%%

// Token names for messages: token classes plain ("identifier"), everything
// else quoted as written ("'->'", "'return'", "';'").
static const char *tok_name(yysymbol_kind_t k) {
  const char *s = yysymbol_name(k);
  if (k == YYSYMBOL_YYEOF)
    return "end of file";
  if (s[0] == '\'' || k == YYSYMBOL_INT || k == YYSYMBOL_FLOAT || k == YYSYMBOL_IDENT || k == YYSYMBOL_STRING ||
      k == YYSYMBOL_INVALID)
    return s;
  if (s[0] == '"')
    s = xstrndup(s + 1, strlen(s) - 2);
  return format("'%s'", s);
}

static bool expects(yysymbol_kind_t *exp, int n, const char *tok) {
  for (int i = 0; i < n; i++)
    if (strcmp(yysymbol_name(exp[i]), tok) == 0)
      return true;
  return false;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ParseCtx *pc) {
  (void)scanner;
  yysymbol_kind_t got = yypcontext_token(ctx);
  Loc at = L(pc, *yypcontext_location(ctx));
  int earlier = pc->nerrors++;
  // The lexer has already reported a bad token on this or the previous line;
  // what the parser makes of the rest of it is noise.
  if (got == YYSYMBOL_INVALID || (pc->ls->err_line && at.line - pc->ls->err_line <= 1))
    return 0;
  // After recovery from an earlier error, "unexpected end of file" is
  // almost always a cascade of it.
  if (got == YYSYMBOL_YYEOF && earlier > 0)
    return 0;
  yysymbol_kind_t exp[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
  Loc prev_end = {pc->file, pc->prev_line, pc->prev_end_col, 1};
  bool next_line = at.line > pc->prev_line || got == YYSYMBOL_YYEOF;
  const char *got_name = yysymbol_name(got);

  // An unclosed bracket: say which one, at the end of the line where it was
  // left open, with a note at the opener.
  LexState *ls = pc->ls;
  if (ls->nbrackets > 0 && ls->nbrackets <= MAX_BRACKETS && pc->prev_line > 0) {
    Bracket *b = &ls->brackets[ls->nbrackets - 1];
    const char *closer = b->c == '(' ? "')'" : b->c == '[' ? "']'" : "'}'";
    // The bracket is open (not the one just read) and the parser wants it closed.
    bool just_opened = b->line == at.line && b->col == at.col;
    // For '{', only a new item or the end of the file proves the block open;
    // anything else inside it is a different mistake.
    if (b->c == '{' && got != YYSYMBOL_NET && got != YYSYMBOL_BLOCK && got != YYSYMBOL_IMPORT &&
        got != YYSYMBOL_YYEOF)
      just_opened = true;
    // A statement end inside brackets also shows the bracket was left open.
    bool ends_stmt = strcmp(got_name, "';'") == 0 || strcmp(got_name, "'}'") == 0;
    if (!just_opened && expects(exp, n, closer) && (next_line || got == YYSYMBOL_YYEOF || (b->c != '{' && ends_stmt))) {
      if (b->c == '{' || !next_line)
        error_at(at, "expected %s before %s", closer, tok_name(got));
      else
        error_at(prev_end, "expected %s at the end of the line", closer);
      note_at((Loc){pc->file, b->line, b->col, 1}, "to match this '%c'", b->c);
      return 0;
    }
  }
  // A missing ';' is seen at the next token, usually on the next line or a
  // closing '}': point at the end of the statement instead.
  if (expects(exp, n, "';'") && pc->prev_line > 0 &&
      (next_line || strcmp(got_name, "'}'") == 0)) {
    error_at(prev_end, "expected ';' at the end of the statement");
    return 0;
  }
  char msg[512];
  int len = snprintf(msg, sizeof msg, "syntax error: unexpected %s", tok_name(got));
  if (n > 0 && n <= 5) {
    len += snprintf(msg + len, sizeof msg - (size_t)len, ", expected ");
    for (int i = 0; i < n && len < (int)sizeof msg; i++)
      len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                      tok_name(exp[i]));
  }
  error_at(at, "%s", msg);
  return 0;
}
