"""The Verdict model: a pass is exactly reason=correct; unverifiable reasons are their own kind."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from verifiers import Reason, Verdict


def test_ok_is_a_pass_with_reason_correct():
    v = Verdict.ok("fine")
    assert v.passed and v.reason is Reason.CORRECT


def test_a_passing_verdict_with_a_failing_reason_is_refused():
    with pytest.raises(ValidationError, match="inconsistent verdict"):
        Verdict(passed=True, reason=Reason.WRONG_ANSWER)


def test_a_failing_verdict_with_reason_correct_is_refused():
    with pytest.raises(ValidationError, match="inconsistent verdict"):
        Verdict(passed=False, reason=Reason.CORRECT)


def test_fail_refuses_reason_correct():
    with pytest.raises(ValueError, match="failing reason"):
        Verdict.fail(Reason.CORRECT, "nope")


@pytest.mark.parametrize("reason", [Reason.REFERENCE_ERROR, Reason.INFRA_ERROR])
def test_unverifiable_reasons_are_neither_pass_nor_candidate_fault(reason):
    v = Verdict.fail(reason, "could not check")
    assert not v.passed
    assert reason.is_unverifiable
    assert not reason.is_candidate_fault


def test_stamped_records_verifier_and_time_and_is_a_copy():
    v = Verdict.fail(Reason.WRONG_ANSWER, "2 != 3")
    s = v.stamped(verifier="math", version="1.0.0", elapsed_s=0.25)
    assert (s.verifier, s.verifier_version, s.elapsed_s) == ("math", "1.0.0", 0.25)
    assert v.verifier == ""


@given(st.sampled_from(list(Reason)), st.text(max_size=50))
def test_verdicts_round_trip_through_json(reason, message):
    v = Verdict(passed=reason is Reason.CORRECT, reason=reason, message=message, details={"k": 1})
    assert Verdict.model_validate_json(v.model_dump_json()) == v
