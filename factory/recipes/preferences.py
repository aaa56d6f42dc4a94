"""Verified preference pairs (DPO data) from the candidates a run judged.

A run keeps every solver candidate of every problem with its verdict. For each
problem whose reference is trusted (state ``done``), a pair is (prompt, chosen,
rejected): ``chosen`` passed verification, ``rejected`` failed it with a real
failure (``wrong_answer``, ``tests_failed``, ``timeout``, ``no_answer``,
``runtime_error``, ``parse_error``). ``infra_error`` and ``reference_error`` are
no verdict at all, so such candidates are on neither side. Open and dropped
problems (no consensus, a generated reference that failed its checks) and
problems excluded from publication give no pairs.

How pairs are chosen within one prompt (:func:`pair_prompt`):

1. Every (passing, failing) combination of two different texts is a possible pair.
   With ``hard_negatives`` they are ordered hardest first (:func:`hardness`), else
   in a seeded random order (seed and problem id, so a prompt's pairs do not depend
   on the rest of the run).
2. Pairs are taken in that order in rounds: in round t a combination is taken when
   both its responses have been used fewer than t times. So each chosen and each
   rejected response is used at most once per prompt while fresh ones remain; a
   response is used a second time only when every remaining combination would reuse
   one (more pairs are asked than distinct responses allow), a third time only when
   every remaining one would reuse a response used twice, and so on. No combination
   is taken twice, and a prompt gives ``min(max_pairs_per_prompt, combinations)`` pairs.

Length control (lengths are characters of the assistant message):

- ``none``: nothing is changed;
- ``ratio``: only combinations whose longer response is at most ``max_length_ratio``
  (default 2) times the shorter one (at least 1 character) are possible pairs;
- ``balance``: while more than half of all pairs have a chosen response longer than
  the rejected one, the pair with the largest such excess is replaced by the first
  combination of its prompt (in the order above) whose chosen is not longer, within
  the prompt's reuse bound, or dropped when there is none. Afterwards at most half
  of the pairs have the longer chosen response.

The figures (mean lengths, share with the longer chosen) are reported for the pairs
the same options would give without length control ("before") and for the result.
Everything is deterministic: same run, same options, same pairs in the same order.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from factory.errors import RunDirError
from factory.publish.card import (
    CardOptions,
)
from factory.publish.dataset import PublishedDataset, write_dataset
from factory.publish.dedup import drop_duplicates
from factory.publish.diversity import jaccard, shingles
from factory.publish.errors import PublishError
from factory.publish.prompts import solver_context
from factory.publish.providers import RunProviders
from factory.publish.run_reader import ProblemRecord, RunData, problem_id_of, read_run
from factory.publish.splits import SplitPlan, spec_domains
from verifiers import Reason, Verdict
from verifiers.code import extract_code

KIND = "preferences"
REAL_FAILURES = tuple(r.value for r in Reason if r.is_candidate_fault)
LEADING_COLUMNS = ("id", "prompt", "chosen", "rejected", "problem_id", "domain")


class LengthControl(StrEnum):
    """How pair lengths are kept from teaching "longer is better" (see the module doc)."""

    NONE = "none"
    RATIO = "ratio"
    BALANCE = "balance"


DEFAULT_MAX_LENGTH_RATIO = 2.0


class PreferenceOptions(BaseModel):
    """How pairs are formed. Unknown names and out-of-range values are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_pairs_per_prompt: int = Field(1, ge=1, le=10_000)
    hard_negatives: bool = True
    seed: int = 0
    length_control: LengthControl = LengthControl.NONE
    max_length_ratio: float | None = Field(None, ge=1.0)
    # A rejected response cut off at max_tokens teaches "finish your answer" more than
    # "be right"; these pairs are marked (column `rejected_truncated`) and can be left out.
    exclude_truncated: bool = False
    # The same choice as `factory publish --include-system/--exclude-system`: the spec's
    # solver system prompt and few-shot turns lead every prompt.
    include_system: bool = True

    @model_validator(mode="after")
    def _ratio_needs_ratio_mode(self) -> PreferenceOptions:
        if self.max_length_ratio is not None and self.length_control is not LengthControl.RATIO:
            raise ValueError(
                "max_length_ratio applies to length_control='ratio' only "
                f"(length_control is {self.length_control.value!r})"
            )
        return self

    @property
    def ratio(self) -> float:
        """The longer/shorter bound of ``ratio`` mode."""
        return self.max_length_ratio or DEFAULT_MAX_LENGTH_RATIO

    def describe(self) -> str:
        """One line: what these options do."""
        selection = "hard negatives first" if self.hard_negatives else f"random (seed {self.seed})"
        control = self.length_control.value
        if self.length_control is LengthControl.RATIO:
            control += f" (max {self.ratio:g}x)"
        truncated = ", truncated rejected excluded" if self.exclude_truncated else ""
        return (
            f"at most {self.max_pairs_per_prompt} per prompt, {selection}, length control "
            f"{control}{truncated}"
        )


