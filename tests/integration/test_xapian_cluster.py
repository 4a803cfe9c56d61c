"""The Xapian backend over real shards: rankings equal to one database, and close to Whoosh.

Builds, once per module, from two parts of the real FANG corpus (2,000 German
articles): a 2-shard and a 3-shard Xapian cluster, a single Xapian database
(the 3 shards compacted into one) and a Whoosh index. Every shard is served
by its own ``xapian-tcpsrv`` on 127.0.0.1; all are stopped at teardown.
"""

from __future__ import annotations

import math
import statistics

import pytest

from support.corpora import read_records
from support.ranking import compare_features, remembered_queries
from support.xapian import Servers, fang_parts, make_queries, require_tools, run_query

PARTS = ("part-021.jsonl.gz", "part-022.jsonl.gz")
MIN_QUERIES = 200


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    require_tools()
    import xapian

    from search import Engine, Settings, index_paths
    from search.backends.xapian.layout import write_json
    from search.backends.xapian.indexer import index_cluster

    parts = fang_parts(PARTS)
    base = tmp_path_factory.mktemp("xapian-cluster")
    for shards in (2, 3):
        report = index_cluster(parts, Settings(index_dir=base / f"x{shards}", shards=shards))
        assert report.documents == 2000, report.to_dict()
    # One database holding the same 2,000 articles: the 3 shards compacted.
    single = base / "x1"
    single.mkdir()
    combined = xapian.Database()
    for number in range(3):
        combined.add_database(xapian.Database(str(base / "x3" / f"shard-{number:02d}")))
    combined.compact(str(single / "shard-00"))
    combined.close()
    write_json(single / "cluster.json", {"backend": "xapian", "version": 1, "shards": 1})
    report = index_paths(parts, Settings(index_dir=base / "whoosh"))
    assert report.documents == 2000, report.to_dict()

    servers = Servers(base)
    remote = {}
    try:
        for shards in (2, 3):
            endpoints = []
            for number in range(shards):
                _, port = servers.tcpsrv(base / f"x{shards}" / f"shard-{number:02d}")
                endpoints.append(f"127.0.0.1:{port}")
            remote[shards] = ",".join(endpoints)
        # The engines are compared answer by answer: no time budget, which a loaded
        # machine could spend on one engine's spelling or any mode and not on another's.
        unbudgeted = {"search_time_budget_seconds": 0}
        engines = {
            "single": Engine(Settings(index_dir=single, **unbudgeted)),
            "remote2": Engine(Settings(backend="xapian", remote=remote[2], **unbudgeted)),
            "remote3": Engine(Settings(backend="xapian", remote=remote[3], **unbudgeted)),
            "whoosh": Engine(Settings(index_dir=base / "whoosh", **unbudgeted)),
        }
        queries = make_queries(read_records(parts))
        yield {"engines": engines, "queries": queries, "base": base, "remote": remote}
        for engine in engines.values():
            engine.close()
    finally:
        servers.stop_all()


def _ranking(result):
    return [(hit["id"], hit["score"]) for hit in result.hits]


def test_rankings_over_2_and_3_remote_shards_equal_a_single_database(world):
    engines, queries = world["engines"], world["queries"]
    assert len(queries) >= MIN_QUERIES
    compared = 0
    for item in queries:
        expected = run_query(engines["single"], item)
        for name in ("remote2", "remote3"):
            got = run_query(engines[name], item)
            where = f"{name}, query {item}"
            assert got.shards == {"total": int(name[-1]), "answered": int(name[-1])}, where
            assert got.total == expected.total, where
            assert got.mode == expected.mode, where
            assert [h["id"] for h in got.hits] == [h["id"] for h in expected.hits], where
            for (_, a), (_, b) in zip(_ranking(got), _ranking(expected)):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-4), where
            assert got.facets == expected.facets, where
            assert [h["snippet"] for h in got.hits] == [h["snippet"] for h in expected.hits]
        compared += 1
    assert compared >= MIN_QUERIES


def test_page_two_and_date_sort_equal_a_single_database(world):
    engines, queries = world["engines"], world["queries"]
    for item in queries[:60]:
        for extra in ({"page": 2}, {"sort": "date"}):
            params = {**item, **extra}
            expected = engines["single"].search(params.pop("q"), suggest=False, **params)
            params = {**item, **extra}
            got = engines["remote3"].search(params.pop("q"), suggest=False, **params)
            assert got.total == expected.total
            if extra.get("sort") == "date":  # equal dates may tie: compare what orders
                assert [(h["date"], h["score"]) for h in got.hits] == \
                    [(h["date"], h["score"]) for h in expected.hits], item
            else:
                assert [h["id"] for h in got.hits] == [h["id"] for h in expected.hits], item


