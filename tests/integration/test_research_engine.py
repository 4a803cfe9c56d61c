"""Trends, keyword in context and export on real FANG articles, on both backends.

One module-wide world: two parts of the real FANG corpus (2,000 articles of
29 April – 22 May 2020, three sources) plus five real articles of June 2020
whose date is cut to the month, indexed into a Whoosh index and into a
2-shard Xapian cluster whose shards are served by ``xapian-tcpsrv`` on
127.0.0.1. Every test runs against both engines.

What is checked against what:

- trend counts against the search for each interval (the search's own date
  filter), totals against the ``day`` field of the raw records, rates against
  counts / totals;
- dates at day precision: ``date:a..b`` and ``from``/``to`` against the raw
  ``day`` field; month-only dates only in monthly trends;
- every KWIC line against the stored text at its offset, its words against
  the query's terms, their number against the highlighted words of the
  article pages; the bounds of the settings and their message;
- an export's rows against the search's total and order; CSV and JSON Lines
  parsed back; memory while streaming against the size of the export;
- the commands ``newssearch trends``, ``kwic`` and ``search --all`` against
  the engine.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import ANY

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("NEWSSEARCH_CORPORA", REPO.parent / "shared" / "corpora"))
FANG = CORPORA / "fang-covid-real"
PARTS = ("part-005.jsonl.gz", "part-006.jsonl.gz")
MONTH_ONLY_PART = "part-007.jsonl.gz"  # five of its June articles, dated "2020-06"
MONTH_ONLY = 5
SERIES = ["Maske", '"Angela Merkel"', "Lockerung*"]
ALL = 10_000  # lines on one page of a concordance


def _fang_file(name: str) -> Path:
    path = FANG / name
    if not path.is_file():
        pytest.fail(f"shared corpus file missing: {path} (the tests read the real corpora from "
                    f"../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)",
                    pytrace=False)
    return path


def _records(name: str) -> list[dict]:
    with gzip.open(_fang_file(name), "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    for tool in ("xapian-tcpsrv",):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install Debian's xapian-tools (.ci/run does)",
                        pytrace=False)
    from search import Engine, Settings, index_paths, shard_tools

    base = tmp_path_factory.mktemp("research")
    records = [r for part in PARTS for r in _records(part)]
    month_only = []
    for record in _records(MONTH_ONLY_PART)[-MONTH_ONLY:]:
        month_only.append({**record, "id": "month-" + record["id"], "date": record["day"][:7],
                           "day": None})
    extra = base / "month-only.jsonl"
    extra.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in month_only),
                     encoding="utf-8")
    paths = [_fang_file(p) for p in PARTS] + [extra]
    report = index_paths(paths, Settings(index_dir=base / "whoosh"))
    assert report.documents == len(records) + MONTH_ONLY, report.to_dict()
    report = index_paths(paths, Settings(index_dir=base / "xapian", shards=2))
    assert report.documents == len(records) + MONTH_ONLY, report.to_dict()

    servers, endpoints = [], []
    try:
        for number in range(2):
            port = shard_tools.free_port()
            servers.append(shard_tools.start(
                shard_tools.tcpsrv_command(base / "xapian" / f"shard-{number:02d}", port),
                "127.0.0.1", port))
            endpoints.append(f"127.0.0.1:{port}")
        # Whole concordances on one page: every line can be checked.
        engines = {"whoosh": Engine(Settings(index_dir=base / "whoosh", kwic_max_per_page=ALL)),
                   "xapian": Engine(Settings(backend="xapian", remote=",".join(endpoints),
                                             kwic_max_per_page=ALL))}
        yield {"engines": engines, "records": records, "month_only": month_only, "base": base,
               "remote": ",".join(endpoints)}
        for engine in engines.values():
            engine.close()
    finally:
        for server in servers:
            shard_tools.stop(server)


@pytest.fixture(params=["whoosh", "xapian"])
def backend(request, world):
    return request.param


def _engine(world, backend, **changes):
    """The world's engine, or one with other settings over the same index."""
    from search import Engine

    engine = world["engines"][backend]
    if not changes:
        return engine
    return Engine(engine.settings.with_changes(**changes))


