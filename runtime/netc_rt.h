// netc_rt.h -- the netc runtime: float32 (and int8) neural-network kernels in C99.
//
// Overview
// --------
// netc compiles a .net file into C that calls the functions declared here.
// The runtime is a handful of kernel families, one file each:
//
//   gemm.c         netc_gemm_f32             C = alpha op(A) op(B) + beta C
//   conv.c         netc_conv2d_f32           2-D convolution (groups, dilation,
//                                            asymmetric padding, bias + activation)
//   convt.c        netc_conv_transpose2d_f32 transposed convolution
//   pool.c         netc_maxpool2d_f32, netc_avgpool2d_f32,
//                  netc_adaptive_avgpool2d_f32
//   elementwise.c  activations, add/sub/mul, pad, concat, normalize
//   norm.c         batch norm (inference), layer norm, folding BN into a conv
//   softmax.c      softmax and log-softmax over one dimension
//   tensor.c       permute / transpose, narrow, reductions (mean, sum, amax), matmul
//   resize.c       netc_resize2d_f32: nearest and bilinear up/downsampling
//   linear.c       y = x W^T + b
//   quant.c        int8: requantization, quantize / dequantize, weight and bias
//                  quantization, add, rescale, pools and tables on uint8
//   qgemm.c        int8: the u8 x s8 -> s32 GEMM (AVX-512 VNNI, AVX2, C)
//   qconv.c        int8: netc_qconv2d_u8, netc_qlinear_u8
//   safetensors.c  a validating reader for .safetensors weight files
//   model.c        a generated model's loading: weights from safetensors or
//                  seeded random, batch norms folded, conv weights packed
//   runner.c       netc_model_main, the command-line runner of `netc --main`
//
// Every kernel has a naive twin, netc_ref_<name>, that is always compiled.
// It is written for obviousness, not speed, and is the oracle the tests
// compare the fast kernel against.
//
// Rules that hold everywhere:
//
//   * Kernels never allocate, never do I/O and write no global state: two
//     threads may run two inferences at once with their own buffers. A kernel
//     that needs temporary memory takes a `scratch` buffer whose size, in
//     floats, a companion function netc_<name>_scratch_floats() returns.
//     Scratch needs no particular alignment; its contents are clobbered.
//     The sizes do not depend on the instruction set or the thread count,
//     so a compiler linking a portable build can size an arena for a
//     -march=native one. Kernels use at most about 64 KB of stack.
//   * Inputs are `const`. An output may not overlap an input unless the
//     function's comment says "in place ok" (then y == x is allowed, and
//     nothing else).
//   * Parameters are checked once, by netc_<name>_check() at load time, not
//     in the kernels; the kernels only assert() (debug builds).
//   * Sizes and indices are int64_t; counts that can never be large (ranks,
//     flags, status codes) are int32_t. Status: 0 on success, -1 on error.
//   * Numerics follow PyTorch's CPU float32 semantics (pooling windows,
//     count_include_pad, ceil_mode, GELU variants, NaN propagation of ReLU).
//
// Layout
// ------
// Tensors are dense float32 arrays in row-major (C) order. A 4-D activation
// is NCHW: batch n, channel c, row h, column w, and element (n, c, h, w) is
//
//     x[((n * C + c) * H + h) * W + w]
//
// i.e. the strides are (C*H*W, H*W, W, 1). Weights use PyTorch's layouts:
//
//     conv2d            [out_c, in_c / groups, kernel_h, kernel_w]
//     conv_transpose2d  [in_c, out_c / groups, kernel_h, kernel_w]
//     linear            [out_features, in_features]
//
// so a PyTorch state_dict loads without reordering. Matrices passed to the
// GEMM are row-major with a leading dimension (the distance between rows).
//
// Devices: with -DNETC_NO_STDIO (microcontrollers: no heap, no file system)
// the runtime and the generated code link no malloc/free, no file I/O and no
// printf family. model.c, safetensors.c and runner.c then compile to
// nothing (the same list of sources builds either way), netc_errorf formats
// its messages itself, and a generated file keeps PREFIX_init_embedded
// (netc --weights), PREFIX_forward, PREFIX_free and PREFIX_error only.
// Build with -DNDEBUG there too: newlib's assert() prints with fiprintf.
// targets/cortex-m4/ is a complete example, checked by make check-cortex-m.
//
// Threads: with OpenMP (-fopenmp) the large kernels split their work across
// netc_threads_get() threads, one parallel region per kernel call and no
// barrier inside it: work is handed out in chunks to whichever thread asks
// (a thread that starts late leaves its share to the others) and a thread
// that runs out naps rather than spins. The result does not depend on the
// thread count (every sum is formed in the same order). Without OpenMP
// everything is single-threaded and the runtime depends on nothing but libc
// and libm. On a machine shared with other busy processes, libgomp's own
// spinning between regions is what costs most (a waiting thread holds a
// processor another one needs): run with GOMP_SPINCOUNT=10000 (no cost when
// the machine is idle) or OMP_WAIT_POLICY=passive.
//
// Example
// -------
// A 3x3 convolution with ReLU on a 1x3x32x32 image, weights from a file:
//
//   #include <stdio.h>
//   #include <stdlib.h>
//   #include "netc_rt.h"
//
//   static float x[1 * 3 * 32 * 32], y[1 * 16 * 32 * 32];
//   static float w[16 * 3 * 3 * 3], b[16];
//
//   int run(void) {
//     char err[256];
//     netc_safetensors st;
//     int64_t wshape[4] = {16, 3, 3, 3}, bshape[1] = {16};
//     if (netc_safetensors_init_file(&st, "conv.safetensors", err, sizeof err) != 0 ||
//         netc_safetensors_read_f32(&st, "conv.weight", 4, wshape, w, err, sizeof err) != 0 ||
//         netc_safetensors_read_f32(&st, "conv.bias", 1, bshape, b, err, sizeof err) != 0) {
//       fprintf(stderr, "%s\n", err);
//       netc_safetensors_free(&st);            // safe after a failed init
//       return -1;
//     }
//     netc_safetensors_free(&st);
//
//     netc_conv2d_params p = {0};
//     p.n = 1;
//     p.in_c = 3;   p.in_h = 32;  p.in_w = 32;
//     p.out_c = 16; p.out_h = 32; p.out_w = 32;
//     p.kernel_h = 3; p.kernel_w = 3;
//     p.stride_h = 1; p.stride_w = 1;
//     p.pad_top = 1;  p.pad_left = 1; p.pad_bottom = 1; p.pad_right = 1;
//     p.dilation_h = 1; p.dilation_w = 1;
//     p.groups = 1;
//     p.act = NETC_ACT_RELU;
//     if (netc_conv2d_check(&p, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return -1; }
//
//     float *scratch = malloc(sizeof(float) * netc_conv2d_scratch_floats(&p));  // once, up front
//     if (!scratch) return -1;
//     netc_conv2d_f32(&p, x, w, b, y, scratch);                                  // no allocation
//     free(scratch);
//     return 0;
//   }
//
// Generated code does the same with every buffer carved out of one arena
// whose size netc computes at compile time.

#ifndef NETC_RT_H
#define NETC_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//
// Common
//

// Activation applied by a kernel's epilogue, or on its own by netc_act_f32.
typedef enum netc_act {
  NETC_ACT_NONE,        // y = x
  NETC_ACT_RELU,        // y = max(x, 0)            (NaN stays NaN, as in PyTorch)
  NETC_ACT_RELU6,       // y = min(max(x, 0), 6)
  NETC_ACT_LEAKY_RELU,  // y = x > 0 ? x : slope * x
  NETC_ACT_SIGMOID,     // y = 1 / (1 + exp(-x))
  NETC_ACT_TANH,        // y = tanh(x)
  NETC_ACT_GELU,        // y = x / 2 * (1 + erf(x / sqrt(2)))                (approximate="none")
  NETC_ACT_GELU_TANH,   // y = x / 2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")
  NETC_ACT_SILU,        // y = x * sigmoid(x)                              (swish)
  NETC_ACT_HARDSWISH,   // y = x * min(max(x + 3, 0), 6) / 6
  NETC_ACT_HARDSIGMOID, // y = min(max(x + 3, 0), 6) / 6
  NETC_ACT_MISH,        // y = x * tanh(log(1 + exp(x)))
  NETC_ACT_ELU,         // y = x > 0 ? x : slope * (exp(x) - 1)            (slope: ELU's alpha)
  NETC_ACT_COUNT
} netc_act;

// "relu", "gelu_tanh", ...; "?" for an out-of-range value.
const char *netc_act_name(netc_act act);

