"""The OpenAPI description at /api/openapi.json, and schemathesis run against the live server."""

from __future__ import annotations

import json
import re

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from search import Settings
from web import create_app
from web.openapi import build_spec

SCHEMATHESIS = {"request-timeout": 30}


@pytest.fixture(scope="module")
def spec(web_server):
    status, headers, body = web_server.get("/api/openapi.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    return json.loads(body)


def _route_to_path(rule: str) -> str:
    """``/artikel/<article_id:article_id>`` → ``/artikel/{id}``."""
    return re.sub(r"<(?:[^:>]+:)?[^>]*id>", "{id}", rule)


def test_spec_is_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "newssearch" and spec["info"]["version"]
    # schemathesis refuses a document that is not valid OpenAPI.
    assert schemathesis.openapi.from_dict(spec) is not None


def test_spec_describes_every_route(spec, web_index_dir):
    app = create_app({"INDEX_DIR": web_index_dir})
    routes = {_route_to_path(rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"}
    assert routes == set(spec["paths"])
    for path, item in spec["paths"].items():
        assert set(item) == {"get"}, path
        assert item["get"]["responses"], path


def test_spec_limits_follow_the_settings(web_index_dir):
    settings = Settings(index_dir=web_index_dir, max_per_page=42, per_page=7)
    client = create_app({"SETTINGS": settings}).test_client()
    spec = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert set(params) == {"q", "page", "per_page", "sort", "lang", "source", "category", "from", "to",
                           "collapse", "exact_totals"}
    assert params["exact_totals"]["schema"]["default"] == "1"
    assert params["per_page"]["schema"]["maximum"] == 42
    assert params["per_page"]["schema"]["default"] == 7
    assert params["sort"]["schema"]["enum"] == ["relevance", "date"]
    assert client.get("/api/search?q=x&per_page=43").status_code == 400
    assert client.get("/api/search?q=x&per_page=42").status_code == 200


def test_search_responses_match_the_schema(web_server, spec):
    """A real result, with hits, facets and a suggestion, against the documented shape."""
    import jsonschema_rs

    def validator(name):
        document = {"$defs": spec["components"]["schemas"], "$ref": f"#/$defs/{name}"}
        text = json.dumps(document).replace("#/components/schemas/", "#/$defs/")
        return jsonschema_rs.Draft202012Validator(json.loads(text))

    for path in ("/api/search?q=Impfung", "/api/search?q=Impfnug", "/api/search?q=der"):
        result = json.loads(web_server.get(path)[2])
        validator("SearchResult").validate(result)
    hit = json.loads(web_server.get("/api/search?q=Impfung")[2])["hits"][0]
    validator("Article").validate(json.loads(web_server.get(f"/api/articles/{hit['id']}?q=Impfung")[2]))
    validator("Stats").validate(json.loads(web_server.get("/api/stats")[2]))
    validator("Error").validate(json.loads(web_server.get("/api/search?page=0")[2]))


# -- schemathesis against the running server --------------------------------------------

# The operations, known before the server starts: the description depends on settings only.
OPERATIONS = sorted(build_spec(Settings())["paths"])
EXAMPLES = 30


@pytest.fixture(scope="module")
def live_schema(web_server):
    config = schemathesis.Config.from_dict(SCHEMATHESIS)
    return schemathesis.openapi.from_url(web_server.url + "/api/openapi.json", config=config)


def valid_data_accepted(ctx, response, case):
    """Valid parameters are answered, never rejected, except for the one rule that a schema
    cannot state: ``from`` must not be after ``to``."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    query = case.query or {}
    start, end = str(query.get("from") or ""), str(query.get("to") or "")
    if start and end and start[:len(end)] > end[:len(start)]:
        return None
    raise AssertionError(f"valid data rejected with 400 for {query}: {response.text[:300]}")


def no_stack_traces(ctx, response, case):
    """Whatever is asked, an answer never shows a stack trace."""
    text = response.content.decode("utf-8", "replace")
    assert "Traceback" not in text and 'File "' not in text
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize("path", OPERATIONS)
def test_live_api_conforms_to_openapi(live_schema, path, mode):
    """schemathesis' cases for one operation, sent to the live server, with all its checks."""
    operation = live_schema[path]["GET"]
    if mode is GenerationMode.NEGATIVE and not operation.query and not operation.path_parameters:
        return  # nothing to get wrong
    calls = []

    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        calls.append(case)
        case.call_and_validate(excluded_checks=[positive_data_acceptance],
                               additional_checks=[valid_data_accepted, no_stack_traces],
                               timeout=30)

    check()
    assert calls
