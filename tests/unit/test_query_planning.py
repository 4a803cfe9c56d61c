"""Query planning (search/query/planning.py): the rules both backends share.

A tiny index stands in for a backend: a subclass of :class:`Planner` that
answers document frequencies and prefix expansions from a dict of
``{field: {term: documents}}`` and notes what it was asked. The rules are then
checked on it: the terms of a word, other verb forms, the IDF a word is
weighed with, prefix budgets, stand-ins for unknown words and date keys.
"""

from __future__ import annotations

import math

import pytest

from search import Settings
from search.analysis.chains import query_terms
from search.query.planning import Planner, date_keys, filter_span, tokens
from search.query.syntax import Word


class TinyIndex(Planner):
    """A backend's statistics from a dict: ``{field: {term: documents holding it}}``."""

    def __init__(self, terms: dict, settings: Settings | None = None, *, langs=("de",),
                 documents: int = 100):
        super().__init__(langs, settings or Settings())
        self.terms = terms
        self.documents = documents
        self.expanded: list[tuple[str, str, int]] = []

    def doc_frequency(self, field: str, term: str) -> int:
        return self.terms.get(field, {}).get(term, 0)

    def expand(self, field: str, prefix: str, limit: int) -> list[str]:
        self.expanded.append((field, prefix, limit))
        return sorted(t for t in self.terms.get(field, {}) if t.startswith(prefix))[:limit]


def idf(documents: int, df: int) -> float:
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


# -- the terms of a word --------------------------------------------------------------------


def test_the_terms_of_a_word_in_every_language_of_the_index():
    assert TinyIndex({}).word_terms(Word("Impfungen")) == ["impfung"]
    both = TinyIndex({}, langs=("de", "en")).word_terms(Word("Häuser"))
    assert both == query_terms("Häuser", ["de", "en"]) and "haus" in both and len(both) == 2
    assert TinyIndex({}, langs=()).langs == ("de",)  # an empty index reads German


def test_a_word_of_several_tokens_is_a_phrase_and_a_stopword_has_no_terms():
    index = TinyIndex({})
    assert tokens("COVID-19") == ["COVID", "19"]
    assert index.word_terms(Word("COVID-19")) is None
    assert index.word_terms(Word("der")) == []
    assert index.word_terms(Word("---")) == []


# -- other verb forms -----------------------------------------------------------------------


def test_other_verb_forms_the_index_holds_are_found():
    index = TinyIndex({"text": {"verpass": 5, "verpasst": 3, "verpasstest": 1, "fordert": 9}})
    # "verpasst" stems to itself, "verpassen" to "verpass"; a form in one article only
    # ("verpasstest") is left out.
    assert index.other_forms("verpasst", ["verpasst"]) == ["verpass"]


def test_a_word_of_four_letters_finds_its_other_forms():
    # Snowball leaves "Opern" apart from "Oper" (too short for its -n to be an ending).
    index = TinyIndex({"text": {"oper": 6, "opern": 3}})
    assert index.other_forms("Oper", query_terms("Oper", ["de"])) == ["opern"]


def test_an_s_after_a_vowel_is_tried_without_it():
    index = TinyIndex({"text": {"warschau": 4, "warschaus": 2}})
    assert index.other_forms("Warschaus", query_terms("Warschaus", ["de"])) == ["warschau"]


@pytest.mark.parametrize("token", ["elf", "G7-Gipfel", "2020er"])
def test_short_words_and_words_with_other_characters_have_no_other_forms(token):
    index = TinyIndex({"text": {term: 9 for term in ("elfer", "elfen", "gipfel", "er")}})
    assert index.other_forms(token, []) == []


def test_no_other_forms_without_german_or_with_their_weight_at_zero():
    terms = {"text": {"verpass": 5}}
    assert TinyIndex(terms, langs=("en",)).other_forms("verpasst", ["verpasst"]) == []
    muted = TinyIndex(terms, Settings(inflection_weight=0.0))
    assert muted.other_forms("verpasst", ["verpasst"]) == []
    assert TinyIndex(terms, langs=("en", "de")).other_forms("verpasst", ["verpasst"]) == \
        ["verpass"]


# -- the IDF of a word ------------------------------------------------------------------------


def test_a_word_weighs_with_the_idf_of_its_rarest_form():
    index = TinyIndex({"title": {"haus": 30}, "text": {"haus": 60, "hauser": 4}}, documents=1000)
    assert index.word_idf(["haus"]) == pytest.approx(idf(1000, 60))  # the larger of title, text
    assert index.word_idf(["haus", "hauser"]) == pytest.approx(idf(1000, 4))
    assert index.word_idf(["unbekannt"]) == 0.0
    assert index.word_idf([]) == 0.0


