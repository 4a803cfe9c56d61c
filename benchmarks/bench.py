"""newssearch benchmark: our engine against stock Whoosh, in one run, on the same documents.

    python benchmarks/bench.py                 # the full run: 100,000 + 28,041 articles
    python benchmarks/bench.py --docs 2000     # a quick run

Every figure is printed as ours, baseline and their ratio (so the machine's
noise cancels out); the last line printed is one JSON object with every figure.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpora  # noqa: E402

SCALE_DOCS = 100_000
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newssearch-bench"
QUERY_SEED = 7


# -- process-tree memory -------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _memory(pid: int) -> int:
    """The process's proportional set size (its private pages plus its share of pages it
    shares with others, such as forked workers); its RSS where PSS is not available."""
    for path, field in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(field):
                        return int(line.split()[1]) * 1024
        except OSError:
            continue
    return 0


def _tree_rss(pid: int) -> int:
    """Memory of a process and all its descendants, shared pages counted once."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        total += _memory(current)
        todo.extend(_children(current))
    return total


def run_child(args: list[str]) -> tuple[dict, int]:
    """Run ``bench.py`` with ``args`` in a child process; its JSON answer and peak tree RSS."""
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


# -- child commands --------------------------------------------------------------


def child_build(kind: str, corpus: str, index_dir: str, rebuild: bool) -> None:
    if kind == "ours":
        from search import Settings, index_paths

        started = time.perf_counter()
        report = index_paths([corpus], Settings(index_dir=Path(index_dir)), rebuild=rebuild)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "docs": report.added + report.updated,
                          "unchanged": report.unchanged, "documents": report.documents}))
    else:
        import baseline

        started = time.perf_counter()
        docs = baseline.build(Path(corpus), Path(index_dir))
        print(json.dumps({"seconds": time.perf_counter() - started, "docs": docs,
                          "documents": docs}))


