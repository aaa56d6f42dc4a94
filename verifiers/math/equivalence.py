"""Decide whether two parsed answers are the same mathematical answer.

:func:`equivalent` is symmetric: ``equivalent(a, b)`` and ``equivalent(b, a)``
always agree.

Numbers
    Exact values are compared exactly: integers and rationals by value
    (``1/2^98`` is not ``1/2^99``, ``100!`` is not ``100!+1``), irrational exact
    values by ``a - b`` evaluated with SymPy's adaptive precision (a difference
    below ``1e-100`` of the values' size counts as zero).

Decimals (the tolerance policy)
    A side written with a decimal literal (``0.5``, ``1.5e3``) is *inexact*.
    Decimals are stored as exact rationals, so ``0.5`` equals ``1/2``, ``1.50``
    equals ``3/2`` and ``0.1+0.2`` equals ``0.3`` exactly. Two values that both have
    a finite decimal expansion compare exactly, always: ``5.000000001`` is not ``5``.
    Otherwise an inexact side matches only when the relative difference is at most
    ``rel_tol`` (default ``1e-11``): a decimal needs about twelve correct significant
    digits to stand for an irrational or non-terminating value (``3.14159265359`` is
    ``\\pi``), and roundings are rejected (``0.6666666667`` and ``0.3333`` are not
    the thirds; ``3.14`` is not ``\\pi``). Rational-vs-rational tolerance checks use
    exact arithmetic, so the boundary is deterministic. An exact irrational value and
    another exact value are equal only when their difference evaluates to zero with no
    significant digit at 500 digits (``2^{1/2^{1000}}`` is not ``1``).

Approximations and ellipses
    An answer stated with ``\\approx`` is not equal to an exact one unless
    ``approx_rel_tol`` is given (then that tolerance applies); an answer holding an
    ellipsis (``5\\ldots``, ``1, 2, \\ldots``) is never equal to a finite one.

Symbolic expressions
    Free symbols are probed: both sides are evaluated at ``probes`` random
    points (fixed seed) with 50-digit mpmath arithmetic; one clear difference
    proves inequality. Variables are drawn from ``(0.1, 3)``, and also from
    ``(-3, -0.1)`` when both sides are real for every real input (no roots of
    possibly negative values, no logs of possibly non-positive ones): so
    ``x`` is not ``|x|`` and ``\\sqrt{x^2}`` is not ``x``, while
    ``\\log(ab) = \\log a + \\log b`` holds (positive values only). When every
    probe agrees, a size-guarded ``simplify(a - b) == 0`` is tried to confirm;
    the method says which decided.

Oversized values
    Answers holding unevaluated huge powers/factorials (see
    :mod:`verifiers.math.parse`) are compared structurally only, never evaluated.

Structures
    - ``x = 2`` (a variable assignment) matches ``2``; ``y = 2x+1`` matches ``2x+1``.
    - Equations match when their ``lhs - rhs`` have the same free symbols and a
      constant nonzero ratio (``2x = 4`` is ``x = 2``; ``x-1=0`` is not ``y-2=0``).
    - Inequalities with one variable become sets (``x > 1`` is ``(1, \\infty)``).
    - Bare lists of answers (``2, 3``) are unordered and a repeated entry counts
      once; a missing or extra answer differs. Against a set (``\\{2, 3\\}``) they
      compare as sets.
    - Bracketed tuples (``(1, 2)``) compare element-wise in order; against an
      interval a two-element tuple is read as that interval (``(1,3)`` open,
      ``[1,3]`` closed). Matrices compare element-wise; a vector matrix matches
      a tuple of the same entries.
    - ``50\\%`` matches ``50`` and ``0.5``; ``30^\\circ`` matches ``30`` and ``\\pi/6``.
      Two percentages (or two degree values) compare by their numbers. (Against a
      percent *reference* a bare candidate is read as a number of percent; that
      directed rule is applied in :mod:`verifiers.math.answer`.)
    - Units (:class:`~verifiers.math.parse.Measured`): equal units compare values,
      commensurable units are converted exactly, other units differ; a unit on one
      side only is dropped. A base-n numeral equals the same digits in the same base.
    - Word answers compare case-insensitively, and never equal a math value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from sympy import And, Basic, Eq, Expr, FiniteSet, ImmutableMatrix, Interval, Rational
from sympy.core.relational import Relational

from verifiers.math.parse import Based, MathObject, Measured, Seq, Tagged, Text

__all__ = ["Comparison", "NotNumericError", "equivalent", "numeric_value"]

DEFAULT_REL_TOL = 1e-11
DEFAULT_PROBES = 6
MAX_SIMPLIFY_OPS = 60
MAX_SIMPLIFY_POWER = 64
MAX_ELEMENTS = 200
_EXACT_DPS = 50


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing two answers: equal or not, how it was decided, why."""

    equal: bool
    method: str
    note: str = ""


