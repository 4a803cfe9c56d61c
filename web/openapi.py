"""The OpenAPI 3.1 description of the JSON API and the pages, served at ``/api/openapi.json``."""

from __future__ import annotations

from importlib import metadata

from search import Settings

DATE_PATTERN = r"^(\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?)?$"


def _version() -> str:
    try:
        return metadata.version("newssearch")
    except metadata.PackageNotFoundError:
        return "0"


def _nullable(kind: str) -> dict:
    return {"type": [kind, "null"]}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _several(name: str, description: str) -> dict:
    """A filter that takes several values, repeated: ``source=a&source=b``."""
    return {**_query(name, f"{description} Repeat the parameter for several values "
                           f"({name}=a&{name}=b): any of them matches (OR); different "
                           f"filters must all match (AND). Empty values are ignored.",
                     {"type": "array", "items": {"type": "string"}}),
            "style": "form", "explode": True}


def search_parameters(settings: Settings) -> list[dict]:
    text = {"type": "string"}
    return [
        _query("q", "The query (see the query language). Any text is valid; an empty query "
                    "gives no hits and the reason 'empty query'.", text),
        _query("page", "Page of hits, from 1.",
               {"type": "integer", "minimum": 1, "maximum": settings.max_page, "default": 1}),
        _query("per_page", "Hits per page.",
               {"type": "integer", "minimum": 1, "maximum": settings.max_per_page,
                "default": settings.per_page}),
        _query("sort", "Order of hits: by relevance, or newest first.",
               {"type": "string", "enum": ["relevance", "date"], "default": "relevance"}),
        _several("lang", "Only articles in these languages (ISO codes such as de, en)."),
        _several("source", "Only articles of these sources (any case)."),
        _several("category", "Only articles of these categories (any case)."),
        _query("from", "From this date on (YYYY, YYYY-MM or YYYY-MM-DD), inclusive. "
                       "Must not be after 'to'. Empty: no bound.",
               {"type": "string", "pattern": DATE_PATTERN}),
        _query("to", "Up to this date (YYYY, YYYY-MM or YYYY-MM-DD), inclusive. "
                     "Empty: no bound.",
               {"type": "string", "pattern": DATE_PATTERN}),
        _query("collapse", "1: the best-ranked article of each near-duplicate cluster (one "
                           "story in several outlets or versions) stands for the others, "
                           "which its hit lists under duplicates; pages run over stories. "
                           "0: every article is a hit. Totals and facets count articles "
                           "either way. Empty: the server's default.",
               {"type": "string", "enum": ["", "0", "1"],
                "default": "1" if settings.collapse_duplicates else "0"}),
    ]


def _exact_totals(settings: Settings) -> dict:
    return _query("exact_totals", "1: total and facets count every match. 0: only the "
                                  "hits are needed (as Elasticsearch's track_total_hits="
                                  "false): facets are not counted (empty), and an OR, a "
                                  "prefix or the ranked fallback scores only the articles "
                                  "that can reach the page; total then counts the articles "
                                  "seen, a lower bound flagged total_is_estimate. Empty: the "
                                  "server's default.",
                  {"type": "string", "enum": ["", "0", "1"],
                   "default": "1" if settings.exact_totals else "0"})


def _compare_parameters() -> list[dict]:
    article_id = {"type": "string", "minLength": 1, "maxLength": 200}
    return [{"name": name, "in": "query", "required": True, "schema": article_id,
             "description": f"The id of version {label} (any string of 1 to 200 characters "
                            f"without control characters)."}
            for name, label in (("a", "A, the one compared from"), ("b", "B, the one compared to"))]


def _keep_parameter() -> dict:
    return {"name": "keep", "in": "query", "required": False, "explode": True,
            "description": "Sent by the page's search form: a new query starts without the "
                           "filters and sort it carries unless one value is 1 (the box "
                           "'Filter beibehalten'). Answered with a redirect to the search.",
            "schema": {"type": "array", "items": {"type": "string", "enum": ["0", "1"]}}}


