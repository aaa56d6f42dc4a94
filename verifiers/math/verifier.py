"""The public, bounded math checks and the ``math`` verifier.

Every check runs in a killable worker process (:mod:`verifiers.worker`) with a
time limit (``timeout_s``, default 5) and a memory cap (``memory_mb``, default
1024), because SymPy can hang and big-integer C code ignores signals. A check
that runs out of time or memory comes back as ``Reason.TIMEOUT`` with
``details["limit"]`` set to ``"time"`` or ``"memory"``.

    from verifiers.math import check_answer
    check_answer("... so the answer is $\\\\frac{1}{2}$.", "0.5").passed  # True

Nothing here raises because of the candidate or the reference; only bad
*options* raise :class:`~verifiers.errors.VerifierOptionsError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from verifiers.math.answer import MathOptions, check_answer_inprocess, short, validate_options
from verifiers.math.checks import antiderivative_inprocess, substitution_inprocess
from verifiers.verdict import Reason, Verdict
from verifiers.worker import WorkerCrashed, WorkerTimeout, map_bounded, run_bounded

__all__ = [
    "MathVerifier",
    "check_answer",
    "check_antiderivative",
    "check_many",
    "check_substitution",
]

NAME = "math"
VERSION = "1.0.0"


def _from_outcome(outcome: Any, opts: MathOptions) -> Verdict:
    """A worker's result (a verdict dict) or exception, as a Verdict."""
    if isinstance(outcome, WorkerTimeout):
        return Verdict.fail(
            Reason.TIMEOUT,
            f"the check took longer than {opts.timeout_s:g} s",
            details={"limit": "time", "timeout_s": opts.timeout_s},
        )
    if isinstance(outcome, WorkerCrashed):
        cause = getattr(outcome, "cause", "")
        if cause == "memory" or "memory" in str(outcome).lower():
            return Verdict.fail(
                Reason.TIMEOUT,
                f"the check ran out of memory ({opts.memory_mb} MB)",
                details={"limit": "memory", "memory_mb": opts.memory_mb},
            )
        return Verdict.fail(
            Reason.INFRA_ERROR,
            f"the check's worker process crashed: {short(outcome, 500)}",
            details={"limit": "crash", "cause": cause},
        )
    if isinstance(outcome, BaseException):
        return Verdict.fail(
            Reason.INFRA_ERROR,
            f"internal error: {type(outcome).__name__}: {short(outcome, 500)}",
            details={"exception": type(outcome).__name__},
        )
    try:
        return Verdict.model_validate(outcome)
    except Exception as exc:  # a malformed result is our bug, not the candidate's
        return Verdict.fail(Reason.INFRA_ERROR, f"internal error: bad result {short(exc)}")


def _stamp(verdict: Verdict, start: float) -> Verdict:
    return verdict.stamped(verifier=NAME, version=VERSION, elapsed_s=time.perf_counter() - start)


def _bounded(
    fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], opts: MathOptions
) -> Verdict:
    start = time.perf_counter()
    try:
        outcome: Any = run_bounded(fn, *args, timeout_s=opts.timeout_s, memory_mb=opts.memory_mb)
    except Exception as exc:  # WorkerTimeout, WorkerCrashed, or a bug: all become verdicts
        outcome = exc
    return _stamp(_from_outcome(outcome, opts), start)


def check_answer(candidate: str, reference: str, **options: Any) -> Verdict:
    """Is the answer in ``candidate`` (a response or a bare answer) equal to ``reference``?

    Options: ``timeout_s``, ``memory_mb``, ``rel_tol`` (decimal tolerance),
    ``probes`` (random points for symbolic checks), ``last_number_fallback``.
    """
    opts = validate_options(options)
    return _bounded(check_answer_inprocess, (candidate, reference, opts.model_dump()), opts)


def check_many(pairs: Iterable[tuple[str, str]], **options: Any) -> list[Verdict]:
    """:func:`check_answer` over ``(candidate, reference)`` pairs, in parallel, in order."""
    opts = validate_options(options)
    dumped = opts.model_dump()
    calls = [(c, r, dumped) for c, r in pairs]
    start = time.perf_counter()
    try:
        outcomes = map_bounded(
            check_answer_inprocess, calls, timeout_s=opts.timeout_s, memory_mb=opts.memory_mb
        )
    except Exception as exc:  # the pool itself failed: every pair is unverified
        outcomes = [exc] * len(calls)
    elapsed = (time.perf_counter() - start) / max(1, len(calls))
    return [
        _from_outcome(o, opts).stamped(
            verifier=NAME,
            version=VERSION,
            elapsed_s=o.get("elapsed_s", elapsed) if isinstance(o, dict) else elapsed,
        )
        for o in outcomes
    ]


