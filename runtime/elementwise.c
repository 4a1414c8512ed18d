// elementwise.c -- activations, arithmetic, pad, concat, normalize.
//
// Everything runs on the SIMD macros. Sigmoid, tanh and GELU use the vector
// math of netc_internal.h (netc_vexp and friends: a few ulp from the exact
// value, see there), not libm; the reference uses libm in double.
// Large arrays are split across threads.

#include "netc_internal.h"

#include <string.h>

// Arrays this long are cut into BLOCK-float pieces shared among threads.
#define PARALLEL_MIN (1 << 16)
#define BLOCK (1 << 14)

//
// Activations
//

// One loop per activation so that the switch is not in the loop; the tail
// (count % EPR floats) goes through the same vector code with a partial
// load and store, so every element gets the same formula.
#define ACT_LOOP(expr)                                                 \
  do {                                                                 \
    int64_t i = 0;                                                     \
    for (; i + EPR <= count; i += EPR) {                               \
      NETC_F32_VEC v = NETC_F32_VEC_LOAD(x + i);                       \
      NETC_F32_VEC_STORE(y + i, expr);                                 \
    }                                                                  \
    if (i < count) {                                                   \
      NETC_F32_VEC v = NETC_F32_VEC_LOADN(x + i, count - i);           \
      NETC_F32_VEC_STOREN(y + i, expr, count - i);                     \
    }                                                                  \
  } while (0)

void netc_act_span_f32(netc_act act, float slope, int64_t count, const float *x, float *y) {
  const int64_t EPR = NETC_F32_EPR;
  const NETC_F32_VEC zero = NETC_F32_VEC_ZERO, six = NETC_F32_VEC_SET1(6.0f);
  const NETC_F32_VEC vslope = NETC_F32_VEC_SET1(slope);
  // max(0, a) and min(6, .) return a when a is NaN: NaN stays NaN.
  switch (act) {
  case NETC_ACT_NONE:
    if (x != y)
      memmove(y, x, sizeof(float) * (size_t)count);
    return;
  case NETC_ACT_RELU: ACT_LOOP(NETC_F32_VEC_MAX(zero, v)); return;
  case NETC_ACT_RELU6: ACT_LOOP(NETC_F32_VEC_MIN(six, NETC_F32_VEC_MAX(zero, v))); return;
  case NETC_ACT_LEAKY_RELU:
    ACT_LOOP(NETC_F32_VEC_FMA(NETC_F32_VEC_MAX(zero, v), vslope, NETC_F32_VEC_MIN(zero, v)));
    return;
  case NETC_ACT_SIGMOID: ACT_LOOP(netc_vsigmoid(v)); return;
  case NETC_ACT_TANH: ACT_LOOP(netc_vtanh(v)); return;
  case NETC_ACT_GELU: ACT_LOOP(netc_vgelu(v)); return;
  case NETC_ACT_GELU_TANH: ACT_LOOP(netc_vgelu_tanh(v)); return;
  case NETC_ACT_SILU: ACT_LOOP(netc_vsilu(v)); return;
  case NETC_ACT_HARDSWISH: ACT_LOOP(NETC_F32_VEC_MUL(v, netc_vhardsigmoid(v))); return;
  case NETC_ACT_HARDSIGMOID: ACT_LOOP(netc_vhardsigmoid(v)); return;
  case NETC_ACT_MISH: ACT_LOOP(netc_vmish(v)); return;
  case NETC_ACT_ELU: ACT_LOOP(netc_velu(v, vslope)); return;
  case NETC_ACT_COUNT: break;
  }
  assert(!"bad activation");
}

typedef struct {
  char op;  // 0: activation only; '+', '-', '*', '/', 'r' (s - a), 'q' (s / a): binary_span first
  int64_t count;
  const float *a, *b;
  float s;
  netc_act act;
  float slope;
  float *y;
} ew_job;

static void binary_span(char op, int64_t count, const float *a, const float *b, float s, float *y);

// One BLOCK of an elementwise job: the operation, then the activation while
// the block is in cache.
static void ew_chunk(void *ctx, int64_t k) {
  const ew_job *j = ctx;
  const int64_t at = k * BLOCK, len = NETC_MIN((int64_t)BLOCK, j->count - at);
  const float *src = j->a + at;
  if (j->op) {
    binary_span(j->op, len, j->a + at, j->b ? j->b + at : NULL, j->s, j->y + at);
    src = j->y + at;
  }
  netc_act_span_f32(j->act, j->slope, len, src, j->y + at);
}

