"""For those who study the news: trends, keyword in context and export, as pages and API.

    GET /api/trends?q=Maske&q=Impfpflicht&interval=week[&format=csv]
    GET /api/kwic?q=Maske&width=60&sort=left&page=2
    GET /api/export?q=Maske&format=csv|jsonl
    GET /verlauf?q=…   the trends as a line chart (server-side SVG, no script)
    GET /kwic?q=…      the concordance, aligned on the match

All of them take the search filters (``lang``, ``source``, ``category``,
``from``, ``to``). The numbers come from :meth:`search.Engine.trends`,
:meth:`search.Engine.kwic` and :meth:`search.Engine.export`; the API answers
exactly what they return, a parameter the engine refuses is a 400 with the
JSON error shape, and the pages show the same message in German beside the
form they came from.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, render_template, request, url_for

from search import (EXPORT_FORMATS, EXPORT_MEDIA_TYPES, TREND_INTERVALS, InvalidParameter,
                    trends_csv)

from . import chart, engine
from .errors import json_response

blueprint = Blueprint("research", __name__)
blueprint.add_app_template_filter(chart.interval_label, "interval_label")
blueprint.add_app_template_filter(chart.decimal, "decimal")

_WHOLE = re.compile(r"^[0-9]{1,9}$")
# Bytes of an export sent at a time: rows are joined up to this size, so that the
# server is not asked to write a few hundred bytes at a time.
EXPORT_CHUNK_BYTES = 64 * 1024
MEASURES = ("rate", "count")
TREND_FORMATS = ("json", "csv")

# What the pages say of a parameter the engine refused.
PARAMETER_TEXTS = {
    "q": "Es können höchstens {max_series} Suchen zugleich verglichen werden.",
    "interval": "Für diesen Zeitraum gäbe es zu viele Punkte: Wählen Sie ein längeres Intervall "
                "(Woche oder Monat) oder einen kürzeren Zeitraum.",
    "interval_value": "Das Intervall kann Monat, Woche oder Tag sein.",
    "width": "Die Breite des Kontexts muss eine ganze Zahl von 1 bis {max_width} Zeichen sein.",
    "page": "Die Seitenzahl muss eine ganze Zahl von 1 bis {max_page} sein.",
    "per_page": "Die Zahl der Zeilen pro Seite muss eine ganze Zahl von 1 bis "
                "{max_per_page} sein.",
    "sort": "Sortiert werden kann nur nach Datum oder nach dem Wort links oder rechts.",
    "from": "Das Datum „von“ muss die Form JJJJ, JJJJ-MM oder JJJJ-MM-TT haben und darf "
            "nicht nach „bis“ liegen.",
    "to": "Das Datum „bis“ muss die Form JJJJ, JJJJ-MM oder JJJJ-MM-TT haben.",
    "measure": "Dargestellt werden können Anteile je 10.000 Artikel oder Anzahlen.",
    "format": "Dieses Format gibt es nicht.",
}


def _number(raw: str | None, *, blank: bool = False, default=None):
    """An int for a whole number, ``default`` when missing (or, with ``blank``, empty: a
    form's field left empty), else the raw value, which the engine then refuses."""
    if raw is None or (blank and not raw.strip()):
        return default
    return int(raw) if _WHOLE.match(raw) else raw


def _optional(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    return raw or None


def _values(args, name: str) -> list[str]:
    """Every non-empty value of a filter that takes several (``source=a&source=b``)."""
    return [value.strip() for value in args.getlist(name) if value.strip()]


def filters_of(args) -> dict:
    """The search filters of a query string, as the engine takes them (``lang``,
    ``source`` and ``category`` one value or several, as on the search page)."""
    return {"lang": _values(args, "lang"), "source": _values(args, "source"),
            "category": _values(args, "category"),
            "date_from": _optional(args.get("from")), "date_to": _optional(args.get("to"))}


def filter_args(filters: dict) -> dict:
    """The query-string arguments of ``filters`` (those in force; several values of one
    filter as a list)."""
    names = {"date_from": "from", "date_to": "to"}
    return {names.get(k, k): list(v) if isinstance(v, (list, tuple)) else v
            for k, v in filters.items() if v}


def queries_of(args) -> list[str]:
    """The series of a trend: every non-empty ``q``, in order (more than a trend compares,
    empty ones counted too, are refused: a form sends one ``q`` per field)."""
    given = args.getlist("q")
    limit = engine().settings.trends_max_series
    if len(given) > limit:
        raise InvalidParameter("q", f"at most {limit} queries (series) can be compared at once")
    return [q for q in given if q.strip()]


def _choice(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise InvalidParameter(name, f"{name} must be " + " or ".join(f"'{a}'" for a in allowed))
    return value


def page_message(error: InvalidParameter) -> str:
    settings = engine().settings
    text = PARAMETER_TEXTS.get(error.name, "Die Anfrage enthält einen ungültigen Wert.")
    return text.format(max_series=settings.trends_max_series, max_width=settings.kwic_max_width,
                       max_page=settings.max_page, max_per_page=settings.kwic_max_per_page)


@blueprint.app_template_global("study_links")
def study_links(params) -> dict:
    """Links from a result page to the same query's trend, concordance, export and feed
    (the filters kept)."""
    filters = filter_args({"lang": params.lang, "source": params.source,
                           "category": params.category, "date_from": params.date_from,
                           "date_to": params.date_to})
    return {
        "trends": url_for("research.trends_page", q=params.q, **filters),
        "kwic": url_for("research.kwic_page", q=params.q, **filters),
        "csv": url_for("research.api_export", q=params.q, format="csv", sort=params.sort,
                       **filters),
        "jsonl": url_for("research.api_export", q=params.q, format="jsonl", sort=params.sort,
                         **filters),
        "feed": url_for("feed.feed", q=params.q, **filters),
    }


# -- the API -------------------------------------------------------------------------


@blueprint.get("/api/trends")
def api_trends():
    fmt = _choice("format", request.args.get("format", "json"), TREND_FORMATS)
    result = engine().trends(queries_of(request.args),
                             interval=request.args.get("interval", "month"),
                             **filters_of(request.args))
    if fmt == "csv":
        return Response(trends_csv(result), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 'attachment; filename="newssearch-trends.csv"'})
    return json_response(result)


@blueprint.get("/api/kwic")
def api_kwic():
    args = request.args
    return json_response(engine().kwic(
        args.get("q", ""), page=_number(args.get("page"), default=1),
        per_page=_number(args.get("per_page")), width=_number(args.get("width")),
        sort=args.get("sort", "date"), **filters_of(args)))


@blueprint.get("/api/export")
def api_export():
    args = request.args
    fmt = _choice("format", args.get("format", "csv"), EXPORT_FORMATS)
    export = engine().export(args.get("q", ""), sort=args.get("sort", "relevance"),
                             **filters_of(args))
    headers = {"Content-Disposition": f'attachment; filename="newssearch-export.{fmt}"',
               "X-Total-Count": str(export.total), "X-Export-Rows": str(export.rows),
               "Cache-Control": "no-store"}
    if export.message:
        headers["X-Export-Notice"] = export.message
    if export.reason:
        headers["X-Export-Reason"] = export.reason

    def body():
        try:
            chunk, size = [], 0
            for line in export.lines(fmt):
                chunk.append(line)
                size += len(line)
                if size >= EXPORT_CHUNK_BYTES:
                    yield "".join(chunk).encode("utf-8")
                    chunk, size = [], 0
            if chunk:
                yield "".join(chunk).encode("utf-8")
        finally:
            export.close()

    return Response(body(), headers=headers, content_type=EXPORT_MEDIA_TYPES[fmt])


# -- the pages -------------------------------------------------------------------------


@blueprint.get("/verlauf")
def trends_page():
    eng = engine()
    args = request.args
    interval = args.get("interval", "month")
    measure = args.get("measure", "rate")
    filters = filters_of(args)
    result, error, queries = None, None, []
    try:
        queries = queries_of(args)
        _choice("measure", measure, MEASURES)
        if interval not in TREND_INTERVALS:
            raise InvalidParameter("interval_value", "interval must be 'month', 'week' or 'day'")
        # Asked without a query too: every parameter is checked (and the page then shows
        # the form alone).
        result = eng.trends(queries, interval=interval, **filters)
    except InvalidParameter as refused:
        error = page_message(refused)
    form = {"queries": queries, "interval": interval, "measure": measure, **filters}
    if not queries:
        result = None
    drawn = chart.line_chart(result, measure, filters) if result else None
    base = dict(filter_args(filters), interval=interval, q=queries)
    return render_template(
        "trends.html", form=form, result=result, chart=drawn, error=error,
        max_series=eng.settings.trends_max_series, query=queries[0] if queries else "",
        csv_url=url_for("research.api_trends", format="csv", **base) if result else None,
        json_url=url_for("research.api_trends", **base) if result else None,
        measure_urls={m: url_for("research.trends_page", measure=m, **base) for m in MEASURES},
    ), 400 if error else 200


@blueprint.get("/kwic")
def kwic_page():
    eng = engine()
    args = request.args
    query = args.get("q", "")
    filters = filters_of(args)
    sort = args.get("sort", "date")
    form = {"q": query, "sort": sort, "width": args.get("width", ""), **filters}
    result, error = None, None
    try:
        # Asked without a query too: every parameter is checked.
        result = eng.kwic(query, page=_number(args.get("page"), default=1),
                          per_page=_number(args.get("per_page")),
                          width=_number(args.get("width"), blank=True), sort=sort, **filters)
    except InvalidParameter as refused:
        error = page_message(refused)
    if not query.strip():
        result = None
    base = dict(filter_args(filters), q=query)
    if args.get("width"):
        base["width"] = args.get("width")
    pages = None
    if result and result["total"] > result["per_page"]:
        last = min(-(-result["total"] // result["per_page"]), eng.settings.max_page)
        pages = {"page": result["page"], "last": last,
                 "previous": url_for("research.kwic_page", sort=sort, page=result["page"] - 1,
                                     **base) if result["page"] > 1 else None,
                 "next": url_for("research.kwic_page", sort=sort, page=result["page"] + 1,
                                 **base) if result["page"] < last else None}
    sorts = [{"value": value, "label": label, "current": value == sort,
              "url": url_for("research.kwic_page", sort=value, **base)}
             for value, label in (("date", "Datum"), ("left", "Wort links"),
                                  ("right", "Wort rechts"))]
    return render_template(
        "kwic.html", form=form, result=result, error=error, query=query, pages=pages,
        default_width=eng.settings.kwic_width,
        sorts=sorts, json_url=url_for("research.api_kwic", sort=sort, **base) if result else None,
        article_url=lambda article_id: url_for("pages.article", article_id=article_id, q=query),
    ), 400 if error else 200
