"""The interfaces between the engine and a backend (and nothing else).

The engine asks a backend for a *session* — a consistent view of the index
for one call — and talks to it only through these methods; everything else
(parameter checks, query parsing, the "any" fallback, suggestions, snippets
and the result shape) stays in :class:`search.engine.Engine`, the same for
every backend.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..analysis.spelling import Vocabulary

if TYPE_CHECKING:
    from ..indexing import IndexReport


@dataclass
class Hits:
    """One page of a search and what is counted over all its matches."""

    total: int
    facets: dict
    items: list = field(default_factory=list)  # (stored fields, score) in rank order
    # Facets already counted without their own filter in the same pass (the engine
    # need not search again for them; see search.facets).
    facets_apart: frozenset = frozenset()
    # Collapsed on near-duplicate clusters (search.duplicates): the clusters among all
    # matches, and for each hit holding folded members, by its id: (how many matching
    # articles are folded into it, the stored fields of the first of them in rank order).
    stories: int | None = None
    folded: dict = field(default_factory=dict)
    # Only the first hits were asked for (``exact=False``): the total (and stories) may
    # then be a lower bound, flagged here, and the facets are not counted.
    estimate: bool = False


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

    def run(self, compiled, *, filters: dict, start: int, limit: int, sort: str,
            collapse: bool = False, exact: bool = True) -> Hits:
        """The hits from ``start`` to ``limit`` and what is counted over all matches;
        with ``exact=False`` only the hits are needed: facets are not counted and the
        total may be an estimate (``Hits.estimate``)."""

    def day_counts(self, compiled, *, filters: dict) -> dict[int, int]:
        """How many matches of ``compiled`` (every article when ``None``) fall on each day,
        counted from the index's date column: ``{YYYYMMDD: count}``. An article dated
        to a month only counts on day ``YYYYMM00``, one dated to a year on ``YYYY0000``;
        undated articles are not counted."""

    def stream(self, compiled, *, filters: dict, sort: str, batch: int):
        """Every match of ``compiled``, in the order of :meth:`run`, as lists of at most
        ``batch`` ``(stored fields, score)``: only one batch of articles is held at a
        time."""

    def term_positions(self, article_ids: list[str], terms) -> list[dict]:
        """Where the index terms ``terms`` stand in the title and the text of each article
        of ``article_ids``, read from the index: per article (in the order asked)
        ``{"title": {term: positions}, "text": {term: positions}}``, positions ascending
        and counted as :meth:`search.analysis.chains.LanguageChain.terms` numbers the
        terms of a field (0 is its first indexed word; stopwords take none); a term a
        field does not hold is left out, an article not in the index is ``{}``. The
        re-ranking features are computed from these (:mod:`search.ranking.features`)."""

    def document(self, article_id: str) -> dict | None: ...

    def cluster(self, article_id: str) -> tuple[str | None, list[dict]]:
        """The article's near-duplicate cluster id and its other members (stored fields)."""

    def more_like(self, article_id: str, n: int) -> list: ...  # (stored fields, score)

    def stats(self) -> dict: ...


class Backend(Protocol):
    name: str

    def session(self) -> AbstractContextManager[Session]: ...

    def warm(self) -> None: ...  # read ahead what every search reads (may do nothing)

    def close(self) -> None: ...


class Indexer(Protocol):
    """A backend's indexing function (``search.backends.BACKENDS`` names it)."""

    def __call__(self, paths, settings, *, rebuild: bool = False,
                 progress=None) -> "IndexReport": ...