def _iso_week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year:04d}-W{week:02d}"


# -- trends ----------------------------------------------------------------------------


@pytest.mark.parametrize("interval", ["month", "week", "day"])
def test_trend_counts_equal_the_search_of_each_interval(world, backend, interval):
    engine = world["engines"][backend]
    result = engine.trends(SERIES, interval=interval)
    assert [s["query"] for s in result["series"]] == SERIES
    checked = 0
    for series in result["series"]:
        assert series["reason"] is None
        assert series["total"] == sum(p["count"] for p in series["points"]) > 0
        for point in series["points"]:
            found = engine.search(series["query"], date_from=point["from"], date_to=point["to"],
                                  per_page=1, suggest=False, collapse=False)
            assert found.mode == "all"
            assert found.total == point["count"], (series["query"], point, found.total)
            checked += 1
    assert checked == len(SERIES) * len(result["intervals"]) >= 3


def test_trend_counts_with_filters_equal_the_searches(world, backend):
    engine = world["engines"][backend]
    filters = {"source": "zeit.de", "date_from": "2020-05-04", "date_to": "2020-05-17"}
    result = engine.trends(["Maske", "Schule OR Kita"], interval="week", **filters)
    assert [p["key"] for p in result["series"][0]["points"]] == ["2020-W19", "2020-W20"]
    for series in result["series"]:
        for point in series["points"]:
            found = engine.search(series["query"], source="zeit.de", date_from=point["from"],
                                  date_to=point["to"], per_page=1, suggest=False, collapse=False)
            assert found.total == point["count"] > 0
    # The totals are the source's articles of each week, counted from the raw records.
    raw = Counter(_iso_week(r["day"]) for r in world["records"]
                  if r["source"] == "zeit.de" and "2020-05-04" <= r["day"] <= "2020-05-17")
    assert {i["key"]: i["total"] for i in result["intervals"]} == dict(raw)


@pytest.mark.parametrize("interval", ["month", "week", "day"])
def test_totals_are_the_articles_of_each_interval_and_rates_are_counts_over_totals(
        world, backend, interval):
    engine = world["engines"][backend]
    result = engine.trends(SERIES, interval=interval)
    records = world["records"]
    if interval == "month":
        raw = Counter(r["day"][:7] for r in records)
        raw.update(r["date"] for r in world["month_only"])
        assert result["imprecise"] == 0
    elif interval == "week":
        raw = Counter(_iso_week(r["day"]) for r in records)
        assert result["imprecise"] == MONTH_ONLY
    else:
        raw = Counter(r["day"] for r in records)
        assert result["imprecise"] == MONTH_ONLY
    totals = {i["key"]: i["total"] for i in result["intervals"]}
    assert {k: v for k, v in totals.items() if v} == dict(raw)
    # The axis is even: no interval missing between the first and the last.
    keys = [i["key"] for i in result["intervals"]]
    if interval == "day":
        first, last = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
        assert keys == [(first + timedelta(days=n)).isoformat()
                        for n in range((last - first).days + 1)]
    for series in result["series"]:
        for point, item in zip(series["points"], result["intervals"]):
            assert point["key"] == item["key"] and point["total"] == item["total"]
            if point["total"]:
                assert point["rate"] == pytest.approx(point["count"] * 10_000 / point["total"],
                                                      abs=1e-4)
            else:
                assert point["rate"] is None and point["count"] == 0


def test_backends_give_the_same_trends(world):
    whoosh = world["engines"]["whoosh"].trends(SERIES, interval="week")
    xapian = world["engines"]["xapian"].trends(SERIES, interval="week")
    for name in ("intervals", "imprecise", "from", "to"):
        assert whoosh[name] == xapian[name], name
    assert [s["points"] for s in whoosh["series"]] == [s["points"] for s in xapian["series"]]
    assert xapian["shards"] == {"total": 2, "answered": 2}


