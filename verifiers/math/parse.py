"""Parse a LaTeX or plain-text answer into SymPy objects, without ever running it.

No ``sympify``, ``parse_expr``, ``parse_latex`` or ``eval`` touches the text:
:func:`parse_answer` tokenizes it (:mod:`verifiers.math.lexer`) and a
recursive-descent parser builds SymPy objects directly. Anything it does not
understand raises :class:`MathParseError`.

Bounded by construction:

- the text is capped at :data:`MAX_LENGTH` characters and the nesting depth at
  :data:`MAX_DEPTH` (10,000 nested parentheses are a parse error, not a
  ``RecursionError``);
- powers whose value would have more than :data:`MAX_DIGITS` digits, factorials
  and binomials of arguments above :data:`MAX_FACTORIAL`, and anything built on
  top of them, are constructed with ``evaluate=False`` and the result is marked
  ``oversized``: equivalence then compares them without evaluating.

What comes out (:class:`MathObject`.value) is one of:

- a SymPy ``Expr`` (numbers are exact: ``0.25`` becomes ``1/4``, and the object
  is marked ``inexact`` so equivalence knows a decimal was written);
- a SymPy relational (``Eq``, ``Lt``...) or an ``And`` of them for chains (``1<x\\le 3``);
- a SymPy set (``Interval``, ``Union``, ``FiniteSet``, ``Reals``...) or ``ImmutableMatrix``;
- :class:`Seq`: comma-separated items, bare (``2, 3``: several answers) or
  bracketed (``(1, 2)``, ``[1, 2]``: tuple, vector or interval, decided later
  against the reference);
- :class:`Tagged`: a number written with ``%`` or a degree sign;
- :class:`Text`: an answer that is only words (``\\text{Yes}``).

``\\pm`` expands to two answers (a bare :class:`Seq`), so ``\\pm 2`` is never ``2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sympy
from sympy import (
    Abs,
    And,
    Basic,
    Dummy,
    E,
    Eq,
    Expr,
    FiniteSet,
    Ge,
    Gt,
    I,
    ImmutableMatrix,
    Integer,
    Interval,
    Le,
    Lt,
    Mul,
    Ne,
    Pow,
    Rational,
    Symbol,
    oo,
    pi,
)
from sympy.core.relational import Relational

from verifiers.math.lexer import FUNCTIONS, GREEK, UNIT_WORDS, MathParseError, Token, tokenize

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_FACTORIAL",
    "MAX_LENGTH",
    "Based",
    "MathObject",
    "MathParseError",
    "Measured",
    "Seq",
    "Tagged",
    "Text",
    "describe",
    "parse_answer",
]

MAX_LENGTH = 10_000
MAX_DEPTH = 60
MAX_DIGITS = 100_000
MAX_FACTORIAL = 10_000
MAX_BINOMIAL_K = 100
MAX_EXPONENT_LITERAL = 10_000


@dataclass(frozen=True)
class Seq:
    """Comma-separated items. ``open``/``close`` are ``""`` for a bare list of answers."""

    items: tuple[Any, ...]
    open: str = ""
    close: str = ""

    def __str__(self) -> str:
        return self.open + ", ".join(describe(i) for i in self.items) + self.close


@dataclass(frozen=True)
class Tagged:
    """A value written as a percentage (``tag="percent"``) or in degrees (``"degree"``)."""

    value: Any
    tag: str

    def __str__(self) -> str:
        return f"{describe(self.value)}{'%' if self.tag == 'percent' else '°'}"


@dataclass(frozen=True)
class Based:
    """A numeral written in another base: ``204_5`` is ``Based("204", 5)``."""

    digits: str
    base: int

    def __str__(self) -> str:
        return f"{self.digits}_{self.base}"


@dataclass(frozen=True)
class Measured:
    """A value followed by a unit (``5 \\text{ cm}^2``); ``unit`` is normalised text."""

    value: Any
    unit: str

    def __str__(self) -> str:
        return f"{describe(self.value)} {self.unit}"


@dataclass(frozen=True)
class Text:
    """A word answer, normalised to lower case with single spaces."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class MathObject:
    """A parsed answer and what equivalence must know about how it was written."""

    value: Any
    source: str
    inexact: bool = False  # a decimal literal was written
    oversized: bool = False  # holds an unevaluated huge power/factorial
    approximate: bool = False  # stated with \\approx: not claimed to be exact
    open_ended: bool = False  # holds an ellipsis (5\\ldots, 1, 2, \\ldots)

    def __str__(self) -> str:
        return describe(self.value, raw=self.oversized)


@dataclass(frozen=True)
class _Marked:
    """Inside the parser: a value followed by % or a degree sign."""

    value: Any
    tag: str


