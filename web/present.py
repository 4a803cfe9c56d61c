"""How results look on the page: German formats, facet links, the histogram, paging.

Everything here works on the dicts of ``SearchResult.to_dict()`` and
``Engine.article()``, the same ones the JSON API returns.
"""

from __future__ import annotations

import math
import re
from html import unescape
from urllib.parse import urlsplit

from babel import Locale
from flask import url_for
from markupsafe import Markup, escape

from .params import SearchParams

MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
          "September", "Oktober", "November", "Dezember")
MONTHS_SHORT = ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.",
                "Sept.", "Okt.", "Nov.", "Dez.")
# Language names in German from the Unicode CLDR (through Babel), so that every code
# langdetect can give (55 of them, "vi", "sw", "zh-cn" …) reads as a word.
LANGUAGES = Locale("de").languages
FACET_LABELS = {"month": "Zeitraum", "source": "Quelle", "lang": "Sprache", "category": "Rubrik"}
FACET_ORDER = ("month", "source", "lang", "category")
FACET_VISIBLE = 8
SORT_LABELS = {"relevance": "Relevanz", "date": "Datum"}
MAX_MONTH_BARS = 120

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_MARK = re.compile(r"(</?mark>)")


# -- formats -------------------------------------------------------------------


def number(value) -> str:
    """``1234`` → ``1.234``."""
    return f"{int(value):,}".replace(",", ".")


def seconds(took_ms) -> str:
    """``12.3`` ms → ``0,012 s``."""
    return f"{float(took_ms) / 1000:.3f}".replace(".", ",") + " s"


def date_parts(value) -> tuple[int, int | None, int | None] | None:
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    if month is not None and not 1 <= month <= 12:
        return (year, None, None)
    return year, month, day


def german_date(value) -> str:
    """``2020-03-02T15:37:31+01:00`` → ``2. März 2020``; ``2021-01`` → ``Januar 2021``."""
    parts = date_parts(value)
    if parts is None:
        return value or ""
    year, month, day = parts
    if month is None:
        return str(year)
    if day is None:
        return f"{MONTHS[month - 1]} {year}"
    return f"{day}. {MONTHS[month - 1]} {year}"


def german_timestamp(value) -> str:
    """``2026-12-03T10:35:55+00:00`` → ``3. Dezember 2026, 10:35 Uhr (UTC)``."""
    match = re.match(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$",
                     value or "")
    if not match:
        return german_date(value)
    day, hour, minute, zone = match.groups()
    zone = "UTC" if zone in ("Z", "+00:00", "+0000", "-00:00") else (f"UTC{zone}" if zone else "")
    return f"{german_date(day)}, {hour}:{minute} Uhr" + (f" ({zone})" if zone else "")


def machine_date(value) -> str | None:
    """The ``datetime`` attribute of a ``<time>``: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    parts = date_parts(value)
    if parts is None:
        return None
    year, month, day = parts
    text = f"{year:04d}"
    if month:
        text += f"-{month:02d}"
        if day:
            text += f"-{day:02d}"
    return text


def month_label(value: str, short: bool = False) -> str:
    parts = date_parts(value)
    if parts is None or parts[1] is None:
        return value
    names = MONTHS_SHORT if short else MONTHS
    return f"{names[parts[1] - 1]} {parts[0]}"


def period_label(date_from: str | None, date_to: str | None) -> str:
    def one(value):
        return month_label(value) if len(value) == 7 else german_date(value)
    if date_from and date_to:
        return one(date_from) if date_from == date_to else f"{one(date_from)} – {one(date_to)}"
    if date_from:
        return f"ab {one(date_from)}"
    return f"bis {one(date_to)}"


def language(code) -> str:
    """``vi`` → ``Vietnamesisch``, ``zh-cn`` → ``Chinesisch``; an unknown code is named as one."""
    if not code:
        return ""
    key = code.strip().lower().replace("_", "-")
    name = LANGUAGES.get(key) or LANGUAGES.get(key.split("-")[0])
    return name or f"Sprachcode „{code}“"


def html_lang(code) -> str | None:
    """A language code fit for an HTML ``lang`` attribute (``de``, ``zh-cn``), else ``None``."""
    if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", code):
        return code.lower()
    return None


def web_url(url) -> str | None:
    """``url`` if it is a web address (http or https), else ``None``."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def host(url) -> str:
    try:
        name = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return name[4:] if name.startswith("www.") else name


