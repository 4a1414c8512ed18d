#!/bin/sh
# tests/quant/ranges_errors.sh -- bad ranges files for --quantize int8 and their golden diagnostics.
#
#   sh tests/quant/ranges_errors.sh NETC          e.g. sh tests/quant/ranges_errors.sh build/netc
#
# Every case compiles tests/quant/errors/tiny.net with
#   NETC --quantize int8 --ranges tests/quant/errors/NAME.json tests/quant/errors/tiny.net -o OUT/m.c
# from the repository root, where OUT holds a pre-existing m.c:
#   - NAME.err (a bad file): the exit status is exactly 1, stdout is empty, stderr is byte-for-byte
#     NAME.err, and OUT is untouched: m.c keeps its contents and nothing else appears (no m.h,
#     no temporary). The cases named no_file* have no NAME.json: the file does not exist.
#   - ok_*.json (a good file, no .err): exit status 0, nothing on stderr, m.c and m.h written.
# Then the usage errors of --quantize and --ranges: status 2 and their message.
#
# The fingerprint: a ranges file carries the net's fingerprint, which depends on netc's
# graph_fingerprint. The .json files say @FP@ where tiny.net's own belongs; this script asks
# netc for it (the mismatch error names it), substitutes it into copies of the cases, and
# writes @FP@ back in place of it in netc's stderr, so no golden depends on its value.
#
# UPDATE=1 sh tests/quant/ranges_errors.sh NETC rewrites every .err from netc's current stderr;
# read `git diff tests/quant/errors` before committing (tests/errors/README.md says why).
#
# Prints [PASS] NAME / [FAIL] NAME per case, then "N passed, N failed"; exits 1 on any failure.

if [ $# -ne 1 ]; then
    echo "usage: sh tests/quant/ranges_errors.sh NETC" >&2
    exit 2
fi

netc=$1
case $netc in
    /*) ;;
    */*) netc=$(pwd)/$netc ;;
    *) netc=$(command -v "$netc") || netc=$1 ;;
esac
if [ ! -x "$netc" ]; then
    echo "ranges_errors.sh: $1 is not an executable" >&2
    exit 2
fi

cd "$(dirname "$0")/../.." || exit 2
repo=$(pwd)
cases=tests/quant/errors

NO_COLOR=1
LC_ALL=C
export NO_COLOR LC_ALL

if command -v timeout >/dev/null 2>&1; then
    run_netc() { timeout 20 "$netc" "$@"; }