static void ew_run(const ew_job *j) {
  const int64_t nblocks = (j->count + BLOCK - 1) / BLOCK;
  netc_parallel(nblocks, j->count >= PARALLEL_MIN ? 0 : 1, ew_chunk, (void *)j);
}

void netc_act_f32(netc_act act, float slope, int64_t count, const float *x, float *y) {
  if (count < PARALLEL_MIN) {
    netc_act_span_f32(act, slope, count, x, y);
    return;
  }
  ew_job j = {0, count, x, NULL, 0.0f, act, slope, y};
  ew_run(&j);
}

void netc_relu_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_RELU, 0.0f, count, x, y);
}
void netc_relu6_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_RELU6, 0.0f, count, x, y);
}
void netc_leaky_relu_f32(int64_t count, float slope, const float *x, float *y) {
  netc_act_f32(NETC_ACT_LEAKY_RELU, slope, count, x, y);
}
void netc_sigmoid_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_SIGMOID, 0.0f, count, x, y);
}
void netc_tanh_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_TANH, 0.0f, count, x, y);
}
void netc_gelu_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_GELU, 0.0f, count, x, y);
}
void netc_gelu_tanh_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_GELU_TANH, 0.0f, count, x, y);
}
void netc_silu_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_SILU, 0.0f, count, x, y);
}
void netc_hardswish_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_HARDSWISH, 0.0f, count, x, y);
}
void netc_hardsigmoid_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_HARDSIGMOID, 0.0f, count, x, y);
}
void netc_mish_f32(int64_t count, const float *x, float *y) {
  netc_act_f32(NETC_ACT_MISH, 0.0f, count, x, y);
}
void netc_elu_f32(int64_t count, float alpha, const float *x, float *y) {
  netc_act_f32(NETC_ACT_ELU, alpha, count, x, y);
}

static double ref_hardsigmoid(double v) { return isnan(v) ? v : (v <= -3.0 ? 0.0 : v >= 3.0 ? 1.0 : (v + 3.0) / 6.0); }

