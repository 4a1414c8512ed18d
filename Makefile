# netc -- a compiler for neural-network descriptions.
#
#   make            build netc (build/netc) and the runtime library
#   make demo       build netc, compile a model, show its report
#   make check      every test: unit suites, golden reports, diagnostics, PyTorch parity
#   make difftest CASES=N SEED=S [JOBS=J]   random nets against PyTorch (tests/diff/)
#   make bench      compiler speed; generated code against PyTorch and OpenBLAS
#   make install    PREFIX=/usr/local DESTDIR=: netc, netc-export, netc-check, libnetcrt.a and
#                   libnetcrt-omp.a, netc_rt.h, netcrt.pc and netcrt-omp.pc, netc.1, models and block library
#   make uninstall
#   make docs       every models/*.net as build/docs/NAME.svg (Graphviz)
#   make fuzz       FUZZ_SECONDS=60: libFuzzer on the compiler, the safetensors reader, a model's
#                   loader, and the forward pass of any net
#   make check-quant        int8: netc's int8 code within one quantization step of PyTorch's own int8
#                           model (tests/quant/), and the Fashion int8 LeNet within 0.5 points of float
#   make check SANITIZE=1   everything again under AddressSanitizer + UBSan
#   make check-cortex-m     LeNet on a Cortex-M4F under QEMU (targets/targets.mk; part of make check)
#   make check-aarch64      ResNet-18, MobileNetV2, LeNet under qemu-aarch64 (part of make check)
#   make check-cortex-m-int8   the trained Fashion LeNet as int8 on the Cortex-M4F under QEMU:
#                           logits bit-identical to x86's, flash/RAM beside float (part of make check)
#   make check-aarch64-int8 int8 LeNet (Fashion) and ResNet-18 under qemu-aarch64, bit-identical
#                           to x86's (part of make check)
#   make clean
#
# Needs: a C11 compiler, flex, bison, Check (tests), Debian's python3-torch and
# python3-torchvision (parity tests), dataset-fashion-mnist (the example), jq (the
# examples of docs/language.md), cmake (check-install runs README's CMake recipe).
# `make deps` names the missing Debian packages and installs them when run as root.

CC      ?= cc
CFLAGS  ?= -O2 -g
# A switch over an enum that misses a case stops netc's own build (the
# op registry relies on it: docs/adding-an-op.md); runtime.mk, which users'
# builds include, only warns. gcc and clang report a missing case as -Wswitch
# when the switch has no default: (the rule here), -Wswitch-enum when it has
# one; both are errors.
WARN     = -Wall -Wextra -Wpedantic -Wswitch-enum -Werror=switch -Werror=switch-enum
CFLAGS_RT ?= -std=c99 -O2 -g -Wall -Wextra -Wpedantic -Wswitch-enum -Werror=switch -Werror=switch-enum
B        = build

# make check SANITIZE=1: netc, the runtime, the generated code and every test
# rebuilt with AddressSanitizer + UBSan, in a build directory of their own.
ifeq ($(SANITIZE),1)
B        = build-san
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   = -O1 -g $(SAN)
CFLAGS_RT = -std=c99 -O1 -g -Wall -Wextra -Wpedantic -Wswitch-enum -Werror=switch -Werror=switch-enum $(SAN)
export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS = print_stacktrace=1
endif
RT_OUT   = $(B)
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) -Icompiler -I$(B)/gen
FLEX    ?= flex
BISON   ?= bison
# Debian's PyTorch lives in the system interpreter, not in a pyenv/venv one.
PYTHON  ?= /usr/bin/python3

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

# ---- the compiler -------------------------------------------------------------

