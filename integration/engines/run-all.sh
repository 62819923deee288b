#!/bin/sh
# The engine suites in sequence against one runtime (podman, containerd, docker, and podman
# running WebAssembly modules); non-zero if any failed.
# usage: run-all.sh RUNTIME      (e.g. target/x86_64-unknown-linux-gnu/release/skiff, or /usr/sbin/runc)
set -u
if [ -z "${1:-}" ]; then echo "usage: $0 RUNTIME" >&2; exit 2; fi
dir=$(cd "$(dirname "$0")" && pwd)
rt=$1
if ! command -v bash > /dev/null 2>&1; then
    echo "engines: bash is missing: install the Debian package bash" >&2; exit 1
fi
status=0 summary="" stop=""
# ^C reaches the running suite, which tears itself down; then no further suite starts
trap 'stop=1' INT TERM HUP
start=$(date +%s)
for suite in podman containerd docker wasm; do
    if [ -n "$stop" ]; then summary="$summary  $suite interrupted, not run
"; status=1; continue; fi
    s=$(date +%s)
    if bash "$dir/$suite.sh" "$rt"; then r=passed; else r=FAILED; status=1; fi
    summary="$summary$(printf '  %-11s %s (%ss)' "$suite" "$r" $(( $(date +%s) - s )))
"
    echo
done
printf 'engine suites, runtime %s (%ss):\n%s' "$rt" $(( $(date +%s) - start )) "$summary"
exit $status
