#!/usr/bin/python3
"""Checks a ranges file of the runner's --calibrate against PyTorch.

    calibrate_ref.py CASE WEIGHTS.safetensors CALIB.f32 RANGES.json

CASE is 'cal' (tests/backend/calibrate.sh's net: a conv with a fused relu, a
batch norm folded into a conv whose residual add and relu are fused, a view,
two inputs), 'att' (its other net: a packed linear with a fused gelu, a
transpose fused into a matmul, a conv_transpose2d with a fused relu) or 'lenet' (models/lenet.net, tests/parity/torch_models.py's
twin). The model is built in PyTorch with the weights file the runner loaded,
run on every sample of the calibration file, and every layer's values are
gathered in netc's layer order (as the unfused graph computes them; a batch
norm folded into its conv reports the folded output for both, as PyTorch's
FX observes after folding). Then:
  minmax:      min and max equal within 1e-5 of the layer's magnitude;
  percentile:  each end within one histogram bin ((max - min) / 2048) of
               the same quantile of the same values computed exactly (numpy's
               method='inverted_cdf': the ceil(q * C)-th smallest of C values,
               the runner's rank rule), after both are widened to include 0.
Exits 1 naming every layer that differs.
"""

import json
import struct
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, 'tests/parity')


def read_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    sd = {}
    for name, t in head.items():
        if name == '__metadata__':
            continue
        b, e = t['data_offsets']
        dtype = {'F32': np.float32, 'I64': np.int64}[t['dtype']]
        a = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dtype).reshape(t['shape'])
        sd[name] = torch.from_numpy(a.copy())
    return sd


class Cal(nn.Module):
    """net cal of calibrate.sh, module for module (state_dict names 0, 2, 3, 7)."""

    def __init__(self):
        super().__init__()
        self.add_module('0', nn.Conv2d(3, 8, 3, padding=1))
        self.add_module('2', nn.Conv2d(8, 8, 3, padding=1, bias=False))
        self.add_module('3', nn.BatchNorm2d(8))
        self.add_module('7', nn.Linear(128, 4))

    def layers(self, x, z):
        """Every layer's value in netc's id order."""
        m = self._modules
        c0 = m['0'](x)
        r1 = torch.relu(c0)
        b3 = m['3'](m['2'](r1))
        a = b3 + r1
        r4 = torch.relu(a)
        p5 = torch.max_pool2d(r4, 2)
        f6 = torch.flatten(p5, 1)
        l7 = m['7'](f6)
        r8 = torch.relu(l7)
        a2 = r8 + z
        f9 = torch.flatten(r4, 1)
        return [x, z, c0, r1, b3, b3, a, r4, p5, f6, l7, r8, a2, f9]


class Att(nn.Module):
    """net att of calibrate.sh: a packed linear with a fused gelu, a transpose
    the matmul reads in place (trans_b), a conv_transpose2d with a fused relu."""

    def __init__(self):
        super().__init__()
        self.add_module('0', nn.Linear(6, 6))
        self.add_module('1', nn.Linear(6, 6))
        self.add_module('3', nn.ConvTranspose2d(2, 3, 3, stride=2))

    def layers(self, x):
        m = self._modules
        q = m['0'](x)
        k1 = m['1'](x)
        k = torch.nn.functional.gelu(k1)
        t = k.transpose(-1, -2)
        s = q @ t
        c = m['3'](x)
        r = torch.relu(c)
        return [x, q, k1, k, t, s, c, r, torch.softmax(s, -1)]


def lenet_layers(net, x):
    out = [x]
    for mod in net:
        x = mod(x)
        out.append(x)
    return out


def main():
    case, weights, calib, ranges = sys.argv[1:5]
    sd = read_safetensors(weights)
    if case == 'cal':
        model = Cal()
        shapes = [(1, 3, 8, 8), (1, 4)]
        run = model.layers
    elif case == 'att':
        model = Att()
        shapes = [(1, 2, 4, 6)]
        run = model.layers
    else:
        from torch_models import lenet
        model, shape = lenet()
        shapes = [shape]
        run = lambda x: lenet_layers(model, x)
    model.load_state_dict(sd)
    model.eval()
    floats = [int(np.prod(s)) for s in shapes]
    data = np.fromfile(calib, dtype=np.float32).reshape(-1, sum(floats))
    per_layer = None
    with torch.no_grad():
        for sample in data:
            ins, k = [], 0
            for s, n in zip(shapes, floats):
                ins.append(torch.from_numpy(sample[k:k + n].reshape(s).copy()))
                k += n
            vals = [v.numpy().ravel().copy() for v in run(*ins)]
            per_layer = [[v] for v in vals] if per_layer is None else [p + [v] for p, v in zip(per_layer, vals)]
    values = [np.concatenate(p).astype(np.float64) for p in per_layer]
    got = json.load(open(ranges))
    bad = []
    if len(got['layers']) != len(values) or got['samples'] != len(data):
        bad.append(f"{len(got['layers'])} layers and {got['samples']} samples, expected {len(values)} and {len(data)}")
    for entry, v in zip(got['layers'], values):
        lo, hi = float(v.min()), float(v.max())
        mag = max(abs(lo), abs(hi), 1e-30)
        if got['method'] == 'minmax':
            want, tol = (lo, hi), 1e-5 * mag
        else:
            p = got['percentile']
            # The runner's rank rule: of C values, rank t = q * C is the
            # ceil(t)-th smallest (numpy's inverted_cdf); its histogram puts
            # it within that value's bin.
            a, b = np.quantile(v, [(100 - p) / 100, p / 100], method='inverted_cdf')
            a, b = min(a, b), max(a, b)
            want, tol = (min(a, 0.0), max(b, 0.0)), (hi - lo) / 2048 + 1e-5 * mag
        for key, w in zip(('min', 'max'), want):
            if not abs(entry[key] - w) <= tol:
                bad.append(f"layer {entry['index']} '{entry['name']}' ({entry['op']}): {key} {entry[key]!r}, "
                           f"PyTorch {w!r} (tolerance {tol:.3g})")
    for b in bad:
        print('calibrate_ref:', b)
    sys.exit(1 if bad else 0)


main()
