"""Where given terms stand in given documents, read from the index's positions.

The re-ranking of the first hits (:mod:`search.ranking.features`) needs, for
each of some thirty hits, the positions of the query's few stems in its title
and text. Analysing each hit's stored text again to find them was three
quarters of a word query's time (cProfile of 150 two-word FANG queries on a
10,000-article index: p50 22.9 ms with the re-ranking, 5.2 ms without); the
index holds those positions already. Each term's positions in a segment are
read with :func:`.postings.term_positions` (from the segment's compact arrays
where built, else its posting blocks; kept in the bounded cache phrases use),
and each wanted document's are cut out of them by a binary search of its
number.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from ...settings import Settings
from . import postings
from .searching import segment_columns

FIELDS = ("title", "text")


def term_positions(searcher, docnums: list, terms, settings: Settings) -> list[dict]:
    """For each global document number of ``docnums`` (``None``: not in the index),
    ``{"title": {term: positions}, "text": {term: positions}}`` of the index terms
    ``terms`` (see :meth:`search.backends.base.Session.term_positions`)."""
    found = [{} if docnum is None else {field: {} for field in FIELDS} for docnum in docnums]
    terms = sorted(set(terms))
    if not terms:
        return found
    leaves = list(searcher.leaf_searchers())
    starts = [offset for _, offset in leaves]
    by_segment: dict[int, list[tuple[int, int]]] = {}
    for i, docnum in enumerate(docnums):
        if docnum is not None:
            segment = bisect_right(starts, docnum) - 1
            by_segment.setdefault(segment, []).append((i, docnum - starts[segment]))
    for segment, wanted in by_segment.items():
        subsearcher, _ = leaves[segment]
        reader = subsearcher.reader()
        arrays = segment_columns(subsearcher, settings).arrays.read_with(settings)
        local = np.array([number for _, number in wanted], dtype=np.int64)
        for field in FIELDS:
            for term in terms:
                btext = term.encode("utf-8")
                if (field, btext) not in reader:
                    continue
                docs, offsets, positions = postings.term_positions(reader, arrays, field, btext)
                at = np.searchsorted(docs, local)
                for (i, number), k in zip(wanted, at.tolist()):
                    if k < len(docs) and docs[k] == number:
                        found[i][field][term] = positions[offsets[k]:offsets[k + 1]].tolist()
    return found
