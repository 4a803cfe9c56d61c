"""Corpus fuzzing through the command line: a folder of hostile files.

``newssearch index`` (run as a subprocess, as a user runs it) must index what
is valid, report every skipped file or line with its reason, exit as
documented (0 something indexed, 1 every input failed, 2 usage, 3 busy) and
never show a stack trace.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
import time

import pytest

from search import Engine, Settings
from search.storage import write_lock
from support.commands import CLI, child_env, kill_process, run_cli, start_cli
from support.corpora import REPO
from support.payloads import PAYLOAD_WORD, write_payload_articles

BOMB_BYTES = 1024 * 1024 * 1024  # decompressed size of the gzip bomb: 1 GB of NUL bytes
NESTING = 50_000

# Skipped files and lines: path relative to the corpus (and line) → what the reason says.
EXPECTED_PROBLEMS = {
    ("random-bytes.txt", None): r"binary file",
    ("zeros.html", None): r"binary file",
    ("empty.txt", None): r"empty file",
    ("huge.txt", None): r"larger than 20 MB",
    ("bad-utf16.txt", None): r"not valid UTF-16",
    ("loop-a.txt", None): r"broken link",
    ("loop-b.txt", None): r"broken link",
    ("self.txt", None): r"broken link",
    ("dangling.txt", None): r"broken link",
    ("pipe.txt", None): r"not a regular file",
    ("image.png", None): r"unsupported file type \.png",
    ("notgzip.jsonl.gz", None): r"broken gzip data",
    ("bomb.jsonl.gz", None): r"binary file \(contains NUL bytes\)",
    ("empty-page.html", None): r"no text",
    ("broken.jsonl", 2): r"invalid JSON",
    ("broken.jsonl", 3): r"field 'text' must be a string, not list",
    ("broken.jsonl", 4): r"expected a JSON object, got list",
    ("broken.jsonl", 5): r"expected a JSON object, got str",
    ("broken.jsonl", 6): r"expected a JSON object, got NoneType",
    ("broken.jsonl", 7): r"field 'text' must be a string, not dict",
    ("broken.jsonl", 8): r"must be a string, not (bool|int)",
    ("broken.jsonl", 9): r"invalid JSON: nested too deeply",
    ("broken.jsonl", 12): r"invalid JSON",
    ("broken.jsonl", 13): r"no text",
    ("broken.jsonl", 14): r"field 'id' must be a string, not dict",
    ("bad.csv", 1): r"expected 2 fields \(category;text\), got 3",
    ("bad.csv", 3): r"expected 2 fields \(category;text\), got 1",
}

# Valid articles among the hostile files: id → a word that finds it.
EXPECTED_ARTICLES = {
    "truncated-utf8": "Straßenbahn",
    "utf16-bom": "Hochwasser",
    "utf16be-page": "Leuchtturm",
    "cp1252-legacy": "Maßkrug",
    "nested": "Wanderweg",
    "ok-1": "Wanderdünen",
    "ok-2": "Zugvögel",
    "surrogate": "Halbling",
    "bad:2": "Netzausbau",
    "bad-\ufffd-name": "Dateinamen",
    "control-chars": "Steuerzeichen",
    "gz-ok": "Komprimiert",
}


def build_hostile_corpus(root) -> dict[str, str]:
    """Write the hostile folder; returns the payload article ids (valid, hostile content)."""
    rng = random.Random(20240611)
    root.mkdir(parents=True)
    (root / "random-bytes.txt").write_bytes(bytes(rng.randrange(256) for _ in range(8192)))
    (root / "zeros.html").write_bytes(b"<html>" + b"\0" * 4096)
    good = "Grüße aus Köln\n\nDie Straßenbahn fährt über die Brücke. Äpfel für Übermut.\n"
    (root / "truncated-utf8.txt").write_bytes((good + "Schluss mit ä").encode()[:-1])
    (root / "utf16-bom.txt").write_bytes(
        "Überschwemmung im Tal\n\nDas Hochwasser überflutete die Kellerräume.\n".encode("utf-16"))
    (root / "bad-utf16.txt").write_bytes(b"\xff\xfe" + "Fehler".encode("utf-16-le") + b"\x00\xd8x\x00")
    (root / "utf16be-page.html").write_bytes(b"\xfe\xff" + (
        "<html lang='de'><body><h1>Der Leuchtturm</h1><p>Ein Leuchtturm an der Küste.</p>"
        "</body></html>").encode("utf-16-be"))
    (root / "cp1252-legacy.txt").write_bytes(
        "Oktoberfest\n\nDer Maßkrug kostet heuer mehr, sagen die Wirte in München.\n".encode("cp1252"))
    (root / "empty.txt").write_bytes(b"")
    with open(root / "huge.txt", "wb") as handle:  # 50 MB of text
        line = b"Riesentext " * 100 + b"\n"
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    (root / "nested.html").write_text(
        "<html><body>" + "<div>" * NESTING + "<p>Tiefverschachtelter Wanderweg im Gebirge</p>"
        + "</div>" * NESTING + "</body></html>", encoding="utf-8")
    (root / "empty-page.html").write_text("<html><body><script>alert(1)</script></body></html>")
    lines = [
        json.dumps({"id": "ok-1", "title": "Gültige Zeile", "text": "Ein Artikel über Wanderdünen."}),
        '{"id": "broken", "text": "abc"',
        json.dumps({"id": "list", "text": ["a", "b"]}),
        "[1, 2, 3]",
        '"just a string"',
        "null",
        json.dumps({"id": "dict", "text": {"nested": 1}}),
        json.dumps({"id": "int", "title": 5, "text": True}),
        "[" * 100_000 + "]" * 100_000,
        '{"id": "surrogate", "title": "Einsamer Halbling \\ud800", "text": "Surrogat \\udcff Text"}',
        json.dumps({"id": "ok-2", "text": "Ein zweiter Artikel über Zugvögel."}),
        "\x01\x02 garbage",
        json.dumps({"id": "no-text", "title": ""}),
        json.dumps({"id": {"x": 1}, "text": "Falscher Typ der Kennung"}),
        json.dumps({"id": "control-chars", "text": "Steuerzeichen \u0000\u0007\u001b[31m rot \u202e"}),
    ]
    (root / "broken.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.symlink("loop-b.txt", root / "loop-a.txt")
    os.symlink("loop-a.txt", root / "loop-b.txt")
    os.symlink("self.txt", root / "self.txt")
    os.symlink("nowhere.txt", root / "dangling.txt")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")  # folder loops: links to folders are not followed
    os.symlink(".", root / "sub" / "here")
    os.mkfifo(root / "pipe.txt")  # reading it would block for ever
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (root / "notgzip.jsonl.gz").write_bytes(b"this is not gzip")
    (root / "gz-ok.jsonl.gz").write_bytes(gzip.compress(
        (json.dumps({"id": "gz-ok", "text": "Komprimiert und gültig."}) + "\n").encode()))
    write_gzip_bomb(root / "bomb.jsonl.gz")
    (root / "bad.csv").write_text(
        "Sport;Ein Text;zu viel\nWeb;Der Netzausbau kommt voran\n'kaputt\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(root), b"bad-\xff-name.txt"), "wb") as handle:
        handle.write("Komischer Dateiname\n\nText über Dateinamen mit einem Byte.\n".encode())
    return write_payload_articles(root / "payloads")


def _run_index(*args, timeout=300):
    """``newssearch index ARGS``: exit code, stdout, stderr."""
    result = run_cli("index", *args, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def _run_index_with_peak_memory(folder, *args):
    """``newssearch index ARGS``: exit code, stdout, stderr and the peak memory (KB) of the
    command's processes: the sum of their ``VmHWM`` (each one's peak resident set since it
    started), read until the command ends. Not ``ru_maxrss``: Linux gives a child the
    high-water mark of the memory it was started from, here the whole test process."""
    with open(folder / "stdout", "w+") as stdout, open(folder / "stderr", "w+") as stderr:
        process = start_cli("index", *args, stdout=stdout, stderr=stderr)
        peak_kb = 0
        try:
            while process.poll() is None:
                peak_kb = max(peak_kb, _tree_high_water_kb(process.pid))
                time.sleep(0.05)
        finally:
            kill_process(process)
        stdout.seek(0)
        stderr.seek(0)
        return process.returncode, stdout.read(), stderr.read(), peak_kb


def _tree_high_water_kb(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                total += next((int(line.split()[1]) for line in handle
                               if line.startswith("VmHWM:")), 0)
            with open(f"/proc/{current}/task/{current}/children") as handle:
                todo.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return total


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile folder indexed three times: fresh (text report), --rebuild --json, again."""
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "corpus"
    payload_ids = build_hostile_corpus(corpus)
    index = base / "index"
    first = _run_index_with_peak_memory(base, corpus, "--index", index)
    rebuild = _run_index(corpus, "--index", index, "--rebuild", "--json")
    again = _run_index(corpus, "--index", index)
    return {"corpus": corpus, "index": index, "first": first, "rebuild": rebuild, "again": again,
            "payload_ids": payload_ids}


