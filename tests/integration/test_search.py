"""Searching: the query language, German analysis, ranking, snippets, facets, paging,
suggestions, related articles, parameters and the engine's life across reindexes.

Most tests search the session index of real news (two FANG parts, the seed article
and 10kGNAD rows) and check the answers against the raw corpus or against each
other (an OR is the union of its sides, and so on). A small index of real article
texts with chosen titles and dates pins down ranking, snippets and month edges.
"""

import html
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.corpora import SEED_FILE, read_fang, shared_file, write_jsonl
from support.searching import all_hits, hit_ids
from support.shapes import FLAG_KEYS
from search import Engine, IndexMissing, InvalidParameter, Settings, index_paths
from search.analysis.chains import chain_for

RESULT_KEYS = {"query", "total", "page", "per_page", "took_ms", "mode", "reason", "hits",
               "facets", "suggestion", "collapse", "stories", "folded"}
HIT_KEYS = {"id", "title", "date", "lang", "source", "category", "url", "score", "snippet",
            "snippet_text", "folded", "duplicates"}
FACETS = ("month", "lang", "source", "category")


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W_]+", text)}


def article_text(engine, article_id) -> str:
    article = engine.article(article_id)
    return article["title"] + "\n" + article["text"]


def time_key(date: str | None) -> str:
    """A date's wall-clock time as sortable digits (the offset is not part of it)."""
    digits = re.sub(r"\D", "", (date or "")[:19])
    return digits.ljust(14, "0")


_IDS: dict = {}


def cached_ids(engine, query: str, **params) -> set[str]:
    """``hit_ids`` for the indexes that no test changes, each search made once."""
    key = (id(engine), query, tuple(sorted(params.items())))
    if key not in _IDS:
        _IDS[key] = hit_ids(engine, query, **params)
    return _IDS[key]


def check_shape(data: dict) -> None:
    assert set(data) - FLAG_KEYS == RESULT_KEYS
    assert isinstance(data["total"], int) and data["total"] >= len(data["hits"])
    assert data["mode"] in ("all", "any")
    assert data["reason"] is None or isinstance(data["reason"], str)
    assert set(data["facets"]) == set(FACETS)
    for values in data["facets"].values():
        for value in values:
            assert set(value) == {"value", "count"} and value["count"] > 0
    assert data["suggestion"] is None or set(data["suggestion"]) == {"query", "total"}
    for hit in data["hits"]:
        assert set(hit) == HIT_KEYS
        assert isinstance(hit["id"], str) and isinstance(hit["snippet"], str)
        assert "<" not in re.sub(r"</?mark>", "", hit["snippet"])
    json.dumps(data)


# -- the query language ----------------------------------------------------------------------


def test_words_are_anded(news_engine):
    both = cached_ids(news_engine, "Merkel Spahn")
    assert both and both == cached_ids(news_engine, "Merkel") & cached_ids(news_engine, "Spahn")
    assert both == cached_ids(news_engine, "Merkel AND Spahn")
    for article_id in both:
        text = article_text(news_engine, article_id).lower()
        assert "merkel" in text and "spahn" in text


def test_or_is_the_union(news_engine):
    either = cached_ids(news_engine, "Merkel OR Spahn")
    assert either == cached_ids(news_engine, "Merkel") | cached_ids(news_engine, "Spahn")
    assert len(either) > len(cached_ids(news_engine, "Merkel"))


@pytest.mark.parametrize("query", ["Merkel -Spahn", "Merkel NOT Spahn"])
def test_not_removes(news_engine, query):
    without = cached_ids(news_engine, query)
    assert without == cached_ids(news_engine, "Merkel") - cached_ids(news_engine, "Spahn")
    assert without


