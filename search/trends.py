"""Trends: how often queries match per month, week or day, against all articles then.

A series is one query in the full query language. For every interval it
gives the articles matching the query, all articles of that interval (the
same filters applied: a trend restricted to one source is measured against
that source), and the rate per 10,000 articles, so that a month with more
articles does not look like more interest.

Everything is counted from the index's date column, never from stored
articles: the backend answers each query with one count per day
(:meth:`search.backends.base.Session.day_counts`) and the days are summed
into intervals here. Three series over all 28,041 FANG articles take 7-18 ms
on the Whoosh backend and 28-49 ms on two Xapian shards, whose counts of all
articles per day are kept until a shard commits (``benchmarks/trends.py``).

Intervals: ``month`` (calendar months), ``week`` (ISO weeks, Monday to
Sunday, named ``2020-W10``) and ``day``. The axis runs from the first to the
last day holding an article within the span asked for (``from``/``to``, both
optional), so an open bound does not add empty years. Articles dated to a
month only count in monthly trends; in weekly and daily ones they are left
out of counts and totals alike, and the answer says how many (``imprecise``).

Each series is read as written: all of its words must match (a search of
few hits may widen a plain word query to "any of the words"; a trend never
does, so that every interval is counted the same way).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import numpy as np

INTERVALS = ("month", "week", "day")
PER = 10_000  # rates are per this many articles


def day_of(key: int) -> date | None:
    """The date of a day key ``YYYYMMDD``; ``None`` for a month or year key (day 00)."""
    year, rest = divmod(int(key), 10_000)
    month, day = divmod(rest, 100)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def bound_day(value: str | None, *, end: bool) -> date | None:
    """The first (or with ``end`` the last) day of ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``,
    as a date filter reads it: a day past its month's end (``2021-02-30``) bounds like the
    month's last day, year 0 like the first year."""
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    year = min(max(parts[0], 1), 9999)
    if len(parts) == 1:
        return date(year, 12, 31) if end else date(year, 1, 1)
    first = date(year, parts[1], 1)
    last = _month_end(first)
    if len(parts) == 2:
        return last if end else first
    if parts[2] > last.day:
        return last if end else last + timedelta(days=1) if last < date.max else last
    return date(year, parts[1], parts[2])


def _month_end(first: date) -> date:
    return date(first.year, 12, 31) if first.month == 12 else _next_month(first) - timedelta(days=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def interval_start(day: date, interval: str) -> date:
    if interval == "month":
        return day.replace(day=1)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day


def interval_after(start: date, interval: str) -> date | None:
    """The first day after the interval that starts on ``start`` (``None`` past 9999)."""
    try:
        if interval == "month":
            return _next_month(start)
        return start + timedelta(days=7 if interval == "week" else 1)
    except (ValueError, OverflowError):
        return None


def interval_key(start: date, interval: str) -> str:
    """``2020-03`` (month), ``2020-W10`` (ISO week), ``2020-03-02`` (day)."""
    if interval == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if interval == "week":
        year, week, _ = start.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return start.isoformat()


def count_intervals(first: date, last: date, interval: str) -> int:
    """How many intervals the axis from ``first`` to ``last`` has (both days included)."""
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    start = interval_start(first, interval)
    step = 7 if interval == "week" else 1
    return (last - start).days // step + 1


def axis(first: date, last: date, interval: str,
         low: date | None, high: date | None) -> list[dict]:
    """The intervals from ``first`` to ``last``; each with its key and the days it covers
    (clipped to the span ``low``..``high`` asked for, so that its search is exact)."""
    intervals = []
    start = interval_start(first, interval)
    while start is not None and start <= last:
        after = interval_after(start, interval)
        end = after - timedelta(days=1) if after is not None else date.max
        shown_from = max(start, low) if low else start
        shown_to = min(end, high) if high else end
        if interval == "month" and shown_from == start and shown_to == end:
            span_from = span_to = interval_key(start, "month")
        else:
            span_from, span_to = shown_from.isoformat(), shown_to.isoformat()
        intervals.append({"key": interval_key(start, interval), "from": span_from,
                          "to": span_to, "start": start, "after": after})
        start = after
    return intervals


class Buckets:
    """The intervals of an axis: which one each day key falls in, worked out for all the
    keys of a series at once with numpy."""

    def __init__(self, intervals: list[dict], interval: str):
        self.interval = interval
        self.size = len(intervals)
        self.origin = intervals[0]["start"] if intervals else None

    def count(self, days: dict[int, int]) -> tuple[list[int], int]:
        """The counts of ``days`` (``{YYYYMMDD: n}``) per interval, and how many were dated
        too coarsely for the interval (a month key in a weekly trend, a year key in any)."""
        if not days or not self.size:
            return [0] * self.size, 0
        keys = np.fromiter(days.keys(), dtype=np.int64, count=len(days))
        numbers = np.fromiter(days.values(), dtype=np.int64, count=len(days))
        year, month, day = keys // 10_000, keys // 100 % 100, keys % 100
        months = (year - 1970) * 12 + month - 1
        origin = self.origin
        if self.interval == "month":
            valid = month > 0
            position = months - ((origin.year - 1970) * 12 + origin.month - 1)
        else:
            valid = (month > 0) & (day > 0)
            dates = (months.astype("datetime64[M]").astype("datetime64[D]")
                     + np.maximum(day - 1, 0).astype("timedelta64[D]"))
            position = (dates - np.datetime64(origin, "D")).astype(np.int64)
            if self.interval == "week":
                position //= 7
        inside = valid & (position >= 0) & (position < self.size)
        counts = np.bincount(position[inside], weights=numbers[inside], minlength=self.size)
        return counts.astype(np.int64).tolist(), int(numbers[~valid].sum())


def rate(count: int, total: int) -> float | None:
    """Matches per 10,000 articles of the interval; ``None`` where it holds none."""
    if not total:
        return None
    return round(count * PER / total, 4)


def data_span(totals: dict[int, int], interval: str) -> tuple[date, date] | None:
    """The first and the last day holding an article (month keys as their month's first
    and last day in monthly trends; left out of the others)."""
    days = []
    for key in totals:
        day = day_of(key)
        if day is None and interval == "month" and key % 100 == 0 and (key // 100) % 100:
            first = date(key // 10_000, (key // 100) % 100, 1)
            days.extend((first, _month_end(first)))
        elif day is not None:
            days.append(day)
    if not days:
        return None
    return min(days), max(days)


def public(intervals: list[dict]) -> list[dict]:
    """The intervals as the answer shows them (key and the dates their searches use)."""
    return [{"key": item["key"], "from": item["from"], "to": item["to"]} for item in intervals]


CSV_COLUMNS = ("query", "interval", "from", "to", "count", "total", "rate_per_10000")


def to_csv(result: dict) -> str:
    """The numbers of a trend answer as CSV, one row per series and interval (a long
    table: every spreadsheet and data frame reads it as it is)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for series in result["series"]:
        for point in series["points"]:
            writer.writerow((series["query"], point["key"], point["from"], point["to"],
                             point["count"], point["total"],
                             "" if point["rate"] is None else point["rate"]))
    return out.getvalue()
