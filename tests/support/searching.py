"""Every hit of a search, walking its pages."""

from __future__ import annotations


def all_hits(engine, query: str, **params) -> list[dict]:
    """Every hit of a search, walking the pages of 100 (and checking the total): every
    article, near-duplicates not folded unless ``collapse=True`` is passed."""
    params.setdefault("collapse", False)
    hits = []
    page = 1
    while True:
        result = engine.search(query, page=page, per_page=100, suggest=False, **params)
        hits.extend(result.hits)
        if page * 100 >= result.total:
            assert len(hits) == result.total, (query, params, len(hits), result.total)
            return hits
        page += 1


def hit_ids(engine, query: str, **params) -> set[str]:
    """The ids of every hit of a search; a hit may come only once."""
    ids = [hit["id"] for hit in all_hits(engine, query, **params)]
    assert len(ids) == len(set(ids)), f"a hit came twice for {query!r}"
    return set(ids)
