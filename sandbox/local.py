"""NO ISOLATION. `run_unsandboxed` runs a job as a bare subprocess on the host.

It exists only as the benchmark baseline (benchmarks/sandbox/run.py). Never use it for code you
did not write: the program can read and write your files, use the network and see the host.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from sandbox.job import REPORT_FD, Job, JobResult


def run_unsandboxed(job: Job) -> JobResult:
    """UNSAFE, NO SANDBOX: run `job` as a plain host subprocess (benchmark baseline only).

    Same shape of result as the pool (report pipe on fd 3, output caps, timeout kill), none of
    the isolation. Never call this with untrusted code.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="factory-unsandboxed-") as work:
        for rel, text in job.files.items():
            path = Path(work, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        rep_r, rep_w = os.pipe()

        def child_setup() -> None:
            os.dup2(rep_w, REPORT_FD)
            mem = job.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))

        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": work,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "FACTORY_REPORT_FD": str(REPORT_FD),
            **job.env,
        }
        proc = subprocess.Popen(
            job.argv, cwd=work, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=child_setup, pass_fds=(rep_w,),
            start_new_session=True,
        )  # fmt: skip
        os.close(rep_w)
        timed_out = False
        try:
            out, err = proc.communicate(job.stdin.encode(), timeout=job.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, 9)
            out, err = proc.communicate()
        with os.fdopen(rep_r, "rb") as f:
            raw = f.read()
    records = []
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"_malformed": line[:1000]})
    cap = job.max_output_bytes
    code = proc.returncode
    return JobResult(
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        timed_out=timed_out,
        memory_exceeded=b"MemoryError" in err[-4000:],
        output_truncated=len(out) > cap or len(err) > cap,
        stdout=out[:cap].decode("utf-8", "replace"),
        stderr=err[:cap].decode("utf-8", "replace"),
        records=records,
        elapsed_s=time.monotonic() - started,
        image="UNSANDBOXED-host",
        container_id="",
        recycled=False,
    )
