"""Query planning: the rules that turn query words into index terms, on every backend.

A backend's compiler subclasses :class:`Planner` and gives it three things
about its index: how many documents it holds (:attr:`Planner.documents`),
how many hold a term in a field (:meth:`Planner.doc_frequency`) and which
terms of a field start with a given prefix (:meth:`Planner.expand`). The
planner then decides, the same way for Whoosh and Xapian:

- the terms of a query word across the index's languages
  (:meth:`word_terms`; a word that holds several tokens, ``COVID-19``, is a
  phrase), each language analysing it with its own stopwords; in a plain
  word query, a word that only some languages drop is required in the
  articles of the others alone (:meth:`plain_words`), and a group whose words
  were all dropped matches nothing rather than everything its filters allow
  (:func:`keeps_words`);
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

from ..analysis import WORD, chain_for, normalise_query_text, query_terms, stopword_langs
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


def keeps_words(nodes, parts) -> bool:
    """False when the positive words, phrases and groups among ``nodes`` (compiled to
    ``parts``, ``None`` for dropped ones) were all dropped: the group then matches
    nothing, where the filters left in it would have matched everything they allow
    (``lang:de WHO`` must not be every German article)."""
    texts = [part for node, part in zip(nodes, parts)
             if not isinstance(node, (q.Filter, q.DateRange, q.Not))]
    return not texts or any(part is not None for part in texts)


def in_capitals(token: str) -> bool:
    """A word written in capitals (``WHO``, ``IT``, ``DIE``): an acronym or a name."""
    return len(token) >= 2 and token.isupper()


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
        token = self.first_token(node)
        if stopword_langs(token, self.langs) and not in_capitals(token):
            # A field holds no stopword in the articles of those languages, and outside
            # a plain word query they cannot be left free of it (see plain_words).
            return None
        return self._any_field(node.field, terms)

    def plain_words(self, tokens, *, require_all: bool):
        """``(words, only)``: ``(token, terms, free languages)`` of each word of a plain
        word query (each once), and the languages whose articles alone can match
        (``None``: every language's).

        Each language reads the query with its own stopwords. A word that is a
        stopword in some of the index's languages but not in others (``die``:
        German, not English; ``WHO``: English, not German) is searched with the
        stems of the others, and the articles of the languages that drop it need
        not hold it: those are its *free languages*, where the backend lets the
        word's clause match without scoring. A language whose reading keeps no
        word at all is no free language; its articles are left out (``only``),
        so that no article is matched by stopwords alone: ``WHO`` finds German
        articles naming the WHO, never every English one. A query whose words are
        all stopwords of one language, none written in capitals, is that
        language's stopwords and searches nothing (``der die das``, ``who``). In
        the any mode such words are left out, as there every article of a free
        language would match.
        """
        langs = self.langs
        found, seen = [], set()
        kept = dict.fromkeys(langs, False)
        for token in tokens:
            terms = query_terms(token, langs)
            if not terms or tuple(terms) in seen:
                continue
            stop = stopword_langs(token, langs)
            if stop and not require_all:
                continue
            seen.add(tuple(terms))
            for lang in langs:
                if lang not in stop:
                    kept[lang] = True
            found.append((token, terms, stop))
        if not all(kept.values()) and not any(in_capitals(token) for token, _, _ in found):
            # Every word a stopword of one language, none written as an acronym or a
            # name: the query is that language's stopwords ("der die das", "who").
            return [], None
        words = [(token, terms, tuple(lang for lang in stop if kept[lang]))
                 for token, terms, stop in found]
        only = None if all(kept.values()) else tuple(lang for lang in langs if kept[lang])
        return words, only

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
        which the stemmer keeps: ``Warschaus`` also finds ``Warschau``. Words of
        four letters count (``Oper`` also finds ``Opern``: Snowball keeps the -n of so
        short a word; inflected known items: success@1 .896 with five letters at least,
        .899 with four).
        """
        if "de" not in self.langs or not self.settings.inflection_weight:
            return []
        lowered = normalise_query_text(token).lower()
        if len(lowered) < 4 or not lowered.isalpha():
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
