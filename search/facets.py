"""Facet counts in the one shape every backend answers.

A backend counts, for each facet field of :mod:`search.fields`, how many
matches hold each value; :func:`ordered` turns those counts into what the
page, the API and the CLI show: months in time order, every other facet by
count (most first), ties by value. Empty values are not shown.
"""

from __future__ import annotations

from .fields import FACET_FIELDS


def ordered(counts: dict) -> dict:
    """``{facet: [{"value", "count"}, …]}`` from ``{facet: {value: count}}``."""
    facets = {}
    for name in FACET_FIELDS:
        values = [{"value": value.decode("utf-8") if isinstance(value, bytes) else value,
                   "count": count}
                  for value, count in (counts.get(name) or {}).items()
                  if value not in (None, "", b"")]
        if name == "month":
            values.sort(key=lambda v: v["value"])
        else:
            values.sort(key=lambda v: (-v["count"], v["value"]))
        facets[name] = values
    return facets


def empty() -> dict:
    return {name: [] for name in FACET_FIELDS}
