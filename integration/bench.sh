#!/bin/sh
# skiff, runc and crun side by side, in one run, on busybox bundles. For each path engines
# repeat all day, the median time of each runtime and the ratios skiff/runc and skiff/crun:
#   run                  create + start + wait + delete in one call, of /bin/true
#   cycle                separate create, start, wait for `stopped`, delete (what engines do)
#   exec                 `exec ID true` into a running container (a liveness probe)
#   state, kill, events  `state ID`, `kill ID CONT`, `events --stats ID` of a running one
#   delete               `delete ID` of a stopped container
#   list                 `list` with 100 containers
#   run, exec, seccomp   `run`, and `exec` into a running container, with podman's default
#                        seccomp profile (containers-common's, 300-odd rules), as engines run them
#   run, 10 MB config    `run` of a config.json of 10 MB: 10,000 env vars, 200 mounts, annotations
#   parallel             4 workers x 10 runs each: wall time, failures, anything left
#   peak RSS             of the runtime process during `run`
# then skiff's own phase breakdown (`--debug` phase timing, medians) of run and exec, and the
# syscalls each runtime makes for one `run` (strace -c -f: count and time).
# Not a test: it asserts nothing (the parallel section counts failures and leftovers).
#
# Everything runs inside one private mount namespace with an empty tmpfs over
# /sys/fs/cgroup/unified: Debian's crun 1.8 refuses this hybrid host otherwise, and all three
# runtimes then see the same cgroup layout. The state roots are on a tmpfs, as /run is
# wherever engines keep them. The host's mounts are not changed.
#
# usage: bench.sh SKIFF WORKDIR [RUNS]
set -eu
skiff=$(realpath "$1"); work=$2; runs=${3:-30}
here=$(cd "$(dirname "$0")" && pwd)
[ -f /usr/share/containers/seccomp.json ] || { echo "bench: /usr/share/containers/seccomp.json is missing (golang-github-containers-common; make deps installs it)" >&2; exit 1; }
for tool in hyperfine runc crun /usr/bin/time unshare strace python3; do
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
work=$(realpath "$work")
roots=$work/roots
mkdir -p "$roots"
mountpoint -q "$roots" || mount -t tmpfs -o mode=0700 none "$roots"
bundle=$work/bundle
sh "$here/mk-bundle.sh" "$skiff" "$bundle" /bin/true >/dev/null
# Debian's crun 1.8 accepts only 1.0.x configs; the content is the same for all three.
sed -i 's|"ociVersion": "[^"]*"|"ociVersion": "1.0.2"|' "$bundle/config.json"
# A long-running container for exec, state, kill and events (the same rootfs, bind-shared).
sleeper=$work/sleeper
mkdir -p "$sleeper"
sed 's|"args": \[[^]]*\]|"args": ["sleep", "3600"]|; s|"path": "rootfs"|"path": "'"$bundle"'/rootfs"|' "$bundle/config.json" > "$sleeper/config.json"
# podman's default seccomp profile on the same bundle, and on a sleeper.
sec=$work/seccomp
secsleeper=$work/seccomp-sleeper
mkdir -p "$sec" "$secsleeper"
python3 - "$bundle/config.json" "$sleeper/config.json" "$sec/config.json" "$secsleeper/config.json" /usr/share/containers/seccomp.json <<'PY'
import json, sys
profile = json.load(open(sys.argv[5]))
for source, target in ((sys.argv[1], sys.argv[3]), (sys.argv[2], sys.argv[4])):
    config = json.load(open(source))
    config["root"]["path"] = sys.argv[1].rsplit("/", 1)[0] + "/rootfs"
    config["linux"]["seccomp"] = profile
    json.dump(config, open(target, "w"))
