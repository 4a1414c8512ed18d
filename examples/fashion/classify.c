/* classify.c -- Fashion-MNIST in plain C with a netc-generated LeNet.
 *
 *   build/netc examples/fashion/lenet_fashion.net -o build/fashion/lenet_fashion.c
 *   cc -std=c99 -O2 examples/fashion/classify.c build/fashion/lenet_fashion.c \
 *      -Ibuild/fashion -Iruntime build/libnetcrt.a -lm -o build/fashion/classify
 *   build/fashion/classify [--weights W.safetensors] [--images F] [--labels F] [--predictions OUT]
 *   build/fashion/classify --images train-images-idx3-ubyte.gz --limit 1000 --write-inputs CALIB.f32
 *
 * Reads the IDX test images and labels (as Debian's dataset-fashion-mnist installs
 * them, gzip'd, or already gunzip'd), checks their headers, classifies every image
 * with the generated code, and prints a confusion matrix and the accuracy.
 * Uses only the C library, the generated lenet_fashion.[ch] and the netc runtime;
 * gzip is decoded here (RFC 1951/1952, CRC-checked) so no zlib is needed.
 *
 * Preprocessing is exactly train.py's: a pixel p in 0..255 becomes (float)p / 255.0f.
 * --write-inputs writes the (first --limit) images so preprocessed, raw float32 back to back,
 * and classifies nothing: the calibration file of an int8 build (`RUNNER --calibrate FILE`).
 *
 * Exit status: 0 success, 1 a missing, short or corrupt file (or bad weights), 2 bad usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lenet_fashion.h"

#define CLASSES 10
#define ROWS 28
#define COLS 28

#if LENET_FASHION_OUTPUT_FLOATS != CLASSES || LENET_FASHION_INPUT_FLOATS != ROWS * COLS
#error "lenet_fashion.net must map a 1x1x28x28 image to 10 logits"
#endif

#ifndef FASHION_DATA
#define FASHION_DATA "/usr/share/datasets/fashion-mnist"
#endif
#ifndef FASHION_WEIGHTS
#define FASHION_WEIGHTS "examples/fashion/lenet_fashion.safetensors"
#endif
#define FASHION_PACKAGE "dataset-fashion-mnist"

static const char *const class_names[CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* Larger inputs are refused rather than read: the training set is 47 MB. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

/* ---- reading a file whole ------------------------------------------------------- */

/* Returns 0 and a malloc'd buffer, or -1 after printing why. */
static int read_file(const char *path, unsigned char **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  if (!f) {
    fprintf(stderr, "classify: %s: cannot open: %s\n", path, strerror(errno));
    if (errno == ENOENT && strncmp(path, FASHION_DATA "/", sizeof FASHION_DATA) == 0)
      fprintf(stderr, "classify: the Fashion-MNIST files come with the Debian package %s "
                      "(apt-get install %s)\n", FASHION_PACKAGE, FASHION_PACKAGE);
    return -1;
  }
  for (;;) {
    size_t got;
    if (len == cap) {
      unsigned char *nb;
      if (cap >= MAX_FILE_BYTES) {
        fprintf(stderr, "classify: %s: larger than %lu bytes, not an IDX file of this data set\n", path,
                (unsigned long)MAX_FILE_BYTES);
        goto fail;
      }
      cap = cap ? 2 * cap : (size_t)1 << 20;
      nb = realloc(buf, cap);
      if (!nb) {
        fprintf(stderr, "classify: %s: out of memory\n", path);
        goto fail;
      }
      buf = nb;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        fprintf(stderr, "classify: %s: read error: %s\n", path, strerror(errno));
        goto fail;
      }
      break;
    }
  }
  fclose(f);
  *data = buf;
  *size = len;
  return 0;
fail:
  fclose(f);
  free(buf);
  return -1;
}

/* ---- gzip: RFC 1952 around RFC 1951 DEFLATE (after zlib's puff.c) ------------------ */

typedef struct {
  const unsigned char *in;
  size_t inlen, inpos;
  unsigned long bitbuf; /* bits not yet used, LSB first */
  int bitcnt;
  unsigned char *out;
  size_t outlen, outpos;
  const char *err; /* first error, or NULL */
} inflater;