def equivalent(
    candidate: MathObject,
    reference: MathObject,
    *,
    rel_tol: float = DEFAULT_REL_TOL,
    probes: int = DEFAULT_PROBES,
    seed: int = 0,
    approx_rel_tol: float | None = None,
) -> Comparison:
    """Compare a parsed candidate with a parsed reference (symmetric in its arguments)."""
    if candidate.open_ended != reference.open_ended:
        return Comparison(False, "open-ended", "an answer with an ellipsis is not a finite one")
    approximate = candidate.approximate or reference.approximate
    if approximate and approx_rel_tol is None and candidate.approximate != reference.approximate:
        return Comparison(False, "approximate", "an approximation is not the exact answer")
    ctx = _Context(
        inexact=candidate.inexact or reference.inexact or approximate,
        oversized=candidate.oversized or reference.oversized,
        rel_tol=approx_rel_tol if approximate and approx_rel_tol is not None else rel_tol,
        probes=probes,
        seed=seed,
    )
    return ctx.compare(candidate.value, reference.value)


class NotNumericError(ValueError):
    """The expression does not evaluate to a finite number."""

    pass


def _is_relation(v: Any) -> bool:
    return isinstance(v, Relational | And)


def _is_assignment(v: Any) -> bool:
    """``x = <value without x>``."""
    return isinstance(v, Eq) and isinstance(v.lhs, sympy.Symbol) and v.lhs not in v.rhs.free_symbols


def _is_inequality(v: Any) -> bool:
    if isinstance(v, And):
        return all(isinstance(a, Relational) and not isinstance(a, Eq) for a in v.args)
    return isinstance(v, Relational) and not isinstance(v, Eq)


def _is_collection(v: Any) -> bool:
    return isinstance(v, Seq | sympy.Set | ImmutableMatrix)


