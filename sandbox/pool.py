"""A warm pool of sandbox containers, each running the runner as PID 1 behind `docker run -i`.

The parent speaks JSON lines to each container over the attached stdin/stdout. A container is
recycled (killed and replaced in the background) after a job that broke a limit (timeout,
memory), after runner doubt, and after `max_jobs_per_container` jobs. An infra failure
(container died, protocol garbage, no reply) is retried once on a fresh container, then raised
as `SandboxInfraError`. Containers carry the owner's `host:pid:start` label; a pool reaps the
containers of dead owners when it starts, and a container whose parent dies sees EOF on stdin
and exits by itself.

A pool belongs to the process that started it. A forked child (multiprocessing's fork context,
`datasets.map(num_proc=N)`) forgets the inherited pools at fork time - it closes its copies of
their pipes and never waits on, kills or removes the parent's containers - and
`default_pool()` starts the child's own pool on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import os
import secrets
import selectors
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from pydantic import ValidationError

from sandbox import docker_api
from sandbox.build import resolve_image
from sandbox.errors import SandboxError, SandboxInfraError, SandboxUnavailable
from sandbox.job import Job, JobResult
from sandbox.limits import (
    LABEL,
    OWNER_LABEL,
    ContainerLimits,
    docker_run_args,
    owner_alive,
    owner_id,
)

PROTOCOL = 1
START_TIMEOUT_S = 60.0
REPLY_GRACE_S = 30.0
"""Time the runner gets beyond the job's timeout to kill, reap, wipe and reply."""

_names = itertools.count()


class _ContainerFailed(Exception):
    """Infra failure of one container; the pool retries on a fresh one."""


class _JobNotSetUp(_ContainerFailed):
    """The runner could not write the job's files: doubt about the container (an earlier job
    may have poisoned it), so it is replaced and the job retried once on a fresh one."""


