"""Running a parsed query on a Whoosh index: compiling, ranking, facets.

This is the only module that turns the query tree of :mod:`search.query`
into Whoosh queries.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh import scoring, sorting

from . import query as q
from .analysis import WORD, chain_for, query_terms
from .schema import FACET_FIELDS
from .settings import Settings

MIN_PREFIX_CHARS = 2
MAX_PREFIX_TERMS = 2000


def date_bounds(start: str, end: str) -> tuple[int, int]:
    """Inclusive sort-key bounds for ``start``..``end`` (YYYY, YYYY-MM or YYYY-MM-DD)."""
    def key(value: str, fill: str) -> int:
        digits = value.replace("-", "")
        return int(digits + fill * (14 - len(digits)))
    return key(start, "0"), key(end, "9")


def weighting(settings: Settings):
    return scoring.BM25F(B=settings.bm25_b, K1=settings.bm25_k1)


class Compiler:
    """Turns a query tree into a Whoosh query for one index snapshot."""

    def __init__(self, reader, langs, settings: Settings):
        self.reader = reader
        self.langs = tuple(langs) or ("de",)
        self.settings = settings
        self.boosts = {"title": settings.title_boost, "text": 1.0}

    def fields(self, field):
        return (field,) if field in q.TEXT_FIELDS else q.TEXT_FIELDS

    def compile(self, node):
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _word(self, node: q.Word):
        if node.prefix and len(node.text) >= MIN_PREFIX_CHARS:
            return self._prefix(node)
        tokens = WORD.findall(node.text)
        if not tokens:
            return None
        if len(tokens) > 1:
            return self._phrase(q.Phrase(" ".join(tokens), node.field))
        terms = query_terms(tokens[0], self.langs)
        if not terms:
            return None
        return self._any_field(node.field, terms)

    def _any_field(self, field, terms):
        clauses = [wq.Term(f, t, boost=self.boosts[f]) for f in self.fields(field) for t in terms]
        return clauses[0] if len(clauses) == 1 else wq.Or(clauses)

    def _prefix(self, node: q.Word):
        lowered = node.text.lower()
        stems = {lowered} | {chain_for(lang).stem(lowered) for lang in self.langs}
        stems = {s for s in stems if len(s) >= MIN_PREFIX_CHARS}
        clauses = []
        for field in self.fields(node.field):
            for stem in sorted(stems):
                expanded = list(self.reader.expand_prefix(field, stem))[:MAX_PREFIX_TERMS]
                clauses.extend(wq.Term(field, t.decode("utf-8") if isinstance(t, bytes) else t,
                                       boost=self.boosts[field]) for t in expanded)
        if not clauses:
            return wq.Term("text", "\u0000none")
        return wq.Or(clauses)

    def _phrase(self, node: q.Phrase):
        variants = set()
        for lang in self.langs:
            terms = tuple(chain_for(lang).terms(node.text))
            if terms:
                variants.add(terms)
        if not variants:
            return None
        clauses = []
        for field in self.fields(node.field):
            for terms in sorted(variants):
                if len(terms) == 1:
                    clauses.append(wq.Term(field, terms[0], boost=self.boosts[field]))
                else:
                    clauses.append(wq.Phrase(field, list(terms), slop=1, boost=self.boosts[field]))
        return clauses[0] if len(clauses) == 1 else wq.Or(clauses)

    def _filter(self, node: q.Filter):
        return filter_term(self.reader, node.field, node.value)

    def _daterange(self, node: q.DateRange):
        low, high = date_bounds(node.start, node.end)
        return wq.NumericRange("date_sort", low, high)

    def _not(self, node: q.Not):
        inner = self.compile(node.node)
        return wq.Not(inner) if inner is not None else None

    def _and(self, node: q.And):
        parts = [p for p in (self.compile(n) for n in node.nodes) if p is not None]
        if not parts:
            return None
        if all(isinstance(p, wq.Not) for p in parts):
            parts.insert(0, wq.Every())
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _or(self, node: q.Or):
        parts = [p for p in (self.compile(n) for n in node.nodes) if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def any_of(self, node: q.And):
        """The ranked-OR reading of a plain word query (the "any" mode)."""
        parts = [p for p in (self.compile(n) for n in node.nodes) if p is not None]
        return wq.Or(parts, scale=0.9) if len(parts) > 1 else (parts[0] if parts else None)


def filter_term(reader, field: str, value: str):
    """A term for a facet value, matched without regard to case."""
    if field == "lang":
        return wq.Term("lang", value.strip().lower())
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


def build_filter(reader, *, lang=None, source=None, category=None, date_from=None, date_to=None):
    parts = []
    if lang:
        parts.append(filter_term(reader, "lang", lang))
    if source:
        parts.append(filter_term(reader, "source", source))
    if category:
        parts.append(filter_term(reader, "category", category))
    if date_from or date_to:
        low, _ = date_bounds(date_from or "0001", date_from or "0001")
        _, high = date_bounds(date_to or "9999", date_to or "9999")
        parts.append(wq.NumericRange("date_sort", low, high))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def run(searcher, whoosh_query, *, filter_query, limit: int, sort: str):
    """Search with facets over all matches; returns Whoosh results."""
    if sort == "date":
        sortedby = [sorting.FieldFacet("date_sort", reverse=True), sorting.ScoreFacet()]
    else:
        sortedby = [sorting.ScoreFacet(), sorting.FieldFacet("date_sort", reverse=True)]
    groupedby = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACET_FIELDS}
    return searcher.search(whoosh_query, filter=filter_query, limit=limit,
                           sortedby=sortedby, groupedby=groupedby)


def page_hits(results, start: int, end: int, sort: str):
    """``(stored fields, score)`` of the hits from ``start`` to ``end``.

    Sorted results carry their sort key as the score: the relevance is the
    negated score facet in it.
    """
    for hit in results[start:end]:
        key = hit.score
        if isinstance(key, tuple):
            key = -(key[1] if sort == "date" else key[0])
        yield hit.fields(), key


def facet_counts(results) -> dict:
    facets = {}
    for name in FACET_FIELDS:
        groups = results.groups(name)
        values = [
            {"value": key.decode("utf-8") if isinstance(key, bytes) else key, "count": count}
            for key, count in groups.items() if key not in (None, "", b"")
        ]
        if name == "month":
            values.sort(key=lambda v: v["value"])
        else:
            values.sort(key=lambda v: (-v["count"], v["value"]))
        facets[name] = values
    return facets


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
