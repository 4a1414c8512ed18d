// util.c -- allocation, interned strings and small helpers shared by every pass.
//
// The compiler allocates from the C heap and never frees (chibicc's rule): a
// compile is short-lived and the graph lives until exit. Allocation failure
// is an internal error, not a user error.
#include "netc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Noreturn void internal_error(const char *file, int line, const char *msg) {
  fprintf(stderr, "netc: internal error at %s:%d: %s\n", file, line, msg);
  fflush(stderr);
  abort();
}

void *xalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) {
    fprintf(stderr, "netc: out of memory\n");
    exit(1);
  }
  return p;
}

char *xstrndup(const char *s, size_t n) {
  char *p = xalloc(n + 1);
  memcpy(p, s, n);
  return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *buf = xalloc((size_t)n + 1);
  vsnprintf(buf, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return buf;
}

void *grow(void *p, int *cap, int need, size_t elem) {
  if (need <= *cap)
    return p;
  int c = *cap ? *cap : 8;
  while (c < need)
    c *= 2;
  p = realloc(p, (size_t)c * elem);
  if (!p) {
    fprintf(stderr, "netc: out of memory\n");
    exit(1);
  }
  memset((char *)p + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
  *cap = c;
  return p;
}

// Interned strings: open addressing on an FNV-1a hash. Names compare by
// pointer after interning, which keeps scope lookups cheap for huge nets.
static const char **itab;
static size_t icap, icount;

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

const char *intern(const char *s, size_t n) {
  if (icount * 2 >= icap) {
    size_t ncap = icap ? icap * 2 : 1024;
    const char **nt = xalloc(ncap * sizeof *nt);
    for (size_t i = 0; i < icap; i++) {
      if (!itab[i])
        continue;
      size_t j = hash_bytes(itab[i], strlen(itab[i])) & (ncap - 1);
      while (nt[j])
        j = (j + 1) & (ncap - 1);
      nt[j] = itab[i];
    }
    free(itab);
    itab = nt;
    icap = ncap;
  }
  size_t j = hash_bytes(s, n) & (icap - 1);
  while (itab[j]) {
    if (strncmp(itab[j], s, n) == 0 && itab[j][n] == '\0')
      return itab[j];
    j = (j + 1) & (icap - 1);
  }
  itab[j] = xstrndup(s, n);
  icount++;
  return itab[j];
}

// Levenshtein distance, for "did you mean" suggestions.
int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return 1000;
  int row[65];
  for (size_t j = 0; j <= lb; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int prev = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int cur = row[j];
      int best = prev + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best)
        best = row[j] + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      prev = cur;
    }
  }
  return row[lb];
}

// Reads a whole file, NUL-terminated. Refuses directories and files larger
// than NETC_MAX_SOURCE bytes so a stray 'netc /dev/zero' cannot hang us.
#define NETC_MAX_SOURCE (64L * 1024 * 1024)
char *read_file(const char *path, size_t *len, const char **err) {
  struct stat st;
  if (stat(path, &st) != 0) {
    *err = strerror(errno);
    return NULL;
  }
  if (S_ISDIR(st.st_mode)) {
    *err = "is a directory";
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    *err = strerror(errno);
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    *err = "out of memory";
    return NULL;
  }
  for (;;) {
    if (n + 1 >= cap) {
      if (cap > (size_t)NETC_MAX_SOURCE) {
        free(buf);
        fclose(f);
        *err = "file too large (limit 64 MiB)";
        return NULL;
      }
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        *err = "out of memory";
        return NULL;
      }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    free(buf);
    fclose(f);
    *err = "read error";
    return NULL;
  }
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

char *fmt_int(int64_t v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
  size_t n = strlen(tmp);
  char out[48];
  size_t o = 0;
  if (v < 0)
    out[o++] = '-';
  for (size_t i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0)
      out[o++] = ',';
    out[o++] = tmp[i];
  }
  out[o] = '\0';
  return xstrdup(out);
}

// Length of the UTF-8 sequence starting at s (n bytes available), or 0 if it
// is not valid UTF-8 (overlong forms and surrogates are invalid too).
size_t utf8_len(const char *str, size_t n) {
  const unsigned char *p = (const unsigned char *)str;
  if (n == 0)
    return 0;
  unsigned c = p[0];
  size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || len > n || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
    return 0;
  for (size_t k = 1; k < len; k++)
    if ((p[k] & 0xC0) != 0x80)
      return 0;
  if (len == 3) {
    unsigned cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
  }
  if (len == 4) {
    unsigned cp = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12);
    if (cp < 0x10000 || cp > 0x10FFFF)
      return 0;
  }
  return len;
}
