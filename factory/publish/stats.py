"""What a run produced: the funnel, pass rates, coverage, cost, lengths and diversity.

Everything is computed from the run's state store (via `read_run`), so the numbers
match what `factory publish` writes. `RunStats.to_dict()` is the `--json` output
and what the dataset card renders.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from factory.publish.dedup import publishable_rows
from factory.publish.diversity import Diversity, measure, words
from factory.publish.providers import RunProviders
from factory.publish.run_reader import RunData, problem_id_of
from verifiers import Reason

NEAR_DUPLICATE_THRESHOLD = 0.8


@dataclass
class RunStats:
    """The measured run. ``to_dict`` is stable and JSON-ready."""

    spec_name: str
    spec_hash: str
    problems: dict[str, int]
    dropped_by_reason: dict[str, int]
    funnel: dict[str, dict[str, int]]
    rejections: dict[str, dict[str, int]]
    pass_rates: dict[str, Any]
    by_domain: dict[str, dict[str, int]]
    by_topic: dict[str, dict[str, int]]
    by_difficulty: dict[str, dict[str, int]]
    cost: dict[str, Any]
    lengths: dict[str, dict[str, float]]
    diversity: Diversity
    excluded: int
    duplicates: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec_name": self.spec_name,
            "spec_hash": self.spec_hash,
            "problems": self.problems,
            "dropped_by_reason": self.dropped_by_reason,
            "funnel": self.funnel,
            "rejections": self.rejections,
            "pass_rates": self.pass_rates,
            "by_domain": self.by_domain,
            "by_topic": self.by_topic,
            "by_difficulty": self.by_difficulty,
            "cost": self.cost,
            "lengths": self.lengths,
            "diversity": self.diversity.to_dict(),
            "excluded_problems": self.excluded,
            "duplicate_rows": self.duplicates,
        }


def compute_stats(
    run: RunData,
    *,
    near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD,
    keep_duplicates: bool = False,
) -> RunStats:
    """Measure ``run``; rows of excluded problems count as kept but not published, and so do
    exact duplicates of an earlier row unless ``keep_duplicates`` (as `factory publish`)."""
    published, duplicates = publishable_rows(run, keep_duplicates=keep_duplicates)
    states = Counter(p.state for p in run.problems)
    samples = [c for cands in run.candidates.values() for c in cands]
    answered = [c for c in samples if c.get("response") is not None]
    checked = [c for c in answered if not _unverifiable(c)]
    funnel = {
        # Two funnels, never mixed in one chart: problems, and solver samples (responses).
        "problems": {
            "generated": len(run.problems),
            "done": states["done"],
            "kept": len({problem_id_of(r) for r in run.rows}),
            "published": len({problem_id_of(r) for r in published}),
        },
        "samples": {
            "answered": len(answered),
            "checked": len(checked),
            "passed": sum(1 for c in checked if (c.get("verdict") or {}).get("passed")),
            "kept": len(run.rows),
            "published": len(published),
        },
    }
    rejections: dict[str, Counter[str]] = defaultdict(Counter)
    for record in run.rejections:
        rejections[str(record.get("stage", "?"))][str(record.get("reason", "?"))] += 1
    return RunStats(
        spec_name=run.spec_name,
        spec_hash=run.spec_hash,
        problems={
            "total": len(run.problems),
            "done": states["done"],
            "dropped": states["dropped"],
            "open": states["open"],
        },
        dropped_by_reason=_sorted(
            Counter(p.note or "?" for p in run.problems if p.state == "dropped")
        ),
        funnel=funnel,
        rejections={stage: _sorted(c) for stage, c in sorted(rejections.items())},
        pass_rates=_pass_rates(run),
        by_domain=_coverage(run, published, "domain"),
        by_topic=_coverage(run, published, "topic"),
        by_difficulty=_coverage(run, published, "difficulty"),
        cost=_cost(run),
        lengths=_lengths(published),
        diversity=_diversity(published, near_duplicate_threshold),
        excluded=len(run.excluded),
        duplicates=duplicates,
    )


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))


def _pass_rates(run: RunData) -> dict[str, Any]:
    """pass@1 (mean share of passing samples) and pass@n (share with any pass), per problem."""
    shares: list[float] = []
    any_pass: list[bool] = []
    distribution: Counter[str] = Counter()
    for problem in run.problems:
        cands = run.candidates.get(problem.id)
        if not cands:
            continue
        n = len(cands)
        c = sum(1 for x in cands if x.get("verdict", {}).get("passed"))
        shares.append(c / n)
        any_pass.append(c > 0)
        distribution[f"{c}/{n}"] += 1
    return {
        "problems": len(shares),
        "pass@1": round(statistics.fmean(shares), 4) if shares else None,
        "pass@n": round(sum(any_pass) / len(any_pass), 4) if any_pass else None,
        # "c/n": how many problems had c of their n samples pass.
        "distribution": dict(sorted(distribution.items(), key=lambda kv: _fraction_key(kv[0]))),
    }


def _fraction_key(text: str) -> tuple[int, int]:
    c, n = text.split("/")
    return int(n), int(c)


def _label(value: Any) -> str:
    return "(none)" if value in (None, "") else str(value)


def _coverage(run: RunData, published: list[dict[str, Any]], key: str) -> dict[str, dict[str, int]]:
    """Problems and published rows per value of ``key`` (domain, topic or difficulty)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for problem in run.problems:
        out[_label(problem.data.get(key))]["problems"] += 1
    for row in published:
        out[_label(row.get(key))]["rows"] += 1
    return {k: {"problems": v["problems"], "rows": v["rows"]} for k, v in sorted(out.items())}


