#!/bin/bash
# Guest script of the systemd tier (run by run.sh in a VM whose PID 1 is systemd): skiff's
# systemd cgroup driver checked side by side with Debian's runc, then the engines in their
# default systemd configuration driving skiff. The guest's root is the host's, so every tool
# installed on the host is here; skiff itself comes in as $FILES/skiff.
#   $FILES/sections: which sections to run (default: "driver errors engines rootless timing")
#   $FILES/cri-test, cri.sh, lib.sh, mk-rootfs.sh, pause.c: the CRI tier (section cri)
#   $FILES/criu.sh: checkpoint and restore (section criu)
# Output: "ok: ..." and "FAIL: ..." per check, "summary: ..." at the end. Exit status: the
# number of failures (capped at 100).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1 = $2"; else fail "$1 = '$2', expected '$3'"; fi; }
section() { echo; echo "=== $* ($(cut -d' ' -f1 /proc/uptime) s)"; }
wait_for() { local n=$(($1 * 10)); shift; until "$@"; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done; }
cgroup_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }
need() { command -v "$1" >/dev/null || { fail "$1 is missing in the guest (install $2 on the host)"; return 1; }; }

sections=$(cat "$FILES/sections" 2>/dev/null || echo "driver errors engines rootless timing")
install -m 0555 "$FILES/skiff" /usr/local/bin/skiff
# As make install and the .deb leave it: immutable, so that create, run and exec need no
# re-exec of skiff from a read-only mount (docs/security.md); the timing section measures that.
if chattr +i /usr/local/bin/skiff 2>/dev/null; then echo "skiff: installed immutable (chattr +i)"; else echo "skiff: chattr +i failed: it re-executes"; fi
SKIFF=/usr/local/bin/skiff
RUNC=/usr/sbin/runc
need jq jq; need "$RUNC" runc
echo "skiff: $($SKIFF --version | head -n1); runc: $($RUNC --version | head -n1); systemd $(systemctl --version | head -n1 | cut -d' ' -f2)"
cgroupfs=$(stat -fc %T /sys/fs/cgroup)
if [ "$cgroupfs" = cgroup2fs ]; then layout=v2; else layout=v1; fi
echo "cgroup layout: $layout ($cgroupfs); is-system-running: $(systemctl is-system-running)"
[ -d /run/systemd/system ] && ok "systemd is PID 1" || fail "no /run/systemd/system"
# skiff doctor must see what this guest has: the layout (systemd 252's v1 boot is hybrid) and
# systemd with its bus.
doctor=$($SKIFF doctor --format json); doctor_rc=$?
check "skiff doctor: exit status" "$doctor_rc" 0
check "skiff doctor: cgroup layout" "$(echo "$doctor" | jq -r .cgroup_layout)" "$([ $layout = v2 ] && echo v2 || echo hybrid)"
check "skiff doctor: systemd and its bus" "$(echo "$doctor" | jq -r '.checks[] | select(.name == "systemd") | .ok')" true
# Debian's kernel here is one CRIU works with (the host's is not)
check "skiff doctor: criu (criu check passes)" "$(echo "$doctor" | jq -r '.checks[] | select(.name == "criu") | .ok')" true

# a busybox root filesystem; one perl process for the applet links (a fork costs tens of ms here)
mkrootfs() {
    local r=$1
    mkdir -p "$r"/bin "$r"/etc "$r"/proc "$r"/sys "$r"/dev "$r"/tmp "$r"/root "$r"/run "$r"/usr
    cp /bin/busybox "$r"/bin/busybox
    /bin/busybox --list | perl -nle 'symlink("busybox", "'"$r"'/bin/$_") unless -e "'"$r"'/bin/$_"'
    ln -s bin "$r"/sbin; ln -s ../bin "$r"/usr/bin
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r"/etc/passwd
    printf 'root:x:0:\nnobody:x:65534:\n' > "$r"/etc/group
    chmod 1777 "$r"/tmp
}
mkrootfs /tmp/rootfs
# bundle DIR JQ-FILTER: the rootfs + `runc spec` edited by the filter. Debian's runc 1.1 lists
# ambient capabilities that are not inheritable (never raised); runc 1.2+ and skiff's spec
# leave them out, and skiff warns about them as runc 1.5 does: out, so that outputs compare.
bundle() {
    rm -rf "$1"; mkdir -p "$1"; cp -a /tmp/rootfs "$1/rootfs"
    (cd "$1" && $RUNC spec) && jq "del(.process.capabilities.ambient) | .process.terminal = false | .root.readonly = false | $2" \
        "$1/config.json" > "$1/c.json" && mv "$1/c.json" "$1/config.json"
}
unit_gone() { ! systemctl list-units --all --plain --no-legend "$1" | grep -q .; }
# The memory limit and pids limit of cgroup $1 (a path below the hierarchy root), and the
# unit property holding the memory limit, on either layout.
memory_limit() { if [ $layout = v2 ]; then cat "/sys/fs/cgroup$1/memory.max"; else cat "/sys/fs/cgroup/memory$1/memory.limit_in_bytes"; fi; }
pids_limit() { if [ $layout = v2 ]; then cat "/sys/fs/cgroup$1/pids.max"; else cat "/sys/fs/cgroup/pids$1/pids.max"; fi; }
memory_property() { if [ $layout = v2 ]; then echo MemoryMax; else echo MemoryLimit; fi; }

