// safetensors.c -- a strict, bounds-checked reader for .safetensors files.
//
// Layout (https://github.com/huggingface/safetensors, "Format"):
//
//   bytes [0, 8)           N, the header length, unsigned 64-bit little-endian
//   bytes [8, 8 + N)       the header: a JSON object, UTF-8, maybe padded with spaces
//   bytes [8 + N, size)    the data section
//
// The header maps each tensor name to {"dtype": "F32", "shape": [...],
// "data_offsets": [begin, end]}, offsets relative to the data section, and
// may hold "__metadata__": {"key": "value", ...}.
//
// The JSON parser below reads exactly that grammar (objects, strings,
// non-negative integers, arrays of them) and nothing else; every read is
// checked against the end of the header. It runs twice: pass 1 counts
// entries and string bytes (and validates each tensor on its own), then one
// allocation is made and pass 2 fills the index. Cross-tensor rules
// (duplicates, overlap, gaps) are checked on the filled index.

// A device build (-DNETC_NO_STDIO: no heap, no files, no printf) compiles
// this file to nothing: reading files needs the heap and stdio. Generated code then has
// PREFIX_init_embedded for its weights.
#ifndef NETC_NO_STDIO

#include "netc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// As the reference implementation (safetensors' MAX_HEADER_SIZE).
#define MAX_HEADER_BYTES 100000000u

//
// dtypes
//

static const struct {
  const char *name;
  int32_t size;
} dtypes[] = {
  {"BOOL", 1},     // NETC_DTYPE_BOOL
  {"U8", 1},       // NETC_DTYPE_U8
  {"I8", 1},       // NETC_DTYPE_I8
  {"F8_E5M2", 1},  // NETC_DTYPE_F8_E5M2
  {"F8_E4M3", 1},  // NETC_DTYPE_F8_E4M3
  {"I16", 2},      // NETC_DTYPE_I16
  {"U16", 2},      // NETC_DTYPE_U16
  {"F16", 2},      // NETC_DTYPE_F16
  {"BF16", 2},     // NETC_DTYPE_BF16
  {"I32", 4},      // NETC_DTYPE_I32
  {"U32", 4},      // NETC_DTYPE_U32
  {"F32", 4},      // NETC_DTYPE_F32
  {"F64", 8},      // NETC_DTYPE_F64
  {"I64", 8},      // NETC_DTYPE_I64
  {"U64", 8},      // NETC_DTYPE_U64
};
NETC_STATIC_ASSERT(sizeof dtypes / sizeof dtypes[0] == NETC_DTYPE_COUNT, dtype_table_complete);

