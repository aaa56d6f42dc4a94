"""Reading TRL's batch: completion text in both formats, and dataset columns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifiers.rewards import RewardColumnError, completion_text
from verifiers.rewards.batch import read_column


def test_standard_completion_is_its_own_text():
    assert completion_text("so \\boxed{2}") == "so \\boxed{2}"


def test_conversational_completion_joins_the_assistant_messages():
    completion = [{"role": "assistant", "content": "The answer is 3."}]
    assert completion_text(completion) == "The answer is 3."
    blocks = [{"role": "assistant", "content": [{"type": "text", "text": "x = 4"}]}]
    assert completion_text(blocks) == "x = 4"
    mixed = [
        {"role": "user", "content": "not this"},
        {"role": "assistant", "content": "first"},
        {"role": "assistant", "content": "second"},
    ]
    assert completion_text(mixed) == "first\nsecond"


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(json_like)
def test_completion_text_never_raises_and_always_gives_a_string(value):
    assert isinstance(completion_text(value), str)


def test_a_missing_column_names_the_columns_present():
    with pytest.raises(RewardColumnError, match=r"'solution'.*\['answer', 'tests'\]"):
        read_column(
            {"answer": [1], "tests": [2], "trainer_state": None},
            "solution",
            1,
            reward="math_answer",
        )


def test_a_column_of_the_wrong_length_is_refused():
    with pytest.raises(RewardColumnError, match="one value per completion"):
        read_column({"answer": ["1", "2"]}, "answer", 3, reward="math_answer")
