#!/bin/sh
# Guest script for run-suite.sh: skiff's cgroup v2 suite, run the same way under any
# runtime (skiff, and Debian's runc for the differential). Each case runs a busybox container
# with some linux.resources and checks the cgroup files from the VM and from inside.
# Lines "value: CASE FILE CONTENT" are what the host compares between runtimes; "ok:" and
# "FAIL:" are this runtime's own checks. Exit status: number of failures (capped at 100).
set -u
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1 = $2"; else fail "$1 = '$2', expected '$3'"; fi; }
name=$(basename "$RUNTIME")
rt() { "$RUNTIME" --root /run/suite-state "$@"; }
echo "runtime: $name ($("$RUNTIME" --version 2>&1 | head -n1))"

# make_bundle ID RESOURCES_JSON NAMESPACES_JSON ARGS_JSON
make_bundle() {
    b=/tmp/bundles/$1
    rm -rf "$b"; mkdir -p "$b"
    cp -a "$ROOTFS" "$b/rootfs"
    cat > "$b/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "args": $4,
    "env": ["PATH=/usr/bin:/bin:/sbin"], "cwd": "/",
    "capabilities": {"bounding": ["CAP_KILL", "CAP_MKNOD"], "effective": ["CAP_KILL", "CAP_MKNOD"], "permitted": ["CAP_KILL", "CAP_MKNOD"]},
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "$1",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "cgroupsPath": "/suite/$1",
    "resources": $2,
    "namespaces": $3
  }
}
EOF
}
OWN_NS='[{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]'
SHARED_PID_NS='[{"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]'
DENY='{"allow": false, "access": "rwm"}'
value() { echo "value: $1 $2 $(cat "/sys/fs/cgroup/suite/$1/$2" 2>&1 | tr '\n' ' ' | sed 's/ *$//')"; }
wait_status() {
    n=0
    while [ $n -lt 100 ]; do
        rt state "$1" 2>/dev/null | grep -q "\"status\": \"$2\"" && return 0
        sleep 0.05; n=$((n + 1))
    done
    fail "$1 never reached $2"; return 1
}
gone() { if [ -d "/sys/fs/cgroup/suite/$1" ]; then fail "$1: cgroup left after delete"; else ok "$1: cgroup removed"; fi; }

mkdir -p /sys/fs/cgroup/suite   # a common parent, as a container engine would have

# --- every resource that maps to a file -----------------------------------------------------
make_bundle limits '{"devices": ['"$DENY"'], "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728},
  "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}, "pids": {"limit": 32},
  "blockIO": {"weight": 500}, "hugepageLimits": [{"pageSize": "2MB", "limit": 0}], "unified": {"memory.high": "50000000"}}' \
  "$OWN_NS" '["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; sleep 1000"]'
out=/tmp/limits.out
rt run -d --bundle /tmp/bundles/limits limits > "$out" 2>&1 || fail "limits: run -d: $(cat $out)"
wait_status limits running
for f in memory.max memory.low memory.swap.max memory.high cpu.weight cpu.max cpuset.cpus cpuset.mems pids.max hugetlb.2MB.max io.weight io.bfq.weight; do
    [ -e /sys/fs/cgroup/suite/limits/$f ] && value limits $f
done
check "limits memory.max" "$(cat /sys/fs/cgroup/suite/limits/memory.max)" 67108864
check "limits memory.swap.max" "$(cat /sys/fs/cgroup/suite/limits/memory.swap.max)" 67108864
check "limits cpu.weight" "$(cat /sys/fs/cgroup/suite/limits/cpu.weight)" 39
check "limits pids.max" "$(cat /sys/fs/cgroup/suite/limits/pids.max)" 32
check "limits seen inside" "$(head -c 200 $out | tr '\n' ' ')" "67108864 32 "
pid=$(rt state limits | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
check "limits init cgroup" "$(cat /proc/$pid/cgroup)" "0::/suite/limits"

# ps, events, pause/resume, update on the running container
check "ps json" "$(rt ps --format json limits)" "[$pid]"
stats=$(rt events --stats limits)
case $stats in *'"type":"stats"'*'"pids":{"current":1,"limit":32}'*) ok "events --stats" ;; *) fail "events --stats: $stats" ;; esac
rt pause limits && wait_status limits paused
check "pause cgroup.freeze" "$(cat /sys/fs/cgroup/suite/limits/cgroup.freeze)" 1
grep -q '^frozen 1$' /sys/fs/cgroup/suite/limits/cgroup.events && ok "frozen" || fail "cgroup.events not frozen"
rt resume limits && wait_status limits running
check "resume cgroup.freeze" "$(cat /sys/fs/cgroup/suite/limits/cgroup.freeze)" 0
rt update --memory 128m --memory-swap 256m --pids-limit 64 --cpu-quota 20000 --cpu-period 100000 --cpu-share 512 limits || fail "update flags"
for f in memory.max memory.swap.max pids.max cpu.max cpu.weight; do echo "value: limits-updated $f $(cat /sys/fs/cgroup/suite/limits/$f)"; done
check "update memory.max" "$(cat /sys/fs/cgroup/suite/limits/memory.max)" 134217728
check "update pids.max" "$(cat /sys/fs/cgroup/suite/limits/pids.max)" 64
echo '{"pids": {"limit": 70}}' | rt update --resources - limits || fail "update --resources -"
check "update --resources pids.max" "$(cat /sys/fs/cgroup/suite/limits/pids.max)" 70
rt delete -f limits || fail "delete -f limits"
gone limits

