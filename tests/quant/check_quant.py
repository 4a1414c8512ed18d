#!/usr/bin/python3
"""int8 parity: netc's int8 code against PyTorch's own int8 model (issue #14).

For each model (default: lenet_fashion, resnet18, resnet50, mobilenet_v2):
  1. random float weights with random BatchNorm statistics (torch_int8.random_weights, as
     tests/parity/check_numerics.py does), checked against `netc --report=json`, as safetensors;
  2. a calibration file (random normal inputs, a few samples) and a file of test inputs (other
     random normal inputs);
  3. the float runner: `netc MODEL.net -o f.c --main`, cc with the runtime library, then
     `f --weights W --calibrate calib.f32 --ranges r.json` (the spec's calibration);
  4. the int8 runner: `netc --quantize int8 --ranges r.json MODEL.net -o q.c --main`, cc, run on
     every test input (`--weights W --input x.f32 --output y.f32`);
  5. PyTorch's int8 model from the same weights and the same calibration file (torch_int8.py:
     FX graph mode, onednn, netc's observers) on the same test inputs;
  6. every output element within one quantization step of PyTorch's (the scale of PyTorch's last
     quantized tensor; --steps overrides), the worst element printed on failure; the top-1 agreement.
     ResNet-18 and ResNet-50 are held to 2 steps, with at most 1% of the elements beyond one step
     (DEEP_STEPS below): see there for why one step is out of reach of any integer kernel there.
For resnet50 it also reports netc int8 against netc float on the test inputs: top-1 agreement
and relative error (reported, not asserted; PyTorch int8 against PyTorch float beside it).

--emulate: no netc at all; instead of netc's int8 code, tests/quant/spec_int8.py's Python model
of the spec's integer arithmetic (on PyTorch's qparams) is compared with PyTorch, on the same
random weights and inputs: whether one step is within reach of the spec's arithmetic.

Before any model, the comparison itself is checked on synthetic data: an output 0.9 steps
away must pass and one 1.6 steps away must fail.

Usage: /usr/bin/python3 tests/quant/check_quant.py --netc build/netc --runtime build/libnetcrt.a
       [--work build/quant] [--cc cc] [--cflags ...] [--keep] [MODEL ...]
Prints [PASS]/[FAIL] per model and `N passed, N failed`; exits 1 on any failure.
"""

import argparse
import os
import subprocess
import sys
import time
import zlib

import torch

# The residual nets' bound. PyTorch (oneDNN) requantizes in float32: round(M * (acc + bias)) with
# M and the sum rounded to float32, and its scales come from its own float forward's ranges. An
# integer kernel reproduces neither bit for bit: netc's 64-bit fixed-point requantization is exact,
# and its ranges come from its own float forward. Per op, on PyTorch's own inputs, the two differ on
# 10 of ResNet-18's 2.4 million convolution outputs, each an exact value within 3e-6 of a .5 tie
# that float32 rounds the other way (spec_int8.py --per-op). Random weights give these nets a high
# gain: one such element in layer1.0.conv1 is 14 at the first add_relu and thousands at the last, and
# the logits differ by up to 2 steps. tests/quant/spec_int8.py's
# exact replay of the integer scheme *on PyTorch's own scales* (check_quant.py --emulate) lands
# there too: 2 steps is where integer arithmetic and PyTorch's float32 part ways, not a netc
# error. A wrong scale, kernel or rounding rule moves many elements by many steps; the 2% rule
# catches a systematic one-step bias as well.
DEEP_STEPS = {'resnet18': 2.0, 'resnet50': 2.0}
DEEP_FRACTION = 0.02  # measured: 0.70% (ResNet-18), 0.44% (ResNet-50)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import torch_int8 as ti  # noqa: E402

# model -> (calibration samples, test samples). ResNet-50 kept small: the machine has 2 cores.
CASES = {
    'lenet_fashion': (32, 8),
    'resnet18': (16, 4),
    'resnet50': (8, 8),
    'mobilenet_v2': (16, 4),
}
CLASSIFIERS = set(CASES)


def run(cmd, what, timeout=1800):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f'{what} failed ({" ".join(cmd)}):\n{(r.stderr or r.stdout)[-2000:]}')
    return r.stdout


