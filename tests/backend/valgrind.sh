#!/bin/sh
# valgrind.sh NETC -- netc under valgrind on every model: analysis and code
# generation must run with no memory errors and no definitely lost bytes.
set -u
netc=${1:?usage: valgrind.sh NETC}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is missing (apt-get install valgrind)"; exit 1; }
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
for m in models/*.net; do
  n=$(basename "$m" .net)
  if $VG "$netc" --report=json "$m" >/dev/null 2>"$tmp/log" &&
    $VG "$netc" "$m" -o "$tmp/$n.c" --main 2>>"$tmp/log"; then
    echo "[PASS] valgrind: $n"
    pass=$((pass + 1))
  else
    echo "[FAIL] valgrind: $n"
    head -30 "$tmp/log"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
