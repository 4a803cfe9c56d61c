"""The corpus vocabulary behind "Meinten Sie" (search/analysis/spelling.py).

Counting (each word once per article), removing, the file it is kept in (and
the older pickled form), and the corrections it offers, on hand-made counts
where the rule is visible and on the words of 1,000 real articles.
"""

from __future__ import annotations

import pickle
import random
from collections import Counter

import pytest
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from search.analysis.chains import WORD, lowercase_keeps_words
from search.analysis.spelling import (FILE, Vocabulary, surface_words,
                                      surface_words_of_tokens)


def test_surface_words_are_lowercase_letters_3_to_40_long():
    assert surface_words("Ab 2020 gibt es COVID-19, Maßnahmen_und ä") == \
        {"gibt", "covid", "maßnahmen", "und"}
    assert surface_words("Haus haus HAUS") == {"haus"}
    # A longer run of letters is taken 40 at a time.
    assert surface_words("a" * 40 + "b" * 5) == {"a" * 40, "bbbbb"}


def test_surface_words_of_tokens_equal_those_of_the_text(fang000):
    checked = 0
    for record in fang000:
        text = record["header"] + "\n" + record["article"]
        if lowercase_keeps_words(text):
            assert surface_words_of_tokens(WORD.findall(text.lower())) == surface_words(text)
            checked += 1
    assert checked > 900


def test_counts_of_parts_add_up_in_the_order_counter_update_gives(fang000):
    """A part's counts (a mapping, as the workers send them) add up to what
    ``Counter.update`` gives, in the same order: the corrections keep that order."""
    vocabulary, expected = Vocabulary(), Counter()
    for start in range(0, 600, 150):
        part = Counter()
        for record in fang000[start:start + 150]:
            part.update(surface_words(record["header"] + "\n" + record["article"]))
        vocabulary.add_words(part)
        expected.update(part)
    assert list(vocabulary.counts.items()) == list(expected.items())
    assert len(expected) > 10_000 and max(expected.values()) > 100


def test_add_counts_each_word_once_per_article_and_remove_takes_it_back():
    vocabulary = Vocabulary()
    vocabulary.add("Haus Haus Baum")
    vocabulary.add("Haus Garten")
    assert vocabulary.counts == Counter({"haus": 2, "baum": 1, "garten": 1})
    vocabulary.add_words({"haus", "dach"})
    assert vocabulary.counts["haus"] == 3 and vocabulary.counts["dach"] == 1
    vocabulary.remove("Haus Baum Baum")
    assert vocabulary.counts == Counter({"haus": 2, "garten": 1, "dach": 1})
    vocabulary.remove("Garten Unbekannt")  # a word it never counted is no error
    assert vocabulary.counts == Counter({"haus": 2, "dach": 1})


def test_save_and_load_keep_every_count(tmp_path):
    vocabulary = Vocabulary(Counter({"bundesregierung": 120, "impfstoff": 7, "größe": 1,
                                     "straße": 3}))
    vocabulary.save(tmp_path)
    assert (tmp_path / FILE).read_bytes().startswith(b"NSVOCAB1")
    assert not (tmp_path / (FILE + ".tmp")).exists()
    assert Vocabulary.load(tmp_path).counts == vocabulary.counts
    Vocabulary().save(tmp_path)  # an empty vocabulary replaces it
    assert Vocabulary.load(tmp_path).counts == Counter()


def test_a_vocabulary_of_the_older_pickled_form_is_read(tmp_path):
    (tmp_path / FILE).write_bytes(pickle.dumps({"haus": 4, "baum": 2}))
    assert Vocabulary.load(tmp_path).counts == Counter({"haus": 4, "baum": 2})


@pytest.mark.parametrize("data", [b"", b"NSVOCAB1", b"NSVOCAB1" + b"\x00" * 20,
                                  b"NSVOCAB1\x05\x00\x00\x00\x00\x00\x00\x00abcde", b"junk"])
def test_a_missing_or_damaged_file_gives_an_empty_vocabulary(tmp_path, data):
    assert Vocabulary.load(None).counts == Counter()
    assert Vocabulary.load(tmp_path).counts == Counter()  # no file
    (tmp_path / FILE).write_bytes(data)
    assert Vocabulary.load(tmp_path).counts == Counter()


def test_a_file_whose_words_and_counts_disagree_is_damaged(tmp_path):
    Vocabulary(Counter({"haus": 4, "baum": 2})).save(tmp_path)
    good = (tmp_path / FILE).read_bytes()
    other = tmp_path / "other"
    other.mkdir()
    Vocabulary(Counter({"haus": 4})).save(other)
    counts_of_one = (other / FILE).read_bytes()
    # The words of the first file with the counts of the second: one count for two words.
    size = int.from_bytes(good[8:16], "little")
    one_size = int.from_bytes(counts_of_one[8:16], "little")
    (tmp_path / FILE).write_bytes(good[:16 + size] + counts_of_one[16 + one_size:])
    assert Vocabulary.load(tmp_path).counts == Counter()


# -- corrections -------------------------------------------------------------------------


