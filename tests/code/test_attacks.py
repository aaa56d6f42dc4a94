"""Attacks on the code verifier's verdicts, one group per mechanism, on the real sandbox.

Each attack is a working attack on some design: it would fake a pass if the tests, the
expected values, the nonce or the report channel were reachable from the solution's process,
if the solution's names could stand in for the tests' builtins, if the parent computed on
its values without bounds, or if state survived between jobs. The verdict must be a failure
of the candidate (never a pass, never infra_error), and honest solutions must still pass.
"""

from __future__ import annotations

import time

import pytest

from sandbox.job import Job
from sandbox.pool import SandboxPool
from verifiers.code import check_solution
from verifiers.code import verifier as code_verifier
from verifiers.verdict import Reason

pytestmark = pytest.mark.docker

MARKER = 918273645
CHECK = f"def check(candidate):\n    assert candidate(2, 3) == {MARKER}\n"


def run(pool, solution, tests=CHECK, **kw):
    kw.setdefault("entry_point", "add")
    kw.setdefault("timeout_s", 5)
    return check_solution(solution, tests, pool=pool, **kw)


def assert_rejected(verdict, *reasons):
    assert not verdict.passed, f"faked pass: {verdict.message}"
    assert verdict.reason is not Reason.INFRA_ERROR, verdict.message
    assert verdict.reason.is_candidate_fault, (verdict.reason, verdict.message)
    if reasons:
        assert verdict.reason in reasons, (verdict.reason, verdict.message)


# ---- 1. expected values and the nonce are nowhere in the solution's process ------------------

SCAVENGER = r"""
import gc, os, re, sys

def _everything():
    seen = []
    for o in gc.get_objects():
        try:
            if isinstance(o, dict):
                seen += [repr(v)[:5000] for v in o.values()]
            elif isinstance(o, (list, tuple)):
                seen += [repr(v)[:5000] for v in o]
            elif type(o).__name__ == "code":
                seen += [repr(c) for c in o.co_consts]
            elif type(o).__name__ == "function":
                seen += [repr(c) for c in o.__code__.co_consts]
        except Exception:
            pass
    frame = sys._getframe()
    while frame is not None:
        seen += [repr(v)[:5000] for v in frame.f_locals.values()]
        frame = frame.f_back
    for root in ("/work", "/tmp", "/dev/shm"):
        for dirpath, _, files in os.walk(root):
            for name in files:
                try:
                    with open(os.path.join(dirpath, name), errors="replace") as fh:
                        seen.append(fh.read())
                except OSError:
                    pass
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            for what in ("environ", "cmdline", "maps"):
                try:
                    with open(f"/proc/{pid}/{what}", "rb") as fh:
                        seen.append(fh.read().decode(errors="replace"))
                except OSError:
                    pass
            try:  # the judge's memory, page by page where it is mapped
                with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
                    for line in maps:
                        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                        if "rw" in line.split()[1] and hi - lo < 1 << 24:
                            mem.seek(lo)
                            seen.append(mem.read(hi - lo).decode("latin-1"))
            except (OSError, ValueError):
                pass
    return "\n".join(seen)

def add(a, b):
    text = _everything()
    found = re.search(r"candidate\(%d, %d\) == (-?\d+)" % (a, b), text)
    return int(found.group(1)) if found else -1
"""


def test_the_solution_finds_no_expected_value_anywhere(pool):
    # Frames, gc, code constants, files, /proc of every other process: nothing holds the test.
    v = run(pool, SCAVENGER)
    assert_rejected(v, Reason.TESTS_FAILED)
    assert "returned -1" in v.message


def test_a_scavenger_that_passes_a_real_humaneval_style_test_generically(pool):
    tests = (
        "def check(candidate):\n"
        f"    assert candidate(1, 1) == {MARKER}\n"
        "    for k in range(3):\n"
        f"        assert candidate(k, k) == {MARKER} + k\n"
    )
    generic = SCAVENGER.replace(
        'found = re.search(r"candidate\\(%d, %d\\) == (-?\\d+)" % (a, b), text)',
        'found = re.search(r"== (\\d{9})", text)',
    )
    assert_rejected(run(pool, generic, tests))


