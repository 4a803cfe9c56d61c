"""newssearch beside stock Whoosh, tantivy and SQLite FTS5: the same articles, the same queries, one run.

    python benchmarks/peers.py                  # all 28,041 FANG articles, 200 queries
    python benchmarks/peers.py --docs 2000      # a quick run on the first 2,000
    python benchmarks/peers.py --engines newssearch,tantivy
    python benchmarks/peers.py --engines newssearch,tantivy --reuse ~/.cache/newssearch-bench/peers
                                                # build once into DIR, later runs only query

Each engine builds an index of the same articles in a child process of its own
(the build figure includes reading the gzip JSON Lines parts; peak memory is the
proportional set size of the child and all its descendants, sampled every
0.2 s, so pages shared by forked workers count once). Then one child process per
round opens every index, warms each engine with queries of the same kinds drawn
with another seed (none of them measured), and asks the measured queries, every
engine in turn for each query (in a shuffled order), so that the machine's noise
hits all alike and no engine has answered a measured query before.

What each engine does per query:

- **newssearch**: ``Engine.search`` as the web page calls it: the top 10 with a
  snippet each, the total, its four facets counted over the whole result, and
  spelling suggestions when there are few hits. Used only through
  ``from search import Engine, Settings, index_paths``.
- **stock Whoosh** (``baseline.py``): ``LanguageAnalyzer("de")`` on title and text,
  one writer with default settings; ``MultifieldParser`` (AND), ``search(limit=10)``,
  ``hit.highlights("text")``.
- **tantivy** (tantivy-py): title and text through a simple tokenizer, lowercase and
  the German Snowball stemmer; the writer with 2 threads; the query parser over
  both fields, conjunction by default; ``search(limit=10, count=True)`` and a
  ``SnippetGenerator`` snippet of the text for each hit.
- **SQLite FTS5**: ``tokenize='unicode61'`` (no stemming), all rows inserted in one
  transaction, then ``optimize``; per query ``count(*)`` and the top 10 by ``rank``
  (BM25) with ``snippet()`` of the text.

Source and date filters of the query mix are applied by each engine natively.
Ratios are against tantivy: a figure divided by tantivy's (for build docs/s,
higher is better; for everything else lower is better). The last line printed
is one JSON object with every figure and the command. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench  # noqa: E402  (the query mix and the cache folder)
import corpora  # noqa: E402  (the corpora)

ENGINES = ("newssearch", "whoosh", "tantivy", "sqlite")
LABELS = {
    "newssearch": "newssearch",
    "whoosh": "stock Whoosh (LanguageAnalyzer de, one writer)",
    "tantivy": "tantivy (German stemmer, SnippetGenerator, 2 threads)",
    "sqlite": "SQLite FTS5 (unicode61, snippet())",
}
TANTIVY_TOKENIZER = "de_stem"
TANTIVY_THREADS = 2
TANTIVY_HEAP = 256 * 2**20  # split between the writer's threads
SNIPPET_CHARS = 240


def records(corpus: Path):
    for part in sorted(Path(corpus).glob("*.jsonl.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


# -- date filters ----------------------------------------------------------------


def _month_start(value: str) -> date:
    parts = [int(p) for p in value.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _after(value: str) -> date:
    """The first day after the period ``value`` (YYYY, YYYY-MM or YYYY-MM-DD) names."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return date(parts[0] + 1, 1, 1)
    if len(parts) == 2:
        year, month = parts
        return date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(date(*parts).toordinal() + 1)


# -- tantivy -------------------------------------------------------------------------


def _tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name=TANTIVY_TOKENIZER)
    builder.add_text_field("text", stored=True, tokenizer_name=TANTIVY_TOKENIZER)
    builder.add_text_field("source", stored=True, tokenizer_name="raw")
    builder.add_date_field("date", stored=True, indexed=True, fast=True)
    builder.add_text_field("url", stored=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


def _tantivy_index(schema, path: Path):
    import tantivy

    index = tantivy.Index(schema, path=str(path))
    analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.remove_long(40))
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.stemmer("german"))
                .build())
    index.register_tokenizer(TANTIVY_TOKENIZER, analyzer)
    return index


