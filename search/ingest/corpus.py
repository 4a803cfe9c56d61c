"""Reading a corpus: files and folders of articles in every accepted format.

``find_files`` walks the given paths; ``read_file`` turns one file into
:class:`Article` records and :class:`Problem` reports. Nothing here raises on
bad input: a file or line that cannot be read becomes a ``Problem``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .clean import ArticleDate, clean_text, first_sentence, html_text, parse_date, parse_html
from .language import normalise_lang
from ..settings import Settings

SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".jsonl.gz", ".csv")

_SEED_NAME = re.compile(r"^\d+_([0-9a-fA-F]{16})$")
_SEED_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2})(?:\s+|$)")
_MAX_ID_CHARS = 200

ALIASES = {
    "id": ("id", "doc_id", "guid", "_id"),
    "title": ("title", "header", "headline"),
    "text": ("text", "article", "body", "content"),
    "date": ("date", "published", "published_at", "datetime", "day"),
    "url": ("url", "link"),
    "source": ("source", "publisher", "site"),
    "category": ("category", "section", "ressort"),
    "lang": ("lang", "language"),
}


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


@dataclass
class Problem:
    """A file, line or row that was skipped, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


class Unreadable(Exception):
    """A whole file cannot be read; the message is the reason shown to the user."""


def has_supported_suffix(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


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


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def read_file(path: Path, settings: Settings) -> Iterator[Article | Problem]:
    """The articles of one file, with a ``Problem`` for whatever is skipped."""
    for item in _read_file(path, settings):
        if isinstance(item, Article):
            _replace_lone_surrogates(item)
        yield item


def _replace_lone_surrogates(article: Article) -> None:
    """Lone surrogates (JSON escapes like ``\\ud800``, undecodable file names) are not text:
    they cannot be written to the index, so they become U+FFFD."""
    for name in ("id", "title", "text", "lang", "source", "category", "url"):
        value = getattr(article, name)
        if isinstance(value, str) and not _encodes(value):
            setattr(article, name, _LONE_SURROGATE.sub("\ufffd", value))


def _encodes(value: str) -> bool:
    """True when ``value`` holds no lone surrogate: UTF-8 encodes every other character
    (and is several times faster than searching a long text for the surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_file(path: Path, settings: Settings) -> Iterator[Article | Problem]:
    name = path.name.lower()
    try:
        size = path.stat().st_size
        if size == 0:
            raise Unreadable("empty file")
        if size > settings.max_file_bytes:
            raise Unreadable(
                f"file is larger than {_size_text(settings.max_file_bytes)} ({size} bytes)")
        if name.endswith(".jsonl.gz"):
            yield from _read_jsonl(path, _gunzip_lines(path, settings), settings)
        elif name.endswith(".jsonl"):
            yield from _read_jsonl(path, decode(path.read_bytes(), settings).split("\n"), settings)
        elif name.endswith(".csv"):
            yield from _read_csv(path, decode(path.read_bytes(), settings), settings)
        elif name.endswith((".html", ".htm")):
            yield _read_html(path, decode(path.read_bytes(), settings), settings)
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


# ---------------------------------------------------------------------------
# Decoding

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def _size_text(size: int) -> str:
    """``20 MB``, ``512 KB`` or ``300 bytes``: a size limit as a reader would write it."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit:
            return f"{size / unit:.3g} {name}"
    return f"{size} bytes"


def decode(data: bytes, settings: Settings) -> str:
    """Bytes to text: a BOM decides, else UTF-8, then cp1252; binary is refused.

    A file cut off in the middle of a character (a truncated download or copy)
    loses only that last character.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _refuse_binary(_decode_cut(data, encoding))
            except UnicodeDecodeError:
                raise Unreadable(f"not valid {encoding.upper()} despite its byte order mark")
    if b"\x00" in data[:65536]:
        raise Unreadable("binary file (contains NUL bytes)")
    for encoding in settings.encodings:
        try:
            return _refuse_binary(_decode_cut(data, encoding))
        except UnicodeDecodeError:
            continue
    raise Unreadable("not valid text in " + " or ".join(settings.encodings))


def _decode_cut(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if error.end == len(data) and len(data) - error.start < 4 and \
                error.reason in ("unexpected end of data", "truncated data"):
            return data[:error.start].decode(encoding)
        raise


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def _refuse_binary(text: str) -> str:
    sample = text[:65536]
    if sample and len(_CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 50):
        raise Unreadable("binary file (too many control characters)")
    return text


def _gunzip_lines(path: Path, settings: Settings):
    limit = settings.max_file_bytes * 10
    total = 0
    try:
        with gzip.open(path, "rb") as handle:
            while True:
                # Bounded reads: a compressed run of bytes without a line break (a gzip
                # bomb) must not be read whole into memory.
                raw = handle.readline(limit - total + 1)
                if not raw:
                    break
                total += len(raw)
                if total > limit:
                    raise Unreadable(f"decompressed data exceeds {limit // (1024 * 1024)} MB")
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield raw.decode("cp1252", errors="replace")
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise Unreadable(f"broken gzip data: {error}")


# ---------------------------------------------------------------------------
# Formats


def _file_id(path: Path) -> str:
    stem = path.name
    for suffix in (".jsonl.gz", ".jsonl", ".html", ".htm", ".txt", ".csv"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    match = _SEED_NAME.match(stem)
    return (match.group(1).lower() if match else stem)[:_MAX_ID_CHARS]


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


def _read_html(path: Path, raw: str, settings: Settings) -> Article | Problem:
    page = parse_html(raw)
    if not page.text:
        return Problem(str(path), "no text in the page")
    return Article(
        id=_file_id(path),
        title=page.title or first_sentence(page.text, settings.title_max_chars),
        text=page.text,
        date=parse_date(page.date),
        lang=normalise_lang(page.lang),
        source=page.source,
        category=page.category,
        url=page.url,
        origin=str(path),
    )


def _pick(record: dict, name: str):
    for key in ALIASES[name]:
        value = record.get(key)
        if value is not None and value != "":
            return key, value
    return None, None


def _string_field(record: dict, name: str, where: str) -> str | None:
    key, value = _pick(record, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"field {key!r} must be a string, not {type(value).__name__}")
    return str(value).strip() or None


def record_to_article(record, fallback_id: str, origin: str, settings: Settings) -> Article:
    """One JSON record to an article; ``ValueError`` says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    where = origin
    text = _string_field(record, "text", where)
    if text:
        text = clean_text(text, paragraph_per_line=True)
    elif isinstance(record.get("html"), str):
        text = html_text(record["html"])
    elif record.get("html") is not None:
        raise ValueError("field 'html' must be a string")
    title = _string_field(record, "title", where)
    title = clean_text(title) if title else None
    if not text and not title:
        raise ValueError("no text")
    text = text or title
    article_id = _string_field(record, "id", where) or fallback_id
    date_value = _string_field(record, "date", where)
    return Article(
        id=clean_text(article_id)[:_MAX_ID_CHARS] or fallback_id,
        title=title or first_sentence(text, settings.title_max_chars),
        text=text,
        date=parse_date(date_value),
        lang=normalise_lang(_string_field(record, "lang", where)),
        source=_optional_clean(_string_field(record, "source", where)),
        category=_optional_clean(_string_field(record, "category", where)),
        url=_string_field(record, "url", where),
        origin=origin,
    )


def _optional_clean(value: str | None) -> str | None:
    return clean_text(value) or None if value else None


def _read_jsonl(path: Path, lines, settings: Settings):
    stem = _file_id(path)
    for number, line in enumerate(lines, start=1):
        if number == 1 and line.startswith("\ufeff"):  # a byte order mark (gzip keeps it)
            line = line[1:]
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
            yield Problem(str(path), f"invalid JSON: {reason}", line=number)
            continue
        try:
            yield record_to_article(record, f"{stem}:{number}", str(path), settings)
        except ValueError as error:
            yield Problem(str(path), str(error), line=number)


def _read_csv(path: Path, raw: str, settings: Settings):
    stem = _file_id(path)
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=";", quotechar="'")
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row_number += 1
            yield Problem(str(path), f"malformed CSV row: {error}", line=row_number)
            continue
        row_number += 1
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            yield Problem(str(path), f"expected 2 fields (category;text), got {len(row)}",
                          line=row_number)
            continue
        category, text = clean_text(row[0]), clean_text(row[1])
        if not text:
            yield Problem(str(path), "no text", line=row_number)
            continue
        yield Article(
            id=f"{stem}:{row_number}",
            title=first_sentence(text, settings.title_max_chars),
            text=text,
            category=category or None,
            origin=str(path),
        )