// Reference: PyTorch's formulas written out in double, one element at a time.
void netc_ref_act_f32(netc_act act, float slope, int64_t count, const float *x, float *y) {
  for (int64_t i = 0; i < count; i++) {
    double v = x[i], r = v;
    switch (act) {
    case NETC_ACT_NONE: r = v; break;
    case NETC_ACT_RELU: r = isnan(v) ? v : (v > 0.0 ? v : 0.0); break;
    case NETC_ACT_RELU6: r = isnan(v) ? v : (v < 0.0 ? 0.0 : (v > 6.0 ? 6.0 : v)); break;
    case NETC_ACT_LEAKY_RELU: r = v > 0.0 ? v : v * (double)slope; break;
    case NETC_ACT_SIGMOID: r = 1.0 / (1.0 + exp(-v)); break;
    case NETC_ACT_TANH: r = tanh(v); break;
    case NETC_ACT_GELU: r = 0.5 * v * (1.0 + erf(v * NETC_SQRT1_2)); break;
    case NETC_ACT_GELU_TANH:
      r = 0.5 * v * (1.0 + tanh(NETC_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      break;
    case NETC_ACT_SILU: r = v * (1.0 / (1.0 + exp(-v))); break; // x * sigmoid(x): NaN at -inf
    case NETC_ACT_HARDSWISH: r = v * ref_hardsigmoid(v); break;
    case NETC_ACT_HARDSIGMOID: r = ref_hardsigmoid(v); break;
    case NETC_ACT_MISH: r = v * tanh(v > 20.0 ? v : log1p(exp(v))); break; // softplus threshold 20
    case NETC_ACT_ELU: r = v > 0.0 ? v : (double)slope * expm1(v); break;
    case NETC_ACT_COUNT: assert(!"bad activation"); break;
    }
    y[i] = (float)r;
  }
}

//
// Arithmetic
//

// y = a op b (b != NULL) or a op s, vectorised; op is '+', '-', '*', '/',
// or 'r' for s - a and 'q' for s / a. One thread's share.
static void binary_span(char op, int64_t count, const float *a, const float *b, float s, float *y) {
  const int64_t EPR = NETC_F32_EPR;
  const int64_t nvec = count / EPR;
  const NETC_F32_VEC vs = NETC_F32_VEC_SET1(s);
  for (int64_t v = 0; v < nvec; v++) {
    NETC_F32_VEC va = NETC_F32_VEC_LOAD(a + v * EPR);
    NETC_F32_VEC vb = b ? NETC_F32_VEC_LOAD(b + v * EPR) : vs;
    NETC_F32_VEC r;
    switch (op) {
    case '+': r = NETC_F32_VEC_ADD(va, vb); break;
    case '-': r = NETC_F32_VEC_SUB(va, vb); break;
    case '*': r = NETC_F32_VEC_MUL(va, vb); break;
    case '/': r = NETC_F32_VEC_DIV(va, vb); break;
    case 'q': r = NETC_F32_VEC_DIV(vb, va); break;
    default: r = NETC_F32_VEC_SUB(vb, va); break;
    }
    NETC_F32_VEC_STORE(y + v * EPR, r);
  }
  for (int64_t i = nvec * EPR; i < count; i++) {
    float vb = b ? b[i] : s;
    switch (op) {
    case '+': y[i] = a[i] + vb; break;
    case '-': y[i] = a[i] - vb; break;
    case '*': y[i] = a[i] * vb; break;
    case '/': y[i] = a[i] / vb; break;
    case 'q': y[i] = vb / a[i]; break;
    default: y[i] = vb - a[i]; break;
    }
  }
}

// binary_span over blocks, shared among threads; then the activation on
// each block while it is in cache.
static void binary(char op, int64_t count, const float *a, const float *b, float s, netc_act act,
                   float slope, float *y) {
  ew_job j = {op, count, a, b, s, act, slope, y};
  ew_run(&j);
}

void netc_add_f32(int64_t count, const float *a, const float *b, float *y) {
  binary('+', count, a, b, 0.0f, NETC_ACT_NONE, 0.0f, y);
}
void netc_sub_f32(int64_t count, const float *a, const float *b, float *y) {
  binary('-', count, a, b, 0.0f, NETC_ACT_NONE, 0.0f, y);
}
void netc_mul_f32(int64_t count, const float *a, const float *b, float *y) {
  binary('*', count, a, b, 0.0f, NETC_ACT_NONE, 0.0f, y);
}
void netc_div_f32(int64_t count, const float *a, const float *b, float *y) {
  binary('/', count, a, b, 0.0f, NETC_ACT_NONE, 0.0f, y);
}
void netc_div_scalar_f32(int64_t count, const float *x, float s, float *y) {
  binary('/', count, x, NULL, s, NETC_ACT_NONE, 0.0f, y);
}
void netc_rdiv_scalar_f32(int64_t count, float s, const float *x, float *y) {
  binary('q', count, x, NULL, s, NETC_ACT_NONE, 0.0f, y);
}
void netc_add_scalar_f32(int64_t count, const float *x, float s, float *y) {
  binary('+', count, x, NULL, s, NETC_ACT_NONE, 0.0f, y);
}
void netc_mul_scalar_f32(int64_t count, const float *x, float s, float *y) {
  binary('*', count, x, NULL, s, NETC_ACT_NONE, 0.0f, y);
}
void netc_rsub_scalar_f32(int64_t count, float s, const float *x, float *y) {
  binary('r', count, x, NULL, s, NETC_ACT_NONE, 0.0f, y);
}
void netc_add_act_f32(netc_act act, float slope, int64_t count, const float *a, const float *b,
                      float *y) {
  binary('+', count, a, b, 0.0f, act, slope, y);
}

void netc_ref_binary_f32(char op, int64_t count, const float *a, const float *b, float s,
                         int32_t swap, float *y) {
  for (int64_t i = 0; i < count; i++) {
    float l = a[i], r = b ? b[i] : s;
    if (swap) {
      float t = l;
      l = r;
      r = t;
    }
    y[i] = op == '+' ? l + r : op == '-' ? l - r : op == '*' ? l * r : l / r;
  }
}

// Broadcasting: dims merged where both operands are laid out alike (so an
// SE scale [n, c, 1, 1] over [n, c, h, w] becomes rows of h*w against one
// number), then one vector span per row of the last merged dim.
void netc_broadcast_f32(char op, int32_t rank, const int64_t *out_shape, const int64_t *a_shape,
                        const int64_t *b_shape, const float *a, const float *b, float *y) {
  assert(rank >= 1 && rank <= NETC_MAX_RANK);
  int64_t size[NETC_MAX_RANK], sa[NETC_MAX_RANK], sb[NETC_MAX_RANK];
  int n = 0;
  int64_t ra = 1, rb = 1; // the operands' row-major strides, from the last dim
  int64_t as[NETC_MAX_RANK], bs[NETC_MAX_RANK];
  for (int d = rank - 1; d >= 0; d--) {
    assert(a_shape[d] == out_shape[d] || a_shape[d] == 1);
    assert(b_shape[d] == out_shape[d] || b_shape[d] == 1);
    as[d] = a_shape[d] == 1 ? 0 : ra;
    bs[d] = b_shape[d] == 1 ? 0 : rb;
    ra *= a_shape[d];
    rb *= b_shape[d];
  }
  // Merge dim d into the one after it when each operand steps over both
  // as one (stride[d] == stride[d + 1] * size[d + 1]); size-1 dims vanish.
  for (int d = 0; d < rank; d++) {
    if (out_shape[d] == 1)
      continue;
    if (n > 0 && sa[n - 1] == as[d] * out_shape[d] && sb[n - 1] == bs[d] * out_shape[d]) {
      size[n - 1] *= out_shape[d];
      sa[n - 1] = as[d];
      sb[n - 1] = bs[d];
      continue;
    }
    size[n] = out_shape[d], sa[n] = as[d], sb[n] = bs[d];
    n++;
  }
  if (n == 0) { // every dim 1: one element
    size[0] = 1, sa[0] = sb[0] = 1;
    n = 1;
  }
  const int64_t len = size[n - 1], ia = sa[n - 1], ib = sb[n - 1];
  int64_t rows = 1, idx[NETC_MAX_RANK] = {0};
  for (int d = 0; d < n - 1; d++)
    rows *= size[d];
  const float *pa = a, *pb = b;
  for (int64_t r = 0; r < rows; r++, y += len) {
    if (ia && ib)
      binary_span(op, len, pa, pb, 0.0f, y);
    else if (ia) // b is one number along the row
      binary_span(op, len, pa, NULL, *pb, y);
    else if (ib) // a is one number: a + b, a * b commute; a - b is 'r' (s - x), a / b 'q' (s / x)
      binary_span(op == '-' ? 'r' : op == '/' ? 'q' : op, len, pb, NULL, *pa, y);
    else {
      const float v = op == '+' ? *pa + *pb : op == '-' ? *pa - *pb : op == '*' ? *pa * *pb : *pa / *pb;
      for (int64_t i = 0; i < len; i++)
        y[i] = v;
    }
    // The next row: an odometer over the outer dims.
    for (int d = n - 2; d >= 0; d--) {
      pa += sa[d];
      pb += sb[d];
      if (++idx[d] < size[d])
        break;
      pa -= sa[d] * size[d];
      pb -= sb[d] * size[d];
      idx[d] = 0;
    }
  }
}

void netc_ref_broadcast_f32(char op, int32_t rank, const int64_t *out_shape, const int64_t *a_shape,
                            const int64_t *b_shape, const float *a, const float *b, float *y) {
  int64_t total = 1;
  for (int d = 0; d < rank; d++)
    total *= out_shape[d];
  for (int64_t i = 0; i < total; i++) {
    int64_t rest = i, ia = 0, ib = 0, ma = 1, mb = 1;
    for (int d = rank - 1; d >= 0; d--) {
      const int64_t k = rest % out_shape[d];
      rest /= out_shape[d];
      ia += (a_shape[d] == 1 ? 0 : k) * ma;
      ib += (b_shape[d] == 1 ? 0 : k) * mb;
      ma *= a_shape[d];
      mb *= b_shape[d];
    }
    y[i] = op == '+' ? a[ia] + b[ib] : op == '-' ? a[ia] - b[ib] : op == '*' ? a[ia] * b[ib] : a[ia] / b[ib];
  }
}

//
// Pad, concat, normalize
//

void netc_pad2d_f32(int64_t n, int64_t c, int64_t h, int64_t w, int64_t pad_top,
                    int64_t pad_bottom, int64_t pad_left, int64_t pad_right, float value,
                    const float *x, float *y) {
  const int64_t oh = h + pad_top + pad_bottom, ow = w + pad_left + pad_right;
  assert(oh >= 1 && ow >= 1);
  // Output columns [c0, c1) come from input columns [c0 - pad_left, c1 - pad_left).
  const int64_t c0 = NETC_MAX((int64_t)0, pad_left), c1 = NETC_MIN(ow, w + pad_left);
  for (int64_t q = 0; q < n * c; q++) {
    const float *xp = x + q * h * w;
    float *yp = y + q * oh * ow;
    for (int64_t r = 0; r < oh; r++) {
      float *yr = yp + r * ow;
      int64_t ih = r - pad_top;
      if (ih < 0 || ih >= h || c0 >= c1) {
        for (int64_t j = 0; j < ow; j++)
          yr[j] = value;
        continue;
      }
      for (int64_t j = 0; j < c0; j++)
        yr[j] = value;
      memcpy(yr + c0, xp + ih * w + (c0 - pad_left), sizeof(float) * (size_t)(c1 - c0));
      for (int64_t j = c1; j < ow; j++)
        yr[j] = value;
    }
  }
}

void netc_ref_pad2d_f32(int64_t n, int64_t c, int64_t h, int64_t w, int64_t pad_top,
                        int64_t pad_bottom, int64_t pad_left, int64_t pad_right, float value,
                        const float *x, float *y) {
  const int64_t oh = h + pad_top + pad_bottom, ow = w + pad_left + pad_right;
  for (int64_t q = 0; q < n * c; q++)
    for (int64_t r = 0; r < oh; r++)
      for (int64_t j = 0; j < ow; j++) {
        int64_t ih = r - pad_top, iw = j - pad_left;
        int inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
        y[(q * oh + r) * ow + j] = inside ? x[(q * h + ih) * w + iw] : value;
      }
}

void netc_concat_f32(int64_t outer, int32_t count, const float *const *xs, const int64_t *inner,
                     float *y) {
  int64_t total = 0;
  for (int32_t i = 0; i < count; i++)
    total += inner[i];
  for (int64_t o = 0; o < outer; o++) {
    float *dst = y + o * total;
    for (int32_t i = 0; i < count; i++) {
      memcpy(dst, xs[i] + o * inner[i], sizeof(float) * (size_t)inner[i]);
      dst += inner[i];
    }
  }
}

void netc_ref_concat_f32(int64_t outer, int32_t count, const float *const *xs,
                         const int64_t *inner, float *y) {
  int64_t total = 0;
  for (int32_t i = 0; i < count; i++)
    total += inner[i];
  for (int64_t o = 0; o < outer; o++) {
    int64_t offset = 0;
    for (int32_t i = 0; i < count; i++) {
      for (int64_t t = 0; t < inner[i]; t++)
        y[o * total + offset + t] = xs[i][o * inner[i] + t];
      offset += inner[i];
    }
  }
}

// Division, not multiplication by 1/std: torchvision's Normalize divides.
void netc_normalize_f32(int64_t n, int64_t c, int64_t hw, const float *mean, const float *std,
                        const float *x, float *y) {
  const int64_t EPR = NETC_F32_EPR;
  for (int64_t q = 0; q < n * c; q++) {
    const float m = mean[q % c], s = std[q % c];
    const NETC_F32_VEC vm = NETC_F32_VEC_SET1(m), vs = NETC_F32_VEC_SET1(s);
    const float *xp = x + q * hw;
    float *yp = y + q * hw;
    int64_t i = 0;
    for (; i + EPR <= hw; i += EPR)
      NETC_F32_VEC_STORE(yp + i, NETC_F32_VEC_DIV(NETC_F32_VEC_SUB(NETC_F32_VEC_LOAD(xp + i), vm), vs));
    for (; i < hw; i++)
      yp[i] = (xp[i] - m) / s;
  }
}

void netc_ref_normalize_f32(int64_t n, int64_t c, int64_t hw, const float *mean, const float *std,
                            const float *x, float *y) {
  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t i = 0; i < hw; i++) {
        int64_t at = (b * c + ch) * hw + i;
        y[at] = (float)(((double)x[at] - mean[ch]) / std[ch]);
      }
}

// softplus: log1p(exp(t)) / beta with t = beta * x, the identity above the
// threshold (PyTorch's rule, which also keeps exp from overflowing).
void netc_softplus_f32(int64_t count, float beta, float threshold, const float *x, float *y) {
  int par = count >= (1 << 16);
  (void)par;
  NETC_OMP(parallel for schedule(static) if (par))
  for (int64_t i = 0; i < count; i++) {
    const float t = x[i] * beta;
    y[i] = t > threshold ? x[i] : log1pf(expf(t)) / beta;
  }
}

void netc_ref_softplus_f32(int64_t count, float beta, float threshold, const float *x, float *y) {
  for (int64_t i = 0; i < count; i++) {
    const double t = (double)x[i] * beta;
    y[i] = t > threshold ? x[i] : (float)(log1p(exp(t)) / beta);
  }
}
