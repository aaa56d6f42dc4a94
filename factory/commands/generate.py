"""`factory generate` and `factory resume`: run a spec into a run directory."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from factory.commands import options as opts
from factory.errors import FactoryError
from factory.run.disk_full import disk_full_error, is_disk_full
from factory.run.layout import RunLayout

KEY_ENV = "ANTHROPIC_API_KEY"
STALLED_S = 20.0  # a call waiting this long is named in the progress panel


def open_client(
    spec: Any,
    llm: str,
    record: Path | None,
    layout: RunLayout,
    batch: bool,
    prices: Any,
    batch_poll_s: float = 30.0,
    request_timeout_s: float | None = None,
) -> Any:
    """The LLM client stack: provider (or replay), optional recorder, then the run's cache;
    after the checks that need no call (API key, sampling parameters). ``request_timeout_s``
    bounds each HTTP request (the SDK's default otherwise)."""
    layout.check_usable()
    if llm.startswith("anthropic"):
        _check_anthropic_sampling(spec)
    if llm == "anthropic" and not _has_key():
        raise FactoryError(
            f"no API key: set {KEY_ENV}, or run offline with --llm replay:FILE "
            "(e.g. the quickstart's recorded responses)"
        )
    from factory.llm.cache import CachedClient, ResponseCache
    from factory.llm.registry import make_client
    from factory.llm.replay import RecordingClient

    kwargs: dict[str, Any] = {}
    if not llm.startswith("replay:"):
        kwargs["prices"] = prices
        if request_timeout_s is not None:
            kwargs["timeout_s"] = request_timeout_s
    try:
        inner = make_client(llm, **kwargs)
    except ValueError as exc:
        raise FactoryError(f"--llm: {exc}") from None
    if batch:
        if not llm.startswith("anthropic"):
            raise FactoryError("--batch needs an Anthropic client (--llm anthropic[:URL])")
        from factory.llm.batching import BatchingClient

        inner = BatchingClient(inner, layout.batches, poll_interval_s=batch_poll_s)
    if record is not None:
        inner = RecordingClient(inner, record)
    layout.root.mkdir(parents=True, exist_ok=True)
    return CachedClient(inner, ResponseCache(layout.llm_cache))


def _table(progress: Any, n: int) -> Any:
    """The live progress panel (rich)."""
    from rich.table import Table

    elapsed = max(1e-6, time.monotonic() - progress.started)
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row(
        "problems",
        f"{progress.problems_added}/{n} added, {progress.problems_done} done, "
        f"{progress.problems_dropped} dropped",
    )
    table.add_row(
        "candidates",
        f"{progress.candidates_solved} solved, {progress.candidates_verified} verified, "
        f"{progress.kept} kept ({progress.candidates_verified / elapsed:.1f} verified/s)",
    )
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(progress.rejected.items())) or "none"
    table.add_row("rejected", rejected)
    llm = (
        f"{progress.spent_tokens} tokens, ${progress.spent_usd:.4f}, "
        f"{progress.cache_hits} answered from cache, {progress.calls_in_flight} in flight"
    )
    waited = progress.oldest_call_s()
    if waited >= STALLED_S:
        llm += f" (oldest waiting {waited:.0f}s)"
    table.add_row("LLM", llm)
    return table