@dataclass(frozen=True, eq=False)
class JudgedSample:
    """One solver candidate of a problem with its verdict, as the run recorded it."""

    index: int
    prompt: str
    text: str
    verdict: Verdict
    model: str
    truncated: bool = False  # the response stopped at max_tokens
    provider: str = ""  # the provider string the run recorded

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def failed_for_real(self) -> bool:
        """Failed with a reason that blames the candidate (not infra or reference trouble)."""
        return self.verdict.reason.is_candidate_fault

    @property
    def length(self) -> int:
        return len(self.text)

    @cached_property
    def text_shingles(self) -> set[int]:
        """Word 3-gram shingles of the response (what closeness of texts is measured on)."""
        return shingles(self.text)

    @cached_property
    def code_shingles(self) -> set[int]:
        """Word 3-gram shingles of the extracted program (the whole text without one)."""
        return shingles(extract_code(self.text) or self.text)


Combo = tuple[JudgedSample, JudgedSample]


@dataclass(frozen=True)
class LengthStats:
    """Chosen vs rejected response lengths (characters) over a list of pairs."""

    pairs: int
    mean_chosen: float | None
    mean_rejected: float | None
    chosen_longer: float | None  # share of pairs whose chosen response is strictly longer

    @classmethod
    def of(cls, combos: Sequence[Combo]) -> LengthStats:
        if not combos:
            return cls(0, None, None, None)
        n = len(combos)
        return cls(
            pairs=n,
            mean_chosen=round(sum(c.length for c, _ in combos) / n, 2),
            mean_rejected=round(sum(r.length for _, r in combos) / n, 2),
            chosen_longer=round(sum(c.length > r.length for c, r in combos) / n, 4),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "mean_chosen_chars": self.mean_chosen,
            "mean_rejected_chars": self.mean_rejected,
            "chosen_longer_fraction": self.chosen_longer,
        }


