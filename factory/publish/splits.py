"""Configs and splits of a published dataset: names from the spec, splits per config.

Config names are a function of the spec alone, so the next run of the same spec loads
with the same names whatever survived: a spec with one domain gives the ``default``
config; a spec with several gives ``all`` (the default) plus one config per domain, and
so even when only one domain has rows left, its config keeps its name. A domain with no
published rows has no config (``datasets`` cannot load an empty split); the plan says so.

Splits are decided per problem by a hash of (seed, problem id), so every sample of one
problem lands in the same split, and a problem keeps its split when the run grows (an
updated dataset never moves a test problem into train). The rule is applied per config
(per domain), and every config with data keeps a train split: when every problem of a
domain hashes into test, the one with the highest hash goes to train. A config whose
problems all hash into train gets no test split, and the plan says so (a warning).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from factory.publish.errors import PublishError
from factory.publish.run_reader import problem_id_of

DEFAULT_CONFIG = "default"
ALL_CONFIG = "all"


def _hash(problem_id: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(problem_id: str, test_fraction: float, seed: int = 0) -> str:
    """``"test"`` for about ``test_fraction`` of problems, else ``"train"``; stable per id
    (before the per-config guarantee of a train split, see `plan_configs`)."""
    if test_fraction <= 0:
        return "train"
    return "test" if _hash(problem_id, seed) < test_fraction else "train"


def spec_domains(spec: dict[str, Any]) -> list[str]:
    """The domains a spec (as snapshotted in a run) produces, sorted."""
    from factory.errors import SpecError
    from factory.spec import parse_spec

    try:
        parsed = parse_spec(spec, path="spec.yaml (the run's snapshot)")
    except SpecError as exc:
        raise PublishError(f"the run's spec snapshot no longer parses: {exc}") from exc
    declared = getattr(parsed.source.options, "supported_domains", None)
    domains = list(declared()) if callable(declared) else [parsed.domain]
    return sorted(set(domains))


def config_names(domains: list[str]) -> list[str]:
    """``default`` for one domain, else ``all`` then the domains."""
    if len(domains) <= 1:
        return [DEFAULT_CONFIG]
    return [ALL_CONFIG, *sorted(domains)]


def data_dir_of(config: str) -> str:
    """Where a config's Parquet files live (``all`` reads every domain's directory)."""
    return "data" if config == DEFAULT_CONFIG else f"data/{config}"


@dataclass
class SplitPlan:
    """Per config (domain, or ``default``), per split, the rows in store order."""

    configs: dict[str, dict[str, list[dict[str, Any]]]]
    warnings: list[str] = field(default_factory=list)
    # The spec has several domains: the configs are ``all`` and one per domain.
    several: bool = False

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per config and split, ``all`` first when the spec has several domains."""
        out = {c: {s: len(r) for s, r in splits.items()} for c, splits in self.configs.items()}
        if self.several:
            total: dict[str, int] = {}
            for splits in out.values():
                for s, n in splits.items():
                    total[s] = total.get(s, 0) + n
            out = {ALL_CONFIG: _train_first(total), **out}
        return out


def _train_first(splits: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(splits.items(), key=lambda kv: kv[0] != "train"))


def _domain_of(row: dict[str, Any]) -> str:
    return str(row.get("domain") or "unknown")


def plan_configs(
    rows: list[dict[str, Any]],
    *,
    test_fraction: float,
    seed: int,
    domains: list[str] | None = None,
) -> SplitPlan:
    """Split ``rows`` per config; ``domains`` are the spec's (default: the rows')."""
    row_domains = {_domain_of(r) for r in rows}
    domains = sorted(set(domains or []) | row_domains)
    single = len(domains) == 1
    warnings: list[str] = []
    # Per domain: which problems are test.
    test: set[str] = set()
    for domain in domains:
        problems = sorted({problem_id_of(r) for r in rows if _domain_of(r) == domain})
        chosen = {p for p in problems if split_of(p, test_fraction, seed) == "test"}
        if problems and len(chosen) == len(problems):
            # Keep a train split: the problem with the highest hash (the last to turn test
            # as the fraction grows) trains.
            chosen.discard(max(problems, key=lambda p: _hash(p, seed)))
        name = DEFAULT_CONFIG if single else domain
        if test_fraction > 0 and problems and not chosen:
            warnings.append(
                f"config {name}: no test split (none of its {len(problems)} problems hashed "
                f"into the {test_fraction:.0%} test share)"
            )
        if not problems:
            warnings.append(
                f"no config {name}: the spec's domain {domain!r} has no published rows"
            )
        test |= chosen
    configs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        config = DEFAULT_CONFIG if single else _domain_of(row)
        split = "test" if problem_id_of(row) in test else "train"
        configs.setdefault(config, {}).setdefault(split, []).append(row)
    return SplitPlan(
        {c: _train_first(s) for c, s in sorted(configs.items())}, warnings, several=not single
    )
