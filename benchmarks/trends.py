"""How long a trend takes: three series over all FANG articles, per month, week and day.

    flock /tmp/newssearch-bench.lock python benchmarks/trends.py [--index DIR] [--xapian DIR]

``Engine.trends`` counts from the index's date column (one count per day per
series, summed into intervals). The baseline, measured in the same run on the
same engine, is what the same numbers cost through the search API: one
search per series and interval (``Engine.search`` with the interval's dates,
one hit per page) plus one per interval for the totals — what a client of
``/api/search`` would have to do.

The Whoosh index of the whole FANG corpus (28,041 articles) is built once into
the cache folder when ``--index`` is not given; ``--xapian`` names a cluster
folder (``newssearch index … --backend xapian --shards N``) to time that
backend too. Prints one JSON object: the median and 95th percentile of each
interval's trend, the baseline, their ratio, the time of day and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402

SERIES = ("Maske", "Impfpflicht", "Lockdown")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newssearch-bench"


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def whole_fang_index(fang: Path, cache: Path) -> Path:
    from search import Settings, index_paths

    folder = cache / "trends-fang-whoosh"
    done = folder / "DONE"
    if not done.exists():
        report = index_paths([fang], Settings(index_dir=folder), rebuild=True)
        done.write_text(str(report.documents))
    return folder


def time_trends(engine, interval: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        engine.trends(list(SERIES), interval=interval)
        times.append(time.perf_counter() - started)
    return times


def time_baseline(engine, interval: str) -> tuple[float, dict]:
    """The same numbers through searches: one per series and interval, and the totals."""
    axis = engine.trends([], interval=interval)["intervals"]
    started = time.perf_counter()
    counts = {}
    for query in SERIES:
        counts[query] = [engine.search(query, date_from=i["from"], date_to=i["to"], per_page=1,
                                       suggest=False).total for i in axis]
    for item in axis:  # the totals: every article of the interval
        engine.search(f"date:{item['from']}..{item['to']}", per_page=1, suggest=False)
    return time.perf_counter() - started, counts


def measure(engine, rounds: int) -> dict:
    figures = {}
    started = time.perf_counter()
    engine.warm()
    engine.trends(list(SERIES))  # the first call reads the date columns
    figures["first_call_s"] = round(time.perf_counter() - started, 3)
    for interval in ("month", "week", "day"):
        times = time_trends(engine, interval, rounds)
        baseline, counts = time_baseline(engine, interval)
        result = engine.trends(list(SERIES), interval=interval)
        same = all([p["count"] for p in s["points"]] == counts[s["query"]]
                   for s in result["series"])
        figures[interval] = {
            "intervals": len(result["intervals"]),
            "articles": sum(i["total"] for i in result["intervals"]),
            "matches": {s["query"]: s["total"] for s in result["series"]},
            "median_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(_percentile(times, 95) * 1000, 2),
            "min_ms": round(min(times) * 1000, 2),
            "baseline_searches": len(result["intervals"]) * (len(SERIES) + 1),
            "baseline_ms": round(baseline * 1000, 1),
            "speedup": round(baseline / statistics.median(times), 1),
            "counts_equal_searches": same,
        }
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="a Whoosh index of the whole FANG corpus")
    parser.add_argument("--xapian", type=Path, help="a Xapian cluster folder of it, timed too")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    args = parser.parse_args(argv)

    from search import Engine, Settings

    index = args.index or whole_fang_index(args.fang, args.cache.expanduser())
    report = {"series": list(SERIES), "rounds": args.rounds,
              "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "load_before": os.getloadavg()}
    with Engine(Settings(index_dir=index)) as engine:
        report["whoosh"] = {"index": str(index), **measure(engine, args.rounds)}
    if args.xapian:
        with Engine(Settings(index_dir=args.xapian, backend="xapian")) as engine:
            report["xapian"] = {"index": str(args.xapian), **measure(engine, args.rounds)}
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
