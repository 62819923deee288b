# skiff: build, demo, test and bench. Run as root on Debian (containers need root).
#   make run    install what is missing, build, make a busybox bundle, run a container in it
#   make test   the same set-up, then every test tier
#   make bench  skiff, runc and crun side by side (not part of make test)
#   make hot-symbols  regenerate the link order of the hot functions (perf, python3)

SKIFF    := target/x86_64-unknown-linux-gnu/release/skiff
WORK     := $(CURDIR)/work
BUNDLE   := $(WORK)/bundle
# Debian packages the build, the tests and the bench use (g++: libFuzzer; the second line: the engines and
# podman's default seccomp profile; the third line: the cgroup v2 VM and the systemd VM; the last: the CRI test,
# and strace and python3 for make bench).
PACKAGES := busybox-static runc crun hyperfine time util-linux bsdutils procps libseccomp-dev pkg-config gcc g++ \
            podman conmon containerd docker.io golang-github-containers-common \
            qemu-system-x86 linux-image-amd64 kmod cpio xz-utils systemd dbus jq uidmap iproute2 \
            umoci protobuf-compiler strace python3
CARGO    ?= cargo

CRI_TEST_BIN = $(CARGO) test --locked -p skiff-cri-test --no-run --message-format=json | \
    jq -r 'select(.profile.test and .target.name == "cri") | .executable'

.PHONY: all deps build bundle run test test-lint test-host test-engines test-cri test-fuzz test-vm test-vm-systemd bench hot-symbols clean

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
	$(CARGO) fetch --locked

build: deps
	$(CARGO) build --release --locked

bundle: build
	sh integration/mk-bundle.sh $(SKIFF) $(BUNDLE)

# Runs the bundle's default command: a report of what the container sees.
run: bundle
	$(SKIFF) --root $(WORK)/state run --bundle $(BUNDLE) skiff-demo

# Every tier: unit tests (src/), containers on this host (tests/, as root, with differential
# runs under Debian's runc), podman, containerd and docker driving skiff, the fuzz targets for
# a bounded time, cgroup v2 in a qemu VM on Debian's kernel (skiff and runc), and a VM booting
# systemd for the systemd cgroup driver and the engines in their default configuration.
test: test-lint test-host test-engines test-cri test-fuzz test-vm test-vm-systemd

# clippy over every target, warnings refused; Cargo.toml's [lints] among them (a SAFETY
# comment on every unsafe block).
test-lint: deps
	$(CARGO) clippy --locked --all-targets -- -D warnings

# The dev profile: the release profile's LTO would be re-run for every test binary.
test-host: build
	$(CARGO) test --locked

test-engines: build
	bash integration/engines/run-all.sh $(CURDIR)/$(SKIFF)

# containerd's CRI plugin with the handlers skiff and runc, driven by the CRI client test
# (integration/cri: k8s-cri + tonic), the calls a kubelet makes; the two handlers compared.
test-cri: build
	bin=$$($(CRI_TEST_BIN)) && bash integration/engines/cri.sh $(CURDIR)/$(SKIFF) "$$bin"

# libFuzzer through cargo-fuzz (installed from crates.io by the script when missing).
FUZZ_SECONDS ?= 60
test-fuzz: deps
	sh fuzz/run.sh $(FUZZ_SECONDS)

test-vm: build
	sh integration/vm/cgroup-v2-suite.sh $(SKIFF)

# systemd as PID 1 (v2, then v1): the systemd cgroup driver beside runc, the engines' defaults
# (the CRI tier too, with SystemdCgroup = true).
test-vm-systemd: build
	bin=$$($(CRI_TEST_BIN)) && sh integration/vm-systemd/systemd-suite.sh $(SKIFF) "$$bin"

bench: build
	sh integration/bench.sh $(SKIFF) $(WORK)/bench 30

# Regenerate link/hot-symbols.txt (the link order of the hot functions; needs perf and
# python3). Not part of make test: a stale list only costs resident memory, never correctness.
hot-symbols: build
	sh integration/hot-symbols.sh $(SKIFF) 200

clean:
	rm -rf $(WORK)
	$(CARGO) clean
