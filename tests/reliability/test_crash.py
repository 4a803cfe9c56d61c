"""Crash safety: ``kill -9`` of ``newssearch index`` at random points.

Two corpus states A and B of one folder (B: files removed, changed and added,
a JSONL file edited). The index flips between them, by ``--rebuild`` and by
incremental runs; each run is killed with SIGKILL at a random moment (seeded),
half of the time while it is known to be writing its new generation. After
every kill:

* no lock is left behind (the lock can be taken at once);
* the index opens and answers every query: exactly as before the run when the
  switch had not happened yet, else exactly as a clean build of the target;
* the next run completes (exit 0) and its index answers like a clean build of
  the target, with at most two generations left on disk.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from search import Engine, Settings, index_paths
from search.storage import CURRENT, IndexBusy, current_generation, write_lock
from support.commands import kill_process, run_cli, start_cli
from support.corpora import shared_corpus

SEED = 20240611
KILLS_PER_MODE = 10  # × 2 modes (rebuild, incremental) = 20 kills
CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")
PER_CATEGORY = 14
JSONL_RECORDS = 20


# ---------------------------------------------------------------------------
# Two states of one corpus folder


def _bbc_files(count_per_category: int, skip: int = 0) -> list[Path]:
    root = shared_corpus("bbc-en")
    files = []
    for category in CATEGORIES:
        names = sorted(p for p in (root / category).glob("*.txt"))
        files.extend(names[skip: skip + count_per_category])
    return files


def _title(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].strip()


def make_states(base: Path) -> tuple[Path, Path, list[str]]:
    """Folders with state A and state B of the corpus, and queries telling them apart."""
    state_a, state_b = base / "state-a", base / "state-b"
    state_a.mkdir()
    state_b.mkdir()
    files = _bbc_files(PER_CATEGORY)
    extra = _bbc_files(4, skip=PER_CATEGORY)  # only in B
    records_from = _bbc_files(4, skip=PER_CATEGORY + 4)  # the JSONL records
    removed, changed = files[0::7], files[1::7]
    queries = ["government", "market OR shares", '"prime minister"', "film -music", "econom*",
               "zebracrossing", "title:election", "nonexistingwordxyz"]
    for path in files:
        name = f"{path.parent.name}-{path.name}"
        data = path.read_bytes()
        (state_a / name).write_bytes(data)
        if path in removed:
            queries.append(f'"{_title(path)}"')
            continue
        if path in changed:
            data += b"\n\nA zebracrossing was added to this story later.\n"
        (state_b / name).write_bytes(data)
    for path in extra:
        (state_b / f"{path.parent.name}-new-{path.name}").write_bytes(path.read_bytes())
        queries.append(f'"{_title(path)}"')
    records = []
    for number, path in enumerate(records_from[:JSONL_RECORDS]):
        title, _, text = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        records.append({"id": f"wire-{number}", "title": title.strip(), "text": text.strip(),
                        "lang": "en", "date": f"2005-0{1 + number % 9}-1{number % 10}",
                        "source": "wire.example"})
    _write_jsonl(state_a / "wire.jsonl", records)
    changed_records = [dict(r, text=r["text"] + " A zebracrossing, the wire adds.")
                       if r["id"].endswith(("1", "2")) else r for r in records[3:]]
    changed_records.append({"id": "wire-new", "title": "Wire extra", "lang": "en",
                            "text": "An extra wire story about a quokka sanctuary."})
    _write_jsonl(state_b / "wire.jsonl", changed_records)
    queries += ["quokka", "source:wire.example", "date:2005-03..2005-06"]
    return state_a, state_b, queries


def _write_jsonl(path: Path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def switch_to(live: Path, state: Path) -> None:
    """Make the folder ``live`` hold exactly the files of ``state`` (changed ones rewritten)."""
    wanted = {p.name for p in state.iterdir()}
    for path in live.iterdir():
        if path.name not in wanted:
            path.unlink()
    for source in state.iterdir():
        target = live / source.name
        data = source.read_bytes()
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            # A distinct modification time, as an editor would leave it.
            stamp = time.time_ns() + random.randrange(1, 10**6)
            os.utime(target, ns=(stamp, stamp))


# ---------------------------------------------------------------------------
# What an index answers


def answers(index_dir: Path, queries) -> dict:
    """Every query's total and hits (ids, in order) on a freshly opened engine."""
    with Engine(Settings(index_dir=index_dir)) as engine:
        out = {"documents": engine.stats()["documents"]}
        for query in queries:
            result = engine.search(query, per_page=100)
            out[query] = (result.total, [hit["id"] for hit in result.hits])
        return out


def as_sets(found: dict) -> dict:
    """Answers compared across different index histories: the same hits, in any order."""
    return {k: v if k == "documents" else (v[0], sorted(v[1])) for k, v in found.items()}


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*") if p.is_dir())


def assert_lock_is_free(index_dir: Path) -> None:
    try:
        with write_lock(index_dir):
            pass
    except IndexBusy:
        raise AssertionError("a killed indexer left the index locked")


# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_states(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    state_a, state_b, queries = make_states(base)
    reference = {}
    for name, state in (("A", state_a), ("B", state_b)):
        index_dir = base / f"reference-{name}"
        report = index_paths([state], Settings(index_dir=index_dir))
        assert report.added > 50 and not report.problems, report.problems
        reference[name] = as_sets(answers(index_dir, queries))
    # The states must differ in what they answer, or the test could not tell them apart.
    differing = [q for q in queries if reference["A"].get(q) != reference["B"].get(q)]
    assert len(differing) >= 8, differing
    assert reference["A"]["documents"] != reference["B"]["documents"]
    return {"base": base, "A": state_a, "B": state_b, "queries": queries,
            "reference": reference}