PY
# The 10 MB config: 10,000 env vars (about 1 MB: execve's limit is a quarter of the stack
# rlimit), 200 tmpfs mounts, and annotations for the rest.
big=$work/big
mkdir -p "$big"
python3 - "$bundle/config.json" "$big/config.json" "$bundle/rootfs" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["root"]["path"] = sys.argv[3]
config["process"]["env"] += ["BENCH_VAR_%05d=%s" % (i, "v" * 80) for i in range(10000)]
config["mounts"] += [{"destination": "/tmp/m%03d" % i, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=64k"]} for i in range(200)]
size = len(json.dumps(config))
config["annotations"] = {"bench.skiff/pad-%06d" % i: "x" * 200 for i in range((10_000_000 - size) // 230)}
json.dump(config, open(sys.argv[2], "w"))
PY
runc=$(command -v runc); crun=$(command -v crun)
names="skiff runc crun"
bin_of() { case $1 in skiff) echo "$skiff" ;; runc) echo "$runc" ;; crun) echo "$crun" ;; esac; }

# One create/start/wait/delete cycle, as a script hyperfine can run.
cat > "$work/cycle.sh" <<'CYCLE'
#!/bin/sh
# usage: cycle.sh RUNTIME ROOT BUNDLE ID
set -e
"$1" --root "$2" create --bundle "$3" "$4" >/dev/null
"$1" --root "$2" start "$4"
until "$1" --root "$2" state "$4" | grep -q '"stopped"'; do :; done
"$1" --root "$2" delete "$4"
CYCLE
# A stopped container to delete: made by hyperfine's --prepare before each timed delete.
cat > "$work/stopped.sh" <<'STOPPED'
#!/bin/sh
# usage: stopped.sh RUNTIME ROOT BUNDLE ID
"$1" --root "$2" delete --force "$4" >/dev/null 2>&1
"$1" --root "$2" run --detach --bundle "$3" "$4" >/dev/null
until "$1" --root "$2" state "$4" | grep -q '"stopped"'; do :; done
STOPPED

# timed NAME HYPERFINE-ARGS... -- COMMAND-TEMPLATE: hyperfine over the three runtimes, the
# template's {rt} and {root} replaced by each runtime's binary and state root.
timed() {
    name=$1; shift
    opts=""
    while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
    shift
    set -- $opts
    for n in ${NAMES:-$names}; do
        cmd=$(printf '%s' "$TEMPLATE" | sed "s|{rt}|$(bin_of $n)|g; s|{root}|$roots/$n|g; s|{name}|$n|g")
        prep=$(printf '%s' "${PREPARE:-}" | sed "s|{rt}|$(bin_of $n)|g; s|{root}|$roots/$n|g; s|{name}|$n|g")
        set -- "$@" -n "$n"
        [ -z "$prep" ] || set -- "$@" --prepare "$prep"
        set -- "$@" "$cmd"
    done
    hyperfine -N --warmup 3 --runs "$runs" --export-csv "$work/$name.csv" "$@" >/dev/null 2>"$work/$name.err" ||
        { echo "bench: $name failed:"; cat "$work/$name.err"; }
}

TEMPLATE="{rt} --root {root} run --bundle $bundle bench-run" timed run --
TEMPLATE="sh $work/cycle.sh {rt} {root} $bundle bench-cycle" timed cycle --
TEMPLATE="{rt} --root {root} run --bundle $big bench-big" timed big --
TEMPLATE="{rt} --root {root} run --bundle $sec bench-sec" timed secrun --
for n in $names; do "$(bin_of $n)" --root "$roots/$n" run --detach --bundle "$secsleeper" bench-secsleeper >/dev/null; done
TEMPLATE="{rt} --root {root} exec bench-secsleeper true" timed secexec --
for n in $names; do "$(bin_of $n)" --root "$roots/$n" delete --force bench-secsleeper; done

for n in $names; do "$(bin_of $n)" --root "$roots/$n" run --detach --bundle "$sleeper" bench-sleeper >/dev/null; done
TEMPLATE="{rt} --root {root} exec bench-sleeper true" timed exec --
TEMPLATE="{rt} --root {root} state bench-sleeper" timed state --
TEMPLATE="{rt} --root {root} kill bench-sleeper CONT" timed kill --
# (crun has no `events`)
NAMES="skiff runc" TEMPLATE="{rt} --root {root} events --stats bench-sleeper" timed events --
# The phase breakdown of skiff's exec, while the sleeper runs.
: > "$work/phases-exec"
i=0
while [ $i -lt "$runs" ]; do
    "$skiff" --root "$roots/skiff" --debug exec bench-sleeper true 2>&1 | grep 'exec: phases:' >> "$work/phases-exec" || true
    i=$((i + 1))
done
for n in $names; do "$(bin_of $n)" --root "$roots/$n" delete --force bench-sleeper; done

PREPARE="sh $work/stopped.sh {rt} {root} $bundle bench-delete" TEMPLATE="{rt} --root {root} delete bench-delete" timed delete --

# list with 100 containers, created (parked at the start gate), then removed
for n in $names; do
    i=0
    # (runc warns about the cgroup of the fake unified hierarchy on each: not shown)
    while [ $i -lt 100 ]; do "$(bin_of $n)" --root "$roots/$n" create --bundle "$bundle" "bench-list-$i" >/dev/null 2>&1; i=$((i + 1)); done
done
TEMPLATE="{rt} --root {root} list" timed list --
for n in $names; do
    i=0
    while [ $i -lt 100 ]; do "$(bin_of $n)" --root "$roots/$n" delete --force "bench-list-$i"; i=$((i + 1)); done
done

# parallel: 4 workers x 10 runs each, per runtime; wall time, failures, leftovers
for n in $names; do
    rt=$(bin_of $n)
    start=$(date +%s%N)
    fails=$(seq 0 39 | xargs -P 4 -I{} sh -c "'$rt' --root '$roots/$n' run --bundle '$bundle' par-{} >/dev/null 2>&1 || echo fail" | grep -c fail || true)
    end=$(date +%s%N)
    left=$(find "$roots/$n" -mindepth 1 -maxdepth 1 -name 'par-*' | wc -l)
    # (not the tmpfs standing in for the unified hierarchy, where crun "moves" processes)
    cg=$(find /sys/fs/cgroup -maxdepth 3 -path /sys/fs/cgroup/unified -prune -o -type d -name 'par-*' -print 2>/dev/null | wc -l)
    echo "$n $(( (end - start) / 1000 )) $fails $left $cg" > "$work/parallel-$n"
done

# Peak RSS (KiB) of the runtime's own process during `run`, median of the runs.
for n in $names; do
    i=0
    : > "$work/rss-$n"
    while [ $i -lt "$runs" ]; do
        /usr/bin/time -f %M -a -o "$work/rss-$n" "$(bin_of $n)" --root "$roots/$n" run --bundle "$bundle" bench-rss >/dev/null
        i=$((i + 1))
    done
done
# skiff's phase breakdown of run.
: > "$work/phases-run"
i=0
while [ $i -lt "$runs" ]; do
    "$skiff" --root "$roots/skiff" --debug run --bundle "$bundle" bench-phases 2>&1 | grep 'run: phases:' >> "$work/phases-run" || true
    i=$((i + 1))
done
# What each runtime asks of the kernel for one run (every process it forks included).
for n in $names; do
    strace -f -c -o "$work/strace-$n" "$(bin_of $n)" --root "$roots/$n" run --bundle "$bundle" bench-strace >/dev/null 2>&1 || true
done

median_csv() { awk -F, -v n="$2" 'NR > 1 && $1 == n { printf "%.2f", $4 * 1000 }' "$1"; }
median_file() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { case "$1$2" in *n/a*) echo n/a ;; *) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' ;; esac; }
row() { printf '%-34s %10s %10s %10s %11s %11s\n' "$@"; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); runs: $runs each; state roots on tmpfs"
echo "versions: skiff $("$skiff" --version | head -1 | cut -d' ' -f3), $(runc --version | head -1), $(crun --version | head -1)"
row measure skiff runc crun skiff/runc skiff/crun
for what in run cycle exec secrun secexec state kill events delete list big; do
    case $what in
        cycle) label="create+start+wait+delete" ;;
        big) label="run, 10 MB config.json" ;;
        secrun) label="run, default seccomp" ;;
        secexec) label="exec, default seccomp" ;;
        list) label="list, 100 containers" ;;
        events) label="events --stats" ;;
        kill) label="kill (CONT)" ;;
        *) label=$what ;;
    esac
    s=$(median_csv "$work/$what.csv" skiff); r=$(median_csv "$work/$what.csv" runc); c=$(median_csv "$work/$what.csv" crun)
    c=${c:-n/a}
    row "median ms, $label" "$s" "$r" "$c" "$(ratio "$s" "$r")" "$(ratio "$s" "$c")"