def check_substitution(equations: str | list[str], candidate: str, **options: Any) -> Verdict:
    """Do the candidate's solutions satisfy ``equations`` (checked by substitution)?"""
    opts = validate_options(options)
    return _bounded(substitution_inprocess, (equations, candidate, opts.model_dump()), opts)


def check_antiderivative(
    integrand: str, candidate: str, variable: str = "x", **options: Any
) -> Verdict:
    """Is the candidate an antiderivative of ``integrand`` (checked by differentiating)?"""
    opts = validate_options(options)
    return _bounded(
        antiderivative_inprocess, (integrand, candidate, variable, opts.model_dump()), opts
    )


class MathVerifier:
    """Checks final answers of math problems.

    ``problem`` holds either ``reference`` (the expected answer as a string) or
    ``check``: ``{"kind": "substitution", "equations": "x^2-5x+6=0"}`` (a string
    or a list of strings) or ``{"kind": "antiderivative", "integrand": "...",
    "variable": "x"}``. A problem with neither, or a malformed check, gives a
    ``reference_error`` verdict. Options: see :class:`~verifiers.math.answer.MathOptions`.
    """

    name = NAME
    version = VERSION

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(options)

    @classmethod
    def conformance_cases(cls) -> list[Any]:
        """Golden cases for :func:`verifiers.testing.run_conformance`."""
        from verifiers.testing import GoldenCase

        def case(problem: dict[str, Any], candidate: str, expect: str, note: str = "") -> Any:
            return GoldenCase(problem=problem, candidate=candidate, expect=expect, note=note)

        half = {"reference": "\\frac{1}{2}"}
        return [
            case(half, "So the answer is $\\boxed{\\frac12}$.", "pass"),
            case(half, "0.5", "pass", "decimal equals the fraction"),
            case({"reference": "1000"}, "1\\,000", "pass", "thousands separator"),
            case({"reference": "x=2"}, "The answer is 2.", "pass", "assignment form"),
            case({"reference": "(1,3]"}, "1 < x \\le 3", "pass", "inequality as interval"),
            case({"reference": "\\{1,2\\}"}, "\\boxed{2, 1}", "pass"),
            case(
                {"check": {"kind": "substitution", "equations": "x^2-5x+6=0"}},
                "x = 2 or x = 3",
                "pass",
            ),
            case(
                {"check": {"kind": "antiderivative", "integrand": "2x", "variable": "x"}},
                "x^2 + C",
                "pass",
            ),
            case(half, "\\boxed{\\frac{1}{3}}", "fail"),
            case({"reference": "2"}, "\\pm 2", "fail", "plus-minus is two answers"),
            case({"reference": "y-2=0"}, "x-1=0", "fail", "different variables"),
            case({"reference": "\\frac{1}{2^{99}}"}, "\\frac{1}{2^{98}}", "fail"),
            case({"reference": "5"}, "I don't know", "fail", "no answer"),
            case({"reference": "5"}, "10**10**10**10", "fail", "oversized"),
            case({"check": {"kind": "substitution", "equations": "x^2-5x+6=0"}}, "x = 4", "fail"),
            case({"reference": "\\frac{1}{"}, "1", "unverifiable", "bad reference"),
            case({}, "1", "unverifiable", "no reference"),
            case({"check": {"kind": "nonsense"}}, "1", "unverifiable", "unknown check"),
        ]

    def verify(self, problem: Mapping[str, Any], candidate: str) -> Verdict:
        start = time.perf_counter()
        opts = self.options
        dumped = opts.model_dump()
        if not isinstance(problem, Mapping):
            return _stamp(
                Verdict.fail(Reason.REFERENCE_ERROR, "the problem is not a mapping"), start
            )
        check = problem.get("check")
        if check is not None:
            if not isinstance(check, Mapping):
                return _stamp(
                    Verdict.fail(Reason.REFERENCE_ERROR, "'check' must be a mapping"), start
                )
            kind = check.get("kind")
            if kind == "substitution" and "equations" in check:
                return _bounded(
                    substitution_inprocess, (check["equations"], candidate, dumped), opts
                )
            if kind == "antiderivative" and "integrand" in check:
                variable = check.get("variable", "x")
                return _bounded(
                    antiderivative_inprocess,
                    (check["integrand"], candidate, variable, dumped),
                    opts,
                )
            return _stamp(
                Verdict.fail(
                    Reason.REFERENCE_ERROR,
                    f"unknown or incomplete check {short(dict(check))}: expected kind "
                    "'substitution' with 'equations' or 'antiderivative' with 'integrand'",
                ),
                start,
            )
        if "reference" not in problem:
            return _stamp(
                Verdict.fail(
                    Reason.REFERENCE_ERROR, "the problem has neither 'reference' nor 'check'"
                ),
                start,
            )
        return _bounded(check_answer_inprocess, (candidate, problem["reference"], dumped), opts)
