"""Splitting assert tests in the parent (pure: no sandbox)."""

import ast
import json

import pytest

from verifiers.code.asserts import (
    BrokenTestsError,
    _Unsplittable,
    judge,
    plan_asserts,
    split_expression,
)

HUMANEVAL = '''
METADATA = {"author": "jt"}


def check(candidate):
    """docstring"""
    assert candidate([1, 2, 3], 2) == [1, 3], "drops"
    assert abs(candidate([0.5], 1) - 0.25) < 1e-6
    assert math.isclose(candidate(1, 2), 3.0)
    assert sorted(candidate("ab")) == ["a", "b"]
    assert not candidate([])
    assert candidate(None) is None
    xs = [4, 5]
    assert candidate(xs) == 9
    expected = 3
    assert candidate(1) == expected
    for i in range(3):
        assert candidate(i) == i

check(my_func)
'''


def plan_of(tests, names=frozenset({"f"}), entry="f"):
    return plan_asserts(tests, candidate_names=set(names), entry_point=entry)


def test_humaneval_check_is_expanded_and_split():
    plan = plan_of(HUMANEVAL)
    assert plan.check_param == "candidate"
    kinds = [(s.scope, s.kind) for s in plan.steps]
    assert ("module", "setup") in kinds
    check_steps = [s for s in plan.steps if s.scope == "check"]
    modes = [s.kind for s in check_steps]
    assert modes == ["eval"] * 6 + ["exec", "eval", "exec", "exec", "exec"]
    assert len(plan.tests) == 9  # the two assignments are not tests
    assert not any("check(my_func)" in s.source for s in plan.steps)  # we call check ourselves


def test_expected_values_never_reach_the_child():
    plan = plan_of("assert f([1, 2]) == [31337, 4242]\nassert abs(f(0.5) - 0.123456) < 1e-9\n")
    child = json.dumps([s.to_plan() for s in plan.steps])
    assert "31337" not in child and "4242" not in child and "0.123456" not in child
    assert "f([1, 2])" in child


def test_holes_must_be_rooted_at_a_candidate_name():
    names = {"f", "Solution"}
    tree = ast.parse("Solution().solve([1])[0] == 2", mode="eval").body
    _, holes = split_expression(tree, names)
    assert holes == ("Solution().solve([1])[0]",)
    for unsplittable in (
        "helper(1) == f(1)",  # the expected side would be computed in the child
        "all(f(x) == x for x in xs)",  # comparisons inside a hole would run on candidate objects
        "isinstance(f(1), list)",
        "f(1) is 5",
    ):
        with pytest.raises(_Unsplittable):
            split_expression(ast.parse(unsplittable, mode="eval").body, names)


def judged(src, *values):
    expr, _ = split_expression(ast.parse(src, mode="eval").body, {"f"})
    return judge(expr, list(values))


def test_judge_evaluates_plain_data_only():
    assert judged("f(1) == [1, 2]", [1, 2]) == (True, "")
    assert not judged("f(1) == [1, 2]", (1, 2))[0]
    assert judged("abs(f(1) - 0.5) < 1e-6", 0.5000001)[0]
    assert judged("math.isclose(f(1), 1/3)", 0.3333333333333333)[0]
    assert judged("f(1) is None", None)[0]
    assert judged("not f(1)", [])[0]
    assert judged("f(1) == f(2) + 1", 3, 2)[0]
    assert judged("sorted(f(1)) == [1, 2]", [2, 1])[0]
    assert judged("f(1) * 10**9 == 'x'", "ab")[0] is False  # guarded, no giant string


def test_broken_tests_are_reference_errors():
    with pytest.raises(BrokenTestsError):
        plan_of("assert f(1) == (\n")
    with pytest.raises(BrokenTestsError):
        plan_of("x = 1\n")
    with pytest.raises(BrokenTestsError):
        plan_of("def check(candidate):\n    pass\n")
    with pytest.raises(BrokenTestsError):
        plan_of("def f():\n    return\nreturn 5\n")  # compile-time error


def test_check_with_return_runs_whole():
    plan = plan_of(
        "def check(candidate):\n    if candidate(1) == 1:\n        return\n    assert False\n"
    )
    assert [s.kind for s in plan.steps if s.scope == "check"] == ["exec"]
    assert plan.tests[0].source == "check(candidate)"
