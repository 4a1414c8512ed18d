#!/bin/sh
# check_cortex_m_int8.sh QDIR FDIR -- make check-cortex-m-int8's test, on what targets/targets.mk
# built: the trained Fashion LeNet (examples/fashion/lenet_fashion.net) as int8 in QDIR and as
# float in FDIR, each lenet_fashion.elf (targets/cortex-m4/main.c -DDEVICE_LENET_FASHION, the
# weights embedded with netc --weights, -DNETC_NO_STDIO) and lenet_fashion_host (the same C on x86):
#   1. the symbols: QDIR/lenet_fashion.elf links no heap, no file I/O, no printf family, no exit
#      (the list of tests/targets/cortex_m_lib.sh, as for check-cortex-m);
#   2. the runs: both ELFs on QEMU's mps2-an386, exit status 0, and their x86 builds;
#   3. the numbers: the int8 logits bit-identical to x86's (compare.py --exact: the int8 kernels
#      are integer, and quantize / dequantize are single IEEE operations with no contraction
#      under -std=c99), the float ones within 1e-5; the classes against the labels;
#   4. the sizes: flash and RAM of the int8 ELF beside the float one's.
# Environment (from targets.mk): CM4_CC, CM4_QEMU, QEMU_TIMEOUT, PYTHON.
set -u
qdir=$1 fdir=$2
start=$(date +%s)
fail() { echo "check-cortex-m-int8: FAILED: $*"; exit 1; }
. tests/targets/cortex_m_lib.sh

# 1. Symbols.
for d in "$qdir" "$fdir"; do
  found=$(bad_symbols "$d/lenet_fashion.elf")
  [ -z "$found" ] || fail "$d/lenet_fashion.elf links $found(a device build must not: see NETC_NO_STDIO in runtime/netc_rt.h)"
done
grep -q '^#define LENET_FASHION_INT8 1' "$qdir/lenet_fashion.h" || fail "$qdir/lenet_fashion.h is not an int8 build"
echo "check-cortex-m-int8: $qdir/lenet_fashion.elf (int8) and $fdir/lenet_fashion.elf (float) link no heap, file I/O or printf family (nm)"

# 2. The runs.
for d in "$qdir" "$fdir"; do
  run_device "$d/lenet_fashion.elf" "$d/device.log" "$d/lenet_fashion_host" "$d/host.log"
done

# 3. The numbers.
labels=$(sed -n 's/^image [0-9]* index [0-9]* label \([0-9]*\) .*/\1/p' "$qdir/device.log" | tr '\n' ' ')
qpred=$(sed -n 's/^image .* pred \([0-9]*\) .*/\1/p' "$qdir/device.log" | tr '\n' ' ')
fpred=$(sed -n 's/^image .* pred \([0-9]*\) .*/\1/p' "$fdir/device.log" | tr '\n' ' ')
echo "check-cortex-m-int8: the first 8 Fashion-MNIST test images on the Cortex-M4"
echo "  labels             $labels"
echo "  int8 predictions   $qpred($(sed -n 's/^correct //p' "$qdir/device.log") correct)"
echo "  float predictions  $fpred($(sed -n 's/^correct //p' "$fdir/device.log") correct)"
sed -n 's/^image \([0-9]*\) .* pred \([0-9]*\) .*| \(.*\)/  int8 image \1: class \2, logits \3/p' "$qdir/device.log"
echo "  int8 (Cortex-M4 vs x86, bit for bit):"
$PYTHON tests/targets/compare.py logs --exact "$qdir/device.log" "$qdir/host.log" \
  || fail "the int8 Cortex-M4 logits are not bit-identical to x86's"
echo "  float (Cortex-M4 vs x86, max |a-b| / max |b| <= 1e-5):"
$PYTHON tests/targets/compare.py logs "$fdir/device.log" "$fdir/host.log" \
  || fail "the float Cortex-M4 logits differ from x86's"

# 4. The sizes.
elf_sizes "check-cortex-m-int8: int8 " "$qdir/lenet_fashion.elf" "$qdir/device.log"
elf_sizes "check-cortex-m-int8: float" "$fdir/lenet_fashion.elf" "$fdir/device.log"
echo "check-cortex-m-int8: passed ($(( $(date +%s) - start )) s)"
