"""The Whoosh backend: one generational index folder on this machine (the default).

The backend follows the index on disk: after a reindex the next session uses
the new generation, and the old one is closed once no session uses it.
Queries are compiled and run by :mod:`.searching`.
"""

from __future__ import annotations

import gc
import queue
import threading
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq

from ... import facets as facet_rules
from ... import storage
from ...analysis import has_stemmer
from ...cache import BoundedCache
from ...ranking.related import related_terms
from ...results import stats_dict
from . import internals
from .positions import term_positions
from .searching import (Compiler, build_filter, day_counts, facet_counts, forget_segments,
                        highlight_terms, page_hits, ranked_docs, run, warm, weighting)
from .schema import CLUSTER_FIELD
from ...settings import Settings
from ...analysis.spelling import Vocabulary
from ..base import Hits


class _Snapshot:
    """One generation of the index, opened, with a pool of searchers for threads."""

    def __init__(self, generation: Path, settings: Settings):
        self.generation = generation
        self.settings = settings
        self.index = whoosh_index.open_dir(str(generation))
        self.meta = storage.read_meta(generation)
        self._pool: queue.SimpleQueue = queue.SimpleQueue()
        self._all = []
        self._lock = threading.Lock()
        self.users = 0
        self.retired = False
        with self.searcher() as searcher:
            langs = sorted(t.decode() if isinstance(t, bytes) else t
                           for t in searcher.reader().lexicon("lang"))
        self.langs = tuple(lang for lang in langs if has_stemmer(lang)) or ("de",)
        self._vocabulary: Vocabulary | None = None
        self.frequencies: dict = {}  # (field, term) -> document frequency
        self.documents = StoredFields(settings.stored_fields_cache_chars)
        self.filter_terms: dict = {}  # (field, value asked for) -> the term it matches

    @contextmanager
    def searcher(self):
        try:
            searcher = self._pool.get_nowait()
        except queue.Empty:
            searcher = self.index.searcher(weighting=weighting(self.settings))
            for leaf, _ in searcher.leaf_searchers():
                internals.map_term_table(leaf.reader())
            with self._lock:
                self._all.append(searcher)
        try:
            yield searcher
        finally:
            self._pool.put(searcher)

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            with self._lock:
                if self._vocabulary is None:
                    self._vocabulary = Vocabulary.load(self.generation)
        return self._vocabulary

    def close(self):
        with self._lock:
            for searcher in self._all:
                searcher.close()
            self._all.clear()
        self.index.close()
        forget_segments(self.generation)
        # Whoosh's closed readers still hold memory maps of the segment files (their
        # buffers sit in reference cycles), so the files of a retired generation stay
        # open, deleted ones included, until the cycle collector runs: run it now.
        gc.collect()


class StoredFields:
    """The stored fields of recently shown documents of one snapshot, by document number
    (a bounded LRU of at most ``limit_chars`` characters of title and text: reading one
    means a decompression and an unpickling; the hits a query re-ranks and shows are
    read again by the next queries for the same words). The dicts handed out are
    shared: callers read them, never change them."""

    def __init__(self, limit_chars: int):
        self._found = BoundedCache(limit_chars, size=_chars)

    def get(self, searcher, docnum: int) -> dict:
        found = self._found.get(docnum)
        if found is None:
            found = self._found.put(docnum, searcher.stored_fields(docnum))
        return found


def _chars(stored: dict) -> int:
    return len(stored.get("text") or "") + len(stored.get("title") or "") + 200


class _CountingReader:
    """A reader whose document frequencies are remembered for the snapshot: compiling
    a query looks up the frequencies of many candidate terms (other verb forms), and
    each lookup hashes its key; at most ``limit`` are kept)."""

    def __init__(self, reader, frequencies: dict, limit: int):
        self._reader = reader
        self._frequencies = frequencies
        self._limit = limit

    def doc_frequency(self, fieldname, text):
        key = (fieldname, text)
        found = self._frequencies.get(key)
        if found is None:
            found = self._reader.doc_frequency(fieldname, text)
            if len(self._frequencies) > self._limit:
                self._frequencies.clear()
            self._frequencies[key] = found
        return found

    def __getattr__(self, name):
        return getattr(self._reader, name)