class _Context:
    def __init__(
        self, *, inexact: bool, oversized: bool, rel_tol: float, probes: int, seed: int
    ) -> None:
        self.inexact = inexact
        self.oversized = oversized
        self.rel_tol = rel_tol
        self.rel_tol_exact = Rational(repr(float(rel_tol)))
        self.probes = probes
        self.seed = seed

    # -- dispatch ----------------------------------------------------------------
    def compare(self, a: Any, b: Any) -> Comparison:
        if type(a) is type(b) and a == b:
            return Comparison(True, "structural")
        if not self.oversized:
            a, b = _inequality_union(a), _inequality_union(b)
        if isinstance(a, Text) or isinstance(b, Text):
            if isinstance(a, Text) and isinstance(b, Text):
                return Comparison(a.text == b.text, "text")
            return Comparison(False, "kind", "a word answer against a math answer")
        if isinstance(a, Measured) or isinstance(b, Measured):
            return self.measured(a, b)
        if isinstance(a, Based) or isinstance(b, Based):
            return _based(a, b)
        if isinstance(a, Tagged) or isinstance(b, Tagged):
            return self.tagged(a, b)
        if _is_assignment(a) and not _is_relation(b):
            return self.compare(a.rhs, b)
        if _is_assignment(b) and not _is_relation(a):
            return self.compare(a, b.rhs)
        if isinstance(a, Eq) and isinstance(b, Eq):
            return self.equations(a, b)
        if isinstance(a, Eq) or isinstance(b, Eq):
            return Comparison(False, "kind", "an equation against a non-equation")
        if _is_inequality(a) or _is_inequality(b):
            return self.inequalities(a, b)
        if _is_relation(a) or _is_relation(b):
            return Comparison(False, "kind", "unsupported relation")
        if _is_collection(a) or _is_collection(b):
            return self.collections(a, b)
        if isinstance(a, Expr) and isinstance(b, Expr):
            return self.scalars(a, b)
        return Comparison(False, "kind", f"cannot compare {type(a).__name__}/{type(b).__name__}")

    def measured(self, a: Any, b: Any) -> Comparison:
        if isinstance(a, Measured) and isinstance(b, Measured):
            if a.unit == b.unit:
                r = self.compare(a.value, b.value)
                return Comparison(r.equal, f"unit:{r.method}", r.note)
            fa, fb = _unit_factor(a.unit), _unit_factor(b.unit)
            if fa is None or fb is None or fa[0] != fb[0]:
                return Comparison(False, "unit", f"units differ: {a.unit} vs {b.unit}")
            if not (isinstance(a.value, Expr) and isinstance(b.value, Expr)):
                return Comparison(False, "unit", "converted units need plain values")
            r = self.compare(a.value * fa[1], b.value * fb[1])
            return Comparison(r.equal, f"unit-conversion:{r.method}", r.note)
        # a unit on one side only: the number asked for, the unit dropped
        m, other = (a, b) if isinstance(a, Measured) else (b, a)
        if m.unit == "rad" and isinstance(other, Tagged) and other.tag == "degree":
            r = self.compare(m.value, _untag(other))  # 5 radians is not 5 degrees
            return Comparison(r.equal, f"radians:{r.method}", r.note)
        r = self.compare(m.value, other)
        return Comparison(r.equal, f"unit-dropped:{r.method}", r.note)

    def tagged(self, a: Any, b: Any) -> Comparison:
        if isinstance(a, Tagged) and isinstance(b, Tagged):
            if a.tag == b.tag:
                r = self.compare(a.value, b.value)
                return Comparison(r.equal, f"{a.tag}:{r.method}", r.note)
            return self.compare(_untag(a), _untag(b))
        t, other = (a, b) if isinstance(a, Tagged) else (b, a)
        last = Comparison(False, t.tag, "")
        for alt in (t.value, _untag(t)):
            last = self.compare(alt, other)
            if last.equal:
                return Comparison(True, f"{t.tag}:{last.method}", last.note)
        return Comparison(False, f"{t.tag}:{last.method}", last.note)

    # -- relations -------------------------------------------------------------
    def equations(self, a: Eq, b: Eq) -> Comparison:
        if _is_assignment(a) and _is_assignment(b) and a.lhs == b.lhs:
            r = self.compare(a.rhs, b.rhs)
            return Comparison(r.equal, f"assignment:{r.method}", r.note)
        p = a.lhs - a.rhs
        q = b.lhs - b.rhs
        if p.free_symbols != q.free_symbols:
            return Comparison(False, "equation", "different variables")
        if not p.free_symbols:
            return Comparison(False, "equation", "equations without variables")
        if self.oversized:
            return Comparison(bool(sympy.Eq(p, q) is sympy.true), "structural", "oversized")
        return self.proportional(p, q, positive=False, method="equation")

    def proportional(self, p: Expr, q: Expr, *, positive: bool, method: str) -> Comparison:
        """Is p == c * q for a constant c != 0 (c > 0 when ``positive``)?"""
        syms = sorted(p.free_symbols | q.free_symbols, key=str)
        ratio = None
        seen = 0
        for point in self.points(syms, self.probes * 3):
            try:
                vp = numeric_value(p.xreplace(point))
                vq = numeric_value(q.xreplace(point))
            except NotNumericError:
                continue
            if abs(vq) < mpmath.mpf(10) ** -30:
                if abs(vp) < mpmath.mpf(10) ** -30:
                    continue
                return Comparison(False, method, "not proportional")
            r = vp / vq
            if ratio is None:
                if abs(r) < mpmath.mpf(10) ** -30:
                    return Comparison(False, method, "not proportional")
                ratio = r
            elif not self.close(r, ratio):
                return Comparison(False, method, "not proportional")
            seen += 1
            if seen >= self.probes:
                break
        if ratio is None:
            return Comparison(False, method, "could not evaluate")
        if positive and (abs(ratio.imag) > 1e-20 or ratio.real <= 0):
            return Comparison(False, method, "reversed direction")
        return Comparison(True, method, f"lhs-rhs proportional (ratio {mpmath.nstr(ratio, 6)})")

    def inequalities(self, a: Any, b: Any) -> Comparison:
        if self.oversized:
            return Comparison(False, "structural", "too large to evaluate; compared structurally")
        if _is_inequality(a) and _is_inequality(b):
            if a.free_symbols != b.free_symbols:
                return Comparison(False, "inequality", "different variables")
            sa, sb = _relation_set(a), _relation_set(b)
            if sa is not None and sb is not None:
                return self.sets(sa, sb)
            na, nb = _normal_inequality(a), _normal_inequality(b)
            if na is None or nb is None or na[1] != nb[1]:
                return Comparison(False, "inequality", "different kinds of inequality")
            return self.proportional(na[0], nb[0], positive=True, method="inequality")
        ineq, other = (a, b) if _is_inequality(a) else (b, a)
        other_set = self.as_set(other)
        if other_set is None:
            return Comparison(False, "inequality", "an inequality against a non-set")
        ineq_set = _relation_set(ineq)
        if ineq_set is None:
            return Comparison(False, "inequality", "not a solvable one-variable inequality")
        return self.sets(ineq_set, other_set)

    # -- collections -------------------------------------------------------------
    def as_set(self, v: Any) -> sympy.Set | None:
        if isinstance(v, sympy.Set):
            return v
        if isinstance(v, Seq) and len(v.items) == 2 and v.open + v.close in ("()", "[]"):
            x, y = v.items
            if isinstance(x, Expr) and isinstance(y, Expr):
                try:
                    return Interval(x, y, left_open=v.open == "(", right_open=v.close == ")")
                except (TypeError, ValueError):
                    return None
        return None

    def collections(self, a: Any, b: Any) -> Comparison:
        ka, kb = _kind(a), _kind(b)
        if kb < ka:  # one order per pair of kinds keeps the rules symmetric
            a, b, ka, kb = b, a, kb, ka
        pair = (ka, kb)
        if pair == ("list", "list"):
            return self.multiset(a.items, b.items)
        if pair in (("fset", "list"), ("fset", "fset")):
            return self.as_sets(_elements(a), _elements(b))
        if pair == ("list", "tuple"):
            return self.ordered(a.items, b.items)
        if pair == ("tuple", "tuple"):
            if (a.open, a.close) != (b.open, b.close):
                return Comparison(False, "tuple", "different brackets")
            return self.ordered(a.items, b.items)
        if pair == ("fset", "tuple") and isinstance(a, Seq):
            if len(a.items) == 1:
                return self.compare(a.items[0], b)
            return Comparison(False, "set", "a set of points against a tuple")
        if pair in (("set", "tuple"), ("fset", "tuple"), ("fset", "set"), ("set", "set")):
            sa, sb = self.as_set(a), self.as_set(b)
            if sa is None or sb is None:
                return Comparison(False, "set", "not comparable as sets")
            return self.sets(sa, sb)
        if pair == ("matrix", "matrix"):
            if a.shape != b.shape:
                return Comparison(False, "matrix", "different shapes")
            return self.ordered(list(a), list(b), method="matrix")
        if pair in (("list", "matrix"), ("matrix", "tuple")):
            m, s = (a, b) if ka == "matrix" else (b, a)
            if 1 in m.shape and len(m) == len(s.items):
                return self.ordered(list(m), s.items, method="vector")
            return Comparison(False, "matrix", "a matrix against a list")
        if pair == ("fset", "scalar") and len(_elements(a)) == 1:
            return self.compare(_elements(a)[0], b)
        return Comparison(False, "kind", f"{ka} against {kb}")

    def ordered(self, xs: Any, ys: Any, method: str = "ordered") -> Comparison:
        xs, ys = list(xs), list(ys)
        if len(xs) != len(ys):
            return Comparison(False, method, f"{len(xs)} items against {len(ys)}")
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            r = self.compare(x, y)
            if not r.equal:
                return Comparison(False, method, f"item {i + 1} differs ({r.method})")
        return Comparison(True, method)

    def match_matrix(self, xs: list[Any], ys: list[Any]) -> list[list[bool]]:
        if len(xs) * len(ys) > MAX_ELEMENTS**2:
            raise NotNumericError("too many elements")
        return [[self.compare(x, y).equal for y in ys] for x in xs]

    def multiset(self, xs: Any, ys: Any) -> Comparison:
        xs, ys = self.distinct(list(xs)), self.distinct(list(ys))
        if len(xs) != len(ys):
            return Comparison(False, "multiset", f"{len(xs)} answers against {len(ys)}")
        m = self.match_matrix(xs, ys)
        if _perfect_matching(m):
            return Comparison(True, "multiset")
        return Comparison(False, "multiset", "the answers differ")

    def distinct(self, xs: list[Any]) -> list[Any]:
        """``xs`` without repeats: a root listed twice (``2, 2, 3``) is one answer."""
        if len(xs) > MAX_ELEMENTS:
            return xs
        out: list[Any] = []
        for x in xs:
            if not any(type(x) is type(y) and x == y for y in out):
                out.append(x)
        return out

    def as_sets(self, xs: list[Any], ys: list[Any]) -> Comparison:
        m = self.match_matrix(xs, ys)
        if all(any(row) for row in m) and all(
            any(m[i][j] for i in range(len(xs))) for j in range(len(ys))
        ):
            return Comparison(True, "set")
        return Comparison(False, "set", "the elements differ")

    def sets(self, a: sympy.Set, b: sympy.Set) -> Comparison:
        if a == b:
            return Comparison(True, "set", "structural")
        if isinstance(a, Interval) and isinstance(b, Interval):
            if (a.left_open, a.right_open) != (b.left_open, b.right_open):
                return Comparison(False, "interval", "open/closed ends differ")
            lo = self.compare(a.start, b.start)
            hi = self.compare(a.end, b.end)
            return Comparison(lo.equal and hi.equal, "interval")
        if isinstance(a, FiniteSet) and isinstance(b, FiniteSet):
            return self.as_sets(list(a.args), list(b.args))
        if isinstance(a, sympy.Union) and isinstance(b, sympy.Union):
            if len(a.args) != len(b.args):
                return Comparison(False, "set", "different number of pieces")
            m = [[self.sets(x, y).equal for y in b.args] for x in a.args]
            return Comparison(_perfect_matching(m), "union")
        if self.oversized:
            return Comparison(False, "set", "oversized")
        try:
            diff = sympy.Union(sympy.Complement(a, b), sympy.Complement(b, a))
        except Exception as exc:  # SymPy set algebra gives up on some sets
            return Comparison(False, "set", f"set algebra failed: {exc}")
        return Comparison(diff is sympy.S.EmptySet, "set", "symmetric difference")

    # -- scalars ---------------------------------------------------------------
    def scalars(self, a: Expr, b: Expr) -> Comparison:
        if a == b:
            return Comparison(True, "structural")
        if self.oversized:
            return Comparison(False, "structural", "too large to evaluate; compared structurally")
        if a.has(sympy.oo, -sympy.oo, sympy.zoo) or b.has(sympy.oo, -sympy.oo, sympy.zoo):
            return Comparison(False, "structural", "infinite values")
        free = a.free_symbols | b.free_symbols
        if not free:
            return self.numbers(a, b)
        return self.symbolic(a, b, sorted(free, key=str))

    def numbers(self, a: Expr, b: Expr) -> Comparison:
        if a.is_Rational and b.is_Rational:
            if not self.inexact or (_terminates(a) and _terminates(b)):
                # 5.000000001 is not 5: a tolerance only helps a decimal stand for a
                # value that has no finite decimal (1/3), never for one that has
                return Comparison(False, "exact")
            ok = abs(a - b) <= self.rel_tol_exact * max(abs(a), abs(b))
            return Comparison(bool(ok), "tolerance", f"rel_tol={self.rel_tol}")
        try:
            if self.inexact:
                va, vb = numeric_value(a), numeric_value(b)
                return Comparison(self.close(va, vb), "tolerance", f"rel_tol={self.rel_tol}")
            d = a - b
            if d == 0:
                return Comparison(True, "symbolic")
            if d.is_Rational:
                return Comparison(False, "exact")
            if _provably_nonzero(d):
                return Comparison(False, "numeric", "the difference evaluates to a nonzero value")
            vd = numeric_value(d, maxn=500)
            scale = max(abs(numeric_value(a)), abs(numeric_value(b)), mpmath.mpf(1) / 10**300)
        except NotNumericError as exc:
            return Comparison(False, "numeric", f"could not evaluate: {exc}")
        if abs(vd) <= scale * mpmath.mpf(10) ** -100:
            return Comparison(True, "numeric", "zero to 100 digits")
        return Comparison(False, "numeric")

    def symbolic(self, a: Expr, b: Expr, syms: list[sympy.Symbol]) -> Comparison:
        everywhere = _defined_for_all_reals(a, syms) and _defined_for_all_reals(b, syms)
        agreed = 0
        for point in self.points(syms, self.probes * 3, signed=everywhere):
            try:
                va = numeric_value(a.xreplace(point))
                vb = numeric_value(b.xreplace(point))
            except NotNumericError:
                continue
            if not self.close(va, vb, exact_tol=mpmath.mpf(10) ** -25):
                where = ", ".join(
                    f"{s}={mpmath.nstr(numeric_value(v).real, 5)}" for s, v in point.items()
                )
                return Comparison(False, "numeric-probe", f"differ at {where}")
            agreed += 1
            if agreed >= self.probes:
                break
        if _simplify_is_safe(a, b) and sympy.simplify(a - b) == 0:
            return Comparison(True, "simplify")
        if agreed:
            domain = "real" if everywhere else "positive"
            return Comparison(True, "numeric-probe", f"agree at {agreed} random {domain} points")
        return Comparison(False, "undecided", "could neither evaluate nor simplify")

    # -- numeric helpers ------------------------------------------------------------
    def points(
        self, syms: list[sympy.Symbol], n: int, *, signed: bool = False
    ) -> list[dict[Basic, Expr]]:
        """Random points (fixed seed): every other one with random signs when ``signed``."""
        rng = random.Random(self.seed)
        out = []
        for k in range(n):
            point = {}
            for s in syms:
                v = rng.uniform(0.1, 3.0)
                if signed and k % 2 == 1 and rng.random() < 0.5:
                    v = -v
                point[s] = sympy.Float(v, _EXACT_DPS)
            out.append(point)
        return out

    def close(self, x: Any, y: Any, exact_tol: Any = None) -> bool:
        tol = mpmath.mpf(self.rel_tol) if self.inexact or exact_tol is None else exact_tol
        scale = max(abs(x), abs(y))
        if scale < mpmath.mpf(10) ** -30:
            return True
        return bool(abs(x - y) <= tol * scale)


