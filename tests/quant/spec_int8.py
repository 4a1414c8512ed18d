#!/usr/bin/python3
"""The spec's int8 arithmetic (/work/notes/int8-spec.md) in Python, run on PyTorch's converted
FX graph: a model of what netc's int8 C computes, to check before (and beside) the C that the
contract -- "every output element within one quantization step of PyTorch's" -- can hold.

The qparams are PyTorch's own (the converted modules' scales and zero points, the observers'
per-channel weight scales), so only the arithmetic differs from PyTorch's onednn kernels:
  * input: q = clamp(nearbyint(x * (1/scale)) + zp, 0, 255), all float32;
  * conv / linear: int8 weights as the spec quantizes them (nearbyint(w / scale_c), clamped to
    [-128, 127]), acc = sum (x - in_zp) * w (padding taps contribute nothing: they hold in_zp),
    y = clamp(out_zp + ((acc * mult + round) >> shift), lo, 255) with the fixed-point multiplier
    and shift of netc_requant_from_real and the bias unrounded in the rounding offset:
    round = 2^(shift-1) + llround(b / (s_in * s_w[c]) * mult) (netc_quantize_bias_s32), lo = zp
    for a fused relu;
  * add (+relu): a_mult = round(s_a / s_y * 2^shift), b_mult likewise, the largest shift that keeps
    both below 2^31 (at most 62), y = clamp(y_zp + ((da * a_mult + db * b_mult + 2^(shift-1)) >> shift));
  * max pool on the uint8 values, adaptive / global average pool: round-half-away(sum / count),
    both keeping the input's qparams; relu6: clamp to [zp, zp + nearbyint(6 / scale)];
  * flatten / dropout: unchanged bytes; dequantize: scale * (q - zp) in float32.
Convolutions are computed in float64 on integer values: every partial sum stays below 2^53, so
they are exact.

    spec_int8.py MODEL --weights W --calib C.f32 --inputs T.f32 [--per-op]
prints the emulated outputs against PyTorch's in quantization steps (torch_int8.compare);
--per-op evaluates each op on PyTorch's own inputs to it, so differences do not propagate, and
prints how many of its output elements differ from PyTorch's and by how many steps.
(check_quant.py --emulate runs the whole-net comparison on every model.)
"""

import argparse
import math
import operator
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_int8 as ti  # noqa: E402


class Q:
    """A uint8 tensor (held as int64) with its scale and zero point."""

    def __init__(self, q, scale, zp):
        self.q, self.scale, self.zp = q, float(scale), int(zp)


def f32(v):
    return torch.tensor(v, dtype=torch.float32)


def requant_from_real(m):
    """netc_requant_from_real: m = mult * 2^-shift, mult in [2^30, 2^31), shift in [1, 62]."""
    if m <= 0:
        return 0, 62
    f, e = math.frexp(m)
    mult = round(f * 2 ** 31)   # llround: halves away from zero (f > 0)
    if mult == 2 ** 31:
        mult //= 2
        e += 1
    shift = 31 - e
    if shift > 62:
        return 0, 62
    if shift < 1:
        return 2 ** 31 - 1, 1
    return mult, shift


def llround(x):
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def apply_requant(acc, mult, shift, rnd=None):
    """(acc * mult + rnd) >> shift: acc int64 tensor [..., C, ...] with mult/shift/rnd int64
    tensors broadcast to it; rnd defaults to 2^(shift-1) (round half up)."""
    if rnd is None:
        rnd = torch.ones_like(shift) << (shift - 1)
    return torch.div(acc * mult + rnd, 2 ** shift, rounding_mode='floor')


def bias_round(b, s, mult, shift):
    """netc_quantize_bias_s32's rounding offset: 2^(shift-1) + llround(b / s * mult), the bias
    term clamped to [-2^61, 2^61] (b / s and the product in double, as the C)."""
    r = 1 << (shift - 1)
    if b is not None and mult != 0:
        v = b / s * mult
        v = max(-2.0 ** 61, min(2.0 ** 61, v))
        r += llround(v)
    return r


def quantize_input(x, scale, zp):
    inv = f32(1.0) / f32(scale)
    return Q(torch.clamp(torch.round(x.float() * inv).long() + int(zp), 0, 255), scale, zp)


def dequantize(v):
    return f32(v.scale) * (v.q - v.zp).float()


def weights_s8(module):
    """(float weight, int8 weight as int64, per-channel scales): the spec's quantization of the
    module's float weight with the observer's scales (PyTorch's weight() dequantized is the float
    weight rounded to those scales: quantizing it again gives its integers back)."""
    wq = module.weight()
    scales = wq.q_per_channel_scales().to(torch.float32)
    w = wq.dequantize()
    shape = (-1,) + (1,) * (w.dim() - 1)
    q = torch.clamp(torch.round(w / scales.reshape(shape)), -128, 127).long()
    return q, scales


