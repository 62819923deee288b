#!/bin/sh
# Build the cargo-fuzz (libFuzzer) targets and run each for a bounded time on a copy of
# its checked-in seed corpus (fuzz/corpus/TARGET is never written to).
#
# usage: sh fuzz/run.sh [SECONDS]          (default 60 seconds per target)
#   FUZZ_TARGETS="config"                 only these targets (default: all in fuzz/Cargo.toml)
#   FUZZ_SANITIZER=none                   another sanitizer than address (address|leak|none)
#   FUZZ_ARGS="-dict=..."                 more libFuzzer flags
#
# Exits non-zero if a target crashes (a panic included), hangs past 10 s on one input,
# leaks, goes over 2 GiB, or does not build; the input that did it is kept under
# fuzz/artifacts/TARGET/ (ignored by git), and the command to replay it is printed.
#
# The toolchain is stable Rust: cargo fuzz needs nightly flags (-Zsanitizer, -Cpasses),
# which RUSTC_BOOTSTRAP=1 allows. Builds run niced with one job (CARGO_BUILD_JOBS).
set -u

seconds=${1:-60}
case $seconds in
    ''|*[!0-9]*) echo "run.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
sanitizer=${FUZZ_SANITIZER:-address}
export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
PATH=$HOME/.cargo/bin:$PATH

if ! command -v cargo >/dev/null 2>&1; then
    echo "run.sh: FAIL: cargo is not installed" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: cargo-fuzz is missing: installing it from crates.io (cargo install cargo-fuzz)"
    if ! nice -n 19 cargo install cargo-fuzz --locked -j "$CARGO_BUILD_JOBS" || ! cargo fuzz --version >/dev/null 2>&1; then
        echo "run.sh: FAIL: cargo-fuzz is missing and could not be installed (cargo install cargo-fuzz); the fuzz targets were not run" >&2
        exit 1
    fi
fi

cd "$fuzz_dir" || exit 1
targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
if [ -z "$targets" ]; then
    echo "run.sh: FAIL: no fuzz targets found in $fuzz_dir" >&2
    exit 1
fi

# -a: debug assertions and overflow checks, so an arithmetic overflow is a crash too.
build_flags="-a --sanitizer $sanitizer"
echo "run.sh: building $(echo $targets) (sanitizer $sanitizer)"
start=$(date +%s)
# shellcheck disable=SC2086
if ! nice -n 19 cargo fuzz build $build_flags; then
    echo "run.sh: FAIL: the fuzz targets do not build" >&2
    exit 1
fi
echo "run.sh: built in $(( $(date +%s) - start )) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/skiff-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
summary=""
for target in $targets; do
    corpus=$work/corpus/$target
    mkdir -p "$corpus" "$fuzz_dir/artifacts/$target"
    if [ -d "$fuzz_dir/corpus/$target" ]; then
        cp -R "$fuzz_dir/corpus/$target/." "$corpus/"
    fi
    log=$work/$target.log
    # The config target calls libseccomp, whose known leak (lsan.supp) is matched by a frame
    # only the slow unwinder sees: about half the executions per second, on this target only.
    unwind=
    if [ "$target" = config ]; then
        unwind=:fast_unwind_on_malloc=0:malloc_context_size=12
    fi
    echo "run.sh: fuzzing $target for $seconds s ($(ls "$corpus" | wc -l) seeds)"
    # shellcheck disable=SC2086
    # TMPDIR: the config target's scratch bundle directories go in the work dir, removed on exit.
    { TMPDIR=$work LSAN_OPTIONS="suppressions=$fuzz_dir/lsan.supp$unwind${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
      nice -n 19 cargo fuzz run $build_flags "$target" "$corpus" -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -dict="$fuzz_dir/json.dict" -artifact_prefix="$fuzz_dir/artifacts/$target/" -print_final_stats=1 ${FUZZ_ARGS:-} 2>&1
      echo $? > "$work/$target.rc"; } | tee "$log" | grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)'
    rc=$(cat "$work/$target.rc")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -n 1)
    ft=$(grep -E '^#[0-9]+' "$log" | grep -o 'ft: [0-9]*' | tail -n 1)
    units=$(grep -E '^#[0-9]+' "$log" | grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' | tail -n 1)
    line="$target: ${execs:-?} execs, ${rate:-?} exec/s, ${cov:-cov: ?}, ${ft:-ft: ?}, ${units:-corp: ?}"
    if [ "$rc" -ne 0 ]; then
        status=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        line="$line -- FAILED (exit $rc)"
        echo "run.sh: FAIL: $target exited $rc" >&2
        grep -E "^(==[0-9]+==ERROR|thread '.*' panicked|SUMMARY:|ALARM: working on the last Unit|==[0-9]+== ERROR: libFuzzer)" "$log" | head -n 5 >&2
        grep -A 3 "panicked at" "$log" | head -n 6 >&2
        # A leak's first allocation stack, so that CI's log says whose it is.
        grep -A 12 -m 1 "^Direct leak\|^Indirect leak" "$log" >&2
        if [ -n "$artifact" ]; then
            echo "run.sh: the input is $artifact" >&2
            echo "run.sh: replay: cd $fuzz_dir && RUSTC_BOOTSTRAP=1 cargo fuzz run $build_flags $target $artifact" >&2
            line="$line, input $artifact"
        fi
    fi
    summary="$summary$line
"
done

echo
echo "run.sh: summary ($seconds s per target)"
printf '%s' "$summary"
exit $status
