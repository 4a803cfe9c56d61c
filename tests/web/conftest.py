"""Fixtures of the web tests: an index of real news, the real server on it, and a folder for
screenshots.

``web_index_dir`` is the sample corpus plus two parts of fang-covid-real (Jan–Mar
and Nov–Dec 2020, three sources), built once; ``web_server`` serves it for
tests that only read; ``web_start_server`` starts servers of a test's own
(stopped at its end); ``web_output`` keeps a test's screenshots in
``test-output/``.
"""

from __future__ import annotations

import re
import shutil

import pytest

from support.corpora import REPO, SAMPLE_CORPUS, shared_file
from support.server import Server

WEB_OUTPUT = REPO / "test-output"
WEB_FANG_PARTS = ("part-000.jsonl.gz", "part-020.jsonl.gz")


@pytest.fixture(scope="session")
def web_index_dir(tmp_path_factory):
    """An index of the sample corpus plus two parts of fang-covid-real, built once per run."""
    from search import Settings, index_paths

    parts = [shared_file("fang-covid-real", name) for name in WEB_FANG_PARTS]
    index_dir = tmp_path_factory.mktemp("web-index")
    report = index_paths([SAMPLE_CORPUS, *parts], Settings(index_dir=index_dir))
    assert report.documents > 2000, report.to_dict()
    return index_dir


@pytest.fixture
def web_start_server(tmp_path):
    """Start ``newssearch serve`` with extra arguments; every server is stopped at teardown."""
    servers: list[Server] = []

    def start(*args, env=None, port=None) -> Server:
        server = Server(args, tmp_path / f"server-{len(servers)}.log", env=env, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def web_server(web_index_dir, tmp_path_factory):
    """One server on the session index, for tests that only read."""
    server = Server(["--index", web_index_dir],
                    tmp_path_factory.mktemp("web-server") / "server.log")
    yield server
    server.stop()


@pytest.fixture
def web_output(tmp_path, request):
    """Where a test leaves files to look at: its tmp_path, copied to test-output/ at the end."""
    yield tmp_path
    target = WEB_OUTPUT / re.sub(r"[^\w.-]+", "_", request.node.name)
    target.mkdir(parents=True, exist_ok=True)
    for path in tmp_path.glob("*.png"):
        shutil.copy2(path, target / path.name)