def numeric_value(expr: Expr, maxn: int = 100) -> Any:
    """``expr`` as an mpmath complex at 50 digits; NotNumericError if not a finite number."""
    try:
        v = sympy.N(expr, _EXACT_DPS, maxn=maxn)
        re, im = v.as_real_imag()
        re, im = sympy.N(re, _EXACT_DPS), sympy.N(im, _EXACT_DPS)
    except Exception as exc:  # evaluation of arbitrary expressions can fail many ways
        raise NotNumericError(str(exc)) from exc
    if not (
        isinstance(re, sympy.Float | sympy.Integer) and isinstance(im, sympy.Float | sympy.Integer)
    ):
        raise NotNumericError(f"not a number: {type(v).__name__}")
    with mpmath.workdps(_EXACT_DPS):
        value = mpmath.mpc(mpmath.mpf(sympy.Float(re, _EXACT_DPS)._mpf_),
                           mpmath.mpf(sympy.Float(im, _EXACT_DPS)._mpf_))  # fmt: skip
    if not mpmath.isfinite(value):
        raise NotNumericError("not finite")
    return value


def _simplify_is_safe(a: Expr, b: Expr) -> bool:
    """Small enough for simplify: few operations and no big powers of sums to expand."""
    if sympy.count_ops(a) + sympy.count_ops(b) > MAX_SIMPLIFY_OPS:
        return False
    for e in (a, b):
        for p in e.atoms(sympy.Pow):
            if p.exp.is_Number and abs(p.exp) > MAX_SIMPLIFY_POWER and not p.base.is_Atom:
                return False
        for f in e.atoms(sympy.factorial, sympy.binomial):
            if any(arg.is_Number and abs(arg) > MAX_SIMPLIFY_POWER for arg in f.args):
                return False
    return True


