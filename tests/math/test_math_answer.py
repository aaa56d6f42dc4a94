"""The in-process answer check: extraction -> parsing -> equivalence -> Verdict."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        ("0.333333", "\\frac{1}{3}", "wrong_answer"),  # a rounding (default rel_tol 1e-11)
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


# -- issue 17: no infra_error from any text ----------------------------------------

_PIECES = [
    "\\frac", "\\sqrt", "\\boxed{", "\\text{", "\\left(", "\\right)", "\\pm", "^\\circ", "²", "½",
    "\\", "{", "}", "(", ")", "[", "]", "$", ".", ",", "1", "2", "x", "=", "\\over", "\\approx",
    "\\ldots", "...", "\\%", "cm", "_5", "{,}", "\\!", "\\angle", "Final answer:", "the answer is",
    "not", "or", "<|im_end|>", "\n", " ", "\\begin{pmatrix}", "&", "\\\\", "\\end{pmatrix}", "−",
]  # fmt: skip
_texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(_PIECES), max_size=14).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, _texts)
def test_no_text_ever_gives_infra_error(candidate, reference):
    """infra_error is for our machinery failing; any candidate or reference text is data."""
    for cand, ref in ((candidate, reference), (reference, candidate), (candidate, candidate)):
        v = check(cand, ref)
        assert v.reason is not Reason.INFRA_ERROR, (cand, ref, v.message)


@pytest.mark.parametrize(
    "candidate", ["m²", "x²+1", "5\\", "\\", "x\\\n", "²", "\\frac{1}{2}\\", "٣", "\u200b5"]
)
def test_odd_characters_are_data(candidate):
    assert check(candidate, "5").reason is not Reason.INFRA_ERROR
    assert check("5", candidate).reason is not Reason.INFRA_ERROR


# -- issue 17: the two false positives ------------------------------------------------


def test_exact_forms_compare_exactly_even_when_the_difference_is_tiny():
    assert check("[1, \\infty)", "[2^{1/2^{1000}}, \\infty)").reason is Reason.WRONG_ANSWER
    assert check("2^{1/2^{1000}}", "1").reason is Reason.WRONG_ANSWER
    assert check("\\sqrt{3+2\\sqrt2}", "1+\\sqrt2").passed  # a true zero difference


def test_no_last_number_fallback_inside_one_unparseable_expression():
    huge = "\\frac{" * 3000 + "1" + "}{2}" * 3000
    v = check(huge, "2")
    assert not v.passed and v.reason is Reason.PARSE_ERROR
    assert not check("\\frac{" * 40 + "1" + "}{2}" * 40, "2").passed


# -- issue 17: red-team false positives -------------------------------------------------

RED_TEAM = [
    # which answer counts: the last final-answer marker decides
    ("We first get $\\boxed{5}$. That was wrong.\nFinal answer: 7", "5"),
    ("Trying $\\boxed{5}$ first. The final answer is 7.", "5"),
    ("It is not $\\boxed{5}$; the answer is 7.", "5"),
    ("The answer could be $\\boxed{5}$ or 7.", "5"),
    ("The answer could be $\\boxed{5}$ or 7.", "7"),
    ("It is certainly not $\\boxed{5}$.", "5"),
    ("Perhaps $\\boxed{5}$.", "5"),
    ("$\\boxed{5}$ is wrong.", "5"),
    ("The answer is not 5.", "5"),
    ("So $\\boxed{5}$. The answer is wrong.", "5"),
    ("The answer is probably 5.", "5"),
    ("The answer is 5... or so", "5"),
    # units are compared, not stripped
    ("5 \\text{ cm}^2", "5 \\text{ m}^2"),
    ("5 g", "5 kg"),
    ("5 \\text{ apples}", "5 \\text{ oranges}"),
    ("$\\boxed{5\\text{ cm}}$", "5\\text{ m}"),
    # approximations and open-ended answers are not exact answers
    ("\\approx 5", "5"),
    ("x \\approx 5", "5"),
    ("≈ 5", "5"),
    ("The answer is approximately 5.", "5"),
    ("5\\ldots", "5"),
    ("5\\cdots", "5"),
    ("5...", "5"),
    ("\\boxed{1, 2, \\ldots}", "1, 2"),
    # a decimal near a terminating value is not that value
    ("5.000000001", "5"),
    ("0.5000000001", "\\frac12"),
    ("0.6666666667", "\\frac23"),
    # the last-number fallback never reads a digit out of a larger expression
    ("It simplifies to $\\frac{x+1}{2}$ for all valid inputs here today.", "2"),
    # bounds, estimates and hedges around the number
    ("~5", "5"),
    ("at least 5", "5"),
    ("\\boxed{5} (but this might be wrong)", "5"),
    ("\\boxed{5}, though I'm not sure", "5"),
    ("\\boxed{5} \\text{ (approximately)}", "5"),
    ("Is it $\\boxed{5}$?", "5"),
    ("The answer is $\\boxed{5}$ if $x>0$, otherwise 7.", "5"),  # a two-branch answer
    ("\\$5", "5 \\text{ cents}"),
    ("5^\\circ", "5 \\text{ radians}"),
    # percent: a bare number answering a percent question is a number of percent
    ("0.5", "50\\%"),
    ("0.28", "28\\%"),
]


@pytest.mark.parametrize(("candidate", "reference"), RED_TEAM)
def test_red_team_candidates_are_rejected(candidate, reference):
    v = check(candidate, reference)
    assert not v.passed, (candidate, reference, v.details)
    assert v.reason is not Reason.INFRA_ERROR


def test_the_approximation_tolerance_is_an_explicit_option():
    assert not check("\\approx 3.1416", "\\pi").passed
    assert check("\\approx 3.1416", "\\pi", approx_rel_tol=1e-4).passed
    assert not check("\\approx 3.2", "\\pi", approx_rel_tol=1e-4).passed


# -- issue 17: recall ---------------------------------------------------------------------

RECALL = [
    # answers read out of prose
    ("So the value is $\\frac13.$", "\\frac{1}{3}"),
    ("Hence we get $5,$ as required", "5"),
    ("The roots are $\\boxed{2}\\quad\\text{and}\\quad\\boxed{7}$.", "2, 7"),
    ("Both $\\boxed{3}$ and $\\boxed{9}$ work.", "3, 9"),
    ("$\\boxed{7}\\boxed{8}$", "7, 8"),
    ("Adding up.\nFinal Answer: The largest $n$ is 34.", "34"),
    ("Final Answer: The smallest value of $k$ is $12$. I hope it is correct.", "12"),
    ("So 35 routes exist.<|im_end|>\n<|im_start|>user\nWhat is 2+2?", "35"),
    ("Thus the area is $\\frac{9\\pi}{4}$ square units.", "\\frac{9\\pi}{4}"),
    ("First $\\boxed{5}$, then the final answer is $\\boxed{7}$.", "7"),
    ("So $\\boxed{5}$. The answer is correct.", "5"),  # a comment on the box, not an answer
    ("So $\\boxed{5}$. The final answer is therefore consistent.", "5"),
    # references go through the same unwrapping as candidates
    ("\\boxed{2, 1}", "\\boxed{1,2}"),
    ("odd", "$\\text{odd}$"),
    ("4", "\\( 4 \\)"),
    ("The answer is $\\boxed{15}$.", "Since $3 \\cdot 5 = 15$, the answer is $\\boxed{15}$."),
    ("204_5", "204_5"),
    ("4210_7", "4210_{7}"),
    ("12:00", "12:00"),
    ("10 \\text{ cm}^2", "10\\text{ cm}^{2}"),
    ("f'", "f'"),
    ("185\\", "185"),
    # thousands separators with spacing commands
    ("11,\\! 111", "11111"),
    ("14{,}916", "14916"),
    ("14 {, }916", "14916"),
    ("1\\,000", "1000"),
    # \over, \pm sets, repeated roots, mixed numbers
    ("{1 \\over 2}", "\\frac12"),
    ("\\{1 \\pm \\sqrt{2}\\}", "1+\\sqrt2, 1-\\sqrt2"),
    ("x = 2, 2, 3", "2, 3"),
    ("4 4/9", "\\frac{40}{9}"),
    ("1\\frac12", "\\frac32"),
    ("918.5", "918\\frac{1}{2}"),
    ("-3 2/7", "-\\frac{23}{7}"),
    ("2 1/4%", "\\frac{9}{400}"),
    # labelled equations
    ("4", "AB=4"),
    ("1", "|AB| = 1"),
    ("\\frac{\\sqrt6}{6}", "\\frac{NO}{BO}=\\frac{1}{\\sqrt6}"),
    ("$\\boxed{\\angle ABC = 72^\\circ}$", "72"),
    # multiple choice
    ("C. x = 42", "C"),
    ("C", "C. x = 42"),
    ("So the right option is (E).", "E"),
    # units: one side only, or commensurable
    ("10\\text{ cm}", "10"),
    ("10", "10\\text{ cm}"),
    ("1 \\text{ m}", "100 \\text{ cm}"),
    ("2 \\text{ kg}", "2000 \\text{ g}"),
    ("3 \\text{ hours}", "180 \\text{ minutes}"),
    # percent and degrees
    ("50\\%", "0.5"),
    ("28", "28\\%"),
    ("28 percent", "28\\%"),
    ("90^\\circ", "\\frac{\\pi}{2}"),
    # clock times, doubled backslashes
    ("21:15:00", "21:15"),
    ("09:15 \\text{P.M.}", "21:15"),
    ("12:00 PM", "12:00"),
    ("\\\\dfrac{3}{5} + \\frac{1}{9}", "\\tfrac35 +\\frac1{9}"),
    # the exact value before an approximation
    ("\\frac{\\sqrt{3}}{3} \\approx 0.577", "\\frac{\\sqrt3}{3}"),
]


@pytest.mark.parametrize(("candidate", "reference"), RECALL)
def test_recall_of_the_peer_categories(candidate, reference):
    v = check(candidate, reference)
    assert v.passed, (candidate, reference, v.reason, v.message, v.details)


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("204_6", "204_5"),
        ("54", "204_5"),  # the value in base ten is not the base-5 numeral
        ("4 4/9", "\\frac{16}{9}"),  # a mixed number is a sum, not a product
        ("7 5/5", "7"),  # an integer beside an improper fraction is neither
        ("7 5/5", "8"),
        ("5", "AB=4"),
        ("x^2 = 4", "4"),  # an equation is not a label
        ("B. y = 7", "C"),
        ("(A) or (C)", "C"),  # two choices named: no answer
        ("is $\\boxed{45, 678}$", "45678"),  # comma and space: two answers
        ("1 \\text{ m}", "1 \\text{ cm}"),
        ("2, 3, 4", "2, 3"),
        ("09:15 \\text{A.M.}", "21:15"),
        ("3:4", "3:45"),  # a ratio is not a clock time
    ],
)
def test_near_misses_of_the_recall_rules(candidate, reference):
    assert not check(candidate, reference).passed
