#!/bin/sh
# check_cortex_m.sh DIR -- make check-cortex-m's test, on what targets/targets.mk built in DIR:
#   0. runtime/*.c, loaders and runner included, builds warning-free for the Cortex-M4,
#      and so does every model of generated/ as a device build (-DNETC_NO_STDIO);
#   1. the symbols: DIR/lenet.elf (the Cortex-M4 program) links no heap, no file I/O and no
#      printf family; and the check itself catches them in a runtime file built without
#      -DNETC_NO_STDIO, so it can fail;
#   2. the run: DIR/lenet.elf on QEMU's mps2-an386 (a timeout fails it), exit status 0;
#   3. the numbers: its logits against DIR/lenet_host's (the x86 build of the same C),
#      tests/targets/compare.py (max |a-b| / max |b| <= 1e-5 per image, same classes);
#   4. the sizes: flash (vectors, text, rodata, data's initial values) and RAM (data,
#      bss, stack) from the ELF's sections, and the stack the run actually touched.
# Environment (from targets.mk): CM4_CC, CM4_CFLAGS, CM4_QEMU, QEMU_TIMEOUT, PYTHON.
set -u
dir=$1
elf=$dir/lenet.elf
start=$(date +%s)
fail() { echo "check-cortex-m: FAILED: $*"; exit 1; }
. tests/targets/cortex_m_lib.sh

# 0. The whole runtime, loaders and runner included (no NETC_NO_STDIO), builds for the
#    Cortex-M4 with newlib, warning-free (the device program below has -Werror too).
desktop_flags=$(echo " $CM4_CFLAGS " | sed 's/ -DNETC_NO_STDIO / /')
for f in runtime/*.c; do
  # shellcheck disable=SC2086
  $CM4_CC $desktop_flags -fsyntax-only "$f" || fail "$f does not build warning-free for the Cortex-M4 (newlib)"
done
echo "check-cortex-m: runtime/*.c builds warning-free for the Cortex-M4 with newlib, with and without NETC_NO_STDIO"
# Every model's generated C too, as a device build (its loaders' tables and code guarded).
for f in generated/*.c; do
  # shellcheck disable=SC2086
  $CM4_CC $CM4_CFLAGS -Iruntime -Igenerated -fsyntax-only "$f" || fail "$f does not build with -DNETC_NO_STDIO"
done
echo "check-cortex-m: generated/*.c builds warning-free for the Cortex-M4 with -DNETC_NO_STDIO"

# 1. Symbols (bad_symbols: tests/targets/cortex_m_lib.sh).
found=$(bad_symbols "$elf")
[ -z "$found" ] || fail "$elf links $found(a device build must not: see NETC_NO_STDIO in runtime/netc_rt.h)"
# The same check on common.c built the desktop way must find vsnprintf, or it proves nothing.
# shellcheck disable=SC2086
$CM4_CC $desktop_flags -c runtime/common.c -o "$dir/common_stdio.o" \
  || fail "cannot build runtime/common.c for the symbol check's self-test"
found=$(bad_symbols "$dir/common_stdio.o")
case "$found" in *vsnprintf*) ;; *) fail "the symbol check missed vsnprintf in common.c built without NETC_NO_STDIO";; esac
echo "check-cortex-m: $elf links no heap, file I/O or printf family (nm; the check finds vsnprintf in a desktop build of common.c)"

# 2. The run.
run_device "$elf" "$dir/device.log" "$dir/lenet_host" "$dir/host.log"

# 3. The numbers.
sed -n 's/^image \([0-9]*\) .* pred \([0-9]*\) .*| \(.*\)/  device image \1: class \2, logits \3/p' "$dir/device.log"
$PYTHON tests/targets/compare.py logs "$dir/device.log" "$dir/host.log" || fail "the Cortex-M4 logits differ from x86's"

# 4. The sizes.
elf_sizes check-cortex-m "$elf" "$dir/device.log"
echo "check-cortex-m: passed ($(( $(date +%s) - start )) s)"