# --- the driver, skiff and runc side by side ---------------------------------------------------
# value KEY VALUE: recorded per runtime; the two lists must agree.
value() { echo "$1 $2" >> "/tmp/values.$rt"; echo "value: $rt $1 $2"; }
driver_suite() {
    local rt=$1 bin=$2 id=c1-$1 root=/run/state-$1
    local unit=$rt-$id.scope
    r() { $bin --root $root "$@"; }
    : > "/tmp/values.$rt"
    local resources='{"memory": {"limit": 67108864, "reservation": 33554432, "swap": 100663296},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 32}, "blockIO": {"weight": 300}}'
    [ $layout = v2 ] || resources='{"memory": {"limit": 67108864}, "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}, "pids": {"limit": 32}}'
    bundle /tmp/b-$rt ".process.args = [\"sleep\", \"600\"] | .linux.cgroupsPath = \"system.slice:$rt:$id\"
        | .linux.resources += $resources | .linux.namespaces -= [{\"type\": \"cgroup\"}]
        | .annotations = {\"org.systemd.property.TimeoutStopSec\": \"uint64 7\", \"org.systemd.property.CollectMode\": \"'inactive-or-failed'\"}"
    if ! r --systemd-cgroup run -d --bundle /tmp/b-$rt $id </dev/null >/tmp/run-$rt.log 2>&1; then
        fail "$rt --systemd-cgroup run -d: $(cat /tmp/run-$rt.log)"; return
    fi
    local pid cg
    pid=$(r state $id | jq .pid); cg=$(cgroup_of "$pid")
    check "$rt: init's cgroup" "$cg" "/system.slice/$unit"
    check "$rt: $unit active" "$(systemctl is-active $unit)" active
    local d=/sys/fs/cgroup$cg
    if [ $layout = v2 ]; then
        for f in memory.max memory.low memory.swap.max cpu.weight cpu.max cpuset.cpus cpuset.mems pids.max; do
            value "$f" "$(cat $d/$f 2>&1)"
        done
        # runc 1.1 leaves the weight to the files; skiff also tells systemd
        [ $rt = skiff ] && check "skiff: IOWeight of blockIO.weight 300" "$(systemctl show -P IOWeight $unit)" 2930
        for p in MemoryMax MemoryLow MemorySwapMax CPUQuotaPerSecUSec CPUQuotaPeriodUSec AllowedCPUs AllowedMemoryNodes TasksMax Delegate Slice DevicePolicy TimeoutStopUSec CollectMode; do
            value "$p" "$(systemctl show -P $p $unit)"
        done
    else
        d=/sys/fs/cgroup/memory$cg
        value memory.limit_in_bytes "$(cat $d/memory.limit_in_bytes 2>&1)"
        value cpu.shares "$(cat /sys/fs/cgroup/cpu,cpuacct$cg/cpu.shares 2>&1)"
        value cpu.cfs_quota_us "$(cat /sys/fs/cgroup/cpu,cpuacct$cg/cpu.cfs_quota_us 2>&1)"
        value cpuset.cpus "$(cat /sys/fs/cgroup/cpuset$cg/cpuset.cpus 2>&1)"
        value pids.max "$(cat /sys/fs/cgroup/pids$cg/pids.max 2>&1)"
        value "devices.list has /dev/null" "$(grep -c '^c 1:3 rwm' /sys/fs/cgroup/devices$cg/devices.list 2>&1)"
        for p in MemoryLimit CPUShares CPUQuotaPerSecUSec TasksMax Delegate Slice DevicePolicy TimeoutStopUSec; do
            value "$p" "$(systemctl show -P $p $unit)"
        done
    fi
    check "$rt: exec lands in the container's cgroup" "$(r exec $id cat /proc/self/cgroup | grep -E '^0::|memory' | sed 's/^[0-9]*:[a-z,]*://' | head -n1)" "/system.slice/$unit"
    local swap=""
    [ $layout = v2 ] && swap="--memory-swap 201326592"
    r update --memory 134217728 $swap --pids-limit 64 $id || fail "$rt update"
    value "after update: MemoryMax/MemoryLimit" "$(systemctl show -P MemoryMax $unit)/$(systemctl show -P MemoryLimit $unit)"
    value "after update: TasksMax" "$(systemctl show -P TasksMax $unit)"
    if [ $layout = v2 ]; then value "after update: memory.max" "$(cat $d/memory.max)"; else value "after update: memory.limit" "$(cat $d/memory.limit_in_bytes)"; fi
    if [ $rt = skiff ]; then
        # systemd holds a quota in 10 ms steps per second; skiff writes the rounded quota to
        # the files too, as runc 1.2+ does (Debian's runc 1.1 leaves the files unrounded)
        r update --cpu-quota 12345 $id || fail "skiff update --cpu-quota"
        check "skiff: CPUQuotaPerSecUSec of quota 12345/100000" "$(systemctl show -P CPUQuotaPerSecUSec $unit)" 130ms
        if [ $layout = v2 ]; then check "skiff: cpu.max after the update" "$(cat $d/cpu.max)" "13000 100000"
        else check "skiff: cpu.cfs_quota_us after the update" "$(cat /sys/fs/cgroup/cpu,cpuacct$cg/cpu.cfs_quota_us)" 13000; fi
    fi
    r pause $id && check "$rt: paused" "$(r state $id | jq -r .status)" paused
    r resume $id && check "$rt: resumed" "$(r state $id | jq -r .status)" running
    check "$rt: ps lists init" "$(r ps --format json $id | jq -c .)" "[$pid]"
    local current
    current=$(r events --stats $id | jq .data.pids.current)
    [ "${current:-0}" -ge 1 ] && ok "$rt: events --stats pids.current $current" || fail "$rt: events --stats: $current"
    r kill --all $id KILL
    wait_for 10 sh -c "! $bin --root $root state $id | grep -q '\"running\"'" && ok "$rt: kill --all stopped it" || fail "$rt: kill --all"
    r delete $id || fail "$rt delete"
    wait_for 10 unit_gone $unit && [ ! -d /sys/fs/cgroup$cg ] && ok "$rt: unit and cgroup gone after delete" ||
        fail "$rt: after delete: $(systemctl list-units --all --plain --no-legend $unit) $(ls -d /sys/fs/cgroup$cg 2>&1)"
}

if [[ " $sections " == *" driver "* ]]; then
    section "the systemd driver: skiff and runc side by side ($layout)"
    driver_suite skiff $SKIFF
    driver_suite runc $RUNC
    # The scope name carries the runtime's prefix; everything else must agree.
    if diff -u /tmp/values.runc /tmp/values.skiff; then
        ok "$(wc -l < /tmp/values.skiff) cgroup file and unit property values agree with runc's"
    else
        fail "skiff's values differ from runc's (above: - runc, + skiff)"
    fi

    # a foreground run with the default cgroupsPath: skiff's prefix and the container id
    bundle /tmp/b-fg '.process.args = ["grep", "^0::", "/proc/self/cgroup"] | .linux.namespaces -= [{"type": "cgroup"}] | del(.linux.cgroupsPath)'
    out=$($SKIFF --systemd-cgroup run --bundle /tmp/b-fg fg1 </dev/null 2>&1)
    check "default cgroupsPath" "$out" "0::/system.slice/skiff-fg1.scope"
    wait_for 10 unit_gone skiff-fg1.scope && ok "skiff-fg1.scope gone after run" || fail "skiff-fg1.scope left after run"
    # the root slice
    bundle /tmp/b-root '.process.args = ["grep", "^0::", "/proc/self/cgroup"] | .linux.namespaces -= [{"type": "cgroup"}] | .linux.cgroupsPath = "-:skiff:rootslice"'
    check "the - slice" "$($SKIFF --systemd-cgroup run --bundle /tmp/b-root rs </dev/null 2>&1)" "0::/skiff-rootslice.scope"
    # a unit in a nested slice systemd makes on demand
    bundle /tmp/b-nest '.process.args = ["grep", "^0::", "/proc/self/cgroup"] | .linux.namespaces -= [{"type": "cgroup"}] | .linux.cgroupsPath = "test-nested.slice:skiff:n1"'
    check "a nested slice" "$($SKIFF --systemd-cgroup run --bundle /tmp/b-nest n1 </dev/null 2>&1)" "0::/test.slice/test-nested.slice/skiff-n1.scope"
fi

# --- bad input and faults: clear errors, nothing left --------------------------------------------
nothing_left() {  # WHAT ID UNIT
    local left=""
    [ -e /run/skiff-err/$2 ] && left="$left state dir;"
    unit_gone "$3" || left="$left unit $(systemctl list-units --all --plain --no-legend "$3");"
    [ -d "/sys/fs/cgroup/system.slice/$3" ] && left="$left cgroup;"
    pgrep -f "sleep 4242" >/dev/null && left="$left process;"
    [ -z "$left" ] && ok "$1: nothing left" || fail "$1 left:$left"
}
if [[ " $sections " == *" errors "* ]]; then
    section "bad input and faults under --systemd-cgroup"
    e() { $SKIFF --root /run/skiff-err "$@"; }
    bundle /tmp/b-e '.process.args = ["sleep", "4242"]'
    jq '.linux.cgroupsPath = "system.slice:skiff"' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e1 && cp /tmp/c /tmp/b-e1/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e1/rootfs
    out=$(e --systemd-cgroup create --bundle /tmp/b-e1 bad1 2>&1) && fail "malformed path accepted" ||
        { [[ $out == *slice:prefix:name* ]] && ok "malformed path: $out" || fail "malformed path: $out"; }
    nothing_left "malformed path" bad1 skiff-bad1.scope

    jq '.linux.cgroupsPath = "system.slice:skiff:bad2" | .annotations = {"org.systemd.property.NoSuchPropertyAtAll": "true"}' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e2 && cp /tmp/c /tmp/b-e2/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e2/rootfs
    out=$(e --systemd-cgroup create --bundle /tmp/b-e2 bad2 2>&1) && fail "unknown property accepted" ||
        { [[ $out == *NoSuchPropertyAtAll* || $out == *"Unknown"* ]] && ok "unknown property: $out" || fail "unknown property: $out"; }
    nothing_left "unknown property" bad2 skiff-bad2.scope

    jq '.linux.cgroupsPath = "system.slice:skiff:bad3" | .annotations = {"org.systemd.property.CPUWeight": "uint64"}' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e3 && cp /tmp/c /tmp/b-e3/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e3/rootfs
    out=$(e --systemd-cgroup create --bundle /tmp/b-e3 bad3 2>&1) && fail "malformed property value accepted" ||
        { [[ $out == *CPUWeight* ]] && ok "malformed property value: $out" || fail "malformed property value: $out"; }
    nothing_left "malformed property value" bad3 skiff-bad3.scope

    # no bus: neither the system bus nor systemd's private socket can be reached
    jq '.linux.cgroupsPath = "system.slice:skiff:bad4"' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e4 && cp /tmp/c /tmp/b-e4/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e4/rootfs
    out=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/no-such-bus unshare -m sh -c "mount --bind /dev/null /run/systemd/private && $SKIFF --root /run/skiff-err --systemd-cgroup create --bundle /tmp/b-e4 bad4" 2>&1) &&
        fail "create without a bus succeeded" ||
        { [[ $out == *D-Bus* ]] && ok "no bus: $out" || fail "no bus: $out"; }
    nothing_left "no bus" bad4 skiff-bad4.scope

    # a create that fails after the unit started (a createRuntime hook fails)
    jq '.linux.cgroupsPath = "system.slice:skiff:bad5" | .hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e5 && cp /tmp/c /tmp/b-e5/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e5/rootfs
    out=$(e --systemd-cgroup create --bundle /tmp/b-e5 bad5 2>&1) && fail "failing hook accepted" || ok "failed create: $out"
    nothing_left "failed create" bad5 skiff-bad5.scope

    # the runtime killed mid-create (by its own createRuntime hook), then delete --force
    jq '.linux.cgroupsPath = "system.slice:skiff:bad6" | .hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "kill -9 $PPID; sleep 1"]}]' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e6 && cp /tmp/c /tmp/b-e6/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e6/rootfs
    e --systemd-cgroup create --bundle /tmp/b-e6 bad6 >/dev/null 2>&1 && fail "create survived its kill"
    [ -f /run/skiff-err/bad6/state.json ] && ok "killed mid-create: its state is kept for delete --force" || fail "killed mid-create: no state.json left to clean up with"
    echo "killed mid-create: unit $(systemctl is-active skiff-bad6.scope) (init exits when the runtime's end of its channel closes)"
    e delete --force bad6 || fail "delete --force after a killed create"
    wait_for 10 unit_gone skiff-bad6.scope
    nothing_left "killed create + delete --force" bad6 skiff-bad6.scope

    # a second container for the same unit is refused; the first is untouched
    jq '.linux.cgroupsPath = "system.slice:skiff:dup"' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e7 && cp /tmp/c /tmp/b-e7/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e7/rootfs
    e --systemd-cgroup create --bundle /tmp/b-e7 dup1 || fail "create dup1"
    out=$(e --systemd-cgroup create --bundle /tmp/b-e7 dup2 2>&1) && fail "second container on skiff-dup.scope accepted" ||
        { [[ $out == *"already exists"* ]] && ok "same unit twice: $out" || fail "same unit twice: $out"; }
    check "the first container's status" "$(e state dup1 | jq -r .status)" created
    [ -e /run/skiff-err/dup2 ] && fail "dup2 left a state dir"
    e delete --force dup1
    wait_for 10 unit_gone skiff-dup.scope && ok "skiff-dup.scope gone" || fail "skiff-dup.scope left"

    # issue 23's items from runc's suite, under the systemd driver: a frozen cgroup waiting
    # where the unit will be is refused before use, in runc's words
    frz=/sys/fs/cgroup/system.slice/skiff-frz.scope
    mkdir -p $frz && echo 1 > $frz/cgroup.freeze
    jq '.linux.cgroupsPath = "system.slice:skiff:frz"' /tmp/b-e/config.json > /tmp/c && mkdir -p /tmp/b-e8 && cp /tmp/c /tmp/b-e8/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e8/rootfs
    out=$(timeout 60 $SKIFF --root /run/skiff-err --systemd-cgroup create --bundle /tmp/b-e8 frz1 2>&1) && fail "a frozen cgroup was used" ||
        { [[ $out == *"container's cgroup unexpectedly frozen"* ]] && ok "frozen cgroup: $out" || fail "frozen cgroup: $out"; }
    echo 0 > $frz/cgroup.freeze; rmdir $frz
    nothing_left "frozen cgroup" frz1 skiff-frz.scope
    # a Kubernetes Bidirectional volume: a mount made inside an rbind,rshared volume of a
    # shared host path reaches the host (rootfsPropagation rshared, as containerd sets it)
    mkdir -p /tmp/bidi && mount --bind /tmp/bidi /tmp/bidi && mount --make-shared /tmp/bidi
    jq '.linux.cgroupsPath = "system.slice:skiff:bidi" | .linux.rootfsPropagation = "rshared"
        | .mounts += [{"destination": "/vol", "type": "bind", "source": "/tmp/bidi", "options": ["rbind", "rshared"]}]' /tmp/b-e/config.json > /tmp/c &&
        mkdir -p /tmp/b-e9 && cp /tmp/c /tmp/b-e9/config.json && ln -sfn /tmp/b-e/rootfs /tmp/b-e9/rootfs
    if e --systemd-cgroup run -d --bundle /tmp/b-e9 bidi </dev/null >/dev/null 2>&1; then
        e exec --cap CAP_SYS_ADMIN bidi sh -c 'mkdir -p /vol/inner && mount -t tmpfs inside /vol/inner' || fail "bidirectional: mount inside"
        check "bidirectional: the container's mount on the host" "$(findmnt -n -o SOURCE /tmp/bidi/inner | sort -u)" inside
        umount /tmp/bidi/inner 2>/dev/null
        e delete --force bidi
        umount /tmp/bidi/inner 2>/dev/null
    else
        fail "bidirectional: run -d failed"
    fi
    umount /tmp/bidi
    nothing_left "bidirectional" bidi skiff-bidi.scope
fi

# --- the engines, in their default systemd configuration, with skiff -------------------------------
if [[ " $sections " == *" engines "* ]]; then
    section "podman (cgroup_manager systemd)"
    if need podman podman; then
        check "podman's cgroup manager" "$(podman info --format '{{.Host.CgroupManager}}')" systemd
        tar -C /tmp/rootfs -c . | podman import - localhost/bb:t >/dev/null || fail "podman import"
        p() { podman --runtime $SKIFF "$@"; }
        check "podman run" "$(p run --rm --network none localhost/bb:t echo hi 2>&1)" hi
        if p run -d --name mem --network none --memory 64m --pids-limit 50 localhost/bb:t sleep 600 >/dev/null; then
            pid=$(podman inspect -f '{{.State.Pid}}' mem); cg=$(cgroup_of "$pid")
            [[ $cg == /machine.slice/libpod-*.scope ]] && ok "podman: container in $cg" || fail "podman: container in $cg"
            check "podman --memory 64m: the cgroup's limit" "$(memory_limit $cg)" 67108864
            check "podman --memory 64m: the scope's $(memory_property)" "$(systemctl show -P $(memory_property) ${cg##*/})" 67108864
            check "podman --pids-limit 50: pids.max" "$(pids_limit $cg)" 50
            # (v2: in a cgroup namespace of its own; v1: the host's view of the scope)
            expected="in 0::/"; [ $layout = v2 ] || expected="in 0::$cg"
            check "podman exec" "$(p exec mem sh -c 'echo in; grep ^0:: /proc/self/cgroup' 2>&1 | tr '\n' ' ' | sed 's/ $//')" "$expected"
            p pause mem && check "podman pause" "$(podman inspect -f '{{.State.Status}}' mem)" paused
            p unpause mem && check "podman unpause" "$(podman inspect -f '{{.State.Status}}' mem)" running
            p stop -t 1 mem >/dev/null && check "podman stop" "$(podman inspect -f '{{.State.Status}}' mem)" exited
            p rm mem >/dev/null || fail "podman rm"
            wait_for 10 unit_gone "${cg##*/}" && ok "podman: ${cg##*/} gone" || fail "podman: ${cg##*/} left"
        else
            fail "podman run -d --memory 64m"
        fi
        out=$(script -qec "podman --runtime $SKIFF run --rm -it --network none localhost/bb:t sh -c 'tty; exit 3'" /dev/null </dev/null; echo "status $?")
        [[ $out == */dev/pts/0*"status 3"* ]] && ok "podman run -it: $(echo $out | tr -d '\r')" || fail "podman run -it: $out"
    fi

    section "containerd (SystemdCgroup through ctr) and dockerd (native.cgroupdriver=systemd)"
    if need containerd containerd && need ctr containerd; then
        mkdir -p /etc/containerd
        printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > /etc/containerd/config.toml
        if systemctl start containerd; then
            podman save --format oci-archive -o /tmp/bb-oci.tar localhost/bb:t 2>/dev/null && ctr -n t images import /tmp/bb-oci.tar >/dev/null || fail "ctr images import"
            img=$(ctr -n t images ls -q | head -n1)
            if ctr -n t run -d --runc-binary $SKIFF --runc-systemd-cgroup --cgroup system.slice:ctr:c6 --memory-limit 67108864 "$img" c6 sleep 600 >/dev/null; then
                pid=$(ctr -n t task ls | awk '$1 == "c6" { print $2 }'); cg=$(cgroup_of "$pid")
                check "ctr run --runc-systemd-cgroup: cgroup" "$cg" /system.slice/ctr-c6.scope
                check "ctr --memory-limit: the cgroup's limit" "$(memory_limit $cg)" 67108864
                check "ctr --memory-limit: the scope's $(memory_property)" "$(systemctl show -P $(memory_property) ctr-c6.scope)" 67108864
                check "ctr task exec" "$(ctr -n t task exec --exec-id e1 c6 echo in 2>&1)" in
                ctr -n t task kill -s KILL c6 && wait_for 10 sh -c '! ctr -n t task ls | grep -q "c6.*RUNNING"'
                ctr -n t task rm c6 >/dev/null && ctr -n t container rm c6 || fail "ctr task/container rm c6"
            else
                fail "ctr run -d --runc-systemd-cgroup"
            fi
            wait_for 10 unit_gone ctr-c6.scope && ok "ctr-c6.scope gone" || fail "ctr-c6.scope left"
        else
            fail "systemctl start containerd: $(journalctl -u containerd --no-pager | tail -n 5)"
        fi
    fi
    if need dockerd docker.io; then
        mkdir -p /etc/docker
        cat > /etc/docker/daemon.json <<EOF
{"exec-opts": ["native.cgroupdriver=systemd"], "bridge": "none", "iptables": false, "ip6tables": false,
 "runtimes": {"skiff": {"path": "$SKIFF"}}, "default-runtime": "skiff"}
EOF
        if systemctl start docker; then
            check "docker's cgroup driver" "$(docker info --format '{{.CgroupDriver}}')" systemd
            tar -C /tmp/rootfs -c . | docker import - bb:t >/dev/null || fail "docker import"
            if docker run -d --name d6 --network none --memory 64m bb:t sleep 600 >/dev/null; then
                id=$(docker inspect -f '{{.Id}}' d6); pid=$(docker inspect -f '{{.State.Pid}}' d6); cg=$(cgroup_of "$pid")
                check "docker run (runtime $(docker inspect -f '{{.HostConfig.Runtime}}' d6)): cgroup" "$cg" "/system.slice/docker-$id.scope"
                check "docker --memory 64m: the cgroup's limit" "$(memory_limit $cg)" 67108864
                check "docker exec" "$(docker exec d6 echo in)" in
                docker rm -f d6 >/dev/null
                wait_for 10 unit_gone "docker-$id.scope" && ok "docker-$id.scope gone" || fail "docker-$id.scope left"
            else
                fail "docker run"
            fi
        else
            fail "systemctl start docker: $(journalctl -u docker --no-pager | tail -n 5)"
        fi
    fi
fi

# --- rootless: a user with a lingering systemd session -------------------------------------------
if [[ " $sections " == *" rootless "* ]]; then
    section "rootless: skiff --systemd-cgroup in the user's systemd instance, rootless podman"
    U=tester
    id $U >/dev/null 2>&1 || useradd -m -s /bin/bash $U
    uid=$(id -u $U)
    grep -q "^$U:" /etc/subuid || usermod --add-subuids 200000-265535 $U
    grep -q "^$U:" /etc/subgid || usermod --add-subgids 200000-265535 $U
    loginctl enable-linger $U
    if wait_for 60 systemctl is-active -q "user@$uid.service" && wait_for 10 test -S "/run/user/$uid/bus"; then
        ok "user@$uid.service and its bus"
    else
        fail "no session for $U: $(systemctl status user@$uid.service --no-pager 2>&1 | tail -n 5)"
    fi
    as_user() { runuser -u $U -- env XDG_RUNTIME_DIR=/run/user/$uid DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"; }
    ub=/home/$U/b
    rm -rf $ub; mkdir -p $ub; cp -a /tmp/rootfs $ub/rootfs; chown -R $U: $ub
    (cd $ub && as_user $SKIFF spec --rootless) || fail "skiff spec --rootless as $U"
    jq '.process.terminal = false | .process.args = ["sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; id -u"]
        | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 32}}
        | .linux.namespaces = (.linux.namespaces - [{"type": "cgroup"}] + [{"type": "cgroup"}])' $ub/config.json > /tmp/c && cp /tmp/c $ub/config.json
    out=$(cd $ub && as_user $SKIFF --systemd-cgroup run rl1 2>&1)
    check "rootless --systemd-cgroup run: cgroup, memory.max, pids.max, uid" "$(echo $out)" "0::/ 67108864 32 0"
    # the unit's cgroup, seen from the host while a container runs
    jq '.process.args = ["sleep", "300"] | .linux.namespaces -= [{"type": "cgroup"}]' $ub/config.json > /tmp/c && cp /tmp/c $ub/config.json
    if (cd $ub && as_user $SKIFF --systemd-cgroup run -d rl2 </dev/null >/dev/null 2>/tmp/rl2.err); then
        pid=$(as_user $SKIFF state rl2 | jq .pid); cg=$(cgroup_of "$pid")
        check "rootless: the scope in the user's slice" "$cg" "/user.slice/user-$uid.slice/user@$uid.service/user.slice/skiff-rl2.scope"
        check "rootless: the unit's MemoryMax" "$(as_user systemctl --user show -P MemoryMax skiff-rl2.scope)" 67108864
        check "rootless exec" "$(as_user $SKIFF exec rl2 id -u 2>&1)" 0
        # (systemd attaches it: the runtime may not move it out of its own session)
        check "rootless exec lands in the scope" "$(as_user $SKIFF exec rl2 cat /proc/self/cgroup 2>&1)" "0::$cg"
        as_user $SKIFF update --pids-limit 64 rl2 || fail "rootless update"
        check "rootless update: pids.max" "$(cat /sys/fs/cgroup$cg/pids.max)" 64
        as_user $SKIFF pause rl2 && check "rootless pause (delegated freezer)" "$(as_user $SKIFF state rl2 | jq -r .status)" paused
        as_user $SKIFF resume rl2 || fail "rootless resume"
        as_user $SKIFF delete -f rl2 || fail "rootless delete -f"
        wait_for 10 sh -c "! runuser -u $U -- env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user list-units --all --plain --no-legend skiff-rl2.scope | grep -q ." &&
            [ ! -d "/sys/fs/cgroup$cg" ] && ok "rootless: unit and cgroup gone" || fail "rootless: skiff-rl2.scope or $cg left"
    else
        fail "rootless run -d: $(cat /tmp/rl2.err)"
    fi
    if need podman podman; then
        tar -C /tmp/rootfs -c . | as_user podman import - localhost/bb:t >/dev/null || fail "rootless podman import"
        check "rootless podman's cgroup manager" "$(as_user podman info --format '{{.Host.CgroupManager}}')" systemd
        for rt in $SKIFF $RUNC; do
            out=$(as_user podman --runtime $rt run --rm --network none --memory 64m --pids-limit 50 localhost/bb:t sh -c 'id -u; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' 2>&1)
            check "rootless podman --runtime $(basename $rt) --memory 64m --pids-limit 50" "$(echo $out)" "0 67108864 50"
        done
    fi
fi

# --- the Kubernetes node path: containerd's CRI plugin with SystemdCgroup = true -----------------
# integration/engines/cri.sh as on the host, with the systemd driver: the CRI client test
# ($FILES/cri-test) drives the handlers skiff and runc and compares them.
if [[ " $sections " == *" cri "* ]]; then
    section "CRI: containerd's CRI plugin, SystemdCgroup = true, handlers skiff and runc"
    if [ -x "$FILES/cri-test" ]; then
        r=/tmp/repo/integration
        mkdir -p $r/engines $r/cri
        cp "$FILES/cri.sh" "$FILES/lib.sh" $r/engines/ && cp "$FILES/mk-rootfs.sh" $r/ && cp "$FILES/pause.c" $r/cri/
        CRI_WASM=off CRI_SYSTEMD_CGROUP=1 CRI_TEST_TIMEOUT=240 bash $r/engines/cri.sh $SKIFF "$FILES/cri-test" > /tmp/cri.out 2>&1
        rc=$?
        grep -E '^(ok|FAIL) ' /tmp/cri.out | sed 's/^/  cri: /'
        grep -oE 'timing: .*' /tmp/cri.out
        if [ $rc = 0 ]; then ok "CRI suite with SystemdCgroup = true: $(tail -n 1 /tmp/cri.out)"; else
            fail "CRI suite with SystemdCgroup = true (exit $rc):"; tail -n 60 /tmp/cri.out
            for log in /tmp/skiff-engines/cri.*/logs/runtime-argv.log /tmp/skiff-engines/cri.*/logs/containerd.log; do
                echo "--- the last lines of $log (paths cut to their last part)"
                tail -n 25 "$log" | sed -E 's|(/[^ /"]+)+/([^ /"]+)|…/\2|g'
            done
        fi
    else
        fail "no CRI test binary: systemd-suite.sh SKIFF CRI_TEST_BINARY (make test-vm-systemd builds it)"
    fi
fi

# --- checkpoint and restore (CRIU): integration/vm-systemd/criu.sh ---------------------------------
if [[ " $sections " == *" criu "* ]]; then
    section "checkpoint and restore with CRIU: skiff and runc side by side, podman, containerd"
    if [ -f "$FILES/criu.sh" ]; then . "$FILES/criu.sh"; else fail "no criu.sh among the VM's files (systemd-suite.sh passes it)"; fi
fi

# --- timing (reported, never asserted: the VM is emulated) ------------------------------------------
if [[ " $sections " == *" timing "* ]]; then
    section "timing: skiff, runc and crun on cgroup v2, 15 interleaved rounds (reported, not asserted)"
    bundle /tmp/b-time '.process.args = ["true"] | del(.linux.cgroupsPath)'
    bundle /tmp/b-sleep '.process.args = ["sleep", "600"] | del(.linux.cgroupsPath)'
    # Debian's crun 1.8 takes only 1.0.x configs: the same content for all three
    for b in /tmp/b-time /tmp/b-sleep; do jq '.ociVersion = "1.0.2"' $b/config.json > $b/c.json && mv $b/c.json $b/config.json; done
    median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    CRUN=$(command -v crun || true)
    rts="skiff runc"; [ -n "$CRUN" ] && rts="$rts crun"
    bin_of() { case $1 in skiff) echo $SKIFF ;; runc) echo $RUNC ;; crun) echo $CRUN ;; esac; }
    # once NAME RT CMD...: one timed run of CMD ({i}: the round), its µs appended to NAME's
    # samples. The clock is bash's own ($EPOCHREALTIME, µs): reading it with `date` would add
    # a fork and exec of date (about 35 ms under TCG) to every runtime's figure alike, and pull
    # the ratios toward 1.
    once() {
        local name=$1 rt=$2; shift 2
        local t0=${EPOCHREALTIME//[.,]/}
        "${@//\{i\}/$i}" </dev/null >/dev/null 2>&1 || echo "FAIL: $rt $name $i" >&2
        local t1=${EPOCHREALTIME//[.,]/}
        echo $((t1 - t0)) >> /tmp/samples.$name.$rt
    }
    rm -f /tmp/samples.*
    # (every name the runtime's own: the containers of a round run side by side or back to back)
    for rt in $rts; do "$(bin_of $rt)" --root /run/time-$rt run -d --bundle /tmp/b-sleep sleeper-$rt </dev/null >/dev/null 2>&1; done
    # 15 rounds, each runtime once per measure in a round, the order rotated every round, so
    # that the emulator's slow spells fall on all alike.
    order=$rts
    for i in $(seq 15); do
        for rt in $order; do
            bin=$(bin_of $rt)
            once systemd-run $rt $bin --root /run/time-$rt --systemd-cgroup run --bundle /tmp/b-time s{i}-$rt
            once run $rt $bin --root /run/time-$rt run --bundle /tmp/b-time c{i}-$rt
            once exec $rt $bin --root /run/time-$rt exec sleeper-$rt true
        done
        order="$(echo $order | cut -d' ' -f2-) $(echo $order | cut -d' ' -f1)"
    done
    for rt in $rts; do
        "$(bin_of $rt)" --root /run/time-$rt delete -f sleeper-$rt >/dev/null 2>&1
        for what in systemd-run run exec; do median < /tmp/samples.$what.$rt > /tmp/median.$what.$rt; done
    done
    for what in systemd-run run exec; do
        line="timing: $what (median ms):"
        for rt in $rts; do line="$line $rt $(awk '{ printf "%.1f", $1 / 1000 }' /tmp/median.$what.$rt)"; done
        for rt in runc crun; do
            [ -f /tmp/median.$what.$rt ] && line="$line, skiff/$rt $(awk -v s="$(cat /tmp/median.$what.skiff)" -v r="$(cat /tmp/median.$what.$rt)" 'BEGIN { printf "%.2f", s / r }')"
        done
        echo "$line"
    done
fi

section "summary"
systemctl --failed --no-legend --plain | sed 's/^/failed unit: /'
echo "summary: $passed passed, $failed failed ($layout)"
[ $failed -lt 100 ] || failed=100
exit $failed
