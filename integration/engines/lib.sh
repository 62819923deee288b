# Shared helpers for the engine suites (podman.sh, containerd.sh, docker.sh). Sourced by bash.
#
# A suite does:
#   . "$(dirname "$0")/lib.sh"
#   suite_init NAME "$1"            # runtime path, work dir, EXIT trap, argv-logging wrapper
#   require CMD PACKAGE ...; require_done
#   track_host_path /run/foo ...; track_cgroup NAME ...   (cleaned only if this run made them)
#   ... checks ...
# and defines suite_teardown (stop the engine's containers and daemons). The EXIT trap runs
# suite_teardown, kills what is left, unmounts everything under the work dir, removes the
# cgroups and host paths this run created, checks that nothing is left and prints the summary.

# The seccomp option given to podman and docker: none, so each engine's default profile is
# loaded (SECCOMP_OPT="--security-opt seccomp=unconfined" runs the suites without one).
SECCOMP_OPT=${SECCOMP_OPT-""}
# what /proc/self/status says inside such a container: "Seccomp: 0" unconfined, 2 filtered
case "$SECCOMP_OPT" in
    *seccomp=unconfined*) SECCOMP_MODE=0 ;;
    *) SECCOMP_MODE=2 ;;
esac

ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$ENGINES_DIR/../.." && pwd)
CHECK_TIMEOUT=${CHECK_TIMEOUT:-60}      # seconds for one engine command
N_OK=0 N_FAIL=0
FAILED=()
DAEMON_PIDS=()        # "pid name" of daemons this suite started, stopped by the EXIT trap
TRACK_PATHS=()        # host paths outside the work dir that did not exist before this run
TRACK_CGROUPS=()      # cgroup names (relative to each hierarchy) the engine may create
CG_BEFORE=""          # every cgroup directory under the tracked names that existed before

# ---------------------------------------------------------------- reporting

_show() {   # _show LABEL TEXT: the text indented, at most 30 lines
    [ -n "$2" ] || return 0
    printf '     %s\n' "$1"
    printf '%s\n' "$2" | head -n 30 | sed 's/^/       | /'
}

pass() { N_OK=$((N_OK + 1)); printf 'ok   %s\n' "$1"; }

fail() {   # fail NAME EXPECTED GOT [DETAILS]
    N_FAIL=$((N_FAIL + 1)); FAILED+=("$1")
    printf 'FAIL %s\n' "$1"
    _show "expected:" "$2"
    _show "got:" "$3"
    _show "details:" "${4:-}"
    if [ -n "${W:-}" ] && [ -s "$W/logs/runtime-argv.log" ]; then
        _show "last runtime calls ($W/logs/runtime-argv.log):" "$(tail -n 4 "$W/logs/runtime-argv.log")"
    fi
    return 0
}

# xrun CMD...: run with a timeout and stdin from /dev/null; sets RC, OUT (stdout), ERR (stderr).
xrun() {
    local o e
    o=$(mktemp "$W/tmp/out.XXXXXX") e=$(mktemp "$W/tmp/err.XXXXXX")
    timeout -k 5 "$CHECK_TIMEOUT" "$@" < /dev/null > "$o" 2> "$e"
    RC=$?
    OUT=$(tr -d '\0' < "$o") ERR=$(tr -d '\0' < "$e")
    rm -f "$o" "$e"
    return 0
}

# xrun_tty CMD...: the command on a terminal made by script(1); RC is the command's status,
# OUT its terminal output (CR removed, and a ^@/^D script may echo for the end of its stdin),
# ERR empty. script's stdin stays open (an idle pipe) while the command runs: at EOF script
# sends ^D, and podman run -it then sometimes loses the container's output (1 run in 20 here,
# with runc as with skiff).
xrun_tty() {
    local o cmd fd sp
    o=$(mktemp "$W/tmp/tty.XXXXXX")
    cmd=$(printf '%q ' "$@")
    exec {fd}< <(exec sleep $((CHECK_TIMEOUT + 10)))
    sp=$!
    SHELL=/bin/bash timeout -k 5 "$CHECK_TIMEOUT" script -qec "$cmd" /dev/null <&$fd > "$o" 2>&1
    RC=$?
    kill "$sp" 2>/dev/null
    exec {fd}<&-
    OUT=$(tr -d '\r' < "$o" | sed -e 's/^\(\^[@D]\)*//')
    ERR=""
    rm -f "$o"
    return 0
}

_rc_text() { if [ "$1" = 124 ]; then echo "exit 124 (timed out after ${CHECK_TIMEOUT}s)"; else echo "exit $1"; fi; }

