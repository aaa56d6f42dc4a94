"""`factory sandbox build|doctor`: thin over `sandbox.build` and `sandbox.doctor`."""

from __future__ import annotations

import typer

from sandbox.build import build_image
from sandbox.doctor import check
from sandbox.errors import SandboxError

app = typer.Typer(
    help="Build and check the Docker sandbox that runs generated code.", no_args_is_help=True
)


@app.command()
def build(
    offline: bool = typer.Option(False, "--offline", help="debootstrap base, no registry needed"),
    dockerfile: bool = typer.Option(False, "--dockerfile", help="FROM python:3.11-slim (registry)"),
    force: bool = typer.Option(False, "--force", help="rebuild even if the tag exists"),
) -> None:
    """Build the sandbox image (auto: offline when the registry is unreachable)."""
    if offline and dockerfile:
        raise typer.BadParameter("choose one of --offline and --dockerfile")
    mode = "offline" if offline else "dockerfile" if dockerfile else "auto"
    try:
        tag = build_image(mode, force=force)
    except SandboxError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(tag)


@app.command()
def doctor(
    preflight: bool = typer.Option(True, "--preflight/--no-preflight", help="prove the limits"),
) -> None:
    """Say what is missing and the command that fixes it, then run the preflight."""
    try:
        check(preflight=preflight, say=typer.echo)
    except SandboxError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