// Thread count for the kernels that parallelise (OpenMP builds only; set is a
// no-op, and get returns 1, otherwise). n <= 0: one thread per processor.
// Not for use while another thread runs kernels (it sets OpenMP's count).
void netc_threads_set(int32_t n);
int32_t netc_threads_get(void);

//
// gemm.c: matrix multiply
//

typedef enum netc_trans {
  NETC_NO_TRANS,  // use the matrix as stored
  NETC_TRANS,     // use its transpose
} netc_trans;

// C (M x N) = alpha * op(A) * op(B) + beta * C, row-major, BLAS argument order.
//   op(A) is M x K: A is stored M x K (lda >= K) if ta == NETC_NO_TRANS,
//                   K x M (lda >= M) if ta == NETC_TRANS.
//   op(B) is K x N: B is stored K x N (ldb >= N) if tb == NETC_NO_TRANS,
//                   N x K (ldb >= K) if tb == NETC_TRANS.
//   C is M x N with ldc >= N.
// When beta == 0, C is not read (it may hold NaN). C may not overlap A or B.
// The fast version packs A and B into `scratch`, whose size in floats is
// netc_gemm_scratch_floats(M, N, K); it is cache-blocked and runs a
// register-tiled SIMD micro-kernel (AVX-512, AVX2 + FMA, NEON or scalar C).
// The size does not depend on the instruction set the runtime was built
// for, so a compiler can compute it ahead of time:
//   K == 0 or M == 0 or N == 0: 0, else
//   kc * (min(N, 4096) + min(M, 512) + 128) + 32   with kc = min(K, 256)
int64_t netc_gemm_scratch_floats(int64_t M, int64_t N, int64_t K);
void netc_gemm_f32(netc_trans ta, netc_trans tb, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda,
                   const float *B, int64_t ldb,
                   float beta, float *C, int64_t ldc, float *scratch);
// A packed once, ahead of time (weights known at load time): the packing
// step then disappears from every call. netc_gemm_packed_a_floats(M, K)
// floats hold the packed A ((M + 15) * K, whatever the instruction set);
// netc_gemm_pack_a writes them (ta, lda as for netc_gemm_f32; packed needs
// no particular alignment); netc_gemm_packed_f32 is netc_gemm_f32 with that
// A. The packed layout belongs to the build of the runtime that packed it.
// Scratch: netc_gemm_scratch_floats(M, N, K).
int64_t netc_gemm_packed_a_floats(int64_t M, int64_t K);
// The same for B, a weight every call multiplies by (a linear layer's W^T):
// netc_gemm_packed_b_floats(K, N) floats ((N + 63) * K), written by
// netc_gemm_pack_b (tb, ldb as for netc_gemm_f32). Read by
// netc_linear_packed_f32.
int64_t netc_gemm_packed_b_floats(int64_t K, int64_t N);
void netc_gemm_pack_b(netc_trans tb, int64_t K, int64_t N, const float *B, int64_t ldb, float *packed);
void netc_gemm_pack_a(netc_trans ta, int64_t M, int64_t K, const float *A, int64_t lda,
                      float *packed);
void netc_gemm_packed_f32(netc_trans tb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *packed_a, const float *B, int64_t ldb, float beta,
                          float *C, int64_t ldc, float *scratch);
// Triple loop, double accumulation.
void netc_ref_gemm_f32(netc_trans ta, netc_trans tb, int64_t M, int64_t N, int64_t K,
                       float alpha, const float *A, int64_t lda,
                       const float *B, int64_t ldb,
                       float beta, float *C, int64_t ldc);

//
// conv.c: 2-D convolution
//

// How a convolution runs. NETC_CONV_AUTO (0, what a zero-initialised params
// struct holds) lets the runtime choose from the sizes (netc_conv2d_path
// lists the paths). NETC_CONV_NO_SCRATCH forces the scratch-free "loop"
// path, whatever the sizes: a direct sum over the taps that reads the input
// and the weights in place and accumulates into y (netc --max-scratch sets
// it on layers whose usual path needs more scratch than allowed; auto picks
// it too for layers so small that the GEMM's packing panels would be larger
// than everything the layer touches). NETC_CONV_FAST is auto without that
// rule: the path chosen for speed alone, whatever scratch it needs.
typedef enum netc_conv_path {
  NETC_CONV_AUTO = 0,
  NETC_CONV_NO_SCRATCH = 1,
  NETC_CONV_FAST = 2,
  NETC_CONV_PATH_COUNT
} netc_conv_path;

// Shapes and attributes of one conv2d. Output sizes are stored, not derived,
// so that the compiler's shape inference and the kernel can be cross-checked
// (netc_conv2d_check); they must equal netc_conv2d_out_size().
typedef struct netc_conv2d_params {
  int64_t n;                         // batch
  int64_t in_c, in_h, in_w;          // input  [n, in_c, in_h, in_w]
  int64_t out_c, out_h, out_w;       // output [n, out_c, out_h, out_w]
  int64_t kernel_h, kernel_w;        // weight [out_c, in_c / groups, kernel_h, kernel_w]
  int64_t stride_h, stride_w;        // >= 1
  int64_t pad_top, pad_bottom;       // zero rows before row 0 / after the last row (>= 0)
  int64_t pad_left, pad_right;       // zero columns before column 0 / after the last (>= 0)
  int64_t dilation_h, dilation_w;    // >= 1; spacing between kernel taps
  int64_t groups;                    // divides in_c and out_c; in_c == groups: depthwise
  netc_act act;                      // applied after the bias
  float act_slope;                   // the activation's parameter: leaky_relu's slope, elu's alpha
  netc_conv_path path;               // NETC_CONV_AUTO (0): chosen from the sizes; see netc_conv_path
} netc_conv2d_params;

// PyTorch's output length along one axis:
//   (in + pad0 + pad1 - dilation * (k - 1) - 1) / stride + 1   (floor)
// May be <= 0 when the kernel does not fit.
int64_t netc_conv2d_out_size(int64_t in, int64_t k, int64_t stride,
                             int64_t pad0, int64_t pad1, int64_t dilation);
// 0 if p is consistent, else -1 with a message in err (if errlen > 0).
int32_t netc_conv2d_check(const netc_conv2d_params *p, char *err, size_t errlen);
int64_t netc_conv2d_scratch_floats(const netc_conv2d_params *p);
// y [n, out_c, out_h, out_w] = act(conv(x [n, in_c, in_h, in_w], w) + bias)
//   w    [out_c, in_c / groups, kernel_h, kernel_w]
//   bias [out_c] or NULL
// Path chosen from p (netc_conv2d_path names it): depthwise (in_c == groups
// > 1, any channel multiplier) runs a direct vectorised kernel and needs no
// scratch; small convolutions (see netc_conv2d_packed_f32) run a direct
// kernel that reads the input (or a padded copy) in place; 1x1 stride-1
// unpadded convolution is a GEMM on x as stored; everything else is an
// implicit im2col GEMM
// (patches are gathered while packing, so there is no im2col buffer). Bias
// and activation are applied in the kernels' epilogues.
void netc_conv2d_f32(const netc_conv2d_params *p, const float *x, const float *w,
                     const float *bias, float *y, float *scratch);