def test_brackets_group(news_engine):
    grouped = cached_ids(news_engine, "(Merkel OR Spahn) Impfstoff")
    assert grouped and grouped == ((cached_ids(news_engine, "Merkel") | cached_ids(news_engine, "Spahn"))
                                   & cached_ids(news_engine, "Impfstoff"))
    assert cached_ids(news_engine, "Impfstoff -(Merkel OR Spahn)") == \
        cached_ids(news_engine, "Impfstoff") - grouped


def test_quoted_phrase(news_engine):
    phrase = cached_ids(news_engine, '"Angela Merkel"')
    assert phrase and phrase <= cached_ids(news_engine, "Angela Merkel")
    for article_id in phrase:
        assert re.search(r"Angela\W+(?:\w+\W+)?Merkel", article_text(news_engine, article_id))
    # Word order counts in a phrase.
    assert len(cached_ids(news_engine, '"Merkel Angela"')) < len(phrase)


def test_title_field(news_engine):
    in_title = cached_ids(news_engine, "title:Lockdown")
    assert in_title and in_title < cached_ids(news_engine, "Lockdown")
    for hit in all_hits(news_engine, "title:Lockdown"):
        assert "lockdown" in hit["title"].lower()
    assert cached_ids(news_engine, 'title:"Angela Merkel"') <= cached_ids(news_engine, '"Angela Merkel"')


def test_source_field_counts_the_raw_records(news_engine, news_index):
    zeit = {i for i, r in news_index.fang.items() if r["source"] == "zeit.de"}
    assert cached_ids(news_engine, "source:zeit.de") == zeit
    assert cached_ids(news_engine, "Schule source:zeit.de") == cached_ids(news_engine, "Schule") & zeit


def test_category_field_counts_the_raw_rows(news_engine, news_index):
    sport = {f"test:{n}" for n, row in enumerate(news_index.gnad, start=1) if row[0] == "Sport"}
    assert sport
    assert cached_ids(news_engine, "category:Sport") == sport
    assert cached_ids(news_engine, "category:sport") == sport


def test_lang_field(news_engine):
    stats = news_engine.stats()["languages"]
    for lang, count in stats.items():
        hits = all_hits(news_engine, f"lang:{lang}")
        assert len(hits) == count
        assert {hit["lang"] for hit in hits} == {lang}


def test_date_field_month_and_range(news_engine, news_index):
    def days(prefixes):
        return {i for i, r in news_index.fang.items() if r["day"].startswith(prefixes)}

    assert cached_ids(news_engine, "date:2020-03") == days("2020-03")
    assert cached_ids(news_engine, "date:2020-02..2020-03") == days(("2020-02", "2020-03"))
    assert cached_ids(news_engine, "date:2020-03-01..2020-03-15") == \
        {i for i in days("2020-03") if news_index.fang[i]["day"] <= "2020-03-15"}
    assert cached_ids(news_engine, "date:2017") == {"edced858fe0a0ea0"}
    # Articles without a date (the 10kGNAD rows) are in no date range.
    assert news_engine.search("date:0000..2020").total == len(news_index.fang) + 1
    assert news_engine.search("category:Sport").total > 0
    assert news_engine.search("category:Sport date:0000..9999").total == 0
    assert news_engine.search("category:Sport", date_from="0000").total == 0
    assert cached_ids(news_engine, "Merkel date:2020-02") == cached_ids(news_engine, "Merkel") & days("2020-02")


def test_prefix(news_engine):
    prefixed = cached_ids(news_engine, "Impf*")
    # Whole words only: a plain word also finds compounds that end in it ("Grippeimpfung").
    whole_words = cached_ids(news_engine, "title:Impfstoff OR text:Impfstoff OR text:Impfung")
    assert whole_words and prefixed >= whole_words
    for article_id in sorted(prefixed)[::3]:
        assert re.search(r"(?<![^\W_])impf", article_text(news_engine, article_id).lower())


