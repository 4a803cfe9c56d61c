"""Query planning: the rules that turn query words into index terms, on every backend.

A backend's compiler subclasses :class:`Planner` and gives it three things
about its index: how many documents it holds (:attr:`Planner.documents`),
how many hold a term in a field (:meth:`Planner.doc_frequency`) and which
terms of a field start with a given prefix (:meth:`Planner.expand`). The
planner then decides, the same way for Whoosh and Xapian:

- the terms of a query word across the index's languages
  (:meth:`word_terms`; a word that holds several tokens, ``COVID-19``, is a
  phrase);
- a word's other verb forms that the index holds (:meth:`other_forms`:
  ``verpasst`` also finds ``verpassen``; ``Warschaus`` also ``Warschau``);
- the IDF a word is weighed with (:meth:`word_idf`, of the rarest way the
  index holds it);
- prefix expansion within a budget per stem and per query (:meth:`prefix_terms`):
  the work of ``Impf* Test* …`` stays bounded however many prefixes a query holds;
- the stand-ins of the any mode for words the index does not hold
  (:meth:`relaxed_terms`: the index terms sharing the word's longest known
  start);
- the 14-digit date keys of a date range (:func:`date_keys`).

The numbers behind these rules are settings (``prefix_*``, ``relaxed_*``,
``inflection_weight`` in :class:`search.settings.Settings`).
"""

from __future__ import annotations

import math

from ..analysis import WORD, chain_for, normalise_query_text, query_terms
from . import syntax as q

# Verb endings swapped to find a word's other forms.
VERB_ENDINGS = ("", "e", "en", "n", "st", "t", "et", "est", "te", "ten", "tet", "test", "tes")


def tokens(text: str) -> list[str]:
    """The words of query text as the chains split them."""
    return WORD.findall(normalise_query_text(text))


def phrase_variants(text: str, langs) -> list[tuple[str, ...]]:
    """The index terms of a phrase, in order, as each language of the index analyses it
    (one tuple per distinct reading; stopwords are no positions, so a phrase matches
    where its terms follow each other in the index)."""
    text = normalise_query_text(text)
    variants = {tuple(chain_for(lang).terms(text)) for lang in langs}
    return sorted(v for v in variants if v)


def date_keys(start: str, end: str) -> tuple[str, str]:
    """Inclusive 14-digit keys (YYYYMMDDhhmmss) for ``start``..``end`` (YYYY, YYYY-MM or YYYY-MM-DD)."""
    def key(value: str, fill: str) -> str:
        digits = value.replace("-", "")
        return digits + fill * (14 - len(digits))
    return key(start, "0"), key(end, "9")


def filter_span(date_from: str | None, date_to: str | None) -> tuple[str, str]:
    """The keys of the ``from``/``to`` search parameters (either may be missing)."""
    low, _ = date_keys(date_from or "0001", date_from or "0001")
    _, high = date_keys(date_to or "9999", date_to or "9999")
    return low, high


