# install.mk -- installing netc, its pictures, and a test of the installed tree.
# Included by the top-level Makefile (after $(B)/netc and $(B)/libnetcrt.a are
# defined):
#
#   make install        netc, netc-export and netc-check (the PyTorch tools), the
#                       runtime library (plain and OpenMP) + header + pkg-config
#                       files, the man page, models/ and its block library, and
#                       the language docs
#   make uninstall      removes exactly what install put there
#   make docs           every models/*.net drawn to $(B)/docs/NAME.svg (Graphviz)
#   make check-install  install into a scratch DESTDIR, build a separate program
#                       against it through pkg-config, run it, read the man page,
#                       uninstall, and check that nothing is left; then install
#                       to a non-default PREFIX and run README.md's build recipes
#                       (tests/install/recipes.sh), the installed netc-export and
#                       netc-check, and examples/minimal against it
#
# Variables (set on the command line):
#   PREFIX    installation prefix (default /usr/local)
#   DESTDIR   staging root prepended to every installed path (packaging)
#   B         build directory (default build)
#   BINDIR, LIBDIR, INCLUDEDIR, PKGCONFIGDIR, MANDIR, DATADIR, DOCDIR
#             the directories, all below PREFIX by default
#
# The runtime is built with runtime.mk's RT_ARCH, -march=native by default:
# for a library that runs on other machines, build it with RT_ARCH= (from a
# clean build directory) before installing.

# Keep the including Makefile's default goal (restored at the end).
INSTALL_PREV_GOAL := $(.DEFAULT_GOAL)

PREFIX       ?= /usr/local
DESTDIR      ?=
B            ?= build
INSTALL      ?= install
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR       ?= $(PREFIX)/share/man
DATADIR      ?= $(PREFIX)/share/netc
DOCDIR       ?= $(PREFIX)/share/doc/netc