def self_test():
    """The comparison must be able to fail: synthetic outputs on a grid, moved by 0.9 / 1.6 steps."""
    scale, zp = 0.05, 100
    q = torch.randint(0, 256, (1000,), generator=torch.Generator().manual_seed(3))
    ref = ((q - zp).double() * scale).float()
    near = ref + torch.where(torch.arange(1000) == 17, 0.9 * scale, 0.0).float()
    far = ref + torch.where(torch.arange(1000) == 17, 1.6 * scale, 0.0).float()
    ok_near, _ = ti.compare(near, ref, (scale, zp), 1.0, True, 10)
    ok_far, lines = ti.compare(far, ref, (scale, zp), 1.0, True, 10)
    if not ok_near or ok_far or 'element 17' not in lines[0]:
        raise SystemExit('check_quant: the comparison itself is broken (0.9 step must pass, 1.6 must fail)')
    print('       the comparison: 0.9 step passes, 1.6 steps fails at the element moved')


def spec_qparams_check():
    """The spec's formulas (/work/notes/int8-spec.md), which netc's C computes, against what
    PyTorch's observers compute from the same min/max: activation scale and zero point
    (MinMaxObserver quint8) and per-channel weight scales (PerChannelMinMaxObserver qint8
    symmetric), on ranges that straddle 0, sit above or below it, or are degenerate."""
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver
    eps = torch.finfo(torch.float32).eps
    gen = torch.Generator().manual_seed(5)
    cases = [(-3.25, 4.5), (0.0, 2.8), (-0.42, 0.0), (0.5, 7.0), (-9.0, -1.0), (0.0, 0.0), (-1e-9, 1e-9)]
    cases += [tuple(sorted((float(a), float(b)))) for a, b in (torch.randn(20, 2, generator=gen) * 5)]
    for lo, hi in cases:
        obs = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=False)
        obs(torch.tensor([lo, hi]))
        s_t, z_t = obs.calculate_qparams()
        # all in float32, as the spec says (and C's float arithmetic does); round = nearbyint
        mn = torch.tensor(min(lo, 0.0), dtype=torch.float32)
        mx = torch.tensor(max(hi, 0.0), dtype=torch.float32)
        scale_t = torch.clamp((mx - mn) / 255, min=eps)
        scale = float(scale_t)
        zp = min(255, max(0, 0 - int(torch.round(mn / scale_t))))
        if abs(scale - float(s_t)) > 1e-7 * max(scale, 1e-30) or zp != int(z_t):
            raise SystemExit(f'check_quant: the spec\'s activation qparams for [{lo}, {hi}]: scale {scale!r} zp {zp}, '
                             f'PyTorch {float(s_t)!r} {int(z_t)}')
    w = torch.randn(8, 27, generator=gen)
    w[3] = 0.0
    w[5] = w[5].abs()
    obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    obs(w)
    s_t, z_t = obs.calculate_qparams()
    amax = torch.maximum(w.min(1).values.clamp(max=0).abs(), w.max(1).values.clamp(min=0))
    s = torch.clamp(amax / 127.5, min=eps)
    if not torch.allclose(s, s_t, rtol=1e-7, atol=0) or z_t.abs().max() != 0:
        raise SystemExit(f'check_quant: the spec\'s weight scales {s.tolist()} differ from PyTorch\'s {s_t.tolist()}')
    print(f'       the spec\'s qparam formulas: equal to PyTorch\'s observers on {len(cases)} ranges and 8 channels')


def build(args, net, out_c, extra):
    """netc [extra] NET -o out_c --main, then cc; returns the executable."""
    run([args.netc] + extra + [net, '-o', out_c, '--main'], 'netc ' + ' '.join(extra))
    exe = out_c[:-2]
    run([args.cc, '-std=c99', '-O2'] + args.cflags.split() + ['-I', os.path.join(ROOT, 'runtime'), out_c,
                                                            args.runtime, '-lm', '-o', exe],
        'compiling ' + os.path.basename(out_c))
    return exe


