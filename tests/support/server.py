"""``newssearch serve`` on 127.0.0.1, started as a user starts it.

The server runs in a session of its own, so that :meth:`Server.stop` ends it
with everything it started (pre-forked workers, Flask's reloader); it also
ends with the test process if that is killed before its teardown
(:func:`search.end_with_parent`). Its output is read to the end by a thread,
so the server never blocks on a full pipe.
"""

from __future__ import annotations

import functools
import http.client
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

from search import end_with_parent

from .commands import child_env, newssearch_command, wait_until
from .corpora import REPO

START_SECONDS = 120.0


class Server:
    """``newssearch serve ARGS --host 127.0.0.1``, by default on an ephemeral port.

    It counts as started once it printed its address and answers ``/healthz``
    (with any status). With ``port`` given (the ``--debug`` server prints no
    address of its own) the answer alone counts. Always :meth:`stop` it.
    """

    def __init__(self, args, log_path: Path, *, env: dict | None = None,
                 port: int | None = None):
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.lines: list[str] = []
        self._address = threading.Event()
        self.url = f"http://127.0.0.1:{port}" if port else None
        self.process = subprocess.Popen(
            [*newssearch_command(), "serve", "--host", "127.0.0.1", "--port", str(port or 0),
             *map(str, args)],
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=REPO,
            env=child_env({"PYTHONUNBUFFERED": "1", **(env or {})}),
            start_new_session=True, preexec_fn=functools.partial(end_with_parent, signal.SIGTERM))
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            if not port and not self._address.wait(START_SECONDS):
                raise AssertionError("no address printed")
            if not wait_until(self._answers, START_SECONDS, interval=0.2):
                raise AssertionError("no answer from /healthz")
        except AssertionError as error:
            self.stop()
            raise AssertionError(f"server did not start within {START_SECONDS} s "
                                 f"({error}):\n{self.output()[-5000:]}") from None

    def _read_stdout(self):
        for line in self.process.stdout:  # drained to the end, so the server never blocks
            self.lines.append(line)
            match = re.search(r"Serving on (http://127\.0\.0\.1:\d+)/", line)
            if match and not self._address.is_set():
                self.url = match.group(1)
                self._address.set()

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}")
        try:
            self.get("/healthz", timeout=2)
        except OSError:
            return False
        return True

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        """A connection of its own to the server (the caller closes it)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, target: str, timeout: float = 30, connection=None):
        """``(status, headers, body bytes)`` of GET ``target`` (a path and its query string,
        sent as it is); HTTP errors are answers too."""
        own = connection is None
        connection = connection or self.connection(timeout)
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            if own:
                connection.close()

    def output(self) -> str:
        """What the server printed so far: stdout, then stderr."""
        if not self._log.closed:
            self._log.flush()
        return "".join(self.lines) + self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server and everything it started (its whole process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        try:  # a reloader's child may outlive its parent for a moment
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self._log.closed:
            self._log.close()
