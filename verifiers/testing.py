"""Conformance kit for verifier authors: golden cases and property checks.

Every verifier, ours and plugins alike, should pass :func:`run_conformance`.
A verifier ships its own golden cases by defining a ``conformance_cases()``
classmethod (or static method) returning a list of :class:`GoldenCase`; the
kit then checks, for the verifier as a whole:

- the interface: ``name``/``version`` are non-empty strings, ``verify`` exists;
- golden cases: each expected pass passes, each expected fail fails with a
  candidate-fault reason, each expected *unverifiable* case comes back as
  ``reference_error`` or ``infra_error`` (never a pass, never a wrong answer);
- it never raises: adversarial candidates (empty, huge, deeply nested, binary
  junk, unicode) and seeded random strings all get a Verdict back;
- bounded time: every call returns within ``time_bound_s``;
- determinism: the same input gives the same ``passed`` and ``reason`` again;
- verdicts are stamped with the verifier's name and version.

Use it from pytest::

    from verifiers.testing import run_conformance
    def test_my_verifier_conforms():
        run_conformance(MyVerifier())
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from verifiers.base import Verifier
from verifiers.verdict import Reason, Verdict

Expectation = Literal["pass", "fail", "unverifiable"]


class GoldenCase(BaseModel):
    """One (problem, candidate) pair with the outcome a correct verifier gives."""

    model_config = ConfigDict(frozen=True)

    problem: dict[str, Any]
    candidate: str
    expect: Expectation
    note: str = ""


class ConformanceFailure(AssertionError):
    """A verifier broke the contract; the message lists every broken case."""


class ConformanceReport(BaseModel):
    """What :func:`run_conformance` checked and how long the slowest call took."""

    verifier: str
    golden_cases: int
    adversarial_candidates: int
    random_candidates: int
    slowest_call_s: float
    failures: list[str] = Field(default_factory=list)


def adversarial_candidates() -> list[str]:
    """Candidate strings that have broken parsers and sandboxes elsewhere."""
    return [
        "",
        " ",
        "\x00\x01\x02",
        "\\boxed{",
        "\\boxed{}}}}",
        "}" * 50,
        "(" * 10_000 + "1" + ")" * 10_000,
        "x" * 1_000_000,
        "10**10**10**10",
        "5^{5^{5^{5^5}}}",
        "(10^9)!",
        "```python\nimport os\nos._exit(0)\n```",
        "```python\nraise SystemExit(0)\n```",
        "__import__('os').system('echo pwned')",
        "\\frac{1}{0}",
        "0/0",
        "nan",
        "∞ ≤ ∑ √ π",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "The answer is \\boxed{\\text{I don't know}}",
    ]


def _timed_verify(
    verifier: Verifier, problem: Mapping[str, Any], candidate: str
) -> tuple[Verdict | None, float, str | None]:
    start = time.perf_counter()
    try:
        verdict = verifier.verify(problem, candidate)
    except BaseException as exc:  # the contract is "never raises": report, don't propagate
        if isinstance(exc, KeyboardInterrupt):
            raise
        return None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - start
    if not isinstance(verdict, Verdict):
        return None, elapsed, f"returned {type(verdict).__name__}, not a Verdict"
    return verdict, elapsed, None


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _check_expectation(case: GoldenCase, verdict: Verdict) -> str | None:
    if case.expect == "pass" and not verdict.passed:
        return f"expected pass, got {verdict.reason.value} ({verdict.message})"
    if case.expect == "fail" and (verdict.passed or not verdict.reason.is_candidate_fault):
        return f"expected a candidate failure, got {verdict.reason.value} ({verdict.message})"
    if case.expect == "unverifiable" and not verdict.reason.is_unverifiable:
        return f"expected reference_error/infra_error, got {verdict.reason.value}"
    return None


def golden_cases_of(verifier: Verifier) -> list[GoldenCase]:
    """The verifier's own golden cases, from its ``conformance_cases()`` method."""
    provider = getattr(verifier, "conformance_cases", None)
    if provider is None:
        raise ConformanceFailure(
            f"verifier {getattr(verifier, 'name', verifier)!r} ships no golden cases: "
            "define a conformance_cases() classmethod returning list[GoldenCase]"
        )
    cases = [GoldenCase.model_validate(c) for c in provider()]
    kinds = {c.expect for c in cases}
    missing = {"pass", "fail", "unverifiable"} - kinds
    if missing:
        raise ConformanceFailure(
            f"verifier {verifier.name!r}: golden cases need at least one of each "
            f"expectation; missing {sorted(missing)}"
        )
    return cases


