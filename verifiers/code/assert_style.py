"""Style 1: assert-based test code (MBPP asserts, HumanEval ``check(candidate)``)."""

from __future__ import annotations

import json
from typing import Any

from verifiers.code import harness
from verifiers.code.asserts import (
    AssertPlan,
    BrokenTestsError,
    Step,
    find_check,
    free_names,
    last_function_name,
    parse_tests,
    plan_asserts,
    solution_imports,
    solution_names,
)
from verifiers.code.run import (
    PYTHON,
    Options,
    Records,
    clean_end,
    common_failure,
    how_it_ended,
    make_job,
    new_nonce,
    result_details,
    run_jobs,
)
from verifiers.verdict import Reason, Verdict

MAX_LISTED_TESTS = 200


def build_plan(solution: str, tests: str, entry_point: str | None) -> AssertPlan:
    """The split plan, with the entry point inferred for ``check`` when not given."""
    tree = parse_tests(tests)
    if entry_point is None and find_check(tree) is not None:
        entry_point = last_function_name(solution)
        if entry_point is None:
            raise _NoEntry
    return plan_asserts(tests, entry_point=entry_point)


class _NoEntry(Exception):
    pass


def check_asserts(solution: str, tests: str, entry_point: str | None, opts: Options) -> Verdict:
    try:
        plan = build_plan(solution, tests, entry_point)
    except _NoEntry:
        return Verdict.fail(
            Reason.TESTS_FAILED,
            "the tests call check(candidate) but the solution defines no function",
        )
    except BrokenTestsError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, str(exc))
    nonce = new_nonce()
    judge_plan = {
        "nonce": nonce,
        "entry_point": plan.entry_point,
        "check_param": plan.check_param,
        "free_names": free_names(parse_tests(tests)),
        "solution_names": sorted(solution_names(solution)),
        "solution_imports": solution_imports(solution),
        "steps": [s.to_plan() for s in plan.steps],
    }
    files = {
        **harness.harness_files(harness.ASSERTS),
        "solution.py": solution,
        "plan.json": json.dumps(judge_plan),
    }
    (result,) = run_jobs([make_job(files, [*PYTHON, harness.ASSERTS], opts)], opts)
    return judge_result(plan, result, nonce)


def _outcome(step: Step, start: dict | None, end: dict | None) -> tuple[str, str]:
    """(outcome, message) of one step from its records."""
    if start is None:
        return "not_run", ""
    if end is None:
        return "crashed", "the program ended during this test"
    if end.get("ok"):
        return "passed", ""
    message = f"{end.get('type')}: {end.get('message')}".rstrip(": ")
    if end.get("calls"):
        message += f"; {end.get('calls')}"
    if end.get("crashed"):
        return "crashed", message
    if end.get("type") == "MemoryError":
        return "memory", message
    return ("failed" if end.get("assertion") else "error"), message


def judge_result(plan: AssertPlan, result: Any, nonce: str) -> Verdict:
    recs = Records.read(result, nonce)
    details: dict[str, Any] = {"style": "assert", **result_details(result)}
    starts, dup_starts = recs.by_key("start", "step")
    ends, dup_ends = recs.by_key("end", "step")
    running = next((plan.steps[k] for k in starts if k not in ends and _valid(k, plan)), None)
    fail = common_failure(
        result, recs, details, running=f"line {running.line}: {running.source}" if running else None
    )
    listed: list[dict[str, Any]] = []
    first_bad: tuple[Step, str, str] | None = None
    passed_tests = 0
    for step in plan.steps:
        outcome, message = _outcome(step, starts.get(step.id), ends.get(step.id))
        if outcome == "passed":
            passed_tests += step.is_test
        elif first_bad is None:
            first_bad = (step, outcome, message)
        if (step.is_test or outcome != "passed") and len(listed) < MAX_LISTED_TESTS:
            entry = {"line": step.line, "test": step.source[:300], "outcome": outcome}
            entry["mode"] = "judge" if step.kind == "exec" else "setup"
            if message:
                entry["message"] = message[:500]
            listed.append(entry)
    details["tests"] = listed
    details["total_tests"] = len(plan.tests)
    details["passed_tests"] = passed_tests
    if fail is not None:
        return fail
    if dup_starts or dup_ends:
        return Verdict.fail(
            Reason.TESTS_FAILED,
            "duplicate test records (the program forged reports)",
            details=details,
        )
    if first_bad is not None:
        step, outcome, message = first_bad
        where = f"line {step.line}: {step.source[:200]}"
        details["first_failure"] = f"{where}: {message}"
        if outcome == "memory":
            details["memory_exceeded"] = True
            return Verdict.fail(
                Reason.RUNTIME_ERROR, f"memory limit exceeded at {where}", details=details
            )
        if outcome == "crashed":
            return Verdict.fail(
                Reason.RUNTIME_ERROR,
                f"the program ended during a test ({how_it_ended(result)}) at {where}",
                details=details,
            )
        if outcome == "not_run":
            return Verdict.fail(
                Reason.RUNTIME_ERROR,
                f"the program ended before all tests ran ({how_it_ended(result)}); "
                f"first not run: {where}",
                details=details,
            )
        label = "setup failed" if step.kind == "setup" else "test failed"
        return Verdict.fail(Reason.TESTS_FAILED, f"{label} at {where}: {message}", details=details)
    problem = clean_end(result, recs)
    if problem is not None:
        return Verdict.fail(Reason.RUNTIME_ERROR, problem, details=details)
    done = recs.first("done") or {}
    if done.get("steps") != len(plan.steps) or passed_tests != len(plan.tests):
        return Verdict.fail(Reason.RUNTIME_ERROR, "test count mismatch", details=details)
    return Verdict.ok(f"all {len(plan.tests)} tests passed", details=details)


def _valid(key: Any, plan: AssertPlan) -> bool:
    return isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(plan.steps)
