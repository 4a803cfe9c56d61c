"""Keyword in context: every occurrence of a query in the matching articles, one per line.

A concordance shows each place a query's words occur with the text left and
right of it, aligned on the match, so that one can read how a word is used
(as DWDS or COSMAS do for their newspaper corpora). Every occurrence counts,
not one per article.

What is an occurrence is decided as in search and highlighting, by index
term (:mod:`search.highlight`): a plain word matches its inflected forms and
the other verb forms the search adds (``Maske`` finds ``Masken``), ``Impf*``
the words it expands to, a phrase its words in a row (stopwords are no
positions in the index, so ``"Angela Merkel"`` also matches ``Angela und
Merkel`` exactly where the search finds it), and ``title:``/``text:`` words
only in their field. Negated words and filters select the articles but are
never shown. Each line names its field and the offset of the match in it.

The articles are read newest first, at most ``kwic_max_articles`` of them
and up to ``kwic_max_lines`` occurrences (settings); when either bound cuts
the concordance the answer says so. Lines are ordered by date (the reading
order) or by the words left or right of the match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import query as q
from .analysis import WORD, LanguageChain
from .highlight import word_spans
from .query.planning import phrase_variants, tokens

SORTS = ("date", "left", "right")
FIELDS = ("title", "text")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Pattern:
    """What one query word or phrase matches: per position the index terms that may stand
    there (a word has one position), and the field it is restricted to (``None``: both)."""

    terms: tuple[frozenset, ...]
    field: str | None = None


def patterns(tree, word_terms, langs) -> list[Pattern]:
    """The patterns of the positive words and phrases of ``tree``; ``word_terms(node)``
    gives the index terms the search matches for one word node."""
    found: list[Pattern] = []

    def phrase(text: str, field):
        for variant in phrase_variants(text, langs):
            found.append(Pattern(tuple(frozenset((term,)) for term in variant), field))

    def walk(node):
        if isinstance(node, (q.And, q.Or)):
            for child in node.nodes:
                walk(child)
        elif isinstance(node, q.Phrase):
            phrase(node.text, node.field)
        elif isinstance(node, q.Word):
            if not node.prefix and len(tokens(node.text)) > 1:  # COVID-19: a phrase
                phrase(" ".join(tokens(node.text)), node.field)
                return
            terms = word_terms(node)
            if terms:
                found.append(Pattern((frozenset(terms),), node.field))

    if tree is not None:
        walk(tree)
    return list(dict.fromkeys(found))


def occurrences(text: str, field: str, found: list[Pattern], chain: LanguageChain, *,
                scan_chars: int, fast: bool) -> list[tuple[int, int]]:
    """``(start, end)`` of every occurrence of the patterns in ``text`` (one field of an
    article analysed by ``chain``), in text order; overlapping ones give the longest.
    ``scan_chars`` and ``fast`` as for snippets (:func:`search.highlight.word_spans`)."""
    relevant = [p for p in found if p.field in (None, field)]
    if not relevant or not text:
        return []
    spans = []
    single = frozenset().union(*(p.terms[0] for p in relevant if len(p.terms) == 1))
    if single:
        spans.extend(word_spans(text, single, chain, scan_chars=scan_chars, fast=fast))
    for pattern in relevant:
        if len(pattern.terms) > 1:
            for start, end in word_spans(text, pattern.terms[0], chain, scan_chars=scan_chars,
                                         fast=fast):
                last = _phrase_end(text, end, pattern.terms[1:], chain)
                if last is not None:
                    spans.append((start, last))
    spans.sort(key=lambda span: (span[0], -span[1]))
    kept = []
    for start, end in spans:
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def _phrase_end(text: str, at: int, rest, chain: LanguageChain) -> int | None:
    """Where a phrase ends whose first word ends at ``at``: the next indexed words must
    hold the terms of ``rest`` in turn (stopwords between them are passed over)."""
    needed = iter(rest)
    wanted = next(needed)
    for match in WORD.finditer(text, at):
        term = chain.terms_of_tokens([match.group().lower()])
        if not term:
            continue  # a stopword: no position in the index
        if term[0] not in wanted:
            return None
        wanted = next(needed, None)
        if wanted is None:
            return match.end()
    return None


def line(stored: dict, field: str, text: str, start: int, end: int, width: int) -> dict:
    """One concordance line: the article, and ``width`` characters either side of the match
    (white space folded to single spaces)."""
    left = _SPACE.sub(" ", text[max(0, start - width):start])
    right = _SPACE.sub(" ", text[end:end + width])
    return {"id": stored["id"], "title": stored.get("title", ""), "date": stored.get("date"),
            "source": stored.get("source"), "field": field, "offset": start,
            "left": left, "match": text[start:end], "right": right}


def order(lines: list[dict], sort: str) -> list[dict]:
    """``lines`` (in reading order: newest article first, then field and offset) sorted by
    ``sort``: ``date`` keeps them; ``left``/``right`` by the words next to the match,
    outwards, without regard to case."""
    if sort == "left":
        return sorted(lines, key=lambda item: [w.casefold()
                                               for w in reversed(WORD.findall(item["left"]))])
    if sort == "right":
        return sorted(lines, key=lambda item: [w.casefold() for w in WORD.findall(item["right"])])
    return lines


def cut_message(read: int, matching: int, lines_cut: bool, max_lines: int) -> str | None:
    """What the answer says when a bound cut the concordance."""
    parts = []
    if read < matching:
        parts.append(f"only the newest {read:,} of {matching:,} matching articles were read "
                     f"(setting kwic_max_articles)")
    if lines_cut:
        parts.append(f"only the first {max_lines:,} occurrences were collected "
                     f"(setting kwic_max_lines)")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ": narrow the query, the dates or the source to see " \
                                        "the others."
