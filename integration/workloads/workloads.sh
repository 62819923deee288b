#!/bin/bash
# Real images (issue 27): a Debian bookworm image built with debootstrap (image.sh: PostgreSQL,
# nginx, systemd) run under podman as users run images, with runc and with skiff side by side
# in one podman: PostgreSQL as its own user (initdb, pgbench, stop, psql on a terminal), nginx
# in a pod without a network with a sidecar fetching over loopback, --read-only, --tmpfs,
# a non-root user's /dev/stdout, and systemd as PID 1. Each check runs under runc first (the
# reference, which must do what the check expects) and then under skiff, which must give the
# same exit status and output. Throughput (pgbench TPS, nginx requests/s) is printed side by
# side, never asserted.
# usage: workloads.sh SKIFF [RUNC]      (RUNC: default /usr/sbin/runc)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../engines/lib.sh"
suite_init workloads "${1:-}"
REF=${2:-/usr/sbin/runc}

require podman podman
require conmon conmon
require catatonit catatonit     # podman builds a pod's infra image from it
require debootstrap debootstrap
require script util-linux
require timeout coreutils
require_file /etc/containers/policy.json golang-github-containers-common
require_file "$REF" runc
require_done

PD=$W/podman
podman_config "$PD"
# One podman, two runtimes: podman-runc and podman-skiff (in PATH) are podman with --runtime.
mkdir -p "$W/podman-bin"
for rt in "$REF" "$RT"; do
    r=$(basename "$rt")
    printf '#!/bin/sh\nexec podman --runtime %s "$@"\n' "$(runtime_wrapper "$rt")" > "$W/podman-bin/podman-$r"
    chmod 755 "$W/podman-bin/podman-$r"
done
export PATH=$W/podman-bin:$PATH
R_REF=$(basename "$REF") R_NEW=$RT_NAME
RUNTIMES=("$R_REF" "$R_NEW")
IMG=localhost/skiff-workload:bookworm
CHECK_TIMEOUT=90

suite_teardown() {
    podman-$R_REF pod rm -a -f -t 0 > "$W/logs/teardown-rm.log" 2>&1
    podman-$R_REF rm -a -f -t 0 >> "$W/logs/teardown-rm.log" 2>&1
    podman-$R_REF rmi -a -f >> "$W/logs/teardown-rm.log" 2>&1
}

# side NAME RC ERE PODMAN-ARGS...: the podman command under runc, then under skiff. Under runc
# it must exit RC with stdout matching ERE (else the check would prove nothing); under skiff
# the exit status and stdout must be runc's.
side() {
    local name=$1 rc=$2 re=$3 ref_rc ref_out; shift 3
    xrun podman-$R_REF "$@"
    ref_rc=$RC ref_out=$OUT
    if [ "$RC" != "$rc" ] || ! printf '%s\n' "$OUT" | grep -Eq -- "$re"; then
        fail "$name: under $R_REF (the reference)" "exit $rc, stdout matching /$re/" "$(_rc_text "$RC"), stdout: $OUT" "podman $(_cmd_text "$@")
stderr: $ERR"
    fi
    xrun podman-$R_NEW "$@"
    if [ "$RC" = "$ref_rc" ] && [ "$OUT" = "$ref_out" ]; then pass "$name: $R_NEW as $R_REF (exit $RC)"; else
        fail "$name: $R_NEW as $R_REF" "exit $ref_rc, stdout: $ref_out" "$(_rc_text "$RC"), stdout: $OUT" "podman $(_cmd_text "$@")
stderr: $ERR"; fi
}

# same NAME ERE REF NEW: what was observed under runc (REF) must match ERE, else the check
# proves nothing; what was observed under skiff (NEW) must be the same.
same() {
    if ! printf '%s\n' "$3" | grep -Eq -- "$2"; then fail "$1: under $R_REF (the reference)" "matching /$2/" "$3"; fi
    if [ "$3" = "$4" ]; then pass "$1: $R_NEW as $R_REF ($4)"; else
        fail "$1: $R_NEW as $R_REF" "$R_REF's: $3" "$4"; fi
}