else
    run_netc() { "$netc" "$@"; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netc-ranges.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# tiny.net's fingerprint, from the error about a file that has another one.
mkdir -p "$tmp/work/$cases" "$tmp/probe"
sed 's/@FP@/0000000000000000/' "$cases/ok_minmax.json" >"$tmp/probe/r.json"
run_netc --quantize int8 --ranges "$tmp/probe/r.json" -q "$cases/tiny.net" 2>"$tmp/probe/err" >/dev/null
fp=$(sed -n "s/.*this net's is \([0-9a-f]\{16\}\).*/\1/p" "$tmp/probe/err" | head -n 1)
if [ -z "$fp" ]; then
    echo "ranges_errors.sh: netc did not name tiny.net's fingerprint:" >&2
    cat "$tmp/probe/err" >&2
    exit 1
fi

# The cases with the fingerprint filled in, at the same relative paths as in the repository,
# so that messages name tests/quant/errors/NAME.json.
cp "$cases"/*.net "$tmp/work/$cases/"
for j in "$cases"/*.json; do
    sed "s/@FP@/$fp/g" "$j" >"$tmp/work/$j"
done
cd "$tmp/work" || exit 2

pass=0
fail=0

# Runs one case; sets status and problems, leaves stderr in $tmp/err.
run_case() {
    out=$tmp/out.$1
    rm -rf "$out"
    mkdir -p "$out"
    echo "an older build" >"$out/m.c"
    run_netc --quantize int8 --ranges "$cases/$1.json" "$cases/tiny.net" -o "$out/m.c" >"$tmp/stdout" 2>"$tmp/raw"
    status=$?
    sed "s/$fp/@FP@/g" "$tmp/raw" >"$tmp/err"
    problems=
    if [ -s "$tmp/stdout" ]; then
        problems="$problems
  stdout is not empty:
$(sed -n '1,10s/^/    /p' "$tmp/stdout")"
    fi
}

for err in "$repo/$cases"/*.err; do
    [ -e "$err" ] || continue
    name=${err##*/}
    name=${name%.err}
    case $name in
        no_file*) ;;
        *) if [ ! -f "$cases/$name.json" ]; then
               fail=$((fail + 1)); echo "[FAIL] $name"; echo "  $cases/$name.err has no $name.json"; continue
           fi ;;
    esac
    run_case "$name"
    [ "$status" -eq 1 ] || problems="$problems
  exit status $status, expected 1"
    if [ "$(ls "$out")" != m.c ] || [ "$(cat "$out/m.c")" != "an older build" ]; then
        problems="$problems
  the output directory changed: $(ls "$out" | tr '\n' ' ')(m.c: $(head -c 40 "$out/m.c"))"
    fi
    if [ "${UPDATE:-0}" = 1 ]; then
        if ! cmp -s "$tmp/err" "$err"; then
            cp "$tmp/err" "$err"
            echo "[UPDATED] $name"
        fi
    elif ! cmp -s "$tmp/err" "$err"; then
        problems="$problems
  stderr differs from $cases/$name.err:
$(diff -u "$err" "$tmp/err" | sed "s|$tmp/err|actual stderr|")"
    fi
    if [ -z "$problems" ]; then
        pass=$((pass + 1)); echo "[PASS] $name"
    else
        fail=$((fail + 1)); echo "[FAIL] $name"; echo "  case: $cases/$name.json$problems"
    fi
done

for j in "$cases"/*.json; do
    name=${j##*/}
    name=${name%.json}
    case $name in
        ok_*) ;;
        *) [ -f "$repo/$cases/$name.err" ] || {
               fail=$((fail + 1)); echo "[FAIL] $name"; echo "  $j is neither ok_* nor has a $name.err"; }
           continue ;;
    esac
    run_case "$name"
    [ "$status" -eq 0 ] || problems="$problems
  exit status $status, expected 0"
    [ -s "$tmp/err" ] && problems="$problems
  stderr is not empty:
$(sed -n '1,20s/^/    /p' "$tmp/err")"
    if [ "$(cat "$out/m.c")" = "an older build" ] || [ ! -s "$out/m.h" ]; then
        problems="$problems
  m.c and m.h were not written"
    fi
    if [ -z "$problems" ]; then
        pass=$((pass + 1)); echo "[PASS] $name"
    else
        fail=$((fail + 1)); echo "[FAIL] $name"; echo "  case: $j$problems"
    fi
done

# Bad usage: status 2 and the message (the options themselves, before any file is read).
usage_case() {
    want=$1
    shift
    run_netc -q "$cases/tiny.net" "$@" >"$tmp/stdout" 2>"$tmp/err"
    status=$?
    if [ "$status" -eq 2 ] && grep -qF -- "$want" "$tmp/err" && [ ! -s "$tmp/stdout" ]; then
        pass=$((pass + 1)); echo "[PASS] usage: $*"
    else
        fail=$((fail + 1)); echo "[FAIL] usage: $*"
        echo "  exit status $status (expected 2), stderr (expected to contain: $want):"
        sed 's/^/    /' "$tmp/err"
    fi
}
usage_case "unknown quantization scheme 'int4' (netc has: int8)" --quantize int4 --ranges "$cases/ok_minmax.json"
usage_case "--quantize int8 needs --ranges FILE.json" --quantize int8
usage_case "--ranges goes with --quantize int8" --ranges "$cases/ok_minmax.json"
usage_case "option --ranges needs a value" --quantize int8 --ranges

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
