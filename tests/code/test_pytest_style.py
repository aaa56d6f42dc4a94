"""pytest-style tests through the real sandbox."""

import pytest

from verifiers.code import check_solution
from verifiers.verdict import Reason

pytestmark = pytest.mark.docker

TESTS = """
import pytest
from solution import mul


def test_small():
    assert mul(2, 3) == 6


@pytest.mark.parametrize("a", [0, 1, 5])
def test_zero(a):
    assert mul(a, 0) == 0


class TestSigns:
    def test_negative(self):
        assert mul(-2, 3) == -6
"""
GOOD = "def mul(a, b):\n    return a * b\n"


def run(pool, solution, tests=TESTS, **kw):
    return check_solution(solution, tests, pool=pool, timeout_s=kw.pop("timeout_s", 15), **kw)


def test_pass_and_fail(pool):
    v = run(pool, GOOD)
    assert v.passed, v.message
    assert v.details["style"] == "pytest" and v.details["total_tests"] == 5
    v = run(pool, "def mul(a, b):\n    return a + b\n")
    assert v.reason is Reason.TESTS_FAILED and "test_small" in v.message
    assert any(t["outcome"] == "failed" for t in v.details["tests"])


def test_tests_without_import_see_the_solution(pool):
    assert run(pool, GOOD, "def test_it():\n    assert mul(3, 3) == 9\n").passed


@pytest.mark.parametrize(
    "solution",
    [
        "import pytest\ndef mul(a, b):\n    pytest.skip('nope')\n",
        "import pytest\ndef mul(a, b):\n    pytest.xfail('nope')\n",
        "import os\ndef mul(a, b):\n    os._exit(0)\n",
        "import sys\ndef mul(a, b):\n    sys.exit(0)\n",
        'import os\nos.write(3, b\'{"event": "done", "exitstatus": 0}\\n\')\n'
        "def mul(a, b):\n    return 0\n",
        "import sys\nsys.exit(0)\n",
    ],
    ids=["skip", "xfail", "os._exit", "sys.exit", "forged record", "exit at import"],
)
def test_faking_attempts_fail(pool, solution):
    v = run(pool, solution)
    assert not v.passed and v.reason.is_candidate_fault, (v.reason, v.message)


def test_missing_name_and_broken_tests(pool):
    v = run(pool, "def other(a, b):\n    return a * b\n")
    assert v.reason is Reason.TESTS_FAILED and "does not define 'mul'" in v.message
    v = run(pool, GOOD, "def test_x(:\n    pass\n", style="pytest")
    assert v.reason is Reason.REFERENCE_ERROR
    v = run(pool, GOOD, TESTS + "\ndef test_bad():\n    assert mul(1, 1) == 2\n", reference=GOOD)
    assert v.reason is Reason.REFERENCE_ERROR and "reference" in v.message
