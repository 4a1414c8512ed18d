#!/bin/sh
# tests/quant/float_layers.sh NETC RUNTIME_LIB -- --float-layers: layers an int8 build keeps in float.
#
#   - a name that is no layer or block: exit 1, a located error naming it, nothing written;
#   - without --quantize: exit 2 (usage);
#   - LeNet with its first conv and its last linear kept in float: the report lists both with the
#     reason, the generated forward runs them with the float kernels, and the logits leave the last
#     layer as floats: they are not on the output's uint8 grid, while the all-int8 build's are.
set -u
NETC=${1:?usage: float_layers.sh NETC RUNTIME_LIB}
RT=${2:?usage: float_layers.sh NETC RUNTIME_LIB}
CC=${CC:-cc}
# SAN: the sanitizer flags a build-san runtime needs at link time (the Makefile passes $(SAN)).
SAN=${SAN:-}
PY=${PYTHON:-/usr/bin/python3}
NET=examples/fashion/lenet_fashion.net
W=examples/fashion/lenet_fashion.safetensors
D=$(dirname "$NETC")/quant/float_layers
rm -rf "$D"
mkdir -p "$D/out"
pass=0 fail=0
ok() { echo "[PASS] $1"; pass=$((pass + 1)); }
ko() { echo "[FAIL] $1"; fail=$((fail + 1)); }

# The float runner and its ranges (random inputs are enough here).
"$NETC" -q "$NET" -o "$D/f.c" --main && "$CC" -O2 $SAN -Iruntime -o "$D/f" "$D/f.c" "$RT" -lm || exit 1
"$PY" -c "import random, struct, sys
r = random.Random(1)
sys.stdout.buffer.write(struct.pack('<%df' % (784 * 16), *[r.random() for _ in range(784 * 16)]))" > "$D/calib.f32"
"$D/f" --weights "$W" --calibrate "$D/calib.f32" --ranges "$D/r.json" > /dev/null || exit 1

"$NETC" -q --quantize int8 --ranges "$D/r.json" --float-layers 0,nope "$NET" -o "$D/out/m.c" 2> "$D/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "error: --float-layers: net 'lenet_fashion' has no layer or block named 'nope'" "$D/err" &&
   [ -z "$(ls "$D/out")" ]; then ok "unknown name: exit 1, named, nothing written"; else ko "unknown name (exit $rc)"; fi

"$NETC" -q --float-layers 0 "$NET" 2> "$D/err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--float-layers goes with --quantize int8" "$D/err"; then ok "without --quantize: usage"
else ko "without --quantize (exit $rc)"; fi

"$NETC" --report --quantize int8 --ranges "$D/r.json" --float-layers 0,11 "$NET" -o "$D/k.c" --main 2> "$D/k.report" &&
  "$CC" -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 $SAN -Iruntime -o "$D/k" "$D/k.c" "$RT" -lm || { ko "build"; exit 1; }
if grep -q "^    0 (conv2d): kept in float by --float-layers$" "$D/k.report" &&
   grep -q "^    11 (linear): kept in float by --float-layers$" "$D/k.report" &&
   grep -q "2 layers run in float" "$D/k.report"; then ok "the report names the layers kept in float"
else ko "report"; fi
if grep -q "netc_conv2d_layer_f32(&conv_0" "$D/k.c" && grep -q "netc_linear_f32(1, 84, 10" "$D/k.c" &&
   [ "$(grep -c netc_qconv2d_u8 "$D/k.c")" = 1 ]; then ok "the forward runs them with the float kernels"
else ko "generated calls"; fi

"$NETC" -q --quantize int8 --ranges "$D/r.json" "$NET" -o "$D/q.c" --main &&
  "$CC" -O2 $SAN -Iruntime -o "$D/q" "$D/q.c" "$RT" -lm || { ko "int8 build"; exit 1; }
head -c 3136 "$D/calib.f32" > "$D/in.f32"
"$D/k" --weights "$W" --input "$D/in.f32" --output "$D/k.f32" > /dev/null &&
  "$D/q" --weights "$W" --input "$D/in.f32" --output "$D/q.f32" > /dev/null || { ko "runs"; exit 1; }
# The all-int8 logits are scale * (q - zp) for the output's scale in the ranges of layer 11; the kept
# ones are not (a float linear's outputs fall between the grid points).
if "$PY" - "$D" <<'EOF'
import json, struct, sys
d = sys.argv[1]
r = json.load(open(d + '/r.json'))['layers']
lo, hi = min(r[-1]['min'], 0.0), max(r[-1]['max'], 0.0)
scale = struct.unpack('f', struct.pack('f', (hi - lo) / 255.0))[0]
def off_grid(path):
    v = struct.unpack('<10f', open(path, 'rb').read())
    return max(abs(x / scale - round(x / scale)) for x in v)
q, k = off_grid(d + '/q.f32'), off_grid(d + '/k.f32')
print('       off the uint8 grid: all-int8 %.4f of a step, last layer in float %.4f' % (q, k))
sys.exit(0 if q < 0.01 and k > 0.05 else 1)
EOF
then ok "the float last layer's logits are floats, the int8 build's are on its grid"; else ko "output grid"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
