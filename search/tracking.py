"""Change tracking: which files were read, what they held, and what changed since.

Both indexers are incremental in the same way, through a :class:`FileTable`
kept with the index (in the Whoosh generation's metadata, in a Xapian
cluster's ``files.json``):

- each file read is recorded by its absolute path with its *fingerprint*
  (size and modification time) and the ids of the articles it held; a run
  re-reads only files whose fingerprint changed (:meth:`FileTable.plan`);
- every article id has one *owner* file. An article that moves to another
  file is claimed by it (:meth:`FileUpdate.claim`), so removing the old file
  later does not remove the article;
- ids of articles that a re-read file no longer holds, and of every article
  of a file that disappeared from the given paths (:meth:`FileTable.vanished`),
  are handed back for removal;
- files holding one article each (HTML, text) name it after the file; the
  same name in two folders gives the later file a longer id
  (:meth:`FileUpdate.article_id`);
- a file that could not be read whole (skipped, or broken part way) keeps the
  ids it gave but not its fingerprint, so the next run reads it again instead
  of taking it for unchanged (:meth:`FileUpdate.finish`).

What an indexer does with an article (add, replace, leave alone) is its own
business; which articles and files changed is decided here, once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .ingest import RECORD_SUFFIXES, Problem, find_files


def fingerprint(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def inside(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


@dataclass
class PlannedFile:
    """One file of a run: to read, or unchanged since it was last read."""

    path: Path
    key: str  # the absolute path: the file's name in the table
    fingerprint: list[int]
    unchanged: bool
    size: int


@dataclass
class Plan:
    files: list[PlannedFile]
    problems: list[Problem]  # files that cannot even be looked at
    total_bytes: int


class FileTable:
    """The files read so far: ``{path: {"fingerprint": [size, mtime_ns], "ids": [...]}}``."""

    def __init__(self, files: dict | None = None):
        self.files: dict = files if files is not None else {}
        self.owners = {i: path for path, entry in self.files.items() for i in entry["ids"]}
        self.fresh: set[str] = set()  # the files of this run

    def plan(self, paths, *, full: bool) -> Plan:
        """The files below ``paths``, each marked unchanged when its fingerprint is
        (never with ``full``: a rebuild reads everything)."""
        found = list(find_files(paths))
        problems = [f for f in found if isinstance(f, Problem)]
        planned = []
        total = 0
        for path in (f for f in found if isinstance(f, Path)):
            key = os.path.abspath(path)
            try:
                print_ = fingerprint(path)
            except OSError as error:
                problems.append(Problem(str(path), f"cannot read: {error.strerror or error}"))
                continue
            entry = self.files.get(key)
            unchanged = bool(not full and entry and entry["fingerprint"] == print_)
            planned.append(PlannedFile(path, key, print_, unchanged, print_[0]))
            total += print_[0]
            self.fresh.add(key)
        return Plan(planned, problems, total)

    def articles_in(self, key: str) -> int:
        return len(self.files.get(key, {}).get("ids", ()))

    def begin(self, planned: PlannedFile) -> "FileUpdate":
        """The bookkeeping of one file being read again."""
        return FileUpdate(self, planned)

    def vanished(self, paths) -> list[str]:
        """Ids of the articles of files below ``paths`` that this run did not see; the
        files are forgotten."""
        roots = [os.path.abspath(p) for p in paths]
        gone = []
        for key in list(self.files):
            if inside(key, roots) and key not in self.fresh:
                for article_id in self.files[key]["ids"]:
                    if self.owners.get(article_id) == key:
                        gone.append(article_id)
                        self.owners.pop(article_id, None)
                del self.files[key]
        return gone


class FileUpdate:
    """One file read again: the ids it holds now, the ones it no longer holds."""

    def __init__(self, table: FileTable, planned: PlannedFile):
        self.table = table
        self.key = planned.key
        self.fingerprint = planned.fingerprint
        self.named = not planned.path.name.lower().endswith(RECORD_SUFFIXES)
        self.old_ids = set(table.files.get(self.key, {}).get("ids", ()))
        self.ids: list[str] = []
        self.seen: set[str] = set()

    def article_id(self, article_id: str) -> str:
        """The id the article gets: for a file named article, unique across folders."""
        if not self.named:
            return article_id
        owners, key = self.table.owners, self.key
        owner = owners.get(article_id)
        if owner is None or owner == key or (owner not in self.table.fresh
                                             and not os.path.exists(owner)):
            return article_id
        parent = Path(key).parent.name
        candidate = f"{parent}-{article_id}" if parent else article_id
        if owners.get(candidate, key) == key:
            return candidate
        return f"{article_id}-{hashlib.blake2b(key.encode(), digest_size=4).hexdigest()}"

    def owner(self, article_id: str) -> str | None:
        return self.table.owners.get(article_id)

    def holds_again(self, article_id: str) -> bool:
        """True when the article was seen before in this same file during this read."""
        return article_id in self.seen

    def claim(self, article_id: str) -> None:
        """The article is in this file now (taken from the file that held it before)."""
        table = self.table
        owner = table.owners.get(article_id)
        if owner and owner != self.key and owner in table.files:
            entry = table.files[owner]
            entry["ids"] = [i for i in entry["ids"] if i != article_id]
        table.owners[article_id] = self.key
        if article_id not in self.seen:
            self.seen.add(article_id)
            self.ids.append(article_id)

    def finish(self, complete: bool = True) -> list[str]:
        """Record the file; the ids it held before and no longer holds (to remove).

        A file not read ``complete`` (a problem with the file as a whole: too large,
        binary, broken part way) is recorded without its fingerprint: the next run
        tries it again.
        """
        table = self.table
        gone = []
        for article_id in self.old_ids - self.seen:
            if table.owners.get(article_id) == self.key:
                gone.append(article_id)
                table.owners.pop(article_id, None)
        table.files[self.key] = {"fingerprint": self.fingerprint if complete else None,
                                 "ids": self.ids}
        return gone
