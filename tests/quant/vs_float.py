#!/usr/bin/python3
"""Every model in models/ through netc's whole int8 workflow, against its own float build.

    vs_float.py --netc build/netc --runtime build/libnetcrt.a --work build/quant/vs_float [MODEL...]

For each model: the float runner (netc --main) with random weights (seed 1) calibrates on 8 random normal
inputs (--calibrate); netc --quantize int8 compiles the int8 runner from those ranges; both run the same
input (the runners' own, from the same seed) and the int8 output is compared with the float one:

    relative error = |int8 - float|_2 / |float|_2   must be <= 0.10

This is the test that every int8 kernel kind, every observer rule and every float fallback computes the
right thing on real nets (check_quant.py holds four of them to PyTorch's own int8 model, step by step).
A broken kernel, a scale taken from the wrong tensor or a misplaced buffer gives errors near 1;
quantization noise alone stays at a few percent on these nets (ViT-B/16, whose attention and layer
norms run with uint8 inputs, is the largest, near 8%). The bound is the same for every model.
"""

import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOUND = 0.10
CALIB_SAMPLES = 8


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stderr[-2000:]}")
    return r


def build(a, net, out_c, extra):
    run([a.netc, '-q', net, '-o', out_c, '--main'] + extra)
    exe = out_c[:-2]
    run([a.cc, '-O2', '-march=native', '-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror',
         '-I' + os.path.join(ROOT, 'runtime'), '-o', exe, out_c, a.runtime, '-lm'] + a.cflags.split())
    return exe


def check(a, name):
    net = os.path.join(ROOT, 'models', name + '.net')
    work = os.path.join(a.work, name)
    os.makedirs(os.path.join(work, 'f'), exist_ok=True)
    os.makedirs(os.path.join(work, 'q'), exist_ok=True)
    t0 = time.time()
    f = build(a, net, os.path.join(work, 'f', name + '.c'), [])
    header = open(os.path.join(work, 'f', name + '.h')).read()
    floats = sum(int(n) for n in re.findall(r'#define \w+_INPUT_\w+_FLOATS (\d+)', header))
    calib = os.path.join(work, 'calib.f32')
    np.random.default_rng(0).standard_normal(floats * CALIB_SAMPLES).astype('<f4').tofile(calib)
    ranges = os.path.join(work, 'ranges.json')
    run([f, '--seed', '1', '--calibrate', calib, '--ranges', ranges])
    q = build(a, net, os.path.join(work, 'q', name + '.c'), ['--quantize', 'int8', '--ranges', ranges])
    outs = []
    for exe, tag in ((f, 'float'), (q, 'int8')):
        path = os.path.join(work, tag + '.f32')
        run([exe, '--seed', '1', '--output', path])
        outs.append(np.fromfile(path, '<f4').astype(np.float64))
    ref, got = outs
    if not np.all(np.isfinite(got)):
        return False, f'{name:22s} the int8 output is not finite'
    err = np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30)
    top1 = 'same' if got.argmax() == ref.argmax() else 'differs'
    ok = err <= BOUND
    return ok, (f'{name:22s} relative error {err:.4f} (bound {BOUND}), argmax {top1}, '
                f'{time.time() - t0:.0f} s')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netc', required=True)
    ap.add_argument('--runtime', required=True, help='libnetcrt.a')
    ap.add_argument('--work', required=True)
    ap.add_argument('--cc', default=os.environ.get('CC', 'cc'))
    ap.add_argument('--cflags', default='', help='extra flags for the runners (e.g. sanitizers)')
    ap.add_argument('models', nargs='*')
    a = ap.parse_args()
    names = a.models or sorted(n[:-4] for n in os.listdir(os.path.join(ROOT, 'models')) if n.endswith('.net'))
    failed = 0
    for name in names:
        try:
            ok, line = check(a, name)
        except RuntimeError as e:
            ok, line = False, f'{name:22s} {e}'
        print(f"[{'PASS' if ok else 'FAIL'}] {line}", flush=True)
        failed += not ok
    print(f'{len(names) - failed} passed, {failed} failed')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