NETC_VERSION_STR := $(shell sed -n 's/^\#define NETC_VERSION "\(.*\)"/\1/p' compiler/netc.h)
# The block library: what models/ imports as "lib/NAME.net", installed as
# DATADIR/lib/NAME.net so that `netc -I DATADIR` finds the same imports.
NETC_LIB_NETS := $(wildcard models/lib/*.net)
# The models, installed as DATADIR/models/NAME.net: `netc -I DATADIR
# DATADIR/models/resnet50.net` finds their imports in DATADIR/lib.
NETC_MODEL_NETS := $(wildcard models/*.net)

# The PyTorch side, installed as commands (Debian's /usr/bin/python3 + python3-torch):
#   netc-export  tools/export_safetensors.py: a state_dict to .safetensors, checked against a net
#   netc-check   tools/netc_check.py: a generated runner against PyTorch on random inputs
NETC_TOOLS := export_safetensors.py:netc-export netc_check.py:netc-check

# The OpenMP build of the runtime, installed beside the plain one as
# libnetcrt-omp.a with netcrt-omp.pc (-fopenmp in Cflags and Libs): the same
# sources and flags as $(B)/libnetcrt.a plus -fopenmp, in objects of its own.
RT_OMP_LIB_OBJS = $(RUNTIME_SRCS:runtime/%.c=$(B)/runtime-omp/%.o)

$(B)/runtime-omp/%.o: runtime/%.c $(RUNTIME_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_RT) $(RT_ARCH) -fopenmp -c $< -o $@

$(B)/libnetcrt-omp.a: $(RT_OMP_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# A .pc file from mk/netcrt.pc.in: $(call make_pc,NAME,OMP-FLAGS,DESCRIPTION-TAIL).
# The plain library carries RT_OMP's flag too if it was built with one.
make_pc = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|g' -e 's|@VERSION@|$(NETC_VERSION_STR)|g' \
	    -e 's|@NAME@|$(1)|g' -e 's|@OMP@|$(if $(2), $(2))|g' -e 's|@DESC@|$(3)|g' mk/netcrt.pc.in > $(B)/$(1).pc

# In the .pc file, directories below the prefix are written as ${prefix}/...,
# so pkg-config --define-prefix can relocate the tree.
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

install: $(B)/netc $(B)/libnetcrt.a $(B)/libnetcrt-omp.a
	@mkdir -p $(B)
	$(call make_pc,netcrt,$(RT_OMP),)
	$(call make_pc,netcrt-omp,-fopenmp, (OpenMP threads))
	$(INSTALL) -d -m 755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(INCLUDEDIR)" \
	  "$(DESTDIR)$(PKGCONFIGDIR)" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(DATADIR)/lib" "$(DESTDIR)$(DATADIR)/models" \
	  "$(DESTDIR)$(DOCDIR)"
	$(INSTALL) -m 755 $(B)/netc "$(DESTDIR)$(BINDIR)/netc"
	$(foreach t,$(NETC_TOOLS),$(INSTALL) -m 755 tools/$(word 1,$(subst :, ,$(t))) \
	  "$(DESTDIR)$(BINDIR)/$(word 2,$(subst :, ,$(t)))" &&) true
	$(INSTALL) -m 644 $(B)/libnetcrt.a "$(DESTDIR)$(LIBDIR)/libnetcrt.a"
	$(INSTALL) -m 644 $(B)/libnetcrt-omp.a "$(DESTDIR)$(LIBDIR)/libnetcrt-omp.a"
	$(INSTALL) -m 644 runtime/netc_rt.h "$(DESTDIR)$(INCLUDEDIR)/netc_rt.h"
	$(INSTALL) -m 644 $(B)/netcrt.pc "$(DESTDIR)$(PKGCONFIGDIR)/netcrt.pc"
	$(INSTALL) -m 644 $(B)/netcrt-omp.pc "$(DESTDIR)$(PKGCONFIGDIR)/netcrt-omp.pc"
	$(INSTALL) -m 644 netc.1 "$(DESTDIR)$(MANDIR)/man1/netc.1"
	$(INSTALL) -m 644 $(NETC_LIB_NETS) "$(DESTDIR)$(DATADIR)/lib/"
	$(INSTALL) -m 644 $(NETC_MODEL_NETS) "$(DESTDIR)$(DATADIR)/models/"
	$(INSTALL) -m 644 docs/language.md "$(DESTDIR)$(DOCDIR)/language.md"

# Removes netc's files, then netc's own directories if they are empty; shared
# directories (bin, lib, include, ...) stay.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/netc" $(foreach t,$(NETC_TOOLS),"$(DESTDIR)$(BINDIR)/$(word 2,$(subst :, ,$(t)))") \
	  "$(DESTDIR)$(LIBDIR)/libnetcrt.a" "$(DESTDIR)$(LIBDIR)/libnetcrt-omp.a" "$(DESTDIR)$(INCLUDEDIR)/netc_rt.h" \
	  "$(DESTDIR)$(PKGCONFIGDIR)/netcrt.pc" "$(DESTDIR)$(PKGCONFIGDIR)/netcrt-omp.pc" "$(DESTDIR)$(MANDIR)/man1/netc.1" \
	  "$(DESTDIR)$(DATADIR)"/lib/*.net $(foreach f,$(NETC_MODEL_NETS),"$(DESTDIR)$(DATADIR)/models/$(notdir $(f))") \
	  "$(DESTDIR)$(DOCDIR)/language.md"
	rmdir "$(DESTDIR)$(DATADIR)/lib" "$(DESTDIR)$(DATADIR)/models" "$(DESTDIR)$(DATADIR)" "$(DESTDIR)$(DOCDIR)" \
	  2>/dev/null || true

# ---- pictures -----------------------------------------------------------------

# DOCS_NETC: the netc that writes the graphs (any build with --dot).
DOCS_NETC ?= $(B)/netc
DOCS_SVGS := $(patsubst models/%.net,$(B)/docs/%.svg,$(wildcard models/*.net))

docs: $(DOCS_SVGS)
	@echo "make docs: $(words $(DOCS_SVGS)) pictures in $(B)/docs/"

# The graph is kept beside the picture ($(B)/docs/NAME.dot): a pipe would hide
# a netc failure behind dot's exit status.
$(B)/docs/%.svg: models/%.net $(NETC_LIB_NETS) $(DOCS_NETC) | docs-tools
	@mkdir -p $(@D)
	$(DOCS_NETC) --dot $< > $(B)/docs/$*.dot || { rm -f $(B)/docs/$*.dot; exit 1; }
	dot -Tsvg $(B)/docs/$*.dot -o $@.tmp
	@mv $@.tmp $@

# Names Debian's graphviz package when dot is missing (installs it as root).
docs-tools:
	@sh tools/need.sh docs

# ---- check-install ----------------------------------------------------------------

# The whole round trip in a scratch root below the build directory (kept on
# failure for inspection): install with PREFIX=/usr, tests/install/run.sh
# builds and runs a program against the staged tree (with $(SAN), the
# Makefile's sanitizer flags, when SANITIZE=1 built the library), then
# uninstall must leave no file behind. Then the same with a real install to
# $(INSTALL_PREFIX), where tests/install/recipes.sh runs README.md's build
# recipes verbatim (the blocks after <!-- check-install: NAME -->), the
# installed netc-export and netc-check, and netcrt-omp on two threads.
INSTALL_ROOT = $(CURDIR)/$(B)/check-install/root
INSTALL_WORK = $(CURDIR)/$(B)/check-install/work
# The second round: a real install to a prefix nobody's pkg-config searches,
# which README's recipes must reach through PATH and PKG_CONFIG_PATH alone.
INSTALL_PREFIX = $(CURDIR)/$(B)/check-install/prefix
NETC_MAKE = $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST))

check-install: $(B)/netc $(B)/libnetcrt.a $(B)/libnetcrt-omp.a
	@sh tools/need.sh install
	@rm -rf "$(INSTALL_ROOT)" "$(INSTALL_WORK)" "$(INSTALL_PREFIX)"
	@mkdir -p "$(INSTALL_ROOT)" "$(INSTALL_WORK)"
	@$(NETC_MAKE) install DESTDIR="$(INSTALL_ROOT)" PREFIX=/usr >"$(INSTALL_WORK)/install.log" 2>&1 || \
	  { cat "$(INSTALL_WORK)/install.log"; echo "check-install: make install failed"; exit 1; }
	@CC="$(CC)" APP_CFLAGS="$(SAN)" sh tests/install/run.sh "$(INSTALL_ROOT)" /usr "$(INSTALL_WORK)"
	@$(NETC_MAKE) uninstall DESTDIR="$(INSTALL_ROOT)" PREFIX=/usr >"$(INSTALL_WORK)/uninstall.log" 2>&1 || \
	  { cat "$(INSTALL_WORK)/uninstall.log"; echo "check-install: make uninstall failed"; exit 1; }
	@left=$$(cd "$(INSTALL_ROOT)" && find . ! -type d | sort); \
	 dirs=$$(cd "$(INSTALL_ROOT)" && find . -type d \( -name netc -o -path ./usr/share/netc/lib -o -path ./usr/share/netc/models \) | sort); \
	 if [ -n "$$left$$dirs" ]; then \
	   echo "check-install: uninstall left these behind in $(INSTALL_ROOT):"; printf '  %s\n' $$left $$dirs; exit 1; fi
	@$(NETC_MAKE) install PREFIX="$(INSTALL_PREFIX)" >"$(INSTALL_WORK)/install2.log" 2>&1 || \
	  { cat "$(INSTALL_WORK)/install2.log"; echo "check-install: make install PREFIX=$(INSTALL_PREFIX) failed"; exit 1; }
	@CC="$(CC)" APP_CFLAGS="$(SAN)" sh tests/install/recipes.sh "$(INSTALL_PREFIX)" "$(INSTALL_WORK)/recipes"
	@$(NETC_MAKE) uninstall PREFIX="$(INSTALL_PREFIX)" >"$(INSTALL_WORK)/uninstall2.log" 2>&1 || \
	  { cat "$(INSTALL_WORK)/uninstall2.log"; echo "check-install: make uninstall PREFIX=$(INSTALL_PREFIX) failed"; exit 1; }
	@left=$$(cd "$(INSTALL_PREFIX)" && find . ! -type d | sort); \
	 dirs=$$(cd "$(INSTALL_PREFIX)" && find . -type d \( -name netc -o -path ./share/netc/lib -o -path ./share/netc/models \) | sort); \
	 if [ -n "$$left$$dirs" ]; then \
	   echo "check-install: uninstall left these behind in $(INSTALL_PREFIX):"; printf '  %s\n' $$left $$dirs; exit 1; fi
	@rm -rf "$(B)/check-install"
	@echo "check-install: install, pkg-config build, man page, README's recipes, tools and uninstall OK"

.PHONY: install uninstall docs docs-tools check-install

ifneq ($(INSTALL_PREV_GOAL),)
.DEFAULT_GOAL := $(INSTALL_PREV_GOAL)
else
.DEFAULT_GOAL :=
endif
