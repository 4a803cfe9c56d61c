"""The documented shapes of what the engine and the API answer, and markup that could run.

A search result as ``Engine.search(...).to_dict()`` and ``GET /api/search``
give it (see README and :mod:`search.results`), a hit, an API error; a snippet
is escaped text with only ``<mark>`` elements.
"""

from __future__ import annotations

import json
import re

# The keys of GET /api/search and Engine.search(...).to_dict(), and of one hit.
RESULT_KEYS = {"query", "total", "page", "per_page", "took_ms", "mode", "reason", "hits",
               "facets", "suggestion", "collapse", "stories", "folded"}
# Present (and true) only when so: a search cut by its time budget, a total that is a bound.
FLAG_KEYS = {"timed_out", "total_is_estimate"}
HIT_KEYS = {"id", "title", "date", "lang", "source", "category", "url", "score", "snippet",
            "snippet_text", "folded", "duplicates"}
FACET_NAMES = {"month", "lang", "source", "category"}
_MARK = re.compile(r"</?mark>")


def check_result_shape(data: dict, *, query_given: bool = True) -> None:
    """``data`` has the documented shape of a search result (see README, results.py)."""
    assert isinstance(data, dict), data
    assert RESULT_KEYS <= set(data) <= RESULT_KEYS | FLAG_KEYS, sorted(data)
    assert all(data[flag] is True for flag in FLAG_KEYS & set(data)), data
    assert isinstance(data["query"], str)
    for name in ("total", "page", "per_page"):
        assert isinstance(data[name], int) and not isinstance(data[name], bool), (name, data[name])
    assert data["total"] >= 0 and data["page"] >= 1 and data["per_page"] >= 1
    assert isinstance(data["took_ms"], (int, float)) and data["took_ms"] >= 0
    assert data["mode"] in ("all", "any"), data["mode"]
    assert data["reason"] is None or isinstance(data["reason"], str)
    assert isinstance(data["hits"], list) and len(data["hits"]) <= data["per_page"]
    first = (data["page"] - 1) * data["per_page"]
    assert len(data["hits"]) <= max(0, data["total"] - first)
    for hit in data["hits"]:
        check_hit_shape(hit)
    assert isinstance(data["facets"], dict) and set(data["facets"]) == FACET_NAMES
    for values in data["facets"].values():
        assert isinstance(values, list)
        for value in values:
            assert set(value) == {"value", "count"}, value
            assert isinstance(value["value"], str) and isinstance(value["count"], int)
            assert value["count"] >= 1
    suggestion = data["suggestion"]
    if suggestion is not None:
        assert set(suggestion) == {"query", "total"}, suggestion
        assert isinstance(suggestion["query"], str) and isinstance(suggestion["total"], int)


def check_hit_shape(hit: dict) -> None:
    assert set(hit) == HIT_KEYS, sorted(hit)
    assert isinstance(hit["id"], str) and hit["id"]
    assert isinstance(hit["title"], str)
    for name in ("date", "lang", "source", "category", "url"):
        assert hit[name] is None or isinstance(hit[name], str), (name, hit[name])
    assert hit["score"] is None or isinstance(hit["score"], (int, float))
    assert isinstance(hit["snippet"], str) and isinstance(hit["snippet_text"], str)
    check_safe_snippet(hit["snippet"])


def check_safe_snippet(snippet_html: str) -> None:
    """A snippet is escaped text with only <mark> elements: no other markup can get through."""
    bare = _MARK.sub("", snippet_html)
    assert "<" not in bare and ">" not in bare, snippet_html[:300]


def dumps_strict(data) -> str:
    """Strict JSON (no NaN or Infinity), as an HTTP body would carry it."""
    return json.dumps(data, allow_nan=False)


def check_error_shape(data: dict) -> None:
    """An API error: ``{"error": {"code": str, "message": str}}`` and nothing else."""
    assert isinstance(data, dict) and set(data) == {"error"}, data
    assert set(data["error"]) == {"code", "message"}, data
    assert isinstance(data["error"]["code"], str) and isinstance(data["error"]["message"], str)


def active_content(page: str) -> list[str]:
    """Markup in a page that could run script or that a payload could have injected.

    The app's own pages have none of it: scripts only by ``src`` from the same site,
    no event-handler attributes, no frames or plugins, no ``javascript:`` links.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names = dict(attrs)
            if tag in ("iframe", "frame", "object", "embed", "base"):
                found.append(f"<{tag}>")
            if tag == "script" and not (names.get("src") or "").startswith("/static/"):
                found.append(f"<script src={names.get('src')!r}>")
            if names.get("id") == "injected":
                found.append("element with id=injected")
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(f"<{tag} {name}=…>")
                if name in ("href", "src", "action", "formaction", "xlink:href") and value and \
                        re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:text", "vbscript:")):
                    found.append(f"<{tag} {name}={value[:40]!r}>")

    finder = Finder(convert_charrefs=True)
    finder.feed(page)
    finder.close()
    return found
