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
    ]


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
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["code", "message"], "additionalProperties": False,
                "properties": {"code": string, "message": string}}},
        },
        "Hit": {
            "type": "object",
            "required": ["id", "title", "date", "lang", "source", "category", "url", "score",
                         "snippet", "snippet_text"],
            "properties": {
                "id": string, "title": string, "date": _nullable("string"),
                "lang": _nullable("string"), "source": _nullable("string"),
                "category": _nullable("string"), "url": _nullable("string"),
                "score": _nullable("number"),
                "snippet": {"type": "string",
                            "description": "HTML: escaped text, matched words in <mark>."},
                "snippet_text": string,
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
                         "hits", "facets", "suggestion"],
            "properties": {
                "query": string, "total": integer,
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
            "required": ["id", "title", "date", "lang", "source", "category", "url", "text",
                         "paragraphs"],
            "properties": {
                "id": string, "title": string, "date": _nullable("string"),
                "lang": _nullable("string"), "source": _nullable("string"),
                "category": _nullable("string"), "url": _nullable("string"),
                "text": string,
                "paragraphs": {"type": "array", "items": string},
                "paragraphs_html": {
                    "type": "array", "items": string,
                    "description": "Only with q: the paragraphs as HTML, matched words in "
                                   "<mark>."},
            },
        },
        "Stats": {
            "type": "object",
            "required": ["documents", "languages", "sources", "categories", "first_date",
                         "last_date", "size_bytes", "indexed_at", "generation"],
            "properties": {
                "documents": integer, "languages": counts, "sources": counts,
                "categories": counts, "first_date": _nullable("string"),
                "last_date": _nullable("string"), "size_bytes": integer,
                "indexed_at": _nullable("string"), "generation": string,
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
            "/api/search": {"get": {
                "operationId": "search", "summary": "Search the articles",
                "parameters": search_parameters(settings),
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
