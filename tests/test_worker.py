"""The killable worker pool, with real processes (no mocks)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from verifiers.worker import (
    RemoteTraceback,
    WorkerCrashed,
    WorkerError,
    WorkerPool,
    WorkerTimeout,
    arun_bounded,
    get_pool,
    map_bounded,
    run_bounded,
    shutdown,
    warm_up,
)

# ---- functions the workers run (module level, so they pickle by reference)


def add(a, b):
    return a + b


def simplify(text):
    import sympy

    return sympy.simplify(sympy.sympify(text))


def raise_value_error(message):
    raise ValueError(message)


class UnpicklableError(Exception):
    def __init__(self):
        super().__init__("cannot travel")
        self.lock = threading.Lock()


def raise_unpicklable():
    raise UnpicklableError()


def spin_forever():
    while True:
        pass


def big_power():
    return pow(10, 10**10)  # C big-int work: ignores signals, needs ~4 GB and hours


def allocate_mb(mb):
    return len(bytearray(mb * 1024 * 1024))


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def segfault():
    ctypes.string_at(0)


def sleep_then_return(seconds, value):
    time.sleep(seconds)
    return value


def getpid():
    return os.getpid()


# ---- helpers


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def gone_soon(pid: int, within_s: float = 3.0) -> bool:
    """True once the process has ended and been reaped (a killed worker dies asynchronously)."""
    deadline = time.monotonic() + within_s
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture(scope="module", autouse=True)
def _shared_pool():
    warm_up()
    yield
    shutdown()


@pytest.fixture
def solo_pool():
    pool = WorkerPool(size=1)
    yield pool
    pool.shutdown()


# ---- results and errors


def test_result_round_trip():
    assert run_bounded(add, 2, 3) == 5
    assert str(run_bounded(simplify, "sin(x)**2 + cos(x)**2")) == "1"


def test_exception_of_fn_is_re_raised_with_remote_traceback():
    with pytest.raises(ValueError, match="no good") as info:
        run_bounded(raise_value_error, "no good")
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "raise_value_error" in cause.tb


def test_unpicklable_exception_becomes_worker_error():
    with pytest.raises(WorkerError, match="UnpicklableError: cannot travel") as info:
        run_bounded(raise_unpicklable)
    assert not isinstance(info.value, (WorkerTimeout, WorkerCrashed))


def test_unpicklable_task_fails_in_caller_and_pool_survives():
    with pytest.raises(Exception, match=r"pickle|lambda"):
        run_bounded(lambda: 1)
    assert run_bounded(add, 1, 1) == 2


# ---- timeouts


@pytest.mark.parametrize("fn", [spin_forever, big_power], ids=["python-loop", "c-bigint"])
def test_timeout_kills_the_worker_in_time(fn, solo_pool):
    pid_before = solo_pool.run(getpid)
    start = time.monotonic()
    with pytest.raises(WorkerTimeout):
        solo_pool.run(fn, timeout_s=0.5)
    assert time.monotonic() - start < 0.5 + 1.0
    assert gone_soon(pid_before)
    # The pool still works, on a fresh worker.
    assert solo_pool.run(add, 20, 22) == 42
    assert solo_pool.run(getpid) != pid_before


def test_timeout_is_a_timeout_error():
    with pytest.raises(TimeoutError):
        run_bounded(spin_forever, timeout_s=0.2)


# ---- crashes and the memory cap


def test_memory_cap_maps_to_worker_crashed_and_caller_survives():
    start = time.monotonic()
    with pytest.raises(WorkerCrashed, match="memory") as info:
        run_bounded(allocate_mb, 4096, memory_mb=1024)
    assert info.value.cause == "memory"
    assert time.monotonic() - start < 5
    assert run_bounded(add, 1, 2) == 3


def test_memory_cap_is_per_call():
    with pytest.raises(WorkerCrashed):
        run_bounded(allocate_mb, 300, memory_mb=200)
    assert run_bounded(allocate_mb, 300, memory_mb=1024) == 300 * 1024 * 1024


@pytest.mark.parametrize(("fn", "signal_name"), [(kill_self, "SIGKILL"), (segfault, "SIGSEGV")])
def test_killed_worker_is_reported_with_its_signal(fn, signal_name):
    with pytest.raises(WorkerCrashed, match=signal_name) as info:
        run_bounded(fn)
    assert info.value.cause == "signal"
    assert run_bounded(add, 2, 2) == 4


# ---- concurrency


def test_calls_from_eight_threads_at_once():
    results: dict[int, object] = {}

    def call(i: int) -> None:
        try:
            results[i] = run_bounded(sleep_then_return, 0.05, i * i)
        except Exception as exc:  # recorded and asserted below
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {i: i * i for i in range(8)}


def test_asyncio_does_not_block_the_event_loop():
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        results = await asyncio.gather(*(arun_bounded(add, i, 1) for i in range(4)))
        slow = await arun_bounded(sleep_then_return, 0.4, "done")
        task.cancel()
        return results, slow, ticks

    results, slow, ticks = asyncio.run(main())
    assert results == [1, 2, 3, 4]
    assert slow == "done"
    assert ticks >= 5


def test_map_bounded_keeps_order_runs_in_parallel_and_returns_exceptions():
    size = get_pool().size
    n = 2 * size
    start = time.monotonic()
    results = map_bounded(sleep_then_return, [(0.3, i) for i in range(n)])
    elapsed = time.monotonic() - start
    assert results == list(range(n))
    assert elapsed < 0.3 * n * 0.75 or size == 1

    mixed = map_bounded(add, [(1, 2), (3, "x"), (5, 6)], timeout_s=2)
    assert mixed[0] == 3 and mixed[2] == 11
    assert isinstance(mixed[1], TypeError)

    timed = map_bounded(sleep_then_return, [(0.0, "a"), (5.0, "b")], timeout_s=0.3)
    assert timed[0] == "a"
    assert isinstance(timed[1], WorkerTimeout)


# ---- lifecycle


def test_workers_recycle_after_max_tasks():
    pool = WorkerPool(size=1, max_tasks=3)
    try:
        pids = [pool.run(getpid) for _ in range(7)]
    finally:
        pool.shutdown()
    assert pids[0] == pids[1] == pids[2]
    assert pids[3] == pids[4] == pids[5]
    assert len(set(pids)) == 3


def test_no_worker_left_after_shutdown_and_pool_restarts():
    pool = WorkerPool(size=2)
    pool.warm_up()
    pids = pool.pids()
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    with pytest.raises(WorkerTimeout):
        pool.run(spin_forever, timeout_s=0.2)
    pids += pool.pids()
    pool.shutdown()
    assert not any(alive(pid) for pid in pids)
    with pytest.raises(WorkerError, match="shut down"):
        pool.run(add, 1, 1)

    # The shared pool comes back after a module-level shutdown.
    old = get_pool().pids()
    shutdown()
    assert not any(alive(pid) for pid in old)
    assert run_bounded(add, 1, 1) == 2


def test_caller_memory_does_not_grow_with_calls():
    def rss_kb() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    for _ in range(200):
        run_bounded(add, "x" * 10_000, "y")
    before = rss_kb()
    for _ in range(2000):
        run_bounded(add, "x" * 10_000, "y")
    assert rss_kb() - before < 10_000


# ---- the zygote


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_workers_come_from_a_zygote_running_the_worker_module(solo_pool):
    worker_pid = solo_pool.run(getpid)
    zygote = solo_pool.zygote_pid()
    assert cmdline(zygote)[1:3] == ["-m", "verifiers.worker"]
    assert int(Path(f"/proc/{worker_pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == zygote


def test_a_killed_zygote_is_replaced_on_the_next_call(solo_pool):
    assert solo_pool.run(add, 1, 2) == 3
    zygote, worker = solo_pool.zygote_pid(), solo_pool.pids()[0]
    os.kill(zygote, signal.SIGKILL)
    assert gone_soon(worker)
    assert solo_pool.run(add, 2, 3) == 5
    assert solo_pool.zygote_pid() != zygote


def test_a_module_on_a_path_added_after_the_pool_started_is_found(solo_pool, tmp_path):
    solo_pool.run(add, 1, 1)  # the zygote is up with the old sys.path
    (tmp_path / "late_module_for_worker_test.py").write_text("def triple(x):\n    return 3 * x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        from late_module_for_worker_test import triple

        assert solo_pool.run(triple, 5) == 15
    finally:
        sys.path.remove(str(tmp_path))


def test_forked_child_gets_its_own_pool_and_leaves_the_parents_alone(solo_pool):
    parent_worker = solo_pool.run(getpid)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read)
            pid = solo_pool.run(getpid)
            os.write(write, f"{pid} {solo_pool.zygote_pid()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child_worker, child_zygote = map(int, f.read().split())
    os.waitpid(child, 0)
    assert child_worker != parent_worker
    assert child_zygote != solo_pool.zygote_pid()
    assert gone_soon(child_worker) and gone_soon(child_zygote)  # the child's pool ended with it
    assert solo_pool.run(getpid) == parent_worker


def test_the_worker_module_is_not_meant_to_be_run_by_hand():
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "verifiers.worker"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "started by the pool" in result.stderr
