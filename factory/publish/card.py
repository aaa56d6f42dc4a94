"""The dataset card (README.md): Hub metadata, the recipe, the funnel, cost, checks, caveats.

The YAML header is what the Hub and `datasets` read: ``configs`` (data files per
config and split), task categories, size category, license, tags, and a
``factory`` block naming the spec the data came from, which is how a later push
recognises its own dataset. Everything in the body is derived from the run
directory, so the card is reproducible from it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from factory import __version__
from factory.publish.errors import PublishError
from factory.publish.prompts import describe_context, solver_context
from factory.publish.providers import (
    LIVE,
    REPLAYED,
    SCRIPTED,
    Provider,
    responses_sentence,
)
from factory.publish.run_reader import RunData
from factory.publish.splits import ALL_CONFIG, DEFAULT_CONFIG, SplitPlan, data_dir_of
from factory.publish.stats import RunStats

if TYPE_CHECKING:
    from factory.publish.dataset import RowOptions

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
        "complete: untested behaviour, edge cases, performance and style are not checked."
    ),
}


ANTHROPIC_TERMS = "https://www.anthropic.com/legal/commercial-terms"
LICENSE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True)
class CardOptions:
    """Choices the publisher makes that are not in the run.

    ``license`` is a Hub licence id; ``other`` (the default: factory cannot choose a licence
    for you) takes a ``license_name`` (lowercase id, e.g. ``my-license-1.0``) and a
    ``license_link`` (URL or a file in the repo), as the Hub's card spec asks.
    """

    license: str = "other"
    pretty_name: str | None = None
    repo_id: str | None = None
    language: str | None = "en"
    license_name: str | None = None
    license_link: str | None = None

    def __post_init__(self) -> None:
        if self.license != "other" and (self.license_name or self.license_link):
            raise PublishError(
                f"--license-name/--license-link describe a licence of your own and go with "
                f"--license other, not --license {self.license}"
            )
        if self.license_name is not None and not LICENSE_NAME.match(self.license_name):
            raise PublishError(
                f"--license-name {self.license_name!r}: use a lowercase id of letters, digits, "
                "'.' and '-' (e.g. my-license-1.0)"
            )

    def licence_warning(self) -> str | None:
        """What the publisher should hear when the card cannot name a licence."""
        if self.license == "other" and not (self.license_name and self.license_link):
            return (
                "no licence chosen: the card says so (pick one with --license ID, or "
                "--license other --license-name NAME --license-link URL)"
            )
        return None

    def metadata(self) -> dict[str, Any]:
        """The card's licence fields."""
        meta: dict[str, Any] = {"license": self.license}
        if self.license_name:
            meta["license_name"] = self.license_name
        if self.license_link:
            meta["license_link"] = self.license_link
        return meta


def license_section(options: CardOptions, providers: list[tuple[Provider, int]]) -> list[str]:
    """The card's "Licence" section: the publisher's licence and the providers' terms."""
    lines = ["## Licence", ""]
    if options.license != "other":
        lines.append(f"Licence: `{options.license}`, chosen by the publisher.")
    elif options.license_name:
        link = f" ({options.license_link})" if options.license_link else ""
        lines.append(f"Licence: `{options.license_name}`{link}, chosen by the publisher.")
    else:
        lines.append(
            "Licence: none chosen (`license: other`, no licence name or link): the publisher "
            "did not say on what terms this data may be used; ask before reusing it "
            "(`--license`, or `--license other --license-name ... --license-link ...`)."
        )
    lines.append("")
    kinds = {p.kind for p, _ in providers}
    before = len(lines)
    anthropic_api = {"anthropic", "anthropic (batches)"}
    if any(p.kind == LIVE and p.name in anthropic_api for p, _ in providers):
        lines.append(
            "Responses written by Anthropic models are also subject to Anthropic's terms for "
            f"outputs ({ANTHROPIC_TERMS}); check them before training on or redistributing "
            "this data."
        )
    if any(p.kind == LIVE and p.name not in anthropic_api for p, _ in providers):
        lines.append(
            "Responses from other servers are subject to the terms of whatever model (if any) "
            "served them, which factory does not know."
        )
    if REPLAYED in kinds:
        lines.append(
            "Replayed responses keep the terms of the provider that originally wrote them "
            "(named above where the recording says)."
        )
    if kinds == {SCRIPTED}:
        lines.append(
            "No model wrote the published responses (they are scripted), so no model "
            "provider's terms for outputs apply to them."
        )
    if len(lines) > before:
        lines.append("")
    return lines


