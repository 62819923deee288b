#!/bin/bash
# Run GUEST_SCRIPT inside a Debian-kernel VM (qemu) whose /sys/fs/cgroup is a pure cgroup v2
# hierarchy with every controller enabled, with RUNTIME installed in it. The guest's output
# goes to stdout, this script's own messages to stderr; the exit status is the guest
# script's, or 124 (timeout), 125 (harness or VM failure).
#
# usage: run-suite.sh RUNTIME GUEST_SCRIPT [EXTRA_FILE...]
# In the guest (see README.md): $RUNTIME = /usr/local/bin/<basename of RUNTIME>, the script
# runs as /share/script in /tmp, EXTRA_FILEs are in $FILES = /share/files/<basename>, and
# $ROOTFS = /rootfs is a busybox root filesystem to copy into bundles.
#
# env: VM_WORK (default <repo>/work/vm)  VM_TIMEOUT (300 s)  VM_MEM (1G)  VM_SMP (2)
#      VM_ACCEL (tcg|kvm; default kvm only where /dev/kvm can boot a stock kernel)
#      VM_KVER (kernel version; default the newest with /boot/vmlinuz-* and /lib/modules/*)
#      VM_APPEND (extra kernel arguments)  VM_KEEP=1 (keep the run's share for inspection)
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vm-lib.sh"
repo=$(cd "$here/../.." && pwd)
VM_WORK=${VM_WORK:-$repo/work/vm}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_MEM=${VM_MEM:-1G}
VM_SMP=${VM_SMP:-2}
# brd gives the guest /dev/ram0 (block 1:0) for the io.max checks.
MODULES="virtio_pci 9pnet_virtio 9p overlay brd"
BUSYBOX=/bin/busybox

say() { echo "run-suite: $*" >&2; }
die() { say "$*"; exit 125; }

