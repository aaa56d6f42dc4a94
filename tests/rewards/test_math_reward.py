"""MathAnswerReward on real checks (real SymPy in the real worker pool)."""

from __future__ import annotations

import pytest

from verifiers.errors import VerifierOptionsError
from verifiers.math import check_answer
from verifiers.rewards import MathAnswerReward, RewardColumnError


def test_rewards_follow_the_verdicts_in_both_completion_formats():
    reward = MathAnswerReward()
    completions = [
        "... so the answer is $\\boxed{\\frac{1}{2}}$.",
        [{"role": "assistant", "content": "The answer is 3."}],
        "I give up.",
        "x = 7",
    ]
    assert reward(completions, answer=["0.5", "4", "2", "7"]) == [1.0, 0.0, 0.0, 1.0]


def test_a_row_without_a_reference_or_with_a_broken_one_is_none_not_zero():
    reward = MathAnswerReward("solution_value")
    rewards = reward(
        ["\\boxed{2}", "\\boxed{2}", "\\boxed{2}"],
        solution_value=["2", None, "\\frac{1}{"],  # None: a code row in a mixed dataset
    )
    assert rewards == [1.0, None, None]


def test_the_reference_column_is_configurable_and_a_missing_one_is_a_named_error():
    with pytest.raises(RewardColumnError, match=r"'answer'.*'final'"):
        MathAnswerReward()(["1"], final=["1"])
    assert MathAnswerReward("final")(["1"], final=["1"]) == [1.0]


def test_options_are_validated_when_the_reward_is_built():
    with pytest.raises(VerifierOptionsError):
        MathAnswerReward(timeout=3)
    assert MathAnswerReward(timeout_s=2).options["timeout_s"] == 2


def test_the_reward_agrees_with_check_answer_one_by_one():
    pairs = [
        ("\\boxed{1{,}000}", "1000"),
        ("x = \\pm 2", "2"),
        ("The answer is (1, 3].", "1 < x \\le 3"),
        ("so \\boxed{\\sqrt{8}}", "2\\sqrt{2}"),
        ("#### 72", "72"),
        ("\\boxed{10**10**10**10}", "5"),
    ]
    rewards = MathAnswerReward()([c for c, _ in pairs], answer=[r for _, r in pairs])
    expected = [1.0 if check_answer(c, r).passed else 0.0 for c, r in pairs]
    assert rewards == expected
