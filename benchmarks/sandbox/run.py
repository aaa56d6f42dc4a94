"""Sandbox benchmark: one batch of small Python solutions with asserts, run three ways.

1. our warm pool (`SandboxPool`, size = cores);
2. one `docker run --rm` per job: same image, same limits, the same runner in one-shot mode
   (`--once`), as many in parallel as the pool has containers; run on a subset (default 30
   jobs) and its throughput extrapolated, which is said in the output;
3. a bare unsandboxed subprocess per job (`run_unsandboxed`, NO isolation), same parallelism.

Prints throughput (jobs/s), p50/p95 latency and the ratios. Targets: pool >= 20x docker-run
throughput and within 3x of the bare subprocess.

    python benchmarks/sandbox/run.py --jobs 200 [--docker-run-jobs 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox.job import Job, JobResult
from sandbox.limits import ContainerLimits, docker_run_args, owner_id
from sandbox.local import run_unsandboxed
from sandbox.pool import SandboxPool

SOLUTIONS = [
    (
        "def solve(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
        "    return a\n",
        "assert solve({k}) == {fib}\n",
    ),
    (
        "def solve(xs):\n    return sorted(xs, reverse=True)\n",
        "assert solve(list(range({k}))) == list(range({k}))[::-1]\n",
    ),
    (
        "import math\n\ndef solve(a, b):\n    return math.gcd(a, b)\n",
        "assert solve({k} * 6, {k} * 4) == {k} * 2\n",
    ),
    (
        "def solve(s):\n    return s == s[::-1]\n",
        "assert solve('ab' * {k} + 'ba' * {k})\nassert not solve('ab' * {k})\n",
    ),
]


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def make_jobs(n: int) -> list[Job]:
    jobs = []
    for i in range(n):
        code, test = SOLUTIONS[i % len(SOLUTIONS)]
        k = 10 + i
        files = {"solution.py": code, "test.py": "from solution import solve\n" + test.format(
            k=k, fib=_fib(k))}  # fmt: skip
        jobs.append(Job(files=files, argv=["python3", "test.py"], timeout_s=10))
    return jobs


def timed(fn: Callable[[Job], JobResult], jobs: Sequence[Job], workers: int) -> dict:
    """Run `fn` over jobs with `workers` threads; wall time, per-job latencies, failures."""
    latencies: list[float] = []

    def one(job: Job) -> JobResult:
        t = time.perf_counter()
        result = fn(job)
        latencies.append(time.perf_counter() - t)
        return result

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        results = list(ex.map(one, jobs))
    wall = time.perf_counter() - start
    failed = sum(r.exit_code != 0 for r in results)
    qs = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {
        "jobs": len(jobs),
        "wall_s": wall,
        "jobs_per_s": len(jobs) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": qs[18] * 1000,
        "failed": failed,
    }


def docker_run_once(image: str, limits: ContainerLimits) -> Callable[[Job], JobResult]:
    counter = iter(range(10**9))

    def run(job: Job) -> JobResult:
        name = f"factory-sandbox-bench-{os.getpid()}-{next(counter)}"
        cmd = ["docker", "run", "-i", "--rm", "--sig-proxy=false"]
        cmd += docker_run_args(limits, name=name, owner=owner_id())
        cmd += [image, "--once"]
        request = json.dumps({"op": "run", "job": job.model_dump()}) + "\n"
        proc = subprocess.run(cmd, input=request.encode(), capture_output=True, timeout=120)
        lines = proc.stdout.decode().splitlines()
        reply = json.loads(lines[1])  # lines[0] is the runner's ready message
        raw = reply["result"]
        raw.pop("doubt", None)
        return JobResult(**raw, image=image, container_id=name, recycled=True)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--docker-run-jobs", type=int, default=30)
    parser.add_argument("--size", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    jobs = make_jobs(args.jobs)
    subset = jobs[: min(args.docker_run_jobs, len(jobs))]
    t = time.perf_counter()
    pool = SandboxPool(args.size, preflight=False)
    pool_start = time.perf_counter() - t
    with pool:
        pool.run_many(jobs[: args.size * 2])  # warm-up: page cache, imports
        rows = {"pool": timed(pool.run, jobs, args.size)}
        rows["docker_run"] = timed(docker_run_once(pool.image, pool.limits), subset, args.size)
    rows["unsandboxed"] = timed(run_unsandboxed, jobs, args.size)

    print(f"sandbox benchmark: {args.jobs} jobs, {args.size} workers, image {pool.image}")
    print(f"pool start (warm containers, no preflight): {pool_start:.2f}s")
    load = os.getloadavg()
    print(
        f"host load average before/after: {load_before[0]:.2f}/{load[0]:.2f} on {os.cpu_count()} "
        "cores (containers share one cgroup weight against other host processes: under load "
        "the pool slows more than the bare subprocess)"
    )
    print(f"{'way':<12} {'jobs':>5} {'jobs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'failed':>6}")
    for way, r in rows.items():
        print(
            f"{way:<12} {r['jobs']:>5} {r['jobs_per_s']:>8.1f} {r['p50_ms']:>8.1f} "
            f"{r['p95_ms']:>8.1f} {r['failed']:>6}"
        )
    vs_docker = rows["pool"]["jobs_per_s"] / rows["docker_run"]["jobs_per_s"]
    vs_bare = rows["unsandboxed"]["jobs_per_s"] / rows["pool"]["jobs_per_s"]
    print(
        f"docker run measured on {len(subset)} of {args.jobs} jobs; its jobs/s is extrapolated "
        f"to the full batch ({args.jobs / rows['docker_run']['jobs_per_s']:.1f}s estimated)"
    )
    print(f"pool vs docker run: {vs_docker:.1f}x throughput (target >= 20x)")
    print(f"unsandboxed vs pool: {vs_bare:.2f}x throughput (target <= 3x)")
    if args.json:
        out = {"rows": rows, "pool_vs_docker_run": vs_docker, "unsandboxed_vs_pool": vs_bare}
        args.json.write_text(json.dumps(out, indent=2))
    failed = sum(r["failed"] for r in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
