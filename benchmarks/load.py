"""Load test of ``GET /api/search``: N concurrent clients for S seconds against the real server.

    python benchmarks/load.py                    # 16 clients × 60 s on all of fang-covid-real
    python benchmarks/load.py --clients 4 --seconds 10
    python benchmarks/load.py --build-only       # just build (or check) the cached index

The index of ``../shared/corpora/fang-covid-real`` (all 28,041 articles) is built
once with ``newssearch index`` into a cache folder outside the repository
(``~/.cache/newssearch-load`` or ``--cache DIR``) and reused by later runs. The
server is ``newssearch serve`` on 127.0.0.1 (a free port), started and stopped
by this script. Each client is a thread with one keep-alive connection
(``http.client``) that sends queries drawn from a fixed, seeded mix of real
queries until the time is up (and never more than ``--max-requests`` in all).
A request counts as an error unless it answers 200 with JSON of the documented
shape. Prints requests/s, latency percentiles and errors; exits 1 on any error.
Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "fang-covid-real"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newssearch-load"
FANG_DOCUMENTS = 28_041
RESULT_KEYS = {"query", "total", "page", "per_page", "took_ms", "mode", "reason", "hits",
               "facets", "suggestion"}

# What people type into a news archive: topics, names, phrases, operators, filters.
CURATED = [
    "Corona", "Impfung", "Lockdown", "Maskenpflicht", "Merkel", "Spahn", "Drosten", "Söder",
    "Inzidenz", "Schulen Schließung", "Kurzarbeit", "Homeoffice", "Impfstoff Biontech",
    "Astrazeneca Nebenwirkungen", "Pflegeheim Besuchsverbot", "Grenzkontrollen Österreich",
    "Wirecard", "Lufthansa Staatshilfe", "US-Wahl Biden", "Trump", "Brexit", "Klimawandel",
    "Fußball Bundesliga Geisterspiele", "Kita Notbetreuung", "Intensivbetten", "Mutation",
    '"Angela Merkel"', '"zweite Welle"', '"Robert Koch-Institut"', '"Jens Spahn"',
    '"Markus Söder"', '"Olaf Scholz"', "Corona OR Covid", "Impfung -Astrazeneca",
    "(Bund OR Länder) Impfstoff", "title:Lockdown", 'title:"Zweite Welle"', "Impf*",
    "Masken*", "Querdenker Demonstration", "Lockdown date:2020-11..2020-12",
    "Impfung date:2021", "source:zeit.de Schulen", "source:sueddeutsche.de Bayern",
    "Berlin Senat Maßnahmen", "Hamburg", "München Oktoberfest abgesagt", "Wirtschaft Rezession",
    "Arbeitslosigkeit", "Insolvenz", "Tourismus Urlaub", "Reisewarnung", "Quarantäne",
    "Testpflicht", "Schnelltest", "Impfzentrum Termin", "Hausärzte impfen",
    "Wie gefährlich ist die Mutation für Kinder", "Impfreihenfolge Priorisierung",
    "Strasse", "Muenchen", "Flüchtlinge", "Polizei", "Krankenhaus", "Gesundheitsamt",
]
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß\-]{3,}")
_STOP = set("""aber alle also auch dass dann denn diese dieser durch eine einem einen einer
haben hatte hier immer jetzt kann keine mehr nach nicht noch oder schon sein seine sich
sind soll über unter viel vom wenn werden wird wurde wurden zum zur zwei drei gegen bei
ohne seit sowie weil wieder""".split())


# ---------------------------------------------------------------------------
# The index


def _index_documents(index_dir: Path) -> int | None:
    try:
        generation = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        meta = json.loads((index_dir / generation / "newssearch.json").read_text(encoding="utf-8"))
        return meta.get("documents")
    except (OSError, ValueError):
        return None


def ensure_index(corpus: Path, index_dir: Path, expected: int | None) -> None:
    """Build the index of ``corpus`` into ``index_dir`` unless it is there already."""
    documents = _index_documents(index_dir)
    if documents is not None and (expected is None or documents == expected):
        print(f"index: reusing {index_dir} ({documents} documents)", flush=True)
        return
    print(f"index: building {index_dir} from {corpus} (several minutes) …", flush=True)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "web", "index", str(corpus), "--index",
                             str(index_dir), "--rebuild", "--quiet"], cwd=REPO)
    if result.returncode != 0:
        sys.exit(f"error: 'newssearch index' failed with exit code {result.returncode}")
    documents = _index_documents(index_dir)
    print(f"index: {documents} documents in {time.monotonic() - started:.0f} s", flush=True)
    if expected is not None and documents != expected:
        sys.exit(f"error: the index holds {documents} documents, expected {expected}")


# ---------------------------------------------------------------------------
# The query mix


def headline_queries(corpus: Path, rng: random.Random, count: int) -> list[str]:
    """Queries made of real headlines: two or three of their words, or two as a phrase."""
    headlines = []
    for part in sorted(corpus.glob("*.jsonl.gz"))[::4]:
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                title = record.get("header") or record.get("title") or ""
                if title:
                    headlines.append(title)
    queries = []
    while headlines and len(queries) < count:
        words = [w for w in _WORD.findall(rng.choice(headlines)) if w.lower() not in _STOP]
        if len(words) < 2:
            continue
        if rng.random() < 0.25:
            start = rng.randrange(len(words) - 1)
            queries.append(f'"{words[start]} {words[start + 1]}"')
        else:
            queries.append(" ".join(rng.sample(words, min(len(words), rng.choice((2, 2, 3))))))
    return queries


def request_mix(corpus: Path, seed: int, size: int = 2000) -> list[str]:
    """Request targets: curated and headline queries, some sorted by date, on page 2, or
    narrowed to a source or a span of months."""
    rng = random.Random(seed)
    queries = CURATED * 8 + headline_queries(corpus, rng, len(CURATED) * 8)
    targets = []
    for _ in range(size):
        params = {"q": rng.choice(queries)}
        roll = rng.random()
        if roll < 0.15:
            params["sort"] = "date"
        elif roll < 0.25:
            params["page"] = "2"
        elif roll < 0.35:
            params["source"] = rng.choice(("zeit.de", "tagesspiegel.de", "sueddeutsche.de"))
        elif roll < 0.45:
            start = rng.choice(("2020-03", "2020-06", "2020-10", "2021-01"))
            params["from"], params["to"] = start, start[:5] + f"{int(start[5:]) + 1:02d}"
        targets.append("/api/search?" + urlencode(params))
    return targets


# ---------------------------------------------------------------------------
# The server and the clients


class Server:
    def __init__(self, index_dir: Path, threads: int):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--index", str(index_dir), "--host",
             "127.0.0.1", "--port", "0", "--threads", str(threads)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = None
        deadline = time.monotonic() + 120
        for line in self.process.stdout:
            found = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", line)
            if found:
                self.port = int(found.group(1))
                break
            if time.monotonic() > deadline:
                break
        if self.port is None:
            self.stop()
            sys.exit("error: the server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _valid(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == RESULT_KEYS and isinstance(data["hits"], list)


def client(port: int, targets: list[str], seed: int, deadline: float, budget, out: dict) -> None:
    """One client: a keep-alive connection, requests until ``deadline`` or the budget is spent."""
    rng = random.Random(seed)
    latencies, errors = out["latencies"], out["errors"]
    connection = None
    while time.monotonic() < deadline and budget.take():
        target = rng.choice(targets)
        started = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200 or not _valid(body):
                errors.append(f"{response.status} {target}")
            latencies.append(elapsed)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{type(error).__name__}: {error} {target}")
            if connection is not None:
                connection.close()
            connection = None
    if connection is not None:
        connection.close()


class Budget:
    """The total number of requests all clients may still send."""

    def __init__(self, total: int):
        self.left = total
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def run_load(port: int, targets: list[str], clients: int, seconds: float, max_requests: int,
             seed: int) -> dict:
    budget = Budget(max_requests)
    deadline = time.monotonic() + seconds
    results = [{"latencies": [], "errors": []} for _ in range(clients)]
    threads = [threading.Thread(target=client, args=(port, targets, seed + n, deadline, budget,
                                                     results[n]), daemon=True)
               for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    wall = time.monotonic() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = [e for r in results for e in r["errors"]]

    def percentile(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1000

    return {
        "clients": clients, "seconds": round(wall, 1), "requests": len(latencies) + sum(
            1 for e in errors if not e[:3].isdigit()),
        "errors": len(errors), "error_samples": errors[:10],
        "requests_per_second": round(len(latencies) / wall, 1) if wall else 0.0,
        "latency_ms": {"p50": round(percentile(50), 1), "p95": round(percentile(95), 1),
                       "p99": round(percentile(99), 1), "max": round(percentile(100), 1),
                       "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="folder for the index (outside the repository)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up, not counted")
    parser.add_argument("--threads", type=int, default=16, help="server worker threads")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--expected-documents", type=int, default=FANG_DOCUMENTS,
                        help="documents the index must hold (0: any)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        sys.exit(f"error: the corpus {args.corpus} is missing")
    index_dir = args.cache / "index"
    args.cache.mkdir(parents=True, exist_ok=True)
    ensure_index(args.corpus, index_dir, args.expected_documents or None)
    if args.build_only:
        return 0
    targets = request_mix(args.corpus, args.seed)
    server = Server(index_dir, args.threads)
    try:
        print(f"server: 127.0.0.1:{server.port}, {args.threads} threads; "
              f"{len(set(targets))} distinct requests", flush=True)
        if args.warmup > 0:
            run_load(server.port, targets, args.clients, args.warmup, args.max_requests,
                     args.seed + 1000)
        figures = run_load(server.port, targets, args.clients, args.seconds, args.max_requests,
                           args.seed)
    finally:
        server.stop()
    latency = figures["latency_ms"]
    print(f"{figures['clients']} clients, {figures['seconds']} s: {figures['requests']} requests, "
          f"{figures['errors']} errors")
    print(f"throughput: {figures['requests_per_second']} requests/s")
    print(f"latency ms: p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}  "
          f"max {latency['max']}  mean {latency['mean']}")
    for sample in figures["error_samples"]:
        print(f"  error: {sample}")
    if args.json:
        print(json.dumps({**figures, "command": " ".join(["python", "benchmarks/load.py",
                                                          *(argv or sys.argv[1:])])}))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
