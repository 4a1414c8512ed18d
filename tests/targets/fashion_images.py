#!/usr/bin/python3
"""fashion_images.py -- a few Fashion-MNIST test images as a C header.

    fashion_images.py --data DIR --count N --out fashion_images.h

Reads Debian's dataset-fashion-mnist (t10k-images-idx3-ubyte.gz and
t10k-labels-idx1-ubyte.gz in DIR) and writes the first N test images as
constant bytes (0..255, row-major 28x28) with their labels and indices, for
targets/cortex-m4/main.c. Standard library only.
"""
import argparse
import gzip
import struct
import sys


def read_idx(path, magic, dims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    head = struct.unpack(">%dI" % (1 + dims), data[: 4 * (1 + dims)])
    if head[0] != magic:
        sys.exit("fashion_images: %s: magic 0x%08x, expected 0x%08x" % (path, head[0], magic))
    return head[1:], data[4 * (1 + dims):]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    (n, rows, cols), pixels = read_idx(a.data + "/t10k-images-idx3-ubyte.gz", 0x00000803, 3)
    (nl,), labels = read_idx(a.data + "/t10k-labels-idx1-ubyte.gz", 0x00000801, 1)
    if (rows, cols) != (28, 28) or n != nl or len(pixels) != n * 784 or len(labels) != n:
        sys.exit("fashion_images: unexpected sizes in %s" % a.data)
    if not 0 < a.count <= n:
        sys.exit("fashion_images: --count must be in 1..%d" % n)
    out = ["/* fashion_images.h -- written by tests/targets/fashion_images.py: the first %d images" % a.count,
           "   of Fashion-MNIST's test set (Debian's dataset-fashion-mnist). Do not edit. */",
           "#ifndef FASHION_IMAGES_H", "#define FASHION_IMAGES_H", "",
           "#define FASHION_NUM_IMAGES %d" % a.count, "",
           "static const unsigned short fashion_index[%d] = {%s};" % (
               a.count, ", ".join(str(i) for i in range(a.count))),
           "static const unsigned char fashion_labels[%d] = {%s};" % (
               a.count, ", ".join(str(labels[i]) for i in range(a.count))),
           "static const unsigned char fashion_pixels[%d][784] = {" % a.count]
    for i in range(a.count):
        img = pixels[i * 784:(i + 1) * 784]
        out.append("  { /* test image %d, label %d */" % (i, labels[i]))
        for r in range(28):
            out.append("    " + ",".join("%d" % p for p in img[r * 28:(r + 1) * 28]) + ",")
        out.append("  },")
    out += ["};", "", "#endif", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
