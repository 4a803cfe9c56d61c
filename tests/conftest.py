"""Shared fixtures of the tests.

The engine tests (test_corpus.py, test_indexing.py, test_search.py, test_cli.py)
read the real corpora in ../shared/corpora and build real Whoosh indexes on disk.
"""

# --- core: corpus, indexing, search and CLI tests -------------------------------------------

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
# A chronological slice of the German news corpus: 2020-01-29 … 2020-03.
FANG_PARTS = ("part-000.jsonl.gz", "part-001.jsonl.gz")
SEED_FILE = "000_edced858fe0a0ea0.txt"
# The first rows of the 10kGNAD test split go into the shared index (categories, no dates).
GNAD_ROWS = 300
CLI = [sys.executable, "-m", "web"]


def shared_corpus(name: str) -> Path:
    """A corpus of ../shared/corpora; the test fails (never skips) when it is missing."""
    path = SHARED_CORPORA / name
    if not path.exists():
        pytest.fail(f"shared corpus {name!r} is missing: expected it at {path} "
                    f"(the tests read the real corpora from ../shared/corpora beside the "
                    f"repository)", pytrace=False)
    return path


def shared_file(corpus: str, *parts: str) -> Path:
    """A file of a shared corpus; fails like :func:`shared_corpus` when it is missing."""
    path = shared_corpus(corpus).joinpath(*parts)
    if not path.exists():
        pytest.fail(f"file {path} of the shared corpus {corpus!r} is missing", pytrace=False)
    return path