_REAL_DOMAIN_FUNCS = (
    sympy.Abs, sympy.sin, sympy.cos, sympy.exp, sympy.atan, sympy.sinh, sympy.cosh,
    sympy.tanh, sympy.floor, sympy.ceiling, sympy.sign, sympy.Max, sympy.Min,
)  # fmt: skip


def _defined_for_all_reals(e: Expr, syms: list[sympy.Symbol]) -> bool:
    """True when ``e`` is real for every real value of its variables (poles aside).

    Then equivalence also probes negative values (so ``x`` is not ``|x|``); otherwise
    only positive ones (so ``\\log(ab) = \\log a + \\log b``, ``\\sqrt{x}^2 = x``).
    """
    try:
        real = e.xreplace({s: sympy.Dummy(s.name, real=True) for s in syms})
    except Exception:  # rebuilding can fail on exotic expressions
        return False
    for p in real.atoms(sympy.Pow):
        if not p.exp.is_integer and p.base.is_nonnegative is not True:
            return False
    for f in real.atoms(sympy.Function):
        if isinstance(f, sympy.log):
            if f.args[0].is_positive is not True:
                return False
        elif not isinstance(f, _REAL_DOMAIN_FUNCS):
            return False
    return not real.has(sympy.I)


def _provably_nonzero(d: Expr) -> bool:
    """SymPy's adaptive evaluation finds significant digits of ``d`` (up to 500 digits).

    ``2^{2^{-1000}} - 1`` is about ``7e-302`` but it is not zero; a true zero such as
    ``\\sqrt{3+2\\sqrt2} - 1 - \\sqrt2`` comes back with no significant digit.
    """
    try:
        v = sympy.N(d, 15, maxn=500)
        re_, im_ = v.as_real_imag()
    except Exception:  # evaluation can fail many ways: undecided, not "nonzero"
        return False
    for part in (re_, im_):
        if isinstance(part, sympy.Float) and part != 0 and getattr(part, "_prec", 0) > 1:
            return True
    return False


