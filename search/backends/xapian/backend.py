"""The Xapian backend: N shards searched as one database, answering from those that are up.

Shards are opened one by one — local folders (a cluster folder made by
``newssearch index --backend xapian``) or ``xapian-tcpsrv`` servers
(``--remote host:port,host:port``; ``host:port|host:port`` lists a shard's
primary and its replicas, tried in order) — and combined into one
``xapian.Database`` per call, so BM25 uses statistics over every shard that
answered and rankings equal those of a single database.

A shard that cannot be reached is left out and the answer says so
(``shards.answered < shards.total``); it is tried again on a later call once
``shard_retry_seconds`` have passed, so full answers resume by themselves
when it is back. A shard that fails during a call is found by a keep-alive
probe and the call is run again without it.

Snippets are cut by :mod:`search.highlight` from the stored text (never
``MSet.snippet``), suggestions come from the shards' vocabularies merged on
the query node (Xapian's spelling tables do not work over the network).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import xapian

from ... import budget, facets, storage
from ...analysis import has_stemmer
from ...analysis.spelling import Vocabulary
from ...ranking.related import related_terms
from ...results import stats_dict
from ...storage import IndexMissing
from ..base import Hits
from . import document as xd
from .layout import Endpoint, parse_remote, read_cluster, shard_name, shard_paths
from .query import Compiler, filter_query, weighting

# ---------------------------------------------------------------------------
# Shard health, shared by all connections of one backend


class _Health:
    def __init__(self, shards: int):
        self._lock = threading.Lock()
        self.retry_at = [0.0] * shards
        self.errors: list[str | None] = [None] * shards

    def may_try(self, shard: int) -> bool:
        return time.monotonic() >= self.retry_at[shard]

    def failed(self, shard: int, error, retry_seconds: float) -> None:
        with self._lock:
            self.retry_at[shard] = time.monotonic() + retry_seconds
            self.errors[shard] = str(error) or type(error).__name__

    def answered(self, shard: int) -> None:
        if self.errors[shard] is not None:
            with self._lock:
                self.retry_at[shard] = 0.0
                self.errors[shard] = None


def open_endpoint(endpoint: Endpoint, settings) -> xapian.Database:
    """The database of one shard server or local shard folder."""
    if endpoint.path is not None:
        return xapian.Database(endpoint.path)
    return xapian.remote_open(endpoint.host, endpoint.port, int(settings.shard_timeout_ms),
                              int(settings.shard_connect_timeout_ms))


class _Connections:
    """One thread's open shards (Xapian databases are not shared between threads)."""

    def __init__(self, backend: "XapianBackend"):
        self.backend = backend
        count = len(backend.shards)
        self.dbs: list[xapian.Database | None] = [None] * count
        self.reopened = [0.0] * count

    def _open(self, shard: int) -> xapian.Database:
        error = None
        for endpoint in self.backend.shards[shard]:
            try:
                return open_endpoint(endpoint, self.backend.settings)
            except xapian.Error as failure:
                error = failure
        raise error

    def drop(self, shard: int, error) -> None:
        db, self.dbs[shard] = self.dbs[shard], None
        if db is not None:
            try:
                db.close()
            except xapian.Error:
                pass
        self.backend.health.failed(shard, error, float(self.backend.settings.shard_retry_seconds))

    def live(self) -> list[tuple[int, xapian.Database]]:
        """The shards that answer now, opened (or reopened to their latest commit)."""
        backend = self.backend
        now = time.monotonic()
        every = float(backend.settings.shard_reopen_seconds)
        for shard in range(len(self.dbs)):
            db = self.dbs[shard]
            if db is None:
                if not backend.health.may_try(shard):
                    continue
                try:
                    self.dbs[shard] = self._open(shard)
                    self.reopened[shard] = now
                    backend.health.answered(shard)
                except xapian.Error as error:
                    self.drop(shard, error)
            elif now - self.reopened[shard] >= every:
                try:
                    db.reopen()
                    self.reopened[shard] = now
                except xapian.Error:
                    self.dbs[shard] = None
                    try:
                        self.dbs[shard] = self._open(shard)  # a replica may answer
                        self.reopened[shard] = now
                    except xapian.Error as error:
                        self.drop(shard, error)
        return [(i, db) for i, db in enumerate(self.dbs) if db is not None]

    def close(self) -> None:
        for shard, db in enumerate(self.dbs):
            if db is not None:
                try:
                    db.close()
                except xapian.Error:
                    pass
            self.dbs[shard] = None


