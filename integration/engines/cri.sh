#!/bin/bash
# The Kubernetes node path: containerd's CRI plugin with two runtime handlers, `skiff` (the
# runtime under test) and `runc` (Debian's), both io.containerd.runc.v2 with BinaryName; the
# CRI client test (integration/cri/tests/cri.rs) sends each the calls a kubelet makes and
# compares what the two show. Host-network pods only: no CNI, no bridge, no traffic.
# Images are made offline with umoci: a pause image (integration/cri/pause.c, built here) and
# a busybox image, imported into the k8s.io namespace.
# usage: cri.sh RUNTIME CRI_TEST_BINARY
#   CRI_SYSTEMD_CGROUP=1: SystemdCgroup = true for both handlers (the systemd VM)
#   CRI_TEST_TIMEOUT: seconds for the whole client test (300)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib.sh"
suite_init cri "${1:-}"
TEST_BIN=$(readlink -f "${2:-}" 2>/dev/null || true)

require containerd containerd
require ctr containerd
require containerd-shim-runc-v2 containerd
require umoci umoci
require gcc gcc
require runc runc
require tar tar
require timeout coreutils
require_file "${BUSYBOX:-/bin/busybox}" busybox-static
require_file /usr/lib/x86_64-linux-gnu/libc.a libc6-dev
if [ -z "$TEST_BIN" ] || [ ! -x "$TEST_BIN" ]; then
    fail "prerequisite: the CRI client test" "an executable at ${2:-(none given)}" \
        "none: build it with 'cargo test -p skiff-cri-test --no-run' (make test-cri does)"
    MISSING=1
fi
# WebAssembly pods (the test's wasm_pods_run_modules): the modules (make wasm-modules) and the
# handler beside the runtime (make wasm-handler). CRI_WASM=off leaves that test out, and says so
# (the systemd VM's CRI tier: the host's tier runs it).
CRI_WASM=${CRI_WASM:-on}
if [ "$CRI_WASM" != off ]; then
    if [ -z "${WASM_MODULES:-}" ] || [ ! -f "${WASM_MODULES:-}/hello.wasm" ]; then
        fail "prerequisite: the wasm test modules" "WASM_MODULES naming a directory with hello.wasm" \
            "${WASM_MODULES:-unset}: build them with 'make wasm-modules' (make test-cri does)"
        MISSING=1
    fi
    if [ ! -x "$(dirname "$RT")/skiff-wasm" ]; then
        fail "prerequisite: the wasm handler" "$(dirname "$RT")/skiff-wasm" "missing: build it with 'make wasm-handler' (make test-cri does)"
        MISSING=1
    fi
fi
require_done

SYSTEMD=${CRI_SYSTEMD_CGROUP:-0}
if [ "$SYSTEMD" = 1 ]; then systemd_cgroup=true driver=systemd; else systemd_cgroup=false driver=cgroupfs; fi
RUNC=$(command -v runc)
# The pods' cgroups: under /skiffcri (cgroupfs) or skiffcri.slice (systemd).
track_cgroup skiffcri skiffcri.slice
# containerd 1.6 puts the shims' sockets in /run/containerd/s whatever its config says.
track_host_path /run/containerd /run/containerd/s /run/containerd/fifo /run/containerd/runc \
    /opt/containerd /var/lib/containerd

CD=$W/ctd
C=(ctr --address "$CD/containerd.sock" --namespace k8s.io)
IMAGES=skiff.test/cri
mkdir -p "$W/cni-conf" "$W/cni-bin" "$W/pods" "$W/rt-skiff" "$W/rt-runc" "$W/rt-skiff-wasm"

handler() {   # handler NAME BINARY ROOT [POD_ANNOTATIONS]: a runtime handler's table
    cat <<EOF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      pod_annotations = [${4:-}]
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$3"
        SystemdCgroup = $systemd_cgroup
EOF
}

