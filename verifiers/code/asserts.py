"""Assert-style tests, read with ``ast`` in OUR process: steps, and the names they need.

A test file (MBPP-style module-level asserts, or HumanEval's ``def check(candidate)``
whose body is expanded statement by statement) becomes a list of :class:`Step`:
``exec`` steps hold an assertion (a test), ``setup`` steps hold imports, helper
definitions and assignments. Every step runs in the sandbox's JUDGE process
(``harness/factory_asserts.py``), which the solution does not share: only the names
the tests take from the solution (:func:`free_names`) are calls into the solution's
process, and what those calls return comes back as plain data.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Literal


class BrokenTestsError(ValueError):
    """The test code itself is broken (does not parse, has no checks): a reference_error."""


@dataclass(frozen=True)
class Step:
    """One unit the child runs in order and reports on."""

    id: int
    scope: Literal["module", "check"]
    kind: Literal["setup", "exec"]
    line: int
    source: str
    is_test: bool

    def to_plan(self) -> dict[str, Any]:
        """What the judge runs (the solution's process never sees it)."""
        return {
            "id": self.id,
            "scope": self.scope,
            "kind": self.kind,
            "line": self.line,
            "code": self.source,
        }


@dataclass(frozen=True)
class AssertPlan:
    steps: tuple[Step, ...]
    check_param: str | None
    entry_point: str | None

    @property
    def tests(self) -> list[Step]:
        return [s for s in self.steps if s.is_test]


def solution_names(solution: str) -> set[str]:
    """Top-level names the solution defines (functions, classes, assigned names)."""
    try:
        tree = ast.parse(solution)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return set()
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return names


def last_function_name(solution: str) -> str | None:
    """The solution's last top-level function, the entry point when none is given."""
    try:
        tree = ast.parse(solution)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    funcs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    return funcs[-1] if funcs else None


def parse_tests(tests: str) -> ast.Module:
    """Parse and compile test code (compile-time errors count too), or raise BrokenTestsError."""
    try:
        tree = ast.parse(tests)
        compile(tree, "<tests>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise BrokenTestsError(f"the test code does not compile: {exc}") from exc
    except (MemoryError, RecursionError) as exc:
        raise BrokenTestsError("the test code is too deeply nested to compile") from exc
    return tree


def find_check(tree: ast.Module) -> ast.FunctionDef | None:
    """HumanEval's ``def check(candidate)``: a top-level one-argument function named check."""
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef)
            and node.name == "check"
            and len(node.args.args) == 1
            and not node.args.posonlyargs
            and not node.args.kwonlyargs
        ):
            return node
    return None


def _is_check_call(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check"
    )


def _has_assert(node: ast.AST) -> bool:
    """A statement counts as a test when it asserts something (definitions do not)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return False
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def _body_needs_function(body: list[ast.stmt]) -> bool:
    """True when the body cannot run statement by statement outside its function."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return | ast.Global | ast.Nonlocal | ast.Yield | ast.YieldFrom):
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue  # returns inside nested definitions are theirs
        todo.extend(ast.iter_child_nodes(node))
    return False


def plan_asserts(tests: str, *, entry_point: str | None) -> AssertPlan:
    """Cut assert-style test code into steps (raises BrokenTestsError on broken tests)."""
    tree = parse_tests(tests)
    check = find_check(tree)
    steps: list[Step] = []

    def add(node: ast.stmt, scope: Literal["module", "check"]) -> None:
        source = ast.unparse(node)
        line = getattr(node, "lineno", 0)
        is_test = isinstance(node, ast.Assert) or _has_assert(node)
        steps.append(Step(len(steps), scope, "exec", line, source, is_test))

    for node in tree.body:
        if check is not None and _is_check_call(node):
            continue  # we call check ourselves, with the candidate bound
        if node is check:
            steps.append(Step(len(steps), "module", "setup", node.lineno, ast.unparse(node), False))
            continue
        add(node, "module")
        if not isinstance(node, ast.Assert) and not steps[-1].is_test:
            steps[-1] = Step(
                steps[-1].id, "module", "setup", steps[-1].line, steps[-1].source, False
            )

    check_param = None
    if check is not None:
        check_param = check.args.args[0].arg
        body = list(check.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # docstring
        if _body_needs_function(body):
            call = f"check({check_param})"
            steps.append(Step(len(steps), "check", "exec", check.lineno, call, True))
        else:
            for node in body:
                add(node, "check")
        if entry_point is None:
            raise BrokenTestsError("the tests define check(candidate) but no entry point is known")

    plan = AssertPlan(tuple(steps), check_param, entry_point)
    if not plan.tests:
        raise BrokenTestsError("the test code contains no assertions")
    return plan


def free_names(tree: ast.Module) -> list[str]:
    """Names the test code reads but never binds: builtins, modules it relies on, and the
    solution's functions. The judge decides which is which (builtins and the standard
    library are always its own, whatever the solution defines)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
    return sorted(loaded - bound)


def solution_imports(solution: str) -> list[tuple[str, str, str | None]]:
    """The solution's top-level imports as (name bound, module, attribute or None), so the
    judge can import the same modules itself instead of using the solution's objects."""
    try:
        tree = ast.parse(solution)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    found: list[tuple[str, str, str | None]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        found.append((a.asname, a.name, None))
                    else:
                        top = a.name.split(".")[0]
                        found.append((top, top, None))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        found.append((a.asname or a.name, node.module, a.name))
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return found
