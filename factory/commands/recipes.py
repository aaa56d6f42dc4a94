"""`factory self-instruct` and `factory evolve`: recipes that run on the pipeline's run loop.

Each writes an ordinary run directory (rows, rejections, state, cache), so `factory
resume`, `stats` and `publish` work on it as on a `factory generate` run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from factory.commands import options as opts
from factory.commands.generate import _mode, execute, open_client
from factory.errors import FactoryError
from factory.run.layout import RunLayout

# Recipes stop by their own rules (target, rounds); the spec's max_problems still caps them.
UNCAPPED = 10**9


@dataclass(frozen=True)
class RunArgs:
    """How a recipe's run is driven: the flags every recipe command shares."""

    out: Path
    resume: bool = False
    llm: str = "anthropic"
    record: Path | None = None
    max_usd: float | None = None
    max_tokens: int | None = None
    concurrency: int = 8
    mode: str = "live"
    request_timeout_s: float | None = None


def _prepared_run(spec: Any, args: RunArgs) -> tuple[Any, Any]:
    """The run a recipe drives, and its client; math references need a majority of solves
    when the spec sets no consensus of its own."""
    from factory.llm.pricing import PriceTable
    from factory.run.engine import Run, RunConfig
    from factory.spec import Consensus

    consensus = spec.consensus
    if consensus is None and spec.domain == "math":
        # A recipe's references are the model's own: a majority of the solves must agree.
        n = spec.samples_per_problem
        consensus = Consensus(k=n // 2 + 1, n=n)
    prices = PriceTable()
    config = RunConfig(
        out=args.out,
        n_problems=UNCAPPED,
        resume=args.resume,
        max_usd=args.max_usd,
        max_tokens=args.max_tokens,
        concurrency=args.concurrency,
    )
    client = open_client(
        spec,
        args.llm,
        args.record,
        RunLayout(args.out),
        False,
        prices,
        request_timeout_s=args.request_timeout_s,
    )
    return Run(spec, config, client, prices=prices, consensus=consensus), client


def self_instruct_command(
    spec_path: Path,
    *,
    seeds: Path | None,
    options: dict[str, Any],
    args: RunArgs,
) -> int:
    """Grow a verified problem pool from seeds; returns the exit code."""
    from factory.recipes.inputs import read_problem_file, shipped_seeds, spec_seed_problems
    from factory.recipes.self_instruct import SelfInstruct, SelfInstructOptions
    from factory.spec import load_spec

    spec = load_spec(spec_path)
    if seeds is None and shipped_seeds(spec).is_file():
        seeds = shipped_seeds(spec)
    seed_problems = read_problem_file(seeds, spec.domain) if seeds else spec_seed_problems(spec)
    feed = SelfInstruct(spec, seed_problems, SelfInstructOptions(**options))
    run, client = _prepared_run(spec, args)
    meta = {
        "command": "self-instruct",
        "spec_path": str(spec_path.resolve()),
        "seeds": str(seeds.resolve()) if seeds else None,
        "options": options,
        "llm": args.llm,
        "request_timeout_s": args.request_timeout_s,
    }
    target = feed.options.target
    return execute(run, client, meta, mode=args.mode, llm=args.llm, feed=feed, shown_total=target)


def evolve_command(
    source: Path,
    *,
    spec_path: Path | None,
    options: dict[str, Any],
    args: RunArgs,
    limit: int | None,
) -> int:
    """Evolve verified problems (a run directory or a problem file); returns the exit code."""
    from factory.recipes.evol_instruct import EvolInstruct, EvolveOptions
    from factory.recipes.inputs import read_problems, read_run_spec
    from factory.spec import load_spec

    if spec_path is not None:
        spec = load_spec(spec_path)
    elif source.is_dir() and RunLayout(source).manifest.exists():
        spec = read_run_spec(source)
    else:
        raise FactoryError(f"{source} is a problem file: pass --spec (it names the models)")
    inputs = read_problems(source, spec.domain)[:limit]
    feed = EvolInstruct(spec, inputs, EvolveOptions(**options))
    run, client = _prepared_run(spec, args)
    meta = {
        "command": "evolve",
        "source": str(source.resolve()),
        "spec_path": str(spec_path.resolve()) if spec_path else None,
        "options": options,
        "limit": limit,
        "llm": args.llm,
        "request_timeout_s": args.request_timeout_s,
    }
    return execute(
        run, client, meta, mode=args.mode, llm=args.llm, feed=feed, shown_total=len(inputs)
    )


def resume_recipe(
    run_dir: Path,
    meta: dict[str, Any],
    *,
    llm: str | None,
    mode: str,
    max_usd: float | None = None,
    max_tokens: int | None = None,
    request_timeout_s: float | None = None,
) -> int:
    """Continue a recipe run from what its invocation.json remembers (new caps if given)."""
    args = RunArgs(
        out=run_dir,
        resume=True,
        llm=llm or meta["llm"],
        mode=mode,
        max_usd=max_usd,
        max_tokens=max_tokens,
        request_timeout_s=request_timeout_s or meta.get("request_timeout_s"),
    )
    if meta["command"] == "self-instruct":
        seeds = meta.get("seeds")
        return self_instruct_command(
            Path(meta["spec_path"]),
            seeds=Path(seeds) if seeds else None,
            options=meta["options"],
            args=args,
        )
    spec_path = meta.get("spec_path")
    return evolve_command(
        Path(meta["source"]),
        spec_path=Path(spec_path) if spec_path else None,
        options=meta["options"],
        limit=meta.get("limit"),
        args=args,
    )


def _run_cli(body: Any) -> None:
    try:
        code = body()
    except FactoryError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # an option model refused a value
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `self-instruct` and `evolve` to the CLI."""

    @app.command("self-instruct")
    def self_instruct_cmd(
        spec: Annotated[Path, typer.Argument(help="A spec with roles.generator (YAML).")],
        target: Annotated[
            int, typer.Option("--target", min=1, help="Verified new problems to add to the pool.")
        ],
        out: Annotated[Path, typer.Option("--out", help="Run directory.")],
        seeds: Annotated[
            Path | None,
            typer.Option(
                "--seeds", help="Seed problems (JSONL/Parquet); default: the spec's examples."
            ),
        ] = None,
        requests_per_round: Annotated[
            int, typer.Option("--requests-per-round", min=1, help="Generator calls per round.")
        ] = 4,
        problems_per_request: Annotated[
            int | None, typer.Option("--problems-per-request", min=1)
        ] = None,
        seeds_per_prompt: Annotated[int, typer.Option("--seeds-per-prompt", min=0)] = 6,
        generated_per_prompt: Annotated[int, typer.Option("--generated-per-prompt", min=0)] = 2,
        rouge_threshold: Annotated[
            float, typer.Option("--rouge-threshold", help="Near-duplicate above this ROUGE-L F.")
        ] = 0.7,
        min_words: Annotated[int, typer.Option("--min-words", min=1)] = 3,
        banned: Annotated[
            list[str] | None,
            typer.Option(
                "--banned-keyword",
                help="Drop problems with this word (repeatable); replaces the default list.",
            ),
        ] = None,
        max_rounds: Annotated[int | None, typer.Option("--max-rounds", min=1)] = None,
        stall_rounds: Annotated[int, typer.Option("--stall-rounds", min=1)] = 10,
        resume: opts.Resume = False,
        llm: opts.Llm = "anthropic",
        record: opts.Record = None,
        max_usd: opts.MaxUsd = None,
        max_tokens: opts.MaxTokens = None,
        concurrency: opts.Concurrency = 8,
        request_timeout: opts.RequestTimeout = None,
        quiet: opts.Quiet = False,
        json_logs: opts.JsonLogs = False,
    ) -> None:
        """Self-Instruct: grow a pool of problems from seeds; a problem joins only once verified."""
        options: dict[str, Any] = {
            "target": target,
            "requests_per_round": requests_per_round,
            "problems_per_request": problems_per_request,
            "seeds_per_prompt": seeds_per_prompt,
            "generated_per_prompt": generated_per_prompt,
            "rouge_threshold": rouge_threshold,
            "min_words": min_words,
            "max_rounds": max_rounds,
            "stall_rounds": stall_rounds,
        }
        if banned is not None:
            options["banned_keywords"] = tuple(banned)
        _run_cli(
            lambda: self_instruct_command(
                spec,
                seeds=seeds,
                options=options,
                args=RunArgs(
                    out,
                    resume,
                    llm,
                    record,
                    max_usd,
                    max_tokens,
                    concurrency,
                    _mode(quiet, json_logs),
                    request_timeout,
                ),
            )
        )

    @app.command("evolve")
    def evolve_cmd(
        source: Annotated[
            Path, typer.Argument(help="A run directory (its verified problems) or a problem file.")
        ],
        out: Annotated[Path, typer.Option("--out", help="Run directory.")],
        rounds: Annotated[int, typer.Option("--rounds", min=1, help="Evolution rounds.")] = 1,
        spec: Annotated[
            Path | None,
            typer.Option("--spec", help="The spec (models, verifier); default: the input run's."),
        ] = None,
        max_depth: Annotated[int, typer.Option("--max-depth", min=1)] = 3,
        operator: Annotated[
            list[str] | None,
            typer.Option(
                "--operator",
                help="Only these operators (repeatable): add_constraints, "
                "deepen, concretize, increase_reasoning, complicate_input, breadth.",
            ),
        ] = None,
        limit: Annotated[
            int | None, typer.Option("--limit", min=1, help="Evolve only the first N inputs.")
        ] = None,
        resume: opts.Resume = False,
        llm: opts.Llm = "anthropic",
        record: opts.Record = None,
        max_usd: opts.MaxUsd = None,
        max_tokens: opts.MaxTokens = None,
        concurrency: opts.Concurrency = 8,
        request_timeout: opts.RequestTimeout = None,
        quiet: opts.Quiet = False,
        json_logs: opts.JsonLogs = False,
    ) -> None:
        """Evol-Instruct: rewrite verified problems into harder ones; each is verified again."""
        options: dict[str, Any] = {"rounds": rounds, "max_depth": max_depth}
        if operator:
            options["operators"] = tuple(operator)
        _run_cli(
            lambda: evolve_command(
                source,
                spec_path=spec,
                options=options,
                limit=limit,
                args=RunArgs(
                    out,
                    resume,
                    llm,
                    record,
                    max_usd,
                    max_tokens,
                    concurrency,
                    _mode(quiet, json_logs),
                    request_timeout,
                ),
            )
        )