def _relative(problem, corpus):
    path = problem["path"]
    assert path.startswith(str(corpus) + "/"), path
    return path[len(str(corpus)) + 1:]


@pytest.mark.slow
def test_hostile_folder_indexes_what_is_valid(hostile):
    for code, stdout, stderr in (hostile["first"][:3], hostile["rebuild"], hostile["again"]):
        assert "Traceback" not in stderr + stdout, stderr[-3000:]
        assert code == 0, (code, stderr[-2000:])
    report = json.loads(hostile["rebuild"][1])
    expected_ids = set(EXPECTED_ARTICLES) | set(hostile["payload_ids"])
    assert report["added"] == len(expected_ids), report
    assert report["documents"] == len(expected_ids)
    assert re.search(rf"^added {len(expected_ids)}, updated 0, removed 0, unchanged 0, "
                     rf"skipped {len(EXPECTED_PROBLEMS)}$", hostile["first"][1], re.M)
    with Engine(Settings(index_dir=hostile["index"])) as engine:
        for article_id, word in EXPECTED_ARTICLES.items():
            article = engine.article(article_id)
            assert article is not None, f"{article_id} was not indexed"
            found = engine.search(word, per_page=50)
            assert article_id in [hit["id"] for hit in found.hits], (article_id, word)
        for article_id in hostile["payload_ids"]:
            assert engine.article(article_id) is not None, article_id
        # Decoded right, not as mojibake: the cut UTF-8 file lost only its last character.
        text = engine.article("truncated-utf8")["text"]
        assert "Straßenbahn fährt über" in text and "Ã" not in text, text
        assert text.endswith("Schluss mit"), text
        assert "Maßkrug" in engine.article("cp1252-legacy")["text"]
        assert "\ufffd" in engine.article("surrogate")["title"]
        assert "\x00" not in engine.article("control-chars")["text"]
        # Payloads are stored as text, not run or dropped: the page must escape them.
        assert engine.search(PAYLOAD_WORD, per_page=50).total == len(hostile["payload_ids"])