def test_whoosh_and_xapian_agree_on_at_least_90_percent_of_top_10(world):
    """The same queries through both backends: the same matches and counts, close top 10s.

    Xapian rebuilds Whoosh's BM25F (per-field normalisation baked into the
    wdfs, Whoosh's IDF and boosts as weight factors, a word's fields weighed
    before one saturation), the other verb forms of plain words and the any
    mode's coordination factor, so match sets are the same and scores agree
    to about 1% (measured here: 97.6% of the top-10 documents shared, every
    total equal). Where they still differ, and why (see the README): the
    weight of other verb forms in documents holding both forms, average
    field lengths measured on the first articles indexed rather than all of
    them, ties, and constant score offsets Whoosh adds to hits of filters
    and negations (the order is the same).
    """
    engines, queries = world["engines"], world["queries"]
    shared = shown = 0
    other_totals = []
    any_ratios = []
    for item in queries:
        whoosh = run_query(engines["whoosh"], item)
        xapian = run_query(engines["single"], item)
        if whoosh.total != xapian.total or whoosh.facets != xapian.facets:
            other_totals.append((item["q"], whoosh.total, xapian.total))
        if whoosh.mode == "any" and xapian.mode == "any":
            # The any mode's coordination factor (FULL_MATCH for every word, coverage²
            # for some) is rebuilt on Xapian: the same article scores alike.
            xapian_scores = {h["id"]: h["score"] for h in xapian.hits}
            any_ratios.extend(xapian_scores[h["id"]] / h["score"] for h in whoosh.hits
                              if h["id"] in xapian_scores and h["score"] > 0)
        a = {h["id"] for h in whoosh.hits}
        b = {h["id"] for h in xapian.hits}
        shared += len(a & b)
        shown += max(len(a), len(b))
    agreement = shared / shown
    same_totals = 1 - len(other_totals) / len(queries)
    print(f"top-10 agreement Whoosh/Xapian over {len(queries)} queries: {agreement:.1%}; "
          f"same totals and facets: {same_totals:.1%}; other totals or facets: {other_totals}")
    assert agreement >= 0.90, agreement
    assert same_totals >= 0.90, other_totals
    assert len(any_ratios) >= 20, any_ratios
    assert abs(statistics.median(any_ratios) - 1) < 0.05, sorted(any_ratios)


def test_json_shape_is_the_whoosh_shape_plus_shards(world):
    engines = world["engines"]
    whoosh = engines["whoosh"].search("Impfstoff").to_dict()
    xapian = engines["remote2"].search("Impfstoff").to_dict()
    assert set(xapian) == set(whoosh) | {"shards"}
    assert "shards" not in whoosh
    assert xapian["shards"] == {"total": 2, "answered": 2}
    assert set(xapian["hits"][0]) == set(whoosh["hits"][0])
    assert set(xapian["facets"]) == set(whoosh["facets"])
    assert "<mark>" in xapian["hits"][0]["snippet"]


def test_suggestions_articles_and_related_work_over_remote_shards(world):
    engines = world["engines"]
    remote, whoosh = engines["remote3"], engines["whoosh"]
    for typo in ("Impfstof", "Bundesregirung", "Infektionszahlen Landkreiz"):
        got = remote.search(typo).suggestion
        assert got is not None and got == whoosh.search(typo).suggestion, typo
    hit = remote.search("Impfstoff").hits[0]
    article = remote.article(hit["id"], query="Impfstoff")
    assert article == whoosh.article(hit["id"], query="Impfstoff")
    assert any("<mark>" in p for p in article["paragraphs_html"])
    related = remote.more_like(hit["id"])
    assert 1 <= len(related) <= 5 and hit["id"] not in {r["id"] for r in related}
    assert remote.article("no-such-article") is None
    stats = remote.stats()
    assert stats["documents"] == 2000 and stats["shards"] == {"total": 3, "answered": 3}
    assert stats["sources"] == whoosh.stats()["sources"]


def test_remote_shards_collapse_near_duplicates_as_the_local_cluster(world):
    """Xapian's collapse on the cluster value answers over remote shards as on the shard
    folders themselves: the same heads, folded members, stories and counts."""
    from search import Engine, Settings

    def answer(result) -> tuple:
        return (result.total, result.stories, result.folded, result.facets,
                [(h["id"], h["score"], h["folded"], [d["id"] for d in h["duplicates"]])
                 for h in result.hits])

    remote = world["engines"]["remote3"]
    folding = 0
    with Engine(Settings(index_dir=world["base"] / "x3", search_time_budget_seconds=0)) as local:
        for item in world["queries"][:40]:
            got, want = run_query(remote, item), run_query(local, item)
            assert got.collapse and answer(got) == answer(want), item
            folding += got.folded > 0
        assert remote.stats()["duplicates"] == local.stats()["duplicates"]
        assert local.stats()["duplicates"]["clusters"] > 0
    assert folding >= 3


def test_rerank_positions_from_every_backend_equal_the_analysed_text(world):
    """The re-ranking reads where the query's stems stand from the index: a Xapian
    database, remote shards and Whoosh all give the positions (and so the features) of
    the chains' terms of each hit's stored text."""
    queries = remembered_queries(read_records(fang_parts(PARTS)), 10)
    for name in ("single", "remote3", "whoosh"):
        seen = compare_features(world["engines"][name], queries)
        assert seen["hits"] > 150 and min(seen.values()) > 3, (name, seen)


def test_only_the_first_hits_over_remote_shards(world):
    """exact_totals=False on Xapian: the same hits, no facets, and Xapian's own estimate of
    the total, flagged whenever its bounds differ (equal to the count otherwise)."""
    remote = world["engines"]["remote3"]
    for item in world["queries"][:40]:
        params = {k: v for k, v in item.items() if k != "q"}
        exact = remote.search(item["q"], suggest=False, **params)
        first = remote.search(item["q"], suggest=False, exact_totals=False, **params)
        assert [h["id"] for h in first.hits] == [h["id"] for h in exact.hits], item
        assert not any(first.facets.values()), item
        if not first.total_is_estimate:
            assert first.total == exact.total, item
