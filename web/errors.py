"""Errors as pages or JSON, never a stack trace; security headers on every response."""

from __future__ import annotations

import json

from flask import Flask, Response, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from search import IndexMissing, InvalidParameter

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

# Codes of the JSON error body, by HTTP status.
CODES = {400: "invalid_parameter", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 431: "headers_too_large", 500: "internal_error",
         501: "not_implemented", 503: "index_missing"}

# What the page says, by HTTP status: (title, explanation).
PAGE_TEXTS = {
    400: ("Ungültige Anfrage", "Die Suche enthält einen ungültigen Wert."),
    404: ("Seite nicht gefunden",
          "Unter dieser Adresse gibt es keine Seite. Prüfen Sie die Adresse oder suchen Sie "
          "auf der Startseite."),
    405: ("Methode nicht erlaubt", "Diese Adresse kann nur gelesen werden."),
    413: ("Anfrage zu groß", "Die Anfrage ist zu groß."),
    431: ("Anfrage zu groß", "Die Adresse oder die Kopfzeilen der Anfrage sind zu lang."),
    500: ("Interner Fehler",
          "Bei der Suche ist ein Fehler aufgetreten. Bitte versuchen Sie es gleich noch einmal."),
    503: ("Noch kein Suchindex",
          "Es gibt noch keinen Suchindex. Legen Sie ihn an, zum Beispiel mit "
          "„newssearch index corpus/“, und laden Sie die Seite dann neu."),
}

# A missing article is a different case from a mistyped address.
ARTICLE_MISSING = ("Seite nicht gefunden",
                   "Diesen Artikel gibt es im Index nicht. Vielleicht wurde er entfernt, oder "
                   "der Link ist unvollständig.")

# German wording of parameter errors on the page.
PARAMETER_TEXTS = {
    "page": "Die Seitenzahl muss eine ganze Zahl von 1 bis {max_page} sein.",
    "per_page": "Die Zahl der Treffer pro Seite muss eine ganze Zahl von 1 bis {max_per_page} sein.",
    "sort": "Sortiert werden kann nur nach Relevanz oder Datum.",
    "from": "Das Datum „von“ muss die Form JJJJ, JJJJ-MM oder JJJJ-MM-TT haben "
            "und darf nicht nach „bis“ liegen.",
    "to": "Das Datum „bis“ muss die Form JJJJ, JJJJ-MM oder JJJJ-MM-TT haben.",
    "collapse": "Gleiche Meldungen werden mit collapse=1 zusammengefasst, mit collapse=0 "
                "einzeln gezeigt.",
    "a": "Zum Vergleich werden zwei Artikel gebraucht (a und b).",
    "b": "Zum Vergleich werden zwei Artikel gebraucht (a und b).",
    "keep": "Das Feld „Filter beibehalten“ kann nur an (1) oder aus (0) sein.",
}


def wants_json(path: str | None = None) -> bool:
    """Whether errors at ``path`` (default: the request's) are JSON rather than a page."""
    path = request.path if path is None else path
    return path.startswith("/api/") or path == "/api" or path == "/healthz"


def json_response(data, status: int = 200, headers=None) -> Response:
    """JSON exactly as ``json.dumps(..., ensure_ascii=False)`` writes it (as the CLI does)."""
    body = json.dumps(data, ensure_ascii=False)
    return Response(body, status=status, headers=headers, mimetype="application/json")


def json_error(status: int, message: str, code: str | None = None, headers=None) -> Response:
    error = {"code": code or CODES.get(status, "error"), "message": message}
    return json_response({"error": error}, status=status, headers=headers)


def page_error(status: int, message: str | None = None, headers=None) -> Response:
    from . import engine

    title, text = PAGE_TEXTS.get(status, PAGE_TEXTS[500])
    if status == 404 and request.path.startswith("/artikel/"):
        title, text = ARTICLE_MISSING
    try:
        body = render_template("error.html", status=status, title=title, text=message or text,
                               query=request.args.get("q", "")[:engine().settings.max_query_chars])
    except Exception:  # the page itself failed: a plain one without the layout
        body = (f'<!doctype html><html lang="de"><meta charset="utf-8"><title>{escape(title)}'
                f'</title><h1>{escape(title)}</h1><p>{escape(message or text)}</p>'
                '<p><a href="/">Zur Startseite</a></p></html>')
    return Response(body, status=status, headers=headers, mimetype="text/html")


def error_response(status: int, message: str, page_message: str | None = None,
                   code: str | None = None, headers=None) -> Response:
    if wants_json():
        return json_error(status, message, code=code, headers=headers)
    return page_error(status, page_message, headers=headers)


def parameter_message(error: InvalidParameter) -> str:
    from . import engine

    settings = engine().settings
    text = PARAMETER_TEXTS.get(error.name)
    if text is None:
        return PAGE_TEXTS[400][1]
    return text.format(max_page=settings.max_page, max_per_page=settings.max_per_page)


def refusal(app: Flask, status: int, path: str, message: str, code: str | None = None):
    """The response to a request the HTTP server refused before the app saw it (a head
    or body too large, a malformed request): JSON under ``/api/`` and at ``/healthz``, a
    page elsewhere, with every header the app's own responses carry."""
    where = ("/healthz" if path == "/healthz" else "/api/") if wants_json(path) else "/"
    with app.test_request_context(where):
        return app.process_response(error_response(status, message, code=code))


def install(app: Flask) -> None:
    @app.errorhandler(InvalidParameter)
    def invalid_parameter(error: InvalidParameter):
        return error_response(400, error.message, parameter_message(error))

    @app.errorhandler(IndexMissing)
    def index_missing(error: IndexMissing):
        # The message names no folder: no response shows a path of the machine.
        return error_response(503, "there is no index yet: build one with 'newssearch index'")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        message = {404: "not found", 405: "method not allowed"}.get(status, error.description or "")
        return error_response(status, message, headers=headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if app.debug:
            raise error
        app.logger.exception("request failed: %s %s", request.method, request.path)
        return error_response(500, "internal error")

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
