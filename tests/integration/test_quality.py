"""German search quality on real indexes: umlaut spellings, compounds, the any mode, words
as typed.

Real words from the real corpora: one part of FANG-COVID (1,000 German news
articles) and a handful of articles written for these tests. The full-corpus
figures come from ``benchmarks/eval_compare.py``; these tests hold the
behaviour in place. The rules without an index (terms of a word, compound
parts, the stemmer reference) are tested in tests/unit (test_chains.py,
test_compounds.py, test_exactness.py, test_coordination.py).
"""

from __future__ import annotations

import pytest

from search import Engine, Settings, index_paths
from search.analysis.chains import chain_for, query_terms
from support.corpora import shared_file


@pytest.fixture(scope="module")
def fang(tmp_path_factory):
    """An engine over part-010 of FANG-COVID (1,000 articles of June 2020)."""
    folder = tmp_path_factory.mktemp("fang") / "index"
    report = index_paths([shared_file("fang-covid-real", "part-010.jsonl.gz")], Settings(index_dir=folder))
    assert report.documents == 1000
    with Engine(folder) as engine:
        yield engine


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A handful of articles written for these tests."""
    folder = tmp_path_factory.mktemp("tiny")
    corpus = folder / "corpus.jsonl"
    records = [
        {"id": "whole", "title": "Debatte im Landtag", "text": "Die Politik der Regierung stand im Mittelpunkt."},
        {"id": "compound", "title": "Streit in Berlin", "text": "Die Flüchtlingspolitik der Regierung wird kritisiert."},
        {"id": "wahl", "title": "Vor dem Herbst", "text": "Die Bundestagswahl rückt näher, die Parteien rüsten sich."},
        {"id": "trap", "title": "Verteidigung", "text": "Ein Bericht über Sportvereine in der Stadt."},
        {"id": "all", "title": "Saisonbilanz", "text": "Die Verteidigung der Panthers gab nur 308 Punkte ab."},
        {"id": "muenchen", "title": "Verkehr", "text": "In München wird die Straße am Marienplatz gesperrt."},
    ]
    import json
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    index_paths([corpus], Settings(index_dir=folder / "index"))
    with Engine(folder / "index") as engine:
        yield engine


def ids(result) -> list[str]:
    return [hit["id"] for hit in result.hits]


# -- umlauts and ß -----------------------------------------------------------------


def test_umlaut_spellings_find_the_same_articles(fang):
    for written, typed in (("München", "Muenchen"), ("Straße", "Strasse"), ("Bürger", "Buerger"),
                           ("Kontaktbeschränkungen", "Kontaktbeschraenkungen"),
                           ("Maßnahmen für Schüler", "Massnahmen fuer Schueler")):
        strict = fang.search(written, per_page=100)
        loose = fang.search(typed, per_page=100)
        assert strict.total > 0, written
        assert (strict.total, ids(strict)) == (loose.total, ids(loose)), (written, typed)


@pytest.mark.parametrize("word", ["Frauen", "Quelle", "aktuell", "Steuer"])
def test_words_with_the_letters_stay_findable(fang, word):
    result = fang.search(f'"{word}"', per_page=5)
    assert result.total > 0, word
    hit = fang.article(result.hits[0]["id"], query=f'"{word}"')
    marked = " ".join(hit["paragraphs_html"])
    assert "<mark>" in marked


def test_muenchen_finds_muenchen(tiny):
    assert ids(tiny.search("Muenchen")) == ["muenchen"]
    assert ids(tiny.search("Strasse Marienplatz")) == ["muenchen"]


# -- compounds -----------------------------------------------------------------------


def test_a_part_finds_the_compound_and_the_whole_word_ranks_first(tiny):
    result = tiny.search("Politik")
    assert ids(result) == ["whole", "compound"]
    assert ids(tiny.search("Wahl")) == ["wahl"]
    assert ids(tiny.search("Flüchtlinge")) == ["compound"]


def test_phrases_and_fields_match_whole_words_only(tiny):
    assert ids(tiny.search('"Politik"')) == ["whole"]
    assert ids(tiny.search("text:Politik")) == ["whole"]


def test_politik_finds_articles_that_only_hold_compounds(fang):
    chain = chain_for("de")
    ranked = []
    page = 1
    while True:
        result = fang.search("Politik", per_page=100, page=page, collapse=False)  # every article
        ranked.extend(ids(result))
        if len(ranked) >= result.total or not result.hits:
            break
        page += 1
    assert len(ranked) == result.total > 100
    whole, only_compounds = [], []
    for rank, doc_id in enumerate(ranked):
        article = fang.article(doc_id)
        words = {w.lower() for w in chain.words(article["title"] + " " + article["text"])}
        if any(chain.stem(w) == "polit" for w in words):
            whole.append(rank)
        else:
            assert any("polit" in w for w in words), doc_id
            only_compounds.append(rank)
    assert len(only_compounds) >= 10
    # Whole-word matches rank first: the first page holds the word itself,
    # and an article holding only compounds ranks below most that hold the word.
    assert min(only_compounds) >= 10
    assert sum(only_compounds) / len(only_compounds) > sum(whole) / len(whole)


# -- the any mode --------------------------------------------------------------------------


def test_long_questions_fall_back_to_ranked_or(tiny):
    result = tiny.search("Wie viele Punkte gab die Verteidigung der Panthers ab?")
    assert result.mode == "all" and ids(result) == ["all"] or result.mode == "any"
    result = tiny.search("Wie viele Punkte verlor die Verteidigung der Panthers?")
    assert result.mode == "any"
    # The article holding the words beats the short title holding one of them.
    assert ids(result)[0] == "all"
    assert "trap" in ids(result)


def test_short_queries_keep_and(tiny):
    result = tiny.search("Verteidigung Landtag")
    assert result.mode == "all" and result.total == 0


def test_a_word_the_index_lacks_does_not_empty_a_long_question(fang):
    # "Bundeskanzlerinxy" is nowhere in the index: its longest known start matches.
    result = fang.search("Wer ist die Bundeskanzlerinxy?")
    assert result.mode == "any" and result.total > 0
    assert "<mark>" in result.hits[0]["snippet"] or "Bundeskanzlerin" in result.hits[0]["title"] + result.hits[0]["snippet"]
    # A word with no known start of half its length or more finds nothing.
    assert fang.search("Was ist eine Xylophonschwemme?").total == 0
    # Short queries are never relaxed, so "Meinten Sie" can help instead.
    assert fang.search("Xylophonschwemme").total == 0


def test_more_of_the_words_rank_first(fang):
    result = fang.search("Masken Pflicht Supermarkt Bayern Kontrolle", per_page=20)
    assert result.mode in ("all", "any") and result.total > 0
    chain = chain_for("de")
    wanted = {chain.stem(w.lower()) for w in ("Masken", "Pflicht", "Supermarkt", "Bayern", "Kontrolle")}

    def held(hit):
        article = fang.article(hit["id"])
        return len(wanted & set(chain.terms(article["title"] + " " + article["text"])))

    counts = [held(hit) for hit in result.hits]
    assert counts[0] == max(counts)
    assert sum(counts[:5]) >= sum(counts[-5:])


def test_other_verb_forms_are_found_at_a_lower_weight(fang):
    from search.query.syntax import parse

    with fang.backend.session() as session:
        compiled = str(session.compile(parse("fordert")))
    # "fordert" stems to "fordert", "fordern" to "ford": the index's other forms join in.
    assert "text:fordert" in compiled and "text:ford " in compiled + " "
    forms = fang.search("fordert", per_page=100)
    infinitive = fang.search('"fordern"', per_page=100)
    assert forms.total > fang.search('"fordert"').total
    assert set(ids(infinitive)) & set(ids(forms))


# -- words as typed rank first -------------------------------------------------------


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    """Articles holding one word in different forms (one stem in the index)."""
    folder = tmp_path_factory.mktemp("forms")
    corpus = folder / "corpus.jsonl"
    filler = " ".join(f"Absatz{n} über den Sportverein." for n in range(2))
    records = [
        # The short article holds "Treffen" twice: by BM25 alone it outranks the long one,
        # which holds "Treffens" as typed in the query.
        {"id": "other-form", "title": "Vereinsleben", "text": "Das Treffen fiel aus. Ein Treffen im Mai."},
        {"id": "as-typed", "title": "Chronik", "text": f"Wegen des Treffens kamen alle. {filler}"},
        {"id": "spelled", "title": "Verkehr", "text": "In München ist das Treffen der Räte gesperrt."},
        {"id": "city", "title": "Polen", "text": "In Warschau demonstrierten Tausende."},
        {"id": "city-2", "title": "Reise", "text": "Der Zug nach Warschau fällt aus."},
        # "schöner" and the adverb "schon" are one stem: the short article holding "schon"
        # twice outranks by BM25 alone the one holding "schönere".
        {"id": "adverb", "title": "Training", "text": "Fußballer trainieren schon. Schon wieder."},
        {"id": "adjective", "title": "Sport", "text": "Schönere Tage für Fußballer im Verein."},
        {"id": "opera", "title": "Kultur", "text": "Die Opern spielen wieder vor Publikum."},
        {"id": "opera-2", "title": "Bühne", "text": "Zwei Opern und ein Ballett im Herbst."},
    ]
    import json
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    index_paths([corpus], Settings(index_dir=folder / "index"))
    return folder / "index"


def test_words_as_typed_rank_above_other_forms(forms):
    with Engine(Settings(index_dir=forms, exact_form_boost=0.0)) as engine:
        by_stem = engine.search("Treffens")
    order = ids(by_stem)
    assert order.index("other-form") < order.index("as-typed")
    with Engine(Settings(index_dir=forms, exact_form_boost=1.0)) as engine:
        typed = engine.search("Treffens")
        assert ids(typed)[0] == "as-typed"
        assert set(ids(typed)) == set(ids(by_stem))
        # The re-ranked score is the one shown, and the hits are in its order.
        scores = [hit["score"] for hit in typed.hits]
        assert scores == sorted(scores, reverse=True)
        # Operators, phrases and date order keep the plain order.
        assert ids(engine.search('"Treffens" OR Treffen'))[0] == "other-form"
        assert ids(engine.search("Treffens", sort="date")) == ids(
            Engine(Settings(index_dir=forms, exact_form_boost=0.0)).search("Treffens", sort="date"))


def test_an_s_the_stemmer_keeps_finds_the_word_without_it(forms):
    # The stemmer removes no -s after a vowel: "Warschaus" and "Warschau" are two terms.
    assert query_terms("Warschaus", ["de"]) != query_terms("Warschau", ["de"])
    with Engine(forms) as engine:
        assert set(ids(engine.search("Warschaus"))) == {"city", "city-2"}


def test_a_stem_written_with_its_umlauts_ranks_above_its_folded_twin(forms):
    with Engine(Settings(index_dir=forms, rank_written_weight=0.0, exact_form_boost=0.0)) as engine:
        assert ids(engine.search("schöner Fußballer"))[0] == "adverb"
    with Engine(forms) as engine:  # the shipped weights
        for query in ("schöner Fußballer", "schoener Fussballer"):
            assert ids(engine.search(query))[0] == "adjective", query
        # Without umlauts typed the adverb keeps its place.
        assert ids(engine.search("schon Fußballer"))[0] == "adverb"


def test_a_word_of_four_letters_finds_its_other_forms(forms):
    with Engine(forms) as engine:
        assert set(ids(engine.search("Oper"))) == {"opera", "opera-2"}


def test_pages_follow_the_re_ranked_order(forms):
    with Engine(Settings(index_dir=forms, exact_form_boost=1.0)) as engine:
        whole = ids(engine.search("Treffens", per_page=10))
        paged = [hit for page in (1, 2, 3) for hit in ids(engine.search("Treffens", page=page, per_page=1))]
    assert paged == whole
