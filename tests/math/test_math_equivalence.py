"""Comparing parsed answers (verifiers.math.equivalence), including its properties."""

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifiers.math.equivalence import equivalent
from verifiers.math.parse import parse_answer


def same(a, b, **kw):
    """Compare both ways; equivalence must be symmetric."""
    one = equivalent(parse_answer(a), parse_answer(b), **kw)
    other = equivalent(parse_answer(b), parse_answer(a), **kw)
    assert one.equal == other.equal, (a, b, one, other)
    return one.equal


EQUAL = [
    # numbers
    ("1000", "1\\,000"),
    ("1500", "1.5e3"),
    ("1500", "1.5\\times 10^3"),
    ("\\frac{1}{2}", "0.5"),
    ("\\frac{3}{2}", "1.50"),
    ("\\frac12", "2^{-1}"),
    ("-\\frac{1}{2}", "\\frac{-1}{2}"),
    ("\\frac{1}{3}", "0.3333333333333"),
    ("\\frac{1}{3}", "0.\\overline{3}"),
    ("\\frac{1}{7}", "0.\\overline{142857}"),
    ("5", "5."),
    ("\\infty", "\\text{infinity}"),
    ("x<2 \\text{ or } x>3", "(-\\infty,2)\\cup(3,\\infty)"),
    ("\\sqrt{x^2}", "|x|"),
    ("\\pi", "3.14159265359"),
    ("\\sqrt{8}", "2\\sqrt{2}"),
    ("\\frac{1}{\\sqrt2}", "\\frac{\\sqrt2}{2}"),
    ("\\sqrt{2}+\\sqrt{3}", "\\sqrt{5+2\\sqrt{6}}"),
    ("\\mathrm{e}^{2}", "e^2"),
    ("\\mathrm{e}^{2}", "\\exp(2)"),
    ("100!", "100!"),
    ("\\binom{10}{3}", "120"),
    ("3+4i", "4i+3"),
    ("\\infty", "oo"),
    ("-\\infty", "-\\infty"),
    ("\\log_2 8", "3"),
    # symbolic
    ("\\sin^2 x+\\cos^2 x", "1"),
    ("\\log(ab)", "\\log a+\\log b"),
    ("\\frac{x^2-1}{x-1}", "x+1"),
    ("(x+1)^2", "x^2+2x+1"),
    ("2\\sin x\\cos x", "\\sin(2x)"),
    ("\\frac{1}{2}x", "\\frac{x}{2}"),
    ("e^{i\\pi}", "-1"),
    # equations
    ("x=2", "2"),
    ("x = 2", "x=2"),
    ("2x=4", "x=2"),
    ("x-2=0", "2-x=0"),
    ("y = 2x+1", "y - 2x = 1"),
    ("y = 2x + 1", "2x+1"),
    # inequalities and intervals
    ("x>1", "(1,\\infty)"),
    ("x \\ge 1", "[1, \\infty)"),
    ("1<x\\le 3", "(1,3]"),
    ("3 \\ge x > 1", "(1,3]"),
    ("(-\\infty, -1] \\cup [1, \\infty)", "|x| \\ge 1"),
    ("x > y", "y < x"),
    ("(1,3)", "1 < x < 3"),
    # sets and lists
    ("\\{1,2\\}", "\\{2,1\\}"),
    ("\\{1,2\\}", "2, 1"),
    ("2, 3", "3, 2"),
    ("1, 1, 2", "1, 2, 1"),
    ("1, 1, 2", "1, 2"),  # a root listed twice is one answer
    ("x = 1 \\pm \\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2"),
    ("\\pm 2", "2, -2"),
    ("x=2 \\text{ or } x=3", "\\{2, 3\\}"),
    ("n=2,3,4", "4, 3, 2"),
    ("\\{2\\}", "2"),
    ("\\{(1,2), (3,4)\\}", "(3,4), (1,2)"),
    ("\\{(1,2)\\}", "(1,2)"),
    ("\\{x \\mid x > 1\\}", "(1, \\infty)"),
    ("2\\frac{1}{2}", "\\frac{5}{2}"),
    ("1:2", "0.5"),
    ("f(x) = x^2", "x^2"),
    # tuples, matrices
    ("(1,2)", "(1,2)"),
    ("(1,2)", "x=1, y=2"),
    ("(\\frac12, 3)", "(0.5, 3)"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "(1, 2)"),
    # percent, degrees, units, words
    ("50\\%", "50"),
    ("50\\%", "0.5"),
    ("50\\%", "\\frac{1}{2}"),
    ("12.5\\%", "12.5 percent"),
    ("30^\\circ", "30"),
    ("30^\\circ", "\\frac{\\pi}{6}"),
    ("30^\\circ", "30°"),
    ("\\sin^2(10^\\circ)+\\cos^2(10^\\circ)", "1"),
    ("(30^\\circ, 60^\\circ)", "(30, 60)"),
    ("\\sqrt[3]{2+\\sqrt5} + \\sqrt[3]{2-\\sqrt5}", "1"),
    ("\\arctan 1 + \\arctan 2 + \\arctan 3", "\\pi"),
    ("5\\text{ cm}", "5"),
    ("12 dollars", "\\$12"),
    ("\\text{Yes}", "yes"),
    ("\\text{(B)}", "B"),
]

