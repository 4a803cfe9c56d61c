"""Fixtures of the integration tests: one real Whoosh index of real news, built once.

The index holds two parts of fang-covid-real (Jan–Mar 2020), the seed article
and the first rows of the 10kGNAD test split; the tests that read it
(searching, the CLI, compact postings, indexing) never change it. Tests that
change an index build their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.corpora import (FANG_PARTS, GNAD_ROWS, SEED_FILE, read_fang, read_gnad,
                             shared_file)


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