async def _drive(run: Any, n: int, mode: str, feed: Any = None) -> Any:
    """Run with live progress and two-stage Ctrl-C (finish in flight, then abort)."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    presses = 0

    def on_sigint() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            run.request_stop("interrupted (Ctrl-C): in-flight work finished and kept")
            typer.echo(
                "\nstopping: finishing in-flight work (Ctrl-C again to abort; --resume continues)",
                err=True,
            )
        elif main is not None:
            main.cancel()

    run.open()  # a refusal (live, damaged or foreign run) comes before any progress output
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    ticker: asyncio.Task | None = None
    live: Any = None
    if mode == "live":
        from rich.console import Console
        from rich.live import Live

        # On a terminal the panel refreshes in place; in a log only the final state is printed.
        live = Live(_table(run.progress, n), console=Console(stderr=True), auto_refresh=False)
        live.start()

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.5 if mode == "live" else 5.0)
            run.refresh_progress()
            if mode == "json":
                typer.echo(json.dumps({"event": "progress", **_progress_dict(run.progress)}))
            else:
                live.update(_table(run.progress, n), refresh=True)

    if mode != "quiet":
        ticker = asyncio.create_task(tick())
    try:
        return await run.execute(feed)
    finally:
        if ticker is not None:
            ticker.cancel()
        if live is not None:
            live.update(_table(run.progress, n), refresh=True)
            live.stop()
        loop.remove_signal_handler(signal.SIGINT)


def _progress_dict(progress: Any) -> dict[str, Any]:
    return {
        "problems_added": progress.problems_added,
        "problems_done": progress.problems_done,
        "problems_dropped": progress.problems_dropped,
        "candidates_solved": progress.candidates_solved,
        "candidates_verified": progress.candidates_verified,
        "kept": progress.kept,
        "rejected": dict(progress.rejected),
        "tokens": progress.spent_tokens,
        "usd": round(progress.spent_usd, 6),
        "calls_in_flight": progress.calls_in_flight,
        "oldest_call_s": round(progress.oldest_call_s(), 1),
    }


def print_summary(summary: Any, *, replay: str | None) -> None:
    """The end-of-run report a person reads."""
    typer.echo("")
    if replay:
        typer.secho(
            f"LLM responses were REPLAYED from {replay} (recorded earlier, no model was called).",
            fg=typer.colors.YELLOW,
        )
    p = summary.problems
    typer.echo(f"run {summary.run_dir} (spec {summary.spec_name}, hash {summary.spec_hash})")
    typer.echo(
        f"problems: {p['total']} total, {p['done']} done, {p['dropped']} dropped, {p['open']} open"
    )
    typer.echo(f"kept rows: {summary.kept_rows}")
    if summary.shortfall:
        typer.secho(f"fewer problems than asked for: {summary.shortfall}", fg=typer.colors.YELLOW)
    if summary.rejections:
        typer.echo("rejected, by reason:")
        for reason, count in sorted(summary.rejections.items()):
            typer.echo(f"  {reason:<24} {count}")
    if summary.recipe:
        print_recipe(summary.recipe)
    per_row = "n/a" if summary.usd_per_kept_row is None else f"${summary.usd_per_kept_row:.6f}"
    typer.echo(
        f"LLM: {summary.llm_calls} calls, {summary.tokens} tokens, ${summary.cost_usd:.4f} "
        f"({per_row} per kept row)"
    )
    if summary.stopped:
        colour = typer.colors.RED if summary.failed else typer.colors.YELLOW
        typer.secho(f"stopped early: {summary.stopped}", fg=colour)
        typer.echo(f"continue with: {resume_hint(summary)}")
    typer.echo(f"rows: {summary.run_dir}/rows/  rejections: {summary.run_dir}/rejections.jsonl")


def resume_hint(summary: Any) -> str:
    """The command that continues a stopped run (a budget stop needs a higher cap)."""
    command = f"factory resume {summary.run_dir}"
    stopped = summary.stopped or ""
    for cap in ("max_usd", "max_tokens"):
        if stopped.startswith(f"{cap} reached"):
            flag = "--" + cap.replace("_", "-")
            return f"{command} {flag} N (N above {summary.caps.get(cap)}: the cap binds the run)"
    return command


def print_recipe(recipe: dict[str, Any]) -> None:
    """A recipe's rounds: what each one proposed, what survived, and why the rest died."""
    name = recipe.get("name", "recipe")
    if name == "self_instruct":
        typer.echo(
            f"self-instruct pool: {recipe['pool_size']} ({recipe['seeds']} seeds + "
            f"{recipe['generated_in_pool']} verified generated; target {recipe['target']})"
        )
    else:
        typer.echo(f"{name}: {recipe.get('inputs', 0)} input problems")
    for entry in recipe.get("rounds", []):
        tried = entry.get("proposed", entry.get("attempted", 0))
        kept = entry.get("verified", entry.get("survived", 0))
        died = entry.get("dropped", entry.get("died", {}))
        why = ", ".join(f"{k} {v}" for k, v in sorted(died.items())) or "none"
        extra = f", {entry['open']} open" if entry.get("open") else ""
        if entry.get("final"):
            extra += f", {entry['final']} at max depth"
        typer.echo(f"  round {entry['round']}: {kept}/{tried} survived{extra}; died: {why}")


