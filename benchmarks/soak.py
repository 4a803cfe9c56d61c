"""Soak test: 16 clients asking queries never asked before, for 30 minutes, while the
memory of every server process is sampled.

    python benchmarks/soak.py                     # 16 clients × 30 min, all of fang-covid-real
    python benchmarks/soak.py --minutes 3         # a short look
    python benchmarks/soak.py --setting worker_memory_mb 0   # without the memory budget

Uses the index of ``benchmarks/load.py`` (all 28,041 FANG articles, built once into
``~/.cache/newssearch-load`` or ``--cache DIR``). ``newssearch serve`` runs as a user
starts it (one worker process per core, 8 threads each) on 127.0.0.1. Each client
keeps one connection and sends requests that were never sent before: searches of
two or three words of real headlines, phrases, prefixes, with filters, date sorting
or later pages, through the API (60 %) and the search page (25 %), and articles of
earlier hits with their query (15 %) — the caches never stop filling. Every 10 s
the anonymous resident memory (``RssAnon``) and the whole resident set of each
worker are read from ``/proc``. The summary gives, per worker, the memory at the
end of the warm-up and at the end, the highest, and the slope over the time after
the warm-up (least squares, MB per 10 minutes); requests, errors, throughput and
latency; the last line is one JSON object with the per-minute curve.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import DEFAULT_CACHE, DEFAULT_CORPUS, FANG_DOCUMENTS, REPO, ensure_index  # noqa: E402

SAMPLE_SECONDS = 10.0
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß\-]{3,}")
SOURCES = ("zeit.de", "tagesspiegel.de", "sueddeutsche.de")
MONTHS = [f"2020-{m:02d}" for m in range(3, 13)] + ["2021-01", "2021-02"]


# ---------------------------------------------------------------------------
# Requests never sent before


def headlines(corpus: Path) -> list[list[str]]:
    found = []
    for part in sorted(corpus.glob("*.jsonl.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for line in handle:
                words = _WORD.findall(json.loads(line).get("header") or "")
                if len(words) >= 2:
                    found.append(words)
    return found


class Requests:
    """An endless supply of request targets, each one new (shared by the clients)."""

    def __init__(self, titles: list[list[str]], seed: int):
        self.titles = titles
        self.rng = random.Random(seed)
        self.sent: set[str] = set()
        self.recent_ids: collections.deque = collections.deque(maxlen=500)
        self.lock = threading.Lock()

    def _query(self) -> str:
        rng = self.rng
        words = rng.choice(self.titles)
        roll = rng.random()
        if roll < 0.15:
            start = rng.randrange(len(words) - 1)
            return f'"{words[start]} {words[start + 1]}"'
        if roll < 0.22:
            return rng.choice(words)[: rng.choice((4, 5, 6))] + "*"
        if roll < 0.30:
            other = rng.choice(self.titles)
            return f"{rng.choice(words)} OR {rng.choice(other)}"
        picked = rng.sample(words, min(len(words), rng.choice((1, 2, 2, 3))))
        if roll < 0.5:  # a word of another headline: combinations never run out
            picked.append(rng.choice(rng.choice(self.titles)))
        return " ".join(picked)

    def _params(self, query: str) -> dict:
        params = {"q": query}
        roll = self.rng.random()
        if roll < 0.12:
            params["sort"] = "date"
        elif roll < 0.22:
            params["page"] = str(self.rng.choice((2, 3)))
        elif roll < 0.32:
            params["source"] = self.rng.choice(SOURCES)
        elif roll < 0.42:
            month = self.rng.choice(MONTHS)
            params["from"] = params["to"] = month
        return params

    def next(self) -> tuple[str, str, str]:
        """``(kind, target, query)``: kind is ``api``, ``page`` or ``article``."""
        with self.lock:
            while True:
                query = self._query()
                roll = self.rng.random()
                if roll < 0.15 and self.recent_ids:
                    article = self.rng.choice(self.recent_ids)
                    kind = "article"
                    target = f"/api/articles/{quote(article, safe='')}?" + urlencode({"q": query})
                else:
                    kind = "page" if roll < 0.40 else "api"
                    path = "/" if kind == "page" else "/api/search"
                    target = path + "?" + urlencode(self._params(query))
                if target not in self.sent:
                    self.sent.add(target)
                    return kind, target, query

    def found(self, ids) -> None:
        with self.lock:
            self.recent_ids.extend(ids)


# ---------------------------------------------------------------------------
# The server, the clients, the sampler


class Server:
    def __init__(self, index_dir: Path, threads: int, extra: list[str], log: Path):
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--index", str(index_dir), "--host",
             "127.0.0.1", "--port", "0", "--threads", str(threads), *extra],
            cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = None
        deadline = time.monotonic() + 300
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
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        deadline = time.monotonic() + 30  # the workers are forked once it listens
        while self.workers() == [self.process.pid] and time.monotonic() < deadline:
            time.sleep(0.2)

    def workers(self) -> list[int]:
        """The processes answering requests: the forked workers, or the server itself."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    children.append(int(entry.name))
        return sorted(children) or [self.process.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def memory_of(pid: int) -> dict | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for name in ("RssAnon", "VmRSS"):
        match = re.search(rf"^{name}:\s+(\d+) kB", text, re.M)
        values[name] = int(match.group(1)) / 1024 if match else None
    return values


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[tuple[float, float]] = []  # (time, seconds)
        self.errors: list[str] = []
        self.kinds = collections.Counter()

    def add(self, at: float, seconds: float, kind: str, error: str | None) -> None:
        with self.lock:
            self.latencies.append((at, seconds))
            self.kinds[kind] += 1
            if error:
                self.errors.append(error)


def client(port: int, requests: Requests, deadline: float, tally: Tally, started: float) -> None:
    connection = None
    while time.monotonic() < deadline:
        kind, target, _ = requests.next()
        begun = time.perf_counter()
        error = None
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                error = f"{response.status} {target[:200]}"
            elif kind == "api":
                data = json.loads(body)
                requests.found(hit["id"] for hit in data["hits"][:3])
            elif kind == "article":
                json.loads(body)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException, ValueError) as failure:
            error = f"{type(failure).__name__}: {failure} {target[:200]}"
            if connection is not None:
                connection.close()
            connection = None
        tally.add(time.monotonic() - started, time.perf_counter() - begun, kind, error)
    if connection is not None:
        connection.close()


