"""Generated query text (hypothesis strategies) for the fuzz tests of the Python API and HTTP.

:data:`queries` mixes every kind of text a search box can receive: random
unicode (lone surrogates and control characters included), operators, quotes,
brackets, field prefixes and date values, huge strings and deep nesting.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

FIELDS = ["title", "text", "lang", "source", "category", "date", "Title", "DATE", "url", "id",
          "https", "x", ""]
OPERATORS = ["AND", "OR", "NOT", "-", "+", "(", ")", '"', "*", ":", "..", "\\", "~", "^", "||",
             "&&", "!", "?", "[", "]", "{", "}", "/", "'", "„", "“", "«", "»"]
WORDS = ["Merkel", "Häuser", "Muenchen", "Straße", "Strasse", "Impfung", "Impf", "Corona",
         "der", "die", "und", "the", "Lockdown", "Pendlerpauschale", "Bundestag", "x", "ß", "İ",
         "ǅ", "ﬀ", "e\u0301", "日本語", "🙂", "\u200b", "\u00ad", "Zwiebelturmkonstrukteur",
         "<script>", "<mark>", "&amp;", "&lt;b&gt;", "2020", "2020-03", "zeit.de", "de", "en"]
DATE_VALUES = ["2020", "2020-03", "2020-03-01", "2020-03..2020-05", "2020-13", "2020-02-30",
               "0000", "9999-12-31", "2021..2020", "2020-03-01..2021", "..", "2020..",
               "..2020", "20", "abcd", "2020-3", "99999", "-2020"]
# Every code point, lone surrogates and control characters included.
ANY_CHAR = st.characters(exclude_categories=())

token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(OPERATORS),
    st.text(ANY_CHAR, max_size=12),
    st.text(string.ascii_letters + "äöüÄÖÜß", min_size=1, max_size=15),
    st.builds(lambda f, v: f"{f}:{v}", st.sampled_from(FIELDS),
              st.one_of(st.sampled_from(WORDS + DATE_VALUES + ['"', '("', ")"]),
                        st.text(ANY_CHAR, max_size=8))),
    st.builds(lambda w: f'"{w}"', st.text(ANY_CHAR, max_size=20)),
    st.builds(lambda w: f"{w}*", st.sampled_from(WORDS + ["", "a", "*"])),
    st.builds(lambda w: f"-{w}", st.sampled_from(WORDS)),
)
separator = st.sampled_from([" ", "", "  ", "\t", "\n", "\u3000", " OR ", " AND ", " NOT "])

_EMPTYISH = st.sampled_from(["", " ", "\t\n", "\x00", "()", '""', "*", "-", "OR", "NOT",
                             "AND OR NOT", ":", "title:", "date:"])
_FRAGMENT = st.one_of(st.sampled_from(["(", '"', "a ", "Haus OR ", "-(", "title:(", "\ud800",
                                       "ü", "x*", "date:2020 ", "https:x ", "a:b"]),
                      st.text(ANY_CHAR, min_size=1, max_size=6))
# Huge: a fragment repeated to 1,000 … ~200,000 characters.
_HUGE = st.builds(lambda fragment, n: fragment * max(1, n // len(fragment)),
                  _FRAGMENT, st.integers(1000, 200_000))
# Deep nesting of brackets, negations and fields.
_NESTED = st.builds(lambda opener, depth, inner, closing: opener * depth + inner + ")" * closing,
                    st.sampled_from(["(", "-(", "NOT (", "title:(", "((", '("']),
                    st.integers(10, 3000), st.sampled_from(WORDS), st.integers(0, 3000))
_RANDOM_TEXT = st.text(ANY_CHAR, max_size=60)
_TOKENS = st.builds(lambda parts, sep: sep.join(parts), st.lists(token, max_size=14), separator)

queries = st.one_of(_EMPTYISH, _HUGE, _NESTED, _RANDOM_TEXT, *[_TOKENS] * 8)
