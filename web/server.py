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
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback

from search import Engine, end_with_parent

from . import create_app

IDENT = "newssearch"


class ServeError(RuntimeError):
    """The server could not start (the address is taken, say)."""


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
    from waitress import create_server

    workers = workers or os.cpu_count() or 1
    warm(settings, warn)
    if workers == 1 or not hasattr(os, "fork"):
        server = create_server(create_app({"SETTINGS": settings}), host=host, port=port,
                               threads=threads, ident=IDENT)
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
        from waitress import create_server

        server = create_server(create_app({"SETTINGS": settings}), sockets=[listener],
                               threads=threads, ident=IDENT)
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
