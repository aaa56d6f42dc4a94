"""The dataset card of a preference set: how pairs were formed, lengths, rejected reasons."""

from __future__ import annotations

from collections import Counter
from typing import Any

from factory.publish.card import (
    FACTORY_KEY,
    VERIFICATION_NOTES,
    VOCABULARY_TERMS,
    CardOptions,
    config_entries,
    configs_section,
    factory_block,
    front_matter,
    license_section,
    markdown_table,
    providers_section,
    role_rows,
    size_category,
    total_rows,
)
from factory.publish.prompts import describe_context, solver_context
from factory.publish.providers import RunProviders
from factory.publish.splits import SplitPlan
from factory.recipes.preferences import (
    KIND,
    REAL_FAILURES,
    LengthControl,
    PreferenceOptions,
    PreferenceSet,
)

HARD_NEGATIVE_RULE = {
    "code": (
        "**code**: the failing program that passed the largest share of the problem's tests "
        "(the verifier's per-test record, `passed_tests / total_tests`; a response with no "
        "test result, e.g. no code block, comes last), then the program closest to the chosen "
        "one (Jaccard similarity of the extracted programs' word 3-gram shingles)."
    ),
    "other": (
        "**math and other domains**: first a rejected response whose final answer was found by "
        "the same extraction rule as the chosen one's (e.g. both `\\boxed{}`), then one whose "
        "answer was found by another rule, then one with no answer found; then the answer "
        "closest to the chosen answer (relative difference when both are plain numbers, else "
        "1 − difflib similarity of the answer strings); then the closest text (Jaccard "
        "similarity of word 3-gram shingles)."
    ),
}


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _length_rows(prefs: PreferenceSet) -> list[list[Any]]:
    return [
        [
            label,
            s.pairs,
            _fmt(s.mean_chosen, ".1f"),
            _fmt(s.mean_rejected, ".1f"),
            _fmt(s.chosen_longer, ".1%"),
        ]
        for label, s in (("before length control", prefs.before), ("published", prefs.after))
    ]


def _length_rule(options: PreferenceOptions) -> str:
    if options.length_control is LengthControl.RATIO:
        return (
            f"`ratio`: a pair is formed only when the longer response is at most "
            f"{options.ratio:g} times the shorter one (lengths in characters)."
        )
    if options.length_control is LengthControl.BALANCE:
        return (
            "`balance`: while more than half of the pairs had a chosen response longer than the "
            "rejected one, the pair with the largest excess was replaced by another pair of the "
            "same prompt whose chosen response is not longer (or dropped when there was none); "
            "at most half of the published pairs have the longer chosen response."
        )
    return "`none`: lengths were not controlled."


