"""WARC and WARC.gz files (web crawls such as CC-NEWS), read with warcio, streamed.

Every HTTP response (or resource) record whose body is HTML is a web page: the
indexing process takes its payload (de-chunked and decoded by warcio) with the
target URI and the capture date, and a worker process extracts it like an HTML
file (:mod:`.pages`). The article's URL is the ``WARC-Target-URI``, its date the
page's own, else the ``WARC-Date``; its id is a stable hash of the URL, so a page
crawled again replaces its earlier capture. Every other record is counted by kind
(requests, redirects, error responses, PDFs and other types, revisits, warcinfo,
metadata) and summed into the run's report instead of being listed. A page over
``max_file_bytes`` is not read (counted too). The file is one unit of change
tracking, like a JSON Lines file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..settings import Settings
from .articles import Article, Problem, Tally, Unreadable
from .decoding import size_text
from .pages import Page, extract_page

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL)


_OTHER_RECORDS = {"request": "WARC requests", "warcinfo": "WARC info records",
                  "metadata": "WARC metadata records",
                  "revisit": "revisits (captures unchanged since an earlier one)"}


@dataclass
class WarcPage:
    """One HTML page of a WARC file, as the indexing process hands it to a worker."""

    number: int  # the record's position in the file, 1-based
    url: str
    captured: str | None  # WARC-Date
    payload: bytes
    charset: str | None  # from the HTTP Content-Type


def url_id(url: str) -> str:
    """A page's article id: a stable hash of its URL."""
    return "url-" + hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def warc_records(path: Path, settings: Settings) -> Iterator[tuple]:
    """``(record, bytes, position)``: each HTML page as a :class:`WarcPage`, then one
    :class:`Tally` of the records that are not pages."""
    passed: dict[str, int] = {}

    def count(kind: str) -> None:
        passed[kind] = passed.get(kind, 0) + 1

    limit = settings.max_file_bytes
    with open(path, "rb") as raw:
        records = ArchiveIterator(raw)
        number = 0
        # A page is handed on once the iterator has moved past its record: only then is
        # it known whether the record was whole (a file cut off ends in a partial one).
        pending = last = None
        try:
            for record in records:
                if pending is not None:
                    yield pending, len(pending.payload), raw.tell()
                number += 1
                last = record
                pending = _page_of(record, number, limit, count)
            if last is not None and getattr(last.raw_stream, "limit", 0) > 0:
                yield Problem(str(path), f"WARC file cut off in record {number}"), 0, raw.tell()
            elif pending is not None:
                yield pending, len(pending.payload), raw.tell()
        except ArchiveLoadFailed as error:
            if number == 0:
                raise Unreadable(f"not a WARC file: {_first_line(error)}")
            yield Problem(str(path), f"WARC data broken after record {number}: "
                                     f"{_first_line(error)}"), 0, raw.tell()
        except (OSError, EOFError, ValueError) as error:
            yield Problem(str(path), f"WARC data broken after record {number}: {error}"), 0, \
                raw.tell()
        if passed:
            yield Tally(str(path), passed=passed), 0, raw.tell()


def _first_line(error: Exception) -> str:
    return str(error).strip().split("\n", 1)[0][:200]


def _page_of(record, number: int, limit: int, count) -> WarcPage | None:
    kind = record.rec_type
    if kind not in ("response", "resource"):
        count(_OTHER_RECORDS.get(kind, f"WARC {kind} records"))
        return None
    http = record.http_headers
    if kind == "response" and http is not None:
        status = http.get_statuscode() or ""
        if status.startswith("3"):
            count("redirects (HTTP 3xx)")
            return None
        if not status.startswith("2"):
            count(f"HTTP errors ({status[:1] or '?'}xx)")
            return None
        content_type = http.get_header("Content-Type") or ""
    else:
        content_type = record.rec_headers.get_header("Content-Type") or ""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime and mime not in _HTML_TYPES:
        count(f"not HTML ({mime})")
        return None
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    if not url:
        count("records without a target URI")
        return None
    payload = record.content_stream().read(limit + 1)
    if len(payload) > limit:
        count(f"pages larger than {size_text(limit)} (max_file_bytes)")
        return None
    if not mime and not _HTML_START.match(payload[:4096]):
        count("not HTML (no type, not HTML markup)")
        return None
    charset = _CHARSET.search(content_type)
    return WarcPage(number=number, url=url, captured=record.rec_headers.get_header("WARC-Date"),
                    payload=payload, charset=charset.group(1) if charset else None)


def warc_page_article(path: Path, page: WarcPage, settings: Settings, tally: Tally,
                      stem: str) -> Article | Problem:
    """A worker's part: the page extracted into an article (or why it gives none)."""
    tally.pages += 1
    markup: bytes | str = page.payload
    if page.charset:
        try:
            markup = page.payload.decode(page.charset, errors="replace")
        except LookupError:
            pass  # an unknown charset name: the page's own markup decides
    found = extract_page(markup, page.url, captured=page.captured)
    if not isinstance(found, Page):
        return Problem(str(path), f"{page.url}: {found.reason}", line=page.number)
    return found.article(id=url_id(page.url), url=page.url, origin=str(path),
                         title_max_chars=settings.title_max_chars)