def _random_candidates(count: int, seed: int) -> list[str]:
    """Seeded pseudo-random strings over a math-and-code alphabet (deterministic)."""
    rng = random.Random(seed)
    alphabet = "0123456789+-*/^()[]{}\\_=<>,. xyzabcπ√∞!%$#\n`'\"" + "frac sqrt boxed"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(count)]


def run_conformance(
    verifier: Verifier,
    cases: Sequence[GoldenCase] | None = None,
    *,
    time_bound_s: float = 30.0,
    adversarial_problem: Mapping[str, Any] | None = None,
    extra_candidates: Iterable[str] = (),
    random_candidates: int = 20,
    seed: int = 0,
) -> ConformanceReport:
    """Run every conformance check on ``verifier``; raise ConformanceFailure listing breaks.

    ``cases`` defaults to the verifier's ``conformance_cases()``. Adversarial and
    random candidates are sent with ``adversarial_problem`` (default: the problem
    of the first golden case that expects a pass).
    """
    failures: list[str] = []
    name = getattr(verifier, "name", None)
    version = getattr(verifier, "version", None)
    if not isinstance(name, str) or not name:
        failures.append("attribute 'name' must be a non-empty string")
    if not isinstance(version, str) or not version:
        failures.append("attribute 'version' must be a non-empty string")
    if not callable(getattr(verifier, "verify", None)):
        raise ConformanceFailure(f"{verifier!r} has no verify(problem, candidate) method")

    golden = list(cases) if cases is not None else golden_cases_of(verifier)
    slowest = 0.0

    def call(problem: Mapping[str, Any], candidate: str, label: str) -> Verdict | None:
        nonlocal slowest
        verdict, elapsed, error = _timed_verify(verifier, problem, candidate)
        slowest = max(slowest, elapsed)
        if error is not None:
            failures.append(f"{label}: raised instead of returning a Verdict: {error}")
            return None
        if elapsed > time_bound_s:
            failures.append(f"{label}: took {elapsed:.1f}s, over the {time_bound_s}s bound")
        assert verdict is not None
        if verdict.verifier != name or verdict.verifier_version != version:
            failures.append(
                f"{label}: verdict stamped {verdict.verifier!r} {verdict.verifier_version!r}, "
                f"expected {name!r} {version!r}"
            )
        return verdict

    for i, case in enumerate(golden):
        label = f"golden #{i} ({case.expect}, candidate {_short(case.candidate)})"
        first = call(case.problem, case.candidate, label)
        if first is None:
            continue
        problem = _check_expectation(case, first)
        if problem:
            failures.append(f"{label}: {problem}")
        again = call(case.problem, case.candidate, label + " [repeat]")
        if again is not None and (again.passed, again.reason) != (first.passed, first.reason):
            failures.append(
                f"{label}: not deterministic: {first.reason.value} then {again.reason.value}"
            )

    if adversarial_problem is None:
        passing = [c for c in golden if c.expect == "pass"]
        adversarial_problem = passing[0].problem if passing else {}
    adversarial = [*adversarial_candidates(), *extra_candidates]
    for candidate in adversarial:
        verdict = call(adversarial_problem, candidate, f"adversarial {_short(candidate)}")
        if verdict is not None and verdict.passed and candidate.strip() == "":
            failures.append("an empty candidate passed")
    randoms = _random_candidates(random_candidates, seed)
    for candidate in randoms:
        call(adversarial_problem, candidate, f"random {_short(candidate)}")

    report = ConformanceReport(
        verifier=str(name),
        golden_cases=len(golden),
        adversarial_candidates=len(adversarial),
        random_candidates=len(randoms),
        slowest_call_s=round(slowest, 3),
        failures=failures,
    )
    if failures:
        raise ConformanceFailure(
            f"verifier {name!r} broke {len(failures)} conformance rule(s):\n  "
            + "\n  ".join(failures)
        )
    return report


__all__ = [
    "ConformanceFailure",
    "ConformanceReport",
    "GoldenCase",
    "Reason",
    "adversarial_candidates",
    "golden_cases_of",
    "run_conformance",
]
