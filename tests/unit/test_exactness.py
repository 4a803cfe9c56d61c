"""Words as typed (search/ranking/exactness.py): case, umlaut spellings and other words."""

from __future__ import annotations

from search.ranking.exactness import folded_words, query_forms


def test_words_as_typed_ignore_case_umlaut_spellings_and_other_words():
    forms = query_forms(["Muenchen", "STRASSE", "Treffens"])
    assert forms == {"muenchen", "strasse", "treffens"}
    assert forms & folded_words("In München, Straße 5: das Treffen") == {"muenchen", "strasse"}
