"""Compiling the backend-neutral query tree (:mod:`search.query`) into Xapian queries.

This mirrors the Whoosh compiler (:class:`search.searching.Compiler`) rule for
rule, so that a query means the same on both backends: words become the
terms our chains give them (:func:`search.analysis.query_terms`), in title
and text with the title boosted; phrases are exact sequences of analysed
terms; ``Impf*`` expands to at most :data:`MAX_PREFIX_TERMS` index terms per
field and stem; filters and date ranges restrict without scoring.

Ranking is Whoosh's BM25F, rebuilt from Xapian's built-in BM25 (which remote
shards can run): the index stores each term's frequency already normalised
by the length of its own field (:func:`xapian_doc.scaled_wdf`), Xapian's
BM25 runs with ``b = 0`` and a scaled ``k1``, and each term's weight is
scaled so that its inverse document frequency is Whoosh's
(``log(N / (df + 1)) + 1``; Xapian's own is ``log((N - df + .5) /
(df + .5))``) times its field boost. Scores come out on Whoosh's scale.
Plain words are scored per word (BM25F proper, on the combined ``XF``
terms) and also match the other verb forms the index holds
(:meth:`Compiler._combined`); the any mode's coordination factor is spelt
out as query structure (:meth:`Compiler._coordinated`).
"""

from __future__ import annotations

import math
from importlib import import_module
from importlib.util import find_spec
from dataclasses import dataclass

import xapian

from .. import query as q
from .. import analysis, searching
from ..analysis import WORD, chain_for, query_terms
from . import xapian_doc as xd

# Whoosh scores plain words with BM25F proper (fields weighed before one saturation,
# search.coordination) where its compiler has that path; mirrored on the combined terms.
BM25F_WORDS = hasattr(searching.Compiler, "_plain")
FULL_MATCH = getattr(import_module("search.coordination"), "FULL_MATCH", 10.0) \
    if find_spec("search.coordination") else 10.0
MIN_PREFIX_CHARS = 2
MAX_PREFIX_TERMS = 2000
# Any mode: a word the index does not hold is matched by index terms sharing its
# longest known start (at least this long and half the word), at a nominal weight.
RELAXED_MIN_CHARS = 3
RELAXED_MAX_TERMS = 50
RELAXED_BOOST = 0.1
MAX_PREFIX_TERMS_PER_QUERY = getattr(searching, "MAX_PREFIX_TERMS_PER_QUERY", 5 * MAX_PREFIX_TERMS)
# Other verb forms of a plain word (search.searching.Compiler._inflections) and their weight.
INFLECTION_WEIGHT = getattr(searching, "INFLECTION_WEIGHT", 0.0)
# The any mode's coverage factor is rebuilt exactly (one clause per pair of words when
# the power is 2, one per subset of the words otherwise) up to this many words: the work
# grows with the square of the words (8 words: about 50 times that of a plain union).
MAX_COORDINATED_WORDS = 8
MAX_COORDINATED_SUBSETS = 30


@dataclass(frozen=True)
class Compiled:
    """A compiled query and the index terms it looks for (for snippets)."""

    query: xapian.Query
    terms: frozenset


def normalise(text: str) -> str:
    """Query text as the chains expect it (NFC where the analysis asks for it)."""
    normalise_text = getattr(analysis, "normalise_query_text", None)
    return normalise_text(text) if normalise_text is not None else text


def date_bounds(start: str, end: str) -> tuple[str, str]:
    """Inclusive 14-digit date keys for ``start``..``end`` (YYYY, YYYY-MM or YYYY-MM-DD).

    The key of articles without a date is all zeros: no range holds them.
    """
    def key(value: str, fill: str) -> str:
        digits = value.replace("-", "")
        return digits + fill * (14 - len(digits))
    return max(key(start, "0"), "00000000000001"), key(end, "9")


def weighting(settings) -> xapian.BM25Weight:
    """BM25 on wdfs that are already length-normalised per field (b = 0 here).

    With ``k1`` times :data:`xapian_doc.WDF_SCALE`, the saturation of a
    stored wdf ``scale * tf / norm`` equals BM25F's ``tf / (tf + k1 * norm)``
    up to one constant factor, which :meth:`Compiler.scale` takes out again.
    """
    return xapian.BM25Weight(settings.bm25_k1 * xd.WDF_SCALE, 0.0, 0.0, 0.0, 0.0)


