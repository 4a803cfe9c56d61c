"""What reading a corpus yields: articles, problems, tallies, and the parts files are read in.

Reading never raises on bad input; each thing read is one of:

- :class:`Article`: one article, cleaned, before analysis;
- :class:`Problem`: a file, line, row or record that was skipped, and why (listed to the
  user one by one);
- :class:`Tally`: what a part of a file held besides articles: web pages extracted, and
  records that are not articles by nature (a WARC file's requests, redirects, PDFs),
  counted by kind and summed into the run's report, never listed one by one.

A :class:`Part` is a unit of reading work: a whole one-article file, or a run of raw
records of a record file (JSON Lines, CSV, WARC) that the indexing process split off,
so that worker processes convert and analyse it while memory stays bounded whatever
the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .clean import ArticleDate


@dataclass
class Article:
    """One article as read from the corpus, cleaned, before analysis."""

    id: str
    title: str
    text: str
    date: ArticleDate | None = None
    lang: str | None = None  # the record's own language, if it names one
    source: str | None = None
    category: str | None = None
    url: str | None = None
    origin: str = ""  # the file it came from
    authors: tuple[str, ...] = ()


@dataclass
class Problem:
    """A file, line or record that was skipped, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class Tally:
    """Counts of a part of a file: web pages extracted, records passed over by kind."""

    path: str
    pages: int = 0
    passed: dict[str, int] = field(default_factory=dict)


@dataclass
class Part:
    """A piece of reading work on one file.

    ``kind`` is ``"file"`` for a one-article file, read whole where the part is
    converted; else the record format, and ``records`` the raw records (and any
    :class:`Problem` met while splitting them off, in file order). ``end`` is how many
    bytes of the file lie behind this part (progress), ``last`` marks the file's last part.
    """

    path: Path
    kind: str
    records: list
    end: int
    last: bool


class Unreadable(Exception):
    """A whole file cannot be read; the message is the reason shown to the user."""
