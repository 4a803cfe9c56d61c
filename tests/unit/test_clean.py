"""Text cleaning and dates (search/ingest/clean.py); articles cleaned as they are read are
tested in test_corpus.py."""

from __future__ import annotations

from search.ingest.clean import clean_text, parse_date


def test_clean_text_rules():
    assert clean_text("Ha\u0308user") == "Häuser"
    assert clean_text("Zwei\u00adter Ver\u200bsuch\u2060 \ufeffmit\u200c Ver\u200dbindern") == \
        "Zweiter Versuch mit Verbindern"
    assert clean_text("A &amp; B &quot;C&quot; &#228; &auml; &shy;x") == 'A & B "C" ä ä x'
    assert clean_text("  eins \t zwei\u00a0\u202fdrei\nvier\n\n\n  fünf  ") == "eins zwei drei vier\n\nfünf"
    assert clean_text("eins\r\nzwei\r\n\r\ndrei") == "eins zwei\n\ndrei"
    assert clean_text("a\u3000\u3000b\u2003c\u1680d \u205f e", paragraph_per_line=True) == "a b c d e"
    assert clean_text("Zeile\u2028Zeile\u2029Absatz") in ("Zeile Zeile\n\nAbsatz", "Zeile\n\nZeile\n\nAbsatz")


def test_date_sort_keys_follow_time():
    forms = ["2020-02", "2020-02-29", "2020-02-29 23:59:59", "2020-03", "2020-03-01",
             "2020-03-01T00:00", "2020-03-01T08:00:00+01:00", "2020-03-31T23:59", "2020-04"]
    keys = [parse_date(form).sort_key for form in forms]
    assert keys == sorted(keys)
    assert parse_date("no date") is None and parse_date("") is None and parse_date(None) is None
