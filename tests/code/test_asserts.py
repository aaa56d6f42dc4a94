"""Reading assert tests in the parent (pure: no sandbox): steps and the names they need."""

import ast

import pytest

from verifiers.code.asserts import (
    BrokenTestsError,
    free_names,
    plan_asserts,
    solution_imports,
)

HUMANEVAL = '''
METADATA = {"author": "jt"}


def check(candidate):
    """docstring"""
    assert candidate([1, 2, 3], 2) == [1, 3], "drops"
    assert abs(candidate([0.5], 1) - 0.25) < 1e-6
    assert math.isclose(candidate(1, 2), 3.0)
    xs = [4, 5]
    assert candidate(xs) == 9
    for i in range(3):
        assert candidate(i) == helper(i)

check(my_func)
'''


def plan_of(tests, entry="f"):
    return plan_asserts(tests, entry_point=entry)


def test_humaneval_check_is_expanded_statement_by_statement():
    plan = plan_of(HUMANEVAL)
    assert plan.check_param == "candidate"
    assert ("module", "setup") in [(s.scope, s.kind) for s in plan.steps]
    check_steps = [s for s in plan.steps if s.scope == "check"]
    assert [s.is_test for s in check_steps] == [True, True, True, False, True, True]
    assert len(plan.tests) == 5  # the assignment is not a test
    assert not any("check(my_func)" in s.source for s in plan.steps)  # we call check ourselves


def test_free_names_are_what_the_tests_take_from_elsewhere():
    tree = ast.parse(HUMANEVAL)
    # abs, range: builtins (the judge's own); math: a module the tests rely on; helper and
    # my_func: the solution's. Names the tests bind (xs, i, check, candidate) are theirs.
    assert free_names(tree) == ["abs", "helper", "math", "my_func", "range"]
    tree = ast.parse(
        "import math as m\nfrom os import path\ntry:\n    pass\nexcept E as e:\n"
        "    pass\nassert [y for y in f(m)] == g(e)\n"
    )
    assert free_names(tree) == ["E", "f", "g"]


def test_solution_imports_are_read_not_run():
    src = "import numpy as np\nimport os.path\nfrom math import sqrt as s\nfrom . import x\n"
    src += "try:\n    import json\nexcept ImportError:\n    pass\n"
    assert solution_imports(src) == [
        ("np", "numpy", None),
        ("os", "os", None),
        ("s", "math", "sqrt"),
        ("json", "json", None),
    ]
    assert solution_imports("def (") == []


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
