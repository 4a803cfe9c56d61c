"""The cluster folder of the Xapian backend, readable without the Xapian bindings.

::

    cluster.json      backend, shard count, layout version, term-weight normalisation
    files.json        the files read so far (size, mtime, article ids): re-runs skip unchanged files
    shard-00/ …       one Xapian database per shard
    LOCK              held by the running indexer
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LAYOUT_VERSION = 2
CLUSTER_FILE = "cluster.json"
FILES_FILE = "files.json"


def shard_name(shard: int) -> str:
    return f"shard-{shard:02d}"


def read_cluster(index_dir) -> dict | None:
    """The cluster description of ``index_dir``, or ``None`` when it holds no cluster."""
    if index_dir is None:
        return None
    try:
        with open(Path(index_dir) / CLUSTER_FILE, encoding="utf-8") as handle:
            data = json.load(handle)
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("backend") != "xapian":
        return None
    return data


def shard_paths(index_dir) -> list[Path]:
    cluster = read_cluster(index_dir)
    if cluster is None:
        return []
    return [Path(index_dir) / shard_name(i) for i in range(int(cluster["shards"]))]


def write_json(path: Path, data: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}
