"""Running jobs through the sandbox and reading what came back, for every test style.

This is the one place that talks to ``sandbox``: its errors become infra verdicts
here, and the child's report records are checked (nonce, duplicates) here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import SandboxError, SandboxUnavailable
from sandbox.job import Job, JobResult
from verifiers.verdict import Reason, Verdict

OUTPUT_CAP = 2048
PYTHON = ["python3"]
"""How a job's Python starts: a plain ``python3 SCRIPT``, which the sandbox forks from its
clean zygote instead of starting an interpreter. The sandbox controls the environment (no
PYTHON* variable of the host's, no bytecode writes); the script's directory, where the job
files are, is first on sys.path so the harness finds its files."""


@dataclass(frozen=True)
class Options:
    """Per-check settings shared by every style."""

    timeout_s: float = 10.0
    memory_mb: int = 512
    float_tol: float | None = None
    pool: Any = None


class InfraFailure(Exception):
    """The sandbox could not run a job; becomes an infra_error verdict."""


def new_nonce() -> str:
    return secrets.token_hex(16)


def get_pool(pool: Any) -> Any:
    if pool is not None:
        return pool
    from sandbox.pool import default_pool

    try:
        return default_pool()
    except SandboxUnavailable as exc:
        raise InfraFailure(str(exc)) from exc
    except SandboxError as exc:
        raise InfraFailure(f"the sandbox pool could not start: {exc}") from exc


def make_job(
    files: dict[str, str],
    argv: list[str],
    opts: Options,
    stdin: str = "",
    *,
    report_channel: bool = True,
) -> Job:
    """A sandbox job under the check's limits; ``report_channel=False`` for programs that
    report nothing (stdio): they get no fd 3 at all."""
    return Job(
        files=files,
        argv=argv,
        stdin=stdin,
        timeout_s=opts.timeout_s,
        memory_mb=opts.memory_mb,
        report_channel=report_channel,
    )


def run_jobs(jobs: Sequence[Job], opts: Options) -> list[JobResult]:
    """Run jobs on the pool, concurrently when several; sandbox errors -> InfraFailure."""
    pool = get_pool(opts.pool)
    try:
        if len(jobs) == 1:
            return [pool.run(jobs[0])]
        return list(pool.run_many(list(jobs)))
    except SandboxUnavailable as exc:
        raise InfraFailure(str(exc)) from exc
    except SandboxError as exc:
        raise InfraFailure(f"the sandbox failed: {exc}") from exc


def cap(text: str, limit: int = OUTPUT_CAP) -> str:
    """At most ``limit`` characters, keeping the end (where tracebacks say what happened)."""
    if len(text) <= limit:
        return text
    return f"[{len(text) - limit} characters cut]..." + text[-limit:]


def result_details(result: JobResult) -> dict[str, Any]:
    return {
        "image": result.image,
        "exit_code": result.exit_code,
        "signal": result.signal,
        "stdout": cap(result.stdout),
        "stderr": cap(result.stderr),
        "sandbox_s": round(result.elapsed_s, 3),
    }


@dataclass
class Records:
    """The child's report records, sorted into trusted events and anomalies."""

    events: list[dict[str, Any]] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, result: JobResult, nonce: str) -> Records:
        out = cls()
        for rec in result.records:
            if not isinstance(rec, dict) or rec.get("nonce") != nonce or "_malformed" in rec:
                out.forged.append(str(rec)[:200])
            else:
                out.events.append(rec)
        if result.records_truncated:
            out.forged.append("the report channel overflowed")
        return out

    def first(self, event: str) -> dict[str, Any] | None:
        return next((r for r in self.events if r.get("event") == event), None)

    def all(self, event: str) -> list[dict[str, Any]]:
        return [r for r in self.events if r.get("event") == event]

    def by_key(self, event: str, key: str) -> tuple[dict[Any, dict[str, Any]], list[Any]]:
        """Records of ``event`` indexed by ``key``, and the keys seen more than once."""
        found: dict[Any, dict[str, Any]] = {}
        dupes: list[Any] = []
        for rec in self.all(event):
            k = rec.get(key)
            if k in found:
                dupes.append(k)
            found[k] = rec
        return found, dupes


def how_it_ended(result: JobResult) -> str:
    if result.signal is not None:
        return f"killed by signal {result.signal}"
    return f"exit code {result.exit_code}"


def common_failure(
    result: JobResult, recs: Records, details: dict[str, Any], *, running: str | None
) -> Verdict | None:
    """Verdicts every harness-based style shares: timeout, import failure, tampering, memory."""
    if result.timed_out:
        where = f" while running {running}" if running else ""
        return Verdict.fail(Reason.TIMEOUT, f"timed out{where}", details=details)
    imp_err = recs.first("import_error")
    if imp_err is not None:
        text = f"{imp_err.get('type')}: {imp_err.get('message')}"
        if imp_err.get("syntax"):
            return Verdict.fail(Reason.PARSE_ERROR, f"syntax error: {text}", details=details)
        return Verdict.fail(
            Reason.RUNTIME_ERROR, f"the solution raised at import: {text}", details=details
        )
    if result.memory_exceeded:
        details["memory_exceeded"] = True
        return Verdict.fail(Reason.RUNTIME_ERROR, "memory limit exceeded", details=details)
    if recs.forged:
        details["forged_records"] = recs.forged[:5]
        return Verdict.fail(
            Reason.TESTS_FAILED,
            "unauthenticated records on the report channel (the program tampered with it)",
            details=details,
        )
    if recs.first("import_start") is None:
        return Verdict.fail(
            Reason.INFRA_ERROR,
            f"the test harness did not start ({how_it_ended(result)}): {cap(result.stderr, 500)}",
            details=details,
        )
    if recs.first("import_ok") is None:
        return Verdict.fail(
            Reason.RUNTIME_ERROR,
            f"the program ended while the solution was being imported ({how_it_ended(result)})",
            details=details,
        )
    missing = recs.first("entry_missing")
    if missing is not None:
        return Verdict.fail(
            Reason.TESTS_FAILED,
            f"the solution does not define the entry point {missing.get('name')!r}",
            details=details,
        )
    return None


def clean_end(result: JobResult, recs: Records) -> str | None:
    """None when the harness finished and the process exited 0, else what went wrong."""
    if recs.first("done") is None:
        return f"the program ended before the tests finished ({how_it_ended(result)})"
    if len(recs.all("done")) > 1:
        return "duplicate completion records"
    if result.exit_code != 0 or result.signal is not None:
        return f"the program did not exit cleanly ({how_it_ended(result)})"
    return None
