"""newssearch's engine: corpus → clean → analyse → index → query → results.

The public API, used by the CLI, the web app and the JSON endpoint alike:

    from search import Engine, Settings, index_paths
"""

from .corpus import Article, Problem
from .engine import Engine, InvalidParameter
from .indexing import IndexReport, index_paths
from .results import SearchResult
from .settings import Settings
from .storage import IndexBusy, IndexMissing

__all__ = [
    "Article", "Engine", "IndexBusy", "IndexMissing", "IndexReport", "InvalidParameter",
    "Problem", "SearchResult", "Settings", "index_paths",
]
