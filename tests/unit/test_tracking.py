"""Change tracking (search/tracking.py): which files to read again, which articles to remove.

Each test runs the table as an indexer does (plan, then per file read again
begin / article_id / claim / finish, then vanished), over real files in a
temporary folder, and checks what the table decides: files unchanged or to
read, ids handed back for removal, owners of articles that move between files,
and ids that stay unique when files of the same name sit in two folders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from search.tracking import FileTable, fingerprint, inside

# The ids each file holds, as its reader would give them (a one-article file: its name).
HOLDS: dict[str, list[str]] = {}


def write(path: Path, ids: list[str]) -> Path:
    """A file holding the articles ``ids``: a JSON-lines file, or a text file named after its
    one article."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps({"id": i, "title": i, "text": "Text"}) + "\n"
                                for i in ids), encoding="utf-8")
    else:
        assert len(ids) == 1
        path.write_text(f"{ids[0]}\n\nText eines Artikels.\n", encoding="utf-8")
    HOLDS[os.path.abspath(path)] = list(ids)
    return path


class Run:
    """One run of an indexer over ``paths``, starting from the table a run before kept
    (``None``: the first run); what it read, which ids it gave and which it removed."""

    def __init__(self, before: "Run | None", paths, *, full: bool = False):
        # As the indexers do: a new table from what was kept with the index.
        kept = json.loads(json.dumps(before.table.files)) if before else None
        self.table = table = FileTable(kept)
        self.plan = table.plan(paths, full=full)
        self.read: list[str] = []
        self.ids: dict[str, list[str]] = {}  # absolute path -> the ids its articles got
        self.removed: list[str] = []
        for planned in self.plan.files:
            if planned.unchanged:
                continue
            self.read.append(planned.path.name)
            update = table.begin(planned)
            given = []
            for article_id in HOLDS[planned.key]:
                article_id = update.article_id(article_id)
                update.claim(article_id)
                given.append(article_id)
            self.ids[planned.key] = given
            self.removed += update.finish()
        self.removed += table.vanished(paths)


def key(path: Path) -> str:
    return os.path.abspath(path)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    write(folder / "a.jsonl", ["a1", "a2", "a3"])
    write(folder / "b.jsonl", ["b1"])
    write(folder / "notiz.txt", ["notiz"])
    return folder


def test_a_first_run_reads_every_file_and_removes_nothing(corpus):
    run = Run(None, [corpus])
    assert run.read == ["a.jsonl", "b.jsonl", "notiz.txt"]
    assert run.removed == []
    assert run.plan.problems == []
    assert run.plan.total_bytes == sum(p.stat().st_size for p in corpus.iterdir())
    entry = run.table.files[key(corpus / "a.jsonl")]
    assert entry == {"fingerprint": fingerprint(corpus / "a.jsonl"), "ids": ["a1", "a2", "a3"]}


def test_unchanged_files_are_not_read_again_unless_all_are(corpus):
    first = Run(None, [corpus])
    run = Run(first, [corpus])
    assert run.read == [] and run.removed == []
    assert [f for f in run.plan.files if not f.unchanged] == []
    assert Run(first, [corpus], full=True).read == ["a.jsonl", "b.jsonl", "notiz.txt"]


def test_a_changed_file_is_read_and_the_articles_it_lost_are_removed(corpus):
    first = Run(None, [corpus])
    write(corpus / "a.jsonl", ["a1", "a3", "a4", "a5"])  # a2 gone, a4 and a5 new
    run = Run(first, [corpus])
    assert run.read == ["a.jsonl"]
    assert run.removed == ["a2"]
    assert run.table.files[key(corpus / "a.jsonl")]["ids"] == ["a1", "a3", "a4", "a5"]