def test_queries_go_through_the_german_chain(news_engine, news_index):
    week = dict(date_from="2020-03-01", date_to="2020-03-07")
    haus = cached_ids(news_engine, "Haus", **week)
    assert haus and cached_ids(news_engine, "Häuser", **week) == haus
    assert cached_ids(news_engine, "Haeuser", **week) == haus
    # Articles that only say "Häuser" are found by "Haus", and the other way round.
    for said, query in (({"häuser"}, "Haus"), ({"haus", "hause", "hauses"}, "Häuser")):
        others = {"häuser", "haus", "hause", "hauses"} - said
        record = next(r for r in news_index.fang.values()
                      if words(r["header"] + " " + r["article"]) & said
                      and not words(r["header"] + " " + r["article"]) & others)
        assert record["id"] in cached_ids(news_engine, query, source=record["source"],
                                          date_from=record["day"], date_to=record["day"])
    muenchen = cached_ids(news_engine, "München", **week)
    assert muenchen and cached_ids(news_engine, "Muenchen", **week) == muenchen
    assert cached_ids(news_engine, "MÜNCHEN", **week) == muenchen
    assert any("muenchen" not in (news_index.fang[i]["header"] + news_index.fang[i]["article"]).lower()
               for i in muenchen)
    # Stopwords are dropped from queries.
    assert cached_ids(news_engine, "die Impfung") == cached_ids(news_engine, "Impfung")


def test_seed_article_found_by_stemmed_word(news_engine):
    text = article_text(news_engine, "edced858fe0a0ea0")
    assert "Sanktionen" in text and "sanktion" not in words(text)
    assert "edced858fe0a0ea0" in cached_ids(news_engine, "Sanktion")


@pytest.mark.parametrize("broken, plain", [
    ('"Impfung', "Impfung"), ("(Impfung", "Impfung"), ("Impfung)", "Impfung"),
    ("Impfung OR", "Impfung"), ("OR Impfung", "Impfung"), ("NOT", None),
    ('Merkel "Spahn', "Merkel Spahn"), ("title:", None), ("date:2020-13-45 Merkel", None),
])
def test_unparsable_queries_are_searched_as_words(news_engine, broken, plain):
    result = news_engine.search(broken)
    check_shape(result.to_dict())
    if plain is not None:
        assert cached_ids(news_engine, broken) == cached_ids(news_engine, plain)


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "der die das", "und oder", '""', "*", "-",
                                   "()", "AND OR NOT"])
def test_empty_queries_say_why(news_engine, query):
    result = news_engine.search(query)
    assert result.total == 0 and result.hits == []
    assert result.reason
    check_shape(result.to_dict())


def test_odd_input_never_raises(news_engine):
    for query in ["x" * 10_000, "Merkel " * 2000, "\x00\x01Impfung\x7f\x1b", "\ud800Impfung",
                  '"' * 501, "(" * 600 + "Impfung" + ")" * 600, "-" * 300, "title:" * 300,
                  "date:" + "9" * 100, "Impf" + "*" * 50, "*Impf", "a:b:c:d", "\u200b\u00ad"]:
        check_shape(news_engine.search(query).to_dict())
    assert cached_ids(news_engine, "\x00\x01Impfung\x7f\x1b") == cached_ids(news_engine, "Impfung")
    check_shape(news_engine.search(None).to_dict())


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(
    st.text(max_size=12),
    st.sampled_from(["Merkel", "Häuser", "Impf*", "die", "OR", "AND", "NOT", "-", "(", ")",
                     '"', "title:", "lang:de", "source:zeit.de", "category:Sport", "date:2020-03",
                     "date:2020-02..2020-03", "Bundesregirung", "München", ":", "*"])),
    max_size=12).map(" ".join))
def test_random_queries_always_answer_in_the_documented_shape(news_engine, query):
    check_shape(news_engine.search(query, per_page=5).to_dict())


# -- the stemmer -------------------------------------------------------------------------------


