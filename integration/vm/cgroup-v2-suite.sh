#!/bin/sh
# The cgroup v2 tier of `make test`: boot the VM twice, running guest-cgroup-v2.sh under skiff
# and under Debian's runc, and require (1) every check to pass under both and (2) the cgroup
# file values ("value:" lines) to agree. Fails loudly when qemu, the kernel or runc is missing.
# usage: cgroup-v2-suite.sh SKIFF
set -eu
here=$(cd "$(dirname "$0")" && pwd)
skiff=$1
runc=${RUNC:-/usr/sbin/runc}
[ -x "$runc" ] || { echo "cgroup-v2-suite: $runc is missing: install Debian's runc" >&2; exit 1; }
out=${VM_WORK:-$here/../../work/vm}/suite
mkdir -p "$out"
status=0
for runtime in "$skiff" "$runc"; do
    name=$(basename "$runtime")
    echo "== cgroup v2 suite under $name (VM boot)"
    rc=0
    bash "$here/run-suite.sh" "$runtime" "$here/guest-cgroup-v2.sh" > "$out/$name.out" || rc=$?
    # The reference runtime's boot once stalled under TCG before the guest script's first
    # line (2026-11-28, CI: 300 s, then 16 s on the next boot). Only for runc, and only for a
    # timeout with no output from the script at all, boot once more and say so; a skiff run
    # is never retried.
    if [ "$rc" = 124 ] && [ "$runtime" = "$runc" ] && ! grep -q '^runtime:' "$out/$name.out"; then
        echo "cgroup-v2-suite: the $name VM stalled before its script started; booting it once more"
        rc=0
        bash "$here/run-suite.sh" "$runtime" "$here/guest-cgroup-v2.sh" > "$out/$name.out" || rc=$?
    fi
    if [ "$rc" = 0 ]; then
        grep '^summary:' "$out/$name.out" || true
    else
        echo "cgroup-v2-suite: $name failed (exit $rc):" >&2
        grep -E '^(FAIL|run-suite|vm):' "$out/$name.out" >&2 || tail -20 "$out/$name.out" >&2
        status=1
    fi
done
grep '^value:' "$out/skiff.out" > "$out/skiff.values" || true
grep '^value:' "$out/runc.out" > "$out/runc.values" || true
if [ ! -s "$out/runc.values" ]; then
    echo "cgroup-v2-suite: runc produced no values to compare" >&2
    status=1
elif ! diff -u "$out/runc.values" "$out/skiff.values"; then
    echo "cgroup-v2-suite: skiff's cgroup files differ from runc's (above: - runc, + skiff)" >&2
    status=1
else
    echo "cgroup-v2-suite: $(wc -l < "$out/skiff.values") cgroup values agree with runc"
fi
exit $status
