"""The dataset card (README.md): Hub metadata, the recipe, the funnel, cost, checks, caveats.

The YAML header is what the Hub and `datasets` read: ``configs`` (data files per
config and split), task categories, size category, license, tags, and a
``factory`` block naming the spec the data came from, which is how a later push
recognises its own dataset. Everything in the body is derived from the run
directory, so the card is reproducible from it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

from factory import __version__
from factory.publish.run_reader import RunData
from factory.publish.stats import RunStats

FACTORY_KEY = "factory"
# The dataset kind inside the factory block; absent means kept rows (SFT), as cards before
# other kinds existed were written.
KIND_KEY = "dataset"
SFT_KIND = "sft"

VERIFICATION_NOTES = {
    "math": (
        "**math**: the solution's final answer is equivalent to the reference answer "
        "(symbolic and numeric equivalence with SymPy, or a property check such as "
        "differentiating an antiderivative). This checks the final answer only: the "
        "reasoning that leads to it is not checked and may contain errors, and a "
        "reference written by a model (trust `generated` or `consensus`) can itself be wrong."
    ),
    "code": (
        "**code**: the program passes the problem's tests, run in a network-less, "
        "resource-limited Docker sandbox. It is only as correct as those tests are "
        "complete: untested behaviour, edge cases, performance and style are not verified."
    ),
}


@dataclass(frozen=True)
class CardOptions:
    """Choices the publisher makes that are not in the run."""

    license: str = "other"
    pretty_name: str | None = None
    repo_id: str | None = None
    language: str | None = "en"


def size_category(n: int) -> str:
    """The Hub's size_categories bucket for ``n`` rows."""
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
        (1_000_000_000, "100M<n<1B"),
    ):
        if n < limit:
            return label
    return "n>1T" if n >= 10**12 else "1B<n<10B"


