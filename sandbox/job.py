"""What crosses the sandbox boundary: a `Job` in, a `JobResult` out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

REPORT_FD = 3
"""The child finds the report channel (JSON lines, one object per line) on this fd."""


class Job(BaseModel):
    """One program run: files written to a fresh work dir, then `argv` run there under limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: dict[str, str] = Field(default_factory=dict)
    """Relative path -> text, written into the job's fresh work dir before start."""
    argv: list[str] = Field(min_length=1)
    """The command, run with cwd = the work dir, e.g. ["python3", "-I", "harness.py"]."""
    stdin: str = ""
    timeout_s: float = Field(default=10.0, gt=0, le=3600)
    """Wall clock of the child; on expiry its whole process tree is SIGKILLed."""
    memory_mb: int = Field(default=512, ge=16, le=65536)
    """Per-job address-space cap (RLIMIT_AS) inside the container."""
    max_output_bytes: int = Field(default=1_000_000, ge=0)
    """Cap per stream (stdout, stderr); the excess is discarded and flagged."""
    report_channel: bool = True
    """Give the child the report channel on fd 3; False: the child has no fd 3 at all."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra env for the child. Nothing from the host env reaches it."""

    @field_validator("files")
    @classmethod
    def _relative_paths(cls, files: dict[str, str]) -> dict[str, str]:
        for path in files:
            parts = path.split("/")
            if not path or path.startswith("/") or ".." in parts or "" in parts or "\0" in path:
                raise ValueError(f"job file path must be relative and plain, got {path!r}")
        dirs = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
        clash = dirs & set(files)
        if clash:
            raise ValueError(f"job file paths use {sorted(clash)[0]!r} as a file and a directory")
        return files

    @field_validator("env")
    @classmethod
    def _plain_env(cls, env: dict[str, str]) -> dict[str, str]:
        for key, value in env.items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                raise ValueError(f"bad env entry {key!r}")
        return env


class JobResult(BaseModel):
    """What happened. The sandbox judges nothing: a pass or fail is for `verifiers/code`."""

    model_config = ConfigDict(extra="forbid")

    exit_code: int | None
    """The child's exit status, or None when a signal ended it."""
    signal: int | None
    """The signal that ended the child (9 after a timeout), else None."""
    timed_out: bool
    memory_exceeded: bool
    """Best effort: MemoryError in stderr, an OOM kill, or a kill by no one else near the cap."""
    output_truncated: bool
    """stdout or stderr went over `max_output_bytes`."""
    records_truncated: bool = False
    """The report channel went over its count or size cap; later records were dropped."""
    stdout: str
    stderr: str
    records: list[dict]
    """JSON lines the child wrote to fd 3; malformed lines kept as {"_malformed": "..."}."""
    elapsed_s: float
    image: str
    """The image tag, including the content digest, e.g. factory-sandbox:0123456789ab."""
    container_id: str
    recycled: bool
    """The container was replaced after this job (limit broken, runner doubt, or job count)."""
