# CogXen: build, test and run.  `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

# Debian packages: REQUIRED for translation (setup fails if they cannot be
# installed), OPTIONAL for the peer VM, the Xen guest and its boot tests
# (setup warns if they cannot be installed).  Extend these lists as needed.
DEB_REQUIRED := gcc make libffi-dev pkg-config
DEB_OPTIONAL := squeak-vm qemu-system-x86 libxen-dev musl-dev apache2-utils nginx-light dpkg-dev

VENV          := .venv27
PY            := $(VENV)/bin/python
BUILD         := build
VM            := $(BUILD)/cogxen
TARGET        := targetcogxen.py
TRANSLATE_LOG := $(BUILD)/translate.log

# Translation options: RPYOPT is the optimisation level, -Ojit (the meta-tracing
# JIT, about 9 minutes here); `make translate RPYOPT=-O2` is the plain interpreter
# (about 90 s).  (-O0 and -O1 pick GCs that conflict with shadowstack: RPython
# refuses them.)
RPYOPT   ?= -Ojit
RPYFLAGS ?= --batch --gcrootfinder=shadowstack

# Tests: `make test-quick PYTEST_ARGS='-k image -x'`.
TESTS        ?= tests/
# The tests that run the VM as a program: the same definitions run against build/cogxen.
TRANSLATED_TESTS ?= tests/images/ tests/tools/
PYTEST_FLAGS ?= -v -ra
PYTEST_ARGS  ?=

# `make run`: image and options for build/cogxen ([options] IMAGE [SCRIPT.st]).
IMAGES := $(if $(COGXEN_IMAGES),$(COGXEN_IMAGES),$(abspath $(CURDIR)/../shared/images))
IMAGE  ?= $(IMAGES)/mini.image
ARGS   ?= --eval '3 + 4'
SCRIPT ?=

# Everything translated: a change to any of these re-translates build/cogxen.
VM_SOURCES := $(TARGET) $(shell find spyvm -name '*.py' 2>/dev/null) requirements-dev.txt

.PHONY: help setup venv test test-quick test-translated translate translate-check \
        run httpd httpd-guest bench bench-net clean distclean FORCE

help:
	@echo 'make setup            Debian packages (as root) + $(VENV) (Python 2.7, rpython, pytest)'
	@echo 'make test             test-quick, test-translated, qemu-test, then xen-test (what CI runs)'
	@echo 'make test-quick       untranslated tests: pytest $(TESTS)'
	@echo 'make test-translated  the tests again against $(VM) (COGXEN_VM set), translating if needed'
	@echo 'make translate        translate $(TARGET) to $(VM) if out of date (RPYOPT=$(RPYOPT))'
	@echo 'make translate-check  plain non-JIT translation (-O2) to $(VM)'
	@echo 'make xen              link the same translation with xenport/ into $(XEN_VM), a PVH guest kernel'
	@echo 'make qemu-test        boot $(XEN_VM) under QEMU (TCG): the image cases, bad input, xenport tests'
	@echo 'make xen-test         $(XEN_VM) as a PVH guest under nested Xen (xl create), QEMU TCG'
	@echo 'make run              translate if needed, then $(VM) $$ARGS $$IMAGE [$$SCRIPT]'
	@echo 'make httpd            translate if needed, then serve images/httpd.st on mini.image, port $$PORT (8080)'
	@echo 'make httpd-guest      the same from the guest kernel under QEMU, forwarded from 127.0.0.1:$$PORT'
	@echo '                      (default: --eval '"'3 + 4'"' on mini.image)'
	@echo 'make bench            tinyBenchmarks + the images/bench suite on mini.image, CogXen vs squeak-vm'
	@echo '                      ($$COGXEN_VM or $(VM); BENCH_ARGS=--help lists the options)'
	@echo 'make bench-net        HTTP requests/s and latency: images/httpd.st vs Python http.server vs nginx (ab), and the guest'
	@echo 'make bench-heap       load, save and allInstances of 20 and 200 MB images, CogXen vs squeak-vm'
	@echo 'make clean            remove $(BUILD)/ and Python caches; distclean also $(VENV)/'
	@echo 'Variables: RPYOPT PYTEST_ARGS TESTS IMAGE ARGS SCRIPT COGXEN_IMAGES PYTHON2 V=1'

setup:
	@DEB_REQUIRED='$(DEB_REQUIRED)' DEB_OPTIONAL='$(DEB_OPTIONAL)' VENV='$(VENV)' \
	  bash tools/setup.sh all

# Just the virtualenv; a no-op (well under a second) when it is up to date.
venv:
	@SETUP_QUIET=1 VENV='$(VENV)' bash tools/setup.sh venv

# pytest exits 5 when it collects no test; that is reported, not failed.
define pytest
	rc=0; $(1) $(PY) -m pytest $(if $(2),$(2),$(TESTS)) $(PYTEST_FLAGS) $(PYTEST_ARGS) </dev/null || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'make: pytest collected no tests'; rc=0; fi; \
	exit $$rc
endef

