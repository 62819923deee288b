#!/bin/sh
# The systemd tier of `make test`: boot the systemd VM (run.sh) on cgroup v2 and run
# guest-systemd.sh (skiff's systemd cgroup driver side by side with runc, bad input and
# faults, then podman, containerd and dockerd in their default systemd configuration driving
# skiff, then containerd's CRI plugin with SystemdCgroup = true); then boot it on systemd's v1 (hybrid) layout for the driver and the engines. One VM
# at a time: two TCG guests on 2 cores slow each other badly.
# usage: systemd-suite.sh SKIFF CRI_TEST_BINARY
set -eu
here=$(cd "$(dirname "$0")" && pwd)
skiff=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$skiff" ] || { echo "systemd-suite: $1 is not an executable skiff" >&2; exit 1; }
[ -x "${2:-}" ] || { echo "systemd-suite: no CRI client test binary given ('${2:-}'): cargo test -p skiff-cri-test --no-run builds it" >&2; exit 1; }
out=${VM_WORK:-$here/../../work/vm-systemd}/suite
mkdir -p "$out"
cp "$skiff" "$out/skiff"
# the CRI tier's files, by the names guest-systemd.sh looks for
cp "$2" "$out/cri-test"
cri_files="$out/cri-test $here/../engines/cri.sh $here/../engines/lib.sh $here/../mk-rootfs.sh $here/../cri/pause.c $here/criu.sh"
status=0
run() {  # NAME CGROUP SECTIONS
    echo "$3" > "$out/sections"
    echo "== systemd VM ($2): $3"
    rc=0
    VM_CGROUP=$2 bash "$here/run.sh" "$here/guest-systemd.sh" "$out/skiff" "$out/sections" $cri_files > "$out/$1.out" || rc=$?
    grep -E '^(summary|FAIL|timing):' "$out/$1.out" || true
    if [ "$rc" != 0 ]; then
        echo "systemd-suite: $1 failed (exit $rc); the guest's output is in $out/$1.out:" >&2
        grep -E '^(FAIL|vm|vm-systemd):' "$out/$1.out" >&2 || tail -n 30 "$out/$1.out" >&2
        status=1
    fi
}
run v2 v2 "driver errors engines cri criu rootless timing"
run v1 v1 "driver engines criu"
exit $status
