"""CodeReward on the real Docker sandbox."""

from __future__ import annotations

import pytest

from sandbox.pool import SandboxPool
from verifiers.errors import VerifierOptionsError
from verifiers.rewards import CodeReward, RewardUnavailable

pytestmark = pytest.mark.docker

CHECK = (
    "def check(candidate):\n"
    "    assert candidate(2, 3) == 5\n"
    "    assert candidate(-1, 1) == 0\n"
    "    assert candidate(0, 0) == 0\n"
)
GOOD = "def add(a, b):\n    return a + b\n"
HALF = "def add(a, b):\n    return a * b if a == 0 else a + b if a > 0 else 7\n"


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(size=2) as p:
        yield p


def test_binary_rewards_follow_the_verdicts(pool):
    reward = CodeReward(pool=pool)
    completions = [
        f"Here you go:\n```python\n{GOOD}```\n",
        [{"role": "assistant", "content": f"```python\n{GOOD}```"}],
        "def add(a, b):\n    return a - b\n",
        "I cannot write code today.",
        "",
    ]
    rewards = reward(completions, tests=[CHECK] * 5, entry_point=["add"] * 5)
    assert rewards == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_fraction_mode_gives_the_share_of_tests_passed(pool):
    stdio = [{"input": f"{a} {b}\n", "output": f"{a + b}\n"} for a, b in [(1, 2), (3, 4), (5, 6)]]
    program = "a, b = map(int, input().split())\nprint(a + b if a < 5 else 0)\n"
    assert CodeReward(pool=pool, mode="fraction")([program], tests=[stdio]) == [2 / 3]
    assert CodeReward(pool=pool)([program], tests=[stdio]) == [0.0]


def test_rows_without_tests_and_broken_tests_are_none(pool):
    reward = CodeReward(pool=pool, reference_column="canonical_solution")
    broken = "def check(candidate):\n    assert candidate(2, 3) == 6\n"  # fails on the reference
    rewards = reward(
        [GOOD, GOOD, "def add(a, b):\n    return 0\n"],
        tests=[None, broken, broken],
        entry_point=["add"] * 3,
        canonical_solution=[GOOD] * 3,
    )
    assert rewards == [None, None, None]


def test_a_dead_sandbox_stops_training_instead_of_teaching_nothing():
    closed = SandboxPool(size=1, preflight=False)
    closed.close()
    with pytest.raises(RewardUnavailable, match="infra_error"):
        CodeReward(pool=closed)([GOOD, GOOD], tests=[CHECK, CHECK], entry_point=["add", "add"])
    rewards = CodeReward(pool=closed, on_infra_error="none")(
        [GOOD], tests=[CHECK], entry_point=["add"]
    )
    assert rewards == [None]


def test_bad_options_are_named_errors():
    with pytest.raises(VerifierOptionsError, match="mode"):
        CodeReward(mode="partial")
    with pytest.raises(VerifierOptionsError, match="style"):
        CodeReward(style="doctest")