xrun sh "$here/image.sh" "$REPO_DIR/work/workloads"
TAR=$OUT
if [ "$RC" != 0 ] || [ ! -s "$TAR" ]; then
    fail "image: debootstrap bookworm (image.sh)" "an image tar" "$(_rc_text "$RC")" "$ERR"
    exit 1
fi
echo "   image: $TAR ($(du -h "$TAR" | cut -f1)): $(tr '\n' ' ' < "${TAR%.tar}.versions")"
check "image: podman import" podman-$R_REF import "$TAR" "$IMG"

# ---- the three fixes, as podman users meet them
side "--network none: lo is up (the runtime made the namespace)" 0 '^lo +UNKNOWN .*[<,]UP[,>]' \
    run --rm --network none "$IMG" ip -br link show lo
side "--read-only: /run, /tmp, /var/tmp are tmpfs copied up from the image, the root read-only" 0 'tmpfs-writable.*root-read-only$' \
    run --rm --network none --read-only "$IMG" sh -c \
    'for d in /run /tmp /var/tmp; do stat -c "%n %a %U:%G" $d; done; find /run | sort | while read -r p; do stat -c "%n %U:%G %F" "$p"; done;
     touch /run/x /tmp/x /var/tmp/x && printf tmpfs-writable; touch /etc/x 2>/dev/null || echo " root-read-only"'
# The copy keeps each mode as the image has it (setgid /run/postgresql, sticky /run/lock):
# Debian's runc 1.1.5 applies the umask to the copies (runc#3991, fixed in later runc).
MODES='find /run -mindepth 1 ! -name .containerenv | sort | while read -r p; do stat -c "%n %a" "$p"; done'
xrun podman-$R_NEW run --rm --network none "$IMG" sh -c "$MODES"
image_modes=$OUT
check_out "--read-only: the copied /run keeps the image's modes ($R_NEW; runc#3991)" "$image_modes" \
    podman-$R_NEW run --rm --network none --read-only "$IMG" sh -c "$MODES"
side "--tmpfs /x and over the image's /etc/nginx (copied up: names, modes, owners, contents)" 0 'nginx.conf .*events' \
    run --rm --network none --tmpfs /x --tmpfs /etc/nginx "$IMG" sh -c \
    'stat -c "%n %a %U:%G" /x; find /etc/nginx | sort | while read -r p; do stat -c "%n %A %U:%G" "$p"; done | tr "\n" " ";
     grep -o "^events" /etc/nginx/nginx.conf'
side "--user postgres reads /dev/stdin, writes /dev/stdout and /dev/stderr" 0 '^out
postgres$' \
    run --rm -i --network none --user postgres "$IMG" sh -c 'cat /dev/stdin && echo out > /dev/stdout && echo err > /dev/stderr && id -un'
for r in "${RUNTIMES[@]}"; do
    check_tty "exec -it -u postgres: the terminal is the user's ($r)" '^postgres /dev/pts/[0-9]+\|?$' \
        podman-$r run --rm -it --network none --user postgres "$IMG" sh -c 'echo $(stat -c %U $(tty)) $(tty)'
done

