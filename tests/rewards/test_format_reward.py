"""FormatReward: is there an answer (or a program) to extract at all?"""

from __future__ import annotations

import pytest

from verifiers.errors import VerifierOptionsError
from verifiers.rewards import FormatReward


def test_math_format_wants_a_stated_final_answer():
    reward = FormatReward("math")
    completions = [
        "so $\\boxed{4}$",
        "The answer is 12.",
        "#### 72",
        [{"role": "assistant", "content": "Final Answer: $x = 2$"}],
        "I think it might be 7 or 8",  # only a number in passing: no stated answer
        "",
    ]
    assert reward(completions, answer=["x"] * 6) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]


def test_code_format_wants_a_fenced_python_block():
    reward = FormatReward("code")
    completions = ["```python\nprint(1)\n```", "print(1)", "```js\nx()\n```", "```python\n```"]
    assert reward(completions) == [1.0, 0.0, 0.0, 0.0]


def test_names_and_kinds():
    assert FormatReward().__name__ == "math_format"
    assert FormatReward("code", name="has_code").__name__ == "has_code"
    with pytest.raises(VerifierOptionsError):
        FormatReward("sql")


def test_with_a_column_rows_of_the_other_task_are_none():
    reward = FormatReward("math", column="answer")
    assert reward(["\\boxed{1}", "\\boxed{1}", "no"], answer=["1", None, "2"]) == [1.0, None, 0.0]
