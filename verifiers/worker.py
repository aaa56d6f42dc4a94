"""A killable, bounded pool of worker processes for math checks.

SymPy work can hang or eat all memory, and big-integer C code (``pow(10, 10**10)``)
ignores signal-based timeouts, which also only work in the main thread. So every
bounded call runs in a separate, persistent worker process that the *caller* can
kill: the parent waits on the worker's pipe with a deadline and sends SIGKILL when
it passes. That works from any thread, from asyncio and inside a server.

    from verifiers.worker import run_bounded, map_bounded, arun_bounded
    result = run_bounded(fn, *args, timeout_s=5.0, memory_mb=1024)

``fn`` must be a module-level (picklable) function; its arguments and result must
be picklable. As with any non-fork ``multiprocessing`` start method, workers import
the main module, so a script using the pool needs an ``if __name__ == "__main__":``
guard. ``warm_up()`` starts all workers ahead of time (the first call otherwise pays
about a second for the fork server to import SymPy).

Errors:

- :class:`WorkerTimeout` (also a ``TimeoutError``): not done in ``timeout_s``; the
  worker was killed and will be replaced.
- :class:`WorkerCrashed`: the worker died or hit its memory cap (``MemoryError``
  inside it, SIGKILL from outside, a segfault); the message says which.
- An exception raised by ``fn`` itself is re-raised in the caller *as the same
  exception type*, with the remote traceback text attached as its ``__cause__``
  (a :class:`RemoteTraceback`), as ``concurrent.futures`` does. Only when the
  exception cannot be pickled is it replaced by a :class:`WorkerError` that
  carries its type, message and remote traceback.

Design: one lazily created, module-global :class:`WorkerPool` of ``os.cpu_count()``
persistent workers, started from the ``forkserver`` context (never ``fork`` from a
possibly threaded parent) with SymPy pre-imported in the fork server, so starting
or replacing a worker is a cheap fork. The memory cap is ``RLIMIT_AS`` (total
address space of the worker, interpreter and SymPy included, about 75 MB), set
as the soft limit in the worker before each task, so one pool serves every
``memory_mb``. Workers retire after ``max_tasks`` tasks or once their peak RSS passes
``retire_rss_mb``, and are replaced. Idle workers wait in a lock-protected list, so
any number of threads may call at once; at most ``size`` calls run in parallel and
the rest wait their turn (the wait is not counted in ``timeout_s``). ``shutdown()``
runs at interpreter exit and leaves no worker process behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

__all__ = [
    "RemoteTraceback",
    "WorkerCrashed",
    "WorkerError",
    "WorkerPool",
    "WorkerTimeout",
    "arun_bounded",
    "get_pool",
    "map_bounded",
    "run_bounded",
    "shutdown",
    "warm_up",
]

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_MEMORY_MB = 1024
DEFAULT_MAX_TASKS = 1000
DEFAULT_RETIRE_RSS_MB = 768
PRELOAD_MODULES = ("sympy",)
_START_TIMEOUT_S = 60.0  # a fresh worker must say "ready" within this (not part of timeout_s)
_JOIN_TIMEOUT_S = 2.0


class WorkerError(RuntimeError):
    """The bounded call could not complete normally in its worker process.

    Base of :class:`WorkerTimeout` and :class:`WorkerCrashed`; raised as itself when
    ``fn`` raised an exception that cannot be pickled back to the caller.
    """


class WorkerTimeout(WorkerError, TimeoutError):
    """The call was not done within ``timeout_s``; its worker was killed."""


class WorkerCrashed(WorkerError):
    """The worker died during the call or ran out of its memory cap.

    ``cause`` is ``"memory"`` (a ``MemoryError`` under the cap), ``"signal"`` (killed by
    a signal: SIGKILL from the OOM killer or a user, SIGSEGV, ...) or ``"exit"``.
    """

    def __init__(self, message: str, *, cause: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.exitcode = exitcode


class RemoteTraceback(Exception):
    """Carries the worker-side traceback text; set as ``__cause__`` of re-raised errors."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb}"""'