class WhooshBackend:
    name = "whoosh"

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._current: _Snapshot | None = None
        self._token = None

    @contextmanager
    def session(self):
        snapshot = self._acquire()
        try:
            with snapshot.searcher() as searcher:
                yield WhooshSession(snapshot, searcher, self.settings)
        finally:
            self._release(snapshot)

    def version(self) -> str | None:
        """A value that changes with every switch to a new generation (one stat of
        ``CURRENT``), or ``None`` when there is no index."""
        token = storage.current_token(self.settings.index_dir)
        return None if token is None else "-".join(f"{part:x}" for part in token)

    def warm(self) -> None:
        """Read the per-segment data every search needs (columns, field lengths)."""
        with self.session() as session:
            warm(session.searcher, self.settings)

    def _acquire(self) -> _Snapshot:
        token = storage.current_token(self.settings.index_dir)
        unused = None
        with self._lock:
            if self._current is None or token != self._token:
                generation = storage.require_generation(self.settings.index_dir)
                if self._current is None or generation != self._current.generation:
                    fresh = _Snapshot(generation, self.settings)
                    old, self._current = self._current, fresh
                    if old is not None:
                        old.retired = True
                        if old.users == 0:
                            unused = old
                self._token = token
            self._current.users += 1
            current = self._current
        if unused is not None:  # closed outside the lock: other calls need not wait
            unused.close()
        return current

    def _release(self, snapshot: _Snapshot) -> None:
        with self._lock:
            snapshot.users -= 1
            unused = snapshot.retired and snapshot.users == 0
        if unused:
            snapshot.close()

    def close(self) -> None:
        unused = None
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                if self._current.users == 0:
                    unused = self._current
                self._current = None
                self._token = None
        if unused is not None:
            unused.close()