def _terminates(q: Rational) -> bool:
    """Does the rational ``q`` have a finite decimal expansion (denominator 2^a 5^b)?"""
    den = int(q.q)
    for p in (2, 5):
        while den % p == 0:
            den //= p
    return den == 1


_UNIT_FACTORS: dict[str, tuple[str, Rational]] = {
    "m": ("length", Rational(1)), "cm": ("length", Rational(1, 100)),
    "mm": ("length", Rational(1, 1000)), "km": ("length", Rational(1000)),
    "in": ("length", Rational(254, 10000)), "ft": ("length", Rational(3048, 10000)),
    "yd": ("length", Rational(9144, 10000)), "mi": ("length", Rational(1609344, 1000)),
    "kg": ("mass", Rational(1)), "g": ("mass", Rational(1, 1000)),
    "mg": ("mass", Rational(1, 10**6)), "lb": ("mass", Rational(45359237, 10**8)),
    "oz": ("mass", Rational(45359237, 16 * 10**8)),
    "s": ("time", Rational(1)), "min": ("time", Rational(60)), "h": ("time", Rational(3600)),
    "day": ("time", Rational(86400)), "week": ("time", Rational(604800)),
    "L": ("volume", Rational(1, 1000)), "mL": ("volume", Rational(1, 10**6)),
    "dollar": ("money", Rational(1)), "cent": ("money", Rational(1, 100)),
}  # fmt: skip