def test_a_cluster_without_day_values_gives_the_same_trends(world, tmp_path):
    """A cluster built before articles carried their day in a value slot of its own is
    counted on the full date key, with the same result."""
    import xapian

    from search import Engine, Settings

    copy = tmp_path / "older"
    shutil.copytree(world["base"] / "xapian", copy)
    day_slot = 7
    for shard in sorted(copy.glob("shard-*")):
        db = xapian.WritableDatabase(str(shard), xapian.DB_OPEN)
        for posting in list(db.postlist("")):
            document = db.get_document(posting.docid)
            document.remove_value(day_slot)
            db.replace_document(posting.docid, document)
        db.commit()
        assert db.get_value_freq(day_slot) == 0
        db.close()
    with Engine(Settings(index_dir=copy, backend="xapian")) as older:
        for interval in ("month", "day"):
            expected = world["engines"]["xapian"].trends(SERIES, interval=interval)
            found = older.trends(SERIES, interval=interval)
            assert found["intervals"] == expected["intervals"]
            assert [s["points"] for s in found["series"]] == \
                [s["points"] for s in expected["series"]]


def test_trend_totals_follow_a_commit_of_the_shards(world, tmp_path):
    """The articles per day that every trend is measured against are kept between calls,
    and a commit to the shards (here: articles added by a reindex) replaces them."""
    from search import Engine, Settings, index_paths

    copy = tmp_path / "growing"
    shutil.copytree(world["base"] / "xapian", copy)
    added = [{**record, "id": "added-" + record["id"]} for record in world["records"][:40]]
    extra = tmp_path / "added.jsonl"
    extra.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in added),
                     encoding="utf-8")
    settings = Settings(index_dir=copy, backend="xapian", shard_reopen_seconds=0)
    with Engine(settings) as engine:
        before = engine.trends(["Maske"], interval="day")
        assert engine.trends(["Maske"], interval="day") == {**before, "took_ms": ANY}
        paths = [_fang_file(p) for p in PARTS] + [world["base"] / "month-only.jsonl", extra]
        report = index_paths(paths, Settings(index_dir=copy, shards=2))
        assert report.added == len(added), report.to_dict()
        after = engine.trends(["Maske"], interval="day")
    more = Counter(record["day"] for record in added)
    totals_before = {i["key"]: i["total"] for i in before["intervals"]}
    totals_after = {i["key"]: i["total"] for i in after["intervals"]}
    assert totals_after == {key: totals_before.get(key, 0) + more.get(key, 0)
                            for key in totals_after}
    assert sum(totals_after.values()) == sum(totals_before.values()) + len(added)


def test_trend_parameters_are_checked(world, backend):
    from search import InvalidParameter

    engine = world["engines"][backend]
    for kwargs, name in [({"interval": "year"}, "interval"), ({"date_from": "2020-13"}, "from"),
                         ({"date_from": "2020-06", "date_to": "2020-05"}, "from")]:
        with pytest.raises(InvalidParameter) as raised:
            engine.trends(["Maske"], **kwargs)
        assert raised.value.name == name
    with pytest.raises(InvalidParameter) as raised:
        engine.trends(["a"] * 7)
    assert raised.value.name == "q"
    narrow = _engine(world, backend, trends_max_intervals=10)
    with pytest.raises(InvalidParameter) as raised:
        narrow.trends(["Maske"], interval="day")
    assert "longer interval" in raised.value.message
    assert len(narrow.trends(["Maske"], interval="week")["intervals"]) <= 10
    empty = engine.trends(["", "der die das"])
    assert [s["reason"] for s in empty["series"]] == [
        "empty query", "the query holds only stopwords or no searchable words"]
    assert all(p["count"] == 0 for s in empty["series"] for p in s["points"])


