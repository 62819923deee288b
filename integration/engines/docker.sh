#!/bin/bash
# docker (dockerd on a private containerd) driving an OCI runtime end to end, offline: dockerd
# with its own data root, exec root, pid file, socket and daemon.json inside a work dir, no
# bridge, no iptables changes; the runtime registered as "skiff" in daemon.json.
# usage: docker.sh RUNTIME      (skiff, or /usr/sbin/runc to compare)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib.sh"
suite_init docker "${1:-}"

require dockerd docker.io
require docker docker.io
require containerd containerd
require ctr containerd
require containerd-shim-runc-v2 containerd
require script util-linux
require timeout coreutils
require_file "${BUSYBOX:-/bin/busybox}" busybox-static
require_done

# dockerd's containers' cgroups are /docker/ID; /run/docker (plugins) is made whatever the
# exec root; the shims' sockets go to /run/containerd/s.
track_cgroup docker
track_host_path /run/docker /run/containerd /run/containerd/s /run/containerd/fifo /run/containerd/runc \
    /var/lib/docker /etc/docker /opt/containerd /var/lib/containerd
LINKS_BEFORE=$(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sort)

DD=$W/docker
mkdir -p "$DD" "$DD/client"
cat > "$DD/daemon.json" <<EOF
{
  "deprecated-key-path": "$DD/key.json",
  "runtimes": { "skiff": { "path": "$RUNTIME" } }
}
EOF
export DOCKER_HOST=unix://$DD/docker.sock DOCKER_CONFIG=$DD/client
D=(docker)
IMG=localhost/skiff-busybox:test
DRUN=("${D[@]}" run --runtime skiff --network none $SECCOMP_OPT)
LOOP='trap "exit 0" TERM; while :; do sleep 0.1; done'

