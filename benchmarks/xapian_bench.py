"""newssearch benchmark: the Xapian cluster backend beside the Whoosh backend, in one run.

    python benchmarks/xapian_bench.py               # 100,000 articles (about 1–2 hours here)
    python benchmarks/xapian_bench.py --docs 3000   # a quick run

On the same seeded scale corpus (benchmarks/corpora.py) it measures

- build: docs/s, wall time, peak memory of all processes and size on disk for
  the Whoosh index and for Xapian clusters of 1, 2 and 4 shards (one indexing
  process per shard);
- queries, with snippets, facets and suggestions (``Engine.search`` as the
  page calls it), p50/p95/p99: Whoosh; the 2-shard cluster opened as local
  folders; the same shards over ``xapian-tcpsrv`` on 127.0.0.1 (2 and 4
  shards) — interleaved, so that the machine's noise hits all alike;
- a shard down: the first query after the kill, and queries while it is down;
- replication: a full copy of one shard, then an incremental one after 200
  articles changed.

The last line printed is one JSON object with every figure; it is also
written to ``<cache>/xapian-bench-<docs>.json``. See benchmarks/XAPIAN.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpora  # noqa: E402

SCALE_DOCS = 100_000
QUERY_SEED = 11


def _tree_rss(pid: int) -> int:
    from bench import _tree_rss as tree_rss

    return tree_rss(pid)


def _percentile(values, pct):
    from bench import _percentile as percentile

    return percentile(values, pct)


def _dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def run_child(args: list[str]) -> tuple[dict, int]:
    """This script with ``args`` in a child process: its JSON answer and the tree's peak RSS."""
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve())] + args,
                               stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.2)
    output = process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {process.returncode}")
    return json.loads(output.strip().splitlines()[-1]), peak


def child_build(kind: str, corpus: str, index_dir: str, shards: int) -> None:
    from search import Settings, index_paths

    started = time.perf_counter()
    if kind == "whoosh":
        report = index_paths([corpus], Settings(index_dir=Path(index_dir)), rebuild=True)
    else:
        from search.backends.xapian.indexer import index_cluster

        report = index_cluster([corpus], Settings(index_dir=Path(index_dir), shards=shards),
                               rebuild=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "docs": report.added + report.updated,
                      "documents": report.documents}))


# -- queries ---------------------------------------------------------------------


def make_queries(corpus: Path, count: int) -> list[dict]:
    from bench import make_queries as bench_queries

    return bench_queries(corpus, count, seed=QUERY_SEED)


def measure(engines: dict, queries: list[dict], rounds: int) -> dict:
    """Latency of ``Engine.search`` (snippets, facets, suggestions) per engine, in ms."""
    def once(engine, item):
        started = time.perf_counter()
        result = engine.search(item["q"], source=item.get("source"),
                               date_from=item.get("from"), date_to=item.get("to"))
        elapsed = time.perf_counter() - started
        return elapsed, result

    for item in queries:  # warm up: caches, connections, lazily opened files
        for engine in engines.values():
            once(engine, item)
    times = {name: [] for name in engines}
    partial = {name: 0 for name in engines}
    for round_number in range(rounds):
        order = list(queries)
        random.Random(round_number).shuffle(order)
        for item in order:
            for name, engine in engines.items():
                elapsed, result = once(engine, item)
                times[name].append(elapsed)
                if result.shards and result.shards["answered"] < result.shards["total"]:
                    partial[name] += 1
    figures = {}
    for name, values in times.items():
        figures[name] = {f"p{p}": _percentile(values, p) * 1000 for p in (50, 95, 99)}
        figures[name]["mean"] = statistics.fmean(values) * 1000
        figures[name]["partial_answers"] = partial[name]
    return figures


# -- replication -----------------------------------------------------------------


