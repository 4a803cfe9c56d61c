"""A stopped shard server stops whole: ``newssearch shard serve`` ends every process of
its ``xapian-tcpsrv`` — the ones forked for open connections included — when it is
stopped (SIGTERM) or killed (``kill -9``), and the query node counts the shard as not
answering on its next query.

Every server is a real ``newssearch shard serve`` on 127.0.0.1 with an ephemeral
port, in a session of its own, killed at teardown; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
QUERY = "Stadt"  # found in articles of both shards of the sample corpus


def _newssearch() -> list[str]:
    script = Path(sys.executable).with_name("newssearch")
    return [str(script)] if script.exists() else [sys.executable, "-c",
                                                  "from web.cli import main; main()"]


def _wait_until(condition, seconds: float, interval: float = 0.05):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that never reaps it counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _tcpsrv_processes(port: int) -> list[int]:
    """Every live ``xapian-tcpsrv`` process serving ``port``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"xapian-tcpsrv") and str(port).encode() in command \
                and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def cluster(tmp_path):
    for tool in ("xapian-tcpsrv",):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install Debian's xapian-tools", pytrace=False)
    from search import Settings, index_paths

    folder = tmp_path / "cluster"
    report = index_paths([CORPUS], Settings(index_dir=folder, backend="xapian", shards=2))
    assert report.documents > 40, report.to_dict()
    return folder


@pytest.fixture
def shard_servers(tmp_path):
    """Start ``newssearch shard serve`` processes; all are killed (with their groups) at
    teardown."""
    started: list[tuple[subprocess.Popen, int]] = []

    def start(shard_dir: Path) -> tuple[subprocess.Popen, int]:
        for _ in range(5):
            port = _free_port()
            log = open(tmp_path / f"shard-{port}.log", "w")
            process = subprocess.Popen([*_newssearch(), "shard", "serve", str(shard_dir),
                                        "--port", str(port)], stdout=log, stderr=log,
                                       start_new_session=True, cwd=REPO)
            log.close()
            started.append((process, port))
            if _wait_until(lambda: _listening(port) or process.poll() is not None, 60) \
                    and process.poll() is None:
                return process, port
        raise AssertionError("shard serve did not listen")

    yield start
    for process, port in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for pid in _tcpsrv_processes(port):  # nothing should be left; if so, end it here
            os.kill(pid, signal.SIGKILL)


def _engine(remote: str):
    from search import Engine, Settings

    return Engine(Settings(backend="xapian", remote=remote, shard_retry_seconds=30,
                           shard_reopen_seconds=0.0, vocabulary_check_seconds=0.0))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_stopped_shard_server_ends_its_connections_and_is_flagged(cluster, shard_servers,
                                                                    stop):
    _, first_port = shard_servers(cluster / "shard-00")
    second, second_port = shard_servers(cluster / "shard-01")
    engine = _engine(f"127.0.0.1:{first_port},127.0.0.1:{second_port}")
    try:
        full = engine.search(QUERY, per_page=50)
        assert full.shards == {"total": 2, "answered": 2}
        # The engine holds an open connection to each shard: tcpsrv forked a process
        # for it beside its listening one.
        serving = _wait_until(lambda: len(_tcpsrv_processes(second_port)) >= 2 and
                              _tcpsrv_processes(second_port), 10)
        assert serving, "no forked connection process seen"

        os.kill(second.pid, stop)
        assert second.wait(10) in (0, -signal.SIGKILL)
        gone = _wait_until(lambda: not any(_alive(pid) for pid in serving), 10)
        assert gone, [pid for pid in serving if _alive(pid)]
        assert not _listening(second_port)

        # The next query finds the shard gone: a partial answer, flagged as such.
        partial = engine.search(QUERY, per_page=50)
        assert partial.shards == {"total": 2, "answered": 1}
        assert partial.to_dict()["shards"] == {"total": 2, "answered": 1}
        assert 0 < partial.total < full.total
        health = engine.health()
        assert health["status"] == "ok" and health["shards"] == {"total": 2, "answered": 1}
    finally:
        engine.close()
