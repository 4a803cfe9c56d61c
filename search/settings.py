"""The one settings object of the engine: every tunable lives here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """How the engine reads, indexes and searches.

    Build one with ``Settings(index_dir=...)`` and change fields with
    :meth:`with_changes`; the web app and the CLI pass it down unchanged.
    """

    index_dir: Path = Path("index")

    # Reading the corpus
    max_file_bytes: int = 20 * 1024 * 1024
    encodings: tuple[str, ...] = ("utf-8", "cp1252")
    title_max_chars: int = 140
    lang_sample_chars: int = 1000
    default_lang: str = "de"

    # Indexing
    writer_memory_mb: int = 512
    writer_procs: int = 1
    index_workers: int = 0  # processes that read and analyse articles; 0: one per core
    # The fast paths (segment builder, column facets, cached snippets); False runs
    # the plain Whoosh paths, which give the same results (see tests/test_perf_equivalence.py).
    fast_paths: bool = True

    # Ranking
    title_boost: float = 2.5
    bm25_b: float = 0.75
    bm25_k1: float = 1.2
    parts_boost: float = 0.3  # a match inside a compound, against 1.0 for the word itself
    any_mode_power: float = 2.0  # any mode: score × (share of the query's IDF a hit holds) ** power
    any_mode_title_boost: float = 2.5  # the title's weight in any mode
    # Plain word queries: each query word a hit holds as typed multiplies its score by
    # 1 + exact_form_boost, among the first exact_form_depth hits (search.exactness).
    exact_form_boost: float = 0.1
    exact_form_depth: int = 30

    # Searching
    per_page: int = 10
    max_per_page: int = 100
    max_page: int = 1000
    max_query_chars: int = 1000
    any_mode_min_terms: int = 3

    # Snippets
    snippet_fragments: int = 3
    snippet_context_chars: int = 90
    snippet_lead_chars: int = 240

    # Suggestions ("Meinten Sie")
    suggest_below_hits: int = 3
    suggest_max_edits: int = 2
    suggest_min_word_count: int = 2

    # Backend: None picks Whoosh for an index folder and Xapian for a cluster folder or
    # remote shards; "whoosh" or "xapian" force one (see search.backends).
    backend: str | None = None
    # Xapian shards served by xapian-tcpsrv: "host:port,host:port" (one per shard;
    # "host:port|host:port" names a shard's primary and its replicas, tried in order).
    remote: str | None = None

    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "index_dir", Path(self.index_dir))

    def with_changes(self, **changes) -> "Settings":
        return replace(self, **changes)