PROBE = r"""
import ctypes, os, re
def add(a, b):
    judge = os.getppid()
    reached = []
    for what in ("mem", "environ", "fd", "fd/3"):
        try:
            if what == "fd":
                os.listdir(f"/proc/{judge}/fd")
            elif what == "fd/3":
                os.open(f"/proc/{judge}/fd/3", os.O_WRONLY)
            else:
                open(f"/proc/{judge}/{what}", "rb").read(1)
            reached.append(what)
        except OSError:
            pass
    if ctypes.CDLL(None).ptrace(16, judge, 0, 0) == 0:  # PTRACE_ATTACH
        reached.append("ptrace")
    try:
        os.fstat(3)
        reached.append("fd 3")
    except OSError:
        pass
    tokens = set()
    import gc
    for o in gc.get_objects():
        if isinstance(o, str) and re.fullmatch(r"[0-9a-f]{32}", o):
            tokens.add(o)
    if tokens:
        reached.append("a nonce-like token")
    return reached
"""


def test_the_judge_is_out_of_reach(pool):
    # No /proc access to the judge's memory, environment or fds, no ptrace, no fd 3, no nonce.
    tests = "def check(candidate):\n    assert candidate(0, 0) == []\n"
    v = run(pool, PROBE, tests)
    assert v.passed, v.message


# ---- 2. the solution's names never stand in for the tests' builtins or stdlib ---------------


@pytest.mark.parametrize(
    ("solution", "tests"),
    [
        (  # HumanEval/4-like: the solution defines abs
            "def abs(x):\n    return 0\ndef add(a, b):\n    return 99\n",
            "def check(candidate):\n    assert abs(candidate(2, 3) - 2/3) < 1e-6\n",
        ),
        (  # a fake math module, the test relying on the solution's import
            "class _M:\n    def isclose(self, *a, **k):\n        return True\nmath = _M()\n"
            "def add(a, b):\n    return 99\n",
            "def check(candidate):\n    assert math.isclose(candidate(2, 3), 5.0)\n",
        ),
        (  # the same with the test importing math itself
            "import math\nmath.isclose = lambda *a, **k: True\ndef add(a, b):\n    return 99\n",
            "import math\ndef check(candidate):\n    assert math.isclose(candidate(2, 3), 5.0)\n",
        ),
        (
            "def sorted(x):\n    return [1, 2, 3]\ndef len(x):\n    return 3\n"
            "def add(a, b):\n    return 99\n",
            "assert sorted(add(1, 2)) == [1, 2, 3]\nassert len(add(1, 2)) == 3\n",
        ),
        (  # builtins patched in the solution's process
            "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.AssertionError = KeyError\n"
            "def add(a, b):\n    return 99\n",
            "def check(candidate):\n    assert abs(candidate(2, 3) - 5) < 1e-9\n",
        ),
    ],
)
def test_shadowed_builtins_and_modules_judge_nothing(pool, solution, tests):
    assert_rejected(run(pool, solution, tests), Reason.TESTS_FAILED)


def test_a_solution_with_its_own_helpers_named_like_builtins_still_passes(pool):
    good = (
        "import math\ndef abs(x):\n    return x if x >= 0 else -x\n"
        "def add(a, b):\n    return abs(a) + b if a >= 0 else a + b\n"
    )
    tests = (
        "import math\ndef check(candidate):\n    assert abs(candidate(2, 3) - 5) < 1e-9\n"
        "    assert math.isclose(candidate(-1, 1), 0)\n"
    )
    assert run(pool, good, tests).passed


# ---- 3. loops, forged records, rebound helpers ----------------------------------------------

LOOP = (
    "def helper(i):\n    return 2 * i\n"
    "def check(candidate):\n"
    "    for i in range(5):\n"
    "        assert candidate(i, i) == helper(i)\n"
)


@pytest.mark.parametrize(
    "solution",
    [
        # an always-equal object inside a loop
        "class Eq:\n    __eq__ = lambda s, o: True\n    __ne__ = lambda s, o: False\n"
        "    __hash__ = object.__hash__\n    __bool__ = lambda s: True\n"
        "def add(a, b):\n    return Eq()\n",
        # forged records for every step, then a clean exit
        "import os, json, gc, re\n"
        "def add(a, b):\n"
        "    nonce = next((o for o in gc.get_objects() if isinstance(o, str) and "
        "re.fullmatch('[0-9a-f]{32}', o)), 'x' * 32)\n"
        "    for fd in range(3, 64):\n"
        "        for i in range(20):\n"
        "            for rec in ({'event': 'start', 'step': i}, {'event': 'end', 'step': i, "
        "'ok': True}):\n"
        "                try:\n"
        "                    os.write(fd, (json.dumps({'nonce': nonce, **rec}) + '\\n').encode())\n"
        "                except OSError:\n"
        "                    pass\n"
        "    os._exit(0)\n",
        # rebinding the test's helper wherever a namespace holding it can be found
        "import gc, sys\n"
        "def add(a, b):\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, dict) and 'helper' in o:\n"
        "            o['helper'] = lambda i: 0\n"
        "    sys.modules['__main__'].__dict__['helper'] = lambda i: 0\n"
        "    return 0\n",
        # killing or stopping the judge
        "import os, signal\ndef add(a, b):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
        "import os, signal\ndef add(a, b):\n"
        "    os.kill(os.getppid(), signal.SIGSTOP)\n    return 0\n",
    ],
)
def test_in_loop_and_report_attacks_fail(pool, solution):
    assert_rejected(run(pool, solution, LOOP, timeout_s=3))