def test_german_stemmer_agrees_with_the_snowball_reference():
    vocabulary = shared_file("snowball-german", "voc.txt").read_text(encoding="utf-8").split("\n")
    expected = shared_file("snowball-german", "output.txt").read_text(encoding="utf-8").split("\n")
    assert len(vocabulary) == len(expected) > 35_000
    chain = chain_for("de")
    wrong = [(w, s, chain.stem(w)) for w, s in zip(vocabulary, expected) if chain.stem(w) != s]
    assert wrong == []
    assert {chain.stem(w) for w in ("häuser", "haus", "haeuser")} == {"haus"}
    assert chain.stem("münchen") == chain.stem("muenchen")


def test_english_chain_stems_english():
    assert chain_for("en").stem("houses") == chain_for("en").stem("house") == "hous"


# -- ranking, snippets and month edges on chosen titles and dates ------------------------------


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    """Real article texts with chosen titles, dates and words."""
    records = [r for r in read_fang("part-000.jsonl.gz") if len(r["article"]) > 1500][:12]
    for word in ("sonderbericht", "tiegelprobe", "monatsgrenze", "quelltext", "gewitter"):
        assert all(word not in (r["header"] + r["article"]).lower() for r in records)
    a, b, c, d, e, f = records[:6]
    docs = [
        {"id": "title-hit", "title": "Sonderbericht: " + a["header"], "text": a["article"],
         "date": "2020-01-01"},
        {"id": "text-hit", "title": b["header"], "date": "2020-03-01",
         "text": b["article"] + "\nDazu folgt ein Sonderbericht."},
        {"id": "script", "title": c["header"], "date": "2020-02-01",
         "text": c["article"] + "\nIm Quelltext stand <script>alert(1)</script> & mehr."},
    ]
    for date in ("2019-05-05", "2021-05-05", "2020-05-05"):
        docs.append({"id": f"tie-{date[:4]}", "title": d["header"], "date": date,
                     "text": d["article"] + "\nTiegelprobe."})
    for article_id, date in [("m-last-minute", "2020-03-31T23:59"),
                             ("m-last-second", "2020-03-31T23:59:59+02:00"),
                             ("m-month-only", "2020-03"),
                             ("a-first-second", "2020-04-01T00:00:00+02:00"),
                             ("a-day-only", "2020-04-01"),
                             ("f-last-day", "2020-02-29 23:59:59")]:
        docs.append({"id": article_id, "title": e["header"], "date": date,
                     "text": e["article"] + "\nMonatsgrenze."})
    docs.append({"id": "storm", "title": f["header"], "date": "2020-01-15",
                 "text": f["article"] + "\nGewitter, mit Gewittern, des Gewitters."})
    folder = tmp_path_factory.mktemp("crafted")
    write_jsonl(folder / "crafted.jsonl", docs)
    index_dir = folder / "index"
    report = index_paths([folder / "crafted.jsonl"], Settings(index_dir=index_dir))
    assert report.added == len(docs) and not report.problems
    engine = Engine(index_dir)
    engine.records = {doc["id"]: doc for doc in docs}
    yield engine
    engine.close()


def test_title_is_weighted_above_text(crafted):
    result = crafted.search("Sonderbericht")
    assert [hit["id"] for hit in result.hits] == ["title-hit", "text-hit"]
    assert result.hits[0]["score"] > result.hits[1]["score"]


def test_equal_scores_rank_newer_first(crafted):
    result = crafted.search("Tiegelprobe", collapse=False)  # three copies of one text
    assert [hit["id"] for hit in result.hits] == ["tie-2021", "tie-2020", "tie-2019"]
    assert len({hit["score"] for hit in result.hits}) == 1