def sampler(server: Server, started: float, stop: threading.Event, samples: list) -> None:
    while True:
        at = time.monotonic() - started
        samples.append({"t": round(at, 1),
                        "workers": {pid: memory_of(pid) for pid in server.workers()}})
        if stop.wait(SAMPLE_SECONDS):
            return


# ---------------------------------------------------------------------------
# Figures


def slope_mb_per_10min(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    xs = [t for t, _ in points]
    ys = [v for _, v in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread * 600


def summarise(samples: list, tally: Tally, seconds: float, warmup: float) -> dict:
    pids = sorted({pid for sample in samples for pid in sample["workers"]})
    workers = {}
    for pid in pids:
        series = [(s["t"], s["workers"][pid]) for s in samples
                  if s["workers"].get(pid) is not None]
        anon = [(t, m["RssAnon"]) for t, m in series if m["RssAnon"] is not None]
        after = [(t, v) for t, v in anon if t >= warmup]
        if not anon:
            continue
        at_warmup = after[0][1] if after else None
        workers[str(pid)] = {
            "anon_mb_start": round(anon[0][1], 1),
            "anon_mb_after_warmup": round(at_warmup, 1) if at_warmup is not None else None,
            "anon_mb_end": round(anon[-1][1], 1),
            "anon_mb_max": round(max(v for _, v in anon), 1),
            "anon_mb_max_after_warmup": round(max(v for _, v in after), 1) if after else None,
            "anon_slope_mb_per_10min": (round(slope_mb_per_10min(after), 1)
                                        if slope_mb_per_10min(after) is not None else None),
            "rss_mb_end": round(series[-1][1]["VmRSS"], 1),
        }
    latencies = sorted(s for _, s in tally.latencies)

    def percentile(p: float):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1,
                                   int(round(p / 100 * (len(latencies) - 1))))] * 1000, 1)

    curve = []
    for minute in range(int(seconds // 60) + 1):
        inside = [s for s in samples if minute * 60 <= s["t"] < (minute + 1) * 60]
        if not inside:
            continue
        last = inside[-1]["workers"]
        done = sum(1 for t, _ in tally.latencies if t < (minute + 1) * 60)
        curve.append({"minute": minute + 1, "requests": done,
                      "anon_mb": {str(p): round(m["RssAnon"], 1) for p, m in last.items() if m}})
    return {
        "requests": len(latencies), "errors": len(tally.errors),
        "error_samples": tally.errors[:10], "kinds": dict(tally.kinds),
        "requests_per_second": round(len(latencies) / seconds, 1) if seconds else None,
        "latency_ms": {"p50": percentile(50), "p95": percentile(95), "p99": percentile(99),
                       "max": percentile(100)},
        "workers": workers, "curve": curve,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="folder of the index (outside the repository; shared with load.py)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup-minutes", type=float, default=5.0,
                        help="minutes after which the memory should stay flat")
    parser.add_argument("--threads", type=int, default=8, help="threads of each server process")
    parser.add_argument("--setting", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="passed to newssearch serve")
    parser.add_argument("--seed", type=int, default=20241203)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        sys.exit(f"error: the corpus {args.corpus} is missing")
    index_dir = args.cache / "index"
    args.cache.mkdir(parents=True, exist_ok=True)
    ensure_index(args.corpus, index_dir, FANG_DOCUMENTS)
    requests = Requests(headlines(args.corpus), args.seed)
    extra = [item for name, value in args.setting for item in ("--setting", name, value)]
    server = Server(index_dir, args.threads, extra, args.cache / "soak-server.log")
    seconds = args.minutes * 60
    tally, samples, stop = Tally(), [], threading.Event()
    try:
        print(f"server: 127.0.0.1:{server.port}, workers {server.workers()}, "
              f"{args.threads} threads each; {args.clients} clients for {args.minutes:g} min",
              flush=True)
        started = time.monotonic()
        deadline = started + seconds
        watcher = threading.Thread(target=sampler, args=(server, started, stop, samples),
                                   daemon=True)
        watcher.start()
        clients = [threading.Thread(target=client, args=(server.port, requests, deadline, tally,
                                                         started), daemon=True)
                   for _ in range(args.clients)]
        for thread in clients:
            thread.start()
        shown = 0
        while any(thread.is_alive() for thread in clients):
            time.sleep(1)
            minute = int((time.monotonic() - started) // 60)
            if minute > shown and samples:
                shown = minute
                last = samples[-1]["workers"]
                memory = "  ".join(f"{pid}: {m['RssAnon']:.0f} MB" for pid, m in last.items() if m)
                print(f"{minute:3d} min  {len(tally.latencies):7d} requests  "
                      f"{len(tally.errors)} errors  RssAnon {memory}", flush=True)
        for thread in clients:
            thread.join(timeout=120)
        stop.set()
        watcher.join(timeout=30)
    finally:
        server.stop()
    figures = summarise(samples, tally, seconds, args.warmup_minutes * 60)
    print(f"{figures['requests']} requests ({figures['kinds']}), {figures['errors']} errors, "
          f"{figures['requests_per_second']} requests/s; latency ms {figures['latency_ms']}")
    for pid, worker in figures["workers"].items():
        print(f"worker {pid}: RssAnon {worker['anon_mb_start']} MB at start, "
              f"{worker['anon_mb_after_warmup']} after warm-up, {worker['anon_mb_end']} at the "
              f"end, highest {worker['anon_mb_max']} ({worker['anon_mb_max_after_warmup']} after "
              f"warm-up); slope after warm-up {worker['anon_slope_mb_per_10min']} MB/10 min")
    for sample in figures["error_samples"]:
        print(f"  error: {sample}")
    print(json.dumps({**figures, "command": " ".join(["python", "benchmarks/soak.py",
                                                      *(argv or sys.argv[1:])])}))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
