"""Assert-style tests through the real sandbox, including attempts to fake a pass."""

import pytest

from verifiers.code import check_solution
from verifiers.verdict import Reason

pytestmark = pytest.mark.docker

CHECK = """
def check(candidate):
    assert candidate(2, 3) == 5
    assert candidate(-1, 1) == 0
    for i in range(3):
        assert candidate(i, i) == 2 * i
"""
GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"


def run(pool, solution, tests=CHECK, **kw):
    kw.setdefault("entry_point", "add")
    kw.setdefault("timeout_s", 5)
    return check_solution(solution, tests, pool=pool, **kw)


def test_humaneval_pass_and_fail(pool):
    v = run(pool, GOOD)
    assert v.passed, v.message
    assert v.reason is Reason.CORRECT
    assert v.verifier == "unit_tests" and v.verifier_version == "1.0.0" and v.elapsed_s > 0
    assert v.details["image"].startswith("factory-sandbox")
    assert v.details["total_tests"] == v.details["passed_tests"] == 3
    assert [t["mode"] for t in v.details["tests"]] == ["judge", "judge", "judge"]

    v = run(pool, WRONG)
    assert not v.passed and v.reason is Reason.TESTS_FAILED
    assert "candidate(2, 3) == 5" in v.message and "-1" in v.message
    assert v.details["tests"][0]["outcome"] == "failed"


def test_mbpp_module_level_asserts(pool):
    tests = "assert remove_odd([1, 2, 3, 4]) == [2, 4]\nassert remove_odd([]) == []\n"
    good = "def remove_odd(xs):\n    return [x for x in xs if x % 2 == 0]\n"
    assert run(pool, good, tests, entry_point=None).passed
    v = run(pool, "def remove_odd(xs):\n    return xs\n", tests, entry_point=None)
    assert v.reason is Reason.TESTS_FAILED


def test_entry_point_inferred_and_missing(pool):
    assert run(pool, GOOD, entry_point=None).passed
    v = run(pool, "def plus(a, b):\n    return a + b\n")  # entry point add is missing
    assert v.reason is Reason.TESTS_FAILED and "add" in v.message


def test_syntax_import_error_and_no_code(pool):
    v = run(pool, "def add(a, b) return a")
    assert v.reason is Reason.PARSE_ERROR and v.details["line"] == 1
    v = run(pool, "import no_such_module_xyz\n" + GOOD)
    assert v.reason is Reason.RUNTIME_ERROR and "ModuleNotFoundError" in v.message
    assert run(pool, "   \n").reason is Reason.NO_ANSWER


def test_timeout_names_the_running_test(pool):
    v = run(pool, "def add(a, b):\n    while True:\n        pass\n", timeout_s=2)
    assert v.reason is Reason.TIMEOUT and "candidate(2, 3)" in v.message


def test_memory(pool):
    v = run(pool, "def add(a, b):\n    x = bytearray(4 * 1024**3)\n    return a + b\n")
    assert v.reason is Reason.RUNTIME_ERROR and v.details.get("memory_exceeded")


