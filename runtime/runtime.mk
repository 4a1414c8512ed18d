# runtime.mk -- builds the netc runtime library and its Check tests.
#
# Included by the top-level Makefile, or used on its own from the
# repository root:
#
#   make -f runtime/runtime.mk check-runtime        build and run the tests
#   make -f runtime/runtime.mk build/libnetcrt.a    just the library
#
# Variables (all may be set on the command line or before the include):
#   CC            the C compiler
#   CFLAGS_RT     flags for the runtime and its tests
#   RT_ARCH       instruction set; -march=native picks AVX-512 / AVX2 / NEON
#                 kernels for this machine. Empty: portable scalar kernels.
#   RT_OMP        -fopenmp to let large kernels use several threads
#   CHECK_CFLAGS, CHECK_LIBS   libcheck, from pkg-config
#
# Extra targets:
#   check-runtime-asan   the tests under AddressSanitizer + UBSan
#   check-runtime-isa    the tests built for scalar, AVX2 and native code
#   check-runtime-omp    the tests with OpenMP on two threads
#   check-runtime-torch  the kernels against PyTorch (needs python3-torch)

# Keep the including Makefile's default goal (restored at the end).
RT_PREV_GOAL := $(.DEFAULT_GOAL)

CC ?= cc
CFLAGS_RT ?= -std=c99 -O2 -g -Wall -Wextra -Wpedantic -Wswitch-enum
RT_ARCH ?= -march=native
RT_OMP ?=
ifeq ($(origin CHECK_CFLAGS),undefined)
CHECK_CFLAGS := $(shell pkg-config --cflags check)
endif
ifeq ($(origin CHECK_LIBS),undefined)
CHECK_LIBS := $(shell pkg-config --libs check)
endif

# RT_OUT: where the library and the test runner go (the top-level Makefile
# points it at its build directory, e.g. build-san for SANITIZE=1).
RT_OUT ?= build
RT_BUILD ?= $(RT_OUT)/runtime
RT_ALL_CFLAGS = $(CFLAGS_RT) $(RT_ARCH) $(RT_OMP)

# --- library ---------------------------------------------------------------

RUNTIME_SRCS := runtime/common.c runtime/gemm.c runtime/conv.c runtime/conv_depthwise.c \
                runtime/conv_direct.c runtime/convt.c runtime/pool.c runtime/elementwise.c \
                runtime/norm.c runtime/softmax.c runtime/tensor.c runtime/resize.c runtime/linear.c runtime/safetensors.c \
                runtime/winograd.c runtime/model.c runtime/runner.c \
                runtime/quant.c runtime/qgemm.c runtime/qconv.c
RUNTIME_HDRS := runtime/netc_rt.h runtime/netc_internal.h
RUNTIME_OBJS := $(RUNTIME_SRCS:runtime/%.c=$(RT_BUILD)/%.o)

$(RT_BUILD)/%.o: runtime/%.c $(RUNTIME_HDRS)
	@mkdir -p $(@D)
	$(CC) $(RT_ALL_CFLAGS) -c $< -o $@

$(RT_OUT)/libnetcrt.a: $(RUNTIME_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# --- tests -----------------------------------------------------------------

RT_TEST_SRCS := tests/runtime/check_runtime.c tests/runtime/testutil.c \
                tests/runtime/check_gemm.c tests/runtime/check_conv.c \
                tests/runtime/check_pool.c tests/runtime/check_elementwise.c \
                tests/runtime/check_norm.c tests/runtime/check_safetensors.c \
                tests/runtime/check_winograd.c tests/runtime/check_model.c \
                tests/runtime/check_tensor.c tests/runtime/check_int8.c
RT_TEST_HDRS := tests/runtime/testutil.h
RT_TEST_OBJS := $(RT_TEST_SRCS:tests/runtime/%.c=$(RT_BUILD)/tests/%.o)

$(RT_BUILD)/tests/%.o: tests/runtime/%.c $(RT_TEST_HDRS) runtime/netc_rt.h
	@mkdir -p $(@D)
	$(CC) $(RT_ALL_CFLAGS) $(CHECK_CFLAGS) -Iruntime -c $< -o $@

$(RT_OUT)/check_runtime: $(RT_TEST_OBJS) $(RT_OUT)/libnetcrt.a
	$(CC) $(RT_ALL_CFLAGS) $^ $(CHECK_LIBS) -lm -o $@

# Check's summary line ("100%: Checks: N, Failures: 0, Errors: 0") ends the output.
check-runtime: $(RT_OUT)/check_runtime
	./$(RT_OUT)/check_runtime

# The same sources in a separate directory per variant, via a recursive make.
RT_VARIANT = $(MAKE) -f runtime/runtime.mk --no-print-directory RT_BUILD=build/$(1) \
             build/$(1)/check_runtime
RT_VARIANT_RUN = ./build/$(1)/check_runtime

build/%/check_runtime: $(RT_TEST_OBJS) $(RUNTIME_OBJS)
	$(CC) $(RT_ALL_CFLAGS) $^ $(CHECK_LIBS) -lm -o $@

check-runtime-asan:
	$(MAKE) -f runtime/runtime.mk --no-print-directory RT_BUILD=build/rt-asan \
	  CFLAGS_RT="$(CFLAGS_RT) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build/rt-asan/check_runtime
	CK_FORK=no ./build/rt-asan/check_runtime

check-runtime-isa:
	$(MAKE) -f runtime/runtime.mk --no-print-directory RT_BUILD=build/rt-scalar RT_ARCH= \
	  build/rt-scalar/check_runtime
	./build/rt-scalar/check_runtime
	$(MAKE) -f runtime/runtime.mk --no-print-directory RT_BUILD=build/rt-avx2 RT_ARCH=-march=haswell \
	  build/rt-avx2/check_runtime
	./build/rt-avx2/check_runtime
	$(MAKE) -f runtime/runtime.mk --no-print-directory RT_BUILD=build/rt-native \
	  build/rt-native/check_runtime
	./build/rt-native/check_runtime

check-runtime-omp:
	$(MAKE) -f runtime/runtime.mk --no-print-directory RT_BUILD=build/rt-omp RT_OMP=-fopenmp \
	  build/rt-omp/check_runtime
	OMP_NUM_THREADS=2 ./build/rt-omp/check_runtime

# A shared build for tests/runtime/vs_torch.py, which calls it through ctypes.
$(RT_BUILD)/libnetcrt.so: $(RUNTIME_SRCS) $(RUNTIME_HDRS)
	@mkdir -p $(@D)
	$(CC) $(RT_ALL_CFLAGS) -fPIC -shared $(RUNTIME_SRCS) -lm -o $@

# Under SANITIZE=1 it is the plain build's job: python cannot load a library
# built with AddressSanitizer (its runtime must come first in the process).
check-runtime-torch: $(if $(SAN),,$(RT_BUILD)/libnetcrt.so)
	@$(if $(SAN),echo "check-runtime-torch: run by the plain make check (python cannot load a sanitized library)",\
	  /usr/bin/python3 tests/runtime/vs_torch.py $(RT_BUILD)/libnetcrt.so)

.PHONY: check-runtime check-runtime-asan check-runtime-isa check-runtime-omp check-runtime-torch

ifneq ($(RT_PREV_GOAL),)
.DEFAULT_GOAL := $(RT_PREV_GOAL)
else ifneq ($(firstword $(MAKEFILE_LIST)),runtime/runtime.mk)
.DEFAULT_GOAL :=
endif
