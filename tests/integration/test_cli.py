"""The ``newssearch`` command: in-process through click's CliRunner and as a subprocess
(``python -m web`` from the repository root), on real corpora and real indexes."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from web import cli
from search import Engine
from search.storage import LOCK
from support.commands import run_cli
from support.corpora import SEED_FILE, read_fang, shared_file, write_jsonl
from support.shapes import FLAG_KEYS

RESULT_KEYS = ["query", "total", "page", "per_page", "took_ms", "mode", "reason", "hits",
               "facets", "suggestion", "collapse", "stories", "folded"]
HIT_KEYS = ["id", "title", "date", "lang", "source", "category", "url", "score", "snippet",
            "snippet_text", "folded", "duplicates"]
ISO_DATE = re.compile(r"\d{4}(-\d\d(-\d\d(T\d\d:\d\d:\d\d([+-]\d\d:\d\d)?)?)?)?")


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copyfile(shared_file("seed", SEED_FILE), folder / SEED_FILE)
    write_jsonl(folder / "nachrichten.jsonl", read_fang("part-001.jsonl.gz")[:15])
    shutil.copyfile(shared_file("bbc-en", "sport", "199.txt"), folder / "sport-199.txt")
    return folder


def broken_folder(tmp_path):
    folder = tmp_path / "kaputt"
    folder.mkdir()
    (folder / "leer.txt").write_bytes(b"")
    (folder / "binaer.txt").write_bytes(bytes(range(256)) * 16)
    (folder / "zeilen.jsonl").write_text("{nicht json\n[]\n", encoding="utf-8")
    return folder


# -- index ---------------------------------------------------------------------------------------


def test_index_then_nothing_to_do(corpus, tmp_path):
    index_dir = tmp_path / "index"
    first = invoke("index", corpus, "--index", index_dir, "--quiet")
    assert first.exit_code == 0, first.output
    assert "added 17, updated 0, removed 0, unchanged 0, skipped 0" in first.stdout
    assert "17 documents in the index" in first.stdout
    second = invoke("index", corpus, "--index", index_dir, "--quiet")
    assert second.exit_code == 0
    assert "added 0, updated 0, removed 0, unchanged 17" in second.stdout
    assert "nothing changed" in second.stdout


def test_rebuild_switches_to_a_new_generation(corpus, tmp_path):
    index_dir = tmp_path / "index"
    assert invoke("index", corpus, "--index", index_dir, "-q").exit_code == 0
    old = (index_dir / "CURRENT").read_text().strip()
    (corpus / "nachrichten.jsonl").unlink()
    rebuilt = invoke("index", corpus, "--index", index_dir, "--rebuild", "--json")
    assert rebuilt.exit_code == 0
    report = json.loads(rebuilt.stdout)
    assert report["rebuilt"] and report["added"] == 2 and report["documents"] == 2
    new = (index_dir / "CURRENT").read_text().strip()
    assert new == report["generation"] and new > old
    assert (index_dir / old).is_dir()  # kept for readers still on it
    with Engine(index_dir) as engine:
        assert engine.stats()["documents"] == 2


def test_index_json_report_lists_problems_with_lines(corpus, tmp_path):
    (corpus / "zeilen.jsonl").write_text('{"id": "x", "text": "Ein Satz."}\n{kaputt\n',
                                         encoding="utf-8")
    result = invoke("index", corpus, "--index", tmp_path / "index", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["added"] == 18 and report["documents"] == 18 and report["skipped"] == 1
    assert report["problems"] == [{"path": str(corpus / "zeilen.jsonl"), "line": 2,
                                   "reason": report["problems"][0]["reason"]}]
    assert "JSON" in report["problems"][0]["reason"]


def test_index_exit_codes(corpus, tmp_path):
    folder = broken_folder(tmp_path)
    everything_failed = invoke("index", folder, "--index", tmp_path / "index")
    assert everything_failed.exit_code == 1
    assert everything_failed.stdout.count("skipped ") == 5  # the summary and four problems
    assert "zeilen.jsonl:1" in everything_failed.stdout
    assert invoke("index", tmp_path / "gibt-es-nicht", "--index", tmp_path / "index").exit_code == 1
    some_failed = invoke("index", folder, corpus, "--index", tmp_path / "index")
    assert some_failed.exit_code == 0
    assert "added 17" in some_failed.stdout
    assert invoke("index", "--index", tmp_path / "index").exit_code == 2
    assert invoke("index", corpus, "--no-such-option").exit_code == 2


def test_stats(corpus, tmp_path):
    index_dir = tmp_path / "index"
    assert invoke("index", corpus, "--index", index_dir, "-q").exit_code == 0
    result = invoke("stats", "--index", index_dir, "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["documents"] == 17
    assert stats["languages"] == {"de": 16, "en": 1}
    plain = invoke("stats", "--index", index_dir)
    assert plain.exit_code == 0
    assert re.search(r"documents:\s+17", plain.stdout)
    assert re.search(r"languages:\s+de 16, en 1", plain.stdout)
    missing = invoke("stats", "--index", tmp_path / "leer")
    assert missing.exit_code == 1 and "no index" in missing.output


# -- search --------------------------------------------------------------------------------------


def test_search_json_is_the_engine_result(news_index, news_engine):
    result = invoke("search", "Impfstoff", "--index", news_index.index_dir, "--json",
                    "--limit", "7", "--page", "2")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [key for key in data if key not in FLAG_KEYS] == RESULT_KEYS
    assert data["page"] == 2 and data["per_page"] == 7 and len(data["hits"]) == 7
    expected = news_engine.search("Impfstoff", page=2, per_page=7).to_dict()
    data.pop("took_ms"), expected.pop("took_ms")
    assert data == expected
    for hit in data["hits"]:
        assert list(hit) == HIT_KEYS


def test_search_json_dates_are_as_precise_as_known(news_index):
    result = invoke("search", "Sanktion OR Sanktionen", "--index", news_index.index_dir, "--json",
                    "--limit", "100")
    hits = json.loads(result.stdout)["hits"]
    dates = {hit["id"]: hit["date"] for hit in hits}
    assert dates["edced858fe0a0ea0"] == "2017-01"
    for article_id, date in dates.items():
        if article_id in news_index.fang:
            assert date == news_index.fang[article_id]["date"].replace(" ", "T")
        assert date is None or ISO_DATE.fullmatch(date)
    with_offset = [d for d in dates.values() if d and re.search(r"[+-]\d\d:\d\d$", d)]
    without = [d for d in dates.values() if d and len(d) == 19]
    assert with_offset and without


@pytest.mark.parametrize("args", [["--page", "0"], ["--limit", "1000"], ["--sort", "foo"],
                                  ["--from", "notadate"], ["--to", "2020-13"],
                                  ["--from", "2020-04", "--to", "2020-03"]])
def test_search_usage_errors(news_index, args):
    result = invoke("search", "Merkel", "--index", news_index.index_dir, *args)
    assert result.exit_code == 2


def test_search_text_output(news_index):
    result = invoke("search", "Bundesregirung", "--index", news_index.index_dir)
    assert result.exit_code == 0
    assert result.stdout.startswith("0 Treffer")
    assert re.search(r"Meinten Sie: Bundesregierung \(\d+ Treffer\)", result.stdout)
    marked = invoke("search", "Sanktion date:2017", "--index", news_index.index_dir)
    assert "1. Die USA und Russland" in marked.stdout
    assert "[Sanktionen]" in marked.stdout
    missing = invoke("search", "Merkel", "--index", news_index.index_dir.parent / "kein-index")
    assert missing.exit_code == 1 and "no index" in missing.output


# -- as a subprocess -----------------------------------------------------------------------------


def test_subprocess_index_search_and_stats(corpus, tmp_path):
    index_dir = tmp_path / "index"
    first = run_cli("index", corpus, "--index", index_dir)
    assert first.returncode == 0, first.stderr
    assert "added 17" in first.stdout
    again = run_cli("index", corpus, "--index", index_dir)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    found = run_cli("search", "Mutu", "--index", index_dir, "--json")
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    assert [key for key in data if key not in FLAG_KEYS] == RESULT_KEYS
    assert [hit["id"] for hit in data["hits"]] == ["sport-199"]
    assert data["hits"][0]["lang"] == "en" and "£15.8m" in data["hits"][0]["snippet_text"]
    stats = json.loads(run_cli("stats", "--index", index_dir, "--json").stdout)
    assert stats["documents"] == 17
    with Engine(index_dir) as engine:
        assert engine.stats()["documents"] == 17


def test_subprocess_exit_codes_for_failures_and_usage(tmp_path):
    failed = run_cli("index", broken_folder(tmp_path), "--index", tmp_path / "index")
    assert failed.returncode == 1
    usage = run_cli("index")
    assert usage.returncode == 2 and "PATHS" in usage.stderr


def test_subprocess_second_indexer_is_told_the_index_is_busy(corpus, tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time\n"
         "handle = open(sys.argv[1], 'a+')\n"
         "fcntl.flock(handle, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(600)\n", str(index_dir / LOCK)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        busy = run_cli("index", corpus, "--index", index_dir)
        assert busy.returncode == 3
        assert "index is busy" in busy.stderr
    finally:
        holder.kill()
        holder.wait()
    # The lock went with its holder.
    assert invoke("index", corpus, "--index", index_dir, "-q").exit_code == 0
