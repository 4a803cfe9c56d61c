"""Compiling the backend-neutral query tree (:mod:`search.query`) into Xapian queries.

This mirrors the Whoosh compiler (:class:`search.backends.whoosh.searching.Compiler`) rule for
rule, so that a query means the same on both backends: words become the
terms our chains give them (:func:`search.analysis.query_terms`), in title
and text with the title boosted; phrases are exact sequences of analysed
terms; ``Impf*`` expands to at most ``prefix_max_terms`` index terms per
field and stem; filters and date ranges restrict without scoring.

Ranking is Whoosh's BM25F, rebuilt from Xapian's built-in BM25 (which remote
shards can run): the index stores each term's frequency already normalised
by the length of its own field (:func:`.document.scaled_wdf`), Xapian's
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
from dataclasses import dataclass

import xapian

from ... import facets
from ... import query as q
from ...query.planning import Planner, date_keys, filter_span, keeps_words, phrase_variants, tokens
from . import document as xd


@dataclass(frozen=True)
class Compiled:
    """A compiled query and the index terms it looks for (for snippets)."""

    query: xapian.Query
    terms: frozenset


def date_bounds(start: str, end: str) -> tuple[str, str]:
    """Inclusive 14-digit date keys for ``start``..``end``; the key of articles without a
    date is all zeros, which no range holds."""
    low, high = date_keys(start, end)
    return max(low, "00000000000001"), high


def weighting(settings) -> xapian.BM25Weight:
    """BM25 on wdfs that are already length-normalised per field (b = 0 here).

    With ``k1`` times :data:`.document.WDF_SCALE`, the saturation of a
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

    Whoosh saturates ``inflection_weight · tf'``; Xapian can only scale the
    saturated weight, so it scales by ``sat(w · t) / sat(t)`` at ``t = 1``
    (one occurrence in a field of average length): exact there, a little
    high for frequent forms and a little low for rare ones.
    """
    k1, w = settings.bm25_k1, settings.inflection_weight
    return w * (k1 + 1.0) / (k1 + w)


def boolean(query: xapian.Query) -> xapian.Query:
    """``query`` matching without adding to the score."""
    return xapian.Query(xapian.Query.OP_SCALE_WEIGHT, query, 0.0)


MATCH_ALL = boolean(xapian.Query.MatchAll)


class Compiler(Planner):
    """Turns a query tree into a Xapian query over one (combined) database.

    Which terms a word stands for is decided by
    :class:`search.query.planning.Planner`, as on Whoosh.
    """

    def __init__(self, db: xapian.Database, langs, settings, termfreqs: dict | None = None):
        super().__init__(langs, settings)
        self.db = db
        self.boosts = {"title": settings.title_boost, "text": 1.0, "parts": settings.parts_boost}
        self.documents = max(1, db.get_doccount())
        self.saturation = saturation_factor(settings)
        self.termfreqs = {} if termfreqs is None else termfreqs
        self._terms: set[str] = set()
        self._negated = 0

    # -- the index statistics the planner asks for -----------------------------------

    def doc_frequency(self, field: str, term: str) -> int:
        prefixed = xd.FIELD_PREFIXES[field] + term
        if len(prefixed.encode("utf-8", "surrogatepass")) > xd.MAX_TERM_BYTES:
            return 0
        return self.termfreq(prefixed)

    def expand(self, field: str, prefix: str, limit: int) -> list[str]:
        marker = xd.FIELD_PREFIXES[field]
        found = []
        if limit <= 0:
            return found
        for item in self.db.allterms(marker + prefix):
            term = item.term.decode("utf-8")
            self.termfreqs.setdefault(term, item.termfreq)
            found.append(term[len(marker):])
            if len(found) >= limit:
                break
        return found

    # -- entry points ------------------------------------------------------

    def compile(self, node) -> Compiled | None:
        self._terms = set()
        self.prefix_budget = self.settings.prefix_max_terms_per_query
        query = self._compile(node)
        return None if query is None else Compiled(query, frozenset(self._terms))

    def any_of(self, node) -> Compiled | None:
        """The ranked-OR reading of a plain word query (the "any" mode).

        As on Whoosh: every document holding one of the words matches, and a
        word the index does not hold is matched by the index terms sharing its
        longest known start, at a nominal weight. Whoosh multiplies each score
        by a coordination factor: ``any_mode_full_match`` for a document holding every
        known word, else the share of the query's IDF it holds to the power
        ``any_mode_power``. Xapian's weights only add up, so the factor is
        spelt out as query structure (:meth:`_coordinated`).
        """
        self._terms = set()
        words = [node] if isinstance(node, q.Word) else list(node.nodes)
        if not all(isinstance(w, q.Word) for w in words):
            return self.compile(node)
        query = self._plain([token for w in words for token in tokens(w.text)],
                            require_all=False)
        return None if query is None else Compiled(query, frozenset(self._terms))

    # -- plain words: BM25F proper, on the combined terms ----------------------

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

        Whoosh adds the other forms' frequencies, times ``inflection_weight``,
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

    def _plain(self, words, *, require_all: bool):
        clauses, idfs, unknown = [], [], []
        found, only = self.plain_words(words, require_all=require_all)
        restrict = None
        if only is not None and found:
            # Only the articles of the languages whose reading keeps a word.
            restrict = self._or([boolean(xapian.Query(xd.filter_term("lang", lang)))
                                 for lang in only])
        for token, terms, free in found:
            others = self.other_forms(token, terms)
            idf = self.word_idf(terms + others)
            if idf == 0.0 and not require_all:
                unknown.extend(terms)
                continue
            clause = self._combined(terms, others, idf)
            if free:
                # The articles of the languages that drop the word match it unscored.
                languages = self._or([boolean(xapian.Query(xd.filter_term("lang", lang)))
                                      for lang in free])
                clause = languages if clause is None else self._or([clause, languages])
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
        if restrict is not None:
            clauses.append(restrict)
        return clauses[0] if len(clauses) == 1 else xapian.Query(xapian.Query.OP_AND, clauses)

    def _coordinated(self, clauses, idfs, relaxed):
        """The any mode's union of word clauses, each document's score times its factor.

        Whoosh: ``sum of the held words' scores (and of the stand-ins for
        unknown words) × factor``, the factor ``any_mode_full_match`` when every known
        word is held, else ``coverage ** power``, ``coverage`` being the held
        share of the words' IDF (a document holding only stand-ins scores 0).
        Here: with power 2, ``coverage² · sum`` is the sum over pairs of held
        words ``(i, j)`` of ``idf_i · idf_j / K²`` times the scores of all the
        words held, one clause per pair (the scores restricted to documents
        holding both); with other powers, one clause per subset of the words.
        Documents holding all get ``any_mode_full_match - 1`` times their sum on top.
        """
        settings = self.settings
        full_match = settings.any_mode_full_match
        if not clauses:
            return relaxed
        everything = self._or([*clauses, relaxed])
        if len(clauses) == 1:
            full = xapian.Query(xapian.Query.OP_SCALE_WEIGHT, everything, full_match)
            return self._or([xapian.Query(xapian.Query.OP_FILTER, full, clauses[0]),
                             boolean(relaxed) if relaxed is not None else None])
        total = sum(idfs)
        power = settings.any_mode_power
        words = range(len(clauses))
        parts = [xapian.Query(xapian.Query.OP_SCALE_WEIGHT,
                              xapian.Query(xapian.Query.OP_FILTER, everything,
                                           xapian.Query(xapian.Query.OP_AND, clauses)),
                              full_match - (1.0 if power == 2 else 0.0))]
        if power == 2 and len(clauses) <= settings.coordinated_max_words:
            for i in words:
                for j in words[i:]:
                    held = clauses[i] if i == j else xapian.Query(xapian.Query.OP_AND,
                                                                  [clauses[i], clauses[j]])
                    factor = idfs[i] * idfs[j] * (1 if i == j else 2) / total ** 2
                    parts.append(xapian.Query(xapian.Query.OP_SCALE_WEIGHT,
                                              xapian.Query(xapian.Query.OP_FILTER, everything,
                                                           held), factor))
        elif 2 ** len(clauses) - 2 <= settings.coordinated_max_subsets:
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
                                    xapian.Query(xapian.Query.OP_AND, clauses), full_match - 1)
        if relaxed is not None:
            parts.append(boolean(relaxed))
        return self._or(parts)

    def _relaxed(self, terms):
        """The stand-ins for words the index does not hold (:meth:`Planner.relaxed_terms`)."""
        boost = self.settings.relaxed_boost
        return self._or([self.term("text", t, boost) for t in self.relaxed_terms(terms)])

    def weighted_terms(self, terms) -> Compiled | None:
        """An OR of text terms, each boosted by its weight (related articles)."""
        self._terms = set()
        parts = [self.term("text", term, boost) for boost, term in terms]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return Compiled(xapian.Query(xapian.Query.OP_OR, parts), frozenset(self._terms))

    # -- terms -------------------------------------------------------------

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

    def _any_field(self, field, terms, boosts=None):
        boosts = boosts or self.boosts
        clauses = [self.term(f, t, boosts[f]) for f in self.fields(field) for t in terms]
        if field is None and self.has_parts:
            clauses.extend(self.term("parts", t, boosts["parts"]) for t in terms)
        return self._or(clauses)

    def _prefix(self, node: q.Word):
        expanded = self.prefix_terms(node)
        if expanded is None:  # as on Whoosh: past the query's budget, the plain word
            return self._word(q.Word(node.text, node.field))
        clauses = [c for c in (self.term(field, term) for field, term in expanded)
                   if c is not None]
        if not clauses:
            return xapian.Query.MatchNothing
        return xapian.Query(xapian.Query.OP_OR, clauses)

    def _phrase(self, node: q.Phrase):
        variants = phrase_variants(node.text, self.langs)
        if not variants:
            return None
        clauses = []
        for field in self.fields(node.field):
            for terms in variants:
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
        if q.is_plain_conjunction(node):
            words = [self.word_terms(n) for n in node.nodes]
            if all(t is not None for t in words):
                return self._plain([self.first_token(n) for n, t in zip(node.nodes, words) if t],
                                   require_all=True)
        # Plain words beside filters, phrases or fields are one clause, as on Whoosh.
        plain = [n for n in node.nodes if isinstance(n, q.Word) and q.is_plain_conjunction(n)
                 and self.word_terms(n) is not None]
        nodes, parts, negative = [], [], []
        for child in node.nodes:
            if isinstance(child, q.Not):
                inner = self._negative(child.node)
                if inner is not None:
                    negative.append(inner)
            elif child not in plain:
                nodes.append(child)
                parts.append(self._compile(child))
        if plain:
            nodes.append(q.And(tuple(plain)))
            parts.append(self._plain([self.first_token(n) for n in plain if tokens(n.text)],
                                     require_all=True))
        if not keeps_words(nodes, parts):
            return None
        positive = [part for part in parts if part is not None]
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
    """The boolean restriction of the search parameters, or ``None``; each of ``lang``,
    ``source`` and ``category`` is one value or several, OR-ed."""
    parts = []
    for field, chosen in (("lang", lang), ("source", source), ("category", category)):
        terms = [xapian.Query(xd.filter_term(field, value)) for value in facets.values(chosen)]
        if terms:
            parts.append(terms[0] if len(terms) == 1 else xapian.Query(xapian.Query.OP_OR, terms))
    if date_from or date_to:
        low, high = filter_span(date_from, date_to)
        low = max(low, "00000000000001")
        parts.append(xapian.Query(xapian.Query.OP_VALUE_RANGE, xd.SLOT_DATE, low, high))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else xapian.Query(xapian.Query.OP_AND, parts)
