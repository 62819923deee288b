#!/bin/sh
# The workloads tier's image: Debian bookworm (debootstrap minbase, from Debian's archive) with
# PostgreSQL, nginx-light, procps, iproute2, curl and systemd, as a tar for podman import.
# Cached: CACHE_DIR/image-HASH.tar, HASH over this script (suite, packages, clean-up), so it is
# built once per machine and rebuilt only when this file changes.
# usage: image.sh CACHE_DIR      prints the tar's path on stdout; build output on stderr
# Needs: debootstrap, network access to the Debian archive (the apt sources' mirror).
set -eu
[ $# = 1 ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
cache=$1
SUITE=bookworm
# The apt sources' first Debian mirror (deb822 or one-line format), else Debian's CDN.
MIRROR=$(sed -n -e 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' -e 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\([^ ]*\/debian\)\/* .*/\2/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PACKAGES=postgresql,nginx-light,procps,iproute2,curl,systemd,systemd-sysv,dbus

command -v debootstrap > /dev/null 2>&1 || { echo "image.sh: debootstrap is missing: install the Debian package debootstrap" >&2; exit 1; }
hash=$(sha256sum "$0" | cut -c1-16)
tar=$cache/image-$hash.tar
if [ -s "$tar" ]; then
    echo "image.sh: cached $tar ($(du -h "$tar" | cut -f1))" >&2
    echo "$tar"
    exit 0
fi
mkdir -p "$cache"
w=$(mktemp -d "$cache/build.XXXXXX")
# debootstrap mounts /proc and /sys in the chroot: a failed build can leave them there
cleanup() {
    awk -v w="$w/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf --one-file-system "$w"
}
trap cleanup EXIT
start=$(date +%s)
echo "image.sh: debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR" >&2
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$w/rootfs" "$MIRROR" > "$w/debootstrap.log" 2>&1; then
    tail -n 30 "$w/debootstrap.log" >&2
    echo "image.sh: debootstrap failed (log above)" >&2
    exit 1
fi
# What an image does not carry: the downloaded packages, the package lists, documentation
# and translations (as Debian's docker images leave them out), the build's machine id
# (systemd makes one at boot when the file is empty).
rm -rf "$w/rootfs/var/cache/apt/archives/"*.deb "$w/rootfs/var/lib/apt/lists/"* \
    "$w/rootfs/usr/share/doc/"* "$w/rootfs/usr/share/man/"* "$w/rootfs/usr/share/info/"* "$w/rootfs/usr/share/locale/"*
: > "$w/rootfs/etc/machine-id"
chroot "$w/rootfs" dpkg-query -W -f '${Package} ${Version}\n' postgresql-15 nginx-light systemd curl > "$w/versions"
tar -C "$w/rootfs" --numeric-owner -cf "$w/image.tar" .
mv "$w/image.tar" "$tar"
mv "$w/versions" "$cache/image-$hash.versions"
# earlier images of this tier are stale now
for old in "$cache"/image-*.tar; do [ "$old" = "$tar" ] || rm -f "$old" "${old%.tar}.versions"; done
echo "image.sh: built $tar ($(du -h "$tar" | cut -f1)) in $(( $(date +%s) - start ))s: $(tr '\n' ' ' < "$cache/image-$hash.versions")" >&2
echo "$tar"
