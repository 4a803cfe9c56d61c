"""newssearch on one large archive: the seeded scale corpus with the real FANG articles mixed in.

    python benchmarks/scale.py --docs 1000000        # the issue's million articles
    python benchmarks/scale.py --docs 200000         # a fifth of it

One index is built (in a child process, peak memory of its process tree sampled
as ``bench.py`` samples it) from ``--docs`` articles of ``corpora.scale_corpus``
and all real FANG articles, so both kinds share one index. Then, each in a
process of its own:

- the index size, and bytes per article beside stock Whoosh's: stock Whoosh
  (``baseline.py``) builds the first ``--baseline-docs`` articles of the same
  scale corpus (at 110–170 docs/s it cannot build a million in the run);
- ``latency.py``: the start-up warm-up (``Engine.warm``) and ``bench.py``'s query
  mix through ``Engine.search`` with snippets and facets (p50/p95/p99);
- a no-op re-run of the indexer over the same folders (nothing changed);
- ``newssearch serve`` under ``--clients`` HTTP clients for ``--http-seconds``
  (``/api/search``, requests per second and errors).

Each figure is printed beside the issue's goal; the last line is one JSON object
with every figure, the command, the UTC start and end and ``uptime`` before and
after. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench  # noqa: E402
import corpora  # noqa: E402

GOALS = {"build_minutes": 20, "peak_rss_mb": 2048, "bytes_per_article_ratio": 1.2,
         "p50_ms": 15, "p95_ms": 50, "warm_s": 5, "noop_s": 5, "rps": 100}


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _child(args: list[str]) -> tuple[dict, int]:
    """This script run with ``args``: its JSON answer (last line) and peak tree memory."""
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve())] + args,
                               stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, bench._tree_rss(process.pid))
        time.sleep(0.2)
    output = process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {process.returncode}")
    return json.loads(output.strip().splitlines()[-1]), peak


def child_build(index_dir: str, rebuild: bool, folders: list[str]) -> None:
    from search import Settings, index_paths

    started = time.perf_counter()
    report = index_paths([Path(f) for f in folders], Settings(index_dir=Path(index_dir)),
                         rebuild=rebuild)
    print(json.dumps({"seconds": time.perf_counter() - started,
                      "changed": report.added + report.updated,
                      "unchanged": report.unchanged, "documents": report.documents,
                      "problems": len(report.problems)}))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000,
                        help="articles of the scale corpus (the real ones come on top)")
    parser.add_argument("--baseline-docs", type=int, default=20_000,
                        help="scale articles stock Whoosh builds for its bytes per article")
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--http-seconds", type=float, default=30.0)
    parser.add_argument("--http-queries", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    parser.add_argument("--cache", type=Path, default=bench.DEFAULT_CACHE,
                        help="where the corpora and the indexes are made")
    parser.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    args = parser.parse_args(argv)

    from search import storage

    cache = args.cache.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f"scale-run-{os.getpid()}"
    work.mkdir()
    figures: dict = {"command": "python benchmarks/scale.py "
                     + " ".join(argv if argv is not None else sys.argv[1:]),
                     "started_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                     "uptime_before": _uptime(), "goals": GOALS}
    rows = []

    def row(name, value, goal, met, fmt="{:,.2f}"):
        rows.append((name, fmt.format(value), goal, "met" if met else "not met"))
        print(f"{name:<46} {fmt.format(value):>12}   goal {goal:<10} {'met' if met else 'NOT met'}",
              flush=True)

    try:
        started = time.perf_counter()
        scale = corpora.scale_corpus(args.fang, cache, args.docs)
        figures["corpus_seconds"] = round(time.perf_counter() - started, 1)
        sample = corpora.scale_corpus(args.fang, cache, args.baseline_docs)
        print(f"corpora ready ({figures['corpus_seconds']} s); {_uptime()}", flush=True)
        folders = [str(scale), str(args.fang)]
        index = work / "ours"

        built, peak = _child(["_build", str(index), "1", *folders])
        articles = built["documents"]
        figures["build"] = {**built, "peak_rss_mb": peak / 2**20,
                            "docs_per_s": built["changed"] / built["seconds"]}
        row(f"build, {articles:,} articles (minutes)", built["seconds"] / 60,
            f"<= {GOALS['build_minutes']}", built["seconds"] / 60 <= GOALS["build_minutes"])
        row("build docs/s", figures["build"]["docs_per_s"], "–", True, "{:,.0f}")
        row("build peak RSS, all processes (MB)", peak / 2**20, f"<= {GOALS['peak_rss_mb']}",
            peak / 2**20 <= GOALS["peak_rss_mb"], "{:,.0f}")

        size = storage.size_on_disk(storage.require_generation(index))
        base_index = work / "baseline"
        base, _ = bench.run_child(["_build", "baseline", str(sample), str(base_index), "0"])
        base_size = bench._dir_size(base_index)
        shutil.rmtree(base_index, ignore_errors=True)
        ours_per, base_per = size / articles, base_size / base["docs"]
        figures["size"] = {"ours_mb": size / 1e6, "ours_bytes_per_article": ours_per,
                           "baseline_docs": base["docs"], "baseline_mb": base_size / 1e6,
                           "baseline_bytes_per_article": base_per,
                           "baseline_docs_per_s": base["docs"] / base["seconds"]}
        row("index size (MB)", size / 1e6, "–", True, "{:,.0f}")
        row(f"bytes per article / stock Whoosh's ({base['docs']:,})", ours_per / base_per,
            f"<= {GOALS['bytes_per_article_ratio']}",
            ours_per / base_per <= GOALS["bytes_per_article_ratio"])

        latency, _ = _child(["_latency", str(index), str(args.docs), str(args.queries),
                             str(cache), str(args.fang)])
        figures["latency"] = latency
        row("warm-up after start (s)", latency["warm_s"], f"<= {GOALS['warm_s']}",
            latency["warm_s"] <= GOALS["warm_s"])
        for p in ("p50", "p95", "p99"):
            goal = GOALS.get(f"{p}_ms")
            row(f"search + snippets + facets {p} (ms)", latency[f"{p}_ms"],
                f"<= {goal}" if goal else "–", goal is None or latency[f"{p}_ms"] <= goal)

        again, _ = _child(["_build", str(index), "0", *folders])
        figures["noop"] = again
        row(f"no-op re-run (s; {again['changed']} changed)", again["seconds"],
            f"<= {GOALS['noop_s']}", again["seconds"] <= GOALS["noop_s"] and not again["changed"])

        serve = bench._serve_command()
        if serve:
            queries_file = work / "queries.json"
            queries_file.write_text(json.dumps(
                bench.make_queries(scale, args.http_queries, seed=bench.QUERY_SEED + 2),
                ensure_ascii=False))
            port = bench._free_port()
            http = bench.http_throughput(
                serve + ["--index", str(index), "--host", "127.0.0.1", "--port", str(port)],
                port, queries_file, args.http_seconds, args.clients)
            figures["http"] = {**(http or {}), "clients": args.clients,
                               "seconds": args.http_seconds}
            if http:
                row(f"/api/search, {args.clients} clients (req/s)", http["rps"],
                    f">= {GOALS['rps']}", http["rps"] >= GOALS["rps"] and not http["errors"])
                row("/api/search errors", http["errors"], "0", not http["errors"], "{:,.0f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures["ended_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    figures["uptime_after"] = _uptime()
    print()
    print("| figure | value | goal | |")
    print("| --- | ---: | ---: | --- |")
    for name, value, goal, met in rows:
        print(f"| {name} | {value} | {goal} | {met} |")
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        child_build(sys.argv[2], sys.argv[3] == "1", sys.argv[4:])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "_latency":
        import latency

        index, docs, queries, cache, fang = sys.argv[2:7]
        sys.exit(latency.main([index, "--docs", docs, "--queries", queries, "--cache", cache,
                               "--fang", fang]))
    sys.exit(main())
