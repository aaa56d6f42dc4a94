"""What runs in the worker processes: the zygote and the task loop of each worker.

The pool starts one *zygote* per caller process as its own program,
``python -m verifiers.worker FD``, so nothing of the caller's ``__main__`` is ever
imported or run (a script without a main guard, a script read from stdin and a
notebook all work). The zygote imports SymPy once, then forks a worker whenever the
caller asks, handing it one end of a socket pair the caller created; a fresh worker
is therefore a cheap fork with SymPy already in memory.

Control messages between the caller and the zygote are pickled tuples, one per
``SOCK_SEQPACKET`` datagram (so framing and passing a file descriptor are free):

- ``("init", sys_path, preload)`` -> ``("ready", zygote_pid)``
- ``("import", module, sys_path)`` -> ``("imported", error_or_None)``: later workers
  start with it (and with the caller's current ``sys.path``)
- ``("fork",)`` + one fd -> ``("forked", worker_pid)``
- ``("kill", pid)`` -> ``("killed", status_or_None)``: SIGKILL and reap now
- ``("status", pid, wait_s)`` -> ``("status", status_or_None)``: exit status, like
  ``Popen.returncode`` (negative: killed by that signal)

EOF on the control socket (the caller exited, crashed or shut the pool down) makes
the zygote give its idle workers a moment to see EOF themselves, SIGKILL the rest,
reap them all and exit. Workers die with the zygote (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import socket
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

MAX_CONTROL_BYTES = 1 << 20
"""Largest control datagram (the ``init`` message carries ``sys.path``)."""

_PR_SET_PDEATHSIG = 1
_KEEP_STATUSES = 256
_REAP_EVERY_S = 1.0
_GRACE_S = 1.0


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (the parent is single-threaded)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def status_of(wait_status: int) -> int:
    """A ``waitpid`` status as ``Popen.returncode`` does it: exit code, or -signal."""
    if os.WIFSIGNALED(wait_status):
        return -os.WTERMSIG(wait_status)
    return os.waitstatus_to_exitcode(wait_status)


# --------------------------------------------------------------------------- worker


def _set_memory_cap(memory_mb: int | None) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = resource.RLIM_INFINITY if memory_mb is None else memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY and (soft == resource.RLIM_INFINITY or soft > hard):
        soft = hard
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _should_retire(retire_rss_kb: int) -> bool:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > retire_rss_kb


def _error_reply(exc: BaseException, retire: bool) -> tuple[Any, ...]:
    """The reply for an exception of ``fn``, pickled apart so a bad one cannot break the pipe."""
    tb = "".join(traceback.format_exception(exc))
    try:
        exc_bytes: bytes | None = pickle.dumps(exc)
    except Exception:
        exc_bytes = None
    return ("raise", exc_bytes, type(exc).__qualname__, str(exc), tb, retire)


def serve_tasks(conn: Connection, retire_rss_kb: int) -> None:
    """Loop of a worker: receive ``(fn, args, memory_mb)``, reply, repeat, until EOF.

    Replies are ``("ok", result, retire)``, ``("raise", exc_bytes_or_None, type_name,
    message, traceback_text, retire)`` or ``("memory", traceback_text)`` (then it exits).
    """
    current_cap: object = object()
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            fn, args, memory_mb = pickle.loads(data)
        except Exception as exc:  # e.g. fn's module cannot be imported here
            if "__main__" in str(exc):  # e.g. a functools.partial of a main-script function
                exc = ValueError(
                    f"the task refers to the caller's main script ({exc}); the worker never "
                    "imports the caller's __main__, so define it in a module"
                )
            conn.send(_error_reply(exc, False))
            continue
        if memory_mb != current_cap:
            _set_memory_cap(memory_mb)
            current_cap = memory_mb
        try:
            result = fn(*args)
        except MemoryError:
            tb = traceback.format_exc()
            with contextlib.suppress(BaseException):
                conn.send(("memory", tb))
            return
        except BaseException as exc:  # the caller decides what fn's errors mean
            conn.send(_error_reply(exc, _should_retire(retire_rss_kb)))
            continue
        try:
            conn.send(("ok", result, _should_retire(retire_rss_kb)))
        except MemoryError:
            with contextlib.suppress(BaseException):
                conn.send(("memory", "MemoryError while sending the result back"))
            return
        except Exception as exc:  # an unpicklable result; nothing was written
            name = getattr(fn, "__qualname__", repr(fn))
            message = f"the result of {name} could not be pickled: {exc}"
            conn.send(
                ("raise", None, type(exc).__qualname__, message, traceback.format_exc(), False)
            )


def _run_worker(fd: int, retire_rss_kb: int) -> None:
    """Body of a freshly forked worker; never returns (``os._exit``)."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        die_with_parent()
        conn = Connection(fd)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # caller gone: end
            serve_tasks(conn, retire_rss_kb)
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# --------------------------------------------------------------------------- zygote


