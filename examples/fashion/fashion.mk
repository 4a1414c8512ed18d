# examples/fashion/fashion.mk -- Fashion-MNIST in plain C with a netc-generated LeNet.
#
# Included from the top-level Makefile (which builds $(B)/netc and $(B)/libnetcrt.a):
#
#   make fashion-demo    generate the C with netc, build classify, classify the
#                        10,000 test images; ends with the line "accuracy: XX.X%"
#   make check-fashion   the test: classify.c warning-free under gcc and clang, the C
#                        accuracy >= 89.0% and equal to PyTorch's on the same weights
#
# The data set is Debian's dataset-fashion-mnist (installed with apt-get when make
# runs as root, named otherwise). check-fashion also needs python3-torch.
#
# Variables: B (build directory, default build), PYTHON (default /usr/bin/python3),
# CC, FASHION_DATA (the IDX files' directory), FASHION_IMAGES, FASHION_LABELS,
# FASHION_WEIGHTS.

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

fashion-demo: fashion-data $(FASHION_B)/classify
	@echo "== netc --report $(FASHION_SRC)/lenet_fashion.net -o $(FASHION_B)/lenet_fashion.c   (LeNet, ReLU, max pooling)"
	@sed -n '/^layer/,$$p' $(FASHION_B)/lenet_fashion.report
	@echo
	@echo "== $(FASHION_B)/classify: the generated C and the runtime classify Debian's Fashion-MNIST test set"
	@$(FASHION_B)/classify $(FASHION_ARGS)

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

.PHONY: fashion-data fashion-demo check-fashion

ifneq ($(FASHION_PREV_GOAL),)
.DEFAULT_GOAL := $(FASHION_PREV_GOAL)
else
.DEFAULT_GOAL :=
endif