def run_each(exe, weights, inputs, shape, work, tag):
    """Runs exe once per sample of inputs; returns all outputs back to back (flat float32)."""
    outs = []
    per = shape[0]   # rows of one sample (the batch of the net)
    for i in range(0, inputs.shape[0], per):
        xin = os.path.join(work, f'{tag}.x{i}.f32')
        yout = os.path.join(work, f'{tag}.y{i}.f32')
        ti.write_f32(xin, inputs[i:i + per])
        run([exe, '--weights', weights, '--input', xin, '--output', yout], f'running {os.path.basename(exe)}')
        outs.append(ti.read_f32(yout))
        os.remove(xin)
        os.remove(yout)
    return torch.cat(outs)


def rel_report(label, a, b, n):
    """Top-1 agreement and relative error of a against the reference b (n samples)."""
    a2, b2 = a.reshape(n, -1).double(), b.reshape(n, -1).double()
    top1 = int((a2.argmax(1) == b2.argmax(1)).sum())
    rel_l2 = float(((a2 - b2).norm(dim=1) / b2.norm(dim=1).clamp_min(1e-30)).mean())
    rel_max = float((a2 - b2).abs().max() / b2.abs().max().clamp_min(1e-30))
    # Random weights give logits with a large common offset (ResNet-50: all near -3000) that
    # hides the differences between classes, which decide top-1: the same error without it.
    ac, bc = a2 - a2.mean(1, keepdim=True), b2 - b2.mean(1, keepdim=True)
    rel_c = float(((ac - bc).norm(dim=1) / bc.norm(dim=1).clamp_min(1e-30)).mean())
    return (f'{label}: top-1 agreement {top1}/{n}, relative error |a - b|_2 / |b|_2 {rel_l2:.4f} '
            f'(mean over samples; {rel_c:.4f} with each sample\'s mean logit removed), '
            f'max |a - b| / max |b| {rel_max:.4f}')


def emulate_model(name, args):
    """--emulate: the spec's arithmetic in Python (spec_int8.py) against PyTorch's int8 model."""
    import spec_int8
    n_calib, n_test = CASES.get(name, (8, 2))
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    seed = zlib.crc32(name.encode())
    weights = os.path.join(work, 'weights.safetensors')
    ti.save_weights(ti.random_weights(name, seed), weights)
    calib = ti.make_samples(name, n_calib, 'normal', seed + 1)
    tests = ti.make_samples(name, n_test, 'normal', seed + 2)
    ok, lines = spec_int8.check(name, weights, calib, tests, args.steps)
    os.remove(weights)
    for line in lines:
        print(f'       {name}: {line}')
    print(f'       {name}: {n_calib} calibration and {n_test} test samples, {time.time() - t0:.0f} s')
    return None if ok else lines[-1]