def changed_articles(corpus: Path, folder: Path, count: int) -> Path:
    """``count`` articles of the corpus with an added sentence: an incremental change."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "changed.jsonl"
    records = []
    with gzip.open(sorted(corpus.glob("*.jsonl.gz"))[0], "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            record["article"] += "\nNachtrag: Dieser Artikel wurde aktualisiert."
            records.append(record)
            if len(records) >= count:
                break
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                      encoding="utf-8")
    return target


def replication(cluster: Path, work: Path, corpus: Path, servers) -> dict:
    from search import Settings
    from search.backends.xapian import serve as xs
    from search.backends.xapian.indexer import index_cluster

    port = xs.free_port()
    server = xs.start(xs.replication_server_command(cluster, port), "127.0.0.1", port)
    servers.append(server)
    replica = work / "replica" / "shard-00"
    replica.parent.mkdir(parents=True, exist_ok=True)

    def copy() -> float:
        started = time.perf_counter()
        subprocess.run(xs.replicate_command(replica, "127.0.0.1", port, "shard-00", once=True),
                       check=True, timeout=3600)
        return time.perf_counter() - started

    full = copy()
    size = _dir_size(replica)
    changed = changed_articles(corpus, work / "changes", 200)
    started = time.perf_counter()
    report = index_cluster([changed], Settings(index_dir=cluster))
    reindex = time.perf_counter() - started
    incremental = copy()
    return {"full_copy_s": full, "shard_mb": size / 1e6, "changed_articles": report.updated,
            "reindex_changed_s": reindex, "incremental_copy_s": incremental}


# -- main ------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=SCALE_DOCS)
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "newssearch-xapian-bench", help="where corpora and indexes are kept")
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    parser.add_argument("--builds", default="xapian-2,whoosh,xapian-4,xapian-1",
                        help="the indexes to build, in this order (xapian-1 after the queries); "
                             "'none' to build nothing (with --work)")
    parser.add_argument("--work", type=Path, default=None,
                        help="measure the indexes an earlier run left here (with --keep or "
                             "stopped), adding to its figures")
    args = parser.parse_args(argv)

    from search import Engine, Settings
    from search.backends.xapian import serve as xs

    cache = args.cache.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    builds = [] if args.builds == "none" else args.builds.split(",")
    if args.work is not None:
        work = args.work.expanduser()
    else:
        work = cache / f"work-{os.getpid()}"
        work.mkdir()
    figures: dict = {"docs": args.docs, "cores": os.cpu_count(),
                     "command": "python benchmarks/xapian_bench.py "
                     + " ".join(argv if argv is not None else sys.argv[1:])}
    servers: list = []
    engines: dict = {}

    def show(name, value, unit):
        print(f"{name:<58} {value:>10} {unit}", flush=True)

    try:
        print(f"preparing the scale corpus in {cache} …", flush=True)
        corpus = corpora.scale_corpus(args.fang, cache, args.docs)

        figures["build"] = {}
        out = cache / f"xapian-bench-{args.docs}.json"
        if args.work is not None and out.exists():  # the builds of the run that left them
            earlier = json.loads(out.read_text())
            figures["build"] = earlier.get("build", {})
            figures["earlier_command"] = earlier.get("command")

        def build(kind, shards):
            name = kind if kind == "whoosh" else f"xapian-{shards}"
            target = work / name
            build, rss = run_child(["_build", kind, str(corpus), str(target), str(shards)])
            size = _dir_size(target)
            figures["build"][name] = {
                "docs_per_s": build["docs"] / build["seconds"], "seconds": build["seconds"],
                "documents": build["documents"], "peak_rss_mb": rss / 2**20,
                "size_mb": size / 1e6}
            show(f"build {name}: docs/s", f"{build['docs'] / build['seconds']:.0f}", "docs/s")
            show(f"build {name}: wall time", f"{build['seconds']:.0f}", "s")
            show(f"build {name}: peak RSS, all processes", f"{rss / 2**20:.0f}", "MB")
            show(f"build {name}: size on disk", f"{size / 1e6:.0f}", "MB")
            out.write_text(json.dumps(figures, indent=1))  # figures so far

        # What the queries need first; the 1-shard build, for its docs/s only, last.
        for name in builds:
            if name != "xapian-1":
                build("whoosh" if name == "whoosh" else "xapian",
                      0 if name == "whoosh" else int(name.split("-")[1]))

        # Queries, a shard down and replication need the Whoosh index and the 2-shard cluster.
        if (work / "whoosh").is_dir() and (work / "xapian-2").is_dir():
            queries = make_queries(corpus, args.queries)
            figures["queries"] = {"count": len(queries), "rounds": args.rounds}

            remote = {}
            for shards in [n for n in (2, 4) if (work / f"xapian-{n}").is_dir()]:
                endpoints = []
                for number in range(shards):
                    port = xs.free_port()
                    shard_dir = work / f"xapian-{shards}" / f"shard-{number:02d}"
                    servers.append(xs.start(xs.tcpsrv_command(shard_dir, port), "127.0.0.1", port))
                    endpoints.append(f"127.0.0.1:{port}")
                remote[shards] = ",".join(endpoints)
            engines = {
                "whoosh": Engine(Settings(index_dir=work / "whoosh")),
                "xapian-2-local": Engine(Settings(index_dir=work / "xapian-2")),
                "xapian-2-remote": Engine(Settings(backend="xapian", remote=remote[2])),
            }
            if 4 in remote:
                engines["xapian-4-remote"] = Engine(Settings(backend="xapian", remote=remote[4]))
            latency = measure(engines, queries, args.rounds)
            figures["latency_ms"] = latency
            for name, values in latency.items():
                show(f"query {name}: p50 / p95 / p99",
                     f"{values['p50']:.1f} / {values['p95']:.1f} / {values['p99']:.1f}", "ms")
            figures["tcpsrv_rss_mb"] = sum(_tree_rss(s.pid) for s in servers) / 2**20
            show(f"xapian-tcpsrv processes ({len(servers)}), RSS after the queries",
                 f"{figures['tcpsrv_rss_mb']:.0f}", "MB")
            figures["query_node_rss_mb"] = _tree_rss(os.getpid()) / 2**20

            # A shard down: answered from the others, flagged.
            victim = servers[1]  # shard-01 of the 2-shard cluster
            xs.stop(victim)
            engine = engines["xapian-2-remote"]
            started = time.perf_counter()
            first = engine.search(queries[0]["q"])
            first_ms = (time.perf_counter() - started) * 1000
            down = []
            for item in queries[:50]:
                started = time.perf_counter()
                result = engine.search(item["q"])
                down.append((time.perf_counter() - started) * 1000)
                assert result.shards == {"total": 2, "answered": 1}, result.shards
            figures["shard_down"] = {"first_query_ms": first_ms,
                                     "shards": first.shards,
                                     "p50_ms": _percentile(down, 50), "p95_ms": _percentile(down, 95)}
            show("one of 2 shards down: first query", f"{first_ms:.1f}", "ms")
            show("one of 2 shards down: p50 / p95 while down",
                 f"{_percentile(down, 50):.1f} / {_percentile(down, 95):.1f}", "ms")

            figures["replication"] = replication(work / "xapian-2", work, corpus, servers)
            rep = figures["replication"]
            show("replication: full copy of shard-00",
                 f"{rep['full_copy_s']:.2f} s for {rep['shard_mb']:.0f}", "MB")
            show(f"replication: after {rep['changed_articles']} changed articles",
                 f"{rep['incremental_copy_s']:.2f}", "s")
            out.write_text(json.dumps(figures, indent=1))
            for engine in engines.values():
                engine.close()
            engines = {}
            for server in servers:
                xs.stop(server)
        if "xapian-1" in builds:
            build("xapian", 1)
    finally:
        for engine in engines.values():
            engine.close()
        for server in servers:
            xs.stop(server)
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    out.write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        child_build(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(main())
