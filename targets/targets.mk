# targets/targets.mk -- the generated C cross-compiled and run under QEMU
# (README.md, "Cross-compiling"; targets/cortex-m4/README.md).
#
# Included from the top-level Makefile (which builds $(B)/netc and $(B)/libnetcrt.a):
#
#   make check-cortex-m   LeNet (models/lenet.net, weights embedded with --weights) for a
#                         Cortex-M4F with arm-none-eabi-gcc + newlib, booted on QEMU's
#                         mps2-an386; its logits on a few Fashion-MNIST test images against
#                         the x86 build's; no heap, file I/O or printf linked (nm); flash/RAM
#   make check-aarch64    ResNet-18, MobileNetV2 and LeNet for aarch64 (static, -O2, NEON),
#                         run under qemu-aarch64, outputs against the x86 build's
#   make check-cortex-m-int8
#                         the trained Fashion LeNet (examples/fashion) as int8 (netc --quantize
#                         int8, calibrated on the host with examples/fashion's ranges, int8
#                         weights embedded) on the same QEMU board: logits bit-identical to the
#                         x86 build's, the same nm test, flash/RAM beside the float build's
#   make check-aarch64-int8
#                         int8 runners of lenet_fashion and ResNet-18 (random weights, ranges
#                         from a few random inputs) and the int8 device main under qemu-aarch64:
#                         outputs bit-identical to x86's (portable C kernels vs AVX-512 VNNI)
#
# The float checks compare with tests/targets/compare.py: per output tensor,
# max |a - b| / max(max |b|, 1e-12) <= 1e-5, b the x86 result; the int8 ones with --exact.
# Tools: tools/need.sh cortex-m and aarch64 name (and as root install) the Debian packages.

TARGETS_PREV_GOAL := $(.DEFAULT_GOAL)

TGT          = $(B)/targets
QEMU_TIMEOUT = 300

# ---- Cortex-M4F (QEMU mps2-an386) ------------------------------------------------

CM4          = $(TGT)/cortex-m4
CM4_SRC      = targets/cortex-m4
CM4_WEIGHTS  = $(TGT)/lenet.safetensors
# Every netc flag of the device build, in one place (add e.g. --max-scratch N or --self-test here).
CM4_NETC_FLAGS = --weights $(CM4_WEIGHTS) --self-test --max-scratch 0 --max-arena 32KiB
CM4_CC       = arm-none-eabi-gcc
CM4_CFLAGS   = -std=c99 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 -g \
               -ffunction-sections -fdata-sections -DNETC_NO_STDIO -DNDEBUG -Wall -Wextra -Wpedantic -Werror
CM4_LDFLAGS  = -nostartfiles --specs=nano.specs -T $(CM4_SRC)/mps2_an386.ld -Wl,--gc-sections
CM4_IMAGES   = 8
CM4_QEMU     = qemu-system-arm -machine mps2-an386 -nographic -semihosting-config enable=on,target=native

# Random weights (seed 1): the recipe of PREFIX_init_random, written by tools/netc_random.py.
$(CM4_WEIGHTS): models/lenet.net $(B)/netc
	@sh tools/need.sh torch
	@mkdir -p $(@D)
	$(PYTHON) tools/netc_random.py --netc $(B)/netc models/lenet.net 1 $@

# Rebuilt when CM4_NETC_FLAGS changes.
$(CM4)/netc-flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CM4_NETC_FLAGS)' | cmp -s - $@ || echo '$(CM4_NETC_FLAGS)' > $@

$(CM4)/lenet.c $(CM4)/lenet.h $(CM4)/lenet_weights.c &: models/lenet.net $(B)/netc $(CM4_WEIGHTS) $(CM4)/netc-flags
	$(B)/netc models/lenet.net $(CM4_NETC_FLAGS) -o $(CM4)/lenet.c

$(CM4)/fashion_images.h: tests/targets/fashion_images.py | fashion-data
	@mkdir -p $(@D)
	$(PYTHON) tests/targets/fashion_images.py --data $(FASHION_DATA) --count $(CM4_IMAGES) --out $@

CM4_DEPS = $(CM4_SRC)/main.c $(CM4_SRC)/device.h $(CM4)/lenet.c $(CM4)/lenet.h $(CM4)/lenet_weights.c \
           $(CM4)/fashion_images.h

