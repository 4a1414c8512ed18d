#!/bin/sh
# check_aarch64.sh DIR CM4DIR MODEL... -- make check-aarch64's test, on what targets/targets.mk
# built: each MODEL's runner (netc --main) for aarch64 (DIR/MODEL.arm64, static, NEON) runs
# under qemu-aarch64 on random weights (DIR/MODEL.safetensors, tools/netc_random.py) and a
# random input, and its output must equal the x86 build's (DIR/MODEL.x86) within
# tests/targets/compare.py's tolerance (max |a-b| / max |b| <= 1e-5). Then LeNet with
# embedded weights (targets/cortex-m4/main.c, which calls lenet_self_test when netc made
# one) against its x86 build's log, CM4DIR/lenet_host.
# Environment: QEMU_TIMEOUT, PYTHON.
set -u
dir=$1 cm4=$2
shift 2
start=$(date +%s)
fail() { echo "check-aarch64: FAILED: $*"; exit 1; }
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
  $PYTHON tests/targets/compare.py f32 "$m ($((t1 - t0)) s)" "$dir/$m.arm64.f32" "$dir/$m.x86.f32" \
    || fail "$m: aarch64 and x86 outputs differ"
done

"$cm4/lenet_host" > "$dir/lenet_host.log" || fail "$cm4/lenet_host exited with status $?"
qemu "$dir/lenet_device.arm64" > "$dir/lenet_device.log"
rc=$?
[ $rc = 0 ] || { cat "$dir/lenet_device.log"; fail "lenet_device under qemu-aarch64 exited with status $rc"; }
echo "  lenet, embedded weights, the Fashion-MNIST images of check-cortex-m:"
$PYTHON tests/targets/compare.py logs "$dir/lenet_device.log" "$dir/lenet_host.log" \
  || fail "LeNet with embedded weights: aarch64 and x86 differ"
echo "check-aarch64: passed ($(( $(date +%s) - start )) s)"
