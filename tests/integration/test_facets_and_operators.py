"""Multi-select facets and German operators, on both backends, over real FANG-COVID parts.

Within one facet the chosen values are OR-ed, across facets AND-ed, and each
facet is counted over every filter but its own, so a multi-select's total and
counts must equal the sums of the single selections. ``ODER``, ``UND`` and
``NICHT`` (capitals only) are ``OR``, ``AND`` and ``NOT``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from support.corpora import shared_file

# About 1,000 articles of Nov 2020 from three sources.
PARTS = ("part-020.jsonl.gz",)
QUERIES = ("Impfung", "Corona Schule", "Lockdown OR Ausgangssperre", "Weihnachten")


def fang_parts() -> list[Path]:
    return [shared_file("fang-covid-real", name) for name in PARTS]


@pytest.fixture(scope="module", params=["whoosh", "xapian"])
def engine(request, tmp_path_factory):
    """An engine on the same articles: a Whoosh index, or a local Xapian cluster of 2 shards."""
    from search import Engine, Settings, index_paths

    folder = tmp_path_factory.mktemp(f"facets-{request.param}")
    if request.param == "whoosh":
        report = index_paths(fang_parts(), Settings(index_dir=folder))
    else:
        from search.backends.xapian.indexer import index_cluster

        report = index_cluster(fang_parts(), Settings(index_dir=folder, shards=2))
    assert report.documents > 900, report.to_dict()
    found = Engine(Settings(index_dir=folder))
    yield found
    found.close()


def counts(result, facet: str) -> dict:
    return {v["value"]: v["count"] for v in result.facets[facet]}


def ids(engine, query: str, **filters) -> set[str]:
    found = set()
    page = 1
    while True:
        result = engine.search(query, page=page, per_page=100, suggest=False, collapse=False,
                               **filters)  # every article
        found.update(hit["id"] for hit in result.hits)
        if page * 100 >= result.total:
            assert len(found) == result.total
            return found
        page += 1


# -- multi-select facets ---------------------------------------------------------


@pytest.mark.parametrize("query", QUERIES)
def test_multi_select_counts_equal_the_sums_of_single_selections(engine, query):
    plain = engine.search(query, per_page=1, suggest=False)
    sources = counts(plain, "source")
    assert len(sources) >= 3, sources
    for pair in itertools.combinations(sorted(sources), 2):
        singles = [engine.search(query, per_page=1, suggest=False, source=s) for s in pair]
        both = engine.search(query, per_page=1, suggest=False, source=list(pair))
        assert both.total == sum(r.total for r in singles) == sum(sources[s] for s in pair)
        # The source facet is counted without its own filter: every source keeps its count.
        assert counts(both, "source") == sources
        for single in singles:
            assert counts(single, "source") == sources
        # The other facets count what the chosen sources hold: the sums of the singles.
        for facet in ("month", "lang"):
            summed: dict = {}
            for single in singles:
                for value, count in counts(single, facet).items():
                    summed[value] = summed.get(value, 0) + count
            assert counts(both, facet) == summed, (query, pair, facet)


def test_facets_and_together_values_or_together(engine):
    query = "Impfung"
    months = counts(engine.search(query, per_page=1, suggest=False), "month")
    month = max(months, key=months.get)
    two = ["zeit.de", "tagesspiegel.de"]
    both = ids(engine, query, source=two, date_from=month, date_to=month)
    expected = (ids(engine, query, source="zeit.de", date_from=month, date_to=month)
                | ids(engine, query, source="tagesspiegel.de", date_from=month, date_to=month))
    assert both == expected and both
    filtered = engine.search(query, per_page=1, suggest=False, source=two, date_from=month,
                             date_to=month)
    # The month facet is counted without the date filter, with the sources.
    undated = engine.search(query, per_page=1, suggest=False, source=two)
    assert counts(filtered, "month") == counts(undated, "month")
    assert counts(filtered, "month")[month] == filtered.total
    # And the source facet without the sources, with the date.
    dated = engine.search(query, per_page=1, suggest=False, date_from=month, date_to=month)
    assert counts(filtered, "source") == counts(dated, "source")


def test_repeated_values_any_case_count_once(engine):
    one = engine.search("Impfung", per_page=1, suggest=False, source="zeit.de")
    same = engine.search("Impfung", per_page=1, suggest=False,
                         source=["zeit.de", "ZEIT.DE", " zeit.de ", ""])
    assert same.total == one.total > 0
    nothing = engine.search("Impfung", per_page=1, suggest=False, source=[])
    assert nothing.total == engine.search("Impfung", per_page=1, suggest=False).total


def test_api_takes_repeated_parameters(engine):
    from web import create_app

    client = create_app({"SETTINGS": engine.settings, "TESTING": True}).test_client()
    single = [client.get(f"/api/search?q=Impfung&per_page=1&source={s}").get_json()
              for s in ("zeit.de", "tagesspiegel.de")]
    both = client.get("/api/search?q=Impfung&per_page=1&source=zeit.de"
                      "&source=tagesspiegel.de").get_json()
    assert both["total"] == sum(r["total"] for r in single) > 0
    assert both["facets"]["source"] == single[0]["facets"]["source"]
    spec = client.get("/api/openapi.json").get_json()
    source = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"]
                  if p["name"] == "source")
    assert source["schema"]["type"] == "array" and source["explode"] is True


# -- German operators -------------------------------------------------------------


@pytest.mark.parametrize("german, english", [
    ("Corona ODER Covid", "Corona OR Covid"),
    ("Impfung NICHT Biontech", "Impfung NOT Biontech"),
    ("Impfung UND Pflegeheim", "Impfung AND Pflegeheim"),
    ("(Schule ODER Kita) NICHT Berlin", "(Schule OR Kita) NOT Berlin"),
])
def test_german_operators_equal_english_ones(engine, german, english):
    found = ids(engine, german)
    assert found == ids(engine, english)
    assert found


def test_oder_is_more_than_its_words_and_lower_case_stays_a_word(engine):
    either = ids(engine, "Corona ODER Covid")
    both = ids(engine, "Corona Covid")
    assert both < either  # ODER is no longer three words searched together
    assert ids(engine, "Corona") | ids(engine, "Covid") == either
    # "oder" in lower case is a word (a German stopword), not the operator; English
    # articles, whose stopwords do not hold it, would have to hold it.
    assert ids(engine, "lang:de Corona oder Covid") == ids(engine, "lang:de Corona Covid")
    assert ids(engine, "Impfung nicht Biontech") != ids(engine, "Impfung NICHT Biontech")


def test_a_spent_time_budget_answers_flagged_on_both_backends(engine):
    """A budget spent before the search starts: Whoosh answers the matches of the first
    part of the OR, Xapian (whose ranked pass is exact, its count then an estimate) the
    same first page; both flag the answer timed_out."""
    from search import Engine

    query = "Lockdown OR Ausgangssperre OR Impfung OR Schule"
    full = engine.search(query, suggest=False)
    assert not full.timed_out and full.total > 0
    with Engine(engine.settings.with_changes(search_time_budget_seconds=1e-9)) as spent:
        cut = spent.search(query, suggest=False)
    assert cut.timed_out and cut.to_dict()["timed_out"] is True and cut.hits
    if engine.settings.backend == "xapian" or engine.backend.name == "xapian":
        assert [h["id"] for h in cut.hits] == [h["id"] for h in full.hits]
    else:
        assert cut.total <= full.total
        assert {h["id"] for h in cut.hits} <= ids(engine, query)
