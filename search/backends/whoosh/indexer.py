"""Building and updating an index from a corpus.

:func:`index_paths` is incremental: it re-reads only files whose size or
modification time changed, adds new articles, replaces changed ones, removes
those that disappeared from the given paths, and leaves the rest alone. With
``rebuild`` it starts from an empty index. Either way the result is written to
a new generation and switched to atomically (see :mod:`search.storage`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from whoosh import index as whoosh_index

from ... import storage
from ...analysis.batch import AnalysedBatch, analyse_batch
from ...analysis.chains import chain_for
from ...analysis.spelling import Vocabulary
from ...duplicates import Clusters, Signing, StaleClusters, signature, signatures_of_words
from ...fields import INDEXED_FIELDS, PARTS_FIELD
from ...ingest import Article, Part, Problem, Tally, file_parts, read_part
from ...indexing import IndexReport, InvalidSetting, checksum
from ...ingest.clean import parse_date
from ...ingest.language import detect_language
from ...processes import end_with_parent
from ...settings import Settings
from ...tracking import FileTable, PlannedFile
from .schema import CLUSTER_FIELD, add_missing_fields, build_schema
from .segments import SegmentBuilder, stored_document

META_VERSION = 1
# Whoosh's own lock files, never carried into a new generation.
WRITER_LOCKS = ("MAIN_WRITELOCK",)


@dataclass
class Prepared:
    """One article with everything the indexer needs that does not depend on the index:
    its language, its analysis (document ``number`` of an analysed ``batch``, see
    :mod:`search.analysis.batch`) and the checksum of the article as read."""

    article: Article
    lang: str
    batch: AnalysedBatch
    number: int
    digest: str | None = None
    signature: object = None  # the near-duplicate signature (search.duplicates), or None
    # its stored fields as the segment builder writes them (segments.stored_document),
    # made in the worker; valid while the article keeps the id it was read with
    stored: bytes | None = None
    stored_id: str | None = None

    @property
    def terms(self) -> dict:
        """The term list of each indexed field (title and text in word order)."""
        return self.batch.term_lists(self.number)


def _language(article: Article, settings: Settings) -> str:
    return article.lang or detect_language(
        article.title + "\n" + article.text[:settings.lang_sample_chars],
        sample_chars=settings.lang_sample_chars, default=settings.default_lang)


def prepare_articles(articles: list[Article], settings: Settings,
                     stored: bool = True) -> tuple[list[Prepared], AnalysedBatch]:
    """Language, analysis (one batch for all), checksum and near-duplicate signature of
    each article; with ``stored``, also its stored fields as the segment builder writes
    them (a fresh index: an update goes through Whoosh's writer)."""
    langs = [_language(article, settings) for article in articles]
    batch = analyse_batch([(lang, a.title, a.text) for lang, a in zip(langs, articles)],
                          text_words=True, table_limit=settings.analysis_table_words)
    signed = signatures_of_words(batch.text_words, len(articles), Signing.of(settings))
    batch.text_words = None  # not sent on with the batch
    prepared = []
    schema = _schema() if stored and settings.segment_builder else None
    for number, (article, lang) in enumerate(zip(articles, langs)):
        digest = checksum(article)
        blob = None if schema is None else stored_document(
            schema, document_fields(article, lang, digest, _NO_TERMS))
        prepared.append(Prepared(article, lang, batch, number, digest, signed[number],
                                 blob, article.id))
    return prepared, batch


_NO_TERMS = {name: () for name in INDEXED_FIELDS}
_SCHEMA = []


def _schema():
    """The schema (made once a process)."""
    if not _SCHEMA:
        _SCHEMA.append(build_schema())
    return _SCHEMA[0]


def prepare(article: Article, settings: Settings) -> Prepared:
    """:func:`prepare_articles` of one article."""
    return prepare_articles([article], settings)[0][0]


def prepare_part(part: Part, settings: Settings, stored: bool = True) -> tuple[list, Counter]:
    """Every article of one part of a file prepared (one batch analysis for all), and the
    problems and tallies met, in file order; and the vocabulary counts of all its
    articles, in how many each word occurs (run in workers)."""
    items = read_part(part, settings)
    articles = [item for item in items if isinstance(item, Article)]
    if not articles:
        return items, Counter()
    prepared, batch = prepare_articles(articles, settings, stored)
    ready = iter(prepared)
    return [next(ready) if isinstance(item, Article) else item for item in items], \
        Counter(batch.words)


def document_fields(article: Article, lang: str, digest: str, terms: dict,
                    cluster: str | None = None) -> dict:
    """The fields Whoosh gets for one article: term lists to index, text to store, and
    its cluster when it is known (the segment builder gets the clusters at the end)."""
    date = article.date
    fields = {
        "id": article.id,
        "title": terms["title"],
        "_stored_title": article.title,
        "text": terms["text"],
        "_stored_text": article.text,
        "date_sort": date.sort_key if date else 0,
        "lang": lang,
        "checksum": digest,
    }
    if PARTS_FIELD:
        fields[PARTS_FIELD] = terms[PARTS_FIELD]
    if cluster is not None:
        fields[CLUSTER_FIELD] = cluster
    if date:
        fields["date"] = date.iso
        if date.month:
            fields["month"] = date.month
    for name in ("source", "category", "url"):
        value = getattr(article, name)
        if value:
            fields[name] = value
    if article.authors:
        fields["authors"] = list(article.authors)
    return fields


class _Run:
    """One indexer run: the generation and writer are made only once something changes."""

    def __init__(self, settings: Settings, previous: Path | None, rebuild: bool,
                 fast: bool = True, clusters: Clusters | None = None):
        self.settings = settings
        # The near-duplicate clusters (search.duplicates): the previous generation's,
        # changed by this run, stored with the new one.
        self.clusters = clusters if clusters is not None else Clusters.for_settings(settings)
        # Whoosh's writer gets a document's cluster with the document, before this run's
        # clusters are known: the cluster each id was written with, set right after the
        # commit (see _correct_clusters).
        self._written_clusters: dict[str, str] = {}
        self.previous = None if rebuild else previous
        self.generation: Path | None = None
        self.index = None
        self.writer = None
        self.old_reader = None
        self._vocabulary: Vocabulary | None = Vocabulary() if rebuild else None
        self._vocabulary_from = previous
        # A fresh index is written by the segment builder; changes to an existing
        # one go through Whoosh's writer (deletions, merging of small segments).
        self.fast = fast and self.previous is None
        self.builder: SegmentBuilder | None = None
        # In a fresh build every article read is added, so the vocabulary takes
        # each file's counts at once instead of one article at a time.
        self.counts_files = self.fast
        self._built_ids: dict[str, int] = {}
        # Whoosh's writer cannot delete a document it was given in the same run, so an
        # id written twice (an article moving between files) or written and then removed
        # is noted here, with the checksum of the copy to keep (None: none), and the
        # superseded copies are deleted after the commit.
        self._written: dict[str, str | None] = {}
        self._superseded: set[str] = set()
        # Set when the previous generation's bookkeeping is lost or of another version:
        # an article may then be in the index without being known, so it is replaced.
        self.replace_unknown = False

    @property
    def vocabulary(self) -> Vocabulary:
        """The corpus vocabulary, loaded only once a run changes something."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.load(self._vocabulary_from)
        return self._vocabulary

    def open(self):
        if self.writer is not None:
            return
        index_dir = self.settings.index_dir
        self.generation = storage.new_generation(index_dir, self.previous, leave=WRITER_LOCKS)
        if self.previous is None:
            self.index = whoosh_index.create_in(str(self.generation), build_schema())
        else:
            self.index = whoosh_index.open_dir(str(self.generation))
            self.old_reader = self.index.searcher()
        if self.fast:
            self.writer = self.index.writer()
            self.builder = SegmentBuilder(self.index, INDEXED_FIELDS, self.settings)
            return
        self.writer = self.index.writer(
            limitmb=self.settings.writer_memory_mb, procs=self.settings.writer_procs,
            multisegment=self.settings.writer_procs > 1)
        add_missing_fields(self.writer)

    def _forget_old(self, article_id: str) -> None:
        if self.old_reader is None:
            return
        stored = self.old_reader.document(id=article_id)
        if stored:
            self.vocabulary.remove(stored.get("title", "") + "\n" + stored.get("text", ""))

    def add(self, article: Article, lang: str, digest: str, prepared: Prepared | None = None) -> None:
        self.open()
        if self.builder is not None:
            if prepared is None:
                prepared = prepare(article, self.settings)
            fields = document_fields(article, lang, digest, _NO_TERMS)
            self._built_ids[article.id] = self.builder.docnum_total
            stored = prepared.stored if prepared.stored_id == article.id and \
                prepared.digest == digest else None
            self.builder.add(fields, prepared.batch, prepared.number, stored)
        else:
            if prepared is None:
                prepared = prepare(article, self.settings)
            cluster = self.clusters.cluster_of(article.id)
            self.writer.add_document(**document_fields(article, lang, digest, prepared.terms,
                                                       cluster))
            self._written_clusters[article.id] = cluster
            if article.id in self._written:
                self._superseded.add(article.id)
            self._written[article.id] = digest
        if not self.counts_files:
            self.vocabulary.add(article.title + "\n" + article.text)
        self.clusters.put(article.id, prepared.signature if prepared is not None else
                          signature(article.text, Signing.of(self.settings)))

    def replace(self, article: Article, lang: str, digest: str, prepared: Prepared | None = None) -> None:
        self.open()
        self._forget_old(article.id)
        if self.builder is not None:
            self._delete_built(article.id)
        else:
            self.writer.delete_by_term("id", article.id)
        self.add(article, lang, digest, prepared)

    def _delete_built(self, article_id: str) -> None:
        docnum = self._built_ids.pop(article_id, None)
        if docnum is not None:
            self.builder.delete(docnum)

    def remove(self, article_id: str) -> None:
        self.open()
        self._forget_old(article_id)
        self.clusters.remove(article_id)
        if self.builder is not None:
            self._delete_built(article_id)
        else:
            self.writer.delete_by_term("id", article_id)
            if article_id in self._written:
                self._superseded.add(article_id)
                self._written[article_id] = None

    def _delete_superseded(self) -> None:
        """After the commit: of each id noted twice, only the copy written last stays."""
        writer = self.index.writer()
        try:
            with self.index.searcher() as searcher:
                for article_id in self._superseded:
                    keep = self._written.get(article_id)
                    docnums = sorted(searcher.document_numbers(id=article_id))
                    kept = False
                    for docnum in reversed(docnums):
                        if not kept and keep is not None and \
                                searcher.stored_fields(docnum).get("checksum") == keep:
                            kept = True
                            continue
                        writer.delete_document(docnum)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def finish(self, meta: dict) -> tuple[str, int]:
        if self.old_reader is not None:
            self.old_reader.close()
        changes = self.clusters.update()
        if self.builder is not None:
            clusters = [""] * self.builder.docnum_total
            for article_id, docnum in self._built_ids.items():
                clusters[docnum] = self.clusters.cluster_of(article_id)
            self.builder.add_late_field(CLUSTER_FIELD, clusters)
            built = self.builder.finish()
            self.writer.commit(mergetype=lambda writer, segments: list(segments) + built)
        else:
            self.writer.commit()
            if self._superseded:
                self._delete_superseded()
            self._correct_clusters(changes)
        with self.index.searcher() as searcher:
            documents = searcher.doc_count()
        self.index.close()
        self.vocabulary.save(self.generation)
        self.clusters.save(self.generation)
        meta["duplicates"] = self.clusters.summary()
        meta["documents"] = documents
        storage.write_meta(self.generation, meta)
        storage.publish(self.settings.index_dir, self.generation)
        storage.prune(self.settings.index_dir)
        return self.generation.name, documents

    def _correct_clusters(self, changes: dict[str, str]) -> None:
        """After the commit: every article whose cluster is not the one it was written
        with (a new article that joined a cluster, or an article left alone by this run
        whose cluster changed) is written again with its cluster, from its stored fields."""
        wrong = {article_id: cluster for article_id, cluster in changes.items()
                 if article_id not in self._written_clusters}
        for article_id, written in self._written_clusters.items():
            cluster = self.clusters.cluster_of(article_id)
            if cluster != written:
                wrong[article_id] = cluster
        if not wrong:
            return
        writer = self.index.writer()
        try:
            with self.index.searcher() as searcher:
                for article_id, cluster in sorted(wrong.items()):
                    stored = searcher.document(id=article_id)
                    if stored is None:
                        continue
                    article = Article(id=article_id, title=stored.get("title", ""),
                                      text=stored.get("text", ""),
                                      date=parse_date(stored.get("date")),
                                      source=stored.get("source"),
                                      category=stored.get("category"), url=stored.get("url"),
                                      lang=stored.get("lang"),
                                      authors=tuple(stored.get("authors") or ()))
                    writer.delete_by_term("id", article_id)
                    writer.add_document(**document_fields(
                        article, stored.get("lang"), stored.get("checksum"),
                        prepare(article, self.settings).terms, cluster=cluster))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def abandon(self) -> None:
        if self.builder is not None:
            self.builder.cancel()
        if self.writer is not None:
            try:
                self.writer.cancel()
            except Exception:
                pass
        if self.old_reader is not None:
            self.old_reader.close()
        if self.index is not None:
            self.index.close()


def index_whoosh(paths, settings: Settings, *, rebuild: bool = False, progress=None) -> IndexReport:
    """Index the files and folders ``paths`` into the Whoosh index ``settings.index_dir``.

    ``progress`` is a callable taking ``(bytes_done, bytes_total)`` or ``None``.
    Raises :class:`storage.IndexBusy` when another indexer holds the folder.
    """
    started = time.perf_counter()
    report = IndexReport(rebuilt=rebuild)
    index_dir = Path(settings.index_dir)
    with storage.write_lock(index_dir):
        previous = storage.current_generation(index_dir)
        if previous is not None and not rebuild and not _has_clusters(previous):
            rebuild = report.rebuilt = True  # an index from before clusters: built anew
        meta = {} if rebuild or previous is None else storage.read_meta(previous)
        if meta.get("version") != META_VERSION:
            meta = {}
        table = FileTable(meta.get("files", {}))
        checksums: dict = meta.get("checksums", {})
        try:
            clusters = Clusters.for_settings(settings) if rebuild or previous is None else \
                Clusters.load(previous, settings)
        except StaleClusters as error:
            raise InvalidSetting(f"{error}: index again with --rebuild") from None
        run = _Run(settings, previous, rebuild or previous is None, fast=settings.segment_builder,
                   clusters=clusters)
        run.replace_unknown = previous is not None and not rebuild and not meta
        try:
            if clusters.outdated:  # another threshold: the clusters are made again
                run.open()
            _index_files(paths, settings, run, report, table, checksums,
                         full=rebuild or not meta, progress=progress)
            for article_id in table.vanished(paths):
                run.remove(article_id)
                report.removed += 1
                checksums.pop(article_id, None)
            if run.writer is None or (rebuild and report.added == 0):
                run.abandon()
                report.documents = storage.read_meta(previous).get("documents", 0) if previous else 0
                report.generation = previous.name if previous else None
            else:
                meta = {
                    "version": META_VERSION,
                    "files": table.files,
                    "checksums": checksums,
                    "indexed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                }
                report.generation, report.documents = run.finish(meta)
        except BaseException:
            run.abandon()
            raise
    if run.index is not None:
        # Whoosh's closed readers keep memory maps of their files until the cycle
        # collector runs: a long-lived caller would hold them open (deleted ones too).
        del run
        gc.collect()
    report.seconds = time.perf_counter() - started
    return report


def _has_clusters(generation: Path) -> bool:
    """Whether the index in ``generation`` has the field of near-duplicate clusters."""
    index = whoosh_index.open_dir(str(generation))
    try:
        return CLUSTER_FIELD in index.schema
    finally:
        index.close()


def _index_files(paths, settings, run, report, table: FileTable, checksums, *, full, progress):
    plan = table.plan(paths, full=full)
    report.problems.extend(plan.problems)
    done = 0
    for planned in plan.files:
        if planned.unchanged:
            report.unchanged += table.articles_in(planned.key)
            done += planned.size
    if progress and done:
        progress(done, plan.total_bytes)
    # the stored fields are made ahead only for the segment builder (a fresh index)
    prepared = _prepared_parts([f for f in plan.files if not f.unchanged], settings,
                               stored=run.fast)
    update = None
    complete = True
    try:
        for planned, part, (items, words) in prepared:
            if update is None:
                update, complete = table.begin(planned), True
            if run.counts_files:
                run.vocabulary.add_words(words)
            complete &= _index_items(update, items, run, report, checksums)
            if progress:
                progress(done + part.end, plan.total_bytes)
            if part.last:
                for gone in update.finish(complete):
                    run.remove(gone)
                    report.removed += 1
                    checksums.pop(gone, None)
                update = None
                done += planned.size
    finally:
        prepared.close()


def _workers(settings: Settings) -> int:
    return settings.index_workers or os.cpu_count() or 1


def _warm_up(settings: Settings) -> None:
    """Load what every worker needs (language profiles, the compound lexicon, the MinHash
    of near-duplicate signatures) once, before the workers are forked, so that they share
    it instead of each loading it."""
    sample = "Die Bundesregierung hat am Montag neue Regeln beschlossen."
    detect_language(sample, quick=False)
    if PARTS_FIELD:
        chain = chain_for("de")
        chain.compound_parts(chain.terms(sample))
    signature(" ".join([sample] * 8), Signing.of(settings))


def _parts(files: list[PlannedFile], settings: Settings):
    for planned in files:
        for part in file_parts(planned.path, settings):
            yield planned, part


def _prepared_parts(files: list[PlannedFile], settings: Settings, stored: bool = True):
    """``(planned file, part, prepare_part(part))`` for every part of ``files``, in order;
    in worker processes when it pays.

    Parts are split off lazily and at most two per worker are in flight, so memory
    stays bounded however large a file is and however far the readers get ahead of
    the writer.
    """
    parts = _parts(files, settings)
    workers = _workers(settings)
    if workers < 2 or sum(f.size for f in files) < settings.parallel_min_bytes:
        for planned, part in parts:
            yield planned, part, prepare_part(part, settings, stored)
        return
    _warm_up(settings)
    # fork: the workers start at once with everything imported, and callers'
    # scripts need no ``if __name__ == "__main__"`` guard. A worker that dies
    # breaks the pool, which raises here instead of waiting forever.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=end_with_parent, initargs=(signal.SIGKILL, os.getpid()))
    try:
        pending: deque = deque()
        for planned, part in parts:
            pending.append((planned, part, pool.submit(prepare_part, part, settings, stored)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            planned, part, future = pending.popleft()
            result = future.result()
            for next_planned, next_part in parts:
                pending.append((next_planned, next_part,
                                pool.submit(prepare_part, next_part, settings, stored)))
                break
            # The raw records went to the worker; the part keeps only what the caller reads.
            part.records = []
            yield planned, part, result
    finally:
        parts.close()
        pool.shutdown(wait=True, cancel_futures=True)


def _index_items(update, items, run, report, checksums) -> bool:
    """Index the prepared articles of one part; False when the file could not be read
    whole (a problem with the file itself, not with one of its records)."""
    complete = True
    for item in items:
        if isinstance(item, Problem):
            report.problems.append(item)
            complete &= item.line is not None
            continue
        if isinstance(item, Tally):
            report.count(item)
            continue
        article, lang = item.article, item.lang
        digest = item.digest
        named = update.article_id(article.id)
        if named != article.id:
            article.id = named
            digest = None
        if digest is None:
            digest = checksum(article)
        previous = checksums.get(article.id)
        if previous == digest and update.owner(article.id) == update.key \
                and not update.holds_again(article.id):
            report.unchanged += 1
        elif previous is None:
            if run.replace_unknown:
                run.replace(article, lang, digest, item)
            else:
                run.add(article, lang, digest, item)
            report.added += 1
        else:
            run.replace(article, lang, digest, item)
            report.updated += 1
        checksums[article.id] = digest
        update.claim(article.id)
    return complete