def test_month_edges_of_date_filters(crafted):
    march = {"m-last-minute", "m-last-second", "m-month-only"}
    april = {"a-first-second", "a-day-only"}
    assert hit_ids(crafted, "Monatsgrenze", date_to="2020-03") == march | {"f-last-day"}
    assert hit_ids(crafted, "Monatsgrenze", date_from="2020-04") == april
    assert hit_ids(crafted, "Monatsgrenze", date_from="2020-03", date_to="2020-03") == march
    assert hit_ids(crafted, "Monatsgrenze date:2020-03") == march
    assert hit_ids(crafted, "Monatsgrenze date:2020-03-31") == {"m-last-minute", "m-last-second"}
    assert hit_ids(crafted, "Monatsgrenze", date_from="2020-03-31", date_to="2020-03-31") == \
        {"m-last-minute", "m-last-second"}
    assert hit_ids(crafted, "Monatsgrenze", date_to="2020-02-29") == {"f-last-day"}
    facets = crafted.search("Monatsgrenze").facets["month"]
    assert facets == [{"value": "2020-02", "count": 1}, {"value": "2020-03", "count": 3},
                      {"value": "2020-04", "count": 2}]


def test_dates_are_as_precise_as_known(crafted):
    hits = {hit["id"]: hit["date"] for hit in all_hits(crafted, "Monatsgrenze")}
    assert hits["m-month-only"] == "2020-03"
    assert hits["a-day-only"] == "2020-04-01"
    assert hits["m-last-second"] == "2020-03-31T23:59:59+02:00"
    assert hits["f-last-day"] == "2020-02-29T23:59:59"
    assert hits["m-last-minute"].startswith("2020-03-31T23:59")


