"""The first k hits of a union without scoring every match: MaxScore on posting arrays.

An OR of parts (an OR of words, a prefix's terms, the words of the any mode)
is scored on arrays by :mod:`.postings`, every part over every document that
holds it. When the caller needs only the first ``k`` hits (the API's
``exact_totals=0``, as Elasticsearch's ``track_total_hits: false``), a part
whose documents cannot reach those places need not be read for them. This is
MaxScore (Turtle and Flood, 1995) done a part at a time instead of a
document at a time:

* every part has an upper bound of the score it can give a document: a word
  of BM25F saturates at ``idf · (k1 + 1)``, a Whoosh term at
  ``idf · (K1 + 1) · boost`` (:func:`upper_bound`; a part without one is read
  first and in full);
* the parts are read whole in falling order of their bounds; after each, the
  ``k``-th best score found so far (each document's sum over the parts read is
  a lower bound of its final score) is a bar below which no document can end up
  in the first ``k`` (with collapsing: the ``k``-th best cluster);
* once the bounds of the parts not yet read add up to less than the bar, a
  document that none of the read parts holds cannot reach it: the other parts
  are read only for the documents seen so far (``postings_among``: only the
  posting blocks that hold them) and, part after part, a document whose sum plus
  the bounds left stays under the bar is dropped.

The documents kept are scored with every part (each part's scores added in the
query's order, so a score is the same float the exhaustive path gives: the
equivalence tests compare them); the first ``k`` hits are those of scoring every
match. Documents dropped were never counted, so the total is then the number of
documents seen, a lower bound flagged as an estimate, and facets are not counted
(they need every match: the page keeps exact totals and facets).

Measured (``benchmarks/topk.py``, all FANG articles): 0.70x to 0.94x of the time of
scoring every match for ORs of words, about even for the any mode. The bookkeeping
per part (a bound, the running sums) is what a part costs when it is short: the 726
terms of ``Impf*`` took 1.35x as long, so an OR of more than ``top_k_max_parts`` parts
(a prefix's terms) is scored whole.

In the any mode a document's score is its sum times ``coverage ** power`` (or
``full_match`` when it holds every word): the factor grows with the words held,
so the sum and the weight held so far give a lower bound, the bounds and the
weights left an upper bound, and the same steps apply.
"""

from __future__ import annotations

import numpy as np

from ... import budget

# Bounds are widened by this share (and a tiny constant) so that rounding in the
# scores never puts a document above its part's bound.
_MARGIN = 1e-6


class TopK:
    """The first ``k`` places of one search, carried over its segments: ``bar`` is a
    score some ``k`` hits (clusters, when collapsing) of the segments searched already
    reach; ``keys`` the cluster keys of the segment being searched (None: not
    collapsing); ``pruned`` whether some document was left uncounted; ``seen`` how
    many documents were scored."""

    __slots__ = ("k", "max_parts", "bar", "keys", "pruned", "seen")

    def __init__(self, k: int, max_parts: int = 64):
        self.k = max(1, int(k))
        self.max_parts = max_parts  # an OR of more parts is scored whole (see the module)
        self.bar = 0.0
        self.keys = None
        self.pruned = False
        self.seen = 0

    def kth(self, docs: np.ndarray, values: np.ndarray) -> float:
        """A lower bound of the ``k``-th best of ``values`` (scores of the documents
        ``docs``), or 0 with fewer than ``k`` of them; by cluster when collapsing."""
        k = self.k
        if len(values) < k:
            return 0.0
        if self.keys is None:
            return float(np.partition(values, len(values) - k)[len(values) - k])
        # The best of each cluster among the best 4k documents: a cluster's best there is
        # at most its best overall, so its k-th is at most the true k-th.
        depth = min(len(values), 4 * k)
        best = np.argpartition(values, len(values) - depth)[len(values) - depth:]
        best = best[np.argsort(-values[best], kind="stable")]
        _, first = np.unique(self.keys[docs[best]], return_index=True)
        if len(first) < k:
            return 0.0
        maxima = values[best[first]]
        return float(np.partition(maxima, len(maxima) - k)[len(maxima) - k])

    def settle(self, docs: np.ndarray, scores: np.ndarray) -> None:
        """Raise the bar by the final scores of a segment searched."""
        self.bar = max(self.bar, self.kth(docs, scores))


def widened(bound: float | None) -> float | None:
    return None if bound is None else bound * (1.0 + _MARGIN) + 1e-12


