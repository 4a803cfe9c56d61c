"""Queries evaluated on whole posting lists with numpy, one index segment at a time.

The fast search path of :mod:`.searching` needs every match of a query
(the page shows totals and facets) with its score. Whoosh's matchers walk the
matches one document at a time in Python; here a posting list is read into
arrays (from the segment's compact arrays, :mod:`.compact`, or block by block
through :mod:`.internals`), and terms, phrases, ANDs and ORs of them and the
plain word queries of :class:`.coordination.Coordinated` are scored with
array arithmetic, term by term, by the formulas of Whoosh's BM25F and of
:meth:`.coordination.CoordinationMatcher.score`. Any other query is read
from its Whoosh matcher, so every query gives what the matchers give; the sums of a document's parts may be added in
another order, so a score can differ from Whoosh's in the last bits of the
float (tests/integration/test_perf_equivalence.py compares them). The parts of an OR
are summed on an array over the segment's docnums, part after part in the query's
order (a search of each part's docnums in the union cost twice as much on the 70-word
OR of benchmarks/adversarial.py); when only the first hits are needed, an OR and the
any mode read their parts as :mod:`.topk` says.

In an AND (and a phrase) the rarest word is read first; the others are then
decoded only in the posting blocks that can hold a document it matched
(``Settings.skip_blocks``), unless that is more than ``some_blocks_share`` of
their blocks. Decoded lists, length norms, positions and block headers are
kept in the process-wide bounded caches of :mod:`search.cache`.
"""

from __future__ import annotations

import copy
import threading
from itertools import chain

import numpy as np
from whoosh import query as wq

from ... import budget
from ...cache import BoundedCache, on_clear
from ...ranking.lengths import BYTE_LENGTHS
from ...settings import Settings
from . import internals
from .compact import open_compact
from .coordination import Coordinated
from .topk import TopK, best_parts, widened

_EMPTY_DOCS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)
_LENGTH_TABLE = np.array(BYTE_LENGTHS, dtype=np.float64)


class SegmentArrays:
    """What scoring reads per document of one segment, read once: field lengths
    (as Coordinated reads them: a missing length counts as 1), the deleted documents
    and, with ``settings.compact_postings``, the segment's compact posting arrays;
    and how the engine's ``settings`` read posting blocks (``skip_blocks``,
    ``some_blocks_share``: :meth:`read_with` gives the same arrays read by another
    engine's settings)."""

    def __init__(self, reader, key, settings: Settings):
        self.key = key
        self.count = reader.doc_count_all()
        self._lengths: dict = {}
        self._lock = threading.Lock()
        deleted = []
        if reader.has_deletions():
            found = getattr(reader, "deleted_docs_set", None)
            deleted = sorted(found) if found is not None else [
                d for d in range(self.count) if reader.is_deleted(d)]
        self.deleted = np.array(deleted, dtype=np.int64) if deleted else None
        self._live = None
        self.dates = None  # the segment's date_sort column, when read (.searching)
        # the segment's postings as plain arrays, when its builder wrote them
        self.compact = _compact_of(reader) if settings.compact_postings else None
        self.skip_blocks = settings.skip_blocks
        self.some_blocks_share = settings.some_blocks_share

    def read_with(self, settings: Settings) -> "SegmentArrays":
        """These arrays (not copied), read posting blocks as ``settings`` say (the
        arrays themselves when they already are)."""
        if (self.skip_blocks, self.some_blocks_share) == (settings.skip_blocks,
                                                          settings.some_blocks_share):
            return self
        other = copy.copy(self)
        other.skip_blocks, other.some_blocks_share = settings.skip_blocks, \
            settings.some_blocks_share
        return other

    @property
    def lengths_read(self) -> frozenset:
        """The fields whose lengths have been read."""
        return frozenset(self._lengths)

    def lengths(self, reader, field: str) -> np.ndarray:
        found = self._lengths.get(field)
        if found is None:
            count = self.count
            column = internals.length_column(reader, field)
            if column is not None:
                raw = np.fromiter((column[d] for d in range(count)), dtype=np.int64, count=count)
                found = _LENGTH_TABLE[raw]
            else:
                found = np.fromiter((reader.doc_field_length(d, field, 1) or 1
                                     for d in range(count)), dtype=np.float64, count=count)
            found[found == 0] = 1.0
            with self._lock:
                self._lengths[field] = found
        return found

    def live(self) -> np.ndarray:
        if self._live is None:
            docs = np.arange(self.count, dtype=np.int64)
            if self.deleted is not None:
                docs = np.setdiff1d(docs, self.deleted, assume_unique=True)
            self._live = docs
        return self._live


def segment_folder(reader) -> str | None:
    """The folder of a segment reader's files; None for a segment in memory or in a
    compound file (Whoosh's writer writes those), and for a reader of several segments."""
    storage = reader.storage() if hasattr(reader, "storage") else None
    return getattr(storage, "folder", None)