@dataclass(frozen=True)
class PreferencePair:
    """One (prompt, chosen, rejected) pair with where it came from."""

    problem: ProblemRecord
    prompt: list[dict[str, str]]
    chosen: JudgedSample
    rejected: JudgedSample
    rank: int  # order of the pair within its prompt (0 = first taken)
    trust: str

    @property
    def id(self) -> str:
        key = f"{self.problem.id}:{self.chosen.index}:{self.rejected.index}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class PreferenceSet:
    """The pairs of one run under one set of options, and how they came about."""

    run: RunData
    options: PreferenceOptions
    pairs: list[PreferencePair]
    skipped: dict[str, int]
    unverifiable: int
    before: LengthStats
    after: LengthStats
    duplicates: int = 0  # pairs dropped for repeating an earlier pair's three texts

    @property
    def prompts(self) -> int:
        """Problems that gave at least one pair."""
        return len({p.problem.id for p in self.pairs})

    def rejected_reasons(self) -> dict[str, int]:
        return dict(sorted(Counter(p.rejected.verdict.reason.value for p in self.pairs).items()))

    def rows(self) -> list[dict[str, Any]]:
        """The pairs as dataset rows (TRL's conversational preference format + provenance)."""
        providers = RunProviders(self.run)
        return [_row(self.run, p, self.options, providers) for p in self.pairs]

    def truncated_rejected(self) -> int:
        """Pairs whose rejected response stopped at max_tokens."""
        return sum(p.rejected.truncated for p in self.pairs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec_name": self.run.spec_name,
            "spec_hash": self.run.spec_hash,
            "options": self.options.model_dump(mode="json"),
            "pairs": len(self.pairs),
            "prompts": self.prompts,
            "problems": len(self.run.problems),
            "skipped": self.skipped,
            "unverifiable_candidates": self.unverifiable,
            "rejected_reasons": self.rejected_reasons(),
            "duplicate_pairs": self.duplicates,
            "truncated_rejected": self.truncated_rejected(),
            "length_before": self.before.to_dict(),
            "length_after": self.after.to_dict(),
        }


# -- how hard a negative is --------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def answer_distance(a: str | None, b: str | None) -> float:
    """How far two extracted answers are, in [0, 1]: relative difference of plain numbers,
    else 1 - string similarity; 1 when either is missing."""
    if a is None or b is None:
        return 1.0
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return min(1.0, abs(x - y) / max(abs(x), abs(y), 1.0))
    return 1.0 - SequenceMatcher(None, a, b).ratio()


def _extracted(sample: JudgedSample) -> str | None:
    value = sample.verdict.details.get("extracted")
    return value if isinstance(value, str) and value else None


def missed_tests_share(sample: JudgedSample) -> float:
    """Share of the tests a code candidate did not pass (2 when no test result is recorded,
    e.g. no code block): lower is a harder negative."""
    passed = sample.verdict.details.get("passed_tests")
    total = sample.verdict.details.get("total_tests")
    if type(passed) is int and type(total) is int and total > 0:
        return 1.0 - min(passed, total) / total
    return 2.0


def hardness(chosen: JudgedSample, rejected: JudgedSample, domain: str) -> tuple[float, ...]:
    """Sort key of a rejected response against a chosen one: smaller is a harder negative.

    code: (share of tests missed, 1 - Jaccard similarity of the extracted programs' word
    3-gram shingles); other domains (math): (answer form: 0 same extraction rule as the
    chosen answer, 1 an answer found by another rule, 2 no answer found; answer distance;
    1 - Jaccard similarity of the responses' word 3-gram shingles).
    """
    if domain == "code":
        return (
            missed_tests_share(rejected),
            1.0 - jaccard(chosen.code_shingles, rejected.code_shingles),
        )
    answer = _extracted(rejected)
    if answer is None:
        form = 2
    elif rejected.verdict.details.get("rule") == chosen.verdict.details.get("rule"):
        form = 0
    else:
        form = 1
    return (
        float(form),
        answer_distance(_extracted(chosen), answer),
        1.0 - jaccard(chosen.text_shingles, rejected.text_shingles),
    )


# -- pairing within one prompt ------------------------------------------------------------
def ordered_combos(
    problem_id: str, domain: str, samples: Sequence[JudgedSample], options: PreferenceOptions
) -> list[Combo]:
    """Every possible (chosen, rejected) of one prompt, in the order pairs are taken."""
    passing = sorted((s for s in samples if s.passed), key=lambda s: s.index)
    usable = [s for s in samples if not (options.exclude_truncated and s.truncated)]
    failing = sorted((s for s in usable if s.failed_for_real), key=lambda s: s.index)
    # Two texts that are equal teach nothing; a pair shares one prompt (a problem's samples
    # always do, the check only keeps a damaged run from pairing across prompts).
    combos = [(c, r) for c in passing for r in failing if c.text != r.text and c.prompt == r.prompt]
    if options.hard_negatives:
        return sorted(combos, key=lambda cr: (*hardness(*cr, domain), cr[0].index, cr[1].index))
    random.Random(f"{options.seed}:{problem_id}").shuffle(combos)
    return combos


