#!/bin/sh
# run.sh NETC -- what `make bench` runs (a benchmark, never a pass/fail test of speed):
#   1. tests/bench/compile_speed.sh NETC   how fast netc itself analyses nets
#   2. tests/bench/bench.py --netc NETC    the generated code vs PyTorch eager / best mode,
#                                          and the runtime's GEMM vs OpenBLAS sgemm
# Extra arguments for bench.py come from BENCH_ARGS, e.g.
#   BENCH_ARGS="--models lenet,resnet50 --rounds 3" make bench
#   BENCH_ARGS=--quick make bench                         (a ~1 minute smoke run)
# SKIP_COMPILE_SPEED=1 skips step 1.
#
# Needs (Debian 12 packages): gcc (with libgomp1, for -fopenmp), libopenblas-dev, python3-torch,
# python3-torchvision, mawk or gawk. A missing one is named with its package; as root, like
# tools/need.sh, it is installed with apt-get, otherwise run.sh stops.
set -eu
netc=${1:?usage: run.sh NETC}
case $netc in /*) ;; *) netc=$PWD/$netc ;; esac
cd "$(dirname "$0")/../.."
CC=${CC:-cc}
PYTHON=${PYTHON:-/usr/bin/python3}
export CC

[ -x "$netc" ] || { echo "bench: $netc is not an executable netc (run make first)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {
  missing=""
  command -v "$CC" >/dev/null 2>&1 || missing="$missing gcc"
  command -v awk >/dev/null 2>&1 || missing="$missing mawk"
  if command -v "$CC" >/dev/null 2>&1; then
    printf 'int main(void){int n=0;\n#pragma omp parallel\n{n=1;}\nreturn !n;}\n' >"$tmp/omp.c"
    "$CC" -fopenmp "$tmp/omp.c" -o "$tmp/omp" >/dev/null 2>&1 || missing="$missing libgomp1"
    printf 'char *openblas_get_corename(void);\nint main(void){return !openblas_get_corename();}\n' >"$tmp/ob.c"
    "$CC" "$tmp/ob.c" -lopenblas -o "$tmp/ob" >/dev/null 2>&1 || missing="$missing libopenblas-dev"
  fi
  if [ -x "$PYTHON" ]; then
    "$PYTHON" -c 'import torch' >/dev/null 2>&1 || missing="$missing python3-torch"
    "$PYTHON" -c 'import torchvision' >/dev/null 2>&1 || missing="$missing python3-torchvision"
  else
    missing="$missing python3 python3-torch python3-torchvision"
  fi
}

check
if [ -n "$missing" ]; then
  echo "bench: missing Debian packages:$missing" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing them with apt-get (running as root)" >&2
    # shellcheck disable=SC2086
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2 || {
      echo "bench: apt-get install failed; install them with: apt-get install$missing" >&2
      exit 1
    }
    check
    [ -z "$missing" ] || { echo "bench: still missing after apt-get:$missing" >&2; exit 1; }
  else
    echo "bench: install them with: sudo apt-get install$missing" >&2
    exit 1
  fi
fi

if [ "${SKIP_COMPILE_SPEED:-0}" != 1 ]; then
  echo "== compiler speed (tests/bench/compile_speed.sh)"
  sh tests/bench/compile_speed.sh "$netc"
  echo
fi
echo "== generated code vs PyTorch, runtime GEMM vs OpenBLAS (tests/bench/bench.py)"
# shellcheck disable=SC2086
exec "$PYTHON" tests/bench/bench.py --netc "$netc" ${BENCH_ARGS:-}