_PM = Dummy("pm")
# Words after a number that make a sentence rather than name a unit.
_NOT_UNIT_WORDS = frozenset(
    {
        "is", "are", "was", "not", "wrong", "incorrect", "maybe", "perhaps", "probably",
        "possibly", "approximately", "about", "roughly", "so", "the", "it", "if", "but",
    }
)  # fmt: skip
_RELOPS = {"=", "<", ">", "<=", ">=", "!=", "in"}
_ITEM_END = {"EOF", "SEP"}
_ITEM_END_OPS = {",", ";", ")", "]", "}", "\\}", "sep", "rowsep", "&", "|", "ellipsis", "approx"}
_SETS = {
    "R": sympy.S.Reals,
    "Z": sympy.S.Integers,
    "N": sympy.S.Naturals,
    "Q": sympy.S.Rationals,
    "C": sympy.S.Complexes,
}
_KNOWN_WORDS = FUNCTIONS | GREEK | {"pi", "inf", "infinity", "oo", "infty"}
_SIMPLE_FUNCS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot,
    "sec": sympy.sec, "csc": sympy.csc, "arcsin": sympy.asin, "asin": sympy.asin,
    "arccos": sympy.acos, "acos": sympy.acos, "arctan": sympy.atan, "atan": sympy.atan,
    "arccot": sympy.acot, "arcsec": sympy.asec, "arccsc": sympy.acsc,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "coth": sympy.coth,
    "ln": sympy.log, "exp": sympy.exp, "abs": Abs, "floor": sympy.floor,
    "ceil": sympy.ceiling,
}  # fmt: skip
_INVERSE = {
    "sin": sympy.asin, "cos": sympy.acos, "tan": sympy.atan, "cot": sympy.acot,
    "sec": sympy.asec, "csc": sympy.acsc, "sinh": sympy.asinh, "cosh": sympy.acosh,
    "tanh": sympy.atanh,
}  # fmt: skip
_MULTI_FUNCS = {"max": sympy.Max, "min": sympy.Min, "gcd": sympy.gcd, "lcm": sympy.lcm}


def parse_answer(text: str, *, merge_assignments: bool = True) -> MathObject:
    """Parse one answer (already extracted from any surrounding prose).

    With ``merge_assignments`` (the default), ``n = 2, 3, 4`` and ``x = 1, x = 2``
    become the bare list of values; pass False to keep a system of equations.

    Raises MathParseError when the text is empty, too long, too deeply nested or
    not something this parser understands.
    """
    if not isinstance(text, str):
        raise MathParseError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise MathParseError(f"answer too long ({len(text)} characters, limit {MAX_LENGTH})")
    source = text.strip()
    if not source:
        raise MathParseError("empty answer")
    if re.match(r"(?:~|\\sim(?![A-Za-z]))\s*[-+.\d]", source):
        source = "\\approx " + source.lstrip("~").removeprefix("\\sim").lstrip()  # ~5 is about 5
    words = _as_text(source)
    if words is not None:
        return MathObject(Text(words), source)
    parser = _Parser(tokenize(source), merge_assignments=merge_assignments)
    value = parser.parse_top()
    if isinstance(value, Basic) and value.has(sympy.zoo, sympy.nan):
        raise MathParseError("undefined value (division by zero?)")
    return MathObject(
        value,
        source,
        inexact=parser.inexact,
        oversized=bool(parser.huge),
        approximate=parser.approximate,
        open_ended=parser.open_ended,
    )


def _as_text(source: str) -> str | None:
    """The normalised words when ``source`` is a word answer (``Yes``, ``\\text{odd}``)."""
    t = re.sub(r"\\(?:text|textbf|textrm|textit|mathrm|mbox)\s*\{([^{}]*)\}", r"\1", source)
    t = t.strip().strip(".").strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z '\-]*", t):
        return None
    low = t.lower()
    parts = [w for w in re.split(r"[\s\-']+", low) if w]
    if low in {"yes", "no"} or any(
        len(w) >= 3 and w not in _KNOWN_WORDS and w not in UNIT_WORDS for w in parts
    ):
        return " ".join(parts)
    return None