# --------------------------------------------------------------------------- worker side

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when its parent (the fork server) exits."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _set_memory_cap(memory_mb: int | None) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = resource.RLIM_INFINITY if memory_mb is None else memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY and (soft == resource.RLIM_INFINITY or soft > hard):
        soft = hard
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _worker_main(conn: Connection, preload: Sequence[str], retire_rss_kb: int) -> None:
    """Loop of a worker process: receive ``(fn, args, memory_mb)``, reply, repeat.

    Replies are ``("ok", result, retire)``, ``("raise", exc_or_None, type_name,
    message, traceback_text, retire)`` or ``("memory", traceback_text)`` (then exits).
    EOF on the pipe (parent closed it or died) ends the loop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    _die_with_parent()
    for name in preload:
        with contextlib.suppress(ImportError):
            __import__(name)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # parent gone: just end
        _serve(conn, retire_rss_kb)


def _serve(conn: Connection, retire_rss_kb: int) -> None:
    conn.send(("ready", os.getpid()))
    current_cap: object = object()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args, memory_mb = task
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
            conn.send(
                (
                    "raise",
                    None,
                    type(exc).__qualname__,
                    f"the result of {name} could not be pickled: {exc}",
                    traceback.format_exc(),
                    False,
                )
            )


def _error_reply(exc: BaseException, retire: bool) -> tuple[Any, ...]:
    """The reply for an exception of ``fn``, pickled apart so a bad one cannot break the pipe."""
    tb = "".join(traceback.format_exception(exc))
    try:
        exc_bytes: bytes | None = pickle.dumps(exc)
    except Exception:
        exc_bytes = None
    return ("raise", exc_bytes, type(exc).__qualname__, str(exc), tb, retire)


def _should_retire(retire_rss_kb: int) -> bool:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > retire_rss_kb


# --------------------------------------------------------------------------- parent side

# Starting and reaping processes touch multiprocessing's global child list and each
# process's exit-status pipe; one lock keeps two threads from reading the same status.
_process_lock = threading.Lock()


class _BadReply(Exception):
    pass


def _reap(process: Any, timeout: float) -> None:
    """Wait up to ``timeout`` for ``process`` to end and collect its exit code."""
    sentinel = getattr(process, "sentinel", None)
    if sentinel is not None:
        with contextlib.suppress(Exception):
            multiprocessing.connection.wait([sentinel], timeout)
    with _process_lock, contextlib.suppress(Exception):
        process.join(0)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, preload: Sequence[str], retire_rss_kb: int) -> None:
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=_worker_main,
            args=(child_conn, tuple(preload), retire_rss_kb),
            name="verifiers-worker",
            daemon=True,
        )
        with _process_lock:
            self.process.start()
        child_conn.close()
        self.ready = False
        self.tasks = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def wait_ready(self) -> None:
        if self.ready:
            return
        if not self.conn.poll(_START_TIMEOUT_S):
            raise WorkerCrashed(
                f"worker did not start within {_START_TIMEOUT_S:.0f} s", cause="exit"
            )
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            raise self.crashed(
                "while starting (see its stderr; a script using the pool needs an "
                "`if __name__ == '__main__':` guard)"
            ) from None
        if not (isinstance(message, tuple) and message and message[0] == "ready"):
            raise WorkerCrashed(f"worker sent {message!r} instead of 'ready'", cause="exit")
        self.ready = True

    def crashed(self, when: str) -> WorkerCrashed:
        """The error describing why the (now dead) process ended."""
        _reap(self.process, _JOIN_TIMEOUT_S)
        with _process_lock:
            code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = {
                "SIGKILL": " (the kernel's out-of-memory killer or an external kill)",
                "SIGSEGV": " (segmentation fault in C code)",
                "SIGABRT": " (aborted, often a failed allocation in C code)",
            }.get(name, "")
            return WorkerCrashed(
                f"worker process {self.pid} was killed by {name}{hint} {when}",
                cause="signal",
                exitcode=code,
            )
        return WorkerCrashed(
            f"worker process {self.pid} exited with code {code} {when}",
            cause="exit",
            exitcode=code,
        )

    def kill(self) -> None:
        """Send SIGKILL and close the pipe; do not wait (see :meth:`reap`)."""
        with _process_lock:
            running = self.process.exitcode is None
        if running:
            with contextlib.suppress(Exception):
                self.process.kill()
        with contextlib.suppress(Exception):
            self.conn.close()

    def stop(self) -> None:
        """Close the pipe: an idle worker reads EOF and exits. Does not wait."""
        with contextlib.suppress(Exception):
            self.conn.close()

    def reap(self, timeout: float = _JOIN_TIMEOUT_S) -> None:
        """Wait for the process to end (SIGKILL it if it lingers) and collect its status."""
        _reap(self.process, timeout)
        with _process_lock:
            running = self.process.exitcode is None
        if running:
            self.kill()
            _reap(self.process, timeout)

    def finished(self) -> bool:
        """True once the process has ended (non-blocking)."""
        with _process_lock:
            return self.process.exitcode is not None


class WorkerPool:
    """A thread-safe pool of killable worker processes. See the module docstring.

    Most callers use the module-level :func:`run_bounded` family, which share one
    pool; build your own for another size, preload list or recycling policy.
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        preload: Sequence[str] = PRELOAD_MODULES,
        max_tasks: int = DEFAULT_MAX_TASKS,
        retire_rss_mb: int = DEFAULT_RETIRE_RSS_MB,
    ) -> None:
        if size is not None and size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        if max_tasks < 1:
            raise ValueError(f"max_tasks must be at least 1, got {max_tasks}")
        self.size = size or os.cpu_count() or 1
        self.preload = tuple(preload)
        self.max_tasks = max_tasks
        self._retire_rss_kb = retire_rss_mb * 1024
        self._ctx = multiprocessing.get_context("forkserver")
        # Import these once in the fork server so each worker starts as a cheap fork.
        # Only effective if the fork server has not started yet; harmless otherwise.
        self._ctx.set_forkserver_preload(["__main__", __name__, *self.preload])
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._dying: list[_Worker] = []  # killed or stopped, not yet reaped
        self._starting = 0
        self._closed = False
        self._pid = os.getpid()

    # ---- bookkeeping (all under self._cond)

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerError("worker pool is shut down")
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    break
                self._cond.wait()
        worker = self._start_reserved()
        with self._cond:
            self._busy.add(worker)
        return worker

    def _start_reserved(self) -> _Worker:
        """Start a worker for a slot reserved by ``self._starting += 1``."""
        try:
            self._prune_dying()
            worker = _Worker(self._ctx, self.preload, self._retire_rss_kb)
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            if self._closed:
                worker.kill()
                self._dying.append(worker)
                raise WorkerError("worker pool is shut down")
        return worker

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        """Return a worker after a call; retire it (and start a replacement) if needed."""
        keep = healthy and worker.tasks < self.max_tasks
        with self._cond:
            self._busy.discard(worker)
            if keep and not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            if healthy:
                worker.stop()
            else:
                worker.kill()
            self._dying.append(worker)
            replace = not self._closed and len(self._busy) + len(self._idle) < self.size
            if replace:
                self._starting += 1
            self._cond.notify()
        if replace:
            with contextlib.suppress(Exception):  # a failed start is retried on demand
                fresh = self._start_reserved()
                with self._cond:
                    self._idle.append(fresh)
                    self._cond.notify()

    def _prune_dying(self) -> None:
        with self._cond:
            dying = list(self._dying)
        done = [w for w in dying if w.finished()]
        with self._cond:
            for worker in done:
                with contextlib.suppress(ValueError):
                    self._dying.remove(worker)

    def warm_up(self) -> None:
        """Start every worker now and wait until each is ready (SymPy imported)."""
        with self._cond:
            missing = self.size - len(self._busy) - len(self._idle) - self._starting
            missing = max(0, missing)
            self._starting += missing
        fresh = []
        for _ in range(missing):
            fresh.append(self._start_reserved())
        for worker in fresh:
            worker.wait_ready()
        with self._cond:
            self._idle.extend(fresh)
            self._cond.notify_all()

    # ---- public API

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
    ) -> Any:
        """Return ``fn(*args)`` computed in a worker; see :func:`run_bounded`."""
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if memory_mb is not None and memory_mb < 1:
            raise ValueError(f"memory_mb must be positive or None, got {memory_mb}")
        task = (fn, args, memory_mb)
        for attempt in range(3):
            worker = self._acquire()
            healthy = False
            try:
                worker.wait_ready()
                try:
                    worker.conn.send(task)
                except (BrokenPipeError, ConnectionResetError, EOFError):
                    # Died while idle (e.g. the OOM killer): nothing ran, try another.
                    if attempt == 2:
                        raise worker.crashed("before the task was sent") from None
                    continue
                except Exception:
                    healthy = True  # pickling the task failed before anything was written
                    raise
                worker.tasks += 1
                try:
                    reply = self._wait_reply(worker, timeout_s)
                except _BadReply as exc:
                    healthy = True
                    raise WorkerError(str(exc)) from exc.__cause__
                healthy = reply[0] != "memory" and not reply[-1]
                return self._unpack(reply, memory_mb)
            finally:
                self._release(worker, healthy=healthy)
        raise AssertionError("unreachable")

    def _wait_reply(self, worker: _Worker, timeout_s: float) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                worker.kill()
                raise WorkerTimeout(f"not done within {timeout_s:g} s; worker killed")
            if worker.conn.poll(remaining):
                break
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            raise worker.crashed("during the task") from None
        try:
            return pickle.loads(data)
        except Exception as exc:  # the message was read whole: the worker is still fine
            raise _BadReply(f"the worker's reply could not be unpickled: {exc!r}") from exc

    @staticmethod
    def _unpack(reply: tuple[Any, ...], memory_mb: int | None) -> Any:
        kind = reply[0]
        if kind == "ok":
            return reply[1]
        if kind == "memory":
            raise WorkerCrashed(
                f"worker ran out of memory (MemoryError) under its cap of {memory_mb} MB",
                cause="memory",
            ) from RemoteTraceback(reply[1])
        if kind == "raise":
            _, exc_bytes, type_name, message, tb, _retire = reply
            exc = None
            if exc_bytes is not None:
                with contextlib.suppress(Exception):
                    exc = pickle.loads(exc_bytes)
            if isinstance(exc, BaseException):
                raise exc from RemoteTraceback(tb)
            raise WorkerError(f"{type_name}: {message}") from RemoteTraceback(tb)
        raise WorkerError(f"unexpected reply from worker: {reply!r}")

    def map(
        self,
        fn: Callable[..., Any],
        args_list: Iterable[Sequence[Any]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
    ) -> list[Any]:
        """``[fn(*args) for args in args_list]`` in parallel on all workers, in order.

        Each item is the result or the exception instance the call raised
        (:class:`WorkerTimeout`, :class:`WorkerCrashed`, ``fn``'s own errors);
        ``timeout_s`` applies to each call on its own.
        """
        items = [tuple(args) for args in args_list]
        if not items:
            return []

        def one(args: tuple[Any, ...]) -> Any:
            try:
                return self.run(fn, *args, timeout_s=timeout_s, memory_mb=memory_mb)
            except Exception as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(self.size, len(items))) as executor:
            return list(executor.map(one, items))

    async def arun(
        self,
        fn: Callable[..., Any],
        *args: Any,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
    ) -> Any:
        """:meth:`run` without blocking the event loop (it waits in a thread).

        Cancelling the awaiting task does not stop the call early: the worker
        finishes or is killed at ``timeout_s``, and the result is dropped.
        """
        call = functools.partial(self.run, fn, *args, timeout_s=timeout_s, memory_mb=memory_mb)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    def pids(self) -> list[int]:
        """Process ids of the live workers (idle and busy), for diagnostics."""
        with self._cond:
            return [w.pid for w in (*self._idle, *self._busy) if w.pid is not None]

    def shutdown(self) -> None:
        """Stop every worker and wait for it to exit. Busy workers are killed."""
        with self._cond:
            self._closed = True
            idle, busy, dying = list(self._idle), list(self._busy), list(self._dying)
            self._idle.clear()
            self._dying.clear()
            self._cond.notify_all()
        if os.getpid() != self._pid:
            return  # inherited by a fork: these processes are not ours to stop
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()  # EOF: all idle workers start exiting at once
        for worker in (*busy, *idle, *dying):
            worker.reap()


