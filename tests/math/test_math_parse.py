"""Parsing LaTeX and plain-text answers into SymPy objects (verifiers.math.parse)."""

import time

import pytest
import sympy
from sympy import (
    E,
    Eq,
    FiniteSet,
    I,
    ImmutableMatrix,
    Interval,
    Rational,
    Symbol,
    oo,
    pi,
    sqrt,
)

from verifiers.math.parse import (
    Based,
    MathParseError,
    Measured,
    Seq,
    Tagged,
    Text,
    parse_answer,
)

x, y, r = sympy.symbols("x y r")


def value(text):
    return parse_answer(text).value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("-7", -7),
        ("1,000,000", 1_000_000),
        ("1\\,000", 1000),
        ("1{,}000", 1000),
        ("1 000", 1000),
        ("3.25", Rational(13, 4)),
        (".5", Rational(1, 2)),
        ("1.5e3", 1500),
        ("1.5\\times10^{3}", 1500),
        ("1.5 \\cdot 10^3", 1500),
        ("4 \\times 10^{-3}", Rational(1, 250)),
        ("\\frac{3}{4}", Rational(3, 4)),
        ("\\dfrac{3}{4}", Rational(3, 4)),
        ("\\tfrac34", Rational(3, 4)),
        ("\\frac12", Rational(1, 2)),
        ("3/4", Rational(3, 4)),
        ("6 \\div 4", Rational(3, 2)),
        ("\\sqrt{8}", 2 * sqrt(2)),
        ("\\sqrt2", sqrt(2)),
        ("sqrt(2)", sqrt(2)),
        ("\\sqrt[3]{27}", 3),
        ("\\sqrt[3]{-8}", -2),
        ("2^{10}", 1024),
        ("2**10", 1024),
        ("2^3^2", 512),
        ("2^-1", Rational(1, 2)),
        ("5!", 120),
        ("\\binom{5}{2}", 10),
        ("\\pi", pi),
        ("2\\pi", 2 * pi),
        ("\\mathrm{e}^{2}", E**2),
        ("e^2", E**2),
        ("\\infty", oo),
        ("-\\infty", -oo),
        ("3+4i", 3 + 4 * I),
        ("i^2", -1),
        ("\\left(1+2\\right)\\cdot 3", 9),
        ("2x", 2 * x),
        ("2\\pi r", 2 * pi * r),
        ("x(x+1)", x * (x + 1)),
        ("x^{2}y", x**2 * y),
        ("-x^2", -(x**2)),
        ("\\sin^2 x + \\cos^2 x", sympy.sin(x) ** 2 + sympy.cos(x) ** 2),
        ("\\sin x \\cos x", sympy.sin(x) * sympy.cos(x)),
        ("\\sin^{-1} x", sympy.asin(x)),
        ("\\arcsin(1/2)", pi / 6),
        ("\\ln 2 + 1", sympy.log(2) + 1),
        ("\\log_2 8", 3),
        ("\\log_{10}(1000)", 3),
        ("\\exp(x)", sympy.exp(x)),
        ("|x-1|", sympy.Abs(x - 1)),
        ("|x||y|", sympy.Abs(x) * sympy.Abs(y)),
        ("\\lfloor 2.5 \\rfloor", 2),
        ("\\max(1, 2)", 2),
        ("2abc", 2 * sympy.Symbol("a") * sympy.Symbol("b") * sympy.Symbol("c")),
        ("x_1 + \\alpha", Symbol("x_1") + Symbol("alpha")),
        ("\\boxed{7}", 7),
        ("2\\frac{1}{2}", Rational(5, 2)),  # a mixed number
        ("2\\frac{1}{2}x", x),  # not a mixed number inside a product
        ("3:4", Rational(3, 4)),  # a ratio
        ("= 5", 5),
        ("\\approx 3.5", Rational(7, 2)),
        ("f(x) = 2x + 1", 2 * x + 1),
        ("$\\frac{1}{2}$", Rational(1, 2)),
    ],
)
def test_expressions(text, expected):
    assert value(text) == sympy.sympify(expected)


def test_decimal_marks_inexact():
    assert parse_answer("0.5").inexact
    assert parse_answer("1.5e3").inexact
    assert not parse_answer("1/2").inexact


