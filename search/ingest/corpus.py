"""Reading a corpus: files and folders of articles in every accepted format.

``find_files`` walks the given paths; ``read_file`` turns one file into
:class:`Article` records, :class:`Problem` reports and :class:`Tally` counts.
Nothing here raises on bad input: a file, line or record that cannot be read
becomes a ``Problem``.

Two kinds of file:

- **one-article files** (``.txt``, ``.html``/``.htm``, ``.json`` as news-please
  writes them) are read whole; ``max_file_bytes`` caps them, since one article
  that large is not an article;
- **record files** (``.jsonl``, ``.jsonl.gz``, ``.csv``, ``.warc``, ``.warc.gz``)
  hold any number of articles and have no size cap: they are streamed a record at
  a time.

Reading is split in two so that worker processes do the costly part:
:func:`file_parts` (run by the indexing process) cuts a record file into
:class:`Part` s of about ``read_part_bytes`` of raw records without parsing them;
:func:`read_part` (run by a worker) turns a part into articles — JSON parsing,
cleaning, and the extraction of web pages. A one-article file is one part that the
worker reads itself. ``read_file`` is the two in a row, in one process.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterator

from ..settings import Settings
from .articles import Article, Part, Problem, Tally, Unreadable
from .clean import clean_text, first_sentence, parse_date
from .decoding import decode, size_text
from .pages import Page, extract_page
from .records import (MAX_ID_CHARS, csv_records, csv_row_article, file_id,
                      json_record_article, jsonl_records, record_to_article)
from .warc import warc_page_article, warc_records

# Files that hold many articles, each with an id of its own, streamed; any other file
# holds one article named after the file.
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".csv", ".warc", ".warc.gz")
ONE_ARTICLE_SUFFIXES = (".txt", ".html", ".htm", ".json")
SUFFIXES = ONE_ARTICLE_SUFFIXES + RECORD_SUFFIXES

_SEED_NAME = re.compile(r"^\d+_([0-9a-fA-F]{16})$")
_SEED_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2})(?:\s+|$)")


def has_supported_suffix(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def is_record_file(path: Path) -> bool:
    return path.name.lower().endswith(RECORD_SUFFIXES)


def find_files(paths) -> Iterator[Path | Problem]:
    """Every file below ``paths`` in a stable order, each real file once.

    Links to folders are not followed (no loops); links to files are. Files of
    other types are reported as problems; hidden files and folders are passed over.
    """
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            yield Problem(str(path), "no such file or folder")
            continue
        if path.is_file():
            yield from _accept(path, seen, explicit=True)
            continue
        for root, dirs, files in os.walk(path, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    yield from _accept(Path(root) / name, seen, explicit=False)


def _accept(path: Path, seen: set[str], explicit: bool):
    try:
        real = os.path.realpath(path)
        if not os.path.isfile(real):
            yield Problem(str(path), "broken link or not a regular file")
            return
    except OSError as error:
        yield Problem(str(path), f"cannot resolve: {error.strerror or error}")
        return
    if real in seen:
        return
    seen.add(real)
    if not explicit and is_documentation(path):
        return
    if not has_supported_suffix(path):
        yield Problem(str(path), f"unsupported file type {''.join(path.suffixes) or '(none)'}")
        return
    yield path


# A corpus folder's own documentation (README.TXT, SOURCE.md, LICENSE ...): not articles.
DOCUMENTATION_NAMES = frozenset({"readme", "source", "license", "licence", "copying", "notice",
                                 "changelog", "authors"})


def is_documentation(path: Path) -> bool:
    """A file met while walking a folder that documents the corpus, whatever its suffix."""
    return path.name.split(".", 1)[0].lower() in DOCUMENTATION_NAMES


def read_file(path: Path, settings: Settings) -> Iterator[Article | Problem | Tally]:
    """The articles of one file, with a ``Problem`` for whatever is skipped."""
    for part in file_parts(path, settings):
        yield from read_part(part, settings)


# ---------------------------------------------------------------------------
# Parts: split off by the indexing process, read by a worker


_RECORD_READERS = {"jsonl": jsonl_records, "csv": csv_records, "warc": warc_records}
_CONVERTERS = {"jsonl": json_record_article, "csv": csv_row_article, "warc": warc_page_article}


def _record_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    return "csv" if name.endswith(".csv") else "warc"


def file_parts(path: Path, settings: Settings) -> Iterator[Part]:
    """One file as parts: a one-article file whole, a record file in runs of raw records
    of about ``read_part_bytes`` each (the last part may be empty)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        yield Part(path, "file", [Problem(str(path), f"cannot read: {error.strerror or error}")],
                   0, True)
        return
    if not is_record_file(path):
        yield Part(path, "file", [], size, True)
        return
    kind = _record_kind(path)
    records: list = []
    buffered = 0
    try:
        if size == 0:
            raise Unreadable("empty file")
        for record, length, position in _RECORD_READERS[kind](path, settings):
            records.append(record)
            buffered += length
            if buffered >= settings.read_part_bytes:
                yield Part(path, kind, records, min(position, size), False)
                records, buffered = [], 0
    except Unreadable as error:
        records.append(Problem(str(path), str(error)))
    except OSError as error:
        records.append(Problem(str(path), f"cannot read: {error.strerror or error}"))
    except Exception as error:  # a reader bug must not stop the run
        records.append(Problem(str(path), f"cannot parse: {type(error).__name__}: {error}"))
    yield Part(path, kind, records, size, True)


