"""The line chart of the trends page, drawn on the server as SVG geometry.

The page may run no script and no inline style (the app's Content Security
Policy forbids both), so the chart is plain SVG elements whose positions are
computed here and whose colours and dash patterns come from the style sheet
(``series-1`` … ``series-6``: each series differs in colour *and* dash, so
that it can be told apart without colour). Every point is a link to the
search for its interval, with a ``<title>`` naming interval, count and rate.
A gap in a line marks an interval without any article (no rate).
"""

from __future__ import annotations

import math
from datetime import date

from flask import url_for

from .present import MONTHS, MONTHS_SHORT, number

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 44
X_LABELS = 8
Y_TICKS = 5


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def decimal(value: float) -> str:
    """German number: ``1234.5`` → ``1.234,5`` (at most two decimals, none for whole ones)."""
    if float(value).is_integer():
        return number(value)
    whole, _, fraction = f"{value:.2f}".rstrip("0").partition(".")
    return number(int(whole)) + ("," + fraction if fraction else "")


def interval_label(key: str, short: bool = False) -> str:
    """``2020-03`` → ``März 2020``; ``2020-W10`` → ``KW 10/2020``; ``2020-03-02`` → ``2. März 2020``."""
    if "-W" in key:
        year, week = key.split("-W")
        return f"KW {int(week)}/{year}"
    parts = [int(p) for p in key.split("-")]
    names = MONTHS_SHORT if short else MONTHS
    if len(parts) == 2:
        return f"{names[parts[1] - 1]} {parts[0]}"
    day = date(*parts)
    if short:
        return f"{day.day}.{day.month}.{day.year % 100:02d}"
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def line_chart(result: dict, measure: str, filters: dict) -> dict | None:
    """Everything the template draws: per series its line (as runs of points, broken
    where a value is missing) and its points with links; the axes' ticks."""
    intervals = result["intervals"]
    if not intervals:
        return None
    count = len(intervals)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def value(point):
        return point["rate"] if measure == "rate" else point["count"]

    highest = max((value(p) or 0 for s in result["series"] for p in s["points"]), default=0)
    top = nice_ceiling(highest)

    def x(index: int) -> float:
        return round(LEFT + (plot_width * index / (count - 1) if count > 1 else plot_width / 2), 2)

    def y(amount: float) -> float:
        return round(TOP + plot_height * (1 - amount / top), 2)

    # The interval's search: the series' query, the interval's days, the other filters.
    extra = {k: v for k, v in filters.items() if v and k in ("lang", "source", "category")}
    series = []
    for number_, item in enumerate(result["series"], start=1):
        runs, run, points = [], [], []
        for index, point in enumerate(item["points"]):
            amount = value(point)
            if amount is None:
                if run:
                    runs.append(run)
                run = []
                continue
            px, py = x(index), y(amount)
            run.append(f"{px},{py}")
            rate = "–" if point["rate"] is None else decimal(point["rate"])
            points.append({
                "x": px, "y": py,
                "url": url_for("pages.search", q=item["query"], **{"from": point["from"],
                                                                    "to": point["to"]}, **extra),
                "title": f"{item['query']} – {interval_label(point['key'])}: "
                         f"{number(point['count'])} von {number(point['total'])} Artikeln "
                         f"({rate} je 10.000)",
            })
        if run:
            runs.append(run)
        series.append({"number": number_, "query": item["query"], "total": item["total"],
                       "reason": item["reason"], "lines": [" ".join(r) for r in runs],
                       "points": points})
    step = max(1, math.ceil(count / X_LABELS))
    x_ticks = [{"x": x(i), "label": interval_label(intervals[i]["key"], short=True)}
               for i in range(0, count, step)]
    y_ticks = [{"y": y(top * i / Y_TICKS), "label": decimal(top * i / Y_TICKS)}
               for i in range(Y_TICKS + 1)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": HEIGHT - BOTTOM, "series": series, "x_ticks": x_ticks,
            "y_ticks": y_ticks, "measure": measure,
            "label_y": HEIGHT - BOTTOM + 18}