def test_snippet_escapes_markup_in_the_text(crafted):
    result = crafted.search("Quelltext")
    assert [hit["id"] for hit in result.hits] == ["script"]
    hit = result.hits[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; mehr" in hit["snippet"]
    assert "<script>" not in hit["snippet"]
    assert "<mark>Quelltext</mark>" in hit["snippet"]
    assert "<script>alert(1)</script> & mehr" in hit["snippet_text"]


def test_snippet_marks_every_inflected_form(crafted):
    hit = crafted.search("Gewittern").hits[0]
    assert hit["id"] == "storm"
    marked = re.findall(r"<mark>(.*?)</mark>", hit["snippet"])
    assert set(marked) == {"Gewitter", "Gewittern", "Gewitters"}


def test_title_only_match_shows_the_lead(crafted):
    hit = next(h for h in crafted.search("Sonderbericht").hits if h["id"] == "title-hit")
    lead = " ".join(crafted.records["title-hit"]["text"].split())
    shown = hit["snippet_text"].rstrip(" …")
    assert len(shown) > 100 and lead.startswith(shown)
    assert "\n" not in hit["snippet_text"]
    assert "<mark>" not in hit["snippet"]


# -- ranking and snippets on the news index --------------------------------------------------


def test_sort_by_date_is_newest_first(news_engine):
    by_date = all_hits(news_engine, "Impfstoff", sort="date")
    keys = [time_key(hit["date"]) for hit in by_date]
    assert keys == sorted(keys, reverse=True)
    assert {hit["id"] for hit in by_date} == cached_ids(news_engine, "Impfstoff")


def test_constant_scores_rank_newest_first(news_engine):
    hits = news_engine.search("source:zeit.de", per_page=100).hits
    keys = [time_key(hit["date"]) for hit in hits]
    assert keys == sorted(keys, reverse=True)


def test_relevance_order_is_by_score(news_engine):
    scores = [hit["score"] for hit in all_hits(news_engine, "Impfstoff Forschung")]
    assert scores == sorted(scores, reverse=True)


def test_snippets_mark_stemmed_matches_and_escape_the_rest(news_engine):
    hits = news_engine.search("Impfstoff", per_page=50).hits
    assert len(hits) == 50
    marked_forms = set()
    for hit in hits:
        # Word for word from the text (a break after a subheading reads as ". ").
        text = " ".join(re.findall(r"\w+", news_engine.article(hit["id"])["text"]))
        fragments = [f.strip() for f in hit["snippet_text"].split("…") if f.strip()]
        assert 1 <= len(fragments) <= 3 or "…" in text, hit["snippet_text"]
        for fragment in fragments:
            assert " ".join(re.findall(r"\w+", fragment)) in text
        marked = re.findall(r"<mark>(.*?)</mark>", hit["snippet"])
        assert all(m.lower().startswith("impfstoff") for m in marked)
        marked_forms.update(marked)
        assert html.unescape(re.sub(r"</?mark>", "", hit["snippet"])) == hit["snippet_text"]
        assert "\n" not in hit["snippet_text"]
        assert "<" not in re.sub(r"</?mark>", "", hit["snippet"])
    assert "Impfstoff" in marked_forms
    assert marked_forms - {"Impfstoff"}, "an inflected form is marked too"


# -- facets and filters ------------------------------------------------------------------------


def facet_dict(facets) -> dict:
    return {name: {v["value"]: v["count"] for v in values} for name, values in facets.items()}


def counted(hits) -> dict:
    counts = {name: Counter() for name in FACETS}
    for hit in hits:
        if hit["date"]:
            counts["month"][hit["date"][:7]] += 1
        for name in ("lang", "source", "category"):
            if hit[name]:
                counts[name][hit[name]] += 1
    return {name: dict(c) for name, c in counts.items()}


@pytest.mark.parametrize("query", ["Kanzler", "Opposition", "Merkel OR Spahn"])
def test_facets_count_the_whole_result(news_engine, query):
    first_page = news_engine.search(query)
    assert first_page.total > first_page.per_page
    assert facet_dict(first_page.facets) == counted(all_hits(news_engine, query))


def test_filters_narrow_to_their_facet_counts(news_engine):
    query = "Opposition"
    facets = facet_dict(news_engine.search(query).facets)
    assert facets["category"] and len(facets["source"]) == 3 and len(facets["month"]) >= 2
    everything = cached_ids(news_engine, query)
    for name, param in (("lang", "lang"), ("source", "source"), ("category", "category")):
        for value, count in facets[name].items():
            hits = all_hits(news_engine, query, **{param: value})
            assert len(hits) == count
            assert {hit[name] for hit in hits} == {value}
            assert {hit["id"] for hit in hits} <= everything
    for month, count in facets["month"].items():
        hits = all_hits(news_engine, query, date_from=month, date_to=month)
        assert len(hits) == count and {hit["date"][:7] for hit in hits} == {month}
    after = all_hits(news_engine, query, date_from="2020-03-15")
    assert after and all(time_key(hit["date"]) >= "20200315000000" for hit in after)
    before = all_hits(news_engine, query, date_to="2020-03-14")
    assert len(after) + len(before) == sum(facets["month"].values())


# -- paging --------------------------------------------------------------------------------------


def walk(engine, query, per_page, most=250, **params) -> list[str]:
    """The ids of the first ``most`` hits (articles), page by page."""
    params.setdefault("collapse", False)
    ids = []
    page = 1
    while True:
        result = engine.search(query, page=page, per_page=per_page, suggest=False, **params)
        ids.extend(hit["id"] for hit in result.hits)
        if page * per_page >= min(result.total, most):
            return ids[:most]
        page += 1


@pytest.mark.parametrize("query, params", [
    ("Merkel Spahn", {}),
    ("Merkel Söder Laschet", {}),
    ("Merkel Spahn Pressekonferenz", {}),
    ("Italien Spanien Frankreich", {}),
    ("Wie viele Menschen sind in Italien gestorben", {}),
    ("source:zeit.de Lockdown", {"sort": "date"}),
])
def test_paging_is_stable(news_engine, query, params):
    big = walk(news_engine, query, 100, **params)
    small = walk(news_engine, query, 7, **params)
    assert big and small == big
    assert len(small) == len(set(small))
    total = news_engine.search(query, per_page=7, **params).total
    assert total == news_engine.search(query, per_page=100, **params).total
    assert total == len(big) or len(big) == 250


# -- "Meinten Sie" ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, meant", [("Bundesregirung", "Bundesregierung"),
                                          ("Pandmie", "Pandemie"),
                                          ("bundesregirung", "bundesregierung")])