typedef struct {
  short count[16];   /* codes of each length */
  short symbol[288]; /* symbols in canonical order */
} huffman;

static unsigned getbits(inflater *s, int need) {
  unsigned long val = s->bitbuf;
  while (s->bitcnt < need) {
    if (s->inpos == s->inlen) {
      if (!s->err)
        s->err = "the compressed data ends early";
      return 0;
    }
    val |= (unsigned long)s->in[s->inpos++] << s->bitcnt;
    s->bitcnt += 8;
  }
  s->bitbuf = val >> need;
  s->bitcnt -= need;
  return (unsigned)(val & ((1UL << need) - 1));
}

/* Canonical Huffman code from code lengths. Returns 0 (complete), > 0 (incomplete)
   or < 0 (over-subscribed). */
static int construct(huffman *h, const short *length, int n) {
  short offs[16];
  int left = 1;
  for (int len = 0; len < 16; len++)
    h->count[len] = 0;
  for (int sym = 0; sym < n; sym++)
    h->count[length[sym]]++;
  if (h->count[0] == n)
    return 0;
  for (int len = 1; len < 16; len++) {
    left <<= 1;
    left -= h->count[len];
    if (left < 0)
      return left;
  }
  offs[1] = 0;
  for (int len = 1; len < 15; len++)
    offs[len + 1] = (short)(offs[len] + h->count[len]);
  for (int sym = 0; sym < n; sym++)
    if (length[sym] != 0)
      h->symbol[offs[length[sym]]++] = (short)sym;
  return left;
}