def _alive(db: xapian.Database) -> bool:
    try:
        db.keep_alive()
        return True
    except xapian.Error:
        return False


# ---------------------------------------------------------------------------
# The backend

DAY_TOTALS_KEPT = 64  # filter combinations whose articles per day are kept


class XapianBackend:
    """A cluster of Xapian shards behind the engine's backend interface."""

    name = "xapian"

    def __init__(self, settings):
        self.settings = settings
        remote = settings.remote
        self.index_dir = Path(settings.index_dir) if settings.index_dir else None
        if remote:
            self.shards = parse_remote(remote)
            self.local = False
        else:
            paths = shard_paths(self.index_dir) if self.index_dir else []
            if not paths:
                raise IndexMissing(
                    f"no Xapian cluster in {self.index_dir}: run 'newssearch index PATH "
                    f"--backend xapian --shards N --index {self.index_dir}' first")
            self.shards = [[Endpoint(path=str(p))] for p in paths]
            self.local = True
        self.health = _Health(len(self.shards))
        # whether some shard is read over the network (see XapianSession.run)
        self.remote = any(e.path is None for endpoints in self.shards for e in endpoints)
        self._pool: queue.SimpleQueue = queue.SimpleQueue()
        self._all: list[_Connections] = []
        self._lock = threading.Lock()
        self._langs: tuple[float, tuple] | None = None
        self._vocabulary: Vocabulary | None = None
        self._stamps: tuple | None = None
        self._vocabulary_checked = 0.0
        self._vocabulary_lock = threading.Lock()
        self._day_totals: dict = {}  # (shard stamps, filters) -> {YYYYMMDD: articles}
        self._day_totals_lock = threading.Lock()

    @contextmanager
    def session(self):
        try:
            connections = self._pool.get_nowait()
        except queue.Empty:
            connections = _Connections(self)
            with self._lock:
                self._all.append(connections)
        try:
            yield XapianSession(self, connections)
        finally:
            self._pool.put(connections)

    def close(self) -> None:
        with self._lock:
            for connections in self._all:
                connections.close()

    def status(self) -> list[dict]:
        """Each shard's endpoints and its last error (``None`` when it answered)."""
        return [{"shard": i, "endpoints": [str(e) for e in endpoints],
                 "error": self.health.errors[i]} for i, endpoints in enumerate(self.shards)]

    # -- caches shared by sessions -------------------------------------------

    def langs(self, db: xapian.Database) -> tuple:
        cached = self._langs
        now = time.monotonic()
        if cached is not None and now - cached[0] < float(self.settings.shard_reopen_seconds):
            return cached[1]
        codes = sorted(item.term.decode("utf-8")[len(xd.LANG):]
                       for item in db.allterms(xd.LANG))
        langs = tuple(c for c in codes if has_stemmer(c)) or ("de",)
        self._langs = (now, langs)
        return langs

    def vocabulary(self, live) -> Vocabulary:
        """The merged vocabulary of the shards, reloaded when one of them changed."""
        now = time.monotonic()
        if self._vocabulary is not None and now - self._vocabulary_checked < float(
                self.settings.vocabulary_check_seconds):
            return self._vocabulary
        with self._vocabulary_lock:
            stamps = tuple((i, db.get_metadata(xd.META_STAMP)) for i, db in live)
            if self._vocabulary is None or stamps != self._stamps:
                counts = Counter()
                for _, db in live:
                    counts.update(xd.load_vocabulary(db.get_metadata(xd.META_VOCABULARY)))
                self._vocabulary = Vocabulary(counts)
                self._stamps = stamps
            self._vocabulary_checked = now
            return self._vocabulary


    def day_totals(self, live, filters: dict, count) -> dict[int, int]:
        """The articles per day under ``filters`` (``count()`` when not known yet), kept
        while no shard that answered has committed since: every trend needs them, and
        counting every article of the cluster is the larger part of a trend's time (over
        all FANG articles on two shards, 17-20 ms of 46-55). A shard's commit stamp
        (written in the commit's own transaction) names its state; a shard without one
        is never cached."""
        stamps = tuple((i, db.get_metadata(xd.META_STAMP)) for i, db in live)
        if not stamps or not all(stamp for _, stamp in stamps):
            return count()
        key = (stamps, tuple(sorted((name, repr(value)) for name, value in filters.items())))
        found = self._day_totals.get(key)
        if found is None:
            found = count()
            with self._day_totals_lock:
                if len(self._day_totals) >= DAY_TOTALS_KEPT:
                    self._day_totals.clear()  # an index changed or filters vary: start over
                self._day_totals[key] = found
        return found