class _Parser:
    def __init__(self, tokens: list[Token], *, merge_assignments: bool = True) -> None:
        self.toks = tokens
        self.merge_assignments = merge_assignments
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.inexact = False
        self.approximate = False
        self.open_ended = False
        self.huge: list[Basic] = []

    # -- token helpers ------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        if t.kind != "EOF":
            self.i += 1
        return t

    def at_op(self, *values: str) -> bool:
        return self.tok.kind == "OP" and self.tok.value in values

    def expect_op(self, value: str) -> None:
        if not self.at_op(value):
            raise MathParseError(f"expected {value!r} at {self.tok.pos}, found {self.tok.value!r}")
        self.next()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathParseError(f"nested more than {MAX_DEPTH} levels deep")

    def leave(self) -> None:
        self.depth -= 1

    # -- top level -------------------------------------------------------------
    def skip_ellipsis(self) -> bool:
        """Consume an ellipsis (``\\ldots``, ``...``): the answer is open-ended."""
        if not self.at_op("ellipsis"):
            return False
        while self.at_op("ellipsis"):
            self.next()
        self.open_ended = True
        return True

    def parse_top(self) -> Any:
        items = [] if self.skip_ellipsis() else [self.parse_item()]
        while self.tok.kind == "SEP" or self.at_op(",", ";", "sep"):
            self.next()
            if self.tok.kind == "EOF":
                break
            if self.tok.kind == "SEP" or self.at_op(",", ";", "sep") or self.skip_ellipsis():
                continue
            items.append(self.parse_item())
        if not items:
            raise MathParseError("only an ellipsis")
        if self.tok.kind != "EOF":
            raise MathParseError(f"unexpected {self.tok.value!r} at {self.tok.pos}")
        expanded: list[Any] = []
        for item in items:
            expanded.extend(self.expand_pm(item))
        if len(expanded) == 1 and len(items) == 1 and expanded[0] is items[0]:
            return expanded[0]
        if self.merge_assignments:
            expanded = _assignment_values(expanded)
        return Seq(tuple(expanded))

    def expand_pm(self, item: Any) -> list[Any]:
        if isinstance(item, Tagged) and isinstance(item.value, Basic) and item.value.has(_PM):
            return [Tagged(v, item.tag) for v in self.expand_pm(item.value)]
        if isinstance(item, Basic) and item.has(_PM):
            if self.huge:
                raise MathParseError("\\pm with an oversized value")
            return [item.xreplace({_PM: Integer(1)}), item.xreplace({_PM: Integer(-1)})]
        if isinstance(item, Seq) and any(isinstance(v, Basic) and v.has(_PM) for v in item.items):
            raise MathParseError("\\pm inside a bracketed list is not supported")
        return [item]

    def parse_item(self) -> Any:
        currency = ""
        if self.at_op("currency"):  # \$5 is 5 dollars (compared like any unit)
            self.next()
            currency = "dollar"
        if self.at_op("="):  # "= 5": a leading relation sign
            self.next()
        elif self.at_op("approx"):  # "\\approx 3.14": an approximation, not the exact value
            self.next()
            self.approximate = True
        elif self.is_function_definition():  # f(x) = 2x + 1: the answer is the right side
            for _ in range(5):
                self.next()
        value = self.parse_relation()
        unit = self.read_units() or currency
        self.skip_ellipsis()
        value = _finish(value)
        if unit and not isinstance(value, Relational | And | Seq | sympy.Set):
            return Measured(value, unit)
        return value

    def is_function_definition(self) -> bool:
        t = [self.peek(k) for k in range(5)]
        return (
            t[0].kind == "NAME"
            and t[0].value not in ("e", "i")
            and t[1].is_op("(")
            and t[2].kind == "NAME"
            and t[3].is_op(")")
            and t[4].is_op("=")
        )

    def mixed_number(self) -> Any:
        """A mixed number ending the item is a sum: ``2\\frac{1}{2}``, ``1\\frac12`` and
        ``4 4/9`` (a space, then a proper fraction of integers) are 5/2, 3/2 and 40/9."""
        t = [self.peek(k) for k in range(9)]
        if t[0].kind != "NUM" or not t[0].value.isdigit():
            return None
        k = 1
        parts: list[str] = []
        if t[1].kind == "CMD" and t[1].value in ("frac", "dfrac", "tfrac"):
            k = 2
            for _ in range(2):
                if t[k].kind == "NUM" and t[k].value.isdigit():
                    parts.append(t[k].value)
                    k += 1
                elif t[k].is_op("{") and t[k + 1].kind == "NUM" and t[k + 2].is_op("}"):
                    parts.append(t[k + 1].value)
                    k += 3
                else:
                    return None
        elif (
            t[1].kind == "NUM"
            and t[2].is_op("/")
            and t[3].kind == "NUM"
            and t[1].pos > t[0].pos + len(t[0].value)  # "4 4/9", not "44/9"
            and t[1].value.isdigit()
            and t[3].value.isdigit()
        ):
            parts, k = [t[1].value, t[3].value], 4
        else:
            return None
        tagged = self.peek(k).is_op("%", "circ")
        end = k + 1 if tagged else k
        if not all(p.isdigit() for p in parts) or (
            not self.at_item_end(end) and self.peek(end).kind != "UNIT"
        ):
            return None
        whole, num, den = (_int_from_digits(v) for v in (t[0].value, *parts))
        if den == 0 or num >= den:
            if t[1].kind == "NUM":  # "11 7/6", "4 4/0": neither a mixed number nor a product
                raise MathParseError("an integer and an improper fraction side by side")
            return None
        for _ in range(k):
            self.next()
        value = Rational(whole * den + num, den)
        if tagged:  # 4 4/9% is (40/9)%
            return _Marked(value, "percent" if self.next().value == "%" else "degree")
        return value

    def at_item_end(self, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind in _ITEM_END or (t.kind == "OP" and t.value in _ITEM_END_OPS | _RELOPS)

    def at_trailing_unit(self) -> bool:
        """True when the rest of the item is unit words (``5 cm``, ``3 \\text{ m}^2``)."""
        return self.trailing_unit_length() > 0

    def trailing_unit_length(self) -> int:
        """How many tokens the trailing unit words take (0: the item does not end in units)."""
        k = 0
        seen = False
        while True:
            t = self.peek(k)
            if t.kind == "WORD" and t.value.lower() in _NOT_UNIT_WORDS:
                return 0  # "5 is wrong", "5 or so": a sentence, not a unit
            if t.kind in ("UNIT", "WORD") or (t.kind == "FUNC" and t.value in UNIT_WORDS | {"min"}):
                seen = True
                k += 1
                if self.peek(k).is_op("^") and self.peek(k + 1).kind == "NUM":
                    k += 2
                elif (
                    self.peek(k).is_op("^")
                    and self.peek(k + 1).is_op("{")
                    and self.peek(k + 2).kind == "NUM"
                    and self.peek(k + 3).is_op("}")
                ):
                    k += 4
                elif self.peek(k).is_op("/") and self.peek(k + 1).kind == "UNIT":
                    k += 1
                continue
            end = t.kind in _ITEM_END or (t.kind == "OP" and t.value in _ITEM_END_OPS | _RELOPS)
            return k if seen and end else 0

    def skip_units(self) -> None:
        self.read_units()

    def read_units(self) -> str:
        """Consume trailing unit words and return them normalised ("" when none)."""
        parts = [self.next().value for _ in range(self.trailing_unit_length())]
        return _unit_key(parts) if parts else ""

    # -- relations and sets ------------------------------------------------------
    def parse_relation(self) -> Any:
        first = self.parse_set()
        parts = [first]
        ops: list[str] = []
        while self.tok.kind == "OP" and self.tok.value in _RELOPS | {"approx"}:
            ops.append(self.next().value)
            parts.append(self.parse_set())
        if "approx" in ops:
            cut = ops.index("approx")
            if cut == 0 and _is_variable_like(_plain(first)):
                # x \\approx 5: only an approximate value is stated
                self.approximate = True
                ops, parts = ops[1:], parts[1:]
            else:  # \\frac13 \\approx 0.33: the exact value before the approximation
                ops, parts = ops[:cut], parts[: cut + 1]
            first = parts[0]
        if not ops:
            return first
        if ops == ["in"]:
            if isinstance(_plain(first), Symbol):
                return parts[1]
            raise MathParseError("'\\in' needs a variable on the left")
        if "in" in ops:
            raise MathParseError("unsupported use of '\\in'")
        if all(op == "=" for op in ops):
            lhs, rhs = parts[0], parts[-1]
            if not isinstance(_plain(rhs), Expr) or not isinstance(_plain(lhs), Expr):
                if _is_variable_like(lhs):
                    return rhs  # x = (1, 2), (x, y) = (1, 2), S = \{1, 2\}
                raise MathParseError("an equation between non-expressions")
            if len(parts) == 2 and _is_label(self.expr(lhs)) and not self.expr(rhs).free_symbols:
                return rhs  # AB = 4, |AB| = 1, \\angle ABC = 72^\\circ: a named quantity
            numeric = not any(self.expr(p).free_symbols for p in parts)
            if numeric or (len(parts) > 2 and not isinstance(_plain(lhs), Symbol)):
                return rhs  # 6/4 = 3/2: a chain of simplifications, keep the last
            return Eq(self.expr(lhs), self.expr(rhs), evaluate=False)
        if "=" in ops or ("!=" in ops and len(ops) > 1):
            raise MathParseError("mixed equation/inequality chain")
        rels = []
        for op, a, b in zip(ops, parts[:-1], parts[1:], strict=True):
            cls = {"<": Lt, ">": Gt, "<=": Le, ">=": Ge, "!=": Ne}[op]
            rels.append(cls(self.expr(a), self.expr(b), evaluate=False))
        return rels[0] if len(rels) == 1 else And(*rels, evaluate=False)

    def parse_set(self) -> Any:
        left = self.parse_additive()
        while self.at_op("cup", "cap", "setminus"):
            op = self.next().value
            right = self.parse_additive()
            if self.huge:
                raise MathParseError("set operations with oversized values")
            a, b = _as_set(left), _as_set(right)
            if op == "cup":
                left = sympy.Union(a, b)
            elif op == "cap":
                left = sympy.Intersection(a, b)
            else:
                left = sympy.Complement(a, b)
        return left

    # -- arithmetic --------------------------------------------------------------
    def parse_additive(self) -> Any:
        left = self.parse_term()
        if not self.at_op("+", "-", "pm", "mp"):
            return left
        terms = [self.expr(left)]
        while self.at_op("+", "-", "pm", "mp"):
            op = self.next().value
            right = self.expr(self.parse_term())
            if op == "-":
                right = self.mul(Integer(-1), right)
            elif op == "pm":
                right = self.mul(_PM, right)
            elif op == "mp":
                right = self.mul(-_PM, right)
            terms.append(right)
        if self.is_huge(*terms):
            return self.mark_huge(sympy.Add(*terms, evaluate=False))
        return sympy.Add(*terms)  # one flatten for the whole sum, not one per term

    def parse_term(self) -> Any:
        mixed = self.mixed_number()
        if mixed is not None:
            return mixed
        left = self.parse_unary()
        factors = [left]
        while True:
            if self.at_op("*", "/", ":"):
                op = self.next().value
                right = self.expr(self.parse_unary())
                if op in ("/", ":"):  # a ratio 1:2 is the number 1/2
                    if right == 0:
                        raise MathParseError("division by zero")
                    right = self.pow(right, Integer(-1))
                factors.append(right)
            elif self.starts_atom() and not self.at_trailing_unit():
                factors.append(self.expr(self.parse_power()))
            else:
                break
        if len(factors) == 1:
            return left
        factors = [self.expr(f) for f in factors]
        if self.is_huge(*factors):
            return self.mark_huge(Mul(*factors, evaluate=False))
        return Mul(*factors)

    def parse_unary(self) -> Any:
        if self.at_op("-", "+", "pm", "mp"):
            op = self.next().value
            self.enter()
            mixed = self.mixed_number() if op in ("-", "+") else None
            operand = mixed if mixed is not None else self.parse_unary()  # -4 4/9 is -(40/9)
            self.leave()
            if op == "+":
                return operand
            factor = {"-": Integer(-1), "pm": _PM, "mp": -_PM}[op]
            if isinstance(operand, _Marked):
                return _Marked(self.mul(factor, operand.value), operand.tag)
            return self.mul(factor, self.expr(operand))
        return self.parse_power()

    def parse_power(self) -> Any:
        base = self.parse_postfix()
        if self.at_op("^"):
            self.next()
            if self.at_op("circ") or (self.at_op("{") and self.peek().is_op("circ")):
                braced = self.at_op("{")
                self.next()
                if braced:
                    self.next()
                    self.expect_op("}")
                return _Marked(self.expr(base), "degree")
            exponent = self.expr(self.parse_exponent())
            result: Any = self.pow(self.expr(base), exponent)
            return self.parse_postfix_ops(result)
        return base

    def parse_exponent(self) -> Any:
        self.enter()
        try:
            if self.at_op("{"):
                return self.parse_group()
            if self.at_op("-", "+"):
                sign = self.next().value
                value = self.expr(self.parse_exponent())
                return self.mul(Integer(-1), value) if sign == "-" else value
            return self.parse_power()
        finally:
            self.leave()

    def parse_postfix(self) -> Any:
        return self.parse_postfix_ops(self.parse_atom())

    def parse_postfix_ops(self, value: Any) -> Any:
        while True:
            if self.at_op("!"):
                self.next()
                value = self.factorial(self.expr(value))
            elif self.at_op("%"):
                self.next()
                value = _Marked(self.expr(value), "percent")
            elif self.at_op("circ"):
                self.next()
                value = _Marked(self.expr(value), "degree")
            else:
                return value

    def starts_atom(self) -> bool:
        t = self.tok
        if t.kind in ("NUM", "NAME", "CONST", "FUNC"):
            return True
        if t.kind == "CMD":
            return not t.value.startswith("end:")
        if t.kind == "OP":
            if t.value in ("(", "{", "lfloor", "lceil"):
                return True
            if t.value == "|":
                return self.abs_depth == 0
        return False

    # -- atoms -------------------------------------------------------------------
    def parse_atom(self) -> Any:
        self.enter()
        try:
            return self._atom()
        finally:
            self.leave()

    def _atom(self) -> Any:
        t = self.next()
        if t.kind == "NUM":
            return self.number(t.value)
        if t.kind == "BASED":
            digits, _, base = t.value.partition("_")
            if not 2 <= int(base) <= 36 or any(int(d) >= int(base) for d in digits):
                raise MathParseError(f"{t.value} is not a base-{base} numeral")
            if not self.at_item_end():
                raise MathParseError("a base-n numeral inside an expression")
            return Based(digits.lstrip("0") or "0", int(base))
        if t.kind == "NAME":
            if t.value == "e":
                return E
            if t.value == "i":
                return I
            return Symbol(t.value)
        if t.kind == "CONST":
            return self.constant(t.value)
        if t.kind == "FUNC":
            return self.function(t.value)
        if t.kind == "CMD":
            return self.command(t.value)
        if t.kind == "OP":
            if t.value in ("(", "["):
                return self.bracketed(t.value)
            if t.value == "{":
                return self.brace_group()
            if t.value == "\\{":
                builder = self.set_builder()
                if builder is not None:
                    return builder
                items = self.items_until("\\}")
                self.next()
                return _finite_set([v for item in items for v in self.expand_pm(item)])
            if t.value == "|":
                saved = self.abs_depth
                self.abs_depth += 1
                inner = self.expr(self.parse_additive())
                self.expect_op("|")
                self.abs_depth = saved
                if self.is_huge(inner):  # Abs would ask the sign, i.e. evaluate
                    return self.mark_huge(Abs(inner, evaluate=False))
                return Abs(inner)
            if t.value in ("lfloor", "lceil"):
                inner = self.expr(self.parse_additive())
                self.expect_op("rfloor" if t.value == "lfloor" else "rceil")
                fn = sympy.floor if t.value == "lfloor" else sympy.ceiling
                if self.is_huge(inner):
                    return self.mark_huge(fn(inner, evaluate=False))
                return fn(inner)
        if t.kind == "EOF":
            raise MathParseError("unexpected end of answer")
        if t.kind == "WORD":
            raise MathParseError(f"unexpected words {t.value!r}")
        raise MathParseError(f"unexpected {t.value!r} at {t.pos}")

    def set_builder(self) -> Any:
        """``\\{x \\mid x > 1\\}`` / ``\\{x \\in \\mathbb{R} : x > 1\\}``: the condition."""
        if self.tok.kind != "NAME":
            return None
        k = 1
        if self.peek(1).is_op("in") and self.peek(2).kind == "CONST":
            k = 3
        if not self.peek(k).is_op("|", ":"):
            return None
        for _ in range(k + 1):
            self.next()
        saved = self.abs_depth
        self.abs_depth = 1  # a '|' inside the condition closes nothing here
        condition = self.parse_relation()
        self.abs_depth = saved
        self.expect_op("\\}")
        if not isinstance(condition, Relational | And):
            raise MathParseError("set-builder notation needs a condition")
        return condition

    def number(self, literal: str) -> Expr:
        if "~" in literal:  # 0.1~6 is 0.1666...: digits after '~' repeat
            head, _, rep = literal.partition("~")
            whole, _, frac = head.partition(".")
            base = _int_from_digits((whole + frac) or "0")
            cycle = _int_from_digits(rep)
            # x = base/10^f + cycle / (10^f * (10^r - 1))
            f, r = len(frac), len(rep)
            return Rational(base * (10**r - 1) + cycle, 10**f * (10**r - 1))
        mantissa, _, exp = literal.lower().partition("e")
        if "." in literal or exp:
            self.inexact = True
        if exp and abs(int(exp)) > MAX_EXPONENT_LITERAL:
            return self.mul(self.number(mantissa), self.pow(Integer(10), Integer(int(exp))))
        whole, _, frac = mantissa.partition(".")
        digits = _int_from_digits((whole + frac) or "0")
        shift = (int(exp) if exp else 0) - len(frac)
        if shift >= 0:
            return Integer(digits * 10**shift)
        return Rational(digits, 10**-shift)

    def constant(self, name: str) -> Any:
        if name.startswith("set:"):
            key = name[4:]
            if key not in _SETS:
                raise MathParseError(f"unknown set \\mathbb{{{key}}}")
            return _SETS[key]
        return {"pi": pi, "E": E, "I": I, "oo": oo, "EmptySet": sympy.S.EmptySet}[name]

    def items_until(self, close: str | tuple[str, ...]) -> list[Any]:
        closers = (close,) if isinstance(close, str) else close
        saved = self.abs_depth
        self.abs_depth = 0
        items: list[Any] = []
        if not self.at_op(*closers) and not self.skip_ellipsis():
            items.append(self.parse_relation())
        while self.at_op(",", ";"):
            self.next()
            if not self.skip_ellipsis():
                items.append(self.parse_relation())
        self.skip_ellipsis()
        if not self.at_op(*closers):
            raise MathParseError(f"expected {' or '.join(closers)} at {self.tok.pos}")
        self.abs_depth = saved
        return items

    def bracketed(self, open_: str) -> Any:
        items = self.items_until((")", "]"))
        close = self.next().value
        if len(items) == 1 and (open_, close) in (("(", ")"), ("[", "]")):
            return items[0]
        if not items:
            raise MathParseError("empty brackets")
        if len(items) == 2 and (open_ + close) in ("(]", "[)"):
            a, b = (self.expr(v) for v in items)
            if self.is_huge(a, b):
                raise MathParseError("an interval with oversized endpoints")
            return _interval(a, b, left_open=open_ == "(", right_open=close == ")")
        return Seq(tuple(_finish(v) for v in items), open_, close)

    def brace_group(self) -> Any:
        """``{...}``: TeX grouping, so ``{1,3}`` shows as the bare list 1, 3 (a set is ``\\{``)."""
        items = self.items_until("}")
        self.next()
        if len(items) == 1:
            return items[0]
        return Seq(tuple(v for item in items for v in self.expand_pm(_finish(item))))

    def parse_group(self) -> Any:
        """``{ ... }`` holding a single value (an argument or exponent)."""
        self.expect_op("{")
        saved = self.abs_depth
        self.abs_depth = 0
        value = self.parse_relation()
        self.skip_units()
        self.expect_op("}")
        self.abs_depth = saved
        return value

    def parse_arg(self) -> Any:
        """A command argument: a ``{...}`` group or a single atom (``\\frac12``)."""
        if self.at_op("{"):
            return self.parse_group()
        return self.parse_atom()

    def command(self, name: str) -> Any:
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            num = self.expr(self.parse_arg())
            den = self.expr(self.parse_arg())
            if den == 0:
                raise MathParseError("division by zero")
            return self.mul(num, self.pow(den, Integer(-1)))
        if name in ("binom", "dbinom", "tbinom"):
            n = self.expr(self.parse_arg())
            k = self.expr(self.parse_arg())
            return self.binomial(n, k)
        if name == "sqrt":
            index: Expr | None = None
            if self.at_op("["):
                self.next()
                index = self.expr(self.parse_additive())
                self.expect_op("]")
            radicand = self.expr(self.parse_arg())
            return self.root(radicand, index)
        if name == "boxed":
            return self.parse_arg()
        if name.startswith("begin:"):
            return self.matrix(name[6:])
        raise MathParseError(f"unexpected \\{name}")

    def matrix(self, env: str) -> Any:
        if env not in ("pmatrix", "bmatrix", "matrix", "array", "smallmatrix", "Bmatrix"):
            raise MathParseError(f"unsupported environment {env}")
        rows: list[list[Expr]] = [[]]
        while True:
            if self.tok.kind == "CMD" and self.tok.value == f"end:{env}":
                self.next()
                break
            if self.tok.kind == "EOF":
                raise MathParseError(f"\\begin{{{env}}} without \\end")
            if self.at_op("rowsep"):
                self.next()
                rows.append([])
                continue
            if self.at_op("&"):
                self.next()
                continue
            rows[-1].append(self.expr(self.parse_additive()))
        rows = [r for r in rows if r]
        if not rows or len({len(r) for r in rows}) != 1:
            raise MathParseError("matrix rows of different lengths")
        return ImmutableMatrix(rows)

    def function(self, name: str) -> Any:
        power: Expr | None = None
        inverse = False
        base: Expr | None = None
        if name == "log" and self.at_op("_"):
            self.next()
            base = self.expr(self.parse_arg())
        if self.at_op("^"):
            self.next()
            power = self.expr(self.parse_exponent())
            if power == -1 and name in _INVERSE:
                inverse, power = True, None
        if name == "log" and base is None and self.at_op("_"):
            self.next()
            base = self.expr(self.parse_arg())
        if self.at_op("("):
            self.next()
            args = [self.expr(v) for v in self.items_until(")")]
            self.next()
        elif self.at_op("{"):
            args = [self.expr(self.parse_group())]
        else:
            if not self.starts_atom() or self.at_trailing_unit():
                raise MathParseError(f"{name} without an argument")
            arg = self.expr(self.parse_power())
            while self.starts_atom() and self.tok.kind != "FUNC" and not self.at_trailing_unit():
                arg = self.mul(arg, self.expr(self.parse_power()))
            args = [arg]
        if not args:
            raise MathParseError(f"{name}() without an argument")
        value = self.apply(name, args, base, inverse)
        if power is not None:
            value = self.pow(value, power)
        return value

    def apply(self, name: str, args: list[Expr], base: Expr | None, inverse: bool) -> Expr:
        if name in _MULTI_FUNCS:
            if len(args) < 2 and name in ("gcd", "lcm"):
                raise MathParseError(f"{name} needs two arguments")
            if any(self.huge and a.has(*self.huge) for a in args):
                raise MathParseError(f"{name} of an oversized value")
            return _MULTI_FUNCS[name](*args)
        if len(args) != 1:
            raise MathParseError(f"{name} takes one argument")
        (arg,) = args
        if self.huge and arg.has(*self.huge):
            fn = _INVERSE[name] if inverse else _SIMPLE_FUNCS.get(name)
            if fn is None:
                raise MathParseError(f"{name} of an oversized value")
            return fn(arg, evaluate=False)
        if inverse:
            return _INVERSE[name](arg)
        if name == "log":
            return sympy.log(arg) if base is None else sympy.log(arg, base)
        if name == "lg":
            return sympy.log(arg, 10)
        if name == "sqrt":
            return self.root(arg, None)
        if name == "cbrt":
            return self.root(arg, Integer(3))
        return _SIMPLE_FUNCS[name](arg)

    # -- bounded constructors -------------------------------------------------
    def expr(self, value: Any) -> Expr:
        value = _plain(value)
        if not isinstance(value, Expr):
            raise MathParseError(f"expected a number or expression, got {describe(value, 80)}")
        return value

    def is_huge(self, *values: Basic) -> bool:
        return bool(self.huge) and any(v.has(*self.huge) for v in values)

    def mark_huge(self, node: Basic) -> Basic:
        self.huge.append(node)
        return node

    def add(self, a: Expr, b: Expr) -> Expr:
        if self.is_huge(a, b):
            return self.mark_huge(sympy.Add(a, b, evaluate=False))
        return a + b

    def mul(self, a: Expr, b: Expr) -> Expr:
        if self.is_huge(a, b):
            return self.mark_huge(Mul(a, b, evaluate=False))
        return a * b

    def pow(self, b: Expr, e: Expr) -> Expr:
        if self.is_huge(b, e) or _power_too_big(b, e):
            return self.mark_huge(Pow(b, e, evaluate=False))
        return Pow(b, e)

    def root(self, radicand: Expr, index: Expr | None) -> Expr:
        if index is None or index == 2:
            return self.pow(radicand, Rational(1, 2))
        if index == 0:
            raise MathParseError("zeroth root")
        if (
            index.is_Integer
            and int(index) % 2 == 1
            and not self.is_huge(radicand)
            and radicand.is_number
            and radicand.is_extended_negative
        ):
            return self.mul(Integer(-1), self.pow(-radicand, 1 / index))
        return self.pow(radicand, 1 / index)

    def factorial(self, n: Expr) -> Expr:
        if n.is_Integer and n < 0:
            raise MathParseError("factorial of a negative integer")
        if self.is_huge(n) or (n.is_Number and n > MAX_FACTORIAL):
            return self.mark_huge(sympy.factorial(n, evaluate=False))
        return sympy.factorial(n)

    def binomial(self, n: Expr, k: Expr) -> Expr:
        # SymPy expands binomial(n, k) into a product of k factors whenever k is
        # an integer, so both a big n and a big k must stay unevaluated.
        small_n = n.is_Integer and 0 <= n <= MAX_FACTORIAL
        small_k = not k.is_Integer or abs(k) <= MAX_BINOMIAL_K
        if self.is_huge(n, k) or (n.is_Number and n > MAX_FACTORIAL) or not (small_n or small_k):
            return self.mark_huge(sympy.binomial(n, k, evaluate=False))
        if not (n.is_Integer and k.is_Integer):
            # SymPy's evaluation of other arguments runs assumption queries that can
            # take seconds; numeric probing evaluates the unevaluated form fine.
            return sympy.binomial(n, k, evaluate=False)
        return sympy.binomial(n, k)


def describe(value: Any, limit: int = 10_000, *, raw: bool = False) -> str:
    """Text of a parsed value, cut to ``limit`` characters.

    With ``raw`` (used for oversized answers) nothing is evaluated: SymPy's
    printers sort terms and set elements numerically, which would compute an
    unevaluated ``factorial(10**9)``; the raw form prints the tree as stored.
    """
    try:
        if raw:
            parts: list[str] = []
            _raw(value, parts, limit)
            text = "".join(parts)
        elif isinstance(value, Basic):
            text = sympy.sstr(value, order="none")
        else:
            text = str(value)
    except ValueError:  # Python's int -> str limit on enormous integers
        text = f"<{type(value).__name__} too large to print>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _raw(value: Any, out: list[str], budget: int) -> None:
    """Append a no-evaluation rendering of ``value`` to ``out`` (about ``budget`` chars)."""
    if sum(len(p) for p in out) > budget:
        return
    if isinstance(value, Seq | Tagged | Text | MathObject):
        items = (
            (value.items if isinstance(value, Seq) else (value.value,))
            if not isinstance(value, Text)
            else ()
        )
        if isinstance(value, Text):
            out.append(value.text)
            return
        out.append(f"{type(value).__name__}(")
        for k, item in enumerate(items):
            if k:
                out.append(", ")
            _raw(item, out, budget)
        out.append(")")
    elif isinstance(value, Basic) and value.args:
        out.append(f"{type(value).__name__}(")
        for k, arg in enumerate(value.args):
            if k:
                out.append(", ")
            _raw(arg, out, budget)
        out.append(")")
    elif isinstance(value, sympy.Integer) and value.p.bit_length() > 10_000:
        out.append(f"<integer of about {int(value.p.bit_length() * 0.30103)} digits>")
    else:
        out.append(str(value))


def _int_from_digits(digits: str) -> int:
    """``int(digits)`` without Python's 4300-digit conversion limit (input is capped anyway)."""
    value = 0
    for k in range(0, len(digits), 4000):
        chunk = digits[k : k + 4000]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _power_too_big(b: Expr, e: Expr) -> bool:
    """Would ``b**e`` have more than MAX_DIGITS digits (or be a huge symbolic power)?"""
    if not e.is_Rational:
        return False
    if b.is_Rational:
        bits = max(abs(b.p).bit_length(), b.q.bit_length())
        if bits <= 1:
            return abs(e.p) > 10**6 and b.q > 1  # 1/2 ** huge still has many digits
        return abs(e) * bits * 0.30103 > MAX_DIGITS
    if b.is_number:  # sqrt(2)**huge, pi**huge: keep it small enough to evaluate
        return abs(e) > MAX_DIGITS
    return abs(e) > MAX_FACTORIAL  # (x+1)**10**6 would explode when expanded


def _plain(value: Any) -> Any:
    """Turn a %-/degree-marked value into a plain expression (inside arithmetic)."""
    if isinstance(value, _Marked):
        if value.tag == "percent":
            return value.value / 100
        return value.value * pi / 180
    return value


def _finish(value: Any) -> Any:
    """Marks that reach the end of an item become :class:`Tagged` answers."""
    if isinstance(value, _Marked):
        return Tagged(value.value, value.tag)
    return value


_UNIT_ALIASES = {
    "metre": "m", "meter": "m", "centimeter": "cm", "centimetre": "cm", "millimeter": "mm",
    "millimetre": "mm", "kilometer": "km", "kilometre": "km", "gram": "g", "kilogram": "kg",
    "milligram": "mg", "second": "s", "sec": "s", "minute": "min", "hour": "h", "hr": "h",
    "day": "day", "week": "week", "year": "year", "inch": "in", "foot": "ft", "feet": "ft",
    "mile": "mi", "yard": "yd", "liter": "L", "litre": "L", "ml": "mL", "pound": "lb",
    "lbs": "lb", "ounce": "oz", "dollar": "dollar", "cent": "cent", "euro": "euro",
    "radian": "rad", "unit": "unit", "square": "sq", "cubic": "cu", "mins": "min",
    "secs": "s", "hrs": "h",
}  # fmt: skip


def _unit_key(parts: list[str]) -> str:
    """Unit tokens as one normalised string: plurals and spellings folded (``cm^2``)."""
    words: list[str] = []
    for part in parts:
        for w in re.findall(r"[A-Za-z]+|\^|\d+|/", part):
            low = w if w in ("L", "mL") else w.lower()
            if low.isalpha() and low not in _UNIT_ALIASES and low.endswith("s") and len(low) > 3:
                # apples -> apple, meters -> meter, inches -> inch
                low = low[:-2] if low[:-2] in _UNIT_ALIASES else low[:-1]
            words.append(_UNIT_ALIASES.get(low, low))
    text = "".join(w if w in ("^", "/") or w.isdigit() else " " + w for w in words).strip()
    text = re.sub(r"\s*([\^/])\s*", r"\1", text)
    text = re.sub(r"\bsq (\w+)", r"\1^2", text)
    return re.sub(r"\bcu (\w+)", r"\1^3", text)


def _is_label(lhs: Expr) -> bool:
    """``AB``, ``|AB|``, ``NO/BO``: a product/ratio of two or more point names (A-Z)."""
    syms = lhs.free_symbols
    if len(syms) < 2 or not all(re.fullmatch(r"[A-Z]", str(s)) for s in syms):
        return False
    return all(a.is_Symbol or a in (Integer(1), Integer(-1)) for a in lhs.atoms())


def _is_variable_like(value: Any) -> bool:
    if isinstance(value, Symbol):
        return True
    if isinstance(value, Seq):
        return all(isinstance(v, Symbol) for v in value.items)
    return False


def _finite_set(items: list[Any]) -> Any:
    """``\\{...\\}``: a FiniteSet of expressions, or a ``{``-Seq of other items (points)."""
    plain = [_plain(v) for v in items]
    if all(isinstance(v, Expr) for v in plain):
        return FiniteSet(*plain)
    return Seq(tuple(_finish(v) for v in items), "{", "}")


def _interval(a: Expr, b: Expr, *, left_open: bool, right_open: bool) -> sympy.Set:
    """An Interval, checked numerically (SymPy's own checks can take minutes on odd endpoints)."""
    if a.has(I) or b.has(I):
        raise MathParseError("an interval needs real endpoints")
    left_open = left_open or a in (-oo, oo)
    right_open = right_open or b in (-oo, oo)
    if not (a.free_symbols or b.free_symbols):
        lo, hi = _real_value(a), _real_value(b)
        if lo > hi or (lo == hi and (left_open or right_open)):
            return sympy.S.EmptySet
        if lo == hi and a == b:
            return FiniteSet(a)
    return Basic.__new__(Interval, a, b, sympy.sympify(left_open), sympy.sympify(right_open))


def _real_value(e: Expr) -> float:
    """A real endpoint as a float (infinities included); MathParseError if not real."""
    if e == oo:
        return float("inf")
    if e == -oo:
        return float("-inf")
    try:
        re, im = sympy.N(e, 30).as_real_imag()
        if abs(float(im)) > 1e-20:
            raise MathParseError(f"an interval needs real endpoints, not {describe(e, 80)}")
        return float(re)
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise MathParseError(f"an interval needs numeric endpoints, not {describe(e, 80)}") from exc


def _as_set(value: Any) -> sympy.Set:
    value = _plain(value)
    if isinstance(value, sympy.Set):
        return value
    if isinstance(value, Seq) and not value.open and all(isinstance(v, Expr) for v in value.items):
        return FiniteSet(*value.items)  # {1,3} \\cup {2,4}: grouped lists as sets
    if isinstance(value, Seq) and len(value.items) == 2 and value.open in "([":
        a, b = value.items
        if isinstance(a, Expr) and isinstance(b, Expr):
            return _interval(a, b, left_open=value.open == "(", right_open=value.close == ")")
    raise MathParseError(f"{describe(value, 80)} is not a set or interval")


def _assignment_values(items: list[Any]) -> list[Any]:
    """``n = 2, 3, 4`` and ``x = 1, x = 2`` are the values of one variable: [2, 3, 4]."""
    first = items[0] if items else None
    if not (isinstance(first, Eq) and isinstance(first.lhs, Symbol)):
        return items
    var = first.lhs
    values = []
    for item in items:
        if isinstance(item, Eq):
            if item.lhs != var or var in item.rhs.free_symbols:
                return items
            values.append(item.rhs)
        elif isinstance(item, Relational | Seq | sympy.Set | Text | ImmutableMatrix):
            return items
        else:
            values.append(item)
    return values
