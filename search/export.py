"""Export: every hit of a search as CSV or JSON Lines, streamed.

A search's hits are taken into other tools (spreadsheets, R, pandas) as rows
of ``id, date, source, title, url, score, snippet`` — the snippet as plain
text, cut as on the result page. The rows are those of the search itself:
the same reading of the query (also the "any" mode of a plain word query
with few hits), the same filters, the same order; so an export holds as many
rows as the search has hits, up to the setting ``export_max_rows`` (100,000
by default), and says so when it stops there.

Memory stays flat however many rows are written: the backend hands the hits
over in batches of ``export_batch`` (:meth:`search.backends.base.Session.stream`),
each row is written as soon as it is made, and nothing but one batch of
articles is held at a time (tests/integration/test_research_engine.py measures
it).
"""

from __future__ import annotations

import csv
import io
import json

FORMATS = ("csv", "jsonl")
COLUMNS = ("id", "date", "source", "title", "url", "score", "snippet")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def row_of(hit: dict) -> dict:
    """The exported fields of a hit (``search.results.hit_dict``)."""
    return {"id": hit["id"], "date": hit["date"], "source": hit["source"],
            "title": hit["title"], "url": hit["url"], "score": hit["score"],
            "snippet": hit["snippet_text"]}


def cut_message(written: int, total: int) -> str | None:
    if written >= total:
        return None
    return (f"The export holds the first {written:,} of {total:,} hits (setting "
            f"export_max_rows): narrow the query, the dates or the source to export the rest.")


class Export:
    """The rows of one search, to be written once; what is known before the first row:
    ``total`` (the search's hits), ``rows`` (how many will be written), ``mode``,
    ``reason`` and ``message`` (set when ``export_max_rows`` cuts the export).

    The index stays open (one consistent view of it) until the rows are written or
    :meth:`close` is called.
    """

    def __init__(self, produce):
        self._rows = produce
        summary = next(produce)
        self.total = summary["total"]
        self.rows = summary["rows"]
        self.mode = summary["mode"]
        self.reason = summary["reason"]
        self.message = cut_message(self.rows, self.total)

    def __iter__(self):
        return self._rows

    def close(self) -> None:
        self._rows.close()

    def lines(self, fmt: str):
        """The export as text, one line (or for CSV, one record) at a time."""
        if fmt == "csv":
            return csv_lines(self)
        if fmt == "jsonl":
            return jsonl_lines(self)
        raise ValueError(f"unknown export format {fmt!r}")


def csv_lines(rows):
    """A header line, then one CSV record per row (RFC 4180: CRLF, fields quoted where
    needed, a snippet's line breaks kept inside its quotes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow(["" if row[name] is None else row[name] for name in COLUMNS])
        yield out.getvalue()


def jsonl_lines(rows):
    """One JSON object per line (UTF-8, ``null`` for what an article lacks)."""
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"