$(CM4)/lenet.elf: $(CM4_DEPS) $(CM4_SRC)/startup.c $(CM4_SRC)/semihost.c $(CM4_SRC)/mps2_an386.ld \
                  $(RUNTIME_SRCS) $(RUNTIME_HDRS)
	@sh tools/need.sh cortex-m
	$(CM4_CC) $(CM4_CFLAGS) -Iruntime -I$(CM4) -I$(CM4_SRC) $(CM4_LDFLAGS) -o $@ \
	  $(CM4_SRC)/main.c $(CM4_SRC)/startup.c $(CM4_SRC)/semihost.c $(CM4)/lenet.c $(CM4)/lenet_weights.c runtime/*.c -lm

# The same main.c and generated C for this machine, with the desktop runtime (libnetcrt.a).
$(CM4)/lenet_host: $(CM4_DEPS) $(CM4_SRC)/host.c $(B)/libnetcrt.a
	$(CC) -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror $(SAN) -Iruntime -I$(CM4) -I$(CM4_SRC) -o $@ \
	  $(CM4_SRC)/main.c $(CM4_SRC)/host.c $(CM4)/lenet.c $(CM4)/lenet_weights.c $(B)/libnetcrt.a -lm

check-cortex-m: $(CM4)/lenet.elf $(CM4)/lenet_host
	@CM4_CC="$(CM4_CC)" CM4_CFLAGS="$(CM4_CFLAGS)" CM4_QEMU="$(CM4_QEMU)" QEMU_TIMEOUT=$(QEMU_TIMEOUT) \
	  PYTHON=$(PYTHON) sh tests/targets/check_cortex_m.sh $(CM4)
	@$(PYTHON) tests/targets/check_readme_commands.py --make "$(MAKE)"

# ---- int8 on the Cortex-M4F: the trained Fashion LeNet -----------------------------
# The same main.c (-DDEVICE_LENET_FASHION: lenet_fashion.h) and board files, the float
# build of the same net beside it for the sizes: $(CM4)/fashion-int8 and $(CM4)/fashion-float.
# The ranges are examples/fashion's (fashion.mk: 1,000 training images through the float
# runner's --calibrate). No --self-test: netc refuses it with --quantize.

CM4_FASHION_NET        = $(FASHION_SRC)/lenet_fashion.net
# The float build as check-cortex-m's (no --self-test: the sizes compare the two nets alone);
# the int8 build cannot take --max-scratch 0 (its convolutions use an im2col buffer).
CM4_FASHION_NETC_float = --weights $(FASHION_WEIGHTS) --max-scratch 0 --max-arena 32KiB
CM4_FASHION_NETC_int8  = --quantize int8 --ranges $(FASHION_Q)/ranges.json --weights $(FASHION_WEIGHTS) --max-arena 32KiB

$(CM4)/fashion-%/netc-flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CM4_FASHION_NETC_$*)' | cmp -s - $@ || echo '$(CM4_FASHION_NETC_$*)' > $@

$(CM4)/fashion-%/lenet_fashion.c $(CM4)/fashion-%/lenet_fashion.h $(CM4)/fashion-%/lenet_fashion_weights.c: \
    $(CM4_FASHION_NET) $(B)/netc $(FASHION_WEIGHTS) $(CM4)/fashion-%/netc-flags
	$(B)/netc $(CM4_FASHION_NET) $(CM4_FASHION_NETC_$*) -o $(@D)/lenet_fashion.c
$(CM4)/fashion-int8/lenet_fashion.c: $(FASHION_Q)/ranges.json

CM4_FASHION_DEPS = $(CM4_SRC)/main.c $(CM4_SRC)/device.h $(CM4)/fashion_images.h

$(CM4)/fashion-%/lenet_fashion.elf: $(CM4)/fashion-%/lenet_fashion.c $(CM4)/fashion-%/lenet_fashion.h \
    $(CM4)/fashion-%/lenet_fashion_weights.c $(CM4_FASHION_DEPS) $(CM4_SRC)/startup.c $(CM4_SRC)/semihost.c \
    $(CM4_SRC)/mps2_an386.ld $(RUNTIME_SRCS) $(RUNTIME_HDRS)
	@sh tools/need.sh cortex-m
	$(CM4_CC) $(CM4_CFLAGS) -DDEVICE_LENET_FASHION -Iruntime -I$(@D) -I$(CM4) -I$(CM4_SRC) $(CM4_LDFLAGS) -o $@ \
	  $(CM4_SRC)/main.c $(CM4_SRC)/startup.c $(CM4_SRC)/semihost.c $(@D)/lenet_fashion.c $(@D)/lenet_fashion_weights.c runtime/*.c -lm

$(CM4)/fashion-%/lenet_fashion_host: $(CM4)/fashion-%/lenet_fashion.c $(CM4)/fashion-%/lenet_fashion.h \
    $(CM4)/fashion-%/lenet_fashion_weights.c $(CM4_FASHION_DEPS) $(CM4_SRC)/host.c $(B)/libnetcrt.a
	$(CC) -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror $(SAN) -DDEVICE_LENET_FASHION -Iruntime -I$(@D) -I$(CM4) -I$(CM4_SRC) -o $@ \
	  $(CM4_SRC)/main.c $(CM4_SRC)/host.c $(@D)/lenet_fashion.c $(@D)/lenet_fashion_weights.c $(B)/libnetcrt.a -lm

CM4_FASHION_BUILDS = $(foreach q,int8 float,$(CM4)/fashion-$(q)/lenet_fashion.elf $(CM4)/fashion-$(q)/lenet_fashion_host)

check-cortex-m-int8: $(CM4_FASHION_BUILDS)
	@CM4_CC="$(CM4_CC)" CM4_QEMU="$(CM4_QEMU)" QEMU_TIMEOUT=$(QEMU_TIMEOUT) \
	  PYTHON=$(PYTHON) sh tests/targets/check_cortex_m_int8.sh $(CM4)/fashion-int8 $(CM4)/fashion-float

# ---- aarch64 (qemu-aarch64) -------------------------------------------------------

A64          = $(TGT)/aarch64
A64_MODELS   = resnet18 mobilenet_v2 lenet
A64_NETC_FLAGS = --main
A64_CC       = aarch64-linux-gnu-gcc
A64_CFLAGS   = -std=c99 -O2 -march=armv8-a -Wall -Wextra -Wpedantic -Werror
A64_LDFLAGS  = -static
A64_RT_OBJS  = $(RUNTIME_SRCS:runtime/%.c=$(A64)/rt/%.o)

$(A64)/rt/%.o: runtime/%.c $(RUNTIME_HDRS)
	@sh tools/need.sh aarch64
	@mkdir -p $(@D)
	$(A64_CC) $(A64_CFLAGS) -c $< -o $@

$(A64)/libnetcrt.a: $(A64_RT_OBJS)
	rm -f $@
	aarch64-linux-gnu-ar rcs $@ $^

$(A64)/%.safetensors: models/%.net $(B)/netc
	@sh tools/need.sh torch
	@mkdir -p $(@D)
	$(PYTHON) tools/netc_random.py --netc $(B)/netc $< 1 $@

$(A64)/%.c: models/%.net $(wildcard models/lib/*.net) $(B)/netc
	@mkdir -p $(@D)
	$(B)/netc $< $(A64_NETC_FLAGS) -o $@

$(A64)/%.arm64: $(A64)/%.c $(A64)/libnetcrt.a
	$(A64_CC) $(A64_CFLAGS) $(A64_LDFLAGS) -Iruntime -o $@ $< $(A64)/libnetcrt.a -lm

$(A64)/%.x86: $(A64)/%.c $(B)/libnetcrt.a
	$(CC) -std=c99 -O2 $(SAN) -Iruntime -o $@ $< $(B)/libnetcrt.a -lm

# targets/cortex-m4/main.c (LeNet with embedded weights, the Fashion-MNIST images) for aarch64,
# with the desktop runtime: compared with its x86 build; it calls lenet_self_test when there is one.
$(A64)/lenet_device.arm64: $(CM4_DEPS) $(CM4_SRC)/host.c $(A64)/libnetcrt.a
	$(A64_CC) $(A64_CFLAGS) $(A64_LDFLAGS) -Iruntime -I$(CM4) -I$(CM4_SRC) -o $@ \
	  $(CM4_SRC)/main.c $(CM4_SRC)/host.c $(CM4)/lenet.c $(CM4)/lenet_weights.c $(A64)/libnetcrt.a -lm

check-aarch64: $(A64_MODELS:%=$(A64)/%.arm64) $(A64_MODELS:%=$(A64)/%.x86) $(A64_MODELS:%=$(A64)/%.safetensors) \
               $(A64)/lenet_device.arm64 $(CM4)/lenet_host
	@QEMU_TIMEOUT=$(QEMU_TIMEOUT) PYTHON=$(PYTHON) sh tests/targets/check_aarch64.sh $(A64) \
	  $(A64)/lenet_device.arm64 $(CM4)/lenet_host $(A64_MODELS)

# ---- int8 on aarch64 -----------------------------------------------------------------
# int8 runners (netc --quantize int8 --main: the float weights quantized as they load, on
# each machine) built by the pattern rules above from $(A64)/int8/NAME.c, and the int8
# device main of check-cortex-m-int8 (embedded int8 weights) for aarch64.

A64Q         = $(A64)/int8
A64Q_MODELS  = lenet_fashion resnet18
A64Q_CALIB_SAMPLES = 4

# check_aarch64.sh reads DIR/NAME.safetensors: links to the weights.
$(A64Q)/lenet_fashion.safetensors: $(FASHION_WEIGHTS)
	@mkdir -p $(@D)
	ln -sf $(abspath $<) $@
$(A64Q)/resnet18.safetensors: $(A64)/resnet18.safetensors
	@mkdir -p $(@D)
	ln -sf $(abspath $<) $@

# Ranges from A64Q_CALIB_SAMPLES random inputs (uniform in [-1, 1], seed 11) through the
# x86 float runner.
$(A64Q)/resnet18.calib.f32: $(A64)/resnet18.c
	@mkdir -p $(@D)
	$(PYTHON) -c "import random, struct, sys; r = random.Random(11); n = int(sys.argv[1]) * int(sys.argv[2]); \
open(sys.argv[3], 'wb').write(struct.pack('<%df' % n, *[r.uniform(-1, 1) for _ in range(n)]))" \
	  $(A64Q_CALIB_SAMPLES) $$(sed -n 's/^#define RESNET18_INPUT_FLOATS \([0-9]*\).*/\1/p' $(A64)/resnet18.h) $@
