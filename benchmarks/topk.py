"""Every match scored, or only the first hits (top-k scoring), in one process, in turns.

    python benchmarks/topk.py                 # the index of load.py (all FANG articles)
    python benchmarks/topk.py --repeat 15

For the 70-word OR of ``adversarial.py``, plain ORs, prefixes, the any mode and the 70
words ANDed, ``Engine.search`` is asked each query with every match counted (the
default: total and facets exact) and with ``exact_totals=False`` (MaxScore over the
posting arrays, search/backends/whoosh/topk.py), one after the other, ``--repeat``
times, without a time budget; the medians, their ratio and whether the hits are the same
are printed, and the totals (exact, and the lower bound of the top-k pass).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adversarial import frequent_words  # noqa: E402
from load import DEFAULT_CACHE, DEFAULT_CORPUS, FANG_DOCUMENTS, REPO, ensure_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    index_dir = args.cache / "index"
    ensure_index(args.corpus, index_dir, FANG_DOCUMENTS)
    sys.path.insert(0, str(REPO))
    from search import Engine, Settings

    words = frequent_words(index_dir, 70)
    queries = {
        "70-word OR": " OR ".join(words),
        "Corona OR Covid": "Corona OR Covid",
        "Merkel OR Söder OR Laschet": "Merkel OR Söder OR Laschet",
        "4 topic words ORed": "Maske OR Schule OR Lehrer OR Eltern",
        "coro*": "coro*",
        "Impf*": "Impf*",
        "any mode (3 frequent + 2 unknown words)": " ".join(words[:3]) + " Zebra Quantenphysik",
        "70 words ANDed": " ".join(words),
    }
    rows = []
    with Engine(Settings(index_dir=index_dir, search_time_budget_seconds=0)) as engine:
        engine.warm()
        for name, query in queries.items():
            engine.search(query)
            engine.search(query, exact_totals=False)
            exact, top = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                full = engine.search(query, suggest=False)
                exact.append(time.perf_counter() - started)
                started = time.perf_counter()
                first = engine.search(query, suggest=False, exact_totals=False)
                top.append(time.perf_counter() - started)
            row = {"query": name, "exact_ms": round(statistics.median(exact) * 1000, 1),
                   "first_hits_ms": round(statistics.median(top) * 1000, 1),
                   "same_hits": [(h["id"], h["score"]) for h in full.hits]
                   == [(h["id"], h["score"]) for h in first.hits],
                   "total": full.total, "total_seen": first.total,
                   "estimate": first.total_is_estimate}
            row["ratio"] = round(row["first_hits_ms"] / row["exact_ms"], 2)
            rows.append(row)
            print(f"{name:42} exact {row['exact_ms']:7.1f} ms  first hits "
                  f"{row['first_hits_ms']:7.1f} ms  x{row['ratio']:.2f}  same hits "
                  f"{row['same_hits']}  total {row['total']} / seen {row['total_seen']}",
                  flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