// Weights packed once, at load time, then any number of calls:
//
//   packed = storage for netc_conv2d_packed_floats(p) floats (no alignment
//            needed; the size depends only on p: groups * (out_c / groups
//            + 15) * in_c / groups * kernel_h * kernel_w, about four times
//            that for a "winograd" layer, whose weights are transformed);
//   netc_conv2d_pack_weights(p, w, packed);          // w as for netc_conv2d_f32
//   netc_conv2d_packed_f32(p, x, packed, bias, residual, y, scratch);
//
// computes y = act(conv(x, w) + bias + residual) with residual [n, out_c,
// out_h, out_w] or NULL (a ResNet shortcut: the add before the activation
// fused into the convolution's epilogue). residual may be y itself (in
// place: y = act(conv(x) + bias + y)) but may not otherwise overlap y.
// Scratch: netc_conv2d_scratch_floats(p), as for netc_conv2d_f32. The
// packed form is private to the build of the runtime that packed it (the
// layout follows the instruction set) and to p: pack and run in the same
// program with the same params. netc_conv2d_f32 is the same computation
// packing the weights on every call. Paths (chosen from p alone):
// depthwise as above; "loop", no scratch at all, when p->path is
// NETC_CONV_NO_SCRATCH, or by default when the GEMM's scratch
// (netc_gemm_scratch_floats(out_c / groups, out_h * out_w, depth)) would be
// larger than the layer's input, output and weights together (LeNet's
// convolutions: packing panels padded to 64-wide tiles dwarf the layer);
// otherwise, not an unpadded 1x1 stride-1 convolution, and either
// out_c / groups <= 64 with depth in_c / groups * kernel_h * kernel_w <= 256,
// or out_c / groups <= 128 with out_w >= 24 and (depth <= 256 or stride 1):
// a direct kernel that reads the input in place, or a zero-padded copy split
// into stride phases band by band, instead of packing im2col panels (LeNet,
// the stems of ResNet and MobileNet, VGG's and AlexNet's first layers);
// otherwise the GEMM
// (1x1 unpadded: on x as stored; else implicit im2col). Before all these,
// 3x3 stride-1 undilated ungrouped convolutions with at least 32 input and
// output channels and at least 25 output tiles of 4 x 4 (outputs of 17 x
// 17; 16 tiles, 13 x 13, for out_c >= 192) run Winograd's F(4x4, 3x3)
// (runtime/winograd.c): 36 products of the transformed weights and input
// instead of 144 multiply-adds per tile and channel pair (ResNet's
// stride-1 3x3 layers at 56 x 56 to 14 x 14, VGG's). Its rounding error is
// a few times the direct sum's (up to about 3.5e-6 of max |y| measured over
// 64 to 512 channels). It uses at most two threads (a slot of scratch
// each; the scratch size may not depend on the thread count).
int64_t netc_conv2d_packed_floats(const netc_conv2d_params *p);
// netc_conv2d_f32 with a residual, as netc_conv2d_packed_f32 computes it
// (residual may be y itself): for weights that cannot be packed ahead
// (compiled into read-only memory).
void netc_conv2d_residual_f32(const netc_conv2d_params *p, const float *x, const float *w,
                              const float *bias, const float *residual, float *y, float *scratch);
// The path p takes through netc_conv2d_packed_f32, for reports:
// "depthwise", "loop", "direct", "gemm_1x1", "gemm_im2col" or "winograd" (the same
// in every build of the runtime). netc_conv2d_f32 takes the same path,
// except that a "direct" convolution deeper than 256 runs as "gemm_im2col"
// (the direct kernel reads the weights packed whole), and a "winograd" one
// takes the path it would take without Winograd (its weights would have to
// be transformed on every call); the scratch size covers both.
const char *netc_conv2d_path(const netc_conv2d_params *p);
void netc_conv2d_pack_weights(const netc_conv2d_params *p, const float *w, float *packed);
void netc_conv2d_packed_f32(const netc_conv2d_params *p, const float *x, const float *packed,
                            const float *bias, const float *residual, float *y, float *scratch);
// One convolution layer of a model, as generated code calls it: its
// parameters and where its tensors live in the model's blobs (offsets in
// floats; -1: none). weight and bias index the weight blob; packed, the
// blob of weights packed at load time (netc_model_load_*), -1 for a layer
// that is not packed (depthwise: it reads the raw weights).
typedef struct netc_conv2d_layer {
  netc_conv2d_params p;
  int64_t weight, bias, packed;
} netc_conv2d_layer;
// y = act(conv(x, weight) + bias + residual) for layer c (residual: as for
// netc_conv2d_packed_f32, or NULL). With a packed blob (a loaded model) it
// runs on c's packed weights, whose raw copy a loaded model no longer
// keeps; with packed NULL (weights compiled into read-only memory, whole)
// on the raw weights, packing them per call. Either way the same numbers.
void netc_conv2d_layer_f32(const netc_conv2d_layer *c, const float *weights, const float *packed,
                           const float *x, const float *residual, float *y, float *scratch);
// Seven nested loops over the definition, double accumulation.
void netc_ref_conv2d_f32(const netc_conv2d_params *p, const float *x, const float *w,
                         const float *bias, float *y);

//
// convt.c: 2-D transposed convolution (the gradient of conv2d w.r.t. its input)
//

typedef struct netc_conv_transpose2d_params {
  int64_t n;                         // batch
  int64_t in_c, in_h, in_w;          // input  [n, in_c, in_h, in_w]
  int64_t out_c, out_h, out_w;       // output [n, out_c, out_h, out_w]
  int64_t kernel_h, kernel_w;        // weight [in_c, out_c / groups, kernel_h, kernel_w]
  int64_t stride_h, stride_w;        // >= 1
  int64_t pad_top, pad_bottom;       // PyTorch's padding, removed from the top / bottom
  int64_t pad_left, pad_right;       // ... and from the left / right (PyTorch: equal pairs)
  int64_t output_pad_h, output_pad_w;// PyTorch's output_padding (added at bottom / right)
  int64_t dilation_h, dilation_w;    // >= 1
  int64_t groups;                    // divides in_c and out_c
  netc_act act;
  float act_slope;                   // as netc_conv2d_params' act_slope
} netc_conv_transpose2d_params;

// (in - 1) * stride - pad0 - pad1 + dilation * (k - 1) + output_pad + 1
int64_t netc_conv_transpose2d_out_size(int64_t in, int64_t k, int64_t stride,
                                       int64_t pad0, int64_t pad1,
                                       int64_t output_pad, int64_t dilation);
int32_t netc_conv_transpose2d_check(const netc_conv_transpose2d_params *p,
                                    char *err, size_t errlen);
int64_t netc_conv_transpose2d_scratch_floats(const netc_conv_transpose2d_params *p);
// y [n, out_c, out_h, out_w] = act(conv_transpose(x, w) + bias)
//   x    [n, in_c, in_h, in_w]
//   w    [in_c, out_c / groups, kernel_h, kernel_w]
//   bias [out_c] or NULL
// GEMM (W^T x) into column buffers, then col2im scatter-add.
void netc_conv_transpose2d_f32(const netc_conv_transpose2d_params *p, const float *x,
                               const float *w, const float *bias, float *y, float *scratch);
// Scatter form: every input pixel adds kernel_h * kernel_w weighted taps.
void netc_ref_conv_transpose2d_f32(const netc_conv_transpose2d_params *p, const float *x,
                                   const float *w, const float *bias, float *y);

//
// pool.c: pooling
//

typedef struct netc_pool2d_params {
  int64_t n, c;                      // x [n, c, in_h, in_w] -> y [n, c, out_h, out_w]
  int64_t in_h, in_w;
  int64_t out_h, out_w;              // must equal netc_pool2d_out_size()
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_bottom;       // PyTorch requires pad <= kernel / 2; the runtime
  int64_t pad_left, pad_right;       // takes any pad >= 0 (all-padding windows: -inf / 0)
  int64_t dilation_h, dilation_w;    // max pool only; avg pool requires 1
  int32_t ceil_mode;                 // 1: round the output size up (PyTorch ceil_mode)
  int32_t count_include_pad;         // avg pool: divide by the padded window size
} netc_pool2d_params;

// PyTorch's pooling_output_shape: floor or ceil of
//   (in + pad0 + pad1 - dilation * (k - 1) - 1) / stride + 1,
// and in ceil mode the last window must start inside the input or the
// leading padding, else the size drops by one.
int64_t netc_pool2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad0,
                             int64_t pad1, int64_t dilation, int32_t ceil_mode);
int32_t netc_pool2d_check(const netc_pool2d_params *p, char *err, size_t errlen);
// Max over the window's taps that fall inside the input (padding never wins;
// NaN wins, as in PyTorch).
void netc_maxpool2d_f32(const netc_pool2d_params *p, const float *x, float *y);
void netc_ref_maxpool2d_f32(const netc_pool2d_params *p, const float *x, float *y);
// Average as PyTorch's avg_pool2d: the window is clipped to the padded input
// (in + pad) for the count_include_pad divisor, then to the input for the
// sum; a window with no input pixel gives 0.
void netc_avgpool2d_f32(const netc_pool2d_params *p, const float *x, float *y);
void netc_ref_avgpool2d_f32(const netc_pool2d_params *p, const float *x, float *y);
// x [n, c, in_h, in_w] -> y [n, c, out_h, out_w]; output cell (i, j) averages
// rows [floor(i*in_h/out_h), ceil((i+1)*in_h/out_h)) and likewise columns.
// out_h = out_w = 1 is global average pooling.
void netc_adaptive_avgpool2d_f32(int64_t n, int64_t c, int64_t in_h, int64_t in_w,
                                 int64_t out_h, int64_t out_w, const float *x, float *y);
void netc_ref_adaptive_avgpool2d_f32(int64_t n, int64_t c, int64_t in_h, int64_t in_w,
                                     int64_t out_h, int64_t out_w, const float *x, float *y);

//
// elementwise.c: activations and simple tensor ops (count = number of floats)
//