def read_part(part: Part, settings: Settings) -> list[Article | Problem | Tally]:
    """The articles of one part, in file order (run in a worker process)."""
    if part.kind == "file":
        items = part.records or list(_read_one_article_file(part.path, settings))
        return [_replace_lone_surrogates(item) for item in items]
    convert = _CONVERTERS[part.kind]
    tally = Tally(str(part.path))
    stem = _file_id(part.path)
    items = []
    for record in part.records:
        if isinstance(record, (Problem, Tally)):
            items.append(record)
            continue
        try:
            item = convert(part.path, record, settings, tally, stem)
        except RecursionError:
            item = Problem(str(part.path), "record is nested too deeply", line=record_number(record))
        except Exception as error:  # a reader bug must not stop the run
            item = Problem(str(part.path), f"cannot parse: {type(error).__name__}: {error}",
                           line=record_number(record))
        items.append(_replace_lone_surrogates(item))
    if tally.pages or tally.passed:
        items.append(tally)
    return items


def record_number(record) -> int | None:
    number = getattr(record, "number", None)
    if number is None and isinstance(record, tuple):
        number = record[0]
    return number if isinstance(number, int) else None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_lone_surrogates(item):
    """Lone surrogates (JSON escapes like ``\\ud800``, undecodable file names) are not text:
    they cannot be written to the index, so they become U+FFFD."""
    if not isinstance(item, Article):
        return item
    for name in ("id", "title", "text", "lang", "source", "category", "url"):
        value = getattr(item, name)
        if isinstance(value, str) and not _encodes(value):
            setattr(item, name, _LONE_SURROGATE.sub("\ufffd", value))
    if not all(_encodes(name) for name in item.authors):
        item.authors = tuple(_LONE_SURROGATE.sub("\ufffd", name) for name in item.authors)
    return item


def _encodes(value: str) -> bool:
    """True when ``value`` holds no lone surrogate: UTF-8 encodes every other character
    (and is several times faster than searching a long text for the surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------------------
# One-article files


def _read_one_article_file(path: Path, settings: Settings) -> Iterator[Article | Problem | Tally]:
    name = path.name.lower()
    try:
        size = path.stat().st_size
        if size == 0:
            raise Unreadable("empty file")
        if size > settings.max_file_bytes:
            raise Unreadable(
                f"file is larger than {size_text(settings.max_file_bytes)} ({size} bytes; "
                f"max_file_bytes: a one-article file is read whole, and one article that "
                f"large is not an article)")
        if name.endswith((".html", ".htm")):
            data = path.read_bytes()
            decode(data, settings)  # binary data is refused as for any text file
            yield _read_html(path, data, settings)
            yield Tally(str(path), pages=1)
        elif name.endswith(".json"):
            yield from _read_json(path, decode(path.read_bytes(), settings), settings)
        else:
            yield _read_txt(path, decode(path.read_bytes(), settings), settings)
    except Unreadable as error:
        yield Problem(str(path), str(error))
    except OSError as error:
        yield Problem(str(path), f"cannot read: {error.strerror or error}")
    except RecursionError:
        yield Problem(str(path), "document is nested too deeply")
    except Exception as error:  # a reader bug must not stop the run
        yield Problem(str(path), f"cannot parse: {type(error).__name__}: {error}")


def _file_id(path: Path) -> str:
    stem = file_id(path, SUFFIXES)
    match = _SEED_NAME.match(stem)
    return (match.group(1).lower() if match else stem)[:MAX_ID_CHARS]


def _read_txt(path: Path, raw: str, settings: Settings) -> Article | Problem:
    header = _SEED_HEADER.match(raw)
    date = None
    title = None
    if header:
        date = parse_date(header.group(1))
        raw = raw[header.end():]
    else:
        head, sep, rest = raw.lstrip().partition("\n")
        if sep and len(head.strip()) <= settings.title_max_chars and rest.startswith(("\n", "\r\n")):
            title = clean_text(head)
            raw = rest
    text = clean_text(raw)
    if not text and not title:
        return Problem(str(path), "no text")
    return Article(
        id=_file_id(path),
        title=title or first_sentence(text, settings.title_max_chars),
        text=text,
        date=date,
        origin=str(path),
    )


def _read_html(path: Path, data: bytes, settings: Settings) -> Article | Problem:
    page = extract_page(data)
    if not isinstance(page, Page):
        return Problem(str(path), page.reason)
    return page.article(id=_file_id(path), url=page.url, origin=str(path),
                        title_max_chars=settings.title_max_chars)


def _read_json(path: Path, raw: str, settings: Settings):
    """A one-article JSON file, as news-please writes them (the record names of
    :mod:`.records`); its id is the file's name, as for every one-article file."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        yield Problem(str(path), f"invalid JSON: {error.msg}")
        return
    tally = Tally(str(path))
    try:
        article = record_to_article(record, _file_id(path), str(path), settings, tally)
    except ValueError as error:
        yield Problem(str(path), str(error))
        return
    article.id = _file_id(path)
    yield article
    if tally.pages:
        yield tally
