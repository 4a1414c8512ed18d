#!/bin/sh
# compile_speed.sh NETC -- how fast netc analyses a net (a benchmark, not a test).
#
# 1. resnet152.net: the median wall time of a full run (parse, elaborate, RF,
#    cost, memory plan, JSON report) over many runs, process start included.
# 2. generated nets of 10,000 / 30,000 / 100,000 layers written out statement by
#    statement (no loop), to show that time grows linearly with the layer count.
set -eu
netc=${1:?usage: compile_speed.sh NETC}
runs=${RUNS:-101}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now_ns() { date +%s%N; }

# median_ms RUNS CMD... : median wall time in milliseconds
median_ms() {
  n=$1
  shift
  i=0
  : >"$tmp/times"
  while [ $i -lt "$n" ]; do
    t0=$(now_ns)
    "$@" >/dev/null
    t1=$(now_ns)
    echo $((t1 - t0)) >>"$tmp/times"
    i=$((i + 1))
  done
  sort -n "$tmp/times" | awk -v n="$n" 'NR == int((n + 1) / 2) { printf "%.2f", $1 / 1e6 }'
}

t=$(median_ms "$runs" "$netc" --report=json models/resnet152.net)
layers=$("$netc" --report=json models/resnet152.net | grep -c '"op":')
echo "resnet152.net ($layers layers): median ${t} ms over $runs runs (whole process)"
t=$(median_ms "$runs" true)
echo "  (an empty process on this machine: ${t} ms)"

echo "generated chains (conv2d 3x3 + batchnorm2d + relu per 3 layers):"
for n in 10000 30000 100000; do
  awk -v n="$n" 'BEGIN {
    print "net chain(x: [1, 8, 16, 16]) {";
    for (i = 0; i < n / 3; i++) print "  x = x -> conv2d(8, 3, padding=1, bias=false) -> batchnorm2d -> relu;";
    print "  return x;"; print "}" }' >"$tmp/chain$n.net"
  t=$(median_ms 5 "$netc" --report=json "$tmp/chain$n.net")
  awk -v n="$n" -v t="$t" 'BEGIN { printf "  %6d layers: %8.1f ms  (%.2f us/layer)\n", n, t, t * 1000 / n }'
done
