"""``/healthz`` tells the truth, and no response names a path of the machine.

``/healthz`` opens the current generation, checks its files against the sizes
they were published with and runs one query that reads postings and a stored
article. A truncated postings file (while the page may still answer some
searches) gives 503 ``index_damaged`` with a reason that names the file but no
folder; the same index, repaired by a reindex, is healthy again. Without an
index, the JSON errors and the pages name no folder either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


def _current_generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


@pytest.fixture
def index_dir(tmp_path):
    from search import Settings, index_paths

    folder = tmp_path / "archiv-index"
    assert index_paths([CORPUS], Settings(index_dir=folder)).documents > 40
    return folder


def _client(index_dir):
    from web import create_app

    return create_app({"INDEX_DIR": index_dir}).test_client()


@pytest.mark.parametrize("suffix", [".pst", ".npst", ".trm"])
def test_a_truncated_index_file_makes_health_fail_with_a_reason(index_dir, suffix):
    from search import Settings, index_paths

    client = _client(index_dir)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}

    damaged = next(_current_generation(index_dir).glob(f"*{suffix}"))
    size = damaged.stat().st_size
    with open(damaged, "r+b") as handle:
        handle.truncate(size // 2)

    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "index_damaged"
    message = body["error"]["message"]
    assert damaged.name in message and f"{size:,}" in message
    assert str(index_dir) not in message and "/" not in message
    assert response.headers["Cache-Control"] == "no-store"

    # A reindex writes a new generation; the damaged one is no longer read.
    index_paths([CORPUS], Settings(index_dir=index_dir), rebuild=True)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_a_damaged_index_without_a_manifest_is_found_by_the_query(index_dir):
    """Generations published before manifests existed: the probe query finds damage."""
    generation = _current_generation(index_dir)
    (generation / "manifest.json").unlink()
    assert _client(index_dir).get("/healthz").status_code == 200
    for path in generation.glob("*.trm"):
        path.write_bytes(path.read_bytes()[:64])
    # A server started on the damaged index (one that had it open would have its
    # files mapped into memory, which a truncation pulls away from under it).
    response = _client(index_dir).get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "index_damaged"
    assert "/" not in body["error"]["message"], body


def test_health_runs_a_query_that_reads_postings(index_dir):
    """The probe is a word of the index, searched as a visitor would."""
    from search import Engine

    with Engine(index_dir) as engine:
        assert engine.health() == {"status": "ok"}
        generation = _current_generation(index_dir)
        # With the postings arrays and the postings file gone, the query fails.
        for path in list(generation.glob("*.npst")) + list(generation.glob("*.pst")):
            path.write_bytes(b"")
        (generation / "manifest.json").unlink()
    from search.cache import clear_all

    clear_all()  # as a freshly started process has it: nothing decoded yet
    with Engine(index_dir) as engine:
        health = engine.health()
    assert health["status"] == "failing", health
    assert str(index_dir) not in health["reason"]


def test_no_response_names_a_folder_without_an_index(tmp_path):
    from web import create_app

    missing = tmp_path / "nirgends" / "index"
    client = create_app({"INDEX_DIR": missing}).test_client()
    for target in ("/healthz", "/api/search?q=x", "/api/stats", "/api/articles/x"):
        response = client.get(target)
        assert response.status_code == 503, target
        assert response.get_json()["error"]["code"] == "index_missing"
        assert str(tmp_path) not in response.get_data(as_text=True), target
    for target in ("/", "/?q=x", "/artikel/x"):
        response = client.get(target)
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "Noch kein Suchindex" in page and "newssearch index" in page
        assert str(tmp_path) not in page and "nirgends" not in page, target


def test_health_of_an_empty_index_folder_is_missing_not_damaged(tmp_path):
    folder = tmp_path / "index"
    folder.mkdir()
    response = _client(folder).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "index_missing"
    assert str(tmp_path) not in response.get_data(as_text=True)
