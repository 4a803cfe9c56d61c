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
from . import kwic as kwic_rules
from . import query as q
from . import trends as trend_rules
from .analysis import chain_for, query_terms, stopword_langs
from .backends import open_backend
from .export import Export, row_of
from .ranking.rerank import rerank as rerank_hits, weights_of
from .highlight import highlight_paragraphs, snippet
from .compare import word_diff
from .results import SearchResult, article_dict, hit_dict, version_dict
from .settings import Settings
from .storage import IndexMissing

SORTS = ("relevance", "date")
_DATE_PARAM = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")
# The reasons a result gives when there is nothing to search for.
EMPTY_QUERY = "empty query"
NO_SEARCHABLE_WORDS = "the query holds only stopwords or no searchable words"
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
               date_to: str | None = None, *, suggest: bool = True,
               collapse: bool | None = None, exact_totals: bool | None = None) -> SearchResult:
        """Search the index. Never raises on the query text itself.

        ``lang``, ``source`` and ``category`` take one value or several: several
        values of one filter are OR-ed, the filters AND-ed, and each facet is
        counted without its own filter (:mod:`search.facets`).

        With ``collapse`` (default: the setting ``collapse_duplicates``) the best-ranked
        article of each near-duplicate cluster stands for the others, which its hit
        lists (:mod:`search.duplicates`); totals and facets count articles either way.

        With ``exact_totals=False`` (default: the setting ``exact_totals``) only the hits
        are needed, as Elasticsearch's ``track_total_hits: false``: facets are not
        counted, and an OR, a prefix or the any mode scores only the articles that can
        reach the page (search/backends/whoosh/topk.py); the total is then the number
        of articles seen, a lower bound flagged ``total_is_estimate``.

        Raises :class:`InvalidParameter` for bad paging, sort or dates and
        :class:`storage.IndexMissing` when there is no index.
        """
        started = time.perf_counter()
        page, per_page = self.check_params(page=page, per_page=per_page, sort=sort,
                                           date_from=date_from, date_to=date_to)
        collapse = self.settings.collapse_duplicates if collapse is None else bool(collapse)
        exact = self.settings.exact_totals if exact_totals is None else bool(exact_totals)
        lang, source, category = self._filter_values(lang, source, category)
        text, cleaned, tree = self._read_query(query)
        result = SearchResult(query=text, page=page, per_page=per_page, collapse=collapse)
        deadline = budget.Deadline(self.settings.search_time_budget_seconds)
        with self.session() as session, budget.within(deadline):
            if tree is None:
                result.reason = EMPTY_QUERY
            else:
                self._run(session, tree, result, sort=sort, collapse=collapse, exact=exact,
                          lang=lang, source=source, category=category, date_from=date_from,
                          date_to=date_to)
                if suggest and result.reason is None and not deadline.passed():
                    result.suggestion = self._suggestion(
                        session, cleaned, tree, result.total,
                        dict(lang=lang, source=source, category=category,
                             date_from=date_from, date_to=date_to))
            result.shards = session.shards
            if result.shards is not None and result.shards["answered"] == 0:
                result.reason = result.reason or "no shard of the index answered"
        result.timed_out = deadline.hit
        # Out of time, the total counts the matches found by then: it may be short too.
        result.total_is_estimate = result.total_is_estimate or deadline.hit
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    @staticmethod
    def _filter_values(*filters) -> tuple:
        """``lang``, ``source`` and ``category`` as the backends take them: each one value,
        several (OR-ed), or none."""
        try:
            return tuple(facet_rules.values(v) for v in filters)
        except TypeError as error:
            raise InvalidParameter("filter", str(error)) from None

    def _read_query(self, query) -> tuple[str, str, object]:
        """``(text, cleaned, tree)`` of a query: the text as echoed (lone surrogates, the
        undecodable bytes of a command line, are no text and no valid JSON: they are
        echoed and searched as U+FFFD), what is searched of it, and its tree (``None``
        when there is nothing to search for). Only the first ``max_query_chars``
        characters are searched, and only they are echoed (no response repeats more of a
        query than was searched)."""
        text = query[: self.settings.max_query_chars] if isinstance(query, str) else ""
        text = _SURROGATE.sub("\ufffd", text)
        cleaned = _CONTROL.sub(" ", text).strip()
        return text, cleaned, q.parse(cleaned) if cleaned else None

    @staticmethod
    def _compiled(session, tree) -> tuple[object, str | None]:
        """``(compiled, reason)``: the query compiled for ``session``, or ``None`` and why
        there is nothing to search for (the ``reason`` a result gives)."""
        if tree is None:
            return None, EMPTY_QUERY
        compiled = session.compile(tree)
        return compiled, (NO_SEARCHABLE_WORDS if compiled is None else None)

    def _widens(self, tree, total: int) -> bool:
        """Whether a plain word query with ``total`` hits is read as "any of the words":
        fewer hits than a page of the default size (the bar does not move with the page
        size asked for, so every page, an export and the one big page of the same query
        read the query the same way)."""
        return (total < self.settings.per_page and q.is_plain_conjunction(tree)
                and len(q.words_of(tree)) >= self.settings.any_mode_min_terms)

    def _reranks(self, tree, sort: str) -> bool:
        """Whether the first hits are re-ranked by what they hold of the query
        (:mod:`search.ranking.rerank`)."""
        return (sort == "relevance" and self.settings.rerank_depth > 0
                and any(weights_of(self.settings)) and q.is_plain_conjunction(tree))

    def _run(self, session, tree, result, *, sort, collapse=False, exact=True, **filters):
        compiled = session.compile(tree)
        if compiled is None:
            result.reason = NO_SEARCHABLE_WORDS
            return
        start = (result.page - 1) * result.per_page
        limit = result.page * result.per_page
        # Plain words by relevance: the first hits are re-ranked by what they hold of the
        # query (search.ranking.rerank), so they are fetched from the first one on.
        depth = self.settings.rerank_depth
        rerank = self._reranks(tree, sort) and start < depth
        fetch_start, fetch_limit = (0, max(limit, depth)) if rerank else (start, limit)
        hits = session.run(compiled, filters=filters, start=fetch_start, limit=fetch_limit, sort=sort,
                           collapse=collapse, exact=exact)
        # Fewer hits than a page of the default size: the ranked OR instead.
        if self._widens(tree, hits.total) and not budget.passed():
            loose = session.any_of(tree)
            if loose is not None:
                hits = session.run(loose, filters=filters, start=fetch_start, limit=fetch_limit,
                                   sort=sort, collapse=collapse, exact=exact)
                result.mode = "any"
                compiled = loose
        result.total = hits.total
        if not hits.total and _only_stopwords(tree, session.langs):
            # Each word is dropped by some language of the index, and the languages
            # that keep one have no article holding them all.
            result.reason = NO_SEARCHABLE_WORDS
        result.total_is_estimate = hits.estimate
        result.facets = dict(hits.facets) if exact else facet_rules.empty()
        result.stories = hits.stories if collapse else None
        # Each filtered facet counted over the other filters only (multi-select).
        for name in facet_rules.filtered_facets(filters) if exact else ():
            if name in hits.facets_apart or budget.passed():
                continue  # counted in the same pass, or no time left (then as filtered)
            others = session.run(compiled, filters=facet_rules.without_own(filters, name),
                                 start=0, limit=1, sort="relevance")
            result.facets[name] = others.facets[name]
        items = hits.items
        if rerank:
            items = rerank_hits(items, self._typed_words(session, tree), self.settings,
                                session.term_positions)[start:limit]
        terms = session.highlight_terms(compiled)
        for stored, score in items:
            result.hits.append(self._hit(stored, score, terms, hits.folded.get(stored["id"])))

    @staticmethod
    def _typed_words(session, tree) -> list[str]:
        """The query's words that some language of the index searches, as typed."""
        return [w.text for w in q.words_of(tree) if query_terms(w.text, session.langs)]

    def _hit(self, stored: dict, score, terms, folded=None) -> dict:
        chain = chain_for(stored.get("lang"))
        settings = self.settings
        html, plain = snippet(stored.get("text", ""), terms, chain,
                              fragments=settings.snippet_fragments,
                              chars=settings.snippet_chars,
                              scan_chars=settings.snippet_scan_chars,
                              fast=settings.fast_snippets)
        return hit_dict(stored, score, html, plain, folded)

    def _suggestion(self, session, text, tree, total, filters):
        """A corrected query ("Meinten Sie"): below ``suggest_below_hits`` hits, one that
        finds more; below ``suggest_more_below_hits``, one that finds
        ``suggest_more_factor`` times as many (``Merkl Lockdown``: 3 hits, ``Merkel
        Lockdown``: hundreds). Only words found in few articles are looked up then, so
        the work stays bounded: one vocabulary look-up per rare word, one search."""
        settings = self.settings
        if total >= max(settings.suggest_below_hits, settings.suggest_more_below_hits):
            return None
        some_hits = total >= settings.suggest_below_hits
        max_own = settings.suggest_rare_word_count if some_hits else None
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
                min_count=self.settings.suggest_min_word_count, max_own=max_own)
            if better:
                if word.text[:1].isupper():
                    better = better[:1].upper() + better[1:]
                corrected = re.sub(rf"(?<![\w]){re.escape(word.text)}(?![\w])", better, corrected, count=1)
                changed = True
        if not changed or corrected == text:
            return None
        candidate = SearchResult(query=corrected, page=1, per_page=1)
        self._run(session, q.parse(corrected), candidate, sort="relevance", **filters)
        needed = total * settings.suggest_more_factor if some_hits else total
        if candidate.total <= needed or budget.passed():
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
        """A stored article, or ``None``. With ``query``, its paragraphs highlighted. Its
        ``cluster`` is the id of its near-duplicate cluster, its ``versions`` the other
        articles in it."""
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
            cluster, versions = session.cluster(article_id)
            return article_dict(stored, paragraphs_html, cluster, versions)

    def compare(self, first_id: str, second_id: str) -> dict | None:
        """What differs between two articles (two versions of one story, typically): both
        in brief and the word-level difference of their titles and texts
        (:func:`search.compare.word_diff`); ``None`` when one of them is not there."""
        if not all(isinstance(i, str) and i and not _SURROGATE.search(i)
                   for i in (first_id, second_id)):
            return None
        with self.session() as session:
            first, second = session.document(first_id), session.document(second_id)
        if first is None or second is None:
            return None
        most = self.settings.diff_max_words
        return {"first": version_dict(first), "second": version_dict(second),
                "title": word_diff(first.get("title", ""), second.get("title", ""), most),
                "text": word_diff(first.get("text", ""), second.get("text", ""), most)}

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

    # -- studying the news: trends, keyword in context, export -----------------

    def _whole(self, name: str, value, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidParameter(name, f"{name} must be a whole number from {low} to {high}")
        return value

    def trends(self, queries, *, interval: str = "month", lang: Filter = None,
               source: Filter = None, category: Filter = None,
               date_from: str | None = None, date_to: str | None = None) -> dict:
        """Matches of each query per interval against all articles then (:mod:`search.trends`).

        ``queries``: up to ``trends_max_series`` query texts (none: the totals alone).
        Raises :class:`InvalidParameter` for a bad interval, too many series or
        intervals, or bad dates.
        """
        started = time.perf_counter()
        settings = self.settings
        if isinstance(queries, str):
            queries = [queries]
        queries = list(queries or [])
        if len(queries) > settings.trends_max_series:
            raise InvalidParameter("q", f"at most {settings.trends_max_series} queries (series) "
                                        f"can be compared at once")
        if interval not in trend_rules.INTERVALS:
            raise InvalidParameter("interval", "interval must be 'month', 'week' or 'day'")
        self.check_params(date_from=date_from, date_to=date_to)
        lang, source, category = self._filter_values(lang, source, category)
        filters = dict(lang=lang, source=source, category=category, date_from=date_from,
                       date_to=date_to)
        with self.session() as session:
            totals_by_day = session.day_counts(None, filters=filters)
            span = trend_rules.data_span(totals_by_day, interval)
            intervals = []
            if span is not None:
                count = trend_rules.count_intervals(*span, interval)
                if count > settings.trends_max_intervals:
                    raise InvalidParameter(
                        "interval", f"{count:,} {interval}s from {span[0]} to {span[1]} are more "
                                    f"than {settings.trends_max_intervals:,}: choose a longer "
                                    f"interval or a shorter span (from, to)")
                intervals = trend_rules.axis(
                    *span, interval, trend_rules.bound_day(date_from, end=False),
                    trend_rules.bound_day(date_to, end=True))
            buckets = trend_rules.Buckets(intervals, interval)
            totals, imprecise = buckets.count(totals_by_day)
            series = []
            for query in queries:
                text, _, tree = self._read_query(query)
                compiled, reason = self._compiled(session, tree)
                counts = [0] * len(intervals)
                if compiled is not None:
                    counts, _ = buckets.count(session.day_counts(compiled, filters=filters))
                points = [{"key": item["key"], "from": item["from"], "to": item["to"],
                           "count": count, "total": total,
                           "rate": trend_rules.rate(count, total)}
                          for item, count, total in zip(intervals, counts, totals)]
                series.append({"query": text, "total": sum(counts), "reason": reason,
                               "points": points})
            shards = session.shards
        result = {
            "interval": interval,
            "from": intervals[0]["from"] if intervals else None,
            "to": intervals[-1]["to"] if intervals else None,
            "filters": {"lang": list(lang), "source": list(source),
                        "category": list(category), "from": date_from, "to": date_to},
            "per": trend_rules.PER,
            "intervals": [{**item, "total": total}
                          for item, total in zip(trend_rules.public(intervals), totals)],
            "series": series,
            "imprecise": imprecise,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if shards is not None:
            result["shards"] = dict(shards)
        return result

    def kwic(self, query: str, *, page: int = 1, per_page: int | None = None,
             width: int | None = None, sort: str = "date", lang: Filter = None,
             source: Filter = None, category: Filter = None,
             date_from: str | None = None, date_to: str | None = None) -> dict:
        """Every occurrence of ``query`` in its matching articles with its context
        (:mod:`search.kwic`); one page of the lines, ordered by ``sort``
        (``date``, ``left`` or ``right``)."""
        started = time.perf_counter()
        settings = self.settings
        page = self._whole("page", page, 1, settings.max_page)
        per_page = self._whole("per_page", settings.kwic_per_page if per_page is None
                               else per_page, 1, settings.kwic_max_per_page)
        width = self._whole("width", settings.kwic_width if width is None else width,
                            1, settings.kwic_max_width)
        if sort not in kwic_rules.SORTS:
            raise InvalidParameter("sort", "sort must be 'date', 'left' or 'right'")
        self.check_params(date_from=date_from, date_to=date_to)
        lang, source, category = self._filter_values(lang, source, category)
        filters = dict(lang=lang, source=source, category=category, date_from=date_from,
                       date_to=date_to)
        text, _, tree = self._read_query(query)
        result = {"query": text, "page": page, "per_page": per_page, "width": width,
                  "sort": sort, "total": 0, "articles": 0, "articles_read": 0,
                  "cut": False, "message": None, "reason": None,
                  "limits": {"articles": settings.kwic_max_articles,
                             "lines": settings.kwic_max_lines},
                  "lines": []}
        lines: list[dict] = []
        with self.session() as session:
            compiled, result["reason"] = self._compiled(session, tree)
            if compiled is not None:
                matching = session.run(compiled, filters=filters, start=0, limit=1,
                                       sort="date").total
                found = kwic_rules.patterns(
                    tree, lambda node: session.highlight_terms(session.compile(node)),
                    session.langs)
                read, lines_cut = 0, False
                for batch in session.stream(compiled, filters=filters, sort="date",
                                            batch=min(settings.export_batch,
                                                      settings.kwic_max_articles)):
                    for stored, _ in batch:
                        if read >= settings.kwic_max_articles or lines_cut:
                            break
                        read += 1
                        chain = chain_for(stored.get("lang"))
                        for field in kwic_rules.FIELDS:
                            value = stored.get(field) or ""
                            for start, end in kwic_rules.occurrences(
                                    value, field, found, chain,
                                    scan_chars=settings.snippet_scan_chars,
                                    fast=settings.fast_snippets):
                                if len(lines) >= settings.kwic_max_lines:
                                    lines_cut = True
                                    break
                                lines.append(kwic_rules.line(stored, field, value, start, end,
                                                             width))
                    if read >= settings.kwic_max_articles or lines_cut:
                        break
                result["articles"] = matching
                result["articles_read"] = read
                result["message"] = kwic_rules.cut_message(read, matching, lines_cut,
                                                           settings.kwic_max_lines)
                result["cut"] = result["message"] is not None
            if session.shards is not None:
                result["shards"] = dict(session.shards)
        result["total"] = len(lines)
        start = (page - 1) * per_page
        result["lines"] = kwic_rules.order(lines, sort)[start:start + per_page]
        result["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return result

    def export(self, query: str, *, sort: str = "relevance", lang: Filter = None,
               source: Filter = None, category: Filter = None,
               date_from: str | None = None, date_to: str | None = None) -> Export:
        """Every hit of the search for ``query`` as export rows (:mod:`search.export`), in
        the search's order, at most ``export_max_rows``. What the search found is known
        before the first row (``total``, ``rows``, ``message``); the rows are made as they
        are read. Raises :class:`InvalidParameter` like :meth:`search`."""
        self.check_params(sort=sort, date_from=date_from, date_to=date_to)
        lang, source, category = self._filter_values(lang, source, category)
        filters = dict(lang=lang, source=source, category=category, date_from=date_from,
                       date_to=date_to)
        return Export(self._export_rows(query, sort, filters))

    def _export_rows(self, query, sort, filters):
        settings = self.settings
        _, _, tree = self._read_query(query)
        with self.session() as session:
            compiled, reason = self._compiled(session, tree)
            total, mode = 0, "all"
            if compiled is not None:
                total = session.run(compiled, filters=filters, start=0, limit=1,
                                    sort=sort).total
                if self._widens(tree, total):
                    loose = session.any_of(tree)
                    if loose is not None:
                        compiled, mode = loose, "any"
                        total = session.run(compiled, filters=filters, start=0, limit=1,
                                            sort=sort).total
            rows = min(total, settings.export_max_rows)
            yield {"total": total, "rows": rows, "mode": mode, "reason": reason}
            if not rows:
                return
            terms = session.highlight_terms(compiled)
            batches = session.stream(compiled, filters=filters, sort=sort,
                                     batch=settings.export_batch)
            if self._reranks(tree, sort):
                # The first hits in the order of the result page (search.ranking.rerank).
                words = self._typed_words(session, tree)
                batches = _head_reranked(batches, settings.rerank_depth,
                                         lambda items: rerank_hits(items, words, settings,
                                                                   session.term_positions))
            written = 0
            for batch in batches:
                for stored, score in batch:
                    if written >= rows:
                        return
                    yield row_of(self._hit(stored, score, terms))
                    written += 1


def _head_reranked(batches, depth: int, rerank):
    """``batches`` with the first ``depth`` items (or more: whole batches) given to
    ``rerank`` as one list."""
    head: list | None = []
    for batch in batches:
        if head is None:
            yield batch
            continue
        head.extend(batch)
        if len(head) >= depth:
            yield rerank(head)
            head = None
    if head:
        yield rerank(head)


def _only_stopwords(tree, langs) -> bool:
    """True when every positive word of ``tree`` is a stopword in some of ``langs``."""
    words = q.words_of(tree)
    return bool(words) and all(stopword_langs(word.text, langs) for word in words)


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
