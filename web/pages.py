"""The HTML pages: search (``/``) and article (``/artikel/<id>``)."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, abort, current_app, render_template, request

from . import engine, present
from .params import SearchParams, parse_search, valid_article_id

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
    if not params.q.strip():
        return render_template("start.html", params=params, query=params.q,
                               stats=_cached_stats(), examples=EXAMPLES)
    result = eng.search(params.q, **params.engine_kwargs()).to_dict()
    months = result["facets"]["month"]
    if params.date_from or params.date_to:
        # The histogram shows the whole time axis of the query, so that another
        # month can be picked while one is filtered to.
        undated = params.changed(date_from=None, date_to=None)
        months = eng.search(params.q, **{**undated.engine_kwargs(), "per_page": 1},
                            suggest=False).to_dict()["facets"]["month"]
    suggestion = result["suggestion"]
    context = {
        "params": params, "query": params.q, "result": result,
        "first": (result["page"] - 1) * result["per_page"] + 1,
        "facets": present.facet_groups(result["facets"], params),
        "chips": present.active_filters(params),
        "clear_url": present.search_url(params, lang=None, source=None, category=None,
                                         date_from=None, date_to=None),
        "histogram": present.histogram(months, params),
        "pages": present.pagination(result["total"], params, eng.settings.max_page),
        "sorts": present.sort_links(params),
        "suggestion_url": present.search_url(params, q=suggestion["query"]) if suggestion else None,
        "article_url": present.article_url,
    }
    return render_template("search.html", **context)


@blueprint.get("/artikel/<article_id:article_id>", merge_slashes=False)
def article(article_id: str):
    if not valid_article_id(article_id):
        abort(404)
    eng = engine()
    query = request.args.get("q", "")[: eng.settings.max_query_chars]
    found = eng.article(article_id, query=query if query.strip() else None)
    if found is None:
        abort(404)
    paragraphs = found.get("paragraphs_html")
    highlighted = paragraphs is not None and any("<mark>" in p for p in paragraphs)
    return render_template(
        "article.html", article=found, query=query, highlighted=highlighted,
        paragraphs=paragraphs if paragraphs is not None else found["paragraphs"],
        marked=paragraphs is not None,
        related=eng.more_like(article_id, RELATED),
        article_url=present.article_url,
        back_url=_back_url(query, eng.settings.per_page),
        plain_url=present.article_url(article_id),
    )


def _back_url(query: str, per_page: int) -> str | None:
    if not query.strip():
        return None
    return present.search_url(SearchParams(q=query, per_page=per_page, default_per_page=per_page))