def take_pairs(ordered: Sequence[Combo], k: int) -> tuple[list[Combo], int]:
    """Up to ``k`` combos in ``ordered`` order, in rounds of reuse (see the module doc).

    Returns the pairs and the reuse bound reached (most uses of one response)."""
    target = min(k, len(ordered))
    uses: Counter[int] = Counter()
    taken: list[Combo] = []
    seen: set[tuple[int, int]] = set()
    limit = 0
    while len(taken) < target:
        limit += 1
        for c, r in ordered:
            if len(taken) == target:
                break
            key = (c.index, r.index)
            if key in seen or uses[c.index] >= limit or uses[r.index] >= limit:
                continue
            seen.add(key)
            uses[c.index] += 1
            uses[r.index] += 1
            taken.append((c, r))
    return taken, limit


def within_ratio(combo: Combo, ratio: float) -> bool:
    """The longer response is at most ``ratio`` times the shorter one (at least 1 char)."""
    a, b = combo[0].length, combo[1].length
    return max(a, b) <= ratio * max(1, min(a, b))


def prompt_combos(
    problem_id: str, domain: str, samples: Sequence[JudgedSample], options: PreferenceOptions
) -> tuple[list[Combo], str | None]:
    """One prompt's possible pairs in order (no length control yet), or why there are none."""
    if not any(s.passed for s in samples):
        return [], "no_passing_candidate"
    if not any(s.failed_for_real for s in samples):
        return [], "no_failing_candidate"
    if options.exclude_truncated and all(s.truncated for s in samples if s.failed_for_real):
        return [], "only_truncated_failing"
    ordered = ordered_combos(problem_id, domain, samples, options)
    return ordered, None if ordered else "no_distinct_pair"


def pair_prompt(
    problem_id: str, domain: str, samples: Sequence[JudgedSample], options: PreferenceOptions
) -> tuple[list[Combo], str | None]:
    """The pairs of one prompt before any run-wide step, or why it gives none.

    ``ratio`` length control applies here; ``balance`` is run-wide (:func:`balance_lengths`).
    """
    ordered, why = prompt_combos(problem_id, domain, samples, options)
    if why is not None:
        return [], why
    if options.length_control is LengthControl.RATIO:
        ordered = [c for c in ordered if within_ratio(c, options.ratio)]
        if not ordered:
            return [], "length_control"
    return take_pairs(ordered, options.max_pairs_per_prompt)[0], None


@dataclass
class _Prompt:
    """One prompt's possible pairs and those taken (what `balance_lengths` works on)."""

    key: str
    ordered: list[Combo]
    taken: list[Combo]
    limit: int
    uses: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for c, r in self.taken:
            self.uses[c.index] += 1
            self.uses[r.index] += 1


def balance_lengths(prompts: list[_Prompt]) -> None:
    """Replace or drop pairs (in place) until at most half have the longer chosen response."""
    longer = [(p, combo) for p in prompts for combo in p.taken if combo[0].length > combo[1].length]
    total = sum(len(p.taken) for p in prompts)
    n_longer = len(longer)
    order = {id(p): i for i, p in enumerate(prompts)}
    longer.sort(
        key=lambda pc: (
            -(pc[1][0].length - pc[1][1].length),
            order[id(pc[0])],
            pc[0].taken.index(pc[1]),
        )
    )
    for prompt, combo in longer:
        if 2 * n_longer <= total:
            break
        at = prompt.taken.index(combo)
        prompt.taken.pop(at)
        prompt.uses[combo[0].index] -= 1
        prompt.uses[combo[1].index] -= 1
        taken = {(c.index, r.index) for c, r in prompt.taken}
        for c, r in prompt.ordered:
            if (
                c.length <= r.length
                and (c.index, r.index) not in taken
                and prompt.uses[c.index] < prompt.limit
                and prompt.uses[r.index] < prompt.limit
            ):
                prompt.taken.insert(at, (c, r))
                prompt.uses[c.index] += 1
                prompt.uses[r.index] += 1
                break
        else:
            total -= 1
        n_longer -= 1


