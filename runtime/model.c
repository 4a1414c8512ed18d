// model.c -- what every generated model does the same way: read its weights
// from a safetensors file (or draw them at random), fold its batch norms,
// pack its convolutions' weights, all from the tables netc emits.
//
// Everything is built in new buffers and validated before the caller sees
// them, so a generated PREFIX_load that fails leaves the model it was given
// exactly as it was (its previous weights stay usable). Nothing here runs in
// a forward pass: allocation is fine.

// A device build (-DNETC_NO_STDIO: no heap, no files, no printf) compiles
// this file to nothing: loading needs the heap. Generated code then has
// PREFIX_init_embedded for its weights.
#ifndef NETC_NO_STDIO

#include "netc_internal.h"

#include <stdlib.h>

// Calloc keeps the alignment padding between tensors deterministic (and the
// +1 keeps a model with no weights from asking for zero bytes).
static float *new_blob(int64_t floats) { return (float *)calloc((size_t)floats + 1, sizeof(float)); }

// An int8 model's int8 blob, built from the folded float weights: per
// output channel symmetric int8 weights, their scales giving each channel's
// int32 bias and requantization. -1 when out of memory.
static int32_t quantize(const netc_model_desc *d, const float *blob, uint8_t *q) {
  for (int32_t i = 0; i < d->nqlayers; i++) {
    const netc_model_qlayer *l = &d->qlayers[i];
    float *scales = (float *)malloc(sizeof(float) * (size_t)l->out_c);
    if (!scales)
      return -1;
    int8_t *wq = (int8_t *)(q + l->qw);
    netc_quantize_weights_s8(l->out_c, l->k, blob + l->w, wq, scales);
    netc_quantize_bias_s32(l->out_c, l->k, wq, scales, l->b < 0 ? NULL : blob + l->b, l->in_scale, l->in_zp,
                           l->out_scale, (int32_t *)(void *)(q + l->qb), (netc_requant *)(void *)(q + l->qrq));
    free(scales);
  }
  return 0;
}

// Folds every batch norm into its conv / linear, in place in the blob, then
// packs the convolutions' and the linear layers' weights for the GEMM once
// instead of on every call.
// Takes blob: on success *out owns it, on failure it is freed.
static int32_t finish(const netc_model_desc *d, float *blob, netc_model_blobs *out, char *err, size_t errlen) {
  for (int32_t i = 0; i < d->nfolds; i++) {
    const netc_model_fold *f = &d->folds[i];
    float *W = blob;  // offsets read as in the generated forward pass: W + off
    if (!f->had_bias)
      memset(W + f->b, 0, sizeof(float) * (size_t)f->out_c);
    netc_batchnorm_fold_f32(f->out_c, f->per_out, W + f->w, W + f->b, W + f->mean, W + f->var,
                            f->gamma < 0 ? NULL : W + f->gamma, f->beta < 0 ? NULL : W + f->beta, f->eps, W + f->w,
                            W + f->b);
  }
  float *packed = new_blob(d->packed_floats);
  if (!packed) {
    free(blob);
    return netc_errorf(err, errlen, "out of memory for the packed weights");
  }
  for (int32_t i = 0; i < d->npacks; i++)
    netc_conv2d_pack_weights(&d->packs[i]->p, blob + d->packs[i]->weight, packed + d->packs[i]->packed);
  for (int32_t i = 0; i < d->nbpacks; i++) {
    const netc_model_bpack *p = &d->bpacks[i];
    netc_gemm_pack_b(NETC_TRANS, p->k, p->n, blob + p->w, p->k, packed + p->packed);
  }
  if (quantize(d, blob, (uint8_t *)packed) != 0) {
    free(blob);
    free(packed);
    return netc_errorf(err, errlen, "out of memory while quantizing the weights");
  }
  // What only loading needed (raw conv weights, folded statistics) is the
  // blob's tail: give it back. A failed shrink keeps the whole blob.
  if (d->keep_floats > 0 && d->keep_floats < d->weight_floats) {
    float *kept = (float *)realloc(blob, ((size_t)d->keep_floats + 1) * sizeof(float));
    if (kept)
      blob = kept;
  }
  out->weights = blob;
  out->packed = packed;
  return 0;
}

