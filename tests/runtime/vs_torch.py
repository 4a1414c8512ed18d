#!/usr/bin/python3
"""The runtime's kernels against PyTorch itself, through ctypes.

The Check suites compare each fast kernel with its naive reference; this
script checks that both mean what PyTorch means, on randomised shapes:
pooling output sizes and windows (ceil_mode, count_include_pad, padding,
dilation), adaptive pooling, conv2d with asymmetric padding (PyTorch: F.pad
then conv2d), groups, depthwise and dilation, conv_transpose2d with
output_padding, the activations, softmax and layer norm; and the int8
kernels: quantize_per_tensor / quantize_per_channel (with the observers'
scales) exactly, quantized conv2d (onednn engine) within one output step.

Usage: /usr/bin/python3 tests/runtime/vs_torch.py build/runtime/libnetcrt.so
(make -f runtime/runtime.mk check-runtime-torch builds the library and runs it.)
Prints one line per kernel with the worst difference; exits 1 if any exceeds
its tolerance.
"""

import ctypes
import random
import sys

import torch
import torch.nn.functional as F

I64 = ctypes.c_int64
FP = ctypes.POINTER(ctypes.c_float)


def fields(names):
    return [(n, I64) for n in names.split()]


class Pool(ctypes.Structure):
    _fields_ = fields("n c in_h in_w out_h out_w kernel_h kernel_w stride_h stride_w "
                      "pad_top pad_left pad_bottom pad_right dilation_h dilation_w") + [
        ("ceil_mode", ctypes.c_int32), ("count_include_pad", ctypes.c_int32)]


class Conv(ctypes.Structure):
    _fields_ = fields("n in_c in_h in_w out_c out_h out_w kernel_h kernel_w stride_h stride_w "
                      "pad_top pad_bottom pad_left pad_right dilation_h dilation_w groups") + [
        ("act", ctypes.c_int), ("act_slope", ctypes.c_float), ("path", ctypes.c_int)]


class ConvT(ctypes.Structure):
    _fields_ = fields("n in_c in_h in_w out_c out_h out_w kernel_h kernel_w stride_h stride_w "
                      "pad_top pad_bottom pad_left pad_right output_pad_h output_pad_w "
                      "dilation_h dilation_w groups") + [
        ("act", ctypes.c_int), ("act_slope", ctypes.c_float)]


class QConv(ctypes.Structure):
    _fields_ = [("p", Conv)] + [(n, ctypes.c_int32) for n in ("in_zp", "out_zp", "out_min", "out_max")]


class Requant(ctypes.Structure):
    _fields_ = [("mult", ctypes.c_int32), ("shift", ctypes.c_int32), ("round", ctypes.c_int64)]


def bptr(t):
    assert t.is_contiguous() and t.element_size() in (1, 4)
    return ctypes.c_void_p(t.data_ptr())


def minmax_qparams(t):
    """PyTorch's MinMaxObserver for quint8, per tensor affine."""
    from torch.ao.quantization import MinMaxObserver
    o = MinMaxObserver(dtype=torch.quint8)
    o(t)
    s, z = o.calculate_qparams()
    return float(s), int(z)


