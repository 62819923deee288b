#!/bin/sh
# skiff, runc and crun side by side on one busybox bundle running /bin/true:
#   1. `run` (create + start + wait + delete in one call)
#   2. separate `create`, `start`, wait for `stopped`, `delete` calls (what engines do)
#   3. peak RSS of the runtime process during `run`
# Medians over the runs; ratios are skiff / peer. Not a test: it asserts nothing.
#
# Everything runs inside one private mount namespace with an empty tmpfs over
# /sys/fs/cgroup/unified: Debian's crun 1.8 refuses this hybrid host otherwise, and all three
# runtimes then see the same cgroup layout. The host's mounts are not changed.
#
# usage: bench.sh SKIFF WORKDIR [RUNS]
set -eu
skiff=$(realpath "$1"); work=$2; runs=${3:-30}
here=$(cd "$(dirname "$0")" && pwd)
for tool in hyperfine runc crun /usr/bin/time unshare; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps installs it)" >&2; exit 1; }
done
if [ -z "${SKIFF_BENCH_INNER:-}" ]; then
    exec unshare -m --propagation private env SKIFF_BENCH_INNER=1 sh "$0" "$skiff" "$work" "$runs"
fi
if mountpoint -q /sys/fs/cgroup/unified; then
    # (crun writes cgroup.procs files into it as into a cgroup: give it room)
    mount -t tmpfs -o size=1m,mode=555 none /sys/fs/cgroup/unified
fi
mkdir -p "$work"
rm -rf "$work"/root-*  # state of an interrupted earlier run
bundle=$work/bundle
sh "$here/mk-bundle.sh" "$skiff" "$bundle" /bin/true >/dev/null
# Debian's crun 1.8 accepts only 1.0.x configs; the content is the same for all three.
sed -i 's|"ociVersion": "[^"]*"|"ociVersion": "1.0.2"|' "$bundle/config.json"
runc=$(command -v runc); crun=$(command -v crun)

# One create/start/wait/delete cycle, as a shell function body hyperfine can run.
cat > "$work/cycle.sh" <<'CYCLE'
#!/bin/sh
# usage: cycle.sh RUNTIME ROOT BUNDLE ID
set -e
"$1" --root "$2" create --bundle "$3" "$4" >/dev/null
"$1" --root "$2" start "$4"
until "$1" --root "$2" state "$4" | grep -q '"stopped"'; do :; done
"$1" --root "$2" delete "$4"
CYCLE

names="skiff runc crun"
bin_of() { case $1 in skiff) echo "$skiff" ;; runc) echo "$runc" ;; crun) echo "$crun" ;; esac; }

hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/run.csv" \
    -n skiff "$skiff --root $work/root-skiff run --bundle $bundle bench-run" \
    -n runc "$runc --root $work/root-runc run --bundle $bundle bench-run" \
    -n crun "$crun --root $work/root-crun run --bundle $bundle bench-run" >/dev/null
hyperfine --warmup 3 --runs "$runs" --export-csv "$work/cycle.csv" \
    -n skiff "sh $work/cycle.sh $skiff $work/root-skiff $bundle bench-cycle" \
    -n runc "sh $work/cycle.sh $runc $work/root-runc $bundle bench-cycle" \
    -n crun "sh $work/cycle.sh $crun $work/root-crun $bundle bench-cycle" >/dev/null

# Peak RSS (KiB) of the runtime's own process during `run`, median of the runs.
for name in $names; do
    bin=$(bin_of "$name")
    i=0
    : > "$work/rss-$name"
    while [ $i -lt "$runs" ]; do
        /usr/bin/time -f %M -a -o "$work/rss-$name" "$bin" --root "$work/root-$name" run --bundle "$bundle" bench-rss >/dev/null
        i=$((i + 1))
    done
done

median_csv() { awk -F, -v n="$2" 'NR > 1 && $1 == n { printf "%.2f", $4 * 1000 }' "$1"; }
median_file() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); runs: $runs each"
echo "versions: skiff $("$skiff" --version | head -1 | cut -d' ' -f3), $(runc --version | head -1), $(crun --version | head -1)"
printf '%-32s %10s %10s %10s %12s %12s\n' measure skiff runc crun skiff/runc skiff/crun
for what in run cycle; do
    s=$(median_csv "$work/$what.csv" skiff); r=$(median_csv "$work/$what.csv" runc); c=$(median_csv "$work/$what.csv" crun)
    label="median ms, $what"
    [ "$what" = cycle ] && label="median ms, create+start+wait+delete"
    printf '%-32s %10s %10s %10s %12s %12s\n' "$label" "$s" "$r" "$c" "$(ratio "$s" "$r")" "$(ratio "$s" "$c")"
done
s=$(median_file "$work/rss-skiff"); r=$(median_file "$work/rss-runc"); c=$(median_file "$work/rss-crun")
printf '%-32s %10s %10s %10s %12s %12s\n' "median peak RSS KiB, run" "$s" "$r" "$c" "$(ratio "$s" "$r")" "$(ratio "$s" "$c")"