int32_t netc_model_load_memory(const netc_model_desc *d, const void *data, size_t size, netc_model_blobs *out,
                               char *err, size_t errlen) {
  out->weights = NULL;
  out->packed = NULL;
  netc_safetensors st;
  if (netc_safetensors_init(&st, data, (uint64_t)size, err, errlen) != 0)
    return -1;
  float *blob = new_blob(d->weight_floats);
  if (!blob) {
    netc_safetensors_free(&st);
    return netc_errorf(err, errlen, "out of memory for the weights");
  }
  int32_t rc = 0;
  for (int32_t i = 0; i < d->ntensors && rc == 0; i++) {
    const netc_model_tensor *t = &d->tensors[i];
    if (t->kind == NETC_TENSOR_COUNTER)
      rc = netc_safetensors_expect(&st, t->name, NETC_DTYPE_I64, t->rank, t->shape, err, errlen);
    else if (t->kind == NETC_TENSOR_INDEX)
      rc = netc_safetensors_read_index(&st, t->name, t->rank, t->shape, t->index_limit, blob + t->offset, err,
                                       errlen);
    else
      rc = netc_safetensors_read_f32(&st, t->name, t->rank, t->shape, blob + t->offset, err, errlen);
  }
  if (rc == 0)
    rc = netc_safetensors_check_unused(&st, err, errlen);
  netc_safetensors_free(&st);
  if (rc != 0) {
    free(blob);
    return -1;
  }
  return finish(d, blob, out, err, errlen);
}

int32_t netc_model_load_file(const netc_model_desc *d, const char *path, netc_model_blobs *out, char *err,
                             size_t errlen) {
  out->weights = NULL;
  out->packed = NULL;
  netc_safetensors st;
  if (netc_safetensors_init_file(&st, path, err, errlen) != 0)
    return -1;
  int32_t rc = netc_model_load_memory(d, st.file, (size_t)st.file_size, out, err, errlen);
  netc_safetensors_free(&st);
  return rc;
}

int32_t netc_model_init_random(const netc_model_desc *d, uint64_t seed, netc_model_blobs *out, char *err,
                               size_t errlen) {
  out->weights = NULL;
  out->packed = NULL;
  float *blob = new_blob(d->weight_floats);
  if (!blob)
    return netc_errorf(err, errlen, "out of memory for the weights");
  uint64_t s = seed;
  for (int32_t i = 0; i < d->ntensors; i++) {
    const netc_model_tensor *t = &d->tensors[i];
    if (t->kind == NETC_TENSOR_COUNTER)
      continue;
    int64_t n = 1;
    for (int32_t k = 0; k < t->rank; k++)
      n *= t->shape[k];
    // In float, as written, so that tools/netc_random.py matches bit for bit.
    float bound = 1.0f / sqrtf((float)t->fan_in);
    for (int64_t k = 0; k < n; k++) {
      uint64_t r = netc_splitmix64(&s) >> 40;
      float u = (float)r * (1.0f / 16777216.0f);
      float v = 0.0f;
      switch (t->kind) {
      case NETC_TENSOR_WEIGHT:
      case NETC_TENSOR_BIAS:
      case NETC_TENSOR_PARAM: v = (2.0f * u - 1.0f) * bound; break;
      case NETC_TENSOR_GAMMA:
      case NETC_TENSOR_BN_VAR: v = 0.5f + u; break;
      case NETC_TENSOR_BETA:
      case NETC_TENSOR_BN_MEAN:
      case NETC_TENSOR_BUFFER: v = u - 0.5f; break;
      case NETC_TENSOR_INDEX: v = (float)((r * (uint64_t)t->index_limit) >> 24); break; // in [0, limit)
      case NETC_TENSOR_COUNTER: v = 0.0f; break; // has no slot: skipped above
      }
      blob[t->offset + k] = v;
    }
  }
  return finish(d, blob, out, err, errlen);
}

#else
typedef int netc_model_absent; // ISO C wants something in a translation unit
#endif /* NETC_NO_STDIO */