VOCABULARY_TERMS = (
    "Words used here: a response is *checked* when a verifier gave a verdict on it, and "
    "*passed* (also *verified*) when that verdict is `correct`"
)
VOCABULARY = (
    f"{VOCABULARY_TERMS}; only passed responses are published (column `verdict.passed`)."
)


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
    """The card's ``configs`` metadata: data files per config and split (``all`` reads
    every domain's files and is the default)."""
    entries: list[dict[str, Any]] = []
    for config, splits in counts.items():
        where = "data/*" if config == ALL_CONFIG else data_dir_of(config)
        entry: dict[str, Any] = {
            "config_name": config,
            "data_files": [{"split": s, "path": f"{where}/{s}-*.parquet"} for s in splits],
        }
        if config == ALL_CONFIG:
            entry["default"] = True
        entries.append(entry)
    return entries


def total_rows(counts: dict[str, dict[str, int]]) -> int:
    """Rows in the dataset (``all`` repeats the domains' rows, so it is not counted)."""
    return sum(n for c, splits in counts.items() if c != ALL_CONFIG for n in splits.values())


def _metadata(run: RunData, stats: RunStats, counts: dict[str, dict[str, int]], o: CardOptions):
    domains = sorted(stats.by_domain)
    tasks = ["text-generation"]
    if "math" in domains:
        tasks.append("question-answering")
    total = total_rows(counts)
    meta: dict[str, Any] = o.metadata()
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


def configs_section(plan: SplitPlan, unit: str, options: CardOptions) -> list[str]:
    """The card's "Configs and splits" section: counts per config and split, how to load,
    and any config without a test split."""
    counts = plan.counts()
    lines = ["## Configs and splits", ""]
    lines += markdown_table(
        ["config", "split", unit],
        [[c, s, n] for c, splits in counts.items() for s, n in splits.items()],
    )
    load_from = options.repo_id or "path/to/this/directory"
    first = next(iter(counts))
    config_arg = "" if first == DEFAULT_CONFIG else f', "{first}"'
    lines += ["", "```python", "from datasets import load_dataset", ""]
    lines += [f'ds = load_dataset("{load_from}"{config_arg})', "```", ""]
    if len(counts) > 1:
        lines += [
            "Config names come from the spec: `all` (the default) and one per domain it "
            "produces, whatever survived; a domain with no published rows has no config.",
            "",
        ]
    if plan.warnings:
        lines += [f"- {w}" for w in plan.warnings] + [""]
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


def _cost_lines(stats: RunStats) -> list[str]:
    c = stats.cost
    lines = ["## Cost", ""]
    calls = (
        f"{c['llm_calls']} LLM calls, {c['input_tokens']} input and {c['output_tokens']} "
        "output tokens"
    )
    if not c["paid_calls"]:
        lines.append(
            f"{calls}; none of them was paid (see *Who wrote the responses*), so this data "
            "cost nothing in model calls."
        )
    else:
        lines.append(
            f"{calls}; {c['paid_calls']} paid calls cost ${c['cost_usd']:.4f} in total: "
            f"${_fmt(c['usd_per_kept_row'], '.6f')} per kept row (prices as configured for "
            "the run; replayed, scripted and local calls are not counted)."
        )
    lines += ["", *markdown_table(
        ["provider", "calls", "paid", "cost (USD)"],
        [[f"`{name}`", e["calls"], "yes" if e["paid"] else "no", f"{e['cost_usd']:.4f}"]
         for name, e in c["by_provider"].items()],
    ), ""]  # fmt: skip
    return lines


def providers_section(
    run: RunData, providers: list[tuple[Provider, int]], unit: str = "responses"
) -> list[str]:
    """The card's "Who wrote the responses" section: every provider, truthfully."""
    lines = ["## Who wrote the responses", ""]
    lines += markdown_table(
        ["provider", "kind", unit, "what it is"],
        [[f"`{p.name}`", p.kind, n, p.description] for p, n in providers],
    )
    if any(p.kind != LIVE for p, _ in providers):
        lines += [
            "",
            "The model names in the spec and in each row's provenance are the models the "
            "requests named; a replayed or scripted response was not written by that model "
            "for this run.",
        ]
    lines.append("")
    return lines