def render_preference_card(
    prefs: PreferenceSet,
    *,
    plan: SplitPlan,
    options: CardOptions,
    test_fraction: float = 0.0,
    split_seed: int = 0,
) -> str:
    """The README.md of a preference dataset: metadata, how pairs were formed, figures."""
    run, o = prefs.run, prefs.options
    counts = plan.counts()
    domains = sorted({p.problem.domain for p in prefs.pairs})
    total = total_rows(counts)
    run_providers = RunProviders(run)
    responses = Counter(
        run_providers.of(s.provider) for p in prefs.pairs for s in (p.chosen, p.rejected)
    )
    providers = sorted(responses.items(), key=lambda pn: (-pn[1], pn[0].name))
    meta: dict[str, Any] = options.metadata()
    if options.language:
        meta["language"] = [options.language]
    meta.update(
        {
            "pretty_name": options.pretty_name or f"{run.spec_name} preference pairs (factory)",
            "task_categories": ["text-generation"],
            "size_categories": [size_category(total)],
            "tags": ["synthetic", "verified", "factory", "dpo", "preference", *domains],
            "configs": config_entries(counts),
            FACTORY_KEY: factory_block(run, KIND),
        }
    )
    lines = front_matter(meta)
    lines += ["", f"# {meta['pretty_name']}", ""]
    lines += [
        f"{total} preference pairs over {prefs.prompts} prompts, made by factory from the "
        f"candidates of a run of the spec `{run.spec_name}` (hash `{run.spec_hash}`). In every "
        "pair the *chosen* response passed automatic verification and the *rejected* response "
        "failed it for a reason that blames the response; both answer the same prompt.",
        "",
        f"> {str(run.spec.get('description', '')).strip()}",
        "",
        f"{VOCABULARY_TERMS}; every chosen response passed, every rejected one was checked "
        "and did not pass.",
        "",
    ]
    lines += configs_section(plan, "pairs", options)
    lines += [
        "The columns `prompt` (the messages the solver saw), `chosen` and `rejected` (one "
        "assistant message each) are TRL's conversational preference format, which "
        "`trl.DPOTrainer` reads as is. Provenance columns: "
        "`problem_id`, `domain`, `topic`, `difficulty` (text), `problem`, "
        "`chosen_sample_index`, `rejected_sample_index`, `rejected_reason`, "
        "`rejected_truncated` (the rejected response stopped at max_tokens), "
        "`rejected_message` (the verifier's message), `chosen_model`, `rejected_model`, "
        "`chosen_provider`, `rejected_provider`, `chosen_chars`, `rejected_chars`, "
        "`pair_rank` (order within the prompt), `selection`, `verifier`, `verifier_version`, "
        "`reference_trust`, `spec_name`, `spec_hash`.",
        "",
        f"- prompt: {describe_context(o.include_system, solver_context(run.spec))} The "
        "same choice as for `factory publish`, so SFT rows and these prompts match.",
        f"- duplicates: {prefs.duplicates} pairs repeating an earlier pair's prompt, chosen "
        "and rejected texts were removed.",
        f"- truncated rejected responses: {prefs.truncated_rejected()} of {len(prefs.pairs)} "
        "pairs have a rejected response that stopped at max_tokens"
        + (" (such pairs were excluded: `--exclude-truncated`)." if o.exclude_truncated
           else " (`--exclude-truncated` leaves them out)."),
        "",
    ]  # fmt: skip
    lines += providers_section(run, providers)
    if test_fraction > 0:
        lines += [
            f"The test split holds about {test_fraction:.0%} of the prompts, chosen by a hash of "
            f"(seed {split_seed}, problem id) — the same rule as the run's SFT dataset "
            "(`factory publish`), so with the same seed a problem is in the same split of both.",
            "",
        ]
    lines += [
        "## How pairs were formed",
        "",
        f"- options: {o.describe()}",
        f"- solver samples per problem: {run.spec.get('samples_per_problem')}",
        "- only problems whose reference is trusted (finished as `done`: ground truth, "
        "consensus, or a generated code reference that passed its checks) give pairs; "
        "unfinished and dropped problems do not",
        "- chosen: verdict `correct`; rejected: one of "
        + ", ".join(f"`{r}`" for r in REAL_FAILURES)
        + f". Candidates with `infra_error` or `reference_error` (no verdict; "
        f"{prefs.unverifiable} in this run) are on neither side",
        "- every (chosen, rejected) combination of two different texts is a possible pair; "
        "pairs are taken in order in rounds, so each chosen and each rejected response is "
        "used at most once per prompt unless more pairs are asked than that allows; then a "
        "response is reused only when every remaining combination would reuse one, and no "
        "combination is taken twice",
    ]
    if o.hard_negatives:
        lines += [
            "- order: hard negatives first — the rejected response closest to a chosen one:",
            *[f"  - {HARD_NEGATIVE_RULE[k]}" for k in ("code", "other")],
            "  - ties: lower chosen, then lower rejected sample index",
        ]
    else:
        lines.append(
            f"- order: seeded random (Python `random.Random` seeded with `'{o.seed}:<problem id>'`"
            ", so a prompt's pairs do not depend on the rest of the run)"
        )
    lines.append(f"- length control: {_length_rule(o)}")
    lines += ["", "Response lengths (characters):", ""]
    lines += markdown_table(
        ["pairs", "count", "mean chosen", "mean rejected", "chosen longer"], _length_rows(prefs)
    )
    lines += ["", "## Rejected side", ""]
    lines += markdown_table(["verifier reason", "pairs"], list(prefs.rejected_reasons().items()))
    lines += ["", "## Problems", ""]
    problem_rows: list[list[Any]] = [
        ["in the run", len(run.problems)],
        ["gave pairs", prefs.prompts],
    ]
    problem_rows += [[f"no pair: {k}", v] for k, v in prefs.skipped.items()]
    lines += markdown_table(["problems", "count"], problem_rows)
    lines += ["", "## Models and verifiers", "", "Models the spec names:", ""]
    lines += markdown_table(["role", "model", "temperature", "max_tokens"], role_rows(run))
    lines.append("")
    used = Counter(
        (p.problem.domain, p.chosen.verdict.verifier, p.chosen.verdict.verifier_version)
        for p in prefs.pairs
    )
    lines += markdown_table(
        ["domain", "verifier", "version", "pairs"],
        [[d, f"`{v}`", ver, n] for (d, v, ver), n in sorted(used.items())],
    )
    lines.append("")
    lines += license_section(options, providers)
    lines += [
        "## What verification guarantees",
        "",
        "This data is synthetic and machine-verified, not reviewed by people. "
        "A preference here says only that one response passed the check and the other did not:",
        "",
    ]
    for domain in domains:
        note = VERIFICATION_NOTES.get(
            domain, f"**{domain}**: checked by the verifier named in each pair's `verifier`."
        )
        lines.append(f"- {note}")
    lines += [
        "- A rejected response may hold sound reasoning with one wrong step, and a chosen one "
        "may reach the right result by flawed reasoning; the pairs teach outcomes, not style.",
        "",
    ]
    return "\n".join(lines)
