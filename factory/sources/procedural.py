"""The ``procedural`` source: math problems built with SymPy, with exact references, no LLM.

Each generator takes a seeded ``random.Random`` and a difficulty level (1 easy to
5 hard) and returns one problem; statements are LaTeX. The same seed gives the
same problems in the same order on every machine (only ``random.Random`` draws
and SymPy's deterministic printing are involved).

Generators: ``linear_equation``, ``quadratic_equation`` (integer roots, answer
a set), ``derivative`` (polynomial times a trig function), ``antiderivative``
(reference is a check, since antiderivatives differ by a constant),
``modular_power`` (``a^b mod m``), ``gcd_lcm`` and ``fraction_arithmetic``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any, ClassVar, Literal

import sympy as sp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory.problem import Problem, Reference
from factory.sources.base import SourceContext

GeneratorName = Literal[
    "linear_equation",
    "quadratic_equation",
    "derivative",
    "antiderivative",
    "modular_power",
    "gcd_lcm",
    "fraction_arithmetic",
]
ALL_GENERATORS: tuple[str, ...] = GeneratorName.__args__  # type: ignore[attr-defined]

X = sp.Symbol("x")

# A problem under construction: (statement, reference, generator parameters for metadata).
Built = tuple[str, Reference, dict[str, Any]]


class ProceduralSourceOptions(BaseModel):
    """Options of the ``procedural`` source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generators: list[GeneratorName] = Field(
        default_factory=lambda: list(ALL_GENERATORS),
        min_length=1,
        description="Which generators to use; problems cycle through them in this order.",
    )
    min_difficulty: int = Field(1, ge=1, le=5)
    max_difficulty: int = Field(3, ge=1, le=5)

    @model_validator(mode="after")
    def _range(self) -> ProceduralSourceOptions:
        if self.min_difficulty > self.max_difficulty:
            raise ValueError(
                f"min_difficulty ({self.min_difficulty}) is above max_difficulty "
                f"({self.max_difficulty})"
            )
        return self

    def supported_domains(self) -> list[str]:
        """Every procedural problem is math."""
        return ["math"]


def _nonzero(rng: random.Random, bound: int) -> int:
    value = 0
    while value == 0:
        value = rng.randint(-bound, bound)
    return value


def _latex(expr: Any) -> str:
    return sp.latex(expr)


def _linear_equation(rng: random.Random, level: int) -> Built:
    bound = 3 + 3 * level
    root = rng.randint(-bound, bound)
    a = _nonzero(rng, 2 + 2 * level)
    b = rng.randint(-bound * 2, bound * 2)
    if level >= 3:
        # x on both sides: a x + b = c x + d
        c = _nonzero(rng, 2 + level)
        while c == a:
            c = _nonzero(rng, 2 + level)
        d = (a - c) * root + b
        lhs, rhs = a * X + b, c * X + d
    else:
        lhs, rhs = a * X + b, sp.Integer(a * root + b)
    statement = f"Solve for $x$: ${_latex(lhs)} = {_latex(rhs)}$."
    return statement, Reference(answer=f"\\{{{root}\\}}"), {"root": root}


def _quadratic_equation(rng: random.Random, level: int) -> Built:
    bound = 2 + 2 * level
    r1, r2 = rng.randint(-bound, bound), rng.randint(-bound, bound)
    lead = _nonzero(rng, level) if level >= 3 else 1
    poly = sp.expand(lead * (X - r1) * (X - r2))
    roots = sorted({r1, r2})
    answer = "\\{" + ", ".join(str(r) for r in roots) + "\\}"
    statement = f"Find all real solutions of ${_latex(poly)} = 0$. Give the answer as a set."
    return statement, Reference(answer=answer), {"roots": roots, "leading": lead}


def _polynomial(rng: random.Random, level: int) -> sp.Expr:
    degree = rng.randint(1, min(1 + level, 4))
    coeffs = [rng.randint(-5, 5) for _ in range(degree)] + [_nonzero(rng, 4)]
    return sp.Add(*[c * X**i for i, c in enumerate(coeffs)])


def _trig(rng: random.Random, level: int) -> sp.Expr:
    k = rng.randint(1, 1 + level)
    return rng.choice([sp.sin, sp.cos])(k * X)


def _derivative(rng: random.Random, level: int) -> Built:
    expr = _polynomial(rng, level) * _trig(rng, level)
    derivative = sp.diff(expr, X)
    statement = f"Compute $\\frac{{d}}{{dx}}\\left[{_latex(expr)}\\right]$."
    return statement, Reference(answer=_latex(derivative)), {"function": sp.sstr(expr)}


def _antiderivative(rng: random.Random, level: int) -> Built:
    if level <= 1:
        integrand = _polynomial(rng, level + 1)
    elif level == 2:
        integrand = _trig(rng, level) * rng.randint(1, 6)
    elif level == 3:
        integrand = X * _trig(rng, 1)
    else:
        k = rng.randint(1, 3)
        integrand = _polynomial(rng, 1) * rng.choice([sp.exp(k * X), sp.sin(k * X), sp.cos(k * X)])
    integral = sp.integrate(integrand, X)
    statement = (
        f"Find an antiderivative $F(x)$ of $f(x) = {_latex(integrand)}$, "
        "i.e. a function with $F'(x) = f(x)$."
    )
    reference = Reference(
        solution=f"F(x) = {_latex(integral)} + C",
        check={"kind": "antiderivative", "integrand": sp.sstr(integrand), "variable": "x"},
    )
    return statement, reference, {"integrand": sp.sstr(integrand)}


