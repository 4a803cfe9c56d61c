"""Query fuzzing through the Python API: whatever is typed gets an answer.

At least 10,000 generated queries (random unicode including lone surrogates and
control characters, operators, quotes, brackets, field prefixes, huge and empty
strings) and random search parameters go through ``Engine.search``. The only
exception allowed is ``InvalidParameter`` for a bad page, page size, sort or
date (never for the query text); every result has the documented shape, is
strict JSON and its snippets carry no markup but ``<mark>``.
"""

from __future__ import annotations

import json
import os
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import Engine, InvalidParameter, Settings, index_paths
from support.fuzz import ANY_CHAR, DATE_VALUES, queries
from support.shapes import check_result_shape, dumps_strict

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 10_000))

_FACET_VALUE = st.one_of(st.sampled_from(["de", "en", "fr", "zeit.de", "Sport", "payload.example",
                                          "", " "]),
                         st.text(ANY_CHAR, max_size=10))
_DATE_PARAM = st.one_of(st.sampled_from(DATE_VALUES + [""]), st.text(ANY_CHAR, max_size=10))
_ABSENT = object()


def _param(valid, invalid):
    """Mostly absent or valid. (Hypothesis favours the first and last choices.)"""
    absent = st.just(_ABSENT)
    return st.one_of(absent, valid, absent, valid, invalid, valid, absent, valid, absent)


_PARAMS = st.fixed_dictionaries({
    "page": _param(st.integers(1, 4),
                   st.sampled_from([0, -1, 1000, 1001, 10**9, True, 1.5, "2", None])),
    "per_page": _param(st.integers(1, 100), st.sampled_from([0, -1, 101, None, "10", 2.0, False])),
    "sort": _param(st.sampled_from(["relevance", "date"]), st.sampled_from(["Date", "", "score", None])),
    "lang": _param(st.sampled_from(["de", "en", "fr"]), _FACET_VALUE),
    "source": _param(st.sampled_from(["zeit.de", "payload.example", ""]), _FACET_VALUE),
    "category": _param(st.sampled_from(["Sport", "Test", " "]), _FACET_VALUE),
    "date_from": _param(st.sampled_from(["2019", "2020-03", "2021-02-01"]), _DATE_PARAM),
    "date_to": _param(st.sampled_from(["2021", "2021-03", "2024-06-30"]), _DATE_PARAM),
})
parameters = _PARAMS.map(lambda params: {k: v for k, v in params.items() if v is not _ABSENT})


def _valid(params: dict, settings: Settings) -> bool:
    """Whether ``Engine.check_params`` should accept these parameters (documented ranges)."""
    try:
        Engine(settings).check_params(**{k: v for k, v in params.items()
                                        if k in ("page", "per_page", "sort", "date_from", "date_to")})
        return True
    except InvalidParameter:
        return False


@pytest.fixture(scope="module")
def fuzz_engine(payload_index):
    with Engine(Settings(index_dir=payload_index.index_dir)) as engine:
        yield engine


_PARAM_OF_ERROR = {"page": "page", "per_page": "per_page", "sort": "sort", "from": "date_from",
                   "to": "date_to"}


