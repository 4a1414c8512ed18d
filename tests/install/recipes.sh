#!/bin/sh
# recipes.sh PREFIX WORK -- runs the build recipes of README.md and
# examples/minimal/README.md, as written there, against a netc installed with
# `make install PREFIX=PREFIX` (a non-default prefix: found through PATH and
# PKG_CONFIG_PATH only, as the README tells users); then the installed
# netc-export and netc-check, and the OpenMP runtime on two threads.
# mk/install.mk's check-install runs it from the source tree; scratch files go
# to WORK.
#
# A recipe is the fenced block that follows an HTML comment
# `<!-- check-install: NAME -->` in the Markdown file; a missing or empty block
# fails, so a recipe cannot quietly drop out of the test:
#   first-compile  README's first lines: netc, then cc with runtime/*.c (in a copy of the tree)
#   make-recipe    README's Makefile, building examples/minimal/app.c with lenet.net
#   cmake-recipe   README's CMakeLists.txt, the same program (Debian's cmake)
#   minimal        examples/minimal/README.md's three lines
# The programs run on random LeNet weights (tools/netc_random.py) and one
# random image; the class and score they print must be PyTorch's
# (tests/install/lenet_torch.py).
#
# CC and APP_CFLAGS come from the environment: a `cc` first on PATH runs
# ${CC:-cc} $APP_CFLAGS (the sanitizer flags a SANITIZE=1 library needs), so
# the recipes' own `cc`, make's $(CC), CMake and netc-check all use it.
set -eu
prefix=$1 work=$2
src=$(pwd)
PYTHON=/usr/bin/python3
fail() { echo "check-install (recipes): $*" >&2; exit 1; }

real_cc=$(command -v "${CC:-cc}") || fail "no C compiler ${CC:-cc}"
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$real_cc" "${APP_CFLAGS:-}" >"$work/bin/cc"
chmod +x "$work/bin/cc"
unset CC CFLAGS LDFLAGS LDLIBS MAKEFLAGS MFLAGS MAKELEVEL PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
PATH=$work/bin:$prefix/bin:$PATH
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PATH PKG_CONFIG_PATH
[ "$(command -v netc)" = "$prefix/bin/netc" ] || fail "netc on PATH is $(command -v netc), not $prefix/bin/netc"

# extract FILE NAME: the fenced block after <!-- check-install: NAME -->.
extract() {
  awk -v name="$2" '
    $0 == "<!-- check-install: " name " -->" { want = 1; next }
    want == 1 && /^```/ { want = 2; next }
    want == 1 && NF { exit }
    want == 2 && /^```/ { exit }
    want == 2 { print }' "$1" >"$3"
  [ -s "$3" ] || fail "$1 has no fenced block after <!-- check-install: $2 -->"
}

# Random weights and one image, and what PyTorch makes of them.
models=$prefix/share/netc/models
$PYTHON tools/netc_random.py --netc "$prefix/bin/netc" "$models/lenet.net" 5 "$work/lenet.safetensors" >/dev/null ||
  fail "tools/netc_random.py failed"
$PYTHON - "$work" <<'EOF' || fail "PyTorch could not compute the expected class"
import os, sys
import torch
sys.path[:0] = ['tools', 'tests/install']
from netc_check import read_safetensors
from lenet_torch import lenet
work = sys.argv[1]
torch.manual_seed(13)
x = torch.randn(1, 1, 28, 28)
with open(os.path.join(work, 'image.f32'), 'wb') as f:
    f.write(x.numpy().tobytes())
m = lenet().eval()
sd = read_safetensors(os.path.join(work, 'lenet.safetensors'))
m.load_state_dict(sd)
# The same weights as a state_dict, a DataParallel one and a checkpoint, for netc-export.
torch.save(sd, os.path.join(work, 'sd.pt'))
torch.save({'module.' + k: v for k, v in sd.items()}, os.path.join(work, 'dp.pt'))
torch.save({'model': sd, 'epoch': 3}, os.path.join(work, 'ckpt.pt'))
bad = dict(sd)
bad['7.weight'] = torch.zeros(120, 399)
torch.save(bad, os.path.join(work, 'bad.pt'))
with torch.no_grad():
    y = m(x).flatten()
k = int(y.argmax())
with open(os.path.join(work, 'expected'), 'w') as f:
    f.write(f'{k} {float(y[k])!r}\n')
EOF
read -r want_class want_score <"$work/expected"

# check_class WHAT OUTFILE: "class K (score S)" with PyTorch's K and S.
check_class() {
  line=$(cat "$2")
  got_class=$(echo "$line" | sed -n 's/^class \([0-9]*\) (score \(.*\))$/\1/p')
  got_score=$(echo "$line" | sed -n 's/^class \([0-9]*\) (score \(.*\))$/\2/p')
  [ -n "$got_class" ] || fail "$1 printed '$line', not 'class K (score S)'"
  [ "$got_class" = "$want_class" ] || fail "$1 says class $got_class, PyTorch $want_class"
  awk -v a="$got_score" -v b="$want_score" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b;
    exit !(d <= 1e-4 * (s > 1 ? s : 1)) }' || fail "$1's score $got_score differs from PyTorch's $want_score"
}

