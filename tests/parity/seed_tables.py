#!/usr/bin/python3
"""Check tests/golden/torch/{lenet,alexnet,vgg11}.txt against PyTorch itself.

Runs the seed notes' own loop over each nn.Sequential,

    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, 'output shape:\\t', X.shape)

and compares the lines with the golden files (which were transcribed from the seed's
`# 输出为` comments, normalised to `<Name> output shape:\\t torch.Size([...])`; the seed's
LeNet print has an extra space before the tab, which the normalisation drops).

Usage: /usr/bin/python3 tests/parity/seed_tables.py [--print]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # keep tests/parity free of __pycache__

import torch            # noqa: E402
import torch_models     # noqa: E402


def table(name):
    net, shape = torch_models.MODELS[name]()
    X = torch.rand(size=shape, dtype=torch.float32)
    lines = []
    with torch.no_grad():
        for layer in net:
            X = layer(X)
            lines.append('%s output shape:\t %s' % (layer.__class__.__name__, X.shape))
    return lines


def main():
    failed = 0
    for name in torch_models.SEED_MODELS:
        got = table(name)
        if '--print' in sys.argv:
            print('\n'.join(got))
        path = os.path.join(ROOT, 'tests', 'golden', 'torch', name + '.txt')
        want = open(path, encoding='utf-8').read().splitlines()
        if got == want:
            print('[PASS] %s' % name)
        else:
            failed += 1
            diff = [(i + 1, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
            print('[FAIL] %s: %d lines vs %d golden; first difference %r' %
                  (name, len(got), len(want), diff[0] if diff else None))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
