# skiff: build, demo, test and bench. Run as root on Debian (containers need root).
#   make run    install what is missing, build, make a busybox bundle, run a container in it
#   make test   the same set-up, then every test tier
#   make bench  skiff, runc and crun side by side (not part of make test)

SKIFF    := target/x86_64-unknown-linux-gnu/release/skiff
WORK     := $(CURDIR)/work
BUNDLE   := $(WORK)/bundle
# Debian packages the build, the tests and the bench use.
PACKAGES := busybox-static runc crun hyperfine time util-linux libseccomp-dev pkg-config gcc
CARGO    ?= cargo

.PHONY: all deps build bundle run test unit containers bench clean

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

# Unit tests (src/) need no root; tests/ run real containers as root, the differential
# ones under Debian's runc too. The dev profile: the release profile's LTO would be re-run
# for every test binary.
test: build
	$(CARGO) test --locked

bench: build
	sh integration/bench.sh $(SKIFF) $(WORK)/bench 30

clean:
	rm -rf $(WORK)
	$(CARGO) clean