def _id_parameter() -> dict:
    return {"name": "id", "in": "path", "required": True,
            "description": "The article id, URL-quoted (any string of 1 to 200 characters "
                           "without control characters).",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def schemas() -> dict:
    string = {"type": "string"}
    integer = {"type": "integer", "minimum": 0}
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    facet_list = {"type": "array", "items": {"$ref": "#/components/schemas/FacetValue"}}
    return {
        **research_schemas(),
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["code", "message"], "additionalProperties": False,
                "properties": {"code": string, "message": string}}},
        },
        "Version": {
            "type": "object", "required": ["id", "title", "source", "date", "url"],
            "description": "Another article of the same near-duplicate cluster, in brief.",
            "properties": {"id": string, "title": _nullable("string"),
                           "source": _nullable("string"), "date": _nullable("string"),
                           "url": _nullable("string")},
        },
        "Hit": {
            "type": "object",
            "required": ["id", "title", "date", "lang", "source", "category", "url", "score",
                         "snippet", "snippet_text", "folded", "duplicates"],
            "properties": {
                "id": string, "title": string, "date": _nullable("string"),
                "lang": _nullable("string"), "source": _nullable("string"),
                "category": _nullable("string"), "url": _nullable("string"),
                "score": _nullable("number"),
                "snippet": {"type": "string",
                            "description": "HTML: escaped text, matched words in <mark>."},
                "snippet_text": string,
                "folded": {**integer, "description": "Collapsed: how many matching articles "
                           "of this hit's near-duplicate cluster it stands for (0: none, or "
                           "not collapsed)."},
                "duplicates": {"type": "array", "items": {"$ref": "#/components/schemas/Version"},
                               "description": "The first of the folded articles, in rank "
                                              "order (at most the server's "
                                              "duplicates_per_hit)."},
            },
        },
        "FacetValue": {
            "type": "object", "required": ["value", "count"],
            "properties": {"value": string, "count": integer},
        },
        "Facets": {
            "type": "object", "required": ["month", "lang", "source", "category"],
            "properties": {"month": facet_list, "lang": facet_list, "source": facet_list,
                           "category": facet_list},
        },
        "Suggestion": {
            "type": "object", "required": ["query", "total"],
            "properties": {"query": string, "total": integer},
        },
        "SearchResult": {
            "type": "object",
            "required": ["query", "total", "page", "per_page", "took_ms", "mode", "reason",
                         "hits", "facets", "suggestion", "collapse", "stories", "folded"],
            "description": "Counts: total and every facet count count ARTICLES (every "
                           "matching article, whether collapsed or not); stories counts the "
                           "near-duplicate clusters among them when collapsed, and then the "
                           "pages run over stories (page n shows stories (n-1)*per_page+1 "
                           "on). folded = total - stories.",
            "properties": {
                "query": string,
                "total": {**integer, "description": "Matching articles."},
                "collapse": {"type": "boolean",
                             "description": "Whether near-duplicates were folded under the "
                                            "best-ranked article of their cluster."},
                "stories": {**_nullable("integer"), "minimum": 0,
                            "description": "Collapsed: the near-duplicate clusters (stories) "
                                           "among the matching articles; null when not "
                                           "collapsed."},
                "folded": {**integer, "description": "Matching articles folded under "
                                                     "another hit (0 when not collapsed)."},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "took_ms": {"type": "number", "minimum": 0},
                "mode": {"type": "string", "enum": ["all", "any"],
                         "description": "all: every word matched; any: ranked fallback "
                                        "where some words matched."},
                "reason": {**_nullable("string"),
                           "description": "Why the result is empty when it is not for lack "
                                          "of matches."},
                "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                "facets": {"$ref": "#/components/schemas/Facets",
                           "description": "Counts per value over the matches of the query "
                                          "and every filter but the facet's own (month: "
                                          "without from/to), so that more values of a "
                                          "facet can be chosen."},
                "suggestion": {"oneOf": [{"$ref": "#/components/schemas/Suggestion"},
                                         {"type": "null"}]},
                "timed_out": {"type": "boolean", "enum": [True],
                              "description": "Present when the search ran out of its time "
                                             "budget (search_time_budget_seconds): the hits "
                                             "are the best found by then, the total counts "
                                             "the matches found by then."},
                "total_is_estimate": {"type": "boolean", "enum": [True],
                                      "description": "Present when total (and stories) "
                                                     "is a lower bound: exact_totals=0 left "
                                                     "out articles that could not reach the "
                                                     "page, or the search ran out of time."},
                "shards": {
                    "type": "object", "required": ["total", "answered"],
                    "properties": {"total": {"type": "integer", "minimum": 1},
                                   "answered": {"type": "integer", "minimum": 0}},
                    "description": "Only on the sharded Xapian backend: how many shards "
                                   "answered. Fewer than total means a partial result."},
            },
        },
        "Article": {
            "type": "object",
            "required": ["id", "title", "date", "lang", "source", "category", "url", "authors",
                         "text", "paragraphs", "cluster", "versions"],
            "properties": {
                "id": string, "title": string, "date": _nullable("string"),
                "lang": _nullable("string"), "source": _nullable("string"),
                "category": _nullable("string"), "url": _nullable("string"),
                "authors": {"type": "array", "items": string,
                            "description": "As the record or the page names them; empty "
                                           "when unknown."},
                "text": string,
                "paragraphs": {"type": "array", "items": string},
                "paragraphs_html": {
                    "type": "array", "items": string,
                    "description": "Only with q: the paragraphs as HTML, matched words in "
                                   "<mark>."},
                "cluster": {"type": "string",
                            "description": "The id of its near-duplicate cluster: the "
                                           "smallest id among the articles in it (its own id "
                                           "when it stands alone)."},
                "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"},
                             "description": "The other articles of its near-duplicate cluster "
                                            "(the same story elsewhere or in another version), "
                                            "oldest first."},
            },
        },
        "Difference": {
            "type": "object", "required": ["paragraphs", "similarity", "removed", "added",
                                           "truncated"],
            "properties": {
                "paragraphs": {"type": "array", "items": {"type": "array", "items": {
                    "type": "object", "required": ["op", "text"],
                    "properties": {"op": {"type": "string", "enum": ["same", "removed", "added"]},
                                   "text": string}}},
                    "description": "Paragraphs of segments of plain text (escape it to show "
                                   "it): removed from A, added in B, or the same."},
                "similarity": {"type": "number", "minimum": 0, "maximum": 1,
                               "description": "Share of matching words."},
                "removed": integer, "added": integer,
                "truncated": {"type": "boolean",
                              "description": "Only the first words of a long text were "
                                             "compared."},
            },
        },
        "Comparison": {
            "type": "object", "required": ["first", "second", "title", "text"],
            "properties": {
                "first": {"$ref": "#/components/schemas/Version"},
                "second": {"$ref": "#/components/schemas/Version"},
                "title": {"$ref": "#/components/schemas/Difference"},
                "text": {"$ref": "#/components/schemas/Difference"},
            },
        },
        "Stats": {
            "type": "object",
            "required": ["documents", "languages", "sources", "categories", "first_date",
                         "last_date", "size_bytes", "indexed_at", "generation", "duplicates"],
            "properties": {
                "documents": integer, "languages": counts, "sources": counts,
                "categories": counts, "first_date": _nullable("string"),
                "last_date": _nullable("string"), "size_bytes": integer,
                "indexed_at": _nullable("string"), "generation": string,
                "duplicates": {
                    "type": "object", "required": ["clusters", "articles"],
                    "properties": {"clusters": integer, "articles": integer},
                    "description": "Near-duplicate clusters of two or more articles, and the "
                                   "articles in them."},
            },
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}},
        },
    }