def test_arguments_changed_in_place_are_seen_by_the_tests(pool):
    tests = "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]\n"
    good = "def sort_in_place(xs):\n    xs.sort()\n"
    assert run(pool, good, tests, entry_point=None).passed
    assert_rejected(run(pool, "def sort_in_place(xs):\n    pass\n", tests, entry_point=None))


def test_objects_of_the_solution_are_observed_not_trusted(pool):
    tests = (
        "s = Stack()\ns.push(1)\ns.push(2)\nassert s.pop() == 2\nassert len(s) == 1\n"
        "assert str(s) == 'Stack([1])'\n"
    )
    good = (
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def __len__(self):\n        return len(self.items)\n"
        "    def __str__(self):\n        return f'Stack({self.items})'\n"
    )
    assert run(pool, good, tests, entry_point=None).passed
    # An object that claims equality with everything is still not equal to anything.
    liar = "class Stack:\n    def __eq__(self, o):\n        return True\n    def pop(self):\n"
    liar += "        return self\n    def push(self, x):\n        pass\n"
    assert_rejected(run(pool, liar, "s = Stack()\nassert s.pop() == 2\n", entry_point=None))


def test_functions_the_tests_pass_run_in_the_judge(pool):
    tests = (
        "def check(candidate):\n"
        "    assert candidate([3, 1, 2], key=lambda x: -x) == [3, 2, 1]\n"
        "    assert candidate(['bb', 'a'], key=len) == ['a', 'bb']\n"
    )
    good = "def sort_by(xs, key):\n    return sorted(xs, key=key)\n"
    assert run(pool, good, tests, entry_point="sort_by").passed
    wrong = "def sort_by(xs, key):\n    return sorted(xs)\n"
    assert_rejected(run(pool, wrong, tests, entry_point="sort_by"), Reason.TESTS_FAILED)


# ---- 4. pytest style ------------------------------------------------------------------------

PYTEST_TESTS = "from solution import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"


@pytest.mark.parametrize(
    "solution",
    [
        # rewrite the test file, drop a conftest that marks every report passed
        "import os\n"
        "for root in ('.', '/work', '/work/job'):\n"
        "    try:\n"
        "        open(os.path.join(root, 'test_solution.py'), 'w').write("
        "'def test_add():\\n    pass\\n')\n"
        "        open(os.path.join(root, 'conftest.py'), 'w').write("
        "'import pytest\\n@pytest.hookimpl(hookwrapper=True)\\ndef pytest_runtest_makereport():\\n"
        '    out = yield\\n    out.get_result().outcome = "passed"\\n\')\n'
        "    except OSError:\n"
        "        pass\n"
        "def add(a, b):\n    return 0\n",
        # patch pytest itself, wherever it is loaded
        "import sys\n"
        "try:\n"
        "    import _pytest.python\n"
        "    _pytest.python.Function.runtest = lambda self: None\n"
        "except Exception:\n"
        "    pass\n"
        "def add(a, b):\n    return 0\n",
        # read the test file for the expected value
        "import re\n"
        "def add(a, b):\n"
        "    try:\n"
        "        text = open('test_solution.py').read()\n"
        "    except OSError:\n"
        "        return -1\n"
        "    return int(re.search(r'== (\\d+)', text).group(1))\n",
    ],
)
def test_pytest_attacks_fail(pool, solution):
    assert_rejected(run(pool, solution, PYTEST_TESTS, style="pytest"))


def test_pytest_honest_solution_passes(pool):
    assert run(pool, "def add(a, b):\n    return a + b\n", PYTEST_TESTS, style="pytest").passed


# ---- 5. nothing a job does to the container reaches the next job ----------------------------