def marked(html) -> Markup:
    """Engine HTML (escaped text with ``<mark>`` tags) as markup, nothing but ``<mark>`` kept.

    The text between the tags is unescaped and escaped again, so any other tag
    would show as text: the page trusts no HTML beyond highlighting.
    """
    if not isinstance(html, str):
        return Markup("")
    out = []
    depth = 0
    for piece in _MARK.split(html):
        if piece == "<mark>" and depth == 0:
            depth = 1
            out.append("<mark>")
        elif piece == "</mark>" and depth == 1:
            depth = 0
            out.append("</mark>")
        elif piece:
            out.append(str(escape(unescape(piece))))
    if depth:
        out.append("</mark>")
    return Markup("".join(out))


def ranked(counts, label=None) -> list[dict]:
    """``{value: count}`` as rows, the largest first, each with its German label."""
    rows = [{"value": value, "label": label(value) if label else value, "count": count}
            for value, count in (counts or {}).items()]
    rows.sort(key=lambda row: (-row["count"], row["label"].casefold()))
    return rows


def size(num_bytes) -> str:
    """``27558939`` → ``26,3 MB`` (binary multiples, German decimal comma)."""
    value = float(num_bytes or 0)
    for unit in ("Bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            text = f"{value:.0f}" if unit == "Bytes" else f"{value:.1f}"
            return f"{text.replace('.', ',')} {unit}"
        value /= 1024
    return ""


# -- links ---------------------------------------------------------------------


def search_url(params: SearchParams, **changes) -> str:
    target = params.changed(**changes) if changes else params
    return url_for("pages.search", **target.to_args())


def article_url(article_id: str, params: SearchParams | None = None, *,
                highlight: bool = True) -> str:
    """An article's page; with ``params``, the search it was found with rides along.

    The article page marks the query's words (unless ``highlight`` is off) and
    links back to exactly that result page: query, filters, sort and page.
    """
    args = params.to_args() if params is not None and params.q.strip() else {}
    if args and not highlight:
        args["hl"] = "0"
    return url_for("pages.article", article_id=article_id, **args)


# -- facets ----------------------------------------------------------------------


def _active(params: SearchParams, name: str, value: str) -> bool:
    if name == "month":
        return params.month == value
    return params.chosen(name, value)


def _toggle(params: SearchParams, name: str, value: str, active: bool) -> str:
    """A value's link: it adds the value to those chosen (sources, languages and
    categories take several, OR-ed) or takes it out; a month replaces the period."""
    if name == "month":
        return search_url(params, date_from=None if active else value,
                          date_to=None if active else value)
    return search_url(params.toggled(name, value))


def facet_label(name: str, value: str) -> str:
    if name == "month":
        return month_label(value)
    if name == "lang":
        return language(value)
    return value


def facet_groups(facets: dict, params: SearchParams) -> list[dict]:
    """The facet column: per field its values with counts and a link that toggles it.

    Months run from the oldest to the newest, as the histogram's time axis
    does; the newest ones show and the older ones fold away above them
    (``earlier``). The other fields show the most frequent values first, the
    rest folded away below (``more``). A chosen value always shows.
    """
    groups = []
    for name in FACET_ORDER:
        values = list(facets.get(name) or [])
        if name == "month":
            values.sort(key=lambda v: v["value"])
        items = []
        for entry in values:
            active = _active(params, name, entry["value"])
            items.append({
                "value": entry["value"], "label": facet_label(name, entry["value"]),
                "count": entry["count"], "active": active,
                "url": _toggle(params, name, entry["value"], active),
            })
        if not items:
            continue
        if name == "month":
            folded = items[:-FACET_VISIBLE]
            visible = [i for i in folded if i["active"]] + items[-FACET_VISIBLE:]
            folded = [i for i in folded if not i["active"]]
            groups.append({"name": name, "label": FACET_LABELS[name], "items": visible,
                           "earlier": folded, "more": []})
            continue
        visible = items[:FACET_VISIBLE]
        rest = items[FACET_VISIBLE:]
        visible += [i for i in rest if i["active"]]
        rest = [i for i in rest if not i["active"]]
        groups.append({"name": name, "label": FACET_LABELS[name], "items": visible,
                       "earlier": [], "more": rest})
    return groups


def filter_summary(params: SearchParams) -> list[str]:
    """The filters and sort in force as short German phrases, for titles and labels."""
    parts = []
    for name in ("source", "lang", "category"):
        chosen = getattr(params, name)
        if chosen:
            names = [facet_label(name, value) for value in chosen]
            text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " oder " + names[-1]
            parts.append(f"{FACET_LABELS[name]}: {text}")
    if params.date_from or params.date_to:
        parts.append(f"{FACET_LABELS['month']}: {period_label(params.date_from, params.date_to)}")
    if params.sort != "relevance":
        parts.append(f"sortiert nach {SORT_LABELS.get(params.sort, params.sort)}")
    return parts


def page_title(params: SearchParams, total: int, last_page: int) -> str:
    """``„Impfung“ – Quelle: zeit.de – sortiert nach Datum – Seite 2 von 9``."""
    parts = [f"„{params.q.strip()}“", *filter_summary(params)]
    if params.page > 1 or last_page > 1:
        parts.append(f"Seite {number(params.page)} von {number(max(last_page, params.page))}")
    elif not total:
        parts.append("keine Treffer")
    return " – ".join(parts)


def keep_label(params: SearchParams | None) -> str | None:
    """The label of the header form's "keep" box, or ``None`` when there is nothing to keep."""
    if params is None:
        return None
    if params.has_filters:
        return "Filter und Sortierung beibehalten" if params.sort != "relevance" else "Filter beibehalten"
    return "Sortierung beibehalten" if params.sort != "relevance" else None


def active_filters(params: SearchParams) -> list[dict]:
    """The filters in force, each with a link that removes it."""
    chips = []
    for name in ("source", "lang", "category"):
        for value in getattr(params, name):
            chips.append({"label": FACET_LABELS[name], "value": facet_label(name, value),
                          "url": search_url(params.toggled(name, value))})
    if params.date_from or params.date_to:
        chips.append({"label": FACET_LABELS["month"],
                      "value": period_label(params.date_from, params.date_to),
                      "url": search_url(params, date_from=None, date_to=None)})
    return chips


# -- histogram -------------------------------------------------------------------


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return months


def histogram(months: list[dict], params: SearchParams) -> dict | None:
    """Bars of matches per month (per year when the span is long), each a filter link.

    Months without matches between the first and the last one get an empty
    slot, so the time axis is even. The drawing is an SVG of ``width`` x
    ``height`` user units.

    Month bars repeat the links of the month list beside them, so they are
    for the mouse only (``keyboard`` false: out of the Tab order and hidden
    from screen readers, which reach the same links in the list). Year bars
    have no twin in the list and stay reachable.
    """
    counts = {}
    for entry in months or []:
        value = entry.get("value") or ""
        if re.match(r"^\d{4}-(0[1-9]|1[0-2])$", value):
            counts[value] = counts.get(value, 0) + int(entry.get("count") or 0)
    if not counts:
        return None
    keys = _month_range(min(counts), max(counts))
    by_year = len(keys) > MAX_MONTH_BARS
    if by_year:
        yearly: dict[str, int] = {}
        for month, count in counts.items():
            yearly[month[:4]] = yearly.get(month[:4], 0) + count
        keys = [str(y) for y in range(int(min(yearly)), int(max(yearly)) + 1)]
        counts = yearly
    highest = max(counts.values())
    slot, gap, height = 10, 2, 100
    bars = []
    for position, key in enumerate(keys):
        count = counts.get(key, 0)
        bar_height = max(2, round(count / highest * (height - 4))) if count else 0
        if by_year:
            active = params.date_from == key and params.date_to == key
            label = key
        else:
            active = params.month == key
            label = month_label(key)
        url = None
        if count:
            url = search_url(params, date_from=None if active else key,
                             date_to=None if active else key)
        bars.append({
            "key": key, "label": label, "count": count, "active": active, "url": url,
            "x": position * slot, "slot": slot, "bar_x": position * slot + gap / 2,
            "bar_width": slot - gap, "y": height - bar_height, "height": bar_height,
        })
    return {
        "bars": bars, "width": len(keys) * slot, "height": height, "by_year": by_year,
        "keyboard": by_year,
        "highest": highest, "total": sum(counts.values()),
        "first": month_label(keys[0], short=True) if not by_year else keys[0],
        "last": month_label(keys[-1], short=True) if not by_year else keys[-1],
    }


# -- near-duplicates ---------------------------------------------------------------

ALSO_AT_SHOWN = 2


def _outlet(item: dict) -> str:
    return item.get("source") or host(item.get("url") or "") or "weitere Fassung"


def also_at(hit: dict, params: SearchParams | None = None) -> dict | None:
    """The line under a hit that stands for near-duplicates: "Auch bei: zeit.de,
    tagesspiegel.de (+2)", each outlet a link to its version, the rest counted and
    linked to the list of versions on the hit's article page."""
    duplicates = hit.get("duplicates") or []
    folded = max(int(hit.get("folded") or 0), len(duplicates))
    if not folded:
        return None
    links, seen = [], set()
    for item in duplicates:
        label = _outlet(item)
        if label in seen or len(links) == ALSO_AT_SHOWN:
            continue
        seen.add(label)
        links.append({"label": label, "url": article_url(item["id"], params),
                      "title": " – ".join(v for v in (german_date(item.get("date")),
                                                      item.get("title")) if v)})
    return {"links": links, "more": folded - len(links),
            "more_url": article_url(hit["id"], params) + "#fassungen"}


def compare_url(first_id: str, second_id: str) -> str:
    return url_for("pages.compare", a=first_id, b=second_id)


# -- paging ----------------------------------------------------------------------


def last_page(total: int, params: SearchParams, max_page: int) -> int:
    return min(max(1, math.ceil(total / params.per_page)), max_page)


def pagination(total: int, params: SearchParams, max_page: int) -> dict | None:
    """Links to the previous, next and nearby pages, all filters kept."""
    last = last_page(total, params, max_page)
    if last <= 1 and params.page == 1:
        return None
    page = params.page
    numbers = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    items = []
    previous = None
    for n in numbers:
        if previous is not None and n - previous > 1:
            items.append({"gap": True})
        items.append({"number": n, "current": n == page,
                      "url": search_url(params, page=n)})
        previous = n
    return {
        "items": items, "last": last, "page": page,
        "previous": search_url(params, page=page - 1) if 1 < page <= last + 1 else None,
        "next": search_url(params, page=page + 1) if page < last else None,
    }


def sort_links(params: SearchParams) -> list[dict]:
    return [
        {"value": value, "label": label, "current": params.sort == value,
         "url": search_url(params, sort=value)}
        for value, label in (("relevance", "Relevanz"), ("date", "Datum"))
    ]


FILTERS = {
    "number": number, "seconds": seconds, "german_date": german_date,
    "machine_date": machine_date, "language": language, "html_lang": html_lang,
    "web_url": web_url, "host": host, "marked": marked,
    "month_label": month_label, "size": size, "german_timestamp": german_timestamp,
    "also_at": also_at,
}
