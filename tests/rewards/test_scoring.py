"""The reward policy: right 1.0, wrong 0.0, unverifiable None, a dead verifier raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifiers.rewards import RewardUnavailable, score
from verifiers.rewards.scoring import score_batch
from verifiers.verdict import Reason, Verdict


def verdict(reason: Reason, **details) -> Verdict:
    if reason is Reason.CORRECT:
        return Verdict.ok(details=details)
    return Verdict.fail(reason, reason.value, details=details)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_its_reward(reason):
    reward = score(verdict(reason))
    if reason is Reason.CORRECT:
        assert reward == 1.0
    elif reason in (Reason.REFERENCE_ERROR, Reason.INFRA_ERROR):
        assert reward is None  # never a silent 0 for a check that could not be made
    else:
        assert reward == 0.0


@given(st.integers(0, 50), st.integers(1, 50))
def test_fraction_mode_is_the_share_of_tests_passed(passed, total):
    passed = min(passed, total)
    reward = score(
        verdict(Reason.TESTS_FAILED, passed_tests=passed, total_tests=total), partial=True
    )
    assert reward == passed / total
    assert score(verdict(Reason.CORRECT), partial=True) == 1.0
    assert score(verdict(Reason.INFRA_ERROR), partial=True) is None


def test_a_batch_of_only_infra_errors_raises_unless_told_otherwise():
    batch = [verdict(Reason.INFRA_ERROR), None, verdict(Reason.INFRA_ERROR)]
    with pytest.raises(RewardUnavailable, match="every sample"):
        score_batch(batch, name="code_tests")
    assert score_batch(batch, name="code_tests", on_infra_error="none") == [None, None, None]
    # One real verdict in the batch: the infra errors are just unverifiable samples.
    assert score_batch([*batch, verdict(Reason.CORRECT)], name="code_tests") == [
        None,
        None,
        None,
        1.0,
    ]


def test_the_trainer_logs_the_share_of_unverifiable_samples_and_each_reason():
    metrics: dict[str, float] = {}
    extra: dict[str, list] = {}
    rewards = score_batch(
        [verdict(Reason.CORRECT), verdict(Reason.REFERENCE_ERROR), None, verdict(Reason.NO_ANSWER)],
        name="math_answer",
        trainer_kwargs={
            "log_metric": metrics.__setitem__,
            "log_extra": extra.__setitem__,
        },
    )
    assert rewards == [1.0, None, None, 0.0]
    assert metrics == {"math_answer/unverifiable": pytest.approx(1 / 3)}
    assert extra == {"math_answer_reason": ["correct", "reference_error", None, "no_answer"]}
