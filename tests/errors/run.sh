#!/bin/sh
# tests/errors/run.sh -- the catalogue of malformed programs and their golden diagnostics.
#
#   sh tests/errors/run.sh NETC          e.g. sh tests/errors/run.sh build/netc
#
# For every tests/errors/NAME.net (helper files live in tests/errors/inc/ and are not cases)
# it runs `NETC --report tests/errors/NAME.net` from the repository root and checks that
#   - the exit status is exactly 1 (input error: not 0, not 2, not a crash),
#   - nothing is written to stdout,
#   - stderr is byte-for-byte tests/errors/NAME.err (shown with diff -u when not).
# A .net without a .err, or a .err without a .net, is a failure.
#
# UPDATE=1 sh tests/errors/run.sh NETC rewrites every .err from netc's current stderr.
# Use it only for a deliberate change of wording or format, and read `git diff tests/errors`
# before committing: a golden file must hold the diagnostic netc *should* print. The exit
# status and stdout checks still apply in UPDATE mode, so a crash is never blessed.
#
# Prints [PASS] NAME / [FAIL] NAME per case, then "N passed, N failed"; exits 1 on any failure.

if [ $# -ne 1 ]; then
    echo "usage: sh tests/errors/run.sh NETC" >&2
    exit 2
fi

netc=$1
case $netc in
    /*) ;;
    */*) netc=$(pwd)/$netc ;;
    *) netc=$(command -v "$netc") || netc=$1 ;;
esac
if [ ! -x "$netc" ]; then
    echo "run.sh: $1 is not an executable" >&2
    exit 2
fi

# Messages name files as tests/errors/NAME.net, so run from the repository root.
cd "$(dirname "$0")/../.." || exit 2

# Plain, reproducible diagnostics: no colour, C locale.
NO_COLOR=1
LC_ALL=C
export NO_COLOR LC_ALL

# A hung netc must not hang the suite.
if command -v timeout >/dev/null 2>&1; then
    run_netc() { timeout 20 "$netc" "$@"; }
else
    run_netc() { "$netc" "$@"; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netc-errors.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

for net in tests/errors/*.net; do
    [ -e "$net" ] || continue
    name=${net#tests/errors/}
    name=${name%.net}
    err=tests/errors/$name.err
    problems=

    run_netc --report "$net" >"$tmp/out" 2>"$tmp/err"
    status=$?

    if [ "$status" -ne 1 ]; then
        problems="$problems
  exit status $status, expected 1"
    fi
    if [ -s "$tmp/out" ]; then
        problems="$problems
  stdout is not empty:
$(sed -n '1,10s/^/    /p' "$tmp/out")"
    fi
    if [ "${UPDATE:-0}" = 1 ]; then
        if ! cmp -s "$tmp/err" "$err" 2>/dev/null; then
            cp "$tmp/err" "$err"
            echo "[UPDATED] $name"
        fi
    elif [ ! -f "$err" ]; then
        problems="$problems
  no golden file $err (write the expected diagnostic there)"
    elif ! cmp -s "$tmp/err" "$err"; then
        problems="$problems
  stderr differs from $err:
$(diff -u "$err" "$tmp/err" | sed "s|$tmp/err|actual stderr|")"
    fi

    if [ -z "$problems" ]; then
        pass=$((pass + 1))
        echo "[PASS] $name"
    else
        fail=$((fail + 1))
        echo "[FAIL] $name"
        echo "  command: $1 --report $net$problems"
    fi
done

# A golden file whose case was renamed or deleted is a mistake too.
for err in tests/errors/*.err; do
    [ -e "$err" ] || continue
    if [ ! -f "${err%.err}.net" ]; then
        name=${err#tests/errors/}
        name=${name%.err}
        fail=$((fail + 1))
        echo "[FAIL] $name"
        echo "  $err has no ${err%.err}.net"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