# --- examples/minimal/README.md ------------------------------------------------------
d=$work/minimal/examples/minimal
mkdir -p "$d" "$work/minimal/models"
cp models/lenet.net "$work/minimal/models/"
cp examples/minimal/app.c "$work/lenet.safetensors" "$work/image.f32" "$d/"
extract examples/minimal/README.md minimal "$work/minimal.sh"
(cd "$d" && sh -eu "$work/minimal.sh") >"$work/minimal.out" 2>"$work/minimal.err" ||
  { cat "$work/minimal.err" >&2; fail "examples/minimal/README.md's commands failed"; }
check_class "examples/minimal (its README's commands)" "$work/minimal.out"
if (cd "$d" && ./app missing.safetensors image.f32) >/dev/null 2>"$work/minimal.err"; then
  fail "examples/minimal/app succeeded with a missing weights file"
fi
grep -q "missing.safetensors" "$work/minimal.err" || fail "examples/minimal/app's error does not name the file"

# --- README: the Makefile ----------------------------------------------------------
d=$work/make
mkdir -p "$d"
extract README.md make-recipe "$d/Makefile"
cp examples/minimal/app.c models/lenet.net "$d/"
make -C "$d" app >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; fail "README's Makefile recipe failed"; }
grep -q -e "-O2 -I$prefix/include .*app\.c" "$work/make.log" ||
  { cat "$work/make.log" >&2; fail "README's Makefile does not compile with -O2 and pkg-config's -I$prefix/include"; }
grep -q "arena" "$work/make.log" || fail "README's Makefile: netc's report is not in the build log"
(cd "$d" && ./app "$work/lenet.safetensors" "$work/image.f32") >"$work/make.out" || fail "the Makefile-built app failed"
check_class "the app of README's Makefile" "$work/make.out"

# --- README: CMake -----------------------------------------------------------------
command -v cmake >/dev/null || fail "cmake is missing (apt-get install cmake)"
d=$work/cmake
mkdir -p "$d/src"
extract README.md cmake-recipe "$d/src/CMakeLists.txt"
cp examples/minimal/app.c models/lenet.net "$d/src/"
{ cmake -S "$d/src" -B "$d/build" && cmake --build "$d/build" -- VERBOSE=1; } >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log" >&2; fail "README's CMake recipe failed"; }
grep -q -e "-O3" "$work/cmake.log" || fail "README's CMake recipe builds without optimisation"
(cd "$d" && ./build/app "$work/lenet.safetensors" "$work/image.f32") >"$work/cmake.out" || fail "the CMake-built app failed"
check_class "the app of README's CMake recipe" "$work/cmake.out"