def test_the_most_common_word_within_two_edits_is_offered():
    vocabulary = Vocabulary(Counter({"bundesregierung": 300, "bundesregierungen": 40,
                                     "landesregierung": 200}))
    assert vocabulary.correct("Bundesregirung") == "bundesregierung"
    assert vocabulary.correct("Bundesregierunng") == "bundesregierung"
    assert vocabulary.correct("Bndesrgierung") == "bundesregierung"  # two edits
    assert vocabulary.correct("Bndsrgierung") is None  # three
    assert vocabulary.correct("Bndesrgierung", max_edits=1) is None


def test_fewer_edits_win_over_more_articles():
    vocabulary = Vocabulary(Counter({"schule": 50, "schulen": 500}))
    assert vocabulary.correct("schhule") == "schule"  # one edit from schule, two from schulen
    assert vocabulary.correct("schulee") == "schulen"  # one edit from either


def test_a_common_word_is_never_corrected():
    vocabulary = Vocabulary(Counter({"regierung": 500, "regierungen": 3000}))
    assert vocabulary.correct("Regierung") is None
    assert vocabulary.correct("regierunge") == "regierungen"


def test_a_correction_must_be_much_more_common_than_the_word_typed():
    # A known but rare word (two articles) is corrected only to a word in more than
    # twenty times as many.
    vocabulary = Vocabulary(Counter({"merkle": 2, "merkel": 40}))
    assert vocabulary.correct("Merkle") is None
    vocabulary.add_words(["merkel"] * 1)  # 41 > 2 * 20
    assert vocabulary.correct("Merkle") == "merkel"


def test_short_words_get_one_edit_and_rare_words_are_never_offered():
    vocabulary = Vocabulary(Counter({"haus": 90, "maus": 1, "laus": 2}))
    assert vocabulary.correct("hus") == "haus"
    assert vocabulary.correct("hs") is None  # two edits: too many for a short word
    assert vocabulary.correct("mau") is None  # maus is in one article only
    assert vocabulary.correct("lau") == "laus"
    assert Vocabulary(Counter({"laus": 2})).correct("lau", min_count=3) is None


def test_corrections_follow_words_added_and_removed():
    vocabulary = Vocabulary(Counter({"impfung": 30}))
    assert vocabulary.correct("Impfstof") is None
    vocabulary.add_words(["impfstoff"] * 1)
    for _ in range(2):
        vocabulary.add("Der Impfstoff")
    assert vocabulary.correct("Impfstof") == "impfstoff"
    for _ in range(3):
        vocabulary.remove("Impfstoff")
    assert vocabulary.correct("Impfstof") is None


def test_corrections_from_the_words_of_real_articles(fang000):
    vocabulary = Vocabulary()
    for record in fang000:
        vocabulary.add(record["header"] + "\n" + record["article"])
    assert len(vocabulary.counts) > 30_000
    for typed, meant in [("Bundesregirung", "bundesregierung"),
                         ("Gesundheitsminster", "gesundheitsminister"),
                         ("Coronavirsu", "coronavirus"), ("Pandemi", "pandemie"),
                         ("Impfstof", "impfstoff"), ("Schuhle", "schule")]:
        assert vocabulary.correct(typed) == meant, typed
    assert vocabulary.correct("Regierung") is None
    assert vocabulary.correct("qwertzuiop") is None


def _every_word_compared(vocabulary: Vocabulary, word: str, max_edits: int = 2,
                         min_count: int = 2, max_own=None):
    """The rule of :meth:`Vocabulary.correct` over every known word, none left out."""
    lowered = word.lower()
    own = vocabulary.counts.get(lowered, 0)
    if own > (min_count if max_own is None else max_own):
        return None
    edits = 1 if len(lowered) <= 4 else max_edits
    choices = [w for w, c in vocabulary.counts.items() if c >= min_count]
    found = process.extract(lowered, choices, scorer=Levenshtein.distance,
                            score_cutoff=edits, limit=25)
    ranked = [((distance, -vocabulary.counts[candidate], candidate), candidate)
              for candidate, distance, _ in found
              if candidate != lowered and vocabulary.counts[candidate] > own * 20]
    return min(ranked)[1] if ranked else None


def test_corrections_compare_only_words_that_can_be_close_and_answer_as_over_all(fang000):
    """correct() leaves out known words too long, too short or with too many letters
    of their own; its answers are those of comparing every known word."""
    vocabulary = Vocabulary()
    for record in fang000:
        vocabulary.add(record["header"] + "\n" + record["article"])
    rng = random.Random(11)
    typed = []
    for word in rng.sample(sorted(vocabulary.counts), 150):
        at = rng.randrange(len(word))
        letter = rng.choice("abcdefghijklmnopqrstuvwxyzäöüß")
        typed.append([word[:at] + word[at + 1:], word[:at] + letter + word[at:],
                      word[:at] + letter + word[at + 1:], word][rng.randrange(4)])
    typed += ["Merkl", "Lockdwn", "STRASSE", "strase", "xq"]
    answers = [vocabulary.correct(word) for word in typed]
    assert sum(answer is not None for answer in answers) >= 40
    assert answers == [_every_word_compared(vocabulary, word) for word in typed]
    assert [vocabulary.correct(w, max_own=30) for w in typed[:50]] == \
        [_every_word_compared(vocabulary, w, max_own=30) for w in typed[:50]]
    assert [vocabulary.correct(w, min_count=3) for w in typed[:50]] == \
        [_every_word_compared(vocabulary, w, min_count=3) for w in typed[:50]]