$(A64Q)/resnet18.ranges.json: $(A64)/resnet18.x86 $(A64)/resnet18.safetensors $(A64Q)/resnet18.calib.f32
	$(A64)/resnet18.x86 --weights $(A64)/resnet18.safetensors --calibrate $(A64Q)/resnet18.calib.f32 --ranges $@

$(A64Q)/lenet_fashion.c: $(FASHION_SRC)/lenet_fashion.net $(FASHION_Q)/ranges.json $(B)/netc
	@mkdir -p $(@D)
	$(B)/netc --quantize int8 --ranges $(FASHION_Q)/ranges.json $< --main -o $@
$(A64Q)/resnet18.c: models/resnet18.net $(A64Q)/resnet18.ranges.json $(wildcard models/lib/*.net) $(B)/netc
	$(B)/netc --quantize int8 --ranges $(A64Q)/resnet18.ranges.json $< --main -o $@

$(A64Q)/lenet_fashion_device.arm64: $(CM4)/fashion-int8/lenet_fashion.c $(CM4)/fashion-int8/lenet_fashion.h \
    $(CM4)/fashion-int8/lenet_fashion_weights.c $(CM4_FASHION_DEPS) $(CM4_SRC)/host.c $(A64)/libnetcrt.a
	@mkdir -p $(@D)
	$(A64_CC) $(A64_CFLAGS) $(A64_LDFLAGS) -DDEVICE_LENET_FASHION -Iruntime -I$(CM4)/fashion-int8 -I$(CM4) -I$(CM4_SRC) -o $@ \
	  $(CM4_SRC)/main.c $(CM4_SRC)/host.c $(CM4)/fashion-int8/lenet_fashion.c $(CM4)/fashion-int8/lenet_fashion_weights.c $(A64)/libnetcrt.a -lm

check-aarch64-int8: $(A64Q_MODELS:%=$(A64Q)/%.arm64) $(A64Q_MODELS:%=$(A64Q)/%.x86) $(A64Q_MODELS:%=$(A64Q)/%.safetensors) \
                    $(A64Q)/lenet_fashion_device.arm64 $(CM4)/fashion-int8/lenet_fashion_host
	@QEMU_TIMEOUT=$(QEMU_TIMEOUT) PYTHON=$(PYTHON) sh tests/targets/check_aarch64.sh --exact $(A64Q) \
	  $(A64Q)/lenet_fashion_device.arm64 $(CM4)/fashion-int8/lenet_fashion_host $(A64Q_MODELS)

FORCE:
.PHONY: check-cortex-m check-aarch64 check-cortex-m-int8 check-aarch64-int8 FORCE
.PRECIOUS: $(CM4)/fashion-%/netc-flags $(CM4)/fashion-%/lenet_fashion.c $(CM4)/fashion-%/lenet_fashion.h \
           $(CM4)/fashion-%/lenet_fashion_weights.c $(A64)/%.c $(A64)/%.safetensors $(A64Q)/%.c $(A64Q)/%.safetensors $(A64Q)/%.ranges.json $(A64Q)/%.calib.f32

ifneq ($(TARGETS_PREV_GOAL),)
.DEFAULT_GOAL := $(TARGETS_PREV_GOAL)
else
.DEFAULT_GOAL :=
endif
