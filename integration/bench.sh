#!/bin/sh
# skiff, runc and crun side by side, in one run, on busybox bundles. For each path engines
# repeat all day, the median time of each runtime and the ratios skiff/runc and skiff/crun:
#   run                  create + start + wait + delete in one call, of /bin/true
#   cycle                separate create, start, wait for `stopped`, delete (what engines do)
#   exec                 `exec ID true` into a running container (a liveness probe)
#   after a pause        run and exec, each after 100 ms of quiet (untimed): how an engine
#                        meets them, as opposed to back to back (the kernel's cgroup
#                        migration lock then waits out an RCU grace period)
#   state, kill, events  `state ID`, `kill ID CONT`, `events --stats ID` of a running one
#   delete               `delete ID` of a stopped container
#   list                 `list` with 100 containers
#   run, exec, seccomp   `run`, and `exec` into a running container, with podman's default
#                        seccomp profile (containers-common's, 300-odd rules), as engines run them
#   run, 10 MB config    `run` of a config.json of 10 MB: 10,000 env vars, 200 mounts, annotations
#   parallel             4 workers x 10 runs each: wall time (median of 5 rounds), failures,
#                        anything left
#   peak RSS             of the runtime process during `run`
#   as built             skiff's rows run an immutable copy of the binary, as make install and
#                        the .deb leave it (no re-exec); run, exec and parallel also run the
#                        build's own binary, a writable file that re-executes, beside it
#   wasm                 `run` of a hello-world WebAssembly module (WASM_MODULES, make
#                        wasm-modules) with skiff's handler, beside each crun with a wasm
#                        handler (+WASM; CRUN_WASM, or `crun-wasm` on PATH) when one is found
# and three sweeps, each with the slope (ms per unit) beside the ratio: `list` with 10, 100 and
# 1000 (stopped) containers; `run` with 10, 100 and 1000 bind mounts; `run` with a seccomp
# profile of 50, 300 and 1000 rules, skiff's compiled-profile cache cold and then warm.
# Every measure is interleaved (integration/interleave.py): round after round, each runtime
# once, the order rotated, so that host load falls on all alike; the figures are medians, the
# ratios ratios of medians. A second crun (CRUN_NEW, default: `crun-new` on PATH, such as a
# crun >= 1.27 built from source) runs beside Debian's when present; the output says when it
# is absent. The systemd VM's timing (make test-vm-systemd's last run) is printed when found.
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
for tool in runc crun /usr/bin/time unshare strace python3 nm comm; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps installs it)" >&2; exit 1; }
done
if [ -z "${SKIFF_BENCH_INNER:-}" ]; then
    exec unshare -m --propagation private env SKIFF_BENCH_INNER=1 sh "$0" "$skiff" "$work" "$runs"
fi
interleave=$here/interleave.py
if mountpoint -q /sys/fs/cgroup/unified; then
    # (crun writes cgroup.procs files into it as into a cgroup, and the list sweep keeps 1000
    # stopped containers per runtime: give it room)
    mount -t tmpfs -o size=64m,mode=555 none /sys/fs/cgroup/unified
