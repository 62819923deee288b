#!/bin/bash
# containerd (ctr, with the runc v2 shim) driving an OCI runtime end to end: a private
# containerd whose root, state, sockets, opt dir, FIFOs and runtime root are inside a work dir,
# and a busybox image made offline as an OCI archive.
# usage: containerd.sh RUNTIME      (skiff, or /usr/sbin/runc to compare)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib.sh"
suite_init containerd "${1:-}"

require containerd containerd
require ctr containerd
require containerd-shim-runc-v2 containerd
require script util-linux
require sha256sum coreutils
require timeout coreutils
require_file "${BUSYBOX:-/bin/busybox}" busybox-static
require_done

NS=skiffeng                     # containerd namespace: containers' cgroups are /skiffeng/ID
track_cgroup $NS
# containerd 1.6 puts the shims' sockets in /run/containerd/s whatever its config says; the rest
# (root, state, sockets, opt dir, ctr's FIFOs, the runtime root, TMPDIR) is pointed into the work
# dir, and tracked in case a default is used anyway.
track_host_path /run/containerd /run/containerd/s /run/containerd/fifo /run/containerd/runc \
    /opt/containerd /var/lib/containerd

CD=$W/ctd
mkdir -p "$W/fifo"

C=(ctr --address "$CD/containerd.sock" --namespace $NS)
RROOT=$W/runtime-root                 # --runc-root: the runtime's state
RUN=("${C[@]}" run --runc-binary "$RUNTIME" --runc-root "$RROOT" --fifo-dir "$W/fifo")
EXEC=("${C[@]}" task exec --fifo-dir "$W/fifo")
IMG=localhost/skiff-busybox:test
LOOP='trap "exit 0" TERM; while :; do sleep 0.1; done'
# ctr's default spec has no /sys/fs/cgroup: mount the container's own cgroups there, as
# podman and docker do, to see the limits from inside
CGMOUNT=(--mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=rprivate:nosuid:noexec:nodev:relatime:ro)

# ctr resizes the terminal after starting the process: when the process is already gone it
# prints 'ERRO resize pty error="cannot resize a stopped container"' (with runc too)
CTR_RESIZE_RACE='(.*resize pty.*stopped container.*\|)?'

task_status() { "${C[@]}" task ls 2>&1 | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { "${C[@]}" task ls 2>&1 | awk -v id="$1" '$1 == id { print $2 }'; }

suite_teardown() {
    remove_ctr_containers
}

# make_oci_archive ROOTFS OUT NAME: a one-layer OCI image archive of ROOTFS, by hand (tar,
# sha256sum and a few lines of JSON), named NAME for containerd's import
make_oci_archive() {
    local rootfs=$1 out=$2 name=$3 d b arch layer config manifest ls cs ms
    d=$(mktemp -d "$W/tmp/oci.XXXXXX"); b=$d/blobs/sha256
    mkdir -p "$b"
    arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
    tar -C "$rootfs" --numeric-owner -cf "$d/layer.tar" . || return 1
    layer=$(sha256sum "$d/layer.tar" | cut -d' ' -f1); ls=$(stat -c %s "$d/layer.tar")
    mv "$d/layer.tar" "$b/$layer"
    printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$arch" "$layer" > "$d/config"
    config=$(sha256sum "$d/config" | cut -d' ' -f1); cs=$(stat -c %s "$d/config")
    mv "$d/config" "$b/$config"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
        "$config" "$cs" "$layer" "$ls" > "$d/manifest"
    manifest=$(sha256sum "$d/manifest" | cut -d' ' -f1); ms=$(stat -c %s "$d/manifest")
    mv "$d/manifest" "$b/$manifest"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"test"}}]}' \
        "$manifest" "$ms" "$arch" "$name" > "$d/index.json"
    printf '{"imageLayoutVersion":"1.0.0"}' > "$d/oci-layout"
    tar -C "$d" -cf "$out" oci-layout index.json blobs && rm -rf "$d"
}

# ---- containerd and the image
start_containerd "$CD"
make_rootfs "$W/rootfs"
if make_oci_archive "$W/rootfs" "$W/image.tar" "$IMG"; then pass "image: OCI archive made offline"; else
    fail "image: OCI archive made offline" "tar + sha256sum succeed" "failed"; fi
check "image: ctr images import" "${C[@]}" images import "$W/image.tar"
check_out "image: listed" "$IMG" "${C[@]}" images ls -q

# ---- run --rm, exit status, terminal, an error from the runtime
check_out "run --rm echo hi" "hi" "${RUN[@]}" --rm $IMG t1 echo hi
check_rc "run --rm: exit status 3 passes through" 3 "${RUN[@]}" --rm $IMG t2 sh -c 'exit 3'
check_tty "run --rm -t on a terminal: tty is /dev/pts/N" "^/dev/pts/[0-9]+\\|run-tty-ok\\|$CTR_RESIZE_RACE\$" \
    "${RUN[@]}" --rm -t $IMG t3 sh -c 'tty; echo run-tty-ok'
check_err "run --rm /nonexistent: the runtime's error reaches ctr" 'stat /nonexistent: no such file or directory' \
    "${RUN[@]}" --rm $IMG t4 /nonexistent
check_eq "run --rm /nonexistent: no container left" "" "$("${C[@]}" containers ls -q 2>&1)"

