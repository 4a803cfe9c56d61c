"""Child processes that never outlive the process that started them.

Indexing forks readers and segment writers, the server forks its workers, the
Xapian tools run as children: each of them calls :func:`end_with_parent` as it
starts, so a ``kill -9`` of the parent leaves no orphan behind (Linux's
``PR_SET_PDEATHSIG``; elsewhere nothing happens). A server that forks children
of its own runs under :func:`run_in_group`, which ends them all.
"""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def end_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """In a child: receive ``signum`` when the parent dies.

    With ``parent`` (the pid the child was started by), a child whose parent
    died before this call exits at once.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def run_in_group(command: list[str]) -> int:
    """Run ``command`` in a process group of its own and end the whole group with it;
    answers its exit code (0 when stopped by SIGTERM, SIGINT or SIGHUP).

    For servers that fork a process per connection (``xapian-tcpsrv``): their
    children outlive the server process itself, and a connection's child kept
    answering after the server was stopped or killed. Here a *keeper* process
    leads the group, starts ``command`` in it and waits; whatever ends (the
    command, a signal to this process, or this process killed with ``kill -9``,
    which the keeper hears through :func:`end_with_parent`), the whole group
    is killed, the children of connections included.
    """
    supervisor = os.getpid()
    keeper = os.fork()
    if keeper == 0:  # pragma: no cover - runs in the child
        _keep(command, supervisor)
    try:
        os.setpgid(keeper, keeper)  # also here: no signal may find the group missing
    except OSError:
        pass
    stopped = False

    def stop(signum, frame):
        nonlocal stopped
        stopped = True
        _kill_group(keeper)

    previous = {signum: signal.signal(signum, stop)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        _, status = os.waitpid(keeper, 0)
    finally:
        _kill_group(keeper)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0 if stopped else os.waitstatus_to_exitcode(status)


def _keep(command: list[str], supervisor: int) -> None:
    """The keeper: leads the group and runs ``command`` in it; when the supervisor dies,
    kills the group (itself included). When ``command`` ends by itself, the keeper
    exits with its code and the supervisor kills what is left. Never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda signum, frame: os.killpg(0, signal.SIGKILL))
        end_with_parent(signal.SIGTERM, parent=supervisor)
        import subprocess

        code = subprocess.call(command)
    except BaseException:  # noqa: BLE001 - the keeper ends here whatever happens
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code if code >= 0 else 128 - code)


def _kill_group(leader: int) -> None:
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