def _unverifiable(candidate: dict[str, Any]) -> bool:
    """No verdict on the response itself (the verifier's machinery or the reference failed)."""
    reason = (candidate.get("verdict") or {}).get("reason")
    try:
        return Reason(reason).is_unverifiable
    except ValueError:
        return False


def _cost(run: RunData) -> dict[str, Any]:
    """Calls, tokens and cost. Only calls a provider charged for are cost: a replayed or
    scripted response, or one from a server on the run's machine, was paid by nobody."""
    providers = RunProviders(run)
    roles: dict[str, dict[str, Any]] = {}
    by_provider: dict[str, dict[str, Any]] = {}
    paid_usd = 0.0
    paid_calls = 0
    for s in run.spend:
        provider = providers.of_spend(s)
        usd = s.cost_usd if provider.paid else 0.0
        paid_usd += usd
        paid_calls += provider.paid
        entry = roles.setdefault(
            s.role,
            {
                "calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
                "models": [], "providers": [],
            },
        )  # fmt: skip
        entry["calls"] += 1
        entry["input_tokens"] += s.input_tokens
        entry["output_tokens"] += s.output_tokens
        entry["cost_usd"] += usd
        for key, value in (("models", s.model), ("providers", provider.name)):
            if value not in entry[key]:
                entry[key].append(value)
        where = by_provider.setdefault(
            provider.name,
            {"kind": provider.kind, "paid": provider.paid, "calls": 0, "cost_usd": 0.0,
             "description": provider.description},
        )  # fmt: skip
        where["calls"] += 1
        where["cost_usd"] += usd
    for entry in [*roles.values(), *by_provider.values()]:
        entry["cost_usd"] = round(entry["cost_usd"], 6)
        for key in ("models", "providers"):
            if key in entry:
                entry[key].sort()
    tokens = sum(s.input_tokens + s.output_tokens for s in run.spend)
    kept = len(run.rows)
    return {
        "llm_calls": len(run.spend),
        "paid_calls": paid_calls,
        "input_tokens": sum(s.input_tokens for s in run.spend),
        "output_tokens": sum(s.output_tokens for s in run.spend),
        "tokens": tokens,
        "cost_usd": round(paid_usd, 6),
        "usd_per_kept_row": round(paid_usd / kept, 6) if kept else None,
        "tokens_per_kept_row": round(tokens / kept, 1) if kept else None,
        "by_role": dict(sorted(roles.items())),
        "by_provider": dict(sorted(by_provider.items())),
    }


def describe(values: list[float]) -> dict[str, float]:
    """count, min, median, mean, p90 and max of ``values`` (zeros when empty)."""
    if not values:
        return {"count": 0, "min": 0, "median": 0, "mean": 0, "p90": 0, "max": 0}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "count": len(ordered),
        "min": ordered[0],
        "median": statistics.median(ordered),
        "mean": round(statistics.fmean(ordered), 2),
        "p90": p90,
        "max": ordered[-1],
    }


