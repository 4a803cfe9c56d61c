"""Indexing: what lands in the index, language detection, incremental runs, rebuilds,
broken input, and the lock between indexers.

Every test builds a real Whoosh index on disk from the real corpora.
"""

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from search import Engine, IndexBusy, Settings, index_paths
from search.storage import LOCK, current_generation
from support.commands import start_cli
from support.corpora import (GNAD_ROWS, SEED_FILE, read_fang, shared_corpus, shared_file,
                             write_jsonl)
from support.searching import hit_ids


def squeeze(text: str) -> str:
    return " ".join(text.split())


# -- the session index of real news ------------------------------------------------------------


def test_every_record_is_indexed_with_its_fields(news_index, news_engine):
    fang = news_index.fang
    expected = len(fang) + 1 + GNAD_ROWS
    assert news_index.report.added == news_index.report.documents == expected
    stats = news_engine.stats()
    assert stats["documents"] == expected
    assert sum(stats["languages"].values()) == expected
    assert stats["languages"]["de"] >= 0.98 * expected
    assert stats["sources"] == dict(Counter(r["source"] for r in fang.values()))
    assert stats["categories"] == dict(Counter(row[0] for row in news_index.gnad))
    assert stats["first_date"] == "2017-01"
    assert stats["last_date"] == max(r["day"] for r in fang.values())[:7]
    for record in list(fang.values())[::25]:
        article = news_engine.article(record["id"])
        assert article["id"] == record["id"]
        assert article["title"] == squeeze(record["header"])
        assert article["source"] == record["source"]
        assert article["url"] == record["url"]
        assert article["date"] == record["date"].replace(" ", "T")
    for number, (category, text) in enumerate(news_index.gnad[:20], start=1):
        article = news_engine.article(f"test:{number}")
        assert article["category"] == category and article["date"] is None
        assert squeeze(article["text"]) == squeeze(html.unescape(text))


def test_seed_article_in_the_index(news_engine):
    article = news_engine.article("edced858fe0a0ea0")
    assert article["date"] == "2017-01"
    assert article["title"] == ("Die USA und Russland wollen gemeinsam den internationalen "
                                "Terrorismus bekämpfen.")
    assert article["lang"] == "de"
    assert len(article["paragraphs"]) >= 8
    assert "edced858fe0a0ea0" in hit_ids(news_engine, "Sanktion")
    assert "edced858fe0a0ea0" in hit_ids(news_engine, "Telefonate Präsident")


# -- languages ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """BBC articles (English), Le Monde teasers (French) and XQuAD passages (German)."""
    folder = tmp_path_factory.mktemp("mixed")
    bbc = shared_corpus("bbc-en")
    english = {}
    for category in ("business", "entertainment", "politics", "sport", "tech"):
        for path in sorted((bbc / category).glob("*.txt"))[:5]:
            target = folder / f"bbc-{category}-{path.stem}.txt"
            shutil.copyfile(path, target)
            english[target.stem] = path
    shutil.copyfile(bbc / "sport" / "199.txt", folder / "bbc-sport-199.txt")
    english["bbc-sport-199"] = bbc / "sport" / "199.txt"
    items = [json.loads(line) for line in shared_file(
        "lemonde-rss-fr", "lemonde_economie_2022.jsonl").read_text(encoding="utf-8").splitlines()[:40]]
    # "description" is not a name of the text field: the teaser becomes the text here.
    write_jsonl(folder / "lemonde.jsonl", [
        {"id": f"lemonde-{n}", "title": item["title"], "text": item["description"]}
        for n, item in enumerate(items)])
    french = {f"lemonde-{n}" for n in range(len(items))}
    xquad = shared_file("xquad-de-retrieval", "docs.de.jsonl")
    german = {json.loads(line)["doc_id"] for line in xquad.read_text(encoding="utf-8").splitlines()}
    index_dir = tmp_path_factory.mktemp("mixed-index")
    report = index_paths([folder, xquad], Settings(index_dir=index_dir))
    assert not report.problems, [str(p) for p in report.problems]
    engine = Engine(index_dir)
    yield engine, english, french, german
    engine.close()