// y[i] = act(x[i]) for i < count; in place ok. slope: leaky_relu's slope, elu's alpha (else unused).
void netc_act_f32(netc_act act, float slope, int64_t count, const float *x, float *y);
void netc_ref_act_f32(netc_act act, float slope, int64_t count, const float *x, float *y);
// The same, one function per activation (in place ok).
void netc_relu_f32(int64_t count, const float *x, float *y);
void netc_relu6_f32(int64_t count, const float *x, float *y);
void netc_leaky_relu_f32(int64_t count, float slope, const float *x, float *y);
void netc_sigmoid_f32(int64_t count, const float *x, float *y);
void netc_tanh_f32(int64_t count, const float *x, float *y);
void netc_gelu_f32(int64_t count, const float *x, float *y);
void netc_gelu_tanh_f32(int64_t count, const float *x, float *y);
void netc_silu_f32(int64_t count, const float *x, float *y);
void netc_hardswish_f32(int64_t count, const float *x, float *y);
void netc_hardsigmoid_f32(int64_t count, const float *x, float *y);
void netc_mish_f32(int64_t count, const float *x, float *y);
void netc_elu_f32(int64_t count, float alpha, const float *x, float *y);

// y = a + b, a - b, a * b element by element (same shapes); in place ok
// (y == a or y == b).
void netc_add_f32(int64_t count, const float *a, const float *b, float *y);
void netc_sub_f32(int64_t count, const float *a, const float *b, float *y);
void netc_mul_f32(int64_t count, const float *a, const float *b, float *y);
// y = act(a + b): a residual add fused with the activation that follows it.
void netc_add_act_f32(netc_act act, float slope, int64_t count, const float *a,
                      const float *b, float *y);
// softplus (nn.Softplus): y = log(1 + exp(beta * x)) / beta, and y = x where
// beta * x > threshold (PyTorch's switch back to the identity); in place ok.
void netc_softplus_f32(int64_t count, float beta, float threshold, const float *x, float *y);
void netc_ref_softplus_f32(int64_t count, float beta, float threshold, const float *x, float *y);
// y = a / b, x / s, s / x (IEEE division, as PyTorch's true division); in place ok.
void netc_div_f32(int64_t count, const float *a, const float *b, float *y);
void netc_div_scalar_f32(int64_t count, const float *x, float s, float *y);
void netc_rdiv_scalar_f32(int64_t count, float s, const float *x, float *y);
// y = x + s, x * s, s - x; in place ok. (x - s is netc_add_scalar_f32 with -s.)
void netc_add_scalar_f32(int64_t count, const float *x, float s, float *y);
void netc_mul_scalar_f32(int64_t count, const float *x, float s, float *y);
void netc_rsub_scalar_f32(int64_t count, float s, const float *x, float *y);
// y = a op b with NumPy / PyTorch broadcasting; op is '+', '-', '*' or '/'. The
// shapes have rank entries each, right-aligned and padded with leading 1s:
// every a_shape[d] and b_shape[d] is out_shape[d] or 1 (broadcast along d).
// y may be a (or b) when that operand has y's shape; otherwise no overlap.
// Rows where one operand is constant (a squeeze-excitation scale
// [n, c, 1, 1] over [n, c, h, w]) run as a scalar op on vectors.
void netc_broadcast_f32(char op, int32_t rank, const int64_t *out_shape, const int64_t *a_shape,
                        const int64_t *b_shape, const float *a, const float *b, float *y);
// The same, one element at a time by its index (the definition).
void netc_ref_broadcast_f32(char op, int32_t rank, const int64_t *out_shape, const int64_t *a_shape,
                            const int64_t *b_shape, const float *a, const float *b, float *y);
// Reference for the binary family: op is '+', '-', '*', '/'; b == NULL means use
// the scalar s for b; swap != 0 computes b op a.
void netc_ref_binary_f32(char op, int64_t count, const float *a, const float *b,
                         float s, int32_t swap, float *y);

// Constant padding of the two trailing dims:
//   x [n, c, h, w] -> y [n, c, h + pad_top + pad_bottom, w + pad_left + pad_right]
// Pads may be negative (crop), as in PyTorch's F.pad; output dims must be >= 1.
void netc_pad2d_f32(int64_t n, int64_t c, int64_t h, int64_t w,
                    int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right,
                    float value, const float *x, float *y);
void netc_ref_pad2d_f32(int64_t n, int64_t c, int64_t h, int64_t w,
                        int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right,
                        float value, const float *x, float *y);

// Concatenation along one axis. View every input as [outer, inner_i], where
// outer is the product of the dims before the axis and inner_i the product
// of the axis and the dims after it (for NCHW along channels: outer = n,
// inner_i = c_i * h * w). y is [outer, sum(inner_i)].
void netc_concat_f32(int64_t outer, int32_t count, const float *const *xs,
                     const int64_t *inner, float *y);
void netc_ref_concat_f32(int64_t outer, int32_t count, const float *const *xs,
                         const int64_t *inner, float *y);

// y[n, c, i] = (x[n, c, i] - mean[c]) / std[c] for x [n, c, hw]; in place ok.
void netc_normalize_f32(int64_t n, int64_t c, int64_t hw, const float *mean,
                        const float *std, const float *x, float *y);
void netc_ref_normalize_f32(int64_t n, int64_t c, int64_t hw, const float *mean,
                            const float *std, const float *x, float *y);

//
// norm.c: normalisation
//

// Batch norm with running statistics (inference), x [n, c, hw]; in place ok:
//   y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c]
// gamma and beta may be NULL (affine=False: 1 and 0).
void netc_batchnorm2d_f32(int64_t n, int64_t c, int64_t hw, const float *mean,
                          const float *var, const float *gamma, const float *beta,
                          float eps, const float *x, float *y);
void netc_ref_batchnorm2d_f32(int64_t n, int64_t c, int64_t hw, const float *mean,
                              const float *var, const float *gamma, const float *beta,
                              float eps, const float *x, float *y);
// Layer norm over the trailing `inner` values of each of `outer` rows (x is
// [outer, inner]); biased variance, as PyTorch; in place ok:
//   y = (x - mean) / sqrt(var + eps) * gamma[i] + beta[i]
// gamma and beta are [inner] or NULL.
void netc_layernorm_f32(int64_t outer, int64_t inner, const float *gamma,
                        const float *beta, float eps, const float *x, float *y);
void netc_ref_layernorm_f32(int64_t outer, int64_t inner, const float *gamma,
                            const float *beta, float eps, const float *x, float *y);
// Group norm (nn.GroupNorm) over x [n, c, hw]: channels in `groups` equal
// groups, each group of each sample normalised over its (c/groups) * hw
// values (biased variance), then y = v * gamma[ch] + beta[ch]; gamma and
// beta are [c] or NULL. c must be a multiple of groups. In place ok.
void netc_groupnorm_f32(int64_t n, int64_t c, int64_t hw, int64_t groups, const float *gamma,
                        const float *beta, float eps, const float *x, float *y);
void netc_ref_groupnorm_f32(int64_t n, int64_t c, int64_t hw, int64_t groups, const float *gamma,
                            const float *beta, float eps, const float *x, float *y);
// Folds a batch norm that follows a convolution or linear layer into it:
//   s = gamma[o] / sqrt(var[o] + eps)
//   w'[o, :] = w[o, :] * s,   b'[o] = (b[o] - mean[o]) * s + beta[o]
// w is [out_c, per_out] (per_out = in_c / groups * kernel_h * kernel_w for a
// conv, in_features for a linear); b may be NULL (no bias: 0); gamma, beta
// may be NULL. w_out may equal w and b_out may equal b (in place ok).
// Computed in double. For conv_transpose2d weights ([in_c, out_c/groups,...])
// this layout does not apply.
void netc_batchnorm_fold_f32(int64_t out_c, int64_t per_out, const float *w,
                             const float *b, const float *mean, const float *var,
                             const float *gamma, const float *beta, float eps,
                             float *w_out, float *b_out);

//
// softmax.c
//

// Softmax over the middle dim of x viewed as [outer, dim, inner] (for
// softmax over axis a of a tensor: outer = prod(dims before a), dim = the
// size of a, inner = prod(dims after a)). Numerically stable (the max is
// subtracted first). In place ok.
void netc_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y);
void netc_ref_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y);
// log(softmax(x)) over the same [outer, dim, inner] view, computed as
// x - max - log(sum(exp(x - max))) so no row underflows to log(0). In place ok.
void netc_log_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y);
void netc_ref_log_softmax_f32(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y);

//
// resize.c: upsampling and downsampling by interpolation
//