def _json(description: str, schema: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def build_spec(settings: Settings) -> dict:
    no_index = _error("There is no index yet.")
    bad = _error("A parameter is invalid (the query text itself never is).")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newssearch",
            "version": _version(),
            "description": "Full-text search for news archives, German first. The JSON of "
                           "/api/search is exactly that of `newssearch search --json`.",
        },
        "paths": {
            **research_paths(settings),
            "/api/search": {"get": {
                "operationId": "search", "summary": "Search the articles",
                "parameters": [*search_parameters(settings), _exact_totals(settings)],
                "responses": {"200": _json("One page of hits, with facets.", "SearchResult"),
                              "400": bad, "503": no_index},
            }},
            "/api/articles/{id}": {"get": {
                "operationId": "getArticle", "summary": "One stored article",
                "parameters": [_id_parameter(),
                               _query("q", "Highlight this query's words in paragraphs_html.",
                                      {"type": "string"})],
                "responses": {"200": _json("The article.", "Article"),
                              "404": _error("No article with this id."), "503": no_index},
            }},
            "/api/compare": {"get": {
                "operationId": "compare", "summary": "What differs between two articles",
                "parameters": _compare_parameters(),
                "responses": {"200": _json("The word-level difference of their titles and "
                                           "texts.", "Comparison"),
                              "400": bad, "404": _error("No article with one of these ids."),
                              "503": no_index},
            }},
            "/api/stats": {"get": {
                "operationId": "stats", "summary": "What the index holds",
                "responses": {"200": _json("Counts, dates and size of the index.", "Stats"),
                              "503": no_index},
            }},
            "/healthz": {"get": {
                "operationId": "health", "summary": "Whether the index can be searched",
                "description": "Opens the current index generation, checks its files against "
                               "the sizes they were written with and searches one common word.",
                "responses": {"200": _json("Ready.", "Health"),
                              "503": _error("No index yet (index_missing), or the index is "
                                            "damaged (index_damaged; the message says why).")},
            }},
            "/api/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This description",
                "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}}},
            }},
            "/robots.txt": {"get": {
                "operationId": "robots", "summary": "What crawlers are asked to leave alone",
                "responses": {"200": {"description": "robots.txt (robots_disallow).",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }},
            "/": {"get": {
                "operationId": "searchPage", "summary": "The search page (HTML)",
                "parameters": [*search_parameters(settings), _keep_parameter()],
                "responses": {"200": _html("The search page."),
                              "303": {"description": "A query from the page's form (with "
                                                     "keep): on to the search it asks for."},
                              "400": _html("A parameter is invalid."),
                              "503": _html("There is no index yet.")},
            }},
            "/vergleich": {"get": {
                "operationId": "comparePage", "summary": "Two versions compared (HTML)",
                "parameters": _compare_parameters(),
                "responses": {"200": _html("The difference."),
                              "400": _html("An id is missing or invalid."),
                              "404": _html("No article with one of these ids."),
                              "503": _html("There is no index yet.")},
            }},
            "/artikel/{id}": {"get": {
                "operationId": "articlePage", "summary": "An article page (HTML)",
                "description": "The search parameters are those of the result page the "
                               "article was found on: q's words are highlighted and the page "
                               "links back to that result page. A parameter that is not valid "
                               "is left out of that link; the article is shown all the same.",
                "parameters": [_id_parameter(), *search_parameters(settings),
                               _query("hl", "0: show the article without highlighting "
                                            "(the link back stays).",
                                      {"type": "string", "enum": ["0", "1"]})],
                "responses": {"200": _html("The article."),
                              "404": _html("No article with this id."),
                              "503": _html("There is no index yet.")},
            }},
            "/statistik": {"get": {
                "operationId": "statisticsPage",
                "summary": "What the index holds (HTML); the same as /api/stats",
                "responses": {"200": _html("The statistics page."),
                              "503": _html("There is no index yet.")},
            }},
        },
        "components": {"schemas": schemas()},
    }


