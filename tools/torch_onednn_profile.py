#!/usr/bin/python3
"""torch_onednn_profile.py -- per-primitive times of PyTorch's best CPU mode, to set beside
tools/layer_profile.py's per-layer times of the netc runner.

    /usr/bin/python3 tools/torch_onednn_profile.py MODEL [--threads T] [--calls N] [--top K]

Builds tests/parity/torch_models.py's MODEL, runs
torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(model))) (the mode
tests/bench/bench.py calls "best") with oneDNN's verbose log on (DNNL_VERBOSE=1, set by
re-executing this script), and prints the mean time per forward call of each oneDNN
primitive (convolutions with their kernel, e.g. jit:avx512_core, and problem shape), sorted
by time, and the totals per primitive kind. Work outside oneDNN (aten::mm for the
classifier, add_, relu_, ...) is not in the log: the last line compares the oneDNN sum with the
wall time per call. Writing the log costs time too, so that wall time is a little above what
tests/bench/bench.py measures; the per-primitive times are oneDNN's own.
"""

import argparse
import collections
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = '=== timed calls start ==='


def child(a):
    import torch
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'parity'))
    from torch_models import MODELS
    torch.set_num_threads(a.threads)
    model, shape = MODELS[a.model]()
    model.eval()
    x = torch.rand(*shape)
    with torch.no_grad():
        best = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(model)))
        for _ in range(5):
            best(x)
        sys.stdout.flush()
        print(MARK, flush=True)
        t0 = time.perf_counter()
        for _ in range(a.calls):
            best(x)
        wall = (time.perf_counter() - t0) * 1e3 / a.calls
    print('wall_ms_per_call=%.3f' % wall, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--calls', type=int, default=10)
    ap.add_argument('--top', type=int, default=20)
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a)
    env = dict(os.environ, DNNL_VERBOSE='1', ONEDNN_VERBOSE='1')
    out = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', a.model, '--threads',
                          str(a.threads), '--calls', str(a.calls)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, check=True).stdout
    lines = out.split(MARK, 1)[1].splitlines()
    wall = next(float(l.split('=')[1]) for l in lines if l.startswith('wall_ms_per_call='))
    per = collections.defaultdict(float)
    kinds = collections.defaultdict(float)
    for l in lines:
        f = l.split(',')
        if len(f) < 10 or f[1] != 'exec':
            continue
        prim, impl, desc, ms = f[3], f[4], f[-2], float(f[-1])
        per[(prim, impl, desc)] += ms / a.calls
        kinds[prim + ' ' + impl] += ms / a.calls
    total = sum(per.values())
    print('%s, torch best mode, %d thread(s): %.3f ms/call wall, %.3f ms in oneDNN primitives'
          % (a.model, a.threads, wall, total))
    print('%9s  %-10s %-22s %s' % ('ms/call', 'primitive', 'implementation', 'problem (summed over equal shapes)'))
    for (prim, impl, desc), ms in sorted(per.items(), key=lambda kv: -kv[1])[:a.top]:
        print('%9.3f  %-10s %-22s %s' % (ms, prim, impl, desc))
    print()
    for k, ms in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print('%9.3f  %s' % (ms, k))
    print('%9.3f  outside oneDNN (aten ops, framework)' % (wall - total))
    return 0


if __name__ == '__main__':
    sys.exit(main())
