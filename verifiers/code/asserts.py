"""Assert-style tests: split them with ``ast`` in OUR process, so verdicts cannot be faked.

A test file (MBPP-style module-level asserts, or HumanEval's ``def check(candidate)``
whose body is expanded statement by statement) becomes a list of :class:`Step`:

- ``eval`` ("split") steps: an ``assert`` whose candidate-side sub-expressions
  ("holes", e.g. ``candidate([1, 2])`` or ``Solution().f(x)[0]``) are the only parts
  sent to the child; the child returns their values strictly encoded, and the rest
  of the assertion -- the expected value, ``==``, ``abs(... - ...) < tol``,
  ``math.isclose``, ``sorted``, ``not`` ... -- is evaluated HERE by a small
  interpreter over plain data (:func:`judge`). The expected values never enter the
  child, and no comparison runs on a candidate-made object, so no ``__eq__`` trick,
  patched ``AssertionError`` or forged record can make a split step pass.
- ``exec`` steps: test statements we cannot split (loops, asserts comparing to
  a test-local variable, ...) run in the child as-is and report pass/fail per
  statement. These are only as strong as in-process reporting.
- ``setup`` steps: imports, helper definitions, assignments.

A hole must be rooted at a candidate name (the ``check`` parameter, the entry
point, or a top-level name the solution defines): its value is then whatever the
candidate produced. Anything else the parent cannot evaluate makes the assert an
``exec`` step.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from verifiers.code.values import Iterated, Opaque, short_repr


class BrokenTestsError(ValueError):
    """The test code itself is broken (does not parse, has no checks): a reference_error."""


class _Unsplittable(Exception):
    pass


@dataclass(frozen=True)
class Step:
    """One unit the child runs in order and reports on."""

    id: int
    scope: Literal["module", "check"]
    kind: Literal["setup", "exec", "eval"]
    line: int
    source: str
    is_test: bool
    holes: tuple[str, ...] = ()
    expr: ast.expr | None = field(default=None, compare=False)

    def to_plan(self) -> dict[str, Any]:
        """What the child sees: no expected values for split steps, only the holes."""
        out: dict[str, Any] = {"id": self.id, "scope": self.scope, "kind": self.kind}
        out["line"] = self.line
        if self.kind == "eval":
            out["holes"] = list(self.holes)
        else:
            out["code"] = self.source
        return out


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


def plan_asserts(tests: str, *, candidate_names: set[str], entry_point: str | None) -> AssertPlan:
    """Split assert-style test code into steps (raises BrokenTestsError on broken tests)."""
    tree = parse_tests(tests)
    check = find_check(tree)
    steps: list[Step] = []

    def add(node: ast.stmt, scope: Literal["module", "check"], names: set[str]) -> None:
        source = ast.unparse(node)
        line = getattr(node, "lineno", 0)
        sid = len(steps)
        if isinstance(node, ast.Assert):
            try:
                expr, holes = split_expression(node.test, names)
            except _Unsplittable:
                steps.append(Step(sid, scope, "exec", line, source, True))
            else:
                steps.append(Step(sid, scope, "eval", line, source, True, holes, expr))
        else:
            steps.append(Step(sid, scope, "exec", line, source, _has_assert(node)))

    for node in tree.body:
        if check is not None and _is_check_call(node):
            continue  # we call check ourselves, with the candidate bound
        if node is check:
            steps.append(Step(len(steps), "module", "setup", node.lineno, ast.unparse(node), False))
            continue
        add(node, "module", candidate_names)
        if not isinstance(node, ast.Assert) and not steps[-1].is_test:
            steps[-1] = Step(
                steps[-1].id, "module", "setup", steps[-1].line, steps[-1].source, False
            )

    check_param = None
    if check is not None:
        check_param = check.args.args[0].arg
        names = candidate_names | {check_param}
        body = list(check.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # docstring
        if _body_needs_function(body):
            call = f"check({check_param})"
            steps.append(Step(len(steps), "check", "exec", check.lineno, call, True))
        else:
            for node in body:
                add(node, "check", names)
        if entry_point is None:
            raise BrokenTestsError("the tests define check(candidate) but no entry point is known")

    plan = AssertPlan(tuple(steps), check_param, entry_point)
    if not plan.tests:
        raise BrokenTestsError("the test code contains no assertions")
    return plan


# ---- splitting ---------------------------------------------------------------------------

_SAFE_FUNCS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "len": len,
    "sorted": sorted,
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    "list": list,
    "float": float,
    "int": int,
    "str": str,
    "bool": bool,
    "min": min,
    "max": max,
    "sum": sum,
}
_SAFE_MATH_FUNCS: dict[str, Callable[..., Any]] = {
    "isclose": math.isclose,
    "fabs": math.fabs,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": math.sqrt,
}
_MATH_CONSTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan, "tau": math.tau}
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def _safe_call_target(func: ast.expr) -> Callable[..., Any] | None:
    if isinstance(func, ast.Name) and func.id in _SAFE_FUNCS:
        return _SAFE_FUNCS[func.id]
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "math"
        and func.attr in _SAFE_MATH_FUNCS
    ):
        return _SAFE_MATH_FUNCS[func.attr]
    return None


def _is_math_const(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "math"
        and node.attr in _MATH_CONSTS
    )


def _rooted_at(node: ast.expr, names: set[str]) -> bool:
    """True for ``name``, ``name(...)``, ``name(...).attr[i](...)``... with a candidate name."""
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and node.id in names


def split_expression(test: ast.expr, names: set[str]) -> tuple[ast.expr, tuple[str, ...]]:
    """Rewrite ``test`` so candidate sub-expressions become ``__hole_<i>`` names.

    Returns the rewritten expression (evaluable by :func:`judge`) and the source of
    each hole, for the child. Raises _Unsplittable when some part is neither a
    candidate expression nor something the parent can evaluate on plain data.
    """
    holes: list[str] = []

    def hole(node: ast.expr) -> ast.expr:
        holes.append(ast.unparse(node))
        return ast.Name(id=f"__hole_{len(holes) - 1}", ctx=ast.Load())

    def rw(node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Constant):
            return node
        if _rooted_at(node, names):
            return hole(node)
        if _is_math_const(node):
            return node
        if isinstance(node, ast.Call):
            if _safe_call_target(node.func) is None:
                raise _Unsplittable
            if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords
            ):
                raise _Unsplittable
            return ast.Call(
                func=node.func,
                args=[rw(a) for a in node.args],
                keywords=[ast.keyword(arg=k.arg, value=rw(k.value)) for k in node.keywords],
            )
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.Is | ast.IsNot) and not (
                    isinstance(right, ast.Constant) and right.value in (None, True, False)
                ):
                    raise _Unsplittable
            return ast.Compare(
                left=rw(node.left), ops=node.ops, comparators=[rw(c) for c in node.comparators]
            )
        if isinstance(node, ast.BoolOp):
            return ast.BoolOp(op=node.op, values=[rw(v) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
            return ast.UnaryOp(op=node.op, operand=rw(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return ast.BinOp(left=rw(node.left), op=node.op, right=rw(node.right))
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                raise _Unsplittable
            return type(node)(elts=[rw(e) for e in node.elts], ctx=ast.Load())
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise _Unsplittable
            return ast.Dict(keys=[rw(k) for k in node.keys], values=[rw(v) for v in node.values])
        raise _Unsplittable

    expr = rw(test)
    if not holes:
        raise _Unsplittable  # nothing of the candidate's: let it run as written
    return ast.fix_missing_locations(expr), tuple(holes)


# ---- judging in the parent ---------------------------------------------------------------

_MAX_SEQ = 10**6
_MAX_POW_EXP = 10_000


class JudgeError(Exception):
    """Evaluating a split assertion on the reported values raised (the test fails)."""


def judge(expr: ast.expr, values: list[Any]) -> tuple[bool, str]:
    """Evaluate a split assertion on decoded hole values. Returns (passed, message)."""
    try:
        result = _ev(expr, values)
        ok = _truth(result)
    except JudgeError as exc:
        return False, str(exc)
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if ok:
        return True, ""
    got = ", ".join(short_repr(v) for v in values)
    return False, f"assertion failed; candidate gave {got}"


def _truth(value: Any) -> bool:
    if isinstance(value, Opaque):
        raise JudgeError(f"cannot judge the truth of a {value.type_name} object")
    return bool(value)


def _ev(node: ast.expr, values: list[Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id.startswith("__hole_"):
        return values[int(node.id.removeprefix("__hole_"))]
    if _is_math_const(node):
        assert isinstance(node, ast.Attribute)
        return _MATH_CONSTS[node.attr]
    if isinstance(node, ast.Call):
        fn = _safe_call_target(node.func)
        if fn is None:
            raise JudgeError("unsupported call")
        args = [_ev(a, values) for a in node.args]
        kwargs = {k.arg: _ev(k.value, values) for k in node.keywords if k.arg}
        if any(isinstance(a, Opaque) for a in args):
            raise JudgeError(f"the candidate returned an object of unsupported type: {args}")
        return fn(*args, **kwargs)
    if isinstance(node, ast.Compare):
        left = _ev(node.left, values)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _ev(comp, values)
            if not _truth(_CMPOPS[type(op)](left, right)):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for v in node.values:
            result = _ev(v, values)
            if isinstance(node.op, ast.And) != _truth(result):
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _ev(node.operand, values)
        if isinstance(node.op, ast.Not):
            return not _truth(operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp):
        left, right = _ev(node.left, values), _ev(node.right, values)
        _guard_binop(node.op, left, right)
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_ev(e, values) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict):
        return {_ev(k, values): _ev(v, values) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    raise JudgeError(f"unsupported expression {type(node).__name__}")


def _guard_binop(op: ast.operator, left: Any, right: Any) -> None:
    """Keep the parent's arithmetic small: no giant powers or sequence repeats."""
    if isinstance(left, Opaque | Iterated) or isinstance(right, Opaque | Iterated):
        raise JudgeError("the candidate returned an object of unsupported type")
    if isinstance(op, ast.Pow) and isinstance(right, int) and abs(right) > _MAX_POW_EXP:
        raise JudgeError("exponent too large to evaluate")
    if isinstance(op, ast.Pow) and isinstance(left, int) and left.bit_length() > 10_000:
        raise JudgeError("power base too large to evaluate")
    if isinstance(op, ast.Mult):
        for seq, n in ((left, right), (right, left)):
            big = isinstance(seq, str | bytes | list | tuple) and isinstance(n, int)
            if big and len(seq) * max(n, 0) > _MAX_SEQ:
                raise JudgeError("sequence repeat too large to evaluate")
