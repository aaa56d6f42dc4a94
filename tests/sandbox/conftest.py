"""A session-wide warm pool on the real Docker daemon. No mocks: when Docker or the image is
missing these tests FAIL with the command that fixes it; they never skip."""

from __future__ import annotations

import textwrap

import pytest

from sandbox.errors import SandboxUnavailable
from sandbox.job import Job, JobResult
from sandbox.pool import SandboxPool

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def pool():
    try:
        p = SandboxPool(2, preflight=True)
    except SandboxUnavailable as exc:
        pytest.fail(f"the sandbox is unavailable: {exc}", pytrace=False)
    yield p
    p.close()


def py(code: str, **kwargs) -> Job:
    """A job running `code` as main.py."""
    return Job(files={"main.py": textwrap.dedent(code)}, argv=["python3", "main.py"], **kwargs)


CLEAN_CHECK = py(
    """
    import json, os, time
    time.sleep(0.3)  # overlap, so each container of the pool gets one
    me = os.getpid()
    procs = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me)
    cmdlines = {p: open(f"/proc/{p}/cmdline", "rb").read().split(b"\\0") for p in procs}
    zygotes = [p for p, cmd in cmdlines.items() if b"--zygote" in cmd]
    files = {d: sorted(os.listdir(d)) for d in ("/work", "/tmp", "/dev/shm", "/dev/mqueue")}
    files["job"] = sorted(os.listdir("."))
    shm = open("/proc/sysvipc/shm").read().splitlines()[1:]
    print(json.dumps({"procs": procs, "zygotes": zygotes, "files": files, "shm": shm}))
    """
)


def assert_healthy(pool: SandboxPool) -> None:
    """Every container of the pool runs a normal job, and nothing of earlier jobs is left."""
    import json

    for result in pool.run_many([CLEAN_CHECK] * pool.size):
        assert result.exit_code == 0, result.stderr
        state = json.loads(result.stdout)
        # Only the runner (PID 1) and its zygote besides us: nothing of earlier jobs.
        assert len(state["zygotes"]) <= 1, state
        assert state["procs"] == sorted([1, *state["zygotes"]]), state
        assert state["files"] == {
            "/work": ["job"],
            "/tmp": [],
            "/dev/shm": [],
            "/dev/mqueue": [],
            "job": ["main.py"],
        }
        assert state["shm"] == []


def ok(result: JobResult) -> JobResult:
    assert result.exit_code == 0, (result.exit_code, result.signal, result.stderr[-2000:])
    return result