def best_parts(count: int, bounds: list, full, among, top: TopK, *, weights=None,
               known: float = 0.0, power: float = 1.0, full_match: float = 1.0):
    """The parts of a union as needed for its first ``top.k`` hits: a list, in the
    parts' order, of ``(docnums, scores)`` of each part over the documents kept (every
    part read for all of them), or None for a part not read because the search ran
    out of time; and the number of documents seen.

    ``bounds``: each part's upper bound (None: unknown); ``full(i)`` reads part ``i``
    whole, ``among(i, candidates)`` for the sorted docnums ``candidates`` only;
    ``count``: documents in the segment. With ``weights`` (the any mode: see the
    module), a document holding parts of weight ``w`` out of ``known`` is scored
    ``sum · coverage ** power`` (``full_match`` when it holds them all)."""
    n = len(bounds)
    coordinated = weights is not None and known > 0
    if coordinated and (full_match < 1.0 or power <= 0):
        return [full(i) for i in range(n)], None  # the factor would not grow with coverage
    weights = list(weights) if weights is not None else [0.0] * n
    order = sorted(range(n), key=lambda i: -(float("inf") if bounds[i] is None else bounds[i]))
    # what the parts from position j of ``order`` on can still add
    left_bound = [0.0] * (n + 1)
    left_weight = [0.0] * (n + 1)
    for j in range(n - 1, -1, -1):
        i = order[j]
        left_bound[j] = left_bound[j + 1] + (float("inf") if bounds[i] is None else bounds[i])
        left_weight[j] = left_weight[j + 1] + max(weights[i], 0.0)

    def factor(held):
        if not coordinated:
            return 1.0
        coverage = held / known
        if np.ndim(coverage) == 0:
            return full_match if coverage >= 0.999999 else coverage ** power
        return np.where(coverage >= 0.999999, full_match, coverage ** power)

    total = np.zeros(count, dtype=np.float64)
    held = np.zeros(count, dtype=np.float64)
    seen = np.zeros(count, dtype=bool)
    most = max(full_match, 1.0) if coordinated else 1.0
    got: list = [None] * n
    best = 0.0  # the highest sum so far: the bar is at most best * most
    bar = top.bar  # the bar is never lower than when last computed
    asked = None  # the bound left when the bar was last computed
    j = 0
    while j < n:
        if j and budget.passed():
            break
        left = left_bound[j] * factor(left_weight[j])
        if left < bar:
            break  # no document unseen so far can reach the first k
        if j and left < best * most and (asked is None or left < 0.9 * asked):
            # the bar may be above what the parts left can add: compute it (at most
            # once per tenth of the bound left, each time over every document seen)
            asked = left
            docs = np.flatnonzero(seen)
            bar = max(bar, top.kth(docs, total[docs] * factor(held[docs])))
            if left < bar:
                break
        i = order[j]
        docs, scores = full(i)
        got[i] = (docs, scores)
        if len(docs):
            total[docs] += scores
            if coordinated:
                held[docs] += max(weights[i], 0.0)
            seen[docs] = True
            if left_bound[j + 1] * most >= best:  # else no longer needed
                best = max(best, float(total[docs].max()))
        j += 1
    candidates = np.flatnonzero(seen)
    if j < n and not budget.passed():
        top.pruned = True
        alive = seen.copy()
        pruned_at = None  # the bound left when the candidates were last pruned
        for j in range(j, n):
            if budget.passed():
                break
            if pruned_at is None or left_bound[j] < 0.9 * pruned_at:
                # keep only the documents that can still reach the bar (again once the
                # bound left has fallen by a tenth)
                pruned_at = left_bound[j]
                sums = total[candidates]
                have = held[candidates]
                bar = max(bar, top.kth(candidates, sums * factor(have)))
                reach = (sums + left_bound[j]) * factor(have + left_weight[j])
                keep = reach >= bar
                if not keep.all():
                    alive[candidates[~keep]] = False
                    candidates = candidates[keep]
                if not len(candidates):
                    break
            i = order[j]
            if 4 * len(candidates) < count:
                # few documents left: only the posting blocks that hold them
                docs, scores = among(i, candidates)
            else:
                docs, scores = full(i)
                if len(docs):
                    keep = alive[docs]
                    docs, scores = docs[keep], scores[keep]
            got[i] = (docs, scores)
            if len(docs):
                total[docs] += scores
                if coordinated:
                    held[docs] += max(weights[i], 0.0)
    kept = np.zeros(count, dtype=bool)
    kept[candidates] = True
    parts = []
    for found in got:
        if found is None:
            parts.append(None)
            continue
        docs, scores = found
        if len(docs):
            keep = kept[docs]
            docs, scores = docs[keep], scores[keep]
        parts.append((docs, scores))
    return parts, int(seen.sum())
