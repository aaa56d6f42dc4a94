"""CLI options that several commands share, declared once so they read and behave the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# -- running against an LLM
Llm = Annotated[
    str,
    typer.Option("--llm", help="anthropic | anthropic:URL | openai:URL | replay:FILE"),
]
Record = Annotated[
    Path | None, typer.Option("--record", help="Save every LLM request/response here.")
]
Resume = Annotated[bool, typer.Option("--resume", help="Continue the run in --out.")]
MaxUsd = Annotated[float | None, typer.Option("--max-usd", help="Hard cap in USD.")]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", help="Hard cap in tokens.")]
RequestTimeout = Annotated[
    float | None,
    typer.Option(
        "--request-timeout",
        min=0.1,
        help="Seconds one LLM request may take before it is abandoned and retried (default 120).",
    ),
]
Concurrency = Annotated[int, typer.Option("--concurrency", min=1, help="Problems in flight.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No live progress.")]
JsonLogs = Annotated[
    bool, typer.Option("--json-logs", help="Progress and summary as JSON lines.")
]

# -- publishing a dataset (and pushing it to the Hub)
License = Annotated[
    str,
    typer.Option(
        "--license", help="Hub licence id for the card, e.g. cc-by-4.0 (default: other)."
    ),
]
LicenseName = Annotated[
    str | None,
    typer.Option("--license-name", help="With --license other: your licence's id."),
]
LicenseLink = Annotated[
    str | None,
    typer.Option("--license-link", help="With --license other: URL (or repo file) of it."),
]
IncludeSystem = Annotated[
    bool,
    typer.Option(
        "--include-system/--exclude-system",
        help="Start every chat with the spec's solver system prompt and few-shot turns.",
    ),
]
PrettyName = Annotated[str | None, typer.Option("--pretty-name", help="Title of the card.")]
RepoId = Annotated[
    str | None, typer.Option("--repo-id", help="Also push to the Hub as USER/NAME.")
]
Private = Annotated[bool, typer.Option("--private", help="Create the Hub repo private.")]
Revision = Annotated[str | None, typer.Option("--revision", help="Hub branch to commit to.")]
Message = Annotated[str | None, typer.Option("--message", help="Hub commit message.")]
Force = Annotated[
    bool,
    typer.Option("--force", help="Push even over a dataset another spec (or user) made."),
]
