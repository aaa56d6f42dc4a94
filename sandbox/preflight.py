"""Prove the limits hold in the real image before trusting it: the network is unreachable,
memory, pids and time limits trigger, writes outside the work dir fail, the job runs as a
non-root user with no capabilities, and numpy multiplies a matrix with its thread pool capped.

Runs when a pool starts (unless `preflight=False`) and in `factory sandbox doctor`; cached per
image id for the life of the process.
"""

from __future__ import annotations

import textwrap
import threading
from typing import TYPE_CHECKING

from sandbox import docker_api
from sandbox.errors import PreflightError
from sandbox.job import Job, JobResult

if TYPE_CHECKING:
    from sandbox.pool import SandboxPool

_passed: set[str] = set()
_lock = threading.Lock()

_REPORT = "import json, os\nrep = os.fdopen(int(os.environ['FACTORY_REPORT_FD']), 'w')\n"

_CHECKS: dict[str, str] = {
    "network": _REPORT
    + textwrap.dedent("""
        import socket
        reached = []
        for host, port in [("1.1.1.1", 53), ("8.8.8.8", 443), ("deb.debian.org", 80)]:
            try:
                socket.create_connection((host, port), timeout=2).close()
                reached.append(host)
            except OSError:
                pass
        ifaces = sorted(name for _, name in socket.if_nameindex())
        rep.write(json.dumps({"reached": reached, "ifaces": ifaces}) + "\\n")
    """),
    "filesystem": _REPORT
    + textwrap.dedent("""
        written = []
        for path in ["/etc/passwd", "/opt/factory-sandbox/runner.py", "/usr/x", "/x", "/var/x"]:
            try:
                with open(path, "a") as f:
                    f.write("x")
                written.append(path)
            except OSError:
                pass
        with open("ok.txt", "w") as f:
            f.write("fine")
        with open("/tmp/ok.txt", "w") as f:
            f.write("fine")
        status = open("/proc/self/status").read()
        caps = [l.split()[1] for l in status.splitlines() if l.startswith("CapEff")]
        nnp = [l.split()[1] for l in status.splitlines() if l.startswith("NoNewPrivs")]
        rep.write(json.dumps({"written": written, "uid": os.getuid(), "caps": caps,
                              "nnp": nnp}) + "\\n")
    """),
    "memory": "x = bytearray(2 * 1024 * 1024 * 1024)\nprint(len(x))\n",
    "pids": _REPORT
    + textwrap.dedent("""
        import time
        n = 0
        try:
            for _ in range(100000):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                n += 1
        except OSError:
            pass
        rep.write(json.dumps({"forked": n}) + "\\n")
    """),
    "time": "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n",
    "numpy": _REPORT
    + textwrap.dedent("""
        import numpy as np
        a = np.arange(40000, dtype=float).reshape(200, 200) / 40000
        rep.write(json.dumps({"trace": float(np.trace(a @ a))}) + "\\n")
    """),
}


def _job(name: str) -> Job:
    timeout = 1.0 if name == "time" else 20.0
    return Job(
        files={"check.py": _CHECKS[name]},
        argv=["python3", "check.py"],
        timeout_s=timeout,
        memory_mb=256 if name == "memory" else 512,
    )


def _failures(pool: SandboxPool, results: dict[str, JobResult]) -> list[str]:
    bad = []

    def record(name: str) -> dict:
        r = results[name]
        return r.records[0] if r.records else {"exit": r.exit_code, "stderr": r.stderr[-300:]}

    net = record("network")
    if net.get("reached") or net.get("ifaces", ["?"]) != ["lo"]:
        bad.append(f"network is reachable ({net})")
    fs = record("filesystem")
    if fs.get("written") or fs.get("uid") in (0, None):
        bad.append(f"writes outside the work dir succeed or uid is root ({fs})")
    if fs.get("caps") != ["0000000000000000"] or fs.get("nnp") != ["1"]:
        bad.append(f"capabilities or no-new-privileges not in force ({fs})")
    mem = results["memory"]
    if mem.exit_code == 0 or not mem.memory_exceeded:
        bad.append(f"memory limit did not trigger (exit {mem.exit_code}, {mem.stderr[-200:]!r})")
    pids = record("pids")
    if not 0 < pids.get("forked", 0) <= pool.limits.pids:
        bad.append(f"pids limit did not trigger ({pids})")
    t = results["time"]
    if not t.timed_out or t.elapsed_s > 5:
        bad.append(f"time limit did not trigger (elapsed {t.elapsed_s:.1f}s)")
    num = record("numpy")
    if abs(num.get("trace", 0) - 10032.8325) > 0.01:
        bad.append(f"numpy matrix product failed ({num})")
    return bad


def run_preflight(pool: SandboxPool, *, force: bool = False) -> None:
    """Raise PreflightError unless every limit is proven in the pool's image."""
    key = docker_api.image_id(pool.image)
    with _lock:
        if key in _passed and not force:
            return
    jobs = {name: _job(name) for name in _CHECKS}
    results = dict(zip(jobs, pool.run_many(list(jobs.values())), strict=True))
    bad = _failures(pool, results)
    if bad:
        raise PreflightError(f"sandbox preflight failed in {pool.image}: " + "; ".join(bad))
    with _lock:
        _passed.add(key)
