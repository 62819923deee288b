# Section "criu" of guest-systemd.sh (sourced there; uses its ok/fail/check/bundle helpers):
# checkpoint and restore with Debian's CRIU, skiff and runc side by side on the same steps,
# with both cgroup drivers; then podman and containerd driving skiff's checkpoint/restore.
# CRIU cannot run on the host's kernel (it fails initialising its kernel feature detection),
# so this tier is the one that runs it.

need criu criu || return 0
echo "criu: $(criu --version | tr '\n' ' ')"
criu check >/tmp/criu-check.log 2>&1 && ok "criu check" || fail "criu check: $(tail -n 3 /tmp/criu-check.log)"

# A console socket that keeps every pty master it receives, reading (and dropping) what the
# terminal prints; one line per master in $1.log.
console_receiver() {
    rm -f "$1" "$1.log"
    python3 - "$1" <<'EOF' >/dev/null 2>&1 &
import os, socket, sys, threading
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(8)
def drain(fd):
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
while True:
    conn, _ = server.accept()
    _, fds, _, _ = socket.recv_fds(conn, 1024, 4)
    with open(path + ".log", "a") as log:
        log.write("master %d\n" % len(fds))
    for fd in fds:
        threading.Thread(target=drain, args=(fd,), daemon=True).start()
EOF
    echo $! > "$1.pid"
    wait_for 10 test -S "$1"
}

# The counting loop: the count goes to /count in the rootfs (read from the host), renamed
# into place so that a read never sees a half-written number.
COUNTER='["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /c.tmp; mv /c.tmp /count; sleep 0.2; done"]'
count() { cat "$1/rootfs/count" 2>/dev/null || echo 0; }
count_above() { [ "$(count "$1")" -gt "$2" ]; }