done
s=$(median_file "$work/rss-skiff"); r=$(median_file "$work/rss-runc"); c=$(median_file "$work/rss-crun")
row "median peak RSS KiB, run" "$s" "$r" "$c" "$(ratio "$s" "$r")" "$(ratio "$s" "$c")"
read -r _ ps pf pl pc < "$work/parallel-skiff"; read -r _ rs rf rl rc < "$work/parallel-runc"; read -r _ cs cf cl cc < "$work/parallel-crun"
row "parallel 4x10 runs, wall ms" "$((ps / 1000))" "$((rs / 1000))" "$((cs / 1000))" "$(ratio "$ps" "$rs")" "$(ratio "$ps" "$cs")"
echo "parallel: failures skiff $pf, runc $rf, crun $cf; state dirs left $pl/$rl/$cl; cgroups left $pc/$rc/$cc"

echo
python3 - "$work" "$runs" <<'PY'
import re, statistics, sys
work, runs = sys.argv[1], sys.argv[2]
def phases(path, title):
    values = {}
    for line in open(path):
        body = line.split("phases: ", 1)[1].split('"')[0]
        body, total = body.rsplit("; total ", 1)
        for name, value in re.findall(r"(.+?) ([0-9]+[.][0-9]+) ms(?:, |$)", body + ", total " + total):
            values.setdefault(name, []).append(float(value))
    print(f"{title} (--debug, median of {runs}):")
    for name, vals in values.items():
        print(f"  {name:<40} {statistics.median(vals):8.3f} ms")
