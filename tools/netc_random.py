#!/usr/bin/python3
"""The deterministic random weights of netc's generated PREFIX_init_random(seed).

    tools/netc_random.py --netc build/netc models/lenet.net SEED OUT.safetensors [-D NAME=VALUE ...]

writes exactly the tensors PREFIX_init_random(SEED) builds (before batch-norm
folding), so a model's seeded run can be reproduced in PyTorch. The recipe:

  splitmix64 seeded with SEED; u = (next() >> 40) * 2**-24, uniform in [0, 1);
  state_dict tensors in order, elements in order, one u each, in float32:
    conv / linear weight and bias: (2u - 1) * (1 / sqrt(fan_in)), with
        fan_in = weight.size(1) * kernel area (PyTorch's default bound);
    BatchNorm / LayerNorm weight and running_var: 0.5 + u;
    BatchNorm / LayerNorm bias and running_mean: u - 0.5;
    num_batches_tracked: 0, and no draw;
    a declared param: as a weight, fan_in = the product of its dims after the first;
    a declared float buffer: u - 0.5;
    an index buffer (i64): (r * index_limit) >> 24, with r = next() >> 40.
The runner's default input (no --input) continues with a generator seeded
with SEED + 1: uniform (2u - 1) per element.
"""

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_safetensors import save_safetensors  # noqa: E402

MASK = (1 << 64) - 1


def splitmix64(state):
    """Yields the generator's outputs for a seed."""
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def tops(gen, n):
    """n draws r = next() >> 40, 24-bit integers."""
    return np.fromiter(((next(gen) >> 40) for _ in range(n)), dtype=np.int64, count=n)


def uniforms(gen, n):
    """n float32 values u in [0, 1)."""
    return (tops(gen, n).astype(np.float64) * (1.0 / 16777216.0)).astype(np.float32)


def random_state_dict(weights, seed, layers):
    """weights, layers: netc --report=json's lists. Returns name -> tensor."""
    by_layer = {}
    for w in weights:
        by_layer.setdefault(w['layer'], []).append(w)
    gen = splitmix64(seed)
    sd = {}
    for w in weights:
        name, shape = w['name'], w['shape']
        role = w.get('role')
        n = math.prod(shape)
        if role == 'index':
            r = tops(gen, n)
            sd[name] = torch.from_numpy((r * w['index_limit']) >> 24).reshape(shape)
            continue
        if w['dtype'] == 'i64':
            sd[name] = torch.zeros(shape, dtype=torch.int64)
            continue
        u = uniforms(gen, n)
        first = by_layer[w['layer']][0]['shape']
        if role in ('gamma', 'running_var'):
            v = np.float32(0.5) + u
        elif role in ('beta', 'running_mean', 'buffer'):
            v = u - np.float32(0.5)
        else:  # weight, bias, param
            fan_in = math.prod(first[1:]) if len(first) > 1 else 1
            bound = np.float32(1.0) / np.sqrt(np.float32(fan_in))
            v = (np.float32(2.0) * u - np.float32(1.0)) * bound
        sd[name] = torch.from_numpy(v.astype(np.float32).reshape(shape))
    return sd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--netc', default='build/netc')
    ap.add_argument('net_file')
    ap.add_argument('seed', type=int)
    ap.add_argument('out')
    ap.add_argument('--net')
    ap.add_argument('-D', dest='defines', action='append', default=[])
    a = ap.parse_args()
    cmd = [a.netc, '--report=json', a.net_file] + (['--net', a.net] if a.net else [])
    for d in a.defines:
        cmd += ['-D', d]
    report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    save_safetensors(random_state_dict(report['weights'], a.seed, report['layers']), a.out)


if __name__ == '__main__':
    main()
