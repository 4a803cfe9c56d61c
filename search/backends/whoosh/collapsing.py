"""Collapsing a Whoosh result on the near-duplicate cluster of each match.

Every article has its cluster id in the ``cluster`` column
(:mod:`search.duplicates`). A collapsed result shows, for each cluster among
the matches, only its best-ranked member (the *head*), in result order, and
lists the other matching members under it (the *folded* ones).

Two ways, with the same answers (``tests/integration/test_duplicates.py``
compares them query by query, page by page):

- the fast path (:func:`collapse`) works on the arrays that
  :mod:`.searching` scores every match into: each segment's cluster column is
  read once as 64-bit keys (a hash of the cluster id, the same across
  segments) and as dense numbers within the segment, the matches are ordered
  only as deep as the first ``limit`` clusters need, and the clusters among
  them are counted and the members of the page's clusters picked by marking
  their numbers (by their keys when the matches span segments; sorting the keys
  of every match was 0.5 ms of a FANG query);
- the plain path (:func:`collapsed_search`) is Whoosh's own: the ``collapse``
  facet of ``Searcher.search`` for the page, and a search restricted to the
  page's clusters for their folded members.

Why the default search does not use Whoosh's ``collapse`` facet: the fast path
never hands its matches to a Whoosh collector (it scores every match into
arrays, see :mod:`.searching`), so the facet would mean searching again. On
Whoosh's own path a collapsed page costs three more passes over the matches:
the page with the ``collapse`` facet, a count of the clusters grouped by the
``cluster`` field (Whoosh's results do not say how many keys they collapsed),
and the folded members of the page's clusters. On the arrays all three are one
sort of the matches that are already scored. Measured on all 28,041 FANG
articles (``benchmarks/duplicates.py``, 320 queries, each asked every way in
turns, 14:41 UTC, load 9.5 to 2.6 on 2 shared cores): collapsed on the arrays
p50 14.0 ms, p95 44 ms (every article: 10.2 ms, 36 ms); Whoosh's own search
collapsed with its facet p50 320 ms, p95 4.1 s (every article: 120 ms, 1.7 s).
The facet alone adds 200 ms at the median there, the arrays 4 ms.
"""

from __future__ import annotations

import hashlib

import numpy as np

from whoosh import query as wq
from whoosh import sorting

from .schema import CLUSTER_FIELD


def cluster_keys(reader) -> np.ndarray | None:
    """The cluster key of every document of one segment (``None``: an index without
    clusters, or one written before clusters were kept: its schema lacks the field)."""
    if CLUSTER_FIELD not in reader.schema or not reader.has_column(CLUSTER_FIELD):
        return None
    column = reader.column_reader(CLUSTER_FIELD, translate=False)
    count = reader.doc_count_all()
    return np.fromiter((_key(column[docnum]) for docnum in range(count)), dtype=np.int64,
                       count=count)


def cluster_codes(keys: np.ndarray | None) -> tuple[np.ndarray, int] | None:
    """The clusters of one segment numbered densely: ``(codes, count)``, each document's
    cluster as a number below ``count`` (within the segment; the keys are what match
    across segments). The clusters among matches are then counted and picked by marks
    in an array of ``count`` flags instead of by sorting their keys."""
    if keys is None:
        return None
    unique, codes = np.unique(keys, return_inverse=True)
    return codes.reshape(-1).astype(np.int32), len(unique)


def _key(value: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(value, digest_size=8).digest(), "little", signed=True)


def collapse(first: np.ndarray, second: np.ndarray, docs: np.ndarray, keys: np.ndarray,
             limit: int, codes: tuple[np.ndarray, int] | None = None
             ) -> tuple[np.ndarray, int, list[np.ndarray]]:
    """Collapse matches ranked by ``(first, second, docs)``, smallest first.

    Returns the positions (into the arrays) of the heads of the first ``limit``
    clusters in result order, the number of clusters among all matches, and for
    each head the positions of the other members of its cluster in result order.
    ``codes``: when all matches are of one segment, ``(its dense cluster number of
    each match, how many numbers)`` (:func:`cluster_codes`): the same answers, by
    flags instead of sorting (a tenth of the time for thousands of matches).
    """
    count = len(docs)
    if codes is not None:
        numbers, size = codes
        marks = np.zeros(size, dtype=bool)
        marks[numbers] = True
        stories = int(np.count_nonzero(marks))
    else:
        stories = int(np.unique(keys).size)
    depth = max(1, limit)
    while True:
        if depth < count:
            # Everything that can reach the first ``depth`` places (ties included): the
            # clusters whose best member is among them come first, in this order.
            bar = np.partition(first, depth - 1)[depth - 1]
            candidates = np.flatnonzero(first <= bar)
        else:
            candidates = np.arange(count)
        order = candidates[np.lexsort((docs[candidates], second[candidates],
                                       first[candidates]))]
        _, firsts = np.unique(keys[order], return_index=True)
        if len(firsts) >= limit or len(candidates) == count:
            break
        depth *= 4
    heads = order[np.sort(firsts)][:limit]
    members: list[np.ndarray] = []
    if len(heads):
        if codes is not None:
            marks[:] = False
            marks[numbers[heads]] = True
            inside = np.flatnonzero(marks[numbers])
        else:
            inside = np.flatnonzero(np.isin(keys, keys[heads]))
        inside = inside[np.lexsort((docs[inside], second[inside], first[inside]))]
        by_key: dict[int, list[int]] = {}
        for position, key in zip(inside.tolist(), keys[inside].tolist()):
            by_key.setdefault(key, []).append(position)
        for head, key in zip(heads.tolist(), keys[heads].tolist()):
            members.append(np.array([p for p in by_key[key] if p != head], dtype=np.int64))
    return heads, stories, members


def collapsed_search(searcher, whoosh_query, *, filter_query, limit: int, sortedby):
    """Whoosh's own collapse: ``(hits, stories, members)`` where ``hits`` are
    ``(whoosh hit)`` of the first ``limit`` clusters' heads, ``stories`` the number of
    clusters among all matches and ``members`` the global document numbers of each
    head's other matching members, in result order."""
    cluster = sorting.FieldFacet(CLUSTER_FIELD)
    page = searcher.search(whoosh_query, filter=filter_query, limit=limit, sortedby=sortedby,
                           collapse=cluster, collapse_limit=1)
    counted = searcher.search(whoosh_query, filter=filter_query, limit=1,
                              groupedby={"cluster": sorting.FieldFacet(CLUSTER_FIELD,
                                                                       maptype=sorting.Count)})
    stories = len(counted.groups("cluster"))
    hits = list(page)
    column = searcher.reader().column_reader(CLUSTER_FIELD)
    names = [column[hit.docnum] for hit in hits]
    members: list[list[int]] = [[] for _ in hits]
    if hits:
        clusters = wq.Or([wq.Term(CLUSTER_FIELD, name) for name in dict.fromkeys(names)])
        within = clusters if filter_query is None else wq.And([filter_query, clusters])
        everyone = searcher.search(whoosh_query, filter=within, limit=None, sortedby=sortedby)
        heads = {hit.docnum for hit in hits}
        by_name: dict = {}
        for hit in everyone:
            if hit.docnum not in heads:
                by_name.setdefault(column[hit.docnum], []).append(hit.docnum)
        members = [by_name.get(name, []) for name in names]
    return hits, stories, members