def test_relations():
    assert value("x=2") == Eq(x, 2)
    assert value("x-1=0") == Eq(x - 1, 0)
    chain = value("1<x\\le 3")
    assert isinstance(chain, sympy.And) and len(chain.args) == 2
    assert value("x \\ge 1") == sympy.Ge(x, 1)
    assert value("\\frac{6}{4} = \\frac{3}{2}") == Rational(3, 2)  # a chain of simplifications
    assert value("x \\in \\{1, 2\\}") == FiniteSet(1, 2)
    assert value("\\{x \\mid x > 1\\}") == sympy.Gt(x, 1)
    assert value("\\{x \\in \\mathbb{R} : x > 1\\}") == sympy.Gt(x, 1)


def test_intervals_sets_tuples():
    assert value("(1,3]") == Interval.Lopen(1, 3)
    assert value("[2,\\infty)") == Interval(2, oo)
    assert value("(1,3)") == Seq((1, 3), "(", ")")  # interval or tuple: decided later
    assert value("[1,3]") == Seq((1, 3), "[", "]")
    assert value("\\{1,2\\}") == FiniteSet(1, 2)
    assert value("\\{\\}") == sympy.S.EmptySet
    assert value("(-\\infty, -1] \\cup [1, \\infty)") == sympy.Union(
        Interval(-oo, -1), Interval(1, oo)
    )
    assert value("\\mathbb{R}") == sympy.S.Reals


def test_lists_and_plus_minus():
    assert value("2, 3") == Seq((2, 3))
    assert value("\\pm 2") == Seq((2, -2))
    assert value("x = 1 \\pm \\sqrt{2}") == Seq((1 + sqrt(2), 1 - sqrt(2)))
    assert value("n=2,3,4") == Seq((2, 3, 4))
    assert value("x=2 \\text{ or } x=3") == Seq((2, 3))
    assert value("x=2, y=3") == Seq((Eq(x, 2), Eq(y, 3)))
    kept = parse_answer("y = x + 1, y = 2x", merge_assignments=False).value
    assert kept == Seq((Eq(y, x + 1), Eq(y, 2 * x)))


def test_matrices():
    m = ImmutableMatrix([[1, 2], [3, 4]])
    assert value("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}") == m
    assert value("\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}") == m
    with pytest.raises(MathParseError):
        parse_answer("\\begin{pmatrix}1&2\\\\3\\end{pmatrix}")


def test_percent_degrees_text():
    assert value("50\\%") == Tagged(50, "percent")
    assert value("30^\\circ") == Tagged(30, "degree")
    assert value("30°") == Tagged(30, "degree")
    assert value("30 degrees") == Tagged(30, "degree")
    assert value("\\sin 30^\\circ") == Rational(1, 2)  # inside arithmetic: radians
    assert value("\\text{Yes}") == Text("yes")
    assert value("\\text{(A)}") == Symbol("A")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\\frac{1}{",
        "1/0",
        "\\frac{1}{0}",
        "(1,2",
        "1 +",
        "\\weird",
        "x ==",
        "\\sin",
        "1 @ 2",
        "\\begin{pmatrix}1",
        "x + five",
        "five + 2",
        "(i, 7]",  # an interval needs real endpoints
    ],
)
def test_parse_errors(text):
    with pytest.raises(MathParseError):
        parse_answer(text)


def test_never_evaluates_python():
    for text in ["__import__('os').system('echo hi')", "().__class__", "exec(1)", "eval('1')"]:
        with pytest.raises(MathParseError):
            parse_answer(text)


@pytest.mark.parametrize(
    "text", ["10**10**10**10", "5^{5^{5^{5^5}}}", "(10^9)!", "2^{2^{30}}", "1e999999999"]
)
def test_huge_values_are_not_computed(text):
    start = time.perf_counter()
    obj = parse_answer(text)
    assert obj.oversized
    assert time.perf_counter() - start < 1


def test_odd_binomials_stay_unevaluated_and_fast():
    start = time.perf_counter()
    with pytest.raises(MathParseError, match="real endpoints"):
        parse_answer("(\\binom{\\ln(\\binom{12}{\\pi})}{\\binom{\\sin(12i)}{\\ln(\\sin(-1))}}, 3]")
    assert isinstance(parse_answer("\\binom{n}{2}").value, sympy.binomial)
    assert time.perf_counter() - start < 2


