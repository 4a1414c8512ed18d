// replay.c -- runs a fuzz target's LLVMFuzzerTestOneInput on files, without
// libFuzzer: `make check` replays the seed corpus and every input that once
// crashed (tests/fuzz/regressions/<target>/) with a normal compiler.
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv) {
  int n = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      fprintf(stderr, "replay: cannot open %s\n", argv[i]);
      return 1;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
      len += got;
      if (len == cap)
        buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
      return 1;
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    n++;
  }
  printf("replay: %d inputs ran clean\n", n);
  return 0;
}