# -- the run ------------------------------------------------------------------------------
def _samples(problem: ProblemRecord, records: list[dict[str, Any]]) -> list[JudgedSample]:
    out = []
    for record in records:
        try:
            verdict = Verdict.model_validate(record["verdict"])
            request = record["request"]
            response = record.get("response") or {}
            out.append(
                JudgedSample(
                    index=int(record["sample_index"]),
                    prompt=str(request["prompt"]),
                    text=str(response.get("text", "")),
                    verdict=verdict,
                    model=str(response.get("model") or request.get("model", "")),
                    truncated=response.get("stop_reason") == "max_tokens",
                    provider=str(response.get("provider") or ""),
                )
            )
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise RunDirError(
                f"candidate {record.get('sample_index')} of problem {problem.id}: malformed "
                f"record in state.sqlite ({type(exc).__name__}); the run is damaged"
            ) from None
    return out


def solver_messages(
    run: RunData, user_prompt: str, *, include_system: bool = True
) -> list[dict[str, str]]:
    """The prompt of a pair: the spec's system prompt and few-shot turns (as the run's spec
    snapshot records them; left out unless ``include_system``), then the problem's prompt."""
    context = solver_context(run.spec) if include_system else []
    return [*context, {"role": "user", "content": user_prompt}]


def _not_trusted(problem: ProblemRecord, run: RunData) -> str | None:
    if problem.state == "open":
        return "not_trusted:open"
    if problem.state == "dropped":
        return f"not_trusted:dropped:{problem.note or '?'}"
    if problem.id in run.excluded:
        return "excluded"
    return None


def _trust_of(run: RunData) -> dict[str, str]:
    """Problem id -> the trust its kept rows record (``consensus`` is set by the run)."""
    return {
        problem_id_of(r): str(r.get("provenance", {}).get("reference_trust") or "")
        for r in run.rows
    }


def build_preference_pairs(
    run: RunData | Path | str, options: PreferenceOptions | None = None
) -> PreferenceSet:
    """Pair the passing and failing candidates of every trusted problem of a run directory.

    A missing, half-written or damaged run is a RunDirError. The result may hold no pairs;
    :func:`publish_preferences` refuses to publish an empty set.
    """
    options = options or PreferenceOptions()
    run = run if isinstance(run, RunData) else read_run(Path(run))
    trust = _trust_of(run)
    skipped: Counter[str] = Counter()
    unverifiable = 0
    prompts: list[tuple[ProblemRecord, _Prompt]] = []
    before: list[Combo] = []
    k = options.max_pairs_per_prompt
    for problem in run.problems:
        why = _not_trusted(problem, run)
        if why is not None:
            skipped[why] += 1
            continue
        samples = _samples(problem, run.candidates.get(problem.id, []))
        unverifiable += sum(1 for s in samples if s.verdict.reason.is_unverifiable)
        ordered, why = prompt_combos(problem.id, problem.domain, samples, options)
        if why is not None:
            skipped[why] += 1
            continue
        taken, limit = take_pairs(ordered, k)
        before += taken
        if options.length_control is LengthControl.RATIO:
            ordered = [c for c in ordered if within_ratio(c, options.ratio)]
            if not ordered:
                skipped["length_control"] += 1
                continue
            taken, limit = take_pairs(ordered, k)
        prompts.append((problem, _Prompt(problem.id, ordered, taken, limit)))
    if options.length_control is LengthControl.BALANCE:
        balance_lengths([p for _, p in prompts])
    pairs: list[PreferencePair] = []
    for problem, prompt in prompts:
        if not prompt.taken:
            skipped["length_control"] += 1
            continue
        fallback = str(problem.data.get("trust", ""))
        for rank, (c, r) in enumerate(prompt.taken):
            pairs.append(
                PreferencePair(
                    problem=problem,
                    prompt=solver_messages(run, c.prompt, include_system=options.include_system),
                    chosen=c,
                    rejected=r,
                    rank=rank,
                    trust=trust.get(problem.id) or fallback,
                )
            )
    pairs, duplicates = drop_duplicates(pairs, _pair_key)
    return PreferenceSet(
        run=run,
        options=options,
        pairs=pairs,
        duplicates=duplicates,
        skipped=dict(sorted(skipped.items())),
        unverifiable=unverifiable,
        before=LengthStats.of(before),
        after=LengthStats.of([(p.chosen, p.rejected) for p in pairs]),
    )