def read_card_metadata(text: str) -> dict[str, Any] | None:
    """The YAML header of a card, or None when there is none (or it is not a mapping)."""
    if not text.startswith("---"):
        return None
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return None
    try:
        data = yaml.safe_load(parts[0].removeprefix("---"))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def factory_identity(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``factory`` block of a card's metadata: which spec made the dataset."""
    if not metadata:
        return None
    block = metadata.get(FACTORY_KEY)
    return block if isinstance(block, dict) and block.get("spec_name") else None


def dataset_kind(identity: dict[str, Any]) -> str:
    """What a factory dataset holds: ``sft`` (kept rows; cards without a kind) or another
    kind named in its ``factory`` block, e.g. ``preferences``."""
    return str(identity.get(KIND_KEY) or SFT_KIND)


def factory_block(run: RunData, kind: str = SFT_KIND) -> dict[str, Any]:
    """The ``factory`` metadata block: the spec the data came from (and the kind, if not SFT)."""
    block: dict[str, Any] = {
        "spec_name": run.spec_name,
        "spec_version": str(run.spec.get("version", "")),
        "spec_hash": run.spec_hash,
        "factory_version": __version__,
    }
    if kind != SFT_KIND:
        block[KIND_KEY] = kind
    return block


def front_matter(meta: dict[str, Any]) -> list[str]:
    """The card's YAML header lines (between ``---`` fences)."""
    return ["---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(), "---"]


def config_entries(counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    from factory.publish.dataset import data_dir_of

    entries: list[dict[str, Any]] = []
    for config, splits in counts.items():
        entries.append(
            {
                "config_name": config,
                "data_files": [
                    {"split": s, "path": f"{data_dir_of(config)}/{s}-*.parquet"} for s in splits
                ],
            }
        )
    if len(counts) > 1:
        splits = sorted({s for sp in counts.values() for s in sp}, key=lambda s: s != "train")
        entries.insert(
            0,
            {
                "config_name": "all",
                "data_files": [{"split": s, "path": f"data/*/{s}-*.parquet"} for s in splits],
                "default": True,
            },
        )
    return entries


def _metadata(run: RunData, stats: RunStats, counts: dict[str, dict[str, int]], o: CardOptions):
    domains = sorted(stats.by_domain)
    tasks = ["text-generation"]
    if "math" in domains:
        tasks.append("question-answering")
    total = sum(n for splits in counts.values() for n in splits.values())
    meta: dict[str, Any] = {"license": o.license}
    if o.language:
        meta["language"] = [o.language]
    meta.update(
        {
            "pretty_name": o.pretty_name or f"{run.spec_name} (factory, verified)",
            "task_categories": tasks,
            "size_categories": [size_category(total)],
            "tags": ["synthetic", "verified", "factory", *[d for d in domains if d != "(none)"]],
            "configs": config_entries(counts),
            FACTORY_KEY: factory_block(run),
        }
    )
    return meta


def configs_section(
    counts: dict[str, dict[str, int]], unit: str, options: CardOptions
) -> list[str]:
    """The card's "Configs and splits" section: counts per config and split, and how to load."""
    lines = ["## Configs and splits", ""]
    lines += markdown_table(
        ["config", "split", unit],
        [[c, s, n] for c, splits in counts.items() for s, n in splits.items()],
    )
    load_from = options.repo_id or "path/to/this/directory"
    first = next(iter(counts))
    config_arg = "" if first == "default" else f', "{first}"'
    lines += ["", "```python", "from datasets import load_dataset", ""]
    lines += [f'ds = load_dataset("{load_from}"{config_arg})', "```", ""]
    return lines


def markdown_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def role_rows(run: RunData) -> list[list[Any]]:
    """(role, model, temperature, max_tokens) of the spec's LLM roles."""
    roles = run.spec.get("roles") or {}
    out = []
    for name in ("generator", "solver"):
        role = roles.get(name)
        if not role:
            continue
        out.append(
            [name, f"`{role.get('model')}`", role.get("temperature"), role.get("max_tokens")]
        )
    return out


def _verifiers(run: RunData, published: list[dict[str, Any]]) -> list[list[Any]]:
    used = Counter(
        (
            str(r.get("domain")),
            str(r.get("provenance", {}).get("verifier")),
            str(r.get("provenance", {}).get("verifier_version")),
        )
        for r in published
    )
    return [[d, f"`{v}`", ver, n] for (d, v, ver), n in sorted(used.items())]


def _sandbox_images(published: list[dict[str, Any]]) -> list[str]:
    return sorted(
        {
            str(r["provenance"]["sandbox_image"])
            for r in published
            if r.get("provenance", {}).get("sandbox_image")
        }
    )


def _fmt(value: float | None, spec: str = ".4f") -> str:
    return "n/a" if value is None else format(value, spec)


def render_card(
    run: RunData,
    stats: RunStats,
    *,
    counts: dict[str, dict[str, int]],
    options: CardOptions,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> str:
    """The whole README.md for the dataset written from ``run``."""
    meta = _metadata(run, stats, counts, options)
    published = run.published_rows()
    spec = run.spec
    total = sum(n for splits in counts.values() for n in splits.values())
    n_problems = stats.diversity.texts
    lines = front_matter(meta)
    lines += ["", f"# {meta['pretty_name']}", ""]
    lines += [
        f"{total} synthetic, machine-verified (problem, solution) pairs over {n_problems} "
        f"problems, made by factory from the spec `{run.spec_name}`. "
        "An LLM wrote the solutions (and, for generated problems, the problems); a row is "
        "kept only when an automatic verifier accepted its solution. See *What verification "
        "guarantees* before training on it.",
        "",
        f"> {str(spec.get('description', '')).strip()}",
        "",
    ]
    lines += configs_section(counts, "rows", options)
    if test_fraction > 0:
        lines += [
            f"The test split holds about {test_fraction:.0%} of the problems, chosen by a hash "
            f"of (seed {seed}, problem id): all samples of one problem are in the same split, "
            "and a problem keeps its split when the dataset is regenerated with more problems.",
            "",
        ]
    lines += [
        "Columns: `messages` (a user/assistant chat, ready for SFT), `problem`, `solution`, "
        "`answer`, `domain`, `topic`, `difficulty`, `verdict`, `provenance` (spec, prompt "
        "version, model, provider, sampling, verifier and version, sandbox image, reference "
        "trust, problem id and source), and the spec's own output fields.",
        "",
        "## Recipe",
        "",
        f"- spec: `{run.spec_name}` version `{spec.get('version')}`, hash `{run.spec_hash}`",
        f"- problem source: `{(spec.get('source') or {}).get('kind')}`, seed {spec.get('seed')}",
        f"- solver samples per problem: {spec.get('samples_per_problem')}",
    ]
    consensus = spec.get("consensus")
    if consensus:
        lines.append(
            f"- consensus for generated math references: {consensus.get('k')} of "
            f"{consensus.get('n')} solves must agree"
        )
    trust = Counter(str(r.get("provenance", {}).get("reference_trust")) for r in published)
    lines.append(
        "- reference trust of published rows: "
        + ", ".join(f"{k} {v}" for k, v in sorted(trust.items()))
    )
    images = _sandbox_images(published)
    lines.append(
        "- sandbox image: " + (", ".join(f"`{i}`" for i in images) if images else "none (no code)")
    )
    lines.append(f"- factory version: {run.manifest.get('factory_version')}")
    lines += ["", "Models (from the spec):", ""]
    lines += markdown_table(["role", "model", "temperature", "max_tokens"], role_rows(run))
    lines += ["", "Verifiers (from the rows):", ""]
    lines += markdown_table(["domain", "verifier", "version", "rows"], _verifiers(run, published))
    f = stats.funnel
    pr = stats.pass_rates
    lines += ["", "## Funnel and pass rates", ""]
    lines += markdown_table(
        ["stage", "count"],
        [
            ["problems generated", f["generated"]],
            ["solver samples answered", f["solved"]],
            ["samples verified", f["verified"]],
            ["rows kept", f["kept"]],
            ["rows published", f["published"]],
        ],
    )
    p = stats.problems
    lines += [
        "",
        f"Problems: {p['done']} done, {p['dropped']} dropped, {p['open']} unfinished. "
        f"pass@1 {_fmt(pr['pass@1'], '.3f')}, pass@n {_fmt(pr['pass@n'], '.3f')} over "
        f"{pr['problems']} problems (n = samples per problem).",
        "",
    ]
    rejections = [[s, r, n] for s, reasons in stats.rejections.items() for r, n in reasons.items()]
    if rejections:
        lines += ["Rejections:", ""]
        lines += markdown_table(["stage", "reason", "count"], rejections)
        lines.append("")
    c = stats.cost
    lines += [
        "## Cost",
        "",
        f"{c['llm_calls']} LLM calls, {c['input_tokens']} input and {c['output_tokens']} "
        f"output tokens, ${c['cost_usd']:.4f} in total: ${_fmt(c['usd_per_kept_row'], '.6f')} "
        f"and {_fmt(c['tokens_per_kept_row'], '.0f')} tokens per kept row (prices as "
        "configured for the run).",
        "",
        "## Contamination",
        "",
    ]
    lines += _contamination(run)
    d = stats.diversity
    lines += [
        "",
        "## Diversity",
        "",
        f"Over the {d.texts} published problem statements: distinct-1 {d.distinct_1:.3f}, "
        f"distinct-2 {d.distinct_2:.3f}, distinct-3 {d.distinct_3:.3f}; "
        f"{d.openings.distinct} distinct openings (first 3 words) of {d.openings.total}; "
        f"{len(d.near_duplicate_clusters)} near-duplicate clusters ({d.near_duplicates} problems, "
        f"shingled word-3-gram Jaccard ≥ {d.near_duplicate_threshold}).",
        "",
        "## What verification guarantees",
        "",
        "This data is synthetic: model-written and machine-verified, not reviewed by people.",
        "",
    ]
    domains = sorted({str(r.get("domain")) for r in published})
    for domain in domains:
        note = VERIFICATION_NOTES.get(
            domain, f"**{domain}**: checked by the verifier named in each row's provenance."
        )
        lines.append(f"- {note}")
    lines += [
        "- Rejected samples are not in the dataset; only the kept ones are, so pass rates "
        "above describe the solver, not the rows.",
        "",
    ]
    return "\n".join(lines)


def _contamination(run: RunData) -> list[str]:
    report = run.contamination
    if not report:
        return [
            "No contamination check was run for this data "
            "(`factory check-contamination RUN --against BENCHMARK`)."
        ]
    names = ", ".join(
        f"{b.get('name')} ({b.get('items')} items, field `{b.get('field')}`)"
        for b in report.get("benchmarks", [])
    )
    action = (
        "they are excluded from this dataset"
        if report.get("dropped")
        else "they were NOT removed from this dataset"
    )
    return [
        f"Checked {report.get('checked_problems')} problems against {names}: word "
        f"{report.get('ngram')}-gram overlap (case, punctuation and whitespace normalised), "
        f"threshold {report.get('threshold')}. {report.get('flagged_problems')} problems "
        f"({report.get('flagged_rows')} rows) reached it; {action}."
    ]