// x [n, c, in_h, in_w] -> y [n, c, out_h, out_w], as PyTorch's
// F.interpolate / nn.Upsample (CPU, float32) with mode "nearest" or
// "bilinear". Per axis, with scale = (in-1)/(out-1) if align_corners,
// else 1/scale_factor if one was given (> 0), else in/out:
//   nearest:  src = min(floor(o * scale), in - 1)      (the identity if out == in)
//   bilinear: src = o * scale (align_corners) or max((o + 1/2) * scale - 1/2, 0),
//             blending floor(src) and the next pixel (clamped) by the fraction.
// The scales are computed in float as PyTorch does, so the same pixels are
// picked. No overlap.
typedef struct netc_resize2d_params {
  int64_t n, c, in_h, in_w, out_h, out_w;
  int32_t bilinear;         // 0: nearest
  int32_t align_corners;    // bilinear only
  double scale_h, scale_w;  // the scale_factor as given, or 0 (then in/out)
} netc_resize2d_params;
void netc_resize2d_f32(const netc_resize2d_params *p, const float *x, float *y);
void netc_ref_resize2d_f32(const netc_resize2d_params *p, const float *x, float *y);

//
// tensor.c: moving data between layouts, and reductions
//

// Axis permutation: x has shape[0..rank-1] (rank 1 to NETC_MAX_RANK); y's dim i is x's
// dim perm[i], so y[i0, ..] = x[.. the same indices in x's order ..]
// (torch.permute; a transpose is the permutation that swaps two dims). No
// overlap.
void netc_permute_f32(int32_t rank, const int64_t *shape, const int32_t *perm, const float *x, float *y);
void netc_ref_permute_f32(int32_t rank, const int64_t *shape, const int32_t *perm, const float *x, float *y);

// A slice along one dim, x viewed as [outer, size, inner]:
//   y[o, j, i] = x[o, start + j, i] for j < length   (torch.narrow).
// No overlap. (netc emits no call when outer == 1: the slice is a view.)
void netc_narrow_f32(int64_t outer, int64_t size, int64_t start, int64_t length, int64_t inner, const float *x,
                     float *y);

// Reductions over a set of dims (torch.mean / sum / amax with keepdim or
// not: y has the same elements either way). x has shape[0..rank-1]; dims
// lists ndims distinct dims in increasing order. mean divides the sum by the
// number of reduced elements; amax propagates NaN, as PyTorch. No overlap.
typedef enum { NETC_REDUCE_SUM, NETC_REDUCE_MEAN, NETC_REDUCE_AMAX } netc_reduce;
void netc_reduce_f32(netc_reduce op, int32_t rank, const int64_t *shape, int32_t ndims, const int32_t *dims,
                     const float *x, float *y);
void netc_ref_reduce_f32(netc_reduce op, int32_t rank, const int64_t *shape, int32_t ndims, const int32_t *dims,
                         const float *x, float *y);
// Batched matrix product with broadcasting (torch.matmul on operands of rank
// >= 2): the shapes have rank entries each; a [..., n, k] times b [..., k, m]
// is y [..., n, m], where each batch dim of a and b is y's or 1. One GEMM per
// batch; scratch: netc_gemm_scratch_floats(n, m, k). No overlap. With
// trans_b, b holds each B transposed, b_shape [..., m, k] (a weight stored
// as [out, in], or attention's keys), and is read in place: a matmul by a
// transpose needs no copy.
void netc_matmul_f32(int32_t rank, const int64_t *out_shape, const int64_t *a_shape, const int64_t *b_shape,
                     int32_t trans_b, const float *a, const float *b, float *y, float *scratch);
void netc_ref_matmul_f32(int32_t rank, const int64_t *out_shape, const int64_t *a_shape, const int64_t *b_shape,
                         int32_t trans_b, const float *a, const float *b, float *y);

// torch.arange as floats: y[i] = start + i * step for i < n (exact while
// |values| <= 2^24).
void netc_arange_f32(int64_t n, int64_t start, int64_t step, float *y);
// torch.roll: y[i] = x[i - shift] along every dim, cyclically; shifts[d]
// in 0 .. shape[d]-1 (0: not rolled). No overlap.
void netc_roll_f32(int32_t rank, const int64_t *shape, const int64_t *shifts, const float *x, float *y);
void netc_ref_roll_f32(int32_t rank, const int64_t *shape, const int64_t *shifts, const float *x, float *y);
// Tensor.expand, as a copy: x of in_shape (rank entries, 1 where it is
// repeated) to y of out_shape. No overlap.
void netc_expand_f32(int32_t rank, const int64_t *out_shape, const int64_t *in_shape, const float *x, float *y);
void netc_ref_expand_f32(int32_t rank, const int64_t *out_shape, const int64_t *in_shape, const float *x, float *y);
// A strided slice along one dim: x viewed as [outer, n, inner], y as
// [outer, count, inner] with y[o, j, :] = x[o, start + j * step, :]
// (x[..., start::step, ...]). No overlap.
void netc_slice_f32(int64_t outer, int64_t n, int64_t inner, int64_t start, int64_t step, int64_t count,
                    const float *x, float *y);
void netc_ref_slice_f32(int64_t outer, int64_t n, int64_t inner, int64_t start, int64_t step, int64_t count,
                        const float *x, float *y);
// index_select along one dim: x viewed as [outer, n, inner], y as
// [outer, nidx, inner] with y[o, j, :] = x[o, index[j], :]. The indices are
// an index buffer's floats, each an integer in [0, n) (the loader checks it,
// netc_safetensors_read_index). No overlap.
void netc_index_select_f32(int64_t outer, int64_t n, int64_t inner, int64_t nidx, const float *index,
                           const float *x, float *y);
void netc_ref_index_select_f32(int64_t outer, int64_t n, int64_t inner, int64_t nidx, const float *index,
                               const float *x, float *y);

//
// linear.c: fully connected layer
//

// y [batch, out] = act(x [batch, in] W^T + bias), W [out, in] row-major as in
// PyTorch, bias [out] or NULL. Small batches stream W once as dot products
// (batch 1 is bandwidth bound); larger batches use the GEMM.
int64_t netc_linear_scratch_floats(int64_t batch, int64_t in, int64_t out);
void netc_linear_f32(int64_t batch, int64_t in, int64_t out, const float *x,
                     const float *w, const float *bias, netc_act act, float act_slope,
                     float *y, float *scratch);
// The dot-product path of netc_linear_f32 at any batch, no scratch: each
// row of W is read once per batch row (netc --max-scratch runs linear layers
// of 8 or more rows with it when the GEMM's scratch does not fit).
void netc_linear_dot_f32(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                         const float *bias, netc_act act, float act_slope, float *y);
// The same with W packed at load time by netc_gemm_pack_b(NETC_TRANS, in, out,
// W, in, w_packed): the GEMM then packs only x. Any batch; the compiler uses
// it where netc_linear_f32 would run the GEMM (batch >= 8).
void netc_linear_packed_f32(int64_t batch, int64_t in, int64_t out, const float *x,
                            const float *w_packed, const float *bias, netc_act act, float act_slope,
                            float *y, float *scratch);
void netc_ref_linear_f32(int64_t batch, int64_t in, int64_t out, const float *x,
                         const float *w, const float *bias, netc_act act, float act_slope,
                         float *y);

//
// int8: quantized kernels (quant.c, qgemm.c, qconv.c)
//
// PyTorch's x86 (onednn / fbgemm) scheme, so that its quantized models are
// the oracle:
//
//   * activations are uint8, affine per tensor: real = scale * (q - zp),
//     q and zp in [0, 255]; layouts are the float ones (NCHW, one byte an
//     element), so views work unchanged;
//   * conv / linear weights are int8, symmetric per output channel (zp 0),
//     stored int8 [out_c][K4] with K = in_c / groups * kernel_h * kernel_w
//     (linear: in_features) and K4 = K rounded up to a multiple of 4, the
//     extra columns 0 (the dot-product instructions take 4 bytes at a time);
//   * accumulation is int32 and starts from an "effective bias"
//     bias_eff[c] = -in_zp * sum_k wq[c][k] (exact), so the inner loops
//     have no zero-point term; padding taps read the value in_zp (their
//     in_zp * w is what bias_eff cancels);
//   * the int32 accumulator goes back to uint8 through a fixed-point
//     multiplier with a per-channel 64-bit rounding offset (netc_requant):
//     the float bias b[c] is not rounded to the accumulator's units but
//     folded into the offset at the requantization's precision, so
//     y = round(M * (acc + b / (s_in * s_w[c]))) as PyTorch (onednn) adds
//     it, to within 2^-31 of a step. No float arithmetic in any int8
//     kernel, so the same code runs on an FPU-less microcontroller.
//
// Every fast int8 kernel is integer arithmetic throughout and bit-identical
// to its netc_ref_ twin on every instruction set (AVX-512 VNNI, AVX2,
// portable C), which is what the tests assert. Scratch sizes are in bytes,
// independent of the instruction set; scratch needs no alignment.

