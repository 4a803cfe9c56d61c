"""The public search API: one :class:`Engine` for the CLI, the page and the JSON API."""

from __future__ import annotations

import queue
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq

from . import query as q
from . import storage
from .analysis import chain_for, has_stemmer
from .highlight import highlight_paragraphs, snippet
from .results import SearchResult, article_dict, hit_dict
from .searching import (Compiler, build_filter, facet_counts, highlight_terms, page_hits,
                        run, weighting)
from .settings import Settings
from .spelling import Vocabulary

SORTS = ("relevance", "date")
_DATE_PARAM = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class InvalidParameter(ValueError):
    """A search parameter (not the query text) is out of range or malformed."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


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

    @contextmanager
    def searcher(self):
        try:
            searcher = self._pool.get_nowait()
        except queue.Empty:
            searcher = self.index.searcher(weighting=weighting(self.settings))
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


class Engine:
    """Search one index folder.

    The engine follows the index on disk: after a reindex the next call uses
    the new generation, and the old one is closed once no call uses it.
    """

    def __init__(self, settings: Settings | str | Path):
        if not isinstance(settings, Settings):
            settings = Settings(index_dir=Path(settings))
        self.settings = settings
        self._lock = threading.Lock()
        self._current: _Snapshot | None = None
        self._token = None

    # -- snapshots ---------------------------------------------------------

    @contextmanager
    def _snapshot(self):
        snapshot = self._acquire()
        try:
            yield snapshot
        finally:
            self._release(snapshot)

    def _acquire(self) -> _Snapshot:
        token = storage.current_token(self.settings.index_dir)
        with self._lock:
            if self._current is None or token != self._token:
                generation = storage.require_generation(self.settings.index_dir)
                if self._current is None or generation != self._current.generation:
                    fresh = _Snapshot(generation, self.settings)
                    old, self._current = self._current, fresh
                    if old is not None:
                        old.retired = True
                        if old.users == 0:
                            old.close()
                self._token = token
            self._current.users += 1
            return self._current

    def _release(self, snapshot: _Snapshot) -> None:
        with self._lock:
            snapshot.users -= 1
            if snapshot.retired and snapshot.users == 0:
                snapshot.close()

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                if self._current.users == 0:
                    self._current.close()
                self._current = None
                self._token = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- parameters --------------------------------------------------------

    def check_params(self, *, page=1, per_page=None, sort="relevance", date_from=None,
                     date_to=None) -> tuple[int, int]:
        """Validate paging, sorting and date parameters; raises :class:`InvalidParameter`."""
        per_page = self.settings.per_page if per_page is None else per_page
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= self.settings.max_page:
            raise InvalidParameter("page", f"page must be a whole number from 1 to {self.settings.max_page}")
        if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= self.settings.max_per_page:
            raise InvalidParameter("per_page", f"per_page must be a whole number from 1 to {self.settings.max_per_page}")
        if sort not in SORTS:
            raise InvalidParameter("sort", "sort must be 'relevance' or 'date'")
        for name, value in (("from", date_from), ("to", date_to)):
            if value is not None and (not isinstance(value, str) or not _DATE_PARAM.match(value)):
                raise InvalidParameter(name, f"{name} must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
        if date_from and date_to and date_from[:len(date_to)] > date_to[:len(date_from)]:
            raise InvalidParameter("from", "from must not be after to")
        return page, per_page

    # -- searching ---------------------------------------------------------

    def search(self, query: str, page: int = 1, per_page: int | None = None,
               sort: str = "relevance", lang: str | None = None, source: str | None = None,
               category: str | None = None, date_from: str | None = None,
               date_to: str | None = None, *, suggest: bool = True) -> SearchResult:
        """Search the index. Never raises on the query text itself.

        Raises :class:`InvalidParameter` for bad paging, sort or dates and
        :class:`storage.IndexMissing` when there is no index.
        """
        started = time.perf_counter()
        page, per_page = self.check_params(page=page, per_page=per_page, sort=sort,
                                           date_from=date_from, date_to=date_to)
        text = query if isinstance(query, str) else ""
        result = SearchResult(query=text, page=page, per_page=per_page)
        cleaned = _CONTROL.sub(" ", text)[: self.settings.max_query_chars].strip()
        tree = q.parse(cleaned) if cleaned else None
        with self._snapshot() as snapshot, snapshot.searcher() as searcher:
            if tree is None:
                result.reason = "empty query"
            else:
                self._run(snapshot, searcher, tree, result, sort=sort, lang=lang, source=source,
                          category=category, date_from=date_from, date_to=date_to)
                if suggest and result.reason is None:
                    result.suggestion = self._suggestion(
                        snapshot, searcher, cleaned, tree, result.total,
                        dict(lang=lang, source=source, category=category,
                             date_from=date_from, date_to=date_to))
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _run(self, snapshot, searcher, tree, result, *, sort, **filters):
        reader = searcher.reader()
        compiler = Compiler(reader, snapshot.langs, self.settings)
        compiled = compiler.compile(tree)
        if compiled is None:
            result.reason = "the query holds only stopwords or no searchable words"
            return
        filter_query = build_filter(reader, **filters)
        limit = result.page * result.per_page
        hits = run(searcher, compiled, filter_query=filter_query, limit=limit, sort=sort)
        if (len(hits) < result.per_page and q.is_plain_conjunction(tree)
                and len(q.words_of(tree)) >= self.settings.any_mode_min_terms):
            loose = compiler.any_of(tree)
            if loose is not None:
                hits = run(searcher, loose, filter_query=filter_query, limit=limit, sort=sort)
                result.mode = "any"
                compiled = loose
        result.total = len(hits)
        result.facets = facet_counts(hits)
        terms = highlight_terms(compiled, reader)
        start = (result.page - 1) * result.per_page
        for stored, score in page_hits(hits, start, limit, sort):
            result.hits.append(self._hit(stored, score, terms))

    def _hit(self, stored: dict, score, terms) -> dict:
        chain = chain_for(stored.get("lang"))
        settings = self.settings
        html, plain = snippet(stored.get("text", ""), terms, chain,
                              fragments=settings.snippet_fragments,
                              context=settings.snippet_context_chars,
                              lead_chars=settings.snippet_lead_chars)
        return hit_dict(stored, score, html, plain)

    def _suggestion(self, snapshot, searcher, text, tree, total, filters):
        if total >= self.settings.suggest_below_hits:
            return None
        corrected = text
        changed = False
        for word in q.words_of(tree):
            if word.prefix:
                continue
            better = snapshot.vocabulary.correct(
                word.text, max_edits=self.settings.suggest_max_edits,
                min_count=self.settings.suggest_min_word_count)
            if better:
                if word.text[:1].isupper():
                    better = better[:1].upper() + better[1:]
                corrected = re.sub(rf"(?<![\w]){re.escape(word.text)}(?![\w])", better, corrected, count=1)
                changed = True
        if not changed or corrected == text:
            return None
        candidate = SearchResult(query=corrected, page=1, per_page=1)
        self._run(snapshot, searcher, q.parse(corrected), candidate, sort="relevance", **filters)
        if candidate.total <= total:
            return None
        return {"query": corrected, "total": candidate.total}

    # -- articles ----------------------------------------------------------

    def article(self, article_id: str, query: str | None = None) -> dict | None:
        """A stored article, or ``None``. With ``query``, its paragraphs highlighted."""
        if not isinstance(article_id, str) or not article_id:
            return None
        with self._snapshot() as snapshot, snapshot.searcher() as searcher:
            stored = searcher.document(id=article_id)
            if stored is None:
                return None
            paragraphs_html = None
            if query:
                tree = q.parse(_CONTROL.sub(" ", query)[: self.settings.max_query_chars])
                compiled = Compiler(searcher.reader(), snapshot.langs, self.settings).compile(tree) if tree else None
                terms = highlight_terms(compiled, searcher.reader()) if compiled is not None else frozenset()
                paragraphs_html = highlight_paragraphs(stored.get("text", ""), terms,
                                                       chain_for(stored.get("lang")))
            return article_dict(stored, paragraphs_html)

    def more_like(self, article_id: str, n: int = 5) -> list[dict]:
        """Up to ``n`` articles most like ``article_id`` (by its distinctive terms)."""
        with self._snapshot() as snapshot, snapshot.searcher() as searcher:
            docnum = searcher.document_number(id=article_id)
            if docnum is None:
                return []
            stored = searcher.stored_fields(docnum)
            chain = chain_for(stored.get("lang"))
            reader = searcher.reader()
            counts: dict[str, int] = {}
            for term in chain.terms(stored.get("title", "") + "\n" + stored.get("text", "")[:20000]):
                counts[term] = counts.get(term, 0) + 1
            total_docs = max(1, reader.doc_count())
            scored = []
            for term, tf in counts.items():
                df = reader.doc_frequency("text", term)
                if df <= 1 or df > total_docs * 0.2 or len(term) < 3:
                    continue
                scored.append((tf * (1 + (total_docs / df)) ** 0.5, term))
            scored.sort(reverse=True)
            top = [wq.Term("text", term, boost=weight) for weight, term in scored[:20]]
            if not top:
                return []
            results = searcher.search(wq.Or(top), limit=n + 1,
                                      mask=wq.Term("id", stored["id"]))
            related = []
            for hit in results[:n]:
                fields = hit.fields()
                related.append(self._hit(fields, hit.score, frozenset()))
            return related

    def stats(self) -> dict:
        """What the index holds: documents, languages, sources, dates, size."""
        with self._snapshot() as snapshot, snapshot.searcher() as searcher:
            reader = searcher.reader()
            result = run(searcher, wq.Every(), filter_query=None, limit=1, sort="relevance")
            facets = facet_counts(result)
            months = [v["value"] for v in facets["month"]]
            return {
                "documents": reader.doc_count(),
                "languages": {v["value"]: v["count"] for v in facets["lang"]},
                "sources": {v["value"]: v["count"] for v in facets["source"]},
                "categories": {v["value"]: v["count"] for v in facets["category"]},
                "first_date": months[0] if months else None,
                "last_date": months[-1] if months else None,
                "size_bytes": storage.size_on_disk(snapshot.generation),
                "indexed_at": snapshot.meta.get("indexed_at"),
                "generation": snapshot.generation.name,
            }
