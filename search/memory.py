"""A memory budget per process, kept by what the process measures, not by estimates.

The caches of index data (:class:`search.cache.BoundedCache`) are each bounded
by their own estimate of what they hold (characters of text, bytes of arrays).
Those estimates miss most of the real cost — a German text of N characters
holding one „ is 2N bytes, the snippet cache keeps a text split into
stretches, every entry has its keys and tuples — and together the caches may
grow to more than a gigabyte per worker: one worker of ``newssearch serve``
went from 70 MB to 1.55 GB over ~11,000 requests while the caches' own
accounting said 354 MB. So the budget (``Settings.worker_memory_mb``, 512 MB
by default) is compared with what the kernel says the process holds:
``RssAnon`` of ``/proc/self/status``, its anonymous resident memory (heap and
arrays; not the memory-mapped index files, whose pages the system can drop
and re-read at will).

How it is kept:

- every ``put`` into a cache calls :func:`note`, which reads ``RssAnon`` at
  most every ``CHECK_SECONDS`` (a read of ``/proc/self/status`` costs ~15 µs);
- over the budget, every cache sheds its least recently used entries down to
  ``SHED`` of what it holds and keeps that as a cap, the freed memory is handed
  back to the system (glibc's ``malloc_trim``: freed heap pages otherwise stay
  resident), and ``RssAnon`` is read again; this repeats (at most ``ROUNDS``
  times) until the process is under ``LOW`` of its budget or the caches are
  empty;
- well under the budget (below ``RELAX`` of it), the caps grow back by
  ``GROWTH`` at most once a second, up to each cache's own limit.

What is not cache (the index's columns, Python's own structures) is not
shed; when it alone is over the budget the caches stay empty. With a budget,
glibc is also asked for at most ``ARENAS`` malloc arenas: each thread of the
server otherwise gets arenas of its own, whose freed memory other threads
cannot reuse.
"""

from __future__ import annotations

import ctypes
import threading
import time

CHECK_SECONDS = 0.05
SHED = 0.7
ROUNDS = 8
LOW = 0.85
RELAX = 0.7
GROWTH = 1.25
ARENAS = 2
_M_ARENA_MAX = -8

_lock = threading.Lock()
_state = {"budget": 0, "next_check": 0.0, "next_relax": 0.0, "sheds": 0, "anonymous": 0,
          "arenas_set": False}


def _libc():
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def anonymous_bytes() -> int | None:
    """The process's anonymous resident memory (``RssAnon``), or ``None`` where the
    system does not tell (not Linux)."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def configure(settings) -> None:
    """Take the budget of ``settings`` (``worker_memory_mb``; 0: none) for this process."""
    budget = max(0, int(settings.worker_memory_mb)) * 1024 * 1024
    _state["budget"] = budget
    if budget and not _state["arenas_set"] and _LIBC is not None:
        _state["arenas_set"] = True
        try:
            _LIBC.mallopt(_M_ARENA_MAX, ARENAS)
        except AttributeError:
            pass


def status() -> dict:
    """The budget, the anonymous memory last measured and how often caches were shed."""
    return {"budget_bytes": _state["budget"], "anonymous_bytes": _state["anonymous"],
            "sheds": _state["sheds"]}


def note() -> None:
    """After a cache grew: keep the budget (see the module's docstring). Cheap when
    nothing is to be done; never blocks on another thread doing it."""
    budget = _state["budget"]
    if not budget:
        return
    now = time.monotonic()
    if now < _state["next_check"] or not _lock.acquire(blocking=False):
        return
    try:
        _state["next_check"] = now + CHECK_SECONDS
        anonymous = anonymous_bytes()
        if anonymous is None:
            _state["budget"] = 0  # nothing to measure with: no budget
            return
        _state["anonymous"] = anonymous
        if anonymous > budget:
            _shed(anonymous, budget)
        elif anonymous < budget * RELAX and now >= _state["next_relax"]:
            _state["next_relax"] = now + 1.0
            from .cache import relax_all

            relax_all(GROWTH)
    finally:
        _lock.release()


def _shed(anonymous: int, budget: int) -> None:
    from .cache import shrink_all

    _state["sheds"] += 1
    for _ in range(ROUNDS):
        held = shrink_all(SHED)
        trim()
        anonymous = anonymous_bytes() or 0
        _state["anonymous"] = anonymous
        if anonymous <= budget * LOW or not held:
            break
    _state["next_relax"] = time.monotonic() + 1.0


def trim() -> None:
    """Hand the free pages of the C heap back to the system (glibc's ``malloc_trim``)."""
    if _LIBC is not None:
        try:
            _LIBC.malloc_trim(0)
        except AttributeError:
            pass
