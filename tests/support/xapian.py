"""What the Xapian backend tests share: real corpus slices, shard servers, queries."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .corpora import shared_file

# Three parts: about 3,000 articles of Nov 2020 – Jan 2021, three sources.
FANG_PARTS = ("part-020.jsonl.gz", "part-021.jsonl.gz", "part-022.jsonl.gz")


def fang_parts(names=FANG_PARTS) -> list[Path]:
    """Parts of fang-covid-real; the test fails (never skips) when one is missing."""
    return [shared_file("fang-covid-real", name) for name in names]


def require_tools() -> None:
    for name in ("xapian-tcpsrv", "xapian-replicate", "xapian-replicate-server"):
        if shutil.which(name) is None:
            pytest.fail(f"{name} is missing: install Debian's xapian-tools "
                        f"(.ci/run does)", pytrace=False)


class Servers:
    """Shard servers started by a test, all stopped at teardown."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def _start(self, make_command, name: str, attempts: int = 5):
        from search.backends.xapian import serve as xs

        error = None
        for _ in range(attempts):
            port = xs.free_port()
            log = open(self.log_dir / f"{name}-{port}.log", "w")
            try:
                process = xs.start(make_command(port), "127.0.0.1", port, log=log)
            except RuntimeError as failure:  # the port was taken meanwhile
                error = failure
                continue
            finally:
                log.close()
            self.processes.append(process)
            return process, port
        raise error

    def tcpsrv(self, shard_dir, port: int | None = None):
        """``xapian-tcpsrv`` for one shard on 127.0.0.1; ``(process, port)``."""
        from search.backends.xapian import serve as xs

        if port is not None:
            log = open(self.log_dir / f"tcpsrv-{port}.log", "w")
            try:
                process = xs.start(xs.tcpsrv_command(shard_dir, port), "127.0.0.1", port, log=log)
            finally:
                log.close()
            self.processes.append(process)
            return process, port
        return self._start(lambda p: xs.tcpsrv_command(shard_dir, p), "tcpsrv")

    def replication_server(self, cluster_dir):
        from search.backends.xapian import serve as xs

        return self._start(lambda p: xs.replication_server_command(cluster_dir, p), "replsrv")

    def stop(self, process) -> None:
        from search.backends.xapian import serve as xs

        xs.stop(process)

    def stop_all(self) -> None:
        from search.backends.xapian import serve as xs

        for process in self.processes:
            xs.stop(process)
        self.processes.clear()


# ---------------------------------------------------------------------------
# Queries drawn from the articles themselves

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{5,}")
_STOP = {"nicht", "diese", "einem", "einen", "einer", "eines", "wurde", "werden", "haben",
         "sollen", "sagte", "schon", "sich", "unter", "immer", "wieder", "seine", "ihren",
         "ihrer", "dieser", "dieses", "durch", "gegen", "keine", "mehr", "nach", "damit",
         "wegen", "sowie", "bereits", "sondern", "worden", "können", "müssen", "Nachrichten",
         "Übersicht", "Eilige", "Morgen", "kompakt", "Abend"}


def make_queries(records, count: int = 240, seed: int = 20240611) -> list[dict]:
    """A fixed mix of query kinds, with words taken from real headlines.

    Each item: ``{"q": text, "sort": "relevance"|"date", **filters}``.
    """
    rng = random.Random(seed)
    titles = []
    for record in records:
        words = [w for w in _WORD.findall(record["header"]) if w not in _STOP]
        if len(words) >= 3:
            titles.append(words)
    sources = sorted({r["source"] for r in records})
    months = sorted({r["day"][:7] for r in records})
    queries: list[dict] = []

    def add(text, **extra):
        item = {"q": text, "sort": "relevance", **extra}
        if item not in queries:
            queries.append(item)

    kinds = ["one", "one", "two", "two", "three", "phrase", "prefix", "filter", "or", "not",
             "title", "date", "sorted", "param"]
    while len(queries) < count:
        words = rng.choice(titles)
        kind = kinds[len(queries) % len(kinds)]
        a, b, c = rng.sample(words, 3)
        if kind == "one":
            add(a)
        elif kind == "two":
            add(f"{a} {b}")
        elif kind == "three":
            add(f"{a} {b} {c}")
        elif kind == "phrase":
            at = rng.randrange(len(words) - 1)
            add(f'"{words[at]} {words[at + 1]}"')
        elif kind == "prefix":
            add(a[: rng.choice((4, 5, 6))] + "*")
        elif kind == "filter":
            add(f"{a} source:{rng.choice(sources)}")
        elif kind == "or":
            add(f"{a} OR {b}")
        elif kind == "not":
            add(f"{a} -{b}")
        elif kind == "title":
            add(f"title:{a}")
        elif kind == "date":
            add(f"{a} date:{rng.choice(months)}")
        elif kind == "sorted":
            add(a, sort="date")
        else:
            add(f"{a} {b}", source=rng.choice(sources).upper())
    return queries


def run_query(engine, item, per_page: int = 10):
    params = {k: v for k, v in item.items() if k not in ("q",)}
    return engine.search(item["q"], per_page=per_page, suggest=False, **params)
