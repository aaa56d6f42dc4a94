"""Container-level limits and hardening: the `docker run` flags every sandbox container gets.

Per-job limits (RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, the wall clock) are set by the runner
inside the container; see `sandbox/runner/runner.py`.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

LABEL = "factory.sandbox"
OWNER_LABEL = "factory.sandbox.owner"
SANDBOX_UID = 1000


class ContainerLimits(BaseModel):
    """What one warm container may use, whatever its jobs ask for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(default=1536, ge=64)
    """cgroup memory cap for the container (tmpfs contents count too); swap is off."""
    cpus: float = Field(default=1.0, gt=0)
    pids: int = Field(default=128, ge=16)
    work_mb: int = Field(default=64, ge=1)
    """Size of the writable /work tmpfs."""
    tmp_mb: int = Field(default=64, ge=1)
    """Size of the writable /tmp tmpfs."""
    shm_mb: int = Field(default=16, ge=1)
    nofile: int = Field(default=256, ge=16)


def docker_run_args(limits: ContainerLimits, *, name: str, owner: str) -> list[str]:
    """Flags for `docker run` (before the image name). No host path is mounted at all."""
    tmpfs_opts = f"rw,nosuid,nodev,uid={SANDBOX_UID},gid={SANDBOX_UID},nr_inodes=65536"
    return [
        "--name", name,
        "--label", f"{LABEL}=1",
        "--label", f"{OWNER_LABEL}={owner}",
        "--network", "none",
        "--read-only",
        "--tmpfs", f"/work:{tmpfs_opts},size={limits.work_mb}m",
        "--tmpfs", f"/tmp:{tmpfs_opts},size={limits.tmp_mb}m",
        "--shm-size", f"{limits.shm_mb}m",
        "--user", f"{SANDBOX_UID}:{SANDBOX_UID}",
        "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--pids-limit", str(limits.pids),
        "--memory", f"{limits.memory_mb}m",
        "--memory-swap", f"{limits.memory_mb}m",
        "--cpus", str(limits.cpus),
        "--ulimit", f"nofile={limits.nofile}:{limits.nofile}",
        "--ulimit", "core=0",
        "--log-driver", "none",
        "--hostname", "sandbox",
        "--workdir", "/work",
    ]  # fmt: skip


def owner_id(pid: int | None = None) -> str:
    """`host:pid:start-time`, so a reused pid is not mistaken for a live owner."""
    pid = os.getpid() if pid is None else pid
    return f"{os.uname().nodename}:{pid}:{process_start_time(pid)}"


def process_start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_alive(owner: str) -> bool:
    """False when the owner lived on this host and is gone; True when unsure (other host)."""
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != os.uname().nodename or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if not os.path.exists(f"/proc/{pid}"):
        return False
    return process_start_time(pid) == start
