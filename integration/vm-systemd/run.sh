#!/bin/bash
# skiff's systemd VM (from shared/test-world/vm-systemd, verified there; parameterized here).
# Boot a qemu VM whose PID 1 is systemd (the host's own, on cgroup v2 or v1) with the host's root
# filesystem as its read-only root (9p) under a tmpfs overlay, run GUEST_SCRIPT in it as root
# from vm-test.service once multi-user.target is reached, power off, and exit with the
# script's exit status: 124 if the VM ran past VM_TIMEOUT, 125 if the harness or the boot
# failed. The guest's console (the script's output, kernel and systemd errors) goes to stdout,
# this script's own messages to stderr.
#
# usage: run.sh GUEST_SCRIPT [EXTRA_FILE...]
# In the guest: the script is /share/script (it needs a #! line; runs in /tmp, stdin
# /dev/null), $SHARE=/share (this run's share, read-write), $FILES=/share/files (the
# EXTRA_FILEs, by basename). Everything installed on the host is installed in the guest.
#
# env: VM_WORK (/tmp/vm-systemd: cached image-KEY/, one run.XXXXXX/ per run, removed at exit)
#      VM_TIMEOUT (600 s)  VM_MEM (2G)  VM_SMP (2)  VM_ACCEL (tcg|kvm)
#      VM_CPU (qemu64: under TCG 5-25% faster than "max" on podman commands)
#      VM_KVER (kernel version)  VM_APPEND (extra kernel arguments: vm.mask=UNIT,...
#      vm.tmpfs=/path:mode,...  vm.clean_poweroff=1  vm.rwsize=75%  vm.msize=512000, or any
#      systemd.*/kernel argument)  VM_KEEP=1 (keep the run's share)
#      VM_LOG=FILE (a copy of the script's output alone, without the console's other messages)
#      VM_CGROUP (v2: the unified hierarchy; v1: systemd's hybrid layout with v1 controllers)
#      VM_QEMU_ARGS (more qemu arguments, split on spaces: `-d in_asm -D FILE` for footprint.sh)
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vm-lib.sh"
VM_WORK=${VM_WORK:-$here/../../work/vm-systemd}
VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_MEM=${VM_MEM:-2G}
VM_SMP=${VM_SMP:-2}
VM_CPU=${VM_CPU:-qemu64}

say() { echo "vm-systemd: $*" >&2; }
die() { say "$*"; exit 125; }