def test_a_file_touched_but_holding_the_same_is_read_and_removes_nothing(corpus):
    first = Run(None, [corpus])
    info = (corpus / "b.jsonl").stat()
    os.utime(corpus / "b.jsonl", ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    run = Run(first, [corpus])
    assert run.read == ["b.jsonl"] and run.removed == []


def test_an_article_that_moves_to_another_file_is_kept(corpus):
    run = Run(None, [corpus])
    # a3 moves to a file read before a.jsonl: the new owner claims it first, so reading
    # a.jsonl again does not hand it back.
    write(corpus / "0.jsonl", ["a3"])
    write(corpus / "a.jsonl", ["a1", "a2"])
    run = Run(run, [corpus])
    assert run.read == ["0.jsonl", "a.jsonl"]
    assert run.removed == []
    assert run.table.owners["a3"] == key(corpus / "0.jsonl")
    assert run.table.files[key(corpus / "a.jsonl")]["ids"] == ["a1", "a2"]
    # a1 moves to a file read after a.jsonl: a.jsonl hands it back for removal and the new
    # file claims it again in the same run (the indexer adds it anew).
    write(corpus / "a.jsonl", ["a2"])
    write(corpus / "b.jsonl", ["b1", "a1"])
    run = Run(run, [corpus])
    assert run.removed == ["a1"] and run.ids[key(corpus / "b.jsonl")] == ["b1", "a1"]
    assert run.table.owners["a1"] == key(corpus / "b.jsonl")
    # Deleting the file that held an article before removes nothing it no longer owns.
    (corpus / "0.jsonl").unlink()
    write(corpus / "c.jsonl", ["a3"])
    run = Run(run, [corpus])
    assert run.removed == []
    assert run.table.owners["a3"] == key(corpus / "c.jsonl")


def test_the_articles_of_a_vanished_file_are_removed_and_the_file_forgotten(corpus, tmp_path):
    other = write(tmp_path / "other" / "c.jsonl", ["c1"])
    run = Run(None, [corpus, other])
    (corpus / "a.jsonl").unlink()
    run = Run(run, [corpus, other])
    assert sorted(run.removed) == ["a1", "a2", "a3"]
    assert key(corpus / "a.jsonl") not in run.table.files
    assert "a1" not in run.table.owners
    # Files outside the paths of a run are not its business: indexing only the corpus
    # leaves other/c.jsonl and its article alone.
    run = Run(run, [corpus])
    assert run.removed == []
    assert key(other) in run.table.files and run.table.owners["c1"] == key(other)


def test_a_path_that_does_not_exist_is_a_problem_not_an_error(corpus, tmp_path):
    run = Run(None, [corpus, tmp_path / "missing"])
    assert [p.reason for p in run.plan.problems] == ["no such file or folder"]
    assert run.read == ["a.jsonl", "b.jsonl", "notiz.txt"]


def test_an_article_twice_in_one_file_is_one_article(corpus):
    table = FileTable()
    write(corpus / "a.jsonl", ["a1", "a2", "a1"])
    plan = table.plan([corpus / "a.jsonl"], full=False)
    update = table.begin(plan.files[0])
    seen_again = []
    for article_id in HOLDS[plan.files[0].key]:
        seen_again.append(update.holds_again(article_id))
        update.claim(article_id)
    assert seen_again == [False, False, True]
    assert update.finish() == []
    assert table.files[plan.files[0].key]["ids"] == ["a1", "a2"]


# -- ids of one-article files --------------------------------------------------------------


def test_files_of_one_name_in_two_folders_get_ids_of_their_own(tmp_path):
    root = tmp_path / "corpus"
    first = write(root / "2020" / "bericht.txt", ["bericht"])
    second = write(root / "2021" / "bericht.txt", ["bericht"])
    third = write(root / "x" / "2021" / "bericht.txt", ["bericht"])
    run = Run(None, [root])
    assert run.ids[key(first)] == ["bericht"]
    assert run.ids[key(second)] == ["2021-bericht"]  # the folder's name in front
    # The third finds that name taken too: its id holds a digest of its path.
    (named,) = run.ids[key(third)]
    assert named.startswith("bericht-") and len(named) == len("bericht-") + 8
    # Read again, all of them, each keeps its id.
    again = Run(run, [root], full=True)
    assert again.ids == run.ids and again.removed == []


def test_articles_of_record_files_keep_their_ids(tmp_path):
    write(tmp_path / "2020" / "a.jsonl", ["same"])
    write(tmp_path / "2021" / "a.jsonl", ["same"])
    run = Run(None, [tmp_path])
    # One id in two record files is one article (the later file owns it), never renamed.
    assert list(run.ids.values()) == [["same"], ["same"]]
    assert run.table.owners["same"] == key(tmp_path / "2021" / "a.jsonl")
    assert run.table.files[key(tmp_path / "2020" / "a.jsonl")]["ids"] == []


def test_a_file_whose_namesake_is_gone_takes_the_plain_id(tmp_path):
    write(tmp_path / "alt" / "bericht.txt", ["bericht"])
    run = Run(None, [tmp_path])
    (tmp_path / "alt" / "bericht.txt").unlink()
    write(tmp_path / "neu" / "bericht.txt", ["bericht"])
    run = Run(run, [tmp_path])
    assert run.ids == {key(tmp_path / "neu" / "bericht.txt"): ["bericht"]}
    assert run.removed == []  # the article moved; it is not removed
    assert run.table.owners["bericht"] == key(tmp_path / "neu" / "bericht.txt")


def test_inside_matches_whole_path_components():
    assert inside("/data/corpus/a.txt", ["/data/corpus"])
    assert inside("/data/corpus", ["/data/corpus"])
    assert inside("/data/corpus/a.txt", ["/elsewhere", "/data"])
    assert not inside("/data/corpus-2/a.txt", ["/data/corpus"])
    assert not inside("/data/a.txt", [])