def _unit_factor(unit: str) -> tuple[str, Rational] | None:
    """``cm^2`` -> ("length^2", 1/10000); None for a unit we cannot convert."""
    base, _, power = unit.partition("^")
    if base not in _UNIT_FACTORS or (power and not power.isdigit()):
        return None
    dim, factor = _UNIT_FACTORS[base]
    n = int(power) if power else 1
    return f"{dim}^{n}", factor**n


def _based(a: Any, b: Any) -> Comparison:
    """Base-n numerals: equal digits in the same base; a plain integer with the same
    digits is the numeral with its subscript dropped (``204`` for ``204_5``)."""
    if isinstance(a, Based) and isinstance(b, Based):
        return Comparison(a == b, "base-n")
    n, other = (a, b) if isinstance(a, Based) else (b, a)
    if isinstance(other, sympy.Integer) and other >= 0:
        return Comparison(str(int(other)) == n.digits, "base-n", "subscript dropped")
    return Comparison(False, "base-n", "a base-n numeral against another kind")


def _untag(t: Tagged) -> Any:
    if t.tag == "percent":
        return t.value / 100
    return t.value * sympy.pi / 180


def _elements(v: Any) -> list[Any]:
    """The elements of a FiniteSet, a ``{``-Seq or a bare list."""
    return list(v.items) if isinstance(v, Seq) else list(v.args)


