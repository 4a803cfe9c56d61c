"""What a search returns: the one shape that the page, the API and the CLI show."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import facets as facet_rules


def _described(stored: dict) -> dict:
    """What a hit and an article both say of the article."""
    return {
        "id": stored["id"],
        "title": stored.get("title", ""),
        "date": stored.get("date"),
        "lang": stored.get("lang"),
        "source": stored.get("source"),
        "category": stored.get("category"),
        "url": stored.get("url"),
    }


def hit_dict(stored: dict, score: float | None, snippet_html: str, snippet_text: str) -> dict:
    """One hit as every consumer shows it."""
    return {
        **_described(stored),
        "score": round(float(score), 4) if score is not None else None,
        "snippet": snippet_html,
        "snippet_text": snippet_text,
    }


def article_dict(stored: dict, paragraphs_html: list[str] | None = None) -> dict:
    """A stored article as the article page and ``/api/articles/<id>`` show it."""
    text = stored.get("text", "")
    article = {
        **_described(stored),
        "text": text,
        "paragraphs": [p for p in text.split("\n\n") if p],
    }
    if paragraphs_html is not None:
        article["paragraphs_html"] = paragraphs_html
    return article


def stats_dict(documents: int, facets: dict, *, size_bytes: int, indexed_at, generation: str,
               **more) -> dict:
    """What ``/api/stats`` and ``newssearch stats`` show, from the facets of every article."""
    months = [v["value"] for v in facets["month"]]
    return {
        "documents": documents,
        "languages": {v["value"]: v["count"] for v in facets["lang"]},
        "sources": {v["value"]: v["count"] for v in facets["source"]},
        "categories": {v["value"]: v["count"] for v in facets["category"]},
        "first_date": months[0] if months else None,
        "last_date": months[-1] if months else None,
        "size_bytes": size_bytes,
        "indexed_at": indexed_at,
        "generation": generation,
        **more,
    }


@dataclass
class SearchResult:
    query: str
    page: int
    per_page: int
    total: int = 0
    took_ms: float = 0.0
    hits: list = field(default_factory=list)
    facets: dict = field(default_factory=facet_rules.empty)
    suggestion: dict | None = None
    mode: str = "all"  # "all": every word matched; "any": ranked OR fallback
    reason: str | None = None  # why a result is empty, when it is not for lack of matches
    # On a sharded backend: {"total": n, "answered": k}; k < n means a partial result.
    # ``None`` (and absent from the JSON) on the single-index Whoosh backend.
    shards: dict | None = None
    # The search ran out of its time budget (search.budget): the hits are the best found
    # so far, the total counts the matches found. In the JSON only when true.
    timed_out: bool = False

    def to_dict(self) -> dict:
        data = {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "took_ms": round(self.took_ms, 2),
            "mode": self.mode,
            "reason": self.reason,
            "hits": self.hits,
            "facets": self.facets,
            "suggestion": self.suggestion,
        }
        if self.timed_out:
            data["timed_out"] = True
        if self.shards is not None:
            data["shards"] = dict(self.shards)
        return data
