"""Say in plain words what the sandbox is missing and the command that fixes it, then prove
the limits with the preflight. `factory sandbox doctor` prints this."""

from __future__ import annotations

from collections.abc import Callable

from sandbox import build, docker_api
from sandbox.errors import SandboxError, SandboxUnavailable


def check(*, preflight: bool = True, say: Callable[[str], None] = print) -> None:
    """Raise SandboxUnavailable (one line naming the fix) or PreflightError; else say ok."""
    problem = docker_api.diagnose_daemon()
    if problem is not None:
        raise SandboxUnavailable(problem.line())
    say("ok: the docker command is installed and the daemon answers")
    image = build.resolve_image()
    say(f"ok: the sandbox image {image} is built")
    if not preflight:
        return
    from sandbox.pool import SandboxPool

    with SandboxPool(1, image=image, preflight=False) as pool:
        from sandbox.preflight import run_preflight

        run_preflight(pool, force=True)
    say(
        "ok: preflight proved no network, read-only fs, non-root, no caps, memory/pids/time "
        "limits and numpy with capped threads"
    )


def problems() -> list[str]:
    """Every problem found, as lines; empty when the sandbox is ready (without preflight)."""
    try:
        check(preflight=False, say=lambda _: None)
    except SandboxError as exc:
        return [str(exc)]
    return []
