"""Tokens of answer strings (verifiers.math.lexer)."""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_issue_17_spellings():
    assert kinds("{1 \\over 2}")[:2] == [("OP", "{"), ("CMD", "frac")]
    assert kinds("11,\\! 111") == [("NUM", "11111")]
    assert kinds("14 {, }916") == [("NUM", "14916")]
    assert kinds("204_5") == [("BASED", "204_5")]
    assert kinds("4210_{7}") == [("BASED", "4210_7")]
    assert kinds("5\\ldots") == [("NUM", "5"), ("OP", "ellipsis")]
    assert kinds("5...") == [("NUM", "5"), ("OP", "ellipsis")]
    assert kinds("\\approx 5") == [("OP", "approx"), ("NUM", "5")]
    assert kinds("≈ 5") == [("OP", "approx"), ("NUM", "5")]
    assert kinds("m²") == [("NAME", "m"), ("OP", "^"), ("OP", "{"), ("NUM", "2"), ("OP", "}")]
    assert kinds("\\angle ABC") == [("NAME", "A"), ("NAME", "B"), ("NAME", "C")]
    assert kinds("\\$5") == [("OP", "currency"), ("NUM", "5")]
    assert kinds("\\\\frac12") == [("CMD", "frac"), ("NUM", "1"), ("NUM", "2")]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=30))
def test_tokenize_raises_only_math_parse_error(text):
    """Any text is tokens or a MathParseError: never an assert or another exception."""
    with contextlib.suppress(MathParseError):
        tokenize(text)
