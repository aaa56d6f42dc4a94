"""The pool: killable worker processes forked by this process's zygote.

See :mod:`verifiers.worker` for the public API and guarantees. A pool belongs to
the process that uses it: after ``os.fork`` (``multiprocessing``'s fork context,
``datasets.map(num_proc=N)``, a torch ``DataLoader`` with workers) the child's
copy drops what it inherited - without touching the parent's workers - and starts
its own zygote on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import pickle
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from verifiers.worker.errors import RemoteTraceback, WorkerCrashed, WorkerError, WorkerTimeout
from verifiers.worker.zygote import ZygoteHandle

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_MEMORY_MB = 1024
DEFAULT_MAX_TASKS = 1000
DEFAULT_RETIRE_RSS_MB = 768
PRELOAD_MODULES = ("sympy",)
_STATUS_WAIT_S = 2.0


def default_size() -> int:
    """The CPUs this process may run on (``taskset``, cgroups' cpusets), at least 1."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _BadReply(Exception):
    pass


class _Worker:
    """One worker process (forked by the zygote) and the caller's end of its connection."""

    def __init__(self, zygote: ZygoteHandle) -> None:
        self.zygote = zygote
        self.generation = zygote.generation
        self.pid, self.conn = zygote.fork_worker()
        self.tasks = 0

    def stale(self) -> bool:
        """True once the zygote's ``sys.path`` has changed since this worker was forked."""
        return self.generation != self.zygote.generation

    def crashed(self, when: str) -> WorkerCrashed:
        """The error describing why the (now dead) process ended."""
        with contextlib.suppress(WorkerError):
            code = self.zygote.status(self.pid, _STATUS_WAIT_S)
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
        return WorkerCrashed(f"worker process {self.pid} ended {when}", cause="exit")

    def kill(self) -> None:
        """SIGKILL the process (the zygote reaps it) and close the connection."""
        with contextlib.suppress(WorkerError):
            self.zygote.kill(self.pid)
        self.close()

    def close(self) -> None:
        """Close the connection: an idle worker reads EOF and exits. Does not wait."""
        with contextlib.suppress(OSError):
            self.conn.close()


_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


class WorkerPool:
    """A thread-safe pool of killable worker processes. See :mod:`verifiers.worker`.

    Most callers use the module-level :func:`~verifiers.worker.run_bounded` family,
    which share one pool; build your own for another size, preload list or
    recycling policy.
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
        self.size = size or default_size()
        self.preload = tuple(preload)
        self.max_tasks = max_tasks
        self._retire_rss_kb = retire_rss_mb * 1024
        self._closed = False
        self._fresh_state()
        _live_pools.add(self)

    def _fresh_state(self) -> None:
        """Empty bookkeeping owned by the current process (new locks: none is held)."""
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._zygote_lock = threading.Lock()
        self._zygote: ZygoteHandle | None = None
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0

    def forget_inherited(self) -> None:
        """In a forked child: drop the parent's zygote and workers, leave them running.

        Closes this process's copies of their sockets (so the parent's workers still see
        EOF when the parent is done) without locks, waits or kills: the parent owns them.
        """
        if self._pid == os.getpid():
            return
        for worker in (*self._idle, *self._busy):
            worker.close()
        if self._zygote is not None:
            self._zygote.abandon()
        self._fresh_state()

    # ---- bookkeeping (all under self._cond)

    def _zygote_handle(self) -> ZygoteHandle:
        with self._zygote_lock:
            dead = self._zygote is not None and self._zygote.process.poll() is not None
            if dead:
                # Killed from outside (its workers died with it): drop them, start afresh.
                with self._cond:
                    orphans = [w for w in self._idle if w.zygote is self._zygote]
                    self._idle = [w for w in self._idle if w.zygote is not self._zygote]
                for worker in orphans:
                    worker.close()
                self._zygote = None
            if self._zygote is None:
                self._zygote = ZygoteHandle(self.preload, self._retire_rss_kb)
            return self._zygote

    def _acquire(self) -> _Worker:
        self.forget_inherited()  # a fork without the at-fork hook (e.g. a raw clone)
        stale: list[_Worker] = []
        worker: _Worker | None = None
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerError("worker pool is shut down")
                while self._idle and self._idle[-1].stale():
                    stale.append(self._idle.pop())
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    break
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    break
                self._cond.wait()
        for old in stale:
            old.close()  # EOF: it exits; its slot is free again
        if worker is not None:
            return worker
        worker = self._start_reserved()
        with self._cond:
            self._busy.add(worker)
        return worker

    def _start_reserved(self) -> _Worker:
        """Start a worker for a slot reserved by ``self._starting += 1``."""
        try:
            worker = _Worker(self._zygote_handle())
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            if self._closed:
                worker.kill()
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
            replace = not self._closed and len(self._busy) + len(self._idle) < self.size
            if replace:
                self._starting += 1
            self._cond.notify()
        if healthy:
            worker.close()
        else:
            worker.kill()
        if replace:
            with contextlib.suppress(Exception):  # a failed start is retried on demand
                fresh = self._start_reserved()
                with self._cond:
                    self._idle.append(fresh)
                    self._cond.notify()

    def warm_up(self) -> None:
        """Start the zygote and every worker now (SymPy is imported once, in the zygote)."""
        self.forget_inherited()
        self._zygote_handle()
        with self._cond:
            missing = max(0, self.size - len(self._busy) - len(self._idle) - self._starting)
            self._starting += missing
        fresh = [self._start_reserved() for _ in range(missing)]
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
        """Return ``fn(*args)`` computed in a worker; see :func:`~verifiers.worker.run_bounded`."""
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if memory_mb is not None and memory_mb < 1:
            raise ValueError(f"memory_mb must be positive or None, got {memory_mb}")
        module = getattr(fn, "__module__", None)
        if module == "__main__":
            raise ValueError(
                f"{getattr(fn, '__qualname__', fn)!r} is defined in the main script; the "
                "worker never imports the caller's __main__, so define it in a module"
            )
        task = pickle.dumps((fn, args, memory_mb))
        if isinstance(module, str):
            self.forget_inherited()
            # Workers forked from now on start with fn's module imported.
            self._zygote_handle().import_module(module)
        for attempt in range(3):
            worker = self._acquire()
            healthy = False
            try:
                try:
                    worker.conn.send_bytes(task)
                except (BrokenPipeError, ConnectionResetError, EOFError):
                    # Died while idle (e.g. the OOM killer): nothing ran, try another.
                    if attempt == 2:
                        raise worker.crashed("before the task was sent") from None
                    continue
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
        conn: Connection = worker.conn
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                worker.kill()
                raise WorkerTimeout(f"not done within {timeout_s:g} s; worker killed")
            if conn.poll(remaining):
                break
        try:
            data = conn.recv_bytes()
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
        """Process ids of this process's live workers (idle and busy), for diagnostics."""
        self.forget_inherited()
        with self._cond:
            return [w.pid for w in (*self._idle, *self._busy)]

    def zygote_pid(self) -> int | None:
        """Process id of this process's zygote, if started (diagnostics)."""
        self.forget_inherited()
        zygote = self._zygote
        return None if zygote is None else zygote.process.pid

    def shutdown(self) -> None:
        """Stop every worker and the zygote and wait for them to exit. Busy workers are killed.

        In a forked child this stops only the child's own workers, never the parent's.
        """
        self.forget_inherited()
        with self._cond:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._cond.notify_all()
        with self._zygote_lock:
            zygote, self._zygote = self._zygote, None
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.close()  # EOF: all idle workers start exiting at once
        if zygote is not None:
            zygote.close()  # it reaps every worker before it exits


def _forget_inherited_pools() -> None:
    for pool in list(_live_pools):
        pool.forget_inherited()


os.register_at_fork(after_in_child=_forget_inherited_pools)