def child_baseline_serve(index_dir: str, port: int) -> None:
    """A threaded HTTP server answering /api/search from the baseline index."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    import baseline

    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            params = parse_qs(urlparse(self.path).query)
            if not hasattr(local, "searcher"):
                local.searcher = baseline.BaselineSearcher(Path(index_dir))
            get = lambda name: params.get(name, [None])[0]  # noqa: E731
            result = local.searcher.search(get("q") or "", source=get("source"),
                                           date_from=get("from"), date_to=get("to"))
            body = json.dumps(result, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def child_load(base_url: str, seconds: float, clients: int, queries_file: str) -> None:
    """``clients`` keep-alive clients asking /api/search for ``seconds``; bounded in time."""
    import http.client
    from urllib.parse import urlencode, urlparse

    queries = json.loads(Path(queries_file).read_text())
    target = urlparse(base_url)
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    latencies: list[float] = []
    lock = threading.Lock()

    def client(number: int):
        rng = random.Random(number)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        ok = errors = 0
        mine = []
        while time.monotonic() < deadline:
            item = queries[rng.randrange(len(queries))]
            params = {"q": item["q"]}
            for name in ("source", "from", "to"):
                if item.get(name):
                    params[name] = item[name]
            started = time.perf_counter()
            try:
                connection.request("GET", "/api/search?" + urlencode(params))
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    ok += 1
                    mine.append(time.perf_counter() - started)
                else:
                    errors += 1
            except Exception:
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        connection.close()
        with lock:
            counts["ok"] += ok
            counts["errors"] += errors
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    print(json.dumps({"requests": counts["ok"], "errors": counts["errors"], "seconds": elapsed,
                      "rps": counts["ok"] / elapsed,
                      "p50_ms": _percentile(latencies, 50) * 1000 if latencies else None}))


# -- queries -----------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]{4,}")


def make_queries(corpus: Path, count: int, seed: int = QUERY_SEED) -> list[dict]:
    """A fixed mix of distinct queries drawn from the corpus itself."""
    from whoosh.lang.stopwords import stoplists

    stop = set(stoplists["de"])
    rng = random.Random(seed)
    sentences = []
    df: dict[str, int] = {}
    forms: dict[str, str] = {}
    months = set()
    sources = set()
    parts = sorted(corpus.glob("*.jsonl.gz"))
    for part in parts[:: max(1, len(parts) // 5)][:5]:
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number >= 600:
                    break
                record = json.loads(line)
                months.add(record["day"][:7])
                sources.add(record["source"])
                seen = set()
                for word in _WORD.findall(record["article"]):
                    lowered = word.lower()
                    if lowered in stop:
                        continue
                    forms.setdefault(lowered, word)
                    if lowered not in seen:
                        seen.add(lowered)
                        df[lowered] = df.get(lowered, 0) + 1
                paragraph = record["article"].split("\n")[0]
                sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", paragraph) if len(s) > 40)
    ranked = sorted(df, key=lambda w: (-df[w], w))
    high = ranked[:60]
    middle = ranked[len(ranked) // 20: len(ranked) // 20 + 400]
    low = [w for w in ranked if 2 <= df[w] <= 3]
    months = sorted(months)
    sources = sorted(sources)
    queries: list[dict] = []
    seen_queries: set[tuple] = set()

    def add(text: str, kind: str):
        item = {"q": text, "kind": kind}
        number = len(queries)
        if number % 5 == 1 and months:
            start = rng.randrange(len(months))
            item["from"] = months[start]
            item["to"] = months[min(len(months) - 1, start + 1)]
        if number % 7 == 3 and sources:
            item["source"] = sources[rng.randrange(len(sources))]
        key = (item["q"], item.get("from"), item.get("source"))
        if key not in seen_queries:
            seen_queries.add(key)
            queries.append(item)

    def content_words(sentence):
        return [w for w in _WORD.findall(sentence) if w.lower() not in stop]

    per_kind = max(1, count // 10)
    for bucket, name in ((high, "word-high"), (middle, "word-middle"), (low, "word-low")):
        for word in rng.sample(bucket, min(len(bucket), per_kind)):
            add(forms[word], name)
    attempts = 0
    while len(queries) < count and attempts < count * 50:
        attempts += 1
        sentence = sentences[rng.randrange(len(sentences))]
        words = content_words(sentence)
        kind = ("two-words", "three-words", "phrase")[len(queries) % 3]
        if kind == "phrase":
            tokens = sentence.split()
            pairs = [(a, b) for a, b in zip(tokens, tokens[1:])
                     if _WORD.fullmatch(a) and _WORD.fullmatch(b)
                     and a.lower() not in stop and b.lower() not in stop]
            if pairs:
                a, b = pairs[rng.randrange(len(pairs))]
                add(f'"{a} {b}"', kind)
        else:
            size = 2 if kind == "two-words" else 3
            if len(set(words)) >= size:
                add(" ".join(rng.sample(sorted(set(words)), size)), kind)
    return queries


def distinct_from(queries: list[dict], measured: list[dict]) -> list[dict]:
    """``queries`` without any that is also among ``measured``."""
    key = lambda item: (item["q"], item.get("from"), item.get("to"), item.get("source"))  # noqa: E731
    taken = {key(item) for item in measured}
    return [item for item in queries if key(item) not in taken]


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure_queries(ours_index: Path, base_index: Path, queries: list[dict], warm: list[dict],
                    rounds: int) -> dict:
    """Latency of ``queries`` on both engines, interleaved query by query.

    Each round empties every cache of ours, opens both engines afresh (ours read
    ahead as ``newssearch serve`` does: columns, lengths, and in segments without
    compact posting arrays the most frequent terms' postings) and warms them with
    ``warm``, queries of the same kinds that are not among the measured ones: files
    are open and the index data that many queries share is in memory as in a
    running server, but nothing measured was asked before, so no cache holds
    anything of a measured query's own words or hits.
    """
    import baseline
    from search import Engine, Settings
    from search.cache import clear_all

    ours, theirs = [], []
    for round_number in range(rounds):
        clear_all()  # nothing decoded in an earlier round is kept
        engine = Engine(Settings(index_dir=ours_index))
        engine.warm()  # as `newssearch serve` does before it answers
        base = baseline.BaselineSearcher(base_index)

        def ours_once(item):
            started = time.perf_counter()
            engine.search(item["q"], source=item.get("source"), date_from=item.get("from"),
                          date_to=item.get("to"))
            return time.perf_counter() - started

        def base_once(item):
            started = time.perf_counter()
            base.search(item["q"], source=item.get("source"), date_from=item.get("from"),
                        date_to=item.get("to"))
            return time.perf_counter() - started

        for item in warm:
            ours_once(item)
            base_once(item)
        order = list(queries)
        random.Random(round_number).shuffle(order)
        for item in order:  # interleaved, so that noise hits both alike
            ours.append(ours_once(item))
            theirs.append(base_once(item))
        engine.close()
        base.close()
    figures = {}
    for name, values in (("ours", ours), ("baseline", theirs)):
        figures[name] = {f"p{p}": _percentile(values, p) * 1000 for p in (50, 95, 99)}
        figures[name]["mean"] = statistics.fmean(values) * 1000
    return figures


# -- HTTP ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, process, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _serve_command() -> list[str] | None:
    cli = shutil.which("newssearch", path=os.path.dirname(sys.executable)) or shutil.which("newssearch")
    if not cli:
        return None
    probe = subprocess.run([cli, "serve", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None
    return [cli, "serve"]


def http_throughput(command: list[str], port: int, queries_file: Path, seconds: float,
                    clients: int) -> dict | None:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        if not _wait_port(port, process):
            return None
        answer, _ = run_child(["_load", f"http://127.0.0.1:{port}", str(seconds), str(clients),
                               str(queries_file)])
        return answer
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- the run -----------------------------------------------------------------------


def _dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _ratio(ours, base, higher_is_better: bool):
    if ours in (None, 0) or base in (None, 0):
        return None
    return base / ours if not higher_is_better else ours / base


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=None,
                        help="articles in the scale corpus (default 100,000); the real corpus "
                             "is cut to the same number")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where corpora and indexes are kept")
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--http-seconds", type=float, default=30.0)
    parser.add_argument("--http-queries", type=int, default=3000,
                        help="distinct queries the HTTP clients draw from at random")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-search", action="store_true",
                        help="build figures only: no query latency, no HTTP load")
    parser.add_argument("--skip-real", action="store_true", help="leave out the real-corpus runs")
    parser.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    parser.add_argument("--reuse", type=Path, default=None, metavar="DIR",
                        help="keep the scale indexes in DIR and, when DIR already holds both "
                             "(built by an earlier run with the same --docs), search them "
                             "without building again (the build rows are then left out)")
    args = parser.parse_args(argv)

    scale_docs = args.docs or SCALE_DOCS
    cache = args.cache.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f"work-{os.getpid()}"
    work.mkdir()
    figures: dict = {"scale_docs": scale_docs, "command": "python benchmarks/bench.py "
                     + " ".join(argv if argv is not None else sys.argv[1:])}
    rows: list[tuple] = []

    def row(name, ours, base, ratio, unit, fmt="{:.1f}"):
        show = lambda v: "–" if v is None else fmt.format(v)  # noqa: E731
        rows.append((name, show(ours), show(base), "–" if ratio is None else f"{ratio:.2f}×", unit))
        print(f"{name:<44} ours {show(ours):>10}  baseline {show(base):>10}  "
              f"ratio {'–' if ratio is None else f'{ratio:.2f}×':>8}  {unit}", flush=True)

    try:
        print(f"preparing corpora in {cache} …", flush=True)
        scale = corpora.scale_corpus(args.fang, cache, scale_docs)
        real, real_docs = corpora.real_corpus(args.fang, cache, args.docs)
        figures["real_docs"] = real_docs

        # Build at scale (or reuse the indexes an earlier run left in --reuse)
        from search import storage

        home = work if args.reuse is None else args.reuse.expanduser() / f"scale-{scale_docs}"
        ours_ix, base_ix = home / "ours", home / "baseline"
        built_mark = home / "BUILT"
        if args.reuse is not None and built_mark.exists():
            print(f"reusing the indexes in {home}", flush=True)
            figures["reused_indexes"] = str(home)
        else:
            shutil.rmtree(ours_ix, ignore_errors=True)
            shutil.rmtree(base_ix, ignore_errors=True)
            ours_build, ours_rss = run_child(["_build", "ours", str(scale), str(ours_ix), "1"])
            base_build, base_rss = run_child(["_build", "baseline", str(scale), str(base_ix),
                                              "0"])
            ours_dps = ours_build["docs"] / ours_build["seconds"]
            base_dps = base_build["docs"] / base_build["seconds"]
            figures["build"] = {"ours_docs_per_s": ours_dps, "baseline_docs_per_s": base_dps,
                                "ours_seconds": ours_build["seconds"],
                                "baseline_seconds": base_build["seconds"],
                                "ours_peak_rss_mb": ours_rss / 2**20,
                                "baseline_peak_rss_mb": base_rss / 2**20}
            row(f"build, {scale_docs:,} articles (docs/s)", ours_dps, base_dps,
                _ratio(ours_dps, base_dps, True), "docs/s")
            row("build peak RSS, all processes (MB)", ours_rss / 2**20, base_rss / 2**20,
                _ratio(ours_rss, base_rss, False), "MB", "{:.0f}")
            if args.reuse is not None:
                built_mark.write_text("built\n")

        ours_size = storage.size_on_disk(storage.require_generation(ours_ix))
        base_size = _dir_size(base_ix)
        figures["size"] = {"ours_mb": ours_size / 1e6, "baseline_mb": base_size / 1e6}
        row("index size on disk (MB)", ours_size / 1e6, base_size / 1e6,
            _ratio(ours_size, base_size, False), "MB")

        # Queries at scale
        if args.skip_search:
            args.skip_http = True
        queries = [] if args.skip_search else make_queries(scale, args.queries)
        warm = [] if args.skip_search else distinct_from(
            make_queries(scale, args.queries, seed=QUERY_SEED + 1), queries)
        http_queries = [] if args.skip_http else make_queries(scale, args.http_queries,
                                                              seed=QUERY_SEED + 2)
        queries_file = work / "queries.json"
        queries_file.write_text(json.dumps(http_queries, ensure_ascii=False))
        figures["queries"] = {"count": len(queries), "rounds": args.rounds,
                              "kinds": {k: sum(1 for q in queries if q["kind"] == k)
                                        for k in sorted({q["kind"] for q in queries})},
                              "with_date": sum(1 for q in queries if q.get("from")),
                              "with_source": sum(1 for q in queries if q.get("source")),
                              "warm_up": len(warm), "http_distinct": len(http_queries)}
        latency = None if args.skip_search else measure_queries(ours_ix, base_ix, queries, warm,
                                                                args.rounds)
        figures["latency_ms"] = latency
        for p in ("p50", "p95", "p99") if latency else ():
            row(f"search + snippets (+ facets, ours) {p} (ms)", latency["ours"][p],
                latency["baseline"][p], _ratio(latency["ours"][p], latency["baseline"][p], False),
                "ms", "{:.2f}")

        # HTTP throughput
        if not args.skip_http:
            serve = _serve_command()
            port = _free_port()
            ours_http = None
            if serve:
                ours_http = http_throughput(
                    serve + ["--index", str(ours_ix), "--host", "127.0.0.1", "--port", str(port)],
                    port, queries_file, args.http_seconds, args.clients)
            port = _free_port()
            base_http = http_throughput(
                [sys.executable, str(Path(__file__).resolve()), "_baseline_serve", str(base_ix),
                 str(port)], port, queries_file, args.http_seconds, args.clients)
            figures["http"] = {"ours": ours_http, "baseline": base_http, "clients": args.clients,
                               "seconds": args.http_seconds}
            row(f"/api/search, {args.clients} clients (req/s)",
                ours_http and ours_http["rps"], base_http and base_http["rps"],
                _ratio(ours_http and ours_http["rps"], base_http and base_http["rps"], True),
                "req/s")
            row("/api/search errors", ours_http and ours_http["errors"],
                base_http and base_http["errors"], None, "", "{:.0f}")
        if args.reuse is None:
            shutil.rmtree(ours_ix, ignore_errors=True)
            shutil.rmtree(base_ix, ignore_errors=True)

        # The real corpus: build and no-op incremental re-run
        if not args.skip_real:
            real_ours, real_base = work / "real-ours", work / "real-baseline"
            built, real_rss = run_child(["_build", "ours", str(real), str(real_ours), "1"])
            again, _ = run_child(["_build", "ours", str(real), str(real_ours), "0"])
            base_built, _ = run_child(["_build", "baseline", str(real), str(real_base), "0"])
            real_dps = built["docs"] / built["seconds"]
            base_real_dps = base_built["docs"] / base_built["seconds"]
            figures["real"] = {"ours_docs_per_s": real_dps, "baseline_docs_per_s": base_real_dps,
                               "ours_peak_rss_mb": real_rss / 2**20,
                               "noop_rerun_s": again["seconds"], "noop_changed": again["docs"],
                               "baseline_rebuild_s": base_built["seconds"]}
            row(f"build, {real_docs:,} real articles (docs/s)", real_dps, base_real_dps,
                _ratio(real_dps, base_real_dps, True), "docs/s")
            row("no-op re-run, real (s; baseline: rebuild)", again["seconds"],
                base_built["seconds"], _ratio(again["seconds"], base_built["seconds"], False),
                "s", "{:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print("| figure | ours | baseline | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, ours, base, ratio, unit in rows:
        print(f"| {name} | {ours} | {base} | {ratio} |")
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        command, rest = sys.argv[1], sys.argv[2:]
        if command == "_build":
            child_build(rest[0], rest[1], rest[2], rest[3] == "1")
        elif command == "_baseline_serve":
            child_baseline_serve(rest[0], int(rest[1]))
        elif command == "_load":
            child_load(rest[0], float(rest[1]), int(rest[2]), rest[3])
        sys.exit(0)
    sys.exit(main())
