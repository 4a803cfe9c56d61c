"""Fixtures of the reliability tests: the sample corpus with hostile articles, indexed once,
and one live server on it.

The query fuzz (Python API), the HTTP fuzz and the browser payload test all
search the same index: ``corpus/`` plus articles carrying script payloads in
every input format (:mod:`support.payloads`). Nothing writes to it, so it is
built once per run; the tests that change an index build their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from search import Settings, index_paths
from support.corpora import SAMPLE_CORPUS, copy_tree
from support.payloads import write_payload_articles
from support.server import Server


@dataclass
class PayloadIndex:
    index_dir: Path
    ids: dict[str, str]  # the payload articles: {article id: input format}
    report: object


@pytest.fixture(scope="session")
def payload_index(tmp_path_factory) -> PayloadIndex:
    base = tmp_path_factory.mktemp("payload-index")
    corpus = copy_tree(SAMPLE_CORPUS, base / "corpus")
    ids = write_payload_articles(corpus / "payloads")
    report = index_paths([corpus], Settings(index_dir=base / "index"))
    assert report.added > 50 and not report.failed, report.to_dict()
    return PayloadIndex(base / "index", ids, report)


@pytest.fixture(scope="session")
def payload_server(payload_index, tmp_path_factory):
    """``newssearch serve`` on the payload index (four threads); its log must hold no
    traceback when it stops."""
    server = Server(["--index", payload_index.index_dir, "--threads", 4],
                    tmp_path_factory.mktemp("payload-server") / "server.log")
    yield server
    server.stop()
    assert "Traceback" not in server.output(), server.output()[-5000:]
