"""The time budget of one search.

One visitor's query must not stall the server: 70 frequent words joined by
``OR`` took 8.6–12.4 s, and a handful of them at once kept ``/healthz``
waiting. :meth:`search.Engine.search` runs within a :class:`Deadline`
(``Settings.search_time_budget_seconds``, 1 s by default). The work that grows
with the query — the parts of an OR and the words of the any mode, the
documents a Whoosh matcher walks, the segments of the index, the facets
counted without their own filter, the spelling corrections — asks
:func:`passed` between its steps; once the time is up it stops and keeps what
it has: a subset of the matches, the best of them scored so far. The result
then says ``"timed_out": true``, as Elasticsearch's does, and its total counts
the matches found. Work whose partial answer would be wrong (the words of an
AND, whose documents must hold every one of them) is finished.

The deadline travels with the search in a context variable, so the modules
that do the work ask for it without every call passing it on.
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager


class Deadline:
    """A point in time after which the search it belongs to stops its work."""

    __slots__ = ("at", "hit")

    def __init__(self, seconds: float | None):
        self.at = time.monotonic() + seconds if seconds and seconds > 0 else None
        self.hit = False  # whether some work stopped because the time was up

    def passed(self) -> bool:
        if self.at is None:
            return False
        if self.hit or time.monotonic() >= self.at:
            self.hit = True
            return True
        return False

    def left(self) -> float | None:
        """Seconds left (never below 0), or None without a limit."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())


_CURRENT: contextvars.ContextVar = contextvars.ContextVar("search_deadline", default=None)


@contextmanager
def within(deadline: Deadline):
    """Run the block with ``deadline`` as the current search's."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def passed() -> bool:
    """Whether the current search is out of time (False outside a search)."""
    deadline = _CURRENT.get()
    return deadline is not None and deadline.passed()


def current() -> Deadline | None:
    return _CURRENT.get()
