"""Stopwords never erase meaning, on a real FANG slice with English articles beside it.

The index: part-010 of FANG-COVID (1,000 German articles of June 2020, a few
of them English), the three FANG articles that write ``Merkl`` for
``Merkel``, and 30 English BBC politics articles; built once per backend
(Whoosh, and a local Xapian cluster of two shards). English stopwords
(``who``, ``it``) are not German ones, and German stopwords (``die``,
``der``) are content words in English: each language reads a query with its
own list.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest

from search import Engine, Settings, index_paths

CORPORA = Path(os.environ.get("NEWSSEARCH_CORPORA",
                              Path(__file__).resolve().parents[2].parent / "shared" / "corpora"))
REASON = "the query holds only stopwords or no searchable words"


def shared(*parts: str) -> Path:
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared corpus missing: {path} (the tests read the real corpora from "
                    f"../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)",
                    pytrace=False)
    return path


def slice_records() -> list[dict]:
    records = []
    for name in ("part-010.jsonl.gz", "part-004.jsonl.gz", "part-013.jsonl.gz",
                 "part-023.jsonl.gz"):
        with gzip.open(shared("fang-covid-real", name), "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if name == "part-010.jsonl.gz" or re.search(r"\bMerkl\b", record["article"]):
                    records.append(record)
    return records


@pytest.fixture(scope="module", params=["whoosh", "xapian"])
def engine(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"stopwords-{request.param}")
    corpus = folder / "corpus"
    corpus.mkdir()
    records = slice_records()
    (corpus / "fang.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    bbc = sorted(shared("bbc-en", "politics").glob("*.txt"))[:30]
    for path in bbc:
        (corpus / f"bbc-{path.name}").write_bytes(path.read_bytes())
    settings = Settings(index_dir=folder / "index")
    if request.param == "xapian":
        settings = settings.with_changes(shards=2)
    report = index_paths([corpus], settings)
    assert report.documents == len(records) + len(bbc) == 1033
    with Engine(Settings(index_dir=folder / "index")) as found:
        yield found


def every_hit(engine, query: str) -> list[dict]:
    result = engine.search(query, per_page=100)
    hits = list(result.hits)
    page = 2
    while len(hits) < result.total:
        hits.extend(engine.search(query, per_page=100, page=page).hits)
        page += 1
    return hits


def holds_word(engine, hit: dict, word: str) -> bool:
    article = engine.article(hit["id"])
    return re.search(rf"(?<![^\W_]){word}(?![^\W_])", article["title"] + " " + article["text"],
                     re.IGNORECASE) is not None


def test_acronyms_that_are_english_stopwords_are_searched_in_german_articles(engine):
    languages = engine.stats()["languages"]
    assert languages.get("en", 0) >= 30 and languages["de"] > 900
    for acronym, least in (("WHO", 20), ("IT", 5), ("US", 50)):
        result = engine.search(acronym)
        assert result.reason is None, acronym
        assert result.total >= least, (acronym, result.total)
        hits = every_hit(engine, acronym)
        assert all(holds_word(engine, hit, acronym) for hit in hits), acronym
    titled = engine.search("title:WHO")
    assert titled.total >= 3 and all("WHO" in hit["title"] for hit in titled.hits)


def test_a_filter_never_stands_alone_when_the_words_were_dropped(engine):
    german = engine.search("lang:de WHO")
    everything_german = engine.stats()["languages"]["de"]
    assert 20 <= german.total < everything_german / 10
    assert german.total == engine.search("WHO", lang="de").total
    for query in ("lang:de der", "date:2020 die", "source:zeit.de und oder", "lang:de ."):
        result = engine.search(query)
        assert result.total == 0 and result.hits == [], query
        assert result.reason == REASON, query
    # One language's stopwords alone, as typed by a German reader: nothing, with the reason.
    for query in ("der die das", "who"):
        result = engine.search(query)
        assert result.total == 0 and result.reason == REASON, query


def test_each_language_drops_only_its_own_stopwords(engine):
    # "die" is a German stopword and an English word: German articles need not hold it,
    # English ones would have to.
    with_die = {hit["id"] for hit in every_hit(engine, "Impfung die")}
    german = {hit["id"] for hit in every_hit(engine, "lang:de Impfung")}
    assert with_die == german and len(german) >= 10
    # "the" is an English stopword, "election" is not: the English articles are found.
    english = every_hit(engine, "the election")
    assert english and all(hit["lang"] == "en" for hit in english)
    assert {h["id"] for h in english} == {h["id"] for h in every_hit(engine, "election")
                                          if h["lang"] == "en"}
    # "DIE LINKE": the German stopword is dropped in German articles, the name is kept.
    party = engine.search("DIE LINKE")
    assert party.reason is None and party.total == engine.search("Linke", lang="de").total > 5


def test_a_correction_that_finds_many_times_more_is_suggested(engine):
    typed = engine.search("Merkl")
    assert 3 <= typed.total < 10
    assert typed.suggestion is not None
    assert typed.suggestion["query"] == "Merkel"
    assert typed.suggestion["total"] >= 10 * typed.total
    assert typed.suggestion["total"] == engine.search("Merkel").total
    # A query with plenty of hits gets none, and a word common in its own right is kept.
    assert engine.search("Merkel").suggestion is None
    assert engine.search("Corona Lockdown").suggestion is None