def run_command(
    spec_path: Path,
    *,
    n: int,
    out: Path,
    resume: bool,
    llm: str,
    record: Path | None,
    batch: bool,
    dry_run: bool,
    max_usd: float | None,
    max_tokens: int | None,
    concurrency: int,
    prices_path: Path | None,
    mode: str,
    batch_poll_s: float = 30.0,
    request_timeout_s: float | None = None,
) -> int:
    """Shared body of `generate` and `resume`; returns the exit code."""
    from factory.llm.pricing import PriceTable
    from factory.run.engine import Run, RunConfig
    from factory.run.estimate import estimate_run, print_estimate
    from factory.spec import load_spec

    spec = load_spec(spec_path)
    prices = PriceTable.from_yaml(prices_path) if prices_path else PriceTable()
    config = RunConfig(
        out=out,
        n_problems=n,
        resume=resume,
        max_usd=max_usd,
        max_tokens=max_tokens,
        concurrency=concurrency,
    )
    if dry_run:
        print_estimate(estimate_run(spec, config, prices))
        return 0
    layout = RunLayout(out)
    client = open_client(
        spec, llm, record, layout, batch, prices, batch_poll_s, request_timeout_s
    )
    run = Run(spec, config, client, prices=prices)
    meta = {
        "spec_path": str(spec_path.resolve()),
        "n": n,
        "llm": llm,
        "batch": batch,
        "batch_poll_s": batch_poll_s,
        "request_timeout_s": request_timeout_s,
    }
    return execute(run, client, meta, mode=mode, llm=llm)


def execute(
    run: Any,
    client: Any,
    meta: dict[str, Any],
    *,
    mode: str,
    llm: str,
    feed: Any = None,
    shown_total: int | None = None,
) -> int:
    """Drive ``run`` (with ``feed`` replacing the spec's source, if given) to its end, print the
    summary, and return the exit code. ``meta`` is remembered for `factory resume RUN`."""

    async def main() -> Any:
        try:
            return await _drive(run, shown_total or run.n_problems, mode, feed)
        finally:
            await client.aclose()

    try:
        _remember(run.layout, meta)  # before any work, so `factory resume RUN` works after a kill
        summary = asyncio.run(main())
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full_error(run.layout.root, exc) from None
        raise
    except (asyncio.CancelledError, KeyboardInterrupt):
        typer.secho(
            f"aborted; every verified row so far is kept. Continue with: factory resume "
            f"{run.layout.root}",
            fg=typer.colors.YELLOW,
            err=True,
        )
        return 130
    if mode == "json":
        typer.echo(json.dumps({"event": "summary", **summary.model_dump()}))
    elif mode != "quiet":
        print_summary(
            summary, replay=llm.removeprefix("replay:") if llm.startswith("replay:") else None
        )
    return 1 if summary.failed else 0


def _check_anthropic_sampling(spec: Any) -> None:
    """Fail before any call: the Anthropic API (version 2026-10-21) takes no temperature."""
    roles = {"solver": spec.roles.solver, "generator": spec.roles.generator}
    for name, role in roles.items():
        if role is not None and role.temperature != 1.0:
            where = spec.path or spec.name
            raise FactoryError(
                f"{where}: field 'roles.{name}.temperature': {role.temperature} cannot be sent to "
                "the Anthropic API (version 2026-10-21 takes no sampling parameters); set 1.0, "
                "or use an OpenAI-compatible server (--llm openai:URL)"
            )


def _has_key() -> bool:
    import os

    return bool(os.environ.get(KEY_ENV))


def _remember(layout: RunLayout, meta: dict[str, Any]) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    path = layout.root / "invocation.json"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
        tmp.replace(path)


def recall(run_dir: Path) -> dict[str, Any]:
    """How a run was started (spec path, n, llm), for `factory resume RUN`."""
    layout = RunLayout(run_dir)
    path = run_dir / "invocation.json"
    if path.is_file() and layout.root.is_dir() and not layout.manifest.exists():
        # Stopped before its first step (e.g. killed during the sandbox preflight): nothing
        # was done yet, and resuming starts it.
        return json.loads(path.read_text())
    layout.read_manifest()
    if not path.is_file():
        raise FactoryError(
            f"{run_dir}: no invocation.json; resume with `factory generate --resume`"
        )
    return json.loads(path.read_text())


