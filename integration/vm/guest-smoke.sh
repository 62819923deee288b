#!/bin/sh
# Guest script for run-suite.sh: checks the VM's cgroup v2 set-up, then runs a busybox
# container with memory 64 MiB, pids 32 and cgroupsPath /smoke under $RUNTIME and checks the
# limits from inside the container (own cgroup namespace + cgroup mount) and from the VM.
#   integration/vm/run-suite.sh /usr/sbin/runc integration/vm/guest-smoke.sh
# Runs under busybox sh; $RUNTIME and $ROOTFS come from the VM's init.
set -u
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# check DESCRIPTION ACTUAL EXPECTED
check() { if [ "$2" = "$3" ]; then ok "$1 = $2"; else fail "$1 = '$2', expected '$3'"; fi; }

echo "runtime: $RUNTIME ($("$RUNTIME" --version 2>&1 | head -n1))"

# --- the VM: cgroup2 alone at /sys/fs/cgroup, every controller delegated to children -------
if grep -q '^cgroup2 /sys/fs/cgroup cgroup2 ' /proc/mounts; then ok "cgroup2 mounted at /sys/fs/cgroup"; else fail "no cgroup2 at /sys/fs/cgroup"; fi
if grep -q ' cgroup ' /proc/mounts; then fail "a cgroup v1 hierarchy is mounted"; else ok "no cgroup v1 hierarchy"; fi
controllers=" $(cat /sys/fs/cgroup/cgroup.controllers) "
subtree=" $(cat /sys/fs/cgroup/cgroup.subtree_control) "
echo "cgroup.controllers:$controllers"
for c in cpuset cpu io memory hugetlb pids rdma misc; do
    case $controllers in *" $c "*) ;; *) fail "controller $c not available"; continue ;; esac
    case $subtree in *" $c "*) ok "controller $c enabled" ;; *) fail "controller $c not in cgroup.subtree_control" ;; esac
done

# --- a container with memory and pids limits ------------------------------------------------
id=smoke
w=/tmp/smoke
state=/run/smoke-state
cg=/sys/fs/cgroup/smoke     # the VM's view of linux.cgroupsPath
rm -rf "$w"
mkdir -p "$w/bundle" "$w/sync"
cp -a "$ROOTFS" "$w/bundle/rootfs"
# Inside the container: report the limits as its own cgroup namespace shows them, then stay
# (at most 30 s) until the VM side has looked at the cgroup from outside.
cat > "$w/bundle/rootfs/check.sh" <<'EOF'
echo "container /proc/self/cgroup: $(cat /proc/self/cgroup)"
echo "container memory.max=$(cat /sys/fs/cgroup/memory.max 2>&1)"
echo "container pids.max=$(cat /sys/fs/cgroup/pids.max 2>&1)"
n=0; while [ ! -e /sync/go ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
EOF
cat > "$w/bundle/config.json" <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/sh", "/check.sh"],
    "env": ["PATH=/usr/local/bin:/usr/bin:/bin:/sbin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "smoke",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/sync", "type": "bind", "source": "/tmp/smoke/sync", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "cgroupsPath": "/smoke",
    "resources": {
      "memory": {"limit": 67108864},
      "pids": {"limit": 32},
      "devices": [{"allow": false, "access": "rwm"}]
    },
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF

"$RUNTIME" --root "$state" run --bundle "$w/bundle" "$id" > "$w/out" 2>&1 &
runpid=$!
# Wait (at most 30 s) for "running": the process has been exec'd, so every limit is written.
n=0
while ! "$RUNTIME" --root "$state" state "$id" 2>/dev/null | grep -q '"running"'; do
    if ! kill -0 "$runpid" 2>/dev/null || [ $n -ge 300 ]; then break; fi
    sleep 0.1; n=$((n + 1))
done
cpid=$("$RUNTIME" --root "$state" state "$id" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo "VM side: container pid ${cpid:-?}, /proc/<pid>/cgroup: $(cat "/proc/${cpid:-0}/cgroup" 2>&1)"
check "VM side $cg/memory.max" "$(cat "$cg/memory.max" 2>&1)" 67108864
check "VM side $cg/pids.max" "$(cat "$cg/pids.max" 2>&1)" 32
if [ -n "$cpid" ] && grep -qx "$cpid" "$cg/cgroup.procs" 2>/dev/null; then
    ok "container process $cpid in $cg/cgroup.procs"
else
    fail "container process ${cpid:-?} not in $cg/cgroup.procs"
fi
touch "$w/sync/go"
wait "$runpid"
crc=$?
echo "--- container output"
cat "$w/out"
echo "---"
check "container exit status" "$crc" 0
check "container /proc/self/cgroup (own cgroup namespace)" "$(sed -n 's/^container \/proc\/self\/cgroup: //p' "$w/out")" "0::/"
check "container memory.max" "$(sed -n 's/^container memory.max=//p' "$w/out")" 67108864
check "container pids.max" "$(sed -n 's/^container pids.max=//p' "$w/out")" 32
if [ -d "$cg" ]; then fail "$cg left behind after run"; rmdir "$cg" 2>/dev/null; else ok "$cg removed after run"; fi
if "$RUNTIME" --root "$state" state "$id" >/dev/null 2>&1; then fail "container $id still known after run"; else ok "container $id deleted after run"; fi

echo "guest-smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
