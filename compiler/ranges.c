// ranges.c -- the ranges file of --quantize int8: reading it (a small JSON
// parser whose every value knows its line and column) and checking it
// against the elaborated graph.
//
// The file is written by the float runner's --calibrate (docs: the int8
// spec's "Ranges file"). It is input like a .net source: every problem is a
// located diagnostic with the JSON line under a caret, and nothing is
// written when there is one.
#include "netc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

// Deeper nesting than this is not a ranges file; the limit keeps hostile
// input from exhausting the stack of the recursive parser.
#define JSON_MAX_DEPTH 64

//
// JSON values
//

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } JKind;

typedef struct JVal JVal;
struct JVal {
  JKind kind;
  Loc loc;             // the token (strings and numbers underlined whole; '{' or '[' for containers)
  bool b;              // J_BOOL
  double num;          // J_NUM (NaN and +-Infinity are accepted so that they can be reported)
  bool integral;       // J_NUM written without fraction or exponent
  const char *str;     // J_STR, NUL-terminated (a \u0000 is refused)
  JVal **items;        // J_ARR elements, J_OBJ member values
  const char **keys;   // J_OBJ member names
  Loc *key_locs;       // J_OBJ
  int n, cap, kcap, lcap;
};

static const char *kind_name(JKind k) {
  switch (k) {
  case J_NULL: return "null";
  case J_BOOL: return "a boolean";
  case J_NUM: return "a number";
  case J_STR: return "a string";
  case J_ARR: return "an array";
  case J_OBJ: return "an object";
  }
  return "?";
}

//
// The parser: one pass over the text, tracking line and column (columns
// count UTF-8 characters, as diag.c draws the caret). The first syntax
// error stops it: what follows a broken token has no reliable meaning.
//

typedef struct Parser {
  SrcFile *file;
  const char *s;
  size_t len, pos;
  int line, col;
  bool failed;
} Parser;

static Loc here(const Parser *p, int len) { return (Loc){p->file, p->line, p->col, len < 1 ? 1 : len}; }

// Moves over one character (a whole UTF-8 sequence, or one invalid byte).
static void advance(Parser *p) {
  if (p->pos >= p->len)
    return;
  unsigned char c = (unsigned char)p->s[p->pos];
  if (c == '\n') {
    p->line++;
    p->col = 1;
    p->pos++;
    return;
  }
  size_t n = c >= 0x80 ? utf8_len(p->s + p->pos, p->len - p->pos) : 1;
  p->pos += n ? n : 1;
  p->col++;
}

static void skip_space(Parser *p) {
  while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
    advance(p);
}

static int peek(const Parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

// The location just after the last non-blank character: where a truncated
// file ends, on a line that has text to show.
static Loc end_loc(Parser *p) {
  size_t end = p->len;
  while (end > 0 && strchr(" \t\r\n", p->s[end - 1]) && p->s[end - 1])
    end--;
  int line = 1, col = 1;
  for (size_t i = 0; i < end;) {
    unsigned char c = (unsigned char)p->s[i];
    if (c == '\n') {
      line++, col = 1, i++;
      continue;
    }
    size_t n = c >= 0x80 ? utf8_len(p->s + i, end - i) : 1;
    i += n ? n : 1;
    col++;
  }
  return (Loc){p->file, line, col, 1};
}

// Describes the character at the parser's position for "found ..." messages.
static const char *found_here(const Parser *p) {
  int c = peek(p);
  if (c < 0)
    return "the end of the file";
  if (c == '"')
    return "a string";
  if (c >= 0x21 && c < 0x7f)
    return format("'%c'", c);
  return format("byte 0x%02x", (unsigned)c);
}

static void syntax_error(Parser *p, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void syntax_error(Parser *p, Loc loc, const char *fmt, ...) {
  if (!p->failed) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_at(loc, "%s", msg);
  }
  p->failed = true;
}

static JVal *new_val(JKind k, Loc loc) {
  JVal *v = xalloc(sizeof *v);
  v->kind = k;
  v->loc = loc;
  return v;
}

static int hex_digit(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// Reads the four hex digits of a \u escape at p->pos; -1 if they are not there.
static long read_u4(Parser *p) {
  long v = 0;
  for (int k = 0; k < 4; k++) {
    int d = p->pos < p->len ? hex_digit((unsigned char)p->s[p->pos]) : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
    advance(p);
  }
  return v;
}

static void put_utf8(char *out, size_t *n, unsigned long cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xC0 | (cp >> 6));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xE0 | (cp >> 12));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*n)++] = (char)(0xF0 | (cp >> 18));
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

