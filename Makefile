# KBUS rig. The two commands most people need:
#   make qemu-test   build, boot x86_64 in QEMU, run the specs, write the report
#   make test        every test: gofmt, vet, Go unit tests, the module's static
#                    checks, the runner's own VM tests, the QEMU specs on every
#                    architecture, the debug kernel and 6.12 on x86_64,
#                    Debian's own kernel with the module built by DKMS,
#                    the qemu-arm64 board image through U-Boot and LAVA, and
#                    the fuzzer and the random-kill stress run (debug kernel)
# Variables: ARCH=x86_64|arm64|arm|all  KERNEL=default|debug  KVER=6.1|6.12  LABELS='stb'
#            TOPOLOGY=pair: an x86_64 and an arm64 guest joined by a network
#            FOCUS='regexp': only the specs whose text matches  SUITE=specs/core
#            REPEAT=N: every chosen suite N times, each spec's pass rate on the page
#            BASELINE=path/to/report.json: the run to compare the page with
#            RUN_ID: one page gathers every target of a make invocation
#            SEED=N OPS=N DIFFTEST_SECONDS=N: make difftest, the model comparison
#            FUZZ_SECONDS=N FUZZ_SEED=N, STRESS_SECONDS=N STRESS_SEED=N: make fuzz, make stress
#            BOARD=qemu-arm64|qemu-arm|orangepi|pc-x86_64|all: make image, image-test
#            FLOOD=1: a board's guest floods printk while it signals (make image, image-test)
#            LAVA_SUITES='specs/core': the suites of the LAVA job's own image (make lava-jobs, lava-test)
#            IMAGE=out/images/B/B.img DEVICE=/dev/sdX [FORCE=1]: make flash

ARCH    ?= x86_64
KERNEL  ?= default
KVER    ?= 6.1
LABELS  ?=
TOPOLOGY ?= single
FOCUS   ?=
SUITE   ?=
BASELINE ?=
OUT     ?= out
RIG_CACHE ?= $(HOME)/.cache/kbus-rig
GO      ?= go

# Every rig invocation of one make run shares its id, so that
# out/reports/index.html shows all of them.
ifeq ($(origin RUN_ID),undefined)
RUN_ID := $(shell date -u +%Y%m%dT%H%M%SZ)
endif

RIG := $(OUT)/bin/rig
RUN_FLAGS = -out $(OUT) -run-id $(RUN_ID) -baseline '$(BASELINE)'
RIG_FLAGS = -arch $(ARCH) -kernel $(KERNEL) -kver $(KVER) $(RUN_FLAGS) -cache $(RIG_CACHE) -labels '$(LABELS)' \
	-focus '$(FOCUS)' $(if $(SUITE),-suite $(SUITE)) $(if $(REPEAT),-repeat $(REPEAT))
# Host-side Go packages: everything but the spec suites, which run in the
# guest (rig/ is the host-side rig; kbus/, limpet/, sim/, cmd/ the product).
HOST_PKGS = $(shell $(GO) list ./... | grep -v '/specs/')
# The kernel build reads the target table through the rig binary.
KERNEL_BUILD = KBUS_RIG=$(RIG) KBUS_RIG_CACHE=$(RIG_CACHE) kernel/build.sh

.PHONY: figures fuzz stress reliability-test boards-test lava-jobs lava-test image image-test image-repro flash flash-test all deps rig deb dkms-install distro-test difftest qemu-test-6.12 qemu-test qemu-test-all qemu-test-debug qemu-test-soak qemu-test-pair qemu-shell bench report test fmt-check vet unit runner-test kernel module-check clean

all: qemu-test

# make test runs these two once, then each stage with SETUP_DONE=1.
deps:
ifndef SETUP_DONE
	@scripts/deps.sh
endif

rig:
ifndef SETUP_DONE
	@$(GO) build "-ldflags=-X github.com/kbus-project/kbus/internal/version.Version=$(VERSION)" -o $(RIG) ./cmd/rig
endif

qemu-test: deps rig
ifeq ($(TOPOLOGY),pair)
	$(RIG) test -topology pair -kernel $(KERNEL) $(RUN_FLAGS) -cache $(RIG_CACHE)
