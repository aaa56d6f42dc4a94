"""Reference-free checks: verify a candidate by substituting or differentiating it.

- :func:`check_substitution`: the candidate's solutions (``x = 2, y = 3``,
  ``\\{1, 2\\}``, ``(2, 3)``, ``2, 3``...) satisfy every equation. For one
  polynomial equation in one variable the candidate must also list every
  distinct real root (``x^2 = 4`` answered by ``2`` alone is incomplete).
- :func:`check_antiderivative`: ``d/dx candidate - integrand`` is zero
  (by ``simplify`` or numeric probing at positive points); a constant of
  integration (``+ C``) is allowed.

The functions here run in-process and return Verdicts; the ``*_inprocess``
variants return plain dicts for the worker. The public, bounded versions are
in :mod:`verifiers.math.verifier` (and exported by :mod:`verifiers.math`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mpmath
import sympy
from sympy import Eq, Expr, FiniteSet, Symbol

from verifiers.math.answer import MathOptions, parse_candidate, run_guarded, short, validate_options
from verifiers.math.equivalence import NotNumericError, equivalent, numeric_value
from verifiers.math.parse import MathObject, MathParseError, Seq, Tagged, parse_answer
from verifiers.verdict import Reason, Verdict

__all__ = [
    "antiderivative_inprocess",
    "check_antiderivative",
    "check_substitution",
    "substitution_inprocess",
]

_MAX_DEGREE = 20


def _residuals(equations: Any) -> list[Expr]:
    """``lhs - rhs`` of each equation (a bare expression means ``expr = 0``)."""
    if isinstance(equations, str):
        texts = [equations]
    elif isinstance(equations, list | tuple) and all(isinstance(e, str) for e in equations):
        texts = list(equations)
    else:
        raise MathParseError("equations must be a string or a list of strings")
    if not texts:
        raise MathParseError("no equations")
    out: list[Expr] = []
    for text in texts:
        obj = parse_answer(text, merge_assignments=False)
        if obj.oversized:
            raise MathParseError("equation with oversized values")
        v = obj.value
        items = v.items if isinstance(v, Seq) and not v.open else (v,)
        for item in items:
            if isinstance(item, Eq):
                out.append(item.lhs - item.rhs)
            elif isinstance(item, Expr):
                out.append(item)
            else:
                raise MathParseError(f"not an equation: {short(item)}")
    return out


def _solutions(value: Any, variables: list[Symbol]) -> list[dict[Symbol, Expr]] | str:
    """The candidate's solutions as variable assignments, or why they cannot be read."""

    def one(v: Any) -> dict[Symbol, Expr] | str:
        if isinstance(v, Tagged):
            v = v.value
        if isinstance(v, Eq) and isinstance(v.lhs, Symbol):
            return {v.lhs: v.rhs}
        if isinstance(v, Seq) and v.open:
            if len(v.items) != len(variables):
                return f"a tuple of {len(v.items)} values for {len(variables)} variables"
            if not all(isinstance(i, Expr) for i in v.items):
                return "a tuple of non-numbers"
            return dict(zip(variables, v.items, strict=True))
        if isinstance(v, Expr) and len(variables) == 1:
            return {variables[0]: v}
        return f"cannot read a solution from {short(v)}"

    if isinstance(value, Seq) and not value.open:
        items = list(value.items)
        if all(isinstance(i, Eq) and isinstance(i.lhs, Symbol) for i in items):
            names = [i.lhs for i in items]
            if len(set(names)) == len(names):  # x = 2, y = 3: one solution
                return [{i.lhs: i.rhs for i in items}]
    elif isinstance(value, FiniteSet):
        items = list(value.args)
    else:
        items = [value]
    sols = []
    for item in items:
        sol = one(item)
        if isinstance(sol, str):
            return sol
        sols.append(sol)
    return sols


def _is_zero(residual: Expr, scale_terms: Expr, inexact: bool, rel_tol: float) -> bool:
    if residual == 0:
        return True
    try:
        value = abs(numeric_value(residual, maxn=500))
        scale = max(
            [mpmath.mpf(1)]
            + [abs(numeric_value(t)) for t in sympy.Add.make_args(sympy.expand(scale_terms))]
        )
    except NotNumericError:
        return False
    tol = mpmath.mpf(rel_tol) if inexact else mpmath.mpf(10) ** -30
    return bool(value <= tol * scale)