static int decode(inflater *s, const huffman *h) {
  int code = 0, first = 0, index = 0;
  for (int len = 1; len < 16; len++) {
    int count;
    code |= (int)getbits(s, 1);
    if (s->err)
      return -1;
    count = h->count[len];
    if (code - count < first)
      return h->symbol[index + (code - first)];
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  s->err = "an invalid Huffman code";
  return -1;
}

static void stored(inflater *s) {
  size_t len;
  s->bitbuf = 0; /* to a byte boundary */
  s->bitcnt = 0;
  if (s->inlen - s->inpos < 4) {
    s->err = "the compressed data ends early";
    return;
  }
  len = s->in[s->inpos] | (size_t)s->in[s->inpos + 1] << 8;
  if (s->in[s->inpos + 2] != (~len & 0xff) || s->in[s->inpos + 3] != ((~len >> 8) & 0xff)) {
    s->err = "a stored block's length check fails";
    return;
  }
  s->inpos += 4;
  if (s->inlen - s->inpos < len) {
    s->err = "the compressed data ends early";
    return;
  }
  if (s->outlen - s->outpos < len) {
    s->err = "more data than the gzip trailer states (corrupt file?)";
    return;
  }
  memcpy(s->out + s->outpos, s->in + s->inpos, len);
  s->inpos += len;
  s->outpos += len;
}

static void codes(inflater *s, const huffman *lencode, const huffman *distcode) {
  static const short lbase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static const short lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  static const short dbase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                  193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  static const short dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
  for (;;) {
    int sym = decode(s, lencode);
    size_t len, dist;
    if (s->err)
      return;
    if (sym < 256) {
      if (s->outpos == s->outlen) {
        s->err = "more data than the gzip trailer states (corrupt file?)";
        return;
      }
      s->out[s->outpos++] = (unsigned char)sym;
      continue;
    }
    if (sym == 256)
      return; /* end of block */
    sym -= 257;
    if (sym >= 29) {
      s->err = "an invalid length code";
      return;
    }
    len = (size_t)lbase[sym] + getbits(s, lext[sym]);
    sym = decode(s, distcode);
    if (s->err)
      return;
    if (sym >= 30) {
      s->err = "an invalid distance code";
      return;
    }
    dist = (size_t)dbase[sym] + getbits(s, dext[sym]);
    if (s->err)
      return;
    if (dist > s->outpos) {
      s->err = "a distance too far back";
      return;
    }
    if (s->outlen - s->outpos < len) {
      s->err = "more data than the gzip trailer states (corrupt file?)";
      return;
    }
    for (; len > 0; len--, s->outpos++)
      s->out[s->outpos] = s->out[s->outpos - dist];
  }
}

static void fixed(inflater *s) {
  static huffman lencode, distcode;
  static int built = 0;
  if (!built) {
    short lengths[288];
    int sym = 0;
    for (; sym < 144; sym++)
      lengths[sym] = 8;
    for (; sym < 256; sym++)
      lengths[sym] = 9;
    for (; sym < 280; sym++)
      lengths[sym] = 7;
    for (; sym < 288; sym++)
      lengths[sym] = 8;
    construct(&lencode, lengths, 288);
    for (sym = 0; sym < 30; sym++)
      lengths[sym] = 5;
    construct(&distcode, lengths, 30);
    built = 1;
  }
  codes(s, &lencode, &distcode);
}

static void dynamic(inflater *s) {
  static const short order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  short lengths[320];
  huffman lencode, distcode;
  int nlen, ndist, ncode, index, err;
  nlen = (int)getbits(s, 5) + 257;
  ndist = (int)getbits(s, 5) + 1;
  ncode = (int)getbits(s, 4) + 4;
  if (s->err)
    return;
  if (nlen > 286 || ndist > 30) {
    s->err = "a block header with too many codes";
    return;
  }
  for (index = 0; index < 19; index++)
    lengths[order[index]] = index < ncode ? (short)getbits(s, 3) : 0;
  if (s->err)
    return;
  if (construct(&lencode, lengths, 19) != 0) {
    s->err = "an incomplete code-length code";
    return;
  }
  index = 0;
  while (index < nlen + ndist) {
    int sym = decode(s, &lencode), rep;
    short len = 0;
    if (s->err)
      return;
    if (sym < 16) {
      lengths[index++] = (short)sym;
      continue;
    }
    if (sym == 16) {
      if (index == 0) {
        s->err = "a repeated code length with nothing to repeat";
        return;
      }
      len = lengths[index - 1];
      rep = 3 + (int)getbits(s, 2);
    } else if (sym == 17) {
      rep = 3 + (int)getbits(s, 3);
    } else {
      rep = 11 + (int)getbits(s, 7);
    }
    if (s->err)
      return;
    if (index + rep > nlen + ndist) {
      s->err = "too many code lengths";
      return;
    }
    while (rep-- > 0)
      lengths[index++] = len;
  }
  if (lengths[256] == 0) {
    s->err = "a block without an end-of-block code";
    return;
  }
  err = construct(&lencode, lengths, nlen);
  if (err < 0 || (err > 0 && nlen != lencode.count[0] + lencode.count[1])) {
    s->err = "an incomplete literal/length code";
    return;
  }
  err = construct(&distcode, lengths + nlen, ndist);
  if (err < 0 || (err > 0 && ndist != distcode.count[0] + distcode.count[1])) {
    s->err = "an incomplete distance code";
    return;
  }
  codes(s, &lencode, &distcode);
}

static uint32_t crc32_of(const unsigned char *p, size_t n) {
  static uint32_t table[256];
  static int built = 0;
  uint32_t crc = 0xffffffffu;
  if (!built) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    built = 1;
  }
  for (size_t i = 0; i < n; i++)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Replaces *data (a one-member gzip file) with its decompressed contents. */
static int gunzip(const char *path, unsigned char **data, size_t *size) {
  const unsigned char *in = *data;
  size_t n = *size, pos = 10;
  uint32_t isize;
  inflater s;
  int last;
  if (n < 18) {
    fprintf(stderr, "classify: %s: truncated gzip file (%lu bytes)\n", path, (unsigned long)n);
    return -1;
  }
  if (in[2] != 8 || (in[3] & 0xe0) != 0) {
    fprintf(stderr, "classify: %s: not a deflate-compressed gzip file\n", path);
    return -1;
  }
  if (in[3] & 4) /* FEXTRA */
    pos += 2 + (size_t)(in[10] | in[11] << 8);
  if (in[3] & 8) /* FNAME */
    while (pos < n && in[pos++] != 0) {
    }
  if (in[3] & 16) /* FCOMMENT */
    while (pos < n && in[pos++] != 0) {
    }
  if (in[3] & 2) /* FHCRC */
    pos += 2;
  if (pos + 8 > n) {
    fprintf(stderr, "classify: %s: truncated gzip header\n", path);
    return -1;
  }
  isize = le32(in + n - 4);
  if (isize > MAX_FILE_BYTES) {
    fprintf(stderr, "classify: %s: the gzip trailer states %lu bytes of data: a truncated or corrupt file, "
                    "or not this data set\n", path, (unsigned long)isize);
    return -1;
  }
  memset(&s, 0, sizeof s);
  s.in = in;
  s.inlen = n - 8;
  s.inpos = pos;
  s.outlen = isize;
  s.out = malloc(s.outlen + 1);
  if (!s.out) {
    fprintf(stderr, "classify: %s: out of memory\n", path);
    return -1;
  }
  do {
    unsigned type;
    last = (int)getbits(&s, 1);
    type = getbits(&s, 2);
    if (s.err)
      break;
    if (type == 0)
      stored(&s);
    else if (type == 1)
      fixed(&s);
    else if (type == 2)
      dynamic(&s);
    else
      s.err = "an invalid block type";
  } while (!last && !s.err);
  if (!s.err && s.outpos != s.outlen)
    s.err = "less data than the gzip trailer states (truncated file?)";
  if (!s.err && s.inpos != s.inlen)
    s.err = "data after the compressed stream (several gzip members are not supported)";
  if (!s.err && crc32_of(s.out, s.outpos) != le32(in + n - 8))
    s.err = "a CRC-32 mismatch: the file is corrupt";
  if (s.err) {
    fprintf(stderr, "classify: %s: bad gzip data: %s\n", path, s.err);
    free(s.out);
    return -1;
  }
  free(*data);
  *data = s.out;
  *size = s.outpos;
  return 0;
}

/* ---- IDX files (http://yann.lecun.com/exdb/mnist/: big-endian header) --------------- */

typedef struct {
  unsigned char *data;        /* the whole (decompressed) file */
  const unsigned char *items; /* the unsigned bytes after the header */
  unsigned long dims[3];
} idx_file;

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads an IDX file of unsigned bytes with ndim dimensions ("what" names it in errors). */
static int load_idx(const char *path, int ndim, const char *what, idx_file *f) {
  size_t size, head = 4 + 4 * (size_t)ndim;
  uint32_t magic, want = 0x00000800u | (uint32_t)ndim;
  unsigned long long items = 1;
  double promised = 1;
  memset(f, 0, sizeof *f);
  if (read_file(path, &f->data, &size) != 0)
    return -1;
  if (size >= 2 && f->data[0] == 0x1f && f->data[1] == 0x8b && gunzip(path, &f->data, &size) != 0)
    goto fail;
  if (size < head) {
    fprintf(stderr, "classify: %s: %lu bytes, too short for the %lu-byte IDX header of %s\n", path,
            (unsigned long)size, (unsigned long)head, what);
    goto fail;
  }
  magic = be32(f->data);
  if (magic != want) {
    fprintf(stderr, "classify: %s: magic number 0x%08lx, expected 0x%08lx (IDX %s: unsigned bytes, %d dimension%s)\n",
            path, (unsigned long)magic, (unsigned long)want, what, ndim, ndim == 1 ? "" : "s");
    goto fail;
  }
  for (int i = 0; i < ndim; i++) {
    f->dims[i] = (unsigned long)be32(f->data + 4 + 4 * i);
    promised *= (double)f->dims[i];
    if (items <= size) /* stops before it could overflow: each factor is below 2^32 */
      items *= f->dims[i];
    if (f->dims[i] == 0)
      items = 0;
  }
  if (items != size - head) {
    fprintf(stderr, "classify: %s: the header promises %.0f bytes of %s but the file has %lu after it%s\n", path,
            promised, what, (unsigned long)(size - head),
            items > size - head ? " (truncated)" : " (trailing bytes)");
    goto fail;
  }
  f->items = f->data + head;
  return 0;
fail:
  free(f->data);
  f->data = NULL;
  return -1;
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(out,
          "usage: classify [--weights FILE] [--images FILE] [--labels FILE] [--predictions FILE]\n"
          "\n"
          "Classifies Fashion-MNIST test images with the netc-generated LeNet and prints a\n"
          "confusion matrix and the accuracy. IDX files may be gzip'd.\n"
          "\n"
          "  --weights FILE      safetensors weights (default %s)\n"
          "  --images FILE       IDX images (default %s/t10k-images-idx3-ubyte.gz)\n"
          "  --labels FILE       IDX labels (default %s/t10k-labels-idx1-ubyte.gz)\n"
          "  --predictions FILE  also write each image's predicted class, one per line\n"
          "  --limit N           use only the first N images\n"
          "  --write-inputs FILE write the images as the net's inputs (float32 p / 255, back to\n"
          "                      back; an int8 build's calibration file) and classify nothing\n"
          "\n"
          "The data set is Debian's %s. Exit status: 0 success, 1 unreadable or\n"
          "corrupt input, 2 bad usage.\n",
          FASHION_WEIGHTS, FASHION_DATA, FASHION_DATA, FASHION_PACKAGE);
}

int main(int argc, char **argv) {
  const char *weights = FASHION_WEIGHTS;
  const char *images_path = FASHION_DATA "/t10k-images-idx3-ubyte.gz";
  const char *labels_path = FASHION_DATA "/t10k-labels-idx1-ubyte.gz";
  const char *predictions_path = NULL, *inputs_path = NULL, *limit_arg = NULL;
  unsigned long limit = ULONG_MAX;
  static lenet_fashion_model model;
  idx_file images, labels;
  unsigned long n, correct = 0, confusion[CLASSES][CLASSES] = {{0}};
  float input[ROWS * COLS], logits[CLASSES], scale[256];
  float *arena;
  FILE *pred = NULL;
  clock_t t0;
  double seconds;
  int status = 1;

  for (int i = 1; i < argc; i++) {
    const char **opt = NULL;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--weights") == 0)
      opt = &weights;
    else if (strcmp(argv[i], "--images") == 0)
      opt = &images_path;
    else if (strcmp(argv[i], "--labels") == 0)
      opt = &labels_path;
    else if (strcmp(argv[i], "--predictions") == 0)
      opt = &predictions_path;
    else if (strcmp(argv[i], "--write-inputs") == 0)
      opt = &inputs_path;
    else if (strcmp(argv[i], "--limit") == 0)
      opt = &limit_arg;
    if (!opt || i + 1 == argc) {
      fprintf(stderr, opt ? "classify: %s needs a file name\n" : "classify: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
    *opt = argv[++i];
  }
  if (limit_arg) {
    char *end;
    errno = 0;
    limit = strtoul(limit_arg, &end, 10);
    if (end == limit_arg || *end || errno || limit == 0 || limit_arg[0] == '-') {
      fprintf(stderr, "classify: --limit expects a positive count, got '%s'\n", limit_arg);
      return 2;
    }
  }
  for (int p = 0; p < 256; p++) /* train.py: images.to(torch.float32) / 255.0, an IEEE division per pixel. */
    scale[p] = (float)p / 255.0f;

  if (inputs_path) {
    FILE *out;
    int ok = 1;
    if (load_idx(images_path, 3, "images", &images) != 0)
      return 1;
    n = images.dims[0] < limit ? images.dims[0] : limit;
    if (images.dims[1] != ROWS || images.dims[2] != COLS || n == 0) {
      fprintf(stderr, "classify: %s: %lu images of %lux%lu, the model takes %dx%d\n", images_path,
              images.dims[0], images.dims[1], images.dims[2], ROWS, COLS);
      free(images.data);
      return 1;
    }
    if (!(out = fopen(inputs_path, "wb"))) {
      fprintf(stderr, "classify: %s: cannot create: %s\n", inputs_path, strerror(errno));
      free(images.data);
      return 1;
    }
    for (unsigned long i = 0; i < n && ok; i++) {
      const unsigned char *img = images.items + i * (ROWS * COLS);
      for (int k = 0; k < ROWS * COLS; k++)
        input[k] = scale[img[k]];
      if (fwrite(input, sizeof input, 1, out) != 1)
        ok = 0;
    }
    if (fclose(out) != 0 || !ok) {
      fprintf(stderr, "classify: %s: write error\n", inputs_path);
      remove(inputs_path);
      free(images.data);
      return 1;
    }
    printf("wrote %s: %lu images of %s as float32 p / 255 (%lu bytes)\n", inputs_path, n, images_path,
           n * (unsigned long)sizeof input);
    free(images.data);
    return 0;
  }

  if (lenet_fashion_load(&model, weights) != 0) {
    fprintf(stderr, "classify: %s\n", lenet_fashion_error(&model));
    return 1;
  }
  if (load_idx(images_path, 3, "images", &images) != 0) {
    lenet_fashion_free(&model);
    return 1;
  }
  if (load_idx(labels_path, 1, "labels", &labels) != 0) {
    free(images.data);
    lenet_fashion_free(&model);
    return 1;
  }
  n = images.dims[0] < limit ? images.dims[0] : limit;
  arena = malloc(sizeof(float) * (size_t)LENET_FASHION_ARENA_FLOATS);
  if (images.dims[1] != ROWS || images.dims[2] != COLS) {
    fprintf(stderr, "classify: %s: images are %lux%lu, the model takes %dx%d\n", images_path, images.dims[1],
            images.dims[2], ROWS, COLS);
    goto done;
  }
  if (labels.dims[0] != images.dims[0]) {
    fprintf(stderr, "classify: %s has %lu labels but %s has %lu images\n", labels_path, labels.dims[0], images_path,
            images.dims[0]);
    goto done;
  }
  if (n == 0) {
    fprintf(stderr, "classify: %s: no images\n", images_path);
    goto done;
  }
  for (unsigned long i = 0; i < n; i++)
    if (labels.items[i] >= CLASSES) {
      fprintf(stderr, "classify: %s: label %u of image %lu is not a class (0..9)\n", labels_path, labels.items[i], i);
      goto done;
    }
  if (!arena) {
    fprintf(stderr, "classify: out of memory\n");
    goto done;
  }
  if (predictions_path && !(pred = fopen(predictions_path, "w"))) {
    fprintf(stderr, "classify: %s: cannot create: %s\n", predictions_path, strerror(errno));
    goto done;
  }

  printf("model:   lenet_fashion, %lld params, %lld MACs per image (netc-generated C)\n",
         (long long)LENET_FASHION_PARAMS, (long long)LENET_FASHION_MACS);
  printf("weights: %s\n", weights);
  printf("images:  %s (%lu images, %dx%d)\n", images_path, n, ROWS, COLS);
  printf("labels:  %s\n", labels_path);

  t0 = clock();
  for (unsigned long i = 0; i < n; i++) {
    const unsigned char *img = images.items + i * (ROWS * COLS);
    int best = 0, truth = labels.items[i];
    for (int k = 0; k < ROWS * COLS; k++)
      input[k] = scale[img[k]];
    lenet_fashion_forward(&model, input, logits, arena);
    for (int c = 1; c < CLASSES; c++) /* the first maximum, as torch.argmax */
      if (logits[c] > logits[best])
        best = c;
    confusion[truth][best]++;
    correct += best == truth;
    if (pred)
      fprintf(pred, "%d\n", best);
  }
  seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
  if (pred) {
    int bad = ferror(pred);
    if (fclose(pred) != 0 || bad) {
      pred = NULL;
      fprintf(stderr, "classify: %s: write error\n", predictions_path);
      goto done;
    }
    pred = NULL;
  }
  printf("time:    %.2f s CPU, %.0f us per image\n\n", seconds, 1e6 * seconds / (double)n);

  printf("confusion matrix (rows: true class, columns: predicted class)\n");
  printf("%-15s", "");
  for (int c = 0; c < CLASSES; c++)
    printf("%6d", c);
  printf("  recall\n");
  for (int t = 0; t < CLASSES; t++) {
    unsigned long row = 0;
    printf("%d %-13s", t, class_names[t]);
    for (int c = 0; c < CLASSES; c++) {
      printf("%6lu", confusion[t][c]);
      row += confusion[t][c];
    }
    if (row)
      printf("  %5.1f%%\n", 100.0 * (double)confusion[t][t] / (double)row);
    else
      printf("      -\n");
  }
  printf("\ncorrect: %lu of %lu images (%.2f%%)\n", correct, n, 100.0 * (double)correct / (double)n);
  printf("accuracy: %.1f%%\n", 100.0 * (double)correct / (double)n);
  status = 0;

done:
  if (pred)
    fclose(pred);
  free(arena);
  free(images.data);
  free(labels.data);
  lenet_fashion_free(&model);
  return status;
}
