#!/bin/sh
# need.sh GROUP -- checks that the tools a make target needs are installed.
# Names the Debian packages that provide missing ones, and installs them with
# apt-get when run as root (CI and fresh machines); otherwise fails clearly.
set -u
group=${1:-all}
missing=""
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_py() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1 || missing="$missing $2"; }

case "$group" in
build) need_cmd flex flex; need_cmd bison bison; need_cmd cc gcc ;;
check) need_cmd pkg-config pkg-config; pkg-config --exists check 2>/dev/null || missing="$missing check" ;;
docs)  need_cmd dot graphviz ;;
docs-examples) [ -x /usr/bin/python3 ] || missing="$missing python3"; need_cmd jq jq ;;
install) need_cmd cc gcc; need_cmd pkg-config pkg-config; need_cmd man man-db; need_cmd groff groff-base
         need_cmd cmake cmake; need_cmd make make; [ -x /usr/bin/python3 ] || missing="$missing python3"
         need_py torch python3-torch; need_py torchvision python3-torchvision ;;
torch) [ -x /usr/bin/python3 ] || missing="$missing python3"
       need_py torch python3-torch; need_py torchvision python3-torchvision ;;
diff)  [ -x /usr/bin/python3 ] || missing="$missing python3"
       need_py torch python3-torch; need_py numpy python3-numpy; need_cmd cc gcc; need_cmd ar binutils ;;
cortex-m) need_cmd arm-none-eabi-gcc gcc-arm-none-eabi; need_cmd qemu-system-arm qemu-system-arm
       [ -f /usr/lib/arm-none-eabi/newlib/libc_nano.a ] || missing="$missing libnewlib-arm-none-eabi" ;;
aarch64) need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu; need_cmd qemu-aarch64 qemu-user
       [ -f /usr/aarch64-linux-gnu/lib/libc.a ] || missing="$missing libc6-dev-arm64-cross" ;;
all)   [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || missing="$missing dataset-fashion-mnist"
       need_cmd flex flex; need_cmd bison bison; need_cmd cc gcc; need_cmd pkg-config pkg-config
       pkg-config --exists check 2>/dev/null || missing="$missing check"
       need_py torch python3-torch; need_py torchvision python3-torchvision
       need_cmd dot graphviz; need_cmd man man-db; need_cmd groff groff-base; need_cmd jq jq; need_cmd cmake cmake
       need_cmd arm-none-eabi-gcc gcc-arm-none-eabi; need_cmd qemu-system-arm qemu-system-arm
       [ -f /usr/lib/arm-none-eabi/newlib/libc_nano.a ] || missing="$missing libnewlib-arm-none-eabi"
       need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu; need_cmd qemu-aarch64 qemu-user
       [ -f /usr/aarch64-linux-gnu/lib/libc.a ] || missing="$missing libc6-dev-arm64-cross" ;;
*) echo "need.sh: unknown group $group" >&2; exit 2 ;;
esac

[ -z "$missing" ] && exit 0
echo "netc: missing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "netc: installing them with apt-get (running as root)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2 && exit 0
  echo "netc: apt-get install failed" >&2
  exit 1
fi
echo "netc: install them with: sudo apt-get install$missing" >&2
exit 1