POISON = r"""
import os, struct
acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, 0, 0xFFFFFFFF) for t in (1, 4, 0x20))
for d in ("/work", "/tmp"):
    for name, value in (("system.posix_acl_default", acl), ("user.covert", b"1")):
        try:
            os.setxattr(d, name, value)
        except OSError:
            pass
    os.utime(d, (424242, 424242))
print("done")
"""


def test_acls_xattrs_and_times_do_not_survive_a_job():
    with SandboxPool(size=1, preflight=False) as solo:  # one container: every job lands on it
        first = solo.run(Job(files={"p.py": POISON}, argv=["python3", "p.py"]))
        assert first.stdout.strip() == "done"
        honest = (
            "import os, tempfile\n"
            "def add(a, b):\n"
            "    with tempfile.NamedTemporaryFile() as f:\n"
            "        f.write(b'x')\n"
            "    dirs = ('/work', '/tmp')\n"
            "    return [(os.listxattr(d), os.stat(d).st_mtime == 424242) for d in dirs]\n"
        )
        tests = "def check(candidate):\n    assert candidate(0, 0) == [([], False), ([], False)]\n"
        v = run(solo, honest, tests)
        assert v.passed, v.message


# ---- 6. the judge's work on the solution's values is bounded --------------------------------


def test_huge_values_end_as_the_candidates_failure_within_the_time_limit(pool):
    tests = "def check(candidate):\n    assert sum(candidate(1, 2)) == 3\n"
    started = time.monotonic()
    v = run(pool, "def add(a, b):\n    return range(10**15)\n", tests, timeout_s=2)
    assert time.monotonic() - started < 30
    assert_rejected(v, Reason.TIMEOUT)
    tests = "def check(candidate):\n    assert sorted(candidate(1, 2)) == [3]\n"
    assert_rejected(run(pool, "def add(a, b):\n    return range(10**18)\n", tests))


# ---- 7. malformed records and answers are the candidate's problem ---------------------------

FLOOD = r"""
import os
def add(a, b):
    for fd in range(3, 64):
        try:
            os.write(fd, b"[" * 200000 + b"\n")
        except OSError:
            pass
    return 5
"""


def test_a_deeply_nested_line_on_every_fd_is_a_failure_not_infra(pool):
    assert_rejected(run(pool, FLOOD, "def check(candidate):\n    assert candidate(2, 3) == 5\n"))


def test_stdio_programs_have_no_report_channel(pool):
    program = (
        "import os\n"
        "try:\n    os.fstat(3)\n    print('fd 3 open')\nexcept OSError:\n    print('no fd 3')\n"
    )
    v = run(pool, program, [{"input": "", "output": "no fd 3\n"}], entry_point=None)
    assert v.passed, v.message


def test_the_runner_survives_undecodable_records(pool):
    deep = (
        "import os\nos.write(3, b'[' * 200000 + b'\\n')\n"
        "os.write(3, b'{\"a\": ' * 80 + b'1' + b'}' * 80 + b'\\n')\n"
    )
    result = pool.run(Job(files={"d.py": deep}, argv=["python3", "d.py"]))
    assert result.exit_code == 0
    assert [("_malformed" in r) for r in result.records] == [True, True]


# ---- 8. tolerances never accept a wrong integer ---------------------------------------------


def test_float_tolerance_keeps_integers_exact(pool):
    program = "print(input())\n"
    for got, want in (
        ("1000000008", "1000000007"),
        ("0.0000009", "0"),
        ("５", "5"),
        ("1_000", "1000"),
    ):
        v = run(pool, program, [{"input": got + "\n", "output": want + "\n"}],
                entry_point=None, float_tol=1e-6)  # fmt: skip
        assert_rejected(v, Reason.TESTS_FAILED)
    v = run(pool, program, [{"input": "0.3333334\n", "output": "0.3333333\n"}],
            entry_point=None, float_tol=1e-6)  # fmt: skip
    assert v.passed, v.message


# ---- 9. a transient reference failure is not remembered -------------------------------------


def test_a_reference_timeout_is_not_cached(pool):
    code_verifier._ref_cache.clear()
    slow_reference = "import time\ndef add(a, b):\n    time.sleep(5)\n    return a + b\n"
    tests = "def check(candidate):\n    assert candidate(2, 3) == 5\n"
    v = run(pool, "def add(a, b):\n    return 0\n", tests, reference=slow_reference, timeout_s=1)
    assert v.reason is Reason.REFERENCE_ERROR
    assert not code_verifier._ref_cache
