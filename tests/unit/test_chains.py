"""The German analysis chain (search/analysis/chains.py): one term for both spellings of an
umlaut, stopwords in both spellings, composed Unicode, and the Snowball reference."""

from __future__ import annotations

import unicodedata

import pytest

from search.analysis.chains import chain_for, query_terms
from support.corpora import shared_corpus


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


def test_stemmer_matches_the_snowball_reference():
    folder = shared_corpus("snowball-german")
    words = (folder / "voc.txt").read_text(encoding="utf-8").splitlines()
    expected = (folder / "output.txt").read_text(encoding="utf-8").splitlines()
    assert len(words) == len(expected) == 35033
    chain = chain_for("de")
    got = [chain.stem(w) for w in words]
    mismatches = [(w, g, e) for w, g, e in zip(words, got, expected) if g != e]
    assert mismatches == []