# ---- PostgreSQL as the postgres user
PG_BIN=/usr/lib/postgresql/15/bin
PG_START="set -e; initdb -D /var/lib/postgresql/data -U postgres --auth=trust --locale=C.UTF-8 > /dev/null; exec postgres -D /var/lib/postgresql/data -c listen_addresses="
declare -A TPS FAILED_TX STOPPED PSQL
for r in "${RUNTIMES[@]}"; do
    c=wl-pg-$r
    check "postgres ($r): run -d --user postgres: initdb, then the server" \
        podman-$r run -d --network none --name $c --user postgres -e PATH=$PG_BIN:/usr/bin:/bin "$IMG" sh -c "$PG_START"
    if ! wait_for 60 podman-$r exec $c pg_isready -q; then
        fail "postgres ($r): ready within 60 s" "pg_isready succeeds" "$(podman-$r logs $c 2>&1 | tail -n 5)"
        continue
    fi
    check "postgres ($r): pgbench -i" podman-$r exec $c pgbench -i -q postgres
    xrun podman-$r exec $c pgbench -T 10 -c 2 -j 2 postgres
    TPS[$r]=$(printf '%s\n' "$OUT" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
    FAILED_TX[$r]=$(printf '%s\n' "$OUT" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    check_eq "postgres ($r): pgbench 10 s: exit 0, no failed transactions" "0 0" "$RC ${FAILED_TX[$r]:-?}" "$OUT $ERR"
    xrun_tty podman-$r exec -it -u postgres $c sh -c 'echo "$(stat -c %U $(tty)) $(psql -Atc "select count(*) from pgbench_branches")"'
    PSQL[$r]="$RC $(printf '%s' "$OUT" | tr '\n' '|')"
    check "postgres ($r): podman stop" podman-$r stop -t 30 $c
    STOPPED[$r]=$(podman-$r inspect -f '{{.State.Status}} {{.State.ExitCode}}' $c 2>&1)
    check "postgres ($r): rm" podman-$r rm $c
done
same "postgres: exec -it -u postgres: the tty is the user's, psql answers" '^0 postgres 1\|?$' "${PSQL[$R_REF]:-}" "${PSQL[$R_NEW]:-}"
same "postgres: stopped cleanly (podman stop's exit status)" '^exited 0$' "${STOPPED[$R_REF]:-}" "${STOPPED[$R_NEW]:-}"
echo "   figures: pgbench TPS (10 s, 2 clients): $R_REF ${TPS[$R_REF]:-?}, $R_NEW ${TPS[$R_NEW]:-?}"

# ---- nginx in a pod without a network; a sidecar fetches over loopback
REQUESTS=2000
declare -A HTTP RPS
for r in "${RUNTIMES[@]}"; do
    pod=wl-web-$r
    check "nginx ($r): pod create --network none" podman-$r pod create --name $pod --network none
    check "nginx ($r): run -d nginx in the pod" podman-$r run -d --pod $pod --name wl-nginx-$r "$IMG" nginx -g 'daemon off;'
    wait_for 20 podman-$r exec wl-nginx-$r curl -sf -o /dev/null http://127.0.0.1/
    xrun podman-$r run --rm --pod $pod "$IMG" sh -c \
        't0=$(date +%s%N); curl -s -o /dev/null -w "%{http_code}\n" "http://127.0.0.1/?[1-'$REQUESTS']" | sort | uniq -c | awk "{ printf \"%s*%s \", \$1, \$2 }"; echo $(( ($(date +%s%N) - t0) / 1000000 ))'
    HTTP[$r]="$RC ${OUT% *}"
    ms=${OUT##* }
    # a rate only where every request was answered
    [ "${HTTP[$r]}" = "0 $REQUESTS*200" ] && [ "$ms" -gt 0 ] 2>/dev/null && RPS[$r]=$((REQUESTS * 1000 / ms))
    check "nginx ($r): pod rm -f" podman-$r pod rm -f -t 1 $pod
done
same "nginx: the sidecar's $REQUESTS requests over 127.0.0.1" "^0 $REQUESTS\\*200\$" "${HTTP[$R_REF]:-}" "${HTTP[$R_NEW]:-}"
echo "   figures: nginx requests/s (one connection, $REQUESTS requests): $R_REF ${RPS[$R_REF]:-?}, $R_NEW ${RPS[$R_NEW]:-?}"

# ---- systemd as PID 1
declare -A BOOTED
for r in "${RUNTIMES[@]}"; do
    c=wl-sd-$r
    check "systemd ($r): run -d --systemd=always /sbin/init" podman-$r run -d --network none --systemd=always --name $c "$IMG" /sbin/init
    # until systemd's bus answers, systemctl prints nothing: ask again
    for _ in $(seq 60); do
        xrun podman-$r exec $c timeout 60 systemctl is-system-running --wait
        [ -n "$OUT" ] && break
        sleep 1
    done
    BOOTED[$r]="$RC $OUT"
    [ "$OUT" = running ] || echo "   systemd ($r): $OUT; failed units: $(podman-$r exec $c systemctl --failed --plain --no-legend 2>&1 | tr '\n' ' ')"
    check "systemd ($r): podman stop" podman-$r stop -t 20 $c
    check "systemd ($r): rm" podman-$r rm $c
done
same "systemd: boots to running" '^0 running$' "${BOOTED[$R_REF]:-}" "${BOOTED[$R_NEW]:-}"

check_out "podman ps -a is empty" "" podman-$R_REF ps -a -q