def test_moderate_values_are_exact():
    obj = parse_answer("100!")
    assert not obj.oversized and obj.value == sympy.factorial(100)
    assert parse_answer("\\frac{1}{2^{98}}").value == Rational(1, 2**98)


def test_limits():
    with pytest.raises(MathParseError, match="too long"):
        parse_answer("1" * 10_001)
    with pytest.raises(MathParseError, match="too long"):
        parse_answer("(" * 10_000 + "1" + ")" * 10_000)
    with pytest.raises(MathParseError, match="nested"):
        parse_answer("(" * 4000 + "1" + ")" * 4000)
    with pytest.raises(MathParseError, match="nested"):
        parse_answer("{" * 3000 + "1" + "}" * 3000)
    with pytest.raises(MathParseError, match="nested"):
        parse_answer("2^" * 3000 + "2")
    with pytest.raises(MathParseError, match="nested"):
        parse_answer("-" * 5000 + "1")


@pytest.mark.parametrize(
    ("text", "number", "unit"),
    [
        ("5\\text{ cm}", 5, "cm"),
        ("12 dollars", 12, "dollar"),
        ("12 cookies", 12, "cookie"),
        ("12 big cookies", 12, "big cookie"),
        ("\\frac{\\pi}{4}\\text{ radians}", pi / 4, "rad"),
        ("10\\text{ m}^2", 10, "m^2"),
        ("10\\text{ cm}^{2}", 10, "cm^2"),
        ("\\frac{9}{2}\\text{ sq units}", Rational(9, 2), "unit^2"),
        ("15\\text{ square meters}", 15, "m^2"),
        ("\\text{3 hours}", 3, "h"),
        ("4\\,\\mathrm{m/s}", 4, "m/s"),
        ("\\$5", 5, "dollar"),  # a dollar sign before the number is a unit too
    ],
)
def test_a_trailing_unit_is_kept_normalised(text, number, unit):
    """Units are compared, not stripped: the parse keeps them, plurals and spellings folded."""
    assert value(text) == Measured(sympy.sympify(number), unit)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 4/9", Rational(40, 9)),  # mixed numbers are sums
        ("1\\frac12", Rational(3, 2)),
        ("2\\frac{1}{3}", Rational(7, 3)),
        ("44/9", Rational(44, 9)),  # no space: one numerator
        ("{1 \\over 2}", Rational(1, 2)),
        ("{x+1 \\over x-1}", (x + 1) / (x - 1)),
        ("11,\\! 111", 11111),
        ("14 {, }916", 14916),
        ("AB = 4", 4),  # a labelled quantity is its value
        ("|AB| = 1", 1),
        ("\\angle ABC = 72", 72),
        ("\\frac{1}{3} \\approx 0.33", Rational(1, 3)),  # the exact value before \\approx
        ("m²", sympy.Symbol("m") ** 2),
        ("½", Rational(1, 2)),
    ],
)
def test_peer_spellings(text, expected):
    assert value(text) == sympy.sympify(expected)


def test_base_n_numerals():
    assert value("204_5") == Based("204", 5)
    assert value("4210_{7}") == Based("4210", 7)
    with pytest.raises(MathParseError):
        parse_answer("208_5")  # 8 is not a base-5 digit


def test_approximations_and_ellipses_are_marked():
    assert parse_answer("\\approx 5").approximate
    assert parse_answer("x \\approx 5").approximate
    assert not parse_answer("5").approximate
    for text in ("5\\ldots", "5\\cdots", "5...", "1, 2, \\ldots", "(1, 2, \\dots)"):
        assert parse_answer(text).open_ended, text


def test_pm_inside_a_set_expands():
    assert value("\\{1 \\pm \\sqrt{2}\\}") == sympy.FiniteSet(1 + sympy.sqrt(2), 1 - sympy.sqrt(2))


@pytest.mark.parametrize("text", ["5\\", "\\", "x\\\n", "²", "{1 \\over", "\\over"])
def test_malformed_text_is_a_parse_error(text):
    with pytest.raises(MathParseError):
        parse_answer(text)
