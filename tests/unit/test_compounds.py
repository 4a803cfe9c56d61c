"""The German compound splitter (search/analysis/compounds.py).

The rules on small hand-made lexicons, where the right answer is known exactly:
linking elements, the fewest parts first, the most common reading among as
many parts, words that are never a modifier or never a head, the counts of
parts. Then the splitter on its real lexicon (wordfreq's German words), and the
lexicon file kept in the cache folder.
"""

from __future__ import annotations

import marshal

import pytest
import Stemmer

from search.analysis.compounds import (MIN_TERM_CHARS, CompoundSplitter, cached_lexicon, fold,
                                       german_splitter)
from support.benchmarks import benchmark


def splitter(heads: dict, modifiers: dict) -> CompoundSplitter:
    """A splitter over the given stems: heads as ``{stem: zipf}`` (a head alone is its own
    stem), modifiers as ``{stem: zipf}``."""
    return CompoundSplitter({stem: (zipf, stem) for stem, zipf in heads.items()}, modifiers)


def test_parts_joined_by_a_linking_element():
    split = splitter({"polit": 5.0}, {"fluchtling": 4.0})
    assert split.split("fluchtlingspolit") == ("fluchtling", "polit")
    # Where the parts are, the linking "s" left out.
    assert split.segment("fluchtlingspolit") == [(0, 10), (11, 16)]
    # Without a known head, or with an unknown modifier, there is no split.
    assert split.split("fluchtlingsrecht") == ()
    assert split.split("migrantenpolit") == ()


def test_the_reading_with_the_fewest_parts_wins():
    three = splitter({"wahl": 5.0}, {"bund": 4.0, "tag": 5.0})
    assert three.split("bundestagswahl") == ("bund", "tag", "wahl")
    assert three.segment("bundestagswahl") == [(0, 4), (6, 9), (10, 14)]
    two = splitter({"wahl": 5.0}, {"bund": 4.0, "tag": 5.0, "bundestag": 4.5})
    assert two.split("bundestagswahl") == ("bundestag", "wahl")


def test_among_as_many_parts_the_most_common_reading_wins():
    # "staubecken": Stau|becken or Staub|ecken.
    heads = {"becken": (3.0, "beck"), "ecken": (4.0, "eck")}
    assert CompoundSplitter(heads, {"stau": 3.0, "staub": 4.0}).split("staubecken") == \
        ("eck", "staub")
    heads = {"becken": (4.0, "beck"), "ecken": (3.0, "eck")}
    assert CompoundSplitter(heads, {"stau": 4.0, "staub": 3.0}).split("staubecken") == \
        ("beck", "stau")


def test_a_head_gives_the_stem_its_word_has_alone():
    # "schwierigkeiten" ends "zahlungsschwier" but is "schwierig" on its own.
    split = CompoundSplitter({"schwier": (4.0, "schwierig")}, {"zahlung": 4.0})
    assert split.split("zahlungsschwier") == ("schwierig", "zahlung")


def test_particles_are_never_modifiers_and_suffixes_never_heads():
    split = splitter({"wahl": 5.0, "schaft": 4.0, "ling": 4.0}, {"aus": 5.0, "wissen": 5.0,
                                                                  "fluchtling": 4.0})
    assert split.split("auswahl") == ()  # Auswahl is no Aus|wahl
    assert split.split("wissenschaft") == ()  # nor Wissenschaft Wissen|schaft
    assert split.split("fluchtling") == ()


def test_short_words_and_words_with_digits_are_never_split():
    split = splitter({"tag": 5.0, "wahl": 5.0}, {"tag": 5.0, "wahl": 5.0})
    assert len("tagtag") == MIN_TERM_CHARS
    assert split.split("tagtag") == ("tag",)
    assert split.split("tagta") == ()  # shorter than MIN_TERM_CHARS
    assert split.split("wahl2tag") == ()
    assert split.segment("wahl2tag") == []


def test_parts_and_part_counts_count_every_occurrence():
    split = splitter({"polit": 5.0, "wahl": 5.0}, {"fluchtling": 4.0, "land": 4.0})
    terms = ["fluchtlingspolit", "landtagswahl", "fluchtlingspolit", "haus"]
    assert sorted(split.parts(terms)) == ["fluchtling", "fluchtling", "polit", "polit"]
    counts = split.part_counts((["fluchtlingspolit", "haus"], [3, 7]),
                               (["fluchtlingspolit"], [2]))
    assert counts == {"fluchtling": 5, "polit": 5}


def test_fold_folds_umlauts_and_sharp_s_as_the_stemmer_does():
    assert fold("Fußgängerübergänge") == "fussgangerubergange"
    stem = Stemmer.Stemmer("german").stemWord
    assert stem("übergänge") == stem(fold("übergänge"))


# -- the real lexicon ----------------------------------------------------------------


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
    figures = benchmark("quality_compounds").measure()
    assert figures["compounds"] >= 200
    assert figures["precision"] >= 0.9
    assert figures["precision_on_compounds"] >= 0.98
    assert figures["recall"] >= 0.85


def test_the_lexicon_is_kept_in_the_cache_folder_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    # A small lexicon (only very common words), so that building it twice stays quick.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    heads, modifiers = cached_lexicon(5.5)
    assert "stadt" in modifiers and "dass" in heads
    files = list((tmp_path / "newssearch").glob("compound-lexicon-*.marshal"))
    assert len(files) == 1
    assert marshal.loads(files[0].read_bytes()) == (heads, modifiers)
    # A later call reads the file rather than building anew: what it holds comes back.
    files[0].write_bytes(marshal.dumps(({"wahl": (5.0, "wahl")}, {"bund": 4.0})))
    assert cached_lexicon(5.5) == ({"wahl": (5.0, "wahl")}, {"bund": 4.0})
    # A damaged file is built anew and replaced.
    files[0].write_bytes(b"not marshal data")
    assert cached_lexicon(5.5) == (heads, modifiers)
    assert marshal.loads(files[0].read_bytes()) == (heads, modifiers)
    # Another threshold is another file.
    cached_lexicon(6.0)
    assert len(list((tmp_path / "newssearch").glob("compound-lexicon-*.marshal"))) == 2
