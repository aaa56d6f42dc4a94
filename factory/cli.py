"""The `factory` command line: a thin typer layer over library functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from factory import __version__
from factory.commands import generate as generate_commands
from factory.commands import preferences as preference_commands
from factory.commands import publish as publish_commands
from factory.commands import recipes as recipe_commands
from factory.commands import sandbox as sandbox_commands
from factory.errors import FactoryError
from verifiers import VerifierError, available_verifiers

app = typer.Typer(
    name="factory",
    help="A verified math and code data factory: keep only (problem, solution) pairs that pass.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"factory {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """factory: generate, verify and publish (problem, solution) datasets."""


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@app.command("check-answer")
def check_answer_cmd(
    candidate: Annotated[str, typer.Argument(help="The answer or a whole LLM response.")],
    reference: Annotated[str, typer.Argument(help="The reference answer (LaTeX or plain).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Seconds allowed.")] = 5.0,
) -> None:
    """Judge one math answer against a reference. Exit 0 when correct, 1 otherwise."""
    from verifiers.math import check_answer

    verdict = check_answer(candidate, reference, timeout_s=timeout_s)
    if as_json:
        typer.echo(verdict.model_dump_json(indent=2))
    else:
        colour = typer.colors.GREEN if verdict.passed else typer.colors.RED
        typer.secho(f"{verdict.reason.value}: {verdict.message}", fg=colour)
    raise typer.Exit(code=0 if verdict.passed else 1)


@app.command("verify-file")
def verify_file_cmd(
    path: Annotated[Path, typer.Argument(help="JSONL file: one candidate per line.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every verdict as JSON lines.")
    ] = False,
) -> None:
    """Verify every candidate of a JSONL answer file and summarise what is kept and why not."""
    from factory.answer_file import verify_answer_file

    try:
        report = verify_answer_file(path)
    except (FactoryError, VerifierError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        for r in report.results:
            typer.echo(json.dumps({"id": r.id, **r.verdict.model_dump(mode="json")}))
        return
    for r in report.results:
        mark = "kept    " if r.verdict.passed else "rejected"
        typer.echo(f"{mark} {r.id:<24} {r.verdict.reason.value:<16} {r.verdict.message[:70]}")
    total = len(report.results)
    typer.echo("")
    typer.echo(f"{len(report.kept)} of {total} candidates verified and kept")
    for reason, count in sorted(report.reasons().items()):
        typer.echo(f"  {reason:<16} {count}")
    disagreements = report.disagreements()
    labelled = sum(1 for r in report.results if r.expected is not None)
    if labelled:
        typer.echo(f"agreement with labels: {labelled - len(disagreements)}/{labelled}")


@app.command("verifiers")
def list_verifiers_cmd() -> None:
    """List the verifiers that are installed (built-in and plugins)."""
    try:
        names = available_verifiers()
    except VerifierError as exc:
        raise _fail(str(exc)) from None
    for name in names:
        typer.echo(name)


generate_commands.register(app)
publish_commands.register(app)
preference_commands.register(app)
recipe_commands.register(app)
app.add_typer(sandbox_commands.app, name="sandbox")


if __name__ == "__main__":  # pragma: no cover
    app()