def _check_substitution(equations: Any, candidate: Any, opts: MathOptions) -> Verdict:
    try:
        residuals = _residuals(equations)
    except MathParseError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, f"cannot parse the equations: {exc}")
    variables = sorted(set().union(*(r.free_symbols for r in residuals)), key=str)
    if not variables:
        return Verdict.fail(Reason.REFERENCE_ERROR, "the equations have no variables")
    details: dict[str, Any] = {"variables": [str(v) for v in variables]}
    cand = parse_candidate(candidate, opts, details)
    if isinstance(cand, Verdict):
        return cand
    details["candidate_parsed"] = short(cand)
    if cand.oversized:
        return Verdict.fail(
            Reason.WRONG_ANSWER, "the solution is too large to substitute", details=details
        )
    sols = _solutions(cand.value, variables)
    if isinstance(sols, str):
        return Verdict.fail(Reason.WRONG_ANSWER, sols, details=details)
    for sol in sols:
        missing = [str(v) for v in variables if v not in sol]
        if missing:
            return Verdict.fail(
                Reason.WRONG_ANSWER, f"no value for {', '.join(missing)}", details=details
            )
        for residual in residuals:
            value = residual.xreplace(sol)
            if value.free_symbols or not _is_zero(
                value, residual.xreplace(sol), cand.inexact, opts.rel_tol
            ):
                return Verdict.fail(
                    Reason.WRONG_ANSWER,
                    f"{short(sol)} does not satisfy {short(residual)} = 0",
                    details=details,
                )
    missing_roots = _missing_real_roots(residuals, variables, sols)
    if missing_roots:
        return Verdict.fail(Reason.WRONG_ANSWER, missing_roots, details=details)
    return Verdict.ok(f"{len(sols)} solution(s) satisfy the equations", details=details)


def _missing_real_roots(
    residuals: list[Expr], variables: list[Symbol], sols: list[dict[Symbol, Expr]]
) -> str:
    """For one univariate polynomial: a message when distinct real roots are missing."""
    if len(residuals) != 1 or len(variables) != 1:
        return ""
    try:
        poly = sympy.Poly(residuals[0], variables[0])
    except sympy.PolynomialError:
        return ""
    if poly.degree() > _MAX_DEGREE or not all(c.is_Rational for c in poly.all_coeffs()):
        return ""
    expected = sympy.sqf_part(poly).count_roots()
    found: list[Any] = []
    for sol in sols:
        try:
            v = numeric_value(sol[variables[0]])
        except NotNumericError:
            continue
        if abs(v.imag) < 1e-20 and not any(abs(v - w) < 1e-20 for w in found):
            found.append(v)
    if len(found) < expected:
        return f"incomplete: {len(found)} of {expected} distinct real solutions given"
    return ""


def _check_antiderivative(
    integrand: Any, candidate: Any, variable: Any, opts: MathOptions
) -> Verdict:
    if not isinstance(variable, str) or not variable.isidentifier():
        return Verdict.fail(Reason.REFERENCE_ERROR, f"bad variable name {variable!r}")
    if not isinstance(integrand, str):
        return Verdict.fail(Reason.REFERENCE_ERROR, "the integrand is not a string")
    try:
        f_obj = parse_answer(integrand)
        f = f_obj.value.rhs if isinstance(f_obj.value, Eq) else f_obj.value
        if not isinstance(f, Expr) or f_obj.oversized:
            raise MathParseError("the integrand is not an expression")
    except MathParseError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, f"cannot parse the integrand: {exc}")
    details: dict[str, Any] = {"integrand": short(f), "variable": variable}
    cand = parse_candidate(candidate, opts, details)
    if isinstance(cand, Verdict):
        return cand
    F = cand.value.rhs if isinstance(cand.value, Eq) else cand.value
    details["candidate_parsed"] = short(F)
    if not isinstance(F, Expr):
        return Verdict.fail(
            Reason.WRONG_ANSWER, "the candidate is not an expression", details=details
        )
    if cand.oversized:
        return Verdict.fail(
            Reason.WRONG_ANSWER, "the candidate is too large to differentiate", details=details
        )
    x = Symbol(variable)
    real_x = Symbol(variable, real=True)
    f = f.xreplace({x: real_x})
    F = F.xreplace({x: real_x})
    if real_x not in F.free_symbols:
        return Verdict.fail(
            Reason.WRONG_ANSWER, f"the candidate does not depend on {variable}", details=details
        )
    derivative = sympy.diff(F, real_x)
    details["derivative"] = short(derivative)
    cmp = equivalent(
        MathObject(derivative, "", inexact=cand.inexact),
        MathObject(f, "", inexact=f_obj.inexact),
        rel_tol=opts.rel_tol,
        probes=opts.probes,
    )
    details.update(method=cmp.method, note=cmp.note)
    if cmp.equal:
        return Verdict.ok("the derivative of the candidate is the integrand", details=details)
    return Verdict.fail(
        Reason.WRONG_ANSWER, "the derivative of the candidate is not the integrand", details=details
    )


def check_substitution(equations: str | list[str], candidate: str, **options: Any) -> Verdict:
    """In-process substitution check (unbounded; see the module docstring)."""
    return Verdict.model_validate(substitution_inprocess(equations, candidate, options))


def check_antiderivative(
    integrand: str, candidate: str, variable: str = "x", **options: Any
) -> Verdict:
    """In-process antiderivative check (unbounded; see the module docstring)."""
    return Verdict.model_validate(antiderivative_inprocess(integrand, candidate, variable, options))


def substitution_inprocess(
    equations: Any, candidate: Any, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """:func:`check_substitution` for the worker: the Verdict as a dict."""
    opts = validate_options(options or {})
    return run_guarded(_check_substitution, equations, candidate, opts)


def antiderivative_inprocess(
    integrand: Any, candidate: Any, variable: Any = "x", options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """:func:`check_antiderivative` for the worker: the Verdict as a dict."""
    opts = validate_options(options or {})
    return run_guarded(_check_antiderivative, integrand, candidate, variable, opts)