# -- dates at day precision ---------------------------------------------------------------


@pytest.mark.parametrize("start,end", [("2020-05-01", "2020-05-15"), ("2020-05-08", "2020-05-08"),
                                       ("2020-04-29", "2020-05-03")])
def test_dates_have_day_precision(world, backend, start, end):
    engine = world["engines"][backend]
    expected = {r["id"] for r in world["records"] if start <= r["day"] <= end}
    assert expected
    in_query = engine.search(f"date:{start}..{end}", per_page=1, suggest=False, collapse=False)
    assert in_query.total == len(expected)
    # the from/to parameters, a word beside them: the same articles as the records say
    found = engine.search("Corona", date_from=start, date_to=end, per_page=100, suggest=False,
                          collapse=False)
    with_word = engine.search(f"Corona date:{start}..{end}", per_page=100, suggest=False,
                              collapse=False)
    assert found.total == with_word.total
    assert {h["id"] for h in found.hits} <= expected
    assert all(start <= h["date"][:10] <= end for h in found.hits)


def test_month_only_dates_count_in_their_month_only(world, backend):
    engine = world["engines"][backend]
    month = world["month_only"][0]["date"]
    ids = {r["id"] for r in world["month_only"]}
    by_month = engine.search(f"date:{month}", per_page=100, suggest=False, collapse=False)
    assert ids <= {h["id"] for h in by_month.hits}
    first_days = engine.search(f"date:{month}-01..{month}-30", per_page=100, suggest=False, collapse=False)
    assert not ids & {h["id"] for h in first_days.hits}


HTML_PAGES = {"giga.de.chrome.html": "2017-12-01", "rete-mirabile.net.15jahre.html": "2019-07-28",
              "rosa-mag.de.womanking.html": "2022-10-06"}


def test_html_pages_keep_the_day_they_were_published(tmp_path):
    """Real web pages whose ``article:published_time`` names a day: searched and counted by
    that day."""
    from search import Engine, Settings, index_paths

    folder = tmp_path / "pages"
    folder.mkdir()
    for name in HTML_PAGES:
        source = CORPORA / "web-pages-de" / "eval" / name
        if not source.is_file():
            pytest.fail(f"shared corpus file missing: {source}", pytrace=False)
        shutil.copy(source, folder / name)
    report = index_paths([folder], Settings(index_dir=tmp_path / "index"))
    assert report.documents == len(HTML_PAGES), report.to_dict()
    with Engine(tmp_path / "index") as engine:
        for day in HTML_PAGES.values():
            following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
            assert engine.search(f"date:{day}..{day}", suggest=False, collapse=False).total == 1
            assert engine.search(f"date:{following}..{following}", suggest=False, collapse=False).total == 0
        days = engine.trends([], interval="day", date_from="2017-11-30", date_to="2017-12-02")
        assert [(i["key"], i["total"]) for i in days["intervals"]] == [("2017-12-01", 1)]


# -- keyword in context ---------------------------------------------------------------------


def _stored(engine, article_id: str) -> dict:
    found = engine.article(article_id)
    assert found is not None, article_id
    return found


