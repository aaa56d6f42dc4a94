"""Style 2: pytest test functions, run by pytest in the sandbox's judge process.

pytest, the test file and the report channel live in the judge; the solution runs in
its own process and is reached through a stand-in ``solution`` module (see
``harness/factory_pytest.py``). The parent still checks all it can from outside:
every test function named in the file (found with ``ast`` here) must be collected,
every collected test must report exactly one passing call, nothing may fail in
setup/teardown, and the session must finish with exit status 0.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from verifiers.code import harness
from verifiers.code.asserts import (
    BrokenTestsError,
    parse_tests,
    solution_imports,
    solution_names,
)
from verifiers.code.run import (
    PYTHON,
    Options,
    Records,
    clean_end,
    common_failure,
    make_job,
    new_nonce,
    result_details,
    run_jobs,
)
from verifiers.verdict import Reason, Verdict

TEST_FILE = "test_solution.py"
_IMPORTS_SOLUTION = re.compile(r"^\s*(from\s+solution\s+import|import\s+solution)\b", re.MULTILINE)


def is_pytest_code(tree: ast.Module) -> bool:
    return bool(expected_tests(tree))


def expected_tests(tree: ast.Module) -> list[str]:
    """Test names pytest must collect: ``test_*`` functions and ``Test*`` classes' methods."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    names.append(f"{node.name}::{item.name}")
    return names


def _base_name(nodeid: str) -> str:
    name = nodeid.split("::", 1)[1] if "::" in nodeid else nodeid
    return name.split("[", 1)[0]


def check_pytest(solution: str, tests: str, opts: Options) -> Verdict:
    try:
        tree = parse_tests(tests)
    except BrokenTestsError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, str(exc))
    expected = expected_tests(tree)
    if not expected:
        return Verdict.fail(Reason.REFERENCE_ERROR, "the test code defines no test functions")
    if not _IMPORTS_SOLUTION.search(tests):
        tests = "from solution import *  # added by the verifier\n" + tests
    nonce = new_nonce()
    plan = {
        "nonce": nonce,
        "test_file": TEST_FILE,
        "solution_names": sorted(solution_names(solution)),
        "solution_imports": solution_imports(solution),
    }
    files = {
        **harness.harness_files(harness.PYTEST),
        "solution.py": solution,
        TEST_FILE: tests,
        "plan.json": json.dumps(plan),
    }
    (result,) = run_jobs([make_job(files, [*PYTHON, harness.PYTEST], opts)], opts)
    return judge_result(expected, result, nonce)


def judge_result(expected: list[str], result: Any, nonce: str) -> Verdict:
    recs = Records.read(result, nonce)
    details: dict[str, Any] = {"style": "pytest", **result_details(result)}
    tests = recs.all("test")
    outcomes: dict[str, list[dict[str, Any]]] = {}
    for rec in tests:
        outcomes.setdefault(str(rec.get("nodeid")), []).append(rec)
    collected_rec = recs.first("collected")
    collected = [str(x) for x in (collected_rec or {}).get("ids", [])]
    listed = []
    for nodeid in collected:
        reps = outcomes.get(nodeid, [])
        bad = [r for r in reps if r.get("outcome") != "passed"]
        calls = [r for r in reps if r.get("when") == "call"]
        if bad:
            outcome, message = str(bad[0].get("outcome")), str(bad[0].get("message", ""))
            if bad[0].get("when") != "call":
                outcome = f"{outcome} in {bad[0].get('when')}"
        elif len(calls) == 1:
            outcome, message = "passed", ""
        elif not calls:
            outcome, message = "not_run", "no result reported"
        else:
            outcome, message = "error", "duplicate results (the program forged reports)"
        listed.append(
            {"test": nodeid, "outcome": outcome, **({"message": message} if message else {})}
        )
    details["tests"] = listed[:200]
    details["total_tests"] = len(collected)
    details["passed_tests"] = sum(1 for t in listed if t["outcome"] == "passed")
    running = next((t["test"] for t in listed if t["outcome"] == "not_run"), None)
    fail = common_failure(result, recs, details, running=running)
    if fail is not None:
        return fail
    collect_errors = recs.all("collect_error")
    if collect_errors:
        msg = str(collect_errors[0].get("message", ""))[-800:]
        details["first_failure"] = msg
        return Verdict.fail(Reason.TESTS_FAILED, f"test collection failed: {msg}", details=details)
    if collected_rec is None:
        crash = recs.first("crash")
        why = f": {crash.get('type')}: {crash.get('message')}" if crash else ""
        return Verdict.fail(
            Reason.RUNTIME_ERROR, f"pytest did not collect the tests{why}", details=details
        )
    missing = sorted(set(expected) - {_base_name(n) for n in collected})
    if missing:
        return Verdict.fail(
            Reason.TESTS_FAILED, f"tests not collected: {', '.join(missing[:5])}", details=details
        )
    first_bad = next((t for t in listed if t["outcome"] != "passed"), None)
    if first_bad is not None:
        details["first_failure"] = f"{first_bad['test']}: {first_bad.get('message', '')}"[:1500]
        if first_bad["outcome"] == "not_run":
            reason = Reason.RUNTIME_ERROR
            text = f"the program ended during {first_bad['test']}"
        else:
            reason = Reason.TESTS_FAILED
            text = f"{first_bad['test']} {first_bad['outcome']}: {first_bad.get('message', '')}"
        return Verdict.fail(reason, text[:1000], details=details)
    problem = clean_end(result, recs)
    if problem is not None:
        return Verdict.fail(Reason.RUNTIME_ERROR, problem, details=details)
    done = recs.first("done") or {}
    if done.get("exitstatus") != 0:
        return Verdict.fail(
            Reason.TESTS_FAILED, f"pytest exit status {done.get('exitstatus')}", details=details
        )
    return Verdict.ok(f"all {len(collected)} tests passed", details=details)
