"""Facet counts in the one shape every backend answers, and what filters each facet.

A backend counts, for each facet field of :mod:`search.fields`, how many
matches hold each value; :func:`ordered` turns those counts into what the
page, the API and the CLI show: months in time order, every other facet by
count (most first), ties by value. Empty values are not shown.

Facets are multi-select, as in the facet columns of Elasticsearch or
Meilisearch front ends: the values chosen within one facet are OR-ed, the
facets AND-ed, and each facet is counted over the matches of every *other*
filter (``OWN_FILTERS`` names the filter parameters that belong to each
facet), so its other values keep their counts once one is chosen and can be
added with a click. The month facet belongs to the date range (``from``/``to``).
"""

from __future__ import annotations

from .fields import FACET_FIELDS

# The search parameters that filter by each facet.
OWN_FILTERS = {"month": ("date_from", "date_to"), "lang": ("lang",), "source": ("source",),
               "category": ("category",)}
# The facets whose parameters take several values (OR-ed).
MULTI_VALUE = ("lang", "source", "category")


def values(value) -> tuple[str, ...]:
    """The values of a multi-value filter: one string or several, empty ones left out,
    each kept once (regardless of case), in the order given."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"a filter value must be a string, not {type(item).__name__}")
        text = item.strip()
        if text:
            found.setdefault(text.casefold(), text)
    return tuple(found.values())


def filtered_facets(filters: dict) -> list[str]:
    """The facets one of whose own filters is set in ``filters``."""
    return [name for name, own in OWN_FILTERS.items() if any(filters.get(key) for key in own)]


def without_own(filters: dict, name: str) -> dict:
    """``filters`` less the ones of facet ``name``."""
    return {key: (None if key in OWN_FILTERS[name] else value) for key, value in filters.items()}


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
