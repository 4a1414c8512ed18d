// util.c -- allocation, interned strings and small helpers shared by every pass.
//
// The compiler allocates from an arena of big zeroed chunks and frees nothing
// one by one (chibicc's rule: a compile is short-lived). xfree_all() releases
// everything at once, which is what lets a fuzzer compile millions of inputs
// in one process, and keeps valgrind's "definitely lost" at zero: the chunks
// stay reachable from a global until then. Out of memory is fatal.
#include "netc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Noreturn void internal_error(const char *file, int line, const char *msg) {
  fprintf(stderr, "netc: internal error at %s:%d: %s\n", file, line, msg);
  fflush(stderr);
  abort();
}

typedef struct Chunk {
  struct Chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} Chunk;

static Chunk *chunks;
#define CHUNK_SIZE ((size_t)1 << 20)

static _Noreturn void out_of_memory(void) {
  fprintf(stderr, "netc: out of memory\n");
  exit(1);
}

void *xalloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (n == 0)
    n = 16;
  if (!chunks || chunks->size - chunks->used < n) {
    size_t size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
    if (size > SIZE_MAX - sizeof(Chunk))
      out_of_memory();
    Chunk *c = calloc(1, sizeof(Chunk) + size);
    if (!c)
      out_of_memory();
    c->size = size;
    // A big one-off block goes behind the current chunk, which stays open.
    if (chunks && size != CHUNK_SIZE) {
      c->next = chunks->next;
      chunks->next = c;
      c->used = n;
      return c->data;
    }
    c->next = chunks;
    chunks = c;
  }
  void *p = chunks->data + chunks->used;
  chunks->used += n;
  return p;
}

void *xrealloc(void *p, size_t old, size_t n) {
  void *q = xalloc(n);
  if (p && old)
    memcpy(q, p, old < n ? old : n);
  return q;
}

static const char **itab;
static size_t icap, icount;

void xfree_all(void) {
  while (chunks) {
    Chunk *next = chunks->next;
    free(chunks);
    chunks = next;
  }
  free(itab);
  itab = NULL;
  icap = icount = 0;
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
  p = xrealloc(p, (size_t)*cap * elem, (size_t)c * elem);
  *cap = c;
  return p;
}

// Interned strings: open addressing on an FNV-1a hash. Names compare by
// pointer after interning, which keeps scope lookups cheap for huge nets.
// The table itself is on the heap (it is rebuilt as it grows); the strings
// are in the arena.

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

const char *intern(const char *s, size_t n) {
  if (icount * 2 >= icap) {
    size_t ncap = icap ? icap * 2 : 1024;
    const char **nt = calloc(ncap, sizeof *nt);
    if (!nt)
      out_of_memory();
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
// than max_source_bytes (--max-source) so a stray 'netc /dev/zero' cannot hang us.
int64_t max_source_bytes = 64LL * 1024 * 1024;
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
  if (S_ISREG(st.st_mode) && st.st_size > max_source_bytes) {
    *err = format("file of %s bytes is larger than the limit of %s (raise it with --max-source)",
                  fmt_int(st.st_size), fmt_int(max_source_bytes));
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
      if (n > (size_t)max_source_bytes) { // pipes and devices: no size to stat
        free(buf);
        fclose(f);
        *err = format("file larger than the limit of %s bytes (raise it with --max-source)",
                      fmt_int(max_source_bytes));
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

// A byte size: decimal digits, then optionally a unit (any case): B (1),
// K, KiB (1024), KB (1000), M, MiB (1024^2), MB (10^6), G, GiB (1024^3),
// GB (10^9). A bare K, M or G is binary, as in ld's and GNU tools' sizes.
// No sign, no fraction, no spaces. Returns NULL with the value in *out, or
// why s is not a size.
const char *parse_byte_size(const char *s, int64_t *out) {
  static const struct {
    const char *unit;
    int64_t scale;
  } units[] = {{"", 1},
               {"b", 1},
               {"k", 1024},
               {"kib", 1024},
               {"kb", 1000},
               {"m", 1024 * 1024},
               {"mib", 1024 * 1024},
               {"mb", 1000 * 1000},
               {"g", 1024 * 1024 * 1024},
               {"gib", 1024 * 1024 * 1024},
               {"gb", 1000 * 1000 * 1000}};
  const char *p = s;
  int64_t v = 0;
  if (*p < '0' || *p > '9')
    return *p == '-' ? "a size cannot be negative" : "a size starts with a digit";
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (INT64_MAX - (*p - '0')) / 10)
      return "too large";
    v = v * 10 + (*p - '0');
  }
  if (*p == '.' || *p == ',')
    return "a size is a whole number (write 1536KiB, not 1.5MiB)";
  char unit[4];
  size_t n = strlen(p);
  if (n >= sizeof unit)
    return "unknown unit (expected B, K, KiB, KB, M, MiB, MB, G, GiB or GB)";
  for (size_t i = 0; i <= n; i++)
    unit[i] = (char)tolower((unsigned char)p[i]);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(unit, units[i].unit) == 0) {
      if (v > INT64_MAX / units[i].scale)
        return "too large";
      *out = v * units[i].scale;
      return NULL;
    }
  return "unknown unit (expected B, K, KiB, KB, M, MiB, MB, G, GiB or GB)";
}
