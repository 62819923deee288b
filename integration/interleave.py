#!/usr/bin/env python3
"""Time one command per runtime, interleaved: round after round, each runtime's command once,
the order rotated every round, so that a burst of load on the host falls on all of them
alike (hyperfine runs one command's samples in a block). Each sample is one process waited for
with wait4: its wall time, and its own and its children's CPU time. (Not its peak RSS: a
child of this Python process starts as a copy of it, and the kernel counts that copy's
resident pages into the peak; bench.sh takes peak RSS with /usr/bin/time.)

usage: interleave.py OUT.csv RUNS WARMUP NAME CMD [PREPARE] [-- NAME CMD [PREPARE] ...]

CMD and PREPARE are shell commands (sh -c); PREPARE runs untimed before each sample.
OUT.csv gets one row per runtime: name, then the medians of wall ms and cpu ms, and the
samples' count. Nothing is asserted: a failing command is reported and its row says
"failed".
"""

import csv
import os
import statistics
import subprocess
import sys
import time


def sample(command):
    """Run `command` once: (wall ms, cpu ms, exit status)."""
    start = time.perf_counter()
    process = subprocess.Popen(["sh", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, os.waitstatus_to_exitcode(status)


def main(argv):
    out, runs, warmup = argv[0], int(argv[1]), int(argv[2])
    specs, current = [], []
    for arg in argv[3:]:
        if arg == "--":
            specs.append(current)
            current = []
        else:
            current.append(arg)
    specs.append(current)
    runtimes = [(s[0], s[1], s[2] if len(s) > 2 and s[2] else None) for s in specs if len(s) >= 2]
    samples = {name: [] for name, _, _ in runtimes}
    failed = {name: None for name, _, _ in runtimes}
    for round_index in range(warmup + runs):
        shift = round_index % len(runtimes)
        for name, command, prepare in runtimes[shift:] + runtimes[:shift]:
            if failed[name]:
                continue
            if prepare:
                subprocess.run(["sh", "-c", prepare], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall, cpu, code = sample(command)
            if code != 0:
                failed[name] = f"exit {code} in round {round_index}"
                continue
            if round_index >= warmup:
                samples[name].append((wall, cpu))
    with open(out, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "wall_ms", "cpu_ms", "samples"])
        for name, _, _ in runtimes:
            if failed[name] or not samples[name]:
                command = next(command for n, command, _ in runtimes if n == name)
                print(f"interleave: {name} failed ({failed[name]}): {command}", file=sys.stderr)
                writer.writerow([name, "failed", "failed", 0])
                continue
            walls, cpus = zip(*samples[name])
            writer.writerow([name, f"{statistics.median(walls):.3f}", f"{statistics.median(cpus):.3f}", len(walls)])


if __name__ == "__main__":
    main(sys.argv[1:])
