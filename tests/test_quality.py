"""German search quality: umlaut spellings, compounds, the any mode, the stemmer reference.

Real words from the real corpora: one part of FANG-COVID (1,000 German news
articles) and XQuAD-de. The full-corpus figures come from
``benchmarks/eval_compare.py``; these tests hold the behaviour in place.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
import Stemmer

from search import Engine, Settings, index_paths
from search.analysis.chains import chain_for, query_terms
from search.analysis.compounds import german_splitter

REPO = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("NEWSSEARCH_CORPORA", REPO.parent / "shared" / "corpora"))


def shared(*parts: str) -> Path:
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared corpus missing: {path} (these tests need the real corpora in "
                    f"../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def fang(tmp_path_factory):
    """An engine over part-010 of FANG-COVID (1,000 articles of June 2020)."""
    folder = tmp_path_factory.mktemp("fang") / "index"
    report = index_paths([shared("fang-covid-real", "part-010.jsonl.gz")], Settings(index_dir=folder))
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


@pytest.mark.parametrize("written, typed", [
    ("München", "Muenchen"), ("Straße", "Strasse"), ("Häuser", "Haeuser"),
    ("Bürgermeister", "Buergermeister"), ("Kontaktbeschränkungen", "Kontaktbeschraenkungen"),
    ("Maßnahmen", "Massnahmen"), ("Öffnung", "Oeffnung"), ("Gebäude", "Gebaeude"),
])
def test_both_spellings_meet_at_one_term(written, typed):
    assert query_terms(written, ["de"]) == query_terms(typed, ["de"])


def test_words_that_only_contain_the_letters_stay_apart():
    terms = {word: query_terms(word, ["de"])[0] for word in
             ("Frauen", "Frau", "Quelle", "Quellen", "aktuell", "aktuelle", "Steuer", "Steuern", "stur",
              "Feuer", "neue", "Mauer")}
    assert terms["Frauen"] == terms["Frau"] == "frau"
    assert terms["Quelle"] == terms["Quellen"] == "quell"
    assert terms["aktuell"] == terms["aktuelle"]
    assert terms["Steuer"] == terms["Steuern"] != terms["stur"]
    distinct = {terms[w] for w in ("Frauen", "Quelle", "aktuell", "Steuer", "stur", "Feuer", "neue", "Mauer")}
    assert len(distinct) == 8


def test_stopwords_are_dropped_in_both_spellings():
    for stop in ("für", "fuer", "über", "ueber", "daß", "dass", "muß", "muss", "während", "waehrend"):
        assert query_terms(stop, ["de"]) == [], stop


def test_decomposed_query_text_is_composed():
    decomposed = unicodedata.normalize("NFD", "München")
    assert decomposed != "München"
    assert query_terms(decomposed, ["de"]) == query_terms("München", ["de"])


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


def test_compound_parts_on_real_words():
    splitter = german_splitter()
    stem = Stemmer.Stemmer("german").stemWord
    expected = {
        "Flüchtlingspolitik": {"fluchtling", "polit"},
        "Bundestagswahl": {"bundestag", "wahl"},
        "Gesundheitsminister": {"gesund", "minist"},
        "Infektionsschutzgesetz": {"infektion", "schutz", "gesetz"},
        "Kontaktbeschränkungen": {"kontakt", "beschrank"},
        "Regierungssprecher": {"regier", "sprech"},
    }
    for word, parts in expected.items():
        assert parts <= set(splitter.split(stem(word.lower()))), word
    for word in ("Auswahl", "Unterschied", "Wissenschaft", "Zusammenhang", "Beispiel", "Verantwortung",
                 "Frauen", "aktuell", "Steuer"):
        assert splitter.split(stem(word.lower())) == (), word


def test_compound_splitting_precision_on_the_hand_checked_list():
    import sys
    sys.path.insert(0, str(REPO / "benchmarks"))
    from quality_compounds import measure

    figures = measure()
    assert figures["compounds"] >= 200
    assert figures["precision"] >= 0.9
    assert figures["precision_on_compounds"] >= 0.98
    assert figures["recall"] >= 0.85


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


# -- the stemmer ----------------------------------------------------------------------------


def test_stemmer_matches_the_snowball_reference():
    folder = shared("snowball-german")
    words = (folder / "voc.txt").read_text(encoding="utf-8").splitlines()
    expected = (folder / "output.txt").read_text(encoding="utf-8").splitlines()
    assert len(words) == len(expected) == 35033
    chain = chain_for("de")
    got = [chain.stem(w) for w in words]
    mismatches = [(w, g, e) for w, g, e in zip(words, got, expected) if g != e]
    assert mismatches == []


def test_coordinated_union_scores_by_the_share_of_weight_held():
    from whoosh import fields
    from whoosh.filedb.filestore import RamStorage
    from whoosh.query import Term

    from search.backends.whoosh.coordination import Coordinated

    schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT)
    index = RamStorage().create_index(schema)
    with index.writer() as writer:
        writer.add_document(id="ab", text="alpha beta")
        writer.add_document(id="a", text="alpha gamma")
        writer.add_document(id="b", text="beta")
        writer.add_document(id="none", text="delta")
    clauses = [Term("text", "alpha"), Term("text", "beta")]
    with index.searcher() as searcher:
        plain = {hit["id"]: hit.score for hit in searcher.search(Coordinated(clauses, [1, 3], power=0), limit=None)}
        coord = {hit["id"]: hit.score for hit in searcher.search(Coordinated(clauses, [1, 3], power=2), limit=None)}
        assert set(plain) == set(coord) == {"ab", "a", "b"}
        assert coord["ab"] == pytest.approx(plain["ab"])
        assert coord["a"] == pytest.approx(plain["a"] * (1 / 4) ** 2)
        assert coord["b"] == pytest.approx(plain["b"] * (3 / 4) ** 2)
        matcher = Coordinated(clauses, [1, 3]).matcher(searcher)
        assert len(list(matcher.all_ids())) == 3


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


def test_words_as_typed_ignore_case_umlaut_spellings_and_other_words():
    from search.ranking.exactness import folded_words, query_forms

    forms = query_forms(["Muenchen", "STRASSE", "Treffens"])
    assert forms == {"muenchen", "strasse", "treffens"}
    assert forms & folded_words("In München, Straße 5: das Treffen") == {"muenchen", "strasse"}


def test_an_s_the_stemmer_keeps_finds_the_word_without_it(forms):
    # The stemmer removes no -s after a vowel: "Warschaus" and "Warschau" are two terms.
    assert query_terms("Warschaus", ["de"]) != query_terms("Warschau", ["de"])
    with Engine(forms) as engine:
        assert set(ids(engine.search("Warschaus"))) == {"city", "city-2"}


def test_pages_follow_the_re_ranked_order(forms):
    with Engine(Settings(index_dir=forms, exact_form_boost=1.0)) as engine:
        whole = ids(engine.search("Treffens", per_page=10))
        paged = [hit for page in (1, 2, 3) for hit in ids(engine.search("Treffens", page=page, per_page=1))]
    assert paged == whole
