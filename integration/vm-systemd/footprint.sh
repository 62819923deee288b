#!/bin/bash
# The code footprint of one `skiff run` under the systemd VM's TCG: boots the VM once with
# qemu logging every block of guest code it translates in skiff's address range (`-d in_asm`),
# runs footprint-guest.sh there, and maps the log back to skiff's functions (footprint.py).
# Not a test; a measurement for docs/performance.md (make footprint).
#
# usage: footprint.sh SKIFF [LOG]   (as root; LOG defaults to work/vm-systemd/footprint.log)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SKIFF [LOG]" >&2; exit 2; }
skiff=$(realpath "$1")
log=$(realpath -m "${2:-$here/../../work/vm-systemd/footprint.log}")
mkdir -p "$(dirname "$log")"
rm -f "$log"
files=$(mktemp -d)
trap 'rm -rf "$files"' EXIT
cp "$skiff" "$files/skiff"
# With randomization off, a static PIE without an interpreter is mapped just below the
# top of the user address space (0x7ffff7...): log only the blocks there.
VM_QEMU_ARGS="-d in_asm -dfilter 0x7fff00000000+0x100000000 -D $log" VM_CGROUP=v2 \
    bash "$here/run.sh" "$here/footprint-guest.sh" "$files/skiff" > "$files/console" 2>&1 || {
    echo "footprint: the VM failed:" >&2; tail -n 20 "$files/console" >&2; exit 1; }
grep -q 'footprint run: exit status 0' "$files/console" || {
    echo "footprint: the run in the VM failed:" >&2; grep -v '^\[' "$files/console" | tail -n 20 >&2; exit 1; }
python3 "$here/footprint.py" "$log" "$skiff"
