#!/bin/sh
# run.sh NETC -- back-end checks that need the shell and several compilers.
#
#   generated/ is what netc writes for models/ today (stale files fail)
#   netc's output is byte-for-byte deterministic
#   every generated file compiles with gcc and clang under -Werror
#   the generated code runs clean under AddressSanitizer + UBSan
#   --weights embeds exactly what loading the file gives
#   the runtime builds from its sources alone (cc app.c model.c runtime/*.c),
#   which are exactly the list RUNTIME_SRCS of runtime/runtime.mk
#   a failed compile leaves existing outputs untouched and no temporaries
set -u
netc=${1:?usage: run.sh NETC}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
WARN="-std=c99 -Wall -Wextra -Wpedantic -Werror"
# The runtime's sources: runtime.mk's list (make check-backend passes it),
# else every runtime/*.c, which the README's recipe compiles.
rt_srcs=${RUNTIME_SRCS:-$(echo runtime/*.c)}

ok() { echo "[PASS] $1"; pass=$((pass + 1)); }
ko() { echo "[FAIL] $1"; fail=$((fail + 1)); }

# 1, 2: freshness and determinism.
mkdir -p "$tmp/a" "$tmp/b"
for m in models/*.net; do
  n=$(basename "$m" .net)
  "$netc" "$m" -o "$tmp/a/$n.c" && "$netc" "$m" -o "$tmp/b/$n.c" || { ko "netc -o for $n"; continue; }
  if cmp -s "$tmp/a/$n.c" "$tmp/b/$n.c" && cmp -s "$tmp/a/$n.h" "$tmp/b/$n.h"; then
    ok "deterministic output: $n"
  else
    ko "deterministic output: $n (two runs differ)"
  fi
  if cmp -s "$tmp/a/$n.c" "generated/$n.c" && cmp -s "$tmp/a/$n.h" "generated/$n.h"; then
    ok "generated/$n.{c,h} up to date"
  else
    ko "generated/$n.{c,h} is stale or missing: run 'make generated' and commit it"
  fi
done

# 3: warning-free C99 with both compilers (the runner too).
"$netc" models/googlenet.net -o "$tmp/a/gmain.c" --main >/dev/null 2>&1
for cc in gcc clang; do
  if ! command -v $cc >/dev/null; then ko "$cc is missing (apt-get install $cc)"; continue; fi
  bad=""
  for f in "$tmp"/a/*.c; do
    $cc $WARN -Iruntime -c "$f" -o "$tmp/x.o" 2>"$tmp/cc.err" || { bad="$bad $(basename "$f")"; head -5 "$tmp/cc.err"; }
  done
  [ -z "$bad" ] && ok "generated C compiles with $cc $WARN" || ko "generated C warns under $cc:$bad"
done

# 4: sanitizers, on models that use every kernel family.
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
for n in lenet mobilenet_v2 unet googlenet; do
  "$netc" "models/$n.net" -o "$tmp/san_$n.c" --main >/dev/null 2>&1 &&
    cc -std=c99 $SAN -Iruntime "$tmp/san_$n.c" $rt_srcs -lm -o "$tmp/san_$n" 2>"$tmp/cc.err" ||
    { ko "ASan+UBSan build of $n"; head -5 "$tmp/cc.err"; continue; }
  if ASAN_OPTIONS=detect_leaks=1 "$tmp/san_$n" --seed 2 --output "$tmp/san_$n.out" >"$tmp/san.log" 2>&1; then
    ok "ASan+UBSan run of $n"
  else
    ko "ASan+UBSan run of $n"
    head -20 "$tmp/san.log"
  fi
done

# The README's recipe (cc app.c model.c runtime/*.c) compiles exactly the runtime.
if [ "$(printf '%s\n' runtime/*.c | sort)" = "$(printf '%s\n' $rt_srcs | sort)" ]; then
  ok "runtime/*.c is runtime.mk's RUNTIME_SRCS"
else
  ko "runtime/*.c and runtime.mk's RUNTIME_SRCS differ (a runtime source missing from the list?)"
fi

# 5, 6: embedded weights equal loaded weights; the runtime from its sources alone.
mkdir -p "$tmp/e"
if /usr/bin/python3 tools/netc_random.py --netc "$netc" models/lenet.net 11 "$tmp/w.safetensors" &&
  "$netc" models/lenet.net -o "$tmp/e/lenet.c" --main --weights "$tmp/w.safetensors"; then
  cc -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -Iruntime "$tmp/e/lenet.c" "$tmp/e/lenet_weights.c" runtime/*.c -lm \
    -o "$tmp/e/lenet" &&
    "$tmp/e/lenet" --output "$tmp/e/embedded.f32" &&
    "$tmp/e/lenet" --weights "$tmp/w.safetensors" --output "$tmp/e/loaded.f32" &&
    cmp -s "$tmp/e/embedded.f32" "$tmp/e/loaded.f32" &&
    ok "--weights: embedded weights give the same output as the loaded file" ||
    ko "--weights: embedded and loaded weights differ"
  # The portable float-literal form holds exactly the same bits.
  mkdir -p "$tmp/h"
  "$netc" models/lenet.net -o "$tmp/h/lenet.c" --main --weights "$tmp/w.safetensors" --weights-hex &&
    grep -q "0x1" "$tmp/h/lenet_weights.c" &&
    cc -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -Iruntime "$tmp/h/lenet.c" "$tmp/h/lenet_weights.c" $rt_srcs -lm \
      -o "$tmp/h/lenet" && "$tmp/h/lenet" --output "$tmp/h/hex.f32" && cmp -s "$tmp/h/hex.f32" "$tmp/e/embedded.f32" &&
    ok "--weights-hex: float literals give the same output as the byte string" ||
    ko "--weights-hex: differs from the byte-string weights"
  # Non-finite weights (a file may hold them): the float literals are C too
  # (HUGE_VALF, NAN; "%a" printed inf), and give what the byte string gives.
  /usr/bin/python3 - "$tmp/w.safetensors" "$tmp/h/inf.safetensors" <<'PY' &&
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
begin = json.loads(raw[8:8 + n])['0.weight']['data_offsets'][0] + 8 + n
data = bytearray(raw)
data[begin:begin + 12] = struct.pack('<3f', float('inf'), float('-inf'), float('nan'))
open(sys.argv[2], 'wb').write(bytes(data))
PY
    "$netc" models/lenet.net -o "$tmp/h/inf.c" --main --weights "$tmp/h/inf.safetensors" --weights-hex &&
    grep -q "HUGE_VALF" "$tmp/h/inf_weights.c" && grep -q "NAN" "$tmp/h/inf_weights.c" &&
    "$netc" models/lenet.net -o "$tmp/h/infb.c" --main --weights "$tmp/h/inf.safetensors" &&
    cc -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -Iruntime "$tmp/h/inf.c" "$tmp/h/inf_weights.c" $rt_srcs -lm \
      -o "$tmp/h/inf" &&
    cc -std=c99 -O2 -Iruntime "$tmp/h/infb.c" "$tmp/h/infb_weights.c" $rt_srcs -lm -o "$tmp/h/infb" &&
    "$tmp/h/inf" --output "$tmp/h/inf.f32" && "$tmp/h/infb" --output "$tmp/h/infb.f32" &&
    /usr/bin/python3 -c "
import sys, numpy as np
a, b = (np.fromfile(f, dtype=np.float32) for f in sys.argv[1:3])
sys.exit(0 if a.size == 10 and np.array_equal(a, b, equal_nan=True) else 1)
" "$tmp/h/inf.f32" "$tmp/h/infb.f32" &&
    ok "--weights-hex: infinite and NaN weights print as C (HUGE_VALF, NAN) and match the byte string" ||
    ko "--weights-hex: non-finite weights give C that does not compile, or other numbers"
  # The seeded random weights are reproducible from Python (tools/netc_random.py).
  "$tmp/e/lenet" --weights "$tmp/w.safetensors" --seed 11 --output "$tmp/e/py.f32" &&
    "$netc" models/lenet.net -o "$tmp/e/r.c" --main && cc -std=c99 -O2 -Iruntime "$tmp/e/r.c" $rt_srcs -lm -o "$tmp/e/r" &&
    "$tmp/e/r" --seed 11 --output "$tmp/e/c.f32" && cmp -s "$tmp/e/py.f32" "$tmp/e/c.f32" &&
    ok "init_random(11) equals tools/netc_random.py 11" || ko "init_random(11) differs from tools/netc_random.py"
else
  ko "--weights: could not generate the embedded model"
fi

# 6a: the recipe holds for every kind of tensor -- batch norm (folded), layer
# norm over [C, H, W] and over one axis, group norm, conv and linear, a
# declared param, a float buffer and an index buffer -- and those tensors
# land where the forward pass reads them: init_random(7) equals the weights
# of tools/netc_random.py 7 loaded from a file, and both equal PyTorch's
# module of the same layers with those weights.
cat >"$tmp/ln.net" <<'NET'
net ln(x: [2, 3, 6, 6]) {
    param scale: [4, 1, 1];
    buffer shift: [4, 1, 1];
    buffer pick: i64[5];
    y = x -> conv2d(4, 3) -> batchnorm2d -> layernorm -> groupnorm(2);
    y = y * scale + shift;
    return y -> relu -> flatten -> linear(8) -> layernorm -> index_select(1, pick) -> linear(5);
}
NET
mkdir -p "$tmp/ln"
if /usr/bin/python3 tools/netc_random.py --netc "$netc" "$tmp/ln.net" 7 "$tmp/ln/w.safetensors" &&
  "$netc" "$tmp/ln.net" -o "$tmp/ln/ln.c" --main &&
  cc -std=c99 -O2 -Iruntime "$tmp/ln/ln.c" $rt_srcs -lm -o "$tmp/ln/ln" &&
  /usr/bin/python3 - "$netc" "$tmp/ln" <<'PY' &&
import json, subprocess, sys
import torch
sys.path.insert(0, 'tools')
from netc_random import random_state_dict
netc, d = sys.argv[1], sys.argv[2]
rep = json.loads(subprocess.run([netc, '--report=json', d + '/../ln.net'], check=True,
                                capture_output=True, text=True).stdout)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.zeros(4, 1, 1))
        self.register_buffer('shift', torch.zeros(4, 1, 1))
        self.register_buffer('pick', torch.zeros(5, dtype=torch.int64))
        mods = [torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.LayerNorm([4, 4, 4]),
                torch.nn.GroupNorm(2, 4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 8),
                torch.nn.LayerNorm(8), torch.nn.Linear(5, 5)]
        for i, mod in enumerate(mods):
            self.add_module(str(i), mod)

    def forward(self, x):
        m = self._modules
        y = m['3'](m['2'](m['1'](m['0'](x))))
        y = y * self.scale + self.shift
        y = m['7'](m['6'](m['5'](m['4'](y))))
        return m['8'](torch.index_select(y, 1, self.pick))
m = M().eval()
sd = random_state_dict(rep['weights'], 7, rep['layers'])
assert sd['pick'].dtype == torch.int64 and 0 <= int(sd['pick'].min()) and int(sd['pick'].max()) < 8
m.load_state_dict(sd)
x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(3))
open(d + '/in.f32', 'wb').write(x.numpy().tobytes())
with torch.no_grad():
    open(d + '/torch.f32', 'wb').write(m(x).numpy().tobytes())
PY
  "$tmp/ln/ln" --seed 7 --input "$tmp/ln/in.f32" --output "$tmp/ln/c.f32" &&
  "$tmp/ln/ln" --weights "$tmp/ln/w.safetensors" --input "$tmp/ln/in.f32" --output "$tmp/ln/py.f32" &&
  cmp -s "$tmp/ln/c.f32" "$tmp/ln/py.f32" &&
  /usr/bin/python3 -c "
import sys, array
a = array.array('f', open(sys.argv[1], 'rb').read()); b = array.array('f', open(sys.argv[2], 'rb').read())
m = max(abs(x) for x in b)
sys.exit(0 if len(a) == len(b) == 10 and m > 0 and max(abs(x - y) for x, y in zip(a, b)) <= 1e-4 * m else 1)
" "$tmp/ln/c.f32" "$tmp/ln/torch.f32"; then
  ok "init_random equals tools/netc_random.py and PyTorch with norms, a param and buffers"
else
  ko "init_random, tools/netc_random.py and PyTorch disagree on a net with norms, a param and buffers"
fi

# 6a': the loader checks an index buffer's values against the dim they index
# (the linear before index_select has 8 features): 8 is rejected by name,
# with exit status 1 and nothing run.
if /usr/bin/python3 -c "
import sys, json, struct
d = sys.argv[1]
raw = open(d + '/w.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
head = json.loads(raw[8:8 + n])
b, e = head['pick']['data_offsets']
body = bytearray(raw[8 + n:])
body[b + 8:b + 16] = struct.pack('<q', 8)
open(d + '/bad.safetensors', 'wb').write(raw[:8 + n] + bytes(body))
" "$tmp/ln"; then
  out=$("$tmp/ln/ln" --weights "$tmp/ln/bad.safetensors" --input "$tmp/ln/in.f32" --output "$tmp/ln/bad.f32" 2>&1)
  rc=$?
  case "$rc:$out" in
  "1:"*"tensor 'pick' holds 8 at element 1; its values index a dimension of size 8, so they must be in [0, 8)"*)
    ok "an index buffer out of range is rejected at load, by name" ;;
  *) ko "an index buffer out of range: rc=$rc, $out" ;;
  esac
else
  ko "could not write a safetensors file with a bad index"
fi

# 6b: a fused residual add (conv + bn + x -> relu) gives the same numbers with
# packed weights and with embedded ones (netc_conv2d_residual_f32), both when
# the residual is the net input and when it is an inner tensor that dies at
# the add, so that the conv writes its output over it (in place).
cat >"$tmp/res.net" <<'NET'
net res(x: [1, 8, 10, 10]) {
    y = x -> conv2d(8, 3, padding=1, bias=false) -> batchnorm2d -> relu -> conv2d(8, 3, padding=1) -> batchnorm2d;
    return y + x -> relu;
}
NET
cat >"$tmp/res_inplace.net" <<'NET'
net res_inplace(x: [1, 8, 10, 10]) {
    h = x -> conv2d(8, 3, padding=1) -> relu;
    y = h -> conv2d(8, 3, padding=1, bias=false) -> batchnorm2d -> relu -> conv2d(8, 3, padding=1) -> batchnorm2d;
    return y + h -> relu;
}
NET
for net in res res_inplace; do
  d=$tmp/$net
  mkdir -p "$d"
  if /usr/bin/python3 tools/netc_random.py --netc "$netc" "$tmp/$net.net" 5 "$d/w.safetensors" &&
    "$netc" "$tmp/$net.net" -o "$d/$net.c" --main --weights "$d/w.safetensors" &&
    grep -q "fused" "$d/$net.c" &&
    { [ $net = res ] || grep -Eq 'netc_conv2d_layer_f32\(&conv_[A-Za-z0-9_]+, W, packed, [^,]+, ([^,]+), \1, scratch' "$d/$net.c"; } &&
    cc -std=c99 -O2 -Iruntime "$d/$net.c" "$d/${net}_weights.c" $rt_srcs -lm -o "$d/$net" &&
    "$d/$net" --output "$d/embedded.f32" && "$d/$net" --weights "$d/w.safetensors" --output "$d/packed.f32" &&
    /usr/bin/python3 -c "
import sys, array
a = array.array('f', open(sys.argv[1], 'rb').read()); b = array.array('f', open(sys.argv[2], 'rb').read())
m = max(abs(x) for x in b)
sys.exit(0 if len(a) == len(b) == 800 and m > 0 and max(abs(x - y) for x, y in zip(a, b)) <= 1e-5 * m else 1)
" "$d/embedded.f32" "$d/packed.f32"; then
    ok "fused residual ($net): packed and embedded paths agree"
  else
    ko "fused residual ($net): packed and embedded paths differ (or the add was not fused / not in place)"
  fi
done

# 6c: names. Net inputs are called whatever the language allows -- here the
# generated code's own locals (mean, std, xs, W, m, arena, output, scratch, p),
# C keywords and macros (int, double, NULL), a parameter struct (conv_1) and
# the prefix's own names (forward, model) -- in a net called like the runner's
# statics. The generated C must compile warning-free and compute exactly what
# the same net with plain names computes (same seed, same weights).
names="mean std xs inner W m arena output output0 scratch p int double NULL conv_1 forward model"
mk_names_net() { # $1: net name, $2: "plain" for i0 i1 ... instead of the names
  i=0; params=""; sum=""
  for n in $names; do
    [ "$2" = plain ] && n=i$i
    params="$params${params:+, }$n: [1, 3, 5, 5]"
    case $i in
      0) first=$n ;;
      1) second=$n ;;
      *) sum="$sum + $n" ;;
    esac
    i=$((i + 1))
  done
  printf 'net %s(%s) {\n' "$1" "$params"
  printf '    a = %s -> normalize(mean=(0.5, 0.25, 0.125), std=(2.0, 4.0, 8.0));\n' "$first"
  printf '    b = concat(%s, a, dim=1) -> conv2d(3, 3, padding=1) -> relu;\n' "$second"
  printf '    return b%s, a;\n}\n' "$sum"
}
mkdir -p "$tmp/names"
mk_names_net runner names >"$tmp/names/runner.net"
mk_names_net plain plain >"$tmp/names/plain.net"
if "$netc" "$tmp/names/runner.net" -o "$tmp/names/runner.c" --main &&
  "$netc" "$tmp/names/plain.net" -o "$tmp/names/plain.c" --main &&
  cc $WARN -O1 -Iruntime "$tmp/names/runner.c" $rt_srcs -lm -o "$tmp/names/runner" &&
  cc $WARN -O1 -Iruntime "$tmp/names/plain.c" $rt_srcs -lm -o "$tmp/names/plain" &&
  "$tmp/names/runner" --seed 4 --output "$tmp/names/r0.f32" --output "$tmp/names/r1.f32" &&
  "$tmp/names/plain" --seed 4 --output "$tmp/names/p0.f32" --output "$tmp/names/p1.f32" &&
  cmp -s "$tmp/names/r0.f32" "$tmp/names/p0.f32" && cmp -s "$tmp/names/r1.f32" "$tmp/names/p1.f32"; then
  ok "inputs named like C keywords and the generated code's own names compute what plain names do"
else
  ko "inputs named like C keywords or generated names break the generated C"
fi
# ... and the names that cannot be made safe are refused, located, before
# anything is written: the runtime's netc_ prefix, a leading '_', and inputs
# that only differ in case (one header macro for both).
for case in "netc_model|x: [1, 4]|x|2:5" "NETC|x: [1, 4]|x|2:5" "_n|x: [1, 4]|x|2:5" "n|x: [1, 4], X: [1, 4]|x + X|2:18"; do
  net=${case%%|*}; rest=${case#*|}; params=${rest%%|*}; rest=${rest#*|}; body=${rest%|*}; where=${case##*|}
  printf '# names\nnet %s(%s) {\n    return %s -> relu;\n}\n' "$net" "$params" "$body" >"$tmp/names/bad.net"
  rm -f "$tmp/names/bad.c" "$tmp/names/bad.h"
  "$netc" -q "$tmp/names/bad.net" -o "$tmp/names/bad.c" 2>"$tmp/names/err"
  st=$?
  if [ $st -eq 1 ] && grep -q "bad.net:$where: error:" "$tmp/names/err" && [ ! -e "$tmp/names/bad.c" ] &&
    [ ! -e "$tmp/names/bad.h" ] && "$netc" -q --report "$tmp/names/bad.net" >/dev/null; then
    ok "net '$net' ($params): refused at $where for C, reported without -o"
  else
    ko "net '$net' ($params): status $st, expected an error at $where: $(cat "$tmp/names/err")"
  fi
done

# 6d: a net with no layers (it returns its input) is valid C99 too: no
# zero-size layer table. Its output is its input.
printf 'net ident(x: [2, 3]) {\n    return x;\n}\n' >"$tmp/names/ident.net"
if "$netc" -q "$tmp/names/ident.net" -o "$tmp/names/ident.c" --main &&
  cc $WARN -Iruntime "$tmp/names/ident.c" $rt_srcs -lm -o "$tmp/names/ident" &&
  head -c 24 /dev/urandom >"$tmp/names/ident.in" &&
  "$tmp/names/ident" --input "$tmp/names/ident.in" --output "$tmp/names/ident.out" &&
  cmp -s "$tmp/names/ident.in" "$tmp/names/ident.out"; then
  ok "a net without layers compiles under -Wpedantic -Werror and copies its input"
else
  ko "a net without layers: invalid C99 or wrong output"
fi

# 7: nothing lost. A good output, then a failing compile to the same path.
mkdir -p "$tmp/keep"
"$netc" models/lenet.net -o "$tmp/keep/lenet.c"
cp "$tmp/keep/lenet.c" "$tmp/keep/before.c"
printf 'net lenet(x: [1, 1, 28, 28]) { return x -> conv2d(6, 50); }\n' >"$tmp/bad.net"
"$netc" "$tmp/bad.net" -o "$tmp/keep/lenet.c" 2>/dev/null
st=$?
if [ $st -eq 1 ] && cmp -s "$tmp/keep/lenet.c" "$tmp/keep/before.c" && [ "$(ls "$tmp/keep" | wc -l)" -eq 3 ]; then
  ok "a failed compile keeps the old output and leaves no temporaries"
else
  ko "a failed compile changed the output directory (status $st): $(ls "$tmp/keep")"
fi
if "$netc" models/lenet.net -o "$tmp/no/such/dir/lenet.c" 2>"$tmp/err"; then
  ko "an unwritable output path was accepted"
elif grep -q "cannot write" "$tmp/err"; then
  ok "an unwritable output path is a clear error"
else
  ko "an unwritable output path: unclear message: $(cat "$tmp/err")"
fi

# 7b: the runner refuses missing, short and malformed files with a message.
r="$tmp/e/r"
head -c 100 /dev/zero >"$tmp/short.f32"
head -c 3136 /dev/zero >"$tmp/in.f32"
printf 'not a safetensors file' >"$tmp/bad.safetensors"
for args in "--input $tmp/none.f32" "--input $tmp/short.f32" "--weights $tmp/none.safetensors" \
  "--weights $tmp/bad.safetensors" "--input $tmp/in.f32 --bench x" "--input $tmp/in.f32 --bench -1" \
  "--input $tmp/in.f32 --threads -2" "--input $tmp/in.f32 --output /nonexistent-dir/out.f32" "--input"; do
  # shellcheck disable=SC2086
  "$r" $args >"$tmp/out" 2>"$tmp/err"
  st=$?
  # 1 or 2, with a message: a missing runner (127) or a crash is not a refusal.
  if { [ $st -eq 1 ] || [ $st -eq 2 ]; } && [ -s "$tmp/err" ]; then
    ok "runner refuses: $args (status $st: $(head -1 "$tmp/err" | cut -c1-70))"
  else
    ko "runner accepted or said nothing: $args (status $st)"
  fi
done

# 8: build budgets stop the build at the net, with nothing written.
mkdir -p "$tmp/budget"
if "$netc" models/resnet50.net -o "$tmp/budget/r.c" --max-arena 1000000 --max-macs 4000000000 2>"$tmp/err"; then
  ko "--max-arena / --max-macs: an over-budget net was accepted"
elif grep -q "resnet50.net:9:5: error: net 'resnet50' needs an arena total of 8,691,840 bytes (activations 5,218,304 + kernel scratch 3,473,536; the header's RESNET50_ARENA_BYTES), over the budget of 1,000,000 bytes set by --max-arena" "$tmp/err" &&
  grep -q "needs 4,089,184,256 multiply-accumulates, over the budget of 4,000,000,000" "$tmp/err" &&
  [ -z "$(ls "$tmp/budget")" ]; then
  ok "build budgets: located errors, exit 1, no output"
else
  ko "build budgets: $(cat "$tmp/err")"
fi
"$netc" models/lenet.net --max-weights 300000 --max-arena 1000000 >/dev/null 2>&1 &&
  ok "build budgets: a net within them passes" || ko "build budgets: lenet within its budgets was refused"
# 8a: the arena's three figures. The header's _ACTIVATION_BYTES and
# _SCRATCH_BYTES add up to _ARENA_BYTES, and all three are the report JSON's
# arena_activation_bytes, arena_scratch_bytes and arena_total_bytes; for
# LeNet built for a Cortex-M (--max-scratch 0 --max-arena 32KiB) the total
# is at most 32 KiB, and the build with scratch computes what the default
# build does.
arena_figures() { # model, netc flags... -> "act scratch total" from the header, then from the JSON
  m=$1
  shift
  json=$("$netc" "$m" "$@" --report=json) || return 1
  P=$(echo "$json" | /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['net'].upper())")
  "$netc" "$m" "$@" -o "$tmp/af.c" 2>/dev/null &&
    printf '#include "af.h"\n#include <stdio.h>\nint main(void) {\n  printf("%%lld %%lld %%lld\\n", (long long)%s_ACTIVATION_BYTES, (long long)%s_SCRATCH_BYTES, (long long)%s_ARENA_BYTES);\n  return 0;\n}\n' \
      "$P" "$P" "$P" >"$tmp/af_main.c" &&
    cc -std=c99 -I"$tmp" -Iruntime "$tmp/af_main.c" -o "$tmp/af_main" && "$tmp/af_main" &&
    echo "$json" | /usr/bin/python3 -c "
import json, sys
t = json.load(sys.stdin)['totals']
print(t['arena_activation_bytes'], t['arena_scratch_bytes'], t['arena_total_bytes'])"
}
for spec in "models/resnet50.net" "models/vgg11.net --max-scratch 1MiB" "models/lenet.net" \
  "models/lenet.net --max-scratch 0 --max-arena 32KiB"; do
  # shellcheck disable=SC2086
  if out=$(arena_figures $spec) && [ "$(echo "$out" | wc -l)" -eq 2 ] &&
    [ "$(echo "$out" | sed -n 1p)" = "$(echo "$out" | sed -n 2p)" ] &&
    echo "$out" | sed -n 1p | { read -r a s t && [ $((a + s)) -eq "$t" ] && [ "$t" -gt 0 ]; }; then
    ok "arena figures: header = report JSON, activations + scratch = total ($spec: $(echo "$out" | sed -n 1p))"
  else
    ko "arena figures of $spec: $out"
  fi
done
if out=$(arena_figures models/lenet.net --max-scratch 0 --max-arena 32KiB) &&
  echo "$out" | sed -n 2p | { read -r a s t && [ "$s" -eq 0 ] && [ "$t" -le 32768 ]; }; then
  ok "LeNet for a Cortex-M (--max-scratch 0 --max-arena 32KiB): arena total $(echo "$out" | sed -n 2p | cut -d' ' -f3) <= 32 KiB"
else
  ko "LeNet with --max-scratch 0 is over 32 KiB or has scratch: $out"
fi
"$netc" models/kws_m5.net -o "$tmp/ns.c" --main >/dev/null 2>&1 &&
  "$netc" models/kws_m5.net -o "$tmp/ns0.c" --main --max-scratch 0 >/dev/null 2>&1 &&
  grep -q "NETC_CONV_NO_SCRATCH" "$tmp/ns0.c" &&
  cc -std=c99 -O2 -Iruntime "$tmp/ns.c" $rt_srcs -lm -o "$tmp/ns" &&
  cc -std=c99 -O2 -Iruntime "$tmp/ns0.c" $rt_srcs -lm -o "$tmp/ns0" &&
  "$tmp/ns" --seed 5 --output "$tmp/ns.f32" && "$tmp/ns0" --seed 5 --output "$tmp/ns0.f32" &&
  /usr/bin/python3 -c "
import sys, numpy as np
a, b = (np.fromfile(f, dtype=np.float32) for f in sys.argv[1:3])
sys.exit(0 if a.size > 0 and a.size == b.size and np.abs(a - b).max() <= 1e-5 * max(1.0, np.abs(a).max()) else 1)
" "$tmp/ns.f32" "$tmp/ns0.f32" &&
  ok "--max-scratch 0: kws_m5 on the scratch-free kernels computes what the default build does" ||
  ko "--max-scratch 0: kws_m5 differs from the default build (or did not build)"
# --max-scratch with a layer no kernel fits: located, names the layer, exit 1, nothing written.
mkdir -p "$tmp/ms"
if "$netc" models/vit_b_16.net --max-scratch 64KiB -o "$tmp/ms/v.c" 2>"$tmp/err"; then
  ko "--max-scratch: a matmul over the budget was accepted"
elif [ $? -eq 1 ] && grep -q "transformer.net:18:11: error: layer 'encoder.layers.encoder_layer_0.self_attention.matmul' (matmul) needs 2,692,224 bytes of kernel scratch .* budget of 65,536 bytes set by --max-scratch" "$tmp/err" &&
  [ -z "$(ls "$tmp/ms")" ]; then
  ok "--max-scratch: a layer with no kernel that fits is a located error naming it, exit 1, no output"
else
  ko "--max-scratch: $(head -3 "$tmp/err")"
fi
# Size suffixes; a malformed size is bad usage (exit 2), like other option values.
"$netc" models/lenet.net --max-arena 22KiB -q 2>"$tmp/err"
st=$?
[ $st -eq 1 ] && grep -q "over the budget of 22,528 bytes set by --max-arena" "$tmp/err" &&
  "$netc" models/lenet.net --max-arena 29KB -q && "$netc" models/lenet.net --max-weights 1MiB --max-arena 0.1M -q 2>"$tmp/err"
st=$?
if [ $st -eq 2 ] && grep -q "^netc: --max-arena expects a size in bytes .* got '0.1M': a size is a whole number" "$tmp/err"; then
  ok "byte budgets take K/KiB/KB/M/MiB/MB suffixes; '0.1M' is bad usage (exit 2)"
else
  ko "byte budget suffixes (status $st): $(cat "$tmp/err")"
fi
badsz=""
for bad in -5 12Q 99999999999999999999 ''; do
  "$netc" models/lenet.net --max-scratch="$bad" -o "$tmp/ms/l.c" 2>"$tmp/err"
  st=$?
  [ $st -eq 2 ] && [ -z "$(ls "$tmp/ms")" ] && grep -q "^netc: --max-scratch expects a size in bytes" "$tmp/err" ||
    badsz="$badsz '$bad' (status $st: $(head -1 "$tmp/err"))"
done
[ -z "$badsz" ] && ok "malformed --max-scratch values: exit 2, nothing written" || ko "malformed --max-scratch:$badsz"
# 8b: -Werror stops the build on a warning; -w silences it.
printf 'net n(x: [1, 3, 8, 8], unused = 1) { return x -> relu; }\n' >"$tmp/warn.net"
if "$netc" -Werror "$tmp/warn.net" -o "$tmp/warn.c" 2>"$tmp/err"; then
  ko "-Werror: a warning did not stop the build"
elif grep -q "error: parameter 'unused' of net 'n' is never used \[-Werror=unused\]" "$tmp/err" && [ ! -f "$tmp/warn.c" ]; then
  ok "-Werror: a warning is an error and nothing is written"
else
  ko "-Werror: $(cat "$tmp/err")"
fi
"$netc" -w "$tmp/warn.net" -o "$tmp/warn.c" 2>"$tmp/err" && [ ! -s "$tmp/err" ] && ok "-w: silent" || ko "-w: $(cat "$tmp/err")"

# 9: the source size limit, before reading.
head -c 2000 /dev/zero | tr '\0' ' ' >"$tmp/big.net"
if "$netc" --max-source 1000 "$tmp/big.net" 2>"$tmp/err"; then
  ko "--max-source: an over-size file was read"
elif grep -q "larger than the limit of 1,000" "$tmp/err"; then
  ok "--max-source: a clear error"
else
  ko "--max-source: $(cat "$tmp/err")"
fi

# 10: a wrong -D is bad usage (status 2, as for a wrong option), its message
# shows only what was typed, and nothing is written.
mkdir -p "$tmp/defs"
for d in "classes=" "classes=(" "classes=1 2" "clases=3" "x=3" "classes"; do
  "$netc" -D "$d" models/lenet.net -o "$tmp/defs/l.c" >/dev/null 2>"$tmp/err"
  st=$?
  if [ $st -ne 2 ] || [ -n "$(ls "$tmp/defs")" ]; then
    ko "-D '$d': status $st (expected 2) or output written: $(head -3 "$tmp/err")"
  elif grep -q '^ *[0-9]* | *;$' "$tmp/err"; then
    ko "-D '$d': shows a source line the user never wrote: $(cat "$tmp/err")"
  else
    ok "-D '$d': bad usage, status 2: $(head -1 "$tmp/err" | cut -c1-70)"
  fi
done
"$netc" -D 'classes=(' models/lenet.net 2>&1 | grep -q "^-D classes:1:2: error: the value ends too early" &&
  ok "-D 'classes=(': an unfinished value is located at its end" || ko "-D 'classes=(': not located at the value's end"
"$netc" -D classes=7 models/lenet.net --report=json 2>/dev/null | grep -q '"shape": \[1, 7\]' &&
  ok "-D classes=7: the net's output has 7 classes" || ko "-D classes=7 was not applied"

# 11: NO_COLOR (no-color.org): set and not empty disables colour; set but
# empty does not. Colour needs a terminal, which script(1) provides.
if command -v script >/dev/null 2>&1; then
  for v in "" 1; do
    NO_COLOR=$v TERM=xterm script -qec "$netc $tmp/bad.net" /dev/null >"$tmp/tty" 2>&1
    if grep -q "$(printf '\033')\[" "$tmp/tty"; then c=yes; else c=no; fi
    want=no; [ -z "$v" ] && want=yes
    [ $c = $want ] && ok "NO_COLOR='$v': colour $c" || ko "NO_COLOR='$v': colour $c, expected $want"
  done
else
  ko "script(1) is missing (apt-get install bsdutils): cannot test colour on a terminal"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