def test_languages_are_detected_per_article(mixed):
    engine, english, french, german = mixed
    assert engine.stats()["languages"] == {"de": len(german), "fr": len(french), "en": len(english)}
    assert hit_ids(engine, "lang:en") == set(english)
    assert hit_ids(engine, "lang:fr") == french
    assert hit_ids(engine, "lang:de") == german
    assert len(german) == 240 and all(re.fullmatch(r"a\d\dp\d\d", i) for i in german)


def test_an_english_query_finds_english_articles(mixed):
    engine, english, _, _ = mixed
    singular = {i for i, path in english.items()
                if re.search(r"\bhouse\b", path.read_bytes().decode("cp1252"), re.I)
                and not re.search(r"\bhouses\b", path.read_bytes().decode("cp1252"), re.I)}
    assert singular, "the sample holds an article that says 'house' only"
    assert singular <= hit_ids(engine, "houses")
    assert hit_ids(engine, "houses", lang="en") == hit_ids(engine, "houses") & set(english)
    # German words still go through the German chain in the same index.
    assert hit_ids(engine, "Verteidigungen") & hit_ids(engine, "lang:de")


def test_cp1252_article_is_indexed_with_its_pound_sign(mixed):
    engine, _, _, _ = mixed
    article = engine.article("bbc-sport-199")
    assert article["lang"] == "en"
    assert "£15.8m" in article["text"] and "\ufffd" not in article["text"]
    assert "bbc-sport-199" in hit_ids(engine, "Mutu")


# -- incremental runs ----------------------------------------------------------------------------


@pytest.fixture
def small_corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copyfile(shared_file("seed", SEED_FILE), folder / SEED_FILE)
    write_jsonl(folder / "nachrichten.jsonl", read_fang("part-001.jsonl.gz")[:20])
    for name in ("001.txt", "002.txt"):
        shutil.copyfile(shared_file("bbc-en", "tech", name), folder / f"tech-{name}")
    return folder


def test_a_second_run_over_the_same_input_adds_nothing(small_corpus, tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    first = index_paths([small_corpus], settings)
    assert first.added == first.documents == 23 and not first.failed
    second = index_paths([small_corpus], settings)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 23)
    assert second.changed == 0 and not second.failed
    assert second.generation == first.generation
    assert current_generation(settings.index_dir).name == first.generation


def test_changed_files_update_their_articles(small_corpus, tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([small_corpus], settings)
    engine = Engine(settings)
    assert hit_ids(engine, "Sanktionen") >= {"edced858fe0a0ea0"}
    seed = small_corpus / SEED_FILE
    seed.write_text(seed.read_text(encoding="utf-8").replace("Sanktionen", "Strafzölle"),
                    encoding="utf-8")
    records = [json.loads(line) for line in
               (small_corpus / "nachrichten.jsonl").read_text(encoding="utf-8").splitlines()]
    records[4]["header"] = "Eine ganz neue Überschrift über Zugvögel"
    write_jsonl(small_corpus / "nachrichten.jsonl", records)
    report = index_paths([small_corpus], settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 2, 0, 21)
    assert "edced858fe0a0ea0" not in hit_ids(engine, "Sanktionen")
    assert "edced858fe0a0ea0" in hit_ids(engine, "Strafzölle")
    assert hit_ids(engine, "Zugvögel") == {records[4]["id"]}
    assert engine.stats()["documents"] == 23
    engine.close()


def test_deleted_files_remove_their_articles(small_corpus, tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([small_corpus], settings)
    engine = Engine(settings)
    assert engine.article("tech-001") is not None
    (small_corpus / "tech-001.txt").unlink()
    report = index_paths([small_corpus], settings)
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert engine.article("tech-001") is None
    assert engine.stats()["documents"] == 22
    (small_corpus / "nachrichten.jsonl").unlink()
    report = index_paths([small_corpus], settings)
    assert report.removed == 20 and report.documents == 2
    assert engine.search("lang:de").total == 1
    engine.close()


@pytest.mark.parametrize("damage", ["missing", "other version"])
def test_lost_bookkeeping_does_not_duplicate_articles(small_corpus, tmp_path, damage):
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([small_corpus], settings)
    meta = current_generation(settings.index_dir) / "newssearch.json"
    if damage == "missing":
        meta.unlink()
    else:
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "version": 0}))
    report = index_paths([small_corpus], settings)
    assert report.documents == 23
    engine = Engine(settings)
    assert engine.stats()["documents"] == 23
    assert hit_ids(engine, "Sanktion date:2017") == {"edced858fe0a0ea0"}
    engine.close()
    assert index_paths([small_corpus], settings).changed == 0


