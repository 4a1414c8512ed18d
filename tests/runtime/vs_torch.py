#!/usr/bin/python3
"""The runtime's kernels against PyTorch itself, through ctypes.

The Check suites compare each fast kernel with its naive reference; this
script checks that both mean what PyTorch means, on randomised shapes:
pooling output sizes and windows (ceil_mode, count_include_pad, padding,
dilation), adaptive pooling, conv2d with asymmetric padding (PyTorch: F.pad
then conv2d), groups, depthwise and dilation, conv_transpose2d with
output_padding, the activations, softmax and layer norm.

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
    print(f"{len(worst) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