[ $# -ge 2 ] || { echo "usage: $0 RUNTIME GUEST_SCRIPT [EXTRA_FILE...]" >&2; exit 125; }
runtime_arg=$1; script=$2; shift 2
runtime=$(readlink -f "$runtime_arg" 2>/dev/null) || true
[ -n "$runtime" ] && [ -f "$runtime" ] && [ -x "$runtime" ] || die "runtime $runtime_arg is not an executable file"
[ -f "$script" ] || die "guest script $script is missing"
for f in "$@"; do [ -e "$f" ] || die "extra file $f is missing"; done

# --- what the host must have: report everything missing at once, never skip -------------
missing=""
need() { missing="$missing
  $1 (install $2)"; }
command -v qemu-system-x86_64 >/dev/null || need "qemu-system-x86_64" qemu-system-x86
command -v modprobe >/dev/null || need "modprobe" kmod
command -v cpio >/dev/null || need "cpio" cpio
for tool in gzip timeout sha256sum flock ldd; do
    command -v "$tool" >/dev/null || need "$tool" "$tool's Debian package"
done
if [ ! -x "$BUSYBOX" ]; then
    need "$BUSYBOX" busybox-static
elif ldd "$BUSYBOX" 2>/dev/null | grep -q '=>'; then
    need "a static $BUSYBOX (this one is dynamically linked)" busybox-static
fi
kver=${VM_KVER:-}
if [ -z "$kver" ]; then
    # Newest kernel that has both its image and its modules (the host's own kernel need not).
    for d in $(ls /lib/modules 2>/dev/null | sort -V); do
        [ -f "/boot/vmlinuz-$d" ] && kver=$d
    done
fi
if [ -z "$kver" ]; then
    need "a Debian kernel: /boot/vmlinuz-<version> with /lib/modules/<version>" linux-image-amd64
else
    [ -f "/boot/vmlinuz-$kver" ] || need "the kernel /boot/vmlinuz-$kver" linux-image-amd64
    [ -f "/lib/modules/$kver/modules.dep" ] || need "the modules of $kver (/lib/modules/$kver/modules.dep)" linux-image-amd64
fi
[ -z "$missing" ] || die "cannot run the VM, missing:$missing"

mkdir -p "$VM_WORK"
VM_WORK=$(cd "$VM_WORK" && pwd)
build_dir="" run="" qpid=""
cleanup() {
    [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
    [ -z "$build_dir" ] || rm -rf "$build_dir" "$image.new"
    [ -z "$run" ] || if [ "${VM_KEEP:-}" = 1 ]; then say "kept $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
image=$VM_WORK/image

# --- initramfs: busybox + /init + the 9p/virtio modules + a busybox rootfs for containers ---
# Rebuilt only when an input changes: the kernel, its modules, busybox, init or this script.
module_files() {
    local m
    for m in $MODULES; do
        modprobe -S "$kver" --show-depends "$m" || return 1
    done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}
mods=$(module_files) || die "modprobe cannot resolve the modules $MODULES for $kver (is linux-image-amd64 installed completely?)"
key=$( {
    echo "$kver $MODULES"
    # shellcheck disable=SC2086  # one path per word
    stat -L -c '%n %s %Y' "/boot/vmlinuz-$kver" $mods
    cat "$here/init" "$here/run-suite.sh" "$here/../vm-lib.sh" "$here/../mk-rootfs.sh" "$BUSYBOX"
} | sha256sum | cut -d' ' -f1)

build_image() {
    local w ko b off
    w=$(mktemp -d "$VM_WORK/build.XXXXXX")
    build_dir=$w
    mkdir -p "$w/root/bin" "$w/root/etc" "$w/root/modules"
    cp "$BUSYBOX" "$w/root/bin/busybox"
    cp "$here/init" "$w/root/init"
    chmod 755 "$w/root/init"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$w/root/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' > "$w/root/etc/group"
    : > "$w/root/modules/load.order"
    for ko in $mods; do
        b=$(basename "$ko")
        case $ko in
            *.xz) b=${b%.xz}; xz -dc "$ko" > "$w/root/modules/$b" ;;
            *.zst) b=${b%.zst}; zstd -qdc "$ko" > "$w/root/modules/$b" ;;
            *) cp "$ko" "$w/root/modules/$b" ;;
        esac
        echo "$b" >> "$w/root/modules/load.order"
    done
    # The containers' root filesystem, the same as integration/mk-bundle.sh's.
    BUSYBOX=$BUSYBOX sh "$here/../mk-rootfs.sh" "$w/root/rootfs"
    (cd "$w/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$w/initramfs.cpio.gz"
    # Under TCG the kernel's own xz decompression costs 2-3 s per boot: keep the
    # uncompressed (PVH-bootable ELF) vmlinux when xz can extract it, else boot vmlinuz.
    vm_extract_vmlinux "$kver" "$w/vmlinux"
    [ -s "$w/vmlinux" ] || say "note: no uncompressed vmlinux (needs xz-utils): booting vmlinuz, 2-3 s slower"
    rm -rf "$image.new"
    mkdir -p "$image.new"
    mv "$w/initramfs.cpio.gz" "$w/vmlinux" "$image.new/"
    echo "$kver" > "$image.new/kver"
    echo "$key" > "$image.new/key"
    rm -rf "$image"
    mv "$image.new" "$image"
    say "built $image/initramfs.cpio.gz ($(du -h "$image/initramfs.cpio.gz" | cut -f1)) for $kver, modules: $(tr '\n' ' ' < "$w/root/modules/load.order")"
    rm -rf "$w"
    build_dir=""
}

# One build at a time when several runs share VM_WORK.
exec 9> "$VM_WORK/image.lock"
flock 9
if [ "$(cat "$image/key" 2>/dev/null)" != "$key" ]; then
    build_image
fi
flock -u 9

# --- this run's 9p share -------------------------------------------------------------------
# Shares left by runs that were SIGKILLed: older than any run can last.
find "$VM_WORK" -maxdepth 1 \( -name 'run.*' -o -name 'build.*' \) -mmin +$((VM_TIMEOUT / 60 + 10)) -exec rm -rf {} + 2>/dev/null || true
run=$(mktemp -d "$VM_WORK/run.XXXXXX")
share=$run/share
name=$(basename "$runtime")
mkdir -p "$share/sysroot/usr/local/bin" "$share/files"
cp "$runtime" "$share/sysroot/usr/local/bin/$name"
# Shared libraries and the ELF interpreter at their host paths (none for a static binary).
# ldd exits non-zero for a static binary: only its output matters.
for lib in $( (ldd "$runtime" 2>/dev/null || true) | grep -oE '/[^ ]+'); do
    mkdir -p "$share/sysroot$(dirname "$lib")"
    cp -L "$lib" "$share/sysroot$lib"
done
echo "RUNTIME=/usr/local/bin/$name" > "$share/env"
vm_share_files "$share" "$script" "$@" || die "cannot fill the share"

# --- boot ----------------------------------------------------------------------------------
VM_ACCEL=${VM_ACCEL:-$(vm_default_accel)}
kernel=/boot/vmlinuz-$kver
case $VM_ACCEL in
    kvm) accel=(-accel kvm -cpu host) ;;
    tcg) accel=(-accel tcg,thread=multi)
         [ -s "$image/vmlinux" ] && kernel=$image/vmlinux ;;
    *) die "VM_ACCEL must be tcg or kvm, not $VM_ACCEL" ;;
esac
say "booting $kver ($VM_ACCEL, $VM_SMP cpus, $VM_MEM): runtime $runtime, script $script, timeout ${VM_TIMEOUT}s"
start=$(date +%s.%N)
# In the background so that an INT/TERM of this script reaches qemu (through the cleanup trap).
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m "$VM_MEM" -smp "$VM_SMP" \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$kernel" -initrd "$image/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init cgroup_no_v1=all ${VM_APPEND:-}" \
    -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" </dev/null &
qpid=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=""
wall=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    say "TIMEOUT: the VM ran longer than ${VM_TIMEOUT}s and was killed (status $qrc, ${wall}s)"
    exit 124
fi
rc=$(cat "$share/rc" 2>/dev/null) || true
if [ -z "$rc" ]; then
    die "the guest script did not finish (qemu exit status $qrc, ${wall}s): see the console output above"
fi
say "guest script exit status $rc (qemu $qrc, ${wall}s)"
exit "$rc"