[ $# -ge 1 ] || { echo "usage: $0 GUEST_SCRIPT [EXTRA_FILE...]" >&2; exit 125; }
script=$1; shift
[ -f "$script" ] || die "guest script $script is missing"
for f in "$@"; do [ -e "$f" ] || die "extra file $f is missing"; done
[ "$(id -u)" = 0 ] || die "run as root (9p exports the host's root with security_model=none)"

missing=""
need() { missing="$missing
  $1 (install $2)"; }
command -v qemu-system-x86_64 >/dev/null || need qemu-system-x86_64 qemu-system-x86
command -v modprobe >/dev/null || need modprobe kmod
command -v cpio >/dev/null || need cpio cpio
[ -x /bin/busybox ] || need /bin/busybox busybox-static
[ -x /lib/systemd/systemd ] || need /lib/systemd/systemd systemd
command -v dbus-daemon >/dev/null || command -v dbus-broker >/dev/null || need dbus-daemon dbus
kver=${VM_KVER:-}
if [ -z "$kver" ]; then
    for d in $(ls /lib/modules 2>/dev/null | sort -V); do
        [ -f "/boot/vmlinuz-$d" ] && kver=$d
    done
fi
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] || need "a kernel: /boot/vmlinuz-* with /lib/modules/*" linux-image-amd64
[ -z "$missing" ] || die "cannot run the VM, missing:$missing"

mkdir -p "$VM_WORK"
VM_WORK=$(cd "$VM_WORK" && pwd)
run="" qpid=""
cleanup() {
    [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
    [ -z "$run" ] || if [ "${VM_KEEP:-}" = 1 ]; then say "kept $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- image: one per kernel + busybox + scripts (image-KEY), built once --------------------------
key=$( { echo "$kver"; stat -L -c '%n %s %Y' "/boot/vmlinuz-$kver" "/lib/modules/$kver/modules.dep" /bin/busybox
         cat "$here/init" "$here/runner" "$here/build.sh" "$here/../vm-lib.sh"; } | sha256sum | cut -c1-16)
image=$VM_WORK/image-$key
exec 9> "$VM_WORK/image.lock"
flock 9
if [ ! -f "$image/kver" ]; then
    rm -rf "$image.new"
    "$here/build.sh" "$image.new" "$kver" >&2 || die "build.sh failed"
    mv "$image.new" "$image"
fi
touch "$image"
# Other images, unused for 10 min (a run needs its image only until qemu has started).
find "$VM_WORK" -mindepth 1 -maxdepth 1 \( -name 'image-*' -o -name image \) ! -path "$image" -mmin +10 \
    -exec rm -rf {} + 2>/dev/null || true
flock -u 9

# --- this run's share -------------------------------------------------------------------------
# Runs share VM_WORK: a live run holds a lock on run.XXXXXX/lock (qemu inherits it); remove
# the directories of killed runs only (and none younger than 10 min: not locked yet).
for d in "$VM_WORK"/run.*; do
    [ -d "$d" ] && [ -n "$(find "$d" -maxdepth 0 -mmin +10)" ] || continue
    ( flock -n 7 && rm -rf "$d" ) 2>/dev/null 7>> "$d/lock" || true
done
run=$(mktemp -d "$VM_WORK/run.XXXXXX")
exec 8> "$run/lock"
flock 8
share=$run/share
mkdir -p "$share/files"
vm_share_files "$share" "$script" "$@" || die "cannot fill the share"

# --- boot -------------------------------------------------------------------------------------
VM_ACCEL=${VM_ACCEL:-$(vm_default_accel)}
kernel=/boot/vmlinuz-$kver
# shellcheck disable=SC2054  # (the commas are inside one argument)
case $VM_ACCEL in
    kvm) accel=(-accel kvm -cpu host) ;;
    tcg) accel=(-accel tcg,thread=multi -cpu "$VM_CPU")
         [ -s "$image/vmlinux" ] && kernel=$image/vmlinux ;;
    *) die "VM_ACCEL must be tcg or kvm, not $VM_ACCEL" ;;
esac
# VM_CGROUP=v1: systemd's legacy/hybrid layout (v1 controllers), as systemd 252 still boots it
case ${VM_CGROUP:-v2} in
    v2) cgroups="systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all" ;;
    v1) cgroups="systemd.unified_cgroup_hierarchy=0 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1" ;;
    *) die "VM_CGROUP must be v1 or v2, not $VM_CGROUP" ;;
esac
append="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init $cgroups"
append="$append apparmor=0 lsm=landlock,lockdown,yama,integrity,bpf systemd.unit=multi-user.target systemd.hostname=vm ${VM_APPEND:-}"
say "booting $kver ($VM_ACCEL, $VM_SMP cpus, $VM_MEM): script $script, timeout ${VM_TIMEOUT}s"
start=$(date +%s.%N)
# shellcheck disable=SC2086  # (VM_QEMU_ARGS: split on purpose)
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 "${accel[@]}" ${VM_QEMU_ARGS:-} -m "$VM_MEM" -smp "$VM_SMP" \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$kernel" -initrd "$image/initramfs.cpio.gz" -append "$append" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot \
    -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" </dev/null &
qpid=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=""
end=$(date +%s.%N)
wall=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
boot=""
if [ -e "$share/started" ]; then
    boot=$(awk "BEGIN { printf \"%.1f\", $(stat -c %.Y "$share/started") - $start }")
    boot=", script started after ${boot}s"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    say "TIMEOUT: the VM ran longer than ${VM_TIMEOUT}s and was killed (${wall}s$boot)"
    exit 124
fi
[ -z "${VM_LOG:-}" ] || [ ! -f "$share/log" ] || cp "$share/log" "$VM_LOG" || say "cannot write $VM_LOG"
rc=$(cat "$share/rc" 2>/dev/null) || true
[ -n "$rc" ] || die "the guest script did not finish (qemu exit status $qrc, ${wall}s$boot): see the console output above"
say "guest script exit status $rc (qemu $qrc, ${wall}s in all$boot)"
exit "$rc"