# restrict_oom_score_adj: the sandbox would ask for oom_score_adj -998, which needs
# CAP_SYS_RESOURCE, and this host's bounding set has none. An empty CNI directory: podman's
# bridge config in /etc/cni/net.d must not be used (host-network pods need no CNI).
CRI_TOML="[plugins.\"io.containerd.grpc.v1.cri\"]
  sandbox_image = \"$IMAGES:pause\"
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = \"127.0.0.1\"
  stream_server_port = \"0\"
  [plugins.\"io.containerd.grpc.v1.cri\".cni]
    bin_dir = \"$W/cni-bin\"
    conf_dir = \"$W/cni-conf\"
  [plugins.\"io.containerd.grpc.v1.cri\".containerd]
    default_runtime_name = \"runc\"
    snapshotter = \"overlayfs\"
$(handler skiff "$RUNTIME" "$W/rt-skiff")
$(handler runc "$RUNC" "$W/rt-runc")
$(handler skiff-wasm "$RUNTIME" "$W/rt-skiff-wasm" '"run.oci.handler"')"

suite_teardown() {
    # what a failed test left of its pods (crictl is not packaged: ctr removes them)
    remove_ctr_containers
    # the pods' own cgroups, which the kubelet (not the runtime) would remove
    remove_pod_cgroups
}

remove_pod_cgroups() {
    local d
    for d in $(_cg_dirs skiffcri; _cg_dirs skiffcri.slice); do rmdir "$d" 2>/dev/null; done
    if [ "$SYSTEMD" = 1 ]; then
        systemctl stop skiffcri-podskiff.slice skiffcri-podrunc.slice skiffcri.slice 2>/dev/null
    fi
    return 0
}

# ---- images, made offline with umoci
# make_image TAG DIR CONFIG-ARGS...: a one-layer image of DIR's contents in the layout $W/oci
make_image() {
    local tag=$1 dir=$2; shift 2
    umoci new --image "$W/oci:$tag" &&
        umoci unpack --image "$W/oci:$tag" "$W/unpack-$tag" > /dev/null &&
        cp -a "$dir/." "$W/unpack-$tag/rootfs/" &&
        umoci repack --image "$W/oci:$tag" "$W/unpack-$tag" &&
        umoci config --image "$W/oci:$tag" "$@" &&
        rm -rf "$W/unpack-$tag"
}
make_wasm_image() {   # the modules and /data/in.txt, nothing else
    mkdir -p "$W/wasm-root/data" && cp "$WASM_MODULES"/*.wasm "$W/wasm-root/" &&
        echo "from the image" > "$W/wasm-root/data/in.txt" &&
        make_image wasm "$W/wasm-root" --config.cmd /hello.wasm
}
mkdir -p "$W/pause-root"
xrun gcc -static -Os -s -o "$W/pause-root/pause" "$REPO_DIR/integration/cri/pause.c"
check_eq "pause program: built static" "0" "$RC" "$ERR"
make_rootfs "$W/busybox-root"
if umoci init --layout "$W/oci" > "$W/logs/umoci.log" 2>&1 &&
    make_image pause "$W/pause-root" --config.entrypoint /pause --config.user 65535:65535 >> "$W/logs/umoci.log" 2>&1 &&
    make_image busybox "$W/busybox-root" --config.cmd sh \
        --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin >> "$W/logs/umoci.log" 2>&1 &&
    { [ "$CRI_WASM" = off ] || make_wasm_image >> "$W/logs/umoci.log" 2>&1; } &&
    tar -C "$W/oci" -cf "$W/images.tar" .; then
    pass "images: pause, busybox (and the modules alone, for wasm pods) made with umoci"
else
    fail "images: pause, busybox (and the modules alone, for wasm pods) made with umoci" "umoci succeeds" "$(tail -n 20 "$W/logs/umoci.log")"
    exit 1
fi

# ---- containerd with the CRI plugin
start_containerd "$CD" "$CRI_TOML"
check "images: ctr -n k8s.io images import" "${C[@]}" images import --base-name "$IMAGES" "$W/images.tar"
xrun "${C[@]}" images ls -q
check_match "images: $IMAGES:pause and $IMAGES:busybox listed" "$IMAGES:busybox.*$IMAGES:pause|$IMAGES:pause.*$IMAGES:busybox" \
    "$(printf '%s' "$OUT" | tr '\n' ' ')" "rc $RC, stderr: $ERR"

# ---- the CRI client test: skiff first, then runc, then the comparison
echo "-- CRI client test ($TEST_BIN), SystemdCgroup = $systemd_cgroup"
export CRI_SOCKET=$CD/containerd.sock CRI_HANDLERS="skiff runc" CRI_ROOTS="$W/rt-skiff $W/rt-runc" \
    CRI_IMAGE=$IMAGES:busybox CRI_CGROUP_DRIVER=$driver CRI_WORK=$W/pods
export CRI_WASM_HANDLER=skiff-wasm CRI_WASM_ROOT=$W/rt-skiff-wasm CRI_WASM_IMAGE=$IMAGES:wasm
if [ "$CRI_WASM" = off ]; then
    echo "   (CRI_WASM=off: wasm_pods_run_modules is left out here; the host's make test-cri runs it)"
    only=(cri_handlers_behave_as_runc --exact) what="both handlers, the same observations"
else
    only=() what="both handlers, the same observations; wasm pods"
fi
CHECK_TIMEOUT=${CRI_TEST_TIMEOUT:-300} xrun "$TEST_BIN" --nocapture --test-threads 1 "${only[@]}"
printf '%s\n' "$OUT" | grep -oE 'timing: .*|[a-z]+ and [a-z]+ agree on .*|wasm: .*|test result: .*' | sed 's/^/   /'
if [ "$RC" = 0 ]; then pass "CRI client test: $what"; else
    fail "CRI client test: $what" "exit 0" "exit $RC" \
        "$(printf '%s\n%s' "$OUT" "$ERR" | grep -v '^ *[0-9]*: \|^ *at ' | tail -n 30)"
    # the test stopped midway: its pods are still there
    remove_ctr_containers
fi
remove_pod_cgroups

# ---- nothing left
check_eq "runtime state of skiff ($W/rt-skiff/k8s.io): empty" "" "$(ls -A "$W/rt-skiff/k8s.io" 2>/dev/null)"
check_eq "runtime state of runc ($W/rt-runc/k8s.io): empty" "" "$(ls -A "$W/rt-runc/k8s.io" 2>/dev/null)"
check_eq "runtime state of skiff-wasm ($W/rt-skiff-wasm/k8s.io): empty" "" "$(ls -A "$W/rt-skiff-wasm/k8s.io" 2>/dev/null)"
check_eq "containerd lists no container" "" "$("${C[@]}" containers ls -q 2>&1)"
stop_pid "$CTD_PID" 15
check_eq "containerd stopped" "" "$(kill -0 "$CTD_PID" 2>/dev/null && echo running)"
