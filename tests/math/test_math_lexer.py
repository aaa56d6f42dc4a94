"""Tokens of answer strings (verifiers.math.lexer)."""

import pytest

from verifiers.math.lexer import MathParseError, tokenize


def kinds(text):
    return [(t.kind, t.value) for t in tokenize(text)][:-1]


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("1,000,000", "1000000"),
        ("1\\,000", "1000"),
        ("1{,}000", "1000"),
        ("1 000", "1000"),
        ("12,345.5", "12345.5"),
        ("1.5e3", "1.5e3"),
    ],
)
def test_number_literals(text, digits):
    assert kinds(text) == [("NUM", digits)]


def test_commas_inside_brackets_separate():
    assert kinds("(1,000)") == [("OP", "("), ("NUM", "1"), ("OP", ","), ("NUM", "000"), ("OP", ")")]


def test_frac_digits_are_single_arguments():
    assert kinds("\\frac12") == [("CMD", "frac"), ("NUM", "1"), ("NUM", "2")]


def test_operator_spellings_normalise():
    assert {v for k, v in kinds("a\\cdot b \\times c · d × e") if k == "OP"} == {"*"}
    assert [v for k, v in kinds("1 \\le 2 <= 3 ≤ 4") if k == "OP"] == ["<=", "<=", "<="]


def test_text_units_separators_and_euler():
    assert kinds("5\\text{ cm}") == [("NUM", "5"), ("UNIT", "cm")]
    assert kinds("1 \\text{ or } 2") == [("NUM", "1"), ("SEP", "or"), ("NUM", "2")]
    assert kinds("\\mathrm{e}") == [("CONST", "E")]
    assert kinds("x_{12}") == [("NAME", "x_12")]


def test_unknown_command_and_character_are_errors():
    with pytest.raises(MathParseError):
        tokenize("\\weird{1}")
    with pytest.raises(MathParseError):
        tokenize("1 @ 2")
    assert [k for k, _ in kinds("5 cookies")] == ["NUM", "WORD"]