// A \u escape (the backslash and 'u' already consumed): one code point,
// surrogate pairs joined. Returns false after reporting a bad one.
static bool read_unicode_escape(Parser *p, Loc esc, unsigned long *cp) {
  long hi = read_u4(p);
  if (hi < 0) {
    syntax_error(p, esc, "\\u must be followed by four hexadecimal digits");
    return false;
  }
  if (hi >= 0xDC00 && hi <= 0xDFFF) {
    syntax_error(p, esc, "a \\u escape is a lone low surrogate");
    return false;
  }
  if (hi >= 0xD800 && hi <= 0xDBFF) {
    long lo = -1;
    if (p->pos + 1 < p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
      advance(p), advance(p);
      lo = read_u4(p);
    }
    if (lo < 0xDC00 || lo > 0xDFFF) {
      syntax_error(p, esc, "a \\u escape is a high surrogate without its low half");
      return false;
    }
    *cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
    return true;
  }
  if (hi == 0) {
    syntax_error(p, esc, "a string may not contain \\u0000");
    return false;
  }
  *cp = (unsigned long)hi;
  return true;
}

// Bytes of a string's source from `from` to its closing quote (or to where
// it breaks off): the decoded text is never longer.
static size_t raw_string_len(const Parser *p, size_t from) {
  size_t i = from;
  while (i < p->len && p->s[i] != '"' && p->s[i] != '\n')
    i += p->s[i] == '\\' && i + 1 < p->len ? 2 : 1;
  return i - from;
}