def _compact_of(reader):
    """The :class:`.compact.CompactPostings` of a segment reader's segment, or None."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    if segment is None:
        return None
    try:
        return open_compact(segment_folder(reader), segment)
    except Exception:  # not a reader of one segment on disk
        return None


def _raw_postings(reader, field: str, text, compact=None) -> tuple[np.ndarray, np.ndarray]:
    """``(docnums, weights)`` of one term in one segment reader (deleted documents still
    in): from ``compact`` (the segment's compact arrays) when it holds the term, else
    from the term's posting blocks."""
    if compact is not None and compact.has_field(field):
        try:
            info = reader.term_info(field, text)
        except Exception:  # the term is not in this segment
            return _EMPTY_DOCS, _EMPTY_SCORES
        if not info.is_inlined():
            found = compact.postings(field, info.extent()[0])
            if found is not None:
                return found
    try:
        matcher = reader.postings(field, text)
    except Exception:  # the term or field is not in this segment
        return _EMPTY_DOCS, _EMPTY_SCORES
    leaf = internals.block_leaf(matcher)
    if leaf is not None:
        return _block_arrays(internals.leaf_blocks(leaf))
    ids, ws = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        ws.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(ws, dtype=np.float64)


def _block_arrays(blocks, values=None) -> tuple[np.ndarray, np.ndarray]:
    """``(docnums, weights)`` of decoded blocks ``(count, ids, weights, values)`` (see
    :func:`.internals.leaf_blocks`; counted in ``BLOCKS_DECODED``); their values are added
    to the list ``values`` when given."""
    id_parts, weight_parts = [], []
    for count, ids, weights, block_values in blocks:
        if values is not None:
            values.extend(block_values)
        id_parts.append(np.array(ids, dtype=np.int64))
        if weights is None:
            weight_parts.append(np.ones(count, dtype=np.float64))
        elif isinstance(weights, float):
            # Whoosh reads a block's single weight back through a float32 array
            weight_parts.append(np.full(count, np.float32(weights), dtype=np.float64))
        else:
            weight_parts.append(np.array(weights, dtype=np.float32).astype(np.float64))
    BLOCKS_DECODED[0] += len(id_parts)
    if not id_parts:
        return _EMPTY_DOCS, _EMPTY_SCORES
    # Every block's deltas start from zero: its first one is the block's first docnum.
    docs = np.concatenate([np.cumsum(p) for p in id_parts]) if len(id_parts) > 1 \
        else np.cumsum(id_parts[0])
    weights = np.concatenate(weight_parts) if len(weight_parts) > 1 else weight_parts[0]
    return docs, weights


# -- reading only the blocks that hold given documents ------------------------------

# How many posting blocks were decompressed and unpickled (read by tests).
BLOCKS_DECODED = [0]


def _block_headers(reader, arrays: SegmentArrays, field: str, text):
    """``(postfile, last docnums, data offsets, data lengths, compressed)`` of a term's
    posting blocks, read from each block's small info tuple without decompressing its
    data (kept in a bounded cache); None when the term's postings are not W3 blocks."""
    key = (arrays.key, field, text)
    try:
        matcher = reader.postings(field, text)
    except Exception:  # the term or field is not in this segment
        return None
    leaf = internals.block_leaf(matcher)
    if leaf is None:
        return None
    postfile = internals.leaf_postfile(leaf)
    found = _HEADERS.get(key)
    if found is not None:
        return (postfile,) + found
    lasts, offsets, lengths, compressed, _ = internals.leaf_block_headers(leaf)
    found = (np.array(lasts, dtype=np.int64), offsets, lengths, compressed)
    return (postfile,) + _HEADERS.put(key, found)


# Block headers of recent terms (bounded by their number of blocks, ~40 bytes each).
_HEADERS = BoundedCache(setting="headers_cache_blocks", size=lambda found: len(found[0]))


def _blocks_among(reader, arrays: SegmentArrays, field: str, text, candidates: np.ndarray):
    """``(docnums, weights, values)`` of a term for the sorted live docnums
    ``candidates`` only, decoded from just the blocks whose docnum range can hold
    one of them (a block covers the docnums after the previous block's last one
    up to its own last one); None when that would be most of the blocks, or the
    term is not stored in W3 blocks (then the whole list is read), and when the
    arrays are read without skipping blocks (``skip_blocks``)."""
    found = _block_headers(reader, arrays, field, text) if arrays.skip_blocks else None
    if found is None:
        return None
    postfile, lasts, offsets, lengths, compressed = found
    inside = candidates[:np.searchsorted(candidates, lasts[-1], side="right")]
    chosen = np.unique(np.searchsorted(lasts, inside))
    if len(chosen) > arrays.some_blocks_share * len(lasts):
        return None
    blocks = internals.read_blocks(postfile, offsets, lengths, compressed, chosen)
    docs, weights = _block_arrays(blocks)
    keep = _member(docs, candidates)  # candidates hold no deleted document
    values = list(chain.from_iterable(b[3] for b in blocks)) if blocks and blocks[0][3] is not None \
        else None
    if values is not None:
        values = [values[i] for i in np.flatnonzero(keep).tolist()]
    return docs[keep].astype(np.int32), weights[keep].astype(np.float32), values


def postings_among(reader, arrays: SegmentArrays, field: str, text, candidates):
    """``(docnums, weights, values)`` of a term for the documents ``candidates``
    (sorted live docnums) only: from the whole list when it is cached or the segment
    has compact arrays (values then None), else from the blocks that can hold them
    (never cached as a whole list)."""
    key = (arrays.key, field, text)
    whole = _CACHE.peek(key)
    if whole is None:
        if arrays.compact is None or not arrays.compact.has_field(field):
            found = _blocks_among(reader, arrays, field, text, candidates)
            if found is not None:
                return found
        whole = term_postings(reader, arrays, field, text)
    docs, weights = whole
    keep = _member(docs, candidates)
    return docs[keep], weights[keep], None


def term_postings(reader, arrays: SegmentArrays, field: str, text):
    """``(docnums, weights)`` of a term in a segment, without the deleted documents
    (kept in a bounded cache of decoded posting lists: decoding is most of the cost)."""
    key = (arrays.key, field, text)
    found = _CACHE.get(key)
    if found is not None:
        return found
    docs, weights = _raw_postings(reader, field, text, arrays.compact)
    return _keep_postings(key, arrays, docs, weights)


def _keep_postings(key, arrays: SegmentArrays, docs, weights):
    """Puts a term's whole posting list (deleted documents still in) in the cache."""
    if arrays.deleted is not None and len(docs):
        keep = ~np.isin(docs, arrays.deleted, assume_unique=True)
        docs, weights = docs[keep], weights[keep]
    return _CACHE.put(key, (docs.astype(np.int32), weights.astype(np.float32)))


# Decoded posting lists kept (docnums as int32, weights as float32: 8 bytes a posting).
POSTING_CACHED_BYTES = 8
_CACHE = BoundedCache(setting="postings_cache_bytes",
                      size=lambda found: POSTING_CACHED_BYTES * len(found[0]) + 200)


def cached_terms(arrays: SegmentArrays) -> list:
    """``(field, text)`` of the terms of the segment of ``arrays`` whose decoded posting
    lists are kept, least recently used first."""
    return [key[1:] for key in _CACHE if key[0] == arrays.key]


@on_clear
def clear_caches() -> None:
    """Forget every decoded posting list, norm, position and block header."""
    for cache in (_CACHE, _NORMS, _VALUES, _HEADERS):
        cache.clear()


# -- match sets without scores (filters) ------------------------------------------


def docs_of(query, subsearcher, arrays: SegmentArrays) -> np.ndarray:
    """The sorted document numbers of ``query`` in one segment (no scores)."""
    reader = subsearcher.reader()
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return _EMPTY_DOCS
    if type(query) is wq.Term:
        return term_postings(reader, arrays, query.fieldname, query.text)[0]
    if isinstance(query, wq.TermRange) and type(query) is wq.TermRange:
        found = [term_postings(reader, arrays, query.fieldname, text)[0]
                 for text in internals.range_terms(query, reader)]
        return _union(found)
    if type(query) is wq.ConstantScoreQuery:
        return docs_of(query.child, subsearcher, arrays)
    if hasattr(query, "bounds") and query.fieldname == "date_sort" and arrays.dates is not None:
        # a date range read from the date column (the values its trie terms index)
        low, high = query.bounds(reader)
        dates = arrays.dates
        docs = np.flatnonzero((dates >= low) & (dates <= high))
        if arrays.deleted is not None and len(docs):
            docs = docs[~_member(docs, arrays.deleted)]
        return docs
    if isinstance(query, wq.NumericRange):
        return docs_of(internals.numeric_range_query(query, reader), subsearcher, arrays)
    if type(query) is wq.And and query.boost == 1.0:
        positive = [s for s in query.subqueries if not isinstance(s, wq.Not)]
        negative = [s.query for s in query.subqueries if isinstance(s, wq.Not)]
        docs = arrays.live() if not positive else None
        for sub in positive:
            found = docs_of(sub, subsearcher, arrays)
            docs = found if docs is None else _intersect(docs, found)
            if not len(docs):
                return _EMPTY_DOCS
        for sub in negative:
            docs = docs[~_member(docs, docs_of(sub, subsearcher, arrays))]
        return docs
    if type(query) is wq.Or:
        return _union([docs_of(s, subsearcher, arrays) for s in query.subqueries])
    if type(query) is wq.Every and not query.fieldname:
        return arrays.live()
    if isinstance(query, Coordinated):
        return _coordinated(query, subsearcher, subsearcher.boolean_context(), arrays, None)[0]
    context = subsearcher.boolean_context()
    return np.fromiter(query.matcher(subsearcher, context).all_ids(), dtype=np.int64)


def _union(parts) -> np.ndarray:
    """The sorted union of sorted docnum arrays (a mask over the docnums: no sorting)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _EMPTY_DOCS
    if len(parts) == 1:
        return parts[0]
    mask = np.zeros(max(int(p[-1]) for p in parts) + 1, dtype=bool)
    for part in parts:
        mask[part] = True
    return np.flatnonzero(mask)


def _member(docs: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Which of the sorted docnums ``docs`` are in the sorted array ``other``."""
    if not len(docs) or not len(other):
        return np.zeros(len(docs), dtype=bool)
    mask = np.zeros(max(int(docs[-1]), int(other[-1])) + 1, dtype=bool)
    mask[other] = True
    return mask[docs]


def _summed(parts) -> tuple[np.ndarray, np.ndarray]:
    """The union of the parts' ``(docnums, scores)`` and each document's sum of the
    scores of the parts holding it, added part by part in their order (as Whoosh's
    union matchers add them), on an array over the docnums: no search per part."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY_DOCS, _EMPTY_SCORES
    if len(parts) == 1:
        return parts[0]
    size = max(int(p[0][-1]) for p in parts) + 1
    total = np.zeros(size, dtype=np.float64)
    present = np.zeros(size, dtype=bool)
    for found, score in parts:
        total[found] += score  # a part holds each docnum once
        present[found] = True
    docs = np.flatnonzero(present)
    return docs, total[docs]


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) > len(b):
        a, b = b, a
    return a[_member(a, b)]


# -- scored match sets ------------------------------------------------------------


def scored(query, subsearcher, context, arrays: SegmentArrays, allow=None,
           top: TopK | None = None):
    """``(docnums, scores)`` of ``query`` in one segment, sorted by docnum.

    ``allow``: a boolean mask over the segment's documents; only those are
    scored (others may be left out early). ``top``: only the first ``top.k`` hits
    are needed; an OR or the any mode then leaves out documents that cannot reach
    them (:mod:`.topk`; ``top.pruned`` says whether it did).
    """
    found = _try_scored(query, subsearcher, context, arrays, allow, top=top)
    if found is not None:
        return found
    return _walk(query.matcher(subsearcher, context), allow)


def upper_bound(query, subsearcher, context) -> float | None:
    """The highest score ``query`` can give a document, as this module scores it (a
    little above, see :mod:`.topk`); None when it is not known."""
    if query.boost < 0:
        return None
    kind = type(query)
    if isinstance(query, Coordinated):
        total = 0.0
        for clause, weight in zip(query.subqueries, query.weights):
            if weight > 0 and _clause_leaves(clause) is not None:
                total += weight * (query.k1 + 1.0)  # BM25F saturates there
                continue
            found = upper_bound(clause, subsearcher, context)
            if found is None:
                return None
            total += found
        factor = 1.0 if query.require_all else max(query.full_match, 1.0)
        return widened(total * factor * query.boost)
    if kind is wq.Term:
        field = query.fieldname
        params = internals.bm25f_parameters(context.weighting if context is not None else None,
                                            field)
        if params is None or field not in subsearcher.schema \
                or not subsearcher.schema[field].scorable:
            return None
        text = query.text
        btext = subsearcher.schema[field].to_bytes(text) if isinstance(text, str) else text
        idf = subsearcher.get_parent().idf(field, btext)
        if idf < 0:
            return None
        return widened(idf * (params[1] + 1.0) * query.boost)
    if kind is wq.Phrase:
        total = 0.0
        for word in query.words:
            found = upper_bound(wq.Term(query.fieldname, word), subsearcher, context)
            if found is None:
                return None
            total += found
        return widened(total * query.boost)
    if kind is wq.Or and query.boost == 1.0 and not query.scale and not query.minmatch:
        total = 0.0
        for sub in query.subqueries:
            found = upper_bound(sub, subsearcher, context)
            if found is None:
                return None
            total += found
        return widened(total)
    if kind is wq.And and query.boost == 1.0:
        total = 0.0
        for sub in query.subqueries:
            found = 1.0 if isinstance(sub, wq.Not) else upper_bound(sub, subsearcher, context)
            if found is None:
                return None
            total += found
        return widened(total)
    if kind is wq.Every and query.fieldname in (None, "", "*"):
        return widened(float(query.boost))
    return None


def scored_among(query, subsearcher, context, arrays: SegmentArrays, candidates):
    """``(docnums, scores)`` of ``query`` for the sorted allowed docnums ``candidates``
    only, each score as :func:`scored` gives it (an OR part by part, each part read
    only for them)."""
    if not len(candidates):
        return _EMPTY_DOCS, _EMPTY_SCORES
    if (type(query) is wq.Or and query.boost == 1.0 and query.subqueries
            and not query.scale and not query.minmatch):
        parts = []
        for sub in query.subqueries:
            found = _try_scored(sub, subsearcher, context, arrays, None, candidates)
            if found is None:
                found = _walk(sub.matcher(subsearcher, context), candidates=candidates)
            if len(found[0]):
                parts.append(found)
        return _summed(parts)
    found = _try_scored(query, subsearcher, context, arrays, None, candidates)
    if found is not None:
        return found
    return _walk(query.matcher(subsearcher, context), candidates=candidates)


def _bounds(queries, subsearcher, context) -> list:
    """:func:`upper_bound` of each query; the terms of a prefix (hundreds of them) with
    their field's parameters looked up once."""
    found = []
    params: dict = {}
    parent = subsearcher.get_parent()
    schema = subsearcher.schema
    weighting = context.weighting if context is not None else None
    for query in queries:
        if type(query) is not wq.Term or query.boost < 0:
            found.append(upper_bound(query, subsearcher, context))
            continue
        field = query.fieldname
        if field not in params:
            known = internals.bm25f_parameters(weighting, field)
            params[field] = (known if known is not None and field in schema
                             and schema[field].scorable else None)
        if params[field] is None:
            found.append(None)
            continue
        text = query.text
        btext = schema[field].to_bytes(text) if isinstance(text, str) else text
        found.append(widened(max(parent.idf(field, btext), 0.0) * (params[field][1] + 1.0)
                             * query.boost))
    return found


class _NotComputed(Exception):
    """A part of an OR this module does not compute (the caller walks the matchers)."""


def _plain_scored(query, subsearcher, context, arrays, allow, top=None):
    """Terms, phrases and ORs of them scored as Whoosh's BM25F matchers score them;
    None for anything else (``top``: see :func:`scored`)."""
    kind = type(query)
    if kind is wq.Term:
        return _term_scored(query, subsearcher, context, arrays, allow)
    if kind is wq.Every and query.fieldname in (None, "", "*") and query.boost > 0:
        # Whoosh's matcher: every live document, weighted (and scored) by the boost
        docs = arrays.live()
        if allow is not None:
            docs = docs[allow[docs]]
        return docs, np.full(len(docs), float(query.boost))
    if kind is wq.Phrase:
        return _phrase_scored(query, subsearcher, context, arrays, allow)
    if (kind is wq.Or and query.boost == 1.0 and query.subqueries and not query.scale
            and not query.minmatch):
        return _or_scored(query, subsearcher, context, arrays, allow, top)
    return None


def _or_scored(query, subsearcher, context, arrays, allow, top=None):
    """An OR scored as Whoosh's union matchers score it: each document the sum of the
    scores of the parts it matches. Each part is scored on the arrays when this module
    can (a word of the query language is a :class:`Coordinated`, a prefix an OR of
    terms), so an OR of 70 frequent words is 70 vectorised reads instead of a walk of
    28,000 documents through a tree of 70 matchers (56 s on all FANG articles, from
    0.5 s for two words). None when a part is not computed here (the caller walks the
    matchers). Once the search is out of time (:mod:`search.budget`) the parts not yet
    read are left out: their documents are missing, the others scored without them.
    With ``top``, only the documents that can reach the first ``top.k`` hits
    (:mod:`.topk`)."""
    if top is not None and len(query.subqueries) > 1:
        try:
            found = _or_top(query, subsearcher, context, arrays, allow, top)
        except _NotComputed:
            return None
        if found is not None:
            return found
    parts = []
    for sub in query.subqueries:
        if parts and budget.passed():
            break
        found = _try_scored(sub, subsearcher, context, arrays, allow)
        if found is None:
            return None
        if len(found[0]):
            parts.append(found)
    return _summed(parts)


def _or_top(query, subsearcher, context, arrays, allow, top: TopK):
    """:func:`_or_scored` of the documents that can reach the first ``top.k`` hits;
    None when a part's bound is not known (then every match is scored)."""
    subs = query.subqueries
    if len(subs) > top.max_parts:
        return None
    bounds = _bounds(subs, subsearcher, context)
    if any(bound is None for bound in bounds):
        return None

    def full(i):
        found = _try_scored(subs[i], subsearcher, context, arrays, allow)
        if found is None:
            raise _NotComputed
        return found

    def among(i, candidates):
        found = _try_scored(subs[i], subsearcher, context, arrays, allow, candidates)
        if found is None:
            raise _NotComputed
        return found

    parts, seen = best_parts(arrays.count, bounds, full, among, top)
    top.seen += seen
    return _summed([p for p in parts if p is not None])


def _term_weights(query, subsearcher, context, arrays, allow, candidates=None,
                  values=None, slot=0):
    """A term's documents and BM25F scores before its boost, or None. With
    ``candidates`` (sorted allowed docnums): of those documents only, read from the
    blocks that can hold them; their ``(docnums, values)`` are then put in
    ``values[slot]`` (when the whole list was not read instead)."""
    weighting = context.weighting if context is not None else None
    field = query.fieldname
    params = internals.bm25f_parameters(weighting, field)
    if params is None or field not in subsearcher.schema \
            or not subsearcher.schema[field].scorable:
        return None
    reader = subsearcher.reader()
    text = query.text
    if candidates is None:
        docs, weights = term_postings(reader, arrays, field, text)
    else:
        docs, weights, some = postings_among(reader, arrays, field, text, candidates)
        if values is not None and some is not None:
            values[slot] = (docs, some)
    if allow is not None and len(docs):
        keep = allow[docs]
        docs, weights = docs[keep], weights[keep]
    if not len(docs):
        return _EMPTY_DOCS, _EMPTY_SCORES
    B, K1 = params
    parent = subsearcher.get_parent()
    btext = subsearcher.schema[field].to_bytes(text) if isinstance(text, str) else text
    idf = parent.idf(field, btext)
    avgfl = internals.average_field_length(parent, field) or 1
    tf = weights.astype(np.float64)
    fl = arrays.lengths(reader, field)[docs]
    score = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
    return docs, score


def _term_scored(query, subsearcher, context, arrays, allow):
    found = _term_weights(query, subsearcher, context, arrays, allow)
    if found is None or query.boost == 1.0:
        return found
    return found[0], found[1] * query.boost


def _phrase_scored(query, subsearcher, context, arrays, allow):
    """A phrase: its words at consecutive positions (Whoosh's ``slop=1``), scored as
    the sum of its words' BM25F scores, times its boost."""
    field = query.fieldname
    if query.slop != 1 or len(query.words) < 2 or field not in subsearcher.schema:
        return None
    fieldobj = subsearcher.schema[field]
    if not fieldobj.format or not fieldobj.format.supports("positions"):
        return None
    reader = subsearcher.reader()
    words = []
    for word in query.words:
        try:
            words.append(fieldobj.to_bytes(word))
        except ValueError:
            return _EMPTY_DOCS, _EMPTY_SCORES
        if (field, words[-1]) not in reader:
            return _EMPTY_DOCS, _EMPTY_SCORES
    # The rarest word first. From compact arrays every word's list and positions are
    # read whole; from posting blocks, the others only in the blocks that can hold a
    # document the words before hold (their positions too).
    order = sorted(range(len(words)), key=lambda k: reader.doc_frequency(field, words[k]))
    parts, values = [None] * len(words), [None] * len(words)
    compact = arrays.compact is not None and arrays.compact.has_positions(field)
    docs = None
    for k in order:
        if docs is None or compact:
            if not compact:
                # its positions are read from the blocks its posting list is read from
                term_positions(reader, arrays, field, words[k])
            found = _term_weights(wq.Term(field, words[k]), subsearcher, context, arrays, allow)
        else:
            found = _term_weights(wq.Term(field, words[k]), subsearcher, context, arrays,
                                  allow, docs, values, k)
        if found is None:
            return None
        parts[k] = found
        docs = found[0] if docs is None else _intersect(docs, found[0])
        if not len(docs):
            return _EMPTY_DOCS, _EMPTY_SCORES
    # (candidate, position) pairs as one number each: the phrase starts at (i, p) when
    # every word k of it is at (i, p + k)
    flat = [_position_keys(reader, arrays, field, word, docs, values[k])
            for k, word in enumerate(words)]
    starts = flat[0]
    for k, later in enumerate(flat[1:], 1):
        # ``later`` is sorted (candidates in order, positions rising within each)
        if not len(later):
            starts = later
            break
        wanted = starts + k
        at = np.minimum(np.searchsorted(later, wanted), len(later) - 1)
        starts = starts[later[at] == wanted]
        if not len(starts):
            break
    keep = np.zeros(len(docs), dtype=bool)
    keep[starts >> 32] = True
    docs = docs[keep]
    if not len(docs):
        return _EMPTY_DOCS, _EMPTY_SCORES
    total = np.zeros(len(docs), dtype=np.float64)
    for found, score in parts:
        total += score[np.searchsorted(found, docs)]
    if query.boost != 1.0:
        total = total * query.boost
    return docs, total


def _position_keys(reader, arrays, field, btext, docs, some=None) -> np.ndarray:
    """``(i << 32) | position`` for every position of the term in ``docs[i]`` (all of
    ``docs`` hold it), sorted. ``some``: ``(docnums, values)`` of the term already read
    for a part of its documents that holds ``docs``."""
    if some is not None:
        every, offsets, positions = _positions_of(*some)
    else:
        every, offsets, positions = term_positions(reader, arrays, field, btext)
    at = np.searchsorted(every, docs)
    begins = offsets[at]
    sizes = offsets[at + 1] - begins
    total = int(sizes.sum())
    # the indexes of the positions of each candidate, run together
    shift = np.repeat(begins - (np.cumsum(sizes) - sizes), sizes)
    gathered = positions[np.arange(total, dtype=np.int64) + shift]
    owners = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
    return (owners << 32) | gathered


def term_positions(reader, arrays, field, btext):
    """``(docnums, offsets, positions)`` of a term: the positions in document
    ``docnums[i]`` are ``positions[offsets[i]:offsets[i + 1]]``; kept in a bounded cache."""
    key = (arrays.key, field, btext)
    found = _VALUES.get(key)
    if found is not None:
        return found
    held = _compact_positions(reader, arrays, field, btext)
    if held is not None:
        found = _positions_from(*held)
    else:
        found = _block_positions(reader, arrays, field, btext, key)
    return _VALUES.put(key, found)


def _compact_positions(reader, arrays, field, btext):
    """``(docnums, sizes, deltas)`` of a term from the segment's compact arrays, or None
    when they do not hold its positions."""
    compact = arrays.compact
    if compact is None or not compact.has_positions(field):
        return None
    try:
        info = reader.term_info(field, btext)
    except Exception:  # not in this segment
        return None
    if info.is_inlined():
        return None
    return compact.positions(field, info.extent()[0])


def _block_positions(reader, arrays, field, btext, key):
    """:func:`term_positions` decoded from the term's posting blocks (or its matcher)."""
    matcher = reader.postings(field, btext)
    leaf = internals.block_leaf(matcher)
    docs, values = [], []
    if leaf is not None:
        docs, weights = _block_arrays(internals.leaf_blocks(leaf), values)
        # the same blocks hold the term's posting list: kept too, not decoded again
        if key not in _CACHE:
            _keep_postings(key, arrays, docs, weights)
    else:
        while matcher.is_active():
            docs.append(matcher.id())
            values.append(matcher.value())
            matcher.next()
        docs = np.array(docs, dtype=np.int64)
    return _positions_of(docs, values)


def _positions_of(docs, values):
    """``(docnums, offsets, positions)`` (see :func:`term_positions`) of the Positions
    ``values`` of the documents ``docnums``."""
    return _positions_from(docs, *internals.position_deltas(values))


def _positions_from(docs, sizes, flat):
    """:func:`_positions_of` from each document's number of positions (``sizes``) and
    their deltas run together (``flat``)."""
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    # deltas to positions: a running sum restarted at each document
    running = np.cumsum(flat)
    before = np.concatenate(([0], running))[offsets[:-1]]
    positions = (running - np.repeat(before, sizes)).astype(np.int32)
    return docs, offsets, positions


# Positions of the terms of recent phrases (docnums, offsets and positions as arrays).
_VALUES = BoundedCache(setting="positions_cache_bytes",
                       size=lambda found: 16 * len(found[0]) + 4 * len(found[2]) + 200)


def _walk(matcher, allow=None, candidates=None):
    """Documents and scores read from a Whoosh matcher (only ``candidates`` when given)."""
    docs: list[int] = []
    scores: list[float] = []
    if candidates is not None:
        for target in candidates.tolist():
            if not matcher.is_active():
                break
            if matcher.id() < target:
                matcher.skip_to(target)
                if not matcher.is_active():
                    break
            if matcher.id() == target:
                docs.append(target)
                scores.append(matcher.score())
    else:
        append_doc, append_score = docs.append, scores.append
        steps = 0
        while matcher.is_active():
            docnum = matcher.id()
            if allow is None or allow[docnum]:
                append_doc(docnum)
                append_score(matcher.score())
            matcher.next()
            steps += 1
            if not steps & 1023 and budget.passed():
                break  # out of time: the documents walked so far
    return np.array(docs, dtype=np.int64), np.array(scores, dtype=np.float64)


def _and(query, subsearcher, context, arrays, allow):
    """An AND of parts: the documents all positive parts match, the sum of their scores.

    The parts this module computes go first; the others are asked only about
    the documents left (as Whoosh's intersection skips to them).
    """
    positive = [s for s in query.subqueries if not isinstance(s, wq.Not)]
    negative = [s.query for s in query.subqueries if isinstance(s, wq.Not)]
    if not positive:
        return _walk(query.matcher(subsearcher, context), allow)
    computed, slow = [], []
    for sub in positive:
        found = _try_scored(sub, subsearcher, context, arrays, allow)
        if found is None:
            slow.append(sub)
        else:
            computed.append(found)
    docs = None
    total = None
    for found, score in computed:
        if docs is None:
            docs, total = found, score
        else:
            common = _intersect(docs, found)
            docs, total = common, (total[np.searchsorted(docs, common)]
                                   + score[np.searchsorted(found, common)])
        if not len(docs):
            return _EMPTY_DOCS, _EMPTY_SCORES
    for sub in slow:
        if docs is None:
            docs, total = _walk(sub.matcher(subsearcher, context), allow)
        else:
            found, score = _walk(sub.matcher(subsearcher, context), candidates=docs)
            keep = _member(docs, found)
            docs, total = docs[keep], total[keep] + score
        if not len(docs):
            return _EMPTY_DOCS, _EMPTY_SCORES
    for sub in negative:
        drop = docs_of(sub, subsearcher, arrays)
        keep = ~_member(docs, drop)
        # Whoosh's matcher of a NOT inside an AND scores its documents 1.0.
        docs, total = docs[keep], total[keep] + 1.0
    return docs, total


def _try_scored(query, subsearcher, context, arrays, allow, candidates=None, top=None):
    """``(docnums, scores)`` when this module computes ``query`` itself, else None; with
    ``candidates`` (sorted allowed docnums), of those documents only (``top``: see
    :func:`scored`)."""
    if isinstance(query, Coordinated):
        return _coordinated(query, subsearcher, context, arrays, allow, candidates=candidates,
                            top=top)
    if candidates is not None and type(query) is wq.Term:
        found = _term_weights(query, subsearcher, context, arrays, allow, candidates)
        if found is None or query.boost == 1.0:
            return found
        return found[0], found[1] * query.boost
    if type(query) is wq.And and query.boost == 1.0 and len(query.subqueries) > 1:
        found = _and(query, subsearcher, context, arrays, allow)
    else:
        found = _plain_scored(query, subsearcher, context, arrays, allow,
                              top if candidates is None else None)
    if found is None or candidates is None:
        return found
    keep = _member(found[0], candidates)
    return found[0][keep], found[1][keep]


def _clause_leaves(clause):
    """The ``(field, text)`` terms of a word clause (a term or an OR of terms), or None."""
    if type(clause) is wq.Term:
        return [(clause.fieldname, clause.text)]
    if type(clause) is wq.Or and clause.boost == 1.0:
        leaves = []
        for sub in clause.subqueries:
            found = _clause_leaves(sub)
            if found is None:
                return None
            leaves.extend(found)
        return leaves
    return None


def _coordinated(query: Coordinated, subsearcher, context, arrays: SegmentArrays, allow,
                 candidates=None, top=None):
    """Coordinated's matches and scores, as CoordinationMatcher computes them; with
    ``candidates`` (sorted allowed docnums), of those documents only. The any mode
    stops reading words once the search is out of time (:mod:`search.budget`); with
    ``top``, it scores only the documents that can reach the first ``top.k`` hits
    (:mod:`.topk`)."""
    parent = subsearcher.get_parent()
    averages = {name: internals.average_field_length(parent, name) or 1.0 for name in query.boosts}
    b, k1 = query.b, query.k1
    term_weights = query.term_weights
    reader = subsearcher.reader()
    clauses = list(zip(query.subqueries, query.weights))
    leaves_of = [_clause_leaves(clause) if weight > 0 else None for clause, weight in clauses]

    def clause_scored(i, among):
        (clause, weight), leaves = clauses[i], leaves_of[i]
        if leaves is not None:
            return _word(reader, leaves, weight, query.boosts, averages, term_weights, b, k1,
                         arrays, allow, among)
        found = _try_scored(clause, subsearcher, context, arrays, allow, among)
        if found is not None:
            return found
        if among is None:
            return _walk(clause.matcher(subsearcher, context), allow)
        return _walk(clause.matcher(subsearcher, context), candidates=among)

    if query.require_all:
        # The rarest word first: the others are then read only in the posting blocks
        # that can hold a document all the words before matched. Every word is read:
        # the documents of an AND must hold them all, so it is never cut short.
        order = sorted(range(len(clauses)), key=lambda i: _clause_frequency(reader, leaves_of[i]))
        clause_docs, clause_scores = [None] * len(clauses), [None] * len(clauses)
        for i in order:
            docs, score = clause_scored(i, candidates)
            if not len(docs):
                return _EMPTY_DOCS, _EMPTY_SCORES
            candidates = docs if candidates is None else _intersect(candidates, docs)
            if not len(candidates):
                return _EMPTY_DOCS, _EMPTY_SCORES
            clause_docs[i], clause_scores[i] = docs, score
        if not clause_docs:
            return _EMPTY_DOCS, _EMPTY_SCORES
        docs = clause_docs[0]
        for other in clause_docs[1:]:
            docs = _intersect(docs, other)
            if not len(docs):
                return _EMPTY_DOCS, _EMPTY_SCORES
        if len(clause_docs) == 1:  # one word: its own documents and scores
            return docs, (0.0 + clause_scores[0]) * query.boost
        total = np.zeros(len(docs), dtype=np.float64)
        for found, score in zip(clause_docs, clause_scores):
            total += score[np.searchsorted(found, docs)]
        return docs, total * query.boost

    if candidates is not None:
        parts = [clause_scored(i, candidates) for i in range(len(clauses))]
    elif top is not None and len(clauses) > 1 and query.boost == 1.0:
        bounds = []
        for (clause, weight), leaves in zip(clauses, leaves_of):
            if leaves is not None:
                bounds.append(widened(weight * (k1 + 1.0)))  # BM25F saturates there
            else:
                bounds.append(upper_bound(clause, subsearcher, context))
        parts, seen = best_parts(
            arrays.count, bounds, lambda i: clause_scored(i, None), clause_scored, top,
            weights=query.weights, known=sum(w for w in query.weights if w > 0),
            power=query.power, full_match=query.full_match)
        top.seen += seen
        parts = [p if p is not None else (_EMPTY_DOCS, _EMPTY_SCORES) for p in parts]
    else:
        parts = []
        for i in range(len(clauses)):
            if parts and budget.passed():
                break  # out of time: the words read so far
            parts.append(clause_scored(i, None))
    docs = _union([found for found, _ in parts])
    if not len(docs):
        return _EMPTY_DOCS, _EMPTY_SCORES
    weights = query.weights
    # per docnum, summed clause by clause as the matcher sums them
    size = int(docs[-1]) + 1
    total = np.zeros(size, dtype=np.float64)
    held = np.zeros(size, dtype=np.float64)
    for (found, score), weight in zip(parts, weights):
        if not len(found):
            continue
        total[found] += score
        if weight > 0:
            held[found] += weight
    total, held = total[docs], held[docs]
    known = sum(w for w in weights if w > 0)
    if not known:
        return docs, total * query.boost
    coverage = held / known
    factor = np.where(coverage >= 0.999999, query.full_match, coverage ** query.power)
    return docs, total * factor * query.boost


def _clause_frequency(reader, leaves) -> float:
    """How many postings a word clause's terms hold (from their term infos; a clause
    that is not plain words counts as the largest)."""
    if leaves is None:
        return float("inf")
    total = 0
    for field, text in leaves:
        try:
            total += reader.doc_frequency(field, text)
        except Exception:  # a field this segment does not have
            pass
    return total


def _normalised_among(reader, arrays, field, text, b, average, candidates):
    """:func:`_normalised` of the documents ``candidates`` only (see :func:`postings_among`)."""
    key = (arrays.key, field, text, b, average)
    whole = _NORMS.peek(key)
    if whole is not None:
        docs, weights, norms = whole
        keep = _member(docs, candidates)
        return docs[keep], weights[keep], norms[keep]
    docs, weights, _ = postings_among(reader, arrays, field, text, candidates)
    lengths = arrays.lengths(reader, field)[docs]
    return docs, weights.astype(np.float64), 1.0 - b + b * lengths / average


def _normalised(reader, arrays: SegmentArrays, field: str, text, b: float, average: float):
    """A term's docnums, its frequencies as floats and their BM25 length norms
    ``1 - b + b * length / average`` (kept in a bounded cache, as the postings are)."""
    key = (arrays.key, field, text, b, average)
    found = _NORMS.get(key)
    if found is not None:
        return found
    docs, weights = term_postings(reader, arrays, field, text)
    lengths = arrays.lengths(reader, field)[docs]
    return _NORMS.put(key, (docs, weights.astype(np.float64), 1.0 - b + b * lengths / average))


# Frequencies and length norms of the terms of recent plain word queries (20 bytes a
# posting: the docnums are those of the postings cache).
_NORMS = BoundedCache(setting="norms_cache_bytes", size=lambda found: 20 * len(found[0]) + 200)


def _word(reader, leaves, idf, boosts, averages, term_weights, b, k1, arrays, allow,
          candidates=None):
    """One word's documents and BM25F scores (CoordinationMatcher._word_score); with
    ``candidates`` (sorted docnums, all allowed), of those documents only."""
    doc_parts, tf_parts = [], []
    for field, text in leaves:
        boost = boosts.get(field)
        if boost is None:
            if candidates is not None:
                docs, _, _ = postings_among(reader, arrays, field, text, candidates)
            else:
                docs, _ = term_postings(reader, arrays, field, text)
            if allow is not None and len(docs):
                docs = docs[allow[docs]]
            if not len(docs):
                continue
            tf = np.zeros(len(docs), dtype=np.float64)
        else:
            if candidates is not None:
                docs, weights, norms = _normalised_among(reader, arrays, field, text, b,
                                                         averages[field], candidates)
            else:
                docs, weights, norms = _normalised(reader, arrays, field, text, b,
                                                   averages[field])
            if allow is not None and len(docs):
                keep = allow[docs]
                docs, weights, norms = docs[keep], weights[keep], norms[keep]
            if not len(docs):
                continue
            key = text if isinstance(text, str) else text.decode("utf-8")
            if key in term_weights:
                boost *= term_weights[key]
            tf = boost * weights / norms
        doc_parts.append(docs)
        tf_parts.append(tf)
    if not doc_parts:
        return _EMPTY_DOCS, _EMPTY_SCORES
    if len(doc_parts) == 1:
        docs, tf = doc_parts[0], tf_parts[0]
    else:
        every = np.concatenate(doc_parts)
        # sums in the order of the leaves, as the matcher adds them
        dense = np.bincount(every, weights=np.concatenate(tf_parts))
        present = np.zeros(len(dense), dtype=bool)
        present[every] = True
        docs = np.flatnonzero(present)
        tf = dense[docs]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(tf != 0, idf * tf * (k1 + 1.0) / (k1 + tf), 0.0)
    return docs, score


__all__ = ["BLOCKS_DECODED", "SegmentArrays", "cached_terms", "clear_caches", "docs_of",
           "postings_among", "scored", "scored_among", "segment_folder", "term_positions", "term_postings",
           "upper_bound"]
