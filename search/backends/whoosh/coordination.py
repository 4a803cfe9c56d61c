"""Ranking plain word queries: BM25F per word, and coordination in the any mode.

:class:`Coordinated` takes one clause per query word (that word's terms in
the title, the text and the compound parts) and scores a document as

    sum over the words it holds of  idf(word) · tf' · (k1 + 1) / (k1 + tf')
    tf' = sum over fields of  boost(field) · tf / (1 − b + b · length / average length)

which is BM25F proper: a word's fields are weighted *before* the one
saturation, so a word is worth at most ``idf · (k1 + 1)`` however many
fields hold it (a title holding a query word can no longer outweigh a text
holding all of them).

In the any mode (``require_all=False``) every document that holds one of the
words matches; one that holds all of them has its score multiplied by
``full_match`` (the setting ``any_mode_full_match``), one that holds some by
``coverage ** power``, ``coverage`` being its share of the query's IDF. Documents with all the words rank
first; among the others, those with more, and rarer, words. A clause of
weight 0 (a stand-in for a word the index does not know) adds its own
nominal score and does not count for coverage.
"""

from __future__ import annotations

from whoosh import matching
from whoosh.query import Or


class Coordinated(Or):
    """Union (or, with ``require_all``, intersection) of word clauses, BM25F-scored."""

    JOINT = " cOR "

    def __init__(self, subqueries, weights=None, *, power: float = 2.0, require_all: bool = False,
                 boosts=None, k1: float = 1.2, b: float = 0.75, boost: float = 1.0,
                 term_weights=None, full_match: float = 10.0):
        Or.__init__(self, subqueries, boost=boost)
        self.weights = list(weights) if weights is not None else [1.0] * len(subqueries)
        if len(self.weights) != len(self.subqueries):
            raise ValueError("one weight per clause")
        self.power = power
        self.require_all = require_all
        self.boosts = dict(boosts or {})
        self.k1 = k1
        self.b = b
        self.term_weights = dict(term_weights or {})
        self.full_match = full_match

    def _params(self):
        return dict(power=self.power, require_all=self.require_all, boosts=self.boosts,
                    k1=self.k1, b=self.b, boost=self.boost, term_weights=self.term_weights,
                    full_match=self.full_match)

    def __eq__(self, other):
        return (isinstance(other, Coordinated) and self.subqueries == other.subqueries
                and self.weights == other.weights and self._params() == other._params())

    def __hash__(self):
        return hash((tuple(self.subqueries), tuple(self.weights), self.power, self.require_all))

    def normalize(self):
        return Coordinated([s.normalize() for s in self.subqueries], self.weights, **self._params())

    def simplify(self, ixreader):
        return Coordinated([s.simplify(ixreader) for s in self.subqueries], self.weights,
                           **self._params())

    def copy(self):
        return Coordinated(list(self.subqueries), self.weights, **self._params())

    def matcher(self, searcher, context=None):
        if context is not None:
            context = context.set(needs_current=True)
        children = [q.matcher(searcher, context) for q in self.subqueries]
        if self.require_all and not all(c.is_active() for c in children):
            return matching.NullMatcher()
        parent = searcher.get_parent()
        averages = {name: parent.avg_field_length(name) or 1.0 for name in self.boosts}
        term_weights = {t.encode("utf-8"): w for t, w in self.term_weights.items()}
        return CoordinationMatcher(children, self.weights, self.power, self.require_all,
                                   searcher.reader(), self.boosts, averages, self.k1, self.b,
                                   self.boost, term_weights, self.full_match)


class CoordinationMatcher(matching.Matcher):
    """Moves over the documents the clauses match and scores them (see the module)."""

    def __init__(self, children, weights, power, require_all, reader, boosts, averages, k1, b,
                 boost=1.0, term_weights=None, full_match=10.0):
        self._children = list(children)
        self._weights = list(weights)
        self._known = sum(w for w in weights if w > 0)
        self._power = power
        self._require_all = require_all
        self._reader = reader
        self._boosts = boosts
        self._averages = averages
        self._k1 = k1
        self._b = b
        self._boost = boost
        self._full_match = full_match
        self._term_weights = term_weights or {}
        self._id = None
        self._find()

    def _find(self):
        children = self._children
        if not self._require_all:
            active = [c.id() for c in children if c.is_active()]
            self._id = min(active) if active else None
            return
        # Intersection: leapfrog until every clause is on the same document.
        while True:
            if not all(c.is_active() for c in children):
                self._id = None
                return
            target = max(c.id() for c in children)
            if all(c.id() == target for c in children):
                self._id = target
                return
            for child in children:
                if child.id() < target:
                    child.skip_to(target)

    def _matched(self):
        current = self._id
        return [(c, w) for c, w in zip(self._children, self._weights)
                if c.is_active() and c.id() == current]

    # -- structure ---------------------------------------------------------

    def children(self):
        return [c for c in self._children if c.is_active()]

    def copy(self):
        return CoordinationMatcher([c.copy() for c in self._children], self._weights, self._power,
                                   self._require_all, self._reader, self._boosts, self._averages,
                                   self._k1, self._b, self._boost, self._term_weights,
                                   self._full_match)

    def replace(self, minquality=0):
        return self

    def depth(self):
        return 1 + max((c.depth() for c in self._children), default=0)

    def supports_block_quality(self):
        return False

    def supports(self, astype):
        return all(c.supports(astype) for c in self.children())

    # -- moving ------------------------------------------------------------

    def is_active(self):
        return self._id is not None

    def reset(self):
        for child in self._children:
            child.reset()
        self._find()

    def id(self):
        return self._id

    def next(self):
        current = self._id
        for child in self._children:
            if child.is_active() and child.id() == current:
                child.next()
        self._find()

    def skip_to(self, target):
        for child in self._children:
            if child.is_active() and child.id() < target:
                child.skip_to(target)
        self._find()

    # -- scoring -----------------------------------------------------------

    def _word_score(self, clause, idf: float) -> float:
        current = self._id
        reader = self._reader
        b = self._b
        tf = 0.0
        for leaf in clause.term_matchers():
            if not leaf.is_active() or leaf.id() != current:
                continue
            field, text = leaf.term()
            boost = self._boosts.get(field)
            if boost is None:
                continue
            if text in self._term_weights:
                boost *= self._term_weights[text]
            length = reader.doc_field_length(current, field, 1) or 1
            tf += boost * leaf.weight() / (1.0 - b + b * length / self._averages[field])
        return idf * tf * (self._k1 + 1.0) / (self._k1 + tf) if tf else 0.0

    def score(self):
        total = 0.0
        held = 0.0
        for clause, weight in self._matched():
            if weight > 0:
                total += self._word_score(clause, weight)
                held += weight
            else:
                total += clause.score()
        if self._require_all:
            return total * self._boost
        if not self._known:  # only stand-ins for unknown words
            return total * self._boost
        coverage = held / self._known
        factor = self._full_match if coverage >= 0.999999 else coverage ** self._power
        return total * factor * self._boost

    def weight(self):
        return sum(c.weight() for c, _ in self._matched())

    def matching_terms(self, id=None):
        if self._id is None or (id is not None and id != self._id):
            return
        for child, _ in self._matched():
            yield from child.matching_terms(self._id)

    def term_matchers(self):
        for child in self._children:
            yield from child.term_matchers()

    def spans(self):
        spans = []
        for child, _ in self._matched():
            spans.extend(child.spans())
        return sorted(set(spans))

    def value(self):
        raise NotImplementedError("a coordinated union has no single posting value")