class XapianSession:
    """The shards as they answer for one engine call."""

    def __init__(self, backend: XapianBackend, connections: _Connections):
        self.backend = backend
        self.connections = connections
        self.settings = backend.settings
        self.total_shards = len(backend.shards)
        self.answered: int | None = None
        self._termfreqs: dict = {}
        self._langs: tuple | None = None
        # The document ids of the hits run() answered, by article id, with the shards they
        # were numbered over (a combined database numbers its documents by the shards in
        # it): the first hits are re-ranked by the positions of the query's terms in them
        # (term_positions) within the same call, and a look-up is a round trip per shard.
        self._docids: dict[str, tuple[int, tuple]] = {}

    @property
    def shards(self) -> dict:
        answered = self.total_shards if self.answered is None else self.answered
        return {"total": self.total_shards, "answered": answered}

    def call(self, work):
        """``work(db, live)`` on the shards that answer; run again without any that fail."""
        connections = self.connections
        for _ in range(self.total_shards + 2):
            live = connections.live()
            if live:
                db = xapian.Database()
                for _, shard_db in live:
                    db.add_database(shard_db)
            else:  # nothing answers: search an empty database, the answer says so
                db = xapian.Database("", xapian.DB_BACKEND_INMEMORY)
            try:
                value = work(db, live)
            except xapian.DatabaseModifiedError:
                for _, shard_db in live:
                    shard_db.reopen()
                continue
            except xapian.Error as error:
                dead = [i for i, shard_db in live if not _alive(shard_db)]
                if not dead:
                    raise
                for shard in dead:
                    connections.drop(shard, error)
                self._termfreqs.clear()
                continue
            for shard, _ in live:
                self.backend.health.answered(shard)
            answered = len(live)
            self.answered = answered if self.answered is None else min(self.answered, answered)
            return value
        raise xapian.NetworkError("the shards kept failing during the call")

    # -- the interface the engine uses -----------------------------------------

    @property
    def langs(self) -> tuple:
        if self._langs is None:
            self._langs = self.call(lambda db, live: self.backend.langs(db))
        return self._langs

    @property
    def vocabulary(self) -> Vocabulary:
        return self.call(lambda db, live: self.backend.vocabulary(live))

    def _compiler(self, db) -> Compiler:
        return Compiler(db, self.langs, self.settings, self._termfreqs)

    def compile(self, tree):
        langs = self.langs
        return self.call(lambda db, live: Compiler(db, langs, self.settings,
                                                   self._termfreqs).compile(tree))

    def any_of(self, tree):
        langs = self.langs
        return self.call(lambda db, live: Compiler(db, langs, self.settings,
                                                   self._termfreqs).any_of(tree))

    def highlight_terms(self, compiled) -> frozenset:
        return compiled.terms if compiled is not None else frozenset()

    def run(self, compiled, *, filters: dict, start: int, limit: int, sort: str,
            collapse: bool = False, exact: bool = True) -> Hits:
        restriction = filter_query(**filters)
        # The time left of the search's budget (search.budget): Xapian stops checking
        # more documents than the page needs once it is spent, and the counts are then
        # its estimates.
        deadline = budget.current()
        left = deadline.left() if deadline is not None else None
        # Xapian 1.4 over remote shards, sorting by a value (always: rankings break ties
        # on SLOT_ORDER) and not collapsing, counts some matches twice in the spies of a
        # ranked pass whose page is shorter than the matches (measured on 3 FANG shards:
        # 8 or 10 where 7 match, page sizes 1 and 2; right with collapsing, with a page
        # of 0 or of every match, and on local shards). Only there are the total and
        # facets counted by a second, unranked pass.
        apart = exact and not collapse and self.backend.remote

        def work(db, live):
            query = compiled.query
            if restriction is not None:
                query = xapian.Query(xapian.Query.OP_FILTER, query, restriction)
            # One ranked pass: the page (only as deep as needed; collapsed, one hit per
            # near-duplicate cluster, the best-ranked member) and, with ``exact``, the
            # total and the facets: the match spies on the same Enquire see every match
            # (checkatleast: all documents) before it is collapsed, each shard counting
            # its own and sending the counts.
            enquire = self._enquire(db, query, sort)
            if left is not None:
                enquire.set_time_limit(max(left, 0.001))
            if collapse:
                enquire.set_collapse_key(xd.SLOT_CLUSTER)
            spies = {}
            if exact:
                spies = {name: xapian.ValueCountMatchSpy(slot)
                         for name, slot in xd.FACET_SLOTS.items()}
                counter = enquire
                if apart:
                    counter = xapian.Enquire(db)
                    counter.set_weighting_scheme(xapian.BoolWeight())
                    counter.set_query(query)
                    if left is not None:
                        counter.set_time_limit(max(left, 0.001))
                for spy in spies.values():
                    counter.add_matchspy(spy)
            everyone = max(1, db.get_doccount())
            mset = enquire.get_mset(start, max(0, limit - start),
                                    everyone if exact and not apart else 0)
            counted = counter.get_mset(0, 0, everyone) if apart else mset
            if start == 0:
                # One request per shard for the page's documents. (Not past the first
                # page: MSet.fetch() with a non-zero offset crashes over remote shards
                # in Xapian 1.4, so later pages load their documents one by one.)
                mset.fetch()
            heads = [(m.docid, m.document) for m in mset]
            items = [(xd.stored_of(document), m.weight) for (_, document), m in zip(heads, mset)]
            numbered = tuple(shard for shard, _ in live)
            self._docids.update((stored["id"], (docid, numbered))
                                for (stored, _), (docid, _) in zip(items, heads))
            if not exact:
                # Only the page: Xapian's own estimates, flagged when not exact.
                if collapse:
                    low, high = (mset.get_uncollapsed_matches_lower_bound(),
                                 mset.get_uncollapsed_matches_upper_bound())
                    total = mset.get_uncollapsed_matches_estimated()
                else:
                    low, high = mset.get_matches_lower_bound(), mset.get_matches_upper_bound()
                    total = mset.get_matches_estimated()
                hits = Hits(total=total, facets=facets.empty(), items=items,
                            estimate=low != high)
                if collapse:
                    hits.stories = mset.get_matches_estimated()
                    hits.folded = self._folded(db, query, sort, heads)
                return hits
            if not collapse:
                return Hits(total=counted.get_matches_estimated(), facets=facet_counts(spies),
                            items=items)
            # Collapsed: with every match checked, the lower bound of the collapsed count
            # is the number of distinct clusters; the spies count the matching articles.
            hits = Hits(total=int(spies["lang"].get_total()), facets=facet_counts(spies),
                        items=items, stories=mset.get_matches_lower_bound())
            hits.folded = self._folded(db, query, sort, heads)
            return hits

        hits = self.call(work)
        if deadline is not None:
            # Xapian stopped counting (its total an estimate) only if the time is up by now,
            # which flags the result timed_out.
            deadline.passed()
        return hits

    def _restricted(self, compiled, filters: dict) -> xapian.Query:
        query = compiled.query if compiled is not None else xapian.Query.MatchAll
        restriction = filter_query(**filters)
        if restriction is not None:
            query = xapian.Query(xapian.Query.OP_FILTER, query, restriction)
        return query

    def day_counts(self, compiled, *, filters: dict) -> dict[int, int]:
        """Counted with a ``ValueCountMatchSpy`` on the day slot in one unranked pass
        (each shard counts its own matches and sends the counts, not the documents). A
        cluster built before articles had that slot is counted on the full date key. The
        counts of every article (``compiled`` ``None``) are kept per commit of the shards
        (:meth:`XapianBackend.day_totals`)."""
        query = self._restricted(compiled, filters)

        def work(db, live):
            if compiled is None:
                return self.backend.day_totals(live, filters, lambda: count(db))
            return count(db)

        def count(db):
            enquire = xapian.Enquire(db)
            enquire.set_weighting_scheme(xapian.BoolWeight())
            enquire.set_query(query)
            days_held = db.get_value_freq(xd.SLOT_DAY) >= db.get_value_freq(xd.SLOT_DATE)
            spy = xapian.ValueCountMatchSpy(xd.SLOT_DAY if days_held else xd.SLOT_DATE)
            enquire.add_matchspy(spy)
            enquire.get_mset(0, 0, max(1, db.get_doccount()))
            days: dict[int, int] = {}
            for item in spy.values():
                day = int(item.term[:8] or 0)
                if day:
                    days[day] = days.get(day, 0) + item.termfreq
            return days

        return self.call(work)

    def stream(self, compiled, *, filters: dict, sort: str, batch: int):
        """Page after page of the ranked matches (each page a fresh match on the shards
        as they are then; a commit between two pages may shift the rows)."""
        query = self._restricted(compiled, filters)
        batch = max(1, batch)
        start = 0
        while True:
            def work(db, live, start=start):
                mset = self._enquire(db, query, sort).get_mset(start, batch)
                if start == 0:
                    mset.fetch()  # see run(): not past the first page over remote shards
                return [(xd.stored_of(m.document), m.weight) for m in mset]
            items = self.call(work)
            if items:
                yield items
            if len(items) < batch:
                return
            start += len(items)

    def _folded(self, db, query, sort, heads) -> dict:
        """The matching members of the heads' clusters other than the heads, in rank order:
        ``{head id: (count, [stored fields of the first duplicates_per_hit])}``."""
        clusters = {document.get_value(xd.SLOT_CLUSTER) for _, document in heads}
        clusters.discard(b"")
        if not clusters:
            return {}
        within = xapian.Query(xapian.Query.OP_OR,
                              [xapian.Query(xd.cluster_term(c.decode("utf-8", "surrogatepass")))
                               for c in sorted(clusters)])
        enquire = self._enquire(db, xapian.Query(xapian.Query.OP_FILTER, query, within), sort)
        mset = enquire.get_mset(0, max(1, db.get_doccount()))
        mset.fetch()
        shown = {docid for docid, _ in heads}
        by_cluster: dict[bytes, list] = {}
        for m in mset:
            if m.docid not in shown:
                document = m.document
                by_cluster.setdefault(document.get_value(xd.SLOT_CLUSTER), []).append(document)
        most = int(self.settings.duplicates_per_hit)
        folded = {}
        for _, document in heads:
            members = by_cluster.get(document.get_value(xd.SLOT_CLUSTER))
            if members:
                folded[xd.stored_of(document)["id"]] = (
                    len(members), [xd.stored_of(member) for member in members[:most]])
        return folded

    def _enquire(self, db, query, sort) -> xapian.Enquire:
        enquire = xapian.Enquire(db)
        enquire.set_weighting_scheme(weighting(self.settings))
        enquire.set_query(query)
        if sort == "date":
            enquire.set_sort_by_value_then_relevance(xd.SLOT_DATE, True)
        else:
            enquire.set_sort_by_relevance_then_value(xd.SLOT_ORDER, True)
        return enquire

    def term_positions(self, article_ids: list[str], terms) -> list[dict]:
        """Read with ``Database.positionlist`` of each article's document (the text's
        terms unprefixed, the title's with ``S``; Xapian counts positions from 1)."""
        terms = sorted(set(terms))

        def work(db, live):
            found = []
            numbered = tuple(shard for shard, _ in live)
            for article_id in article_ids:
                docid, over = self._docids.get(article_id, (None, None))
                if over != numbered:
                    docid = next((p.docid for p in db.postlist(xd.id_term(article_id))), None)
                if docid is None:
                    found.append({})
                    continue
                try:
                    found.append(_places(db, docid, terms))
                except xapian.DocNotFoundError:  # deleted since the search found it
                    found.append({})
            return found

        return self.call(work)

    def document(self, article_id: str) -> dict | None:
        def work(db, live):
            for posting in db.postlist(xd.id_term(article_id)):
                return xd.stored_of(db.get_document(posting.docid))
            return None
        return self.call(work)

    def cluster(self, article_id: str) -> tuple[str | None, list[dict]]:
        def work(db, live):
            docid = next((p.docid for p in db.postlist(xd.id_term(article_id))), None)
            if docid is None:
                return None, []
            cluster = db.get_document(docid).get_value(xd.SLOT_CLUSTER)
            if not cluster:
                return None, []
            cluster = cluster.decode("utf-8", "surrogatepass")
            return cluster, [xd.stored_of(db.get_document(p.docid))
                             for p in db.postlist(xd.cluster_term(cluster)) if p.docid != docid]
        return self.call(work)

    def more_like(self, article_id: str, n: int = 5) -> list:
        """Articles like ``article_id``: its most distinctive text terms, OR-ed.

        Term frequencies come from our chain over the stored text (as on the
        Whoosh backend); document frequencies from the shard that holds the
        article, whose share of the corpus is a random sample of it.
        """
        def work(db, live):
            term = xd.id_term(article_id)
            docid = next((p.docid for p in db.postlist(term)), None)
            if docid is None:
                return []
            stored = xd.stored_of(db.get_document(docid))
            shard_db = live[(docid - 1) % len(live)][1]
            local = (docid - 1) // len(live) + 1
            frequencies = {}
            for item in shard_db.termlist(local):
                text = item.term
                if text[:1].islower() or text[:1].isdigit() or text[:1] >= b"\x80":
                    frequencies[text.decode("utf-8")] = item.termfreq
            scored = related_terms(stored, lambda word: frequencies.get(word, 0),
                                   shard_db.get_doccount(), self.settings)
            compiled = Compiler(db, self.backend.langs(db), self.settings,
                                self._termfreqs).weighted_terms(scored)
            if compiled is None:
                return []
            query = xapian.Query(xapian.Query.OP_AND_NOT, compiled.query, xapian.Query(term))
            mset = self._enquire(db, query, "relevance").get_mset(0, n)
            mset.fetch()
            return [(xd.stored_of(m.document), m.weight) for m in mset]
        return self.call(work)

    def stats(self) -> dict:
        def work(db, live):
            enquire = xapian.Enquire(db)
            enquire.set_query(xapian.Query.MatchAll)
            spies = {name: xapian.ValueCountMatchSpy(slot)
                     for name, slot in xd.FACET_SLOTS.items()}
            for spy in spies.values():
                enquire.add_matchspy(spy)
            enquire.get_mset(0, 0, max(1, db.get_doccount()))
            stamps = [shard_db.get_metadata(xd.META_INDEXED_AT).decode() for _, shard_db in live]
            summaries = [shard_db.get_metadata(xd.META_DUPLICATES) for _, shard_db in live]
            runs = [xd.metadata_int(shard_db, xd.META_RUN) for _, shard_db in live]
            sizes = [xd.metadata_int(shard_db, xd.META_SIZE) for _, shard_db in live]
            return (db.get_doccount(), facet_counts(spies), max(stamps, default="") or None,
                    max((r for r in runs if r is not None), default=None),
                    sum(s for s in sizes if s is not None), _duplicates(summaries))
        documents, counted, indexed_at, run, size, duplicates = self.call(work)
        if self.backend.local:
            size = sum(storage.size_on_disk(Path(e.path)) for shards in self.backend.shards
                       for e in shards)
        return stats_dict(documents, counted, size_bytes=size, indexed_at=indexed_at,
                          generation=f"run-{run:06d}" if run is not None else "",
                          duplicates=duplicates, backend="xapian", shards=self.shards)


