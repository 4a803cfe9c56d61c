"""The JSON API: ``/api/search``, ``/api/articles/<id>``, ``/api/compare``, ``/api/stats``,
``/healthz``.

``/api/search`` answers with exactly the JSON of ``newssearch search --json``
(``SearchResult.to_dict()``); errors are ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from flask import Blueprint, request

from . import engine
from .errors import json_error, json_response
from .openapi import build_spec
from .params import compared_ids, parse_search, parse_switch, valid_article_id

blueprint = Blueprint("api", __name__)


@blueprint.get("/api/search")
def search():
    eng = engine()
    params = parse_search(request.args, eng)
    # exact_totals=0: only the hits, as Elasticsearch's track_total_hits=false (no
    # facets; the total may then be a lower bound, flagged total_is_estimate).
    exact = parse_switch(request.args.get("exact_totals"), "exact_totals",
                         eng.settings.exact_totals)
    return json_response(eng.search(params.q, **params.engine_kwargs(),
                                    exact_totals=exact).to_dict())


@blueprint.get("/api/articles/<article_id:article_id>", merge_slashes=False)
def article(article_id: str):
    if not valid_article_id(article_id):
        return json_error(404, "no article with this id")
    query = request.args.get("q", "")
    found = engine().article(article_id, query=query if query.strip() else None)
    if found is None:
        return json_error(404, "no article with this id")
    return json_response(found)


@blueprint.get("/api/compare")
def compare():
    ids = compared_ids(request.args)
    found = engine().compare(*ids) if ids else None
    if found is None:
        return json_error(404, "no article with one of these ids")
    return json_response(found)


@blueprint.get("/api/stats")
def stats():
    return json_response(engine().stats())


@blueprint.get("/api/openapi.json")
def openapi():
    return json_response(build_spec(engine().settings))


@blueprint.get("/healthz")
def healthz():
    # Opens the current generation, checks its files and runs one cheap query
    # (Engine.health); no index at all is the 503 of IndexMissing.
    health = engine().health()
    if health["status"] != "ok":
        return json_error(503, health["reason"], code="index_damaged")
    return json_response(health)
