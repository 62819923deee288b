#!/bin/bash
# WebAssembly containers under podman, as its users run them: an image made offline with umoci
# that holds only modules (and a data file), run with --annotation module.wasm.image/variant=compat.
# The modules are integration/wasm/*.wat compiled to .wasm (make wasm-modules: WASM_MODULES names
# the directory); the runtime finds its wasm handler skiff-wasm beside itself (make wasm-handler).
# usage: wasm.sh RUNTIME      (skiff: runc has no wasm handler)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib.sh"
suite_init wasm "${1:-}"

require podman podman
require conmon conmon
require umoci umoci
require timeout coreutils
require_file /etc/containers/policy.json golang-github-containers-common
if [ -z "${WASM_MODULES:-}" ] || [ ! -f "${WASM_MODULES:-}/hello.wasm" ]; then
    fail "prerequisite: the test modules" "WASM_MODULES naming a directory with hello.wasm" \
        "${WASM_MODULES:-unset}: build them with 'make wasm-modules' (make test-engines does)"
    MISSING=1
fi
if [ ! -x "$(dirname "$RT")/skiff-wasm" ]; then
    fail "prerequisite: the wasm handler" "$(dirname "$RT")/skiff-wasm" "missing: build it with 'make wasm-handler' (make test-engines does)"
    MISSING=1
fi
require_done

PD=$W/podman
podman_config "$PD"
mkdir -p "$PD/cid" "$W/vol"
P=(podman --runtime "$RUNTIME")
IMG=localhost/skiff-wasm:test
WASM=(--annotation module.wasm.image/variant=compat)
n=0
RUN() { n=$((n + 1)); NAME=skiffwasm-$n; RUNARGS=(run --network none $SECCOMP_OPT --cidfile "$PD/cid/$NAME" --name $NAME "${WASM[@]}"); }
state() { "${P[@]}" inspect -f '{{.State.Status}}' "$1" 2>&1; }

suite_teardown() {
    "${P[@]}" rm -a -f -t 0 > "$W/logs/teardown-rm.log" 2>&1
    "${P[@]}" rmi -a -f >> "$W/logs/teardown-rm.log" 2>&1
}

# ---- the image: the modules and /data/in.txt, nothing else (no shell, no libc)
mkdir -p "$W/image-root/data"
cp "$WASM_MODULES"/*.wasm "$W/image-root/"
echo "from the image" > "$W/image-root/data/in.txt"
if { umoci init --layout "$W/oci" && umoci new --image "$W/oci:wasm" &&
    umoci unpack --image "$W/oci:wasm" "$W/unpack" > /dev/null && cp -a "$W/image-root/." "$W/unpack/rootfs/" &&
    umoci repack --image "$W/oci:wasm" "$W/unpack" && umoci config --image "$W/oci:wasm" --config.cmd /hello.wasm; } > "$W/logs/umoci.log" 2>&1; then
    pass "image: the modules alone, made with umoci"
else
    fail "image: the modules alone, made with umoci" "umoci succeeds" "$(tail -n 20 "$W/logs/umoci.log")"
    exit 1
fi
check "image: the layout as an OCI archive" tar -C "$W/oci" -cf "$W/wasm.tar" .
check "image: podman load (offline)" "${P[@]}" load -q -i "$W/wasm.tar"
check "image: tagged $IMG" "${P[@]}" tag "$(printf '%s' "$OUT" | sed -n 's/^Loaded image: //p' | tail -n 1)" "$IMG"
check_eq "image: its files" "args_env.wasm cwd.wasm data echo.wasm exit3.wasm files.wasm grow.wasm hello.wasm sleep.wasm trap.wasm" \
    "$(ls "$W/unpack/rootfs" | tr '\n' ' ' | sed 's/ $//')"

# ---- the modules, each as a container
RUN; check_out "hello world (the image's cmd)" "hello from wasm" "${P[@]}" "${RUNARGS[@]}" --rm $IMG
# (of the environment, only the variable given: podman adds its own, PATH, HOSTNAME, container)
RUN; check_out "arguments and environment" "/args_env.wasm|one|two words|--|GREETING=hello wasm" \
    bash -c 'set -o pipefail; "$@" | awk "/^--\$/ { env = 1 } !env || /^(--|GREETING=)/" | tr "\n" "|" | sed "s/|$//"' _ \
    "${P[@]}" "${RUNARGS[@]}" --rm -e "GREETING=hello wasm" $IMG /args_env.wasm one "two words"
RUN; check_out "reads the image's /data/in.txt, writes a volume" "from the image" \
    "${P[@]}" "${RUNARGS[@]}" --rm -v "$W/vol:/vol" $IMG /files.wasm
check_eq "the volume holds what the module wrote" "from the image" "$(cat "$W/vol/out.txt" 2>&1)"
RUN; check_rc "proc_exit(3): exit status 3" 3 "${P[@]}" "${RUNARGS[@]}" --rm $IMG /exit3.wasm
RUN; check_rc "a trap: exit status 134" 134 "${P[@]}" "${RUNARGS[@]}" --rm $IMG /trap.wasm
check_match "a trap: its message on stderr" "unreachable" "$ERR"
RUN; check_rc "past --memory 32m: OOM-killed (137)" 137 "${P[@]}" "${RUNARGS[@]}" --rm --memory 32m --memory-swap 32m $IMG /grow.wasm

# ---- a long-running module, and exec into it
RUN; C=$NAME
check "run -d a module that sleeps" "${P[@]}" "${RUNARGS[@]}" -d $IMG /sleep.wasm
check_eq "run -d: inspect says running" running "$(state $C)"
check_out "exec of a module into it runs as WASI" "hello from wasm" "${P[@]}" exec $C /hello.wasm
check "rm -f" "${P[@]}" rm -f -t 0 $C

# ---- without the annotation, a module is no program (runc's behaviour)
n=$((n + 1))
check_rc "without the annotation: not executable (126)" 126 "${P[@]}" run --network none $SECCOMP_OPT --rm --name skiffwasm-$n $IMG /hello.wasm

# ---- nothing left
check_out "podman ps -a is empty" "" "${P[@]}" ps -a -q
ids=$(for f in "$PD"/cid/*; do cat "$f"; echo; done 2>/dev/null)
STATE_ROOT=${RUNTIME_STATE_ROOT:-/run/$RT_NAME}
left=$(for i in $ids; do [ -e "$STATE_ROOT/$i" ] && echo "$STATE_ROOT/$i"; done)
check_eq "runtime state dir: nothing of this run's containers" "" "$left"
