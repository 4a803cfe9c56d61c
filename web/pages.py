"""The HTML pages: search (``/``), article (``/artikel/<id>``) and statistics (``/statistik``).

State lives in the address alone, so that every page can be bookmarked, shared
and reached again with the browser's Back: an article found by a search
carries that search in its query string (``q``, filters, sort, page) and links
back to exactly that result page.
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request

from . import engine, present
from .params import InvalidParameter, SearchParams, compared_ids, parse_search, valid_article_id

blueprint = Blueprint("pages", __name__)

STATS_SECONDS = 10.0
RELATED = 5
EXAMPLES = ("Impfung Pflegeheim", "\"öffentlicher Nahverkehr\"", "Inflation -Energie",
            "Klima* date:2019..2021", "source:zeit.de Lockdown")


def _cached_stats() -> dict:
    """Index statistics for the start page, computed at most every few seconds."""
    cache = current_app.extensions.setdefault("newssearch.stats", {"lock": threading.Lock()})
    with cache["lock"]:
        if cache.get("at") is None or time.monotonic() - cache["at"] > STATS_SECONDS:
            cache["stats"] = engine().stats()
            cache["at"] = time.monotonic()
        return cache["stats"]


@blueprint.get("/")
def search():
    eng = engine()
    params = parse_search(request.args, eng)
    if "keep" in request.args:
        # A new query from the header form: it starts afresh unless the reader
        # ticked "Filter beibehalten" (``keep=1`` beside the hidden ``keep=0``).
        keep = request.args.getlist("keep")
        if any(value not in ("0", "1") for value in keep):
            raise InvalidParameter("keep", "keep must be 0 or 1")
        if "1" not in keep:
            params = params.without_filters()
        return redirect(present.search_url(params), code=303)
    if not params.q.strip():
        return render_template("start.html", params=params, query=params.q,
                               stats=_cached_stats(), examples=EXAMPLES)
    result = eng.search(params.q, **params.engine_kwargs()).to_dict()
    # The month facet is counted without the date filter (as every facet is without its
    # own), so the histogram shows the query's whole time axis and another month can be
    # picked while one is chosen.
    months = result["facets"]["month"]
    suggestion = result["suggestion"]
    # Collapsed, the pages run over stories (near-duplicates folded), not articles.
    ranked = result["stories"] if result["stories"] is not None else result["total"]
    last = present.last_page(ranked, params, eng.settings.max_page)
    context = {
        "params": params, "query": params.q, "result": result,
        "title": present.page_title(params, result["total"], last),
        "first": (result["page"] - 1) * result["per_page"] + 1,
        "facets": present.facet_groups(result["facets"], params),
        "chips": present.active_filters(params),
        "clear_url": present.search_url(params, lang=(), source=(), category=(),
                                         date_from=None, date_to=None),
        "histogram": present.histogram(months, params),
        "pages": present.pagination(ranked, params, eng.settings.max_page),
        "collapse_url": present.search_url(params, collapse=not params.collapse),
        "sorts": present.sort_links(params),
        "suggestion_url": present.search_url(params, q=suggestion["query"]) if suggestion else None,
        "article_url": present.article_url,
        "keep_label": present.keep_label(params),
    }
    return render_template("search.html", **context)


@blueprint.get("/artikel/<article_id:article_id>", merge_slashes=False)
def article(article_id: str):
    if not valid_article_id(article_id):
        abort(404)
    eng = engine()
    params = _found_with(eng)
    query = params.q if params.q.strip() else ""
    highlight = request.args.get("hl") != "0"
    found = eng.article(article_id, query=query if query and highlight else None)
    if found is None:
        abort(404)
    paragraphs = found.get("paragraphs_html")
    highlighted = paragraphs is not None and any("<mark>" in p for p in paragraphs)
    return render_template(
        "article.html", article=found, query=query, params=params, highlighted=highlighted,
        highlight=highlight,
        paragraphs=paragraphs if paragraphs is not None else found["paragraphs"],
        marked=paragraphs is not None,
        related=eng.more_like(article_id, RELATED),
        article_url=present.article_url,
        compare_url=present.compare_url,
        back_url=present.search_url(params) if query else None,
        plain_url=present.article_url(article_id, params, highlight=False),
        marked_url=present.article_url(article_id, params),
        keep_label=present.keep_label(params) if query else None,
    )


def _found_with(eng) -> SearchParams:
    """The search an article was opened from; a part that does not parse is dropped.

    The article is shown whatever the query string holds: a broken filter or
    page costs the way back its filters, never the article.
    """
    try:
        return parse_search(request.args, eng)
    except InvalidParameter:
        per_page = eng.settings.per_page
        return SearchParams(q=request.args.get("q", "")[: eng.settings.max_query_chars],
                            per_page=per_page,
                            default_per_page=per_page)


@blueprint.get("/statistik")
def statistics():
    stats = _cached_stats()
    return render_template("statistics.html", stats=stats, query="", params=None,
                           languages=present.ranked(stats.get("languages"), present.language),
                           sources=present.ranked(stats.get("sources")),
                           categories=present.ranked(stats.get("categories")))


@blueprint.get("/vergleich")
def compare():
    """Two versions of an article side by side: what was removed, what was added."""
    ids = compared_ids(request.args)
    found = engine().compare(*ids) if ids else None
    if found is None:
        abort(404)
    first, second = ids
    return render_template("vergleich.html", comparison=found, query="", params=None,
                           article_url=present.article_url,
                           compare_swap_url=present.compare_url(second, first))
