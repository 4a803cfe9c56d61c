"""Query latency of one index on its own: no baseline interleaved, one engine.

    python benchmarks/latency.py INDEX_DIR                 # compact posting arrays where built
    python benchmarks/latency.py INDEX_DIR --blocks        # the same, posting blocks only
    python benchmarks/latency.py INDEX_DIR --rerank-depth 0   # without re-ranking the first hits

Opens the index, times ``Engine.warm`` (what ``newssearch serve`` does before it
answers), asks the warm-up queries of ``bench.py`` (another seed, none of the measured
ones), then times the measured queries of ``bench.py`` through ``Engine.search`` with
snippets and facets, each asked once. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
import corpora  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--docs", type=int, default=bench.SCALE_DOCS,
                        help="the scale corpus the queries are drawn from (its size)")
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--cache", type=Path, default=bench.DEFAULT_CACHE)
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    parser.add_argument("--blocks", action="store_true",
                        help="read every posting list from Whoosh's posting blocks")
    parser.add_argument("--rerank-depth", type=int, default=None,
                        help="hits re-ranked by what they hold of a word query (0: none; "
                             "default: the setting's)")
    args = parser.parse_args(argv)

    from search import Engine, Settings

    scale = corpora.scale_corpus(args.fang, args.cache.expanduser(), args.docs)
    queries = bench.make_queries(scale, args.queries)
    warm = bench.distinct_from(bench.make_queries(scale, args.queries,
                                                  seed=bench.QUERY_SEED + 1), queries)

    def ask(engine, item):
        engine.search(item["q"], source=item.get("source"), date_from=item.get("from"),
                      date_to=item.get("to"))

    changes = {} if args.rerank_depth is None else {"rerank_depth": args.rerank_depth}
    with Engine(Settings(index_dir=args.index, compact_postings=not args.blocks,
                         **changes)) as engine:
        engine.backend  # the backend's modules imported before the warm-up is timed
        started = time.perf_counter()
        engine.warm()
        warm_seconds = time.perf_counter() - started
        for item in warm:
            ask(engine, item)
        times = []
        for item in queries:
            started = time.perf_counter()
            ask(engine, item)
            times.append(time.perf_counter() - started)
    figures = {"index": str(args.index), "blocks_only": args.blocks,
               "rerank_depth": engine.settings.rerank_depth, "queries": len(times),
               "warm_s": round(warm_seconds, 2),
               "mean_ms": round(statistics.fmean(times) * 1000, 2)}
    for p in (50, 95, 99):
        figures[f"p{p}_ms"] = round(bench._percentile(times, p) * 1000, 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
