#!/bin/sh
# Make a busybox bundle: DIR/rootfs from Debian's busybox-static and DIR/config.json from
# `skiff spec`, with terminal off and the given command (default: a report of what the
# container sees).
# usage: mk-bundle.sh SKIFF DIR [ARG...]
set -eu
skiff=$1; dir=$2; shift 2
rm -rf "$dir"
r=$dir/rootfs
sh "$(dirname "$0")/mk-rootfs.sh" "$r"
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