// M = mult * 2^-shift, mult in [2^30, 2^31), shift in [1, 62]; mult 0 (with
// shift 62) is M = 0. round is the offset added before the shift:
// 2^(shift - 1) (round half up) plus, for a conv / linear channel, its bias
// times M in units of 2^-shift (netc_quantize_bias_s32); |round| <= 2^62.
typedef struct netc_requant {
  int32_t mult;
  int32_t shift;
  int64_t round;
} netc_requant;

// (acc * mult + round) >> shift, the shift arithmetic (floor): the product
// is exact in 64 bits (|acc * mult| < 2^62) and, with |round| <= 2^62, so
// is the sum. With round = 2^(shift - 1): round(acc * M), halves up.
static inline int32_t netc_requant_apply(int32_t acc, netc_requant r) {
  int64_t p = (int64_t)acc * r.mult;
  return (int32_t)((p + r.round) >> r.shift);
}

// The netc_requant nearest M > 0: frexp(M) = f * 2^e with f in [0.5, 1),
// mult = llround(f * 2^31) (2^31 becomes 2^30 with e + 1), shift = 31 - e,
// round = 2^(shift - 1). M below 2^-32 (shift > 62) gives {0, 62, 2^61},
// i.e. zero, as does M <= 0 or NaN; M >= 2^30 (shift < 1, never the case
// for real layers) gives {INT32_MAX, 1, 1}, which the caller may treat as
// an error.
netc_requant netc_requant_from_real(double M);

// A quantized convolution: the float shapes plus the quantization.
typedef struct netc_qconv2d_params {
  netc_conv2d_params p;       // shapes as for float (p.act and p.path ignored)
  int32_t in_zp;              // 0..255
  int32_t out_zp;             // 0..255
  int32_t out_min, out_max;   // the clamp, 0 <= out_min <= out_max <= 255: 0/255, or
                              // out_zp/255 for a fused relu, out_zp/q(6) for relu6
} netc_qconv2d_params;

// Bytes of scratch netc_qconv2d_u8 needs (0 for depthwise):
//   groups == in_c > 1: 0, else K4 * N64 + 64, with N64 = out_h * out_w
//   rounded up to a multiple of 64 (one group's im2col matrix).
int64_t netc_qconv2d_scratch_bytes(const netc_qconv2d_params *q);
// y [n, out_c, out_h, out_w] u8, for every output element
//   y = clamp(out_zp + netc_requant_apply(acc, rq[oc]), out_min, out_max)
//   acc = bias_eff[oc] + sum over (ic, ky, kx) of xv * w[oc][(ic * kernel_h + ky) * kernel_w + kx]
// in int32, ic over the group's in_c / groups channels, xv the input pixel
// the tap falls on, or in_zp for a padding tap.
//   x        u8 [n, in_c, in_h, in_w]
//   w        int8 [out_c][K4] (K4 - K trailing zeros per row)
//   bias_eff int32 [out_c], or NULL for zeros
//   rq       [out_c]
// Grouped and depthwise (groups == in_c, any channel multiplier) included,
// dilation, strides, asymmetric padding. Dense and grouped layers copy each
// group's patches (im2col, 4 consecutive k per pixel, as vpdpbusd reads
// them) into scratch and run the int8 GEMM with the requantization in its
// epilogue; depthwise layers run a direct kernel (no scratch).
void netc_qconv2d_u8(const netc_qconv2d_params *q, const uint8_t *x, const int8_t *w,
                     const int32_t *bias_eff, const netc_requant *rq, uint8_t *y, void *scratch);
// The definition: seven loops, in_zp for padding taps.
void netc_ref_qconv2d_u8(const netc_qconv2d_params *q, const uint8_t *x, const int8_t *w,
                         const int32_t *bias_eff, const netc_requant *rq, uint8_t *y);

// Bytes of scratch netc_qlinear_u8 needs: 0 for batch 1, else
//   K4 * B64 + 64 with K4 = in rounded up to 4, B64 = batch rounded up to 64.
int64_t netc_qlinear_scratch_bytes(int64_t batch, int64_t in, int64_t out);
// y [batch][out] u8 = clamp(out_zp + netc_requant_apply(acc, rq[o]), out_min, out_max),
//   acc = bias_eff[o] + sum_k x[b][k] * w[o][k]   (int32)
// x u8 [batch][in] (rows of `in` bytes), w int8 [out][in4] (in4 = in rounded up
// to 4, zero padded), bias_eff int32 [out] or NULL, rq [out]. in_zp is
// folded into bias_eff and unused by the arithmetic (kept for the
// signature's symmetry with the float layer). Batch 1 is a GEMV vectorised
// along in (W streamed once); larger batches run the int8 GEMM.
void netc_qlinear_u8(int64_t batch, int64_t in, int64_t out, const uint8_t *x, int32_t in_zp,
                     const int8_t *w, const int32_t *bias_eff, const netc_requant *rq,
                     int32_t out_zp, int32_t out_min, int32_t out_max, uint8_t *y, void *scratch);
void netc_ref_qlinear_u8(int64_t batch, int64_t in, int64_t out, const uint8_t *x, int32_t in_zp,
                         const int8_t *w, const int32_t *bias_eff, const netc_requant *rq,
                         int32_t out_zp, int32_t out_min, int32_t out_max, uint8_t *y);

// Elementwise add of two uint8 tensors with their own qparams:
//   y = clamp(y_zp + (((int64)(a - a_zp) * a_mult + (int64)(b - b_zp) * b_mult
//                     + 2^(shift - 1)) >> shift), y_min, y_max)
// (arithmetic shift: rounding half up), a_mult = round(s_a / s_y * 2^shift).
typedef struct netc_qadd_params {
  int32_t a_zp, b_zp, y_zp;
  int32_t a_mult, b_mult;     // < 2^31
  int32_t shift;              // 1..62
  int32_t y_min, y_max;       // the clamp (y_zp / 255 for a fused relu)
} netc_qadd_params;
// The largest shift in [1, 62] with both multipliers below 2^31
// (llround(s / sy * 2^shift)); scales > 0.
netc_qadd_params netc_qadd_params_from_scales(float sa, int32_t za, float sb, int32_t zb, float sy,
                                              int32_t zy, int32_t ymin, int32_t ymax);
// In place ok (y == a or y == b).
void netc_qadd_u8(const netc_qadd_params *p, int64_t count, const uint8_t *a, const uint8_t *b,
                  uint8_t *y);
// y = clamp(y_zp + netc_requant_apply(x - x_zp, rq), 0, 255): a tensor moved to
// other qparams (concat's pieces). In place ok.
void netc_requantize_u8(int64_t count, const uint8_t *x, int32_t x_zp, netc_requant rq, int32_t y_zp,
                        uint8_t *y);
