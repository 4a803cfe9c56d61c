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


def version_dict(stored: dict) -> dict:
    """Another version of an article (a member of its near-duplicate cluster), in brief."""
    return {name: stored.get(name) for name in ("id", "title", "source", "date", "url")}


def hit_dict(stored: dict, score: float | None, snippet_html: str, snippet_text: str,
             folded: tuple[int, list] | None = None) -> dict:
    """One hit as every consumer shows it. ``folded``: how many matching articles of its
    near-duplicate cluster the hit stands for, and the first of them (stored fields)."""
    count, others = folded or (0, [])
    return {
        **_described(stored),
        "score": round(float(score), 4) if score is not None else None,
        "snippet": snippet_html,
        "snippet_text": snippet_text,
        "folded": count,
        "duplicates": [version_dict(other) for other in others],
    }


def article_dict(stored: dict, paragraphs_html: list[str] | None = None,
                 cluster: str | None = None, versions: list[dict] | None = None) -> dict:
    """A stored article as the article page and ``/api/articles/<id>`` show it, with its
    near-duplicate cluster (its id, and the other versions in it, oldest first)."""
    text = stored.get("text", "")
    article = {
        **_described(stored),
        "authors": list(stored.get("authors") or ()),
        "text": text,
        "paragraphs": [p for p in text.split("\n\n") if p],
        "cluster": cluster if cluster is not None else stored["id"],
        "versions": [version_dict(v) for v in sorted(versions or (), key=_version_order)],
    }
    if paragraphs_html is not None:
        article["paragraphs_html"] = paragraphs_html
    return article


def _version_order(stored: dict):
    return (stored.get("date") or "", stored.get("id") or "")


def stats_dict(documents: int, facets: dict, *, size_bytes: int, indexed_at, generation: str,
               duplicates: dict | None = None, **more) -> dict:
    """What ``/api/stats`` and ``newssearch stats`` show, from the facets of every article;
    ``duplicates``: the near-duplicate clusters of two or more articles and the articles
    in them, as the indexer counted them."""
    months = [v["value"] for v in facets["month"]]
    duplicates = duplicates or {}
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
        "duplicates": {"clusters": int(duplicates.get("clusters", 0)),
                       "articles": int(duplicates.get("articles", 0))},
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
    # ``total`` is a lower bound: only the first hits were asked for (Engine.search's
    # ``exact_totals=False``) or the search ran out of time. In the JSON only when true.
    total_is_estimate: bool = False
    # Near-duplicates folded (search.duplicates): ``total`` and the facets count every
    # matching article either way; ``stories`` counts the clusters among them (None
    # when not collapsed), and the pages run over stories.
    collapse: bool = False
    stories: int | None = None

    @property
    def folded(self) -> int:
        """Matching articles folded under another hit (0 when not collapsed)."""
        return self.total - self.stories if self.stories is not None else 0

    @property
    def ranked(self) -> int:
        """How many hits the pages run over: stories when collapsed, else articles."""
        return self.stories if self.stories is not None else self.total

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
            "collapse": self.collapse,
            "stories": self.stories,
            "folded": self.folded,
        }
        if self.timed_out:
            data["timed_out"] = True
        if self.total_is_estimate:
            data["total_is_estimate"] = True
        if self.shards is not None:
            data["shards"] = dict(self.shards)
        return data