def read_fang(part: str) -> list[dict]:
    """The raw records of one part of fang-covid-real, as the JSON holds them."""
    with gzip.open(shared_file("fang-covid-real", part), "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_gnad() -> list[list[str]]:
    """The rows (category, text) of the 10kGNAD test split, read with the csv module."""
    with open(shared_file("10kgnad-test", "test.csv"), encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=";", quotechar="'"))


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def run_cli(*args, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """``newssearch ARGS`` as a subprocess of this Python, from the repository root."""
    return subprocess.run([*CLI, *map(str, args)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def all_hits(engine, query: str, **params) -> list[dict]:
    """Every hit of a search, walking the pages of 100 (every article: near-duplicates are
    not folded unless ``collapse=True`` is passed)."""
    params.setdefault("collapse", False)
    hits = []
    page = 1
    while True:
        result = engine.search(query, page=page, per_page=100, suggest=False, **params)
        hits.extend(result.hits)
        if page * 100 >= result.total:
            assert len(hits) == result.total, (query, params, len(hits), result.total)
            return hits
        page += 1


def hit_ids(engine, query: str, **params) -> set[str]:
    ids = [hit["id"] for hit in all_hits(engine, query, **params)]
    assert len(ids) == len(set(ids)), f"a hit came twice for {query!r}"
    return set(ids)


class NewsIndex:
    """The session index: two FANG parts, the seed article and the first 10kGNAD rows."""

    def __init__(self, index_dir: Path, report, fang: dict, gnad: list, gnad_path: Path):
        self.index_dir = index_dir
        self.report = report
        self.fang = fang  # id -> raw record
        self.gnad = gnad  # the indexed rows (category, text); row n has the id "test:n"
        self.gnad_path = gnad_path


@pytest.fixture(scope="session")
def news_index(tmp_path_factory) -> NewsIndex:
    from search import Settings, index_paths

    fang = {}
    for part in FANG_PARTS:
        fang.update((record["id"], record) for record in read_fang(part))
    corpus = tmp_path_factory.mktemp("news-corpus")
    # The first rows, byte for byte as the shared file has them (CRLF, quoting); no field
    # holds a line break, so a line is a row.
    raw = shared_file("10kgnad-test", "test.csv").read_bytes().split(b"\r\n")
    gnad_path = corpus / "test.csv"
    gnad_path.write_bytes(b"\r\n".join(raw[:GNAD_ROWS]) + b"\r\n")
    gnad = read_gnad()[:GNAD_ROWS]
    index_dir = tmp_path_factory.mktemp("news-index")
    paths = [shared_file("fang-covid-real", part) for part in FANG_PARTS]
    paths += [shared_file("seed", SEED_FILE), gnad_path]
    report = index_paths(paths, Settings(index_dir=index_dir))
    assert not report.problems, [str(p) for p in report.problems]
    return NewsIndex(index_dir, report, fang, gnad, gnad_path)


@pytest.fixture(scope="session")
def news_engine(news_index):
    from search import Engine

    engine = Engine(news_index.index_dir)
    yield engine
    engine.close()

# --- end of the core section -------------------------------------------------------------------

# --- web: shared fixtures of the web tests (test_web_*.py, test_openapi.py) ---------------

import os as _web_os
import re as _web_re
import shutil as _web_shutil
import signal as _web_signal
import subprocess as _web_subprocess
import sys as _web_sys
import threading as _web_threading
import time as _web_time
import urllib.request as _web_request
from pathlib import Path as _WebPath

import pytest as _web_pytest

WEB_REPO = _WebPath(__file__).resolve().parents[1]
WEB_CORPUS = WEB_REPO / "corpus"
WEB_OUTPUT = WEB_REPO / "test-output"
WEB_SHARED = _WebPath(_web_os.environ.get("NEWSSEARCH_CORPORA", WEB_REPO.parent / "shared" / "corpora"))
# Two slices of the German news corpus: Jan–Mar 2020 and Nov–Dec 2020, three sources.
WEB_FANG_PARTS = ("part-000.jsonl.gz", "part-020.jsonl.gz")
WEB_SERVER_START_SECONDS = 120.0


def web_shared_file(*parts: str) -> _WebPath:
    """A file of the shared corpora; the test fails (never skips) when it is missing."""
    path = WEB_SHARED.joinpath(*parts)
    if not path.is_file():
        _web_pytest.fail(f"shared corpus file missing: {path} (the web tests need the real corpora "
                         f"in ../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)",
                         pytrace=False)
    return path


def _web_die_with_parent():
    """In the child before exec: end with SIGTERM when the test process ends, even if it is
    killed before its teardown could stop the server (Linux ``PR_SET_PDEATHSIG``)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, _web_signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def web_newssearch() -> list[str]:
    """The ``newssearch`` command of this environment."""
    script = _WebPath(_web_sys.executable).with_name("newssearch")
    if script.exists():
        return [str(script)]
    return [_web_sys.executable, "-c", "from web.cli import main; main()"]


@_web_pytest.fixture(scope="session")
def web_index_dir(tmp_path_factory):
    """An index of the sample corpus plus two parts of fang-covid-real, built once per session."""
    from search import Settings, index_paths

    parts = [web_shared_file("fang-covid-real", name) for name in WEB_FANG_PARTS]
    index_dir = tmp_path_factory.mktemp("web-index")
    report = index_paths([WEB_CORPUS, *parts], Settings(index_dir=index_dir))
    assert report.documents > 2000, report.to_dict()
    return index_dir


class WebServer:
    """A ``newssearch serve`` process on 127.0.0.1, by default on an ephemeral port.

    With ``port`` given (the ``--debug`` server prints no address of its own),
    the server counts as started once it answers ``/healthz`` at all.
    """

    def __init__(self, args, log_path: _WebPath, env=None, port: int | None = None):
        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")
        self.lines: list[str] = []
        self._address = _web_threading.Event()
        self.process = _web_subprocess.Popen(
            [*web_newssearch(), "serve", "--host", "127.0.0.1", "--port", str(port or 0), *args],
            stdout=_web_subprocess.PIPE, stderr=self._log, text=True, cwd=WEB_REPO,
            env={**_web_os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True, preexec_fn=_web_die_with_parent)
        _web_threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            if port:
                self.url = f"http://127.0.0.1:{port}"
                if not web_wait_until(self._answers, WEB_SERVER_START_SECONDS, interval=0.2):
                    raise AssertionError("no answer")
            else:
                if not self._address.wait(WEB_SERVER_START_SECONDS):
                    raise AssertionError("no address")
                self.url = self._found
        except AssertionError as error:
            self.stop()
            raise AssertionError(f"server did not start within {WEB_SERVER_START_SECONDS} s "
                                 f"({error}):\n{self.output()}") from None

    def _read_stdout(self):
        for line in self.process.stdout:  # drained to the end, so the server never blocks
            self.lines.append(line)
            match = _web_re.search(r"Serving on (http://127\.0\.0\.1:\d+)/", line)
            if match and not self._address.is_set():
                self._found = match.group(1)
                self._address.set()

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}")
        try:
            self.get("/healthz", timeout=2)
        except OSError:
            return False
        return True

    def output(self) -> str:
        """What the server printed so far: stdout, then stderr."""
        self._log.flush()
        return "".join(self.lines) + self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, timeout: float = 10.0):
        """``(status, headers, body bytes)`` of a GET; HTTP errors are answers too."""
        try:
            with _web_request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except _web_request.HTTPError as error:
            with error:
                return error.code, error.headers, error.read()

    def stop(self) -> None:
        """Stop the server and everything it started (its whole process group)."""
        if self.process.poll() is None:
            try:
                _web_os.killpg(self.process.pid, _web_signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except _web_subprocess.TimeoutExpired:
                _web_os.killpg(self.process.pid, _web_signal.SIGKILL)
                self.process.wait(timeout=10)
        try:  # a reloader's child may outlive its parent for a moment
            _web_os.killpg(self.process.pid, _web_signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self._log.closed:
            self._log.close()


@_web_pytest.fixture
def web_start_server(tmp_path):
    """Start ``newssearch serve`` with extra arguments; every server is stopped at teardown."""
    servers: list[WebServer] = []

    def start(*args, env=None, port=None) -> WebServer:
        server = WebServer(args, tmp_path / f"server-{len(servers)}.log", env=env, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@_web_pytest.fixture(scope="session")
def web_server(web_index_dir, tmp_path_factory):
    """One server on the session index, for tests that only read."""
    server = WebServer(["--index", str(web_index_dir)],
                       tmp_path_factory.mktemp("web-server") / "server.log")
    yield server
    server.stop()


@_web_pytest.fixture
def web_output(tmp_path, request):
    """Where a test leaves files to look at: its tmp_path, copied to test-output/ at the end."""
    yield tmp_path
    target = WEB_OUTPUT / _web_re.sub(r"[^\w.-]+", "_", request.node.name)
    target.mkdir(parents=True, exist_ok=True)
    for path in tmp_path.glob("*.png"):
        _web_shutil.copy2(path, target / path.name)


def web_wait_until(condition, seconds: float, interval: float = 0.1):
    """Call ``condition`` until it gives a true value or ``seconds`` pass; returns the last value."""
    deadline = _web_time.monotonic() + seconds
    while True:
        value = condition()
        if value or _web_time.monotonic() > deadline:
            return value
        _web_time.sleep(interval)
