#!/bin/sh
# run.sh ROOT PREFIX WORK -- checks a netc installed with `make install
# DESTDIR=ROOT PREFIX=PREFIX` (mk/install.mk's check-install runs it).
#
# Every file is where netc.1 says; the installed netc compiles models/lenet.net
# and, with -I ROOT/PREFIX/share/netc, a net that imports the installed block
# library; tests/install/app.c builds against the staged runtime through
# pkg-config alone (the .pc says PREFIX, so PKG_CONFIG_SYSROOT_DIR=ROOT maps
# its -I and -L into the staging tree) and prints 10 finite floats; and man
# renders the installed page without warnings. Scratch files go to WORK.
# CC and APP_CFLAGS (e.g. the sanitizer flags the library was built with) come
# from the environment.
set -eu
root=$1 prefix=$2 work=$3
top=$root$prefix
fail() { echo "check-install: $*" >&2; exit 1; }

for f in bin/netc bin/netc-export bin/netc-check lib/libnetcrt.a lib/libnetcrt-omp.a include/netc_rt.h \
         lib/pkgconfig/netcrt.pc lib/pkgconfig/netcrt-omp.pc share/man/man1/netc.1 share/doc/netc/language.md; do
  [ -f "$top/$f" ] || fail "$prefix/$f was not installed"
done
for f in netc netc-export netc-check; do
  [ -x "$top/bin/$f" ] || fail "$prefix/bin/$f is not executable"
done
for f in models/lib/*.net; do
  cmp -s "$f" "$top/share/netc/lib/${f##*/}" || fail "$prefix/share/netc/lib/${f##*/} missing or different"
done
for f in models/*.net; do
  cmp -s "$f" "$top/share/netc/models/${f##*/}" || fail "$prefix/share/netc/models/${f##*/} missing or different"
done

# The installed compiler: generate C, and resolve imports from the installed library.
"$top/bin/netc" --version >/dev/null || fail "installed netc --version failed"
"$top/bin/netc" models/lenet.net -o "$work/lenet.c" || fail "installed netc could not compile models/lenet.net"
cp models/resnet18.net "$work/resnet18.net"   # imports "lib/resnet.net"
"$top/bin/netc" -I "$top/share/netc" --report=json "$work/resnet18.net" >/dev/null ||
  fail "installed netc could not import the installed block library (-I $prefix/share/netc)"
# Every installed model compiles from where it is installed, with -I for the block library.
for f in "$top"/share/netc/models/*.net; do
  "$top/bin/netc" -q -I "$top/share/netc" "$f" >/dev/null ||
    fail "installed netc cannot compile the installed ${f#"$root"} with -I $prefix/share/netc"
done

# A separate program, through pkg-config only.
PKG_CONFIG_PATH=$top/lib/pkgconfig
PKG_CONFIG_LIBDIR=$top/lib/pkgconfig   # nothing from the system's own .pc files
PKG_CONFIG_SYSROOT_DIR=$root
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1       # -I/usr/include is meaningful under a sysroot
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS \
  PKG_CONFIG_ALLOW_SYSTEM_LIBS
flags=$(pkg-config --cflags --libs netcrt) || fail "pkg-config does not find netcrt in $prefix/lib/pkgconfig"
case " $flags " in
*" -I$top/include "*"-L$top/lib "*"-lnetcrt "*"-lm "*) ;;
*) fail "pkg-config --cflags --libs netcrt gave '$flags'" ;;
esac
[ "$(pkg-config --modversion netcrt)" = "$("$top/bin/netc" --version | sed 's/^netc //')" ] ||
  fail "netcrt.pc's version differs from netc --version"
cp tests/install/app.c "$work/app.c"
# shellcheck disable=SC2086 # $flags and $APP_CFLAGS are lists of options
${CC:-cc} -std=c99 -O2 -Wall -Wextra -Werror ${APP_CFLAGS:-} -o "$work/app" "$work/app.c" "$work/lenet.c" $flags ||
  fail "tests/install/app.c does not build against the installed runtime ($flags)"
"$work/app" >"$work/app.out" || fail "the installed-runtime program failed"
n=$(wc -l <"$work/app.out")
[ "$n" -eq 10 ] || fail "expected 10 outputs, got $n"
# Finite, and not all the same (a dead net would print one value ten times).
[ "$(sort -u "$work/app.out" | wc -l)" -gt 1 ] || fail "the 10 outputs are all equal"
grep -qi -e nan -e inf "$work/app.out" && fail "non-finite output"

# The installed man page: renders, without warnings, and is found by name.
page=$top/share/man/man1/netc.1
MANWIDTH=80 man --warnings -l "$page" >"$work/man.txt" 2>"$work/man.err" || fail "man cannot render $prefix/share/man/man1/netc.1"
[ -s "$work/man.err" ] && { cat "$work/man.err" >&2; fail "man warns about the installed netc.1"; }
grep -q "NETC(1)" "$work/man.txt" || fail "the rendered man page has no NETC(1) header"
MANWIDTH=80 man -M "$top/share/man" netc 2>/dev/null | grep -q -- "--max-layers" ||
  fail "man -M $prefix/share/man netc does not find the page"

# Every function a generated header declares is in the page's GENERATED API, as PREFIX_name(.
MANWIDTH=250 man -l "$page" 2>/dev/null >"$work/man.wide.txt"
fns=$(sed -n 's/^[a-z][a-z_ ]* \**lenet_\([a-z_]*\)(.*/\1/p' "$work/lenet.h")
[ -n "$fns" ] || fail "no functions found in the generated lenet.h"
for fn in $fns; do
  grep -q "PREFIX_$fn(" "$work/man.wide.txt" || fail "lenet.h declares lenet_$fn but netc.1 has no PREFIX_$fn("
done

# Every option of the installed netc --help is documented in the installed page.
sed 's/\\-/-/g' "$page" >"$work/netc.1.plain"
opts=$("$top/bin/netc" --help | awk '/^  -/ { for (i = 1; i <= NF && $i ~ /^-/; i++) {
         o = $i; sub(/,$/, "", o); sub(/\[.*/, "", o); print o } }')
[ -n "$opts" ] || fail "no options found in netc --help"
for o in $opts; do
  grep -q -e "\(^\|[^-A-Za-z]\)$o\([^-A-Za-z]\|$\)" "$work/netc.1.plain" || fail "netc --help lists $o but netc.1 does not document it"
done

echo "check-install: $(tr '\n' ' ' <"$work/app.out")"