# -- for those who study the news: trends, keyword in context, export, feeds ----------


FILTER_NAMES = ("lang", "source", "category", "from", "to")
_SHARDS = {"type": "object", "required": ["total", "answered"],
           "properties": {"total": {"type": "integer", "minimum": 1},
                          "answered": {"type": "integer", "minimum": 0}},
           "description": "Only on the sharded Xapian backend: how many shards answered."}


def filter_parameters(settings: Settings) -> list[dict]:
    return [p for p in search_parameters(settings) if p["name"] in FILTER_NAMES]


def _series_parameter(settings: Settings) -> dict:
    return {"name": "q", "in": "query", "required": False, "explode": True, "style": "form",
            "description": f"One query per series (repeat q, at most "
                           f"{settings.trends_max_series}), each in the full query language; "
                           f"empty ones are left out. None: the totals alone.",
            "schema": {"type": "array", "items": {"type": "string"},
                       "maxItems": settings.trends_max_series}}


def _interval_parameter() -> dict:
    return _query("interval", "Intervals: calendar months, ISO weeks (Monday to Sunday) or "
                              "days. Refused when the span of the articles holds more "
                              "intervals than the setting trends_max_intervals.",
                  {"type": "string", "enum": ["month", "week", "day"], "default": "month"})


def _kwic_parameters(settings: Settings, *, form: bool = False) -> list[dict]:
    width = {"type": "integer", "minimum": 1, "maximum": settings.kwic_max_width,
             "default": settings.kwic_width}
    if form:  # the page's field may be left empty
        width = {"anyOf": [width, {"type": "string", "maxLength": 0}]}
    return [
        _query("q", "The query; its words and phrases are shown where they occur.",
               {"type": "string"}),
        _query("page", "Page of lines, from 1.",
               {"type": "integer", "minimum": 1, "maximum": settings.max_page, "default": 1}),
        _query("per_page", "Lines per page.",
               {"type": "integer", "minimum": 1, "maximum": settings.kwic_max_per_page,
                "default": settings.kwic_per_page}),
        _query("width", "Characters of context on each side.", width),
        _query("sort", "Order of the lines: by date (newest article first), or by the words "
                       "left or right of the match.",
               {"type": "string", "enum": ["date", "left", "right"], "default": "date"}),
        *filter_parameters(settings),
    ]