def test_did_you_mean(news_engine, typed, meant):
    result = news_engine.search(typed)
    assert result.total == 0
    assert result.suggestion == {"query": meant, "total": news_engine.search(meant).total}
    assert result.suggestion["total"] > 0


def test_did_you_mean_keeps_the_other_words(news_engine):
    result = news_engine.search("Bundesregirung Merkel")
    assert result.suggestion is not None
    assert result.suggestion["query"] == "Bundesregierung Merkel"
    assert result.suggestion["total"] == news_engine.search("Bundesregierung Merkel").total


@pytest.mark.parametrize("query", ["Bundesregierung", "Pandemie", "Merkel", "Trump Putin",
                                   "Xylophonschwemme", "Sanktion", "Haus"])
def test_did_you_mean_never_offers_the_query_itself(news_engine, query):
    suggestion = news_engine.search(query).suggestion
    assert suggestion is None or suggestion["query"].lower() != query.lower()


# -- related articles ----------------------------------------------------------------------------


@pytest.mark.parametrize("article_id", ["edced858fe0a0ea0", "fang-6563"])
def test_more_like_returns_related_articles_not_the_article(news_engine, article_id):
    related = news_engine.more_like(article_id, 5)
    assert 1 <= len(related) <= 5
    assert article_id not in [hit["id"] for hit in related]
    assert len({hit["id"] for hit in related}) == len(related)
    source = {w for w in words(article_text(news_engine, article_id)) if len(w) >= 7}
    top = {w for w in words(article_text(news_engine, related[0]["id"])) if len(w) >= 7}
    assert len(source & top) >= 3
    assert set(related[0]) == HIT_KEYS
    for unknown in ("no-such-article", "", "\ud800", "\x00", "x" * 5000):
        assert news_engine.more_like(unknown, 5) == []
        assert news_engine.article(unknown) is None


# -- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize("params, name", [
    ({"page": 0}, "page"), ({"page": -1}, "page"), ({"page": 1001}, "page"),
    ({"page": "2"}, "page"), ({"per_page": 0}, "per_page"), ({"per_page": 1000}, "per_page"),
    ({"sort": "foo"}, "sort"), ({"date_from": "notadate"}, "from"),
    ({"date_to": "2020-13"}, "to"), ({"date_from": "2020-04", "date_to": "2020-03"}, "from"),
])
def test_invalid_parameters_raise(news_engine, params, name):
    with pytest.raises(InvalidParameter) as raised:
        news_engine.search("Merkel", **params)
    assert raised.value.name == name and raised.value.message


def test_result_json_shape(news_engine, news_index):
    data = news_engine.search("Merkel", per_page=20).to_dict()
    check_shape(data)
    assert data["query"] == "Merkel" and data["page"] == 1 and data["per_page"] == 20
    for hit in data["hits"]:
        record = news_index.fang.get(hit["id"])
        if record:
            assert hit["date"] == record["date"].replace(" ", "T")
            assert hit["source"] == record["source"] and hit["url"] == record["url"]


# -- the engine across reindexes -----------------------------------------------------------------


