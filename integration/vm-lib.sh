# Shell functions the two VM harnesses share (vm/run-suite.sh, vm-systemd/run.sh and
# vm-systemd/build.sh source this file).

# vm_extract_vmlinux KVER FILE: the uncompressed kernel (a PVH-bootable ELF) into FILE, or FILE
# empty when xz cannot extract it. Under TCG the kernel's own xz decompression costs 2-3 s a
# boot.
vm_extract_vmlinux() {
    : > "$2"
    command -v xz >/dev/null || return 0
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "/boot/vmlinuz-$1" | head -n1 | cut -d: -f1) || true
    if [ -n "$off" ]; then
        tail -c +"$((off + 1))" "/boot/vmlinuz-$1" | xz -dc --single-stream > "$2" 2>/dev/null || true
    fi
    [ "$(head -c4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || : > "$2"
}

# vm_share_files SHARE SCRIPT [EXTRA_FILE...]: the guest script as SHARE/script and each extra
# file as SHARE/files/<basename> (two with the same basename are an error).
vm_share_files() {
    share=$1 script=$2; shift 2
    cp "$script" "$share/script"
    chmod 755 "$share/script"
    for f in "$@"; do
        b=$(basename "$f")
        [ ! -e "$share/files/$b" ] || { echo "two extra files are named $b" >&2; return 1; }
        cp -a "$f" "$share/files/$b"
    done
}

# vm_default_accel: kvm where /dev/kvm can boot a stock kernel; TCG on a nested "PVM" host
# (kvm_pvm), whose /dev/kvm cannot.
vm_default_accel() {
    if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then echo kvm; else echo tcg; fi
}
