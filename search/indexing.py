"""Indexing: files and folders into the index the settings name, on either backend.

:func:`index_paths` is the one entry point: the CLI, the web server's first
start and the Python API all call it. It picks the backend (the settings'
``backend``; else Xapian when the folder holds a cluster or ``shards`` are
asked for, Whoosh otherwise) and hands the run to that backend's indexer.
Both indexers are incremental in the same way (:mod:`search.tracking`): they
re-read only files whose size or modification time changed, add new articles,
replace changed ones (by id and :func:`checksum`), remove those whose files
disappeared from the given paths, and report what they did in an
:class:`IndexReport`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .ingest import Article, Problem, Tally
from .settings import Settings


class InvalidSetting(ValueError):
    """Settings that cannot go together (shards on the Whoosh backend, say)."""


@dataclass
class IndexReport:
    """What one run of the indexer did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    documents: int = 0
    generation: str | None = None
    rebuilt: bool = False
    pages: int = 0  # web pages extracted (HTML files, WARC responses, records with html)
    # Records that are not articles by nature, by kind (WARC requests, redirects, PDFs …).
    passed: dict = field(default_factory=dict)

    def count(self, tally: Tally) -> None:
        """Add what a part of a file counted besides articles and problems."""
        self.pages += tally.pages
        for kind, number in tally.passed.items():
            self.passed[kind] = self.passed.get(kind, 0) + number

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    @property
    def docs_per_second(self) -> float:
        return (self.added + self.updated) / self.seconds if self.seconds else 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> bool:
        """Every input failed: nothing indexed and nothing already there."""
        return self.added + self.updated + self.unchanged + self.removed == 0

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "skipped": len(self.problems),
            "problems": [
                {"path": p.path, "line": p.line, "reason": p.reason} for p in self.problems
            ],
            "documents": self.documents, "seconds": round(self.seconds, 3),
            "docs_per_second": round(self.docs_per_second, 1),
            "pages": self.pages, "pages_per_second": round(self.pages_per_second, 1),
            "passed": dict(self.passed),
            "generation": self.generation, "rebuilt": self.rebuilt,
        }


def checksum(article: Article) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for value in (article.id, article.title, article.text, article.date and article.date.iso,
                  article.lang, article.source, article.category, article.url):
        digest.update((value or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    if article.authors:  # only then: the checksums of articles without authors stay as they were
        digest.update("\x1e".join(article.authors).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()




def index_paths(paths, settings: Settings, *, rebuild: bool = False, progress=None) -> IndexReport:
    """Index the files and folders ``paths`` into ``settings.index_dir``.

    ``progress`` is a callable taking ``(bytes_done, bytes_total)`` or ``None``.
    Raises :class:`storage.IndexBusy` when another indexer holds the folder and
    :class:`InvalidSetting` when the settings ask for what the folder or the
    backend cannot do.
    """
    from .backends import indexer_for

    return indexer_for(settings)(paths, settings, rebuild=rebuild, progress=progress)
