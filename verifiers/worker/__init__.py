"""A killable, bounded pool of worker processes for math checks.

SymPy work can hang or eat all memory, and big-integer C code (``pow(10, 10**10)``)
ignores signal-based timeouts, which also only work in the main thread. So every
bounded call runs in a separate, persistent worker process that the *caller* can
kill: the caller waits on the worker's socket with a deadline and has it SIGKILLed
when it passes. That works from any thread, from asyncio and inside a server.

    from verifiers.worker import run_bounded, map_bounded, arun_bounded
    result = run_bounded(fn, *args, timeout_s=5.0, memory_mb=1024)

``fn`` must be a function of an importable module (not of the main script); its
arguments and result must be picklable. ``warm_up()`` starts the workers ahead of
time (the first call otherwise pays about a second to import SymPy).

**Any process model.** Workers are started as their own program,
``python -m verifiers.worker`` (a *zygote* that imports SymPy once and forks a
worker on request, see :mod:`verifiers.worker.serve`), never through
``multiprocessing``: the caller's ``__main__`` is never imported or run, so a script
without an ``if __name__ == "__main__":`` guard runs its top level once, and a
script read from stdin works. There is one pool per process: after ``os.fork``
(``multiprocessing`` fork context, ``datasets.map(num_proc=N)``,
``ProcessPoolExecutor``, a torch ``DataLoader`` with workers) the child forgets the
inherited pool without touching the parent's workers and starts its own on first
use; ``spawn``/``forkserver`` children start theirs likewise. Pools start lazily and
are shut down at interpreter exit; a caller that dies (even by SIGKILL) takes its
zygote and workers with it.

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

Design: one lazily created :class:`WorkerPool` per process of as many persistent
workers as usable CPUs. The memory cap is ``RLIMIT_AS`` (total address space of
the worker, interpreter and SymPy included, about 75 MB), set as the soft limit in
the worker before each task, so one pool serves every ``memory_mb``. Workers
retire after ``max_tasks`` tasks or once their peak RSS passes ``retire_rss_mb``,
and are replaced. Idle workers wait in a lock-protected list, so any number of
threads may call at once; at most ``size`` calls run in parallel and the rest wait
their turn (the wait is not counted in ``timeout_s``).
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from verifiers.worker.errors import RemoteTraceback, WorkerCrashed, WorkerError, WorkerTimeout
from verifiers.worker.pool import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, WorkerPool

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

_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> WorkerPool:
    """This process's shared pool, created on first use."""
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


def _new_lock_in_child() -> None:
    # A parent thread may have held the lock when the process forked.
    global _pool_lock
    _pool_lock = threading.Lock()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_new_lock_in_child)


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
    exceptions with the remote traceback as ``__cause__``. ``ValueError`` if ``fn``
    is defined in the main script.
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
