"""The queries one visitor could stall the server with, before and after, in one run.

    python benchmarks/adversarial.py                        # this checkout
    python benchmarks/adversarial.py --baseline 0d3d445     # and an older commit first

Uses the index of ``benchmarks/load.py`` (all 28,041 FANG articles, built once into
``~/.cache/newssearch-load`` or ``--cache DIR``). For each tree (the ``--baseline``
commit, exported with ``git archive`` into a temporary folder, then this checkout)
``newssearch serve --workers 1 --threads 8`` runs on 127.0.0.1 and answers:

* the OR of the 70 most frequent words of the index's vocabulary (four letters or
  more, no function words; about 670 characters), alone, then asking only for the
  first hits (``exact_totals=0``: top-k scoring; a tree without that parameter
  answers exactly), then from ``--clients``
  clients at once while ``/healthz`` is asked every 0.05 s on its own connection;
* ``Corona OR Covid`` through the API and as the search page filtered by a source;
* 110 misspelt words (each frequent word with two letters swapped);
* 20 nested prefixes.

Every figure is wall time of the whole request; the JSON answers say whether they
ran out of their time budget (``timed_out``). Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import DEFAULT_CACHE, DEFAULT_CORPUS, FANG_DOCUMENTS, REPO, ensure_index  # noqa: E402
from load import _STOP  # noqa: E402


def frequent_words(index_dir: Path, count: int) -> list[str]:
    """The ``count`` most frequent words of the index's vocabulary (4+ letters, no
    function words)."""
    sys.path.insert(0, str(REPO))
    from search.analysis.spelling import Vocabulary

    generation = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    vocabulary = Vocabulary.load(generation)
    words = [w for w, _ in vocabulary.counts.most_common(2000)
             if len(w) >= 4 and w.isalpha() and w not in _STOP]
    return words[:count]


def swapped(word: str) -> str:
    middle = len(word) // 2
    return word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]


class Served:
    """``python -m web serve`` of the tree ``root`` (its own ``search`` and ``web``)."""

    def __init__(self, root: Path, index_dir: Path, threads: int):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--index", str(index_dir), "--host",
             "127.0.0.1", "--port", "0", "--workers", "1", "--threads", str(threads)],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"})
        self.port = None
        for line in self.process.stdout:
            if "Serving on http://127.0.0.1:" in line:
                self.port = int(line.split("127.0.0.1:")[1].split("/")[0])
                break
        if self.port is None:
            self.stop()
            sys.exit(f"error: the server of {root} did not start")
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def get(self, target: str, timeout: float = 600.0) -> tuple[float, int, dict | None]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.perf_counter()
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        took = time.perf_counter() - started
        data = None
        if response.getheader("Content-Type", "").startswith("application/json"):
            data = json.loads(body)
        return took, response.status, data

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def measure(served: Served, words: list[str], clients: int) -> dict:
    api = "/api/search?"
    seventy = " OR ".join(words[:70])
    out = {"query_chars": len(seventy)}
    served.get(api + urlencode({"q": "Corona"}))  # warm
    out["healthz_idle_s"] = served.get("/healthz")[0]
    took, _, data = served.get(api + urlencode({"q": seventy}))
    out["or70_alone_s"] = took
    out["or70_total"] = data["total"]
    out["or70_timed_out"] = bool(data.get("timed_out"))
    out["or70_top10"] = [hit["id"] for hit in data["hits"]]
    # only the first hits (exact_totals=0: top-k scoring; a tree without it answers exactly)
    took, _, data = served.get(api + urlencode({"q": seventy, "exact_totals": "0"}))
    out["or70_first_hits_s"] = took
    out["or70_first_hits_same_top10"] = [hit["id"] for hit in data["hits"]] == out["or70_top10"]
    out["or70_first_hits_total"] = data["total"]

    # clients at once, /healthz asked meanwhile
    times, health, done = [], [], threading.Event()

    def one():
        took, status, _ = served.get(api + urlencode({"q": seventy}))
        times.append(took if status == 200 else float("nan"))

    def poll():
        while not done.is_set():
            took, status, _ = served.get("/healthz", timeout=120)
            health.append(took)
            done.wait(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    workers = [threading.Thread(target=one) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    poller.join()
    out["or70_concurrent_s"] = {"mean": statistics.mean(times), "max": max(times)}
    out["healthz_s"] = {"p50": statistics.median(health), "max": max(health), "n": len(health)}

    for name, target in (
            ("corona_or_covid_api_s", api + urlencode({"q": "Corona OR Covid"})),
            ("corona_or_covid_page_source_s",
             "/search?" + urlencode({"q": "Corona OR Covid", "source": "zeit.de"})),
            ("misspelt110_s", api + urlencode({"q": " ".join(swapped(w) for w in words[:110])})),
            ("prefixes20_s", api + urlencode({"q": " ".join(
                "(" * 3 + w[:4] + "*" + ")" * 3 for w in words[:20])}))):
        took, status, data = served.get(target)
        out[name] = took
        if data is not None:
            out[name.replace("_s", "_timed_out")] = bool(data.get("timed_out"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", help="a commit to measure first (git archive of it)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    index_dir = args.cache / "index"
    ensure_index(args.corpus, index_dir, FANG_DOCUMENTS)
    words = frequent_words(index_dir, 110)
    trees = []
    with tempfile.TemporaryDirectory() as temporary:
        if args.baseline:
            root = Path(temporary) / "baseline"
            root.mkdir()
            archive = subprocess.run(["git", "archive", args.baseline, "search", "web"],
                                     cwd=REPO, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
            trees.append((f"baseline {args.baseline}", root))
        revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                  capture_output=True, text=True).stdout.strip()
        trees.append((f"this checkout ({revision})", REPO))
        results = {}
        for name, root in trees:
            served = Served(root, index_dir, args.threads)
            try:
                results[name] = measure(served, words, args.clients)
            finally:
                served.stop()
            print(name, json.dumps(results[name]), flush=True)
    names = list(results)
    if len(names) == 2:
        before, after = (results[n] for n in names)
        print(f"top 10 of the 70-word OR equal: {before['or70_top10'] == after['or70_top10']}; "
              f"totals {before['or70_total']} / {after['or70_total']}")
        for key in ("or70_alone_s", "or70_first_hits_s", "corona_or_covid_api_s",
                    "corona_or_covid_page_source_s",
                    "misspelt110_s", "prefixes20_s"):
            print(f"{key:32} {before[key]:8.3f} {after[key]:8.3f}  ×{before[key] / after[key]:.1f}")
        for key in ("or70_concurrent_s", "healthz_s"):
            print(f"{key:32} {json.dumps(before[key])}  ->  {json.dumps(after[key])}")


if __name__ == "__main__":
    main()
