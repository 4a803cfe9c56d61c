"""Reading search parameters from a query string: one parser for the page and the API.

The query text itself is never invalid. Paging, sorting and dates are checked
by :meth:`search.Engine.check_params`, so the page, the API and the CLI agree
on what is allowed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from search import Engine, InvalidParameter

# Filters that take several values (``source=a&source=b``: either source).
MULTI = ("lang", "source", "category")

_WHOLE = re.compile(r"^[0-9]{1,9}$")
MAX_ID_CHARS = 200

# Query-string names, in the order links are built with.
ARG_NAMES = ("q", "sort", "lang", "source", "category", "from", "to", "collapse", "per_page",
             "page")
_SWITCH = {"0": False, "1": True}


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    lang: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    default_per_page: int = 10
    # Near-duplicates folded under the best-ranked one (search.duplicates).
    collapse: bool = True
    default_collapse: bool = True

    @property
    def filters(self) -> dict:
        return {"lang": self.lang, "source": self.source, "category": self.category,
                "date_from": self.date_from, "date_to": self.date_to}

    def chosen(self, name: str, value: str) -> bool:
        """Whether ``value`` is among the chosen values of filter ``name`` (any case)."""
        return value.casefold() in {v.casefold() for v in getattr(self, name)}

    def toggled(self, name: str, value: str) -> "SearchParams":
        """A copy with ``value`` added to filter ``name``, or taken out if it is chosen."""
        current = getattr(self, name)
        if self.chosen(name, value):
            kept = tuple(v for v in current if v.casefold() != value.casefold())
        else:
            kept = (*current, value)
        return self.changed(**{name: kept})

    @property
    def has_filters(self) -> bool:
        return any(self.filters.values())

    @property
    def month(self) -> str | None:
        """The month filtered to, when ``from`` and ``to`` name the same month."""
        if self.date_from and self.date_from == self.date_to and len(self.date_from) == 7:
            return self.date_from
        return None

    def engine_kwargs(self) -> dict:
        return dict(page=self.page, per_page=self.per_page, sort=self.sort,
                    collapse=self.collapse, **self.filters)

    def changed(self, **changes) -> "SearchParams":
        """A copy with ``changes``; any change but the page goes back to page 1."""
        if "page" not in changes:
            changes["page"] = 1
        return replace(self, **changes)

    def without_filters(self) -> "SearchParams":
        """The same query from a clean state: no filters, by relevance, page 1."""
        return self.changed(lang=(), source=(), category=(), date_from=None,
                            date_to=None, sort="relevance")

    def to_args(self) -> dict:
        """The query-string arguments that give this search, defaults left out."""
        values = {
            "q": self.q or None,
            "sort": self.sort if self.sort != "relevance" else None,
            "lang": list(self.lang) or None, "source": list(self.source) or None,
            "category": list(self.category) or None,
            "from": self.date_from, "to": self.date_to,
            "collapse": int(self.collapse) if self.collapse != self.default_collapse else None,
            "per_page": self.per_page if self.per_page != self.default_per_page else None,
            "page": self.page if self.page != 1 else None,
        }
        return {name: values[name] for name in ARG_NAMES if values[name] is not None}


def _whole_number(raw: str | None):
    """An int for a whole number, else the raw value (which the engine then rejects)."""
    if raw is None:
        return None
    return int(raw) if _WHOLE.match(raw) else raw


def _optional(raw: str | None) -> str | None:
    """Filters: an empty value means no filter."""
    if raw is None:
        return None
    raw = raw.strip()
    return raw or None


def _several(args, name: str) -> tuple[str, ...]:
    """Every value given for ``name`` (``source=a&source=b``), empty ones left out,
    each once regardless of case."""
    found: dict[str, str] = {}
    for raw in args.getlist(name):
        value = raw.strip()
        if value:
            found.setdefault(value.casefold(), value)
    return tuple(found.values())


def parse_search(args, engine: Engine) -> SearchParams:
    """Search parameters from a request's ``args``; raises :class:`InvalidParameter`."""
    default_per_page = engine.settings.per_page
    page = _whole_number(args.get("page"))
    per_page = _whole_number(args.get("per_page"))
    sort = args.get("sort")
    date_from = _optional(args.get("from"))
    date_to = _optional(args.get("to"))
    page, per_page = engine.check_params(
        page=1 if page is None else page,
        per_page=default_per_page if per_page is None else per_page,
        sort="relevance" if sort is None else sort,
        date_from=date_from, date_to=date_to)
    default_collapse = engine.settings.collapse_duplicates
    collapse = parse_switch(args.get("collapse"), "collapse", default_collapse)
    # Only the part of the query that is searched is kept: every link of the page and
    # every echo carries that, never more than was asked (no amplification).
    return SearchParams(
        q=args.get("q", "")[: engine.settings.max_query_chars], page=page, per_page=per_page,
        sort="relevance" if sort is None else sort,
        lang=_several(args, "lang"), source=_several(args, "source"),
        category=_several(args, "category"),
        date_from=date_from, date_to=date_to, default_per_page=default_per_page,
        collapse=collapse, default_collapse=default_collapse)


def parse_switch(raw: str | None, name: str, default: bool) -> bool:
    """``0`` or ``1`` (absent or empty: the default); raises :class:`InvalidParameter`."""
    if raw is None or raw == "":
        return default
    value = _SWITCH.get(raw)
    if value is None:
        raise InvalidParameter(name, f"{name} must be 0 or 1")
    return value


def compared_ids(args) -> tuple[str, str] | None:
    """The ids ``a`` and ``b`` of a comparison of two articles; ``None`` when one of them
    cannot be an article id (no article has it). Raises :class:`InvalidParameter` when
    one is missing."""
    ids = []
    for name in ("a", "b"):
        value = args.get(name, "")
        if not value:
            raise InvalidParameter(name, f"{name} must be given: the id of an article")
        ids.append(value)
    return (ids[0], ids[1]) if all(valid_article_id(i) for i in ids) else None


def valid_article_id(article_id: str) -> bool:
    """An id that may be looked up: 1 to 200 characters, no control characters."""
    if not isinstance(article_id, str) or not 0 < len(article_id) <= MAX_ID_CHARS:
        return False
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in article_id)


__all__ = ["InvalidParameter", "SearchParams", "compared_ids", "parse_search", "parse_switch",
           "valid_article_id"]