# criu_suite RT BINARY DRIVER: the same steps for runc and skiff; what each observes goes to
# /tmp/ck-values.RT.DRIVER, and the two lists must agree.
criu_suite() {
    local rt=$1 bin=$2 driver=$3 root=/run/ck-$1 id=ck-$1-$3 img=/tmp/ck-img-$1-$3 b=/tmp/ckb-$1-$3
    local flag="" path="/ck-$rt/$id" cgroup="/ck-$rt/$id"
    if [ "$driver" = systemd ]; then flag=--systemd-cgroup; path="system.slice:ck$rt:$id"; cgroup="/system.slice/ck$rt-$id.scope"; fi
    r() { $bin --root $root $flag "$@"; }
    local values=/tmp/ck-values.$rt.$driver
    : > $values
    seen() { echo "$1 $2" >> $values; echo "value: $rt $driver $1 $2"; }
    rm -rf $img; mkdir -p $img
    bundle $b ".process.args = $COUNTER | .linux.cgroupsPath = \"$path\""

    # 1. checkpoint (the container goes away), restore under the same id: it counts on
    r run -d --bundle $b $id </dev/null >/dev/null 2>&1 || { fail "$rt $driver: run -d"; return; }
    wait_for 20 count_above $b 4 || fail "$rt $driver: the loop does not count"
    local pid c1 c2
    pid=$(r state $id | jq .pid)
    seen "cgroup before" "$(cgroup_of $pid | sed "s/$rt/RT/g")"
    if r checkpoint --image-path $img/1 $id >/tmp/ck.log 2>&1; then ok "$rt $driver: checkpoint"; else fail "$rt $driver: checkpoint: $(tail -n 5 /tmp/ck.log)"; return; fi
    c1=$(count $b)
    seen "state after checkpoint" "$(r state $id >/dev/null 2>&1 && echo exists || echo gone)"
    seen "cgroup after checkpoint" "$([ -d /sys/fs/cgroup$cgroup ] && echo exists || echo gone)"
    sleep 1
    seen "counting while checkpointed" "$([ "$(count $b)" = "$c1" ] && echo stopped || echo "counts ($c1 -> $(count $b))")"
    if r restore -d --bundle $b --image-path $img/1 $id </dev/null >/tmp/ck.log 2>&1; then ok "$rt $driver: restore"; else fail "$rt $driver: restore: $(tail -n 5 /tmp/ck.log)"; return; fi
    seen "status after restore" "$(r state $id | jq -r .status)"
    pid=$(r state $id | jq .pid)
    seen "cgroup after restore" "$(cgroup_of $pid | sed "s/$rt/RT/g")"
    [ "$driver" = systemd ] && seen "unit after restore" "$(systemctl is-active ck$rt-$id.scope)"
    wait_for 20 count_above $b $((c1 + 2)) && seen "counts on from the checkpoint" yes || seen "counts on from the checkpoint" "no: $c1 -> $(count $b)"
    seen "exec after restore" "$(r exec $id cat /proc/1/cmdline | tr '\0' ' ' | cut -c1-5)"

    # 2. --leave-running: it keeps running; the images restore a second container (new id)
    r checkpoint --leave-running --image-path $img/2 $id >/tmp/ck.log 2>&1 || fail "$rt $driver: checkpoint --leave-running: $(tail -n 5 /tmp/ck.log)"
    c2=$(count $b)
    seen "status after --leave-running" "$(r state $id | jq -r .status)"
    wait_for 20 count_above $b $((c2 + 1)) && seen "counts after --leave-running" yes || seen "counts after --leave-running" no
    r delete -f $id >/dev/null 2>&1
    if [ "$driver" = cgroupfs ]; then
        r restore -d --bundle $b --image-path $img/2 $id-new </dev/null >/tmp/ck.log 2>&1 && seen "restore under a new id" "$(r state $id-new | jq -r .status)" ||
            seen "restore under a new id" "failed: $(tail -n 3 /tmp/ck.log)"
        # the images hold the dump's count, from which the restored loop goes on
        wait_for 20 count_above $b $((c2 - 1)) && seen "the new container counts on" yes || seen "the new container counts on" no
        r delete -f $id-new >/dev/null 2>&1
    else
        r restore -d --bundle $b --image-path $img/2 $id </dev/null >/tmp/ck.log 2>&1 && seen "restore of the left-running images" "$(r state $id | jq -r .status)" ||
            seen "restore of the left-running images" "failed: $(tail -n 3 /tmp/ck.log)"
        r delete -f $id >/dev/null 2>&1
    fi

    # 3. a pre-dump, then the dump on top of it (--parent-path)
    r run -d --bundle $b $id </dev/null >/dev/null 2>&1 || fail "$rt $driver: run -d (pre-dump)"
    wait_for 20 count_above $b 2
    r checkpoint --pre-dump --image-path $img/3-pre $id >/tmp/ck.log 2>&1 && seen "status after --pre-dump" "$(r state $id | jq -r .status)" ||
        seen "status after --pre-dump" "failed: $(tail -n 3 /tmp/ck.log)"
    r checkpoint --parent-path ../3-pre --image-path $img/3 $id >/tmp/ck.log 2>&1 && seen "dump on a pre-dump" ok || seen "dump on a pre-dump" "failed: $(tail -n 3 /tmp/ck.log)"
    c1=$(count $b)
    r restore -d --bundle $b --image-path $img/3 $id </dev/null >/tmp/ck.log 2>&1 && seen "restore after a pre-dump" "$(r state $id | jq -r .status)" ||
        seen "restore after a pre-dump" "failed: $(tail -n 3 /tmp/ck.log)"
    wait_for 20 count_above $b $((c1 + 1)) && seen "counts on after a pre-dump" yes || seen "counts on after a pre-dump" no
    r delete -f $id >/dev/null 2>&1

    # 4. a terminal: the restored pty's master goes to the console socket
    local sock=/tmp/console-$rt-$driver.sock
    console_receiver $sock || fail "$rt $driver: the console receiver did not start"
    bundle $b-tty ".process.terminal = true | .process.args = $COUNTER | .linux.cgroupsPath = \"$path\""
    if r run -d --console-socket $sock --bundle $b-tty $id </dev/null >/tmp/ck.log 2>&1; then
        wait_for 20 count_above $b-tty 2
        r checkpoint --image-path $img/4 $id >/tmp/ck.log 2>&1 && seen "checkpoint with a terminal" ok || seen "checkpoint with a terminal" "failed: $(tail -n 3 /tmp/ck.log)"
        c1=$(count $b-tty)
        r restore -d --console-socket $sock --bundle $b-tty --image-path $img/4 $id </dev/null >/tmp/ck.log 2>&1 && seen "restore with a terminal" "$(r state $id | jq -r .status)" ||
            seen "restore with a terminal" "failed: $(tail -n 3 /tmp/ck.log)"
        wait_for 20 count_above $b-tty $((c1 + 1)) && seen "counts on with a terminal" yes || seen "counts on with a terminal" no
        seen "pty masters received" "$(wc -l < $sock.log)"
        seen "the terminal inside" "$(r exec $id readlink /proc/1/fd/0 2>&1)"
        r delete -f $id >/dev/null 2>&1
    else
        fail "$rt $driver: run -d with a terminal: $(tail -n 3 /tmp/ck.log)"
    fi
    kill "$(cat $sock.pid)" 2>/dev/null

    # 5. wrong state and bad input (skiff's own wording is checked on the host; here, that
    # both refuse and change nothing)
    r create --bundle $b $id </dev/null >/dev/null 2>&1
    r checkpoint --image-path $img/5 $id >/dev/null 2>&1 && seen "checkpoint of a created container" accepted || seen "checkpoint of a created container" refused
    r delete -f $id >/dev/null 2>&1
    r restore -d --bundle $b --image-path /tmp/no-such-images $id </dev/null >/dev/null 2>&1 && seen "restore without images" accepted || seen "restore without images" refused
    seen "state after the refused restore" "$(r state $id >/dev/null 2>&1 && echo exists || echo none)"

    # nothing left: state, cgroups, units, criu-root mounts
    seen "containers left" "$(r list -q | wc -l)"
    seen "cgroup left" "$([ -d /sys/fs/cgroup$cgroup ] && echo yes || echo no)"
    [ "$driver" = systemd ] && seen "units left" "$(systemctl list-units --all --plain --no-legend "ck$rt-*" | wc -l)"
    seen "criu-root mounts left" "$(grep -c criu-root /proc/self/mountinfo)"
}

