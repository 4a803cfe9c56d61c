"""A bounded least-recently-used cache, safe to share between threads.

Used for work that the next queries repeat (lowercased hit texts, a text's snippet
stretches, stored fields, decoded posting lists ...). The cache is bounded by the
total *size* of its values: each value's size is ``size(value)`` (1 by default, so
``limit`` is a number of entries), or the size given to :meth:`BoundedCache.put`;
a put evicts the least recently used entries while that total is over ``limit``,
but always keeps the newest entry, even when it alone is over the limit.

Values are computed outside the cache's lock (callers ``get``, compute on a miss,
then ``put``), so two threads may compute the same value; the first one put is
kept, and every ``put`` answers the value held.

The caches of index data and derived text that modules keep at module level
are process-wide: every engine of a process shares them (their keys name the
segment or the text, so what one engine decoded serves another reading the
same segment, and no other). Each is sized by a field of
:class:`search.settings.Settings` in the group ``caches``
(``BoundedCache(setting=...)``, or :func:`configured` for a cache of another
shape); :func:`configure` sets those sizes from the settings of an engine
opening an index (:func:`search.backends.open_backend` calls it), so the
engine that opened last decides, and until then they have their defaults.

Over all caches, the process keeps a memory budget measured by the process itself
(:mod:`search.memory`): when it is over, every cache sheds its least recently used
entries (:func:`shrink_all`) and keeps a lower cap until memory is plentiful again.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable, Hashable

from . import memory
from .settings import Settings


def _one(value) -> int:
    return 1


class BoundedCache:
    """A map from keys to values, bounded by the total size of its values, whose least
    recently used entries are evicted first. ``lock`` may be shared by caches that are
    cleared together (pass a ``threading.RLock`` to clear them under it at once)."""

    def __init__(self, limit: int | None = None, size: Callable[[Any], int] = _one, lock=None,
                 *, setting: str | None = None):
        """``limit``: the largest total size held; or ``setting``: the field of
        :class:`search.settings.Settings` that sizes this process-wide cache."""
        if (limit is None) == (setting is None):
            raise TypeError("a cache is sized by a limit or by a setting")
        self.setting = setting
        self.limit = limit if setting is None else configured(setting)
        self._size = size
        self._entries: OrderedDict = OrderedDict()  # key -> (value, size)
        self._lock = lock if lock is not None else threading.Lock()
        self.total = 0  # sum of the sizes of the values held
        self.cap: float | None = None  # a lower bound than limit, under memory pressure
        _CACHES.add(self)

    def get(self, key: Hashable, default=None):
        """The value of ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            self._entries.move_to_end(key)
            return entry[0]

    def peek(self, key: Hashable, default=None):
        """The value of ``key``, or ``default``, leaving the order of use as it is."""
        with self._lock:
            entry = self._entries.get(key)
        return default if entry is None else entry[0]

    def put(self, key: Hashable, value, size: int | None = None):
        """Holds ``value`` for ``key`` (of ``size``, else ``size(value)``) unless a value
        is held for it already, evicts the least recently used entries while the total
        is over the limit, and answers the value held for ``key``."""
        if size is None:
            size = self._size(value)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]
            self._entries[key] = (value, size)
            self.total += size
            self._evict()
        memory.note()
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.total = 0

    def resize(self, limit: int) -> None:
        """Holds at most ``limit`` from now on (the least recently used entries go)."""
        with self._lock:
            self.limit = limit
            self._evict()

    def shrink(self, share: float) -> int:
        """Evict the least recently used entries down to ``share`` of the total held,
        and keep that as the cap; answers the total left."""
        with self._lock:
            bound = self.total * share
            while self.total > bound and self._entries:
                _, (_, old_size) = self._entries.popitem(last=False)
                self.total -= old_size
            self.cap = bound
            return self.total

    def relax(self, growth: float) -> None:
        """Let the cap grow by ``growth`` (none once it reaches the limit)."""
        with self._lock:
            if self.cap is not None:
                self.cap = max(self.cap, 1.0) * growth
                if self.cap >= self.limit:
                    self.cap = None

    def _evict(self) -> None:
        """Drop the least recently used entries while the total is over the limit (or
        the cap), the newest kept (called under the lock)."""
        bound = self.limit if self.cap is None else min(self.limit, self.cap)
        while self.total > bound and len(self._entries) > 1:
            _, (_, old_size) = self._entries.popitem(last=False)
            self.total -= old_size

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __iter__(self):
        """The keys, least recently used first (as they were when asked)."""
        with self._lock:
            return iter(list(self._entries))


# Every cache of the process, and the functions that empty the caches kept otherwise,
# for clear_all().
_CACHES: "weakref.WeakSet[BoundedCache]" = weakref.WeakSet()
_CLEARERS: list[Callable[[], None]] = []
# The settings the process-wide caches are sized by (configure()).
_settings = Settings()
_configure_lock = threading.Lock()


def configure(settings: Settings) -> None:
    """Size every process-wide cache by ``settings`` (the fields of the group ``caches``):
    caches over their new size drop their least recently used entries at once. The
    process's memory budget is taken from them too (:func:`search.memory.configure`)."""
    global _settings
    memory.configure(settings)
    with _configure_lock:
        _settings = settings
        for cache in list(_CACHES):
            if cache.setting is not None:
                cache.resize(getattr(settings, cache.setting))


def configured(setting: str) -> int:
    """The size the process-wide caches are given by ``setting`` (see :func:`configure`),
    for a cache that is no :class:`BoundedCache`."""
    return getattr(_settings, setting)


def sized_by(setting: str) -> list[BoundedCache]:
    """The process-wide caches sized by ``setting``."""
    return [cache for cache in list(_CACHES) if cache.setting == setting]


def on_clear(clear: Callable[[], None]) -> Callable[[], None]:
    """Registers ``clear`` (a function emptying a cache of its own) with :func:`clear_all`."""
    _CLEARERS.append(clear)
    return clear


_RELIEVERS: list[Callable[[], None]] = []


def on_pressure(relieve: Callable[[], None]) -> Callable[[], None]:
    """Registers ``relieve`` (a function emptying a cache kept otherwise than in a
    :class:`BoundedCache`, such as a dict of stems) with :func:`shrink_all`."""
    _RELIEVERS.append(relieve)
    return relieve


def shrink_all(share: float) -> int:
    """Every cache sheds down to ``share`` of what it holds (:meth:`BoundedCache.shrink`)
    and the caches registered with :func:`on_pressure` are emptied; answers the sum of
    what the bounded caches hold after."""
    held = sum(cache.shrink(share) for cache in list(_CACHES))
    for relieve in _RELIEVERS:
        relieve()
    return held


def relax_all(growth: float) -> None:
    """Every cache's cap grows by ``growth`` (:meth:`BoundedCache.relax`)."""
    for cache in list(_CACHES):
        cache.relax(growth)


def clear_all() -> None:
    """Empty every cache of decoded or derived index data in this process, as a process
    that has just opened the index has them (a benchmark does this between rounds)."""
    for cache in list(_CACHES):
        cache.clear()
    for clear in _CLEARERS:
        clear()