def render_card(
    run: RunData,
    stats: RunStats,
    *,
    plan: SplitPlan,
    rows: list[dict[str, Any]],
    providers: list[tuple[Provider, int]],
    options: CardOptions,
    row_options: RowOptions,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> str:
    """The whole README.md for the dataset of ``rows`` (as published) written from ``run``;
    ``providers`` says who wrote how many of them (`RunProviders.responses`)."""
    counts = plan.counts()
    meta = _metadata(run, stats, counts, options)
    spec = run.spec
    total = total_rows(counts)
    n_problems = stats.diversity.texts
    if providers and all(p.kind == LIVE and p.paid for p, _ in providers):
        wrote = "An LLM wrote the solutions (and, for generated problems, the problems)"
    else:
        wrote = "The solutions come from the providers listed under *Who wrote the responses*"
    lines = front_matter(meta)
    lines += ["", f"# {meta['pretty_name']}", ""]
    lines += [
        f"{total} synthetic, machine-verified (problem, solution) pairs over {n_problems} "
        f"problems, made by factory from the spec `{run.spec_name}`. "
        f"{wrote}; a row is kept only when an automatic verifier passed its solution. "
        f"{responses_sentence(providers)} See *What verification guarantees* before training "
        "on it.",
        "",
        f"> {str(spec.get('description', '')).strip()}",
        "",
        VOCABULARY,
        "",
    ]
    lines += configs_section(plan, "rows", options)
    if test_fraction > 0:
        lines += [
            f"The test split of each config holds about {test_fraction:.0%} of its problems, "
            f"chosen by a hash of (seed {seed}, problem id): all samples of one problem are in "
            "the same split, a problem keeps its split when the dataset is regenerated with "
            "more problems, and every config with data keeps a train split.",
            "",
        ]
    duplicates = (
        "exact duplicates were kept (`--keep-duplicates`)"
        if row_options.keep_duplicates
        else f"{stats.duplicates} rows repeating an earlier row's (prompt, response) were "
        "removed (`--keep-duplicates` keeps them)"
    )
    lines += [
        "Columns: `messages` (the chat, ready for SFT), `problem`, `solution`, `answer`, "
        "`domain`, `topic`, `difficulty` (text, as the problem's source gives it: a level such "
        "as `2` or a word such as `easy`), `verdict`, `provenance` (spec, prompt "
        "version, model, provider and its kind, sampling, verifier and version, sandbox image, "
        "reference trust, problem id and source), and the spec's other output fields.",
        "",
        f"- prompt: {describe_context(row_options.include_system, solver_context(spec))}",
        f"- duplicates: {duplicates}.",
        "",
    ]
    lines += providers_section(run, providers)
    lines += [
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
    trust = Counter(str(r.get("provenance", {}).get("reference_trust")) for r in rows)
    lines.append(
        "- reference trust of published rows: "
        + ", ".join(f"{k} {v}" for k, v in sorted(trust.items()))
    )
    images = _sandbox_images(rows)
    lines.append(
        "- sandbox image: " + (", ".join(f"`{i}`" for i in images) if images else "none (no code)")
    )
    lines.append(f"- factory version: {run.manifest.get('factory_version')}")
    lines += ["", "Models the spec names:", ""]
    lines += markdown_table(["role", "model", "temperature", "max_tokens"], role_rows(run))
    lines += ["", "Verifiers (from the rows):", ""]
    lines += markdown_table(["domain", "verifier", "version", "rows"], _verifiers(run, rows))
    fp, fs = stats.funnel["problems"], stats.funnel["samples"]
    pr = stats.pass_rates
    lines += ["", "## Funnels and pass rates", ""]
    lines += markdown_table(
        ["problems", "count"],
        [["generated", fp["generated"]], ["done (reference trusted)", fp["done"]],
         ["with a kept row", fp["kept"]], ["published", fp["published"]]],
    )  # fmt: skip
    lines.append("")
    lines += markdown_table(
        ["solver samples", "count"],
        [["answered", fs["answered"]], ["checked", fs["checked"]],
         ["passed (verified)", fs["passed"]], ["kept", fs["kept"]],
         ["published", fs["published"]]],
    )  # fmt: skip
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
    lines += _cost_lines(stats)
    lines += ["## Contamination", ""]
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
    ]
    lines += license_section(options, providers)
    lines += [
        "## What verification guarantees",
        "",
        "This data is synthetic and machine-verified, not reviewed by people.",
        "",
    ]
    domains = sorted({str(r.get("domain")) for r in rows})
    for domain in domains:
        note = VERIFICATION_NOTES.get(
            domain, f"**{domain}**: checked by the verifier named in each row's provenance."
        )
        lines.append(f"- {note}")
    lines += [
        "- Rejected samples are not in the dataset; only the passed ones are, so pass rates "
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
