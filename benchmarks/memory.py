"""Memory of a process tree, sampled while it runs (Linux ``/proc``).

Two sums over the process and all its descendants: of proportional set sizes
(PSS: a process's private pages plus its share of pages it shares with others, such
as forked workers, so shared pages count once) and of resident set sizes (RSS:
shared pages counted in every process that maps them, so an upper bound of what the
tree holds).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field


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


def read_position(pid: int, path: str) -> int | None:
    """How far process ``pid`` has read into ``path`` (the offset of its open file), if open."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != path:
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as handle:
                for line in handle:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except OSError:
            continue
    return None


@dataclass
class PeakRun:
    code: int | None  # None: stopped at the time limit
    output: str
    peak_pss: int
    peak_rss: int
    samples: list = field(default_factory=list)  # (seconds, pss, rss, bytes of ``watch`` read)


def run_with_peak(command: list[str], *, every: float = 0.2, limit_seconds: float | None = None,
                  watch: str | None = None, **popen) -> PeakRun:
    """Run ``command``; its exit code, its standard output and the peak memory of its tree:
    as PSS (shared pages counted once) and as RSS (shared pages counted in every process
    that maps them, an upper bound). With ``limit_seconds`` the whole tree is stopped at
    that time (``code`` None); with ``watch`` (a file's absolute path) each sample notes
    how far the command has read into that file."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True,
                               **popen)
    run = PeakRun(None, "", 0, 0)
    started = time.perf_counter()
    while process.poll() is None:
        elapsed = time.perf_counter() - started
        if limit_seconds is not None and elapsed > limit_seconds:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            return run
        pss, rss = tree_memory(process.pid)
        run.peak_pss, run.peak_rss = max(run.peak_pss, pss), max(run.peak_rss, rss)
        run.samples.append((elapsed, pss, rss, read_position(process.pid, watch) if watch else None))
        time.sleep(every)
    run.code, run.output = process.returncode, process.stdout.read()
    return run