fi
mkdir -p "$work"
work=$(realpath "$work")
roots=$work/roots
mkdir -p "$roots"
mountpoint -q "$roots" || mount -t tmpfs -o mode=0700 none "$roots"
# skiff as make install and the .deb leave it: immutable (chattr +i), so that create, run and
# exec need no re-exec of skiff from a read-only mount of itself. The copies are on the roots
# tmpfs, gone with this mount namespace. The build's own binary, a writable file re-executed
# each time, is measured beside it for run, exec and parallel ("skiff-built").
installed=$roots/installed
mkdir -p "$installed"
cp "$skiff" "$installed/skiff"
[ ! -f "$(dirname "$skiff")/skiff-wasm" ] || cp "$(dirname "$skiff")/skiff-wasm" "$installed/skiff-wasm"
skiff_built=$skiff
if chattr +i "$installed"/*; then
    skiff=$installed/skiff seal="immutable, as installed"
else
    seal="as built: chattr +i failed, so re-executed from a read-only mount"
fi
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
crun_new=${CRUN_NEW:-$(command -v crun-new || true)}
names="skiff runc crun"
if [ -n "$crun_new" ] && [ -x "$crun_new" ]; then
    names="$names crun-new"
else
    crun_new=""
fi
# A crun built with a wasm handler, for the wasm row alone (CRUN_WASM, default: `crun-wasm` on PATH).
crun_wasm=${CRUN_WASM:-$(command -v crun-wasm || true)}
bin_of() { case $1 in skiff) echo "$skiff" ;; skiff-built) echo "$skiff_built" ;; runc) echo "$runc" ;; crun) echo "$crun" ;; crun-new) echo "$crun_new" ;; crun-wasm) echo "$crun_wasm" ;; esac; }

# One create/start/wait/delete cycle, as a script to time.
cat > "$work/cycle.sh" <<'CYCLE'
#!/bin/sh
# usage: cycle.sh RUNTIME ROOT BUNDLE ID
set -e
"$1" --root "$2" create --bundle "$3" "$4" >/dev/null
"$1" --root "$2" start "$4"
until "$1" --root "$2" state "$4" | grep -q '"stopped"'; do :; done
"$1" --root "$2" delete "$4"
CYCLE
# A stopped container to delete: made by the untimed PREPARE before each timed delete.
cat > "$work/stopped.sh" <<'STOPPED'
#!/bin/sh
# usage: stopped.sh RUNTIME ROOT BUNDLE ID
"$1" --root "$2" delete --force "$4" >/dev/null 2>&1
"$1" --root "$2" run --detach --bundle "$3" "$4" >/dev/null
until "$1" --root "$2" state "$4" | grep -q '"stopped"'; do :; done
STOPPED

# timed NAME [RUNS] -- : interleave.py over the runtimes of $NAMES (default: all), with
# TEMPLATE (and PREPARE, untimed before each sample) for each; {rt}, {root} and {name} are
# replaced by the runtime's binary, state root and name.
timed() {
    name=$1; shift
    n_runs=$runs
    [ "$1" = "--" ] || { n_runs=$1; shift; }
    shift
    set --
    for n in ${NAMES:-$names}; do
        cmd=$(printf '%s' "$TEMPLATE" | sed "s|{rt}|$(bin_of $n)|g; s|{root}|$roots/$n|g; s|{name}|$n|g")
        prep=$(printf '%s' "${PREPARE:-}" | sed "s|{rt}|$(bin_of $n)|g; s|{root}|$roots/$n|g; s|{name}|$n|g")
        [ $# -eq 0 ] || set -- "$@" --
        set -- "$@" "$n" "$cmd" "$prep"
    done
    # (a runtime that fails is reported on stderr, and its row says so)
    python3 "$interleave" "$work/$name.csv" "$n_runs" 3 "$@" 2>"$work/$name.err" || echo "bench: $name: interleave.py failed"
    [ ! -s "$work/$name.err" ] || { echo "bench: $name:"; cat "$work/$name.err"; }
}

TEMPLATE="{rt} --root {root} run --bundle $bundle bench-run" timed run --
NAMES="skiff skiff-built" TEMPLATE="{rt} --root {root} run --bundle $bundle bench-run" timed built-run --
TEMPLATE="sh $work/cycle.sh {rt} {root} $bundle bench-cycle" timed cycle --
TEMPLATE="{rt} --root {root} run --bundle $big bench-big" timed big --
TEMPLATE="{rt} --root {root} run --bundle $sec bench-sec" timed secrun --
for n in $names; do "$(bin_of $n)" --root "$roots/$n" run --detach --bundle "$secsleeper" bench-secsleeper >/dev/null; done
TEMPLATE="{rt} --root {root} exec bench-secsleeper true" timed secexec --
for n in $names; do "$(bin_of $n)" --root "$roots/$n" delete --force bench-secsleeper; done

for n in $names; do "$(bin_of $n)" --root "$roots/$n" run --detach --bundle "$sleeper" bench-sleeper >/dev/null; done
TEMPLATE="{rt} --root {root} exec bench-sleeper true" timed exec --
PREPARE="sleep 0.1" TEMPLATE="{rt} --root {root} exec bench-sleeper true" timed exec-paused --
PREPARE="sleep 0.1" TEMPLATE="{rt} --root {root} run --bundle $bundle bench-run" timed run-paused --
# The installed (immutable) skiff against the build's binary, which re-executes (a sleeper
# each, with cgroups of their own).
for n in skiff skiff-built; do "$(bin_of $n)" --root "$roots/$n" run --detach --bundle "$sleeper" "bench-exec-$n" >/dev/null; done
NAMES="skiff skiff-built" TEMPLATE="{rt} --root {root} exec bench-exec-{name} true" timed built-exec --
for n in skiff skiff-built; do "$(bin_of $n)" --root "$roots/$n" delete --force "bench-exec-$n"; done
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

# Sweep 1: `list` with 10, 100 and 1000 containers. Stopped ones (run --detach of /bin/true):
# their state is all `list` reads, and 1000 parked inits per runtime would not fit in memory
# (runc's are Go processes). Each size is added to the last; all are removed at the end.
have=0
for size in 10 100 1000; do
    for n in $names; do
        i=$have
        while [ $i -lt $size ]; do
            "$(bin_of $n)" --root "$roots/$n" run --detach --bundle "$bundle" "bench-list-$i" >/dev/null 2>&1 || { echo "bench: $n run --detach bench-list-$i failed"; break; }
            i=$((i + 1))
        done
    done
    have=$size
    TEMPLATE="{rt} --root {root} list" timed "list-$size" 15 --
done
for n in $names; do
    i=0
    while [ $i -lt 1000 ]; do "$(bin_of $n)" --root "$roots/$n" delete --force "bench-list-$i" >/dev/null 2>&1; i=$((i + 1)); done
done

# Sweep 2: `run` with 10, 100 and 1000 bind mounts (read-only binds of one directory).
mkdir -p "$work/bind-source"
for size in 10 100 1000; do
    mkdir -p "$work/binds-$size"
    python3 - "$bundle/config.json" "$work/binds-$size/config.json" "$bundle/rootfs" "$work/bind-source" "$size" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["root"]["path"] = sys.argv[3]
config["mounts"] += [{"destination": "/tmp/b%04d" % i, "type": "bind", "source": sys.argv[4], "options": ["rbind", "ro"]} for i in range(int(sys.argv[5]))]
json.dump(config, open(sys.argv[2], "w"))
PY
    TEMPLATE="{rt} --root {root} run --bundle $work/binds-$size bench-binds" timed "binds-$size" 15 --
done

# Sweep 3: `run` with a seccomp profile of 50, 300 and 1000 rules (default allow; each rule
# returns EPERM for one syscall when its first argument has one value nobody passes). Cold:
# the compiled-profile caches emptied before each sample (skiff's, and crun >= 1.27's under
# its state root); warm: kept (runc and crun 1.8 compile every time either way).
cache=/run/skiff-seccomp
for size in 50 300 1000; do
    mkdir -p "$work/rules-$size"
    python3 - "$bundle/config.json" "$work/rules-$size/config.json" "$bundle/rootfs" "$size" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["root"]["path"] = sys.argv[3]
names = ["getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "gettid", "uname", "umask", "sync", "getpgrp", "setsid", "getsid", "sched_yield", "getpriority", "alarm", "pause", "times", "sysinfo", "personality"]
rules = [{"names": [names[i % len(names)]], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
          "args": [{"index": 0, "value": 100000 + i, "op": "SCMP_CMP_EQ"}]} for i in range(int(sys.argv[4]))]
config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules}
json.dump(config, open(sys.argv[2], "w"))
PY
    PREPARE="rm -rf $cache {root}/.cache" TEMPLATE="{rt} --root {root} run --bundle $work/rules-$size bench-rules" timed "rules-cold-$size" 15 --
    TEMPLATE="{rt} --root {root} run --bundle $work/rules-$size bench-rules" timed "rules-warm-$size" 15 --
done

# WebAssembly: `run` of a hello-world module (the compat annotation, a root filesystem holding
# only the module) with skiff's handler, beside each crun whose --version shows +WASM (a crun
# built with a wasm handler), where one is found.
wasm_names=skiff wasm_crun=""
for n in crun crun-new crun-wasm; do
    b=$(bin_of $n)
    if [ -n "$b" ] && "$b" --version 2>/dev/null | grep -q '+WASM'; then wasm_names="$wasm_names $n" wasm_crun="$wasm_crun $n"; fi
done
if [ -n "${WASM_MODULES:-}" ] && [ -f "${WASM_MODULES:-}/hello.wasm" ]; then
    mkdir -p "$work/wasm/rootfs"
    cp "$WASM_MODULES/hello.wasm" "$work/wasm/rootfs/"
    python3 - "$bundle/config.json" "$work/wasm/config.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["process"]["args"] = ["/hello.wasm"]
config["annotations"] = {"module.wasm.image/variant": "compat"}
json.dump(config, open(sys.argv[2], "w"))
PY
    NAMES="$wasm_names" TEMPLATE="{rt} --root {root} run --bundle $work/wasm bench-wasm" timed wasm --
else
    echo "bench: no test modules (WASM_MODULES=${WASM_MODULES:-unset}: make wasm-modules): the wasm row is not measured"
fi

# parallel: 4 workers x 10 runs each, per runtime, 5 rounds in rotated order; the median wall
# time (a round with a failed run marks the runtime's row failed), and what was left.
cat > "$work/parallel.sh" <<'PARALLEL'
#!/bin/sh
# usage: parallel.sh RUNTIME ROOT BUNDLE: 40 runs, 4 at a time; fails if any run failed
fails=$(seq 0 39 | xargs -P 4 -I{} sh -c "'$1' --root '$2' run --bundle '$3' par-{} >/dev/null 2>&1 || echo fail" | grep -c fail)
[ "$fails" = 0 ] || { echo "$fails of 40 runs failed" >&2; exit 1; }
PARALLEL
TEMPLATE="sh $work/parallel.sh {rt} {root} $bundle" timed parallel 5 --
NAMES="skiff skiff-built" TEMPLATE="sh $work/parallel.sh {rt} {root} $bundle" timed built-parallel 5 --
for n in $names; do
    left=$(find "$roots/$n" -mindepth 1 -maxdepth 1 -name 'par-*' | wc -l)
    # (not the tmpfs standing in for the unified hierarchy, where crun "moves" processes)
    cg=$(find /sys/fs/cgroup -maxdepth 3 -path /sys/fs/cgroup/unified -prune -o -type d -name 'par-*' -print 2>/dev/null | wc -l)
    echo "$left $cg" > "$work/parallel-left-$n"
done

# Peak RSS (KiB) of the runtime's own process during `run`, by /usr/bin/time (a small C
# parent, so the child's peak is the runtime's), interleaved; the medians into rss.csv.
for n in $names; do : > "$work/rss-$n"; done
TEMPLATE="/usr/bin/time -f %M -a -o $work/rss-{name} {rt} --root {root} run --bundle $bundle bench-rss" timed rss-runs --
python3 - "$work" $names <<'PY'
import statistics, sys
work, names = sys.argv[1], sys.argv[2:]
with open(f"{work}/rss.csv", "w") as out:
    out.write("name,rss_kib\n")
    for name in names:
        values = [int(line) for line in open(f"{work}/rss-{name}") if line.strip().isdigit()]
        out.write(f"{name},{int(statistics.median(values)) if values else 'failed'}\n")
PY
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

# column FILE NAME FIELD: a runtime's median from an interleave.py CSV (2 wall, 3 cpu)
column() { awk -F, -v n="$2" -v f="$3" 'NR > 1 && $1 == n { print $f }' "$1" 2>/dev/null; }
ratio() { case "$1$2" in *n/a*|*failed*|'') echo n/a ;; *) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' ;; esac; }
cols() { if [ -n "$crun_new" ]; then printf '%-36s %9s %9s %9s %9s %9s %9s %9s\n' "$@"; else printf '%-36s %9s %9s %9s %9s %9s\n' "$1" "$2" "$3" "$4" "$6" "$7"; fi; }
# row LABEL CSV FIELD [SCALE]: the medians and skiff's ratios to each other runtime
row() {
    s=$(column "$2" skiff "$3"); r=$(column "$2" runc "$3"); c=$(column "$2" crun "$3"); k=$(column "$2" crun-new "$3")
    cols "$1" "${s:-n/a}" "${r:-n/a}" "${c:-n/a}" "${k:-n/a}" "$(ratio "$s" "$r")" "$(ratio "$s" "$c")" "$(ratio "$s" "$k")"
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); runs: $runs each, interleaved; state roots on tmpfs"
versions="skiff $("$skiff" --version | head -1 | cut -d' ' -f3), $(runc --version | head -1), $(crun --version | head -1)"
if [ -n "$crun_new" ]; then
    versions="$versions, crun-new: $("$crun_new" --version | head -1)"
else
    versions="$versions; no second crun (set CRUN_NEW, or put a crun >= 1.27 on PATH as crun-new)"
fi
echo "versions: $versions"
echo "skiff's binary: $seal"
cols measure skiff runc crun crun-new skiff/runc skiff/crun skiff/crun-new
for what in run cycle exec run-paused exec-paused secrun secexec state kill events delete big; do
    case $what in
        cycle) label="create+start+wait+delete" ;;
        run-paused) label="run, after 100 ms quiet" ;;
        exec-paused) label="exec, after 100 ms quiet" ;;
        big) label="run, 10 MB config.json" ;;
        secrun) label="run, default seccomp" ;;
        secexec) label="exec, default seccomp" ;;
        events) label="events --stats" ;;
        kill) label="kill (CONT)" ;;
        *) label=$what ;;
    esac
    row "median ms, $label" "$work/$what.csv" 2
    case $what in run|cycle|exec) row "median cpu ms, $label" "$work/$what.csv" 3 ;; esac
done
row "median peak RSS KiB, run" "$work/rss.csv" 2
row "parallel 4x10 runs, wall ms" "$work/parallel.csv" 2
left=""
for n in $names; do read -r l c < "$work/parallel-left-$n"; left="$left $n $l/$c"; done
echo "parallel: state dirs/cgroups left:$left"
# The build's binary (writable: re-executed from a read-only mount) against the installed one.
built_line="skiff as built (re-executed), against skiff installed (immutable):"
for what in run exec parallel; do
    b=$(column "$work/built-$what.csv" skiff-built 2); i=$(column "$work/built-$what.csv" skiff 2)
    built_line="$built_line $what ${b:-n/a} ms against ${i:-n/a} ($(ratio "$i" "$b"));"
done
echo "$built_line"
# The wasm row: skiff and each crun with a wasm handler (its own columns: the others have none).
wasm_line="wasm hello world, run: skiff $(column "$work/wasm.csv" skiff 2) ms (cpu $(column "$work/wasm.csv" skiff 3))"
for n in $wasm_crun; do
    w=$(column "$work/wasm.csv" "$n" 2)
    wasm_line="$wasm_line; $n $w ms (cpu $(column "$work/wasm.csv" "$n" 3)), skiff/$n $(ratio "$(column "$work/wasm.csv" skiff 2)" "$w")"
done
echo "$wasm_line"
if [ -n "$wasm_crun" ]; then
    for n in $wasm_crun; do echo "  $n: $("$(bin_of $n)" --version | head -1), $("$(bin_of $n)" --version | grep -o '+WASM[^ ]*')"; done
else
    echo "  no crun with a wasm handler found (no +WASM in crun's, crun-new's or CRUN_WASM's --version): skiff alone"
fi

echo
echo "sweeps: median ms at each size; slope = ms per unit from the smallest to the largest size"
sweep() {  # TITLE PREFIX SIZES...
    title=$1; prefix=$2; shift 2
    first=$1; for last; do :; done
    for size; do row "$title $size" "$work/$prefix-$size.csv" 2; done
    line="  slope ms/unit:"
    for n in $names; do
        a=$(column "$work/$prefix-$first.csv" "$n" 2); b=$(column "$work/$prefix-$last.csv" "$n" 2)
        slope=$(awk -v a="$a" -v b="$b" -v d=$((last - first)) 'BEGIN { if (a != "" && b != "" && a != "failed" && b != "failed") printf "%.4f", (b - a) / d; else print "n/a" }')
        eval "slope_$(echo $n | tr - _)=\$slope"
        line="$line $n $slope"
    done
    echo "$line; skiff/crun $(ratio "$slope_skiff" "$slope_crun")"
}
sweep "list, containers:" list 10 100 1000
sweep "run, bind mounts:" binds 10 100 1000
sweep "run, seccomp rules, cold:" rules-cold 50 300 1000
sweep "run, seccomp rules, warm:" rules-warm 50 300 1000

# The systemd VM's own timing (TCG-emulated, reported by make test-vm-systemd), when found.
vm_out=$here/../work/vm-systemd/suite/v2.out
if [ -f "$vm_out" ] && grep -q '^timing:' "$vm_out"; then
    echo "systemd VM (make test-vm-systemd of $(date -u -r "$vm_out" +%Y-%m-%dT%H:%MZ)):"
    grep '^timing:' "$vm_out" | sed 's/^/  /'
else
    echo "systemd VM: no timing found ($vm_out): make test-vm-systemd reports it"
fi
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
