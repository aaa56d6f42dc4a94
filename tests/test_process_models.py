"""The verifiers work in the caller's process model, whatever it is.

Each test runs a real script in a fresh interpreter (so the pytest process's own pool
cannot hide a defect): after ``os.fork`` (warm and cold), under the ``fork``,
``spawn`` and ``forkserver`` start methods, inside ``datasets.map(num_proc=2)``,
``ProcessPoolExecutor``, a torch ``DataLoader`` with workers, from threads and
asyncio, without a main guard and read from stdin. The math check must come back
with the right verdicts everywhere, never run the caller's top-level code twice,
and leave no process behind. The code verifier is checked after a fork against
the real Docker sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Shared by every script: four pairs whose verdicts are known.
PRELUDE = textwrap.dedent(
    """
    import json, os, sys
    from verifiers.math import check_answer
    PAIRS = [("0.5", "1/2"), ("\\\\frac{1}{3}", "1/3"), ("2", "3"), ("I am not sure", "7")]

    def reasons(pairs=PAIRS):
        return [check_answer(c, r).reason.value for c, r in pairs]

    def one(pair):
        return check_answer(*pair).reason.value

    def emit(**record):
        print(json.dumps(record), flush=True)
    """
)
EXPECTED = ["correct", "correct", "wrong_answer", "no_answer"]


def run_script(body: str, tmp_path: Path, *, timeout: float = 180) -> list[dict]:
    """Run PRELUDE + body as a script file; return its JSON lines (fails on a non-zero exit)."""
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ---- fork


def test_os_fork_after_a_warm_call_gives_right_verdicts_in_child_and_parent(tmp_path):
    records = run_script(
        """
        from verifiers.worker import get_pool
        emit(who="parent-before", reasons=reasons(), pids=sorted(get_pool().pids()))
        children = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                emit(who="child", reasons=reasons(), pid=os.getpid())
                os._exit(0)
            children.append(pid)
        for pid in children:
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        emit(who="parent-after", reasons=reasons(), pids=sorted(get_pool().pids()))
        """,
        tmp_path,
    )
    by_who = {r["who"]: r for r in records}
    assert [r["reasons"] for r in records] == [EXPECTED] * 4
    assert sum(r["who"] == "child" for r in records) == 2
    # The children neither used nor stopped the parent's workers.
    assert by_who["parent-before"]["pids"] == by_who["parent-after"]["pids"]


def test_os_fork_before_any_call_gives_right_verdicts(tmp_path):
    records = run_script(
        """
        pid = os.fork()
        if pid == 0:
            emit(who="child", reasons=reasons())
            os._exit(0)
        emit(who="parent", reasons=reasons())
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        """,
        tmp_path,
    )
    assert sorted(r["who"] for r in records) == ["child", "parent"]
    assert all(r["reasons"] == EXPECTED for r in records)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_pool_after_a_warm_call(tmp_path, method):
    records = run_script(
        f"""
        import multiprocessing
        if __name__ == "__main__":
            emit(who="parent", reasons=reasons())
            with multiprocessing.get_context("{method}").Pool(2) as workers:
                emit(who="pool", reasons=workers.map(one, PAIRS * 3))
            emit(who="parent-after", reasons=reasons())
        """,
        tmp_path,
    )
    assert [r["reasons"] for r in records] == [EXPECTED, EXPECTED * 3, EXPECTED]


def test_datasets_map_with_two_processes_after_a_warm_call(tmp_path):
    records = run_script(
        """
        import datasets
        datasets.disable_progress_bars()
        emit(who="parent", reasons=reasons())
        rows = datasets.Dataset.from_dict(
            {"candidate": [c for c, _ in PAIRS] * 4, "reference": [r for _, r in PAIRS] * 4}
        )

        def verify(row):
            verdict = check_answer(row["candidate"], row["reference"])
            return {"reason": verdict.reason.value, "pid": os.getpid()}

        mapped = rows.map(verify, num_proc=2)
        emit(who="map", reasons=list(mapped["reason"]), pids=sorted(set(mapped["pid"])))
        """,
        tmp_path,
    )
    parent, mapped = records
    assert parent["reasons"] == EXPECTED
    assert mapped["reasons"] == EXPECTED * 4
    assert len(mapped["pids"]) == 2  # really two processes


def test_process_pool_executor_after_a_warm_call(tmp_path):
    records = run_script(
        """
        from concurrent.futures import ProcessPoolExecutor
        if __name__ == "__main__":
            emit(reasons=reasons())
            with ProcessPoolExecutor(2) as executor:
                emit(reasons=list(executor.map(one, PAIRS * 2)))
        """,
        tmp_path,
    )
    assert [r["reasons"] for r in records] == [EXPECTED, EXPECTED * 2]


def test_torch_dataloader_with_two_workers_after_a_warm_call(tmp_path):
    records = run_script(
        """
        import torch.utils.data as tud

        class Checks(tud.Dataset):
            def __len__(self):
                return len(PAIRS) * 2

            def __getitem__(self, i):
                return one(PAIRS[i % len(PAIRS)])

        if __name__ == "__main__":
            emit(reasons=reasons())
            loader = tud.DataLoader(Checks(), batch_size=None, num_workers=2)
            emit(reasons=list(loader))
        """,
        tmp_path,
    )
    assert [r["reasons"] for r in records] == [EXPECTED, EXPECTED * 2]


# ---- threads and asyncio


def test_threads_and_asyncio_share_one_pool(tmp_path):
    records = run_script(
        """
        import asyncio
        from concurrent.futures import ThreadPoolExecutor
        from verifiers.worker import get_pool
        with ThreadPoolExecutor(8) as executor:
            emit(reasons=list(executor.map(one, PAIRS * 4)))

        async def main():
            return await asyncio.gather(*(asyncio.to_thread(one, p) for p in PAIRS * 2))

        emit(reasons=asyncio.run(main()), workers=len(get_pool().pids()), size=get_pool().size)
        """,
        tmp_path,
    )
    assert records[0]["reasons"] == EXPECTED * 4
    assert records[1]["reasons"] == EXPECTED * 2
    assert records[1]["workers"] <= records[1]["size"]


# ---- the caller's main module is never imported or run


def test_script_without_main_guard_runs_its_top_level_once(tmp_path):
    log = tmp_path / "top_level_runs.txt"
    records = run_script(
        f"""
        from verifiers.worker import get_pool
        with open({str(log)!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        emit(reasons=reasons(), zygote=get_pool().zygote_pid(), workers=get_pool().pids())
        """,
        tmp_path,
    )
    assert records[0]["reasons"] == EXPECTED
    assert len(log.read_text().splitlines()) == 1
    # Nothing is left running once the script has exited.
    assert gone_within([records[0]["zygote"], *records[0]["workers"]], 5)


def test_script_read_from_stdin_verifies(tmp_path):
    result = subprocess.run(
        [sys.executable, "-"],
        input=PRELUDE + "emit(reasons=reasons())\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["reasons"] == EXPECTED


def test_a_function_of_the_main_script_is_refused_with_a_clear_error(tmp_path):
    records = run_script(
        """
        from verifiers.worker import run_bounded

        def double(x):
            return 2 * x

        try:
            run_bounded(double, 2)
        except ValueError as exc:
            emit(error=str(exc))
        import functools
        try:
            run_bounded(functools.partial(double), 2)
        except ValueError as exc:
            emit(error=str(exc))
        """,
        tmp_path,
    )
    assert len(records) == 2
    assert all("main script" in record["error"] for record in records)


def test_a_killed_caller_takes_its_zygote_and_workers_along(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        PRELUDE
        + textwrap.dedent(
            """
            import time
            from verifiers.worker import get_pool
            get_pool().warm_up()
            emit(zygote=get_pool().zygote_pid(), workers=get_pool().pids())
            time.sleep(600)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        record = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
    pids = [record["zygote"], *record["workers"]]
    assert len(pids) >= 2
    assert gone_within(pids, 10)


# ---- the code verifier after a fork (real Docker sandbox)

CODE_PRELUDE = textwrap.dedent(
    """
    from verifiers.code import check_solution
    TESTS = "def check(candidate):\\n    assert candidate(2, 3) == 5\\n"
    GOOD = "def add(a, b):\\n    return a + b\\n"
    BAD = "def add(a, b):\\n    return a - b\\n"

    def code_reason(i):
        return check_solution(GOOD if i % 2 else BAD, TESTS, entry_point="add").reason.value

    """
)


@pytest.mark.docker
def test_check_solution_after_a_fork_uses_the_childs_own_sandbox(tmp_path):
    """Forked children once shared the parent's warm containers and read each other's replies."""
    records = run_script(
        CODE_PRELUDE
        + textwrap.dedent(
            """
        import multiprocessing
        if __name__ == "__main__":
            emit(who="parent", reasons=[code_reason(0), code_reason(1)])
            with multiprocessing.get_context("fork").Pool(2) as workers:
                emit(who="children", reasons=workers.map(code_reason, range(12)))
            pid = os.fork()
            if pid == 0:
                emit(who="raw-fork", reasons=[code_reason(i) for i in range(4)])
                os._exit(0)
            os.waitpid(pid, 0)
            emit(who="parent-after", reasons=[code_reason(0), code_reason(1)])
        """
        ),
        tmp_path,
        timeout=300,
    )
    assert {r["who"]: r["reasons"] for r in records} == {
        "parent": ["tests_failed", "correct"],
        "children": ["tests_failed" if i % 2 == 0 else "correct" for i in range(12)],
        "raw-fork": ["tests_failed", "correct"] * 2,
        "parent-after": ["tests_failed", "correct"],
    }
