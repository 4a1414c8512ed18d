#!/bin/sh
# calibrate.sh NETC -- the runner's --calibrate (issue #14), end to end.
#
#   a net with a conv + relu fused, a batch norm folded into a conv whose
#   residual add and relu are fused, views and two inputs; one with a packed
#   linear + gelu, a transpose fused into a matmul and a conv_transpose2d +
#   relu; and LeNet (sigmoids fused into convs and linears): the
#   ranges file lists every layer in id order (index, name, op as in netc
#   --report=json; the header's fingerprint), and its min / max are those of
#   the unfused net computed by PyTorch from the same weights file and the
#   same samples (calibrate_ref.py): 1e-5 relative for minmax, one histogram
#   bin for percentile;
#   the calibration forward builds warning-free with gcc and clang and runs
#   clean under ASan + UBSan;
#   bad files, methods and option combinations, and non-finite values, are
#   refused with exit 1 or 2, a message, and no ranges file (an existing one
#   untouched).
# A script of its own (check-backend runs it after run.sh) so that it can be
# run alone: sh tests/backend/calibrate.sh build/netc
set -u
netc=${1:?usage: calibrate.sh NETC}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
WARN="-std=c99 -Wall -Wextra -Wpedantic -Werror"
rt_srcs=${RUNTIME_SRCS:-$(echo runtime/*.c)}
PY=/usr/bin/python3

ok() { echo "[PASS] $1"; pass=$((pass + 1)); }
ko() { echo "[FAIL] $1"; fail=$((fail + 1)); }

cat >"$tmp/cal.net" <<'NET'
net cal(x: [1, 3, 8, 8], z: [1, 4]) {
    h = x -> conv2d(8, 3, padding=1) -> relu;
    y = h -> conv2d(8, 3, padding=1, bias=false) -> batchnorm2d;
    y = y + h -> relu;
    f = y -> maxpool2d(2) -> flatten -> linear(4) -> relu;
    return f + z, y -> flatten;
}
NET
cat >"$tmp/att.net" <<'NET'
net att(x: [1, 2, 4, 6]) {
    q = x -> linear(6);
    k = x -> linear(6) -> gelu;
    s = q @ (k -> transpose(-1, -2));
    u = x -> conv_transpose2d(3, 3, stride=2) -> relu;
    return s -> softmax(-1), u;
}
NET
cp models/lenet.net "$tmp/lenet.net"

# samples FILE COUNT FLOATS SEED: COUNT samples of FLOATS normal floats (times 2).
samples() {
  $PY -c "
import sys, numpy as np
n, k, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
(2 * np.random.default_rng(seed).standard_normal(n * k)).astype(np.float32).tofile(sys.argv[1])
" "$@"
}

for net in cal att lenet; do
  d=$tmp/$net
  mkdir -p "$d"
  if ! { $PY tools/netc_random.py --netc "$netc" "$tmp/$net.net" 9 "$d/w.safetensors" &&
    "$netc" "$tmp/$net.net" -o "$d/$net.c" --main && "$netc" "$tmp/$net.net" --report=json >"$d/report.json" &&
    cc $WARN -O2 -Iruntime "$d/$net.c" $rt_srcs -lm -o "$d/$net" 2>"$tmp/cc.err"; }; then
    ko "$net: could not build the runner"
    head -5 "$tmp/cc.err"
    continue
  fi
  case $net in
    cal) n=48 && samples "$d/calib.f32" $n 196 1 ;;
    att) n=40 && samples "$d/calib.f32" $n 48 3 ;;
    *) n=24 && samples "$d/calib.f32" $n 784 2 ;;
  esac
  for method in minmax percentile percentile=99 percentile=90; do
    out=$("$d/$net" --weights "$d/w.safetensors" --calibrate "$d/calib.f32" --ranges "$d/r.json" --method $method)
    st=$?
    layers=$($PY -c "import json, sys; print(len(json.load(open(sys.argv[1]))['layers']))" "$d/report.json")
    if [ $st -ne 0 ] || [ "$out" != "calibrated $n samples, $layers layers -> $d/r.json" ]; then
      ko "$net --method $method: status $st, stdout '$out'"
      continue
    fi
    # The file's frame: every layer of the report in id order, the header's
    # fingerprint, the method and the sample count.
    fp=$(sed -n "s/^#define [A-Z_]*_FINGERPRINT \"\([0-9a-f]*\)\"$/\1/p" "$d/$net.h")
    if $PY - "$d/r.json" "$d/report.json" "$fp" "$method" "$n" "$net" <<'PY'
import json, sys
r, rep = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
fp, method, n, net = sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
want = [(i, l['name'], l['op']) for i, l in enumerate(rep['layers'])]
got = [(l['index'], l['name'], l['op']) for l in r['layers']]
m = method.split('=')
ok = (r['netc_ranges'] == 1 and r['net'] == net and len(fp) == 16 and r['fingerprint'] == fp and
      r['method'] == m[0] and r['samples'] == n and got == want and
      (m[0] == 'minmax' and 'percentile' not in r or
       m[0] == 'percentile' and r['percentile'] == (float(m[1]) if len(m) > 1 else 99.99)) and
      all(l['min'] <= l['max'] for l in r['layers']))
sys.exit(0 if ok else 1)
PY
    then
      ok "$net --method $method: every layer in id order, named as the report, the header's fingerprint"
    else
      ko "$net --method $method: the ranges file's frame is wrong: $(head -c 600 "$d/r.json")"
    fi
    if $PY tests/backend/calibrate_ref.py $net "$d/w.safetensors" "$d/calib.f32" "$d/r.json"; then
      ok "$net --method $method: ranges equal PyTorch's on the unfused net"
    else
      ko "$net --method $method: ranges differ from PyTorch's"
    fi
  done
done

# The calibration forward runs clean under the sanitizers and with clang;
# the ops fused in the normal forward run as their own kernels in it, and a
# build without --main has none of it.
d=$tmp/cal
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
if cc -std=c99 $SAN -Iruntime "$d/cal.c" $rt_srcs -lm -o "$d/san" 2>"$tmp/cc.err" &&
  ASAN_OPTIONS=detect_leaks=1 "$d/san" --weights "$d/w.safetensors" --calibrate "$d/calib.f32" --ranges "$d/s.json" \
    --method percentile >/dev/null 2>"$tmp/san.log"; then
  ok "ASan+UBSan run of --calibrate --method percentile"
else
  ko "ASan+UBSan run of --calibrate"
  head -20 "$tmp/cc.err" "$tmp/san.log"
fi
# Embedded weights (--weights: raw, unpacked) give the ranges loaded ones do.
mkdir -p "$d/emb"
if "$netc" "$tmp/cal.net" -o "$d/emb/cal.c" --main --weights "$d/w.safetensors" &&
  cc -std=c99 -O2 -Iruntime "$d/emb/cal.c" "$d/emb/cal_weights.c" $rt_srcs -lm -o "$d/emb/cal" &&
  "$d/emb/cal" --calibrate "$d/calib.f32" --ranges "$d/emb/e.json" >/dev/null &&
  "$d/cal" --weights "$d/w.safetensors" --calibrate "$d/calib.f32" --ranges "$d/emb/l.json" >/dev/null &&
  $PY -c "
import json, sys
a, b = (json.load(open(f))['layers'] for f in sys.argv[1:3])
sys.exit(0 if all(abs(x[k] - y[k]) <= 1e-5 * max(abs(y['min']), abs(y['max']), 1e-30)
                  for x, y in zip(a, b) for k in ('min', 'max')) and len(a) == len(b) == 14 else 1)
" "$d/emb/e.json" "$d/emb/l.json"; then
  ok "--calibrate with embedded weights gives the loaded weights' ranges"
else
  ko "--calibrate with embedded weights differs from loaded weights"
fi
if command -v clang >/dev/null && clang $WARN -Iruntime -c "$d/cal.c" -o "$tmp/x.o"; then
  ok "the calibration forward compiles with clang $WARN"
else
  ko "the calibration forward does not compile with clang $WARN"
fi
# An int8 runner (--quantize int8 --main) has no --calibrate: its netc_runner's calibration
# fields are written out as zeros, so it too builds under -Wextra -Werror (-Wmissing-field-
# initializers) with gcc and clang, and refuses --calibrate.
mkdir -p "$tmp/q"
if "$netc" --quantize int8 --ranges "$d/r.json" "$tmp/cal.net" -o "$tmp/q/cal.c" --main -q 2>"$tmp/cc.err" &&
  cc $WARN -O2 -Iruntime "$tmp/q/cal.c" $rt_srcs -lm -o "$tmp/q/cal" 2>>"$tmp/cc.err" &&
  { ! command -v clang >/dev/null || clang $WARN -Iruntime -c "$tmp/q/cal.c" -o "$tmp/x.o" 2>>"$tmp/cc.err"; } &&
  ! "$tmp/q/cal" --weights "$d/w.safetensors" --calibrate "$d/calib.f32" --ranges "$tmp/q/r.json" >/dev/null 2>&1 &&
  [ ! -e "$tmp/q/r.json" ]; then
  ok "the int8 runner (--quantize int8 --main) compiles with gcc and clang $WARN and refuses --calibrate"
else
  ko "the int8 runner (--quantize int8 --main) does not compile with $WARN, or accepts --calibrate"
  head -8 "$tmp/cc.err"
fi
body=$(sed -n '/^void cal_forward_calibrate/,/^} \/\* end cal_forward_calibrate/p' "$d/cal.c")
if echo "$body" | grep -q "c.p.act = NETC_ACT_NONE" && echo "$body" | grep -q "netc_add_f32(512" &&
  [ "$(echo "$body" | grep -c "netc_act_f32(NETC_ACT_RELU")" -eq 3 ] && [ "$(echo "$body" | grep -c "obs(ctx")" -eq 14 ] &&
  ! "$netc" "$tmp/cal.net" -o "$tmp/plain.c" | grep -q . && ! grep -q "forward_calibrate\|CALIB_ARENA" "$tmp/plain.c" "$tmp/plain.h"; then
  ok "calibration forward: fused relus and the residual add run as their own kernels, 14 observer calls; none without --main"
else
  ko "calibration forward: unexpected code (or present without --main)"
fi

# Refusals: status, message, and no ranges file left (an old one untouched).
r="$d/cal"
head -c 1000 "$d/calib.f32" >"$tmp/short.f32"
: >"$tmp/empty.f32"
# A NaN in sample 2's input z (layer 1), and an input so large that the
# first conv overflows (layer 2, '0') in sample 1.
$PY -c "
import sys, numpy as np
a = np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, 196)[:4].copy()
a[2, 193] = np.nan
a.tofile(sys.argv[2])
b = np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, 196)[:4].copy()
b[1, :192] = 3e38
b.tofile(sys.argv[3])
" "$d/calib.f32" "$tmp/nan.f32" "$tmp/big.f32"
echo keep >"$tmp/old.json"
for case in "1|is not a whole, nonzero number of samples of 784 bytes|--calibrate $tmp/short.f32 --ranges $tmp/o.json" \
  "1|0 bytes is not a whole, nonzero number|--calibrate $tmp/empty.f32 --ranges $tmp/o.json" \
  "1|cannot open $tmp/none.f32|--calibrate $tmp/none.f32 --ranges $tmp/o.json" \
  "1|layer 1 'z' (input) has a NaN or an infinity in sample 2|--calibrate $tmp/nan.f32 --ranges $tmp/o.json" \
  "1|layer 2 '0' (conv2d) has a NaN or an infinity in sample 1|--calibrate $tmp/big.f32 --ranges $tmp/o.json" \
  "1|layer 1 'z' (input) has a NaN or an infinity in sample 2|--calibrate $tmp/nan.f32 --ranges $tmp/old.json" \
  "2|--method expects minmax, percentile or percentile=P with 0 < P <= 100, got 'median'|--calibrate $d/calib.f32 --ranges $tmp/o.json --method median" \
  "2|got 'percentile=0'|--calibrate $d/calib.f32 --ranges $tmp/o.json --method percentile=0" \
  "2|got 'percentile=100.5'|--calibrate $d/calib.f32 --ranges $tmp/o.json --method percentile=100.5" \
  "2|got 'percentile='|--calibrate $d/calib.f32 --ranges $tmp/o.json --method percentile=" \
  "2|--ranges and --method need --calibrate|--ranges $tmp/o.json" \
  "2|--ranges and --method need --calibrate|--method minmax" \
  "2|--calibrate needs --ranges OUT.json|--calibrate $d/calib.f32" \
  "2|cannot be combined with --input, --output or --bench|--calibrate $d/calib.f32 --ranges $tmp/o.json --bench 3" \
  "1|cannot write $tmp/no/dir/o.json|--calibrate $d/calib.f32 --ranges $tmp/no/dir/o.json"; do
  want=${case%%|*}; rest=${case#*|}; msg=${rest%%|*}; args=${rest#*|}
  # shellcheck disable=SC2086
  "$r" --weights "$d/w.safetensors" $args >"$tmp/out" 2>"$tmp/err"
  st=$?
  if [ $st -eq "$want" ] && grep -qF -- "$msg" "$tmp/err" && [ ! -e "$tmp/o.json" ] && [ ! -e "$tmp/o.json.tmp" ] &&
    [ ! -e "$tmp/old.json.tmp" ] && [ "$(cat "$tmp/old.json")" = keep ]; then
    ok "--calibrate refuses: $args (status $st)"
  else
    ko "--calibrate: $args: status $st (want $want), stderr: $(head -2 "$tmp/err")"
  fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