def check_model(name, args):
    n_calib, n_test = CASES.get(name, (8, 2))
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    seed = zlib.crc32(name.encode())
    net = ti.net_file(name)
    shape = ti.input_shape(name)

    weights = os.path.join(work, 'weights.safetensors')
    ti.save_weights(ti.random_weights(name, seed, args.netc), weights)
    calib = ti.make_samples(name, n_calib, 'normal', seed + 1)
    tests = ti.make_samples(name, n_test, 'normal', seed + 2)
    calib_f = os.path.join(work, 'calib.f32')
    ti.write_f32(calib_f, calib)

    fexe = build(args, net, os.path.join(work, 'f.c'), [])
    ranges = os.path.join(work, 'ranges.json')
    out = run([fexe, '--weights', weights, '--calibrate', calib_f, '--ranges', ranges], 'calibration')
    if f'calibrated {n_calib} samples' not in out:
        return f'the float runner\'s --calibrate printed {out.strip()!r}, not "calibrated {n_calib} samples ..."'
    qexe = build(args, net, os.path.join(work, 'q.c'), ['--quantize', 'int8', '--ranges', ranges])
    got = run_each(qexe, weights, tests, shape, work, 'q')

    model, _ = ti.load_float(name, weights)
    prepared = ti.prepare(model, shape, calib)
    converted = ti.convert(prepared)
    ref_outs, qparams = ti.run_int8(converted, shape, tests)
    ref = ref_outs[0].flatten()
    if not qparams[0]:
        return 'PyTorch\'s int8 output is float: no quantization step to compare in'
    steps = DEEP_STEPS.get(name, args.steps) if args.steps == 1.0 else args.steps
    ok, lines = ti.compare(got, ref, qparams[0], steps, name in CLASSIFIERS, n_test)
    if name in DEEP_STEPS:
        beyond = float(((got.double() - ref.double()).abs() / qparams[0][0] > 1.0 + 1e-3).double().mean())
        lines.append(f'{100 * beyond:.2f}% of the elements beyond one step (allowed {100 * DEEP_FRACTION:.0f}%; '
                     f'bound {steps:g} steps: see DEEP_STEPS)')
        if beyond > DEEP_FRACTION:
            ok = False
            lines.append('FAIL: too many elements beyond one step')
    for line in lines:
        print(f'       {name}: {line}')
    if args.vs_spec:   # netc against the spec's arithmetic on PyTorch's qparams (reported only)
        import spec_int8
        with torch.no_grad():
            emu = torch.cat([spec_int8.emulate(converted, tests[i:i + shape[0]])
                             for i in range(0, tests.shape[0], shape[0])]).flatten()
        for line in ti.compare(got, emu, qparams[0], args.steps, False, n_test, 'netc', 'spec')[1]:
            if not line.startswith('FAIL'):
                print(f'       {name}: (reported only) {line}')
    if name == 'resnet50' or name in args.float_report:
        fgot = run_each(fexe, weights, tests, shape, work, 'f')
        with torch.no_grad():
            fref = torch.cat([model(tests[i:i + shape[0]]) for i in range(0, tests.shape[0], shape[0])]).flatten()
        print(f'       {name}: ' + rel_report('netc int8 vs netc float', got, fgot, n_test))
        print(f'       {name}: ' + rel_report('torch int8 vs torch float', ref, fref, n_test))
    if not ok:
        ti_cmd = (f'{sys.executable} {os.path.relpath(os.path.join(HERE, "torch_int8.py"), ROOT)} ranges {name} '
                  f'--weights {weights} --calib {calib_f} --netc-ranges {ranges}')
        return (f'{lines[-1]} (ranges side by side: {ti_cmd}; how far the spec\'s own arithmetic lands: '
                f'check_quant.py --emulate {name}; netc against it: --vs-spec)')
    print(f'       {name}: {n_calib} calibration and {n_test} test samples, {time.time() - t0:.0f} s')
    if not args.keep:
        for f in os.listdir(work):
            os.remove(os.path.join(work, f))
        os.rmdir(work)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netc', default=os.environ.get('NETC', os.path.join(ROOT, 'build', 'netc')))
    ap.add_argument('--runtime', default=os.path.join(ROOT, 'build', 'libnetcrt.a'))
    ap.add_argument('--work', default=os.path.join(ROOT, 'build', 'quant'))
    ap.add_argument('--cc', default=os.environ.get('CC', 'cc'))
    ap.add_argument('--cflags', default='', help='extra flags for the generated code (e.g. sanitizers)')
    ap.add_argument('--steps', type=float, default=1.0, help='allowed difference in quantization steps')
    ap.add_argument('--float-report', default='', help='models (comma-separated) that also get the '
                    'int8-vs-float line (resnet50 always does)')
    ap.add_argument('--keep', action='store_true', help='keep the work files of passing models')
    ap.add_argument('--vs-spec', action='store_true',
                    help='also compare netc with spec_int8.py\'s emulation (reported, not asserted)')
    ap.add_argument('--emulate', action='store_true',
                    help='no netc: the spec\'s arithmetic in Python (spec_int8.py) against PyTorch')
    ap.add_argument('models', nargs='*')
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    args.float_report = [m for m in args.float_report.split(',') if m]
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(2)
    self_test()
    spec_qparams_check()
    passed = failed = 0
    for name in args.models or list(CASES):
        try:
            why = (emulate_model if args.emulate else check_model)(name, args)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            why = str(e)
        except SystemExit as e:   # torch_int8's fail(): its message is already on stderr
            why = f'stopped: {e}'
        if why:
            print(f'[FAIL] {name}: {why}')
            failed += 1
        else:
            print(f'[PASS] {name}')
            passed += 1
        sys.stdout.flush()
    print(f'{passed} passed, {failed} failed')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
