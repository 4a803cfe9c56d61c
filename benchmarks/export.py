"""What a streamed export costs: rows per second and the peak memory of the process, for
exports of 100 rows, 10,000 rows and most of the FANG corpus.

    flock /tmp/newssearch-bench.lock python benchmarks/export.py [--index DIR] [--xapian DIR]

Each export runs in a fresh process that opens the engine, writes the rows
of ``Engine.export`` as JSON Lines to ``/dev/null`` and reports its peak
resident memory (``ru_maxrss``) and its time. The exports are compared in the
same run: a short one fills the engine's bounded caches (texts cut for
snippets, ``snippet_cache_chars``: about a third of FANG's text) only in
part, so the peak grows from 100 to 10,000 rows; from there on, rows held
would grow it by at least the bytes written, while a streamed export stays
at the engine, its full caches and one batch of articles.

The index is the Whoosh index of the whole FANG corpus that
``benchmarks/trends.py`` builds into the cache folder (built here too when
missing); ``--xapian`` names a cluster folder of it to measure that backend
as well. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402
import trends  # noqa: E402

QUERY = "Corona OR Regierung OR Menschen OR Prozent OR Woche"


def child(index: str, backend: str, rows: int) -> dict:
    """One export in this process: rows written, bytes, seconds, peak memory."""
    from search import Engine, Settings

    settings = Settings(index_dir=Path(index), backend=backend, export_max_rows=rows)
    with Engine(settings) as engine:
        engine.warm()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        export = engine.export(QUERY)
        written = size = 0
        with open(os.devnull, "w", encoding="utf-8") as sink:
            for line in export.lines("jsonl"):
                sink.write(line)
                size += len(line.encode("utf-8"))
                written += 1
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": written, "total": export.total, "bytes": size,
            "seconds": round(seconds, 2), "rows_per_s": round(written / seconds, 1),
            "peak_rss_mib_before": round(before / 1024, 1),
            "peak_rss_mib": round(peak / 1024, 1)}


def run_child(index: Path, backend: str, rows: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(index), backend, str(rows)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def measure(index: Path, backend: str, sizes) -> dict:
    from search import Settings

    runs = [run_child(index, backend, rows) for rows in (*sizes, Settings().export_max_rows)]
    middle, long = runs[-2], runs[-1]
    return {"index": str(index), "query": QUERY, "runs": runs,
            "peak_growth_mib": round(long["peak_rss_mib"] - middle["peak_rss_mib"], 1),
            "written_more_mib": round((long["bytes"] - middle["bytes"]) / 2**20, 1)}


def main(argv=None) -> int:
    if argv is None and sys.argv[1:2] == ["--child"]:
        _, _, index, backend, rows = sys.argv
        print(json.dumps(child(index, backend, int(rows))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="a Whoosh index of the whole FANG corpus")
    parser.add_argument("--xapian", type=Path, help="a Xapian cluster folder of it, measured too")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000],
                        help="rows of the shorter exports")
    parser.add_argument("--cache", type=Path, default=trends.DEFAULT_CACHE)
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    args = parser.parse_args(argv)
    index = args.index or trends.whole_fang_index(args.fang, args.cache.expanduser())
    report = {"at": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_before": os.getloadavg(),
              "whoosh": measure(index, "whoosh", args.sizes)}
    if args.xapian:
        report["xapian"] = measure(args.xapian, "xapian", args.sizes)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
