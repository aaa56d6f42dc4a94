"""Trust in LLM-written code references: the reference must pass its tests, and the tests
must reject programs known to be wrong, so weak tests cannot pass everything.

Known-wrong programs: a stub returning None (printing nothing, for stdio problems)
and simple mutants of the reference (an operator or a constant changed). The
stub must fail; when mutants can be made, at least one of them must fail too.
"""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from factory.problem import Problem
from verifiers import Reason, Verdict

Verify = Callable[[Problem, str], Awaitable[Verdict]]

_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
}


@dataclass(frozen=True)
class Drop:
    """Why a generated problem is not trusted."""

    reason: str
    record: dict[str, Any]


def wrong_stub(problem: Problem) -> str:
    """A program that is certainly wrong for any non-trivial problem."""
    entry = problem.reference.entry_point
    if entry:
        return f"def {entry}(*args, **kwargs):\n    return None\n"
    return "pass\n"


def _is_site(node: ast.AST) -> bool:
    """A node a single-edit mutant can change."""
    if isinstance(node, ast.BinOp | ast.AugAssign):
        return type(node.op) in _SWAPS
    if isinstance(node, ast.Compare):
        return type(node.ops[0]) in _SWAPS
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    )


def mutants(source: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` single-edit mutants of ``source`` (operator swaps, constant + 1)."""
    try:
        original = ast.unparse(ast.parse(source))
    except SyntaxError:
        return []
    out: list[str] = []
    site_count = sum(1 for n in ast.walk(ast.parse(source)) if _is_site(n))
    for index in range(site_count):
        tree = ast.parse(source)
        node = [n for n in ast.walk(tree) if _is_site(n)][index]
        if isinstance(node, ast.BinOp | ast.AugAssign):
            node.op = _SWAPS[type(node.op)]()
        elif isinstance(node, ast.Compare):
            node.ops[0] = _SWAPS[type(node.ops[0])]()
        elif isinstance(node, ast.Constant):
            node.value = node.value + 1
        text = ast.unparse(tree)
        if text != original and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out


async def check_generated_code_reference(problem: Problem, verify: Verify) -> Drop | None:
    """None when the problem's reference and tests can be trusted, else why not."""
    base = {"problem_id": problem.id, "stage": "reference"}
    solution = problem.reference.solution
    if not solution:
        return Drop(
            "no_reference_solution",
            {
                **base,
                "reason": "no_reference_solution",
                "message": "a generated code problem needs a reference solution",
            },
        )
    verdict = await verify(problem, solution)
    if not verdict.passed:
        # reference_error here means the tests fail on their own reference: the pair is wrong.
        # Only infra trouble leaves the question open.
        reason = (
            "reference_unverifiable" if verdict.reason is Reason.INFRA_ERROR else "reference_failed"
        )
        return Drop(
            reason,
            {
                **base,
                "reason": reason,
                "message": f"reference solution: {verdict.reason.value}: {verdict.message}",
            },
        )
    stub = await verify(problem, wrong_stub(problem))
    if stub.passed:
        return Drop(
            "weak_tests",
            {
                **base,
                "reason": "weak_tests",
                "message": "the tests accept a program that returns None",
            },
        )
    candidates = mutants(solution)
    if candidates:
        results = [await verify(problem, m) for m in candidates]
        if all(r.passed for r in results):
            return Drop(
                "weak_tests",
                {
                    **base,
                    "reason": "weak_tests",
                    "message": f"the tests accept all {len(candidates)} mutants of the "
                    "reference (an operator or constant changed)",
                },
            )
    return None