# --------------------------------------------------------------------------- module API

_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> WorkerPool:
    """The shared module-level pool, created on first use."""
    global _pool
    pool = _pool
    if pool is not None:
        return pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool()
        return _pool


def warm_up() -> None:
    """Start the shared pool's workers now and wait until they are ready."""
    get_pool().warm_up()


def shutdown() -> None:
    """Stop the shared pool's workers. A later call starts a fresh pool."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown()


def _forget_pool_in_child() -> None:
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_pool_in_child)


def run_bounded(
    fn: Callable[..., Any],
    *args: Any,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> Any:
    """Return ``fn(*args)`` computed in a killable worker process.

    Raises :class:`WorkerTimeout` after ``timeout_s`` seconds of work (the worker is
    killed and replaced), :class:`WorkerCrashed` if the worker died or exceeded
    ``memory_mb`` of address space (``None``: no cap), and re-raises ``fn``'s own
    exceptions with the remote traceback as ``__cause__``.
    """
    return get_pool().run(fn, *args, timeout_s=timeout_s, memory_mb=memory_mb)


def map_bounded(
    fn: Callable[..., Any],
    args_list: Iterable[Sequence[Any]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> list[Any]:
    """Run ``fn(*args)`` for each args tuple on all cores; results (or exceptions) in order."""
    return get_pool().map(fn, args_list, timeout_s=timeout_s, memory_mb=memory_mb)


async def arun_bounded(
    fn: Callable[..., Any],
    *args: Any,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> Any:
    """Asyncio form of :func:`run_bounded`; does not block the event loop."""
    return await get_pool().arun(fn, *args, timeout_s=timeout_s, memory_mb=memory_mb)