_cmd_text() { printf '%q ' "$@"; }

# check NAME CMD...: the command exits 0.
check() {
    local name=$1; shift
    xrun "$@"
    if [ "$RC" = 0 ]; then pass "$name"; else
        fail "$name" "exit 0" "$(_rc_text "$RC")" "$(_cmd_text "$@")
stdout: $OUT
stderr: $ERR"; fi
}

# check_out NAME EXPECTED CMD...: the command exits 0 and its stdout is EXPECTED.
check_out() {
    local name=$1 exp=$2; shift 2
    xrun "$@"
    if [ "$RC" = 0 ] && [ "$OUT" = "$exp" ]; then pass "$name"; else
        fail "$name" "exit 0, stdout: $exp" "$(_rc_text "$RC"), stdout: $OUT" "$(_cmd_text "$@")
stderr: $ERR"; fi
}

# check_rc NAME RC CMD...: the command exits with RC.
check_rc() {
    local name=$1 exp=$2; shift 2
    xrun "$@"
    if [ "$RC" = "$exp" ]; then pass "$name"; else
        fail "$name" "exit $exp" "$(_rc_text "$RC")" "$(_cmd_text "$@")
stdout: $OUT
stderr: $ERR"; fi
}

# check_err NAME ERE CMD...: the command fails and its stderr matches ERE.
check_err() {
    local name=$1 re=$2; shift 2
    xrun "$@"
    if [ "$RC" != 0 ] && [ "$RC" != 124 ] && printf '%s\n' "$ERR" | grep -Eq -- "$re"; then pass "$name"; else
        fail "$name" "non-zero exit, stderr matching /$re/" "$(_rc_text "$RC"), stderr: $ERR" "$(_cmd_text "$@")
stdout: $OUT"; fi
}

# check_tty NAME ERE CMD...: on a terminal (script), the command exits 0 and its whole output
# matches ERE (egrep, anchored by the caller if wanted; lines are joined with '|').
check_tty() {
    local name=$1 re=$2 joined; shift 2
    xrun_tty "$@"
    joined=$(printf '%s\n' "$OUT" | tr '\n' '|')
    if [ "$RC" = 0 ] && printf '%s\n' "$joined" | grep -Eq -- "$re"; then pass "$name"; else
        fail "$name" "exit 0, terminal output matching /$re/" "$(_rc_text "$RC"), terminal output: $joined" "script -qec '$(_cmd_text "$@")'"; fi
}

check_eq() {   # check_eq NAME EXPECTED ACTUAL [DETAILS]
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "$2" "$3" "${4:-}"; fi
}

check_match() {   # check_match NAME ERE ACTUAL [DETAILS]
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "matching /$2/" "$3" "${4:-}"; fi
}

# wait_for SECONDS CMD...: poll (every 0.1 s) until the command succeeds; status 1 on timeout.
wait_for() {
    local n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do
        "$@" > /dev/null 2>&1 && return 0
        sleep 0.1; n=$((n - 1))
    done
    return 1
}

# ---------------------------------------------------------------- prerequisites

MISSING=0
# require CMD PACKAGE: the command must exist, else a failure naming the Debian package.
require() {
    if command -v "$1" > /dev/null 2>&1; then return 0; fi
    fail "prerequisite: $1" "$1 in PATH" "$1 is missing: install the Debian package $2 (apt-get install --no-install-recommends $2)"
    MISSING=1
}
# require_file PATH PACKAGE
require_file() {
    if [ -e "$1" ]; then return 0; fi
    fail "prerequisite: $1" "$1 present" "$1 is missing: install the Debian package $2"
    MISSING=1
}
# require_done: stop here (with the failures counted and the teardown done) if anything is missing.
require_done() { if [ "$MISSING" != 0 ]; then echo "missing prerequisites: nothing else can run"; exit 1; fi; }

# ---------------------------------------------------------------- podman