def _mode(quiet: bool, json_logs: bool) -> str:
    if json_logs:
        return "json"
    if quiet:
        return "quiet"
    return "live"


def register(app: typer.Typer) -> None:
    """Add `generate` and `resume` to the CLI."""

    @app.command("generate")
    def generate_cmd(
        spec: Annotated[
            Path, typer.Argument(help="A problem spec (YAML), e.g. problem_specs/quickstart.yaml.")
        ],
        n: Annotated[int, typer.Option("--n", min=1, help="How many problems.")] = 10,
        out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path("runs/run"),
        resume: opts.Resume = False,
        llm: Annotated[
            str,
            typer.Option(
                "--llm",
                help="anthropic | anthropic:URL | openai:URL | replay:FILE (recorded responses)",
            ),
        ] = "anthropic",
        record: opts.Record = None,
        batch: Annotated[
            bool, typer.Option("--batch", help="Use the Message Batches API (half price).")
        ] = False,
        batch_poll_s: Annotated[
            float, typer.Option("--batch-poll-s", min=0.01, help="Seconds between batch polls.")
        ] = 30.0,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Estimate tokens and USD; spend nothing.")
        ] = False,
        max_usd: opts.MaxUsd = None,
        max_tokens: opts.MaxTokens = None,
        concurrency: opts.Concurrency = 8,
        request_timeout: opts.RequestTimeout = None,
        prices: Annotated[Path | None, typer.Option("--prices", help="Price table YAML.")] = None,
        quiet: opts.Quiet = False,
        json_logs: opts.JsonLogs = False,
    ) -> None:
        """Turn a spec into verified (problem, solution) rows in a resumable run directory."""
        try:
            code = run_command(
                spec,
                n=n,
                out=out,
                resume=resume,
                llm=llm,
                record=record,
                batch=batch,
                dry_run=dry_run,
                max_usd=max_usd,
                max_tokens=max_tokens,
                concurrency=concurrency,
                prices_path=prices,
                mode=_mode(quiet, json_logs),
                batch_poll_s=batch_poll_s,
                request_timeout_s=request_timeout,
            )
        except FactoryError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        raise typer.Exit(code)

    @app.command("resume")
    def resume_cmd(
        run_dir: Annotated[
            Path, typer.Argument(help="A run directory made by `factory generate`.")
        ],
        llm: Annotated[str | None, typer.Option("--llm", help="Override the LLM client.")] = None,
        max_usd: Annotated[
            float | None,
            typer.Option("--max-usd", help="A new hard cap in USD (default: the run's own)."),
        ] = None,
        max_tokens: Annotated[
            int | None,
            typer.Option("--max-tokens", help="A new hard cap in tokens (default: the run's own)."),
        ] = None,
        request_timeout: opts.RequestTimeout = None,
        quiet: Annotated[bool, typer.Option("--quiet")] = False,
        json_logs: Annotated[bool, typer.Option("--json-logs")] = False,
    ) -> None:
        """Continue a stopped or killed run where it left off, under the caps it was given."""
        try:
            meta = recall(run_dir)
            if meta.get("command") in ("self-instruct", "evolve"):
                from factory.commands.recipes import resume_recipe

                raise typer.Exit(
                    resume_recipe(
                        run_dir,
                        meta,
                        llm=llm,
                        mode=_mode(quiet, json_logs),
                        max_usd=max_usd,
                        max_tokens=max_tokens,
                        request_timeout_s=request_timeout,
                    )
                )
            code = run_command(
                Path(meta["spec_path"]),
                n=meta["n"],
                out=run_dir,
                resume=True,
                llm=llm or meta["llm"],
                record=None,
                batch=bool(meta.get("batch", False)),
                dry_run=False,
                max_usd=max_usd,
                max_tokens=max_tokens,
                concurrency=8,
                prices_path=None,
                mode=_mode(quiet, json_logs),
                batch_poll_s=float(meta.get("batch_poll_s", 30.0)),
                request_timeout_s=request_timeout or meta.get("request_timeout_s"),
            )
        except FactoryError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        raise typer.Exit(code)


__all__ = ["print_summary", "recall", "register", "run_command"]
