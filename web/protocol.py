"""HTTP around the answers: caching validators, OPTIONS, CORS, robots.txt.

- **Validators.** Search and article responses (pages and API) and the
  statistics carry a weak ETag of the index generation they were answered
  from (:meth:`search.Engine.version`, one ``stat`` of ``CURRENT``), the
  settings and the code, and ``Cache-Control`` (``no-cache`` by default:
  caches keep the answer but ask each time; ``cache_max_age_seconds`` lets
  them reuse it for a while). A request whose ``If-None-Match`` names the
  current tag is answered 304 before anything is searched, so a reload of an
  unchanged result costs a stat. Every other dynamic response says
  ``no-store``. A backend that cannot tell its version cheaply (remote
  shards) gets no ETag.
- **OPTIONS** is answered 204 with ``Allow`` (Flask's own answer is a 200
  with an empty ``text/html`` body).
- **CORS** for the GET API, off unless ``cors_origins`` names origins (or
  ``*``): simple GETs get ``Access-Control-Allow-Origin``, preflights 204
  with the methods allowed.
- **Crawlers.** ``/robots.txt`` disallows ``robots_disallow`` (by default
  result pages, articles opened from a search and the API: an endless space
  of links); result pages also say ``noindex`` (a ``<meta>`` in the page, an
  ``X-Robots-Tag`` on the API).
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from flask import Flask, Response, g, request

from . import engine

# Responses that depend on nothing but the request and the index generation.
VALIDATED = frozenset({"pages.search", "pages.article", "api.search", "api.article",
                       "api.stats"})
CORS_METHODS = "GET, HEAD, OPTIONS"
CORS_MAX_AGE = "86400"


def _code_stamp() -> str:
    """The package version and the newest modification of its code and templates: an
    upgrade or an edit of a template changes every ETag."""
    try:
        version = metadata.version("newssearch")
    except metadata.PackageNotFoundError:
        version = "0"
    newest = 0
    for root in (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "search"):
        for path in root.rglob("*"):
            if path.suffix in (".py", ".html", ".css", ".js", ".txt"):
                newest = max(newest, path.stat().st_mtime_ns)
    return f"{version}-{newest}"


def _etag(stamp: str) -> str | None:
    """The tag of what the current index answers with these settings and this code."""
    try:
        version = engine().version()
    except Exception:  # noqa: BLE001 - the search itself then says what is wrong
        return None
    if version is None:
        return None
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{stamp}\0{version}\0{engine().settings!r}".encode("utf-8", "replace"))
    return digest.hexdigest()


def _cache_control(settings) -> str:
    seconds = int(settings.cache_max_age_seconds)
    return f"public, max-age={seconds}" if seconds > 0 else "no-cache"


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _allowed_origin(settings) -> str | None:
    """The value of ``Access-Control-Allow-Origin`` for this request, if any."""
    origins = tuple(settings.cors_origins)
    if not origins or not _is_api():
        return None
    if "*" in origins:
        return "*"
    origin = request.headers.get("Origin")
    return origin if origin in origins else None


def robots_txt(settings) -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in settings.robots_disallow] or ["Disallow:"]
    return "\n".join(lines) + "\n"


def install(app: Flask) -> None:
    stamp = _code_stamp()

    @app.get("/robots.txt")
    def robots():
        response = Response(robots_txt(engine().settings), mimetype="text/plain")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @app.before_request
    def answer_early():
        settings = engine().settings
        if request.method == "OPTIONS" and request.routing_exception is None:
            response = app.make_default_options_response()
            response.status_code = 204
            response.headers.pop("Content-Type", None)
            origin = _allowed_origin(settings)
            if origin is not None and request.headers.get("Access-Control-Request-Method"):
                response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
                response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
            return response
        if request.method in ("GET", "HEAD") and request.endpoint in VALIDATED:
            tag = _etag(stamp)
            g.etag = tag
            if tag is not None and request.if_none_match.contains_weak(tag):
                response = Response(status=304)
                response.set_etag(tag, weak=True)
                response.headers["Cache-Control"] = _cache_control(settings)
                return response
        return None

    @app.after_request
    def describe(response: Response) -> Response:
        settings = engine().settings
        tag = g.get("etag")
        if request.endpoint in VALIDATED and response.status_code in (200, 304):
            if tag is not None:
                response.set_etag(tag, weak=True)
            response.headers["Cache-Control"] = _cache_control(settings)
        elif request.endpoint != "static" and request.endpoint != "robots":
            response.headers.setdefault("Cache-Control", "no-store")
        if _is_api() or (request.endpoint == "pages.search" and request.args.get("q")):
            response.headers.setdefault("X-Robots-Tag", "noindex")
        origin = _allowed_origin(settings)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "ETag"
            if origin != "*":
                response.vary.add("Origin")
        return response