COMPILER_SRCS = $(filter-out compiler/main.c,$(wildcard compiler/*.c))
COMPILER_OBJS = $(COMPILER_SRCS:compiler/%.c=$(B)/obj/%.o) $(B)/obj/parser.o $(B)/obj/lexer.o
# netc.h includes the runtime header (lower.c returns its parameter structs).
COMPILER_HDRS = $(wildcard compiler/*.h) compiler/ops.def runtime/netc_rt.h $(B)/gen/parser.h $(B)/gen/lexer.h

all: $(B)/netc runtime-lib generated

# netc calls the runtime's own scratch-size functions, safetensors reader and
# batch-norm folding, so the compiler and the generated code cannot disagree.
# It links a portable build of the runtime (no -march: netc runs anywhere).
# runtime.mk's RUNTIME_SRCS and RUNTIME_HDRS are the one list of the
# runtime's files (included here, before the first rule that names them).
-include runtime/runtime.mk
NETC_RT_OBJS = $(RUNTIME_SRCS:runtime/%.c=$(B)/obj/rt/%.o)

$(B)/obj/rt/%.o: runtime/%.c $(RUNTIME_HDRS)
	@mkdir -p $(B)/obj/rt
	$(CC) -std=c99 $(WARN) $(CFLAGS) -c -o $@ $<

$(B)/netc: $(COMPILER_OBJS) $(B)/obj/main.o $(NETC_RT_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lm

# One bison run writes two files: a grouped target.
$(B)/gen/parser.c $(B)/gen/parser.h &: compiler/parser.y | tools-ok
	@mkdir -p $(B)/gen
	$(BISON) -Wall -Werror --header=$(B)/gen/parser.h -o $(B)/gen/parser.c $<

$(B)/gen/lexer.c $(B)/gen/lexer.h &: compiler/lexer.l | tools-ok
	@mkdir -p $(B)/gen
	$(FLEX) --header-file=$(B)/gen/lexer.h -o $(B)/gen/lexer.c $<

$(B)/obj/%.o: compiler/%.c $(COMPILER_HDRS)
	@mkdir -p $(B)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Generated scanners trip -Wunused-function on flex's own helpers; nothing of ours.
$(B)/obj/lexer.o: $(B)/gen/lexer.c $(COMPILER_HDRS)
	@mkdir -p $(B)/obj
	$(CC) $(ALL_CFLAGS) -Wno-unused-function -Wno-sign-compare -c -o $@ $<

$(B)/obj/parser.o: $(B)/gen/parser.c $(COMPILER_HDRS)
	@mkdir -p $(B)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ---- the runtime ----------------------------------------------------------------

runtime-lib: $(B)/libnetcrt.a
include mk/install.mk
include examples/fashion/fashion.mk
include targets/targets.mk

# ---- tools ----------------------------------------------------------------------

# Names the Debian packages of missing tools; installs them when run as root.
DEPS_BUILD = flex:flex bison:bison pkg-config:pkg-config
tools-ok:
	@sh tools/need.sh build

deps:
	@sh tools/need.sh all

.PHONY: all runtime-lib tools-ok deps demo fuzz check-diff difftest check-fuzz-replay check-valgrind install uninstall docs docs-tools check-install check check-warnings check-unit check-backend check-numerics generated check-golden check-errors check-quant-errors check-docs-examples check-parity check-quant bench clean

# ---- tests ----------------------------------------------------------------------

UNIT_SRCS = $(wildcard tests/unit/*.c)
$(B)/check_netc: $(UNIT_SRCS) $(COMPILER_OBJS) $(NETC_RT_OBJS) $(wildcard tests/unit/*.h) $(COMPILER_HDRS)
	@sh tools/need.sh check
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $(UNIT_SRCS) $(COMPILER_OBJS) $(NETC_RT_OBJS) $(CHECK_LIBS) -lm

check: check-warnings check-unit check-golden check-errors check-quant-errors check-docs-examples check-parity check-runtime check-backend \
       check-runtime-torch check-numerics check-fuzz-replay check-valgrind check-install docs check-fashion check-diff \
       check-cortex-m check-aarch64 check-cortex-m-int8 check-aarch64-int8 check-quant
	@echo "make check: all test groups passed"

# netc's own sources must be warning-free under both gcc and clang.
check-warnings: $(B)/gen/parser.c $(B)/gen/lexer.c
	@for cc in gcc clang; do \
	  command -v $$cc >/dev/null || { echo "check-warnings: $$cc is missing (apt-get install $$cc)"; exit 1; }; \
	  for f in $(COMPILER_SRCS) compiler/main.c; do \
	    $$cc -std=c11 -D_DEFAULT_SOURCE $(WARN) -Werror -Icompiler -I$(B)/gen -fsyntax-only $$f || exit 1; \
	  done; \
	  $$cc -std=c11 -D_DEFAULT_SOURCE $(WARN) -Werror -Icompiler -I$(B)/gen -fsyntax-only $(B)/gen/parser.c || exit 1; \
	  echo "check-warnings: compiler/ is warning-free with $$cc"; \
	  for isa in "" "-mavx2 -mfma" "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma"; do \
	    for omp in "" -fopenmp; do \
	      for f in $(RUNTIME_SRCS); do \
	        $$cc -std=c99 $(WARN) -Werror -O2 $$isa $$omp -c -o /dev/null $$f || exit 1; \
	      done; \
	    done; \
	  done; \
	  echo "check-warnings: runtime/ is warning-free with $$cc (portable, AVX2, AVX-512; with and without OpenMP)"; \
	done

check-unit: $(B)/check_netc
	$(B)/check_netc

check-golden: $(B)/netc
	@sh tests/golden/run.sh $(B)/netc

check-errors: $(B)/netc
	@sh tests/errors/run.sh $(B)/netc

# Bad ranges files for --quantize int8: located errors, status 1, nothing written.
check-quant-errors: $(B)/netc $(B)/libnetcrt.a
	@sh tests/quant/ranges_errors.sh $(B)/netc
	@SAN="$(SAN)" sh tests/quant/float_layers.sh $(B)/netc $(B)/libnetcrt.a

# Every example of docs/language.md: programs compile, `# error:` lines are the errors netc
# reports, console transcripts are netc's exact output (some use jq).
check-docs-examples: $(B)/netc
	@sh tools/need.sh docs-examples
	$(PYTHON) tests/docs/check_examples.py --netc $(B)/netc

check-parity: $(B)/netc
	@sh tools/need.sh torch
	$(PYTHON) tests/parity/check_shapes.py --netc $(B)/netc

# The generated API of one model (loading, bad files, re-entrancy), then the
# shell-level back-end checks (generated/ fresh, determinism, -Werror, ASan;
# the runner's --calibrate against PyTorch in calibrate.sh),
# then --self-test end to end (tests/backend/self_test.sh; the native library
# only in a plain build: a sanitized one needs the sanitizers at link time).
$(B)/backend/lenet.c: models/lenet.net $(B)/netc
	@mkdir -p $(B)/backend
	$(B)/netc models/lenet.net -o $@

$(B)/check_backend: tests/backend/check_backend.c $(B)/backend/lenet.c $(B)/libnetcrt.a
	@sh tools/need.sh check
	$(CC) -std=c99 $(WARN) -O1 -g $(SAN) -I$(B)/backend -Iruntime $(CHECK_CFLAGS) -o $@ $< $(B)/backend/lenet.c \
	  $(B)/libnetcrt.a $(CHECK_LIBS) -lm

check-backend: $(B)/check_backend $(B)/netc $(B)/libnetcrt.a
	$(B)/check_backend
	@RUNTIME_SRCS="$(RUNTIME_SRCS)" sh tests/backend/run.sh $(B)/netc
	@RUNTIME_SRCS="$(RUNTIME_SRCS)" sh tests/backend/calibrate.sh $(B)/netc
	@RUNTIME_SRCS="$(RUNTIME_SRCS)" sh tests/backend/self_test.sh $(B)/netc $(if $(SAN),,$(B)/libnetcrt.a)

# netc under valgrind on every model (skipped under SANITIZE=1: ASan already watches).
check-valgrind: $(B)/netc
	@$(if $(SAN),echo "check-valgrind: covered by the sanitizers",sh tests/backend/valgrind.sh $(B)/netc)

# The generated C against PyTorch on every model.
check-numerics: $(B)/netc $(B)/libnetcrt.a
	@sh tools/need.sh torch
	$(PYTHON) tests/parity/check_numerics.py --netc $(B)/netc --runtime $(B)/libnetcrt.a --work $(B)/parity \
	  --cflags "$(SAN)"
	@echo "check-numerics: the scratch-free kernels (--max-scratch 0) on the models without matmul"
	$(PYTHON) tests/parity/check_numerics.py --netc $(B)/netc --runtime $(B)/libnetcrt.a --work $(B)/parity-noscratch \
	  --cflags "$(SAN)" --netc-flags "--max-scratch 0" lenet kws_m5 resnet18 mobilenet_v2 googlenet unet_bilinear

# int8 (issue #14): netc's int8 code against PyTorch's own int8 model (FX graph mode, onednn,
# the same float weights and calibration file) on LeNet (Fashion), ResNet-18, ResNet-50 and
# MobileNetV2: every output element within one quantization step; netc int8 vs float on
# ResNet-50 reported (tests/quant/check_quant.py). Then the Fashion-MNIST int8 LeNet within
# 0.5 points of the float one (check-fashion-int8, examples/fashion/fashion.mk).
# Under the sanitizers, vs_float.py takes the models that between them use every int8 kernel, table op,
# observer rule and float fallback (the big classic CNNs add only time there).
VS_FLOAT_SAN_MODELS = lenet googlenet kws_m5 efficientnet_b0 mobilenet_v3_small shufflenet_v2_x1_0 unet \
                      unet_bilinear convnext_tiny resnet18 mobilenet_v2

check-quant: $(B)/netc $(B)/libnetcrt.a
	@sh tools/need.sh torch
	$(PYTHON) tests/quant/check_quant.py --netc $(B)/netc --runtime $(B)/libnetcrt.a --work $(B)/quant \
	  --cflags "$(SAN)"
	$(PYTHON) tests/quant/vs_float.py --netc $(B)/netc --runtime $(B)/libnetcrt.a --work $(B)/quant/vs_float \
	  --cflags "$(SAN)" $(if $(SAN),$(VS_FLOAT_SAN_MODELS))
	@$(MAKE) --no-print-directory check-fashion-int8

# ---- random differential testing against PyTorch (tests/diff/README.md) ------------
#
#   make check-diff                 the saved regressions, then a fixed-seed batch (~2 min), the
#                                   int8 leg on half its cases (--int8-every 2); new failures
#                                   are shrunk into build/difftest/new-regressions/
#   make difftest CASES=N SEED=S [JOBS=J]   N random cases from seed S; failures are
#                                   shrunk and saved in tests/diff/regressions/

CASES ?= 100
SEED  ?= 1
JOBS  ?= 2
DIFF_CHECK_CASES ?= 100
DIFF_CHECK_SEED  ?= 20250101
DIFFTEST = $(PYTHON) tests/diff/difftest.py --netc $(B)/netc --runtime $(B)/libnetcrt.a --work $(B)/difftest \
           --cflags "$(SAN)"

check-diff: $(B)/netc $(B)/libnetcrt.a
	@sh tools/need.sh diff
	@r=0; $(DIFFTEST) --jobs $(JOBS) --replay || r=1; \
	$(DIFFTEST) --jobs $(JOBS) --cases $(DIFF_CHECK_CASES) --seed $(DIFF_CHECK_SEED) --int8-every 2 \
	  --shrink-max 1 --shrink-seconds 90 --save-dir $(B)/difftest/new-regressions || r=1; exit $$r

difftest: $(B)/netc $(B)/libnetcrt.a
	@sh tools/need.sh diff
	$(DIFFTEST) --jobs $(JOBS) --cases $(CASES) --seed $(SEED)

# ---- fuzzing (libFuzzer: clang + libclang-rt-14-dev) --------------------------------
#
#   make fuzz FUZZ_SECONDS=60   runs each target that long; a crash fails the target
#                               and leaves the input in build/fuzz/artifacts/
# Targets: compiler (source text through every pass and the back end),
# safetensors (the reader on any bytes), load (LeNet's generated loader on any
# bytes, then a forward pass) and forward (any net compiled, loaded with
# weights from the input and run in process, each kernel checked against a
# second run in private buffers; tests/fuzz/fuzz_forward.c).
# Seeds: models/, tests/errors/, the small nets of tests/fuzz/seeds/forward/
# (most of models/ is too big to run per input) and valid weight files made by
# tools/. Crashes found are copied to tests/fuzz/regressions/<target>/, which
# `make check` replays (check-fuzz-replay) with an ordinary build; one that
# still crashes waits in tests/fuzz/pending/<target>/ (not replayed) for its fix.

FUZZ_SECONDS ?= 60
FUZZ_CC     ?= clang
FUZZ_FLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FZ           = $(B)/fuzz
NETC_SRCS    = $(COMPILER_SRCS) $(B)/gen/parser.c $(B)/gen/lexer.c
RT_SRCS      = $(RUNTIME_SRCS)

$(FZ)/lenet.c: models/lenet.net $(B)/netc
	@mkdir -p $(FZ)
	$(B)/netc models/lenet.net -o $@

$(FZ)/fuzz_compiler: tests/fuzz/fuzz_compiler.c $(NETC_SRCS) $(RT_SRCS) $(COMPILER_HDRS)
	@mkdir -p $(FZ)
	$(FUZZ_CC) -std=c11 -D_DEFAULT_SOURCE $(FUZZ_FLAGS) -Wno-unused-function -Icompiler -I$(B)/gen -o $@ $< $(NETC_SRCS) $(RT_SRCS) -lm

$(FZ)/fuzz_safetensors: tests/fuzz/fuzz_safetensors.c $(RT_SRCS)
	@mkdir -p $(FZ)
	$(FUZZ_CC) -std=c99 $(FUZZ_FLAGS) -Iruntime -o $@ $^ -lm

$(FZ)/fuzz_load: tests/fuzz/fuzz_load.c $(FZ)/lenet.c $(RT_SRCS)
	$(FUZZ_CC) -std=c99 $(FUZZ_FLAGS) -Iruntime -I$(FZ) -o $@ $^ -lm

# Any net, compiled and run forward in process (compiler/execute.c). The runtime is
# built for this machine ($(RT_ARCH)), as generated code is by default, so the
# SIMD kernels' edge tiles are what gets fuzzed; the replay links libnetcrt.a,
# built the same way. Coverage guides the fuzzer from the runtime and the
# passes behind the forward pass only, not the front end (the ignore list).
FWD_SRCS = tests/fuzz/fuzz_forward.c
$(FZ)/fuzz_forward: $(FWD_SRCS) tests/fuzz/forward_coverage.ignore $(NETC_SRCS) $(RT_SRCS) \
                    $(COMPILER_HDRS)
	@mkdir -p $(FZ)
	$(FUZZ_CC) -std=c11 -D_DEFAULT_SOURCE $(FUZZ_FLAGS) -fsanitize-coverage-ignorelist=tests/fuzz/forward_coverage.ignore \
	  $(RT_ARCH) -Wno-unused-function -Icompiler -I$(B)/gen -Itests/fuzz -o $@ $(FWD_SRCS) $(NETC_SRCS) $(RT_SRCS) -lm

# Seed corpora, rebuilt in the build tree (the working corpora grow there).
$(FZ)/seeds/.done: $(B)/netc $(wildcard models/*.net models/lib/*.net tests/errors/*.net)
	@sh tools/need.sh torch
	@mkdir -p $(FZ)/seeds/compiler $(FZ)/seeds/safetensors $(FZ)/seeds/load
	cp models/*.net tests/errors/*.net $(FZ)/seeds/compiler/
	for f in models/lib/*.net; do cp "$$f" "$(FZ)/seeds/compiler/lib_$${f##*/}"; done # lib/unet.net beside unet.net
	$(PYTHON) tools/netc_random.py --netc $(B)/netc models/lenet.net 1 $(FZ)/seeds/load/lenet.safetensors
	$(PYTHON) -c "import sys, torch; sys.path.insert(0, 'tools'); from export_safetensors import save_safetensors; \
	  save_safetensors({'a': torch.arange(6.0).reshape(2, 3), 'b.num_batches_tracked': torch.tensor(3)}, \
	  '$(FZ)/seeds/safetensors/small.safetensors', {'format': 'pt'})"
	cp $(FZ)/seeds/load/lenet.safetensors $(FZ)/seeds/safetensors/
	@touch $@

FUZZ_RUN = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
           -artifact_prefix=$(FZ)/artifacts/

fuzz: $(FZ)/fuzz_compiler $(FZ)/fuzz_safetensors $(FZ)/fuzz_load $(FZ)/fuzz_forward $(FZ)/seeds/.done
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) is missing (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	@mkdir -p $(FZ)/artifacts $(FZ)/corpus/compiler $(FZ)/corpus/safetensors $(FZ)/corpus/load $(FZ)/corpus/forward
	$(FZ)/fuzz_compiler $(FUZZ_RUN) -dict=tests/fuzz/netc.dict -max_len=8192 $(FZ)/corpus/compiler $(FZ)/seeds/compiler
	$(FZ)/fuzz_safetensors $(FUZZ_RUN) -max_len=300000 $(FZ)/corpus/safetensors $(FZ)/seeds/safetensors
	$(FZ)/fuzz_load $(FUZZ_RUN) -max_len=300000 $(FZ)/corpus/load $(FZ)/seeds/load
	$(FZ)/fuzz_forward $(FUZZ_RUN) -dict=tests/fuzz/netc.dict -max_len=8192 $(FZ)/corpus/forward \
	  $(FZ)/seeds/compiler tests/fuzz/seeds/forward tests/fuzz/regressions/forward
	@echo "fuzz: every target ran $(FUZZ_SECONDS) s without a crash"

# The regression inputs and the seeds, replayed by ordinary builds of the targets.
$(FZ)/replay_compiler: tests/fuzz/fuzz_compiler.c tests/fuzz/replay.c $(COMPILER_OBJS) $(NETC_RT_OBJS)
	@mkdir -p $(FZ)
	$(CC) $(ALL_CFLAGS) -o $@ tests/fuzz/fuzz_compiler.c tests/fuzz/replay.c $(COMPILER_OBJS) $(NETC_RT_OBJS) -lm

$(FZ)/replay_safetensors: tests/fuzz/fuzz_safetensors.c tests/fuzz/replay.c $(B)/libnetcrt.a
	@mkdir -p $(FZ)
	$(CC) -std=c99 $(WARN) $(CFLAGS) -Iruntime -o $@ $^ -lm

$(FZ)/replay_load: tests/fuzz/fuzz_load.c tests/fuzz/replay.c $(FZ)/lenet.c $(B)/libnetcrt.a
	@mkdir -p $(FZ)
	$(CC) -std=c99 $(WARN) $(CFLAGS) -Iruntime -I$(FZ) -o $@ $^ -lm

$(FZ)/replay_forward: $(FWD_SRCS) tests/fuzz/replay.c $(COMPILER_OBJS) $(B)/libnetcrt.a
	@mkdir -p $(FZ)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $(FWD_SRCS) tests/fuzz/replay.c $(COMPILER_OBJS) $(B)/libnetcrt.a -lm

check-fuzz-replay: $(FZ)/replay_compiler $(FZ)/replay_safetensors $(FZ)/replay_load $(FZ)/replay_forward
	$(FZ)/replay_compiler models/*.net models/lib/*.net tests/errors/*.net $(wildcard tests/fuzz/regressions/compiler/*)
	$(FZ)/replay_safetensors $(wildcard tests/fuzz/regressions/safetensors/*) /dev/null
	$(FZ)/replay_load $(wildcard tests/fuzz/regressions/load/*) /dev/null
	$(FZ)/replay_forward models/*.net models/lib/*.net tests/errors/*.net $(wildcard tests/fuzz/seeds/forward/*) \
	  $(wildcard tests/fuzz/regressions/forward/*)

# ---- generated/: netc's output for models/, kept in the repository ----------------

MODELS = $(wildcard models/*.net)
GENERATED = $(MODELS:models/%.net=generated/%.c)

generated: $(GENERATED)

generated/%.c: models/%.net $(wildcard models/lib/*.net) $(B)/netc
	@mkdir -p generated
	$(B)/netc $< -o $@

# ---- demo and bench -------------------------------------------------------------

demo: $(B)/netc $(B)/libnetcrt.a
	@echo "== netc --report models/vgg11.net   (the seed's VGG-11: shapes, params, MACs, receptive fields)"
	@$(B)/netc --report models/vgg11.net
	@echo
	@echo "== netc --report=torch models/lenet.net   (what the seed's PyTorch loop prints)"
	@$(B)/netc --report=torch models/lenet.net
	@echo
	@echo "== a mistake, located: LeNet with the first conv's padding removed"
	@sed 's/conv2d(6, 5, padding=2)/conv2d(6, 5)/' models/lenet.net > $(B)/lenet_bad.net
	@$(B)/netc --report $(B)/lenet_bad.net || true
	@echo
	@echo "== netc models/resnet50.net -o $(B)/demo/resnet50.c --main --report --depth 1"
	@mkdir -p $(B)/demo
	@$(B)/netc models/resnet50.net -o $(B)/demo/resnet50.c --main --report --depth 1
	@echo
	@echo "== cc -O2 $(B)/demo/resnet50.c -Iruntime $(B)/libnetcrt.a -lm && ./resnet50 --bench 5"
	@$(CC) -std=c99 -O2 $(B)/demo/resnet50.c -Iruntime $(B)/libnetcrt.a -lm -o $(B)/demo/resnet50
	@$(B)/demo/resnet50 --seed 1 --bench 5 --output $(B)/demo/resnet50.out.f32
	@echo "(1000 logits written to $(B)/demo/resnet50.out.f32; seeded random weights, see $(B)/demo/resnet50.c)"
	@echo
	@echo "== a real network on real images: LeNet on Debian's Fashion-MNIST test set, in plain C"
	@$(MAKE) --no-print-directory fashion-demo

# Not a test: compiler speed, then the generated runners against PyTorch eager
# and best mode, and the runtime's GEMM against OpenBLAS, interleaved in one run.
bench: $(B)/netc
	@sh tests/bench/run.sh $(B)/netc

clean:
	rm -rf $(B)