FAKES = {
    "sys.exit(0) at import": "import sys\nsys.exit(0)\n" + GOOD,
    "os._exit(0) at import": "import os\nos._exit(0)\n",
    "sys.exit(0) in the function": "import sys\ndef add(a, b):\n    sys.exit(0)\n",
    "os._exit(0) in the function": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "raise SystemExit": "def add(a, b):\n    raise SystemExit(0)\n",
    "raise KeyboardInterrupt": "def add(a, b):\n    raise KeyboardInterrupt\n",
    "always-equal object": (
        "class E:\n    def __eq__(self, o):\n        return True\n    __hash__ = None\n"
        "    def __bool__(self):\n        return True\n"
        "def add(a, b):\n    return E()\n"
    ),
    "int subclass equal to everything": (
        "class I(int):\n    def __eq__(self, o):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return I(0)\n"
    ),
    "replaced AssertionError and builtins": (
        "import builtins\n"
        "class Nope(Exception):\n    pass\n"
        "builtins.AssertionError = Nope\n"
        "builtins.abs = lambda x: 0\nbuiltins.range = lambda n: []\n"
        "builtins.isinstance = lambda *a: True\n"
        "def add(a, b):\n    return 0\n"
    ),
    "own check() and test function": (
        "def check(candidate):\n    pass\ndef add(a, b):\n    return 0\n"
    ),
    "exit hooks": (
        "import atexit, os, sys\n"
        "sys.excepthook = lambda *a: None\n"
        "atexit.register(lambda: os._exit(0))\n"
        "def add(a, b):\n    return 0\n"
    ),
    "fake passed markers on stdout and stderr": (
        "import sys\nprint('All tests passed! OK 3 passed')\n"
        "sys.stderr.write('PASSED\\n')\n"
        'sys.stdout.write(\'{"event": "done", "steps": 4}\\n\')\n'
        "def add(a, b):\n    print('passed')\n    return 0\n"
    ),
    "forged records on fd 3": (
        "import os\n"
        "for i in range(6):\n"
        '    os.write(3, (\'{"event": "end", "step": %d, "ok": true}\\n\' % i).encode())\n'
        'os.write(3, b\'{"event": "done", "steps": 6}\\n\')\n'
        "def add(a, b):\n    return 0\n"
    ),
    "stolen nonce, forged records, then exit": (
        "import gc, os, json\n"
        "rep = next(o for o in gc.get_objects() if type(o).__name__ == 'Reporter')\n"
        "for i in range(6):\n"
        "    rep.emit('start', step=i)\n"
        "    rep.emit('end', step=i, ok=True, values=[0])\n"
        "rep.emit('done', steps=6)\n"
        "os._exit(0)\n"
    ),
    "kills its runner and itself": (
        "import os, signal\n"
        "def add(a, b):\n"
        "    for pid in (os.getppid(), 1):\n"
        "        try:\n            os.kill(pid, signal.SIGKILL)\n"
        "        except Exception:\n            pass\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    ),
    "kills its process group": "import os\ndef add(a, b):\n    os.killpg(0, 9)\n",
    "closes the report channel": "import os\nos.close(3)\ndef add(a, b):\n    return a + b\n",
}


@pytest.mark.parametrize("name", list(FAKES))
def test_faking_attempts_fail(pool, name):
    v = run(pool, FAKES[name], timeout_s=5)
    assert not v.passed, f"{name} passed: {v.message}"
    assert v.reason.is_candidate_fault, (name, v.reason, v.message)
    assert v.message


def test_forked_child_outliving_the_job(pool):
    sol = (
        "import os, time\n"
        "def add(a, b):\n"
        "    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    return 0\n"
    )
    v = run(pool, sol, timeout_s=3)
    assert not v.passed and v.elapsed_s < 20


def test_in_child_assert_with_patched_assertion_error(pool):
    # The loop runs in the child as written; a patched AssertionError must not hide its failure.
    tests = (
        "def check(candidate):\n    for i in range(3):\n        assert candidate(i, i) == 2 * i\n"
    )
    sol = "import builtins\nbuiltins.AssertionError = KeyError\ndef add(a, b):\n    return 0\n"
    v = run(pool, sol, tests)
    assert v.reason is Reason.TESTS_FAILED
    assert v.details["tests"][0]["mode"] == "judge"


def test_output_is_captured_and_capped(pool):
    v = run(pool, "print('x' * 10000)\n" + WRONG)
    assert len(v.details["stdout"]) < 2200 and "xxx" in v.details["stdout"]


def test_correct_solution_that_patches_builtins_still_passes(pool):
    # Our harness and the test namespace use builtins saved before the solution ran.
    sol = (
        "import builtins, sys\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 0\n"
        "builtins.range = None\nsys.setrecursionlimit(50)\n" + GOOD
    )
    v = run(pool, sol)
    assert v.passed, v.message


def test_numpy_values_and_mixed_assert_forms(pool):
    tests = """
import math

METADATA = {"author": "jt", "dataset": "test"}


def check(candidate):
    assert candidate([1.0, 2.0, 3.0]) == [2.0, 4.0, 6.0]
    assert abs(candidate([0.1])[0] - 0.2) < 1e-9
    assert math.isclose(sum(candidate([1, 2])), 6)
    assert len(candidate([])) == 0
    assert candidate([5]) != [11]
"""
    sol = "import numpy as np\ndef double(xs):\n    return np.array(xs, dtype=float) * 2\n"
    v = run(pool, sol, tests, entry_point="double")
    assert v.passed, v.message
    assert {t["mode"] for t in v.details["tests"]} == {"judge"}
    sol = "import numpy as np\ndef double(xs):\n    return np.float64(len(xs))\n"
    assert run(pool, sol, tests, entry_point="double").reason is Reason.TESTS_FAILED