@pytest.mark.parametrize("query,word", [("Maske", "Maske"), ("Lockerungen", "Lockerungen")])
def test_kwic_lines_are_occurrences_of_the_word_at_their_place(world, backend, query, word):
    from search.analysis import chain_for, query_terms

    engine = world["engines"][backend]
    result = engine.kwic(query, per_page=ALL, width=40)
    assert result["reason"] is None and not result["cut"] and result["message"] is None
    assert result["articles"] == engine.search(query, per_page=1, suggest=False, collapse=False).total
    assert result["articles_read"] == result["articles"]
    assert result["total"] == len(result["lines"]) > 20
    allowed = set(query_terms(word, ("de", "en")))
    for line in result["lines"]:
        stored = _stored(engine, line["id"])
        text = stored[line["field"]]
        assert text[line["offset"]:line["offset"] + len(line["match"])] == line["match"]
        assert chain_for(stored["lang"]).terms(line["match"])[0] in allowed, line["match"]
        assert " ".join(text[max(0, line["offset"] - 40):line["offset"]].split()) \
            == " ".join(line["left"].split())
        assert line["title"] == stored["title"] and line["date"] == stored["date"]
    # every occurrence, not one per article; the same ones the article page highlights
    marked = 0
    for article_id in {line["id"] for line in result["lines"]}:
        paragraphs = engine.article(article_id, query=query)["paragraphs_html"]
        marked += sum(p.count("<mark>") for p in paragraphs)
    assert sum(1 for line in result["lines"] if line["field"] == "text") == marked
    assert len({line["id"] for line in result["lines"]}) < result["total"]
    # inflected forms are found: more than one spelling of the word
    assert len({line["match"].lower() for line in result["lines"]}) > 1


def test_kwic_finds_phrases_as_the_search_does(world, backend):
    from search.analysis import chain_for

    engine = world["engines"][backend]
    result = engine.kwic('"Angela Merkel"', per_page=ALL)
    assert result["total"] > 10
    for line in result["lines"]:
        stored = _stored(engine, line["id"])
        text = stored[line["field"]]
        assert text[line["offset"]:line["offset"] + len(line["match"])] == line["match"]
        assert chain_for(stored["lang"]).terms(line["match"]) == ["angela", "merkel"]
    ids = {line["id"] for line in result["lines"]}
    searched = {h["id"] for h in engine.search('"Angela Merkel"', per_page=100,
                                               suggest=False, collapse=False).hits}
    assert ids <= searched or len(searched) == 100


def _all_ids(engine, query: str, **filters) -> set[str]:
    ids, page = set(), 1
    while True:
        found = engine.search(query, page=page, per_page=100, suggest=False, collapse=False, **filters)
        ids.update(h["id"] for h in found.hits)
        if page * 100 >= found.total:
            return ids
        page += 1


def test_kwic_respects_fields_negation_and_filters(world, backend):
    engine = world["engines"][backend]
    titles = engine.kwic("title:Maske", per_page=ALL)
    assert titles["total"] and {line["field"] for line in titles["lines"]} == {"title"}
    without = engine.kwic("Maske -Schule", per_page=ALL)
    ids = {line["id"] for line in without["lines"]}
    assert ids and ids <= _all_ids(engine, "Maske -Schule")
    assert not ids & _all_ids(engine, "Schule")
    assert {line["match"].lower()[:4] for line in without["lines"]} == {"mask"}
    zeit = engine.kwic("Maske", per_page=ALL, source="zeit.de", date_from="2020-05-04",
                       date_to="2020-05-10")
    assert zeit["total"] and all(line["source"] == "zeit.de" and
                                 "2020-05-04" <= line["date"][:10] <= "2020-05-10"
                                 for line in zeit["lines"])


def test_kwic_orders_and_pages(world, backend):
    import re

    engine = world["engines"][backend]
    word = re.compile(r"[^\W_]+")
    every = engine.kwic("Maske", per_page=ALL, width=30)
    dates = [line["date"] for line in every["lines"]]
    assert dates == sorted(dates, reverse=True)
    left = engine.kwic("Maske", per_page=ALL, width=30, sort="left")["lines"]
    keys = [[w.casefold() for w in reversed(word.findall(line["left"]))] for line in left]
    assert keys == sorted(keys)
    right = engine.kwic("Maske", per_page=ALL, width=30, sort="right")["lines"]
    keys = [[w.casefold() for w in word.findall(line["right"])] for line in right]
    assert keys == sorted(keys)
    assert sorted(map(json.dumps, left)) == sorted(map(json.dumps, every["lines"]))
    second = engine.kwic("Maske", per_page=7, page=2, width=30, sort="left")
    assert second["lines"] == left[7:14]
    assert second["total"] == every["total"]