def _run_to_completion(live: Path, index_dir: Path, rebuild: bool) -> float:
    started = time.monotonic()
    result = run_cli("index", live, "--index", index_dir, "--quiet", *(["--rebuild"] if rebuild else []))
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr[-2000:])
    return time.monotonic() - started


def _kill_at_random_point(live: Path, index_dir: Path, rebuild: bool, rng: random.Random,
                          full_seconds: float, while_writing: bool) -> dict:
    """Start an indexer, SIGKILL it at a random moment; what the index folder held at the kill."""
    before = set(generations(index_dir))
    process = start_cli("index", live, "--index", index_dir, "--quiet",
                        *(["--rebuild"] if rebuild else []))
    try:
        started = time.monotonic()
        if while_writing:
            # Wait until the new generation appears, then kill within the rest of the run.
            deadline = started + 60
            while set(generations(index_dir)) <= before and process.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError("the indexer never started a new generation")
                time.sleep(0.002)
            elapsed = time.monotonic() - started
            delay = rng.uniform(0, max(0.05, full_seconds - elapsed))
        else:
            delay = rng.uniform(0, full_seconds * 1.1)
        time.sleep(delay)
        finished_first = process.poll() is not None
        kill_process(process)
    finally:
        kill_process(process)
    after = set(generations(index_dir))
    return {"finished_first": finished_first,
            "unfinished": bool(after - before) and current_generation(index_dir).name not in after - before}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rebuild", "incremental"])
def test_kill_9_during_indexing_never_loses_the_index(corpus_states, tmp_path, mode):
    rebuild = mode == "rebuild"
    rng = random.Random(f"{SEED}-{mode}")
    queries, reference = corpus_states["queries"], corpus_states["reference"]
    live, index_dir = tmp_path / "live", tmp_path / "index"
    live.mkdir()
    switch_to(live, corpus_states["A"])
    full_seconds = _run_to_completion(live, index_dir, rebuild)
    assert as_sets(answers(index_dir, queries)) == reference["A"]
    state = "A"
    outcomes = []
    for _ in range(KILLS_PER_MODE):
        target = "B" if state == "A" else "A"
        switch_to(live, corpus_states[target])
        previous = current_generation(index_dir).name
        before = answers(index_dir, queries)
        seen = _kill_at_random_point(live, index_dir, rebuild, rng, full_seconds,
                                     while_writing=len(outcomes) % 2 == 0)
        assert_lock_is_free(index_dir)
        # The index opens and answers: the old generation unchanged, or the new one whole.
        now = current_generation(index_dir)
        assert now is not None, "no index after the kill"
        found = answers(index_dir, queries)
        if now.name == previous:
            assert found == before, "the previous generation changed under a killed run"
            seen["published"] = False
        else:
            assert as_sets(found) == reference[target]
            seen["published"] = True
        outcomes.append(seen)
        # The next run completes and is right.
        full_seconds = max(0.3, _run_to_completion(live, index_dir, rebuild))
        assert as_sets(answers(index_dir, queries)) == reference[target]
        assert len(generations(index_dir)) <= 2, generations(index_dir)
        assert not (index_dir / (CURRENT + ".tmp")).exists()
        state = target
    # The kills must have hit runs in the middle of writing, not only before or after.
    mid_write = sum(1 for o in outcomes if o["unfinished"] and not o["published"])
    assert mid_write >= KILLS_PER_MODE // 4, outcomes
    assert sum(1 for o in outcomes if not o["finished_first"]) >= KILLS_PER_MODE // 2, outcomes


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_kill_9_while_workers_read_leaves_no_orphans_and_no_lock(corpus_states, tmp_path):
    """A corpus big enough to be read by worker processes: killing the indexer kills them
    too, and none of them keeps the lock (an orphan once kept the index busy for ever)."""
    big = tmp_path / "big"
    big.mkdir()
    for path in _bbc_files(200):
        shutil.copy(path, big / f"{path.parent.name}-{path.name}")
    assert sum(p.stat().st_size for p in big.iterdir()) > 2 * 1024 * 1024
    index_dir = tmp_path / "index"
    _run_to_completion(corpus_states["A"], index_dir, rebuild=False)
    queries = corpus_states["queries"]
    before = answers(index_dir, queries)
    rng = random.Random(SEED)
    for _ in range(2):
        process = start_cli("index", big, "--index", index_dir, "--quiet")
        workers = []
        try:
            deadline = time.monotonic() + 120
            while len(workers) < 2 and process.poll() is None and time.monotonic() < deadline:
                workers = _children(process.pid)
                time.sleep(0.01)
            assert len(workers) >= 2, "the indexer did not start worker processes"
            time.sleep(rng.uniform(0.1, 1.0))
        finally:
            kill_process(process)
        try:
            deadline = time.monotonic() + 15
            while any(_alive(w) for w in workers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(_alive(w) for w in workers), "workers outlived the killed indexer"
        finally:
            for worker in workers:  # never leave one behind, whatever happened
                if _alive(worker):
                    os.kill(worker, 9)
        assert_lock_is_free(index_dir)
        assert answers(index_dir, queries) == before
    # And the next run goes through.
    _run_to_completion(corpus_states["B"], index_dir, rebuild=False)