@pytest.mark.slow
def test_ten_thousand_generated_queries_never_raise(fuzz_engine):
    seen = {"queries": 0, "hits": 0, "refused": 0, "huge": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=queries, params=parameters)
    def check(query, params):
        seen["huge"] += len(query) > 10_000
        params = dict(params)
        for _ in range(len(params) + 1):
            try:
                result = fuzz_engine.search(query, **params)
                break
            except InvalidParameter as error:
                # Only a parameter may be refused, never the query text; then the query
                # is searched again without that parameter.
                assert error.name in _PARAM_OF_ERROR, error.name
                assert _PARAM_OF_ERROR[error.name] in params, (error.name, params)
                assert not _valid(params, fuzz_engine.settings), (params, error)
                seen["refused"] += 1
                del params[_PARAM_OF_ERROR[error.name]]
        else:
            raise AssertionError(f"valid parameters refused: {params}")
        seen["queries"] += 1
        data = result.to_dict()
        check_result_shape(data)
        json.loads(dumps_strict(data))
        # The part of the query that is searched is echoed as given; lone surrogates
        # (no valid text) as U+FFFD.
        searched = query[: fuzz_engine.settings.max_query_chars]
        assert data["query"] == re.sub("[\ud800-\udfff]", "\ufffd", searched)
        seen["hits"] += len(data["hits"])

    check()
    assert seen["queries"] >= EXAMPLES, seen
    # The generator must reach the interesting places, not only trivial misses.
    assert seen["hits"] > EXAMPLES // 40, seen
    assert seen["refused"] > EXAMPLES // 20, seen
    assert seen["huge"] > EXAMPLES // 100, seen


@pytest.mark.parametrize("query", [
    "(" * 1000 + "Bundestag", "(" * 5000, "-(" * 600 + "a", "NOT (" * 400 + "x" + ")" * 400,
    "title:(" * 500, '("' * 800, "a OR " * 3000 + "b", "-" * 20000, "\ud800" * 5000,
    "Impf" + "*" * 1000, "date:" + "2020.." * 1000, "*" * 100000,
    # The lexer once looped for ever on an unknown field prefix after a space.
    "a https:foo", "siehe https://zeit.de/x?a=b Merkel", "Treffen (Uhr:30) x:y", "\tfoo:bar",
])
def test_pathological_queries(fuzz_engine, query):
    result = fuzz_engine.search(query).to_dict()
    check_result_shape(result)
    json.loads(dumps_strict(result))


def test_known_queries_still_find_articles(fuzz_engine):
    """The fuzzing index answers real queries, so the fuzz run above is meaningful."""
    assert fuzz_engine.search("Bundestag").total > 0
    found = fuzz_engine.search("Zwiebelturmkonstrukteur", per_page=50).to_dict()
    check_result_shape(found)
    assert found["total"] >= 11
    assert any("&lt;script&gt;" in hit["snippet"] or "&lt;img" in hit["snippet"]
               for hit in found["hits"]), "payload text is kept (escaped) in snippets"


def _term_leaves(compiled) -> int:
    if compiled is None:
        return 0
    children = getattr(compiled, "subqueries", None) or getattr(compiled, "clauses", None)
    if children:
        return sum(_term_leaves(child) for child in children)
    child = getattr(compiled, "child", None) or getattr(compiled, "query", None)
    return _term_leaves(child) if child is not None else 1


def test_the_work_of_one_query_is_bounded(tmp_path):
    """Prefix words expand to at most a fixed number of terms per query, and a repeated
    clause is compiled once: "Impf* " × 100 took eight minutes on 28,000 articles."""
    from search import Settings
    from search import query as q

    budget = Settings().prefix_max_terms_per_query

    rng = random.Random(7)
    words = {p + "".join(rng.choice("bdfgklmnprstvwz") for _ in range(6))
             for p in ("ka", "ma", "sa", "ta", "ra") for _ in range(4000)}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "many.jsonl").write_text("".join(json.dumps(
        {"id": f"many-{n}", "lang": "en", "title": "Many words",
         "text": " ".join(sorted(words)[n::4])}) + "\n" for n in range(4)), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([corpus], settings)
    with Engine(settings) as engine:
        assert engine.search("ka*").total == 4
        with engine.session() as session:
            one = _term_leaves(session.compile(q.parse("ka*")))
            assert one > 1000
            assert _term_leaves(session.compile(q.parse("ka* " * 100))) == one
            assert _term_leaves(session.compile(q.parse(" OR ".join(["ka*"] * 100)))) == one
            many = _term_leaves(session.compile(q.parse("ka* ma* sa* ta* ra* " * 20)))
            assert many <= budget + 100, many
        result = engine.search("ka* ma* sa* ta* ra* " * 20)
        assert result.total == 4
