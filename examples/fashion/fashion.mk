# examples/fashion/fashion.mk -- Fashion-MNIST in plain C with a netc-generated LeNet.
#
# Included from the top-level Makefile (which builds $(B)/netc and $(B)/libnetcrt.a):
#
#   make fashion-demo    generate the C with netc, build classify, classify the
#                        10,000 test images; ends with the line "accuracy: XX.X%"
#   make check-fashion   the test: classify.c warning-free under gcc and clang, the C
#                        accuracy >= 89.0% and equal to PyTorch's on the same weights
#   make fashion-demo QUANT=int8
#                        the same with an int8 LeNet (issue #14), all in C: classify
#                        --write-inputs writes the first 1,000 training images as the
#                        calibration file, the float runner (netc --main) records the
#                        ranges (--calibrate), netc --quantize int8 --ranges generates
#                        lenet_fashion.c again (same float-in / float-out API, so the same
#                        classify.c), which classifies the test images; prints the
#                        accuracy: line and the float and int8 weight bytes
#   make check-fashion-int8
#                        the int8 accuracy within FASHION_INT8_MAX_DROP (0.5) points of
#                        the float one (run by make check-quant)
#
# The data set is Debian's dataset-fashion-mnist (installed with apt-get when make
# runs as root, named otherwise). check-fashion also needs python3-torch.
#
# Variables: B (build directory, default build), PYTHON (default /usr/bin/python3),
# CC, FASHION_DATA (the IDX files' directory), FASHION_IMAGES, FASHION_LABELS,
# FASHION_WEIGHTS, QUANT (empty: float; int8), FASHION_TRAIN_IMAGES, FASHION_CALIB_IMAGES
# (1000), FASHION_INT8_MAX_DROP (0.5).

# Keep the including Makefile's default goal (restored at the end).
FASHION_PREV_GOAL := $(.DEFAULT_GOAL)

B       ?= build
PYTHON  ?= /usr/bin/python3
CC      ?= cc

FASHION_SRC      = examples/fashion
FASHION_B        = $(B)/fashion
FASHION_PKG      = dataset-fashion-mnist
FASHION_DATA    ?= /usr/share/datasets/fashion-mnist
FASHION_IMAGES  ?= $(FASHION_DATA)/t10k-images-idx3-ubyte.gz
FASHION_LABELS  ?= $(FASHION_DATA)/t10k-labels-idx1-ubyte.gz
FASHION_WEIGHTS ?= $(FASHION_SRC)/lenet_fashion.safetensors
FASHION_WARN     = -std=c99 -Wall -Wextra -Wpedantic
FASHION_ARGS     = --weights $(FASHION_WEIGHTS) --images $(FASHION_IMAGES) --labels $(FASHION_LABELS)
QUANT           ?=
ifneq ($(filter-out int8,$(QUANT)),)
$(error QUANT=$(QUANT): the quantized builds are QUANT=int8 (or empty: float))
endif
FASHION_Q             = $(FASHION_B)/int8
FASHION_TRAIN_IMAGES ?= $(FASHION_DATA)/train-images-idx3-ubyte.gz
FASHION_CALIB_IMAGES ?= 1000
FASHION_INT8_MAX_DROP ?= 0.5

# The generated model: lenet_fashion.c and .h (netc's report is kept beside them).
$(FASHION_B)/lenet_fashion.c $(FASHION_B)/lenet_fashion.h &: $(FASHION_SRC)/lenet_fashion.net $(B)/netc
	@mkdir -p $(FASHION_B)
	$(B)/netc --report $(FASHION_SRC)/lenet_fashion.net -o $(FASHION_B)/lenet_fashion.c 2> $(FASHION_B)/lenet_fashion.report \
	  || { cat $(FASHION_B)/lenet_fashion.report >&2; exit 1; }

$(FASHION_B)/classify: $(FASHION_SRC)/classify.c $(FASHION_B)/lenet_fashion.c $(FASHION_B)/lenet_fashion.h $(B)/libnetcrt.a
	$(CC) $(FASHION_WARN) -O2 $(SAN) -I$(FASHION_B) -Iruntime -o $@ $(FASHION_SRC)/classify.c \
	  $(FASHION_B)/lenet_fashion.c $(B)/libnetcrt.a -lm

