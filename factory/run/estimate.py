"""`--dry-run`: how many calls, tokens and USD a run would take, before anything is spent."""

from __future__ import annotations

import typer
from pydantic import BaseModel

from factory.llm.pricing import PriceTable
from factory.llm.types import LLMRequest, Usage
from factory.problem import Problem, Reference
from factory.run.budget import estimate_prompt_tokens
from factory.run.engine import RunConfig
from factory.run.solver import solver_request
from factory.spec import Spec

# Answers rarely use the whole max_tokens; half is the planning figure, max is the bound.
TYPICAL_OUTPUT_FRACTION = 0.5


class RoleEstimate(BaseModel):
    """Calls and tokens of one role."""

    role: str
    model: str
    calls: int
    input_tokens: int
    typical_output_tokens: int
    max_output_tokens: int
    typical_usd: float
    max_usd: float


class RunEstimate(BaseModel):
    """The whole run's estimate."""

    spec: str
    problems: int
    samples_per_problem: int
    roles: list[RoleEstimate]

    @property
    def typical_usd(self) -> float:
        return sum(r.typical_usd for r in self.roles)

    @property
    def max_usd(self) -> float:
        return sum(r.max_usd for r in self.roles)


def _role(role: str, requests: list[LLMRequest], prices: PriceTable) -> RoleEstimate:
    inp = sum(estimate_prompt_tokens(r) for r in requests)
    out_max = sum(r.max_tokens for r in requests)
    out_typ = int(out_max * TYPICAL_OUTPUT_FRACTION)
    model = requests[0].model if requests else ""
    return RoleEstimate(
        role=role,
        model=model,
        calls=len(requests),
        input_tokens=inp,
        typical_output_tokens=out_typ,
        max_output_tokens=out_max,
        typical_usd=prices.cost_usd(model, Usage(input_tokens=inp, output_tokens=out_typ))
        if requests
        else 0.0,
        max_usd=prices.cost_usd(model, Usage(input_tokens=inp, output_tokens=out_max))
        if requests
        else 0.0,
    )


def estimate_run(spec: Spec, config: RunConfig, prices: PriceTable) -> RunEstimate:
    """Estimate a run of ``spec`` with ``config`` (no network, no spend)."""
    n = min(config.n_problems, spec.budget.max_problems or config.n_problems)
    source = spec.build_source()
    roles: list[RoleEstimate] = []
    if hasattr(source, "build_requests"):
        roles.append(_role("generator", source.build_requests(spec, n, spec.seed), prices))
        # Statements are not known yet: stand in the seed examples (or a typical length).
        statements = [e.statement for e in spec.examples] or ["x" * 600]
        problems = [
            Problem(
                statement=statements[i % len(statements)],
                domain=spec.domain,
                reference=Reference(answer="0"),
                trust="generated",
                source="estimate",
            )
            for i in range(n)
        ]
    else:
        problems = list(source.problems(n, spec.seed))
    solver = [solver_request(spec, p, i) for p in problems for i in range(spec.samples_per_problem)]
    roles.append(_role("solver", solver, prices))
    return RunEstimate(
        spec=spec.name, problems=n, samples_per_problem=spec.samples_per_problem, roles=roles
    )


def print_estimate(estimate: RunEstimate) -> None:
    """Print the estimate as a small table."""
    typer.echo(
        f"dry run of spec {estimate.spec}: {estimate.problems} problems x "
        f"{estimate.samples_per_problem} samples; nothing was sent"
    )
    typer.echo(
        f"{'role':<10} {'model':<22} {'calls':>6} {'input tok':>10} {'output tok':>16} "
        f"{'USD typical':>12} {'USD max':>10}"
    )
    for r in estimate.roles:
        typer.echo(
            f"{r.role:<10} {r.model:<22} {r.calls:>6} {r.input_tokens:>10} "
            f"{r.typical_output_tokens:>7}-{r.max_output_tokens:<8} {r.typical_usd:>12.4f} "
            f"{r.max_usd:>10.4f}"
        )
    typer.echo(
        f"total: ${estimate.typical_usd:.4f} typical, ${estimate.max_usd:.4f} at most "
        "(output at half / all of max_tokens; prompt caching would lower it)"
    )
