"""The ``newssearch`` command as a user runs it, and waiting for what it does.

:func:`run_cli` and :func:`start_cli` run ``python -m web`` with this Python
from the repository root; :func:`newssearch_command` is the installed console
script (``newssearch``) the server and the cluster tests start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .corpora import REPO

CLI = [sys.executable, "-m", "web"]


def child_env(extra: dict | None = None) -> dict:
    """The environment of a child: this one, the repository on the path, fixed hashing."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


def run_cli(*args, timeout: float = 180, env: dict | None = None,
            **kwargs) -> subprocess.CompletedProcess:
    """``newssearch ARGS`` as a subprocess, waited for; output captured as text."""
    return subprocess.run([*CLI, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=child_env(env), **kwargs)


def start_cli(*args, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """``newssearch ARGS`` started without waiting (the caller ends it, see :func:`kill_process`)."""
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen([*CLI, *map(str, args)], cwd=REPO, env=child_env(env), **kwargs)


def newssearch_command() -> list[str]:
    """The installed ``newssearch`` command of this environment."""
    script = Path(sys.executable).with_name("newssearch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from web.cli import main; main()"]


def kill_process(process: subprocess.Popen | None) -> None:
    """SIGKILL a child we started (and reap it); harmless when it is gone already."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def wait_until(condition, seconds: float, interval: float = 0.1):
    """Call ``condition`` until it gives a true value or ``seconds`` pass; returns the last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_fds() -> dict[str, str]:
    """This process's open file descriptors and what they point at."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[name] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor of the listing itself, closed meanwhile
            pass
    return found
