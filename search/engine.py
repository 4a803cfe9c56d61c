"""The public search API: one :class:`Engine` for the CLI, the page and the JSON API."""

from __future__ import annotations

import re
import threading
import weakref
import time
from contextlib import contextmanager
from collections.abc import Sequence
from pathlib import Path

from . import budget
from . import facets as facet_rules
from . import query as q
from .analysis import chain_for, query_terms
from .backends import open_backend
from .ranking.exactness import prefer_exact, query_forms
from .highlight import highlight_paragraphs, snippet
from .results import SearchResult, article_dict, hit_dict
from .settings import Settings
from .storage import IndexMissing

SORTS = ("relevance", "date")
_DATE_PARAM = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# No article id holds a lone surrogate (the corpus reader replaces them), and the
# index cannot even look one up.
_SURROGATE = re.compile("[\ud800-\udfff]")
# A filter parameter: no filter, one value, or several (OR-ed).
Filter = str | Sequence[str] | None


class InvalidParameter(ValueError):
    """A search parameter (not the query text) is out of range or malformed."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


class Engine:
    """Search one index: a Whoosh index folder, or a Xapian cluster.

    The backend (:mod:`search.backends`) is chosen by the settings: a Whoosh
    index folder by default; ``Settings(backend="xapian")``, remote shards
    (``remote``) or a cluster folder mean the Xapian backend. Both answer the
    same calls with the same shapes; on the Xapian backend a search result
    also says how many shards answered.

    The engine follows the index on disk: after a reindex the next call uses
    the new generation (Whoosh) or the shards' latest commit (Xapian).
    """

    def __init__(self, settings: Settings | str | Path):
        if not isinstance(settings, Settings):
            settings = Settings(index_dir=Path(settings))
        self.settings = settings
        self._lock = threading.Lock()
        self._backend = None

    # -- backend -----------------------------------------------------------

    @property
    def backend(self):
        """The backend; opened on first use (raises :class:`storage.IndexMissing`)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = open_backend(self.settings)
        return self._backend

    @contextmanager
    def session(self):
        """A session of the backend for one call: what it reads of the index stays the
        same within it (for tools and tests that look below the engine's answers)."""
        backend = self.backend
        try:
            with backend.session() as session:
                yield session
        except IndexMissing:
            if getattr(self.settings, "backend", None) is None:
                with self._lock:  # no index yet: look again next time (it may be a cluster)
                    if self._backend is backend:
                        self._backend = None
                        backend.close()
            raise

    def warm(self) -> None:
        """Read ahead what every search of the index reads (on the Whoosh backend: the
        date and facet columns and field lengths of each segment), and the vocabulary
        that spelling and the health check read (1.2 s on 28,000 articles), so that the
        first searches and the first ``/healthz`` do not; a server calls this once before
        it answers. Nothing happens when there is no index yet."""
        try:
            warm = getattr(self.backend, "warm", None)
            if warm is not None:
                warm()
            with self.session() as session:
                _probe_word(session)
        except IndexMissing:
            pass

    def close(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

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
               sort: str = "relevance", lang: Filter = None, source: Filter = None,
               category: Filter = None, date_from: str | None = None,
               date_to: str | None = None, *, suggest: bool = True) -> SearchResult:
        """Search the index. Never raises on the query text itself.

        ``lang``, ``source`` and ``category`` take one value or several: several
        values of one filter are OR-ed, the filters AND-ed, and each facet is
        counted without its own filter (:mod:`search.facets`).

        Raises :class:`InvalidParameter` for bad paging, sort or dates and
        :class:`storage.IndexMissing` when there is no index.
        """
        started = time.perf_counter()
        page, per_page = self.check_params(page=page, per_page=per_page, sort=sort,
                                           date_from=date_from, date_to=date_to)
        try:
            lang, source, category = (facet_rules.values(v) for v in (lang, source, category))
        except TypeError as error:
            raise InvalidParameter("filter", str(error)) from None
        # Lone surrogates (undecodable bytes of a command line) are no text and no valid
        # JSON: they are echoed and searched as U+FFFD.
        # Only the first max_query_chars characters are searched, and only they are echoed.
        text = query[: self.settings.max_query_chars] if isinstance(query, str) else ""
        text = _SURROGATE.sub("\ufffd", text)
        result = SearchResult(query=text, page=page, per_page=per_page)
        cleaned = _CONTROL.sub(" ", text).strip()
        tree = q.parse(cleaned) if cleaned else None
        deadline = budget.Deadline(self.settings.search_time_budget_seconds)
        with self.session() as session, budget.within(deadline):
            if tree is None:
                result.reason = "empty query"
            else:
                self._run(session, tree, result, sort=sort, lang=lang, source=source,
                          category=category, date_from=date_from, date_to=date_to)
                if suggest and result.reason is None and not deadline.passed():
                    result.suggestion = self._suggestion(
                        session, cleaned, tree, result.total,
                        dict(lang=lang, source=source, category=category,
                             date_from=date_from, date_to=date_to))
            result.shards = session.shards
            if result.shards is not None and result.shards["answered"] == 0:
                result.reason = result.reason or "no shard of the index answered"
        result.timed_out = deadline.hit
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _run(self, session, tree, result, *, sort, **filters):
        compiled = session.compile(tree)
        if compiled is None:
            result.reason = "the query holds only stopwords or no searchable words"
            return
        start = (result.page - 1) * result.per_page
        limit = result.page * result.per_page
        # Plain words by relevance: the first hits are re-ranked by the words they hold
        # as typed (search.ranking.exactness), so they are fetched from the first one on.
        depth = self.settings.exact_form_depth
        rerank = (sort == "relevance" and self.settings.exact_form_boost > 0
                  and q.is_plain_conjunction(tree) and start < depth)
        fetch_start, fetch_limit = (0, max(limit, depth)) if rerank else (start, limit)
        hits = session.run(compiled, filters=filters, start=fetch_start, limit=fetch_limit, sort=sort)
        # Fewer hits than a page of the default size: the ranked OR instead. The bar does
        # not move with the page size asked for, so every page (and the one big page of
        # the same query) reads the query the same way.
        if (hits.total < self.settings.per_page and q.is_plain_conjunction(tree)
                and len(q.words_of(tree)) >= self.settings.any_mode_min_terms
                and not budget.passed()):
            loose = session.any_of(tree)
            if loose is not None:
                hits = session.run(loose, filters=filters, start=fetch_start, limit=fetch_limit,
                                   sort=sort)
                result.mode = "any"
                compiled = loose
        result.total = hits.total
        result.facets = dict(hits.facets)
        # Each filtered facet counted over the other filters only (multi-select).
        for name in facet_rules.filtered_facets(filters):
            if name in hits.facets_apart or budget.passed():
                continue  # counted in the same pass, or no time left (then as filtered)
            others = session.run(compiled, filters=facet_rules.without_own(filters, name),
                                 start=0, limit=1, sort="relevance")
            result.facets[name] = others.facets[name]
        items = hits.items
        if rerank:
            words = [w.text for w in q.words_of(tree) if query_terms(w.text, session.langs)]
            items = prefer_exact(items, query_forms(words), self.settings.exact_form_boost,
                                 depth)[start:limit]
        terms = session.highlight_terms(compiled)
        for stored, score in items:
            result.hits.append(self._hit(stored, score, terms))

    def _hit(self, stored: dict, score, terms) -> dict:
        chain = chain_for(stored.get("lang"))
        settings = self.settings
        html, plain = snippet(stored.get("text", ""), terms, chain,
                              fragments=settings.snippet_fragments,
                              chars=settings.snippet_chars,
                              scan_chars=settings.snippet_scan_chars,
                              fast=settings.fast_snippets)
        return hit_dict(stored, score, html, plain)

    def _suggestion(self, session, text, tree, total, filters):
        if total >= self.settings.suggest_below_hits:
            return None
        corrected = text
        changed = False
        # Each word looked up is a search of the vocabulary (~15 ms on 28,000 articles):
        # at most suggest_max_words of them, and none once the time is up.
        words = [word for word in q.words_of(tree) if not word.prefix]
        for word in words[: self.settings.suggest_max_words]:
            if budget.passed():
                return None
            better = session.vocabulary.correct(
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
        self._run(session, q.parse(corrected), candidate, sort="relevance", **filters)
        if candidate.total <= total or budget.passed():
            return None
        return {"query": corrected, "total": candidate.total}

    # -- health ------------------------------------------------------------

    def health(self) -> dict:
        """Whether the index answers: ``{"status": "ok"}``, or ``{"status": "failing",
        "reason": ...}`` (on a sharded backend also ``"shards"``).

        Opens the current generation, checks its files against the sizes they were
        written with (where the backend can) and runs one cheap query that reads
        postings and a stored article (the most common word of the index that is no
        stopword, one hit). The reason names no path. Raises
        :class:`storage.IndexMissing` when there is no index.
        """
        try:
            with self.session() as session:
                damage = getattr(session, "damage", None)
                problems = damage() if damage is not None else []
                if problems:
                    return {"status": "failing",
                            "reason": "damaged index files: " + "; ".join(problems[:5])}
                probe = SearchResult(query="", page=1, per_page=1)
                word = _probe_word(session)
                if word is not None:
                    self._run(session, q.parse(word), probe, sort="relevance")
                    if probe.total == 0 and probe.reason is None and session.shards is None:
                        count = session.vocabulary.counts[word]
                        return {"status": "failing",
                                "reason": f"a search for {word!r}, a word of {count:,} "
                                          f"articles, found none"}
                shards = session.shards
        except IndexMissing:
            raise
        except Exception as error:  # noqa: BLE001 - whatever fails, health says so
            return {"status": "failing", "reason": f"the index cannot be searched: "
                                                   f"{type(error).__name__}: {_no_paths(error)}"}
        health = {"status": "ok"}
        if shards is not None:
            health["shards"] = shards
            if shards["answered"] == 0:
                health.update(status="failing", reason="no shard of the index answered")
        return health

    def version(self) -> str | None:
        """A value that changes whenever the index switches to a new generation (cheap: no
        search), or ``None`` when the backend cannot tell without searching."""
        try:
            backend = self.backend
        except IndexMissing:
            return None
        version = getattr(backend, "version", None)
        return version() if version is not None else None

    # -- articles ----------------------------------------------------------

    def article(self, article_id: str, query: str | None = None) -> dict | None:
        """A stored article, or ``None``. With ``query``, its paragraphs highlighted."""
        if not isinstance(article_id, str) or not article_id or _SURROGATE.search(article_id):
            return None
        with self.session() as session:
            stored = session.document(article_id)
            if stored is None:
                return None
            paragraphs_html = None
            if query:
                tree = q.parse(_CONTROL.sub(" ", query)[: self.settings.max_query_chars])
                compiled = session.compile(tree) if tree else None
                terms = session.highlight_terms(compiled) if compiled is not None else frozenset()
                paragraphs_html = highlight_paragraphs(stored.get("text", ""), terms,
                                                       chain_for(stored.get("lang")),
                                                       fast=self.settings.fast_snippets)
            return article_dict(stored, paragraphs_html)

    def more_like(self, article_id: str, n: int = 5) -> list[dict]:
        """Up to ``n`` articles most like ``article_id`` (by its distinctive terms)."""
        if not isinstance(article_id, str) or not article_id or _SURROGATE.search(article_id):
            return []
        with self.session() as session:
            return [self._hit(stored, score, frozenset())
                    for stored, score in session.more_like(article_id, n)]

    def stats(self) -> dict:
        """What the index holds: documents, languages, sources, dates, size."""
        with self.session() as session:
            return session.stats()


# The word each vocabulary's health probe searches, by vocabulary (one pass over its
# counts the first time).
_PROBES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_ABSOLUTE_PATH = re.compile(r"(?:[A-Za-z]:)?[/\\](?:[^\s'\"/\\]+[/\\])*([^\s'\"/\\]*)")


def _probe_word(session) -> str | None:
    """The most common word of the index that is not a stopword of its languages
    (``None`` for an index without a vocabulary)."""
    vocabulary = session.vocabulary
    try:
        return _PROBES[vocabulary]
    except KeyError:
        pass
    stop = set().union(*(chain_for(lang).stopwords for lang in session.langs))
    word = max((w for w in vocabulary.counts if len(w) >= 4 and w not in stop),
               key=vocabulary.counts.__getitem__, default=None)
    _PROBES[vocabulary] = word
    return word


def _no_paths(error: BaseException) -> str:
    """The message of ``error`` with every absolute path cut to its last part."""
    return _ABSOLUTE_PATH.sub(r"\1", str(error))[:300]