def _pair_key(pair: PreferencePair) -> str:
    """Two samples with equal texts make equal pairs: the same prompt, chosen and rejected."""
    return json.dumps([pair.prompt, pair.chosen.text, pair.rejected.text], sort_keys=True)


def _row(
    run: RunData, pair: PreferencePair, options: PreferenceOptions, providers: RunProviders
) -> dict[str, Any]:
    c, r = pair.chosen, pair.rejected
    data = pair.problem.data
    difficulty = data.get("difficulty")
    return {
        "id": pair.id,
        "prompt": pair.prompt,
        "chosen": [{"role": "assistant", "content": c.text}],
        "rejected": [{"role": "assistant", "content": r.text}],
        "problem_id": pair.problem.id,
        "domain": pair.problem.domain,
        "topic": data.get("topic"),
        "difficulty": None if difficulty is None else str(difficulty),
        "problem": pair.problem.statement,
        "chosen_sample_index": c.index,
        "rejected_sample_index": r.index,
        "rejected_reason": r.verdict.reason.value,
        "rejected_truncated": r.truncated,
        "chosen_provider": providers.of(c.provider).name,
        "rejected_provider": providers.of(r.provider).name,
        "rejected_message": r.verdict.message[:500],
        "chosen_model": c.model,
        "rejected_model": r.model,
        "chosen_chars": c.length,
        "rejected_chars": r.length,
        "pair_rank": pair.rank,
        "selection": "hard_negative" if options.hard_negatives else "random",
        "verifier": c.verdict.verifier,
        "verifier_version": c.verdict.verifier_version,
        "reference_trust": pair.trust,
        "spec_name": run.spec_name,
        "spec_hash": run.spec_hash,
    }


# -- publishing ---------------------------------------------------------------------------
def publish_preferences(
    prefs: PreferenceSet,
    out: Path,
    *,
    test_fraction: float = 0.0,
    split_seed: int = 0,
    card_options: CardOptions | None = None,
) -> PublishedDataset:
    """Write the pairs as Parquet + dataset card through the publish path (`write_dataset`).

    Splits are by problem with the same hash as `factory publish`, so with the same seed
    a problem is in the same split of the SFT and the preference dataset."""
    if not prefs.pairs:
        why = ", ".join(f"{k} {v}" for k, v in prefs.skipped.items()) or "the run has no problems"
        raise PublishError(
            f"{prefs.run.root}: no preference pairs to publish "
            f"({len(prefs.run.problems)} problems: {why})"
        )
    from factory.recipes.preference_card import render_preference_card  # the card needs this module

    card_options = card_options or CardOptions()

    def card(plan: SplitPlan) -> str:
        return render_preference_card(
            prefs,
            plan=plan,
            options=card_options,
            test_fraction=test_fraction,
            split_seed=split_seed,
        )

    return write_dataset(
        prefs.rows(),
        out,
        card=card,
        test_fraction=test_fraction,
        seed=split_seed,
        leading=LEADING_COLUMNS,
        kind=KIND,
        domains=spec_domains(prefs.run.spec),
    )
