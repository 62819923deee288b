#!/bin/bash
# podman (with conmon) driving an OCI runtime end to end, offline, with its configuration,
# storage, run root, locks, network configuration and events inside a work dir.
# usage: podman.sh RUNTIME      (skiff, or /usr/sbin/runc to compare)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib.sh"
suite_init podman "${1:-}"

require podman podman
require conmon conmon
require script util-linux
require timeout coreutils
require_file "${BUSYBOX:-/bin/busybox}" busybox-static
require_file /etc/containers/policy.json golang-github-containers-common
require_done

STATE_ROOT=${RUNTIME_STATE_ROOT:-/run/$RT_NAME}   # conmon passes no --root: the runtime's default

PD=$W/podman
podman_config "$PD"
mkdir -p "$PD/cid"

P=(podman --runtime "$RUNTIME")
IMG=localhost/skiff-busybox:test
# sh as pid 1 gets no default signal actions: a TERM handler makes it stop on TERM
LOOP='trap "exit 0" TERM; while :; do sleep 0.1; done'

# every container gets a name and a cid file, to look for its state in the runtime afterwards
n=0
cname() { n=$((n + 1)); NAME=skiffeng-$n; CID=$PD/cid/$NAME; }
RUN() { cname; RUNARGS=(run --network none $SECCOMP_OPT --cidfile "$CID"); }
state() { "${P[@]}" inspect -f '{{.State.Status}}' "$1" 2>&1; }
exitcode() { "${P[@]}" inspect -f '{{.State.ExitCode}}' "$1" 2>&1; }
cid() { cat "$PD/cid/$1" 2>/dev/null; }

suite_teardown() {
    "${P[@]}" rm -a -f -t 0 > "$W/logs/teardown-rm.log" 2>&1
    "${P[@]}" rmi -a -f >> "$W/logs/teardown-rm.log" 2>&1
}

make_rootfs "$W/rootfs"
check "image: tar | podman import" bash -c 'tar -C "$1" -c . | "${@:2}"' _ "$W/rootfs" "${P[@]}" import - "$IMG"

# ---- run --rm, exit status
RUN; check_out "run --rm echo hi" "hi" "${P[@]}" "${RUNARGS[@]}" --rm --name $NAME $IMG echo hi
RUN; check_rc "run --rm: exit status 3 passes through" 3 "${P[@]}" "${RUNARGS[@]}" --rm --name $NAME $IMG sh -c 'exit 3'
RUN; check_out "run --rm: seccomp mode $SECCOMP_MODE inside (SECCOMP_OPT='$SECCOMP_OPT')" "Seccomp: $SECCOMP_MODE" \
    "${P[@]}" "${RUNARGS[@]}" --rm --name $NAME $IMG sh -c 'grep "^Seccomp:" /proc/self/status | tr -s "\t " " "'
RUN; check_rc "run --rm of a missing command: 127" 127 "${P[@]}" "${RUNARGS[@]}" --rm --name $NAME $IMG /nonexistent
if [ "${SKIFF_ENGINE_TRACE:-1}" != 0 ]; then
    # (podman read that error from the runtime's JSON log: runtime_supports_json names it)
    check_match "podman calls the runtime with --log-format json" "log-format.json" "$(grep -h -- '--log' "$W/logs/runtime-argv.log" | tail -n 3)"
fi
RUN; check_tty "run --rm -it on a terminal: tty is /dev/pts/N" '^/dev/pts/[0-9]+\|run-tty-ok\|?$' \
    "${P[@]}" "${RUNARGS[@]}" --rm -it --name $NAME $IMG sh -c 'tty; echo run-tty-ok'
RUN; check_out "run --rm --memory 64m --pids-limit 50: limits seen inside" "67108864 50" \
    "${P[@]}" "${RUNARGS[@]}" --rm --memory 64m --pids-limit 50 --name $NAME $IMG \
    sh -c 'echo $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) $(cat /sys/fs/cgroup/pids/pids.max)'

# ---- a detached container: exec, limits from both sides, top, pause/unpause, stop, start, kill
RUN; C1=$NAME
check "run -d (--memory 64m --pids-limit 50)" "${P[@]}" "${RUNARGS[@]}" -d --memory 64m --pids-limit 50 --name $C1 $IMG sh -c "$LOOP"
check_eq "run -d: inspect says running" running "$(state $C1)"
check_out "exec echo" "exec-ok" "${P[@]}" exec $C1 echo exec-ok
check_out "exec: user, env, workdir" "65534 1 /tmp" "${P[@]}" exec --user 65534 -e X=1 -w /tmp $C1 sh -c 'echo $(id -u) $X $PWD'
check_rc "exec: exit status 5 passes through" 5 "${P[@]}" exec $C1 sh -c 'exit 5'
check_tty "exec -it on a terminal: tty is /dev/pts/N" '^/dev/pts/[0-9]+\|exec-tty-ok\|?$' \
    "${P[@]}" exec -it $C1 sh -c 'tty; echo exec-tty-ok'
check_out "exec: memory and pids limits seen inside" "67108864 50" "${P[@]}" exec $C1 \
    sh -c 'echo $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) $(cat /sys/fs/cgroup/pids/pids.max)'