def open_files() -> list[str]:
    """What this process's file descriptors point at."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return found


def open_files_below(folder: Path) -> list[str]:
    return [f for f in open_files() if f.startswith(str(folder) + os.sep)]


def test_an_engine_made_before_the_index_finds_it_once_built(tmp_path):
    engine = Engine(tmp_path / "index")
    with pytest.raises(IndexMissing):
        engine.search("Sanktion")
    index_paths([shared_file("seed", SEED_FILE)], Settings(index_dir=tmp_path / "index"))
    assert [hit["id"] for hit in engine.search("Sanktion").hits] == ["edced858fe0a0ea0"]
    engine.close()


def test_warming_reads_every_segments_columns_and_changes_no_answer(tmp_path):
    from search import storage
    from search.backends.whoosh import postings, searching

    engine = Engine(tmp_path / "index")
    engine.warm()  # no index yet: nothing to read, and no error
    with pytest.raises(IndexMissing):
        engine.search("Sanktion")
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([shared_file("seed", SEED_FILE)], settings)
    with Engine(settings) as cold:
        before = cold.search("Sanktion Russland").to_dict()
    generation = storage.current_generation(tmp_path / "index")

    def warmed(engine):
        searching.forget_segments(generation)
        postings.clear_caches()
        engine.warm()
        mine = searching.segments_read(generation)
        assert mine
        for columns in mine:
            assert {"title", "text"} <= columns.arrays.lengths_read
        return mine

    # a built segment's compact posting arrays need no posting list decoded ahead
    mine = warmed(engine)
    assert all(columns.arrays.compact is not None for columns in mine)
    assert not [t for columns in mine for t in postings.cached_terms(columns.arrays)]
    # in a segment without them, the posting lists of the most frequent terms are
    # decoded ahead, most frequent first
    from whoosh import index as whoosh_index

    blocks_only = Engine(settings.with_changes(compact_postings=False))
    mine = warmed(blocks_only)
    assert all(columns.arrays.compact is None for columns in mine)
    read_ahead = [t for columns in mine for t in postings.cached_terms(columns.arrays)]
    assert read_ahead
    ix = whoosh_index.open_dir(str(generation))
    with ix.reader() as reader:
        frequent = max(reader.iter_field("text"), key=lambda item: item[1].doc_frequency())[0]
    ix.close()
    assert ("text", frequent) in read_ahead
    for warm in (engine, blocks_only):
        after = warm.search("Sanktion Russland").to_dict()
        before.pop("took_ms", None), after.pop("took_ms")
        assert after == before and after["total"] >= 1
    blocks_only.close()
    engine.close()


def test_reindex_is_seen_without_restart_and_searchers_are_closed(tmp_path):
    records = read_fang("part-001.jsonl.gz")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "eins.jsonl", records[:30])
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([corpus], settings)
    engine = Engine(settings)
    first = records[30]
    marker = max(words(first["header"]), key=len)
    assert first["id"] not in hit_ids(engine, marker)
    elsewhere = Counter(f for f in open_files() if not f.startswith(str(tmp_path)))
    for round_number in range(3):
        added = records[30 + round_number * 5: 35 + round_number * 5]
        write_jsonl(corpus / f"neu-{round_number}.jsonl", added)
        index_paths([corpus], settings)
        # The same engine sees the new generation at once.
        assert engine.stats()["documents"] == 35 + round_number * 5
        assert engine.article(added[0]["id"])["title"] == " ".join(added[0]["header"].split())
        for query in ["Corona", "Merkel OR Spahn", "Impf*", '"Angela Merkel"', "Bundesregirung"]:
            for page in (1, 2):
                engine.search(query, page=page, per_page=5)
        for _ in range(60):
            engine.search("Corona -Merkel", per_page=3)
        current = (settings.index_dir / "CURRENT").read_text().strip()
        held = open_files_below(settings.index_dir)
        assert held, "the engine keeps the current generation open"
        assert {Path(f).relative_to(settings.index_dir).parts[0] for f in held} == {current}
        assert len(held) <= len(list((settings.index_dir / current).iterdir()))
    assert first["id"] in hit_ids(engine, marker)
    # Nothing opened for the searches or the reindexes stays open outside the index.
    now = Counter(f for f in open_files() if not f.startswith(str(tmp_path)))
    assert now - elsewhere == Counter()
    engine.close()
    assert open_files_below(settings.index_dir) == []