for driver in cgroupfs systemd; do
    criu_suite runc $RUNC $driver
    criu_suite skiff $SKIFF $driver
    if diff /tmp/ck-values.runc.$driver /tmp/ck-values.skiff.$driver >/tmp/ck-diff; then
        ok "checkpoint/restore ($driver driver): skiff observes what runc observes ($(wc -l < /tmp/ck-values.skiff.$driver) values)"
    else
        fail "checkpoint/restore ($driver driver): skiff and runc differ:"; cat /tmp/ck-diff
    fi
    # the observations that must hold, whatever runc does
    for expected in "counts on from the checkpoint yes" "status after restore running" "counts on after a pre-dump yes" "counts on with a terminal yes" "pty masters received 2" "containers left 0" "cgroup left no" "criu-root mounts left 0"; do
        grep -qxF "$expected" /tmp/ck-values.skiff.$driver && ok "skiff $driver: $expected" || fail "skiff $driver: expected '$expected', saw '$(grep -F "${expected% *}" /tmp/ck-values.skiff.$driver)'"
    done
done

# podman: container checkpoint / restore with skiff as the runtime
if need podman podman; then
    podman image exists localhost/bb:t || tar -C /tmp/rootfs -c . | podman import - localhost/bb:t >/dev/null
    p() { podman --runtime $SKIFF "$@"; }
    pcount() { p exec pck cat /count 2>/dev/null || echo 0; }
    pcount_above() { [ "$(pcount)" -gt "$1" ]; }
    if p run -d --name pck --network none localhost/bb:t sh -c "$(echo "$COUNTER" | jq -r '.[2]')" >/dev/null; then
        wait_for 30 pcount_above 3 || fail "podman: the loop does not count"
        c1=$(pcount)
        if p container checkpoint pck >/tmp/pck.log 2>&1; then
            check "podman container checkpoint: status" "$(podman inspect -f '{{.State.Status}}' pck)" exited
            if p container restore pck >/tmp/pck.log 2>&1; then
                check "podman container restore: status" "$(podman inspect -f '{{.State.Status}}' pck)" running
                wait_for 30 pcount_above $((c1 + 1)) && ok "podman: the restored container counts on from $c1 ($(pcount))" || fail "podman: restored count $(pcount), checkpointed at $c1"
            else
                fail "podman container restore: $(tail -n 5 /tmp/pck.log)"
            fi
        else
            fail "podman container checkpoint: $(tail -n 5 /tmp/pck.log)"
        fi
        # podman reuses <bundle>/checkpoint, and passes --leave-running twice
        if p container checkpoint --leave-running pck >/tmp/pck.log 2>&1 && p container checkpoint --leave-running pck >>/tmp/pck.log 2>&1; then
            check "podman container checkpoint --leave-running, twice into one directory: status" "$(podman inspect -f '{{.State.Status}}' pck)" running
        else
            fail "podman container checkpoint --leave-running twice: $(tail -n 3 /tmp/pck.log)"
        fi
        p rm -f pck >/dev/null 2>&1
    else
        fail "podman run -d (checkpoint)"
    fi