def test_kwic_is_bounded_by_settings_with_a_message(world, backend):
    from search import InvalidParameter

    few_articles = _engine(world, backend, kwic_max_articles=5)
    result = few_articles.kwic("Maske", per_page=ALL)
    assert result["cut"] and result["articles_read"] == 5 < result["articles"]
    assert "kwic_max_articles" in result["message"] and "5 of" in result["message"]
    assert len({line["id"] for line in result["lines"]}) <= 5
    few_lines = _engine(world, backend, kwic_max_lines=7)
    result = few_lines.kwic("Maske", per_page=ALL)
    assert result["cut"] and result["total"] == 7 and "kwic_max_lines" in result["message"]
    engine = world["engines"][backend]
    for kwargs, name in [({"width": 0}, "width"), ({"width": 10_000}, "width"),
                         ({"sort": "up"}, "sort"), ({"page": 0}, "page"),
                         ({"per_page": 100_000}, "per_page"), ({"date_to": "2020-5"}, "to")]:
        with pytest.raises(InvalidParameter) as raised:
            engine.kwic("Maske", **kwargs)
        assert raised.value.name == name


# -- export ---------------------------------------------------------------------------------


EXPORTED = [("Maske", {}), ("Maske", {"sort": "date"}),
            ("Lockerung* OR Öffnung", {"source": "sueddeutsche.de"}),
            ("Schule", {"date_from": "2020-05-04", "date_to": "2020-05-10"})]


@pytest.mark.parametrize("query,params", EXPORTED)
def test_export_rows_are_the_hits_of_the_search(world, backend, query, params):
    engine = world["engines"][backend]
    export = engine.export(query, **params)
    rows = list(export)
    search = engine.search(query, per_page=100, suggest=False, collapse=False, **params)
    assert export.total == search.total == export.rows == len(rows) > 0
    assert export.message is None and export.mode == search.mode
    assert len({row["id"] for row in rows}) == len(rows)
    assert [row["id"] for row in rows[:100]] == [h["id"] for h in search.hits]
    assert [row["score"] for row in rows[:100]] == [h["score"] for h in search.hits]
    assert [row["snippet"] for row in rows[:100]] == [h["snippet_text"] for h in search.hits]
    assert set(rows[0]) == {"id", "date", "source", "title", "url", "score", "snippet"}


def test_export_of_few_hits_reads_the_query_as_the_search_does(world, backend):
    engine = world["engines"][backend]
    query = "Maske Schulhof Geigenunterricht Skatrunde"
    search = engine.search(query, per_page=100, suggest=False, collapse=False)
    assert search.mode == "any" and 0 < search.total
    export = engine.export(query)
    rows = [r["id"] for r in export]
    assert export.mode == "any" and export.total == len(rows) == search.total
    assert rows[:100] == [h["id"] for h in search.hits]


def test_export_formats_parse_back(world, backend):
    engine = world["engines"][backend]
    export = engine.export("Maske")
    text = "".join(export.lines("csv"))
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(table) == export.total
    assert list(table[0]) == ["id", "date", "source", "title", "url", "score", "snippet"]
    export = engine.export("Maske")
    lines = "".join(export.lines("jsonl")).splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [row["id"] for row in parsed] == [row["id"] for row in table]
    assert [str(row["score"]) for row in parsed] == [row["score"] for row in table]
    assert [row["title"] for row in parsed] == [row["title"] for row in table]


def test_export_is_bounded_by_a_setting_with_a_message(world, backend):
    engine = _engine(world, backend, export_max_rows=10, export_batch=3)
    export = engine.export("Maske")
    rows = list(export)
    assert len(rows) == export.rows == 10 < export.total
    assert "export_max_rows" in export.message and f"10 of {export.total}" in export.message
    full = world["engines"][backend].export("Maske")
    assert [r["id"] for r in rows] == [r["id"] for r in list(full)[:10]]


