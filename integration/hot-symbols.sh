#!/bin/sh
# Regenerate link/hot-symbols.txt: the functions skiff runs in a container's life, most
# sampled first, which build.rs hands to lld (--symbol-ordering-file) so they lie together.
# Samples `perf record` (user time, 30 kHz) over RUNS rounds of run, create, start, state
# and delete of a busybox bundle, then maps each sampled address to its (mangled) symbol.
# Run it on a binary from `cargo build --release` (make hot-symbols does): one built by
# `cargo test` has the dev-dependencies' features in shared crates, and so other symbol
# hashes. Names stay stable across edits; a new toolchain or dependency update renames many,
# and then the list needs regenerating.
#
# Sampling misses short functions, a different few each time: one regeneration kept 741
# names where the list before had 824. So the new list is this run's names, most sampled
# first, then the previous list's names that this run missed and the binary still has
# (renamed or removed functions drop out). Each function the hot path runs sits in the hot
# region once any run has sampled it: issue 26 measured 3496 -> 3048 KiB of peak RSS for
# `run` from that union alone (docs/performance.md).
#
# usage: hot-symbols.sh SKIFF [RUNS]   (as root; needs perf (linux-perf) and python3)
set -eu
skiff=$(realpath "$1"); runs=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
for tool in perf python3 nm readelf unshare; do
    command -v "$tool" >/dev/null || { echo "hot-symbols: $tool is missing" >&2; exit 1; }
done
if [ -z "${SKIFF_HOT_INNER:-}" ]; then
    exec unshare -m --propagation private env SKIFF_HOT_INNER=1 sh "$0" "$@"
fi
# The same cgroup layout as the bench (see bench.sh).
if mountpoint -q /sys/fs/cgroup/unified; then
    mount -t tmpfs -o size=1m,mode=555 none /sys/fs/cgroup/unified
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$here/mk-bundle.sh" "$skiff" "$work/bundle" /bin/true >/dev/null
cp "$skiff" "$work/skiff"
s="$work/skiff --root $work/root"
perf record -q -o "$work/perf.data" -e cpu-clock:u -F 30000 -- sh -c "
    for i in \$(seq $runs); do
        $s run --bundle $work/bundle hot
        $s create --bundle $work/bundle hot2 >/dev/null; $s start hot2; $s state hot2 >/dev/null; $s delete -f hot2
    done"
perf script -i "$work/perf.data" --show-mmap-events -F pid,ip > "$work/samples"
list=$here/../link/hot-symbols.txt
[ -f "$list" ] && cp "$list" "$work/previous" || : > "$work/previous"
python3 - "$work/skiff" "$work/samples" "$work/previous" > "$list" <<'PY'
import bisect, collections, re, subprocess, sys
binary, samples, previous = sys.argv[1], sys.argv[2], sys.argv[3]
symbols = []
for line in subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        symbols.append((int(parts[0], 16), parts[2]))
starts = [address for address, _ in symbols]
text = next(l.split() for l in subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout.splitlines() if "LOAD" in l and "R E" in l)
offset, vaddr = int(text[1], 16), int(text[2], 16)
bases, counts = {}, collections.Counter()
for line in open(samples):
    if "PERF_RECORD_MMAP2" in line:
        # The executable mapping of skiff (re-executed from a sealed copy: any path).
        m = re.search(r"^\s*(\d+) .*\[0x([0-9a-f]+)\(0x[0-9a-f]+\) @ 0x([0-9a-f]+) .*\]: r-xp", line)
        if m and int(m.group(3), 16) == offset & ~0xFFF:
            bases[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
        continue
    parts = line.split()
    if len(parts) == 2 and parts[0] in bases:
        start, page_offset = bases[parts[0]]
        address = int(parts[1], 16) - start + page_offset + (vaddr - offset)
        i = bisect.bisect_right(starts, address) - 1
        if i >= 0:
            counts[symbols[i][1]] += 1
sampled = [name for name, _ in counts.most_common()]
defined = {name for _, name in symbols}
seen = set(sampled)
kept = [name for name in (l.strip() for l in open(previous)) if name and name in defined and name not in seen and not seen.add(name)]
print("\n".join(sampled + kept))
print(f"link/hot-symbols.txt: {len(sampled)} functions sampled, {len(kept)} kept from the previous list", file=sys.stderr)
PY