// Pools keep their input's qparams (as PyTorch). Windows as for the float
// pools (netc_pool2d_params).
// Max over the window's taps inside the input; a window with none gives 0.
void netc_maxpool2d_u8(const netc_pool2d_params *p, const uint8_t *x, uint8_t *y);
// (S + D / 2) / D in integers (round half up; everything is >= 0): S the sum
// of the window's taps inside the input, plus zp for each padding tap when
// count_include_pad; D the float pool's divisor (padded window clipped to
// in + pad, or the taps inside). A window with no input pixel gives zp.
void netc_avgpool2d_u8(const netc_pool2d_params *p, int32_t zp, const uint8_t *x, uint8_t *y);
// The f32 one's windows, (S + D / 2) / D over each (D = its pixel count).
void netc_adaptive_avgpool2d_u8(int64_t n, int64_t c, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w, const uint8_t *x, uint8_t *y);
// y = table[x]: any unary op, its table computed by the compiler. In place ok.
void netc_lut_u8(int64_t count, const uint8_t table[256], const uint8_t *x, uint8_t *y);
// The float boundaries, PyTorch's rules:
//   quantize:   y = clamp(nearbyintf(x * inv_scale) + zp, 0, 255)  (float product,
//               ties to even; NaN gives 0), inv_scale = 1.0f / scale
//   dequantize: y = scale * (float)(x - zp)
void netc_quantize_u8(int64_t count, const float *x, float inv_scale, int32_t zp, uint8_t *y);
void netc_dequantize_u8(int64_t count, const uint8_t *x, float scale, int32_t zp, float *y);
// Load-time weight quantization, per output channel symmetric (PyTorch's
// PerChannelMinMaxObserver, qint8): for channel c of w float [out_c][K],
// amax = max(|min(w_c, 0)|, max(w_c, 0)), scales[c] = max(amax / 127.5f,
// FLT_EPSILON), wq[c][k] = clamp(nearbyintf(w * (1.0f / scales[c])), -128, 127)
// (the float product by the inverse, as torch.quantize_per_channel computes
// it), wq [out_c][K4] with K4 - K zero columns.
void netc_quantize_weights_s8(int64_t out_c, int64_t K, const float *w, int8_t *wq, float *scales);
// bias float [out_c] or NULL (zeros) -> for each channel c, in double,
//   s = (double)in_scale * scales[c]
//   bias_eff[c] = -in_zp * sum_k wq[c][k]                  (saturated to int32)
//   rq[c] = netc_requant_from_real(s / out_scale), then
//   rq[c].round = 2^(shift - 1) + llround(bias[c] / s * mult)
// with bias[c] / s * mult clamped to [-2^61, 2^61] first (|round| <= 2^62;
// a bias that large saturates every output anyway), and for M = 0
// (mult 0) round stays 2^(shift - 1). So every kernel computes, with
// M = mult * 2^-shift and acc = sum x * w - in_zp * sum w (int32),
//   out_zp + floor(M * (acc + bias[c] / s) + 1/2 + e),  |e| <= 2^-(shift + 1)
// (e from rounding bias[c] / s * mult to an integer: below 2^-32 of an
// output step for every real layer, whose M < 1 gives shift >= 31).
// wq int8 [out_c][K4] as written by netc_quantize_weights_s8.
void netc_quantize_bias_s32(int64_t out_c, int64_t K, const int8_t *wq, const float *scales,
                            const float *bias, float in_scale, int32_t in_zp, float out_scale,
                            int32_t *bias_eff, netc_requant *rq);

//
// safetensors.c: weights file reader
//
// File format: an 8-byte little-endian header length L, L bytes of JSON,
// then the data section. The JSON is an object mapping tensor names to
// {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}
// (byte offsets into the data section), plus an optional "__metadata__"
// object of string values. Everything is validated at init: the header
// fits the file, the JSON is well formed (strict: no duplicate or unknown
// keys), every dtype is known, end - begin equals numel * dtype size, and
// the tensors tile the data section exactly (no overlap, no gap, nothing
// after the last one). Any byte string gives an error message or success,
// never undefined behaviour.
//
// Usage: init (from memory or a path), read_f32 every tensor the model
// needs into its own storage (this handles alignment and byte order), then
// optionally check_unused to reject extra tensors, then free.

#define NETC_MAX_RANK 8

typedef enum netc_dtype {
  NETC_DTYPE_BOOL,
  NETC_DTYPE_U8,
  NETC_DTYPE_I8,
  NETC_DTYPE_F8_E5M2,
  NETC_DTYPE_F8_E4M3,
  NETC_DTYPE_I16,
  NETC_DTYPE_U16,
  NETC_DTYPE_F16,
  NETC_DTYPE_BF16,
  NETC_DTYPE_I32,
  NETC_DTYPE_U32,
  NETC_DTYPE_F32,
  NETC_DTYPE_F64,
  NETC_DTYPE_I64,
  NETC_DTYPE_U64,
  NETC_DTYPE_COUNT
} netc_dtype;

const char *netc_dtype_name(netc_dtype dtype);  // "F32", ...; "?" if out of range
int32_t netc_dtype_size(netc_dtype dtype);      // bytes per element; 0 if out of range

typedef struct netc_st_tensor {
  const char *name;               // decoded, NUL-terminated
  netc_dtype dtype;
  int32_t rank;                   // 0 for a scalar
  int64_t shape[NETC_MAX_RANK];
  int64_t numel;                  // product of shape (1 for a scalar)
  uint64_t begin, end;            // byte range in the data section
  const uint8_t *data;            // start of the bytes (unaligned, little-endian)
  int32_t used;                   // set by read_f32 / expect
} netc_st_tensor;

typedef struct netc_safetensors {
  const uint8_t *file;            // the whole file
  uint64_t file_size;
  const uint8_t *data;            // the data section (file + 8 + header length)
  uint64_t data_size;
  netc_st_tensor *tensors;        // sorted by name
  int32_t ntensors;
  const char **meta_keys;         // "__metadata__" entries, in file order
  const char **meta_values;
  int32_t nmeta;
  void *owned_;                   // private: file buffer read by init_file
  void *mem_;                     // private: the index (one allocation)
} netc_safetensors;

// Indexes a file held in memory (e.g. mmap'd); buf must outlive st. Allocates
// only the index. On failure returns -1, writes a message to err and leaves
// st safe to free.
int32_t netc_safetensors_init(netc_safetensors *st, const void *buf, uint64_t size,
                              char *err, size_t errlen);
// Reads the file at path into memory, then as netc_safetensors_init.
int32_t netc_safetensors_init_file(netc_safetensors *st, const char *path,
                                   char *err, size_t errlen);
// Releases what init allocated; st is zeroed. Safe on a zeroed or failed st.
void netc_safetensors_free(netc_safetensors *st);
// The tensor called name, or NULL.
const netc_st_tensor *netc_safetensors_find(const netc_safetensors *st, const char *name);
// Checks that name exists with the given dtype and shape (rank dims; shape
// may be NULL when rank is 0) and marks it used; -1 with a message if not.
int32_t netc_safetensors_expect(netc_safetensors *st, const char *name, netc_dtype dtype,
                                int32_t rank, const int64_t *shape, char *err, size_t errlen);
// expect(name, F32, rank, shape), then copies numel floats into dst.
// Reads an int64 tensor of indices into dst as floats (exact below 2^24),
// after checking every value is in [0, limit) (limit <= 2^24).
int32_t netc_safetensors_read_index(netc_safetensors *st, const char *name, int32_t rank, const int64_t *shape,
                                    int64_t limit, float *dst, char *err, size_t errlen);
int32_t netc_safetensors_read_f32(netc_safetensors *st, const char *name, int32_t rank,
                                  const int64_t *shape, float *dst, char *err, size_t errlen);
// -1 with a message naming the first (by name) tensor never expected or read.
int32_t netc_safetensors_check_unused(const netc_safetensors *st, char *err, size_t errlen);
// The "__metadata__" value for key, or NULL.
const char *netc_safetensors_get_metadata(const netc_safetensors *st, const char *key);

//
// model.c: loading a generated model's weights
//
// netc emits, per model, tables that say where every state_dict tensor goes
// in one float blob (the "weights"), which batch norms fold into the conv or
// linear before them, and which convolutions get their weights packed at load
// time. These functions build a model's blobs from those tables; the
// generated PREFIX_load / PREFIX_load_memory / PREFIX_init_random are thin
// wrappers that swap the new blobs in on success.
//
// Everything is validated before anything is handed back: on failure the
// caller's model is untouched (its previous weights stay usable), and err
// holds the message (safetensors' own, or "out of memory for ...").
//
//   netc_model_blobs b;
//   if (netc_model_load_file(&desc, "m.safetensors", &b, err, sizeof err) != 0)
//     return -1;                          // b is empty; nothing to free
//   ...use b.weights and b.packed, then free(b.weights); free(b.packed);

// What a state_dict tensor is: where it goes, and how init_random draws it.
typedef enum netc_model_kind {
  NETC_TENSOR_WEIGHT,    // conv / linear weight
  NETC_TENSOR_BIAS,      // conv / linear bias
  NETC_TENSOR_GAMMA,     // batch norm or layer norm weight
  NETC_TENSOR_BETA,      // batch norm or layer norm bias
  NETC_TENSOR_BN_MEAN,   // running_mean
  NETC_TENSOR_BN_VAR,    // running_var
  NETC_TENSOR_COUNTER,   // num_batches_tracked: int64, checked and ignored
  NETC_TENSOR_PARAM,     // a learned tensor a block declares (ConvNeXt's layer_scale)
  NETC_TENSOR_BUFFER,    // a float buffer a block declares
  NETC_TENSOR_INDEX      // an int64 buffer of indices (relative_position_index):
                         // held as floats, each checked to be in [0, index_limit)
} netc_model_kind;

typedef struct netc_model_tensor {
  const char *name;                  // state_dict name, e.g. "layer1.0.conv1.weight"
  int32_t rank;
  int64_t shape[NETC_MAX_RANK];      // rank entries
  int64_t offset;                    // floats into the weight blob (-1 for a counter)
  netc_model_kind kind;
  int64_t fan_in;                    // of the layer's weight: size(1) * kernel area
  int64_t index_limit;               // NETC_TENSOR_INDEX: every value is in [0, index_limit)
} netc_model_tensor;