def _kind(v: Any) -> str:
    if isinstance(v, Seq):
        if v.open == "{":
            return "fset"
        return "list" if not v.open else "tuple"
    if isinstance(v, FiniteSet):
        return "fset"
    if isinstance(v, sympy.Set):
        return "set"
    if isinstance(v, ImmutableMatrix):
        return "matrix"
    return "scalar"


def _relation_set(v: Any) -> sympy.Set | None:
    """The solution set of a one-variable inequality (chain), or None.

    Only for rational functions of the variable (``|x|`` allowed): SymPy's
    solver can take minutes on transcendental inequalities.
    """
    if len(v.free_symbols) != 1:
        return None
    (sym,) = v.free_symbols
    if v.has(sympy.I) or v.atoms(sympy.binomial, sympy.factorial, sympy.gamma):
        return None  # SymPy's real-solution machinery crawls on these
    rels = v.args if isinstance(v, And) else (v,)
    for rel in rels:
        if not isinstance(rel, Relational):
            return None
        diff = rel.lhs - rel.rhs
        plain = diff.replace(sympy.Abs, lambda arg: arg)
        if not plain.is_rational_function(sym) or sympy.count_ops(diff) > MAX_SIMPLIFY_OPS:
            return None
        for p in plain.atoms(sympy.Pow):
            if p.exp.is_Number and abs(p.exp) > MAX_SIMPLIFY_POWER:
                return None
    try:
        real = sympy.Symbol(sym.name, real=True)
        return v.xreplace({sym: real}).as_set()
    except Exception:  # as_set raises NotImplementedError and others for hard cases
        return None


def _inequality_union(v: Any) -> Any:
    """``x < 2 \\text{ or } x > 3`` (a bare list of inequalities in one variable) as a set."""
    if not (isinstance(v, Seq) and not v.open and all(_is_inequality(i) for i in v.items)):
        return v
    if len(set().union(*(i.free_symbols for i in v.items))) != 1:
        return v
    sets = [_relation_set(i) for i in v.items]
    if any(s is None for s in sets):
        return v
    return sympy.Union(*sets)


def _normal_inequality(v: Any) -> tuple[Expr, str] | None:
    """``(e, kind)`` with the inequality meaning ``e > 0`` (kind ``>``) or ``e >= 0``."""
    if isinstance(v, sympy.StrictLessThan):
        return v.rhs - v.lhs, ">"
    if isinstance(v, sympy.StrictGreaterThan):
        return v.lhs - v.rhs, ">"
    if isinstance(v, sympy.LessThan):
        return v.rhs - v.lhs, ">="
    if isinstance(v, sympy.GreaterThan):
        return v.lhs - v.rhs, ">="
    return None


def _perfect_matching(m: list[list[bool]]) -> bool:
    """Is there a perfect matching in the square boolean matrix ``m``? (Kuhn's algorithm)"""
    n = len(m)
    if any(len(row) != n for row in m):
        return False
    match_of: list[int] = [-1] * n

    def augment(i: int, seen: list[bool]) -> bool:
        for j in range(n):
            if m[i][j] and not seen[j]:
                seen[j] = True
                if match_of[j] < 0 or augment(match_of[j], seen):
                    match_of[j] = i
                    return True
        return False

    return all(augment(i, [False] * n) for i in range(n))