@pytest.mark.slow
def test_every_skipped_file_and_line_is_reported_with_its_reason(hostile):
    report = json.loads(hostile["rebuild"][1])
    corpus = hostile["corpus"]
    problems = {}
    for problem in report["problems"]:
        key = (_relative(problem, corpus), problem["line"])
        assert key not in problems, f"reported twice: {key}"
        assert problem["reason"].strip(), problem
        problems[key] = problem["reason"]
    assert report["skipped"] == len(report["problems"])
    for key, pattern in EXPECTED_PROBLEMS.items():
        assert key in problems, f"{key} not reported; reported: {sorted(problems, key=str)}"
        assert re.search(pattern, problems[key]), (key, problems[key])
    unexpected = set(problems) - set(EXPECTED_PROBLEMS)
    assert not unexpected, {k: problems[k] for k in unexpected}
    # The folder loops (sub/up → .., sub/here → .) are not followed: nothing twice.
    assert not any(path.startswith("sub/") for path, _ in problems)


@pytest.mark.slow
def test_text_report_names_every_skipped_file(hostile):
    stdout = hostile["first"][1]
    for (path, line), _ in EXPECTED_PROBLEMS.items():
        where = f"{hostile['corpus']}/{path}" + (f":{line}" if line else "")
        assert f"  skipped {where}: " in stdout, where
    assert "nothing changed" in hostile["again"][1]