def _day(value: str) -> datetime:
    """An article's day (``YYYY-MM-DD``, as the other engines filter by it) at midnight UTC."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        day = date(1970, 1, 1)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def build_tantivy(corpus: Path, index_dir: Path) -> int:
    import tantivy

    index_dir.mkdir(parents=True)
    schema = _tantivy_schema()
    index = _tantivy_index(schema, index_dir)
    writer = index.writer(TANTIVY_HEAP, TANTIVY_THREADS)
    count = 0
    for record in records(corpus):
        writer.add_document(tantivy.Document(
            id=record["id"], title=record["header"], text=record["article"],
            source=record["source"], date=_day(record["day"]), url=record["url"]))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return count


class TantivySearcher:
    def __init__(self, index_dir: Path):
        import tantivy

        self.tantivy = tantivy
        self.schema = _tantivy_schema()
        self.index = _tantivy_index(self.schema, index_dir)
        self.searcher = self.index.searcher()

    def search(self, item: dict) -> tuple[int, list]:
        tantivy = self.tantivy
        parsed = self.index.parse_query(item["q"], ["title", "text"], conjunction_by_default=True)
        clauses = [(tantivy.Occur.Must, parsed)]
        if item.get("source"):
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(
                self.schema, "source", item["source"])))
        if item.get("from") or item.get("to"):
            low = _month_start(item["from"]) if item.get("from") else None
            high = _after(item["to"]) if item.get("to") else None
            as_time = lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc)  # noqa: E731
            clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
                self.schema, "date", tantivy.FieldType.Date,
                as_time(low) if low else None, as_time(high) if high else None,
                include_upper=high is None)))
        query = parsed if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        result = self.searcher.search(query, limit=10, count=True)
        snippets = tantivy.SnippetGenerator.create(self.searcher, query, self.schema, "text")
        snippets.set_max_num_chars(SNIPPET_CHARS)
        hits = []
        for score, address in result.hits:
            doc = self.searcher.doc(address)
            hits.append({"id": doc["id"][0], "title": doc["title"][0], "score": score,
                         "snippet": snippets.snippet_from_doc(doc).to_html()})
        return result.count, hits

    def close(self):
        self.searcher = None
        self.index = None


# -- SQLite FTS5 ---------------------------------------------------------------------


def build_sqlite(corpus: Path, index_dir: Path) -> int:
    import sqlite3

    index_dir.mkdir(parents=True)
    connection = sqlite3.connect(index_dir / "fts.sqlite")
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, text, id UNINDEXED, source UNINDEXED, "
        "day UNINDEXED, date UNINDEXED, url UNINDEXED, tokenize='unicode61')")
    count = 0
    with connection:
        for record in records(corpus):
            connection.execute(
                "INSERT INTO docs(title, text, id, source, day, date, url) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record["header"], record["article"], record["id"], record["source"],
                 record["day"], record["date"], record["url"]))
            count += 1
    with connection:
        connection.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    connection.close()
    return count


def fts5_match(text: str) -> str:
    """The query in FTS5 syntax: a quoted phrase stays one; other words are each
    quoted (so none reads as an operator) and all required."""
    text = text.strip()
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        words = text[1:-1].split()
        return '"' + " ".join(w.replace('"', '""') for w in words) + '"'
    return " ".join('"' + w.replace('"', '""') + '"' for w in text.split())


class SqliteSearcher:
    def __init__(self, index_dir: Path):
        import sqlite3

        self.connection = sqlite3.connect(index_dir / "fts.sqlite")

    def search(self, item: dict) -> tuple[int, list]:
        where = ["docs MATCH ?"]
        params: list = [fts5_match(item["q"])]
        if item.get("source"):
            where.append("source = ?")
            params.append(item["source"])
        if item.get("from"):
            where.append("day >= ?")
            params.append(_month_start(item["from"]).isoformat())
        if item.get("to"):
            where.append("day < ?")
            params.append(_after(item["to"]).isoformat())
        clause = " AND ".join(where)
        total = self.connection.execute(f"SELECT count(*) FROM docs WHERE {clause}",
                                        params).fetchone()[0]
        rows = self.connection.execute(
            "SELECT id, title, bm25(docs), snippet(docs, 1, '<b>', '</b>', '…', 24) "
            f"FROM docs WHERE {clause} ORDER BY rank LIMIT 10", params).fetchall()
        hits = [{"id": r[0], "title": r[1], "score": -r[2], "snippet": r[3]} for r in rows]
        return total, hits

    def close(self):
        self.connection.close()


# -- newssearch and stock Whoosh -------------------------------------------------------


def build_newssearch(corpus: Path, index_dir: Path) -> int:
    from search import Settings, index_paths

    report = index_paths([corpus], Settings(index_dir=index_dir), rebuild=True)
    return report.added + report.updated


def build_whoosh(corpus: Path, index_dir: Path) -> int:
    import baseline

    return baseline.build(corpus, index_dir)


class NewssearchSearcher:
    def __init__(self, index_dir: Path):
        from search import Engine, Settings

        self.engine = Engine(Settings(index_dir=index_dir))
        self.engine.warm()  # as `newssearch serve` does before it answers

    def search(self, item: dict) -> tuple[int, list]:
        result = self.engine.search(item["q"], source=item.get("source"),
                                    date_from=item.get("from"), date_to=item.get("to"))
        return result.total, result.hits

    def close(self):
        self.engine.close()


class WhooshSearcher:
    def __init__(self, index_dir: Path):
        import baseline

        self.searcher = baseline.BaselineSearcher(index_dir)

    def search(self, item: dict) -> tuple[int, list]:
        answer = self.searcher.search(item["q"], source=item.get("source"),
                                      date_from=item.get("from"), date_to=item.get("to"))
        return answer["total"], answer["hits"]

    def close(self):
        self.searcher.close()


BUILDERS = {"newssearch": build_newssearch, "whoosh": build_whoosh, "tantivy": build_tantivy,
            "sqlite": build_sqlite}
SEARCHERS = {"newssearch": NewssearchSearcher, "whoosh": WhooshSearcher,
             "tantivy": TantivySearcher, "sqlite": SqliteSearcher}


# -- child processes ---------------------------------------------------------------


def child_build(engine: str, corpus: str, index_dir: str) -> None:
    started = time.perf_counter()
    docs = BUILDERS[engine](Path(corpus), Path(index_dir))
    print(json.dumps({"seconds": time.perf_counter() - started, "docs": docs}))


def child_query(plan_file: str) -> None:
    """One round: open every index, warm every engine, then the measured queries with
    every engine in turn for each query."""
    plan = json.loads(Path(plan_file).read_text())
    engines = {}
    opened = {}
    for name, index_dir in plan["indexes"].items():
        started = time.perf_counter()
        engines[name] = SEARCHERS[name](Path(index_dir))
        opened[name] = time.perf_counter() - started
    for item in plan["warm"]:
        for searcher in engines.values():
            searcher.search(item)
    order = list(plan["queries"])
    random.Random(plan["round"]).shuffle(order)
    times = {name: [] for name in engines}
    totals = {name: [] for name in engines}
    shown = {name: 0 for name in engines}
    for item in order:
        for name, searcher in engines.items():
            started = time.perf_counter()
            total, hits = searcher.search(item)
            times[name].append(time.perf_counter() - started)
            totals[name].append(total)
            shown[name] += sum(1 for hit in hits if hit.get("snippet"))
    for searcher in engines.values():
        searcher.close()
    print(json.dumps({"times": times, "totals": totals, "snippets": shown, "open_s": opened}))


def run_child(args: list[str]) -> tuple[dict, int]:
    """This script with ``args`` in a child process: its JSON answer, and the peak
    memory of the child and all its descendants (proportional set sizes, summed)."""
    import psutil

    process = psutil.Popen([sys.executable, str(Path(__file__).resolve())] + args,
                           stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        total = 0
        try:
            members = [process] + process.children(recursive=True)
        except psutil.Error:
            members = []
        for member in members:
            try:
                info = member.memory_full_info()
                total += getattr(info, "pss", info.rss)
            except psutil.Error:
                continue
        peak = max(peak, total)
        time.sleep(0.2)
    output = process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {process.returncode}")
    return json.loads(output.strip().splitlines()[-1]), peak


# -- the run -----------------------------------------------------------------------


def _dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _percentiles(values: list[float]) -> dict:
    import numpy as np

    ms = np.asarray(values) * 1000
    figures = {f"p{p}": float(np.percentile(ms, p)) for p in (50, 95, 99)}  # linear, as bench.py
    figures["mean"] = float(ms.mean())
    return figures


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=None,
                        help="the first N FANG articles (default: all 28,041)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of the measured queries, each in a fresh process")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated subset of " + ", ".join(ENGINES))
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    parser.add_argument("--cache", type=Path, default=bench.DEFAULT_CACHE,
                        help="where the cut corpus and the indexes are made")
    parser.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    parser.add_argument("--reuse", type=Path, default=None, metavar="DIR",
                        help="keep the indexes in DIR (one folder per engine and corpus size) "
                             "and query those an earlier run left there instead of building "
                             "them again; build figures are then those of the run that built")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        parser.error(f"unknown engines {unknown}; choose from {', '.join(ENGINES)}")

    cache = args.cache.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f"peers-{os.getpid()}"
    work.mkdir()
    started_at = datetime.now(timezone.utc)
    figures: dict = {"command": "python benchmarks/peers.py "
                     + " ".join(argv if argv is not None else sys.argv[1:]),
                     "started_utc": started_at.strftime("%Y-%m-%d %H:%M:%S"),
                     "uptime_before": _uptime(), "engines": {}}
    try:
        corpus, docs = corpora.real_corpus(args.fang, cache, args.docs)
        figures["docs"] = docs
        print(f"{docs:,} articles from {corpus}; {_uptime()}", flush=True)
        indexes = {}
        reuse = args.reuse.expanduser() if args.reuse else None
        for name in names:
            index_dir = (reuse / f"{name}-{docs}") if reuse else work / name
            done = index_dir.parent / f"{index_dir.name}.built.json"
            if reuse and done.exists():
                entry = json.loads(done.read_text())
                entry["reused"] = str(index_dir)
                print(f"reused {name}: {index_dir} (built {entry['built_utc']} UTC)", flush=True)
            else:
                if index_dir.exists():  # an interrupted build
                    shutil.rmtree(index_dir)
                index_dir.parent.mkdir(parents=True, exist_ok=True)
                built, peak = run_child(["_build", name, str(corpus), str(index_dir)])
                entry = {
                    "build_docs": built["docs"], "build_seconds": built["seconds"],
                    "build_docs_per_s": built["docs"] / built["seconds"],
                    "index_mb": _dir_size(index_dir) / 1e6, "build_peak_rss_mb": peak / 2**20,
                    "built_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")}
                if reuse:
                    done.write_text(json.dumps(entry))
                print(f"built {name}: {built['docs']:,} docs in {built['seconds']:.1f} s "
                      f"({entry['build_docs_per_s']:,.0f} docs/s), {entry['index_mb']:.1f} MB, "
                      f"peak {entry['build_peak_rss_mb']:,.0f} MiB", flush=True)
            indexes[name] = str(index_dir)
            figures["engines"][name] = entry

        queries = bench.make_queries(corpus, args.queries)
        warm = bench.distinct_from(
            bench.make_queries(corpus, args.queries, seed=bench.QUERY_SEED + 1), queries)
        figures["queries"] = {
            "count": len(queries), "rounds": args.rounds, "warm_up": len(warm),
            "kinds": {k: sum(1 for q in queries if q["kind"] == k)
                      for k in sorted({q["kind"] for q in queries})},
            "with_date": sum(1 for q in queries if q.get("from")),
            "with_source": sum(1 for q in queries if q.get("source"))}
        times = {name: [] for name in names}
        totals = {name: [] for name in names}
        snippets = {name: 0 for name in names}
        for round_number in range(args.rounds):
            plan = work / f"plan-{round_number}.json"
            plan.write_text(json.dumps({"indexes": indexes, "queries": queries, "warm": warm,
                                        "round": round_number}, ensure_ascii=False))
            answer, peak = run_child(["_query", str(plan)])
            for name in names:
                times[name].extend(answer["times"][name])
                totals[name].extend(answer["totals"][name])
                snippets[name] += answer["snippets"][name]
                figures["engines"][name].setdefault("open_s", []).append(
                    answer["open_s"][name])
            figures.setdefault("query_process_peak_rss_mb", []).append(peak / 2**20)
        for name in names:
            entry = figures["engines"][name]
            entry["latency_ms"] = _percentiles(times[name])
            entry["mean_total"] = sum(totals[name]) / len(totals[name])
            entry["queries_with_hits"] = sum(1 for t in totals[name] if t > 0)
            entry["snippets_shown"] = snippets[name]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures["uptime_after"] = _uptime()
    figures["finished_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    figures["ratios_vs_tantivy"] = ratios = _ratios(figures["engines"])
    _print_table(figures, ratios)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def _ratios(engines: dict) -> dict:
    """Each engine's figures divided by tantivy's (build docs/s: >1 is faster than tantivy;
    size, memory and latency: >1 is larger or slower)."""
    base = engines.get("tantivy")
    if base is None:
        return {}
    ratios = {}
    for name, entry in engines.items():
        ratios[name] = {
            "build_docs_per_s": entry["build_docs_per_s"] / base["build_docs_per_s"],
            "index_mb": entry["index_mb"] / base["index_mb"],
            "build_peak_rss_mb": entry["build_peak_rss_mb"] / base["build_peak_rss_mb"],
            **{p: entry["latency_ms"][p] / base["latency_ms"][p] for p in ("p50", "p95", "p99")}}
    return ratios


def _print_table(figures: dict, ratios: dict) -> None:
    print()
    print(f"{figures['docs']:,} articles, {figures['queries']['count']} queries × "
          f"{figures['queries']['rounds']} round(s), {figures['started_utc']}–"
          f"{figures['finished_utc']} UTC")
    print(f"before: {figures['uptime_before']}")
    print(f"after:  {figures['uptime_after']}")
    print()
    print("| engine | build docs/s | index MB | build peak RSS MiB | p50 / p95 / p99 ms "
          "| hits shown, mean total |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, entry in figures["engines"].items():
        lat = entry["latency_ms"]
        print(f"| {LABELS[name]} | {entry['build_docs_per_s']:,.0f} | {entry['index_mb']:,.1f} "
              f"| {entry['build_peak_rss_mb']:,.0f} "
              f"| {lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f} "
              f"| {entry['snippets_shown']:,}, {entry['mean_total']:,.0f} |")
    if ratios:
        print()
        print("| against tantivy | build docs/s | index MB | build peak RSS | p50 | p95 | p99 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, entry in ratios.items():
            print(f"| {LABELS[name]} | {entry['build_docs_per_s']:.2f}× "
                  f"| {entry['index_mb']:.2f}× | {entry['build_peak_rss_mb']:.2f}× "
                  f"| {entry['p50']:.2f}× | {entry['p95']:.2f}× | {entry['p99']:.2f}× |")
    print()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        child_build(*sys.argv[2:5])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "_query":
        child_query(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
