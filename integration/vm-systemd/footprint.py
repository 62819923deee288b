#!/usr/bin/env python3
"""How much of skiff's code one `run` executes, read off qemu's `-d in_asm` log.

Under TCG (qemu 7.2 here) a block of guest code is translated the first time it runs, and a
translation is found again only at the same virtual address: address randomization gives
every process new addresses, so each invocation of skiff translates every block it runs.
The instructions translated per run are then the code footprint of the run, and about half
of skiff's time in the systemd VM (see docs/performance.md).

usage: footprint.py LOG SKIFF   (the log of footprint.sh's boot, the binary it ran)
Prints the instructions translated per phase of the run, per crate, and the top functions.
"""
import bisect
import collections
import re
import subprocess
import sys

# The phases, each from the first block of one of its functions on (in the order a run
# meets them).
PHASES = [
    ("start-up (glibc, relocation)", ()),
    # (skiff::main: before skiff had its own C entry point)
    ("command line", ("skiff::run", "skiff::main")),
    ("config.json", ("skiff::bundle::Bundle::load",)),
    ("cgroup, state", ("skiff::container::create::plan_cgroup",)),
    ("clone", ("skiff::process::spawn_init",)),
    ("init: namespaces", ("skiff::process::init::init_main",)),
    ("init: rootfs", ("skiff::rootfs::setup_rootfs",)),
    ("init: the process", ("skiff::process::init::become_process",)),
    ("start", ("skiff::container::start::start",)),
    ("delete", ("skiff::container::delete::delete",)),
]
CRATES = ["clap_builder", "clap_lex", "serde_json", "serde_core", "serde", "oci_spec", "skiff::cli",
          "skiff::", "core::", "alloc::", "std::", "nix::", "hashbrown", "anyhow"]


def symbols(binary):
    out = subprocess.run(["nm", "-n", "-C", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    start = next(a for a, n in zip(addrs, names) if n == "_start")
    return addrs, names, start


def blocks(log):
    """The translated blocks, each a list of its instructions' addresses, in order."""
    current = None
    for line in open(log, errors="replace"):
        if line.startswith("IN:"):
            current = []
            yield current
            continue
        m = re.match(r"(0x[0-9a-f]+):\s+(?:[0-9a-f]{2} )+", line)
        if m and current is not None:
            current.append(int(m.group(1), 16))


def crate(name):
    bare = name.lstrip("<&").replace("mut ", "")
    for prefix in CRATES:
        if bare.startswith(prefix):
            return prefix.rstrip(":")
    return "clap (impl)" if "clap" in name else "serde (impl)" if "serde" in name else "glibc and other"


def main():
    log, binary = sys.argv[1], sys.argv[2]
    addrs, names, start = symbols(binary)
    all_blocks = [b for b in list(blocks(log)) if b]
    # skiff's load address: that of a block at `_start`'s page offset under which the most
    # blocks fall inside the binary (other processes' blocks may share the logged range).
    size = max(addrs) + 4096
    candidates = {b[0] - start for b in all_blocks if (b[0] - start) % 4096 == 0 and b[0] > start}
    if not candidates:
        sys.exit("footprint: no block of skiff's _start in the log")
    base = max(candidates, key=lambda c: sum(1 for b in all_blocks if 0 <= b[0] - c < size))
    per_phase, per_crate, per_function = collections.Counter(), collections.Counter(), collections.Counter()
    phase, pending = PHASES[0][0], list(PHASES[1:])
    total = 0
    for block in all_blocks:
        offset = block[0] - base
        if not 0 <= offset < size:
            continue
        name = names[bisect.bisect_right(addrs, offset) - 1]
        while pending and any(marker in name for marker in pending[0][1]):
            phase = pending.pop(0)[0]
        per_phase[phase] += len(block)
        per_crate[crate(name)] += len(block)
        per_function[name] += len(block)
        total += len(block)
    print(f"instructions translated in one run: {total}")
    print("\nby phase:")
    for name, _ in PHASES:
        print(f"{per_phase[name]:8d}  {name}")
    print("\nby crate:")
    for name, count in per_crate.most_common():
        print(f"{count:8d}  {name}")
    print("\nfunctions:")
    for name, count in per_function.most_common(40):
        print(f"{count:8d}  {name[:120]}")


if __name__ == "__main__":
    main()
