"""The in-process answer check: extraction -> parsing -> equivalence -> Verdict."""

import time

import pytest

from verifiers.errors import VerifierOptionsError
from verifiers.math.answer import check_answer_inprocess, validate_options
from verifiers.verdict import Reason, Verdict


def check(candidate, reference, **options):
    return Verdict.model_validate(check_answer_inprocess(candidate, reference, options))


@pytest.mark.parametrize(
    ("candidate", "reference", "reason"),
    [
        # the traps
        ("x-1=0", "y-2=0", "wrong_answer"),
        ("\\frac{1}{2^{98}}", "\\frac{1}{2^{99}}", "wrong_answer"),
        ("100!", "100!+1", "wrong_answer"),
        ("\\pm 2", "2", "wrong_answer"),
        ("n=2,3,4", "n=1,2,3", "wrong_answer"),
        ("1\\,000", "1000", "correct"),
        ("1.5e3", "1500", "correct"),
        ("\\mathrm{e}^{2}", "e^2", "correct"),
        ("\\mathrm{e}^{2}", "e", "wrong_answer"),
        ("-\\frac{1}{2}", "\\frac{1}{2}", "wrong_answer"),
        ("2", "\\frac{1}{2}", "wrong_answer"),
        ("0.33", "\\frac{1}{3}", "wrong_answer"),
        ("0.333333", "\\frac{1}{3}", "wrong_answer"),  # a rounding (default rel_tol 1e-9)
        ("0.3333333333333", "\\frac{1}{3}", "correct"),
        ("0.\\overline{3}", "\\frac{1}{3}", "correct"),
        # responses
        ("Let me think. ... So the answer is $\\boxed{\\dfrac{3}{4}}$.", "0.75", "correct"),
        ("Final Answer: The final answer is $12$. I hope it is correct.", "12", "correct"),
        ("blah\n#### 1,234", "1234", "correct"),
        ("we get 42 apples in total", "42", "correct"),
        ("The roots are $x = 2$ and $x = 3$, so \\boxed{2, 3}", "\\{3, 2\\}", "correct"),
        # failures that are not wrong answers
        ("I do not know.", "5", "no_answer"),
        ("", "5", "no_answer"),
        ("\\boxed{\\frac{1}{}", "5", "parse_error"),
        ("\\frac{1}{", "5", "parse_error"),
        ("\\boxed{1/0}", "5", "parse_error"),
        ("5", "\\frac{1}{", "reference_error"),
        ("5", "", "reference_error"),
    ],
)
def test_reasons(candidate, reference, reason):
    verdict = check(candidate, reference)
    assert verdict.reason.value == reason, verdict
    assert verdict.passed == (reason == "correct")


def test_details_record_the_steps():
    v = check("so \\boxed{\\frac{2}{4}}", "0.5")
    assert v.details["extracted"] == "\\frac{2}{4}"
    assert v.details["rule"] == "boxed"
    assert v.details["candidate_parsed"] == "1/2"
    assert v.details["reference_parsed"] == "1/2"
    assert v.details["method"] == "structural"


def test_last_number_fallback_option():
    assert check("we get 42 apples", "42", last_number_fallback=False).reason is Reason.NO_ANSWER


def test_non_string_inputs_never_raise():
    assert check(None, "1").reason is Reason.NO_ANSWER
    assert check(5, "1").reason is Reason.NO_ANSWER
    assert check("1", None).reason is Reason.REFERENCE_ERROR
    assert check("1", True).reason is Reason.REFERENCE_ERROR
    assert check("1", ["1"]).reason is Reason.REFERENCE_ERROR


def test_numeric_references_are_accepted():
    assert check("#### 42", 42).passed
    assert check("0.25", 0.25).passed
    assert not check("0.26", 0.25).passed


def test_an_unparseable_reference_is_never_a_pass_or_a_wrong_answer():
    for candidate in ["1", "\\frac{1}{", "", "the answer is 3"]:
        v = check(candidate, "\\frac{1}{")
        assert v.reason is Reason.REFERENCE_ERROR and not v.passed


@pytest.mark.parametrize(
    "candidate",
    [
        "10**10**10**10",
        "5^{5^{5^{5^5}}}",
        "(10^9)!",
        "\\boxed{(10^9)! - (10^9)!}",
        "2^{2^{2^{2^{2^{2}}}}}",
        "(" * 10_000 + "1" + ")" * 10_000,
        "(" * 4_000 + "1" + ")" * 4_000,
        "\\boxed{" + "{" * 5_000 + "1" + "}" * 5_000 + "}",
        "x" * 1_000_000,
        "1" * 1_000_000,
        "\\boxed{" + "1+" * 500_000 + "1}",
        "\\sqrt{" * 3000 + "2" + "}" * 3000,
        "e^{e^{e^{e^{e^{e^{10}}}}}}",
        "10^{10^{10}} - 10^{10^{10}}",
        "\\frac{10^{10^{10}}}{10^{10^{10}}}",
        "\\binom{\\ln(2)}{7!}",  # SymPy would expand a product of 5040 factors
        "i-a, \\sin(7-a)+((3i)^{\\pi+12})^{((12)!)!}",  # printing must not evaluate it
        "|-(10^9)!|",
        "\\lfloor (10^9)! / 7 \\rfloor",
        "((10^9)!, 5]",
        "\\sqrt[3]{-(10^9)!}",
        "(1,(10^9)!) \\cup (2,3)",
        "\\sin((10^9)!)",
        "(10^9)! < x",
        "x = (10^9)! \\pm 1",
        "\\binom{x}{100000}",
        "\\binom{-1}{100!}",
        "(x+1)^{1000000}",
        "\\sin(x)^{x^x} < x \\le \\binom{\\pi}{3i}",  # never sent to the inequality solver
    ],
)
def test_adversarial_candidates_are_quick_and_never_pass(candidate):
    start = time.perf_counter()
    v = check(candidate, "5")
    assert time.perf_counter() - start < 5
    assert not v.passed
    assert v.reason in (Reason.WRONG_ANSWER, Reason.PARSE_ERROR, Reason.NO_ANSWER), v


@pytest.mark.parametrize("reference", ["(10^9)! < x", "(2, 5)", "x > 1", "(10^9)!"])
def test_oversized_against_sets_and_inequalities(reference):
    start = time.perf_counter()
    for candidate in ["(10^9)! < x", "x > (10^9)!", "\\{(10^9)!\\}"]:
        v = check(candidate, reference)
        assert v.reason in (Reason.WRONG_ANSWER, Reason.PARSE_ERROR, Reason.CORRECT), v
        assert check(reference, candidate).reason is not Reason.INFRA_ERROR
    assert time.perf_counter() - start < 5


def test_adversarial_reference_is_a_reference_error():
    assert check("1", "(" * 5000 + "1" + ")" * 5000).reason is Reason.REFERENCE_ERROR


def test_options_are_validated():
    with pytest.raises(VerifierOptionsError, match="bogus"):
        validate_options({"bogus": 1})
    with pytest.raises(VerifierOptionsError):
        validate_options({"timeout_s": -1})
    assert validate_options({"rel_tol": 1e-3}).rel_tol == 1e-3
