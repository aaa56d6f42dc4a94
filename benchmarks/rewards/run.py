"""Our reward functions vs the named baselines, side by side in one run.

    python benchmarks/rewards/run.py [--math-batch 1024] [--code-batch 64] [--json OUT]

Math: ``MathAnswerReward`` (the batch checked concurrently on the worker pool) vs a
Math-Verify-based accuracy reward of the kind open-r1 trains with
(``math_verify_reward.py``: parse, ``verify``, 1.0/0.0, one completion after another)
on the same batch of completions built from labelled answer pairs
(``math_batch.py``). Reports completions/s, the throughput ratio, how often the two
rewards agree, and each one's accuracy against the human labels.

Code: ``CodeReward`` on a batch of HumanEval-style completions (``code_batch.py``)
through the warm sandbox pool vs one ``docker run`` per completion (same image and
limits, the program and its ``check`` fed to ``python3``, reward = exit status 0), as
many at once as the pool has containers. Both are warmed up first (imports, the
worker pool, the sandbox pool), as they are after a training loop's first step.
Targets: math reward >= 3x the Math-Verify reward; code reward >= 20x docker run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from code_batch import code_batch  # noqa: E402
from math_batch import math_batch  # noqa: E402
from math_verify_reward import math_verify_accuracy  # noqa: E402


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def agreement(a: list[float | None], b: list[float | None]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def accuracy(rewards: list[float | None], labels: list[bool]) -> float:
    return sum((r == 1.0) == label for r, label in zip(rewards, labels, strict=True)) / len(labels)


# ---------------------------------------------------------------- math


def bench_math(size: int) -> dict[str, Any]:
    from verifiers.rewards import MathAnswerReward
    from verifiers.worker import get_pool

    rows = math_batch(size)
    completions = [r["completion"] for r in rows]
    references = [r["reference"] for r in rows]
    labels = [r["expected"] for r in rows]
    ours_reward = MathAnswerReward("answer")

    get_pool().warm_up()
    ours_reward(completions[:8], answer=references[:8])
    math_verify_accuracy(completions[:8], references[:8])

    ours, ours_s = timed(ours_reward, completions, answer=references)
    base, base_s = timed(math_verify_accuracy, completions, references)
    unique = {r["id"]: i for i, r in enumerate(rows)}  # the labelled subset, each case once
    idx = sorted(unique.values())
    return {
        "batch": size,
        "workers": get_pool().size,
        "ours_per_s": size / ours_s,
        "math_verify_per_s": size / base_s,
        "ratio": base_s / ours_s,
        "agreement": agreement(ours, base),
        "labelled_cases": len(idx),
        "ours_accuracy": accuracy([ours[i] for i in idx], [labels[i] for i in idx]),
        "math_verify_accuracy": accuracy([base[i] for i in idx], [labels[i] for i in idx]),
        "ours_none": sum(r is None for r in ours),
        "math_verify_none": sum(r is None for r in base),
    }


# ---------------------------------------------------------------- code


def docker_run_reward(image: str, workers: int) -> Any:
    from sandbox.limits import ContainerLimits, docker_run_args, owner_id
    from verifiers.rewards.code_tests import program_of

    limits = ContainerLimits()
    counter = iter(range(10**9))

    def one(row: dict[str, Any]) -> float:
        program = program_of(row["completion"]) or ""
        source = f"{program}\n\n{row['tests']}\n\ncheck({row['entry_point']})\n"
        name = f"factory-rewards-bench-{os.getpid()}-{next(counter)}"
        cmd = ["docker", "run", "-i", "--rm", "--sig-proxy=false"]
        cmd += docker_run_args(limits, name=name, owner=owner_id())
        cmd += ["--entrypoint", "python3", image, "-I", "-"]
        proc = subprocess.run(cmd, input=source.encode(), capture_output=True, timeout=120)
        return 1.0 if proc.returncode == 0 else 0.0

    def reward(rows: list[dict[str, Any]]) -> list[float]:
        with ThreadPoolExecutor(workers) as executor:
            return list(executor.map(one, rows))

    return reward


def bench_code(size: int) -> dict[str, Any]:
    from sandbox.pool import default_pool
    from verifiers.rewards import CodeReward

    rows = code_batch(size)
    completions = [r["completion"] for r in rows]
    tests = [r["tests"] for r in rows]
    entry_points = [r["entry_point"] for r in rows]
    labels = [r["right"] for r in rows]
    pool = default_pool()
    ours_reward = CodeReward("tests")
    baseline = docker_run_reward(pool.image, pool.size)

    ours_reward(completions[:4], tests=tests[:4], entry_point=entry_points[:4])
    baseline(rows[:2])

    ours, ours_s = timed(ours_reward, completions, tests=tests, entry_point=entry_points)
    base, base_s = timed(baseline, rows)
    return {
        "batch": size,
        "containers": pool.size,
        "ours_per_s": size / ours_s,
        "docker_run_per_s": size / base_s,
        "ratio": base_s / ours_s,
        "agreement": agreement(ours, base),
        "ours_accuracy": accuracy(ours, labels),
        "docker_run_accuracy": accuracy(base, labels),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--math-batch", type=int, default=1024)
    parser.add_argument("--code-batch", type=int, default=64)
    parser.add_argument("--skip-code", action="store_true", help="math only (no Docker)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f}; cpus: {len(os.sched_getaffinity(0))}")
    out: dict[str, Any] = {"load_before": load}
    m = bench_math(args.math_batch)
    out["math"] = m
    print(
        f"math, {m['batch']} completions ({m['workers']} workers): ours "
        f"{m['ours_per_s']:.1f}/s, Math-Verify reward {m['math_verify_per_s']:.1f}/s -> "
        f"{m['ratio']:.2f}x (target >= 3x); agreement {m['agreement']:.1%}; accuracy on "
        f"{m['labelled_cases']} labelled cases: ours {m['ours_accuracy']:.1%}, "
        f"Math-Verify {m['math_verify_accuracy']:.1%}; None: ours {m['ours_none']}, "
        f"Math-Verify {m['math_verify_none']}"
    )
    if not args.skip_code:
        c = bench_code(args.code_batch)
        out["code"] = c
        print(
            f"code, {c['batch']} completions ({c['containers']} containers): ours "
            f"{c['ours_per_s']:.1f}/s, docker run per completion {c['docker_run_per_s']:.2f}/s "
            f"-> {c['ratio']:.1f}x (target >= 20x); agreement {c['agreement']:.1%}; accuracy: "
            f"ours {c['ours_accuracy']:.1%}, docker run {c['docker_run_accuracy']:.1%}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
