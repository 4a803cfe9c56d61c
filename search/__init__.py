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
- :mod:`.settings`: every tunable, with its default and help.
"""

from .backends.xapian import serve as shard_tools
from .engine import Engine, InvalidParameter
from .evaluation import (EvaluationInputError, evaluate, format_report, read_qrels,
                         read_queries, write_run)
from .indexing import IndexReport, InvalidSetting, index_paths
from .ingest import Article, Problem
from .processes import end_with_parent, run_in_group
from .results import SearchResult
from .settings import Settings
from .storage import IndexBusy, IndexMissing

__all__ = [
    "Article", "Engine", "EvaluationInputError", "IndexBusy", "IndexMissing", "IndexReport",
    "InvalidParameter", "InvalidSetting", "Problem", "SearchResult", "Settings", "end_with_parent",
    "evaluate",
    "format_report", "index_paths", "read_qrels", "read_queries", "run_in_group", "shard_tools",
    "write_run",
]
