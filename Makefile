# skiff: build, demo, test and bench. Run as root on Debian (containers need root).
#   make run    install what is missing, build, make a busybox bundle, run a container in it
#   make test   the same set-up, then every test tier
#   make bench  skiff, runc and crun side by side (not part of make test)
#   make hot-symbols  regenerate the link order of the hot functions (perf, python3)

SKIFF    := target/x86_64-unknown-linux-gnu/release/skiff
# The wasm handler (wasm-handler/, wasmtime inside): built with a profile of its own and copied
# beside the release binary, where skiff looks for it first.
HANDLER_BUILT := target/x86_64-unknown-linux-gnu/wasm-handler/skiff-wasm
HANDLER       := target/x86_64-unknown-linux-gnu/release/skiff-wasm
WORK     := $(CURDIR)/work
BUNDLE   := $(WORK)/bundle
# Debian packages the build, the tests and the bench use (g++: libFuzzer; the second line: the engines and
# podman's default seccomp profile; the third line: the cgroup v2 VM and the systemd VM; the last: the CRI test,
# strace and python3 for make bench, man-db for make test-install, debootstrap and catatonit for the workloads tier,
# e2fsprogs for chattr: the immutable installed binaries and their tests).
BUILD_PACKAGES := libseccomp-dev pkg-config gcc
PACKAGES := busybox-static runc crun hyperfine time util-linux bsdutils procps libseccomp-dev pkg-config gcc g++ libc6-dev \
            podman conmon containerd docker.io golang-github-containers-common \
            qemu-system-x86 linux-image-amd64 kmod cpio xz-utils systemd dbus jq uidmap iproute2 \
            umoci protobuf-compiler strace python3 man-db criu debootstrap catatonit e2fsprogs
CARGO    ?= cargo

CRI_TEST_BIN = $(CARGO) test --locked -p skiff-cri-test --no-run --message-format=json | \
    jq -r 'select(.profile.test and .target.name == "cri") | .executable'

PREFIX  ?= /usr/local
DESTDIR ?=
# What make install puts where (and make uninstall removes, exactly): the binaries read-only
# and immutable (skiff and its wasm handler, side by side; see install),
# the man pages (section 8, as runc's), and the completions where Debian's shells look.
BIN_DIR   = $(DESTDIR)$(PREFIX)/bin
MAN_DIR   = $(DESTDIR)$(PREFIX)/share/man/man8
BASH_DIR  = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_DIR   = $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
FISH_DIR  = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
GENERATED = $(WORK)/generated
# The test modules (integration/wasm/*.wat) as .wasm, for the engine tiers' images.
WASM_MODULES = $(WORK)/wasm-modules

.PHONY: all build-deps deps build wasm-handler wasm-modules bundle run test test-lint install uninstall generated test-install deb test-deb test-host test-engines test-workloads test-cri test-fuzz test-vm test-vm-systemd bench hot-symbols footprint clean

all: build

# install_missing PACKAGE...: apt-get install those not installed yet.
install_missing = missing=""; for p in $(1); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# What building needs, and no more: make install and make deb stop here (the engines, VMs and
# peers of the test list could conflict with a user's own docker or containerd).
build-deps:
	@$(call install_missing,$(BUILD_PACKAGES))
	@command -v $(CARGO) >/dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
	$(CARGO) fetch --locked

# Everything the demo, the tests and the bench use.
deps: build-deps
	@$(call install_missing,$(PACKAGES))

build: build-deps
	$(CARGO) build --release --locked

# Not part of build: a native-only skiff needs none of wasmtime, and make run stays quick. The
# first build takes minutes on two cores; cargo keeps it in target/ afterwards.
wasm-handler: build-deps
	$(CARGO) build --locked --profile wasm-handler -p skiff-wasm
	install -m 0755 $(HANDLER_BUILT) $(HANDLER)

wasm-modules: build-deps
	$(CARGO) run --locked --quiet -p skiff-wasm-modules -- $(WASM_MODULES)

bundle: build deps
	sh integration/mk-bundle.sh $(SKIFF) $(BUNDLE)

# Runs the bundle's default command: a report of what the container sees.
run: bundle
	$(SKIFF) --root $(WORK)/state run --bundle $(BUNDLE) skiff-demo

# Every tier: unit tests (src/), containers on this host (tests/, as root, with differential
# runs under Debian's runc), podman, containerd and docker driving skiff, a real Debian image
# (PostgreSQL, nginx, systemd) under podman with runc and skiff side by side, the fuzz targets for
# a bounded time, cgroup v2 in a qemu VM on Debian's kernel (skiff and runc), and a VM booting
# systemd for the systemd cgroup driver and the engines in their default configuration.
test: test-lint test-host test-install test-deb test-engines test-workloads test-cri test-fuzz test-vm test-vm-systemd

# rustfmt (rustfmt.toml) over the workspace and the fuzz crate; clippy over every target,
# warnings refused; Cargo.toml's [lints] among them (a SAFETY comment on every unsafe block).
test-lint: deps
	$(CARGO) fmt --all --check
	cd fuzz && $(CARGO) fmt --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# The dev profile: the release profile's LTO would be re-run for every test binary.
test-host: build deps wasm-handler
	$(CARGO) test --locked
	CARGO="$(CARGO)" sh integration/unprivileged-tests.sh

test-engines: build deps wasm-handler wasm-modules
	WASM_MODULES=$(WASM_MODULES) bash integration/engines/run-all.sh $(CURDIR)/$(SKIFF)