# The test images and labels: Debian's dataset-fashion-mnist, installed when run as root.
fashion-data:
	@if [ ! -f $(FASHION_IMAGES) ] || [ ! -f $(FASHION_LABELS) ]; then \
	  echo "fashion: $(FASHION_IMAGES) or $(FASHION_LABELS) is missing:" \
	       "the Fashion-MNIST data comes with the Debian package $(FASHION_PKG)" >&2; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "fashion: installing $(FASHION_PKG) with apt-get (running as root)" >&2; \
	    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(FASHION_PKG) >&2; } \
	      || { echo "fashion: apt-get install $(FASHION_PKG) failed" >&2; exit 1; }; \
	    [ -f $(FASHION_IMAGES) ] && [ -f $(FASHION_LABELS) ] \
	      || { echo "fashion: $(FASHION_PKG) is installed but $(FASHION_DATA) lacks the t10k files" >&2; exit 1; }; \
	  else \
	    echo "fashion: install it with: sudo apt-get install $(FASHION_PKG)" >&2; exit 1; \
	  fi; \
	fi

# ---- int8 (issue #14) ---------------------------------------------------------------
# The calibration file: the first FASHION_CALIB_IMAGES training images, preprocessed by
# classify.c itself (p / 255.0f), raw float32 back to back.
$(FASHION_Q)/calib.f32: $(FASHION_B)/classify | fashion-data
	@mkdir -p $(FASHION_Q)
	@[ -f $(FASHION_TRAIN_IMAGES) ] || { echo "fashion: $(FASHION_TRAIN_IMAGES) is missing (it comes with $(FASHION_PKG))" >&2; exit 1; }
	$(FASHION_B)/classify --images $(FASHION_TRAIN_IMAGES) --limit $(FASHION_CALIB_IMAGES) --write-inputs $@

# The float runner (netc --main) that records the ranges.
$(FASHION_Q)/runner/lenet_fashion.c: $(FASHION_SRC)/lenet_fashion.net $(B)/netc
	@mkdir -p $(FASHION_Q)/runner
	$(B)/netc $(FASHION_SRC)/lenet_fashion.net -o $@ --main

$(FASHION_Q)/runner/lenet_fashion: $(FASHION_Q)/runner/lenet_fashion.c $(B)/libnetcrt.a
	$(CC) -std=c99 -O2 $(SAN) -Iruntime -o $@ $< $(B)/libnetcrt.a -lm

$(FASHION_Q)/ranges.json: $(FASHION_Q)/runner/lenet_fashion $(FASHION_Q)/calib.f32 $(FASHION_WEIGHTS)
	$(FASHION_Q)/runner/lenet_fashion --weights $(FASHION_WEIGHTS) --calibrate $(FASHION_Q)/calib.f32 --ranges $@

# The int8 model: the same file names as the float one, in a directory of its own.
$(FASHION_Q)/lenet_fashion.c $(FASHION_Q)/lenet_fashion.h &: $(FASHION_SRC)/lenet_fashion.net $(FASHION_Q)/ranges.json $(B)/netc
	$(B)/netc --report --quantize int8 --ranges $(FASHION_Q)/ranges.json $(FASHION_SRC)/lenet_fashion.net \
	  -o $(FASHION_Q)/lenet_fashion.c 2> $(FASHION_Q)/lenet_fashion.report \
	  || { cat $(FASHION_Q)/lenet_fashion.report >&2; exit 1; }

$(FASHION_Q)/classify: $(FASHION_SRC)/classify.c $(FASHION_Q)/lenet_fashion.c $(FASHION_Q)/lenet_fashion.h $(B)/libnetcrt.a
	$(CC) $(FASHION_WARN) -O2 $(SAN) -I$(FASHION_Q) -Iruntime -o $@ $(FASHION_SRC)/classify.c \
	  $(FASHION_Q)/lenet_fashion.c $(B)/libnetcrt.a -lm

ifeq ($(QUANT),int8)
fashion-demo: fashion-data $(FASHION_B)/classify $(FASHION_Q)/classify
	@echo "== int8 LeNet: calibrated on $(FASHION_CALIB_IMAGES) training images ($(FASHION_Q)/calib.f32),"
	@echo "   ranges $(FASHION_Q)/ranges.json, netc --quantize int8 --ranges $(FASHION_Q)/ranges.json -o $(FASHION_Q)/lenet_fashion.c"
	@sed -n '/^layer/,$$p' $(FASHION_Q)/lenet_fashion.report
	@echo
	@echo "weight bytes: float $$(sed -n 's/^ *weight bytes *\([0-9,]*\).*/\1/p' $(FASHION_B)/lenet_fashion.report | head -1);" \
	  "int8 report: $$(grep -i 'weight bytes' $(FASHION_Q)/lenet_fashion.report | sed 's/  */ /g' | tr '\n' ';')"
	@echo
	@echo "== $(FASHION_Q)/classify: the int8 LeNet classifies Debian's Fashion-MNIST test set"
	@$(FASHION_Q)/classify $(FASHION_ARGS)