# podman_config DIR: podman's configuration, storage, run root, locks, network configuration
# and events in DIR (exported through CONTAINERS_CONF and CONTAINERS_STORAGE_CONF), and what
# podman and conmon could still make outside the work dir tracked for the teardown.
podman_config() {
    local PD=$1 nofile nproc
    # What podman and conmon could make outside the work dir with this configuration: the cgroups
    # (cgroupfs manager: /libpod_parent/libpod-ID for containers, /libpod_parent/conmon for conmon;
    # machine.slice with the systemd manager), image library's blob cache /var/lib/containers/cache;
    # the rest is tracked in case a default is used anyway.
    track_cgroup libpod_parent machine.slice
    track_host_path /dev/shm/libpod_lock /run/libpod /var/lib/containers /run/containers /var/tmp/containers \
        /etc/containers/networks
    track_glob '/tmp/conmon-term.*'
    mkdir -p "$PD/tmp" "$PD/net"
    # The default container rlimits of a root podman (1048576) exceed this host's hard limits:
    # ask for what the host allows.
    # (podman's own default for nproc is 32768; podman runs with at most that, so no more.)
    nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
    [ "$nofile" = unlimited ] && nofile=1048576
    { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
    cat > "$PD/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[network]
network_config_dir = "$PD/net"

[engine]
# As a user adds skiff beside crun and runc: podman then passes --log-format=json --log and
# reads the runtime's error from that file (podman's default list names only its known ones).
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "skiff"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PD/events.log"
tmp_dir = "$PD/tmp"
image_copy_tmp_dir = "$PD/tmp"
lock_type = "file"
static_dir = "$PD/root/libpod"
volume_path = "$PD/root/volumes"
EOF
    cat > "$PD/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PD/root"
runroot = "$PD/run"
EOF
    export CONTAINERS_CONF=$PD/containers.conf CONTAINERS_STORAGE_CONF=$PD/storage.conf
}


# ---------------------------------------------------------------- work dir, tracking, teardown

# suite_init NAME RUNTIME: check the runtime, make the work dir and the EXIT trap.
suite_init() {
    SUITE=$1
    SUITE_START=$(date +%s)
    if [ "$(id -u)" != 0 ]; then echo "$SUITE: must run as root" >&2; exit 1; fi
    if [ -z "${2:-}" ]; then echo "usage: $0 RUNTIME   (path of skiff, or of runc to compare)" >&2; exit 2; fi
    RT=$(readlink -f "$2" 2>/dev/null || true)
    local base=${SKIFF_ENGINE_WORK:-/tmp/skiff-engines}
    mkdir -p "$base"
    W=$(mktemp -d "$base/$SUITE.XXXXXX")
    mkdir -p "$W/logs" "$W/tmp" "$W/bin"
    export TMPDIR=$W/tmp      # the engines' temporary files (the shim's process.json, ...) too
    # the teardown runs on every way out: the end, a failure, ^C, a closed terminal or pipe
    trap _on_exit EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 141' PIPE
    trap 'exit 143' TERM
    echo "== $SUITE suite: runtime $2, work dir $W"
    if [ -z "$RT" ] || [ ! -x "$RT" ] || [ -d "$RT" ]; then
        fail "prerequisite: runtime" "an executable runtime at $2" "no executable file at $2"
        exit 1
    fi
    RT_NAME=$(basename "$RT")
    RUNTIME=$(runtime_wrapper "$RT")
    # On a v1/hybrid host every directory under /sys/fs/cgroup must be a hierarchy. A plain
    # directory there (a script's `mkdir -p /sys/fs/cgroup/$controller/...` for a controller
    # the host does not mount: runc's own test helpers do it) makes podman's cgroupfs manager
    # take it for one: it writes `tasks` files into it and can never remove it again.
    local d plain=""
    if [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]; then
        for d in /sys/fs/cgroup/*/; do mountpoint -q "${d%/}" || plain+="${d%/} "; done
    fi
    if [ -n "$plain" ]; then
        fail "prerequisite: /sys/fs/cgroup holds only cgroup hierarchies" "mount points only" \
            "plain directories on the tmpfs: $plain(left by another test suite? remove them: rm -r $plain)"
        exit 1
    fi
}

# runtime_wrapper PATH: what the engines are given for the runtime at PATH, printed: a wrapper
# with the runtime's own name (podman, for one, looks at the name) that logs each call and
# execs the runtime, so that $W/logs/runtime-argv.log tells which runtime call went wrong.
# SKIFF_ENGINE_TRACE=0 hands the engines the runtime itself.
runtime_wrapper() {
    local wrapper=$W/bin/$(basename "$1")
    if [ "${SKIFF_ENGINE_TRACE:-1}" = 0 ]; then echo "$1"; return 0; fi
    cat > "$wrapper" <<EOF
#!/bin/sh
printf '%s [%s] %s\n' "\$(date +%T.%N)" "\$(cat /proc/\$PPID/comm 2>/dev/null)" "\$*" >> '$W/logs/runtime-argv.log'
exec '$1' "\$@"
EOF
    chmod 755 "$wrapper"
    echo "$wrapper"
}

# make_rootfs DIR: the busybox root filesystem, made offline by the project's mk-rootfs.sh.
make_rootfs() {
    if ! sh "$REPO_DIR/integration/mk-rootfs.sh" "$1" > "$W/logs/mk-rootfs.log" 2>&1; then
        fail "busybox rootfs" "integration/mk-rootfs.sh $1 succeeds" "$(cat "$W/logs/mk-rootfs.log")"
        exit 1
    fi
}

# start_containerd DIR [CRI_TOML]: a private containerd with root, state, sockets and opt dir in
# DIR; the CRI plugin off, or on with CRI_TOML (its [plugins."io.containerd.grpc.v1.cri"]
# tables) appended to the configuration. Sets CTD_SOCK and CTD_PID; ends the suite if it does
# not answer.
start_containerd() {
    local d=$1 cri_toml=${2:-} cri='"io.containerd.grpc.v1.cri", '
    [ -z "$cri_toml" ] || cri=""
    mkdir -p "$d"
    cat > "$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = [$cri"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
$cri_toml
EOF
    CTD_SOCK=$d/containerd.sock
    start_daemon containerd "$W/logs/containerd.log" containerd --config "$d/config.toml"
    CTD_PID=$LAST_PID
    if wait_for 20 ctr --address "$CTD_SOCK" version; then pass "containerd answers on its private socket"; else
        fail "containerd answers on its private socket" "ctr --address $CTD_SOCK version succeeds within 20 s" \
            "$(ctr --address "$CTD_SOCK" version 2>&1)" "$(tail -n 20 "$W/logs/containerd.log")"
        exit 1
    fi
}

# remove_ctr_containers: every task (killed) and container of the suite's containerd, through
# its ctr command line "${C[@]}"; nothing when containerd ($CTD_PID) is not running.
remove_ctr_containers() {
    local t
    [ -n "${CTD_PID:-}" ] && kill -0 "$CTD_PID" 2>/dev/null || return 0
    for t in $("${C[@]}" task ls -q 2>/dev/null); do "${C[@]}" task delete -f "$t" > /dev/null 2>&1; done
    for t in $("${C[@]}" containers ls -q 2>/dev/null); do "${C[@]}" containers rm "$t" > /dev/null 2>&1; done
}

# track_host_path PATH...: PATH (outside the work dir) may be made by the engine; removed at
# the end if it did not exist before this run.
track_host_path() {
    local p
    for p in "$@"; do [ -e "$p" ] || TRACK_PATHS+=("$p"); done
}

# track_glob PATTERN...: files the engine makes at fixed places whatever its configuration
# (conmon's /tmp/conmon-term.* console sockets, left when a runtime never connects): matches
# that did not exist before this run are removed at the end.
TRACK_GLOBS=() GLOB_BEFORE=""
track_glob() {
    local g
    for g in "$@"; do
        TRACK_GLOBS+=("$g")
        GLOB_BEFORE+=$(compgen -G "$g")$'\n'
    done
}
_new_glob_files() {
    local g
    for g in "${TRACK_GLOBS[@]}"; do compgen -G "$g"; done |
        grep -vxF -f <(printf '%s\n' "$GLOB_BEFORE" | sed '/^$/d') 2>/dev/null
}

# track_cgroup NAME...: /sys/fs/cgroup/*/NAME (and /sys/fs/cgroup/NAME on a unified host) may
# be made by the engine; every directory under it that did not exist before is removed at the end.
track_cgroup() {
    local n
    for n in "$@"; do
        TRACK_CGROUPS+=("$n")
        CG_BEFORE+=$(_cg_dirs "$n")$'\n'
    done
}

_cg_dirs() {   # every cgroup directory under NAME in every hierarchy, deepest first
    local d
    for d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
        [ -d "$d" ] && find "$d" -depth -type d 2>/dev/null
    done | awk '!seen[$0]++'
}

# start_daemon NAME LOGFILE CMD...: start a daemon in its own session; records its pid.
start_daemon() {
    local name=$1 log=$2; shift 2
    setsid "$@" > "$log" 2>&1 < /dev/null &
    DAEMON_PIDS+=("$! $name")
    LAST_PID=$!
}

# stop_pid PID [SECONDS]: TERM, wait, then KILL.
stop_pid() {
    local pid=$1 n=$((${2:-10} * 10))
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        echo "   teardown: $pid did not stop on TERM: KILL"
        kill -KILL "$pid" 2>/dev/null; sleep 0.2
    fi
    wait "$pid" 2>/dev/null
    return 0
}

_cmdline() { local a; mapfile -d '' a 2>/dev/null < "/proc/$1/cmdline"; printf '%s' "${a[*]}" | cut -c1-200; }

# pids whose command line, executable or working directory is under the work dir (matched in
# bash itself: a grep for the path would find itself)
_work_pids() {
    local p pid a
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = "$$" ] && continue
        [ "$pid" = "$BASHPID" ] && continue
        a=()
        { mapfile -d '' a < "$p/cmdline"; } 2>/dev/null
        if [[ "${a[*]}" == *"$W"* ]] || [[ "$(readlink "$p/exe" 2>/dev/null)" == "$W"/* ]] ||
           [[ "$(readlink "$p/cwd" 2>/dev/null)" == "$W"/* ]]; then
            echo "$pid"
        fi
    done
}

_new_cgroups() {   # cgroup directories under the tracked names that this run made, deepest first
    local n
    for n in "${TRACK_CGROUPS[@]}"; do _cg_dirs "$n"; done |
        grep -vxF -f <(printf '%s\n' "$CG_BEFORE" | sed '/^$/d') 2>/dev/null
}

_work_mounts() {   # mount points under the work dir, deepest first
    awk -v w="$W" '{ m = $2; gsub(/\\040/, " ", m); if (m == w || index(m, w "/") == 1) print m }' /proc/self/mountinfo 2>/dev/null |
        awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

_on_exit() {
    local rc=$? d pid p left
    trap '' HUP INT TERM PIPE
    set +e
    echo "-- $SUITE teardown"
    if declare -F suite_teardown > /dev/null; then suite_teardown; fi
    for d in "${DAEMON_PIDS[@]}"; do stop_pid "${d%% *}" 15; done
    # whatever still runs from the work dir (conmon, shims, ...), then the containers left in
    # the engine's cgroups (thawed first: a frozen task does not die)
    for pid in $(_work_pids); do echo "   teardown: killing leftover pid $pid: $(_cmdline $pid)"; kill -KILL "$pid" 2>/dev/null; done
    for d in $(_new_cgroups); do
        [ -f "$d/freezer.state" ] && echo THAWED > "$d/freezer.state" 2>/dev/null
        [ -f "$d/cgroup.freeze" ] && echo 0 > "$d/cgroup.freeze" 2>/dev/null
        for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
            echo "   teardown: killing pid $pid left in $d: $(_cmdline $pid)"
            kill -KILL "$pid" 2>/dev/null
        done
    done
    sleep 0.2
    for d in $(_new_cgroups); do
        for p in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.1; done
    done
    for p in $(_work_mounts); do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null; done
    # second pass: a lazy unmount or a stacked mount can leave one more layer
    for p in $(_work_mounts); do umount -l "$p" 2>/dev/null; done
    for p in "${TRACK_PATHS[@]}"; do [ -e "$p" ] && rm -rf -- "$p"; done
    for p in $(_new_glob_files); do rm -f -- "$p"; done

    # What must hold after every run, failed or not.
    left=$(_work_mounts); check_eq "cleanup: no mounts left under $W" "" "$left"
    left=$(for pid in $(_work_pids); do printf '%s %s\n' "$pid" "$(_cmdline $pid)"; done)
    for d in "${DAEMON_PIDS[@]}"; do kill -0 "${d%% *}" 2>/dev/null && left+="${d} still running"$'\n'; done
    check_eq "cleanup: no engine processes left" "" "$(printf '%s' "$left" | sed '/^$/d')"
    left=$(_new_cgroups); check_eq "cleanup: no cgroups left (${TRACK_CGROUPS[*]})" "" "$left"
    left=$(for p in "${TRACK_PATHS[@]}"; do [ -e "$p" ] && echo "$p"; done; _new_glob_files)
    check_eq "cleanup: no host paths left (${TRACK_PATHS[*]:-none tracked}${TRACK_GLOBS[*]:+ ${TRACK_GLOBS[*]}})" "" "$left"

    if [ "$N_FAIL" = 0 ] && [ "${SKIFF_ENGINE_KEEP:-0}" = 0 ]; then
        rm -rf -- "$W"
    elif [ -z "$(_work_mounts)" ]; then
        # keep the logs (small) for the report; drop the storage
        find "$W" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf -- {} + 2>/dev/null
        echo "   logs kept in $W/logs"
    fi
    rmdir "${SKIFF_ENGINE_WORK:-/tmp/skiff-engines}" 2>/dev/null
    local how=""
    case $rc in 129|130|141|143) how=", INTERRUPTED (signal $((rc - 128)))" ;; esac
    echo "== $SUITE: $N_OK passed, $N_FAIL failed$how ($(( $(date +%s) - SUITE_START ))s, runtime $RT)"
    if [ "$N_FAIL" != 0 ]; then
        printf '   failed: %s\n' "${FAILED[@]}"
        exit 1
    fi
    [ "$rc" = 0 ] || exit "$rc"
    exit 0
}