test:
	@$(MAKE) test-quick
	@$(MAKE) test-translated
	@$(MAKE) qemu-test
	@$(MAKE) xen-test

test-quick: venv
	@echo '== untranslated tests: $(TESTS)'
	@$(call pytest,)

test-translated: $(VM) venv
	@echo '== tests against the translated VM: COGXEN_VM=$(CURDIR)/$(VM) $(TRANSLATED_TESTS)'
	@$(call pytest,COGXEN_VM='$(CURDIR)/$(VM)',$(TRANSLATED_TESTS))

translate: $(VM)

translate-check:
	@$(MAKE) $(VM) RPYOPT=-O2

# Records the translation options so that changing them re-translates.
$(BUILD)/translate-options: FORCE
	@mkdir -p $(BUILD)
	@echo '$(RPYFLAGS) $(RPYOPT)' | cmp -s - $@ || echo '$(RPYFLAGS) $(RPYOPT)' > $@

# The generated C stays in build/usession (PYPY_USESSION_DIR).  RPython runs
# make itself, so the outer make's flags are not passed on.  V=1 shows the
# whole translation log; otherwise it is in build/translate.log and its tail is
# shown on failure.
$(VM): $(VM_SOURCES) $(BUILD)/translate-options | venv
	@mkdir -p $(BUILD)/usession
	@echo "translating $(TARGET) -> $(VM) ($(RPYFLAGS) $(RPYOPT)); log: $(TRANSLATE_LOG)"
	@start=$$SECONDS; rc=0; \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PYPY_USESSION_DIR='$(CURDIR)/$(BUILD)/usession' \
	  $(PY) -m rpython $(RPYFLAGS) $(RPYOPT) --output='$(CURDIR)/$(VM)' $(TARGET) </dev/null \
	  $(if $(V),2>&1 | tee $(TRANSLATE_LOG),>$(TRANSLATE_LOG) 2>&1) || rc=$$?; \
	elapsed=$$((SECONDS - start)); \
	if [ $$rc -ne 0 ] || [ ! -x $(VM) ]; then \
	  $(if $(V),,tail -n 150 $(TRANSLATE_LOG) >&2;) \
	  echo "translation FAILED after $$elapsed s (exit $$rc); full log: $(TRANSLATE_LOG)" >&2; \
	  rm -f $(VM); exit 1; \
	fi; \
	grep '^\[Timer\]' $(TRANSLATE_LOG) || true; \
	echo "translated $(VM) in $$elapsed s"

run:
	@[ -f '$(IMAGE)' ] || { echo "make run: image not found: $(IMAGE) (set IMAGE= or COGXEN_IMAGES=)" >&2; exit 2; }
	@$(MAKE) $(VM)
	./$(VM) $(ARGS) '$(IMAGE)' $(SCRIPT)

# `make httpd`: images/httpd.st on mini.image, serving on $(PORT) until SIGTERM.
PORT ?= 8080
httpd:
	@[ -f '$(IMAGES)/mini.image' ] || { echo "make httpd: image not found: $(IMAGES)/mini.image (set COGXEN_IMAGES=)" >&2; exit 2; }
	@$(MAKE) $(VM)
	./$(VM) '$(IMAGES)/mini.image' images/CogXen.st images/Socket.st images/httpd.st $(PORT)

# `make httpd-guest`: the same server in the guest kernel under QEMU (virtio-net,
# user networking), forwarded from 127.0.0.1:$(PORT); Ctrl-A x ends QEMU.
httpd-guest: xen venv
	@[ -f '$(IMAGES)/mini.image' ] || { echo "make httpd-guest: image not found: $(IMAGES)/mini.image (set COGXEN_IMAGES=)" >&2; exit 2; }
	$(PY) tools/guest_httpd.py --kernel '$(XEN_VM)' --image '$(IMAGES)/mini.image' --port $(PORT)

# `make bench`: tools/bench.py runs 0 tinyBenchmarks and the suite of images/bench/
# on $(IMAGE) with the VM under test ($$COGXEN_VM, else $(VM), translated first
# only if missing) and, in the same run, with squeak-vm; it prints the table.
# Then the same suite on Cuis 5 as V3PlusClosures and as SistaV1 code (converted
# by cogxen-image), both on the VM under test: a second table (--no-sista skips
# it, --sista-only runs only it).
# Options go in BENCH_ARGS, e.g. BENCH_ARGS='--only Richards,NBody --iterations 4'.
BENCH_ARGS ?=

bench: venv
	@[ -f '$(IMAGE)' ] || { echo "make bench: image not found: $(IMAGE) (set IMAGE= or COGXEN_IMAGES=)" >&2; exit 2; }
	@$(if $(COGXEN_VM),,[ -x $(VM) ] || $(MAKE) $(VM))
	@[ -f '$(XEN_VM)' ] || $(MAKE) xen
	@$(PY) tools/bench.py --image '$(IMAGE)' $(if $(COGXEN_VM),--vm '$(COGXEN_VM)',--vm '$(VM)') $(BENCH_ARGS)