else
	$(RIG) test $(RIG_FLAGS) -topology $(TOPOLOGY)
endif

qemu-shell: deps rig
	$(RIG) shell $(RIG_FLAGS)

# Benchmark figures from the guest (printed; not a pass/fail test).
bench: deps rig
	$(RIG) bench $(RIG_FLAGS)

kernel: deps rig
	$(KERNEL_BUILD) $(ARCH) $(KERNEL) $(KVER)

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './out/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Plain, and the package with the runner's VM tests (build tag vmtest)
# again with them (the only files behind the tag; a unit test checks).
VMTEST_PKGS = ./rig/pipeline/
# staticcheck from the Go module proxy, pinned; on the Go API the
# applications use (issue 30's bar for kbus/...).
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) vet ./...
	$(GO) vet -tags vmtest $(VMTEST_PKGS)
	$(GO) run $(STATICCHECK) ./kbus/...

unit:
	KBUS_TEST_REQUIRE_TOOLS=1 $(GO) test $(HOST_PKGS)

# The runner's own tests boot real guests (a failing spec, a hang, panics),
# side by side. Each guest has its own limit; go test's is only a safety
# net, sized for a cold machine where the first board test builds the
# arm64 kernel while the other lane builds one too.
runner-test: deps
	KBUS_RIG_CACHE=$(RIG_CACHE) $(GO) test -tags vmtest -count=1 -timeout 45m $(VMTEST_PKGS)

# Module static checks against the x86_64 kernel: sparse and checkpatch
# --strict, each failing on any complaint.
module-check: deps rig
	$(MAKE) -C module check KDIR=$$($(KERNEL_BUILD) x86_64 default | tail -n1)

# The hostile neighbours (specs/hostile) run on every architecture and the
# debug kernel, not on the other targets, whose differences (kernel version,
# a distribution's kernel, a boot path) they would not test again.
HOSTILE_LABELS = !soak && !pair && !fuzz && !stress
# The debug kernel leaves out the specs labelled large (a fan-out to half a
# million bindings): under KASAN and TCG they take minutes of CI.
DEBUG_LABELS = $(or $(LABELS),$(HOSTILE_LABELS) && !large)
# Its closing attacker queues 5 000 requests, not 20 000: twenty slices
# check the close's memory and locks as well, at a quarter of the debug
# kernel's minutes; its bind flood meets a bound of 100 bindings, not
# 4096, as each copy a send makes costs that kernel milliseconds
# (docs/testing.md, "What a run costs"); its listing reader's device
# holds 20 000 bindings, not 50 000.
DEBUG_ARGS = -kernel-arg hostile.requests=5000 -kernel-arg hostile.bindings=100 \
	-kernel-arg hostile.listed=20000
qemu-test-debug: deps rig
	$(RIG) test -arch x86_64 -kernel debug $(RUN_FLAGS) -cache $(RIG_CACHE) -labels '$(DEBUG_LABELS)' $(DEBUG_ARGS)

# Every architecture (one summary table), then the debug kernel on x86_64.
qemu-test-all: deps rig
	$(RIG) test -arch all -kernel $(KERNEL) $(RUN_FLAGS) -cache $(RIG_CACHE) -labels '$(or $(LABELS),$(HOSTILE_LABELS))'

# The minutes-long soak (label soak), off by default.
qemu-test-soak: deps rig
	$(RIG) test -arch x86_64 -suite specs/soak -labels soak -name x86_64-soak $(RUN_FLAGS) -cache $(RIG_CACHE)

# The two-machine topology: specs/pair on an x86_64 and an arm64 guest.
qemu-test-pair: deps rig
	$(RIG) test -topology pair -kernel default $(RUN_FLAGS) -cache $(RIG_CACHE)

# The kbus-dkms package: the module's source for DKMS, the uapi header and
# modprobe.d defaults (scripts/build-deb.sh, with debhelper's dh-dkms).
VERSION := $(shell scripts/version.sh)
DEB = $(OUT)/deb/kbus-dkms_$(VERSION)_all.deb
deb: deps
	@scripts/build-deb.sh $(OUT)/deb

