"""Property-based differential tests: reference and candidate in separate jobs, compared here."""

import pytest

from verifiers.code import check_solution
from verifiers.verdict import Reason

pytestmark = pytest.mark.docker

SPEC = {
    "strategies": {"xs": "st.lists(st.integers(-50, 50), max_size=8)", "k": "st.integers(0, 3)"},
    "entry_point": "top",
    "max_examples": 40,
    "seed": 1,
}
REFERENCE = "def top(xs, k):\n    return sorted(xs, reverse=True)[:k]\n"


def run(pool, solution, spec=SPEC, reference=REFERENCE, **kw):
    return check_solution(solution, spec, pool=pool, reference=reference, timeout_s=10, **kw)


def test_agreeing_candidate_passes(pool):
    sol = "import heapq\ndef top(xs, k):\n    return heapq.nlargest(k, xs)\n"
    v = run(pool, sol)
    assert v.passed, v.message
    assert v.details["style"] == "property" and v.details["total_tests"] > 10


def test_disagreeing_candidate_fails_with_the_input(pool):
    v = run(pool, "def top(xs, k):\n    return sorted(xs)[:k]\n")
    assert v.reason is Reason.TESTS_FAILED and "top(xs=" in v.message


def test_exceptions_must_match(pool):
    spec = {"strategies": ["st.integers(-3, 3)"], "entry_point": "inv", "max_examples": 20}
    ref = "def inv(x):\n    return 1 / x\n"
    assert run(pool, "def inv(x):\n    return x ** -1.0 if x else 1 / x\n", spec, ref).passed
    v = run(pool, "def inv(x):\n    return 1 / x if x else 0\n", spec, ref)
    assert v.reason is Reason.TESTS_FAILED and "ZeroDivisionError" in v.message


def test_float_tolerance(pool):
    spec = {"strategies": ["st.floats(0, 100)"], "entry_point": "f", "max_examples": 20}
    ref = "def f(x):\n    return x / 3\n"
    sol = "def f(x):\n    return x * (1 / 3)\n"
    assert run(pool, sol, {**spec, "float_tol": 1e-9}, ref).passed


def test_faking_attempts_fail(pool):
    for sol in (
        "import os\nos._exit(0)\n",
        "class E:\n    def __eq__(self, o):\n        return True\n"
        "def top(xs, k):\n    return E()\n",
        "import os\ndef top(xs, k):\n    os._exit(0)\n",
    ):
        v = run(pool, sol)
        assert not v.passed and v.reason.is_candidate_fault, (v.reason, v.message)


def test_broken_specs_are_reference_errors(pool):
    sol = "def top(xs, k):\n    return []\n"
    assert run(pool, sol, reference=None).reason is Reason.REFERENCE_ERROR
    bad = {**SPEC, "strategies": {"xs": "st.no_such_strategy()"}}
    v = run(pool, sol, bad)
    assert v.reason is Reason.REFERENCE_ERROR and "strateg" in v.message
    v = run(pool, sol, reference="def top(xs, k):\n    raise SystemExit\nimport os\nos._exit(1)\n")
    assert v.reason is Reason.REFERENCE_ERROR