def test_rebuild_switches_atomically(small_corpus, tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([small_corpus], settings)
    old = current_generation(settings.index_dir)
    engine = Engine(settings)
    assert engine.stats()["documents"] == 23
    (small_corpus / "nachrichten.jsonl").unlink()
    seen = []

    def progress(done, total):
        # Mid-rebuild: readers still get the old generation, whole.
        assert current_generation(settings.index_dir) == old
        assert engine.stats()["documents"] == 23
        assert engine.search("Corona").total > 0
        seen.append(done)

    report = index_paths([small_corpus], settings, rebuild=True, progress=progress)
    assert seen and report.rebuilt and report.added == 3
    new = current_generation(settings.index_dir)
    assert new != old and new.name > old.name and new.name == report.generation
    assert (settings.index_dir / "CURRENT").read_text().strip() == new.name
    assert engine.stats()["documents"] == 3
    assert engine.search("Corona").total == 0
    assert engine.stats()["generation"] == new.name
    engine.close()


# -- broken input ------------------------------------------------------------------------------


def test_broken_inputs_never_stop_the_run(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    records = read_fang("part-001.jsonl.gz")
    write_jsonl(folder / "gut.jsonl", records[:10])
    lines = [json.dumps(r, ensure_ascii=False) for r in records[10:13]]
    (folder / "teils.jsonl").write_text("\n".join([lines[0], "{nicht json", lines[1], "42",
                                                   lines[2]]) + "\n", encoding="utf-8")
    shutil.copyfile(shared_file("bbc-en", "sport", "199.txt"), folder / "latin1.txt")
    (folder / "leer.txt").write_bytes(b"")
    (folder / "binaer.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "kaputt.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 300)
    (folder / "falsch.txt").write_bytes("Grüße aus München ".encode("latin-1") * 20 + b"\x81\x8d\x90")
    # A record file has no size cap; a one-article file over max_file_bytes is skipped.
    big = folder / "gross.jsonl"
    write_jsonl(big, records[20:120])
    huge_article = folder / "gross.txt"
    huge_article.write_text("\n\n".join(r["article"] for r in records[20:120]), encoding="utf-8")
    (folder / "bericht.pdf").write_bytes(b"%PDF-1.4 " + bytes(2000))
    settings = Settings(index_dir=tmp_path / "index", max_file_bytes=big.stat().st_size // 10)
    assert huge_article.stat().st_size > settings.max_file_bytes
    report = index_paths([folder], settings)

    assert report.added == 10 + 3 + 1 + 100 and not report.failed
    reasons = {(Path(p.path).name, p.line): p.reason for p in report.problems}
    assert set(reasons) == {("teils.jsonl", 2), ("teils.jsonl", 4), ("leer.txt", None),
                            ("binaer.txt", None), ("kaputt.jsonl.gz", None), ("falsch.txt", None),
                            ("gross.txt", None), ("bericht.pdf", None)}
    assert "JSON" in reasons[("teils.jsonl", 2)]
    assert "empty" in reasons[("leer.txt", None)]
    assert "binary" in reasons[("binaer.txt", None)]
    assert str(huge_article.stat().st_size) in reasons[("gross.txt", None)]
    assert "max_file_bytes" in reasons[("gross.txt", None)]  # the setting, and why
    assert "unsupported" in reasons[("bericht.pdf", None)]
    engine = Engine(settings)
    assert hit_ids(engine, "Mutu") == {"latin1"}
    assert "£15.8m" in engine.article("latin1")["text"]
    assert engine.stats()["documents"] == 114
    engine.close()


def test_a_file_over_20_mb_is_skipped_without_reading_it(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    huge = folder / "riesig.txt"
    with open(huge, "wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: no time spent writing
    shutil.copyfile(shared_file("seed", SEED_FILE), folder / SEED_FILE)
    started = time.monotonic()
    report = index_paths([folder], Settings(index_dir=tmp_path / "index"))
    assert time.monotonic() - started < 30
    assert report.added == 1
    assert [(Path(p.path).name, "20 MB" in p.reason) for p in report.problems] == [("riesig.txt", True)]


def test_every_input_failing_is_a_failed_run(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "leer.txt").write_bytes(b"")
    (folder / "binaer.html").write_bytes(bytes(range(256)) * 16)
    report = index_paths([folder, tmp_path / "gibt-es-nicht"], Settings(index_dir=tmp_path / "index"))
    assert report.failed and report.added == 0 and len(report.problems) == 3
    assert current_generation(tmp_path / "index") is None


# -- the lock ------------------------------------------------------------------------------------


def lock_holder(index_dir: Path) -> subprocess.Popen:
    """Another process that holds the index's lock until it is killed."""
    index_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time\n"
         "handle = open(sys.argv[1], 'a+')\n"
         "fcntl.flock(handle, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(600)\n", str(index_dir / LOCK)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def lock_is_held(index_dir: Path) -> bool:
    """Whether some process holds the index's lock (read from /proc/locks, so that
    looking never takes the lock itself)."""
    try:
        info = (index_dir / LOCK).stat()
    except FileNotFoundError:
        return False
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    with open("/proc/locks", encoding="ascii") as handle:
        return any(fields[1] == "FLOCK" and fields[5] == device
                   for fields in map(str.split, handle) if len(fields) > 5)


def test_a_second_indexer_is_told_the_index_is_busy(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    holder = lock_holder(index_dir)
    try:
        with pytest.raises(IndexBusy, match="index is busy"):
            index_paths([small_corpus], Settings(index_dir=index_dir))
        assert current_generation(index_dir) is None
    finally:
        holder.kill()
        holder.wait()
    # The lock dies with its holder.
    report = index_paths([small_corpus], Settings(index_dir=index_dir))
    assert report.added == 23


def test_a_killed_indexer_leaves_no_stale_lock(tmp_path):
    index_dir = tmp_path / "index"
    seed = shared_file("seed", SEED_FILE)
    index_paths([seed], Settings(index_dir=index_dir))
    before = current_generation(index_dir)
    part = shared_file("fang-covid-real", "part-000.jsonl.gz")
    run = start_cli("index", part, "--index", index_dir, "--quiet", start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not lock_is_held(index_dir):
            assert run.poll() is None, "the indexer ended before it was killed"
            assert time.monotonic() < deadline, "the indexer never took the lock"
            time.sleep(0.02)
        time.sleep(0.5)  # well into reading and writing
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        # Whatever the killed run left behind, the next one takes the lock and finishes.
        deadline = time.monotonic() + 30
        while lock_is_held(index_dir):
            assert time.monotonic() < deadline, "the lock outlived the killed indexer"
            time.sleep(0.1)
        assert current_generation(index_dir) == before
        engine = Engine(index_dir)
        assert engine.stats()["documents"] == 1
        xquad = shared_file("xquad-de-retrieval", "docs.de.jsonl")
        report = index_paths([xquad], Settings(index_dir=index_dir))
        assert report.added == 240 and report.documents == 241
        assert engine.stats()["documents"] == 241
        assert "edced858fe0a0ea0" in hit_ids(engine, "Sanktion")
        engine.close()
        current = current_generation(index_dir)
        assert [g.name for g in index_dir.glob("gen-*") if g.name > current.name] == []
    finally:
        try:
            os.killpg(run.pid, signal.SIGKILL)  # workers the killed run may have left
        except ProcessLookupError:
            pass