def research_paths(settings: Settings) -> dict:
    bad = _error("A parameter is invalid (the query text itself never is).")
    no_index = _error("There is no index yet.")
    text = {"schema": {"type": "string"}}
    export_headers = {
        "X-Total-Count": {"description": "The hits of the search.",
                          "schema": {"type": "integer", "minimum": 0}},
        "X-Export-Rows": {"description": "The rows written (at most export_max_rows).",
                          "schema": {"type": "integer", "minimum": 0}},
        "X-Export-Notice": {"description": "Only when the export is cut at export_max_rows: "
                                           "says so.", "schema": {"type": "string"}},
    }
    return {
        "/api/trends": {"get": {
            "operationId": "trends", "summary": "Matches per month, week or day, against all "
                                                "articles then",
            "description": "Counted from the index's date column. Counts are articles: "
                           "near-duplicates are not folded. Every filter applies to "
                           "counts and totals alike; rate is per 10,000 articles of the "
                           "interval (null where it holds none).",
            "parameters": [_series_parameter(settings), _interval_parameter(),
                           _query("format", "json, or csv (one row per series and interval).",
                                  {"type": "string", "enum": ["json", "csv"],
                                   "default": "json"}),
                           *filter_parameters(settings)],
            "responses": {"200": {"description": "The series.", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Trends"}},
                "text/csv": text}}, "400": bad, "503": no_index},
        }},
        "/api/kwic": {"get": {
            "operationId": "kwic", "summary": "Every occurrence of a query in its context",
            "description": "Matching articles are read newest first, at most "
                           f"{settings.kwic_max_articles:,} of them and up to "
                           f"{settings.kwic_max_lines:,} occurrences (settings "
                           "kwic_max_articles, kwic_max_lines); cut and message say when a "
                           "bound was reached.",
            "parameters": _kwic_parameters(settings),
            "responses": {"200": _json("One page of lines.", "Kwic"), "400": bad,
                          "503": no_index},
        }},
        "/api/export": {"get": {
            "operationId": "export", "summary": "Every hit of a search as CSV or JSON Lines",
            "description": "Streamed: id, date, source, title, url, score, snippet (plain "
                           "text), one row per matching article (near-duplicates are not "
                           "folded), in the order of the search, at most "
                           f"{settings.export_max_rows:,} rows (setting export_max_rows).",
            "parameters": [
                _query("q", "The query, as for /api/search.", {"type": "string"}),
                _query("format", "csv (RFC 4180, with a header) or jsonl (one JSON object "
                                 "per line).",
                       {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}),
                _query("sort", "Order of the rows: as the search orders its hits.",
                       {"type": "string", "enum": ["relevance", "date"],
                        "default": "relevance"}),
                *filter_parameters(settings)],
            "responses": {"200": {"description": "The rows.", "headers": export_headers,
                                  "content": {"text/csv": text, "application/x-ndjson": text}},
                          "400": bad, "503": no_index},
        }},
        "/feed": {"get": {
            "operationId": "feed", "summary": "Atom feed of the newest matching articles",
            "description": f"The newest {settings.feed_entries} articles matching the query "
                           f"(setting feed_entries), newest first, with stable entry ids.",
            "parameters": [_query("q", "The query, as for /api/search.", {"type": "string"}),
                           *filter_parameters(settings)],
            "responses": {"200": {"description": "An Atom 1.0 document.",
                                  "content": {"application/atom+xml": text}},
                          "400": bad, "503": no_index},
        }},
        "/verlauf": {"get": {
            "operationId": "trendsPage", "summary": "The trends as a line chart (HTML)",
            "parameters": [_series_parameter(settings), _interval_parameter(),
                           _query("measure", "Plot the rate per 10,000 articles or the count.",
                                  {"type": "string", "enum": ["rate", "count"],
                                   "default": "rate"}),
                           *filter_parameters(settings)],
            "responses": {"200": _html("The trends page."),
                          "400": _html("A parameter is invalid (said beside the form)."),
                          "503": _html("There is no index yet.")},
        }},
        "/kwic": {"get": {
            "operationId": "kwicPage", "summary": "Keyword in context, aligned on the match "
                                                  "(HTML)",
            "parameters": _kwic_parameters(settings, form=True),
            "responses": {"200": _html("The concordance page."),
                          "400": _html("A parameter is invalid (said beside the form)."),
                          "503": _html("There is no index yet.")},
        }},
    }


