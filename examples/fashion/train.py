#!/usr/bin/python3
"""Train the LeNet of lenet_fashion.net on Fashion-MNIST and export its weights.

    /usr/bin/python3 examples/fashion/train.py            # the committed weights
    /usr/bin/python3 examples/fashion/train.py --seed 1 --epochs 12 --out W.safetensors

Reads Debian's dataset-fashion-mnist (IDX files, gzip'd or not), trains on the
60,000 training images on the CPU, prints the accuracy on the 10,000 test
images, and writes the weights as safetensors with tools/export_safetensors.py
after checking their names and shapes against `netc --report=json`.

Deterministic: one seed drives the initialisation and the shuffling, PyTorch is
asked for deterministic algorithms and a fixed number of threads. Run twice on
the same machine and PyTorch version, it writes the same bytes. (Another CPU or
PyTorch version may pick other kernels and round differently.)

Preprocessing, shared with classify.c and eval_torch.py: a pixel p (0..255)
becomes the float32 p / 255.0f; nothing else.

Only Python's standard library and Debian's python3-torch are used.
"""

import argparse
import gzip
import os
import struct
import sys
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
from export_safetensors import check_against, netc_weights, save_safetensors  # noqa: E402

DATA = '/usr/share/datasets/fashion-mnist'
PACKAGE = 'dataset-fashion-mnist'
NET_FILE = os.path.join(HERE, 'lenet_fashion.net')
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
           'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')


# ---- data -------------------------------------------------------------------------

def idx_path(data_dir, name):
    """The IDX file `name` in data_dir, gzip'd (as Debian installs it) or not."""
    for p in (os.path.join(data_dir, name + '.gz'), os.path.join(data_dir, name)):
        if os.path.exists(p):
            return p
    raise SystemExit(f'{os.path.join(data_dir, name)}.gz: not found '
                     f'(install the Debian package {PACKAGE}: apt-get install {PACKAGE})')


def read_idx(path, magic, count=None):
    """Reads an IDX file of unsigned bytes; returns (dims, uint8 tensor of shape dims)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    if len(data) < 4:
        raise SystemExit(f'{path}: too short for an IDX header')
    got, = struct.unpack('>I', data[:4])
    if got != magic:
        raise SystemExit(f'{path}: magic number 0x{got:08x}, expected 0x{magic:08x}')
    ndim = magic & 0xff
    head = 4 + 4 * ndim
    if len(data) < head:
        raise SystemExit(f'{path}: truncated IDX header')
    dims = struct.unpack(f'>{ndim}I', data[4:head])
    n = 1
    for d in dims:
        n *= d
    if len(data) != head + n:
        raise SystemExit(f'{path}: {len(data) - head} data bytes, the header says {n}')
    if count is not None and dims[0] != count:
        raise SystemExit(f'{path}: {dims[0]} items, expected {count}')
    return dims, torch.frombuffer(bytearray(data[head:]), dtype=torch.uint8).reshape(dims)


def load_split(data_dir, split, count):
    """Images as float32 [N, 1, 28, 28] in [0, 1] (p / 255), labels as int64 [N]."""
    dims, images = read_idx(idx_path(data_dir, f'{split}-images-idx3-ubyte'), 0x00000803, count)
    if dims[1:] != (28, 28):
        raise SystemExit(f'{split} images are {dims[1]}x{dims[2]}, expected 28x28')
    _, labels = read_idx(idx_path(data_dir, f'{split}-labels-idx1-ubyte'), 0x00000801, count)
    if int(labels.max()) > 9:
        raise SystemExit(f'{split} labels: a label above 9')
    return normalise(images).unsqueeze(1), labels.long()


def normalise(images_u8):
    """The preprocessing classify.c repeats: float32(p) / 255.0f, IEEE-rounded."""
    return images_u8.to(torch.float32) / 255.0


# ---- the model ----------------------------------------------------------------------

def build_model():
    """lenet_fashion.net in PyTorch; state_dict names 0.weight ... 11.bias."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


@torch.no_grad()
def predict(model, images, batch=1000):
    model.eval()
    return torch.cat([model(images[i:i + batch]).argmax(1) for i in range(0, len(images), batch)])


def set_deterministic(seed, threads):
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    if hasattr(torch.backends, 'cudnn'):
        torch.backends.cudnn.benchmark = False


# ---- training -----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default=DATA, help=f'directory of the IDX files (default {DATA})')
    ap.add_argument('--seed', type=int, default=0, help='initialisation and shuffling seed (default 0)')
    ap.add_argument('--epochs', type=int, default=12, help='passes over the training set (default 12)')
    ap.add_argument('--batch', type=int, default=64, help='minibatch size (default 64)')
    ap.add_argument('--lr', type=float, default=2e-3, help='peak Adam learning rate (default 2e-3)')
    ap.add_argument('--threads', type=int, default=1,
                    help='PyTorch CPU threads (default 1: this small net gains nothing from more)')
    ap.add_argument('--netc', default=os.path.join(ROOT, 'build', 'netc'),
                    help='netc, to check the weight names and shapes (default build/netc)')
    ap.add_argument('--out', default=os.path.join(HERE, 'lenet_fashion.safetensors'),
                    help='the weights file to write (default examples/fashion/lenet_fashion.safetensors)')
    a = ap.parse_args()

    if not os.access(a.netc, os.X_OK):
        raise SystemExit(f'train.py: {a.netc} not found: build it first (make build/netc) or give --netc')
    set_deterministic(a.seed, a.threads)
    t0 = time.time()
    train_x, train_y = load_split(a.data, 'train', 60000)
    test_x, test_y = load_split(a.data, 't10k', 10000)
    print(f'data: {len(train_x)} training and {len(test_x)} test images from {a.data}')

    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps_per_epoch = (len(train_x) + a.batch - 1) // a.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, epochs=a.epochs,
                                                steps_per_epoch=steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gen)
        total, t_epoch = 0.0, time.time()
        for i in range(0, len(order), a.batch):
            idx = order[i:i + a.batch]
            x, y = train_x[idx], train_y[idx]
            # Random horizontal flips: clothes and shoes are left-right symmetric enough.
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        acc = float((predict(model, test_x) == test_y).float().mean()) * 100
        print(f'epoch {epoch + 1:2}/{a.epochs}: loss {total / len(train_x):.4f}  '
              f'test accuracy {acc:.2f}%  ({time.time() - t_epoch:.1f} s)', flush=True)

    correct = int((predict(model, test_x) == test_y).sum())
    print(f'pytorch accuracy: {correct / 100:.2f}% ({correct}/10000 test images), '
          f'seed {a.seed}, {a.epochs} epochs, {time.time() - t0:.0f} s')

    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    errors = check_against(state, netc_weights(a.netc, NET_FILE))
    if errors:
        for e in errors:
            print(f'train.py: {e}', file=sys.stderr)
        raise SystemExit(f'train.py: {len(errors)} mismatch(es) with {NET_FILE}; nothing written')
    save_safetensors(state, a.out, {'format': 'pt', 'writer': 'examples/fashion/train.py',
                                    'seed': a.seed, 'epochs': a.epochs, 'test_correct': correct})
    print(f'wrote {a.out} ({os.path.getsize(a.out):,} bytes)')


if __name__ == '__main__':
    main()
