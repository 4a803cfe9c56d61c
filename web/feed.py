"""An Atom feed per query: ``GET /feed?q=…`` (the search filters apply too).

A journalist follows a query as new articles arrive: the feed holds the
newest ``feed_entries`` (setting, 50) matching articles, newest first — the
search sorted by date. It is written with the standard library's
ElementTree (RFC 4287; feedparser reads it without a complaint, which
tests/web/test_feed.py checks).

Ids are stable: an entry's id is a ``urn:uuid`` made from the article id
(UUID version 5), so an article keeps its id across reindexing and servers;
the feed's id is made the same way from its query and filters. Dates are
RFC 3339 with the offset the article gives: one dated without a time zone is
taken as UTC, one dated to a day or month as its first moment, and an
undated one as the time the index was built. The entries come in the order
of the search sorted by date, which orders by each article's own clock time
(so that an article's day is the day its source printed, see
:mod:`search.trends`). The result page links its feed with ``<link rel="alternate">``.

A parameter the engine refuses is answered with the JSON error of the API
(a feed reader is a program).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from search import InvalidParameter

from . import engine
from .errors import json_error
from .research import filter_args, filters_of

blueprint = Blueprint("feed", __name__)

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
_NAMESPACE = uuid.UUID("5b0d3a1e-5c3f-4f43-9d8c-6e6577737365")


def entry_id(article_id: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, "article:" + article_id))


def feed_id(query: str, filters: dict) -> str:
    key = "\x1f".join([query, *(f"{k}={_shown(v)}" for k, v in sorted(filters.items()) if v)])
    return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, "feed:" + key))


def _shown(value) -> str:
    """A filter's value or values, as the feed's title names them."""
    return " | ".join(value) if isinstance(value, (list, tuple)) else str(value)


def moment_of(value) -> datetime | None:
    """An article's date as a moment (see the module's notes); ``None`` when it has none."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def rfc3339(moment: datetime) -> str:
    """RFC 3339, with the offset the article gave (``Z`` for UTC)."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(parent, tag: str, text: str, **attributes):
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element


def atom(result: dict, *, query: str, filters: dict, self_url: str, page_url: str,
         article_url, indexed_at) -> bytes:
    """The Atom document of a date-sorted search result; ``indexed_at()`` gives the time
    the index was built (asked only when an entry or the feed has no date of its own)."""
    ET.register_namespace("", ATOM)
    moments = [moment_of(hit["date"]) for hit in result["hits"]]
    fallback = None
    if not moments or not all(moments):
        fallback = moment_of(indexed_at()) or datetime.now(timezone.utc).replace(microsecond=0)
    root = ET.Element(f"{{{ATOM}}}feed")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "de")
    title = f"newssearch: {query}" if query.strip() else "newssearch"
    if filters:
        title += " (" + ", ".join(f"{k}: {_shown(v)}" for k, v in filters.items()) + ")"
    _text(root, "title", title)
    _text(root, "subtitle", f"Die neuesten Artikel zu „{query}“ ({result['total']} Treffer)")
    _text(root, "id", feed_id(query, filters))
    _text(root, "updated", rfc3339(max((m for m in moments if m), default=fallback)))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", "newssearch")
    _text(root, "generator", "newssearch")
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", type=MEDIA_TYPE, href=self_url)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=page_url)
    for hit, when in zip(result["hits"], moments):
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(entry, "id", entry_id(hit["id"]))
        _text(entry, "title", hit["title"] or hit["id"])
        _text(entry, "updated", rfc3339(when or fallback))
        if when:
            _text(entry, "published", rfc3339(when))
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html",
                      href=article_url(hit["id"]))
        if hit.get("url"):
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=hit["url"])
        if hit.get("source"):
            _text(entry, "category", None, term=hit["source"], label=hit["source"])
        _text(entry, "summary", hit["snippet_text"], type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@blueprint.get("/feed")
def feed():
    eng = engine()
    query = request.args.get("q", "")
    filters = filters_of(request.args)
    entries = max(1, min(eng.settings.feed_entries, eng.settings.max_per_page))
    try:
        result = eng.search(query, per_page=entries, sort="date", suggest=False,
                            **filters).to_dict()
    except InvalidParameter as error:
        return json_error(400, error.message)
    shown = filter_args(filters)
    body = atom(result, query=query, filters=shown, self_url=request.url,
                page_url=url_for("pages.search", q=query, sort="date", _external=True, **shown),
                article_url=lambda article_id: url_for("pages.article", article_id=article_id,
                                                       _external=True),
                indexed_at=lambda: eng.stats().get("indexed_at"))
    return Response(body, mimetype=MEDIA_TYPE)