id1=$(cid $C1)
xrun "$RT" --root "$STATE_ROOT" list -q
check_match "the runtime lists the container ($RT --root $STATE_ROOT list -q)" "^$id1\$" "$OUT" "rc $RC, stderr: $ERR"
check_eq "host cgroup /libpod_parent/libpod-ID: memory.limit_in_bytes and pids.max" "67108864 50" \
    "$(cat /sys/fs/cgroup/memory/libpod_parent/libpod-$id1/memory.limit_in_bytes /sys/fs/cgroup/pids/libpod_parent/libpod-$id1/pids.max 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check_match "ps: the container is Up" "$C1 *$" "$("${P[@]}" ps --format '{{.Status}} {{.Names}}' 2>&1 | grep -E '^Up')"
xrun "${P[@]}" top $C1 pid args
check_match "top: the container's processes" '^ *1 +sh -c trap' "$OUT" "rc $RC, stderr: $ERR"

check "pause" "${P[@]}" pause $C1
check_eq "pause: inspect says paused" paused "$(state $C1)"
check_eq "pause: host freezer.state FROZEN" FROZEN "$(cat /sys/fs/cgroup/freezer/libpod_parent/libpod-$id1/freezer.state 2>&1)"
check "unpause" "${P[@]}" unpause $C1
check_eq "unpause: inspect says running" running "$(state $C1)"
check_out "unpause: exec works again" "exec-ok" "${P[@]}" exec $C1 echo exec-ok

check "kill -s USR1 (sh has no handler: ignored as pid 1)" "${P[@]}" kill -s USR1 $C1
check_eq "kill -s USR1: still running" running "$(state $C1)"

t0=$(date +%s%N)
check "stop (pid 1 exits on TERM)" "${P[@]}" stop -t 10 $C1
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "stop (TERM handled): exited with status 0" "exited 0" "$(state $C1) $(exitcode $C1)"
[ "$t" -lt 5000 ] && pass "stop (TERM handled): within 5 s (took ${t} ms), no KILL needed" ||
    fail "stop (TERM handled): within 5 s" "< 5000 ms" "$t ms"
check "start (the stopped container again)" "${P[@]}" start $C1
check_eq "start: inspect says running" running "$(state $C1)"
check_out "start: exec works" "exec-ok" "${P[@]}" exec $C1 echo exec-ok
check "kill (default KILL)" "${P[@]}" kill $C1
wait_for 10 sh -c "[ \"\$(podman inspect -f '{{.State.Status}}' $C1)\" = exited ]"
check_eq "kill: exited with status 137" "exited 137" "$(state $C1) $(exitcode $C1)"
check "rm" "${P[@]}" rm $C1
check_eq "rm: gone from podman ps -a" "" "$("${P[@]}" ps -a --format '{{.Names}}' 2>&1 | grep -x $C1)"

# ---- stop of a process that ignores TERM: KILL after --stop-timeout
RUN; C2=$NAME
check "run -d --stop-timeout 2 (TERM ignored)" "${P[@]}" "${RUNARGS[@]}" -d --stop-timeout 2 --name $C2 $IMG sh -c 'trap "" TERM; sleep 1000'
t0=$(date +%s%N)
xrun "${P[@]}" stop $C2
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "stop (TERM ignored): podman stop succeeds" 0 "$RC" "stderr: $ERR"
check_match "stop (TERM ignored): podman resorts to SIGKILL" "resorting to SIGKILL" "$ERR"
check_eq "stop (TERM ignored): exited with status 137 (KILL)" "exited 137" "$(state $C2) $(exitcode $C2)"
[ "$t" -ge 2000 ] && [ "$t" -lt 10000 ] && pass "stop (TERM ignored): took the 2 s stop timeout (${t} ms)" ||
    fail "stop (TERM ignored): took the 2 s stop timeout" "2000..10000 ms" "$t ms"
check "rm" "${P[@]}" rm $C2

# ---- rm -f of a running container
RUN; C3=$NAME
check "run -d (for rm -f)" "${P[@]}" "${RUNARGS[@]}" -d --name $C3 $IMG sleep 1000
check_eq "run -d: inspect says running" running "$(state $C3)"
check "rm -f of a running container" "${P[@]}" rm -f -t 1 $C3
check_eq "rm -f: gone from podman ps -a" "" "$("${P[@]}" ps -a --format '{{.Names}}' 2>&1 | grep -x $C3)"

# ---- nothing left: podman's list and the runtime's state
check_out "podman ps -a is empty" "" "${P[@]}" ps -a -q
ids=$(for f in "$PD"/cid/*; do cat "$f"; echo; done 2>/dev/null)
check_match "cid files were written for the containers" '^[0-9a-f]{64}$' "$(printf '%s\n' "$ids" | head -n 1)"
xrun "$RT" --root "$STATE_ROOT" list -q
left=$(printf '%s\n' "$OUT" | grep -xF -f <(printf '%s\n' "$ids") )
check_eq "runtime state ($RT --root $STATE_ROOT list -q): none of this run's containers" "" "$left" "rc $RC, stderr: $ERR"
left=$(for i in $ids; do [ -e "$STATE_ROOT/$i" ] && echo "$STATE_ROOT/$i"; done)
check_eq "runtime state dir: nothing of this run's containers" "" "$left"
