"""stdin/stdout cases through the real sandbox; output compared in the parent."""

import json

import pytest

from verifiers.code import check_solution
from verifiers.verdict import Reason

pytestmark = pytest.mark.docker

CASES = [
    {"input": "2 3\n", "output": "5\n"},
    {"input": "10 -4\n", "output": "6"},
    {"input": "0 0", "output": "0\n\n"},
]
GOOD = "a, b = map(int, input().split())\nprint(a + b, end='   \\n')\n"


def run(pool, solution, tests=CASES, **kw):
    return check_solution(solution, tests, pool=pool, timeout_s=kw.pop("timeout_s", 5), **kw)


def test_pass_list_and_json(pool):
    v = run(pool, GOOD)
    assert v.passed, v.message
    assert v.details["style"] == "stdio" and v.details["total_tests"] == 3
    assert run(pool, GOOD, json.dumps(CASES)).passed
    apps = {"inputs": ["1 1\n"], "outputs": ["2\n"]}
    assert run(pool, GOOD, apps, style="stdio").passed


def test_wrong_output(pool):
    v = run(pool, "a, b = map(int, input().split())\nprint(a * b)\n")
    assert v.reason is Reason.TESTS_FAILED and "case 0" in v.message and "line 1" in v.message


def test_fake_pass_markers_and_exit_codes(pool):
    v = run(pool, "print('5')\nprint('All tests passed')\n", CASES[:1])
    assert v.reason is Reason.TESTS_FAILED
    v = run(pool, "print(5)\nraise SystemExit(3)\n", CASES[:1])
    assert v.reason is Reason.RUNTIME_ERROR and "exit code 3" in v.message
    v = run(pool, "import os\nprint(5, flush=True)\nos.kill(os.getpid(), 9)\n", CASES[:1])
    assert v.reason is Reason.RUNTIME_ERROR


def test_timeout_and_runtime_error(pool):
    v = run(pool, "while True:\n    pass\n", CASES[:1], timeout_s=1)
    assert v.reason is Reason.TIMEOUT
    v = run(pool, "raise ValueError('boom')\n", CASES[:1])
    assert v.reason is Reason.RUNTIME_ERROR and "boom" in v.message


def test_float_tolerance(pool):
    cases = [{"input": "1 3\n", "output": "0.333333\n"}]
    sol = "a, b = map(int, input().split())\nprint(round(a / b, 4))\n"
    assert run(pool, sol, cases).reason is Reason.TESTS_FAILED
    assert run(pool, sol, cases, float_tol=1e-3).passed


def test_broken_cases_are_reference_errors(pool):
    assert run(pool, GOOD, '[{"input": 1}]', style="stdio").reason is Reason.REFERENCE_ERROR
    assert run(pool, GOOD, [], style="stdio").reason is Reason.REFERENCE_ERROR
    bad = [{"input": "2 3\n", "output": "6\n"}]
    v = run(pool, "a, b = map(int, input().split())\nprint(a * b + 1)\n", bad, reference=GOOD)
    assert v.reason is Reason.REFERENCE_ERROR
