"""Index folders on disk (search/storage.py): generations, the switch between them, the lock.

Folders of a few small files stand in for generations: what matters here is
which folder readers are pointed at, what a new generation starts from, what
pruning leaves, and that the writer lock is held by one indexer and released
when it dies (also when it is killed) but never held by its forked children.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from search.storage import (CURRENT, LOCK, META, IndexBusy, IndexMissing, current_generation,
                            current_token, new_generation, prune, publish, read_meta,
                            require_generation, size_on_disk, write_lock, write_meta)
from support.commands import child_env
from support.corpora import REPO


def generation_names(index_dir) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def build(index_dir, files: dict[str, str]):
    """A new generation holding ``files``, published."""
    generation = new_generation(index_dir, current_generation(index_dir))
    for name, text in files.items():
        (generation / name).write_text(text, encoding="utf-8")
    publish(index_dir, generation)
    return generation


# -- generations and the switch ----------------------------------------------------------


def test_an_empty_folder_has_no_generation(tmp_path):
    assert current_generation(tmp_path) is None
    assert current_generation(tmp_path / "missing") is None
    assert current_token(tmp_path) is None
    with pytest.raises(IndexMissing, match="no index in"):
        require_generation(tmp_path)


def test_publish_switches_readers_to_the_new_generation(tmp_path):
    first = build(tmp_path, {"segment": "eins"})
    assert first.name == "gen-000001"
    assert current_generation(tmp_path) == first == require_generation(tmp_path)
    assert (tmp_path / CURRENT).read_text(encoding="utf-8") == "gen-000001\n"
    token = current_token(tmp_path)
    second = build(tmp_path, {"segment-2": "zwei"})
    assert second.name == "gen-000002"
    assert current_generation(tmp_path) == second
    assert current_token(tmp_path) != token
    assert not (tmp_path / (CURRENT + ".tmp")).exists()


@pytest.mark.parametrize("written", ["gen-000009\n", "../gen-000001", "gen-000001/x", "index\n",
                                     ""])
def test_current_must_name_an_existing_generation(tmp_path, written):
    build(tmp_path, {"segment": "eins"})
    (tmp_path / CURRENT).write_text(written, encoding="utf-8")
    assert current_generation(tmp_path) is None


def test_a_new_generation_links_the_files_of_its_base(tmp_path):
    base = build(tmp_path, {"segment": "eins", "engine.lock": "x"})
    write_meta(base, {"files": {}})
    fresh = new_generation(tmp_path, base, leave=("engine.lock",))
    assert sorted(p.name for p in fresh.iterdir()) == ["segment"]  # no metadata, no lock
    assert os.path.samefile(fresh / "segment", base / "segment")  # a hard link, not a copy
    assert current_generation(tmp_path) == base  # nothing switched yet


def test_unfinished_generations_of_killed_runs_are_removed(tmp_path):
    current = build(tmp_path, {"segment": "eins"})
    killed = new_generation(tmp_path, current)  # a run that never published
    (killed / "half").write_text("halb", encoding="utf-8")
    fresh = new_generation(tmp_path, current)
    assert not killed.exists() or killed == fresh
    assert generation_names(tmp_path) == ["gen-000001", fresh.name]
    assert not (fresh / "half").exists()
    # Without a current generation every folder left is unfinished.
    (tmp_path / CURRENT).unlink()
    again = new_generation(tmp_path, None)
    assert generation_names(tmp_path) == ["gen-000001"] and again.name == "gen-000001"
    assert list(again.iterdir()) == []


def test_prune_keeps_the_current_generation_and_the_one_before(tmp_path):
    for number in range(4):
        build(tmp_path, {f"segment-{number}": str(number)})
    unfinished = new_generation(tmp_path, current_generation(tmp_path))
    assert generation_names(tmp_path) == [f"gen-00000{n}" for n in range(1, 6)]
    prune(tmp_path)
    assert generation_names(tmp_path) == ["gen-000003", "gen-000004"]
    assert not unfinished.exists()
    prune(tmp_path, keep=1)
    assert generation_names(tmp_path) == ["gen-000004"]
    assert (current_generation(tmp_path) / "segment-3").read_text(encoding="utf-8") == "3"


def test_prune_without_a_current_generation_deletes_nothing(tmp_path):
    folder = new_generation(tmp_path, None)
    prune(tmp_path)
    assert folder.exists()


def test_metadata_round_trips_file_names_that_are_not_utf8(tmp_path):
    name = b"/corpus/caf\xe9.txt".decode("utf-8", "surrogateescape")
    meta = {"files": {name: {"fingerprint": [3, 4], "ids": ["a"]}}, "documents": 1}
    write_meta(tmp_path, meta)
    assert read_meta(tmp_path) == meta
    assert (tmp_path / META).read_bytes().isascii()
    assert read_meta(None) == {}
    (tmp_path / META).write_text("{broken", encoding="utf-8")
    assert read_meta(tmp_path) == {}


def test_size_on_disk_counts_every_file_below(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 23)
    assert size_on_disk(tmp_path) == 123
    assert size_on_disk(tmp_path / "missing") == 0


# -- the writer lock -----------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from search.storage import write_lock
with write_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_one_writer_at_a_time_and_the_lock_dies_with_its_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], cwd=REPO,
                              env=child_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert (tmp_path / LOCK).exists()
        with pytest.raises(IndexBusy, match="index is busy"):
            with write_lock(tmp_path):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)  # no chance to clean up
        holder.wait(timeout=30)
        holder.stdout.close()
    with write_lock(tmp_path):
        with pytest.raises(IndexBusy):
            with write_lock(tmp_path):  # a second holder in the same process is refused too
                pass
    with write_lock(tmp_path):  # released when the block ends
        pass


def test_a_forked_child_does_not_keep_the_lock(tmp_path):
    ready_read, ready_write = os.pipe()
    release_read, release_write = os.pipe()
    with write_lock(tmp_path):
        child = os.fork()
        if child == 0:  # the child: say it runs, then wait until told (or the parent is gone)
            os.close(release_write)
            os.write(ready_write, b"r")
            os.read(release_read, 1)
            os._exit(0)
        os.close(ready_write)
        os.close(release_read)
        assert os.read(ready_read, 1) == b"r"  # the child is past its start
    os.close(ready_read)
    try:
        assert os.waitpid(child, os.WNOHANG) == (0, 0)  # still running
        with write_lock(tmp_path):  # the parent let go; the child's copy is closed
            pass
    finally:
        os.write(release_write, b"x")
        os.close(release_write)
        os.waitpid(child, 0)
