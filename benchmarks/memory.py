"""Memory of a process tree, sampled while it runs (Linux ``/proc``).

Two sums over the process and all its descendants: of proportional set sizes
(PSS: a process's private pages plus its share of pages it shares with others, such
as forked workers, so shared pages count once) and of resident set sizes (RSS:
shared pages counted in every process that maps them, so an upper bound of what the
tree holds).
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


def process_memory(pid: int) -> tuple[int, int]:
    """``(pss, rss)`` of one process in bytes (PSS is the RSS where the kernel gives none)."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                    break
    except OSError:
        return 0, 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except OSError:
        pss = rss
    return pss or rss, rss


def tree_memory(pid: int) -> tuple[int, int]:
    """``(pss, rss)`` summed over ``pid`` and all its descendants."""
    pss = rss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        one_pss, one_rss = process_memory(current)
        pss += one_pss
        rss += one_rss
        todo.extend(children(current))
    return pss, rss


def run_with_peak(command: list[str], *, every: float = 0.2, **popen) -> tuple[int, str, int, int]:
    """Run ``command``; its exit code, its standard output and the peak memory of its tree:
    as PSS (shared pages counted once) and as RSS (shared pages counted in every process
    that maps them, an upper bound)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, **popen)
    peak_pss = peak_rss = 0
    while process.poll() is None:
        pss, rss = tree_memory(process.pid)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(every)
    return process.returncode, process.stdout.read(), peak_pss, peak_rss
