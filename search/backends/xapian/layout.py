"""The cluster folder of the Xapian backend and where shards are served, readable
without the Xapian bindings.

::

    cluster.json      backend, shard count, layout version, term-weight normalisation
    files.json        the files read so far (size, mtime, article ids): re-runs skip unchanged files
    duplicates.npz    near-duplicate signatures and clusters (search.duplicates), kept by the indexer
    shard-00/ …       one Xapian database per shard
    LOCK              held by the running indexer
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

LAYOUT_VERSION = 3  # 3: documents hold their near-duplicate cluster
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


# ---------------------------------------------------------------------------
# Endpoints


@dataclass(frozen=True)
class Endpoint:
    """Where a shard can be read: a ``xapian-tcpsrv`` (host, port) or a local folder."""

    host: str | None = None
    port: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        return self.path if self.path is not None else f"{self.host}:{self.port}"


def parse_endpoint(text: str) -> Endpoint:
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port: {text!r}")
    return Endpoint(host=host.strip("[]"), port=int(port))


def parse_remote(spec) -> list[list[Endpoint]]:
    """``"a:1|b:1,c:2"`` → shard 0 at a:1 (replica b:1), shard 1 at c:2."""
    if isinstance(spec, str):
        spec = [s for s in spec.split(",")]
    shards = []
    for item in spec:
        endpoints = [parse_endpoint(e) for e in item.split("|") if e.strip()]
        if endpoints:
            shards.append(endpoints)
    if not shards:
        raise ValueError("no shard given: use host:port,host:port,…")
    return shards