// A string at p->pos (on its opening quote), into a buffer of its own
// size (not the rest of the file's: Python writes a whole file on one line).
static JVal *parse_string(Parser *p) {
  Parser start = *p;
  advance(p);
  size_t n = 0;
  char *out = xalloc(raw_string_len(p, p->pos) + 1);
  for (;;) {
    int c = peek(p);
    if (c < 0) {
      syntax_error(p, end_loc(p), "the file ends inside a string (is it truncated?)");
      note_at(here(&start, 1), "the string starts here");
      return NULL;
    }
    if (c == '\n') {
      syntax_error(p, here(&start, 1), "this string is not closed (a '\"' is missing before the end of the line)");
      return NULL;
    }
    if (c == '"')
      break;
    if (c < 0x20) {
      syntax_error(p, here(p, 1), "a control character in a string must be escaped");
      return NULL;
    }
    if (c >= 0x80 && !utf8_len(p->s + p->pos, p->len - p->pos)) {
      syntax_error(p, here(p, 1), "invalid UTF-8 in a string");
      return NULL;
    }
    if (c != '\\') {
      size_t k = p->pos;
      advance(p);
      memcpy(out + n, p->s + k, p->pos - k);
      n += p->pos - k;
      continue;
    }
    Loc esc = here(p, 2);
    advance(p);
    int e = peek(p);
    const char *simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
    const char *m = e > 0 ? strchr(simple, e) : NULL;
    if (e == 'u') {
      advance(p);
      unsigned long cp;
      if (!read_unicode_escape(p, esc, &cp))
        return NULL;
      put_utf8(out, &n, cp);
    } else if (m && (m - simple) % 2 == 0) {
      out[n++] = m[1];
      advance(p);
    } else {
      syntax_error(p, esc, "unknown escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      return NULL;
    }
  }
  int chars = p->col - start.col + 1; // the string is on one line
  advance(p);
  JVal *v = new_val(J_STR, here(&start, chars));
  v->str = out;
  return v;
}

// Digits at p->pos; how many.
static int digits(Parser *p) {
  int k = 0;
  while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
    advance(p), k++;
  return k;
}

static bool word_at(const Parser *p, const char *w) {
  size_t n = strlen(w);
  return p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0;
}

// A number in JSON's grammar, converted with strtod; also NaN, Infinity
// and -Infinity (Python's json.dump writes them), as values to report.
static JVal *parse_number(Parser *p) {
  Parser start = *p;
  bool neg = peek(p) == '-';
  if (neg)
    advance(p);
  const char *word = word_at(p, "Infinity") ? "Infinity" : !neg && word_at(p, "NaN") ? "NaN" : NULL;
  if (word) {
    for (size_t k = 0; word[k]; k++)
      advance(p);
    JVal *v = new_val(J_NUM, here(&start, (int)(p->pos - start.pos)));
    v->num = word[0] == 'N' ? NAN : neg ? -INFINITY : INFINITY;
    return v;
  }
  int c = peek(p);
  if (c == '0') {
    advance(p);
  } else if (!digits(p)) {
    syntax_error(p, here(&start, 1), "a number must have digits after its '-'");
    return NULL;
  }
  bool integral = true;
  if (peek(p) == '.') {
    advance(p);
    integral = false;
    if (!digits(p)) {
      syntax_error(p, here(&start, (int)(p->pos - start.pos)), "a number must have digits after its '.'");
      return NULL;
    }
  }
  if (peek(p) == 'e' || peek(p) == 'E') {
    advance(p);
    integral = false;
    if (peek(p) == '+' || peek(p) == '-')
      advance(p);
    if (!digits(p)) {
      syntax_error(p, here(&start, (int)(p->pos - start.pos)), "a number's exponent must have digits");
      return NULL;
    }
  }
  if (peek(p) >= '0' && peek(p) <= '9') { // "01": JSON has no leading zeros
    syntax_error(p, here(&start, (int)(p->pos - start.pos) + 1), "a number may not start with 0");
    return NULL;
  }
  JVal *v = new_val(J_NUM, here(&start, (int)(p->pos - start.pos)));
  char *text = xstrndup(p->s + start.pos, p->pos - start.pos);
  errno = 0;
  v->num = strtod(text, NULL); // overflow gives +-HUGE_VAL: infinite, reported where it matters
  v->integral = integral;
  return v;
}

static JVal *parse_value(Parser *p, int depth);

// A container that does not go on as it must: the file ended inside it
// (a truncated file: shown at its end, with the opening bracket), or
// something else stands where `expected` should.
static void container_error(Parser *p, Loc open, bool obj, const char *expected) {
  if (p->failed)
    return;
  if (peek(p) < 0) {
    syntax_error(p, end_loc(p), "the file ends inside %s (is it truncated?)", obj ? "an object" : "an array");
    note_at(open, "%s opened here", obj ? "the object" : "the array");
  } else {
    syntax_error(p, here(p, 1), "expected %s, found %s", expected, found_here(p));
  }
}

// The members of an object or elements of an array after its opening
// bracket, up to and including the closing one.
static JVal *parse_container(Parser *p, int depth) {
  bool obj = peek(p) == '{';
  Loc open = here(p, 1);
  if (depth >= JSON_MAX_DEPTH) {
    syntax_error(p, open, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
    return NULL;
  }
  JVal *v = new_val(obj ? J_OBJ : J_ARR, open);
  advance(p);
  skip_space(p);
  int close = obj ? '}' : ']';
  if (peek(p) == close) {
    advance(p);
    return v;
  }
  for (;;) {
    skip_space(p);
    const char *key = NULL;
    Loc key_loc = {0};
    if (obj) {
      if (peek(p) != '"') {
        container_error(p, open, obj, "a member name in quotes");
        break;
      }
      JVal *k = parse_string(p);
      if (!k)
        break;
      key = k->str, key_loc = k->loc;
      skip_space(p);
      if (peek(p) != ':') {
        container_error(p, open, obj, "':' after the member name");
        break;
      }
      advance(p);
    }
    skip_space(p);
    if (peek(p) < 0) {
      container_error(p, open, obj, "");
      break;
    }
    JVal *item = parse_value(p, depth + 1);
    if (!item)
      break;
    v->items = grow(v->items, &v->cap, v->n + 1, sizeof *v->items);
    if (obj) {
      v->keys = grow(v->keys, &v->kcap, v->n + 1, sizeof *v->keys);
      v->key_locs = grow(v->key_locs, &v->lcap, v->n + 1, sizeof *v->key_locs);
      v->keys[v->n] = key;
      v->key_locs[v->n] = key_loc;
    }
    v->items[v->n++] = item;
    skip_space(p);
    int c = peek(p);
    if (c == ',') {
      advance(p);
      continue;
    }
    if (c == close) {
      advance(p);
      return v;
    }
    container_error(p, open, obj, obj ? "',' or '}' after a member" : "',' or ']' after an element");
    return NULL;
  }
  return NULL;
}

static JVal *parse_value(Parser *p, int depth) {
  skip_space(p);
  int c = peek(p);
  if (c == '{' || c == '[')
    return parse_container(p, depth);
  if (c == '"')
    return parse_string(p);
  if (c == '-' || (c >= '0' && c <= '9') || word_at(p, "NaN") || word_at(p, "Infinity"))
    return parse_number(p);
  static const char *const words[] = {"true", "false", "null"};
  for (int k = 0; k < 3; k++)
    if (word_at(p, words[k])) {
      JVal *v = new_val(k < 2 ? J_BOOL : J_NULL, here(p, (int)strlen(words[k])));
      v->b = k == 0;
      for (size_t i = 0; words[k][i]; i++)
        advance(p);
      return v;
    }
  if (c < 0)
    syntax_error(p, end_loc(p), "the file ends where a value is expected");
  else
    syntax_error(p, here(p, 1), "expected a JSON value, found %s", found_here(p));
  return NULL;
}

// The whole text as one JSON value; NULL after a located syntax error.
static JVal *json_parse(SrcFile *f) {
  Parser p = {f, f->text, f->len, 0, 1, 1, false};
  skip_space(&p);
  if (peek(&p) != '{') { // not JSON at all, most likely: say what was expected
    syntax_error(&p, peek(&p) < 0 ? end_loc(&p) : here(&p, 1), "a ranges file is a JSON object starting with '{', found %s", found_here(&p));
    return NULL;
  }
  JVal *v = parse_value(&p, 0);
  if (!v)
    return NULL;
  skip_space(&p);
  if (p.pos < p.len) {
    syntax_error(&p, here(&p, 1), "unexpected %s after the end of the JSON value", found_here(&p));
    return NULL;
  }
  return v;
}

//
// The ranges schema
//

// Looks a member up; NULL if absent.
static JVal *member(const JVal *obj, const char *key) {
  for (int i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

// Each key once, and only the known ones. `what` names the object in messages.
static bool check_keys(const JVal *obj, const char *const *known, const char *what) {
  bool ok = true;
  for (int i = 0; i < obj->n; i++) {
    for (int j = 0; j < i; j++)
      if (strcmp(obj->keys[i], obj->keys[j]) == 0) {
        error_at(obj->key_locs[i], "\"%s\" appears twice in %s", obj->keys[i], what);
        note_at(obj->key_locs[j], "the first \"%s\" is here", obj->keys[j]);
        ok = false;
        break;
      }
    bool found = false;
    for (int k = 0; known[k]; k++)
      found |= strcmp(obj->keys[i], known[k]) == 0;
    if (!found) {
      char *list = xstrdup("");
      for (int k = 0; known[k]; k++)
        list = format("%s%s\"%s\"", list, k == 0 ? "" : known[k + 1] ? ", " : " and ", known[k]);
      error_at(obj->key_locs[i], "unknown key \"%s\" in %s (it has %s)", obj->keys[i], what, list);
      ok = false;
    }
  }
  return ok;
}

// A required member of the given kind; reports and returns NULL otherwise.
static JVal *need(const JVal *obj, const char *key, JKind kind, const char *what) {
  JVal *v = member(obj, key);
  if (!v) {
    error_at(obj->loc, "%s has no \"%s\"", what, key);
    return NULL;
  }
  if (v->kind != kind) {
    error_at(v->loc, "\"%s\" must be %s, not %s", key, kind_name(kind), kind_name(v->kind));
    return NULL;
  }
  return v;
}

// A required whole number in [lo, hi].
static bool need_int(const JVal *obj, const char *key, int64_t lo, int64_t hi, const char *what, int64_t *out) {
  JVal *v = need(obj, key, J_NUM, what);
  if (!v)
    return false;
  if (!v->integral || !(v->num >= (double)lo && v->num <= (double)hi)) {
    error_at(v->loc, "\"%s\" must be a whole number from %lld to %lld", key, (long long)lo, (long long)hi);
    return false;
  }
  *out = (int64_t)v->num;
  return true;
}

static bool need_str(const JVal *obj, const char *key, const char *what, const char **out) {
  JVal *v = need(obj, key, J_STR, what);
  if (v)
    *out = v->str;
  return v != NULL;
}

static bool is_fingerprint(const char *s) {
  if (strlen(s) != 16)
    return false;
  for (int i = 0; i < 16; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

// One entry of "layers". min and max may be non-finite here: ranges_check
// reports them, with the layer they belong to.
static bool read_layer(const JVal *e, LayerRange *lr) {
  if (e->kind != J_OBJ) {
    error_at(e->loc, "an entry of \"layers\" must be an object {\"index\", \"name\", \"op\", \"min\", \"max\"}, not %s",
             kind_name(e->kind));
    return false;
  }
  static const char *const keys[] = {"index", "name", "op", "min", "max", NULL};
  const char *what = "this layer entry";
  bool ok = check_keys(e, keys, what);
  ok &= need_int(e, "index", 0, INT32_MAX, what, &lr->index);
  ok &= need_str(e, "name", what, &lr->name);
  ok &= need_str(e, "op", what, &lr->op);
  JVal *mn = need(e, "min", J_NUM, what), *mx = need(e, "max", J_NUM, what);
  lr->loc = e->loc;
  if (ok && mn && mx) {
    lr->index_loc = member(e, "index")->loc;
    lr->name_loc = member(e, "name")->loc;
    lr->op_loc = member(e, "op")->loc;
    lr->min = mn->num, lr->min_loc = mn->loc;
    lr->max = mx->num, lr->max_loc = mx->loc;
  }
  return ok && mn && mx;
}

// The method and its parameter: "minmax", or "percentile" with a
// "percentile" in (0, 100].
static bool read_method(const JVal *top, Ranges *r) {
  const char *what = "the ranges file";
  if (!need_str(top, "method", what, &r->method))
    return false;
  JVal *pct = member(top, "percentile");
  if (strcmp(r->method, "minmax") == 0) {
    if (pct) {
      error_at(pct->loc, "\"percentile\" goes with \"method\": \"percentile\", not \"minmax\"");
      return false;
    }
    return true;
  }
  if (strcmp(r->method, "percentile") != 0) {
    error_at(member(top, "method")->loc, "unknown calibration method \"%s\" (expected \"minmax\" or \"percentile\")",
             r->method);
    return false;
  }
  JVal *v = need(top, "percentile", J_NUM, "a ranges file with \"method\": \"percentile\"");
  if (!v)
    return false;
  if (!(v->num > 0 && v->num <= 100)) {
    error_at(v->loc, "\"percentile\" must be a number above 0 and at most 100");
    return false;
  }
  r->percentile = v->num;
  return true;
}

// "netc_ranges" first: a file of another version may have other keys, so
// nothing else is checked in one.
static bool read_version(const JVal *top) {
  JVal *v = member(top, "netc_ranges");
  if (!v) {
    error_at(top->loc, "not a netc ranges file: the object has no \"netc_ranges\" key (ranges files are written "
                       "by the float runner's --calibrate)");
    return false;
  }
  if (v->kind != J_NUM || !v->integral || v->num != 1) {
    error_at(v->loc, "this netc reads ranges files of version 1 (\"netc_ranges\": 1); recalibrate with the float "
                     "runner's --calibrate");
    return false;
  }
  return true;
}

static bool read_top(const JVal *top, Ranges *r) {
  if (top->kind != J_OBJ) {
    error_at(top->loc, "a ranges file is a JSON object {\"netc_ranges\": 1, ...}, not %s", kind_name(top->kind));
    return false;
  }
  static const char *const keys[] = {"netc_ranges", "net", "fingerprint", "method", "percentile",
                                     "samples", "layers", NULL};
  const char *what = "the ranges file";
  if (!read_version(top))
    return false;
  bool ok = check_keys(top, keys, what);
  ok &= need_str(top, "net", what, &r->net);
  if (r->net)
    r->net_loc = member(top, "net")->loc;
  if (!need_str(top, "fingerprint", what, &r->fingerprint)) {
    ok = false;
  } else if (!is_fingerprint(r->fingerprint)) {
    error_at(member(top, "fingerprint")->loc, "\"fingerprint\" must be 16 lowercase hexadecimal digits");
    ok = false;
  } else {
    r->fingerprint_loc = member(top, "fingerprint")->loc;
  }
  ok &= read_method(top, r);
  ok &= need_int(top, "samples", 1, INT64_C(1) << 53, what, &r->samples);
  JVal *layers = need(top, "layers", J_ARR, what);
  if (!layers)
    return false;
  r->layers = xalloc((size_t)(layers->n ? layers->n : 1) * sizeof *r->layers);
  r->nlayers = layers->n;
  for (int i = 0; i < layers->n; i++)
    ok &= read_layer(layers->items[i], &r->layers[i]);
  r->layers_loc = layers->loc;
  return ok;
}

Ranges *ranges_read(const char *path) {
  size_t len;
  const char *err;
  char *text = read_file(path, &len, &err);
  if (!text) {
    diag_plain("cannot read the ranges file %s: %s", path, err);
    return NULL;
  }
  if (len == 0) {
    free(text); // read_file's heap buffer; a SrcFile keeps it otherwise
    diag_plain("the ranges file %s is empty (ranges files are written by the float runner's --calibrate)", path);
    return NULL;
  }
  Ranges *r = xalloc(sizeof *r);
  r->file = new_srcfile(path, text, len);
  int before = diag_error_count();
  JVal *top = json_parse(r->file);
  if (!top)
    return NULL;
  r->loc = top->loc;
  if (!read_top(top, r) || diag_error_count() > before)
    return NULL;
  return r;
}

//
// Checking against the graph
//

// Layer names -> layers, open addressing (a net may have millions of layers).
typedef struct NameMap {
  Layer **slots;
  size_t mask;
} NameMap;

static size_t name_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3u;
  return (size_t)h;
}

static NameMap name_map(const Graph *g) {
  size_t cap = 16;
  while (cap < (size_t)g->nlayers * 2)
    cap *= 2;
  NameMap m = {xalloc(cap * sizeof *m.slots), cap - 1};
  for (int i = 0; i < g->nlayers; i++) {
    size_t h = name_hash(g->layers[i]->name) & m.mask;
    while (m.slots[h])
      h = (h + 1) & m.mask;
    m.slots[h] = g->layers[i];
  }
  return m;
}

// The first layer of that name.
static Layer *find_first(const NameMap *m, const char *name) {
  for (size_t h = name_hash(name) & m->mask; m->slots[h]; h = (h + 1) & m->mask)
    if (strcmp(m->slots[h]->name, name) == 0)
      return m->slots[h];
  return NULL;
}

// The layer an entry is for: the one at its index if the name agrees (a
// name is not always unique: a module called twice, as torchvision's
// ResNet calls its relu, makes layers of the same name), else the first
// of that name; NULL if the net has no layer of that name.
static Layer *find_layer(const NameMap *m, const Graph *g, const LayerRange *e) {
  if (e->index < g->nlayers && strcmp(g->layers[e->index]->name, e->name) == 0)
    return g->layers[e->index];
  return find_first(m, e->name);
}

static const char *op_name(const Layer *l) { return op_table[l->op].name; }

static const char *non_finite(double v) { return isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"; }

// min and max: finite and ordered.
static bool check_values(const LayerRange *e) {
  bool ok = true;
  if (!isfinite(e->min)) {
    error_at(e->min_loc, "the min of layer '%s' is %s: a range must be finite (recalibrate; a layer whose float "
                         "output is not finite cannot be quantized)", e->name, non_finite(e->min));
    ok = false;
  }
  if (!isfinite(e->max)) {
    error_at(e->max_loc, "the max of layer '%s' is %s: a range must be finite (recalibrate; a layer whose float "
                         "output is not finite cannot be quantized)", e->name, non_finite(e->max));
    ok = false;
  }
  if (ok && e->min > e->max) {
    error_at(e->min_loc, "layer '%s' has min %.9g above its max %.9g", e->name, e->min, e->max);
    ok = false;
  }
  return ok;
}

// One entry against the graph: a layer of that name, with that id and op,
// in order after the previous entry. seen records the layers covered;
// named[id]: some entry names layer id.
static bool check_entry(const Ranges *r, int i, const Graph *g, const NameMap *m, const LayerRange **seen,
                        const bool *named) {
  const LayerRange *e = &r->layers[i];
  Layer *l = find_layer(m, g, e);
  if (!l && e->index < g->nlayers && !named[e->index] && !seen[e->index]) {
    // A wrong name where a layer has no entry: one mistake, said once.
    Layer *at = g->layers[e->index];
    error_at(e->name_loc, "the entry of index %lld names layer '%s', but layer %lld of net '%s' is '%s' (%s)",
             (long long)e->index, e->name, (long long)e->index, g->net, at->name, op_name(at));
    note_at(at->loc, "layer '%s' is made here", at->name);
    seen[e->index] = e;
    return false;
  }
  if (!l) {
    error_at(e->name_loc, "the ranges file has an entry for layer '%s', which net '%s' does not have", e->name,
             g->net);
    return false;
  }
  if (seen[l->id]) {
    error_at(e->name_loc, "layer '%s' has two entries in the ranges file", e->name);
    note_at(seen[l->id]->name_loc, "the first is here");
    return false;
  }
  seen[l->id] = e;
  bool ok = true;
  if (strcmp(e->op, op_name(l)) != 0) {
    error_at(e->op_loc, "layer '%s' is a %s in net '%s', but its entry says \"%s\"", e->name, op_name(l), g->net,
             e->op);
    note_at(l->loc, "layer '%s' is made here", l->name);
    ok = false;
  }
  if (e->index != l->id) {
    error_at(e->index_loc, "layer '%s' has index %d in net '%s', not %lld", e->name, l->id, g->net,
             (long long)e->index);
    ok = false;
  } else if (i > 0 && e->index <= r->layers[i - 1].index) {
    error_at(e->index_loc, "the entry of layer '%s' (index %lld) comes after index %lld: the entries must be in "
                           "index order", e->name, (long long)e->index, (long long)r->layers[i - 1].index);
    ok = false;
  }
  return ok;
}

// For each layer id, the first entry in file order whose index is larger:
// where a missing entry belongs (NULL: at the end). Linear, by a suffix
// minimum over ids, so that a huge file of wrong entries stays fast.
static const LayerRange **entries_after(const Ranges *r, const Graph *g) {
  int n = g->nlayers, none = r->nlayers;
  int *first = xalloc((size_t)(n + 1) * sizeof *first); // first[k]: first entry with index k (k = n: >= n)
  for (int k = 0; k <= n; k++)
    first[k] = none;
  for (int i = r->nlayers - 1; i >= 0; i--)
    first[r->layers[i].index < n ? r->layers[i].index : n] = i;
  const LayerRange **after = xalloc((size_t)(n ? n : 1) * sizeof *after);
  int best = first[n];
  for (int id = n - 1; id >= 0; id--) {
    after[id] = best < none ? &r->layers[best] : NULL;
    if (first[id] < best)
      best = first[id];
  }
  return after;
}

static bool check_missing(const Ranges *r, const Graph *g, const LayerRange **seen) {
  bool ok = true;
  const LayerRange **after = entries_after(r, g);
  for (int id = 0; id < g->nlayers; id++) {
    if (seen[id])
      continue;
    const Layer *l = g->layers[id];
    const LayerRange *next = after[id];
    error_at(next ? next->loc : r->layers_loc, "layer '%s' (%s) has no range%s", l->name, op_name(l),
             next ? format(": its entry (index %d) belongs before this one", id)
                  : format(": its entry (index %d) belongs at the end of \"layers\"", id));
    note_at(l->loc, "layer '%s' is made here", l->name);
    ok = false;
  }
  return ok;
}

bool ranges_check(const Ranges *r, const Graph *g, const char *fingerprint) {
  int before = diag_error_count();
  if (strcmp(r->net, g->net) != 0) {
    // Another net: every layer would differ, so nothing else is worth saying.
    error_at(r->net_loc, "this ranges file is for net '%s', not '%s': calibrate '%s' with its float runner's "
                      "--calibrate", r->net, g->net, g->net);
    return false;
  }
  if (strcmp(r->fingerprint, fingerprint) != 0)
    error_at(r->fingerprint_loc, "this ranges file was calibrated on another version of net '%s' (fingerprint "
                                 "%s; this net's is %s): recalibrate with the float runner's --calibrate",
             g->net, r->fingerprint, fingerprint);
  NameMap m = name_map(g);
  const LayerRange **seen = xalloc((size_t)(g->nlayers ? g->nlayers : 1) * sizeof *seen);
  bool *named = xalloc((size_t)(g->nlayers ? g->nlayers : 1) * sizeof *named);
  for (int i = 0; i < r->nlayers; i++) {
    Layer *l = find_layer(&m, g, &r->layers[i]);
    if (l)
      named[l->id] = true;
  }
  for (int i = 0; i < r->nlayers; i++) {
    check_entry(r, i, g, &m, seen, named);
    check_values(&r->layers[i]);
  }
  check_missing(r, g, seen);
  return diag_error_count() == before;
}