# A Debian bookworm image made with debootstrap (cached in work/workloads, rebuilt only when
# its script changes) under podman, with runc and skiff side by side: PostgreSQL, nginx in a
# pod, --read-only, --tmpfs, a non-root user's stdio, systemd as PID 1. About 2 min, the
# image's first build included.
test-workloads: build deps
	bash integration/workloads/workloads.sh $(CURDIR)/$(SKIFF)

# containerd's CRI plugin with the handlers skiff and runc, driven by the CRI client test
# (integration/cri: k8s-cri + tonic), the calls a kubelet makes; the two handlers compared.
test-cri: build deps wasm-handler wasm-modules
	bin=$$($(CRI_TEST_BIN)) && WASM_MODULES=$(WASM_MODULES) bash integration/engines/cri.sh $(CURDIR)/$(SKIFF) "$$bin"

# libFuzzer through cargo-fuzz (installed from crates.io by the script when missing).
FUZZ_SECONDS ?= 60
test-fuzz: deps
	sh fuzz/run.sh $(FUZZ_SECONDS)

test-vm: build deps
	sh integration/vm/cgroup-v2-suite.sh $(SKIFF)

# systemd as PID 1 (v2, then v1): the systemd cgroup driver beside runc, the engines' defaults
# (the CRI tier too, with SystemdCgroup = true).
test-vm-systemd: build deps
	bin=$$($(CRI_TEST_BIN)) && sh integration/vm-systemd/systemd-suite.sh $(SKIFF) "$$bin"

bench: build deps wasm-handler wasm-modules
	WASM_MODULES=$(WASM_MODULES) sh integration/bench.sh $(SKIFF) $(WORK)/bench 30

# Regenerate link/hot-symbols.txt (the link order of the hot functions; needs perf and
# python3). Not part of make test: a stale list only costs resident memory, never correctness.
hot-symbols: build deps
	sh integration/hot-symbols.sh $(SKIFF) 200

# How much of skiff's code one `run` executes: qemu's log of the blocks it translates in the
# systemd VM, mapped to phases, crates and functions (docs/performance.md). Not a test.
footprint: build deps
	bash integration/vm-systemd/footprint.sh $(SKIFF)

# Man pages and completions from the clap definitions (integration/docgen: clap_mangen and
# clap_complete stay out of the runtime binary). Never hand-edited, never committed.
generated: build-deps
	rm -rf $(GENERATED)
	$(CARGO) run --locked --quiet -p skiff-docgen -- $(GENERATED)

# The installed binaries are made immutable (chattr +i): no process, root included, can open
# them for writing, so create, run and exec need no re-exec from a read-only mount of skiff
# (CVE-2019-5736; docs/security.md). Not in a staged install (DESTDIR): the packager's tree must
# stay removable, and the .deb's postinst sets the attribute itself. Where the filesystem has no
# such attribute, skiff re-executes as before.
INSTALLED_BINARIES = $(BIN_DIR)/skiff $(BIN_DIR)/skiff-wasm
seal_binaries = if [ -z "$(DESTDIR)" ]; then for f in $(INSTALLED_BINARIES); do \
	    chattr +i $$f 2>/dev/null || echo "note: chattr +i $$f failed: skiff re-executes from a read-only mount instead"; done; fi
unseal_binaries = for f in $(INSTALLED_BINARIES); do [ ! -e $$f ] || chattr -i $$f 2>/dev/null || true; done

install: build generated wasm-handler
	install -d $(BIN_DIR) $(MAN_DIR) $(BASH_DIR) $(ZSH_DIR) $(FISH_DIR)
	@$(unseal_binaries)
	install -m 0555 $(SKIFF) $(BIN_DIR)/skiff
	install -m 0555 $(HANDLER) $(BIN_DIR)/skiff-wasm
	@$(seal_binaries)
	install -m 0644 $(GENERATED)/man8/*.8 $(MAN_DIR)/
	install -m 0644 $(GENERATED)/completions/skiff.bash $(BASH_DIR)/skiff
	install -m 0644 $(GENERATED)/completions/_skiff $(ZSH_DIR)/_skiff
	install -m 0644 $(GENERATED)/completions/skiff.fish $(FISH_DIR)/skiff.fish

uninstall:
	@$(unseal_binaries)
	rm -f $(BIN_DIR)/skiff $(BIN_DIR)/skiff-wasm $(BASH_DIR)/skiff $(ZSH_DIR)/_skiff $(FISH_DIR)/skiff.fish
	rm -f $(MAN_DIR)/skiff.8 $(MAN_DIR)/skiff-*.8

# make install into a temporary DESTDIR: every file checked, each man page rendered with
# man -l, the bash completion loaded and asked to complete a subcommand; then make uninstall
# must leave nothing.
test-install: deps build generated
	sh integration/install-test.sh $(CURDIR)

# The Debian package (cargo-deb, installed from crates.io when missing): the tested binary,
# the man pages, the completions, the docs and configuration snippets for podman,
# containerd (Kubernetes) and docker.
deb: build generated wasm-handler
	command -v cargo-deb >/dev/null 2>&1 || $(CARGO) install --locked --version 3.8.0 cargo-deb
	mkdir -p $(WORK)/deb
	$(CARGO) deb --no-build --no-strip --target x86_64-unknown-linux-gnu -o $(WORK)/deb/

# The .deb's contents (dpkg-deb -c), then installed into a temporary root with dpkg --root,
# used to run a container, and removed: nothing of it may be left.
test-deb: deps deb
	sh integration/deb-test.sh $(CURDIR) $(WORK)/deb

clean:
	rm -rf $(WORK)
	$(CARGO) clean
