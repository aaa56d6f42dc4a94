"""The batches and the baseline of benchmarks/rewards are what the README says they are."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "rewards"
sys.path.insert(0, str(BENCH))

from code_batch import PROBLEMS, code_batch  # noqa: E402
from math_batch import labelled_cases, math_batch  # noqa: E402
from math_verify_reward import math_verify_accuracy  # noqa: E402

from verifiers.code import check_solution  # noqa: E402
from verifiers.rewards.code_tests import program_of  # noqa: E402


def test_the_math_batch_cycles_every_labelled_case_into_a_completion():
    cases = labelled_cases()
    rows = math_batch(1024)
    assert len(cases) >= 500 and len(rows) == 1024
    assert {r["id"] for r in rows} == {c["id"] for c in cases}
    bare = next(r for r in rows if r["completion"].startswith("Let me work"))
    assert "\\boxed{" in bare["completion"]


def test_the_math_verify_baseline_scores_right_wrong_and_unparseable():
    rewards = math_verify_accuracy(
        ["so the answer is $\\boxed{\\frac{1}{2}}$", "so the answer is $\\boxed{3}$", "1"],
        ["0.5", "2", "\\frac{1}{"],
    )
    assert rewards[:2] == [1.0, 0.0]


@pytest.mark.docker
def test_the_code_batch_labels_are_true():
    rows = code_batch(len(PROBLEMS) * 8)  # every problem with each of its eight replies
    for row in rows:
        program = program_of(row["completion"])
        verdict = check_solution(program or "", row["tests"], entry_point=row["entry_point"])
        assert verdict.passed == row["right"], (row["entry_point"], verdict.message)