def int8_checks(lib):
    """Worst differences of the int8 kernels from PyTorch's quantized ops, by name."""
    import torch.ao.nn.quantized.functional as qF
    from torch.ao.quantization import PerChannelMinMaxObserver
    torch.backends.quantized.engine = "onednn"
    lib.netc_qconv2d_scratch_bytes.restype = I64
    F32 = ctypes.c_float
    worst = {}

    def record(name, d):
        worst[name] = max(worst.get(name, 0), d)

    for _ in range(40):
        x = torch.randn(random.randint(1, 3000)) * random.choice([0.1, 1.0, 10.0]) + random.uniform(-2, 2)
        s, z = minmax_qparams(x)
        want = torch.quantize_per_tensor(x, s, z, torch.quint8).int_repr()
        got = torch.empty(x.numel(), dtype=torch.uint8)
        lib.netc_quantize_u8(I64(x.numel()), ptr(x), F32(1.0 / s), ctypes.c_int32(z), bptr(got))
        record("netc_quantize_u8 (quantize_per_tensor)", int((got.int() - want.int()).abs().max()))

    for _ in range(200):
        oc, ic, g = random.randint(1, 9), random.randint(1, 5), random.choice([1, 1, 2, 0])
        g = ic if g == 0 else g
        ic, oc = ic * g, oc * g
        kh, kw = random.randint(1, 4), random.randint(1, 4)
        sh, sw, dh, dw = random.randint(1, 2), random.randint(1, 2), random.randint(1, 2), random.randint(1, 2)
        ph, pw = random.randint(0, kh // 2 + 1), random.randint(0, kw // 2 + 1)
        h, w = random.randint(dh * (kh - 1) + 1, 14), random.randint(dw * (kw - 1) + 1, 14)
        n = random.choice([1, 2])
        K = ic // g * kh * kw
        K4 = (K + 3) // 4 * 4
        xf = torch.randn(n, ic, h, w) * random.choice([0.5, 2.0]) + random.choice([0.0, 1.0, -0.5])
        wf = torch.randn(oc, ic // g, kh, kw) * 0.3
        wf[0] *= random.choice([1.0, 0.0])  # a zero channel now and then
        bf = torch.randn(oc) * 0.5
        sx, zx = minmax_qparams(xf)

        # Weights: the observer's scales and torch's per-channel rounding, exactly.
        obs = PerChannelMinMaxObserver(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
        obs(wf)
        ws, wz = obs.calculate_qparams()
        wq_t = torch.quantize_per_channel(wf, ws.double(), wz, 0, torch.qint8)
        wq = torch.empty(oc, K4, dtype=torch.int8)
        scales = torch.empty(oc)
        lib.netc_quantize_weights_s8(I64(oc), I64(K), ptr(wf.contiguous()), bptr(wq), ptr(scales))
        record("netc_quantize_weights_s8 scales", float((scales - ws).abs().max()))
        record("netc_quantize_weights_s8 (quantize_per_channel)",
               int((wq[:, :K].int() - wq_t.int_repr().reshape(oc, K).int()).abs().max()))

        # The reference float output sets the output qparams, as an observer would.
        qx = torch.quantize_per_tensor(xf, sx, zx, torch.quint8)
        yf = F.conv2d(qx.dequantize(), wq_t.dequantize(), bf, (sh, sw), (ph, pw), (dh, dw), g)
        sy, zy = minmax_qparams(yf)
        relu = random.random() < 0.3
        qy = qF.conv2d(qx, wq_t, bf, (sh, sw), (ph, pw), (dh, dw), g, scale=sy, zero_point=zy)
        want = qy.int_repr()
        if relu:
            want = torch.clamp(want, min=zy)

        be = torch.empty(oc, dtype=torch.int32)
        rq = (Requant * oc)()
        lib.netc_quantize_bias_s32(I64(oc), I64(K), bptr(wq), ptr(scales), ptr(bf), F32(sx), ctypes.c_int32(zx),
                                   F32(sy), bptr(be), rq)
        params = QConv(Conv(n, ic, h, w, oc, want.shape[2], want.shape[3], kh, kw, sh, sw, ph, ph, pw, pw,
                            dh, dw, g, 0, 0.0, 0), zx, zy, zy if relu else 0, 255)
        xq = qx.int_repr().contiguous()
        scratch = torch.empty(lib.netc_qconv2d_scratch_bytes(ctypes.byref(params)) + 1, dtype=torch.uint8)
        for name in ("netc_qconv2d_u8", "netc_ref_qconv2d_u8"):
            got = torch.empty(want.shape, dtype=torch.uint8)
            args = [ctypes.byref(params), bptr(xq), bptr(wq), bptr(be), rq, bptr(got)]
            if name == "netc_qconv2d_u8":
                args.append(bptr(scratch))
            getattr(lib, name)(*args)
            record(name + " (quantized conv2d, onednn)", int((got.int() - want.int()).abs().max()))
    return worst


def ptr(t):
    assert t.dtype == torch.float32 and t.is_contiguous()
    return ctypes.cast(t.data_ptr(), FP)


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.netc_pool2d_out_size.restype = I64
    lib.netc_pool2d_out_size.argtypes = [I64] * 6 + [ctypes.c_int32]
    lib.netc_conv2d_scratch_floats.restype = I64
    lib.netc_conv_transpose2d_scratch_floats.restype = I64

    random.seed(1)
    torch.manual_seed(1)
    worst = {}

    def record(name, got, want, relative=False):
        d = float((got - want).abs().max()) if want.numel() else 0.0
        if relative:
            d /= max(float(want.abs().max()), 1e-30)
        worst[name] = max(worst.get(name, 0.0), d)

    for _ in range(600):
        h, w = random.randint(1, 12), random.randint(1, 12)
        x = torch.randn(2, 3, h, w)

        # Pooling: PyTorch decides the output size and the windows.
        k, s = random.randint(1, 4), random.randint(1, 3)
        p, d = random.randint(0, k // 2), random.randint(1, 2)
        ceil, cip = random.random() < 0.5, random.random() < 0.5
        for kind in ("max", "avg"):
            dd = d if kind == "max" else 1
            try:
                if kind == "max":
                    want = F.max_pool2d(x, k, s, p, dd, ceil_mode=ceil)
                else:
                    want = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=cip)
            except RuntimeError:  # PyTorch rejects it (output size < 1)
                continue
            oh = lib.netc_pool2d_out_size(h, k, s, p, p, dd, ceil)
            ow = lib.netc_pool2d_out_size(w, k, s, p, p, dd, ceil)
            if (oh, ow) != tuple(want.shape[2:]):
                print(f"FAIL {kind}pool size: in {h}x{w} k{k} s{s} p{p} d{dd} ceil={ceil}: "
                      f"netc {oh}x{ow}, torch {tuple(want.shape[2:])}")
                return 1
            params = Pool(2, 3, h, w, oh, ow, k, k, s, s, p, p, p, p, dd, dd, int(ceil), int(cip))
            for prefix in ("netc_", "netc_ref_"):
                got = torch.empty_like(want)
                getattr(lib, f"{prefix}{kind}pool2d_f32")(ctypes.byref(params), ptr(x), ptr(got))
                record(f"{prefix}{kind}pool2d", got, want)

        oh, ow = random.randint(1, 8), random.randint(1, 8)
        want = F.adaptive_avg_pool2d(x, (oh, ow))
        for prefix in ("netc_", "netc_ref_"):
            got = torch.empty_like(want)
            getattr(lib, f"{prefix}adaptive_avgpool2d_f32")(I64(2), I64(3), I64(h), I64(w), I64(oh),
                                                            I64(ow), ptr(x), ptr(got))
            record(f"{prefix}adaptive_avgpool2d", got, want)

        # Transposed convolution.
        g = random.choice([1, 2])
        cin, cout = 2 * g, 3 * g
        k, s, d, p = random.randint(1, 4), random.randint(1, 3), random.randint(1, 2), random.randint(0, 2)
        op = random.randint(0, max(s, d) - 1)
        xi, wt, b = torch.randn(2, cin, h, w), torch.randn(cin, cout // g, k, k), torch.randn(cout)
        try:
            want = F.conv_transpose2d(xi, wt, b, s, p, op, g, d)
        except RuntimeError:
            want = None
        if want is not None and want.numel() > 0:
            params = ConvT(2, cin, h, w, cout, want.shape[2], want.shape[3], k, k, s, s, p, p, p, p,
                           op, op, d, d, g, 0, 0.0)
            scratch = torch.empty(lib.netc_conv_transpose2d_scratch_floats(ctypes.byref(params)) + 1)
            got = torch.empty_like(want)
            lib.netc_conv_transpose2d_f32(ctypes.byref(params), ptr(xi), ptr(wt), ptr(b), ptr(got),
                                          ptr(scratch))
            record("netc_conv_transpose2d", got, want, relative=True)
            got = torch.empty_like(want)
            lib.netc_ref_conv_transpose2d_f32(ctypes.byref(params), ptr(xi), ptr(wt), ptr(b), ptr(got))
            record("netc_ref_conv_transpose2d", got, want, relative=True)

        # Convolution, asymmetric padding as F.pad + conv2d.
        pt, pb, pl, pr = (random.randint(0, 3) for _ in range(4))
        kh, kw = random.randint(1, 4), random.randint(1, 4)
        sh, sw = random.randint(1, 3), random.randint(1, 3)
        dh, dw = random.randint(1, 2), random.randint(1, 2)
        cin = random.choice([3, 6])
        g = random.choice([1, 3])
        cout = g * random.randint(1, 3)
        if random.random() < 0.3:  # depthwise, maybe with a channel multiplier
            g, cout = cin, cin * random.randint(1, 2)
        xi, wt, b = torch.randn(1, cin, h, w), torch.randn(cout, cin // g, kh, kw), torch.randn(cout)
        try:
            want = F.conv2d(F.pad(xi, (pl, pr, pt, pb)), wt, b, (sh, sw), 0, (dh, dw), g)
        except RuntimeError:
            continue
        if want.numel() == 0:
            continue
        params = Conv(1, cin, h, w, cout, want.shape[2], want.shape[3], kh, kw, sh, sw, pt, pb, pl, pr,
                      dh, dw, g, 0, 0.0)
        scratch = torch.empty(lib.netc_conv2d_scratch_floats(ctypes.byref(params)) + 1)
        got = torch.empty_like(want)
        lib.netc_conv2d_f32(ctypes.byref(params), ptr(xi), ptr(wt), ptr(b), ptr(got), ptr(scratch))
        record("netc_conv2d", got, want, relative=True)
        got = torch.empty_like(want)
        lib.netc_ref_conv2d_f32(ctypes.byref(params), ptr(xi), ptr(wt), ptr(b), ptr(got))
        record("netc_ref_conv2d", got, want, relative=True)

    x = torch.randn(100003) * 6
    acts = [("relu", F.relu), ("relu6", F.relu6), ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)),
            ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("gelu", F.gelu),
            ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"))]
    for code, (name, f) in enumerate(acts, start=1):
        for prefix in ("netc_", "netc_ref_"):
            got = torch.empty_like(x)
            getattr(lib, f"{prefix}act_f32")(ctypes.c_int(code), ctypes.c_float(0.01), I64(x.numel()),
                                             ptr(x), ptr(got))
            record(f"{prefix}act {name}", got, f(x))

    # gelu's two forms differ by up to ~5e-4 here, far above the tolerance below: each
    # passing against its own PyTorch form shows netc does not compute the other.
    gelu_gap = float((F.gelu(x) - F.gelu(x, approximate="tanh")).abs().max())

    x = torch.randn(3, 17, 5) * 10
    for prefix in ("netc_", "netc_ref_"):
        got = torch.empty_like(x)
        getattr(lib, f"{prefix}softmax_f32")(I64(3), I64(17), I64(5), ptr(x), ptr(got))
        record(f"{prefix}softmax", got, torch.softmax(x, 1))

    x, g, b = torch.randn(4, 6, 7) * 3 + 5, torch.randn(6, 7), torch.randn(6, 7)
    for prefix in ("netc_", "netc_ref_"):
        got = torch.empty_like(x)
        getattr(lib, f"{prefix}layernorm_f32")(I64(4), I64(42), ptr(g), ptr(b), ctypes.c_float(1e-5),
                                               ptr(x), ptr(got))
        record(f"{prefix}layernorm", got, F.layer_norm(x, (6, 7), g, b, 1e-5))

    # Pooling must be exact; everything else within float rounding.
    failed = 0
    for name, d in sorted(worst.items()):
        tol = 0.0 if "pool2d" in name and "adaptive" not in name and "ref" not in name else 2e-6
        ok = d <= tol
        failed += not ok
        print(f"[{'PASS' if ok else 'FAIL'}] {name:32s} worst |netc - torch| {d:.3g} (tolerance {tol:g})")
    told_apart = gelu_gap > 100 * 2e-6
    failed += not told_apart
    print(f"[{'PASS' if told_apart else 'FAIL'}] gelu and gelu_tanh differ by {gelu_gap:.3g}, "
          f"over 100x the tolerance")
    # int8: the quantization rules exactly, a quantized conv within one output step
    # (PyTorch requantizes in float, netc in fixed point).
    qworst = int8_checks(lib)
    for name, d in sorted(qworst.items()):
        tol = 1 if "conv2d" in name else 0
        ok = d <= tol
        failed += not ok
        print(f"[{'PASS' if ok else 'FAIL'}] {name:32s} worst |netc - torch| {d:.3g} (tolerance {tol:g})")
    print(f"{len(worst) + len(qworst) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
