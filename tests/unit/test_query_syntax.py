"""The query language (search/query/syntax.py): text to a backend-neutral tree.

Every form of the README's table, how operators bind, and the rule that
parsing never fails: input that does not follow the grammar (unbalanced
quotes or brackets, dangling operators, a field without a value, brackets
nested deeper than MAX_DEPTH) is read again as plain words.
"""

from __future__ import annotations

import pytest

from search.query.syntax import (MAX_DEPTH, And, DateRange, Filter, Not, Or, Phrase, Word,
                                 is_plain_conjunction, parse, plain_words, words_of)


def w(text, field=None, prefix=False) -> Word:
    return Word(text, field, prefix)


# -- the forms of the query language ---------------------------------------------------


@pytest.mark.parametrize("text, tree", [
    ("Merkel", w("Merkel")),
    ("Flüchtlingspolitik Merkel", And((w("Flüchtlingspolitik"), w("Merkel")))),
    ("Flüchtlingspolitik AND Merkel", And((w("Flüchtlingspolitik"), w("Merkel")))),
    ('"Angela Merkel"', Phrase("Angela Merkel")),
    ("Corona OR Covid", Or((w("Corona"), w("Covid")))),
    ("Impfung -Astrazeneca", And((w("Impfung"), Not(w("Astrazeneca"))))),
    ("Impfung NOT Astrazeneca", And((w("Impfung"), Not(w("Astrazeneca"))))),
    ('Impfung -"Astra Zeneca"', And((w("Impfung"), Not(Phrase("Astra Zeneca"))))),
    ("-(Bund Länder)", Not(And((w("Bund"), w("Länder"))))),
    ("(Bund OR Länder) Impfstoff", And((Or((w("Bund"), w("Länder"))), w("Impfstoff")))),
    ("Impf*", w("Impf", prefix=True)),
    ("title:Lockdown", w("Lockdown", "title")),
    ("TITLE:Lockdown", w("Lockdown", "title")),
    ("text:Haus*", w("Haus", "text", prefix=True)),
    ('title:"harter Lockdown"', Phrase("harter Lockdown", "title")),
    ("lang:de source:zeit.de category:Sport",
     And((Filter("lang", "de"), Filter("source", "zeit.de"), Filter("category", "Sport")))),
    ('source:"zeit de"', Filter("source", "zeit de")),
])
def test_each_form_gives_its_tree(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize("text, start, end", [
    ("date:2020", "2020", "2020"),
    ("date:2020-03", "2020-03", "2020-03"),
    ("date:2020-03..2020-05", "2020-03", "2020-05"),
    ("date:2020-03-01..2020-03-15", "2020-03-01", "2020-03-15"),
    ("date:2019..2020-06-30", "2019", "2020-06-30"),
])
def test_dates_and_date_ranges(text, start, end):
    assert parse(text) == DateRange(start, end)


def test_and_binds_tighter_than_or():
    assert parse("a b OR c") == Or((And((w("a"), w("b"))), w("c")))
    assert parse("a OR b c") == Or((w("a"), And((w("b"), w("c")))))
    assert parse("a OR b OR c") == Or((w("a"), w("b"), w("c")))


def test_brackets_nest():
    assert parse("(((Bund)))") == w("Bund")
    assert parse("a (b OR (c -d))") == And((w("a"), Or((w("b"), And((w("c"), Not(w("d"))))))))


def test_a_star_inside_a_word_is_no_prefix():
    assert parse("a*b") == w("a b")
    assert parse("**") == w("**")  # nothing but stars stays itself


def test_colons_of_unknown_fields_stay_part_of_the_word():
    assert parse("Uhr 10:30") == And((w("Uhr"), w("10:30")))
    assert parse("https://zeit.de") == w("https://zeit.de")
    assert parse("x:y") == w("x:y")


# -- malformed input: read again as plain words ----------------------------------------


@pytest.mark.parametrize("text, tree", [
    ('"unbalanced', w("unbalanced")),
    ('"Angela Merkel', And((w("Angela"), w("Merkel")))),
    ("(Bund OR", w("Bund")),
    ("Bund)", w("Bund")),
    ("(Bund OR Länder", And((w("Bund"), w("Länder")))),
    ("Bund OR", w("Bund")),
    ("OR Bund", w("Bund")),
    ("Bund OR OR Land", And((w("Bund"), w("Land")))),
    ("(a OR b) (c", And((w("a"), w("b"), w("c")))),
    ("date:März", And((w("date"), w("März")))),  # not a date
    ("date:2020-03..", And((w("date"), w("2020"), w("03")))),
    ("title:(Bund OR Land)", And((w("title"), w("Bund"), w("Land")))),  # a field takes no group
])
def test_malformed_queries_fall_back_to_their_words(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "AND OR NOT", "NOT", "()", "( )"])
def test_nothing_to_search_for_is_none(text):
    assert parse(text) is None


def test_brackets_deeper_than_the_limit_are_read_as_words():
    nested = "(" * MAX_DEPTH + "a OR b" + ")" * MAX_DEPTH
    assert parse(nested) == Or((w("a"), w("b")))
    too_deep = "(" * (MAX_DEPTH + 1) + "a OR b" + ")" * (MAX_DEPTH + 1)
    assert parse(too_deep) == And((w("a"), w("b")))
    # Far deeper than Python's recursion limit: still an answer, at once.
    assert parse("(" * 5000 + "a" + ")" * 5000) == w("a")


def test_any_text_parses_without_raising():
    for text in ["\x00", "\ud800", "-", "- -", "a -", "*", '"', '""""', "title:", "lang:",
                 ":::", "((((", "))))", "-(", "NOT (", "date:", "date:..", "é" * 10_000]:
        tree = parse(text)
        assert tree is None or isinstance(tree, (Word, Phrase, Filter, DateRange, Not, And, Or))


def test_plain_words_drops_operators_and_punctuation():
    assert plain_words('title:"Bund" OR -(Länder*) AND NOT x') == \
        And((w("title"), w("Bund"), w("Länder", prefix=True), w("x")))
    assert plain_words("()-*") is None


# -- reading the tree --------------------------------------------------------------------


def test_words_of_gives_the_positive_words_in_order():
    tree = parse('a OR (b -c) title:d "e f" g* lang:de')
    assert words_of(tree) == [w("a"), w("b"), w("d", "title"), w("g", prefix=True)]
    assert words_of(None) == []


@pytest.mark.parametrize("text, plain", [
    ("Bund", True),
    ("Bund Länder Impfstoff", True),
    ("Bund OR Länder", False),
    ("Bund -Länder", False),
    ("title:Bund", False),
    ("Impf*", False),
    ("Bund Impf*", False),
    ('"Bund Länder"', False),
    ("Bund lang:de", False),
])
def test_plain_conjunctions_are_only_words(text, plain):
    assert is_plain_conjunction(parse(text)) is plain
