#!/bin/sh
# check_aarch64.sh [--exact] DIR DEVICE.arm64 DEVICE_HOST MODEL... -- make check-aarch64's test
# (and with --exact check-aarch64-int8's), on what targets/targets.mk built: each MODEL's
# runner (netc --main) for aarch64 (DIR/MODEL.arm64, static, NEON) runs under qemu-aarch64
# on its weights (DIR/MODEL.safetensors: random ones from tools/netc_random.py, or trained)
# and a random input, and its output must equal the x86 build's (DIR/MODEL.x86) within
# tests/targets/compare.py's tolerance (max |a-b| / max |b| <= 1e-5), or with --exact (int8)
# bit for bit. Then targets/cortex-m4/main.c built for aarch64 with embedded weights
# (DEVICE.arm64; it calls the self test when netc made one) against its x86 build's log
# (DEVICE_HOST, the x86 build of check-cortex-m or check-cortex-m-int8).
# Environment: QEMU_TIMEOUT, PYTHON.
set -u
exact=
name=check-aarch64
[ "$1" = --exact ] && { exact=--exact; name=check-aarch64-int8; shift; }
dir=$1 device=$2 device_host=$3
shift 3
start=$(date +%s)
fail() { echo "$name: FAILED: $*"; exit 1; }
qemu() { timeout "$QEMU_TIMEOUT" qemu-aarch64 "$@"; }

for m in "$@"; do
  floats=$(sed -n 's/^#define [A-Z0-9_]*_INPUT_FLOATS \([0-9]*\).*/\1/p' "$dir/$m.h")
  [ -n "$floats" ] || fail "$dir/$m.h: no _INPUT_FLOATS"
  $PYTHON -c "import random, struct, sys; r = random.Random(7); n = int(sys.argv[1]); \
open(sys.argv[2], 'wb').write(struct.pack('<%df' % n, *[r.uniform(-1, 1) for _ in range(n)]))" \
    "$floats" "$dir/$m.in.f32" || fail "cannot write $dir/$m.in.f32"
  t0=$(date +%s)
  qemu "$dir/$m.arm64" --weights "$dir/$m.safetensors" --input "$dir/$m.in.f32" --output "$dir/$m.arm64.f32"
  rc=$?
  [ $rc = 124 ] && fail "$m under qemu-aarch64 did not finish within $QEMU_TIMEOUT s"
  [ $rc = 0 ] || fail "$m under qemu-aarch64 exited with status $rc"
  t1=$(date +%s)
  "$dir/$m.x86" --weights "$dir/$m.safetensors" --input "$dir/$m.in.f32" --output "$dir/$m.x86.f32" \
    || fail "$m (x86) exited with status $?"
  $PYTHON tests/targets/compare.py f32 $exact "$m ($((t1 - t0)) s)" "$dir/$m.arm64.f32" "$dir/$m.x86.f32" \
    || fail "$m: aarch64 and x86 outputs differ"
done

base=$(basename "$device" .arm64)
"$device_host" > "$dir/$base.host.log" || fail "$device_host exited with status $?"
qemu "$device" > "$dir/$base.log"
rc=$?
[ $rc = 0 ] || { cat "$dir/$base.log"; fail "$base under qemu-aarch64 exited with status $rc"; }
echo "  $(sed -n 's/^netc-device \([a-z_0-9]*\) \([a-z0-9]*\) .*/\1 (\2)/p' "$dir/$base.log"), embedded weights, the Fashion-MNIST images of check-cortex-m:"
$PYTHON tests/targets/compare.py logs $exact "$dir/$base.log" "$dir/$base.host.log" \
  || fail "$base (embedded weights): aarch64 and x86 differ"
echo "$name: passed ($(( $(date +%s) - start )) s)"