def write_gzip_bomb(path, tail: bytes = b"") -> None:
    """1 GB of NUL bytes in about 1 MB: one compressed megabyte repeated as gzip members
    (a valid gzip file), then ``tail``."""
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    with open(path, "wb") as handle:
        for _ in range(BOMB_BYTES >> 20):
            handle.write(member)
        handle.write(tail)


def test_a_gzip_bomb_is_refused_from_its_first_bytes_in_little_memory(tmp_path):
    # Garbage after the 1 GB: a reader that decompressed to the end would report broken
    # gzip data; the refusal as binary shows it stopped at the start.
    write_gzip_bomb(tmp_path / "bomb.jsonl.gz", tail=b"garbage, not gzip")
    code, stdout, stderr, peak_kb = _run_index_with_peak_memory(
        tmp_path, tmp_path / "bomb.jsonl.gz", "--index", tmp_path / "index")
    assert code == 1 and "Traceback" not in stderr, (code, stderr[-2000:])
    assert "bomb.jsonl.gz: binary file (contains NUL bytes)" in stdout, stdout
    # Nothing of the decompressed gigabyte is held: the command stays far below it
    # (about 70 MB measured, the interpreter and its imports).
    assert peak_kb * 1024 < BOMB_BYTES // 4, f"peak memory {peak_kb // 1024} MB"


def test_every_input_failing_exits_1_and_creates_no_index(tmp_path):
    corpus = tmp_path / "bad"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "noise.txt").write_bytes(bytes(range(256)) * 4)
    (corpus / "broken.jsonl").write_text('{"id": 1\n[]\n')
    code, stdout, stderr = _run_index(corpus, tmp_path / "missing", "--index", tmp_path / "index")
    assert code == 1, (stdout, stderr)
    assert "Traceback" not in stderr
    for name in ("empty.txt: empty file", "noise.txt: binary file", "broken.jsonl:1: invalid JSON",
                 "broken.jsonl:2: expected a JSON object", "missing: no such file or folder"):
        assert name in stdout, (name, stdout)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_usage_errors_exit_2_without_a_stack_trace(tmp_path):
    for args in (["index"], ["index", "--bogus", "x"], ["search"], ["search", "x", "--page", "0",
                 "--index", tmp_path], ["search", "x", "--limit", "abc"], ["nosuchcommand"]):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr and "Error" in result.stderr, args


def test_a_second_indexer_gets_busy_exit_3(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Titel\n\nEin Text über Besetztzeichen.\n")
    with write_lock(tmp_path / "index"):
        result = run_cli("index", corpus, "--index", tmp_path / "index")
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    assert "index is busy" in result.stderr and "Traceback" not in result.stderr
    # Released: the next run goes through.
    result = run_cli("index", corpus, "--index", tmp_path / "index")
    assert result.returncode == 0, result.stderr


def test_hostile_query_text_on_the_command_line(tmp_path):
    corpus = tmp_path / "corpus"
    write_payload_articles(corpus)
    assert run_cli("index", corpus, "--index", tmp_path / "index", "--quiet").returncode == 0
    for query in (PAYLOAD_WORD, "a https:x", "(" * 3000, '"', "\u202e\u0000", "date:2020..1990"):
        for extra in ([], ["--json"]):
            result = run_cli("search", query.replace("\u0000", ""), "--index", tmp_path / "index", *extra)
            assert result.returncode == 0, (query, result.stderr)
            assert "Traceback" not in result.stderr
            if extra:
                json.loads(result.stdout)
    # Bytes that are not UTF-8 in argv (surrogate escapes) must not crash the output either.
    result = subprocess.run([*CLI, "search", b"Zwiebel\xff\xfe".decode(
        "utf-8", "surrogateescape"), "--index", str(tmp_path / "index"), "--json"], cwd=REPO,
        capture_output=True, env=child_env(), timeout=60)
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr[-2000:]
    json.loads(result.stdout)
