"""The index folder on disk: generations, the switch between them, the lock.

An index folder holds numbered generations (``gen-000001`` …), each a complete
index (the Whoosh backend's files) plus its bookkeeping, and a ``CURRENT`` file naming the one that
readers use. A run of the indexer writes a new generation (hard links to the
previous one's files, then its changes, which Whoosh writes to new files) and
switches ``CURRENT`` with one atomic rename. A reader never sees a half-written
index, and a run killed at any point leaves the previous generation in place.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

CURRENT = "CURRENT"
LOCK = "LOCK"
META = "newssearch.json"
# The size of every file of a generation when it was published: a file that is
# shorter, longer or gone since (a truncated copy, a full disk) is found by a stat.
MANIFEST = "manifest.json"
_PREFIX = "gen-"


class IndexMissing(Exception):
    """There is no index at the given folder yet."""


class IndexBusy(Exception):
    """Another indexer holds the index folder."""


def current_generation(index_dir: Path) -> Path | None:
    """The generation readers should use, or ``None`` when there is none."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not name.startswith(_PREFIX) or "/" in name or not (Path(index_dir) / name).is_dir():
        return None
    return Path(index_dir) / name


def require_generation(index_dir: Path) -> Path:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissing(f"no index in {index_dir}: run 'newssearch index PATH --index {index_dir}' first")
    return generation


def current_token(index_dir: Path):
    """A cheap value that changes whenever ``CURRENT`` is switched."""
    try:
        info = os.stat(Path(index_dir) / CURRENT)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


# Lock files this process holds open. A forked child (a worker reading the corpus)
# inherits their descriptors, and an flock lasts while any copy is open: the child
# closes its copies at once, or a worker orphaned by a killed indexer would keep the
# index busy for ever.
_HELD: set = set()


def _close_inherited_locks() -> None:
    for handle in list(_HELD):
        try:
            handle.close()
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_inherited_locks)


@contextmanager
def write_lock(index_dir: Path):
    """Hold the index folder for one indexer; ``IndexBusy`` if another has it.

    The lock is an ``flock`` on a file: the system releases it when its
    holder dies, so a killed run never leaves a stale lock behind (forked
    children do not hold it).
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK, "a+")
    _HELD.add(handle)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(f"index is busy: another 'newssearch index' is writing to {index_dir}")
        yield
    finally:
        _HELD.discard(handle)
        handle.close()


def _generations(index_dir: Path) -> list[Path]:
    return sorted(p for p in Path(index_dir).glob(_PREFIX + "*") if p.is_dir())


def new_generation(index_dir: Path, base: Path | None, *, leave=()) -> Path:
    """A fresh generation folder, holding hard links to ``base``'s files if given
    (except the metadata and the files named in ``leave``, such as the engine's locks).

    Unfinished generations left by killed runs (newer than the current one)
    are removed first, so that the one kept beside the current is a real one.
    """
    current = current_generation(index_dir)
    for stale in _generations(index_dir):
        if current is None or stale.name > current.name:
            shutil.rmtree(stale, ignore_errors=True)
    existing = _generations(index_dir)
    number = int(existing[-1].name[len(_PREFIX):]) + 1 if existing else 1
    target = Path(index_dir) / f"{_PREFIX}{number:06d}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if base is not None:
        for source in base.iterdir():
            if source.is_file() and source.name not in leave and source.name not in (META, MANIFEST):
                os.link(source, target / source.name)
    return target


def publish(index_dir: Path, generation: Path) -> None:
    """Make ``generation`` the one readers use, atomically and durably."""
    _write_manifest(generation)
    _fsync_tree(generation)
    temporary = Path(index_dir) / (CURRENT + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(generation.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, Path(index_dir) / CURRENT)
    _fsync_dir(Path(index_dir))


def prune(index_dir: Path, keep: int = 2) -> None:
    """Delete generations other than the current one and the ``keep - 1`` before it.

    Unfinished generations of killed runs (newer than the current one) go too.
    """
    current = current_generation(index_dir)
    if current is None:
        return
    older = [g for g in _generations(index_dir) if g.name < current.name]
    newer = [g for g in _generations(index_dir) if g.name > current.name]
    doomed = newer + older[: max(0, len(older) - (keep - 1))]
    for generation in doomed:
        shutil.rmtree(generation, ignore_errors=True)


def read_meta(generation: Path | None) -> dict:
    if generation is None:
        return {}
    try:
        with open(generation / META, encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return {}


def write_meta(generation: Path, meta: dict) -> None:
    temporary = generation / (META + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        # ASCII: file names that are not valid UTF-8 (surrogate escapes) must survive.
        json.dump(meta, handle, ensure_ascii=True, separators=(",", ":"))
    os.replace(temporary, generation / META)


def _write_manifest(generation: Path) -> None:
    sizes = {path.name: path.stat().st_size for path in sorted(generation.iterdir())
             if path.is_file() and path.name != MANIFEST}
    temporary = generation / (MANIFEST + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(sizes, handle, ensure_ascii=True, separators=(",", ":"))
    os.replace(temporary, generation / MANIFEST)


def damaged_files(generation: Path) -> list[str]:
    """What is wrong with the files of ``generation`` against its manifest, one line per
    file (names within the generation, no paths); empty when every file has the size it
    was published with, or when the generation has no manifest (published before
    manifests were written)."""
    try:
        with open(generation / MANIFEST, encoding="utf-8") as handle:
            sizes = json.load(handle)
    except FileNotFoundError:
        return []
    except ValueError:
        return [f"{MANIFEST} is not valid JSON"]
    found = []
    for name, size in sizes.items():
        try:
            actual = os.stat(generation / name).st_size
        except OSError:
            found.append(f"{name} is missing")
            continue
        if actual != size:
            found.append(f"{name} has {actual:,} bytes, {size:,} when it was written")
    return found


def size_on_disk(folder) -> int:
    """Bytes of the files below ``folder`` (files that vanish meanwhile count as 0)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
