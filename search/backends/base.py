"""The interface between the engine and a backend.

The engine asks a backend for a *session* — a consistent view of the index
for one call — and talks to it only through these methods; everything else
(parameter checks, query parsing, the "any" fallback, suggestions, snippets
and the result shape) stays in :class:`search.engine.Engine`, the same for
every backend.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from ..spelling import Vocabulary


@dataclass
class Hits:
    """One page of a search and what is counted over all its matches."""

    total: int
    facets: dict
    items: list = field(default_factory=list)  # (stored fields, score) in rank order


class Session(Protocol):
    langs: tuple  # the languages of the index that have a stemmer ("de" when none)

    @property
    def vocabulary(self) -> Vocabulary: ...

    @property
    def shards(self) -> dict | None:
        """``{"total": n, "answered": k}`` on a sharded backend, else ``None``."""

    def compile(self, tree): ...  # a backend query, or None when nothing is searchable

    def any_of(self, tree): ...  # the ranked-OR reading of a plain word query

    def highlight_terms(self, compiled) -> frozenset: ...

    def run(self, compiled, *, filters: dict, start: int, limit: int, sort: str) -> Hits: ...

    def document(self, article_id: str) -> dict | None: ...

    def more_like(self, article_id: str, n: int) -> list: ...  # (stored fields, score)

    def stats(self) -> dict: ...


class Backend(Protocol):
    name: str

    def session(self) -> AbstractContextManager[Session]: ...

    def close(self) -> None: ...


def open_backend(settings) -> Backend:
    """The backend ``settings`` ask for.

    ``settings.backend`` ``"xapian"`` or ``"whoosh"`` decide; without it
    (``None``), remote shards or a cluster folder mean Xapian, anything else
    Whoosh.
    """
    name = getattr(settings, "backend", None)
    remote = getattr(settings, "remote", None)
    if name is None:
        from .layout import read_cluster

        name = "xapian" if remote or read_cluster(settings.index_dir) is not None else "whoosh"
    if name == "xapian":
        try:
            from .xapian_cluster import XapianBackend
        except ImportError as error:  # the optional bindings are missing
            raise RuntimeError("the Xapian backend needs the Xapian bindings: "
                               "pip install 'newssearch[xapian]'") from error
        return XapianBackend(settings)
    if name == "whoosh":
        from .whoosh import WhooshBackend

        return WhooshBackend(settings)
    raise ValueError(f"unknown backend {name!r}: use 'whoosh' or 'xapian'")
