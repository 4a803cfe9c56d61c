"""The query language, parsed into a small tree that knows nothing of Whoosh.

    Flüchtlingspolitik Merkel         both words (AND)
    "Angela Merkel"                    a phrase
    Corona ODER Covid, OR              either
    Impfung -Astrazeneca, NICHT, NOT   without
    Impfung UND Pflegeheim, AND        both (as without an operator)
    (Bund OR Länder) Impfstoff         grouping
    title:Lockdown                     only in titles (also title:"…")
    lang:de  source:zeit.de  category:Sport
    date:2020-03  date:2020-03..2020-05  date:2020  date:2020-03-01..2020-03-15
    Impf*                              words starting with "Impf"

Operators are words in capitals, German or English: ``UND``/``AND``,
``ODER``/``OR``, ``NICHT``/``NOT``. In lower case (``und``, ``oder``,
``nicht``) they are words like any other.

Parsing never fails: a query that does not follow the grammar (unbalanced
quotes or brackets, a dangling operator) is read again as plain words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each operator word, German or English (capitals only), and the operator it names.
OPERATORS = {"AND": "AND", "UND": "AND", "OR": "OR", "ODER": "OR", "NOT": "NOT", "NICHT": "NOT"}

FILTER_FIELDS = ("lang", "source", "category")
TEXT_FIELDS = ("title", "text")
FIELDS = FILTER_FIELDS + TEXT_FIELDS + ("date",)


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None  # None: title and text
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Filter:
    field: str
    value: str


@dataclass(frozen=True)
class DateRange:
    start: str  # YYYY, YYYY-MM or YYYY-MM-DD
    end: str


@dataclass(frozen=True)
class Not:
    node: object


@dataclass(frozen=True)
class And:
    nodes: tuple


@dataclass(frozen=True)
class Or:
    nodes: tuple


class _SyntaxProblem(Exception):
    pass


_TOKEN = re.compile(
    r'''\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<neg>-(?=[^\s-])) |
        (?P<field>[A-Za-z]+):(?=\S) |
        (?P<phrase>"[^"]*") |
        (?P<quote>") |
        (?P<word>[^\s()"]+)
    )''',
    re.VERBOSE,
)
_DATE = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
_DATE_VALUE = re.compile(rf"^({_DATE})(?:\.\.({_DATE}))?$")
_PLAIN_WORD = re.compile(r"[^\W_]+(?:\*)?", re.UNICODE)
_WORD_END = re.compile(r'[\s()"]')


def _lex(text: str):
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "field":
            value = value.lower()
            if value not in FIELDS:
                # Not one of ours ("Uhr 10:30", "https:"): the text up to the next space,
                # bracket or quote stays a word. (It starts after the leading white space,
                # so the lexer always moves forward.)
                start = match.start(kind)
                stop = _WORD_END.search(text, start)
                end = stop.start() if stop else len(text)
                tokens.append(("word", text[start:end]))
                position = end
                continue
        tokens.append((kind, value))
    return tokens


# Deeper bracket nesting than this is not a query anyone means: it is read as plain
# words (and the recursive parser and compiler stay far from Python's recursion limit).
MAX_DEPTH = 32


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.at += 1
        return token

    def parse(self):
        node = self.or_expr()
        if self.at != len(self.tokens):
            raise _SyntaxProblem("unexpected " + str(self.peek()[1]))
        return node

    def or_expr(self):
        nodes = [self.and_expr()]
        while _operator(self.peek()) == "OR":
            self.take()
            nodes.append(self.and_expr())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self):
        nodes = []
        while True:
            kind, value = self.peek()
            if kind is None or kind == "rparen" or _operator((kind, value)) == "OR":
                break
            if _operator((kind, value)) == "AND":
                self.take()
                continue
            nodes.append(self.unary())
        if not nodes:
            raise _SyntaxProblem("empty group")
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self):
        kind, value = self.peek()
        if kind == "neg" or _operator((kind, value)) == "NOT":
            self.take()
            return Not(self.primary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "lparen":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _SyntaxProblem("brackets nested too deeply")
            node = self.or_expr()
            if self.take()[0] != "rparen":
                raise _SyntaxProblem("unbalanced brackets")
            self.depth -= 1
            return node
        if kind == "phrase":
            return Phrase(value[1:-1])
        if kind == "word":
            return _word(value, None)
        if kind == "field":
            return self.field_value(value)
        raise _SyntaxProblem(f"unexpected {value!r}")

    def field_value(self, field):
        kind, value = self.take()
        if kind == "phrase":
            value = value[1:-1]
        elif kind != "word":
            raise _SyntaxProblem(f"{field}: needs a value")
        if field == "date":
            match = _DATE_VALUE.match(value)
            if not match:
                raise _SyntaxProblem("date: needs YYYY, YYYY-MM or YYYY-MM-DD (or a..b)")
            return DateRange(match.group(1), match.group(2) or match.group(1))
        if field in FILTER_FIELDS:
            return Filter(field, value)
        if kind == "phrase":
            return Phrase(value, field)
        return _word(value, field)


def _operator(token) -> str | None:
    """``AND``, ``OR`` or ``NOT`` for a token that is an operator word, else ``None``."""
    kind, value = token
    return OPERATORS.get(value) if kind == "word" else None


def _word(value: str, field: str | None):
    if value.endswith("*") and len(value) > 1 and "*" not in value[:-1]:
        return Word(value[:-1], field, prefix=True)
    return Word(value.replace("*", " ").strip() or value, field)


def parse(text: str):
    """The query tree of ``text``; ``None`` when there is nothing to search for."""
    try:
        tokens = _lex(text)
        if not tokens:
            return None
        return _Parser(tokens).parse()
    except _SyntaxProblem:
        return plain_words(text)


def plain_words(text: str):
    """The fallback reading: every word of ``text``, AND-ed; operators ignored."""
    words = []
    for match in _PLAIN_WORD.finditer(text):
        token = match.group()
        if token in OPERATORS:
            continue
        words.append(_word(token, None))
    if not words:
        return None
    return words[0] if len(words) == 1 else And(tuple(words))


def words_of(node) -> list[Word]:
    """The positive words of a tree, in order (for suggestions)."""
    if isinstance(node, Word):
        return [node]
    if isinstance(node, (And, Or)):
        return [w for child in node.nodes for w in words_of(child)]
    return []


def is_plain_conjunction(node) -> bool:
    """True for queries that are only words AND-ed (no operators, fields or phrases)."""
    if isinstance(node, Word):
        return node.field is None and not node.prefix
    if isinstance(node, And):
        return all(isinstance(n, Word) and n.field is None and not n.prefix for n in node.nodes)
    return False
