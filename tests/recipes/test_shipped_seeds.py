"""The seed problems shipped beside the specs are real problems with right references."""

from __future__ import annotations

import pytest

from factory.recipes.inputs import read_problem_file, shipped_seeds
from factory.spec import load_spec
from tests.recipes.recipe_llm import CODE_SPEC, MATH_SPEC
from verifiers.code import check_solution
from verifiers.math import check_answer


def test_math_seeds_have_answers_the_verifier_reads():
    spec = load_spec(MATH_SPEC)
    seeds = read_problem_file(shipped_seeds(spec), spec.domain)
    assert len(seeds) >= 20
    assert len({s.statement for s in seeds}) == len(seeds)
    for seed in seeds:
        assert seed.topic in spec.source.options.topics, seed.statement
        verdict = check_answer(f"\\boxed{{{seed.reference.answer}}}", seed.reference.answer)
        assert verdict.passed, (seed.statement, verdict.message)


@pytest.mark.docker
def test_code_seeds_pass_their_own_tests_in_the_sandbox():
    spec = load_spec(CODE_SPEC)
    seeds = read_problem_file(shipped_seeds(spec), spec.domain)
    assert len(seeds) >= 10
    for seed in seeds:
        ref = seed.reference
        verdict = check_solution(ref.solution, ref.tests, entry_point=ref.entry_point)
        assert verdict.passed, (seed.statement, verdict.reason, verdict.message)
        stub = check_solution(f"def {ref.entry_point}(*a):\n    return None\n", ref.tests,
                              entry_point=ref.entry_point)  # fmt: skip
        assert not stub.passed, seed.statement