def saturation_factor(settings) -> float:
    """Whoosh's ``k1 + 1`` over Xapian's: makes the two backends' scores comparable."""
    return (settings.bm25_k1 + 1.0) / (settings.bm25_k1 * xd.WDF_SCALE + 1.0)


def whoosh_idf(df: int, n: int) -> float:
    return math.log(n / (df + 1)) + 1.0


def xapian_idf(df: int, n: int) -> float:
    """The inverse document frequency inside Xapian 1.4's BM25Weight."""
    tw = (n - df + 0.5) / (df + 0.5)
    if tw < 2:
        tw = tw * 0.5 + 1
    return math.log(tw)


def inflection_scale(settings) -> float:
    """The weight of a word's other verb forms after saturation, at a typical frequency.

    Whoosh saturates ``INFLECTION_WEIGHT · tf'``; Xapian can only scale the
    saturated weight, so it scales by ``sat(w · t) / sat(t)`` at ``t = 1``
    (one occurrence in a field of average length): exact there, a little
    high for frequent forms and a little low for rare ones.
    """
    k1, w = settings.bm25_k1, INFLECTION_WEIGHT
    return w * (k1 + 1.0) / (k1 + w)


class _FieldFrequencies:
    """``doc_frequency(field, term)`` of a Whoosh reader, answered by a Xapian compiler."""

    def __init__(self, compiler):
        self.compiler = compiler

    def doc_frequency(self, field: str, term: str) -> int:
        prefixed = xd.FIELD_PREFIXES[field] + term
        if len(prefixed.encode("utf-8", "surrogatepass")) > xd.MAX_TERM_BYTES:
            return 0
        return self.compiler.termfreq(prefixed)


def boolean(query: xapian.Query) -> xapian.Query:
    """``query`` matching without adding to the score."""
    return xapian.Query(xapian.Query.OP_SCALE_WEIGHT, query, 0.0)


MATCH_ALL = boolean(xapian.Query.MatchAll)