def unique_problems(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(problem ids, statements) of the problems behind ``rows``, first-seen order."""
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(problem_id_of(row), str(row.get("problem", "")))
    return list(seen), list(seen.values())


def _lengths(published: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    _, statements = unique_problems(published)
    return {
        "problem_words": describe([len(words(s)) for s in statements]),
        "solution_words": describe([len(words(str(r.get("solution", "")))) for r in published]),
        "solution_chars": describe([len(str(r.get("solution", ""))) for r in published]),
    }


def _diversity(published: list[dict[str, Any]], threshold: float) -> Diversity:
    ids, statements = unique_problems(published)
    return measure(ids, statements, threshold=threshold)


def render_text(stats: RunStats) -> str:
    """The human report of `factory stats`."""
    lines: list[str] = []
    p = stats.problems
    lines.append(f"run of spec {stats.spec_name} (hash {stats.spec_hash})")
    lines.append(
        f"problems: {p['total']} total, {p['done']} done, {p['dropped']} dropped, {p['open']} open"
    )
    for reason, n in stats.dropped_by_reason.items():
        lines.append(f"  dropped: {reason:<22} {n}")
    fp, fs = stats.funnel["problems"], stats.funnel["samples"]
    lines.append("")
    lines.append(
        f"funnel of problems: {fp['generated']} generated, {fp['done']} done, "
        f"{fp['kept']} with a kept row, {fp['published']} published"
    )
    lines.append(
        f"funnel of samples:  {fs['answered']} answered, {fs['checked']} checked, "
        f"{fs['passed']} passed (verified), {fs['kept']} kept, {fs['published']} published"
    )
    lines.append(
        f"  not published: {stats.excluded} problems excluded, {stats.duplicates} exact "
        "duplicate rows"
    )
    if stats.rejections:
        lines.append("rejections by stage and reason:")
        for stage, reasons in stats.rejections.items():
            for reason, n in reasons.items():
                lines.append(f"  {stage:<10} {reason:<22} {n}")
    pr = stats.pass_rates
    lines.append("")
    if pr["problems"]:
        lines.append(
            f"pass rates over {pr['problems']} problems: pass@1 {pr['pass@1']:.3f}, "
            f"pass@n {pr['pass@n']:.3f}"
        )
        lines.append(
            "  passed/samples: " + ", ".join(f"{k}: {v}" for k, v in pr["distribution"].items())
        )
    else:
        lines.append("pass rates: no solved problems yet")
    for title, table in (
        ("domain", stats.by_domain),
        ("topic", stats.by_topic),
        ("difficulty", stats.by_difficulty),
    ):
        lines.append(f"by {title} (problems / published rows):")
        for name, counts in table.items():
            lines.append(f"  {name:<28} {counts['problems']:>6} / {counts['rows']}")
    c = stats.cost
    lines.append("")
    per_row = "n/a" if c["usd_per_kept_row"] is None else f"${c['usd_per_kept_row']:.6f}"
    tokens_row = "n/a" if c["tokens_per_kept_row"] is None else f"{c['tokens_per_kept_row']:.0f}"
    lines.append(
        f"cost: ${c['cost_usd']:.4f} paid for {c['paid_calls']} of {c['llm_calls']} LLM calls, "
        f"{c['tokens']} tokens ({c['input_tokens']} in, {c['output_tokens']} out); per kept row "
        f"{per_row}, {tokens_row} tokens"
    )
    for role, entry in c["by_role"].items():
        paid = f"${entry['cost_usd']:.4f}" if entry["cost_usd"] else "not paid"
        lines.append(
            f"  {role:<10} {', '.join(entry['models'])} via {', '.join(entry['providers'])}: "
            f"{entry['calls']} calls, {entry['input_tokens'] + entry['output_tokens']} tokens, "
            f"{paid}"
        )
    for name, entry in c["by_provider"].items():
        lines.append(f"  provider {name}: {entry['description']}")
    lines.append("lengths (words):")
    for name in ("problem_words", "solution_words"):
        d = stats.lengths[name]
        lines.append(
            f"  {name:<16} median {d['median']}, mean {d['mean']}, p90 {d['p90']}, max {d['max']}"
        )
    d = stats.diversity
    lines.append("")
    lines.append(
        f"diversity over {d.texts} published problems: distinct-1 {d.distinct_1:.3f}, "
        f"distinct-2 {d.distinct_2:.3f}, distinct-3 {d.distinct_3:.3f}"
    )
    lines.append(
        f"  openings (first 3 words): {d.openings.distinct} distinct of {d.openings.total}; "
        "most common: " + "; ".join(f"{t!r} x{n}" for t, n in d.openings.top)
    )
    lines.append(
        f"  near-duplicates (shingled Jaccard >= {d.near_duplicate_threshold}): "
        f"{len(d.near_duplicate_clusters)} clusters, {d.near_duplicates} problems"
    )
    for cluster in d.near_duplicate_clusters[:5]:
        lines.append("    " + ", ".join(cluster))
    return "\n".join(lines)