phases(f"{work}/phases-run", "skiff run, phases")
phases(f"{work}/phases-exec", "skiff exec into a running container, phases")
print()
print("syscalls of one run (strace -c -f, every process the runtime forks included):")
for name in ("skiff", "runc", "crun"):
    rows = []
    for line in open(f"{work}/strace-{name}"):
        fields = line.split()
        if len(fields) >= 5 and re.match(r"^[0-9.]+$", fields[0]):
            rows.append((float(fields[1]), int(fields[3]), fields[-1]))
    total = [r for r in rows if r[2] == "total"]
    rest = sorted((r for r in rows if r[2] != "total"), reverse=True)[:5]
    if total:
        print(f"  {name:<6} {total[0][1]:6d} calls, {total[0][0]:.6f} s in syscalls; costliest: " + ", ".join(f"{r[2]} {r[0] * 1000:.2f} ms/{r[1]}" for r in rest))
PY
# The hot-symbol list (link/hot-symbols.txt) lays the hot functions out together only for the
# names the binary still has: functions moved or a new toolchain rename them (issue 25 found it
# at 474 of 793, which cost about 250 KiB of peak RSS). make hot-symbols regenerates it.
list=$(dirname "$0")/../link/hot-symbols.txt
if [ -f "$list" ]; then
    matched=$(nm --defined-only "$skiff" | awk '{print $3}' | sort -u | comm -12 - "$(sort -u "$list" > "$work/hot" && echo "$work/hot")" | wc -l)
    echo "hot-symbol list: $matched of $(sort -u "$list" | wc -l) names in the binary (fewer: run make hot-symbols)"
fi
umount "$roots" 2>/dev/null || true