class Compiler:
    """Turns a query tree into a Xapian query over one (combined) database."""

    def __init__(self, db: xapian.Database, langs, settings, termfreqs: dict | None = None):
        self.db = db
        self.langs = tuple(langs) or ("de",)
        self.settings = settings
        self.boosts = {"title": settings.title_boost, "text": 1.0,
                       "parts": getattr(settings, "parts_boost", 0.0)}
        self.has_parts = self.boosts["parts"] > 0
        self.documents = max(1, db.get_doccount())
        self.saturation = saturation_factor(settings)
        self.termfreqs = {} if termfreqs is None else termfreqs
        self._terms: set[str] = set()
        self._negated = 0
        self.prefix_budget = MAX_PREFIX_TERMS_PER_QUERY

    # -- entry points ------------------------------------------------------

    def compile(self, node) -> Compiled | None:
        self._terms = set()
        self.prefix_budget = MAX_PREFIX_TERMS_PER_QUERY
        query = self._compile(node)
        return None if query is None else Compiled(query, frozenset(self._terms))

    def any_of(self, node) -> Compiled | None:
        """The ranked-OR reading of a plain word query (the "any" mode).

        As on Whoosh: every document holding one of the words matches, and a
        word the index does not hold is matched by the index terms sharing its
        longest known start, at a nominal weight. Whoosh multiplies each score
        by a coordination factor: ``FULL_MATCH`` for a document holding every
        known word, else the share of the query's IDF it holds to the power
        ``any_mode_power``. Xapian's weights only add up, so the factor is
        spelt out as query structure (:meth:`_coordinated`).
        """
        self._terms = set()
        words = [node] if isinstance(node, q.Word) else list(node.nodes)
        if not BM25F_WORDS:
            return self._any_of_fields(words)
        if not all(isinstance(w, q.Word) for w in words):
            return self.compile(node)
        tokens = [token for w in words for token in WORD.findall(normalise(w.text))]
        query = self._plain(tokens, require_all=False)
        return None if query is None else Compiled(query, frozenset(self._terms))

    # -- plain words: BM25F proper, on the combined terms ----------------------

    def word_idf(self, terms) -> float:
        """Whoosh's IDF of a word: of the rarest way the index holds it; 0 when it does not."""
        best = 0.0
        for term in terms:
            df = max(self.termfreq(xd.TITLE + term), self.termfreq(term))
            if not df and self.has_parts:
                df = self.termfreq(xd.PARTS + term)
            if df:
                best = max(best, math.log(1 + (self.documents - df + 0.5) / (df + 0.5)))
        return best

    @property
    def reader(self):
        """Document frequencies by Whoosh field name (what ``_inflections`` asks)."""
        return _FieldFrequencies(self)

    def inflections(self, token: str, terms) -> list[str]:
        """The terms of the word's other verb forms that the index holds (as on Whoosh)."""
        find = getattr(searching.Compiler, "_inflections", None)
        if find is None or not INFLECTION_WEIGHT:
            return []
        return find(self, token, terms)

    def synonym_df(self, terms) -> int:
        """The document frequency Xapian 1.4 estimates for a synonym of ``terms``.

        Its union estimate ``a + b - a·b/N``, rounded, two at a time from the
        rarest: the IDF it weighs the synonym with, which :meth:`_synonym` scales out.
        """
        estimates = sorted(self.termfreq(xd.COMBINED + t) for t in terms)
        while len(estimates) > 1:
            a, b = estimates[0], estimates[1]
            estimates = sorted([int(a + b - a * b / self.documents + 0.5), *estimates[2:]])
        return estimates[0] if estimates else 0

    def _synonym(self, terms, scale: float):
        terms = [t for t in terms
                 if len((xd.COMBINED + t).encode("utf-8", "surrogatepass")) <= xd.MAX_TERM_BYTES]
        if not terms:
            return None
        if len(terms) == 1:
            query, df = xapian.Query(xd.COMBINED + terms[0]), self.termfreq(xd.COMBINED + terms[0])
        else:
            query = xapian.Query(xapian.Query.OP_SYNONYM, [xapian.Query(xd.COMBINED + t)
                                                           for t in terms])
            df = self.synonym_df(terms)
        if not df or not scale:
            return query
        return xapian.Query(xapian.Query.OP_SCALE_WEIGHT, query,
                            scale / max(xapian_idf(df, self.documents), 1e-12))

    def _combined(self, terms, others, idf: float):
        """One word: its combined term(s) weighed with the word's IDF, and its other forms.

        Whoosh adds the other forms' frequencies, times ``INFLECTION_WEIGHT``,
        into the word's one saturation. Xapian cannot weigh terms inside a
        synonym (and estimates a synonym's frequency shard by shard, so its
        weight would differ between one database and several), so: a document
        holding the word's own terms is weighed by them alone (exact without
        other forms, a little low with both); one holding only other forms by
        the best of them, its saturated weight scaled by :func:`inflection_scale`.
        """
        if not self._negated:
            self._terms.update(terms)
            self._terms.update(others)
        scale = self.saturation * idf
        own = self._synonym(terms, scale)
        forms = [self._synonym([t], scale * inflection_scale(self.settings)) for t in others]
        forms = [f for f in forms if f is not None]
        if not forms or own is None:
            return own
        plain_own = self._synonym(terms, 0.0)
        best = forms[0] if len(forms) == 1 else xapian.Query(xapian.Query.OP_MAX, forms)
        return xapian.Query(xapian.Query.OP_OR,
                            [own, xapian.Query(xapian.Query.OP_AND_NOT, best, plain_own)])

    def _plain(self, tokens, *, require_all: bool):
        seen, clauses, idfs, unknown = set(), [], [], []
        for token in tokens:
            terms = query_terms(token, self.langs)
            if not terms or tuple(terms) in seen:
                continue
            seen.add(tuple(terms))
            others = self.inflections(token, terms)
            idf = self.word_idf(terms + others)
            if idf == 0.0 and not require_all:
                unknown.extend(terms)
                continue
            clause = self._combined(terms, others, idf)
            if clause is None:
                if require_all:
                    return xapian.Query.MatchNothing
                continue
            clauses.append(clause)
            idfs.append(idf)
        if not require_all:
            return self._coordinated(clauses, idfs, self._relaxed(unknown))
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else xapian.Query(xapian.Query.OP_AND, clauses)

    def _coordinated(self, clauses, idfs, relaxed):
        """The any mode's union of word clauses, each document's score times its factor.

        Whoosh: ``sum of the held words' scores (and of the stand-ins for
        unknown words) × factor``, the factor ``FULL_MATCH`` when every known
        word is held, else ``coverage ** power``, ``coverage`` being the held
        share of the words' IDF (a document holding only stand-ins scores 0).
        Here: with power 2, ``coverage² · sum`` is the sum over pairs of held
        words ``(i, j)`` of ``idf_i · idf_j / K²`` times the scores of all the
        words held, one clause per pair (the scores restricted to documents
        holding both); with other powers, one clause per subset of the words.
        Documents holding all get ``FULL_MATCH - 1`` times their sum on top.
        """
        if not clauses:
            return relaxed
        everything = self._or([*clauses, relaxed])
        if len(clauses) == 1:
            full = xapian.Query(xapian.Query.OP_SCALE_WEIGHT, everything, FULL_MATCH)
            return self._or([xapian.Query(xapian.Query.OP_FILTER, full, clauses[0]),
                             boolean(relaxed) if relaxed is not None else None])
        total = sum(idfs)
        power = getattr(self.settings, "any_mode_power", 2.0)
        words = range(len(clauses))
        parts = [xapian.Query(xapian.Query.OP_SCALE_WEIGHT,
                              xapian.Query(xapian.Query.OP_FILTER, everything,
                                           xapian.Query(xapian.Query.OP_AND, clauses)),
                              FULL_MATCH - (1.0 if power == 2 else 0.0))]
        if power == 2 and len(clauses) <= MAX_COORDINATED_WORDS:
            for i in words:
                for j in words[i:]:
                    held = clauses[i] if i == j else xapian.Query(xapian.Query.OP_AND,
                                                                  [clauses[i], clauses[j]])
                    factor = idfs[i] * idfs[j] * (1 if i == j else 2) / total ** 2
                    parts.append(xapian.Query(xapian.Query.OP_SCALE_WEIGHT,
                                              xapian.Query(xapian.Query.OP_FILTER, everything,
                                                           held), factor))
        elif 2 ** len(clauses) - 2 <= MAX_COORDINATED_SUBSETS:
            for mask in range(1, 2 ** len(clauses) - 1):
                inside = [clauses[i] for i in words if mask >> i & 1]
                outside = [clauses[i] for i in words if not mask >> i & 1]
                held = inside[0] if len(inside) == 1 else xapian.Query(xapian.Query.OP_AND,
                                                                       inside)
                only = xapian.Query(xapian.Query.OP_AND_NOT, held, self._or(outside))
                factor = (sum(idfs[i] for i in words if mask >> i & 1) / total) ** power
                parts.append(xapian.Query(xapian.Query.OP_SCALE_WEIGHT,
                                          xapian.Query(xapian.Query.OP_FILTER, everything,
                                                       only), factor))
        else:
            # Too many words to spell out: partial matches keep their plain sum.
            parts.extend(clauses)
            parts[0] = xapian.Query(xapian.Query.OP_SCALE_WEIGHT,
                                    xapian.Query(xapian.Query.OP_AND, clauses), FULL_MATCH - 1)
        if relaxed is not None:
            parts.append(boolean(relaxed))
        return self._or(parts)

    def _any_of_fields(self, words) -> Compiled | None:
        """The any mode of a Whoosh compiler that scores fields one by one."""
        boosts = dict(self.boosts, title=getattr(self.settings, "any_mode_title_boost",
                                                 self.settings.title_boost))
        seen, clauses, unknown = set(), [], []
        for word in words:
            terms = self.word_terms(word) if isinstance(word, q.Word) and not word.prefix \
                else None
            if terms is None:
                compiled = self._compile(word)
                if compiled is not None:
                    clauses.append(compiled)
                continue
            if not terms or tuple(terms) in seen:
                continue
            seen.add(tuple(terms))
            if not self.word_idf(terms):
                unknown.extend(terms)
                continue
            clauses.append(self._any_field(None, terms, boosts))
        clauses.append(self._relaxed(unknown))
        query = self._or(clauses)
        return None if query is None else Compiled(query, frozenset(self._terms))

    def _relaxed(self, terms):
        """Terms of the index that start like ``terms`` do, for words it does not hold."""
        clauses = []
        for term in terms:
            for size in range(len(term) - 1,
                              max(RELAXED_MIN_CHARS, (len(term) + 1) // 2) - 1, -1):
                found = []
                for item in self.db.allterms(term[:size]):
                    found.append(item.term.decode("utf-8"))
                    self.termfreqs.setdefault(found[-1], item.termfreq)
                    if len(found) >= RELAXED_MAX_TERMS:
                        break
                if found:
                    clauses.extend(self.term("text", t, RELAXED_BOOST) for t in found)
                    break
        return self._or(clauses)

    def weighted_terms(self, terms) -> Compiled | None:
        """An OR of text terms, each boosted by its weight (related articles)."""
        self._terms = set()
        parts = [self.term("text", term, boost) for boost, term in terms]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return Compiled(xapian.Query(xapian.Query.OP_OR, parts), frozenset(self._terms))

    # -- terms -------------------------------------------------------------

    def fields(self, field):
        return (field,) if field in q.TEXT_FIELDS else q.TEXT_FIELDS

    def termfreq(self, term: str) -> int:
        known = self.termfreqs.get(term)
        if known is None:
            known = self.termfreqs[term] = self.db.get_termfreq(term)
        return known

    def scale(self, prefixed: str, boost: float) -> float:
        df = self.termfreq(prefixed)
        if df == 0:
            return boost
        return (boost * self.saturation * whoosh_idf(df, self.documents)
                / max(xapian_idf(df, self.documents), 1e-12))

    def term(self, field: str, term: str, boost: float | None = None):
        prefixed = xd.FIELD_PREFIXES[field] + term
        if len(prefixed.encode("utf-8", "surrogatepass")) > xd.MAX_TERM_BYTES:
            return None
        if not self._negated and field in q.TEXT_FIELDS:
            self._terms.add(term)
        boost = self.boosts[field] if boost is None else boost
        return xapian.Query(xapian.Query.OP_SCALE_WEIGHT, xapian.Query(prefixed),
                            self.scale(prefixed, boost))

    # -- nodes -------------------------------------------------------------

    def _compile(self, node):
        return getattr(self, "_" + type(node).__name__.lower())(node)

    def _word(self, node: q.Word):
        if node.prefix and len(node.text) >= MIN_PREFIX_CHARS:
            return self._prefix(node)
        terms = self.word_terms(node)
        if terms is None:
            return self._phrase(q.Phrase(" ".join(WORD.findall(normalise(node.text))),
                                         node.field))
        if not terms:
            return None
        if node.field is None and BM25F_WORDS:
            return self._plain([self._token(node)], require_all=True)
        return self._any_field(node.field, terms)

    @staticmethod
    def _token(node: q.Word) -> str:
        return WORD.findall(normalise(node.text))[0]

    def word_terms(self, node: q.Word):
        """The index terms of a one-token word; ``None`` when the word holds several tokens."""
        tokens = WORD.findall(normalise(node.text))
        if len(tokens) > 1:
            return None
        return query_terms(tokens[0], self.langs) if tokens else []

    def _any_field(self, field, terms, boosts=None):
        boosts = boosts or self.boosts
        clauses = [self.term(f, t, boosts[f]) for f in self.fields(field) for t in terms]
        if field is None and self.has_parts:
            clauses.extend(self.term("parts", t, boosts["parts"]) for t in terms)
        return self._or(clauses)

    def _prefix(self, node: q.Word):
        lowered = normalise(node.text).lower()
        stems = {lowered} | {chain_for(lang).stem(lowered) for lang in self.langs}
        stems = {s for s in stems if len(s) >= MIN_PREFIX_CHARS}
        if self.prefix_budget <= 0:  # as on Whoosh: past the query's budget, the plain word
            return self._word(q.Word(node.text, node.field))
        clauses = []
        for field in self.fields(node.field):
            prefix = xd.FIELD_PREFIXES[field]
            for stem in sorted(stems):
                take = max(0, min(MAX_PREFIX_TERMS, self.prefix_budget))
                expanded = []
                for item in self.db.allterms(prefix + stem) if take else ():
                    expanded.append(item.term.decode("utf-8"))
                    self.termfreqs.setdefault(expanded[-1], item.termfreq)
                    if len(expanded) >= take:
                        break
                self.prefix_budget -= len(expanded)
                clauses.extend(self.term(field, t[len(prefix):]) for t in expanded)
        clauses = [c for c in clauses if c is not None]
        if not clauses:
            return xapian.Query.MatchNothing
        return xapian.Query(xapian.Query.OP_OR, clauses)

    def _phrase(self, node: q.Phrase):
        variants = set()
        text = normalise(node.text)
        for lang in self.langs:
            terms = tuple(chain_for(lang).terms(text))
            if terms:
                variants.add(terms)
        if not variants:
            return None
        clauses = []
        for field in self.fields(node.field):
            for terms in sorted(variants):
                parts = [self.term(field, t) for t in terms]
                if any(p is None for p in parts):
                    continue
                if len(parts) == 1:
                    clauses.append(parts[0])
                else:
                    # OP_PHRASE takes only plain terms: it restricts, the weighted
                    # terms score (the sum of the terms' weights, as on Whoosh).
                    prefix = xd.FIELD_PREFIXES[field]
                    exact = xapian.Query(xapian.Query.OP_PHRASE,
                                         [xapian.Query(prefix + t) for t in terms], len(terms))
                    clauses.append(xapian.Query(xapian.Query.OP_FILTER,
                                                xapian.Query(xapian.Query.OP_AND, parts), exact))
        return self._or(clauses)

    def _filter(self, node: q.Filter):
        return boolean(xapian.Query(xd.filter_term(node.field, node.value)))

    def _daterange(self, node: q.DateRange):
        low, high = date_bounds(node.start, node.end)
        return xapian.Query(xapian.Query.OP_VALUE_RANGE, xd.SLOT_DATE, low, high)

    def _negative(self, node):
        self._negated += 1
        try:
            return self._compile(node)
        finally:
            self._negated -= 1

    def _not(self, node: q.Not):
        inner = self._negative(node.node)
        if inner is None:
            return None
        return xapian.Query(xapian.Query.OP_AND_NOT, MATCH_ALL, inner)

    def _and(self, node: q.And):
        # "a a" is "a", as on Whoosh (a repeated clause would count twice here).
        node = q.And(tuple(dict.fromkeys(node.nodes)))
        if BM25F_WORDS and q.is_plain_conjunction(node):
            words = [self.word_terms(n) for n in node.nodes]
            if all(t is not None for t in words):
                return self._plain([self._token(n) for n, t in zip(node.nodes, words) if t],
                                   require_all=True)
        positive, negative = [], []
        for child in node.nodes:
            if isinstance(child, q.Not):
                inner = self._negative(child.node)
                if inner is not None:
                    negative.append(inner)
            else:
                part = self._compile(child)
                if part is not None:
                    positive.append(part)
        if not positive and not negative:
            return None
        if not positive:
            base = MATCH_ALL
        elif len(positive) == 1:
            base = positive[0]
        else:
            base = xapian.Query(xapian.Query.OP_AND, positive)
        if not negative:
            return base
        return xapian.Query(xapian.Query.OP_AND_NOT, base, self._or(negative))

    def _or(self, parts):
        if isinstance(parts, q.Or):
            parts = [self._compile(n) for n in dict.fromkeys(parts.nodes)]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else xapian.Query(xapian.Query.OP_OR, parts)


def filter_query(*, lang=None, source=None, category=None, date_from=None, date_to=None):
    """The boolean restriction of the search parameters, or ``None``."""
    parts = []
    for field, value in (("lang", lang), ("source", source), ("category", category)):
        if value:
            parts.append(xapian.Query(xd.filter_term(field, value)))
    if date_from or date_to:
        low, _ = date_bounds(date_from or "0001", date_from or "0001")
        _, high = date_bounds(date_to or "9999", date_to or "9999")
        parts.append(xapian.Query(xapian.Query.OP_VALUE_RANGE, xd.SLOT_DATE, low, high))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else xapian.Query(xapian.Query.OP_AND, parts)
