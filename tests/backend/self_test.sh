#!/bin/sh
# self_test.sh NETC [LIBNETCRT] -- netc --self-test end to end (make check-backend).
#
#   PREFIX_self_test passes on the build netc made, with the runtime built portable from its
#   sources and (LIBNETCRT, -march=native) with the SIMD kernels, for embedded weights and for
#   weights loaded from the file (packed); LeNet and ResNet-18 (batch norms folded, residual adds)
#   it fails, with an error far over the tolerance, when one weight is off by 1 (in RAM): the first
#   convolution's, a deep one's, and the last linear's (which moves a single logit); and when one
#   expected value in the generated C is off by 0.1%
#   the self-test's code calls no allocator and no stdio
#   --self-test without --weights is a usage error (exit 2) that writes nothing; a weights file
#   whose compile-time outputs are not finite is an input error (exit 1) that writes nothing
#   the output is deterministic
set -u
netc=${1:?usage: self_test.sh NETC [LIBNETCRT]}
lib=${2:-}
rt_srcs=${RUNTIME_SRCS:-$(echo runtime/*.c)}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
WARN="-std=c99 -O2 -Wall -Wextra -Wpedantic -Werror"

ok() { echo "[PASS] self-test: $1"; pass=$((pass + 1)); }
ko() { echo "[FAIL] self-test: $1"; fail=$((fail + 1)); }

# The float offset in the weight blob of state_dict tensor $2 (the generated tensor table), plus $3;
# or, for $2 = conv_NAME, of that convolution's bias slot (after folding: the batch norm's shift).
offset() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import re, sys
src, name, plus = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
if name.startswith('conv_'):
    m = re.search(r'netc_conv2d_layer ' + re.escape(name) + r' = \{.*?\.bias = (\d+)', src, re.S)
else:
    m = re.search(r'\{"' + re.escape(name) + r'", \d+, \{[^}]*\}, (\d+),', src)
print(int(m.group(1)) + plus)
PY
}

# build NAME DIR OUT CC [RUNTIME...]: the driver against DIR/NAME.c and DIR/NAME_weights.c.
build() {
  b_n=$1 b_d=$2 b_o=$3 b_cc=$4
  shift 4
  $b_cc $WARN -Iruntime -I"$b_d" -DMODEL_H="\"$b_n.h\"" -DPREFIX="$b_n" -DUPREFIX="$(echo "$b_n" | tr a-z A-Z)" \
    tests/backend/self_test_driver.c "$b_d/$b_n.c" "$b_d/${b_n}_weights.c" "$@" -lm -o "$b_o" 2>"$tmp/cc.err" ||
    { head -5 "$tmp/cc.err"; return 1; }
}

# expect_fail WHAT CMD...: the self-test must fail (exit 1) and say so.
expect_fail() {
  what=$1
  shift
  "$@" >"$tmp/run.out" 2>&1
  rc=$?
  if [ $rc -eq 1 ] && grep -q FAIL "$tmp/run.out"; then
    ok "$what fails it ($(cat "$tmp/run.out"))"
  else
    ko "$what does not fail it (exit $rc: $(cat "$tmp/run.out"))"
  fi
}

expect_pass() {
  what=$1
  shift
  if "$@" >"$tmp/run.out" 2>&1; then ok "$what ($(cat "$tmp/run.out"))"; else ko "$what: $(cat "$tmp/run.out")"; fi
}

for n in lenet resnet18; do
  d=$tmp/$n
  mkdir -p "$d"
  if ! /usr/bin/python3 tools/netc_random.py --netc "$netc" "models/$n.net" 11 "$d/w.safetensors" >/dev/null ||
     ! "$netc" "models/$n.net" -o "$d/$n.c" --weights "$d/w.safetensors" --self-test; then
    ko "$n: netc --weights --self-test failed"
    continue
  fi
  # The runtimes: LeNet with the portable sources (gcc and clang) and the native library,
  # ResNet-18 (a 46 MB weights file to compile) with the native library only.
  builds=""
  if [ "$n" = lenet ]; then
    build $n "$d" "$d/gcc" gcc $rt_srcs && builds="$builds gcc" || ko "$n: the generated self-test does not build with gcc $WARN"
    if command -v clang >/dev/null; then
      build $n "$d" "$d/clang" clang $rt_srcs && builds="$builds clang" || ko "$n: does not build with clang $WARN"
    fi
  fi
  if [ -n "$lib" ]; then
    build $n "$d" "$d/native" cc "$lib" && builds="$builds native" || ko "$n: does not build with $lib"
  elif [ "$n" != lenet ]; then
    build $n "$d" "$d/native" cc $rt_srcs && builds="$builds native" || ko "$n: does not build"
  fi
  for b in $builds; do
    expect_pass "$n ($b runtime, embedded weights) passes" "$d/$b"
    expect_pass "$n ($b runtime, weights loaded from the file and packed) passes" "$d/$b" --load "$d/w.safetensors"
  done
  b=$(echo $builds | cut -d' ' -f1)
  [ -n "$b" ] || continue
  case $n in
    lenet) first=0.weight last=11.bias ;;
    resnet18) first=conv1.weight last=fc.bias ;;
  esac
  expect_fail "$n: one weight of the first convolution ($first[0]) wrong" \
    "$d/$b" --corrupt "$(offset "$d/$n.c" $first 0)"
  expect_fail "$n: one element of the last linear's bias ($last[3], one logit) wrong" \
    "$d/$b" --corrupt "$(offset "$d/$n.c" $last 3)"
  if [ $n = resnet18 ]; then
    # A deep layer's single weight may be masked: with random weights many channels are dead
    # (a ReLU zeroes them for this input), and a weight that feeds or reads only a dead channel
    # changes no output at all. The folded bias moves its channel everywhere.
    expect_fail "$n: one folded bias of layer3.1.conv2 (batch norm folded in, before a residual add) wrong" \
      "$d/$b" --corrupt "$(offset "$d/$n.c" conv_layer3_1_conv2 3)"
  fi
  # Embedded builds often add these: double is soft on a Cortex-M4.
  if [ $n = lenet ]; then
    for cc in gcc clang; do
      command -v $cc >/dev/null || continue
      $cc $WARN -Wshadow -Wdouble-promotion -Wconversion -Iruntime -c "$d/$n.c" -o "$tmp/x.o" 2>"$tmp/cc.err" &&
        ok "$n: the generated C is clean under $cc -Wshadow -Wdouble-promotion -Wconversion" ||
        { ko "$n: the generated C warns under $cc -Wshadow -Wdouble-promotion -Wconversion"; head -5 "$tmp/cc.err"; }
    done
  fi
  # The self-test's own code: no allocation, no stdio (it runs on bare metal).
  if sed -n "/^float ${n}_self_test(/,/^}/p" "$d/$n.c" | grep -Eq 'malloc|calloc|free|printf|FILE|fopen'; then
    ko "$n: ${n}_self_test calls an allocator or stdio"
  else
    ok "$n: ${n}_self_test calls no allocator and no stdio"
  fi
done

# The expected table is what is compared: one value 0.1% off fails.
d=$tmp/lenet
if [ -f "$d/lenet.c" ]; then
  mkdir -p "$tmp/want"
  cp "$d/lenet.h" "$d/lenet_weights.c" "$tmp/want/"
  /usr/bin/python3 - "$d/lenet.c" "$tmp/want/lenet.c" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r'lenet_self_test_want0\[\d+\] = \{\s*([-0-9.e]+)f', src)
v = float(m.group(1)) * 1.001
open(sys.argv[2], 'w').write(src[:m.start(1)] + repr(v) + src[m.end(1):])
PY
  build lenet "$tmp/want" "$tmp/want/drv" cc $rt_srcs &&
    expect_fail "lenet: one expected value 0.1% off in the generated C" "$tmp/want/drv" ||
    ko "lenet: the edited generated C does not build"
  # Deterministic: the same bytes twice.
  mkdir -p "$tmp/again"
  "$netc" models/lenet.net -o "$tmp/again/lenet.c" --weights "$d/w.safetensors" --self-test &&
    cmp -s "$d/lenet.c" "$tmp/again/lenet.c" && cmp -s "$d/lenet.h" "$tmp/again/lenet.h" &&
    ok "lenet: the same files twice" || ko "lenet: two runs of --self-test differ"
fi

# An output over 1024 elements (UNet's [1, 2, 64, 64]) is checked on strided elements plus its sum and
# sum of magnitudes: it passes; a wrong bias of the head fails it; and the sum is what is compared (the
# stored sum moved by 1% of the sum of magnitudes fails it).
d=$tmp/unet
mkdir -p "$d" "$d/sum"
if /usr/bin/python3 tools/netc_random.py --netc "$netc" models/unet.net 11 "$d/w.safetensors" >/dev/null &&
   "$netc" models/unet.net -o "$d/unet.c" --weights "$d/w.safetensors" --self-test &&
   grep -q "every 8th of its 8,192 elements" "$d/unet.c" && build unet "$d" "$d/drv" cc $rt_srcs; then
  expect_pass "unet (sampled output) passes" "$d/drv"
  expect_fail "unet: one element of the head's bias (a whole class map) wrong" "$d/drv" --corrupt "$(offset "$d/unet.c" head.bias 1)"
  cp "$d/unet.h" "$d/unet_weights.c" "$d/sum/"
  /usr/bin/python3 - "$d/unet.c" "$d/sum/unet.c" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r'e = unet_self_test_err_sum\(sum, ([-0-9.e]+), ([0-9.e]+)\);', src)
moved = float(m.group(1)) + 0.01 * float(m.group(2))
open(sys.argv[2], 'w').write(src[:m.start(1)] + repr(moved) + src[m.end(1):])
PY
  build unet "$d/sum" "$d/sum/drv" cc $rt_srcs && expect_fail "unet: the stored sum 1% off" "$d/sum/drv" ||
    ko "unet: the edited generated C does not build"
else
  ko "unet: netc --weights --self-test, or its build, failed (or the output is not sampled)"
fi

# Two inputs, two outputs: one generator across both inputs, every output compared.
d=$tmp/two
mkdir -p "$d"
cat >"$d/two.net" <<'NET'
net two(a: [1, 3, 8, 8], b: [1, 3, 8, 8]) {
    y = (a + b) -> conv2d(4, 3, padding=1) -> relu;
    z = (a * b) -> flatten -> linear(5);
    return y, z;
}
NET
if /usr/bin/python3 tools/netc_random.py --netc "$netc" "$d/two.net" 3 "$d/w.safetensors" >/dev/null &&
   "$netc" "$d/two.net" -o "$d/two.c" --weights "$d/w.safetensors" --self-test &&
   grep -q "two_self_test_want1" "$d/two.c" && build two "$d" "$d/drv" cc $rt_srcs; then
  expect_pass "two inputs, two outputs: passes" "$d/drv"
  expect_fail "two inputs, two outputs: one weight of the linear (the second output only) wrong" \
    "$d/drv" --corrupt "$(offset "$d/two.c" 3.weight 7)"
else
  ko "two inputs, two outputs: netc --weights --self-test or its build failed"
fi

# Usage and input errors write nothing.
mkdir -p "$tmp/err"
"$netc" models/lenet.net -o "$tmp/err/lenet.c" --self-test 2>"$tmp/err/msg"
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--self-test goes with --weights" "$tmp/err/msg" && [ -z "$(ls "$tmp/err")" -o "$(ls "$tmp/err")" = msg ]; then
  ok "--self-test without --weights: exit 2, '$(head -1 "$tmp/err/msg")', nothing written"
else
  ko "--self-test without --weights: exit $rc, $(cat "$tmp/err/msg"), files: $(ls "$tmp/err")"
fi
if [ -f "$tmp/lenet/w.safetensors" ]; then
  /usr/bin/python3 - "$tmp/lenet/w.safetensors" "$tmp/err/inf.safetensors" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
begin = json.loads(raw[8:8 + n])['11.bias']['data_offsets'][0] + 8 + n
data = bytearray(raw)
data[begin:begin + 4] = struct.pack('<f', float('inf'))
open(sys.argv[2], 'wb').write(bytes(data))
PY
  echo "old" >"$tmp/err/keep.c"
  "$netc" models/lenet.net -o "$tmp/err/keep.c" --weights "$tmp/err/inf.safetensors" --self-test 2>"$tmp/err/msg2"
  rc=$?
  if [ $rc -eq 1 ] && grep -q "could never pass" "$tmp/err/msg2" && [ "$(cat "$tmp/err/keep.c")" = old ] &&
     [ ! -e "$tmp/err/keep.h" ] && [ ! -e "$tmp/err/keep_weights.c" ]; then
    ok "an infinite output at compile time: exit 1, '$(cat "$tmp/err/msg2")', nothing written or clobbered"
  else
    ko "an infinite output at compile time: exit $rc, $(cat "$tmp/err/msg2")"
  fi
fi

echo "self-test: $pass passed, $fail failed"
[ $fail -eq 0 ]
