"""A ranked OR in which documents holding more of the query words rank first.

:class:`Coordinated` matches every document that holds at least one of its
clauses (one clause per query word) and scores it as the sum of the clause
scores times ``coverage ** power``, where ``coverage`` is the share of the
clauses' weights (their IDF) that the document holds. A document with all
the words keeps its score; one with the rarest word alone keeps a fraction,
one with only the commonest word almost nothing. So a short title that holds
one query word no longer outranks the article that holds all of them.
"""

from __future__ import annotations

from whoosh import matching
from whoosh.query import Or


class Coordinated(Or):
    """OR over ``subqueries`` with an IDF-weighted coordination factor."""

    JOINT = " cOR "

    def __init__(self, subqueries, weights=None, power: float = 2.0, boost: float = 1.0):
        Or.__init__(self, subqueries, boost=boost)
        self.weights = list(weights) if weights is not None else [1.0] * len(subqueries)
        if len(self.weights) != len(self.subqueries):
            raise ValueError("one weight per clause")
        self.power = power

    def __eq__(self, other):
        return (isinstance(other, Coordinated) and self.subqueries == other.subqueries
                and self.weights == other.weights and self.power == other.power
                and self.boost == other.boost)

    def __hash__(self):
        return hash((tuple(self.subqueries), tuple(self.weights), self.power, self.boost))

    def normalize(self):
        subs = [s.normalize() for s in self.subqueries]
        return Coordinated(subs, self.weights, self.power, self.boost)

    def simplify(self, ixreader):
        subs = [s.simplify(ixreader) for s in self.subqueries]
        return Coordinated(subs, self.weights, self.power, self.boost)

    def copy(self):
        return Coordinated(list(self.subqueries), self.weights, self.power, self.boost)

    def matcher(self, searcher, context=None):
        if context is not None:
            context = context.set(needs_current=True)
        children = [q.matcher(searcher, context) for q in self.subqueries]
        return CoordinationMatcher(children, self.weights, self.power, self.boost)


class CoordinationMatcher(matching.Matcher):
    """Union of the clause matchers, scored with the coordination factor."""

    def __init__(self, children, weights, power, boost=1.0, total_weight=None):
        self._children = list(children)
        self._weights = list(weights)
        self._total = total_weight if total_weight is not None else (sum(weights) or 1.0)
        self._power = power
        self._boost = boost
        self._id = None
        self._find()

    def _find(self):
        active = [c.id() for c in self._children if c.is_active()]
        self._id = min(active) if active else None

    def _matched(self):
        current = self._id
        return [(c, w) for c, w in zip(self._children, self._weights)
                if c.is_active() and c.id() == current]

    # -- structure ---------------------------------------------------------

    def children(self):
        return [c for c in self._children if c.is_active()]

    def copy(self):
        return CoordinationMatcher([c.copy() for c in self._children], self._weights,
                                   self._power, self._boost, self._total)

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

    def score(self):
        matched = self._matched()
        total = sum(c.score() for c, _ in matched)
        if self._power:
            total *= (sum(w for _, w in matched) / self._total) ** self._power
        return total * self._boost

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
