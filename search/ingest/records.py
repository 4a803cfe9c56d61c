"""Record files: JSON Lines (plain or gzip) and CSV, read a record at a time.

The indexing process splits a record file into raw records (:func:`jsonl_records`,
:func:`csv_records`) without parsing them; worker processes turn each into an
article (:func:`json_record_article`, :func:`csv_row_article`). Nothing holds more
than one record whole, and one record is capped at ``max_file_bytes`` (the size
of the largest article a file may hold): a longer line is reported and skipped
in bounded steps. So a file's size never shows in memory.

A record's fields are found under the names :data:`ALIASES` lists, which include
those of news-please (``maintext``, ``date_publish``, ``source_domain``,
``authors``, ``description``); its one-article JSON files are read by the same
:func:`record_to_article`. A description that the text does not hold already
becomes its first paragraph: it is the teaser of a news article, and crawlers keep
it apart from the main text.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Iterator

from ..settings import Settings
from .articles import Article, Problem, Tally, Unreadable
from .clean import clean_text, first_sentence, parse_date
from .decoding import lines, size_text
from .language import normalise_lang
from .pages import Page, extract_page

MAX_ID_CHARS = 200

ALIASES = {
    "id": ("id", "doc_id", "guid", "_id"),
    "title": ("title", "header", "headline"),
    "text": ("text", "article", "body", "content", "maintext"),
    "date": ("date", "published", "published_at", "datetime", "day", "date_publish"),
    "url": ("url", "link"),
    "source": ("source", "publisher", "site", "source_domain"),
    "category": ("category", "section", "ressort"),
    "lang": ("lang", "language"),
    "authors": ("authors", "author", "byline"),
    "description": ("description", "teaser"),
}


# ---------------------------------------------------------------------------
# Splitting (the indexing process)


def jsonl_records(path: Path, settings: Settings) -> Iterator[tuple]:
    """``(record, bytes, position)``: each line as ``(number, text)`` (or a
    :class:`Problem` for a line over the limit), its size, and the bytes of the file
    read so far (of the compressed file for ``.gz``)."""
    if not path.name.lower().endswith(".gz"):
        with open(path, "rb", buffering=1 << 16) as stream:
            yield from _line_records(path, stream, stream, settings)
        return
    with open(path, "rb") as raw:
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                yield from _line_records(path, stream, raw, settings)
        except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
            raise Unreadable(f"broken gzip data: {error}")


def _line_records(path: Path, stream, raw, settings: Settings):
    for number, line in lines(stream, settings):
        if line is None:
            yield _too_long(path, number, settings), 0, raw.tell()
        elif line.strip():
            yield (number, line), len(line), raw.tell()


def _too_long(path: Path, number: int, settings: Settings) -> Problem:
    return Problem(str(path), f"record is larger than {size_text(settings.max_file_bytes)} "
                              f"(max_file_bytes: the largest article a file may hold)", line=number)


def csv_records(path: Path, settings: Settings) -> Iterator[tuple]:
    """``(record, bytes, position)`` for each row of a ``category;text`` CSV file: the row
    as ``(number, cells)``, or a :class:`Problem` for a malformed row."""
    csv.field_size_limit(max(settings.max_file_bytes, 131072))
    with open(path, "rb", buffering=1 << 16) as stream:
        too_long: list[int] = []

        def text_lines():
            for number, line in lines(stream, settings):
                if line is None:
                    too_long.append(number)
                    yield "\n"  # an empty row in its place; reported below
                else:
                    yield line

        reader = csv.reader(text_lines(), delimiter=";", quotechar="'")
        row_number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                row_number += 1
                yield Problem(str(path), f"malformed CSV row: {error}", line=row_number), 0, \
                    stream.tell()
                continue
            row_number += 1
            if too_long:
                too_long.clear()
                yield _too_long(path, row_number, settings), 0, stream.tell()
                continue
            if row and any(cell.strip() for cell in row):
                yield (row_number, row), sum(map(len, row)), stream.tell()


# ---------------------------------------------------------------------------
# Converting (the worker processes)


def file_id(path: Path, suffixes) -> str:
    stem = path.name
    for suffix in suffixes:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem[:MAX_ID_CHARS]


def json_record_article(path: Path, record, settings: Settings, tally: Tally,
                        stem: str) -> Article | Problem:
    number, line = record
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        return Problem(str(path), f"invalid JSON: {reason}", line=number)
    try:
        return record_to_article(data, f"{stem}:{number}", str(path), settings, tally)
    except ValueError as error:
        return Problem(str(path), str(error), line=number)


def csv_row_article(path: Path, record, settings: Settings, tally: Tally,
                    stem: str) -> Article | Problem:
    number, row = record
    if len(row) != 2:
        return Problem(str(path), f"expected 2 fields (category;text), got {len(row)}", line=number)
    category, text = clean_text(row[0]), clean_text(row[1])
    if not text:
        return Problem(str(path), "no text", line=number)
    return Article(id=f"{stem}:{number}", title=first_sentence(text, settings.title_max_chars),
                   text=text, category=category or None, origin=str(path))


def _pick(record: dict, name: str):
    for key in ALIASES[name]:
        value = record.get(key)
        if value is not None and value != "":
            return key, value
    return None, None


def _string_field(record: dict, name: str) -> str | None:
    key, value = _pick(record, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"field {key!r} must be a string, not {type(value).__name__}")
    return str(value).strip() or None


def _authors_field(record: dict) -> tuple[str, ...]:
    key, value = _pick(record, "authors")
    if value is None:
        return ()
    names = value if isinstance(value, list) else [value]
    if not all(isinstance(name, str) for name in names):
        raise ValueError(f"field {key!r} must be a string or a list of strings")
    found = []
    for name in (part for name in names for part in name.split(";")):
        name = clean_text(name)
        if name and name not in found:
            found.append(name)
    return tuple(found)


def record_to_article(record, fallback_id: str, origin: str, settings: Settings,
                      tally: Tally | None = None) -> Article:
    """One JSON record to an article; ``ValueError`` says what is wrong with it.

    A record with ``html`` instead of text is a web page: its main text and metadata are
    extracted as for an HTML file, and the record's own fields win over the page's.
    """
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    text = _string_field(record, "text")
    page = None
    if text:
        text = clean_text(text, paragraph_per_line=True)
    elif isinstance(record.get("html"), str):
        page = extract_page(record["html"], _string_field(record, "url"))
        if tally is not None:
            tally.pages += 1
        if isinstance(page, Page):
            text = page.text
        else:
            page = None
    elif record.get("html") is not None:
        raise ValueError("field 'html' must be a string")
    title = _string_field(record, "title")
    title = clean_text(title) if title else (page.title if page else None)
    description = _string_field(record, "description")
    if description and text:
        text = with_lead(clean_text(description), text)
    elif description:
        text = clean_text(description)
    if not text and not title:
        raise ValueError("no text")
    text = text or title
    article_id = _string_field(record, "id") or fallback_id
    return Article(
        id=clean_text(article_id)[:MAX_ID_CHARS] or fallback_id,
        title=title or first_sentence(text, settings.title_max_chars),
        text=text,
        date=parse_date(_string_field(record, "date")) or (page.date if page else None),
        lang=normalise_lang(_string_field(record, "lang")) or (page.lang if page else None),
        source=_optional_clean(_string_field(record, "source")) or (page.site_name if page else None),
        category=_optional_clean(_string_field(record, "category"))
        or (page.category if page else None),
        url=_string_field(record, "url") or (page.url if page else None),
        origin=origin,
        authors=_authors_field(record) or (page.authors if page else ()),
    )


def with_lead(lead: str, text: str) -> str:
    """``text`` with ``lead`` as its first paragraph, unless the text holds it already."""
    if not lead or " ".join(lead.split()).casefold() in " ".join(text.split()).casefold():
        return text
    return f"{lead}\n\n{text}"


def _optional_clean(value: str | None) -> str | None:
    return clean_text(value) or None if value else None
