"""The code verifier: does a Python solution pass its tests? Decided outside the sandbox.

Entry points: :func:`check_solution` (one), :func:`acheck_solution` (async),
:func:`check_many` (concurrent, through the pool) and :class:`UnitTestVerifier`
(the registered ``unit_tests`` verifier). Test styles (``style=``):

- ``"assert"``: assert statements / HumanEval ``check(candidate)`` (see :mod:`.asserts`);
- ``"pytest"``: ``def test_*`` functions run by pytest in the child;
- ``"stdio"``: ``[{"input": ..., "output": ...}]`` cases, stdout compared here;
- ``"property"``: hypothesis-drawn inputs, candidate vs reference, compared here;
- ``"auto"``: JSON/list of cases -> stdio, a mapping with ``strategies`` ->
  property, code with ``test_*`` functions (and no ``check``) -> pytest, other code -> assert.

Reasons: ``correct``; ``tests_failed`` (a test failed, raised, or the program
tampered with the report channel); ``runtime_error`` (raised at import, died or
exited mid-test, memory); ``timeout``; ``parse_error`` (the solution does not
compile); ``no_answer`` (no code); ``reference_error`` (the tests do not parse or
fail on the reference solution); ``infra_error`` (the sandbox failed or is
missing; the message says how to fix it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from verifiers.code.assert_style import check_asserts
from verifiers.code.asserts import BrokenTestsError, find_check, parse_tests
from verifiers.code.extract import extract_code, has_fence
from verifiers.code.property_style import check_property, is_property_spec
from verifiers.code.pytest_style import check_pytest, is_pytest_code
from verifiers.code.run import InfraFailure, Options
from verifiers.code.stdio_style import check_stdio
from verifiers.errors import VerifierError
from verifiers.verdict import Reason, Verdict

NAME = "unit_tests"
VERSION = "1.0.0"
STYLES = ("auto", "assert", "pytest", "stdio", "property")


def detect_style(tests: Any) -> tuple[str, Any]:
    """(style, tests) for ``style="auto"``; raises BrokenTestsError for unusable tests."""
    if isinstance(tests, str):
        stripped = tests.lstrip()
        if stripped[:1] in ("[", "{"):
            try:
                parsed = json.loads(tests)
            except ValueError:
                parsed = None
            if isinstance(parsed, list | dict):
                return detect_style(parsed)
        tree = parse_tests(tests)
        if find_check(tree) is None and is_pytest_code(tree):
            return "pytest", tests
        return "assert", tests
    if is_property_spec(tests):
        return "property", tests
    if isinstance(tests, Mapping):
        return "stdio", tests
    if isinstance(tests, list | tuple):
        if tests and all(isinstance(t, str) for t in tests):
            return "assert", "\n".join(tests)
        return "stdio", list(tests)
    raise BrokenTestsError(f"cannot tell the test style of a {type(tests).__name__}")


def _solution_problem(solution: Any) -> Verdict | None:
    """no_answer / parse_error before anything runs (compile only; nothing executes)."""
    if not isinstance(solution, str) or not solution.strip():
        return Verdict.fail(Reason.NO_ANSWER, "no code found")
    try:
        compile(solution, "solution.py", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return Verdict.fail(
            Reason.PARSE_ERROR,
            f"syntax error at line {exc.lineno}: {exc.msg}",
            details={"line": exc.lineno},
        )
    except (ValueError, MemoryError, RecursionError) as exc:
        return Verdict.fail(Reason.PARSE_ERROR, f"the code does not compile: {type(exc).__name__}")
    return None


def _dispatch(
    solution: str,
    tests: Any,
    *,
    entry_point: str | None,
    style: str,
    reference: str | None,
    opts: Options,
) -> Verdict:
    if style not in STYLES:
        return Verdict.fail(
            Reason.REFERENCE_ERROR, f"unknown test style {style!r}; use one of {STYLES}"
        )
    try:
        if style == "auto":
            style, tests = detect_style(tests)
        elif style in ("assert", "pytest") and isinstance(tests, list | tuple):
            tests = "\n".join(str(t) for t in tests)
    except BrokenTestsError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, str(exc))
    if style in ("assert", "pytest") and not isinstance(tests, str):
        return Verdict.fail(Reason.REFERENCE_ERROR, f"{style} tests must be Python code")
    if style == "assert":
        return check_asserts(solution, tests, entry_point, opts)
    if style == "pytest":
        return check_pytest(solution, tests, opts)
    if style == "stdio":
        return check_stdio(solution, tests, opts)
    return check_property(solution, tests, entry_point, reference, opts)


_ref_cache: OrderedDict[str, Verdict] = OrderedDict()
_DETERMINISTIC = frozenset(
    {Reason.TESTS_FAILED, Reason.PARSE_ERROR, Reason.NO_ANSWER, Reason.REFERENCE_ERROR}
)
_ref_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # A parent thread may have held the lock when the process forked.
    global _ref_lock
    _ref_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


def _reference_verdict(
    reference: str, tests: Any, entry_point: str | None, style: str, opts: Options
) -> Verdict:
    key_src = json.dumps(
        [reference, tests, entry_point, style, opts.timeout_s, opts.float_tol], default=str
    )
    key = hashlib.sha256(key_src.encode("utf-8", "surrogatepass")).hexdigest()
    with _ref_lock:
        if key in _ref_cache:
            return _ref_cache[key]
    verdict = _solution_problem(reference) or _dispatch(
        reference, tests, entry_point=entry_point, style=style, reference=None, opts=opts
    )
    # Only what the reference deterministically does is remembered: a timeout, a crash or
    # an infra failure may be load or chance, and must not fail the rest of the run.
    if verdict.passed or verdict.reason in _DETERMINISTIC:
        with _ref_lock:
            _ref_cache[key] = verdict
            while len(_ref_cache) > 1024:
                _ref_cache.popitem(last=False)
    return verdict


def _check(
    solution: Any,
    tests: Any,
    *,
    entry_point: str | None,
    style: str,
    reference: str | None,
    opts: Options,
) -> Verdict:
    early = _solution_problem(solution)
    if early is not None:
        return early
    verdict = _dispatch(
        solution, tests, entry_point=entry_point, style=style, reference=reference, opts=opts
    )
    if (
        verdict.reason.is_candidate_fault
        and reference
        and verdict.details.get("style") != "property"
    ):
        # The candidate failed: make sure the tests themselves pass on the reference.
        ref = _reference_verdict(reference, tests, entry_point, style, opts)
        if ref.reason is Reason.INFRA_ERROR:
            return ref
        if not ref.passed:
            details = dict(verdict.details)
            details["candidate_reason"] = verdict.reason.value
            details["reference_failure"] = ref.message
            return Verdict.fail(
                Reason.REFERENCE_ERROR,
                f"the tests fail on the reference solution: {ref.message}"[:1000],
                details=details,
            )
    return verdict


def check_solution(
    solution: str,
    tests: Any,
    *,
    entry_point: str | None = None,
    timeout_s: float = 10,
    style: str = "auto",
    pool: Any = None,
    reference: str | None = None,
    float_tol: float | None = None,
    memory_mb: int = 512,
) -> Verdict:
    """Run ``tests`` against ``solution`` in the sandbox and return the Verdict. Never raises
    on its inputs. ``reference`` (a reference solution) is needed for property tests and,
    when given, tells a broken test (reference_error) from a failing solution."""
    started = time.perf_counter()
    try:
        opts = Options(
            timeout_s=float(timeout_s), memory_mb=int(memory_mb), float_tol=float_tol, pool=pool
        )
        verdict = _check(
            solution, tests, entry_point=entry_point, style=style, reference=reference, opts=opts
        )
    except InfraFailure as exc:
        verdict = Verdict.fail(Reason.INFRA_ERROR, str(exc))
    except Exception as exc:  # our own bug must not look like a wrong solution
        verdict = Verdict.fail(
            Reason.INFRA_ERROR, f"internal error in the code verifier: {type(exc).__name__}: {exc}"
        )
    return verdict.stamped(verifier=NAME, version=VERSION, elapsed_s=time.perf_counter() - started)


async def acheck_solution(solution: str, tests: Any, **kwargs: Any) -> Verdict:
    """:func:`check_solution` without blocking the event loop (runs in a worker thread)."""
    return await asyncio.to_thread(check_solution, solution, tests, **kwargs)


def _item_args(item: Any) -> tuple[Any, Any, dict[str, Any]]:
    if isinstance(item, Mapping):
        known = ("entry_point", "timeout_s", "style", "reference", "float_tol", "memory_mb")
        kwargs = {k: item[k] for k in known if k in item}
        return item.get("solution"), item.get("tests"), kwargs
    solution, tests, *rest = item
    return solution, tests, ({"entry_point": rest[0]} if rest else {})


def check_many(
    items: Iterable[Any],
    *,
    pool: Any = None,
    max_workers: int | None = None,
    **defaults: Any,
) -> list[Verdict]:
    """Verify many solutions concurrently through the pool; verdicts in input order.

    Each item is a mapping (``solution``, ``tests``, optional ``entry_point``,
    ``style``, ``reference``, ``timeout_s``, ``float_tol``) or a tuple
    ``(solution, tests[, entry_point])``; ``defaults`` apply to every item.
    """
    items = list(items)
    if not items:
        return []
    try:
        from verifiers.code.run import get_pool

        pool = get_pool(pool)
    except InfraFailure as exc:
        failed = Verdict.fail(Reason.INFRA_ERROR, str(exc))
        return [failed.stamped(verifier=NAME, version=VERSION) for _ in items]
    workers = max_workers or max(2, 2 * int(getattr(pool, "size", 2)))

    def one(item: Any) -> Verdict:
        try:
            solution, tests, kwargs = _item_args(item)
        except (TypeError, ValueError):
            bad = Verdict.fail(Reason.REFERENCE_ERROR, "malformed item: need (solution, tests)")
            return bad.stamped(verifier=NAME, version=VERSION)
        return check_solution(solution, tests, pool=pool, **{**defaults, **kwargs})

    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as executor:
        return list(executor.map(one, items))


class UnitTestVerifier:
    """The ``unit_tests`` verifier: runs a problem's tests against a candidate program.

    Problem keys: ``tests`` (code, list of asserts, stdio cases, or a property spec),
    or ``stdio``/``cases`` (stdio cases) or ``property`` (a property spec);
    optional ``entry_point``, ``style``, ``reference_solution``, ``timeout_s``,
    ``float_tol``, ``test_setup_code`` (MBPP; prepended to code tests). The
    candidate is code, or a full LLM response whose last fenced python block is taken.

    Options: ``timeout_s`` (10), ``memory_mb`` (512), ``style`` ("auto"),
    ``pool`` (a SandboxPool; default: the process-wide pool), ``float_tol``.
    """

    name = NAME
    version = VERSION

    def __init__(self, **options: Any) -> None:
        unknown = set(options) - {"timeout_s", "memory_mb", "style", "pool", "float_tol"}
        if unknown:
            raise ValueError(f"unknown UnitTestVerifier option(s): {sorted(unknown)}")
        style = options.get("style", "auto")
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {style!r}")
        self.options = options

    def preflight(self) -> None:
        """Start the sandbox pool (which proves its limits) now, before any work depends on it.

        Raises VerifierError with the sandbox's one-line diagnosis and fix (e.g. the Docker
        daemon is not running: the command to start it).
        """
        from verifiers.code.run import get_pool

        try:
            get_pool(self.options.get("pool"))
        except InfraFailure as exc:
            raise VerifierError(f"the code sandbox is not usable: {exc}") from None

    def verify(self, problem: Mapping[str, Any], candidate: str) -> Verdict:
        started = time.perf_counter()
        code: str | None = candidate if isinstance(candidate, str) else None
        if code is not None and has_fence(code):
            code = extract_code(code)
        if code is None or not code.strip():
            verdict = Verdict.fail(Reason.NO_ANSWER, "no code found in the candidate")
            return verdict.stamped(
                verifier=NAME, version=VERSION, elapsed_s=time.perf_counter() - started
            )
        if not isinstance(problem, Mapping):
            verdict = Verdict.fail(Reason.REFERENCE_ERROR, "the problem must be a mapping")
            return verdict.stamped(
                verifier=NAME, version=VERSION, elapsed_s=time.perf_counter() - started
            )
        tests = problem.get("tests")
        if tests is None:
            tests = problem.get("stdio", problem.get("cases", problem.get("property")))
        if tests is None:
            verdict = Verdict.fail(Reason.REFERENCE_ERROR, "the problem has no 'tests'")
            return verdict.stamped(
                verifier=NAME, version=VERSION, elapsed_s=time.perf_counter() - started
            )
        setup = problem.get("test_setup_code")  # MBPP: code to run before the asserts
        if isinstance(setup, str) and setup.strip():
            if isinstance(tests, list | tuple) and all(isinstance(t, str) for t in tests):
                tests = "\n".join(tests)
            if isinstance(tests, str):
                tests = setup + "\n" + tests
        opts = self.options
        style = problem.get("style") or opts.get("style", "auto")
        if "stdio" in problem and "tests" not in problem and style == "auto":
            style = "stdio"
        reference = problem.get("reference_solution") or problem.get("reference")
        return check_solution(
            code,
            tests,
            entry_point=problem.get("entry_point"),
            timeout_s=problem.get("timeout_s", opts.get("timeout_s", 10)),
            style=str(style),
            pool=opts.get("pool"),
            reference=reference if isinstance(reference, str) else None,
            float_tol=problem.get("float_tol", opts.get("float_tol")),
            memory_mb=opts.get("memory_mb", 512),
        )

    @classmethod
    def conformance_cases(cls) -> list[dict[str, Any]]:
        """Golden cases for :func:`verifiers.testing.run_conformance`."""
        he_tests = (
            "def check(candidate):\n"
            "    assert candidate(2, 3) == 5\n"
            "    assert candidate(-1, 1) == 0\n"
        )
        problem = {"tests": he_tests, "entry_point": "add"}
        good = "def add(a, b):\n    return a + b\n"
        return [
            {"problem": problem, "candidate": good, "expect": "pass"},
            {"problem": problem, "candidate": f"Here:\n```python\n{good}```\n", "expect": "pass"},
            {
                "problem": problem,
                "candidate": "def add(a, b):\n    return a - b\n",
                "expect": "fail",
            },
            {"problem": problem, "candidate": "def add(a, b) return", "expect": "fail"},
            {"problem": problem, "candidate": "import os\nos._exit(0)\n", "expect": "fail"},
            {
                "problem": {"tests": [{"input": "2 3\n", "output": "5\n"}]},
                "candidate": "a, b = map(int, input().split())\nprint(a + b)\n",
                "expect": "pass",
            },
            {
                "problem": {"tests": "def check(candidate):\n    assert candidate(2, 3) == (\n"},
                "candidate": good,
                "expect": "unverifiable",
            },
        ]
