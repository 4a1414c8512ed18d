// exec_graph.h -- a compiled graph's forward pass, run in process as the
// generated C would run it.
//
// For fuzzing (tests/fuzz/fuzz_forward.c): any net the compiler accepts can be
// run under the sanitizers without writing, compiling and loading C. To stand
// for the generated code it does what that code does, from the same sources:
//
//   loading   netc_model_load_memory / netc_model_init_random with the desc of
//             model_desc() plus the packs emit.c prints (lower.c's packed
//             slots and lower_conv2d's structs): batch norms fold, convolution
//             weights pack, the blob shrinks to its kept prefix;
//   forward   per layer, the runtime call emit_layer prints, with the structs
//             of lower.c, weights at lower.c's slots, activations at
//             memplan.c's offsets in one arena (a layer's memory is buf() of
//             emit.c: its alias's, or a net input), scratch after them.
//
// exec_layer mirrors emit_layer case by case: a change to either must be made
// to both (the forward fuzzer's replay of models/ notices most drift only as
// a crash, not as a wrong number).
#ifndef EXEC_GRAPH_H
#define EXEC_GRAPH_H

#include "netc.h"

typedef struct ExecModel {
  Graph *g;
  netc_conv2d_layer *conv;    // lower_conv2d_layer per conv2d layer: packed and run with the same struct
  const netc_conv2d_layer **packs;
  netc_model_desc desc;       // the generated loader's tables
  int64_t arena_floats;       // the header's _ARENA_FLOATS
  int64_t scratch_off;        // where the kernels' scratch starts in the arena
  // Loaded weights (exec_load): the kept blob, and the packed convolution
  // weights or NULL (weights embedded with --weights: raw, whole, unpacked).
  float *weights, *packed;
} ExecModel;

// The tables of g (after every pass); allocated with xalloc.
void exec_prepare(Graph *g, ExecModel *m);
// Loads weights from a safetensors image (data, size), or seeded random
// weights (netc_model_init_random) when data is NULL. embedded: the blob
// --weights would embed instead (whole, folded, not packed), which the
// forward pass reads as PREFIX_init_embedded's model does. 0, or -1 with a
// message in err.
int exec_load(ExecModel *m, const void *data, size_t size, uint64_t seed, bool embedded, char *err, size_t errlen);
void exec_unload(ExecModel *m);

// Where a layer's value lives for one run.
typedef float *ExecWhere(void *ctx, const Layer *l);
// The kernel call of layer l (neither an input nor fused), reading its
// inputs and writing its output where `where` says, with `scratch` of at
// least l->scratch floats.
void exec_layer(const ExecModel *m, const Layer *l, ExecWhere *where, void *ctx, float *scratch);

// buf() of emit.c: a layer's memory in the arena, or the net input it is.
float *exec_arena_buf(const ExecModel *m, const Layer *l, float *arena, const float *const *inputs);

// PREFIX_forward: inputs[g->ninputs], outputs[g->noutputs], an arena of
// m->arena_floats floats. after (may be NULL) is called after every kernel
// call with the layer that ran (not for views: they run nothing).
void exec_forward(const ExecModel *m, const float *const *inputs, float *const *outputs, float *arena,
                  void (*after)(void *ctx, const Layer *l), void *ctx);

#endif