class Planner:
    """The shared query-planning rules; a backend's compiler fills in the index statistics."""

    #: Documents in the index (the N of the IDF).
    documents: int = 1

    def __init__(self, langs, settings):
        self.langs = tuple(langs) or ("de",)
        self.settings = settings
        self.prefix_budget = settings.prefix_max_terms_per_query
        self.has_parts = settings.parts_boost > 0

    # -- what a backend answers ---------------------------------------------

    def doc_frequency(self, field: str, term: str) -> int:
        """Documents holding ``term`` in ``field`` (``title``, ``text`` or ``parts``)."""
        raise NotImplementedError

    def expand(self, field: str, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` terms of ``field`` starting with ``prefix``, in term order."""
        raise NotImplementedError

    # -- words --------------------------------------------------------------

    @staticmethod
    def fields(field):
        """The text fields a word restricted to ``field`` (or to none) is looked for in."""
        return (field,) if field in q.TEXT_FIELDS else q.TEXT_FIELDS

    def word_terms(self, node: q.Word):
        """The index terms of a one-token word; ``None`` when the word holds several tokens."""
        found = tokens(node.text)
        if len(found) > 1:
            return None
        return query_terms(found[0], self.langs) if found else []

    @staticmethod
    def first_token(node: q.Word) -> str:
        return tokens(node.text)[0]

    def _word(self, node: q.Word):
        """How a word is read: a prefix, a phrase (several tokens), a plain word (every
        field, BM25F, its other forms), or a word restricted to one field; the backend
        builds each (``_prefix``, ``_phrase``, ``_plain``, ``_any_field``)."""
        if self.is_prefix(node):
            return self._prefix(node)
        terms = self.word_terms(node)
        if terms is None:
            return self._phrase(q.Phrase(" ".join(tokens(node.text)), node.field))
        if not terms:
            return None
        if node.field is None:
            return self._plain([self.first_token(node)], require_all=True)
        return self._any_field(node.field, terms)

    def word_idf(self, terms) -> float:
        """The IDF of the rarest way the index holds ``terms``; 0 when it holds none."""
        best = 0.0
        total = max(1, self.documents)
        for term in terms:
            df = max(self.doc_frequency("title", term), self.doc_frequency("text", term))
            if not df and self.has_parts:
                df = self.doc_frequency("parts", term)
            if df:
                best = max(best, math.log(1 + (total - df + 0.5) / (df + 0.5)))
        return best

    def other_forms(self, token: str, terms) -> list[str]:
        """Terms of the index for other verb forms of ``token`` (German only).

        The Snowball stemmer leaves verb endings in -t, -st, -te, -ten … in
        place (``verpasst`` → ``verpasst``, ``verpassen`` → ``verpass``);
        here the word's ending is swapped for the others and the stems that
        the index holds are kept: ``verpasst`` also finds ``verpassen``,
        ``verpasste``, ``verpasstest``. The same goes for an -s after a vowel,
        which the stemmer keeps: ``Warschaus`` also finds ``Warschau``.
        """
        if "de" not in self.langs or not self.settings.inflection_weight:
            return []
        lowered = normalise_query_text(token).lower()
        if len(lowered) < 5 or not lowered.isalpha():
            return []
        candidates = set()
        for ending in VERB_ENDINGS:
            if ending and not lowered.endswith(ending):
                continue
            base = lowered[: len(lowered) - len(ending)] if ending else lowered
            if len(base) < 3:
                continue
            candidates.update(base + other for other in VERB_ENDINGS if other != ending)
        # An -s the stemmer keeps (after a vowel: "Warschaus", "Südeuropas", "Kameras"):
        # the word without it, and with it.
        candidates.add(lowered[:-1] if lowered.endswith("s") else lowered + "s")
        found = set()
        own = set(terms)
        for stem in chain_for("de").stems(sorted(candidates)):
            if stem in own or stem in found or len(stem) < 4:
                continue
            if self.doc_frequency("text", stem) >= 2:
                found.add(stem)
        return sorted(found)

    # -- prefixes and stand-ins ----------------------------------------------

    def is_prefix(self, node: q.Word) -> bool:
        return node.prefix and len(node.text) >= self.settings.prefix_min_chars

    def prefix_terms(self, node: q.Word) -> list[tuple[str, str]] | None:
        """``(field, term)`` of the index terms ``Impf*`` expands to, within the budgets.

        ``None`` once the query's budget is spent: the word is then searched as
        the plain word it starts with.
        """
        if self.prefix_budget <= 0:
            return None
        lowered = normalise_query_text(node.text).lower()
        shortest = self.settings.prefix_min_chars
        stems = {lowered} | {chain_for(lang).stem(lowered) for lang in self.langs}
        stems = sorted(s for s in stems if len(s) >= shortest)
        found = []
        for field in self.fields(node.field):
            for stem in stems:
                take = max(0, min(self.settings.prefix_max_terms, self.prefix_budget))
                expanded = self.expand(field, stem, take) if take else []
                self.prefix_budget -= len(expanded)
                found.extend((field, term) for term in expanded)
        return found

    def relaxed_terms(self, terms) -> list[str]:
        """Terms of the text that start like ``terms`` do, for words the index does not hold.

        For each term, its longest start (at least ``relaxed_min_chars`` and
        half the term) that begins some index terms gives up to
        ``relaxed_max_terms`` of them.
        """
        settings = self.settings
        found = []
        for term in terms:
            shortest = max(settings.relaxed_min_chars, (len(term) + 1) // 2)
            for size in range(len(term) - 1, shortest - 1, -1):
                expanded = self.expand("text", term[:size], settings.relaxed_max_terms)
                if expanded:
                    found.extend(expanded)
                    break
        return found
