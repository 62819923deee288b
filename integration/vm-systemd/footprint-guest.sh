#!/bin/bash
# footprint.sh's guest: one `skiff run` of busybox `true` with address randomization off
# (`setarch -R`, so that the host's qemu log can be mapped back to skiff's symbols), after a
# quiet spell. $FILES/skiff is the binary; nothing else runs from its address range.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
install -m 0555 "$FILES/skiff" /usr/local/bin/skiff
chattr +i /usr/local/bin/skiff
r=/tmp/b/rootfs
mkdir -p "$r"/bin "$r"/etc "$r"/proc "$r"/sys "$r"/dev "$r"/tmp "$r"/root "$r"/run "$r"/usr
cp /bin/busybox "$r"/bin/busybox
ln -s busybox "$r"/bin/true
(cd /tmp/b && runc spec) || exit 1
jq '.process.terminal = false | .process.args = ["true"] | del(.linux.cgroupsPath) | del(.process.capabilities.ambient)' \
    /tmp/b/config.json > /tmp/c.json && mv /tmp/c.json /tmp/b/config.json
sync; sleep 2
setarch -R /usr/local/bin/skiff --root /run/footprint run --bundle /tmp/b once
echo "footprint run: exit status $?"
sleep 1
