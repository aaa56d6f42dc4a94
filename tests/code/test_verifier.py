"""The public API: UnitTestVerifier, check_many, acheck_solution, reference and infra errors."""

import asyncio
import time

import pytest

from sandbox.errors import SandboxUnavailable
from verifiers import get_verifier
from verifiers.code import UnitTestVerifier, acheck_solution, check_many, check_solution
from verifiers.verdict import Reason

pytestmark = pytest.mark.docker

PROBLEM = {
    "tests": "def check(candidate):\n    assert candidate('ab') == 'ba'\n",
    "entry_point": "rev",
}
GOOD = "def rev(s):\n    return s[::-1]\n"


def test_registered_and_extracts_code_from_responses(pool):
    verifier = get_verifier("unit_tests", pool=pool)
    assert isinstance(verifier, UnitTestVerifier)
    assert verifier.verify(PROBLEM, GOOD).passed
    response = f"Sure!\n```python\n# draft\n```\nFinal:\n```python\n{GOOD}```\nDone."
    v = verifier.verify(PROBLEM, response)
    assert v.passed and v.verifier == "unit_tests"
    assert verifier.verify(PROBLEM, "I cannot solve this.\n```text\nno\n```").reason is (
        Reason.NO_ANSWER
    )
    with pytest.raises(ValueError):
        UnitTestVerifier(bogus=1)


def test_problem_keys(pool):
    verifier = UnitTestVerifier(pool=pool, timeout_s=5)
    stdio = {"stdio": [{"input": "ab\n", "output": "ba\n"}]}
    assert verifier.verify(stdio, "print(input()[::-1])").passed
    assert verifier.verify({}, GOOD).reason is Reason.REFERENCE_ERROR
    prop = {
        "property": {"strategies": ["st.text(max_size=5)"], "max_examples": 10},
        "entry_point": "rev",
        "reference_solution": "def rev(s):\n    return ''.join(reversed(s))\n",
    }
    assert verifier.verify(prop, GOOD).passed
    mbpp = {"tests": ["assert rev(WORD) == 'ba'"], "test_setup_code": "WORD = 'ab'"}
    assert verifier.verify(mbpp, GOOD).passed


def test_reference_error_when_tests_fail_on_the_reference(pool):
    problem = {**PROBLEM, "tests": "def check(candidate):\n    assert candidate('ab') == 'ab'\n"}
    v = UnitTestVerifier(pool=pool).verify({**problem, "reference_solution": GOOD}, GOOD)
    assert v.reason is Reason.REFERENCE_ERROR and not v.passed
    # Without a reference the same broken test can only blame the candidate.
    assert UnitTestVerifier(pool=pool).verify(problem, GOOD).reason is Reason.TESTS_FAILED
    v = check_solution(GOOD, "assert rev('ab') == (", pool=pool)
    assert v.reason is Reason.REFERENCE_ERROR


def test_check_many_runs_concurrently_in_order(pool):
    slow_good = "import time\ndef rev(s):\n    time.sleep(1)\n    return s[::-1]\n"
    items = [
        (slow_good if i % 2 == 0 else "def rev(s):\n    return s\n", PROBLEM["tests"], "rev")
        for i in range(6)
    ]
    items.append({"solution": GOOD, "tests": PROBLEM["tests"], "entry_point": "rev"})
    started = time.perf_counter()
    verdicts = check_many(items, pool=pool, timeout_s=10)
    elapsed = time.perf_counter() - started
    assert [v.passed for v in verdicts] == [True, False, True, False, True, False, True]
    assert elapsed < 3 * 1.0 + 2.5  # 3 one-second jobs on a 2-container pool, not serial
    assert check_many([], pool=pool) == []


def test_acheck_solution(pool):
    async def main():
        return await asyncio.gather(
            acheck_solution(GOOD, PROBLEM["tests"], entry_point="rev", pool=pool),
            acheck_solution("def rev(s): return s", PROBLEM["tests"], entry_point="rev", pool=pool),
        )

    good, bad = asyncio.run(main())
    assert good.passed and bad.reason is Reason.TESTS_FAILED


class _UnavailablePool:
    """Stands in for a pool whose Docker went away (the real error type and message)."""

    size = 1

    def run(self, job):
        raise SandboxUnavailable("Docker daemon not reachable; fix: sudo systemctl start docker")

    def run_many(self, jobs):
        return [self.run(j) for j in jobs]


def test_infra_errors_are_never_a_pass_or_a_wrong_answer():
    v = check_solution(GOOD, PROBLEM["tests"], entry_point="rev", pool=_UnavailablePool())
    assert v.reason is Reason.INFRA_ERROR and "systemctl start docker" in v.message
    assert not v.passed and v.reason.is_unverifiable
    v = check_solution("print(1)", [{"input": "", "output": "1"}], pool=_UnavailablePool())
    assert v.reason is Reason.INFRA_ERROR


def test_never_raises_on_odd_inputs(pool):
    for solution, tests in [
        (None, "assert f(1) == 1"),
        (GOOD, None),
        (GOOD, 42),
        (GOOD, {"strategies": 3}),
        ("\x00", "assert f(1) == 1"),
        (GOOD, "def check(candidate):\n    assert candidate('a') == 'a'\n"),
    ]:
        v = check_solution(solution, tests, pool=pool)
        assert not v.passed or v.reason is Reason.CORRECT