def _modular_power(rng: random.Random, level: int) -> Built:
    base = rng.randint(2, 10 * level + 10)
    exponent = rng.randint(10**level, 10 ** (level + 1))
    modulus = rng.randint(3, 10 * level + 20)
    answer = pow(base, exponent, modulus)
    statement = f"Compute the remainder when ${base}^{{{exponent}}}$ is divided by ${modulus}$."
    return (
        statement,
        Reference(answer=str(answer)),
        {
            "base": base,
            "exponent": exponent,
            "modulus": modulus,
        },
    )


def _gcd_lcm(rng: random.Random, level: int) -> Built:
    common = rng.randint(2, 6 * level + 6)
    a = common * rng.randint(2, 5 * level + 5)
    b = a
    while b == a:  # gcd(a, a) is no exercise
        b = common * rng.randint(2, 5 * level + 5)
    if rng.random() < 0.5:
        answer, op = math.gcd(a, b), "gcd"
        statement = f"Compute $\\gcd({a}, {b})$."
    else:
        answer, op = math.lcm(a, b), "lcm"
        statement = f"Compute $\\operatorname{{lcm}}({a}, {b})$."
    return statement, Reference(answer=str(answer)), {"op": op, "a": a, "b": b}


def _fraction_latex(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _fraction_arithmetic(rng: random.Random, level: int) -> Built:
    terms = 2 + (level >= 3) + (level >= 5)
    ops = [rng.choice("+-" if level <= 1 else "+-*") for _ in range(terms - 1)]
    fractions = []
    while len(fractions) < terms:
        value = Fraction(_nonzero(rng, 3 + 2 * level), rng.randint(2, 4 + 2 * level))
        if value.denominator != 1:  # keep every operand a real fraction
            fractions.append(value)
    latex = _paren_if_negative(fractions[0], first=True)
    for op, frac in zip(ops, fractions[1:], strict=True):
        latex += {"+": " + ", "-": " - ", "*": " \\cdot "}[op] + _paren_if_negative(frac)
    # Usual precedence: fold products into their left operand first, then add up.
    summands = [fractions[0]]
    for op, frac in zip(ops, fractions[1:], strict=True):
        if op == "*":
            summands[-1] *= frac
        else:
            summands.append(frac if op == "+" else -frac)
    result = sum(summands, Fraction(0))
    statement = f"Compute ${latex}$ and give the result as a fraction in lowest terms."
    params = {"operands": [str(f) for f in fractions], "operators": ops}
    return statement, Reference(answer=_fraction_latex(result)), params


def _paren_if_negative(value: Fraction, first: bool = False) -> str:
    text = _fraction_latex(value)
    return text if value >= 0 or first else f"\\left({text}\\right)"


GENERATORS: dict[str, Callable[[random.Random, int], Built]] = {
    "linear_equation": _linear_equation,
    "quadratic_equation": _quadratic_equation,
    "derivative": _derivative,
    "antiderivative": _antiderivative,
    "modular_power": _modular_power,
    "gcd_lcm": _gcd_lcm,
    "fraction_arithmetic": _fraction_arithmetic,
}


class ProceduralSource:
    """SymPy-built math problems with exact references; trust is ``ground_truth``."""

    name: ClassVar[str] = "procedural"
    Options: ClassVar[type[BaseModel]] = ProceduralSourceOptions

    def __init__(self, options: ProceduralSourceOptions, context: SourceContext) -> None:
        self.options = options
        self.context = context

    def problems(self, limit: int, seed: int) -> Iterator[Problem]:
        """Yield ``limit`` distinct problems (fewer only if the generators run out of new ones).

        Problem ``i`` is built from its own ``Random(f"{seed}:{i}")``, so the first
        ten problems of a run of 100 are the ten problems of a run of 10.
        """
        seen: set[str] = set()
        produced = 0
        attempt = 0
        # Small generator spaces can repeat; stop rather than loop forever.
        max_attempts = 20 * limit + 100
        while produced < limit and attempt < max_attempts:
            rng = random.Random(f"{seed}:{attempt}")
            name = self.options.generators[attempt % len(self.options.generators)]
            attempt += 1
            level = rng.randint(self.options.min_difficulty, self.options.max_difficulty)
            statement, reference, params = GENERATORS[name](rng, level)
            problem = Problem(
                statement=statement,
                domain="math",
                reference=reference,
                trust="ground_truth",
                topic=name,
                difficulty=str(level),
                source=self.name,
                metadata={"generator": name, "level": level, "seed": seed, **params},
            )
            if problem.id in seen:
                continue
            seen.add(problem.id)
            produced += 1
            yield problem
