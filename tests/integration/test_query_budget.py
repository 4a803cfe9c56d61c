"""Query budgets on real FANG articles (the session index): an OR of the index's most
frequent words ranks exactly as Whoosh's own collectors rank it, a search out of time
answers the best found so far flagged ``timed_out``, a filtered search is run once,
and on a live server the queries that stalled it are answered within the budget while
``/healthz`` stays quick.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from urllib.parse import urlencode

import pytest

from search import Engine, Settings
from search.analysis.spelling import Vocabulary
from search.backends.whoosh import searching
from support.searching import hit_ids
from support.server import Server

# What a live answer may take beyond the search's time budget (see the test below).
MARGIN_SECONDS = 2.5

FUNCTION_WORDS = set("""aber alle also auch dass dann denn diese dieser durch eine einem einen
einer haben hatte hier immer jetzt kann keine mehr nach nicht noch oder schon sein seine sich
sind soll über unter viel vom wenn werden wird wurde wurden zum zur gegen bei ohne seit sowie
weil wieder""".split())


@pytest.fixture(scope="module")
def words(news_index) -> list[str]:
    """The 110 most frequent words of the index (four letters or more, no function words)."""
    folder = news_index.index_dir
    vocabulary = Vocabulary.load(folder / (folder / "CURRENT").read_text().strip())
    found = [w for w, _ in vocabulary.counts.most_common(3000)
             if len(w) >= 4 and w.isalpha() and w not in FUNCTION_WORDS]
    assert len(found) >= 110
    return found[:110]


def _ranking(engine: Engine, query: str, **params):
    result = engine.search(query, per_page=50, suggest=False, **params)
    return result, [(hit["id"], hit["score"]) for hit in result.hits]


def test_an_or_of_70_frequent_words_ranks_as_whoosh_collectors_do(news_index, words):
    query = " OR ".join(words[:70])
    with Engine(Settings(index_dir=news_index.index_dir)) as budgeted, \
            Engine(Settings(index_dir=news_index.index_dir, fast_search=False,
                            search_time_budget_seconds=0)) as exhaustive:
        for params in ({},):  # (filtered ORs: test_perf_equivalence.py)
            fast, fast_top = _ranking(budgeted, query, **params)
            slow, slow_top = _ranking(exhaustive, query, **params)
            assert not fast.timed_out and not slow.timed_out
            assert fast.total == slow.total > 100, params
            assert fast.facets == slow.facets, params
            assert [i for i, _ in fast_top] == [i for i, _ in slow_top], params
            for (_, x), (_, y) in zip(fast_top, slow_top):
                assert x == pytest.approx(y, rel=1e-6), params


def _shown(result) -> list:
    return [(h["id"], h["score"], h["folded"], [d["id"] for d in h["duplicates"]])
            for h in result.hits]


def test_top_k_scoring_gives_the_hits_of_scoring_every_match(news_index, words):
    """exact_totals=False scores an OR, a prefix and the any mode only for the articles
    that can reach the page (search/backends/whoosh/topk.py): the same hits, scores and
    folded duplicates as scoring every match, page by page, collapsed or not; the total
    is then a lower bound, flagged, and no facets are counted."""
    queries = [" OR ".join(words[:70]), "Corona OR Covid", "Merkel OR Spahn OR Söder",
               "Maske OR Schule OR Lehrer OR Eltern", "Impf*", "Lock*", "Corona OR Impf*",
               # the any mode: too few articles hold every word
               " ".join(words[:3]) + " Zebrastreifen Quantenphysik",
               "Merkel Spahn Drosten Söder Laschet Wieler"]
    pruned = set()
    # (prefixes with every term as a part: by default an OR of more than 64 is scored whole)
    settings = Settings(index_dir=news_index.index_dir, search_time_budget_seconds=0,
                        top_k_max_parts=100_000)
    with Engine(settings) as engine:
        for query in queries:
            for collapse in (True, False):
                for per_page, page in ((10, 1), (10, 3), (50, 1)):
                    params = dict(per_page=per_page, page=page, collapse=collapse,
                                  suggest=False)
                    exact = engine.search(query, **params)
                    top = engine.search(query, exact_totals=False, **params)
                    where = (query[:40], collapse, per_page, page)
                    assert exact.hits and not exact.total_is_estimate, where
                    assert top.mode == exact.mode, where
                    assert _shown(top) == _shown(exact), where
                    assert all(not values for values in top.facets.values()), where
                    assert "total_is_estimate" not in exact.to_dict()
                    if top.total_is_estimate:
                        pruned.add(query)
                        assert top.to_dict()["total_is_estimate"] is True
                        assert len(top.hits) <= top.total <= exact.total, where
                    else:
                        assert top.total == exact.total, where
                    assert not top.timed_out, where
    # the skipping ran: on the 70-word OR, a plain OR, a prefix and the any mode
    assert {queries[0], queries[1], queries[4], queries[7]} <= pruned, pruned


def test_a_search_out_of_time_answers_the_best_found_so_far(news_index, words):
    query = " OR ".join(words[:70])
    with Engine(Settings(index_dir=news_index.index_dir)) as engine:
        full = engine.search(query)
        assert not full.timed_out and "timed_out" not in full.to_dict()
    # a budget spent before the work starts: the first word is read, nothing more
    with Engine(Settings(index_dir=news_index.index_dir,
                         search_time_budget_seconds=1e-9)) as engine:
        cut = engine.search(query)
        first = hit_ids(engine, words[0])
    assert cut.timed_out and cut.to_dict()["timed_out"] is True
    assert cut.total_is_estimate and cut.to_dict()["total_is_estimate"] is True
    assert 0 < cut.total <= len(first) < full.total
    assert cut.hits and {h["id"] for h in cut.hits} <= first


def test_a_filtered_search_runs_once_and_counts_each_facet_over_the_other_filters(news_index):
    with Engine(Settings(index_dir=news_index.index_dir)) as engine:
        before = searching.RUNS["fast"]
        result = engine.search("Corona", source="zeit.de", date_from="2020-02", suggest=False)
        assert searching.RUNS["fast"] - before == 1
        assert result.total > 0
        wider = engine.search("Corona", date_from="2020-02", suggest=False)
        undated = engine.search("Corona", source="zeit.de", suggest=False)
    assert result.facets["source"] == wider.facets["source"]
    assert result.facets["month"] == undated.facets["month"]
    assert len(result.facets["source"]) > 1


def test_the_queries_that_stalled_the_server_answer_within_the_budget(news_index, words,
                                                                      tmp_path):
    """Four of the adversarial queries of issue 20 at once, on a live server with a
    budget of 0.5 s, while /healthz is asked on its own connection: every search answered
    without stalling the worker, /healthz answered meanwhile."""
    budget = 0.5
    server = Server(["--index", news_index.index_dir, "--workers", 1, "--threads", 8,
                     "--setting", "search_time_budget_seconds", budget],
                    tmp_path / "server.log")
    swapped = [w[:2] + w[3] + w[2] + w[4:] for w in words]
    queries = [" OR ".join(words[:70]), " ".join(swapped),
               " ".join("(((" + w[:4] + "*)))" for w in words[:20]),
               " OR ".join(f"{w[:4]}* {v}" for w, v in zip(words[:30], words[30:60]))]
    try:
        server.get("/api/search?q=Corona")
        answers, health, done = [], [], threading.Event()

        def ask(query):
            connection = server.connection(timeout=60)
            try:
                for target in ("/api/search?", "/search?"):
                    started = time.perf_counter()
                    status, _, body = server.get(target + urlencode({"q": query}),
                                                 connection=connection)
                    answers.append((time.perf_counter() - started, status, target, body))
            finally:
                connection.close()

        def poll():
            connection = server.connection(timeout=60)
            try:
                while not done.is_set():
                    started = time.perf_counter()
                    status, _, _ = server.get("/healthz", connection=connection)
                    health.append((time.perf_counter() - started, status))
                    done.wait(0.02)
            finally:
                connection.close()

        poller = threading.Thread(target=poll)
        poller.start()
        clients = [threading.Thread(target=ask, args=(query,)) for query in queries]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        done.set()
        poller.join()
    finally:
        server.stop()
    assert len(answers) == 2 * len(queries)
    for took, status, target, body in answers:
        # (the page of a search that finds nothing answers 404)
        assert status == 200 or (status == 404 and target == "/search?"), (target, body[:300])
        # Within the budget plus a margin of 2.5 s: the page around the hits (snippets,
        # the template) and eight requests sharing one worker's interpreter. Measured
        # here: 1.0 s at most at load 7 (without the budget the first query took about a
        # minute alone).
        assert took < budget + MARGIN_SECONDS, (target, took, sorted(a[0] for a in answers))
    totals = {json.loads(body)["query"]: json.loads(body)["total"]
              for _, _, target, body in answers if target == "/api/search?"}
    assert totals[queries[0]] > 1000 and totals[queries[3]] > 0
    assert health and all(status == 200 for _, status in health)
    # /healthz is not queued behind the searches (a stalled worker kept it 18 s): under
    # 200 ms at the median (measured here: 50 ms, 132 ms at most, at load 7), and never
    # longer than a search may take.
    times = [took for took, _ in health]
    assert statistics.median(times) < 0.2, sorted(times)
    assert max(times) < budget + MARGIN_SECONDS, sorted(times)
