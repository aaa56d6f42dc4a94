"""Style 3: stdin/stdout cases. One sandbox job per case; stdout compared HERE.

No harness runs in the child, and nothing the program says about itself counts:
the program reads a case's input and its stdout is compared with the expected
output in the parent (:mod:`verifiers.code.compare` documents the whitespace policy).
A case passes only when the program exited 0 within the time limit and its
output matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from verifiers.code.asserts import BrokenTestsError
from verifiers.code.compare import first_difference, outputs_match
from verifiers.code.run import (
    PYTHON,
    Options,
    cap,
    how_it_ended,
    make_job,
    result_details,
    run_jobs,
)
from verifiers.verdict import Reason, Verdict

BATCH = 8


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return "\n".join(value) + "\n"
    raise BrokenTestsError(f"a stdio case's {what} must be a string, got {type(value).__name__}")


def parse_cases(tests: Any) -> list[tuple[str, str]]:
    """[(input, expected_output)] from a list (or JSON list) of {"input", "output"} cases."""
    if isinstance(tests, str):
        try:
            tests = json.loads(tests)
        except ValueError as exc:
            raise BrokenTestsError(f"stdio cases are not valid JSON: {exc}") from exc
    if isinstance(tests, Mapping):
        if "inputs" in tests and "outputs" in tests:  # APPS / CodeContests layout
            tests = [
                {"input": i, "output": o}
                for i, o in zip(tests["inputs"], tests["outputs"], strict=False)
            ]
        else:
            tests = tests.get("cases", tests.get("stdio"))
    if not isinstance(tests, Sequence) or isinstance(tests, str):
        raise BrokenTestsError("stdio tests must be a list of {'input': ..., 'output': ...} cases")
    cases = []
    for case in tests:
        if not isinstance(case, Mapping) or "input" not in case or "output" not in case:
            raise BrokenTestsError("each stdio case needs 'input' and 'output'")
        cases.append((_text(case["input"], "input"), _text(case["output"], "output")))
    if not cases:
        raise BrokenTestsError("there are no stdio cases")
    return cases


def check_stdio(solution: str, tests: Any, opts: Options) -> Verdict:
    try:
        cases = parse_cases(tests)
    except BrokenTestsError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, str(exc))
    listed: list[dict[str, Any]] = []
    details: dict[str, Any] = {"style": "stdio", "tests": listed, "total_tests": len(cases)}
    image = ""
    for start in range(0, len(cases), BATCH):
        batch = cases[start : start + BATCH]
        jobs = [
            make_job(
                {"solution.py": solution},
                [*PYTHON, "solution.py"],
                opts,
                stdin=inp,
                report_channel=False,
            )
            for inp, _ in batch
        ]
        results = run_jobs(jobs, opts)
        for offset, ((inp, want), result) in enumerate(zip(batch, results, strict=True)):
            index = start + offset
            image = result.image
            details["passed_tests"] = index  # before _judge_case: a failing Verdict copies details
            verdict = _judge_case(index, inp, want, result, opts, details)
            listed.append(
                {"case": index, "outcome": "passed" if verdict is None else verdict.reason.value}
            )
            if verdict is not None:
                details["passed_tests"] = index
                details["image"] = image
                return verdict
    details["passed_tests"] = len(cases)
    details["image"] = image
    return Verdict.ok(f"all {len(cases)} cases passed", details=details)


def _judge_case(
    index: int, inp: str, want: str, result: Any, opts: Options, details: dict[str, Any]
) -> Verdict | None:
    where = f"case {index}"

    def fail(reason: Reason, message: str) -> Verdict:
        details.update(result_details(result))
        details["first_failure"] = f"{where}: {message}"
        details["input"] = cap(inp, 500)
        details["expected_output"] = cap(want, 500)
        return Verdict.fail(reason, f"{where}: {message}", details=details)

    if result.timed_out:
        return fail(Reason.TIMEOUT, f"timed out after {opts.timeout_s}s")
    if result.memory_exceeded:
        details["memory_exceeded"] = True
        return fail(Reason.RUNTIME_ERROR, "memory limit exceeded")
    if result.exit_code != 0 or result.signal is not None:
        tail = cap(result.stderr, 300).strip().splitlines()
        return fail(
            Reason.RUNTIME_ERROR,
            f"the program failed ({how_it_ended(result)}): {tail[-1] if tail else ''}",
        )
    if result.output_truncated:
        return fail(Reason.TESTS_FAILED, "output exceeded the size limit")
    if not outputs_match(result.stdout, want, float_tol=opts.float_tol):
        return fail(Reason.TESTS_FAILED, f"wrong output: {first_difference(result.stdout, want)}")
    return None