def qconv_linear(module, x, relu):
    q_w, s_w = weights_s8(module)
    s_out, z_out = float(module.scale), int(module.zero_point)
    xs = (x.q - x.zp).double()
    if q_w.dim() == 4:
        acc = F.conv2d(xs, q_w.double(), None, module.stride, module.padding, module.dilation, module.groups)
    else:
        acc = xs @ q_w.double().t()
    acc = acc.round().long()
    b = module.bias()
    cshape = (1, -1) + (1,) * (acc.dim() - 2)
    rq = [requant_from_real(x.scale * float(s) / s_out) for s in s_w]
    rnd = [bias_round(None if b is None else float(b[c]), x.scale * float(s_w[c]), *rq[c])
           for c in range(len(s_w))]
    mult = torch.tensor([r[0] for r in rq], dtype=torch.int64).reshape(cshape)
    shift = torch.tensor([r[1] for r in rq], dtype=torch.int64).reshape(cshape)
    rnd = torch.tensor(rnd, dtype=torch.int64).reshape(cshape)
    y = z_out + apply_requant(acc, mult, shift, rnd)
    return Q(torch.clamp(y, z_out if relu else 0, 255), s_out, z_out)


def qadd(a, b, scale, zp, relu):
    sy, zy = float(scale), int(zp)
    ra, rb = a.scale / sy, b.scale / sy
    shift = 62
    while shift > 1 and max(round(ra * 2 ** shift), round(rb * 2 ** shift)) >= 2 ** 31:
        shift -= 1
    am, bm = round(ra * 2 ** shift), round(rb * 2 ** shift)
    s = (a.q - a.zp) * am + (b.q - b.zp) * bm + (1 << (shift - 1))
    y = zy + torch.div(s, 2 ** shift, rounding_mode='floor')
    return Q(torch.clamp(y, zy if relu else 0, 255), sy, zy)


def adaptive_avg(x, out_size):
    out_size = (out_size, out_size) if isinstance(out_size, int) else tuple(out_size)
    if out_size != (1, 1):
        raise NotImplementedError(f'adaptive average pool to {out_size}')
    total = x.q.sum(dim=(2, 3), keepdim=True)
    count = x.q.shape[2] * x.q.shape[3]
    return Q(torch.div(2 * total + count, 2 * count, rounding_mode='floor'), x.scale, x.zp)


def maxpool(mod_or_args, x):
    y = F.max_pool2d(x.q.double(), mod_or_args.kernel_size, mod_or_args.stride, mod_or_args.padding,
                     mod_or_args.dilation, mod_or_args.ceil_mode)
    return Q(y.long(), x.scale, x.zp)


def eval_node(converted, mods, n, args):
    """One node of the converted graph with the spec's arithmetic; args already evaluated
    (Q for uint8 tensors, float tensors, Python values)."""
    from torch.ao.nn.quantized import Conv2d as QConv2d, Linear as QLinear, Dropout as QDropout
    from torch.nn.intrinsic.quantized import ConvReLU2d, LinearReLU
    if n.op == 'get_attr':
        obj = converted
        for part in n.target.split('.'):
            obj = getattr(obj, part)
        return obj
    if n.op == 'call_module':
        m = mods[n.target]
        a = args[0]
        if isinstance(m, (ConvReLU2d, LinearReLU)):
            return qconv_linear(m, a, True)
        if isinstance(m, (QConv2d, QLinear)):
            return qconv_linear(m, a, False)
        if isinstance(m, torch.nn.MaxPool2d):
            return maxpool(m, a)
        if isinstance(m, torch.nn.AdaptiveAvgPool2d):
            return adaptive_avg(a, m.output_size)
        if isinstance(m, torch.nn.ReLU6):
            q6 = min(255, a.zp + int(torch.round(f32(6.0) / f32(a.scale))))
            return Q(torch.clamp(a.q, a.zp, q6), a.scale, a.zp)
        if isinstance(m, (QDropout, torch.nn.Dropout, torch.nn.Identity)):
            return a
        if isinstance(m, torch.nn.Flatten):
            return m(a) if isinstance(a, torch.Tensor) else Q(m(a.q), a.scale, a.zp)
        raise NotImplementedError(f'{n.name}: module {type(m).__name__}')
    if n.op == 'call_function':
        t = n.target
        if t is torch.quantize_per_tensor:
            return quantize_input(args[0], float(args[1]), int(args[2]))
        if t in (torch.ops.quantized.add, torch.ops.quantized.add_relu):
            return qadd(args[0], args[1], float(args[2]), int(args[3]), t is torch.ops.quantized.add_relu)
        if t is torch.flatten:
            return Q(torch.flatten(args[0].q, *args[1:]), args[0].scale, args[0].zp)
        if t is F.adaptive_avg_pool2d:
            return adaptive_avg(args[0], args[1])
        if t is operator.getitem:
            return args[0][args[1]]
        raise NotImplementedError(f'{n.name}: function {t}')
    if n.op == 'call_method' and n.target == 'dequantize':
        return dequantize(args[0])
    raise NotImplementedError(f'{n.name}: {n.op} {n.target}')


