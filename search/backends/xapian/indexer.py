"""Indexing a corpus into a cluster folder of N Xapian shards, one process per shard.

The cluster folder is described in :mod:`.layout`.

The main process reads and cleans the corpus and routes every article to the
shard named by a stable hash of its id (:func:`.document.shard_of`); each
shard's process detects the language, analyses the article with our chains,
and adds, replaces or leaves it according to its checksum. A re-run therefore
updates in place: unchanged articles are left alone, changed ones replaced,
vanished ones deleted. Each shard commits its documents and its vocabulary in
one transaction, so a killed run leaves every shard consistent, and running
again finishes the job.

Shards write changesets, so ``xapian-replicate`` can keep replicas current
with only the changes.

Near-duplicate clusters (:mod:`search.duplicates`) span shards, so the main
process keeps them (``duplicates.npz`` in the cluster folder): it signs
every article it reads, and once the run's articles are all routed it
recomputes the clusters and sends each shard the cluster of every article
whose cluster may differ from the one its document holds (a shard writes a
new or changed article in a cluster of its own). The clusters are saved with
those articles noted as pending before the shards get them, and without
once every shard has committed: a run killed in between leaves them noted,
and the next run sends them again.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import time
import traceback
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from ... import storage
from ...duplicates import Clusters, Signing, StaleClusters, signatures
from ...ingest import Article, Problem, Tally, file_parts, read_part
from ...indexing import IndexReport, InvalidSetting, checksum
from ...settings import Settings
from ...tracking import FileTable
from .layout import (CLUSTER_FILE, FILES_FILE, LAYOUT_VERSION, read_cluster, read_json,
                     shard_name, write_json)
from .document import shard_of

_POLL_SECONDS = 0.5


class ClusterLayoutError(InvalidSetting):
    """The folder holds something else, or a cluster with another shard count."""


# ---------------------------------------------------------------------------
# One shard's process


def _shard_worker(path: str, shard: int, shards: int, overwrite: bool, run: int,
                  normalisation: dict, settings: Settings, inbox, outbox) -> None:
    """Apply the routed changes to one shard; report counts when told to finish."""
    # Changesets let replicas copy only what changed; commits are ours alone. A shard
    # written from nothing needs none (a replica copies it whole): at 100,000 articles
    # they were 2.4 times the size of the database itself.
    fresh = overwrite or not os.path.exists(os.path.join(path, "iamglass"))
    os.environ["XAPIAN_MAX_CHANGESETS"] = "0" if fresh else str(settings.shard_keep_changesets)
    os.environ["XAPIAN_FLUSH_THRESHOLD"] = str(10 * settings.shard_commit_every)
    try:
        import xapian

        from ...analysis.batch import analyse_batch
        from ...analysis.spelling import surface_words
        from . import document as xd

        flags = xapian.DB_CREATE_OR_OVERWRITE if overwrite else xapian.DB_CREATE_OR_OPEN
        db = xapian.WritableDatabase(path, flags)
        vocabulary = Counter() if overwrite else xd.load_vocabulary(
            db.get_metadata(xd.META_VOCABULARY))
        counts = Counter()
        pending = 0
        added: set[str] = set()

        def forget(docid):
            old = xd.stored_of(db.get_document(docid))
            for word in surface_words(old.get("title", "") + "\n" + old.get("text", "")):
                left = vocabulary.get(word, 0) - 1
                if left > 0:
                    vocabulary[word] = left
                else:
                    vocabulary.pop(word, None)

        def existing(term):
            for posting in db.postlist(term):
                return posting.docid
            return None

        def commit():
            xd.write_shard_metadata(db, vocabulary, shard, shards, run, storage.size_on_disk(path))
            db.commit()

        def analyse(articles) -> dict:
            """Language, analysis and vocabulary words of each article, by ``id()``."""
            articles = list(articles)
            langs = [_language(article, settings) for article in articles]
            batch = analyse_batch([(lang, a.title, a.text) for lang, a in zip(langs, articles)],
                                  document_words=True, table_limit=settings.analysis_table_words)
            return {id(article): (lang, batch.words_of(number), batch.grouped(number))
                    for number, (article, lang) in enumerate(zip(articles, langs))}

        def analyse_puts(batch) -> dict:
            """:func:`analyse` of the articles of ``batch`` to be added or replaced, as
            the shard stands before it (one batch analysis for all of them)."""
            chosen = []
            for op, item in batch:
                if op != "put":
                    continue
                term = xd.id_term(item.id)
                docid = None if overwrite and term not in added else existing(term)
                if docid is not None and db.get_document(docid).get_value(
                        xd.SLOT_CHECKSUM).decode() == checksum(item):
                    continue
                chosen.append(item)
            return analyse(chosen) if chosen else {}

        parent = os.getppid()
        while True:
            try:
                batch = inbox.get(timeout=_POLL_SECONDS * 4)
            except queue.Empty:
                if os.getppid() != parent:  # the indexer is gone: stop, keep the last commit
                    os._exit(1)
                continue
            if batch is None:
                break
            analysed = analyse_puts(batch)
            for op, item in batch:
                if op == "put":
                    article: Article = item
                    digest = checksum(article)
                    term = xd.id_term(article.id)
                    # A fresh shard holds only what this run added: no lookup needed.
                    docid = None if overwrite and term not in added else existing(term)
                    if docid is not None:
                        if db.get_document(docid).get_value(xd.SLOT_CHECKSUM).decode() == digest:
                            counts["unchanged"] += 1
                            continue
                        forget(docid)
                        counts["updated"] += 1
                    else:
                        counts["added"] += 1
                    found = analysed.get(id(article))
                    if found is None:  # unchanged when the batch began (an id seen twice)
                        found = analyse([article])[id(article)]
                    lang, words, grouped = found
                    document = xd.build_document(article, lang, digest, normalisation, grouped)
                    if docid is None and overwrite:
                        db.add_document(document)
                        added.add(term)
                    else:
                        db.replace_document(term, document)
                    vocabulary.update(words)
                elif op == "cluster":
                    article_id, cluster = item
                    docid = existing(xd.id_term(article_id))
                    if docid is None:
                        continue
                    document = db.get_document(docid)
                    if not xd.set_cluster(document, cluster):
                        continue
                    db.replace_document(docid, document)
                elif op == "duplicates":  # the summary of the clusters, kept by every shard
                    db.set_metadata(xd.META_DUPLICATES, json.dumps(item))
                    continue
                else:  # remove
                    term = xd.id_term(item)
                    docid = existing(term)
                    if docid is None:
                        continue
                    forget(docid)
                    db.delete_document(term)
                    counts["removed"] += 1
                pending += 1
                if pending >= settings.shard_commit_every:
                    commit()
                    pending = 0
        commit()
        counts["documents"] = db.get_doccount()
        db.close()
        outbox.put(("done", shard, dict(counts)))
    except BaseException:
        outbox.put(("error", shard, traceback.format_exc()))
        outbox.close()
        outbox.join_thread()
        # Leave without closing the database: closing would commit the changes since
        # the last commit, without the vocabulary that goes with them.
        os._exit(1)


def _language(article: Article, settings: Settings) -> str:
    from ...ingest.language import detect_language

    return article.lang or detect_language(
        article.title + "\n" + article.text[:settings.lang_sample_chars],
        sample_chars=settings.lang_sample_chars, default=settings.default_lang)


class _Shards:
    """The shard processes of one run and the batches on their way to them.

    Processes start once the term-weight normalisation is known: given, or
    measured on the first ``shard_sample`` articles (held back until then).
    """

    def __init__(self, index_dir: Path, shards: int, overwrite: bool, run: int,
                 settings: Settings, normalisation: dict | None):
        self.index_dir = index_dir
        self.overwrite = overwrite
        self.run = run
        self.settings = settings
        self.normalisation = normalisation
        self.shards = shards
        self.held: list | None = []
        self.processes = []
        self.batches: list[list] = [[] for _ in range(shards)]
        self.inboxes = []
        self.outbox = None
        if normalisation is not None:
            self._start()

    def _start(self) -> None:
        if self.normalisation is None:
            self.normalisation = measure_normalisation(
                [item for op, _, item in self.held if op == "put"], self.settings)
        context = multiprocessing.get_context("spawn")
        self.outbox = context.Queue()
        self.inboxes = [context.Queue(maxsize=16) for _ in range(self.shards)]
        for shard in range(self.shards):
            process = context.Process(
                target=_shard_worker, name=f"newssearch-{shard_name(shard)}",
                args=(str(self.index_dir / shard_name(shard)), shard, self.shards,
                      self.overwrite, self.run, self.normalisation, self.settings,
                      self.inboxes[shard], self.outbox),
                daemon=True)
            process.start()
            self.processes.append(process)
        held, self.held = self.held, None
        for op, article_id, item in held:
            self.send(op, article_id, item)

    def send(self, op: str, article_id: str, item) -> None:
        if self.held is not None:
            self.held.append((op, article_id, item))
            if sum(1 for entry in self.held if entry[0] == "put") >= self.settings.shard_sample:
                self._start()
            return
        shard = shard_of(article_id, self.shards)
        batch = self.batches[shard]
        batch.append((op, item))
        if len(batch) >= self.settings.shard_batch:
            self._put(shard, batch)
            self.batches[shard] = []

    def broadcast(self, op: str, item) -> None:
        """One change for every shard."""
        if self.held is not None:
            self._start()
        for shard in range(self.shards):
            self.batches[shard].append((op, item))

    def _put(self, shard: int, payload) -> None:
        while True:
            try:
                self.inboxes[shard].put(payload, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                self._check_alive()

    def _check_alive(self) -> None:
        try:
            kind, shard, detail = self.outbox.get_nowait()
        except queue.Empty:
            pass
        else:
            if kind == "error":
                raise RuntimeError(f"indexing {shard_name(shard)} failed:\n{detail}")
            self.outbox.put((kind, shard, detail))
        for shard, process in enumerate(self.processes):
            if not process.is_alive() and process.exitcode not in (0, None):
                raise RuntimeError(f"the process of {shard_name(shard)} died "
                                   f"(exit code {process.exitcode})")

    def finish(self) -> dict[int, dict]:
        if self.held is not None:
            self._start()
        for shard, batch in enumerate(self.batches):
            if batch:
                self._put(shard, batch)
            self._put(shard, None)
        results: dict[int, dict] = {}
        while len(results) < self.shards:
            try:
                kind, shard, detail = self.outbox.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                for number, process in enumerate(self.processes):
                    if number not in results and not process.is_alive():
                        raise RuntimeError(f"the process of {shard_name(number)} died "
                                           f"(exit code {process.exitcode})")
                continue
            if kind == "error":
                raise RuntimeError(f"indexing {shard_name(shard)} failed:\n{detail}")
            results[shard] = detail
        for process in self.processes:
            process.join(timeout=30)
        return results

    def abandon(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(timeout=10)


# ---------------------------------------------------------------------------
# The run


def measure_normalisation(articles, settings: Settings) -> dict:
    """Average field lengths of ``articles`` and the BM25 ``b``: how term weights are stored."""
    from ...analysis.batch import analyse_batch
    from .document import field_averages

    articles = list(articles)
    batch = analyse_batch([(_language(article, settings), article.title, article.text)
                           for article in articles])
    lengths = {name: postings.lengths for name, postings in batch.fields.items()}
    return {"b": settings.bm25_b, "averages": field_averages(lengths), "sample": len(articles),
            "boosts": {"title": settings.title_boost, "text": 1.0,
                       "parts": getattr(settings, "parts_boost", 0.0)}}


def index_cluster(paths, settings: Settings, *, rebuild: bool = False,
                  progress=None) -> IndexReport:
    """Index ``paths`` into the cluster folder ``settings.index_dir``.

    A new folder gets ``settings.shards`` shards (default 1); an existing cluster keeps
    its shard count, and asking for another one raises
    :class:`ClusterLayoutError` unless ``rebuild`` is given (a rebuild
    re-routes every article). Raises :class:`storage.IndexBusy` when another
    indexer holds the folder.
    """
    started = time.perf_counter()
    index_dir = Path(settings.index_dir)
    shards = settings.shards
    report = IndexReport(rebuilt=rebuild)
    with storage.write_lock(index_dir):
        cluster = read_cluster(index_dir)
        if cluster is None and storage.current_generation(index_dir) is not None:
            raise ClusterLayoutError(f"{index_dir} holds a Whoosh index, not a Xapian cluster")
        if cluster is not None and shards is not None and int(cluster["shards"]) != shards \
                and not rebuild:
            raise ClusterLayoutError(
                f"{index_dir} has {cluster['shards']} shards; the shard count of a cluster is "
                f"fixed (index again with --rebuild, or into a new folder)")
        count = shards or (int(cluster["shards"]) if cluster else 1)
        if count < 1:
            raise ClusterLayoutError("a cluster needs at least one shard")
        fresh_cluster = rebuild or cluster is None or cluster.get("version") != LAYOUT_VERSION
        files_meta = {} if fresh_cluster else read_json(index_dir / FILES_FILE)
        normalisation = None if fresh_cluster else cluster.get("normalisation")
        if normalisation is None or not normalisation.get("sample"):
            normalisation = None  # measured on this run's first articles
            fresh_cluster = True
            files_meta = {}
        table = FileTable(files_meta.get("files", {}))
        try:
            clusters = Clusters.for_settings(settings) if fresh_cluster else \
                Clusters.load(index_dir, settings)
        except StaleClusters as error:
            raise ClusterLayoutError(f"{error}: index again with --rebuild") from None
        description = {"backend": "xapian", "version": LAYOUT_VERSION, "shards": count}
        write_json(index_dir / CLUSTER_FILE, description)
        run = int(files_meta.get("run", 0)) + 1
        workers = _Shards(index_dir, count, fresh_cluster, run, settings, normalisation)
        try:
            _read_files(paths, settings, workers, report, table, clusters, full=fresh_cluster,
                        progress=progress)
            for article_id in table.vanished(paths):
                workers.send("remove", article_id, article_id)
                clusters.remove(article_id)
            _send_clusters(clusters, workers, index_dir)
            results = workers.finish()
        except BaseException:
            workers.abandon()
            raise
        clusters.pending.clear()
        clusters.save(index_dir)
        write_json(index_dir / CLUSTER_FILE, {**description,
                                               "normalisation": workers.normalisation})
        for detail in results.values():
            report.added += detail.get("added", 0)
            report.updated += detail.get("updated", 0)
            report.removed += detail.get("removed", 0)
            report.unchanged += detail.get("unchanged", 0)
            report.documents += detail.get("documents", 0)
        write_json(index_dir / FILES_FILE, {
            "version": LAYOUT_VERSION, "run": run, "files": table.files,
            "indexed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "documents": report.documents,
        })
        report.generation = f"run-{run:06d}"
    report.seconds = time.perf_counter() - started
    return report


def _send_clusters(clusters: Clusters, workers: _Shards, index_dir: Path) -> None:
    """Recompute the clusters and send every shard the clusters its documents may lack:
    those that changed, those of articles in a cluster with others (a new or changed
    article was written in a cluster of its own) and those a killed run left pending.
    They stay noted as pending in the saved clusters until every shard has committed."""
    changes = clusters.update()
    wanted = {article_id: cluster for article_id, cluster in clusters.cluster.items()
              if cluster != article_id}
    wanted.update({article_id: clusters.cluster_of(article_id)
                   for article_id in clusters.pending})
    wanted.update(changes)
    clusters.pending = set(wanted)
    clusters.save(index_dir)
    for article_id, cluster in wanted.items():
        workers.send("cluster", article_id, (article_id, cluster))
    workers.broadcast("duplicates", clusters.summary())


def _read_files(paths, settings, workers, report, table: FileTable, clusters: Clusters, *,
                full, progress):
    signing = Signing.of(settings)
    plan = table.plan(paths, full=full)
    report.problems.extend(plan.problems)
    done = 0
    for planned in plan.files:
        if planned.unchanged:
            report.unchanged += table.articles_in(planned.key)
        else:
            update = table.begin(planned)
            complete = True
            for part in file_parts(planned.path, settings):
                articles = []
                for item in read_part(part, settings):
                    if isinstance(item, Problem):
                        report.problems.append(item)
                        complete &= item.line is not None  # the file itself: read it again
                        continue
                    if isinstance(item, Tally):
                        report.count(item)
                        continue
                    item.id = update.article_id(item.id)
                    update.claim(item.id)
                    workers.send("put", item.id, item)
                    articles.append(item)
                # the part's articles signed together (search.duplicates.signatures)
                signed = signatures([item.text for item in articles], signing)
                for item, signed_ in zip(articles, signed):
                    clusters.put(item.id, signed_)
                if progress and not part.last:
                    progress(done + part.end, plan.total_bytes)
            for gone in update.finish(complete):
                workers.send("remove", gone, gone)
                clusters.remove(gone)
        done += planned.size
        if progress:
            progress(done, plan.total_bytes)