def research_schemas() -> dict:
    string = {"type": "string"}
    count = {"type": "integer", "minimum": 0}
    nullable_string = _nullable("string")
    point = {
        "type": "object", "required": ["key", "from", "to", "count", "total", "rate"],
        "properties": {
            "key": {"type": "string", "description": "2020-03, 2020-W10 or 2020-03-02."},
            "from": {"type": "string", "description": "The interval's first day (or month) "
                                                      "as the search's from takes it."},
            "to": {"type": "string", "description": "Its last day (or month)."},
            "count": count, "total": count,
            "rate": {"type": ["number", "null"], "minimum": 0,
                     "description": "count per 10,000 of total; null when total is 0."}},
    }
    return {
        "Trends": {
            "type": "object",
            "required": ["interval", "from", "to", "filters", "per", "intervals", "series",
                         "imprecise", "took_ms"],
            "properties": {
                "interval": {"type": "string", "enum": ["month", "week", "day"]},
                "from": nullable_string, "to": nullable_string,
                "filters": {"type": "object"},
                "per": {"type": "integer", "enum": [10000]},
                "intervals": {"type": "array", "items": {
                    "type": "object", "required": ["key", "from", "to", "total"],
                    "properties": {"key": string, "from": string, "to": string,
                                   "total": count}}},
                "series": {"type": "array", "items": {
                    "type": "object", "required": ["query", "total", "reason", "points"],
                    "properties": {"query": string, "total": count, "reason": nullable_string,
                                   "points": {"type": "array", "items": point}}}},
                "imprecise": {**count, "description": "Articles dated to a month only, left "
                                                      "out of weekly and daily trends."},
                "took_ms": {"type": "number", "minimum": 0},
                "shards": _SHARDS,
            },
        },
        "KwicLine": {
            "type": "object",
            "required": ["id", "title", "date", "source", "field", "offset", "left", "match",
                         "right"],
            "properties": {
                "id": string, "title": string, "date": nullable_string,
                "source": nullable_string,
                "field": {"type": "string", "enum": ["title", "text"]},
                "offset": {**count, "description": "Where the match starts in the field's "
                                                   "stored text."},
                "left": string, "match": string, "right": string},
        },
        "Kwic": {
            "type": "object",
            "required": ["query", "page", "per_page", "width", "sort", "total", "articles",
                         "articles_read", "cut", "message", "reason", "limits", "lines",
                         "took_ms"],
            "properties": {
                "query": string, "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "width": {"type": "integer", "minimum": 1},
                "sort": {"type": "string", "enum": ["date", "left", "right"]},
                "total": {**count, "description": "Occurrences found (all pages)."},
                "articles": {**count, "description": "Articles matching the query."},
                "articles_read": count,
                "cut": {"type": "boolean"}, "message": nullable_string,
                "reason": nullable_string,
                "limits": {"type": "object", "required": ["articles", "lines"],
                           "properties": {"articles": count, "lines": count}},
                "lines": {"type": "array", "items": {"$ref": "#/components/schemas/KwicLine"}},
                "took_ms": {"type": "number", "minimum": 0},
                "shards": _SHARDS,
            },
        },
    }
