"""Running a parsed query on a Whoosh index: compiling, ranking, facets.

This is the only module that turns the query tree of :mod:`search.query`
into Whoosh queries. :func:`run` answers a compiled query on the fast path
(``Settings.fast_search``: every match scored on posting arrays by
:mod:`.postings`, facets counted on each segment's columns, read once per
segment and kept process-wide) or with Whoosh's sorting and grouping
collectors; both give the same hits, scores and facets. Asked only for the first
hits (``exact=False``), the fast path counts no facets and scores an OR or the any mode
only for the documents that can reach them (:mod:`.topk`).
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from itertools import islice

import numpy as np

from whoosh import query as wq
from whoosh import scoring, sorting

from ... import budget
from ... import query as q
from ... import facets
from ...cache import configured, on_clear
from ...fields import FACET_FIELDS, PARTS_FIELD
from ...query.planning import Planner, date_keys, filter_span, keeps_words, phrase_variants, tokens
from ...settings import Settings
from . import postings
from .collapsing import cluster_codes, cluster_keys, collapse as collapse_arrays, collapsed_search
from .coordination import Coordinated
from .internals import TermsOfRange
from .postings import SegmentArrays, docs_of, scored, scored_among
from .schema import CLUSTER_FIELD
from .topk import TopK


def date_bounds(start: str, end: str) -> tuple[int, int]:
    """Inclusive ``date_sort`` bounds for ``start``..``end`` (YYYY, YYYY-MM or YYYY-MM-DD)."""
    low, high = date_keys(start, end)
    return int(low), int(high)


def weighting(settings: Settings):
    return scoring.BM25F(B=settings.bm25_b, K1=settings.bm25_k1)


def _trie_ranges(start: int, end: int, bits: int, step: int):
    """``(start, end, shift)`` ranges of the trie terms that cover ``start``..``end``.

    Whoosh's ``split_ranges`` does not stop when the end drops below zero at a
    coarse level, so a range far wider than its start (``2020..9999``) came out
    as every document; this stops there, as Lucene's original does.
    """
    shift = 0
    while True:
        diff = 1 << (shift + step)
        mask = ((1 << step) - 1) << shift
        low_bits = (1 << shift) - 1
        has_lower = (start & mask) != 0
        has_upper = (end & mask) != mask
        next_start = (start + diff if has_lower else start) & ~mask
        next_end = (end - diff if has_upper else end) & ~mask
        if (shift + step >= bits or next_start > next_end or next_start < start
                or next_end > end):
            yield start, end | low_bits, shift
            return
        if has_lower:
            yield start, start | mask | low_bits, shift
        if has_upper:
            yield end & ~mask, end | low_bits, shift
        start, end, shift = next_start, next_end, shift + step


class DateSortRange(TermsOfRange):
    """Documents whose ``date_sort`` lies in ``start``..``end`` (both inclusive)."""

    def __init__(self, start: int, end: int):
        super().__init__("date_sort", start, end, constantscore=True)

    def bounds(self, ixreader) -> tuple[int, int]:
        """The inclusive range of ``date_sort`` values matched (empty when start > end)."""
        field = ixreader.schema[self.fieldname]
        # 0 is the key of articles without a date: no range holds them.
        return max(1, self.start), min(self.end, (1 << field.bits) - 1)

    def terms_query(self, ixreader):
        """The query of the trie terms of the range (Whoosh's ``split_ranges`` mended,
        see :func:`_trie_ranges`)."""
        field = ixreader.schema[self.fieldname]
        start, end = self.bounds(ixreader)
        if start > end:
            return wq.NullQuery
        to_bytes = field.sortable_to_bytes
        clauses = []
        for low, high, shift in _trie_ranges(start, end, field.bits, field.shift_step):
            if low == high:
                clauses.append(wq.Term(self.fieldname, to_bytes(low, shift)))
            else:
                clauses.append(wq.TermRange(self.fieldname, to_bytes(low, shift),
                                            to_bytes(high, shift)))
        query = clauses[0] if len(clauses) == 1 else wq.Or(clauses)
        return wq.ConstantScoreQuery(query, self.boost)


class Compiler(Planner):
    """Turns a query tree into a Whoosh query for one index snapshot.

    A plain word is searched in the title (boosted), in the text and, with a
    lower weight, among the parts of compounds (``Politik`` finds
    ``Flüchtlingspolitik``); a word restricted to ``title:`` or ``text:`` and
    phrases match the words themselves only. :meth:`any_of` is the ranked-OR
    reading of a plain word query (the "any" mode). Which terms a word stands
    for is decided by :class:`search.query.planning.Planner`, as on Xapian.
    """

    def __init__(self, reader, langs, settings: Settings):
        super().__init__(langs, settings)
        self.reader = reader
        self.documents = reader.doc_count_all()
        self.boosts = {"title": settings.title_boost, "text": 1.0,
                       PARTS_FIELD: settings.parts_boost}
        self.has_parts = PARTS_FIELD in reader.schema.names() and settings.parts_boost > 0
        self.field_boosts = {"title": settings.title_boost, "text": 1.0}
        if self.has_parts:
            self.field_boosts[PARTS_FIELD] = settings.parts_boost

    # -- the index statistics the planner asks for -----------------------------------

    def doc_frequency(self, field: str, term: str) -> int:
        return self.reader.doc_frequency(field, term)

    def expand(self, field: str, prefix: str, limit: int) -> list[str]:
        return [t.decode("utf-8") if isinstance(t, bytes) else t
                for t in islice(self.reader.expand_prefix(field, prefix), limit)]

    # -- nodes ---------------------------------------------------------------------

    def compile(self, node):
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _any_field(self, field, terms):
        boosts = self.boosts
        clauses = [wq.Term(f, t, boost=boosts[f]) for f in self.fields(field) for t in terms]
        if field is None and self.has_parts:
            clauses.extend(wq.Term(PARTS_FIELD, t, boost=boosts[PARTS_FIELD]) for t in terms)
        return clauses[0] if len(clauses) == 1 else wq.Or(clauses)

    def _prefix(self, node: q.Word):
        expanded = self.prefix_terms(node)
        if expanded is None:
            return self._word(q.Word(node.text, node.field))
        if not expanded:
            return wq.Term("text", "\u0000none")
        expansion = wq.Or([wq.Term(field, term, boost=self.boosts[field])
                           for field, term in expanded])
        # Whoosh would march thousands of term matchers along as a tree of unions, for
        # every document an AND around it asks about (ten prefixes took half a minute on
        # 28,000 articles); its array matcher reads each term once: the same hits and
        # scores, ten times faster.
        expansion.matcher_type = wq.Or.ARRAY_MATCHER
        return expansion

    def _phrase(self, node: q.Phrase):
        variants = phrase_variants(node.text, self.langs)
        if not variants:
            return None
        clauses = []
        for field in self.fields(node.field):
            for terms in variants:
                if len(terms) == 1:
                    clauses.append(wq.Term(field, terms[0], boost=self.boosts[field]))
                else:
                    clauses.append(wq.Phrase(field, list(terms), slop=1, boost=self.boosts[field]))
        return clauses[0] if len(clauses) == 1 else wq.Or(clauses)

    def _filter(self, node: q.Filter):
        return filter_term(self.reader, node.field, node.value)

    def _daterange(self, node: q.DateRange):
        low, high = date_bounds(node.start, node.end)
        return DateSortRange(low, high)

    def _not(self, node: q.Not):
        inner = self.compile(node.node)
        return wq.Not(inner) if inner is not None else None

    def _and(self, node: q.And):
        # "a a" is "a": a repeated clause only multiplies the work (a query of one
        # prefix repeated a hundred times took minutes).
        node = q.And(tuple(dict.fromkeys(node.nodes)))
        if q.is_plain_conjunction(node):
            words = [self.word_terms(n) for n in node.nodes]
            if all(t is not None for t in words):
                return self._plain([self.first_token(n) for n, t in zip(node.nodes, words) if t],
                                   require_all=True)
        # Plain words beside filters, phrases or fields are one BM25F clause, as they
        # would be alone (and their stopwords are read as in plain_words).
        plain = [n for n in node.nodes if isinstance(n, q.Word) and q.is_plain_conjunction(n)
                 and self.word_terms(n) is not None]
        nodes = [n for n in node.nodes if n not in plain]
        parts = [self.compile(n) for n in nodes]
        if plain:
            nodes.append(q.And(tuple(plain)))
            parts.append(self._plain([self.first_token(n) for n in plain if tokens(n.text)],
                                     require_all=True))
        if not keeps_words(nodes, parts):
            return None
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        if all(isinstance(p, wq.Not) for p in parts):
            parts.insert(0, wq.Every())
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _or(self, node: q.Or):
        parts = [p for p in (self.compile(n) for n in dict.fromkeys(node.nodes)) if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    # -- plain word queries and the any mode -------------------------------------

    def _plain(self, words, *, require_all: bool):
        """Plain words, BM25F-scored (:mod:`.coordination`).

        Each word matches its own terms and, at a lower weight, the terms of
        its other verb forms that the index holds (:meth:`Planner.other_forms`).
        With ``require_all`` every word must match (the default reading);
        without, it is the any mode.
        """
        clauses, weights, unknown = [], [], []
        term_weights: dict[str, float] = {}
        settings = self.settings
        found, only = self.plain_words(words, require_all=require_all)
        if only is not None and found:
            # Only the articles of the languages whose reading keeps a word: a clause of
            # unscored language terms.
            clauses.append(wq.Or([wq.Term("lang", lang) for lang in only]) if len(only) > 1
                           else wq.Term("lang", only[0]))
            weights.append(1e-9)
        for token, terms, free in found:
            others = self.other_forms(token, terms)
            weight = self.word_idf(terms + others)
            if weight == 0.0 and not require_all:
                unknown.extend(terms)
                continue
            for other in others:
                term_weights.setdefault(other, settings.inflection_weight)
            clause = self._any_field(None, terms + others)
            if free:
                # The articles of the languages that drop the word match it unscored (a
                # field without a boost); a weight above 0 keeps the clause on the
                # array path even where no article holds the word itself.
                clause = wq.Or([clause, *(wq.Term("lang", lang) for lang in free)])
                weight = max(weight, 1e-9)
            clauses.append(clause)
            weights.append(weight)
        if not require_all:
            relaxed = [wq.Term("text", t, boost=settings.relaxed_boost)
                       for t in self.relaxed_terms(unknown)]
            if relaxed:
                clauses.append(relaxed[0] if len(relaxed) == 1 else wq.Or(relaxed))
                weights.append(0.0)
        if not clauses:
            return None
        boosts = self.field_boosts if require_all else dict(self.field_boosts,
                                                             title=settings.any_mode_title_boost)
        return Coordinated(clauses, weights, power=settings.any_mode_power, require_all=require_all,
                           boosts=boosts, k1=settings.bm25_k1, b=settings.bm25_b,
                           term_weights=term_weights, full_match=settings.any_mode_full_match)

    def any_of(self, node):
        """The ranked-OR reading of a plain word query (the "any" mode).

        Every document holding one of the words matches. Those holding all of
        them rank first; the score of one that holds only some is scaled down
        by the share of the query's IDF it holds
        (:class:`.coordination.Coordinated`), so documents holding more
        of the words, and the rarer ones, come next. A word that is nowhere in
        the index is matched by the longest start of it that is (``Sepsis`` by
        ``septisch``), at a nominal weight and without counting as held, so
        that a long question is never left without an answer for want of one
        word.
        """
        words = [node] if isinstance(node, q.Word) else list(node.nodes)
        if not all(isinstance(w, q.Word) for w in words):
            return self.compile(node)
        # A hyphenated word ("Panthers-Starter") counts as its words here.
        return self._plain([token for w in words for token in tokens(w.text)],
                           require_all=False)


def filter_term(reader, field: str, value: str, known: dict | None = None):
    """A term for a facet value, matched without regard to case (``known``: the terms
    found before for the same reader, by field and value)."""
    if field == "lang":
        return wq.Term("lang", value.strip().lower())
    if known is not None:
        text = known.get((field, value))
        if text is None:
            text = filter_term(reader, field, value).text
            if len(known) > 10_000:
                known.clear()
            known[(field, value)] = text
        return wq.Term(field, text)
    wanted = value.strip()
    for term in reader.lexicon(field):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if text == wanted:
            return wq.Term(field, text)
    lowered = wanted.lower()
    for term in reader.lexicon(field):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if text.lower() == lowered:
            return wq.Term(field, text)
    return wq.Term(field, wanted)


def build_filter(reader, *, lang=None, source=None, category=None, date_from=None, date_to=None,
                 known: dict | None = None):
    """The restriction of the search parameters; each of ``lang``, ``source`` and
    ``category`` is one value or several, OR-ed."""
    parts = []
    for field, chosen in (("lang", lang), ("source", source), ("category", category)):
        terms = [filter_term(reader, field, value, known) for value in facets.values(chosen)]
        if terms:
            parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
    if date_from or date_to:
        low, high = filter_span(date_from, date_to)
        parts.append(DateSortRange(int(low), int(high)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


# How many searches each path of run() answered ("fast", "whoosh"): the tests that
# compare the two check that both ran.
RUNS: Counter = Counter()


def run(searcher, whoosh_query, *, filter_query, limit: int, sort: str, settings: Settings,
        collapse: bool = False, apart: dict | None = None, exact: bool = True):
    """Search with facets over all matches; returns Whoosh results, or the same figures
    from the fast path (``settings.fast_search``; False runs Whoosh's sorting and
    grouping collectors, which give the same results: tests/integration/
    test_perf_equivalence.py compares them). With ``collapse``, the first ``limit`` hits
    are the heads of as many near-duplicate clusters (:mod:`.collapsing`), and totals and
    facets still count every match.

    ``apart``: ``{facet: its own filter}`` for each facet filtered (``filter_query``
    is then their AND); the fast path counts each of those facets over the matches of
    the other filters in the same pass (:mod:`search.facets`), and its results name
    them in ``apart``.

    ``exact=False``: only the first ``limit`` hits are needed (the API's
    ``exact_totals=0``): no facets are counted, and on the fast path an OR or the any
    mode by relevance scores only the documents that can reach those places
    (:mod:`.topk`); its total is then a lower bound (``estimate``)."""
    collapse = bool(collapse) and CLUSTER_FIELD in searcher.schema
    if settings.fast_search:
        RUNS["fast"] += 1
        return _fast_run(searcher, whoosh_query, filter_query, limit, sort, settings, collapse,
                         apart, exact)
    RUNS["whoosh"] += 1
    if sort == "date":
        sortedby = [sorting.FieldFacet("date_sort", reverse=True), sorting.ScoreFacet()]
    else:
        sortedby = [sorting.ScoreFacet(), sorting.FieldFacet("date_sort", reverse=True)]
    groupedby = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACET_FIELDS}
    results = searcher.search(whoosh_query, filter=filter_query, limit=limit,
                              sortedby=sortedby, groupedby=groupedby)
    if not collapse:
        return results
    hits, stories, members = collapsed_search(searcher, whoosh_query, filter_query=filter_query,
                                              limit=limit, sortedby=sortedby)
    top = [(_relevance(hit.score, sort), hit.docnum) for hit in hits]
    counts = {name: results.groups(name) for name in FACET_FIELDS}
    return FastResults(searcher, len(results), top, counts, stories=stories, members=members)


def _relevance(key, sort: str):
    """The score of a hit of a sorted search, whose sort key holds the negated score."""
    if isinstance(key, tuple):
        return -(key[1] if sort == "date" else key[0])
    return key


class FastResults:
    """What :func:`run` answers on the fast path: every match scored once with the
    query's own Whoosh matchers, facets counted from cached columns with numpy,
    and the first ``limit`` hits in the order Whoosh's sorting collector gives
    (score, then date, newest first, then document number; or date first)."""

    def __init__(self, searcher, total: int, top: list, facets: dict, *,
                 stories: int | None = None, members: list | None = None,
                 apart=frozenset(), exact: bool = True, estimate: bool = False):
        self.searcher = searcher
        self.total = total
        self.top = top  # [(score, global docnum)] in result order
        self.facets = facets
        # Collapsed: the clusters among all matches, and each hit's folded members
        # (global docnums, in result order).
        self.stories = stories
        self.members = members
        self.apart = apart  # facets counted over the matches of the other filters
        self.exact = exact  # False: facets not counted (only the first hits were asked)
        self.estimate = estimate  # the total (and stories) a lower bound (.topk)

    def __len__(self):
        return self.total

    def groups(self, name: str) -> dict:
        return self.facets[name]


class SegmentColumns:
    """The date and facet columns of one segment, read once: dates as an array,
    each facet as numpy codes into its list of names (as Whoosh's facets name them),
    and what scoring reads per document (:class:`.postings.SegmentArrays`)."""

    def __init__(self, reader, schema, key, settings: Settings):
        count = reader.doc_count_all()
        dates = reader.column_reader("date_sort", translate=False)
        self.dates = np.fromiter((dates.sort_key(d) for d in range(count)), dtype=np.int64,
                                 count=count)
        self.facets = {}
        for name in FACET_FIELDS:
            fieldobj = schema[name]
            if not reader.has_column(name):
                self.facets[name] = None
                continue
            column = reader.column_reader(name, translate=False)
            index: dict = {}
            codes = np.fromiter((index.setdefault(fieldobj.from_column_value(column.sort_key(d)),
                                                  len(index)) for d in range(count)),
                                dtype=np.int64, count=count)
            self.facets[name] = (codes, list(index))
        self.arrays = SegmentArrays(reader, key, settings)
        self.arrays.dates = self.dates
        self.clusters = cluster_keys(reader)
        self.cluster_codes = cluster_codes(self.clusters)


# The columns of recently searched segments, by segment and by whether its compact
# arrays are read (process-wide; at most columns_cache_segments, the oldest go first).
_COLUMNS: dict = {}
_COLUMNS_LOCK = threading.Lock()


@on_clear
def _forget_columns() -> None:
    with _COLUMNS_LOCK:
        _COLUMNS.clear()


def forget_segments(folder) -> None:
    """Drop what was read of the segments in the index folder ``folder`` (a generation
    no longer searched): their compact posting arrays' mapped files are then closed."""
    with _COLUMNS_LOCK:
        for key in [key for key in _COLUMNS if key[0] == str(folder)]:
            del _COLUMNS[key]


def segments_read(folder) -> list[SegmentColumns]:
    """The columns kept of the segments in the index folder ``folder``."""
    with _COLUMNS_LOCK:
        return [found for key, found in _COLUMNS.items() if key[0] == str(folder)]


def segment_columns(subsearcher, settings: Settings) -> SegmentColumns:
    """The columns of the segment of a leaf searcher, read once (the same segment read
    with and without its compact arrays is kept apart)."""
    reader = subsearcher.reader()
    segment = reader.segment() if hasattr(reader, "segment") else None
    folder = postings.segment_folder(reader)
    key = (folder if folder is not None else id(reader.storage()),
           segment.segment_id() if segment else id(reader), reader.doc_count_all(),
           reader.doc_count(), settings.compact_postings)
    found = _COLUMNS.get(key)
    if found is None:
        found = SegmentColumns(reader, subsearcher.schema, key, settings)
        with _COLUMNS_LOCK:
            while _COLUMNS and len(_COLUMNS) >= configured("columns_cache_segments"):
                _COLUMNS.pop(next(iter(_COLUMNS)))
            _COLUMNS[key] = found
    return found


def warm(searcher, settings: Settings) -> None:
    """Read what every search reads of each segment: the date and facet columns and the
    lengths of the text fields; and, in a segment without compact posting arrays (which
    are read without decoding, see :mod:`.compact`), the posting lists of the most
    frequent terms, which most queries read and which are the longest to decode (a
    server does this once, before it starts answering)."""
    total = max(1, searcher.doc_count_all())
    for subsearcher, _ in searcher.leaf_searchers():
        columns = segment_columns(subsearcher, settings)
        reader = subsearcher.reader()
        fields = [field for field in (*q.TEXT_FIELDS, PARTS_FIELD)
                  if field in subsearcher.schema and subsearcher.schema[field].scorable]
        for field in fields:
            columns.arrays.lengths(reader, field)
        compact = columns.arrays.compact
        if compact is not None:
            compact.read_ahead()
            fields = [field for field in fields if not compact.has_field(field)]
        if not fields:
            continue
        # a share of what the cache of decoded posting lists holds (the least frequent
        # of them are the first to make room for others), split between the segments
        ahead = int(settings.postings_cache_bytes * settings.read_ahead_share) \
            // postings.POSTING_CACHED_BYTES
        share = ahead * reader.doc_count_all() // total
        for field, text in reversed(_most_frequent_terms(reader, fields, share)):
            postings.term_postings(reader, columns.arrays, field, text)


def _most_frequent_terms(reader, fields, budget: int) -> list[tuple[str, bytes]]:
    """``(field, term)`` of the most frequent terms of ``fields``, most frequent first,
    as many as hold at most ``budget`` postings together."""
    frequent = heapq.nlargest(16384, ((info.doc_frequency(), field, text)
                                      for field in fields
                                      for text, info in reader.iter_field(field)))
    chosen = []
    for frequency, field, text in frequent:
        budget -= frequency
        if budget < 0:
            break
        chosen.append((field, text))
    return chosen


def _segment_matches(searcher, whoosh_query, filter_query, settings: Settings,
                     apart: dict | None = None, counts: dict | None = None,
                     top: TopK | None = None, collapse: bool = False):
    """``(columns, offset, docs, scores)`` of each segment holding matches of
    ``whoosh_query`` (every live document when ``None``) that ``filter_query`` allows:
    every match scored once with the query's own Whoosh matchers. With ``apart``
    (``{facet: its own filter}``, see :func:`run`), each of those facets is counted
    into ``counts`` over the matches of the other filters on the way. Once the search
    is out of time (:mod:`search.budget`) the segments left are not searched. With
    ``top``, only what can reach the first ``top.k`` hits (clusters, with
    ``collapse``) is scored (:mod:`.topk`): ``top.seen`` counts the documents seen."""
    context = searcher.context().set(needs_current=True)
    searched = False
    for subsearcher, offset in searcher.leaf_searchers():
        if searched and budget.passed():
            break  # out of time: the segments searched so far
        columns = segment_columns(subsearcher, settings)
        arrays = columns.arrays.read_with(settings)
        allow, others = None, {}
        if apart:
            # One mask per facet filter; the query is scored once over the documents
            # that pass all filters but one at most, and each filtered facet counted
            # over those that pass every other filter.
            masks = {}
            for name, own in apart.items():
                mask = np.zeros(arrays.count, dtype=bool)
                mask[docs_of(own, subsearcher, arrays)] = True
                masks[name] = mask
            allow = np.logical_and.reduce(list(masks.values()))
            wider = np.zeros(arrays.count, dtype=bool)
            for name in masks:
                rest = [m for other, m in masks.items() if other != name]
                others[name] = np.logical_and.reduce(rest) if rest else None
                wider |= others[name] if rest else True
            scoring = wider
            if not wider.any():
                continue
        elif filter_query is not None:
            allowed = docs_of(filter_query, subsearcher, arrays)
            if not len(allowed):
                continue
            allow = np.zeros(arrays.count, dtype=bool)
            allow[allowed] = True
            scoring = allow
        else:
            scoring = None
        seen = top.seen if top is not None else 0
        if top is not None:
            top.keys = columns.clusters if collapse else None
        if whoosh_query is None:
            docs = arrays.live()
            scores = np.zeros(len(docs), dtype=np.float64)
        else:
            docs, scores = scored(whoosh_query, subsearcher, context, arrays, scoring, top)
        searched = True
        if scoring is not None and len(docs):
            keep = scoring[docs]
            docs, scores = docs[keep], scores[keep]
        if top is not None:
            if top.seen == seen:  # every match of this segment was scored
                top.seen += len(docs)
            top.settle(docs, scores)
        for name, mask in others.items():
            seen = docs if mask is None else docs[mask[docs]]
            _tally(columns.facets[name], seen, counts[name])
        if allow is not None and len(docs):
            keep = allow[docs]
            docs, scores = docs[keep], scores[keep]
        if len(docs):
            yield columns, offset, docs, scores


def _result_order(docs, scores, dates, by_date: bool, limit: int = 0) -> np.ndarray:
    """Indexes of the first ``limit`` (0: all) matches in result order: score, then date
    (newest first), then document number; or date first."""
    first, second = (-dates, -scores) if by_date else (-scores, -dates)
    keep = None
    if limit and len(docs) > limit:
        # Only what can reach the first ``limit`` places (ties on the first key included).
        bar = np.partition(first, limit - 1)[limit - 1]
        keep = np.flatnonzero(first <= bar)
        docs, first, second = docs[keep], first[keep], second[keep]
    order = np.lexsort((docs, second, first))
    if limit:
        order = order[:limit]
    return order if keep is None else keep[order]


def _fast_run(searcher, whoosh_query, filter_query, limit: int, sort: str,
              settings: Settings, collapse: bool = False,
              apart: dict | None = None, exact: bool = True) -> FastResults:
    total = 0
    counts = {name: {} for name in FACET_FIELDS}
    top = None
    if not exact:
        # Only the first hits: no facets, and by relevance only what can reach them.
        apart = None
        if sort != "date" and whoosh_query is not None:
            top = TopK(limit, settings.top_k_max_parts)
    apart = {name: own for name, own in (apart or {}).items()
             if name in counts and own is not None}
    found_docs, found_scores, found_dates, found_keys, found_codes = [], [], [], [], []
    for columns, offset, docs, scores in _segment_matches(searcher, whoosh_query, filter_query,
                                                          settings, apart, counts, top,
                                                          collapse):
        # A segment written before clusters were kept has none: such a search is not folded.
        collapse = collapse and columns.clusters is not None
        total += len(docs)
        found_docs.append(docs + offset)
        found_scores.append(scores)
        found_dates.append(columns.dates[docs])
        if collapse:
            found_keys.append(columns.clusters[docs])
            codes, size = columns.cluster_codes
            found_codes.append((codes[docs], size))
        if exact:
            for name in FACET_FIELDS:
                if name not in apart:
                    _tally(columns.facets[name], docs, counts[name])
    counted = frozenset(apart)
    estimate = top is not None and top.pruned
    if estimate:
        total = top.seen  # the documents seen: a lower bound
    if not found_docs:
        return FastResults(searcher, 0, [], counts, stories=0 if collapse else None,
                           members=[] if collapse else None, apart=counted, exact=exact)
    docs = np.concatenate(found_docs)
    scores = np.concatenate(found_scores)
    dates = np.concatenate(found_dates)
    if collapse and len(found_keys) == len(found_docs):
        keys = np.concatenate(found_keys)
        first, second = (-dates, -scores) if sort == "date" else (-scores, -dates)
        # one segment's matches: its dense cluster numbers (clusters span segments)
        codes = found_codes[0] if len(found_codes) == 1 else None
        heads, stories, members = collapse_arrays(first, second, docs, keys, limit, codes)
        if estimate and len(heads):
            # The heads' clusters may hold matches left out as unable to reach the first
            # hits: they are scored now, so that each head lists all its members.
            more = _cluster_members(searcher, whoosh_query, filter_query, settings,
                                    keys[heads], docs)
            if more is not None:
                docs = np.concatenate([docs, more[0]])
                scores = np.concatenate([scores, more[1]])
                dates = np.concatenate([dates, more[2]])
                keys = np.concatenate([keys, more[3]])
                total += len(more[0])
                first, second = -scores, -dates
                heads, stories, members = collapse_arrays(first, second, docs, keys, limit)
        hits = list(zip(scores[heads].tolist(), docs[heads].tolist()))
        return FastResults(searcher, total, hits, counts, stories=stories,
                           members=[docs[m].tolist() for m in members], apart=counted,
                           exact=exact, estimate=estimate)
    order = _result_order(docs, scores, dates, sort == "date", limit)
    hits = list(zip(scores[order].tolist(), docs[order].tolist()))
    return FastResults(searcher, total, hits, counts, apart=counted, exact=exact,
                       estimate=estimate)


def _cluster_members(searcher, whoosh_query, filter_query, settings: Settings, heads_keys,
                     scored_docs):
    """``(global docnums, scores, dates, keys)`` of the matches in the clusters
    ``heads_keys`` among the documents not in ``scored_docs`` (global docnums); None
    when there are none."""
    context = searcher.context().set(needs_current=True)
    wanted = np.unique(heads_keys)
    done = np.zeros(searcher.doc_count_all(), dtype=bool)
    done[scored_docs] = True
    found = [], [], [], []
    for subsearcher, offset in searcher.leaf_searchers():
        columns = segment_columns(subsearcher, settings)
        if columns.clusters is None:
            continue
        arrays = columns.arrays.read_with(settings)
        inside = np.flatnonzero(np.isin(columns.clusters, wanted))
        inside = inside[~done[inside + offset]]
        if arrays.deleted is not None and len(inside):
            inside = inside[~np.isin(inside, arrays.deleted)]
        if filter_query is not None and len(inside):
            inside = inside[np.isin(inside, docs_of(filter_query, subsearcher, arrays))]
        docs, scores = scored_among(whoosh_query, subsearcher, context, arrays, inside)
        if len(docs):
            found[0].append(docs + offset)
            found[1].append(scores)
            found[2].append(columns.dates[docs])
            found[3].append(columns.clusters[docs])
    if not found[0]:
        return None
    return tuple(np.concatenate(part) for part in found)


def _tally(facet, docs, into: dict) -> None:
    """Add the values of the facet column ``facet`` (codes, names) of ``docs`` to ``into``."""
    if facet is None or not len(docs):
        return
    codes, names = facet
    tally = np.bincount(codes[docs], minlength=len(names))
    for code in np.flatnonzero(tally).tolist():
        into[names[code]] = into.get(names[code], 0) + int(tally[code])


def day_counts(searcher, whoosh_query, filter_query, settings: Settings) -> dict[int, int]:
    """``{YYYYMMDD: matches}`` of ``whoosh_query`` (every document when ``None``), read
    from the cached date columns (see :meth:`search.backends.base.Session.day_counts`)."""
    days = [columns.dates[docs] // 1_000_000 for columns, _, docs, _
            in _segment_matches(searcher, whoosh_query, filter_query, settings)]
    if not days:
        return {}
    values, counts = np.unique(np.concatenate(days), return_counts=True)
    return {day: count for day, count in zip(values.tolist(), counts.tolist()) if day}


def ranked_docs(searcher, whoosh_query, filter_query, sort: str,
                settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Global document numbers and scores of every match, in result order (as :func:`run`
    orders them): two arrays, no stored fields read."""
    found_docs, found_scores, found_dates = [], [], []
    for columns, offset, docs, scores in _segment_matches(searcher, whoosh_query, filter_query,
                                                          settings):
        found_docs.append(docs + offset)
        found_scores.append(scores)
        found_dates.append(columns.dates[docs])
    if not found_docs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    docs = np.concatenate(found_docs)
    scores = np.concatenate(found_scores)
    order = _result_order(docs, scores, np.concatenate(found_dates), sort == "date")
    return docs[order], scores[order]


def page_hits(results, start: int, end: int, sort: str, stored_fields=None):
    """``(stored fields, score)`` of the hits from ``start`` to ``end``; on the fast
    path the fields are read by ``stored_fields(docnum)`` when given (a cache).

    Sorted results carry their sort key as the score: the relevance is the
    negated score facet in it.
    """
    if isinstance(results, FastResults):
        stored_fields = stored_fields or results.searcher.stored_fields
        for score, docnum in results.top[start:end]:
            yield stored_fields(docnum), score
        return
    for hit in results[start:end]:
        key = hit.score
        if isinstance(key, tuple):
            key = -(key[1] if sort == "date" else key[0])
        yield hit.fields(), key


def facet_counts(results) -> dict:
    """The facets of a search, ordered as every backend orders them (:mod:`search.facets`)."""
    return facets.ordered({name: results.groups(name) for name in FACET_FIELDS})


def highlight_terms(whoosh_query, reader) -> frozenset[str]:
    """The index terms of title and text that the query asks for (positive ones)."""
    terms = set()
    for field, text in _positive_terms(whoosh_query):
        if field in q.TEXT_FIELDS:
            terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
    return frozenset(terms)


def _positive_terms(node):
    if isinstance(node, wq.Not):
        return
    if isinstance(node, wq.Term):
        yield node.fieldname, node.text
    elif isinstance(node, wq.Phrase):
        for word in node.words:
            yield node.fieldname, word
    elif isinstance(node, wq.compound.CompoundQuery):
        for child in node.subqueries:
            yield from _positive_terms(child)