class _Container:
    """One warm container: a `docker run -i` process speaking the runner protocol."""

    def __init__(self, image: str, limits: ContainerLimits, owner: str) -> None:
        self.image = image
        self.name = f"factory-sandbox-{os.getpid()}-{next(_names)}-{secrets.token_hex(3)}"
        self.jobs = 0
        self.id = self.name
        self._buf = bytearray()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in wait_closed/kill
        with tempfile.TemporaryDirectory(prefix="factory-sandbox-cid-") as tmp:
            cidfile = os.path.join(tmp, "cid")
            cmd = ["docker", "run", "-i", "--rm", "--sig-proxy=false", "--cidfile", cidfile]
            cmd += docker_run_args(limits, name=self.name, owner=owner)
            cmd.append(image)
            try:
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self._stderr,
                    start_new_session=True,  # Ctrl-C in a terminal reaches us, not the CLI
                    env=_cli_env(),
                )
            except FileNotFoundError as exc:
                raise SandboxUnavailable(docker_api.NO_DOCKER_CLI.line()) from exc
            _live_containers.add(self)
            try:
                ready = self._read_message(time.monotonic() + START_TIMEOUT_S)
                if not ready.get("ready") or ready.get("protocol") != PROTOCOL:
                    raise _ContainerFailed(f"runner protocol mismatch: {ready}")
            except BaseException:
                self.kill()
                raise
            try:
                with open(cidfile) as f:
                    self.id = f.read().strip()[:12] or self.name
            except OSError:
                pass

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return " ".join(self._stderr.read()[-600:].decode("utf-8", "replace").split())

    def _read_message(self, deadline: float) -> dict:
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                i = self._buf.find(b"\n")
                if i >= 0:
                    line = bytes(self._buf[:i])
                    del self._buf[: i + 1]
                    try:
                        message = json.loads(line)
                    except ValueError as exc:
                        raise _ContainerFailed(f"protocol garbage: {line[:200]!r}") from exc
                    if not isinstance(message, dict):
                        raise _ContainerFailed(f"protocol garbage: {line[:200]!r}")
                    return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _ContainerFailed("the runner did not answer in time")
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._proc.wait(timeout=30)
                    raise _ContainerFailed(
                        f"container exited (code {self._proc.returncode}): {self._stderr_tail()}"
                    )
                self._buf += chunk

    def run(self, job: Job) -> dict:
        self.jobs += 1
        request = json.dumps({"op": "run", "job": job.model_dump()}, separators=(",", ":"))
        try:
            self._proc.stdin.write(request.encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _ContainerFailed(f"container is gone: {exc}; {self._stderr_tail()}") from exc
        reply = self._read_message(time.monotonic() + job.timeout_s + REPLY_GRACE_S)
        if reply.get("job_error"):
            raise _JobNotSetUp(f"the job cannot be set up: {reply['job_error']}")
        if not reply.get("ok") or not isinstance(reply.get("result"), dict):
            raise _ContainerFailed(f"runner error: {str(reply.get('error', reply))[:500]}")
        return reply["result"]

    def close(self) -> None:
        """Ask the runner to exit (EOF on its stdin); --rm removes the container."""
        with contextlib.suppress(OSError):
            self._proc.stdin.close()

    def wait_closed(self, timeout: float = 20.0) -> None:
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        finally:
            self._stderr.close()

    def forget_in_child(self) -> None:
        """In a forked child: release the inherited pipe ends, leave the container alone.

        The fds are pointed at /dev/null rather than closed, so the file objects' own
        (later) close or flush can never hit an fd the child has reused since.
        """
        for pipe in (self._proc.stdin, self._proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                _point_at_devnull(pipe.fileno())
        self._proc.returncode = 0  # never waited on or killed from the child

    def kill(self) -> None:
        """Remove the container by force and end the CLI process."""
        self.close()
        with contextlib.suppress(SandboxError):
            docker_api.remove_container(self.name)
        try:
            self._proc.kill()
            self._proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _point_at_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _cli_env() -> dict[str, str]:
    """Env for the docker CLI process (host side; the container never sees it)."""
    return {k: v for k, v in os.environ.items() if k.startswith("DOCKER_") or k in ("PATH", "HOME")}


def _raise_unavailable_if_docker_is_gone() -> None:
    problem = docker_api.diagnose_daemon()
    if problem is not None:
        raise SandboxUnavailable(problem.line())


def reap_orphans() -> list[str]:
    """Remove sandbox containers whose owner process on this host is gone. Returns their names."""
    reaped = []
    for c in docker_api.list_containers(f"{LABEL}=1"):
        if not owner_alive(c.get(OWNER_LABEL, "")):
            docker_api.remove_container(c["id"])
            reaped.append(c["name"])
    return reaped


class _Slot:
    """A place in the pool; its container may still be starting in the background."""

    def __init__(self, future: Future[_Container]) -> None:
        self.future = future


_live_pools: weakref.WeakSet[SandboxPool] = weakref.WeakSet()
_live_containers: weakref.WeakSet[_Container] = weakref.WeakSet()


class SandboxPool:
    """Warm containers that run `Job`s. Thread-safe; `arun` for asyncio."""

    def __init__(
        self,
        size: int | None = None,
        *,
        image: str | None = None,
        max_jobs_per_container: int = 200,
        preflight: bool = True,
        limits: ContainerLimits | None = None,
    ) -> None:
        self.size = size or os.cpu_count() or 1
        self.image = image or resolve_image()
        if image is not None and not docker_api.image_exists(image):
            raise SandboxUnavailable(f"the image {image} is absent; fix: {docker_api.BUILD_IMAGE}")
        self.max_jobs_per_container = max_jobs_per_container
        self.limits = limits or ContainerLimits()
        self._owner = owner_id()
        self._pid = os.getpid()
        self._closed = False
        self._lock = threading.Lock()
        self._starter = ThreadPoolExecutor(self.size, thread_name_prefix="sandbox-start")
        self._jobs = ThreadPoolExecutor(self.size, thread_name_prefix="sandbox-job")
        self._idle: list[_Slot] = []
        self._available = threading.Condition(self._lock)
        self._retired: list[Future[None]] = []
        reap_orphans()
        self._slots = [_Slot(self._starter.submit(self._start)) for _ in range(self.size)]
        self._idle = list(self._slots)
        _live_pools.add(self)
        try:
            for slot in self._slots:
                self._container(slot)
            if preflight:
                from sandbox.preflight import run_preflight

                run_preflight(self)
        except BaseException:
            self.close()
            raise

    # -- containers -------------------------------------------------------------------------

    def _start(self) -> _Container:
        return _Container(self.image, self.limits, self._owner)

    def _container(self, slot: _Slot) -> _Container:
        try:
            return slot.future.result()
        except _ContainerFailed:
            slot.future = self._starter.submit(self._start)
            try:
                return slot.future.result()
            except _ContainerFailed as exc:
                _raise_unavailable_if_docker_is_gone()
                raise SandboxInfraError(f"cannot start a sandbox container: {exc}") from exc

    def _replace(self, slot: _Slot, old: _Container, *, force: bool) -> None:
        """Retire `old` in the background and start a fresh container for `slot`."""
        slot.future = self._starter.submit(self._start)
        if not force:
            old.close()
        retiring = self._starter.submit(old.kill if force else old.wait_closed)
        with self._lock:
            self._retired = [f for f in self._retired if not f.done()] + [retiring]

    def _acquire(self) -> _Slot:
        with self._available:
            while not self._idle:
                if self._closed:
                    raise SandboxError("the sandbox pool is closed")
                self._available.wait()
            if self._closed:
                raise SandboxError("the sandbox pool is closed")
            return self._idle.pop()

    def _release(self, slot: _Slot) -> None:
        with self._available:
            self._idle.append(slot)
            self._available.notify()

    # -- running ----------------------------------------------------------------------------

    def run(self, job: Job) -> JobResult:
        """Run one job on a warm container; blocks until done. Safe from many threads."""
        if self._pid != os.getpid():
            raise SandboxError(
                f"this sandbox pool belongs to process {self._pid}; a forked child needs its "
                "own (default_pool() starts one)"
            )
        slot = self._acquire()
        try:
            for attempt in (1, 2):
                container = self._container(slot)
                try:
                    raw = container.run(job)
                    doubt = raw.pop("doubt", None)
                    result = JobResult(
                        **raw, image=self.image, container_id=container.id, recycled=False
                    )
                except (_ContainerFailed, ValidationError) as exc:
                    self._replace(slot, container, force=True)
                    if attempt == 2:
                        if isinstance(exc, _JobNotSetUp):
                            raise SandboxError(str(exc)) from exc
                        _raise_unavailable_if_docker_is_gone()
                        raise SandboxInfraError(f"sandbox failed twice: {exc}") from exc
                    continue
                result.recycled = bool(
                    result.timed_out
                    or result.memory_exceeded
                    or doubt
                    or container.jobs >= self.max_jobs_per_container
                )
                if result.recycled:
                    self._replace(slot, container, force=bool(doubt))
                return result
            raise AssertionError("unreachable")
        finally:
            self._release(slot)

    async def arun(self, job: Job) -> JobResult:
        """Run one job without blocking the event loop."""
        try:
            future = asyncio.get_running_loop().run_in_executor(self._jobs, self.run, job)
        except RuntimeError as exc:  # the executor is shut down
            raise SandboxError("the sandbox pool is closed") from exc
        return await future

    def run_many(self, jobs: Sequence[Job]) -> list[JobResult]:
        """Run jobs concurrently on the pool; results in the order of `jobs`."""
        try:
            return list(self._jobs.map(self.run, jobs))
        except RuntimeError as exc:
            if self._closed:
                raise SandboxError("the sandbox pool is closed") from exc
            raise

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every container (waits for their removal). Idempotent."""
        with self._available:
            if self._closed:
                return
            self._closed = True
            self._available.notify_all()
        self._jobs.shutdown(wait=True, cancel_futures=True)
        containers = []
        for slot in self._slots:
            # A container that never started needs no stop.
            with contextlib.suppress(Exception):
                containers.append(slot.future.result(timeout=START_TIMEOUT_S))
        for c in containers:
            c.close()
        for c in containers:
            c.wait_closed()
        for f in self._retired:
            # Best effort; orphans are reaped when the next pool starts.
            with contextlib.suppress(Exception):
                f.result(timeout=30)
        self._starter.shutdown(wait=True)
        _live_pools.discard(self)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: SandboxPool | None = None
_default_lock = threading.Lock()


def default_pool() -> SandboxPool:
    """The process-wide pool, started on first use and closed at exit."""
    global _default
    with _default_lock:
        if _default is None or _default._closed or _default._pid != os.getpid():
            _default = SandboxPool()
        return _default


@atexit.register
def _close_all() -> None:
    for pool in list(_live_pools):
        pool.close()


def _forget_inherited() -> None:
    """After fork, in the child: the parent's pools and containers are not ours (no locks:
    a parent thread may have held one at fork time)."""
    global _default, _default_lock
    _default = None
    _default_lock = threading.Lock()
    for pool in list(_live_pools):
        pool._closed = True
    _live_pools.clear()
    for container in list(_live_containers):
        container.forget_in_child()
    _live_containers.clear()


os.register_at_fork(after_in_child=_forget_inherited)