# Debian's kernels the rig boots with the module DKMS built for them, by
# the metapackages that name them: its current 6.1 and its 6.12
# (scripts/distro-kernel.sh fetches the image; scripts/deps.sh installs
# their headers).
DISTRO_KERNELS = linux-image-amd64 linux-image-6.12-amd64
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
DKMS_STAMP = $(OUT)/deb/installed.sha256

# Install it here and have DKMS build the module for each of
# DISTRO_KERNELS. The same package twice is installed once (the stamp
# holds the installed .deb's sha256).
dkms-install: deb
	@sum=$$(sha256sum $(DEB) | cut -d' ' -f1); \
	if [ "$$(cat $(DKMS_STAMP) 2>/dev/null)" != "$$sum" ] || \
		[ "$$(dpkg-query -W -f='$${Version}' kbus-dkms 2>/dev/null)" != "$(VERSION)" ]; then \
		echo "$(SUDO) dpkg -i $(DEB)"; $(SUDO) dpkg -i $(DEB) >/dev/null && echo "$$sum" >$(DKMS_STAMP) || exit 1; \
	fi
	@for meta in $(DISTRO_KERNELS); do \
		rel=$$(basename $$(scripts/distro-kernel.sh $(RIG_CACHE) $$meta)/lib/modules/*) || exit 1; \
		dkms status -m kbus -v $(VERSION) -k $$rel | grep -q ': installed' || \
			$(SUDO) dkms install -m kbus -v $(VERSION) -k $$rel >/dev/null || true; \
		dkms status -m kbus -v $(VERSION) -k $$rel | grep ': installed' || \
			{ echo "dkms-install: kbus $(VERSION) is not built for $$rel:"; dkms status; exit 1; }; \
	done

# DISTRO_RUN META ARGS: the x86_64 specs on the Debian kernel META names,
# with the module DKMS built for it.
DISTRO_RUN = root=$$(scripts/distro-kernel.sh $(RIG_CACHE) $(1)) && rel=$$(basename $$root/lib/modules/*) && \
	ko=$$(ls /var/lib/dkms/kbus/$(VERSION)/$$rel/x86_64/module/kbus.ko*) && \
	$(RIG) test -arch x86_64 -distro $$root -distro-module $$ko \
		$(2) $(RUN_FLAGS) -cache $(RIG_CACHE) -labels '$(LABELS)'

# Debian's own amd64 kernel, booted with the module DKMS built for it and
# the kbus-dkms package's udev rule, under Debian's udev; MEMBER_SUITES run
# as a member of the package's kbus group, not as root (docs/kbus.md §18.5).
MEMBER_SUITES = api cli industrial stb
DISTRO_PACKAGE_ARGS = -distro-package kbus-dkms $(addprefix -member-suites ,$(MEMBER_SUITES))
distro-test: deps rig dkms-install
	@$(call DISTRO_RUN,linux-image-amd64,$(DISTRO_PACKAGE_ARGS))

# The module against kbus/model (specs/model) for DIFFTEST_SECONDS, with a
# fresh seed, or replaying one program: make difftest SEED=123 OPS=400.
SEED ?=
OPS ?= 400
DIFFTEST_SECONDS ?= 60
difftest: deps rig
	$(RIG) test $(RIG_FLAGS) -suite specs/model -name $(ARCH)-difftest $(if $(SEED),-kernel-arg difftest.seed=$(SEED)) \
		-kernel-arg difftest.ops=$(OPS) -kernel-arg difftest.seconds=$(DIFFTEST_SECONDS)

# The reliability machinery on the debug kernel (docs/testing.md): the
# coverage-guided fuzzer, for FUZZ_SECONDS after replaying the committed
# corpus (fuzz/corpus), and the random-kill stress run, for
# STRESS_SECONDS; FUZZ_SEED and STRESS_SEED replay a run. make test runs
# both in one boot with short budgets (reliability-test).
FUZZ_SECONDS ?= 300
FUZZ_SEED ?=
STRESS_SECONDS ?= 120
STRESS_SEED ?=
# nokaslr: KCOV's addresses are then the symbol table's, so the fuzzer can
# name the module's functions it never reached.
RELIABILITY = -arch x86_64 -kernel debug $(RUN_FLAGS) -cache $(RIG_CACHE) -kernel-arg nokaslr
FUZZ_ARGS = -kernel-arg fuzz.seconds=$(FUZZ_SECONDS) $(if $(FUZZ_SEED),-kernel-arg fuzz.seed=$(FUZZ_SEED))
STRESS_ARGS = -kernel-arg stress.seconds=$(STRESS_SECONDS) $(if $(STRESS_SEED),-kernel-arg stress.seed=$(STRESS_SEED))
FIGURES = scripts/reliability-figures.sh $(OUT)/reports/$(1)
fuzz: deps rig
	$(RIG) test $(RELIABILITY) -suite specs/fuzz -labels fuzz -name x86_64-debug-fuzz $(FUZZ_ARGS); \
	rc=$$?; $(call FIGURES,x86_64-debug-fuzz); exit $$rc

stress: deps rig
	$(RIG) test $(RELIABILITY) -suite specs/stress -labels stress -name x86_64-debug-stress $(STRESS_ARGS); \
	rc=$$?; $(call FIGURES,x86_64-debug-stress); exit $$rc

reliability-test: FUZZ_SECONDS = 60
reliability-test: STRESS_SECONDS = 30
reliability-test: deps rig
	$(RIG) test $(RELIABILITY) -suite specs/fuzz -suite specs/stress -labels 'fuzz || stress' \
		-name x86_64-debug-reliability $(FUZZ_ARGS) $(STRESS_ARGS); \
	rc=$$?; $(call FIGURES,x86_64-debug-reliability); exit $$rc

# Board images (docs/boards.md): out/images/BOARD/BOARD.img with its .bmap,
# .sha256 and manifest.json; image-test boots each through the board's
# own firmware (U-Boot, the H3 boot ROM, UEFI) and reads the results back
# from the image's results partition.
BOARD ?= qemu-arm64
# FLOOD=1: the guest floods the kernel log while it prints its console
# signals, the proof that kernel messages cost no test case (make test's
# board image does; docs/boards.md).
FLOOD ?=
IMAGE_FLAGS = -board $(BOARD) $(RUN_FLAGS) -cache $(RIG_CACHE) $(if $(FLOOD),-printk-flood)
image: deps rig
	$(RIG) image $(IMAGE_FLAGS)

image-test: deps rig
	$(RIG) test $(IMAGE_FLAGS) -labels '$(LABELS)'

# The same inputs give the same bytes: build twice, compare the sha256s.
REPRO_SUMS = $(OUT)/images/$(if $(filter all,$(BOARD)),*,$(BOARD))/*.img.sha256
REPRO_FIRST = $(OUT)/build/image-repro
image-repro: image
	@rm -rf $(REPRO_FIRST) && mkdir -p $(REPRO_FIRST) && cp $(REPRO_SUMS) $(REPRO_FIRST)/
	$(RIG) image $(IMAGE_FLAGS) >/dev/null
	@for f in $(REPRO_SUMS); do \
		if cmp -s $$f $(REPRO_FIRST)/$$(basename $$f); then \
			echo "image-repro: $$(basename $${f%.sha256}) twice the same: sha256 $$(cut -c1-16 $$f)"; \
		else echo "image-repro: $$(basename $${f%.sha256}) differs between two builds"; exit 1; fi; \
	done

# An image onto an SD card or USB disk: refuses anything that could be the
# wrong disk, writes the mapped blocks, reads them back.
flash: rig
	@[ -n "$(IMAGE)" ] && [ -n "$(DEVICE)" ] || { echo "usage: make flash IMAGE=out/images/B/B.img DEVICE=/dev/sdX [FORCE=1]"; exit 64; }
	$(RIG) flash $(if $(FORCE),--force) $(IMAGE) $(DEVICE)

# rig flash's own tests on loop devices (root); make unit runs them too.
flash-test: deps
	KBUS_TEST_REQUIRE_TOOLS=1 $(GO) test -count=1 -v ./rig/flash/

# LAVA (docs/boards.md): job definitions per board under out/lava/BOARD;
# lava-test runs the board's QEMU job with Debian's lava-dispatcher
# (lava-run, no server) and checks that LAVA recorded every spec of the
# board's image-test run with the same result.
# LAVA_SUITES: the suites the job's image carries, all when empty (an image
# of its own, BOARD-lava, when some are named).
LAVA_SUITES ?=
LAVA_FLAGS = $(IMAGE_FLAGS) $(foreach s,$(LAVA_SUITES),-suite $(s))
lava-jobs: deps rig
	$(RIG) lava-jobs $(LAVA_FLAGS)

lava-test: deps rig image-test
	$(RIG) lava-test $(LAVA_FLAGS)

# What make test runs of the boards: the image built twice to the same
# bytes, booted through U-Boot with the specs, and the core suite run as a
# LAVA job, its guest flooding the kernel log while it signals
# (docs/boards.md, "LAVA": why the job needs no more suites).
CI_BOARD ?= qemu-arm64
boards-test: deps rig
	$(MAKE) --no-print-directory image-repro lava-test BOARD=$(CI_BOARD) RUN_ID=$(RUN_ID) FLOOD=1 \
		LAVA_SUITES=specs/core

# Every x86_64 spec on Linux 6.12: Debian's 6.12, whose build costs a
# cold run nothing, with the module DKMS built for it (README, "Kernels").
# The rig's own minimal 6.12 stays a command away: make qemu-test KVER=6.12.
qemu-test-6.12: deps rig dkms-install
	@$(call DISTRO_RUN,linux-image-6.12-amd64,-name x86_64-6.12)

# The figures of the model comparison, the fuzzer and the stress run, from
# every report folder (make test prints them at the end).
figures:
	@scripts/reliability-figures.sh $(OUT)/reports/*/

# The run's page again (every rig invocation writes it), e.g. against
# another BASELINE: the latest run, or the one RUN_ID names.
report: rig
	$(RIG) report -out $(OUT) -baseline '$(BASELINE)' $(if $(filter command line environment,$(origin RUN_ID)),-run-id $(RUN_ID))

# make test: set-up, the checks in order, then the guests in two lanes side
# by side (scripts/stages.sh: a guest keeps about 1.4 of the two cores
# busy, and two lanes fill the machine), each stage timed into the run's
# profile (scripts/timed.sh; rig report prints it last and puts it on the
# page, docs/testing.md "Where the time goes"). The first failing stage
# ends its lane; the page, the figures and the profile still follow, then
# each failed stage's last lines again (scripts/failed-stages.sh). The
# lanes are balanced by the warm profile (2026-12-05: A 12.4 min and B 17.9
# with reliability-test in B, 15.5 and 14.9 with it in A); on a cold machine
# reliability-test waits in lane A for the debug kernel lane B builds.
FIRST_STAGES = fmt-check vet unit module-check
LANE_A = runner-test qemu-test-all qemu-test-soak qemu-test-pair reliability-test
LANE_B = qemu-test-6.12 qemu-test-debug distro-test boards-test
TEST_STAGES = $(FIRST_STAGES) $(LANE_A) $(LANE_B)
PROFILE = $(OUT)/profile/$(RUN_ID).tsv
TIMED = scripts/timed.sh $(PROFILE)
STAGE_MAKE = $(MAKE) --no-print-directory RUN_ID=$(RUN_ID)
test:
	@rm -f $(PROFILE)
	@$(TIMED) deps $(STAGE_MAKE) deps
	@$(TIMED) go-build $(STAGE_MAKE) rig
	@rc=0; scripts/stages.sh $(PROFILE) '$(FIRST_STAGES)' '$(LANE_A)' '$(LANE_B)' -- \
		$(STAGE_MAKE) SETUP_DONE=1 || rc=$$?; \
	$(STAGE_MAKE) SETUP_DONE=1 figures report || [ $$rc -ne 0 ] || rc=1; \
	scripts/failed-stages.sh $(PROFILE); \
	exit $$rc

clean:
	rm -rf $(OUT)
