"""The caller's handle on its zygote process (see :mod:`verifiers.worker.serve`).

One :class:`ZygoteHandle` per pool: it starts ``python -m verifiers.worker`` with
``subprocess`` (never ``multiprocessing``, whose non-fork start methods import the
caller's ``__main__``), and asks it to fork workers, import modules, kill a worker
or report a worker's exit status. Commands are serialised by a lock, so any number
of threads may share the handle.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from verifiers.worker.errors import WorkerCrashed
from verifiers.worker.serve import MAX_CONTROL_BYTES

START_TIMEOUT_S = 60.0
"""The zygote must import its preloads and say "ready" within this (not part of timeout_s)."""
_REPLY_TIMEOUT_S = 30.0
_EXIT_TIMEOUT_S = 5.0


def _package_root() -> str:
    """The directory holding the ``verifiers`` package, so the zygote imports this copy."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child_sys_path() -> list[str]:
    """The caller's ``sys.path`` with relative entries made absolute (the zygote's cwd may move)."""
    cwd = os.getcwd()
    return [os.path.join(cwd, p) if not os.path.isabs(p) else p for p in sys.path]


class ZygoteHandle:
    """A running zygote: ``fork_worker``, ``import_module``, ``kill``, ``status``, ``close``."""

    def __init__(self, preload: Sequence[str], retire_rss_kb: int) -> None:
        if not sys.executable:
            raise WorkerCrashed(
                "cannot start the worker process: sys.executable is empty", cause="exit"
            )
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_package_root(), env.get("PYTHONPATH", "")) if p
        )
        self._lock = threading.Lock()
        self._control = ours
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "verifiers.worker",
                    str(theirs.fileno()),
                    str(retire_rss_kb),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # terminal signals go to the caller, which shuts us down
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sys_path = _child_sys_path()
        self.generation = 0
        """Bumped whenever the zygote's ``sys.path`` changes; older workers are stale."""
        try:
            ready = self._call(("init", self._sys_path, tuple(preload)), START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise
        if ready[0] != "ready":
            self.close()
            raise WorkerCrashed(
                f"the worker zygote sent {ready!r} instead of 'ready'", cause="exit"
            )
        self.pid: int = ready[1]
        self._imported: set[str] = set(preload)

    def _call(
        self, message: tuple[Any, ...], timeout: float, fds: Sequence[int] = ()
    ) -> tuple[Any, ...]:
        with self._lock:
            try:
                if fds:
                    socket.send_fds(self._control, [pickle.dumps(message)], list(fds))
                else:
                    self._control.send(pickle.dumps(message))
                self._control.settimeout(timeout)
                data = self._control.recv(MAX_CONTROL_BYTES)
            except TimeoutError:
                raise WorkerCrashed(
                    f"the worker zygote did not answer {message[0]!r} within {timeout:.0f} s",
                    cause="exit",
                ) from None
            except OSError as exc:
                raise self._dead(f"({exc})") from None
            if not data:
                raise self._dead("")
            reply = pickle.loads(data)
        if reply[0] == "error":
            raise WorkerCrashed(
                f"the worker zygote refused {message[0]!r}: {reply[1]}", cause="exit"
            )
        return reply

    def _dead(self, detail: str) -> WorkerCrashed:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(_EXIT_TIMEOUT_S)
        code = self.process.returncode
        return WorkerCrashed(
            f"the worker zygote (python -m verifiers.worker) exited with code {code} {detail}; "
            "see its stderr",
            cause="signal" if code is not None and code < 0 else "exit",
            exitcode=code,
        )

    def fork_worker(self) -> tuple[int, Connection]:
        """A new worker: its pid and the caller's end of its connection."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            reply = self._call(("fork",), _REPLY_TIMEOUT_S, fds=(theirs.fileno(),))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return reply[1], Connection(ours.detach())

    def import_module(self, name: str) -> None:
        """Have the zygote import ``name`` so workers forked later start with it loaded.

        The caller's current ``sys.path`` goes along: it may have grown since the start.
        """
        if name in self._imported:
            return
        self._imported.add(name)
        sys_path = _child_sys_path()
        self._call(("import", name, sys_path), START_TIMEOUT_S)
        if sys_path != self._sys_path:
            self._sys_path = sys_path
            self.generation += 1  # workers forked before lack the new path: retire them

    def kill(self, pid: int) -> int | None:
        """SIGKILL worker ``pid`` and return its exit status (None if it was gone already)."""
        return self._call(("kill", pid), _REPLY_TIMEOUT_S)[1]

    def status(self, pid: int, wait_s: float) -> int | None:
        """Worker ``pid``'s exit status, waiting up to ``wait_s`` for it to end; None if unknown."""
        return self._call(("status", pid, wait_s), _REPLY_TIMEOUT_S + wait_s)[1]

    def close(self) -> None:
        """EOF to the zygote: it stops its workers and exits. Waits for that (kills if stuck)."""
        with contextlib.suppress(OSError):
            self._control.close()
        try:
            self.process.wait(_EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(_EXIT_TIMEOUT_S)

    def abandon(self) -> None:
        """In a forked child: drop the inherited socket without touching the parent's zygote.

        Lock-free on purpose: a parent thread may have held the lock at fork time.
        """
        with contextlib.suppress(OSError):
            self._control.close()
        # The child must never wait on or kill the parent's zygote.
        self.process.returncode = 0