state() { "${D[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>&1; }
cid() { "${D[@]}" inspect -f '{{.Id}}' "$1" 2>/dev/null; }
cpid() { "${D[@]}" inspect -f '{{.State.Pid}}' "$1" 2>/dev/null; }

suite_teardown() {
    if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        local ids
        ids=$(timeout 20 "${D[@]}" ps -a -q 2>/dev/null)
        [ -n "$ids" ] && timeout 30 "${D[@]}" rm -f $ids > /dev/null 2>&1
        stop_pid "$DOCKERD_PID" 20     # before its containerd
    fi
}

# ---- containerd, dockerd, the image
start_containerd "$W/ctd"
start_daemon dockerd "$W/logs/dockerd.log" dockerd --data-root "$DD/root" --exec-root "$DD/exec" \
    --pidfile "$DD/docker.pid" -H "$DOCKER_HOST" --config-file "$DD/daemon.json" \
    --containerd "$CTD_SOCK" --bridge=none --iptables=false --ip6tables=false \
    --ip-forward=false --ip-masq=false
DOCKERD_PID=$LAST_PID
if wait_for 30 "${D[@]}" version; then pass "dockerd answers on its private socket"; else
    fail "dockerd answers on its private socket" "docker version succeeds within 30 s" \
        "$("${D[@]}" version 2>&1 | tail -n 5)" "$(tail -n 20 "$W/logs/dockerd.log")"
    exit 1
fi
check_match "docker info: the runtime skiff is registered with its path" "\"skiff\":\\{\"path\":\"$RUNTIME\"" \
    "$("${D[@]}" info -f '{{json .Runtimes}}' 2>&1)"
make_rootfs "$W/rootfs"
check "image: tar | docker import" bash -c 'tar -C "$1" -c . | docker import - "$2"' _ "$W/rootfs" "$IMG"

# ---- run --rm, exit status, errors, terminal
check_out "run --rm echo hi" "hi" "${DRUN[@]}" --rm $IMG echo hi
check_rc "run --rm: exit status 3 passes through" 3 "${DRUN[@]}" --rm $IMG sh -c 'exit 3'
check_out "run --rm: seccomp mode $SECCOMP_MODE inside (SECCOMP_OPT='$SECCOMP_OPT')" "Seccomp: $SECCOMP_MODE" \
    "${DRUN[@]}" --rm $IMG sh -c 'grep "^Seccomp:" /proc/self/status | tr -s "\t " " "'
check_rc "run --rm /nonexistent: exit status 127" 127 "${DRUN[@]}" --rm $IMG /nonexistent
check_match "run --rm /nonexistent: the runtime's error reaches docker" 'stat /nonexistent: no such file or directory' "$ERR"
check_tty "run --rm -it on a terminal: tty is /dev/pts/N" '^/dev/pts/[0-9]+\|run-tty-ok\|$' \
    "${DRUN[@]}" --rm -it $IMG sh -c 'tty; echo run-tty-ok'

# ---- a detached container: hook, exec, memory, top, pause/unpause, stop, start, kill
check "run -d --memory 64m" "${DRUN[@]}" -d --memory 64m --name d1 $IMG sh -c "$LOOP"
id1=$(cid d1) pid1=$(cpid d1)
check_eq "run -d: running" "running 0" "$(state d1)"
# dockerd 20.10 gives the shim --root EXEC_ROOT/runtime-runc/moby (whatever the runtime's name)
rroot=$(ls -d "$DD"/exec/runtime-*/moby 2>&1)
check_match "the runtime's state root is in the exec root" "^$DD/exec/runtime-[a-z]+/moby$" "$rroot"
check_out "the runtime lists the container ($RT --root ROOT list -q)" "$id1" "$RT" --root "$rroot" list -q
# docker's prestart hook: /proc/<dockerd>/exe libnetwork-setkey ... reads the container state
# on stdin and hands dockerd /proc/<pid>/ns/net, which dockerd bind-mounts at the sandbox key.
# That mount holding the container's net namespace can only come from the hook having run
# with the right state.
bundle=$W/ctd/state/io.containerd.runtime.v2.task/moby/$id1
check_match "config.json has docker's libnetwork-setkey prestart hook" '"prestart":\[\{"path":"/proc/[0-9]+/exe","args":\["libnetwork-setkey"' \
    "$(tr -d ' \n' < "$bundle/config.json" 2>&1)"
key=$("${D[@]}" inspect -f '{{.NetworkSettings.SandboxKey}}' d1 2>&1)
check_match "the sandbox key is in the exec root" "^$DD/exec/netns/" "$key"
check_eq "prestart hook ran: the sandbox key holds the container's net namespace" \
    "$(readlink /proc/$pid1/ns/net 2>&1)" "net:[$(stat -L -c %i "$key" 2>&1)]"
check_out "exec echo" "exec-ok" "${D[@]}" exec d1 echo exec-ok
check_rc "exec: exit status 5 passes through" 5 "${D[@]}" exec d1 sh -c 'exit 5'
check_out "exec: user, env, workdir" "65534 1 /tmp" "${D[@]}" exec -u 65534 -e X=1 -w /tmp d1 sh -c 'echo $(id -u) $X $PWD'
check_tty "exec -it on a terminal: tty is /dev/pts/N" '^/dev/pts/[0-9]+\|exec-tty-ok\|$' \
    "${D[@]}" exec -it d1 sh -c 'tty; echo exec-tty-ok'
check_out "memory limit seen inside" 67108864 "${D[@]}" exec d1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes
check_eq "memory limit on the host (/sys/fs/cgroup/memory/docker/ID)" 67108864 \
    "$(cat /sys/fs/cgroup/memory/docker/$id1/memory.limit_in_bytes 2>&1)"
xrun "${D[@]}" top d1 -o pid,args
check_match "top: the container's processes" "^ *$pid1 +sh -c trap" "$OUT" "rc $RC, stderr: $ERR"
check "pause" "${D[@]}" pause d1
check_eq "pause: paused" "paused 0" "$(state d1)"
check_eq "pause: host freezer.state FROZEN" FROZEN "$(cat /sys/fs/cgroup/freezer/docker/$id1/freezer.state 2>&1)"
check "unpause" "${D[@]}" unpause d1
check_eq "unpause: running" "running 0" "$(state d1)"
check_out "unpause: exec works again" "exec-ok" "${D[@]}" exec d1 echo exec-ok
t0=$(date +%s%N)
check "stop (pid 1 exits on TERM)" "${D[@]}" stop -t 10 d1
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "stop (TERM handled): exited with status 0" "exited 0" "$(state d1)"
[ "$t" -lt 5000 ] && pass "stop (TERM handled): within 5 s (took ${t} ms), no KILL needed" ||
    fail "stop (TERM handled): within 5 s" "< 5000 ms" "$t ms"
check "start (the stopped container again)" "${D[@]}" start d1
check_eq "start: running" "running 0" "$(state d1)"
check_out "start: exec works" "exec-ok" "${D[@]}" exec d1 echo exec-ok
check "kill (default KILL)" "${D[@]}" kill d1
wait_for 10 sh -c '[ "$(docker inspect -f "{{.State.Status}}" d1)" = exited ]'
check_eq "kill: exited with status 137" "exited 137" "$(state d1)"
check "rm" "${D[@]}" rm d1

# ---- stop of a process that ignores TERM: KILL after --stop-timeout
check "run -d --stop-timeout 2 (TERM ignored)" "${DRUN[@]}" -d --stop-timeout 2 --name d2 $IMG sh -c 'trap "" TERM; sleep 1000'
t0=$(date +%s%N)
check "stop (TERM ignored)" "${D[@]}" stop d2
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "stop (TERM ignored): exited with status 137 (KILL)" "exited 137" "$(state d2)"
[ "$t" -ge 2000 ] && [ "$t" -lt 10000 ] && pass "stop (TERM ignored): took the 2 s stop timeout (${t} ms)" ||
    fail "stop (TERM ignored): took the 2 s stop timeout" "2000..10000 ms" "$t ms"
check "rm" "${D[@]}" rm d2

# ---- rm -f of a running container
check "run -d (for rm -f)" "${DRUN[@]}" -d --name d3 $IMG sleep 1000
check_eq "run -d: running" "running 0" "$(state d3)"
check "rm -f of a running container" "${D[@]}" rm -f d3

# ---- nothing left
check_out "docker ps -a is empty" "" "${D[@]}" ps -a -q
xrun "$RT" --root "$rroot" list -q
check_eq "runtime state ($RT --root $rroot list -q): empty" "0 " "$RC $OUT" "stderr: $ERR"
check_eq "no container cgroup left under /docker" "" "$(find /sys/fs/cgroup/*/docker -mindepth 1 -type d 2>/dev/null)"
check_eq "no sandbox key (net namespace mount) left" "" "$(_work_mounts | grep "^$DD/exec/netns/")"
stop_pid "$DOCKERD_PID" 20
check_eq "dockerd stopped" "" "$(kill -0 "$DOCKERD_PID" 2>/dev/null && echo running)"
stop_pid "$CTD_PID" 15
check_eq "containerd stopped" "" "$(kill -0 "$CTD_PID" 2>/dev/null && echo running)"
check_eq "no network interface added" "$LINKS_BEFORE" "$(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sort)"