def _val(env, a):
    if isinstance(a, torch.fx.Node):
        return env[a]
    if isinstance(a, (tuple, list)):
        return type(a)(_val(env, b) for b in a)
    return a


def emulate(converted, x):
    """Runs the converted GraphModule's graph with the spec's arithmetic; returns the float output."""
    mods = dict(converted.named_modules())
    env = {}
    for n in converted.graph.nodes:
        if n.op == 'placeholder':
            env[n] = x
        elif n.op == 'output':
            return _val(env, n.args[0])
        else:
            env[n] = eval_node(converted, mods, n, _val(env, n.args))
    raise RuntimeError('the graph has no output')


def per_op(converted, x):
    """Each node of the graph evaluated with the spec's arithmetic on PyTorch's own inputs to it
    (no propagation of earlier differences); returns [(node, op, differing, count, max |diff|)]
    in uint8 steps, for the nodes whose output is quantized."""
    ref = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            # a copy: an in-place op later (MobileNetV2's ReLU6(inplace=True)) would change it
            ref[n] = r.clone() if isinstance(r, torch.Tensor) else r
            return r
    with torch.no_grad():
        Recorder(converted).run(x)

    def as_q(t):
        if isinstance(t, torch.Tensor) and t.is_quantized:
            return Q(t.int_repr().long(), t.q_scale(), t.q_zero_point())
        return t
    mods = dict(converted.named_modules())
    env = {n: as_q(r) for n, r in ref.items()}
    rows = []
    for n in converted.graph.nodes:
        if n.op in ('placeholder', 'output', 'get_attr'):
            continue
        got = eval_node(converted, mods, n, _val(env, n.args))
        want = ref[n]
        if isinstance(got, Q) and isinstance(want, torch.Tensor) and want.is_quantized:
            d = (got.q - want.int_repr().long()).abs()
            op = n.target if n.op != 'call_module' else type(mods[n.target]).__name__
            rows.append((n.name, str(op), int((d > 0).sum()), d.numel(), int(d.max())))
    return rows


def check(name, weights, calib, inputs, steps=1.0):
    """Emulated spec arithmetic vs PyTorch's int8 model; returns (ok, lines)."""
    model, shape = ti.load_float(name, weights)
    ti.set_engine()
    converted = ti.convert(ti.prepare(model, shape, calib))
    outs, qparams = ti.run_int8(converted, shape, inputs)
    with torch.no_grad():
        emu = torch.cat([emulate(converted, inputs[i:i + shape[0]]) for i in range(0, inputs.shape[0], shape[0])])
    n = inputs.shape[0] // shape[0]
    return ti.compare(emu.flatten(), outs[0].flatten(), qparams[0], steps, True, n, 'spec', 'torch')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model')
    ap.add_argument('--weights', required=True)
    ap.add_argument('--calib', required=True)
    ap.add_argument('--inputs', required=True)
    ap.add_argument('--steps', type=float, default=1.0)
    ap.add_argument('--per-op', action='store_true',
                    help='each op on PyTorch\'s own inputs to it (the first sample): differing elements')
    a = ap.parse_args()
    shape = ti.input_shape(a.model)
    if a.per_op:
        model, _ = ti.load_float(a.model, a.weights)
        ti.set_engine()
        converted = ti.convert(ti.prepare(model, shape, ti.read_samples(a.calib, shape)))
        worst = 0
        for name, op, bad, count, mx in per_op(converted, ti.read_samples(a.inputs, shape)[:shape[0]]):
            print(f'{name:32} {op[:28]:28} {bad:8} of {count:8} differ, by up to {mx} step(s)')
            worst = max(worst, mx)
        sys.exit(0 if worst <= a.steps else 1)
    ok, lines = check(a.model, a.weights, ti.read_samples(a.calib, shape), ti.read_samples(a.inputs, shape), a.steps)
    for line in lines:
        print(line)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