class _Zygote:
    """The zygote's state: its live children and the exit statuses not yet asked for."""

    def __init__(self, control: socket.socket, retire_rss_kb: int) -> None:
        self.control = control
        self.retire_rss_kb = retire_rss_kb
        self.children: set[int] = set()
        self.statuses: OrderedDict[int, int] = OrderedDict()

    def reap(self) -> None:
        """Collect every child that has ended (non-blocking)."""
        for pid in list(self.children):
            self._wait(pid, os.WNOHANG)

    def _wait(self, pid: int, flags: int) -> None:
        try:
            done, status = os.waitpid(pid, flags)
        except ChildProcessError:
            self.children.discard(pid)
            return
        if done:
            self.children.discard(pid)
            self.statuses[pid] = status_of(status)
            while len(self.statuses) > _KEEP_STATUSES:
                self.statuses.popitem(last=False)

    def status(self, pid: int, wait_s: float) -> int | None:
        deadline = time.monotonic() + wait_s
        while pid in self.children:
            self._wait(pid, os.WNOHANG)
            if pid not in self.children or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        return self.statuses.pop(pid, None)

    def kill(self, pid: int) -> int | None:
        if pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait(pid, 0)
        return self.statuses.pop(pid, None)

    def fork(self, fd: int) -> int:
        pid = os.fork()
        if pid == 0:
            self.control.close()
            _run_worker(fd, self.retire_rss_kb)
        os.close(fd)
        self.children.add(pid)
        return pid

    def handle(self, message: tuple[Any, ...], fds: list[int]) -> tuple[Any, ...]:
        kind = message[0]
        if kind == "fork":
            if len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                return ("error", f"fork needs exactly one fd, got {len(fds)}")
            return ("forked", self.fork(fds[0]))
        for fd in fds:
            os.close(fd)
        if kind == "import":
            _, name, sys_path = message
            sys.path[:] = list(sys_path)
            try:
                __import__(name)
            except BaseException as exc:  # reported; the worker will meet it too
                return ("imported", f"{type(exc).__name__}: {exc}")
            return ("imported", None)
        if kind == "kill":
            return ("killed", self.kill(message[1]))
        if kind == "status":
            return ("status", self.status(message[1], message[2]))
        return ("error", f"unknown command {kind!r}")

    def shut_down(self) -> None:
        """Give idle workers a moment to exit on EOF, then kill and reap the rest."""
        deadline = time.monotonic() + _GRACE_S
        while self.children and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.01)
        for pid in list(self.children):
            self.kill(pid)


def _receive(control: socket.socket) -> tuple[tuple[Any, ...] | None, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(control, MAX_CONTROL_BYTES, 4)
    if not data:
        return None, fds
    return pickle.loads(data), fds


def _send(control: socket.socket, message: tuple[Any, ...]) -> None:
    control.send(pickle.dumps(message))


def zygote_main(control_fd: int, retire_rss_kb: int) -> None:
    """Serve the caller's control socket until EOF (see the module docstring)."""
    # Ctrl-C in a terminal and job control belong to the caller, which shuts us down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=control_fd)
    zygote = _Zygote(control, retire_rss_kb)
    try:
        message, _ = _receive(control)
        if message is None or message[0] != "init":
            return
        _, sys_path, preload = message
        sys.path[:] = list(sys_path)
        for name in preload:
            with contextlib.suppress(ImportError):
                __import__(name)
        _send(control, ("ready", os.getpid()))
        while True:
            ready, _, _ = select.select([control], [], [], _REAP_EVERY_S)
            zygote.reap()
            if not ready:
                continue
            message, fds = _receive(control)
            if message is None:
                return
            _send(control, zygote.handle(message, fds))
    except (ConnectionError, EOFError, OSError):
        return  # the caller is gone
    finally:
        zygote.shut_down()


def main(argv: Sequence[str]) -> None:
    """``python -m verifiers.worker CONTROL_FD RETIRE_RSS_KB`` (started by the pool only)."""
    if len(argv) != 3:
        sys.exit("usage: python -m verifiers.worker CONTROL_FD RETIRE_RSS_KB (started by the pool)")
    zygote_main(int(argv[1]), int(argv[2]))