def test_compound_parts_count_only_while_they_are_searched():
    terms = {"parts": {"polit": 12}}
    assert TinyIndex(terms, documents=200).word_idf(["polit"]) == pytest.approx(idf(200, 12))
    assert TinyIndex(terms, Settings(parts_boost=0.0), documents=200).word_idf(["polit"]) == 0.0


# -- prefixes within their budgets ------------------------------------------------------------

IMPF = {"title": {"impfstoff": 2, "impfung": 3},
        "text": {"imp": 1, "impf": 1, "impfstoff": 5, "impfung": 9, "impfzentr": 2}}


def test_a_prefix_expands_in_each_text_field_up_to_its_budget():
    index = TinyIndex(IMPF, Settings(prefix_max_terms=2, prefix_max_terms_per_query=100))
    assert index.prefix_terms(Word("Impf", None, prefix=True)) == [
        ("title", "impfstoff"), ("title", "impfung"), ("text", "impf"), ("text", "impfstoff")]
    assert index.expanded == [("title", "impf", 2), ("text", "impf", 2)]
    assert index.prefix_budget == 100 - 4


def test_a_prefix_in_a_field_expands_only_there():
    index = TinyIndex(IMPF)
    assert index.prefix_terms(Word("impf", "title", prefix=True)) == [
        ("title", "impfstoff"), ("title", "impfung")]


def test_the_prefixes_of_one_query_share_one_budget():
    index = TinyIndex(IMPF, Settings(prefix_max_terms=2, prefix_max_terms_per_query=5))
    word = Word("Impf", None, prefix=True)
    assert len(index.prefix_terms(word)) == 4
    assert index.prefix_terms(word) == [("title", "impfstoff")]  # what is left of the budget
    assert index.prefix_budget == 0
    assert index.prefix_terms(word) is None  # spent: searched as the plain word


def test_a_prefix_expands_the_word_and_its_stem():
    index = TinyIndex({"text": {"impfung": 9, "impfungen": 1}})
    index.prefix_terms(Word("Impfungen", None, prefix=True))
    assert sorted(prefix for _, prefix, _ in index.expanded) == ["impfung", "impfung",
                                                                  "impfungen", "impfungen"]


def test_prefixes_shorter_than_the_setting_are_plain_words():
    settings = Settings(prefix_min_chars=3)
    assert TinyIndex({}, settings).is_prefix(Word("Imp", None, prefix=True))
    assert not TinyIndex({}, settings).is_prefix(Word("Im", None, prefix=True))
    assert not TinyIndex({}, settings).is_prefix(Word("Impf"))


# -- stand-ins for words the index does not hold ----------------------------------------------


def test_an_unknown_word_is_stood_in_for_by_terms_sharing_its_longest_known_start():
    index = TinyIndex(IMPF)
    assert index.relaxed_terms(["impfzentrum"]) == ["impfzentr"]
    # The longest start wins: "impfu" finds only impfung, not every "impf" term.
    assert index.relaxed_terms(["impfux"]) == ["impfung"]
    # At least half the word must be known: "impfzzz" (7) -> "impfz" (5) still is.
    assert index.relaxed_terms(["impfzzz"]) == ["impfzentr"]
    assert index.relaxed_terms(["imxxxxxxxx"]) == []  # "im" is less than half
    assert index.relaxed_terms(["xyz"]) == []


def test_stand_ins_follow_their_settings():
    terms = {"text": {f"haus{n:02d}": 1 for n in range(30)}}
    assert len(TinyIndex(terms).relaxed_terms(["hausxxx"])) == 30
    few = TinyIndex(terms, Settings(relaxed_max_terms=5))
    assert few.relaxed_terms(["hausxxx"]) == [f"haus{n:02d}" for n in range(5)]
    # "hau" is a start of three letters, less than half of "hauxxxxxxx": nothing stands in.
    assert TinyIndex(terms).relaxed_terms(["hauxxxxxxx"]) == []
    long_start = TinyIndex(terms, Settings(relaxed_min_chars=5))
    assert long_start.relaxed_terms(["hausxxx"]) == []


# -- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end, keys", [
    ("2020", "2020", ("20200000000000", "20209999999999")),
    ("2020-03", "2020-05", ("20200300000000", "20200599999999")),
    ("2020-03-01", "2020-03-15", ("20200301000000", "20200315999999")),
])
def test_date_keys_cover_whole_days_months_and_years(start, end, keys):
    assert date_keys(start, end) == keys
    assert all(len(key) == 14 for key in keys)


def test_a_filter_span_is_open_where_a_bound_is_missing():
    assert filter_span(None, None) == ("00010000000000", "99999999999999")
    assert filter_span("2020-03-01", None) == ("20200301000000", "99999999999999")
    assert filter_span(None, "2020") == ("00010000000000", "20209999999999")