def _places(db: xapian.Database, docid: int, terms) -> dict:
    """Where ``terms`` stand in the title and the text of document ``docid`` (see
    :meth:`XapianSession.term_positions`)."""
    places = {}
    for field in ("title", "text"):
        prefix = xd.FIELD_PREFIXES[field]
        held = places[field] = {}
        for term in terms:
            name = prefix + term
            if len(name.encode("utf-8", "surrogatepass")) > xd.MAX_TERM_BYTES:
                continue  # never indexed (see document.build_document)
            positions = [p - 1 for p in db.positionlist(docid, name)]
            if positions:
                held[term] = positions
    return places


def _duplicates(summaries: list[bytes]) -> dict | None:
    """The near-duplicate summary the indexer gave every shard (the same in each)."""
    for raw in summaries:
        try:
            summary = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(summary, dict):
            return summary
    return None


def facet_counts(spies: dict) -> dict:
    """Facet values and counts of the match spies, in the shape every backend answers."""
    return facets.ordered({name: {item.term: item.termfreq for item in spy.values()}
                           for name, spy in spies.items()})


def is_cluster(index_dir) -> bool:
    return index_dir is not None and read_cluster(Path(index_dir)) is not None


__all__ = ["XapianBackend", "XapianSession", "Endpoint", "parse_remote", "is_cluster",
           "shard_name"]
