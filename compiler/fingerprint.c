// fingerprint.c -- a 64-bit fingerprint of an elaborated graph.
//
// requires: the graph as elaborate() leaves it (ids, names, ops, shapes).
// produces: graph_fingerprint, which the generated header carries as
//           PREFIX_FINGERPRINT, the runner's --calibrate writes into the
//           ranges file, and netc --quantize compares with the graph it
//           compiles: a ranges file recorded on another net, or on this net
//           edited since, is refused instead of silently mis-applied.
//
// It reads only what the passes never change (fusion and lowering add
// fields, they do not rename, reorder or reshape layers), so it is the same
// before and after them, and the same for a float and a quantized compile.
#include "netc.h"

#include <string.h>

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= FNV64_PRIME;
  }
  return h;
}

// Integers go in little-endian whatever the host, so that the fingerprint of
// a graph is the same number on every machine that compiles it.
static uint64_t fnv_u64(uint64_t h, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++)
    h = fnv_bytes(h, &(unsigned char){(unsigned char)(v >> (8 * i))}, 1);
  return h;
}

// Strings with their terminating NUL: ("ab", "c") and ("a", "bc") differ.
static uint64_t fnv_str(uint64_t h, const char *s) { return fnv_bytes(h, s, strlen(s) + 1); }

uint64_t graph_fingerprint(const Graph *g) {
  uint64_t h = FNV64_OFFSET;
  for (int i = 0; i < g->nlayers; i++) {
    const Layer *l = g->layers[i];
    h = fnv_u64(h, (uint64_t)(uint32_t)l->id, 4);
    h = fnv_str(h, l->name);
    h = fnv_str(h, op_table[l->op].name);
    h = fnv_u64(h, (uint64_t)(uint32_t)l->shape.rank, 4);
    for (int d = 0; d < l->shape.rank; d++)
      h = fnv_u64(h, (uint64_t)l->shape.d[d], 8);
  }
  return h;
}