# ---- a detached task: exec, ps, limits, pause/resume, metrics, kill
check "run -d --memory-limit 67108864" "${RUN[@]}" -d --memory-limit 67108864 "${CGMOUNT[@]}" $IMG t5 sh -c "$LOOP"
check_eq "run -d: task ls says RUNNING" RUNNING "$(task_status t5)"
check_out "the runtime lists the container ($RT --root $RROOT/$NS list -q)" t5 "$RT" --root "$RROOT/$NS" list -q
check_out "task exec echo" "exec-ok" "${EXEC[@]}" --exec-id x1 t5 echo exec-ok
check_rc "task exec: exit status 5 passes through" 5 "${EXEC[@]}" --exec-id x2 t5 sh -c 'exit 5'
check_tty "task exec -t on a terminal: tty is /dev/pts/N" "^/dev/pts/[0-9]+\\|exec-tty-ok\\|$CTR_RESIZE_RACE\$" \
    "${EXEC[@]}" -t --exec-id x3 t5 sh -c 'tty; echo exec-tty-ok'
check_out "memory limit seen inside" 67108864 "${EXEC[@]}" --exec-id x4 t5 cat /sys/fs/cgroup/memory/memory.limit_in_bytes
check_eq "memory limit on the host (/sys/fs/cgroup/memory/$NS/t5)" 67108864 "$(cat /sys/fs/cgroup/memory/$NS/t5/memory.limit_in_bytes 2>&1)"
pid=$(task_pid t5)
xrun "${C[@]}" task ps t5
check_match "task ps: lists the task's pid $pid" "^ *$pid( |$)" "$OUT" "rc $RC, stderr: $ERR"
xrun "${C[@]}" task metrics t5
check_match "task metrics: memory limit 67108864" 'limit.* 67108864' "$OUT" "rc $RC, stderr: $ERR"
check "task pause" "${C[@]}" task pause t5
check_eq "task pause: task ls says PAUSED" PAUSED "$(task_status t5)"
check_eq "task pause: host freezer.state FROZEN" FROZEN "$(cat /sys/fs/cgroup/freezer/$NS/t5/freezer.state 2>&1)"
check "task resume" "${C[@]}" task resume t5
check_eq "task resume: task ls says RUNNING" RUNNING "$(task_status t5)"
check_out "task resume: exec works again" "exec-ok" "${EXEC[@]}" --exec-id x5 t5 echo exec-ok
check "task kill (TERM; pid 1 exits on it)" "${C[@]}" task kill t5
wait_for 10 sh -c "[ \"\$(ctr --address '$CD/containerd.sock' -n $NS task ls | awk '\$1 == \"t5\" { print \$3 }')\" = STOPPED ]"
check_eq "task kill: task ls says STOPPED" STOPPED "$(task_status t5)"
check_rc "task delete: the exit status 0 of the TERM handler" 0 "${C[@]}" task delete t5
check "containers rm" "${C[@]}" containers rm t5

# ---- kill --all with SIGKILL, delete -f of a running task
check "run -d (for kill -a)" "${RUN[@]}" -d $IMG t6 sh -c 'sleep 1000 & wait'
check "task exec -d (a second process)" "${EXEC[@]}" -d --exec-id x6 t6 sleep 1000
n=$("${C[@]}" task ps t6 2>/dev/null | awk 'NR > 1' | wc -l)
check_eq "task ps: three processes (sh, its sleep, the exec's sleep)" 3 "$n"
check "task kill -a -s SIGKILL" "${C[@]}" task kill -a -s SIGKILL t6
wait_for 10 sh -c "[ \"\$(ctr --address '$CD/containerd.sock' -n $NS task ls | awk '\$1 == \"t6\" { print \$3 }')\" = STOPPED ]"
check_eq "task kill -a: task ls says STOPPED" STOPPED "$(task_status t6)"
check_eq "task kill -a: no process left in the cgroup" "" "$(cat /sys/fs/cgroup/pids/$NS/t6/cgroup.procs 2>/dev/null)"
check "task delete" "${C[@]}" task delete t6
check "containers rm" "${C[@]}" containers rm t6
check "run -d (for delete -f)" "${RUN[@]}" -d $IMG t7 sleep 1000
check_eq "run -d: task ls says RUNNING" RUNNING "$(task_status t7)"
check "task delete -f of a running task" "${C[@]}" task delete -f t7
check_eq "task delete -f: task gone" "" "$("${C[@]}" task ls -q 2>&1)"
check "containers rm" "${C[@]}" containers rm t7

# ---- nothing left
check_out "ctr containers ls is empty" "" "${C[@]}" containers ls -q
check "images rm --sync" "${C[@]}" images rm --sync $IMG
xrun "${C[@]}" snapshots ls
check_eq "ctr snapshots ls is empty (a header only)" "KEY PARENT KIND" "$(printf '%s' "$OUT" | tr -s ' ' | sed 's/ *$//')" "rc $RC, stderr: $ERR"
xrun "$RT" --root "$RROOT/$NS" list -q
check_eq "runtime state ($RT --root $RROOT/$NS list -q): empty" "0 " "$RC $OUT" "stderr: $ERR"
check_eq "runtime state dir $RROOT/$NS: empty" "" "$(ls -A "$RROOT/$NS" 2>&1)"
check_eq "no container cgroup left under /$NS" "" "$(find /sys/fs/cgroup/*/$NS -mindepth 1 -type d 2>/dev/null)"
stop_pid "$CTD_PID" 15
check_eq "containerd stopped" "" "$(kill -0 "$CTD_PID" 2>/dev/null && echo running)"
