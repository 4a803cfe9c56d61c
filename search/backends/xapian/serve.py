"""The server processes of a Xapian cluster: Xapian's own tools, started for a shard.

- ``xapian-tcpsrv`` serves one shard to query nodes (``newssearch shard serve``);
- ``xapian-replicate-server`` offers a cluster folder's shards for replication
  (``newssearch shard replication-server``);
- ``xapian-replicate`` keeps a replica of one shard current
  (``newssearch shard replicate``); a replica folder is served by
  ``xapian-tcpsrv`` like a primary.

None of them authenticates or encrypts: bind them to a private interface
(the default here is 127.0.0.1) and let only the query and replica machines
reach their ports.

The tools come with Debian's ``xapian-tools``; they speak the remote
protocol of Xapian 1.4, which the Python bindings of any 1.4 release use.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ...processes import end_with_parent
from .layout import parse_endpoint, read_cluster, shard_paths

__all__ = ["ToolMissing", "check_cluster", "check_shard", "parse_endpoint",
           "replicate_command", "replication_server_command", "tcpsrv_command"]

TOOLS_HINT = "install Debian's xapian-tools (apt-get install xapian-tools)"


class ToolMissing(RuntimeError):
    pass


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ToolMissing(f"{name} not found: {TOOLS_HINT}")
    return found


def check_shard(path) -> None:
    """Raise ``ValueError`` unless ``path`` is a Xapian database (a shard or a replica)."""
    import xapian

    path = Path(path)
    if read_cluster(path) is not None:
        names = ", ".join(str(p) for p in shard_paths(path))
        raise ValueError(f"{path} is a cluster folder; serve each of its shards: {names}")
    try:
        xapian.Database(str(path)).close()
    except xapian.Error as error:
        raise ValueError(f"{path} is not a shard: {error.get_msg()}") from None


def check_cluster(path) -> None:
    """Raise ``ValueError`` unless ``path`` is a cluster folder."""
    if read_cluster(Path(path)) is None:
        raise ValueError(f"{path} is not a cluster folder "
                         f"(made by 'newssearch index --backend xapian')")


def tcpsrv_command(shard_dir, port: int, interface: str = "127.0.0.1", *,
                   timeout_ms: int | None = None, quiet: bool = True) -> list[str]:
    command = [tool("xapian-tcpsrv"), "--port", str(port), "--interface", interface]
    if timeout_ms is not None:
        command += ["--timeout", str(timeout_ms)]
    if quiet:
        command.append("--quiet")
    return command + [str(shard_dir)]


def replication_server_command(cluster_dir, port: int, interface: str = "127.0.0.1") -> list[str]:
    return [tool("xapian-replicate-server"), "--interface", interface, "--port", str(port),
            str(cluster_dir)]


def replicate_command(replica_dir, host: str, port: int, master: str, *,
                      interval: int = 10, once: bool = False, quiet: bool = True) -> list[str]:
    command = [tool("xapian-replicate"), "--host", host, "--port", str(port),
               "--master", master, "--interval", str(interval), "--reader-time", "1"]
    if once:
        command.append("--one-shot")
    if quiet:
        command.append("--quiet")
    return command + [str(replica_dir)]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start(command: list[str], host: str, port: int, *, wait_seconds: float = 15.0,
          log=None) -> subprocess.Popen:
    """Start a server process and wait (bounded) until it accepts connections.

    The server ends with the process that started it, even if that one crashes.
    """
    process = subprocess.Popen(command, stdout=log or subprocess.DEVNULL,
                               stderr=log or subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=lambda: end_with_parent(signal.SIGTERM))
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{Path(command[0]).name} exited with code {process.returncode}")
        if port_open(host, port):
            return process
        time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"{Path(command[0]).name} did not listen on {host}:{port} "
                       f"within {wait_seconds:.0f} s")


def stop(process: subprocess.Popen, wait_seconds: float = 10.0) -> None:
    """Stop a server process started by :func:`start` (its own process group)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(wait_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(wait_seconds)
