"""The features the first hits of a word query are re-ranked by, and the re-ranking itself."""

from __future__ import annotations

import math

import pytest

from search import Settings
from search.ranking.exactness import written_stem
from search.ranking.features import NAMES, QueryWords, features
from search.ranking.rerank import rerank, shipped_weights, weights_of
from support.ranking import text_places, text_positions


def hit(title: str, text: str, lang: str = "de") -> dict:
    return {"id": f"{title}|{text}", "title": title, "text": text, "lang": lang}


def computed(stored: dict, words: QueryWords) -> list[float]:
    """The features of a hit, with its terms' places found in its text (as the index
    holds them)."""
    return features(stored, words, text_places(stored, words.terms([stored["lang"]])))


def named(stored: dict, words) -> dict:
    return dict(zip(NAMES, computed(stored, QueryWords(words))))


def test_words_side_by_side_are_closest():
    words = ["Impfstoff", "Zulassung", "Brüssel"]
    together = named(hit("Bericht", "Die Zulassung des Impfstoffs in Brüssel wurde erwartet."),
                     words)
    apart = named(hit("Bericht", "Die Zulassung kam spät. " + "Ein anderer Satz folgt hier. " * 20
                      + "Der Impfstoff wird in Brüssel verteilt."), words)
    assert together["window"] == pytest.approx(1.0)  # three words, no word between them
    assert 0 < apart["window"] < together["window"] / 5
    # Two of three words in the text: k/w times k/n.
    two = named(hit("Bericht", "Zulassung des Impfstoffs."), words)
    assert two["window"] == pytest.approx(2 / 2 * 2 / 3)


def test_other_forms_count_as_close_but_not_as_typed():
    words = ["Impfstoffe", "Zulassungen"]
    stored = hit("Die Zulassung", "Für den Impfstoff gab es die Zulassung.")
    found = named(stored, words)
    assert found["exact"] == 0.0
    assert found["window"] > 0 and found["title"] == pytest.approx(0.5)
    typed = named(hit("Die Zulassungen", "Die Impfstoffe und ihre Zulassungen."), words)
    assert typed["exact"] == 1.0 and typed["pairs"] == 1.0 and typed["title"] == 0.5
    # One word as typed of two is not the article the reader typed.
    partly = named(hit("Die Zulassung", "Die Impfstoffe und ihre Zulassung."), words)
    assert partly["exact"] == 0.0 and partly["window"] > 0


def test_umlaut_spellings_are_words_as_typed():
    found = named(hit("Titel", "Die Grüße aus München."), ["Gruesse", "Muenchen"])
    assert found["exact"] == 1.0 and found["pairs"] == 1.0


def test_neighbouring_words_in_the_query_order():
    in_order = named(hit("x", "Landtag in Bayern tagt"), ["Landtag", "Bayern"])
    reversed_ = named(hit("x", "Bayern hat einen Landtag"), ["Landtag", "Bayern"])
    assert in_order["pairs"] == 1.0 and reversed_["pairs"] == 0.0


def test_rerank_puts_the_close_typed_hit_first_and_keeps_the_rest():
    words = ["Treffens", "Gesundheitsminister"]
    far = hit("Treffen", "Das Treffen der Minister. " + "Noch ein Satz dazu. " * 40
              + "Gesundheitsminister sprachen.")
    near = hit("Chronik", "Wegen des Treffens der Gesundheitsminister kamen alle.")
    tail = [(hit("x", "y"), 0.5)]
    items = [(far, 10.0), (near, 9.0), *tail]
    places = text_positions({stored["id"]: stored for stored, _ in items})
    settings = Settings()
    ranked = rerank(items, words, settings, places)
    assert ranked[0][0] is near and ranked[1][0] is far and ranked[2:] == tail
    # The shown score is the re-ranked one: the BM25F score times exp(w · features).
    weights = weights_of(settings)
    expected = 9.0 * math.exp(sum(w * x for w, x in zip(weights, computed(near, QueryWords(words)))))
    assert ranked[0][1] == pytest.approx(expected)
    # No weights or no depth: the order as found.
    off = Settings(exact_form_boost=0.0, rank_window_weight=0.0, rank_pairs_weight=0.0,
                   rank_title_weight=0.0, rank_written_weight=0.0)
    assert rerank(items, words, off, places) == items
    assert rerank(items, words, Settings(rerank_depth=0), places) == items
    # Only the first rerank_depth hits are compared.
    first = rerank(items, words, Settings(rerank_depth=1), places)
    assert [stored for stored, _ in first] == [stored for stored, _ in items]


def test_the_settings_default_to_the_shipped_weights():
    shipped = shipped_weights()
    assert weights_of(Settings()) == tuple(shipped[name] for name in NAMES)
    assert any(shipped.values())


def test_closeness_neighbours_and_title_come_from_the_places_read_from_the_index():
    """The features read where the stems stand from the places given (the index's
    positions), not from the stored text; a hit the index no longer holds gets none."""
    words = QueryWords(["Impfstoffe", "Zulassung"])
    first, second = words.stems("de")
    stored = hit("Ohne", "Ein Text, der keines der Wörter hält.")
    places = {"title": {second: [0]}, "text": {first: [7, 40], second: [8]}}
    found = dict(zip(NAMES, features(stored, words, places)))
    assert found == {"exact": 0.0, "window": 1.0, "pairs": 1.0, "title": 0.5, "written": 0.0}
    assert features(stored, words, {}) == [0.0] * len(NAMES)


@pytest.mark.parametrize("word, stem, written", [
    ("schöner", "schon", "schoen"), ("schoener", "schon", "schoen"), ("wählen", "wahl", "waehl"),
    ("Häuser", "haus", "haeus"), ("Fußballern", "fussball", "fussball"),
    ("trainieren", "traini", "traini"), ("aktuell", "aktull", "aktuell"), ("neue", "neu", "neu"),
    ("Impfstoff", "wahl", None)])
def test_a_stem_as_the_query_writes_it_keeps_its_umlauts(word, stem, written):
    assert written_stem(word, stem) == written


def test_a_hit_holding_the_stems_as_written_is_told_from_one_holding_their_folded_twins():
    """``schöner`` and ``schon`` are one stem; the hit holding ``schön…`` (in any
    inflection, spelled with umlauts or out) has the feature, the one holding the adverb
    has not."""
    words = QueryWords(["schöner", "Fußballern"])
    feature = NAMES.index("written")
    for title, text, expected in [
            ("Schönere Tage", "für Fußballer", 1.0),
            ("Ein wunderschoenes Spiel", "der Fussballer", 1.0),
            ("Schon wieder", "ein Fußballer", 0.0),
            ("Schönes Wetter", "ohne Sport", 0.0)]:
        assert features(hit(title, text), words, {})[feature] == expected, title
