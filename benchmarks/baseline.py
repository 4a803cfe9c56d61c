"""The baseline: stock Whoosh, used the plain way, on the same documents.

A schema with ``LanguageAnalyzer("de")`` on title and text, the same stored
fields as newssearch, one writer with default settings; searched with
``searcher.search`` and ``hit.highlights()``.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

from whoosh import fields, index, query as wq
from whoosh.analysis import LanguageAnalyzer
from whoosh.qparser import AndGroup, MultifieldParser


def schema() -> fields.Schema:
    analyzer = LanguageAnalyzer("de")
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=analyzer, stored=True),
        text=fields.TEXT(analyzer=analyzer, stored=True),
        date=fields.STORED(),
        date_sort=fields.NUMERIC(numtype=int, bits=64, signed=False),
        lang=fields.ID(stored=True),
        source=fields.ID(stored=True),
        category=fields.ID(stored=True),
        url=fields.STORED(),
    )


def date_key(value: str) -> int:
    digits = "".join(c for c in value[:19] if c.isdigit())
    return int((digits + "0" * 14)[:14])


def build(corpus: Path, index_dir: Path) -> int:
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(index_dir), schema())
    writer = ix.writer()
    count = 0
    for part in sorted(Path(corpus).glob("*.jsonl.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                writer.add_document(
                    id=record["id"], title=record["header"], text=record["article"],
                    date=record["date"], date_sort=date_key(record["date"]), lang="de",
                    source=record["source"], url=record["url"])
                count += 1
    writer.commit()
    ix.close()
    return count


class BaselineSearcher:
    def __init__(self, index_dir: Path):
        self.ix = index.open_dir(str(index_dir))
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["title", "text"], self.ix.schema, group=AndGroup)

    def search(self, text: str, source: str | None = None, date_from: str | None = None,
               date_to: str | None = None) -> dict:
        parsed = self.parser.parse(text)
        filters = []
        if source:
            filters.append(wq.Term("source", source))
        if date_from or date_to:
            low = date_key((date_from or "0001") + "-01-01")
            high = int(("".join(c for c in (date_to or "9999") if c.isdigit()) + "9" * 14)[:14])
            filters.append(wq.NumericRange("date_sort", low, high))
        filter_query = None if not filters else filters[0] if len(filters) == 1 else wq.And(filters)
        results = self.searcher.search(parsed, limit=10, filter=filter_query)
        hits = []
        for hit in results:
            hits.append({"id": hit["id"], "title": hit.get("title"), "score": hit.score,
                         "snippet": hit.highlights("text")})
        return {"total": len(results), "hits": hits}

    def close(self):
        self.searcher.close()
        self.ix.close()
