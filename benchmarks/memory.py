"""Memory of a process tree, sampled while it runs (Linux ``/proc``).

A process's memory is its proportional set size (its private pages plus its share
of pages it shares with others, such as forked workers), or its RSS where PSS is
not available; a tree's is the sum over the process and all its descendants, so
shared pages count once.
"""

from __future__ import annotations

import os
import subprocess
import time


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def process_memory(pid: int) -> int:
    for path, field in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(field):
                        return int(line.split()[1]) * 1024
        except OSError:
            continue
    return 0


def tree_memory(pid: int) -> int:
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        total += process_memory(current)
        todo.extend(children(current))
    return total


def run_with_peak(command: list[str], *, every: float = 0.2, **popen) -> tuple[int, str, int]:
    """Run ``command``; its exit code, its standard output and the peak memory of its tree."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, **popen)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_memory(process.pid))
        time.sleep(every)
    return process.returncode, process.stdout.read(), peak