class WhooshSession:
    """One snapshot and one searcher of it, for one engine call."""

    shards = None

    def __init__(self, snapshot: _Snapshot, searcher, settings: Settings):
        self.snapshot = snapshot
        self.searcher = searcher
        self.reader = searcher.reader()
        self.settings = settings
        self.langs = snapshot.langs
        # The document numbers of the hits run() answered, by article id: the first
        # hits are re-ranked by the positions of the query's terms in them
        # (term_positions) within the same call.
        self._numbers: dict[str, int] = {}

    @property
    def vocabulary(self) -> Vocabulary:
        return self.snapshot.vocabulary

    def compiler(self) -> Compiler:
        return Compiler(_CountingReader(self.reader, self.snapshot.frequencies,
                                        self.settings.frequencies_cache_terms), self.langs,
                        self.settings)

    def compile(self, tree):
        return self.compiler().compile(tree)

    def any_of(self, tree):
        return self.compiler().any_of(tree)

    def damage(self) -> list[str]:
        """What is wrong with the files of this generation (see :func:`storage.damaged_files`)."""
        return storage.damaged_files(self.snapshot.generation)

    def highlight_terms(self, compiled) -> frozenset:
        return highlight_terms(compiled, self.reader) if compiled is not None else frozenset()

    def run(self, compiled, *, filters: dict, start: int, limit: int, sort: str,
            collapse: bool = False, exact: bool = True) -> Hits:
        known = self.snapshot.filter_terms
        filter_query = build_filter(self.reader, **filters, known=known)
        # each filtered facet's own filter, for counting it over the others in one pass
        apart = {name: build_filter(self.reader, **{key: filters.get(key)
                                                    for key in facet_rules.OWN_FILTERS[name]},
                                    known=known)
                 for name in facet_rules.filtered_facets(filters)}
        results = run(self.searcher, compiled, filter_query=filter_query, limit=limit, sort=sort,
                      settings=self.settings, collapse=collapse, apart=apart, exact=exact)
        documents, searcher, numbers = self.snapshot.documents, self.searcher, self._numbers

        def stored(docnum):
            found = documents.get(searcher, docnum)
            numbers[found["id"]] = docnum
            return found

        hits = Hits(total=len(results), facets=facet_counts(results),
                    items=list(page_hits(results, start, limit, sort, stored_fields=stored)),
                    facets_apart=getattr(results, "apart", frozenset()),
                    estimate=getattr(results, "estimate", False))
        members = getattr(results, "members", None)
        if members is not None:
            hits.stories = results.stories
            most = self.settings.duplicates_per_hit
            for (_, docnum), folded in zip(results.top[start:limit], members[start:limit]):
                if folded:
                    hits.folded[stored(docnum)["id"]] = (len(folded),
                                                         [stored(d) for d in folded[:most]])
        return hits

    def day_counts(self, compiled, *, filters: dict) -> dict[int, int]:
        filter_query = build_filter(self.reader, **filters, known=self.snapshot.filter_terms)
        return day_counts(self.searcher, compiled, filter_query, self.settings)

    def stream(self, compiled, *, filters: dict, sort: str, batch: int):
        # The stored fields are read past the snapshot's cache of shown hits: a long
        # export would only push out what the searches of others read again.
        filter_query = build_filter(self.reader, **filters, known=self.snapshot.filter_terms)
        docs, scores = ranked_docs(self.searcher, compiled, filter_query, sort, self.settings)
        stored_fields = self.searcher.stored_fields
        for at in range(0, len(docs), max(1, batch)):
            yield [(stored_fields(doc), score) for doc, score in
                   zip(docs[at:at + batch].tolist(), scores[at:at + batch].tolist())]

    def term_positions(self, article_ids: list[str], terms) -> list[dict]:
        numbers, searcher = self._numbers, self.searcher
        docnums = [numbers[i] if i in numbers else searcher.document_number(id=i)
                   for i in article_ids]
        return term_positions(self.searcher, docnums, terms, self.settings)

    def document(self, article_id: str) -> dict | None:
        return self.searcher.document(id=article_id)

    def cluster(self, article_id: str) -> tuple[str | None, list[dict]]:
        searcher = self.searcher
        docnum = searcher.document_number(id=article_id)
        if docnum is None or CLUSTER_FIELD not in searcher.schema:
            return None, []
        cluster = searcher.reader().column_reader(CLUSTER_FIELD)[docnum]
        if not cluster:
            return None, []
        return cluster, [searcher.stored_fields(other) for other in
                         sorted(searcher.document_numbers(**{CLUSTER_FIELD: cluster}))
                         if other != docnum]

    def more_like(self, article_id: str, n: int = 5) -> list:
        searcher = self.searcher
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            return []
        stored = searcher.stored_fields(docnum)
        reader = self.reader
        chosen = related_terms(stored, lambda term: reader.doc_frequency("text", term),
                               reader.doc_count(), self.settings)
        if not chosen:
            return []
        top = wq.Or([wq.Term("text", term, boost=weight) for weight, term in chosen])
        results = searcher.search(top, limit=n + 1, mask=wq.Term("id", stored["id"]))
        return [(hit.fields(), hit.score) for hit in results[:n]]

    def stats(self) -> dict:
        snapshot = self.snapshot
        results = run(self.searcher, wq.Every(), filter_query=None, limit=1, sort="relevance",
                      settings=self.settings)
        return stats_dict(self.reader.doc_count(), facet_counts(results),
                          size_bytes=storage.size_on_disk(snapshot.generation),
                          indexed_at=snapshot.meta.get("indexed_at"),
                          generation=snapshot.generation.name,
                          duplicates=snapshot.meta.get("duplicates"))