// A batch norm folded into the conv / linear before it (netc_batchnorm_fold_f32
// on the blob, in place). Offsets are floats into the blob; gamma and beta are
// -1 when absent (affine=False). Without a bias of its own (had_bias 0), the
// layer's bias slot starts at zero.
typedef struct netc_model_fold {
  int64_t w, b, mean, var, gamma, beta;
  int64_t out_c, per_out;            // the weight viewed as [out_c, per_out]
  float eps;
  int32_t had_bias;
} netc_model_fold;


// A linear layer's weight W [n, k] at blob offset w (floats), packed by
// netc_gemm_pack_b(NETC_TRANS, k, n, W, k, ...) at packed offset `packed`.
typedef struct netc_model_bpack {
  int64_t w, k, n, packed;
} netc_model_bpack;

// An int8 conv or linear layer (netc --quantize int8), quantized at load
// time after the batch norms are folded: its float weight, [out_c][k] at
// blob offset w, and bias at b (-1: none) become in the int8 blob (the
// loaded model's packed blob, as bytes) int8 weights [out_c][k rounded up
// to 4] at byte offset qw, int32 biases at qb and per-channel
// requantization at qrq (netc_quantize_weights_s8, netc_quantize_bias_s32),
// for an input of in_scale / in_zp and an output of out_scale.
typedef struct netc_model_qlayer {
  int64_t w, b, out_c, k;
  float in_scale, out_scale;
  int32_t in_zp;
  int64_t qw, qb, qrq;
} netc_model_qlayer;

// A model's tables. Arrays may be NULL when their count is 0.
typedef struct netc_model_desc {
  const netc_model_tensor *tensors;  // state_dict order
  int32_t ntensors;
  const netc_model_fold *folds;      // applied in order, after reading
  int32_t nfolds;
  const netc_conv2d_layer *const *packs; // convolutions packed after folding:
                                     // weight -> packed by netc_conv2d_pack_weights
  int32_t npacks;
  int64_t weight_floats;             // the blob's size
  int64_t packed_floats;             // the packed blob's size
  // The prefix of the blob a model reads once its convolutions are packed
  // (netc puts the packed convolutions' raw weights and folded batch norms'
  // statistics after it): the loaders shrink the blob to it after packing,
  // so the weights are not held twice. 0 (or weight_floats): keep it all.
  int64_t keep_floats;
  const netc_model_bpack *bpacks;    // linear weights packed as GEMM operands after folding
  int32_t nbpacks;
  const netc_model_qlayer *qlayers;  // int8 layers quantized after folding, into the packed blob
  int32_t nqlayers;
} netc_model_desc;

// A loaded model's memory, both from calloc: release them with free().
typedef struct netc_model_blobs {
  float *weights;                    // keep_floats (or weight_floats) (+1) floats, batch norms folded
  float *packed;                     // packed_floats (+1) floats
} netc_model_blobs;

// From a safetensors file in memory (data need not outlive the call): every
// tensor of the table must be there with its dtype (F32, or I64 for a
// counter) and shape, and no other. 0 and the blobs in *out, or -1 with a
// message in err and *out empty.
int32_t netc_model_load_memory(const netc_model_desc *d, const void *data, size_t size,
                               netc_model_blobs *out, char *err, size_t errlen);
// The same from the file at path.
int32_t netc_model_load_file(const netc_model_desc *d, const char *path,
                             netc_model_blobs *out, char *err, size_t errlen);
// Deterministic random weights, the same on every machine (tools/netc_random.py
// computes them too): netc_splitmix64 seeded with seed; per element
// u = (next() >> 40) * 2^-24, uniform in [0, 1); tensors in table order,
// elements in order, one u each, in float arithmetic:
//   conv / linear weight, bias:  (2u - 1) * (1 / sqrtf(fan_in))   PyTorch's default bound
//   BN / LN gamma, BN var:       0.5 + u
//   BN / LN beta, BN mean:       u - 0.5
//   counter:            no draw
// then folded and packed as a loaded file is. -1 only when out of memory.
int32_t netc_model_init_random(const netc_model_desc *d, uint64_t seed,
                               netc_model_blobs *out, char *err, size_t errlen);
// splitmix64 (Steele, Lea, Flood 2014): advances *state, returns the next value.
uint64_t netc_splitmix64(uint64_t *state);

//
// runner.c: the command-line runner (netc --main)
//
// The generated main() is a call to netc_model_main with the model's sizes
// and two callbacks; the runner parses the options, reads and writes the
// files, times --bench and prints what it always printed:
//
//   NAME [--weights W.safetensors] [--input IN.f32]... [--output OUT.f32]...
//        [--seed S] [--bench N] [--threads T]
//   NAME [--weights W.safetensors] --calibrate CALIB.f32 --ranges OUT.json
//        [--method minmax|percentile[=P]]
//
// Inputs and outputs are raw little-endian float32 files of exactly the
// tensor's size (anything else is an error). Without --input, input i is
// uniform in [-1, 1): (2u - 1) with u as for netc_model_init_random from one
// generator seeded with seed + 1, continued across inputs. --bench N times N
// calls after one untimed call and prints "runs=N threads=T min_ms=..." then,
// last, "median_ms=...". --threads T that the library cannot give is a
// warning on stderr: built without OpenMP (one thread; libnetcrt-omp has it),
// or T above the processors available. Exit status: 0, 1 (a file, the weights, memory) or
// 2 (usage), with a message on stderr.
//
// --calibrate (int8 quantization's ranges, netc --quantize): CALIB.f32 holds
// N samples back to back (each: every input in order, raw float32; its size
// must be a nonzero multiple of a sample's). Each sample runs through
// forward_calibrate; OUT.json (written to OUT.json.tmp, then renamed) gets
//   {"netc_ranges": 1, "net": ..., "fingerprint": "<16 hex digits>",
//    "method": "minmax" | "percentile", ["percentile": P,] "samples": N,
//    "layers": [{"index": i, "name": ..., "op": ..., "min": lo, "max": hi}, ...]}
// with every layer in index order and floats as "%.9g"; stdout says
// "calibrated N samples, M layers -> OUT.json". minmax: the extremes over all
// samples. percentile=P (0 < P <= 100, default 99.99): a second pass fills
// 2048 equal bins over each layer's [min, max]; the ends are the values of
// rank (100 - P) / 100 * C and P / 100 * C of its C values, interpolated in
// their bin (within one bin of the exact ceil-rank values), put in order and
// widened to include 0 (runner.c has the exact rule). A NaN or an infinity
// in any layer is an error naming the layer and the sample.

// An observer of the calibration forward pass (PREFIX_forward_calibrate):
// called with layer (its index in the graph, netc --report=json's order) and
// that layer's count output values at x, valid only during the call.
typedef void netc_observer(void *ctx, int32_t layer, const float *x, int64_t count);

typedef struct netc_runner {
  const char *name;                  // the model's prefix: usage and file messages
  const char *net;                   // the net's name, for the usage text
  int32_t embedded;                  // 1: without --weights, the weights compiled in
  int32_t ninputs, noutputs;
  const int64_t *input_floats;       // [ninputs]
  const int64_t *output_floats;      // [noutputs]
  int64_t arena_floats;
  // Loads the weights at path or, when path is NULL, the default ones (random
  // from seed, or embedded). Returns NULL, or the error message.
  const char *(*load)(const char *path, uint64_t seed);
  // One inference: inputs[ninputs], outputs[noutputs], an arena of
  // arena_floats floats.
  void (*forward)(const float *const *inputs, float *const *outputs, float *arena);
  // --calibrate (zero in a runner built without it: the option is refused).
  // Every layer of the graph in id order, net inputs included: names and ops
  // as netc --report=json lists them.
  int32_t nlayers;
  const char *const *layer_names;    // [nlayers]
  const char *const *layer_ops;      // [nlayers]
  const char *fingerprint;           // PREFIX_FINGERPRINT: 16 lowercase hex digits
  int64_t calib_arena_floats;        // PREFIX_CALIB_ARENA_FLOATS
  // PREFIX_forward_calibrate: the net before fusion, obs called once per
  // layer in id order with that layer's values.
  void (*forward_calibrate)(const float *const *inputs, float *const *outputs, float *arena,
                            netc_observer *obs, void *ctx);
} netc_runner;

// main() of a generated runner; returns its exit status.
int netc_model_main(int argc, char **argv, const netc_runner *r);

#ifdef __cplusplus
}
#endif

#endif // NETC_RT_H