def test_export_memory_does_not_grow_with_the_rows(world, backend):
    """The peak of Python's allocations while streaming is the same for 100 rows and for
    1,200 (twelve times as many, in 24 batches): nothing is held per written row. Without
    a memory budget: in a process as large as the test run's, a budget would shed and
    regrow the caches while the rows are written, which is churn, not rows held."""
    query = "Corona OR Regierung OR Menschen OR Prozent OR Woche"
    large_rows = 1200

    def export(rows_wanted: int):
        return _engine(world, backend, export_batch=50, worker_memory_mb=0,
                       export_max_rows=rows_wanted).export(query)

    warm = export(large_rows)
    assert warm.total >= large_rows
    for _ in warm.lines("jsonl"):
        pass  # every text once through the bounded caches of snippets

    def peak(rows_wanted: int) -> tuple[int, int]:
        lines = export(rows_wanted).lines("jsonl")
        written = 0
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            for line in lines:
                written += len(line.encode("utf-8"))
            return tracemalloc.get_traced_memory()[1] - start, written
        finally:
            tracemalloc.stop()

    small, small_bytes = peak(100)
    large, large_bytes = peak(large_rows)
    assert large_bytes > 10 * small_bytes
    # Holding the rows would add at least the bytes written; flat streaming adds nothing.
    assert large < small + max(large_bytes // 8, 256 * 1024), (small, large, large_bytes)


# -- the commands -----------------------------------------------------------------------


def _cli(world, backend, *args) -> subprocess.CompletedProcess:
    where = (["--index", str(world["base"] / "whoosh")] if backend == "whoosh"
             else ["--backend", "xapian", "--remote", world["remote"]])
    return subprocess.run([sys.executable, "-m", "web", *args, *where], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_trends_command(world, backend):
    engine = world["engines"][backend]
    done = _cli(world, backend, "trends", *SERIES, "--interval", "week", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    result = engine.trends(SERIES, interval="week")
    expected = [(s["query"], p["key"], p["count"], p["total"]) for s in result["series"]
                for p in s["points"]]
    assert [(r["query"], r["interval"], int(r["count"]), int(r["total"])) for r in rows] \
        == expected
    table = _cli(world, backend, "trends", "Maske", "--interval", "month")
    assert table.returncode == 0 and "2020-05" in table.stdout and "per 10,000" in table.stdout
    bad = _cli(world, backend, "trends", "Maske", "--from", "2020-13")
    assert bad.returncode == 2 and "from must be a date" in bad.stderr


def test_kwic_command(world, backend):
    engine = world["engines"][backend]
    done = _cli(world, backend, "kwic", '"Angela Merkel"', "--json", "--sort", "right", "-n", "20")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected = engine.kwic('"Angela Merkel"', sort="right", per_page=20)
    assert printed["lines"] == expected["lines"] and printed["total"] == expected["total"]
    plain = _cli(world, backend, "kwic", "Maske", "--width", "30", "-n", "5")
    assert plain.returncode == 0 and plain.stdout.count("[") >= 5
    bad = _cli(world, backend, "kwic", "Maske", "--width", "0")
    assert bad.returncode == 2 and "width" in bad.stderr


def test_search_all_command(world, backend):
    engine = world["engines"][backend]
    done = _cli(world, backend, "search", "Maske", "--all", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == engine.search("Maske", per_page=1, suggest=False, collapse=False).total
    cut = _cli(world, backend, "search", "Maske", "--all", "--setting", "export_max_rows", "3")
    assert cut.returncode == 0
    assert len(list(csv.reader(io.StringIO(cut.stdout, newline="")))) == 4
    assert "export_max_rows" in cut.stderr
    assert _cli(world, backend, "search", "Maske", "--format", "csv").returncode == 2
