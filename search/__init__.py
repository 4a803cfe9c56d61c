"""newssearch's engine: corpus → clean → analyse → index → query → results.

The public API, used by the CLI, the web app and the JSON endpoint alike (they
import nothing else from this package):

    from search import Engine, Settings, index_paths

How the package is laid out (each concept in one place, each engine behind
its own door):

- :mod:`.ingest`: files and folders → cleaned :class:`Article` records.
- :mod:`.analysis`: words → index terms per language; compounds; the
  spelling vocabulary.
- :mod:`.query`: the query language → a backend-neutral tree, and the
  planning rules both backends share.
- :mod:`.ranking`: ranking rules both backends share (words as typed,
  related-article terms, field-length scale).
- :mod:`.highlight`, :mod:`.results`, :mod:`.facets`: what a hit and a
  result look like.
- :mod:`.indexing`, :mod:`.tracking`, :mod:`.storage`: incremental indexing,
  change tracking, index folders on disk.
- :mod:`.engine`: :class:`Engine`, the one entry point for searching.
- :mod:`.backends`: the registry, the interfaces, and one package per engine
  (:mod:`.backends.whoosh`, :mod:`.backends.xapian`).
- :mod:`.trends`, :mod:`.kwic`, :mod:`.export`: for those who study the news —
  matches per interval against all articles then, every occurrence in its
  context, every hit as CSV or JSON Lines (``Engine.trends``, ``Engine.kwic``,
  ``Engine.export``).
- :mod:`.settings`: every tunable, with its default and help.
"""

from .backends.xapian import serve as shard_tools
from .engine import Engine, InvalidParameter
from .export import COLUMNS as EXPORT_COLUMNS
from .export import FORMATS as EXPORT_FORMATS
from .export import MEDIA_TYPES as EXPORT_MEDIA_TYPES
from .export import Export
from .evaluation import (EvaluationInputError, evaluate, format_report, read_qrels,
                         read_queries, write_run)
from .indexing import IndexReport, InvalidSetting, index_paths
from .kwic import SORTS as KWIC_SORTS
from .ingest import Article, Problem
from .processes import end_with_parent, run_in_group
from .results import SearchResult
from .settings import Settings
from .storage import IndexBusy, IndexMissing
from .trends import INTERVALS as TREND_INTERVALS
from .trends import to_csv as trends_csv

__all__ = [
    "Article", "EXPORT_COLUMNS", "EXPORT_FORMATS", "EXPORT_MEDIA_TYPES", "Engine",
    "EvaluationInputError", "Export", "IndexBusy", "IndexMissing", "IndexReport",
    "InvalidParameter", "InvalidSetting", "KWIC_SORTS", "Problem", "SearchResult", "Settings",
    "TREND_INTERVALS", "end_with_parent", "evaluate", "format_report", "index_paths",
    "read_qrels", "read_queries", "run_in_group", "shard_tools", "trends_csv", "write_run",
]