# --- io throttles on a real block device (/dev/ram0 from the brd module, block 1:0) --------
if [ -b /dev/ram0 ]; then
    make_bundle io '{"blockIO": {"throttleReadBpsDevice": [{"major": 1, "minor": 0, "rate": 1048576}], "throttleWriteBpsDevice": [{"major": 1, "minor": 0, "rate": 2097152}],
      "throttleReadIOPSDevice": [{"major": 1, "minor": 0, "rate": 100}], "throttleWriteIOPSDevice": [{"major": 1, "minor": 0, "rate": 200}]}}' "$OWN_NS" '["sleep", "1000"]'
    rt run -d --bundle /tmp/bundles/io io && wait_status io running
    value io io.max
    check "io.max" "$(cat /sys/fs/cgroup/suite/io/io.max)" "1:0 rbps=1048576 wbps=2097152 riops=100 wiops=200"
    rt delete -f io
    gone io
else
    fail "/dev/ram0 is missing in the VM (brd module): io.max cannot be checked"
fi

# --- values refused on cgroup v2 (skiff refuses what the kernel cannot do; runc 1.1 ignores
# some of them silently, so these checks are skiff's alone) --------------------------------
if [ "$name" = skiff ]; then
    for res in '{"memory": {"disableOOMKiller": true}}' '{"cpu": {"realtimeRuntime": 1000}}' '{"network": {"classID": 1}}' '{"unified": {"cgroup.procs": "1"}}'; do
        make_bundle refused "$res" "$OWN_NS" '["true"]'
        if rt run --bundle /tmp/bundles/refused refused >/tmp/refused.out 2>&1; then
            fail "accepted $res"
        else
            ok "refused $res: $(tail -c 160 /tmp/refused.out)"
        fi
        [ -d /sys/fs/cgroup/suite/refused ] && fail "cgroup left after refusing $res"
        [ -d /run/suite-state/refused ] && fail "state left after refusing $res"
    done
fi

# --- device filter (eBPF): /dev/kmsg (c 1:11) is outside the default list. Opening it for
# writing needs no capability, so the filter alone decides; the allowing case is the control.
KMSG='["sh", "-c", "mknod /kmsg c 1 11; head -c1 /dev/zero | wc -c; (exec 3>/kmsg) 2>/dev/null && echo kmsg-open || echo kmsg-denied"]'
make_bundle devices-deny '{"devices": ['"$DENY"']}' "$OWN_NS" "$KMSG"
check "devices, default rules" "$(rt run --bundle /tmp/bundles/devices-deny devices-deny 2>&1 | tr '\n' ' ')" "1 kmsg-denied "
gone devices-deny
make_bundle devices-allow '{"devices": ['"$DENY"', {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}' "$OWN_NS" "$KMSG"
check "devices, c 1:11 w allowed" "$(rt run --bundle /tmp/bundles/devices-allow devices-allow 2>&1 | tr '\n' ' ')" "1 kmsg-open "
gone devices-allow

# --- fork past pids.max, OOM past memory.max ------------------------------------------------
make_bundle forks '{"pids": {"limit": 8}}' "$OWN_NS" '["sh", "-c", "(for i in $(seq 1 20); do sleep 30 & done) 2>/dev/null; read e < /sys/fs/cgroup/pids.events; echo $e"]'
events=$(rt run --bundle /tmp/bundles/forks forks 2>&1)
case $events in "max "[1-9]*) ok "pids.events: $events" ;; *) fail "pids.max did not stop forks: $events" ;; esac
gone forks
make_bundle oom '{"memory": {"limit": 16777216, "swap": 16777216}}' "$OWN_NS" '["sh", "-c", "x=$(head -c 100000000 /dev/zero | tr \"\\\\0\" a); echo survived"]'
rt create --bundle /tmp/bundles/oom oom && rt start oom
n=0; while [ $n -lt 200 ] && ! rt state oom | grep -q '"stopped"'; do sleep 0.05; n=$((n + 1)); done
ooms=$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/suite/oom/memory.events)
[ "${ooms:-0}" -ge 1 ] && ok "OOM kill counted ($ooms)" || fail "no OOM kill in memory.events"
rt delete oom || fail "delete oom"
gone oom

# --- kill --all reaches every process (shared pid namespace) --------------------------------
make_bundle killall '{}' "$SHARED_PID_NS" '["sh", "-c", "sleep 1000 & sleep 1000 & wait"]'
rt run -d --bundle /tmp/bundles/killall killall && wait_status killall running
sleep 0.2
check "killall processes" "$(cat /sys/fs/cgroup/suite/killall/cgroup.procs | wc -l)" 3
rt kill --all killall KILL || fail "kill --all"
# cgroupfs files have size 0, so `[ -s ]` cannot tell an empty cgroup.procs: read it.
n=0; while [ $n -lt 100 ] && [ -n "$(cat /sys/fs/cgroup/suite/killall/cgroup.procs)" ]; do sleep 0.05; n=$((n + 1)); done
check "killall processes after" "$(cat /sys/fs/cgroup/suite/killall/cgroup.procs | wc -l)" 0
rt delete killall || fail "delete killall"
gone killall

echo "summary: $name passed $passed, failed $failed"
[ $failed -gt 100 ] && failed=100
exit $failed
