"""Procedural problems: deterministic per seed, and their references pass our own verifier."""

import pytest

from factory.sources.base import SourceContext
from factory.sources.procedural import (
    ALL_GENERATORS,
    ProceduralSource,
    ProceduralSourceOptions,
)
from verifiers.math import check_answer
from verifiers.math.checks import check_antiderivative


def source(**options):
    return ProceduralSource(ProceduralSourceOptions(**options), SourceContext(domain="math"))


def test_same_seed_same_problems_other_seed_other_problems():
    a = [p.model_dump() for p in source(max_difficulty=5).problems(21, seed=11)]
    b = [p.model_dump() for p in source(max_difficulty=5).problems(21, seed=11)]
    c = [p.model_dump() for p in source(max_difficulty=5).problems(21, seed=12)]
    assert a == b
    assert a != c


def test_a_longer_run_starts_with_the_shorter_one():
    short = [p.id for p in source().problems(5, seed=3)]
    long = [p.id for p in source().problems(12, seed=3)]
    assert long[:5] == short


def test_problems_are_distinct_ground_truth_latex_and_within_the_difficulty_range():
    problems = list(source(min_difficulty=2, max_difficulty=4).problems(35, seed=0))
    assert len(problems) == 35 and len({p.id for p in problems}) == 35
    assert {p.topic for p in problems} == set(ALL_GENERATORS)
    for p in problems:
        assert p.trust == "ground_truth" and p.source == "procedural" and p.domain == "math"
        assert 2 <= int(p.difficulty) <= 4
        assert "$" in p.statement


def test_difficulty_range_is_checked():
    with pytest.raises(ValueError, match="min_difficulty \\(4\\) is above max_difficulty \\(2\\)"):
        ProceduralSourceOptions(min_difficulty=4, max_difficulty=2)


def _verify(problem, candidate):
    check = problem.reference.check
    if check is not None:
        assert check["kind"] == "antiderivative"
        return check_antiderivative(check["integrand"], candidate, check["variable"])
    return check_answer(candidate, problem.reference.answer)


@pytest.mark.parametrize("generator", ALL_GENERATORS)
def test_references_pass_the_math_verifier_and_wrong_answers_fail(generator):
    for problem in source(generators=[generator], max_difficulty=5).problems(5, seed=42):
        if problem.reference.check is not None:
            # The reference solution "F(x) = ... + C" is an antiderivative; F + x is not.
            right = problem.reference.solution.removeprefix("F(x) = ").removesuffix(" + C")
            wrong = f"{right} + x^2"
        else:
            right = problem.reference.answer
            wrong = f"{right} + 1" if "\\{" not in right else "\\{1000\\}"
        good = _verify(problem, f"The answer is $\\boxed{{{right}}}$.")
        assert good.passed, (problem.statement, right, good.reason, good.message)
        bad = _verify(problem, f"\\boxed{{{wrong}}}")
        assert not bad.passed and bad.reason.value == "wrong_answer", (problem.statement, wrong)
