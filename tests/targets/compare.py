#!/usr/bin/python3
"""compare.py -- a cross-compiled build's outputs against the x86 build's.

    compare.py logs DEVICE.log HOST.log [--rtol R | --exact]    targets/cortex-m4/main.c's output
    compare.py f32 NAME A.f32 B.f32 [--rtol R | --exact]        raw float32 output files

The metric, per output tensor (per image for the logs):

    err = max_i |a_i - b_i| / max(max_i |b_i|, 1e-12)

with b the x86 result; it must be <= rtol (default 1e-5). For logs the
predicted classes must also agree, the image lists must be the same, the
device must have printed "done", and a self test, when printed, must pass.
With --exact (the int8 builds) every output must instead have the same 32 bits
as x86's: err is then reported but not the test.
Standard library only. Exit status 0: equal within tolerance; 1: not.
"""
import argparse
import struct
import sys

FLOOR = 1e-12


def rel_err(a, b):
    if len(a) != len(b) or not b:
        return float("inf")
    diff = max(abs(x - y) for x, y in zip(a, b))
    scale = max(max(abs(y) for y in b), FLOOR)
    err = diff / scale
    return err if err == err else float("inf")  # NaN fails


def hex_float(tok):
    return struct.unpack("<f", struct.pack("<I", int(tok, 16)))[0]


def parse_log(path):
    images, selftest, done = {}, None, False
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) > 9 and w[0] == "image" and w[8] == "logits":
                bar = w.index("|")
                images[int(w[1])] = (int(w[3]), int(w[5]), int(w[7]), [hex_float(t) for t in w[9:bar]],
                                     [int(t, 16) for t in w[9:bar]])
            elif w[:1] == ["self_test"]:
                selftest = line.strip()
            elif w == ["done"]:
                done = True
    return images, selftest, done


def compare_logs(dev_path, host_path, rtol, exact=False):
    dev, dev_st, dev_done = parse_log(dev_path)
    host, host_st, host_done = parse_log(host_path)
    ok = True
    if not dev_done or not host_done:
        print("compare: %s did not finish (no 'done' line)" % (dev_path if not dev_done else host_path))
        ok = False
    if not host or sorted(dev) != sorted(host):
        print("compare: the logs hold different images: %s vs %s" % (sorted(dev), sorted(host)))
        return False
    worst, differing = 0.0, 0
    for i in sorted(host):
        (di, dl, dp, dv, dbits), (hi, hl, hp, hv, hbits) = dev[i], host[i]
        err = rel_err(dv, hv)
        worst = max(worst, err)
        ndiff = sum(a != b for a, b in zip(dbits, hbits)) + abs(len(dbits) - len(hbits))
        differing += ndiff
        bad = (ndiff > 0 if exact else err > rtol) or dp != hp or (di, dl) != (hi, hl)
        print("  image %d (test index %d, label %d): class %d device / %d x86, err %.2e%s%s"
              % (i, hi, hl, dp, hp, err, ", %d of %d logits differ in their bits" % (ndiff, len(hbits))
                 if exact and ndiff else ", bit-identical" if exact else "", "  <-- FAIL" if bad else ""))
        ok &= not bad
    for who, st in (("device", dev_st), ("x86", host_st)):
        if st is not None:
            print("  %s: %s" % (who, st))
            ok &= st.endswith(" pass")
    if exact:
        print("compare: %d images, %d logits differ in their bits (required: 0, bit-identical): %s"
              % (len(host), differing, "ok" if ok else "FAILED"))
    else:
        print("compare: %d images, worst err %.2e (tolerance %.0e): %s" % (len(host), worst, rtol,
                                                                            "ok" if ok else "FAILED"))
    return ok


def read_f32(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % 4:
        sys.exit("compare: %s: %d bytes, not float32" % (path, len(data)))
    return list(struct.unpack("<%df" % (len(data) // 4), data))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["logs", "f32"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--exact", action="store_true", help="require the same bits (int8 builds)")
    a = ap.parse_args()
    if a.mode == "logs":
        if len(a.args) != 2:
            ap.error("logs DEVICE.log HOST.log")
        return 0 if compare_logs(a.args[0], a.args[1], a.rtol, a.exact) else 1
    if len(a.args) != 3:
        ap.error("f32 NAME A.f32 B.f32")
    name, pa, pb = a.args
    va, vb = read_f32(pa), read_f32(pb)
    err = rel_err(va, vb)
    if a.exact:
        ba, bb = open(pa, "rb").read(), open(pb, "rb").read()
        ndiff = sum(ba[i:i + 4] != bb[i:i + 4] for i in range(0, min(len(ba), len(bb)), 4))
        ok = len(ba) == len(bb) and len(bb) > 0 and ndiff == 0
        print("  %-22s %8d floats, max |x| %.3g, %d differ in their bits, err %.2e (required: bit-identical): %s"
              % (name, len(vb), max(abs(x) for x in vb) if vb else 0.0, ndiff, err, "ok" if ok else "FAILED"))
        return 0 if ok else 1
    ok = len(va) == len(vb) and err <= a.rtol
    print("  %-22s %8d floats, max |x| %.3g, err %.2e (tolerance %.0e): %s"
          % (name, len(vb), max(abs(x) for x in vb) if vb else 0.0, err, a.rtol, "ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