else
fashion-demo: fashion-data $(FASHION_B)/classify
	@echo "== netc --report $(FASHION_SRC)/lenet_fashion.net -o $(FASHION_B)/lenet_fashion.c   (LeNet, ReLU, max pooling)"
	@sed -n '/^layer/,$$p' $(FASHION_B)/lenet_fashion.report
	@echo
	@echo "== $(FASHION_B)/classify: the generated C and the runtime classify Debian's Fashion-MNIST test set"
	@$(FASHION_B)/classify $(FASHION_ARGS)
endif

# The int8 accuracy on the 10,000 test images is at most FASHION_INT8_MAX_DROP points below
# the float one (both from classify.c's "correct: C of N images" line, on the same weights).
check-fashion-int8: fashion-data $(FASHION_B)/classify $(FASHION_Q)/classify
	@$(FASHION_B)/classify $(FASHION_ARGS) > $(FASHION_Q)/classify-float.log \
	  || { cat $(FASHION_Q)/classify-float.log; echo "check-fashion-int8: the float classify failed"; exit 1; }
	@$(FASHION_Q)/classify $(FASHION_ARGS) > $(FASHION_Q)/classify-int8.log \
	  || { cat $(FASHION_Q)/classify-int8.log; echo "check-fashion-int8: the int8 classify failed"; exit 1; }
	@f=$$(sed -n 's/^correct: \([0-9]*\) of \([0-9]*\) images.*/\1 \2/p' $(FASHION_Q)/classify-float.log); \
	q=$$(sed -n 's/^correct: \([0-9]*\) of \([0-9]*\) images.*/\1 \2/p' $(FASHION_Q)/classify-int8.log); \
	[ -n "$$f" ] && [ -n "$$q" ] || { echo "check-fashion-int8: no 'correct: C of N images' line in a log"; exit 1; }; \
	echo "$$f $$q" | awk -v drop=$(FASHION_INT8_MAX_DROP) '{ \
	  if ($$2 != $$4 || $$2 == 0) { print "check-fashion-int8: the float and int8 runs saw " $$2 " and " $$4 " images"; exit 1 } \
	  fa = 100 * $$1 / $$2; qa = 100 * $$3 / $$4; \
	  printf "check-fashion-int8: float %.2f%%, int8 %.2f%% (%+.2f points; allowed -%s)\n", fa, qa, qa - fa, drop; \
	  if (qa < fa - drop) { print "check-fashion-int8: FAILED: the int8 LeNet loses more than " drop " points"; exit 1 } }'
	@echo "check-fashion-int8: passed"

check-fashion: fashion-data $(FASHION_B)/classify
	@sh tools/need.sh torch
	@for cc in gcc clang; do \
	  command -v $$cc >/dev/null || { echo "check-fashion: $$cc is missing (apt-get install $$cc)"; exit 1; }; \
	  $$cc $(FASHION_WARN) -Werror -I$(FASHION_B) -Iruntime -fsyntax-only $(FASHION_SRC)/classify.c || exit 1; \
	done; echo "check-fashion: classify.c is warning-free with gcc and clang"
	@$(FASHION_B)/classify $(FASHION_ARGS) --predictions $(FASHION_B)/predictions.txt > $(FASHION_B)/classify.log \
	  || { cat $(FASHION_B)/classify.log; echo "check-fashion: classify failed"; exit 1; }
	@$(PYTHON) $(FASHION_SRC)/eval_torch.py --weights $(FASHION_WEIGHTS) --data $(FASHION_DATA) \
	  --c-log $(FASHION_B)/classify.log --c-predictions $(FASHION_B)/predictions.txt \
	  --min-accuracy 89.0 --max-diff 2 \
	  || { echo "check-fashion: FAILED"; exit 1; }
	@echo "check-fashion: passed"

.PHONY: fashion-data fashion-demo check-fashion check-fashion-int8

ifneq ($(FASHION_PREV_GOAL),)
.DEFAULT_GOAL := $(FASHION_PREV_GOAL)
else
.DEFAULT_GOAL :=
endif