DIFFERENT = [
    ("x-1=0", "y-2=0"),
    ("x=2", "y=2"),
    ("\\frac{1}{2^{98}}", "\\frac{1}{2^{99}}"),
    ("100!", "100!+1"),
    ("\\pm 2", "2"),
    ("n=2,3,4", "n=1,2,3"),
    ("3", "-3"),
    ("x-1", "1-x"),
    ("\\frac{2}{3}", "\\frac{3}{2}"),
    ("\\frac{1}{3}", "0.33"),
    ("\\frac{1}{3}", "0.3333"),
    ("\\frac{1}{3}", "0.333333"),
    ("1", "1.0000001"),
    ("x", "|x|"),
    ("\\sqrt{x^2}", "x"),
    ("x^2", "|x|^3"),
    ("\\pi", "3.14"),
    ("\\sqrt{2}", "1.414"),
    ("e^{100}", "e^{100}+1"),
    ("\\sqrt{2+10^{-90}}", "\\sqrt{2}"),  # differ in the 91st digit
    ("2x", "2y"),
    ("x^2", "x^3"),
    ("\\sin x", "\\cos x"),
    ("x>1", "x \\ge 1"),
    ("x > 1", "x < 1"),
    ("x>1", "[1,\\infty)"),
    ("(1,3)", "(1,3]"),
    ("(1,3)", "[1,3]"),
    ("(1,2)", "(2,1)"),
    ("1, 2", "1, 2, 3"),
    ("\\{1,2\\}", "\\{1,3\\}"),
    ("\\{(1,2), (3,4)\\}", "\\{(1,2), (4,3)\\}"),
    ("\\{(1,2), (3,4)\\}", "(1,2)"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"),
    ("50\\%", "0.6"),
    ("50\\%", "5\\%"),
    ("30^\\circ", "\\frac{\\pi}{3}"),
    ("3+4i", "3-4i"),
    ("\\infty", "-\\infty"),
    ("\\text{Yes}", "no"),
    ("\\text{Yes}", "1"),
    ("2x+1=y", "2x+1"),
    ("10**10**10**10", "10**10**10**10 + 1"),
    ("(10^9)!", "(10^9)! + 1"),
    ("5^{5^{5^{5^5}}}", "5"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal(a, b):
    assert same(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different(a, b):
    assert not same(a, b)


def test_rel_tol_is_configurable():
    assert same("\\frac{1}{3}", "0.333333", rel_tol=1e-6)
    assert same("\\pi", "3.14", rel_tol=1e-3)
    assert not same("\\pi", "3.14", rel_tol=1e-4)


def test_oversized_compare_structurally():
    cmp = equivalent(parse_answer("10^{10^{10}}"), parse_answer("10**10**10"))
    assert cmp.equal and cmp.method == "structural"


def test_methods_are_reported():
    assert equivalent(parse_answer("0.5"), parse_answer("1/3")).method == "tolerance"
    assert equivalent(parse_answer("x-1=0"), parse_answer("y-2=0")).note == "different variables"
    assert equivalent(parse_answer("x^2"), parse_answer("x^3")).method == "numeric-probe"


# -- properties ------------------------------------------------------------------

fractions = st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=10**4)


def _decimal(f: Fraction) -> str | None:
    """The exact decimal spelling of f, when it has one."""
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return None
    digits = 0
    while (f * 10**digits).denominator != 1:
        digits += 1
    sign = "-" if f < 0 else ""
    scaled = abs(f.numerator * 10**digits // f.denominator)
    whole, frac = divmod(scaled, 10**digits) if digits else (scaled, 0)
    return f"{sign}{whole}" + (f".{frac:0{digits}d}" if digits else "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fractions)
def test_a_rational_agrees_with_its_spellings(f):
    spellings = [f"{f.numerator}/{f.denominator}"]
    sign = "-" if f < 0 else ""
    spellings.append(f"{sign}\\frac{{{abs(f.numerator)}}}{{{f.denominator}}}")
    spellings.append(f"{sign}\\dfrac{{{abs(f.numerator)}}}{{{f.denominator}}}")
    dec = _decimal(f)
    if dec is not None:
        spellings.append(dec)
    for a in spellings:
        for b in spellings:
            assert same(a, b), (a, b)


@settings(max_examples=60, deadline=None)
@given(fractions, st.integers(min_value=1, max_value=10**6))
def test_a_perturbed_value_is_rejected(f, k):
    delta = Fraction(1, k) if f == 0 else f * Fraction(1, 10**4) * Fraction(1, k % 100 + 1)
    g = f + delta
    a = f"{f.numerator}/{f.denominator}"
    b = f"{g.numerator}/{g.denominator}"
    assert not same(a, b)


ANSWERS = sorted({s for pair in EQUAL + DIFFERENT for s in pair})


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(ANSWERS), st.sampled_from(ANSWERS))
def test_equivalence_is_symmetric(a, b):
    same(a, b)  # asserts symmetry


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(ANSWERS))
def test_equivalence_is_reflexive(a):
    assert same(a, a)


_leaves = st.sampled_from(["1", "2", "7", "x", "y", "\\pi", "e", "0.5", "-3", "i"])


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: f"{p[0]}+{p[1]}"),
        pair.map(lambda p: f"{p[0]}-({p[1]})"),
        pair.map(lambda p: f"({p[0]})\\cdot({p[1]})"),
        pair.map(lambda p: f"\\frac{{{p[0]}}}{{|{p[1]}|+1}}"),
        children.map(lambda c: f"\\sqrt{{{c}}}"),
        children.map(lambda c: f"\\sin({c})"),
        children.map(lambda c: f"|{c}|"),
        children.map(lambda c: f"({c})^{{2}}"),
    )


expressions = st.recursive(_leaves, _combine, max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, expressions)
def test_generated_expressions(a, b):
    assert same(a, a)  # reflexive
    assert same(f"{a}+{b}", f"{b}+{a}")  # commutative spellings agree
    assert not same(a, f"{a}+1")  # a shifted value differs
    same(a, b)  # symmetric (asserted inside)


# -- issue 17 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1 \\text{ m}", "100 \\text{ cm}"),  # commensurable units are converted
        ("2 \\text{ kg}", "2000 \\text{ g}"),
        ("3 \\text{ hours}", "180 \\text{ minutes}"),
        ("5 \\text{ cm}^2", "500 \\text{ mm}^2"),
        ("5 \\text{ square cm}", "5 \\text{ cm}^2"),
        ("5 \\text{ meters}", "5 \\text{ m}"),
        ("10\\text{ cm}", "10"),  # a unit on one side only is dropped
        ("\\$5", "500 \\text{ cents}"),
        ("204_5", "204_{5}"),
        ("204_5", "204"),  # the subscript dropped
        ("2, 2, 3", "3, 2"),  # a repeated root is one answer
        ("\\frac{1}{12}", "0.0833333333333333"),
    ],
)
def test_issue_17_equal(a, b):
    assert same(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("5 \\text{ cm}^2", "5 \\text{ m}^2"),  # units compared, not stripped
        ("5 \\text{ apples}", "5 \\text{ oranges}"),
        ("5 \\text{ cm}", "5 \\text{ cm}^2"),
        ("5 \\text{ dollars}", "5 \\text{ cents}"),
        ("5 \\text{ radians}", "5^\\circ"),
        ("204_5", "54"),  # not its value in base ten
        ("204_5", "204_6"),
        ("5.000000001", "5"),  # no tolerance for values with a finite decimal
        ("0.5000000001", "\\frac12"),
        ("0.6666666667", "\\frac23"),  # a ten-digit rounding
        ("2^{1/2^{1000}}", "1"),  # differs at digit 302
        ("\\approx 5", "5"),  # an approximation is not the exact value
        ("5\\ldots", "5"),  # nor is an open-ended answer
        ("1, 2, \\ldots", "1, 2"),
    ],
)
def test_issue_17_different(a, b):
    assert not same(a, b)


def test_approximations_compare_with_the_explicit_tolerance_only():
    approx, exact = parse_answer("\\approx 3.1416"), parse_answer("\\pi")
    assert not equivalent(approx, exact).equal
    assert equivalent(approx, exact, approx_rel_tol=1e-4).equal
    assert not equivalent(approx, exact, approx_rel_tol=1e-6).equal