# --- README: the first lines, in a copy of the source tree ----------------------------------
d=$work/first
mkdir -p "$d/generated" "$d/runtime"
cp -r models "$d/"
cp runtime/*.c runtime/*.h "$d/runtime/"
sed 's/lenet/resnet50/g; s/LENET/RESNET50/g' examples/minimal/app.c >"$d/app.c"
extract README.md first-compile "$work/first.sh"
(cd "$d" && sh -eu "$work/first.sh") >"$work/first.log" 2>&1 ||
  { cat "$work/first.log" >&2; fail "README's first lines failed"; }
[ -x "$d/a.out" ] || fail "README's first lines made no a.out"
if "$d/a.out" "$d/none.safetensors" "$d/none.f32" 2>"$work/first.err"; then
  fail "README's first program succeeded without weights"
fi
grep -q "none.safetensors" "$work/first.err" || fail "README's first program: the load error does not name the file"

# --- netc-export, installed -----------------------------------------------------------
head -n 1 "$prefix/bin/netc-export" | grep -qx '#!/usr/bin/python3' || fail "netc-export's first line is not #!/usr/bin/python3"
# expect_fail WHAT PATTERN COMMAND...: exit status 1, PATTERN in the message, no traceback.
expect_fail() {
  what=$1 pattern=$2
  shift 2
  st=0
  "$@" >"$work/out" 2>"$work/err" || st=$?
  [ "$st" -ne 0 ] || fail "$what: succeeded"
  [ "$st" -eq 1 ] || { cat "$work/err" >&2; fail "$what: exit status $st, not 1"; }
  grep -q "Traceback" "$work/err" && { cat "$work/err" >&2; fail "$what: a Python traceback"; }
  grep -q -e "$pattern" "$work/err" || { cat "$work/err" >&2; fail "$what: the message lacks '$pattern'"; }
  return 0
}
cd "$work"
netc-export sd.pt a.safetensors --net-file "$models/lenet.net" >out || fail "netc-export of a state_dict failed"
grep -q "^netc-export: wrote a.safetensors: 10 tensors, 246,824 bytes of data, checked against net 'lenet' of " out ||
  fail "netc-export's summary: $(cat out)"
"$work/minimal/examples/minimal/app" a.safetensors image.f32 >a.out || fail "netc-export's file does not load"
check_class "examples/minimal/app on netc-export's file" a.out
expect_fail "netc-export of a DataParallel state_dict" "add --strip-prefix module\." \
  netc-export dp.pt b.safetensors --net-file "$models/lenet.net"
[ ! -e b.safetensors ] || fail "netc-export wrote a file despite mismatches"
netc-export dp.pt b.safetensors --strip-prefix module. --net-file "$models/lenet.net" >/dev/null ||
  fail "netc-export --strip-prefix module. failed"
expect_fail "netc-export of a checkpoint" "add --key model" netc-export ckpt.pt c.safetensors
netc-export ckpt.pt c.safetensors --key model --net-file "$models/lenet.net" >/dev/null || fail "netc-export --key model failed"
expect_fail "netc-export --netc with a wrong path" "cannot run netc as '/nonexistent/netc'" \
  netc-export sd.pt d.safetensors --net-file "$models/lenet.net" --netc /nonexistent/netc
expect_fail "netc-export of a missing file" "nosuch.pt: no such file" netc-export nosuch.pt d.safetensors
expect_fail "netc-export of a wrong shape" "7.weight: shape \[120, 399\] in the state_dict, \[120, 400\]" \
  netc-export bad.pt d.safetensors --net-file "$models/lenet.net"
expect_fail "netc-export of a net with imports, without -I" "resnet" \
  netc-export sd.pt d.safetensors --net-file "$models/resnet18.net"
netc-export --torchvision resnet18 r18.safetensors --net-file "$models/resnet18.net" -I "$prefix/share/netc" >out ||
  fail "netc-export -I $prefix/share/netc (an installed model importing the block library) failed"
grep -q "checked against net 'resnet18'" out || fail "netc-export -I: $(cat out)"
rm -f r18.safetensors

# --- netc-check, installed ------------------------------------------------------------
netc-check --net-file "$models/lenet.net" --weights lenet.safetensors --model "$src/tests/install/lenet_torch.py:lenet" \
  --inputs 3 >out 2>err || { cat out err >&2; fail "netc-check of LeNet against PyTorch failed"; }
grep -q "^netc-check: net 'lenet': 3 random input(s), max relative error .*: OK$" out || fail "netc-check said: $(cat out)"
if netc-check --net-file "$models/lenet.net" --weights lenet.safetensors \
     --model "$src/tests/install/lenet_torch.py:lenet_relu" --inputs 2 >out 2>err; then
  fail "netc-check passed a PyTorch model with other activations"
fi
grep -q "FAILED$" out || fail "netc-check did not say FAILED: $(cat out err)"

# --- threads: netcrt-omp runs two, netcrt says it cannot ----------------------------------
netc "$models/lenet.net" -o runner.c --main
# shellcheck disable=SC2046 # pkg-config's output is a list of options
cc -std=c99 -O2 runner.c $(pkg-config --cflags --libs netcrt-omp) -o runner-omp ||
  fail "a runner does not build against netcrt-omp ($(pkg-config --cflags --libs netcrt-omp))"
pkg-config --cflags netcrt-omp | grep -q -e -fopenmp || fail "netcrt-omp.pc's Cflags lack -fopenmp"
pkg-config --libs netcrt-omp | grep -q -e "-lnetcrt-omp.*-fopenmp" || fail "netcrt-omp.pc's Libs lack -lnetcrt-omp -fopenmp"
./runner-omp --weights lenet.safetensors --threads 2 --bench 3 >out 2>err || fail "the OpenMP runner failed"
grep -q "threads=2 " out || fail "the OpenMP runner with --threads 2 ran: $(cat out)"
grep -q "without OpenMP" err && fail "the OpenMP runner warns that it has no OpenMP"
# shellcheck disable=SC2046
cc -std=c99 -O2 runner.c $(pkg-config --cflags --libs netcrt) -o runner-plain
./runner-plain --weights lenet.safetensors --threads 2 --bench 3 >out 2>err || fail "the plain runner failed"
grep -q "threads=1 " out || fail "the plain runner with --threads 2 ran: $(cat out)"
grep -q "warning: --threads 2: this runtime was built without OpenMP, so the net runs on one thread" err ||
  fail "the plain runner does not warn that --threads 2 runs one thread: $(cat err)"
./runner-plain --weights lenet.safetensors >out 2>err || fail "the plain runner failed without --threads"
[ ! -s err ] || fail "the plain runner warns without --threads: $(cat err)"
cd "$src"

echo "check-install: README's first lines, Makefile and CMake recipes, examples/minimal, netc-export, netc-check" \
  "and netcrt-omp on 2 threads OK against PREFIX=$prefix"
