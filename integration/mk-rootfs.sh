#!/bin/sh
# A busybox root filesystem from Debian's busybox-static: busybox, its applet links, a minimal
# /etc/passwd and /etc/group. Used by mk-bundle.sh and by the VM image (vm/run-suite.sh).
# usage: mk-rootfs.sh DIR
set -eu
r=$1
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "mk-rootfs: $busybox is missing: install busybox-static" >&2; exit 1; }
mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" "$r/run" "$r/usr"
cp "$busybox" "$r/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
done
ln -s bin "$r/sbin"
ln -s ../bin "$r/usr/bin"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$r/etc/group"
chmod 1777 "$r/tmp"
