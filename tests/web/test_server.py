"""``newssearch serve`` as a real process on 127.0.0.1: HTTP, threads, reindexing while serving."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from click.testing import CliRunner

from web import cli
from search import Settings, index_paths
from support.commands import free_port, newssearch_command, wait_until
from support.corpora import SAMPLE_CORPUS

NEW_WORD = "Quastenflosserparade"


def _json(server, path):
    status, headers, body = server.get(path)
    assert headers["Content-Type"].startswith("application/json"), (path, headers["Content-Type"])
    return status, json.loads(body)


def _small_corpus(folder):
    """A handful of the sample articles, copied so that the test may change them."""
    folder.mkdir()
    for path in sorted(SAMPLE_CORPUS.glob("0[0-9][0-9]_*.txt"))[:8]:
        shutil.copy2(path, folder / path.name)
    return folder


def _index(corpus, index_dir, *extra):
    result = subprocess.run([*newssearch_command(), "index", str(corpus), "--index", str(index_dir),
                             "--quiet", *extra], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# -- serving -------------------------------------------------------------------------


def test_serve_answers_over_http(web_server):
    status, body = _json(web_server, "/healthz")
    assert status == 200 and body == {"status": "ok"}
    status, result = _json(web_server, "/api/search?q=Impfung&per_page=3")
    assert status == 200 and result["total"] > 10 and len(result["hits"]) == 3
    status, headers, html = web_server.get("/?q=Impfung")
    assert status == 200 and b'<html lang="de">' in html and b"<mark>" in html
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"]
    article_id = result["hits"][0]["id"]
    status, _, html = web_server.get(f"/artikel/{article_id}?q=Impfung")
    assert status == 200 and b"<mark>" in html
    status, headers, css = web_server.get("/static/style.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and b".hit" in css
    status, body = _json(web_server, "/api/search?q=Impfung&page=0")
    assert status == 400 and body["error"]["code"] == "invalid_parameter"
    status, body = _json(web_server, "/api/articles/..%2F..%2Fetc%2Fpasswd")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_serve_handles_parallel_requests(web_server):
    paths = ["/api/search?q=Corona&page=2", "/?q=Impfung&sort=date", "/api/stats",
             "/?q=Lockdown&source=zeit.de", "/api/search?q=Merkel OR Spahn", "/healthz"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda p: web_server.get(p.replace(" ", "%20"), timeout=30)[0], paths))
    assert statuses == [200] * len(paths)


def test_reindex_shows_without_restart(web_start_server, tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    index_paths([corpus], Settings(index_dir=index_dir))
    server = web_start_server("--index", str(index_dir), "--threads", "6")
    documents = _json(server, "/api/stats")[1]["documents"]
    assert _json(server, f"/api/search?q={NEW_WORD}")[1]["total"] == 0

    # Requests run all the time the index changes; every one must succeed.
    stop = threading.Event()
    answers: list[tuple[str, int]] = []

    def keep_asking():
        paths = ["/api/search?q=Stadt", f"/?q={NEW_WORD}", "/api/stats", "/?q=Stadt&sort=date",
                 f"/api/search?q={NEW_WORD}"]
        deadline = time.monotonic() + 120
        number = 0
        while not stop.is_set() and time.monotonic() < deadline:
            path = paths[number % len(paths)]
            answers.append((path, server.get(path, timeout=30)[0]))
            number += 1

    askers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for asker in askers:
        asker.start()
    try:
        # Incremental: a new article appears.
        (corpus / "099_00000000000000ff.txt").write_text(
            f" date 2022-05 Im Aquarium der Stadt startet die {NEW_WORD}.\n\n"
            "Ein seltener Fisch zieht durch das Becken und viele Gäste kommen.\n", encoding="utf-8")
        _index(corpus, index_dir)
        found = wait_until(lambda: _json(server, f"/api/search?q={NEW_WORD}")[1]["total"], 10)
        assert found == 1
        assert _json(server, "/api/stats")[1]["documents"] == documents + 1
        status, _, html = server.get(f"/?q={NEW_WORD}")
        assert status == 200 and f"<mark>{NEW_WORD}</mark>".encode() in html

        # A rebuild switches to a fresh index; still found.
        before = _json(server, "/api/stats")[1]["generation"]
        _index(corpus, index_dir, "--rebuild")
        assert wait_until(lambda: _json(server, "/api/stats")[1]["generation"] != before, 10)
        assert _json(server, f"/api/search?q={NEW_WORD}")[1]["total"] == 1

        # Incremental again: the article's file is gone, so is the article.
        (corpus / "099_00000000000000ff.txt").unlink()
        _index(corpus, index_dir)
        gone = wait_until(
            lambda: _json(server, f"/api/search?q={NEW_WORD}")[1]["total"] == 0, 10)
        assert gone
        status, _, _ = server.get("/artikel/00000000000000ff")
        assert status == 404
        time.sleep(0.3)
    finally:
        stop.set()
        for asker in askers:
            asker.join(60)
    assert len(answers) > 20
    failed = [a for a in answers if a[1] != 200]
    assert not failed, failed[:10]
    log = server.output()
    assert "Traceback" not in log and "request failed" not in log, log[-3000:]


def test_serve_corpus_indexes_only_when_there_is_no_index(web_start_server, tmp_path):
    corpus = _small_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "fresh-index"
    server = web_start_server("--index", str(index_dir), "--corpus", str(corpus))
    assert "indexing" in server.output()
    stats = _json(server, "/api/stats")[1]
    assert stats["documents"] == 8
    server.stop()

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy2(sorted(corpus.iterdir())[0], other / "only.txt")
    again = web_start_server("--index", str(index_dir), "--corpus", str(other))
    assert "holds an index already" in again.output()
    assert _json(again, "/api/stats")[1] == stats


def test_serve_without_an_index_says_so(web_start_server, tmp_path):
    server = web_start_server("--index", str(tmp_path / "none"))
    assert "no index" in server.output()
    status, body = _json(server, "/healthz")
    assert status == 503 and body["error"]["code"] == "index_missing"
    status, _, html = server.get("/?q=Corona")
    assert status == 503 and "Noch kein Suchindex".encode() in html


def test_serve_debug_runs_flask_with_reloader(web_start_server, web_index_dir):
    server = web_start_server("--index", str(web_index_dir), "--debug", port=free_port())
    status, body = _json(server, "/healthz")
    assert status == 200 and body == {"status": "ok"}
    log = wait_until(lambda: "Restarting with" in server.output() and server.output(), 10)
    assert log and "Debugger is active" in log


def test_serve_help_and_other_commands_stay():
    runner = CliRunner()
    result = runner.invoke(cli.main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--index", "--host", "--port", "--threads", "--debug", "--corpus"):
        assert option in result.output
    listed = runner.invoke(cli.main, ["--help"]).output
    for command in ("index", "search", "stats", "serve"):
        assert command in listed
    bad = runner.invoke(cli.main, ["serve", "--port", "70000"])
    assert bad.exit_code == 2