const char *netc_dtype_name(netc_dtype dtype) {
  return (unsigned)dtype < (unsigned)NETC_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

int32_t netc_dtype_size(netc_dtype dtype) {
  return (unsigned)dtype < (unsigned)NETC_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

//
// JSON reader
//

typedef struct {
  const uint8_t *s;  // the header
  size_t n;          // its length
  size_t pos;
  char *err;
  size_t errlen;
} Json;

// Copies a name into buf for a message: at most 60 bytes, control bytes as '?'.
static const char *printable(const char *name, char *buf, size_t cap) {
  size_t i = 0;
  for (; name[i] && i + 4 < cap && i < 60; i++)
    buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
  if (name[i] && i + 4 <= cap) {
    memcpy(buf + i, "...", 3);
    i += 3;
  }
  buf[i] = '\0';
  return buf;
}

static int32_t json_error(Json *j, const char *what) {
  if (j->pos >= j->n)
    return netc_errorf(j->err, j->errlen, "safetensors: header JSON: %s at end of header (%zu bytes)",
                       what, j->n);
  uint8_t c = j->s[j->pos];
  if (c >= 0x20 && c < 0x7f)
    return netc_errorf(j->err, j->errlen, "safetensors: header JSON, byte %zu ('%c'): %s", j->pos,
                       (char)c, what);
  return netc_errorf(j->err, j->errlen, "safetensors: header JSON, byte %zu (0x%02x): %s", j->pos,
                     (unsigned)c, what);
}

static void skip_ws(Json *j) {
  while (j->pos < j->n &&
         (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' || j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
    j->pos++;
}

// Skips whitespace, then consumes c or fails with "expected <what>".
static int32_t expect_char(Json *j, char c, const char *what) {
  skip_ws(j);
  if (j->pos < j->n && j->s[j->pos] == (uint8_t)c) {
    j->pos++;
    return 0;
  }
  return json_error(j, what);
}

static int peek(Json *j, char c) {
  skip_ws(j);
  return j->pos < j->n && j->s[j->pos] == (uint8_t)c;
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int32_t read_hex4(Json *j, uint32_t *v) {
  if (j->n - j->pos < 4)
    return json_error(j, "truncated \\u escape");
  *v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value(j->s[j->pos]);
    if (h < 0)
      return json_error(j, "bad hex digit in \\u escape");
    *v = *v << 4 | (uint32_t)h;
    j->pos++;
  }
  return 0;
}

// Appends code point cp as UTF-8 to out (capacity cap, length *len, which
// keeps counting past cap).
static void put_utf8(uint32_t cp, char *out, size_t cap, size_t *len) {
  uint8_t b[4];
  size_t k;
  if (cp < 0x80) {
    b[0] = (uint8_t)cp;
    k = 1;
  } else if (cp < 0x800) {
    b[0] = (uint8_t)(0xc0 | cp >> 6);
    b[1] = (uint8_t)(0x80 | (cp & 0x3f));
    k = 2;
  } else if (cp < 0x10000) {
    b[0] = (uint8_t)(0xe0 | cp >> 12);
    b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    b[2] = (uint8_t)(0x80 | (cp & 0x3f));
    k = 3;
  } else {
    b[0] = (uint8_t)(0xf0 | cp >> 18);
    b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    b[3] = (uint8_t)(0x80 | (cp & 0x3f));
    k = 4;
  }
  for (size_t i = 0; i < k; i++, (*len)++)
    if (*len < cap)
      out[*len] = (char)b[i];
}

// Length of the valid UTF-8 sequence at s[0..avail), or 0 if it is invalid
// (overlong, surrogate, above U+10FFFF, truncated, bad continuation).
static size_t utf8_seq(const uint8_t *s, size_t avail) {
  uint8_t c = s[0];
  size_t k;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { k = 2; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { k = 3; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { k = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (avail < k)
    return 0;
  for (size_t i = 1; i < k; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return k;
}

// Parses a JSON string. The decoded bytes go to out (up to cap of them);
// *len receives the full decoded length. \u0000 is refused: names are C
// strings.
static int32_t parse_string(Json *j, char *out, size_t cap, size_t *len) {
  if (expect_char(j, '"', "expected a string"))
    return -1;
  *len = 0;
  for (;;) {
    if (j->pos >= j->n)
      return json_error(j, "unterminated string");
    uint8_t c = j->s[j->pos];
    if (c == '"') {
      j->pos++;
      return 0;
    }
    if (c < 0x20)
      return json_error(j, "control character in string (must be escaped)");
    if (c == '\\') {
      j->pos++;
      if (j->pos >= j->n)
        return json_error(j, "unterminated string");
      uint8_t e = j->s[j->pos++];
      uint32_t cp;
      switch (e) {
      case '"': cp = '"'; break;
      case '\\': cp = '\\'; break;
      case '/': cp = '/'; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u':
        if (read_hex4(j, &cp))
          return -1;
        if (cp >= 0xdc00 && cp <= 0xdfff)
          return json_error(j, "lone low surrogate in \\u escape");
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t lo;
          if (j->n - j->pos < 2 || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u')
            return json_error(j, "high surrogate not followed by a \\u low surrogate");
          j->pos += 2;
          if (read_hex4(j, &lo))
            return -1;
          if (lo < 0xdc00 || lo > 0xdfff)
            return json_error(j, "high surrogate not followed by a low surrogate");
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0)
          return json_error(j, "\\u0000 is not allowed in a string");
        break;
      default:
        j->pos--;
        return json_error(j, "bad escape in string");
      }
      put_utf8(cp, out, cap, len);
      continue;
    }
    size_t k = utf8_seq(j->s + j->pos, j->n - j->pos);
    if (k == 0)
      return json_error(j, "invalid UTF-8 in string");
    for (size_t i = 0; i < k; i++, (*len)++)
      if (*len < cap)
        out[*len] = (char)j->s[j->pos + i];
    j->pos += k;
  }
}

// Parses a string and tells whether it equals lit.
static int32_t parse_key_is(Json *j, const char *lit, int *equal) {
  char buf[32];
  size_t len;
  if (parse_string(j, buf, sizeof buf, &len))
    return -1;
  *equal = len == strlen(lit) && len <= sizeof buf && memcmp(buf, lit, len) == 0;
  return 0;
}

// A non-negative integer: digits only, no leading zero, no sign, fraction
// or exponent, at most INT64_MAX.
static int32_t parse_uint(Json *j, uint64_t *v) {
  skip_ws(j);
  if (j->pos >= j->n || j->s[j->pos] < '0' || j->s[j->pos] > '9')
    return json_error(j, "expected a non-negative integer");
  if (j->s[j->pos] == '0' && j->pos + 1 < j->n && j->s[j->pos + 1] >= '0' && j->s[j->pos + 1] <= '9')
    return json_error(j, "leading zero in integer");
  *v = 0;
  while (j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
    uint64_t d = (uint64_t)(j->s[j->pos] - '0');
    if (*v > ((uint64_t)INT64_MAX - d) / 10)
      return json_error(j, "integer too large");
    *v = *v * 10 + d;
    j->pos++;
  }
  if (j->pos < j->n && (j->s[j->pos] == '.' || j->s[j->pos] == 'e' || j->s[j->pos] == 'E'))
    return json_error(j, "expected an integer, found a fraction or exponent");
  return 0;
}

//
// Header
//

// Where pass 2 writes; NULL pointers in pass 1 (counting only).
typedef struct {
  netc_st_tensor *tensors;
  const char **meta_keys, **meta_values;
  char *strings;
  size_t strings_cap;
  // counts (both passes)
  int64_t ntensors, nmeta;
  size_t string_bytes;
  uint64_t data_size;
} Index;

// Parses a string into the index's string arena (pass 2) or only counts it
// (pass 1), keeping a printable prefix in msg for error messages.
static int32_t parse_stored_string(Json *j, Index *ix, const char **stored, char *msg, size_t msgcap) {
  size_t len;
  if (ix->strings) {
    char *dst = ix->strings + ix->string_bytes;
    size_t cap = ix->strings_cap - ix->string_bytes;
    if (parse_string(j, dst, cap, &len))
      return -1;
    assert(len < cap);  // pass 1 measured it
    dst[len] = '\0';
    *stored = dst;
    printable(dst, msg, msgcap);
  } else {
    char tmp[64];
    if (parse_string(j, tmp, sizeof tmp - 1, &len))
      return -1;
    tmp[NETC_MIN(len, sizeof tmp - 1)] = '\0';
    printable(tmp, msg, msgcap);
    *stored = NULL;
  }
  ix->string_bytes += len + 1;
  return 0;
}

static int32_t find_dtype(const char *s, size_t len, netc_dtype *dt) {
  for (int i = 0; i < NETC_DTYPE_COUNT; i++)
    if (strlen(dtypes[i].name) == len && memcmp(dtypes[i].name, s, len) == 0) {
      *dt = (netc_dtype)i;
      return 0;
    }
  return -1;
}

// {"dtype": ..., "shape": [...], "data_offsets": [b, e]} for tensor `name`
// (printable form), validated on its own against the data section size.
static int32_t parse_tensor(Json *j, Index *ix, netc_st_tensor *t, const char *name) {
  int have_dtype = 0, have_shape = 0, have_offsets = 0;
  if (expect_char(j, '{', "expected '{' to open a tensor entry"))
    return -1;
  if (peek(j, '}'))
    return json_error(j, "empty tensor entry (needs dtype, shape, data_offsets)");
  for (;;) {
    char key[32];
    size_t klen;
    skip_ws(j);
    size_t key_pos = j->pos;
    if (parse_string(j, key, sizeof key, &klen))
      return -1;
    if (expect_char(j, ':', "expected ':' after a key"))
      return -1;
    if (klen == 5 && memcmp(key, "dtype", 5) == 0) {
      if (have_dtype++) {
        j->pos = key_pos;
        return json_error(j, "duplicate key \"dtype\"");
      }
      char dt[16];
      size_t dlen;
      skip_ws(j);
      size_t at = j->pos;
      if (parse_string(j, dt, sizeof dt - 1, &dlen))
        return -1;
      dt[NETC_MIN(dlen, sizeof dt - 1)] = '\0';
      if (dlen >= sizeof dt || find_dtype(dt, dlen, &t->dtype)) {
        char shown[16];
        j->pos = at;
        return netc_errorf(j->err, j->errlen, "safetensors: tensor '%s': unknown dtype \"%s\" (header byte %zu)",
                           name, printable(dt, shown, sizeof shown), at);
      }
    } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
      if (have_shape++) {
        j->pos = key_pos;
        return json_error(j, "duplicate key \"shape\"");
      }
      if (expect_char(j, '[', "expected '[' to open the shape"))
        return -1;
      t->rank = 0;
      if (!peek(j, ']'))
        for (;;) {
          uint64_t d;
          if (t->rank == NETC_MAX_RANK)
            return netc_errorf(j->err, j->errlen, "safetensors: tensor '%s': more than %d dimensions",
                               name, NETC_MAX_RANK);
          if (parse_uint(j, &d))
            return -1;
          t->shape[t->rank++] = (int64_t)d;
          if (peek(j, ','))
            j->pos++;
          else
            break;
        }
      if (expect_char(j, ']', "expected ',' or ']' in the shape"))
        return -1;
    } else if (klen == 12 && memcmp(key, "data_offsets", 12) == 0) {
      if (have_offsets++) {
        j->pos = key_pos;
        return json_error(j, "duplicate key \"data_offsets\"");
      }
      uint64_t b, e;
      if (expect_char(j, '[', "expected '[' to open data_offsets") || parse_uint(j, &b) ||
          expect_char(j, ',', "expected ',' between the two data_offsets") || parse_uint(j, &e) ||
          expect_char(j, ']', "expected ']' after two data_offsets"))
        return -1;
      t->begin = b;
      t->end = e;
    } else {
      char shown[40];
      key[NETC_MIN(klen, sizeof key - 1)] = '\0';
      j->pos = key_pos;
      return netc_errorf(j->err, j->errlen,
                         "safetensors: tensor '%s': unknown key \"%s\" (expected dtype, shape, data_offsets; header byte %zu)",
                         name, printable(key, shown, sizeof shown), key_pos);
    }
    if (peek(j, ',')) {
      j->pos++;
      continue;
    }
    if (expect_char(j, '}', "expected ',' or '}' in a tensor entry"))
      return -1;
    break;
  }
  if (!have_dtype || !have_shape || !have_offsets)
    return netc_errorf(j->err, j->errlen, "safetensors: tensor '%s': missing \"%s\"", name,
                       !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");

  // The tensor on its own: numel, byte size, offsets.
  int64_t numel = 1;
  for (int32_t d = 0; d < t->rank; d++) {
    if (t->shape[d] != 0 && numel > INT64_MAX / t->shape[d])
      return netc_errorf(j->err, j->errlen, "safetensors: tensor '%s': element count overflows", name);
    numel *= t->shape[d];
  }
  t->numel = numel;
  uint64_t size = (uint64_t)netc_dtype_size(t->dtype);
  if ((uint64_t)numel > UINT64_MAX / size)
    return netc_errorf(j->err, j->errlen, "safetensors: tensor '%s': byte size overflows", name);
  uint64_t nbytes = (uint64_t)numel * size;
  if (t->begin > t->end)
    return netc_errorf(j->err, j->errlen, "safetensors: tensor '%s': data_offsets [%llu, %llu] end before they begin",
                       name, (unsigned long long)t->begin, (unsigned long long)t->end);
  if (t->end > ix->data_size)
    return netc_errorf(j->err, j->errlen,
                       "safetensors: tensor '%s': data_offsets [%llu, %llu] past the end of the data section (%llu bytes)",
                       name, (unsigned long long)t->begin, (unsigned long long)t->end,
                       (unsigned long long)ix->data_size);
  if (t->end - t->begin != nbytes)
    return netc_errorf(j->err, j->errlen,
                       "safetensors: tensor '%s': data_offsets [%llu, %llu] span %llu bytes, but %s x %lld elements is %llu",
                       name, (unsigned long long)t->begin, (unsigned long long)t->end,
                       (unsigned long long)(t->end - t->begin), netc_dtype_name(t->dtype),
                       (long long)numel, (unsigned long long)nbytes);
  return 0;
}

// "__metadata__": {"key": "value", ...}
static int32_t parse_metadata(Json *j, Index *ix) {
  if (expect_char(j, '{', "expected '{': __metadata__ must be an object of strings"))
    return -1;
  if (peek(j, '}')) {
    j->pos++;
    return 0;
  }
  for (;;) {
    const char *key, *value;
    char msg[80];
    if (parse_stored_string(j, ix, &key, msg, sizeof msg) ||
        expect_char(j, ':', "expected ':' after a key"))
      return -1;
    if (!peek(j, '"'))
      return json_error(j, "__metadata__ values must be strings");
    if (parse_stored_string(j, ix, &value, msg, sizeof msg))
      return -1;
    if (ix->meta_keys) {
      ix->meta_keys[ix->nmeta] = key;
      ix->meta_values[ix->nmeta] = value;
    }
    ix->nmeta++;
    if (peek(j, ',')) {
      j->pos++;
      continue;
    }
    return expect_char(j, '}', "expected ',' or '}' in __metadata__");
  }
}

static int32_t parse_header(Json *j, Index *ix) {
  int seen_meta = 0;
  if (expect_char(j, '{', "expected '{': the header must be a JSON object"))
    return -1;
  if (peek(j, '}'))
    j->pos++;
  else
    for (;;) {
      skip_ws(j);
      size_t key_pos = j->pos;
      int is_meta;
      {
        Json probe = *j;  // decode the key once to see if it is __metadata__
        if (parse_key_is(&probe, "__metadata__", &is_meta))
          return -1;
      }
      if (is_meta) {
        if (seen_meta++)
          return json_error(j, "duplicate \"__metadata__\"");
        size_t len;
        char tmp[16];
        if (parse_string(j, tmp, sizeof tmp, &len) ||  // the key, known good
            expect_char(j, ':', "expected ':' after a key") || parse_metadata(j, ix))
          return -1;
      } else {
        netc_st_tensor scratch_t, *t = ix->tensors ? &ix->tensors[ix->ntensors] : &scratch_t;
        char name[80];
        memset(t, 0, sizeof *t);
        if (parse_stored_string(j, ix, &t->name, name, sizeof name))
          return -1;
        if (ix->ntensors >= INT32_MAX) {
          j->pos = key_pos;
          return json_error(j, "too many tensors");
        }
        if (expect_char(j, ':', "expected ':' after a tensor name") || parse_tensor(j, ix, t, name))
          return -1;
        ix->ntensors++;
      }
      if (peek(j, ',')) {
        j->pos++;
        continue;
      }
      if (expect_char(j, '}', "expected ',' or '}' after an entry"))
        return -1;
      break;
    }
  skip_ws(j);
  if (j->pos != j->n)
    return json_error(j, "unexpected bytes after the header object");
  return 0;
}

//
// Cross-tensor checks
//

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const netc_st_tensor *)a)->name, ((const netc_st_tensor *)b)->name);
}

static int cmp_offset(const void *a, const void *b) {
  const netc_st_tensor *x = *(const netc_st_tensor *const *)a, *y = *(const netc_st_tensor *const *)b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// Names unique, tensors tile [0, data_size) without overlap or gap.
static int32_t check_layout(netc_safetensors *st, const netc_st_tensor **by_offset,
                            const char **meta_sorted, char *err, size_t errlen) {
  char a[80], b[80];
  qsort(st->tensors, (size_t)st->ntensors, sizeof *st->tensors, cmp_name);
  for (int32_t i = 1; i < st->ntensors; i++)
    if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0)
      return netc_errorf(err, errlen, "safetensors: duplicate tensor name '%s'",
                         printable(st->tensors[i].name, a, sizeof a));
  for (int32_t i = 0; i < st->nmeta; i++)
    meta_sorted[i] = st->meta_keys[i];
  qsort(meta_sorted, (size_t)st->nmeta, sizeof *meta_sorted, cmp_str);
  for (int32_t i = 1; i < st->nmeta; i++)
    if (strcmp(meta_sorted[i - 1], meta_sorted[i]) == 0)
      return netc_errorf(err, errlen, "safetensors: duplicate __metadata__ key '%s'",
                         printable(meta_sorted[i], a, sizeof a));

  for (int32_t i = 0; i < st->ntensors; i++)
    by_offset[i] = &st->tensors[i];
  qsort(by_offset, (size_t)st->ntensors, sizeof *by_offset, cmp_offset);
  uint64_t covered = 0;  // bytes [0, covered) belong to the tensors seen so far
  const netc_st_tensor *prev = NULL;
  for (int32_t i = 0; i < st->ntensors; i++) {
    const netc_st_tensor *t = by_offset[i];
    if (t->begin < covered)
      return netc_errorf(err, errlen, "safetensors: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap",
                         printable(prev->name, a, sizeof a), (unsigned long long)prev->begin,
                         (unsigned long long)prev->end, printable(t->name, b, sizeof b),
                         (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->begin > covered)
      return netc_errorf(err, errlen,
                         "safetensors: data bytes [%llu, %llu) belong to no tensor (gap before '%s')",
                         (unsigned long long)covered, (unsigned long long)t->begin,
                         printable(t->name, a, sizeof a));
    covered = t->end;
    prev = t;
  }
  if (covered != st->data_size)
    return netc_errorf(err, errlen,
                       "safetensors: data section has %llu bytes but the tensors cover only %llu",
                       (unsigned long long)st->data_size, (unsigned long long)covered);
  return 0;
}

//
// Public API
//

static uint64_t read_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

int32_t netc_safetensors_init(netc_safetensors *st, const void *buf, uint64_t size, char *err,
                              size_t errlen) {
  memset(st, 0, sizeof *st);
  if (buf == NULL && size > 0)
    return netc_errorf(err, errlen, "safetensors: no buffer");
  if (size < 8)
    return netc_errorf(err, errlen, "safetensors: file is %llu bytes, too short for the 8-byte header length",
                       (unsigned long long)size);
  const uint8_t *file = buf;
  uint64_t hlen = read_le64(file);
  if (hlen > size - 8)
    return netc_errorf(err, errlen,
                       "safetensors: header length %llu runs past the end of the file (%llu bytes after the length field)",
                       (unsigned long long)hlen, (unsigned long long)(size - 8));
  if (hlen > MAX_HEADER_BYTES)
    return netc_errorf(err, errlen, "safetensors: header length %llu exceeds the %u-byte limit",
                       (unsigned long long)hlen, MAX_HEADER_BYTES);
  if (hlen < 2)
    return netc_errorf(err, errlen, "safetensors: header length %llu is too short for a JSON object",
                       (unsigned long long)hlen);

  Json j = {file + 8, (size_t)hlen, 0, err, errlen};
  Index ix;
  memset(&ix, 0, sizeof ix);
  ix.data_size = size - 8 - hlen;

  // Pass 1: validate and count.
  if (parse_header(&j, &ix))
    return -1;

  // One allocation: tensors, offset order, metadata pointers, strings.
  size_t nt = (size_t)ix.ntensors, nm = (size_t)ix.nmeta;
  size_t bytes = nt * sizeof(netc_st_tensor) + nt * sizeof(netc_st_tensor *) +
                 3 * nm * sizeof(char *) + ix.string_bytes + 1;
  char *mem = malloc(bytes);
  if (!mem)
    return netc_errorf(err, errlen, "safetensors: out of memory for the index (%zu bytes)", bytes);
  memset(mem, 0, bytes);
  Index fill;
  memset(&fill, 0, sizeof fill);
  fill.data_size = ix.data_size;
  fill.tensors = (netc_st_tensor *)(void *)mem;
  const netc_st_tensor **by_offset = (const netc_st_tensor **)(void *)(fill.tensors + nt);
  fill.meta_keys = (const char **)(void *)(by_offset + nt);
  fill.meta_values = fill.meta_keys + nm;
  const char **meta_sorted = fill.meta_values + nm;
  fill.strings = (char *)(meta_sorted + nm);
  fill.strings_cap = ix.string_bytes + 1;

  // Pass 2: fill (cannot fail where pass 1 succeeded).
  j.pos = 0;
  int32_t rc = parse_header(&j, &fill);
  assert(rc == 0 && fill.ntensors == ix.ntensors && fill.nmeta == ix.nmeta);
  (void)rc;

  st->file = file;
  st->file_size = size;
  st->data = file + 8 + hlen;
  st->data_size = ix.data_size;
  st->tensors = fill.tensors;
  st->ntensors = (int32_t)nt;
  st->meta_keys = fill.meta_keys;
  st->meta_values = fill.meta_values;
  st->nmeta = (int32_t)nm;
  st->mem_ = mem;
  if (check_layout(st, by_offset, meta_sorted, err, errlen)) {
    netc_safetensors_free(st);
    return -1;
  }
  for (int32_t i = 0; i < st->ntensors; i++)
    st->tensors[i].data = st->data + st->tensors[i].begin;
  return 0;
}

int32_t netc_safetensors_init_file(netc_safetensors *st, const char *path, char *err,
                                   size_t errlen) {
  memset(st, 0, sizeof *st);
  FILE *f = fopen(path, "rb");
  if (!f)
    return netc_errorf(err, errlen, "safetensors: cannot open '%s': %s", path, strerror(errno));
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return netc_errorf(err, errlen, "safetensors: cannot determine the size of '%s'", path);
  }
  uint8_t *buf = malloc((size_t)size + 1);
  if (!buf) {
    fclose(f);
    return netc_errorf(err, errlen, "safetensors: out of memory reading '%s' (%ld bytes)", path, size);
  }
  size_t got = fread(buf, 1, (size_t)size, f);
  int extra = fgetc(f) != EOF;
  int failed = ferror(f);
  fclose(f);
  if (got != (size_t)size || extra || failed) {
    free(buf);
    return netc_errorf(err, errlen, "safetensors: cannot read '%s' (size changed or I/O error)", path);
  }
  char inner[256];
  if (netc_safetensors_init(st, buf, (uint64_t)size, inner, sizeof inner)) {
    free(buf);
    const char *prefix = "safetensors: ";
    const char *rest = strncmp(inner, prefix, strlen(prefix)) == 0 ? inner + strlen(prefix) : inner;
    return netc_errorf(err, errlen, "safetensors: %s: %s", path, rest);
  }
  st->owned_ = buf;
  return 0;
}

void netc_safetensors_free(netc_safetensors *st) {
  free(st->mem_);
  free(st->owned_);
  memset(st, 0, sizeof *st);
}

const netc_st_tensor *netc_safetensors_find(const netc_safetensors *st, const char *name) {
  netc_st_tensor key;
  memset(&key, 0, sizeof key);
  key.name = name;
  if (st->ntensors == 0)
    return NULL;
  return bsearch(&key, st->tensors, (size_t)st->ntensors, sizeof *st->tensors, cmp_name);
}

// "[64, 3, 7, 7]" into buf.
static const char *shape_str(int32_t rank, const int64_t *shape, char *buf, size_t cap) {
  size_t at = 0;
  at += (size_t)snprintf(buf, cap, "[");
  for (int32_t d = 0; d < rank && at < cap; d++)
    at += (size_t)snprintf(buf + at, cap - at, d ? ", %lld" : "%lld", (long long)shape[d]);
  if (at < cap)
    snprintf(buf + at, cap - at, "]");
  return buf;
}

int32_t netc_safetensors_expect(netc_safetensors *st, const char *name, netc_dtype dtype,
                                int32_t rank, const int64_t *shape, char *err, size_t errlen) {
  char a[80], got[160], want[160];
  const netc_st_tensor *found = netc_safetensors_find(st, name);
  if (!found)
    return netc_errorf(err, errlen, "safetensors: missing tensor '%s' (the file has %d tensors)",
                       printable(name, a, sizeof a), (int)st->ntensors);
  netc_st_tensor *t = &st->tensors[found - st->tensors];
  if (t->dtype != dtype)
    return netc_errorf(err, errlen, "safetensors: tensor '%s' has dtype %s, expected %s",
                       printable(name, a, sizeof a), netc_dtype_name(t->dtype), netc_dtype_name(dtype));
  int same = t->rank == rank;
  for (int32_t d = 0; same && d < rank; d++)
    same = t->shape[d] == shape[d];
  if (!same)
    return netc_errorf(err, errlen, "safetensors: tensor '%s' has shape %s, expected %s",
                       printable(name, a, sizeof a), shape_str(t->rank, t->shape, got, sizeof got),
                       shape_str(rank, shape, want, sizeof want));
  t->used = 1;
  return 0;
}

int32_t netc_safetensors_read_f32(netc_safetensors *st, const char *name, int32_t rank,
                                  const int64_t *shape, float *dst, char *err, size_t errlen) {
  if (netc_safetensors_expect(st, name, NETC_DTYPE_F32, rank, shape, err, errlen))
    return -1;
  const netc_st_tensor *t = netc_safetensors_find(st, name);
  const uint16_t probe = 1;
  uint8_t first;
  memcpy(&first, &probe, 1);
  if (first == 1) {  // little-endian host: the bytes are already floats
    if (t->numel > 0)
      memcpy(dst, t->data, (size_t)(t->end - t->begin));
  } else {
    for (int64_t i = 0; i < t->numel; i++) {
      const uint8_t *p = t->data + 4 * i;
      uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
      memcpy(dst + i, &u, 4);
    }
  }
  return 0;
}

int32_t netc_safetensors_read_index(netc_safetensors *st, const char *name, int32_t rank, const int64_t *shape,
                                    int64_t limit, float *dst, char *err, size_t errlen) {
  if (netc_safetensors_expect(st, name, NETC_DTYPE_I64, rank, shape, err, errlen))
    return -1;
  const netc_st_tensor *t = netc_safetensors_find(st, name);
  char a[80];
  for (int64_t i = 0; i < t->numel; i++) {
    const uint8_t *p = t->data + 8 * i;
    uint64_t u = 0;
    for (int k = 7; k >= 0; k--)
      u = u << 8 | p[k];
    // Two's complement by hand: a negative int64 is u >= 2^63.
    if (u >= (uint64_t)limit) {
      long long v = u >> 63 ? -(long long)(~u) - 1 : (long long)u;
      return netc_errorf(err, errlen, "safetensors: tensor '%s' holds %lld at element %lld; its values index a "
                         "dimension of size %lld, so they must be in [0, %lld)", printable(name, a, sizeof a), v,
                         (long long)i, (long long)limit, (long long)limit);
    }
    dst[i] = (float)u;
  }
  return 0;
}

int32_t netc_safetensors_check_unused(const netc_safetensors *st, char *err, size_t errlen) {
  int32_t unused = 0;
  const char *first = NULL;
  for (int32_t i = 0; i < st->ntensors; i++)
    if (!st->tensors[i].used && unused++ == 0)
      first = st->tensors[i].name;
  if (unused == 0)
    return 0;
  char a[80];
  if (unused == 1)
    return netc_errorf(err, errlen, "safetensors: unexpected tensor '%s' (not used by the model)",
                       printable(first, a, sizeof a));
  return netc_errorf(err, errlen, "safetensors: unexpected tensor '%s' and %d more (not used by the model)",
                     printable(first, a, sizeof a), (int)(unused - 1));
}

const char *netc_safetensors_get_metadata(const netc_safetensors *st, const char *key) {
  for (int32_t i = 0; i < st->nmeta; i++)
    if (strcmp(st->meta_keys[i], key) == 0)
      return st->meta_values[i];
  return NULL;
}

#else
typedef int netc_safetensors_absent; // ISO C wants something in a translation unit
#endif /* NETC_NO_STDIO */
