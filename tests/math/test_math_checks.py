"""Reference-free checks: substitution and differentiation (verifiers.math.checks)."""

import pytest

from verifiers.math.checks import check_antiderivative, check_substitution
from verifiers.verdict import Reason


@pytest.mark.parametrize(
    ("equations", "candidate", "reason"),
    [
        ("x^2-5x+6=0", "\\{2, 3\\}", "correct"),
        ("x^2-5x+6=0", "x = 2 or x = 3", "correct"),
        ("x^2-5x+6=0", "The solutions are \\boxed{3, 2}", "correct"),
        ("x^2-5x+6=0", "2", "wrong_answer"),  # incomplete
        ("x^2-5x+6=0", "x=4", "wrong_answer"),
        ("x^2-5x+6=0", "2, 3, 4", "wrong_answer"),
        ("x^2 = 2", "\\pm\\sqrt{2}", "correct"),
        ("x^2 = 2", "\\pm 1.41421356237", "correct"),
        ("x^2 = 2", "\\pm 1.41", "wrong_answer"),
        ("x^2+1=0", "\\pm i", "correct"),
        ("x^3 = 8", "2", "correct"),
        ("2^x = 8", "3", "correct"),
        ("\\sin x = 0", "\\pi", "correct"),
        (["x+y=5", "x-y=1"], "x=3, y=2", "correct"),
        (["x+y=5", "x-y=1"], "(3, 2)", "correct"),
        ("x+y=5, x-y=1", "y=2, x=3", "correct"),
        (["x+y=5", "x-y=1"], "(2, 3)", "wrong_answer"),
        (["x+y=5", "x-y=1"], "x=3", "wrong_answer"),  # no value for y
        (["x+y=5", "x-y=1"], "(1, 2, 3)", "wrong_answer"),
        ("y = x + 1, y = 2x", "(1, 2)", "correct"),
        ("x^2-5x+6", "2, 3", "correct"),  # a bare expression means = 0
        ("x^2-5x+6=0", "I give up", "wrong_answer"),  # a word answer
        ("x^2-5x+6=0", "I tried hard but could not solve it.", "no_answer"),
        ("x^2-5x+6=0", "\\frac{1}{", "parse_error"),
        ("\\frac{1}{", "2", "reference_error"),
        ("3 = 3", "2", "reference_error"),
        (42, "2", "reference_error"),
    ],
)
def test_substitution(equations, candidate, reason):
    verdict = check_substitution(equations, candidate)
    assert verdict.reason.value == reason, verdict


@pytest.mark.parametrize(
    ("integrand", "candidate", "reason"),
    [
        ("2x", "x^2", "correct"),
        ("2x", "x^2 + C", "correct"),
        ("2x", "x^2 + 7", "correct"),
        ("2x\\cos(x^2)", "\\sin(x^2) + C", "correct"),
        ("\\frac{1}{x}", "\\ln|x| + C", "correct"),
        ("\\frac{1}{x}", "\\ln x", "correct"),
        ("e^x \\sin x", "\\frac{e^x(\\sin x - \\cos x)}{2}", "correct"),
        ("\\sec^2 x", "\\tan x", "correct"),
        ("\\frac{1}{1+x^2}", "\\arctan x", "correct"),
        ("x e^x", "(x-1)e^x", "correct"),
        ("2x", "F(x) = x^2 + C", "correct"),
        ("x", "x^2", "wrong_answer"),
        ("\\cos x", "-\\sin x", "wrong_answer"),
        ("2x", "5", "wrong_answer"),
        ("2x", "\\frac{1}{", "parse_error"),
        ("\\frac{1}{", "x", "reference_error"),
    ],
)
def test_antiderivative(integrand, candidate, reason):
    verdict = check_antiderivative(integrand, candidate)
    assert verdict.reason.value == reason, verdict


def test_antiderivative_other_variable():
    assert check_antiderivative("3t^2", "t^3", variable="t").passed
    assert not check_antiderivative("3t^2", "x^3", variable="t").passed
    assert (
        check_antiderivative("3t^2", "t^3", variable="not a name").reason is Reason.REFERENCE_ERROR
    )
