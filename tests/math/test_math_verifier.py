"""The public, bounded API: check_answer & co. in worker processes, and MathVerifier."""

import time

import pytest

from verifiers import get_verifier
from verifiers.errors import VerifierOptionsError
from verifiers.math import (
    MathVerifier,
    check_answer,
    check_antiderivative,
    check_many,
    check_substitution,
)
from verifiers.math.answer import MathOptions
from verifiers.math.verifier import _from_outcome
from verifiers.verdict import Reason
from verifiers.worker import WorkerCrashed, WorkerTimeout


def test_check_answer_runs_bounded_and_stamps():
    v = check_answer("So the answer is $\\boxed{\\frac{1}{2}}$.", "0.5")
    assert v.passed and v.reason is Reason.CORRECT
    assert (v.verifier, v.verifier_version) == ("math", "1.0.0")
    assert v.elapsed_s > 0
    assert not check_answer("\\boxed{3}", "2").passed


def test_timeout_becomes_a_timeout_verdict():
    slow = "\\boxed{" + "+".join(f"\\sin({k}x)" for k in range(1, 600)) + "}"  # ~1.5 s
    v = check_answer(slow, "1", timeout_s=0.2)
    assert v.reason is Reason.TIMEOUT and v.details["limit"] == "time"
    assert v.verifier == "math"


def test_worker_failures_map_to_verdicts():
    opts = MathOptions()
    mem = _from_outcome(WorkerCrashed("MemoryError under the cap", cause="memory"), opts)
    assert mem.reason is Reason.TIMEOUT and mem.details["limit"] == "memory"
    seg = _from_outcome(WorkerCrashed("killed by SIGSEGV", cause="signal"), opts)
    assert seg.reason is Reason.INFRA_ERROR and not seg.passed
    slow = _from_outcome(WorkerTimeout("too slow"), opts)
    assert slow.reason is Reason.TIMEOUT
    bug = _from_outcome(ZeroDivisionError("oops"), opts)
    assert bug.reason is Reason.INFRA_ERROR and "oops" in bug.message


def test_adversarial_inputs_through_the_worker():
    start = time.perf_counter()
    for candidate in ["10**10**10**10", "5^{5^{5^{5^5}}}", "(10^9)!", "x" * 1_000_000]:
        v = check_answer(candidate, "5", timeout_s=5)
        assert not v.passed
        assert v.reason in (
            Reason.WRONG_ANSWER,
            Reason.PARSE_ERROR,
            Reason.NO_ANSWER,
            Reason.TIMEOUT,
        )
    assert time.perf_counter() - start < 20


def test_check_many_keeps_order():
    pairs = [("1", "1"), ("2", "1"), ("x", "\\frac{1}{"), ("\\boxed{0.5}", "\\frac12")]
    reasons = [v.reason.value for v in check_many(pairs)]
    assert reasons == ["correct", "wrong_answer", "reference_error", "correct"]
    assert check_many([]) == []


def test_public_checks():
    assert check_substitution("x^2-5x+6=0", "x = 2, x = 3").passed
    assert not check_substitution("x^2-5x+6=0", "x = 2, x = 4").passed
    assert check_antiderivative("2x", "x^2+C").passed
    assert check_antiderivative("3t^2", "t^3", variable="t").passed


def test_bad_options_raise():
    with pytest.raises(VerifierOptionsError):
        check_answer("1", "1", bogus=True)
    with pytest.raises(VerifierOptionsError):
        MathVerifier(timeout=3)
    with pytest.raises(VerifierOptionsError):
        MathVerifier(rel_tol="loose")


def test_verifier_problems():
    mv = MathVerifier(rel_tol=1e-3)
    assert mv.name == "math" and mv.version == "1.0.0"
    assert mv.verify({"reference": "\\pi"}, "3.1416").passed  # looser tolerance
    sub = {"check": {"kind": "substitution", "equations": ["x+y=3", "x-y=1"]}}
    assert mv.verify(sub, "(2, 1)").passed
    anti = {"check": {"kind": "antiderivative", "integrand": "\\cos u", "variable": "u"}}
    assert mv.verify(anti, "\\sin u").passed
    for bad in [{}, {"check": {"kind": "x"}}, {"check": "nope"}, {"reference": None}]:
        v = mv.verify(bad, "1")
        assert v.reason is Reason.REFERENCE_ERROR, bad
        assert v.verifier == "math"


def test_registered_entry_point():
    v = get_verifier("math")
    assert isinstance(v, MathVerifier)
    assert v.verify({"reference": "2"}, "\\boxed{2}").passed
