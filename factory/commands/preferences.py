"""`factory preferences`: verified preference pairs (DPO data) from a run's candidates."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from factory.commands import options as opts
from factory.errors import FactoryError


class LengthChoice(StrEnum):
    """The values of ``factory.recipes.preferences.LengthControl``, for --help; that module
    is imported only when the command runs (it pulls in pyarrow)."""

    none = "none"
    ratio = "ratio"
    balance = "balance"


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _options_error(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        message = e["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _length(stats: dict) -> str:
    if not stats["pairs"]:
        return "no pairs"
    return (
        f"chosen {stats['mean_chosen_chars']:.1f} vs rejected {stats['mean_rejected_chars']:.1f} "
        f"chars, chosen longer in {stats['chosen_longer_fraction']:.0%} of {stats['pairs']}"
    )


def register(app: typer.Typer) -> None:
    """Add `preferences` to the CLI."""

    @app.command("preferences")
    def preferences_cmd(
        run_dir: Annotated[
            Path, typer.Argument(help="A run directory made by `factory generate`.")
        ],
        out: Annotated[
            Path, typer.Option("--out", help="Directory for the dataset (Parquet + README.md).")
        ],
        max_pairs: Annotated[
            int,
            typer.Option(
                "--max-pairs-per-prompt",
                min=1,
                help="Pairs per prompt; a response is reused only when more are asked than "
                "distinct responses allow.",
            ),
        ] = 1,
        hard_negatives: Annotated[
            bool,
            typer.Option(
                "--hard-negatives/--no-hard-negatives",
                help="Closest failing response first, or a seeded random choice.",
            ),
        ] = True,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the random choice.")] = 0,
        length_control: Annotated[
            LengthChoice,
            typer.Option(
                "--length-control",
                help="none; ratio (longer/shorter <= --max-length-ratio); balance (at most "
                "half of the pairs have the longer chosen response).",
            ),
        ] = LengthChoice.none,
        max_length_ratio: Annotated[
            float | None,
            typer.Option("--max-length-ratio", help="Bound of --length-control ratio (2.0)."),
        ] = None,
        test_fraction: Annotated[
            float,
            typer.Option(
                "--test-fraction", min=0.0, max=0.99, help="Share of prompts in a test split."
            ),
        ] = 0.0,
        split_seed: Annotated[
            int, typer.Option("--split-seed", help="Seed of the split (as `publish --seed`).")
        ] = 0,
        exclude_truncated: Annotated[
            bool,
            typer.Option(
                "--exclude-truncated",
                help="Leave out pairs whose rejected response stopped at max_tokens.",
            ),
        ] = False,
        include_system: opts.IncludeSystem = True,
        license_: opts.License = "other",
        license_name: opts.LicenseName = None,
        license_link: opts.LicenseLink = None,
        pretty_name: opts.PrettyName = None,
        repo_id: opts.RepoId = None,
        private: opts.Private = False,
        revision: opts.Revision = None,
        message: opts.Message = None,
        force: opts.Force = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Pair verified (chosen) and failed (rejected) candidates of a run into a DPO dataset."""
        from factory.publish.card import CardOptions
        from factory.publish.hub import push_dataset
        from factory.recipes.preferences import (
            KIND,
            LengthControl,
            PreferenceOptions,
            build_preference_pairs,
            publish_preferences,
        )

        try:
            options = PreferenceOptions(
                max_pairs_per_prompt=max_pairs,
                hard_negatives=hard_negatives,
                seed=seed,
                length_control=LengthControl(length_control.value),
                max_length_ratio=max_length_ratio,
                exclude_truncated=exclude_truncated,
                include_system=include_system,
            )
        except ValidationError as exc:
            raise _fail(f"bad options: {_options_error(exc)}") from None
        try:
            prefs = build_preference_pairs(run_dir, options)
            if any(p.state == "open" for p in prefs.run.problems):
                typer.secho(
                    "warning: the run did not finish (open problems); pairing what it decided",
                    fg=typer.colors.YELLOW,
                    err=True,
                )
            card = CardOptions(
                license=license_,
                license_name=license_name,
                license_link=license_link,
                pretty_name=pretty_name,
                repo_id=repo_id,
            )
            result = publish_preferences(
                prefs, out, test_fraction=test_fraction, split_seed=split_seed, card_options=card
            )
            for warning in [*result.warnings, card.licence_warning()]:
                if warning is not None:
                    typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
            pushed = None
            if repo_id:
                run = prefs.run
                pushed = push_dataset(
                    out,
                    repo_id,
                    spec_name=run.spec_name,
                    message=message
                    or (
                        f"factory preferences: {run.spec_name} (spec hash {run.spec_hash}), "
                        f"{len(prefs.pairs)} pairs"
                    ),
                    private=private,
                    revision=revision,
                    force=force,
                    kind=KIND,
                )
        except FactoryError as exc:
            raise _fail(str(exc)) from None
        summary = prefs.to_dict()
        if as_json:
            typer.echo(json.dumps(summary, indent=2, sort_keys=True))
        else:
            typer.echo(
                f"{summary['pairs']} pairs from {summary['prompts']} of {summary['problems']} "
                f"problems ({options.describe()})"
            )
            for why, n in summary["skipped"].items():
                typer.echo(f"  no pair: {why} {n}")
            reasons = ", ".join(f"{r} {n}" for r, n in summary["rejected_reasons"].items())
            typer.echo(f"rejected: {reasons}")
            typer.echo(f"length before control: {_length(summary['length_before'])}")
            typer.echo(f"length published:      {_length(summary['length_after'])}")
            for config, splits in result.counts().items():
                parts = ", ".join(f"{split} {n}" for split, n in splits.items())
                typer.echo(f"config {config}: {parts}")
            typer.echo(f"wrote {out} ({len(result.files)} files)")
        if pushed is not None:
            verb = "created and pushed" if pushed.created_repo else "pushed"
            typer.echo(
                f"{verb} {pushed.repo_id}@{pushed.revision}: {pushed.commit_url}", err=as_json
            )


__all__ = ["register"]
