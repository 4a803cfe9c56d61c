"""Child processes that never outlive the process that started them.

Indexing forks readers and segment writers, the server forks its workers, the
Xapian tools run as children: each of them calls :func:`end_with_parent` as it
starts, so a ``kill -9`` of the parent leaves no orphan behind (Linux's
``PR_SET_PDEATHSIG``; elsewhere nothing happens).
"""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def end_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """In a child: receive ``signum`` when the parent dies.

    With ``parent`` (the pid the child was started by), a child whose parent
    died before this call exits at once.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)
