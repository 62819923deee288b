#!/bin/sh
# Make a busybox bundle: DIR/rootfs from Debian's busybox-static and DIR/config.json from
# `skiff spec`, with terminal off and the given command (default: a report of what the
# container sees).
# usage: mk-bundle.sh SKIFF DIR [ARG...]
set -eu
skiff=$1; dir=$2; shift 2
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mk-bundle: $busybox is missing: install busybox-static" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs"
r=$dir/rootfs
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
"$skiff" spec --bundle "$dir"
if [ $# -eq 0 ]; then
    set -- sh -c 'echo "hello from a skiff container"; echo "whoami: $(id)"; echo "hostname: $(hostname)"; echo "pid: $$"; grep -E "^(Cap|NoNewPrivs)" /proc/self/status; echo "mounts:"; cut -d" " -f5,9 /proc/self/mountinfo | sed "s/^/  /"; echo "/dev:"; ls /dev | tr "\n" " "; echo'
fi
# JSON-encode the arguments (no jq on a fresh machine): escape backslashes and quotes.
args=""
for a in "$@"; do
    esc=$(printf '%s' "$a" | sed 's/\\/\\\\/g; s/"/\\"/g')
    args="$args${args:+, }\"$esc\""
done
sed -i "s|\"terminal\": true|\"terminal\": false|" "$dir/config.json"
# `skiff spec` writes args as a tab-indented array holding "sh"; replace that array.
ARGS="$args" awk '
    /"args": \[/ { print substr($0, 1, index($0, "\"args\"") - 1) "\"args\": [" ENVIRON["ARGS"] "],"; skip = 1; next }
    skip && /\],?$/ { skip = 0; next }
    skip { next }
    { print }
' "$dir/config.json" > "$dir/config.json.new"
mv "$dir/config.json.new" "$dir/config.json"
echo "bundle at $dir ($(du -sh "$r" | cut -f1) rootfs)"