fi

# containerd 1.6: ctr's checkpoint of a task into an image, and a new container restored from it
if need ctr containerd; then
    mkdir -p /etc/containerd
    [ -f /etc/containerd/config.toml ] || printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > /etc/containerd/config.toml
    if systemctl start containerd; then
        if ! ctr -n t images ls -q | grep -q .; then
            podman save --format oci-archive -o /tmp/bb-oci.tar localhost/bb:t 2>/dev/null && ctr -n t images import /tmp/bb-oci.tar >/dev/null || fail "ctr images import"
        fi
        img=$(ctr -n t images ls -q | head -n1)
        if ctr -n t run -d --runc-binary $SKIFF "$img" ck7 sh -c "$(echo "$COUNTER" | jq -r '.[2]')" >/dev/null 2>&1; then
            sleep 2
            if ctr -n t c checkpoint --task ck7 localhost/ck7:cp >/tmp/ctr-ck.log 2>&1; then
                ok "ctr c checkpoint --task (skiff)"
                ctr -n t task kill -s KILL ck7 >/dev/null 2>&1; sleep 1; ctr -n t task rm ck7 >/dev/null 2>&1; ctr -n t c rm ck7 >/dev/null 2>&1
                if ctr -n t c restore --live ck7 localhost/ck7:cp >/tmp/ctr-ck.log 2>&1 && ctr -n t task ls | grep -q 'ck7.*RUNNING'; then
                    ok "ctr c restore --live: the task runs again"
                else
                    fail "ctr c restore --live: $(tail -n 5 /tmp/ctr-ck.log) $(ctr -n t task ls | grep ck7)"
                fi
                n1=$(ctr -n t task exec --exec-id e1 ck7 cat /count 2>/dev/null); sleep 1; n2=$(ctr -n t task exec --exec-id e2 ck7 cat /count 2>/dev/null)
                [ "${n2:-0}" -gt "${n1:-0}" ] && ok "ctr: the restored task counts on ($n1 -> $n2)" || fail "ctr: the restored task's count: '$n1' -> '$n2'"
            else
                fail "ctr c checkpoint --task: $(tail -n 5 /tmp/ctr-ck.log)"
            fi
            ctr -n t task kill -s KILL ck7 >/dev/null 2>&1; sleep 1; ctr -n t task rm ck7 >/dev/null 2>&1; ctr -n t c rm ck7 >/dev/null 2>&1
        else
            fail "ctr run -d (checkpoint)"
        fi
    else
        fail "systemctl start containerd: $(journalctl -u containerd --no-pager | tail -n 5)"
    fi
fi
