#!/usr/bin/python3
"""PyTorch's accuracy on the Fashion-MNIST test set with a safetensors weights file,
and (with --c-log) the comparison with classify.c's result on the same weights.

    /usr/bin/python3 examples/fashion/eval_torch.py [--weights W.safetensors] [--data DIR]
    /usr/bin/python3 examples/fashion/eval_torch.py --c-log build/fashion/classify.log \
        --c-predictions build/fashion/predictions.txt --min-accuracy 89.0 --max-diff 2

The model, the IDX reader and the preprocessing are train.py's. The weights are
read with a few lines of standard-library code (no safetensors package needed).

With --c-log, the C program's `correct: N of M` and `accuracy: X%` lines are
checked against its per-image predictions, and then against PyTorch's:
  * the C accuracy must be at least --min-accuracy percent;
  * every image must get the same class from both, so the numbers of correctly
    classified images are equal; up to --max-diff differing images (float
    rounding at a decision boundary) are reported with their logit margins and
    still pass; more fail.
Exit status 0 if the checks pass, 1 otherwise.
"""

import argparse
import json
import os
import re
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import DATA, HERE, build_model, load_split, predict  # noqa: E402

DTYPES = {'F32': torch.float32, 'I64': torch.int64}
SHOW = 20  # differing images listed


def load_safetensors(path):
    """name -> tensor, from a safetensors file of F32 / I64 tensors."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise SystemExit(f'eval_torch: {path}: {e.strerror}')
    if len(data) < 8:
        raise SystemExit(f'eval_torch: {path}: too short for a safetensors file')
    n, = struct.unpack('<Q', data[:8])
    if 8 + n > len(data):
        raise SystemExit(f'eval_torch: {path}: truncated header')
    header = json.loads(data[8:8 + n])
    header.pop('__metadata__', None)
    base, out = 8 + n, {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        if info['dtype'] not in DTYPES or base + end > len(data):
            raise SystemExit(f'eval_torch: {path}: tensor {name}: bad dtype or offsets')
        t = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=DTYPES[info['dtype']])
        out[name] = t.reshape(info['shape'])
    return out


def read_c_results(log_path, pred_path, n):
    """(correct, total, accuracy line's percent) from classify's log, and its predictions."""
    with open(log_path) as f:
        log = f.read()
    m = re.search(r'^correct: (\d+) of (\d+) images', log, re.M)
    a = re.search(r'^accuracy: ([0-9.]+)%$', log, re.M)
    if not m or not a:
        raise SystemExit(f'eval_torch: {log_path}: no "correct:" / "accuracy:" lines from classify')
    with open(pred_path) as f:
        preds = [int(line) for line in f]
    if len(preds) != n:
        raise SystemExit(f'eval_torch: {pred_path}: {len(preds)} predictions for {n} images')
    return int(m.group(1)), int(m.group(2)), float(a.group(1)), torch.tensor(preds)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--weights', default=os.path.join(HERE, 'lenet_fashion.safetensors'))
    ap.add_argument('--data', default=DATA, help=f'directory of the IDX files (default {DATA})')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--c-log', help="classify's standard output")
    ap.add_argument('--c-predictions', help="classify --predictions FILE's output")
    ap.add_argument('--min-accuracy', type=float, default=89.0)
    ap.add_argument('--max-diff', type=int, default=2, help='largest accepted difference in correct images')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    model = build_model()
    model.load_state_dict(load_safetensors(a.weights), strict=True)
    test_x, test_y = load_split(a.data, 't10k', 10000)
    n = len(test_y)
    pt_pred = predict(model, test_x)
    pt_correct = int((pt_pred == test_y).sum())
    print(f'pytorch: correct: {pt_correct} of {n} images ({100 * pt_correct / n:.2f}%), weights {a.weights}')
    print(f'pytorch accuracy: {100 * pt_correct / n:.1f}%')
    if not a.c_log:
        return 0

    c_correct, c_total, c_acc, c_pred = read_c_results(a.c_log, a.c_predictions, n)
    failures = []
    if c_total != n:
        failures.append(f'classify saw {c_total} images, PyTorch {n}')
    if int((c_pred == test_y).sum()) != c_correct:
        failures.append(f"classify's predictions file has {int((c_pred == test_y).sum())} correct, its log {c_correct}")
    if f'{100 * c_correct / n:.1f}' != f'{c_acc:.1f}':
        failures.append(f'classify printed accuracy {c_acc}% for {c_correct} of {n}')
    print(f'C:       correct: {c_correct} of {n} images ({100 * c_correct / n:.2f}%)')
    if 100 * c_correct / n < a.min_accuracy:
        failures.append(f'C accuracy {100 * c_correct / n:.2f}% is below {a.min_accuracy}%')

    differ = (c_pred != pt_pred).nonzero().flatten().tolist()
    if differ:
        with torch.no_grad():
            logits = model(test_x[differ[:SHOW]])
        print(f'{len(differ)} image(s) classified differently by C and PyTorch:')
        for i, row in zip(differ, logits):
            top = row.topk(2).values
            print(f'  image {i}: label {int(test_y[i])}, PyTorch {int(pt_pred[i])}, C {int(c_pred[i])}, '
                  f'PyTorch top-2 logit margin {float(top[0] - top[1]):.3g}')
        if len(differ) > SHOW:
            print(f'  ... and {len(differ) - SHOW} more')
    diff = c_correct - pt_correct
    if not differ:
        print(f'C and PyTorch agree: {c_correct} correct each, every prediction identical')
    elif len(differ) <= a.max_diff:
        print(f'NOTE: {len(differ)} prediction(s) differ, C has {diff:+d} correct image(s) compared with PyTorch: '
              f'float rounding at a decision boundary (see the margins above); accepted, the limit is '
              f'{a.max_diff} images')
    else:
        failures.append(f'{len(differ)} images classified differently, {diff:+d} correct compared with PyTorch '
                        f'(limit {a.max_diff}): more than float rounding')
    for f in failures:
        print(f'FAIL: {f}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
