"""The warm pool: concurrency, recycling, infra retry, orphan reaping, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox import docker_api
from sandbox.errors import SandboxError, SandboxInfraError
from sandbox.limits import LABEL, OWNER_LABEL, owner_id
from sandbox.pool import SandboxPool, reap_orphans
from tests.sandbox.conftest import assert_healthy, ok, py

pytestmark = pytest.mark.docker

SLEEPY = py("import time, os\ntime.sleep(0.3)\nprint(os.getpid())\n")


def _ours() -> list[dict]:
    return [
        c
        for c in docker_api.list_containers(f"{LABEL}=1")
        if c.get(OWNER_LABEL, "").split(":")[1:2] == [str(os.getpid())]
    ]


def test_result_names_the_digest_image(pool):
    result = ok(pool.run(py("print('hi')")))
    assert re.fullmatch(r"factory-sandbox:[0-9a-f]{12}", result.image)
    assert result.stdout == "hi\n" and result.container_id and not result.recycled


def test_threads_share_the_pool(pool):
    started = time.monotonic()
    with ThreadPoolExecutor(6) as ex:
        results = list(ex.map(pool.run, [SLEEPY] * 8))
    elapsed = time.monotonic() - started
    assert all(r.exit_code == 0 for r in results)
    assert len({r.container_id for r in results}) == pool.size
    assert elapsed < 8 * 0.3  # ran in parallel on both containers


def test_asyncio_does_not_block_the_loop(pool):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        t = asyncio.create_task(ticker())
        results = await asyncio.gather(*(pool.arun(SLEEPY) for _ in range(6)))
        t.cancel()
        return results, ticks

    results, ticks = asyncio.run(main())
    assert all(r.exit_code == 0 for r in results)
    assert ticks >= 10  # the loop kept running while jobs ran


def test_run_many_keeps_order(pool):
    results = pool.run_many([py(f"print({i})") for i in range(10)])
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(10)]


def test_recycles_after_max_jobs_and_after_a_timeout():
    with SandboxPool(1, max_jobs_per_container=2, preflight=False) as small:
        ids = [small.run(py("print(1)")) for _ in range(3)]
        assert [r.recycled for r in ids] == [False, True, False]
        assert ids[0].container_id == ids[1].container_id != ids[2].container_id
        slow = small.run(py("while True: pass", timeout_s=0.5))
        assert slow.timed_out and slow.recycled
        after = ok(small.run(py("print(2)")))
        assert after.container_id != slow.container_id


def test_a_dead_container_is_retried_on_a_fresh_one():
    with SandboxPool(1, preflight=False) as small:
        first = ok(small.run(py("print(1)")))
        docker_api.remove_container(first.container_id)  # the daemon loses it between jobs
        second = ok(small.run(py("print(2)")))
        assert second.container_id != first.container_id and second.stdout == "2\n"


def test_protocol_garbage_is_an_infra_error_after_one_retry(tmp_path):
    # A real image whose "runner" speaks garbage: the start is retried once, then it is infra.
    (tmp_path / "Dockerfile").write_text(
        "FROM factory-sandbox:latest\n"
        'ENTRYPOINT ["python3", "-c", "print(\'garbage\', flush=True); import time; '
        'time.sleep(60)"]\n'
    )
    tag = "factory-sandbox-test:garbage"
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    docker_api.run_cli(["build", "-q", "-t", tag, str(tmp_path)], "build", env=env,
                       capture_output=True)  # fmt: skip
    with pytest.raises(SandboxInfraError) as err:
        SandboxPool(1, image=tag, preflight=False)
    assert "garbage" in str(err.value)
    assert not [c for c in _ours() if c["image"] == tag]


def test_close_is_clean_and_final():
    small = SandboxPool(1, preflight=False)
    name = small._slots[0].future.result().name
    ok(small.run(py("print(1)")))
    assert name in {c["name"] for c in _ours()}
    small.close()
    small.close()
    assert name not in {c["name"] for c in _ours()}
    with pytest.raises(SandboxError):
        small.run(py("print(1)"))


def test_orphans_of_dead_owners_are_reaped(pool):
    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = f"{os.uname().nodename}:{dead.pid}:12345"
    name = f"factory-sandbox-orphan-{os.getpid()}"
    docker_api.run_cli(
        ["run", "-d", "-i", "--name", name, "--label", f"{LABEL}=1", "--label",
         f"{OWNER_LABEL}={owner}", "--network", "none", pool.image],
        "start a fake orphan", capture_output=True,
    )  # fmt: skip
    assert docker_api.list_containers(f"{OWNER_LABEL}={owner}")
    assert name in reap_orphans()
    assert not docker_api.list_containers(f"{OWNER_LABEL}={owner}")
    assert_healthy(pool)  # a live owner's containers are left alone


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_a_killed_parent_leaves_no_container(sig):
    script = textwrap.dedent("""
        import sys, time
        from sandbox.pool import SandboxPool
        pool = SandboxPool(2, preflight=False)
        print("ready", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    owner = owner_id(proc.pid)
    started = docker_api.list_containers(f"{OWNER_LABEL}={owner}")
    assert len(started) == 2, (owner, docker_api.list_containers(f"{LABEL}=1"))
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60
    while docker_api.list_containers(f"{OWNER_LABEL}={owner}") and time.monotonic() < deadline:
        time.sleep(0.2)
    left = docker_api.list_containers(f"{OWNER_LABEL}={owner}")
    assert not left, subprocess.run(["docker", "ps", "-a"], capture_output=True, text=True).stdout


def test_pool_runs_normally_after_all_this(pool):
    assert_healthy(pool)


def test_preflight_is_cached_per_image(pool):
    from sandbox.preflight import run_preflight

    started = time.monotonic()
    run_preflight(pool)  # the session pool proved this image already
    assert time.monotonic() - started < 1.0
