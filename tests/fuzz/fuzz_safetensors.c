// fuzz_safetensors.c -- libFuzzer target: the runtime's safetensors reader on
// arbitrary bytes. Whatever the bytes, init either fails with a message or
// gives an index whose every tensor can be read within bounds.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netc_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  netc_safetensors st;
  if (netc_safetensors_init(&st, data, size, err, sizeof err) != 0) {
    if (err[0] == '\0')
      abort(); // every failure must say why
    netc_safetensors_free(&st);
    return 0;
  }
  for (int32_t i = 0; i < st.ntensors; i++) {
    const netc_st_tensor *t = &st.tensors[i];
    if (netc_safetensors_find(&st, t->name) != t)
      abort();
    if (t->dtype == NETC_DTYPE_F32 && t->numel <= (1 << 16)) {
      float *dst = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
      if (!dst)
        break;
      if (netc_safetensors_read_f32(&st, t->name, t->rank, t->shape, dst, err, sizeof err) != 0)
        abort(); // it exists with exactly this dtype and shape
      free(dst);
    }
  }
  netc_safetensors_check_unused(&st, err, sizeof err);
  netc_safetensors_free(&st);
  return 0;
}
