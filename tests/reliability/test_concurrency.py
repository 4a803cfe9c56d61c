"""Concurrency: the server keeps answering while the index is updated and rebuilt.

``newssearch serve`` answers a steady stream of queries from several client
threads while ``newssearch index`` (separate processes, as in real use) adds,
changes and removes articles and then rebuilds the index from scratch. Zero
requests may fail, the articles that never change must be found the same
way in every single response, and a new article must become searchable within
seconds of the indexer's commit.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import pytest

from support.commands import run_cli
from support.corpora import SAMPLE_CORPUS, copy_tree
from support.server import Server
from support.shapes import check_result_shape
from search import Settings, index_paths

CLIENTS = 4
MAX_REQUESTS = 50_000
SEARCHABLE_WITHIN = 10.0  # seconds from the end of the indexer's run
STABLE = ["Bundestag", "Pendlerpauschale", '"neue Tramlinie"', "Hitze*", "council OR library",
          "Schule -Klinik", "source:zeit.de", "date:2023"]


class Stream:
    """Client threads sending queries until stopped; every answer is checked and logged."""

    def __init__(self, server: Server, expected: dict):
        self.server, self.expected = server, expected
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.log: list[tuple[float, str]] = []  # (time answered, query) of good answers
        self.failures: list[str] = []
        self.extra: list[str] = []  # queries of the articles added meanwhile
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True)
                        for n in range(CLIENTS)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "a client thread hangs"

    def _client(self, number: int) -> None:
        sent = 0
        while not self.stop.is_set() and len(self.log) + len(self.failures) < MAX_REQUESTS:
            sent += 1
            extra = list(self.extra)
            query = extra[sent % len(extra)] if extra and sent % 4 == 0 else \
                STABLE[(sent + number) % len(STABLE)]
            target = "/api/search?" + urlencode({"q": query, "per_page": 20})
            try:
                status, _, body = self.server.get(target, timeout=30)
                problem = None
                if status != 200:
                    problem = f"{status} {body[:200]!r}"
                else:
                    data = json.loads(body)
                    check_result_shape(data)
                    if query in self.expected and data["total"] != self.expected[query]:
                        problem = f"{data['total']} hits instead of {self.expected[query]}"
            except Exception as error:  # noqa: BLE001 - every failure is recorded
                problem = f"{type(error).__name__}: {error}"
            with self.lock:
                if problem:
                    self.failures.append(f"{query}: {problem}")
                else:
                    self.log.append((time.monotonic(), query))

    def answered_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(1 for moment, _ in self.log if start <= moment <= end)


def _searchable_after(server: Server, query: str, expected_total: int) -> float:
    """Seconds until ``query`` has ``expected_total`` hits (polled), or fail."""
    started = time.monotonic()
    seen = []
    while True:
        status, _, body = server.get("/api/search?" + urlencode({"q": query}), timeout=30)
        total = json.loads(body)["total"] if status == 200 else None
        seen.append((round(time.monotonic() - started, 2), status, total))
        if total == expected_total:
            return time.monotonic() - started
        if time.monotonic() - started > SEARCHABLE_WITHIN:
            raise AssertionError(f"{query!r} not at {expected_total} hits within "
                                 f"{SEARCHABLE_WITHIN} s of the commit: {seen[:5]} … {seen[-5:]}")
        time.sleep(0.05)


def _index(live, index_dir, *extra) -> tuple[float, float]:
    started = time.monotonic()
    result = run_cli("index", live, "--index", index_dir, "--quiet", *extra, timeout=300)
    assert result.returncode == 0, (result.stdout, result.stderr[-2000:])
    return started, time.monotonic()


@pytest.mark.slow
def test_server_answers_every_query_while_the_index_changes(tmp_path):
    live = copy_tree(SAMPLE_CORPUS, tmp_path / "live")
    index_dir = tmp_path / "index"
    assert index_paths([live], Settings(index_dir=index_dir)).added > 50
    server = Server(["--index", index_dir, "--threads", 8], tmp_path / "server.log")
    try:
        expected = {}
        for query in STABLE:
            status, _, body = server.get("/api/search?" + urlencode({"q": query, "per_page": 20}))
            assert status == 200
            expected[query] = json.loads(body)["total"]
        assert sum(1 for total in expected.values() if total > 0) >= 6, expected
        delays, busy = [], []
        with Stream(server, expected) as stream:
            time.sleep(1.0)
            # 1. Add an article.
            (live / "neu-1.txt").write_text(
                "Neuer Artikel\n\nDer Quellwortnebel zieht über die Stadt.\n", encoding="utf-8")
            start, end = _index(live, index_dir)
            delays.append(_searchable_after(server, "Quellwortnebel", 1))
            busy.append(stream.answered_between(start, end))
            stream.extra.append("Quellwortnebel")
            # 2. Change it and add a JSON Lines file of three more.
            (live / "neu-1.txt").write_text(
                "Neuer Artikel\n\nDer Quellwortregen fällt auf die Stadt.\n", encoding="utf-8")
            (live / "neu.jsonl").write_text("".join(json.dumps(
                {"id": f"meldung-{n}", "title": f"Meldung {n}", "text": f"Der Morgenstundenwind {n}."})
                + "\n" for n in range(3)), encoding="utf-8")
            start, end = _index(live, index_dir)
            delays.append(_searchable_after(server, "Quellwortregen", 1))
            delays.append(_searchable_after(server, "Morgenstundenwind", 3))
            assert _searchable_after(server, "Quellwortnebel", 0) < SEARCHABLE_WITHIN
            busy.append(stream.answered_between(start, end))
            stream.extra[:] = ["Quellwortregen", "Morgenstundenwind"]
            # 3. Remove the text file.
            (live / "neu-1.txt").unlink()
            start, end = _index(live, index_dir)
            delays.append(_searchable_after(server, "Quellwortregen", 0))
            busy.append(stream.answered_between(start, end))
            stream.extra[:] = ["Morgenstundenwind"]
            # 4. Rebuild from scratch, switched atomically.
            start, end = _index(live, index_dir, "--rebuild")
            busy.append(stream.answered_between(start, end))
            assert _searchable_after(server, "Morgenstundenwind", 3) < SEARCHABLE_WITHIN
            time.sleep(1.0)
        assert not stream.failures, stream.failures[:20]
        # A steady stream: answers came in while every one of the indexers ran.
        assert all(count > 0 for count in busy), busy
        assert len(stream.log) >= 100, len(stream.log)
        assert all(delay < SEARCHABLE_WITHIN for delay in delays), delays
        status, _, _ = server.get("/healthz")
        assert status == 200
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()[-5000:]
