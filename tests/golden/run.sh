#!/bin/sh
# run.sh NETC -- golden reports for every model in models/.
#
#   tests/golden/NAME.txt        netc --report (text) of models/NAME.net
#   tests/golden/torch/NAME.txt  the seed's PyTorch-printed table for lenet, alexnet
#                                and vgg11, compared with netc --report=torch
#
# The text goldens are regression files: their numbers are checked against
# PyTorch by tests/parity/check_shapes.py, and the torch tables were copied
# from the seed's notes, not from netc. After a deliberate change of the report
# format, regenerate the text goldens with UPDATE=1 and review the diff.
set -u
netc=${1:?usage: run.sh NETC}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, expected file, command...
  cname=$1 cwant=$2
  shift 2
  if ! "$@" >"$tmp/out" 2>"$tmp/err"; then
    echo "[FAIL] $cname: exit status $? ($(head -c 300 "$tmp/err"))"
    fail=$((fail + 1))
    return
  fi
  if [ -n "${UPDATE:-}" ] && [ "${cwant#tests/golden/torch/}" = "$cwant" ]; then
    cp "$tmp/out" "$cwant"
  fi
  if [ ! -f "$cwant" ]; then
    echo "[FAIL] $cname: missing golden file $cwant (UPDATE=1 creates it)"
    fail=$((fail + 1))
  elif diff -u "$cwant" "$tmp/out" >"$tmp/diff"; then
    echo "[PASS] $cname"
    pass=$((pass + 1))
  else
    echo "[FAIL] $cname"
    head -40 "$tmp/diff"
    fail=$((fail + 1))
  fi
}

for model in models/*.net; do
  name=$(basename "$model" .net)
  check "report $name" "tests/golden/$name.txt" "$netc" --report "$model"
  if [ -f "tests/golden/torch/$name.txt" ]; then
    check "torch-style $name (seed table)" "tests/golden/torch/$name.txt" "$netc" --report=torch "$model"
  fi
done
# Collapsed blocks (--depth) and several nets in one file.
check "report resnet50 --depth 1" tests/golden/resnet50.depth1.txt "$netc" --report --depth 1 models/resnet50.net

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
