"""The last step of ranking a plain word query: the first hits re-ranked by what they hold.

For the first ``rerank_depth`` hits of a plain word query (the strict and the
any mode alike), the features of :mod:`.features` are computed from the stored
title and text and from where the query's stems stand in them (read from the
index in one call for all those hits), and each hit's score becomes

    score · exp(w_exact · exact + w_window · window + w_pairs · pairs + w_title · title
                + w_written · written)

(a log-linear combination: the BM25F score keeps its scale and weight 1).
The hits are ordered by that score, ties keeping their order; the score
shown is the re-ranked one. Only the order within those first hits changes,
so paging stays consistent: the page size does not change which hits are
compared.

This happens in the engine after either backend answered, on stored text and
positions every backend gives alike (:meth:`search.backends.base.Session.term_positions`),
so Whoosh and Xapian rank alike. The weights are settings
(``exact_form_boost``, ``rank_window_weight``, ``rank_pairs_weight``,
``rank_title_weight``, ``rank_written_weight``); their defaults are read from ``weights.json``
(:mod:`.weights`), which ``benchmarks/fit_ranking.py`` fits on the development sets
(the weights on a grid that best meet the quality targets: XQuAD-de MRR@10,
known-item success@1 typed, inflected and ascii; a weight fitted on half the
queries scores the other half within a point of the full fit).
"""

from __future__ import annotations

import math

from .features import QueryWords, features
from .weights import NAMES, WEIGHTS_FILE, shipped_weights

__all__ = ["NAMES", "WEIGHTS_FILE", "rerank", "shipped_weights", "weights_of"]


def weights_of(settings) -> tuple[float, ...]:
    """The weights of :data:`features.NAMES` that ``settings`` give."""
    return (settings.exact_form_boost, settings.rank_window_weight, settings.rank_pairs_weight,
            settings.rank_title_weight, settings.rank_written_weight)


def rerank(items, texts, settings, term_positions) -> list:
    """``items`` (``(stored fields, score)`` in rank order) with the first
    ``settings.rerank_depth`` re-ranked for the query words ``texts``;
    ``term_positions(article ids, terms)`` reads where terms stand in those articles
    (:meth:`search.backends.base.Session.term_positions`)."""
    weights = weights_of(settings)
    depth = settings.rerank_depth
    if depth <= 0 or not any(weights) or len(items) < 2 or not texts:
        return list(items)
    words = QueryWords(texts)
    first = items[:depth]
    places = term_positions([stored["id"] for stored, _ in first],
                            words.terms({stored.get("lang") for stored, _ in first}))
    head = []
    for position, ((stored, score), held) in enumerate(zip(first, places)):
        found = features(stored, words, held)
        factor = math.exp(sum(w * x for w, x in zip(weights, found)))
        head.append(((score or 0.0) * factor, position, stored))
    head.sort(key=lambda entry: (-entry[0], entry[1]))
    return [(stored, score) for score, _, stored in head] + list(items[depth:])
