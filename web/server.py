"""Serving the app with waitress: one process, or pre-forked worker processes.

Searching is CPU-bound and threads of one Python process share one core at a
time, so :func:`serve` runs one waitress server per core by default, each in
a process forked from this one with its own engine, all accepting
connections on one listening socket made before the fork. What every search
reads of the index (columns, field lengths) is read once before the fork
(:meth:`search.Engine.warm`), so the workers share it copy-on-write instead of
each reading it on their first requests. A worker that dies is replaced after
a pause; SIGTERM or SIGINT stops them all; each worker ends with the serving
process even when that one is killed.

waitress is told what a read-only app needs (:func:`limits`): a request body
of a few KB at most, refused with 413 as soon as its length is announced (its
default of 1 GiB was spooled to a temporary file before any route ran), and a
request head of 32 KB. What waitress itself refuses (a body or head too
large, a malformed request) is answered by the app's own error response
(:func:`web.errors.refusal`): JSON under ``/api/``, a page elsewhere, the
security headers on both, instead of waitress's plain text.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from search import Engine, end_with_parent

from . import create_app
from .errors import refusal

IDENT = "newssearch"
# What waitress refuses, by status: (code of the JSON error, message).
REFUSALS = {
    400: ("bad_request", "malformed HTTP request"),
    413: ("too_large", "request body too large"),
    431: ("headers_too_large", "request line and headers too large"),
    501: ("not_implemented", "transfer encoding not supported"),
}


class ServeError(RuntimeError):
    """The server could not start (the address is taken, say)."""


def limits(settings) -> dict:
    """waitress's adjustments for ``settings``: the largest body and head accepted."""
    return {"max_request_body_size": int(settings.http_max_body_bytes),
            "max_request_header_size": int(settings.http_max_header_bytes)}


def _request_path(request) -> str:
    """The path a refused request asked for, as far as it was read: for a head that grew
    too large, waitress parses a stand-in request line, and the real one is the start of
    what it kept of the head."""
    line = request.header_plus.lstrip().split(b"\r\n", 1)[0] or getattr(request, "first_line", b"")
    parts = line.split(b" ")
    target = parts[1] if len(parts) > 1 else b"/"
    if b"://" in target:  # absolute form: http://host/path
        target = b"/" + target.split(b"://", 1)[1].partition(b"/")[2]
    return target.split(b"?", 1)[0].decode("latin-1")


class _RefusalTask(ErrorTask):
    """waitress's error response, written by the app (see the module's docstring)."""

    app = None  # the Flask app whose responses these are

    def execute(self):
        error = self.request.error
        code, message = REFUSALS.get(error.code, (None, "the request could not be served"))
        response = refusal(self.app, error.code, _request_path(self.request), message, code=code)
        body = response.get_data()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend((name, value) for name, value in response.headers.items()
                                     if name.lower() != "content-length")
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _channel_of(app) -> type:
    """A waitress channel class whose refusals ``app`` writes."""
    task = type("RefusalTask", (_RefusalTask,), {"app": app})
    return type("Channel", (HTTPChannel,), {"error_task_class": task})


def make_server(settings, **adjustments):
    """A waitress server of the app for ``settings`` (``adjustments``: where it listens,
    threads ...), with :func:`limits` and the app's own refusals."""
    from waitress import create_server

    app = create_app({"SETTINGS": settings})
    sockets = {}
    server = create_server(app, map=sockets, ident=IDENT, **limits(settings), **adjustments)
    channel = _channel_of(app)
    for dispatcher in sockets.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = channel
    return server


def warm(settings, warn) -> None:
    """Read ahead what every search reads; a failure here is reported by the requests."""
    try:
        with Engine(settings) as engine:
            engine.warm()
    except Exception as error:  # noqa: BLE001 - serving starts all the same
        warn(f"warning: the index could not be read ahead: {error}")


def _shown(host) -> str:
    return f"[{host}]" if ":" in str(host) else str(host)


def serve(settings, host: str, port: int, *, threads: int, workers: int, announce, warn) -> None:
    """Serve the app for ``settings`` on ``host:port`` until stopped.

    ``announce(url, processes)`` is told where the server listens once it
    does; ``warn(text)`` is told what goes wrong without stopping it.
    """
    workers = workers or os.cpu_count() or 1
    warm(settings, warn)
    if workers == 1 or not hasattr(os, "fork"):
        server = make_server(settings, host=host, port=port, threads=threads)
        listening = getattr(server, "effective_listen", None) or [(server.effective_host,
                                                                   server.effective_port)]
        for where, bound_port in listening:
            announce(f"http://{_shown(where)}:{bound_port}/", 1)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return
    _serve_forked(settings, host, port, threads, workers, announce)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {error}") from None
    listener.listen(1024)
    return listener


def _worker(settings, listener: socket.socket, threads: int) -> None:
    """The body of one forked worker; never returns."""
    code = 0
    try:
        end_with_parent(signal.SIGTERM)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        server = make_server(settings, sockets=[listener], threads=threads)
        server.run()
    except BaseException:  # noqa: BLE001 - a worker ends here whatever happens
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _serve_forked(settings, host: str, port: int, threads: int, workers: int, announce) -> None:
    listener = _listen(host, port)
    where, bound_port = listener.getsockname()[:2]
    announce(f"http://{_shown(where)}:{bound_port}/", workers)
    sys.stdout.flush()

    def start_worker() -> int:
        pid = os.fork()
        if pid == 0:
            _worker(settings, listener, threads)
        return pid

    children = {start_worker() for _ in range(workers)}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:  # a worker died: start another after a pause
            time.sleep(1)
            if not stopping:
                children.add(start_worker())
    listener.close()
