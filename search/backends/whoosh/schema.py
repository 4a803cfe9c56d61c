"""The one place that builds the Whoosh schema of the fields in :mod:`search.fields`."""

from __future__ import annotations

from whoosh import fields

from .analyzer import NewsAnalyzer

# The field of an article's near-duplicate cluster (search.duplicates): a term (the
# members of a cluster are found by it) and a column (searches collapse on it).
CLUSTER_FIELD = "cluster"


def build_schema() -> fields.Schema:
    """Stored fields are what a hit shows; indexed ones are what a query can use.

    ``title`` and ``text`` are indexed from term lists made by the language
    chains (positions kept for phrases); the clean text itself is stored for
    snippets and the article page. ``parts`` holds the terms of the parts of
    the compounds in both (``Flüchtlingspolitik`` → ``fluchtling``, ``polit``),
    searched beside them with a lower weight; it keeps frequencies only (no positions:
    phrases are matched in title and text). ``date_sort`` orders and filters by time,
    the facet fields keep columns so that counts need no stored fields. ``cluster``
    holds the article's near-duplicate cluster (:mod:`search.duplicates`): a term
    that finds the members of a cluster, and a column that searches collapse on.
    """
    analyzer = NewsAnalyzer("de")
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=analyzer, stored=True, phrase=True),
        text=fields.TEXT(analyzer=analyzer, stored=True, phrase=True),
        parts=fields.TEXT(analyzer=analyzer, phrase=False),
        date=fields.STORED(),
        date_sort=fields.NUMERIC(numtype=int, bits=64, signed=False, sortable=True),
        month=fields.ID(sortable=True),
        lang=fields.ID(stored=True, sortable=True),
        source=fields.ID(stored=True, sortable=True),
        category=fields.ID(stored=True, sortable=True),
        url=fields.STORED(),
        authors=fields.STORED(),
        checksum=fields.STORED(),
        cluster=fields.ID(sortable=True),
    )


def add_missing_fields(writer) -> None:
    """Give an index made before a field existed that field, so that an update can store it
    (``authors`` came after the first indexes were built)."""
    current = build_schema()
    for name in current.names():
        if name not in writer.schema:
            writer.add_field(name, current[name])