# `make bench-net`: tools/bench_net.py loads images/httpd.st (the VM under test),
# Python's http.server and nginx with ab, one after the other, and prints requests
# per second and latencies side by side.  BENCH_NET_ARGS=--help lists the options.
BENCH_NET_ARGS ?=
bench-net: venv
	@[ -f '$(IMAGES)/mini.image' ] || { echo "make bench-net: image not found: $(IMAGES)/mini.image (set COGXEN_IMAGES=)" >&2; exit 2; }
	@$(if $(COGXEN_VM),,[ -x $(VM) ] || $(MAKE) $(VM))
	@[ -f '$(XEN_VM)' ] || $(MAKE) xen
	@$(PY) tools/bench_net.py --image '$(IMAGES)/mini.image' $(if $(COGXEN_VM),--vm '$(COGXEN_VM)',--vm '$(VM)') $(BENCH_NET_ARGS)

# `make bench-heap`: tools/benchheap.py grows copies of $(IMAGE) to 20 and 200 MB
# and times loading, saving and `allInstances` with the VM under test and squeak-vm
# side by side (whole processes, peak memory from wait4).  BENCH_HEAP_ARGS=--help.
BENCH_HEAP_ARGS ?=

.PHONY: bench-heap
bench-heap: venv
	@[ -f '$(IMAGE)' ] || { echo "make bench-heap: image not found: $(IMAGE) (set IMAGE= or COGXEN_IMAGES=)" >&2; exit 2; }
	@$(if $(COGXEN_VM),,[ -x $(VM) ] || $(MAKE) $(VM))
	@[ -f '$(XEN_VM)' ] || $(MAKE) xen
	@$(PY) tools/benchheap.py --image '$(IMAGE)' $(if $(COGXEN_VM),--vm '$(COGXEN_VM)',--vm '$(VM)') $(BENCH_HEAP_ARGS)

# --- the Xen guest (xenport/) ----------------------------------------------------
# `make xen` compiles the generated C of the translation that made $(VM) (the
# usession folder whose binary is identical to it: xenport/find-gen.sh) with
# xenport's flags and links it with xenport/ into $(XEN_VM), an ELF with the
# Xen PVH entry note: no second translation.  `make qemu-test` boots it under
# QEMU (TCG, -M microvm) with the real images: the image cases of
# tests/images/cases.py, bad input, and xenport's own tests (tests/xenport/).
XEN_VM   := $(BUILD)/cogxen.xen
XEN_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: xen qemu-test

xen: $(VM)
	@gen=$$(bash xenport/find-gen.sh '$(VM)' '$(BUILD)/usession') && \
	  $(MAKE) -C xenport -j$(XEN_JOBS) GEN="$$gen" OUT='$(CURDIR)/$(XEN_VM)' \
	    BUILD='$(CURDIR)/$(BUILD)/xenport'

qemu-test: xen venv
	@echo '== the guest under QEMU: COGXEN_XEN=$(CURDIR)/$(XEN_VM) tests/xenport/'
	@$(call pytest,COGXEN_XEN='$(CURDIR)/$(XEN_VM)',tests/xenport/)

# `make xen-test`: $(XEN_VM) as a type="pvh" guest under real Xen: Xen 4.17 under
# QEMU (TCG) with a lean dom0 built into $(XEN_TEST_DIR) at test time, `xl create`
# with mini.image as the ramdisk (tests/xenport/test_xen_guest.py, xenrun.py).
# It needs Debian's xen-hypervisor-4.17-amd64, xen-utils-4.17, linux-image-amd64
# and busybox-static: used where installed, else downloaded (apt-get download)
# and unpacked under $(XEN_TEST_DIR)/packages by tests/xenport/xen-packages.sh,
# never installed (the kernel package alone is 70 MB and runs boot hooks).
XEN_TEST_DIR := $(BUILD)/xen-test

.PHONY: xen-test
xen-test: xen venv
	@echo '== the guest under nested Xen (QEMU TCG): tests/xenport/test_xen_guest.py'
	@start=$$SECONDS; mkdir -p '$(XEN_TEST_DIR)'; rm -f '$(XEN_TEST_DIR)/timings.txt'; \
	if $(PY) tests/xenport/xenrun.py --check / 2>/dev/null; then root=/; \
	else root=$$(bash tests/xenport/xen-packages.sh '$(XEN_TEST_DIR)/packages') || root=; fi; \
	rc=0; ( $(call pytest,COGXEN_XEN='$(CURDIR)/$(XEN_VM)' COGXEN_XEN_ROOT="$$root" \
	  COGXEN_XEN_WORK='$(CURDIR)/$(XEN_TEST_DIR)',tests/xenport/test_xen_guest.py) ) || rc=$$?; \
	if [ -f '$(XEN_TEST_DIR)/timings.txt' ]; then cat '$(XEN_TEST_DIR)/timings.txt'; fi; \
	echo "make xen-test: $$((SECONDS - start)) s (serial log: $(XEN_TEST_DIR)/serial.log)"; exit $$rc

clean:
	rm -rf $(BUILD) .pytest_cache
	find . -path ./$(VENV) -prune -o \( -name '*.pyc' -o -name __pycache__ \) -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

FORCE:
