"""Finding the final answer in a response (verifiers.math.extract)."""

import pytest

from verifiers.math.extract import answer_is_withheld, extract_answer, find_boxed


@pytest.mark.parametrize(
    ("text", "answer", "rule"),
    [
        ("so $\\boxed{42}$.", "42", "boxed"),
        ("first \\boxed{1} then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", "boxed"),
        ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", "boxed"),
        ("\\boxed{\\{1,2\\}}", "\\{1,2\\}", "boxed"),
        ("\\fbox{7}", "7", "boxed"),
        ("thus \\boxed 5 is it", "5", "boxed"),
        ("roots: \\boxed{2}, \\boxed{3}", "2, 3", "boxed"),
        ("roots \\boxed{2} and \\boxed{3}", "2, 3", "boxed"),
        ("Final Answer: The final answer is $12$. I hope it is correct.", "12", "final_answer"),
        ("final answer: 3.5", "3.5", "final_answer"),
        ("Therefore, the answer is 17.", "17", "answer_is"),
        ("The answer is $x = \\frac{1}{2}$ since ...", "x = \\frac{1}{2}", "answer_is"),
        ("Answer: 1,000", "1,000", "answer_is"),
        ("**Final Answer**: 5", "5", "final_answer"),
        ("The answer is: **7**", "7", "answer_is"),
        ("The answer is 5, which is odd.", "5", "answer_is"),
        ("work...\n#### 72", "72", "gsm8k"),
        ("We conclude that $x^2+1$", "x^2+1", "trailing_math"),
        ("so it is \\[\\frac{3}{4}\\]", "\\frac{3}{4}", "trailing_math"),
        ("after 3 steps we get 19 apples", "19", "last_number"),
        ("the total is -2,500.75 dollars", "-2,500.75", "last_number"),
    ],
)
def test_rules(text, answer, rule):
    found = extract_answer(text)
    assert found is not None
    assert (found.text, found.rule) == (answer, rule)


def test_last_number_fallback_can_be_turned_off():
    assert extract_answer("we get 19 apples", last_number_fallback=False) is None
    assert extract_answer("no numbers here") is None
    assert extract_answer("") is None


def test_boxed_beats_other_rules_and_last_box_wins():
    text = "The answer is 3. Actually \\boxed{4}. Later \\boxed{5} and more text 6"
    assert extract_answer(text).text == "5"


def test_unbalanced_box_is_ignored():
    assert find_boxed("\\boxed{1 + {2}") == []
    assert extract_answer("\\boxed{1 + {2}", last_number_fallback=False) is None


def test_escaped_braces_inside_box():
    assert find_boxed("\\boxed{\\{1\\}}")[0][0] == "\\{1\\}"


def test_huge_inputs_are_fast():
    import time

    start = time.perf_counter()
    extract_answer("\\boxed{" + "{" * 100_000 + "1" + "}" * 100_000 + "}")
    extract_answer("x" * 1_000_000)
    extract_answer("$" * 100_000)
    extract_answer("\\[" * 50_000)
    assert time.perf_counter() - start < 5


def test_many_boxes_are_found_in_linear_time():
    import time

    start = time.perf_counter()
    assert len(find_boxed("\\boxed{1} " * 20_000)) == 20_000
    assert len(find_boxed("\\boxed 1 " * 20_000)) == 20_000
    assert time.perf_counter() - start < 2  # was quadratic: a str.find per command


@pytest.mark.parametrize(
    ("text", "answer", "rule"),
    [
        # the last marker decides, whatever its kind
        ("So $\\boxed{5}$ first.\nFinal answer: 7", "7", "final_answer"),
        ("We get $\\boxed{5}$. The final answer is 7.", "7", "final_answer"),
        ("It is not $\\boxed{5}$; the answer is 7.", "7", "answer_is"),
        ("Final Answer: The final answer is $\\boxed{5}$.", "5", "boxed"),
        # boxes joined into one answer
        ("roots $\\boxed{2}\\quad\\text{and}\\quad\\boxed{7}$", "2, 7", "boxed"),
        ("$\\boxed{7}\\boxed{8}$", "7, 8", "boxed"),
        # prose after a marker
        ("Final Answer: The largest $n$ is 34.", "34", "final_answer"),
        ("Final Answer: The smallest $k$ is $12$. I hope it is correct.", "12", "final_answer"),
        # chat-template junk ends the response
        ("So 35 routes.<|im_end|>\n<|im_start|>user\nWhat is 2+2?", "35", "last_number"),
        ("<|im_start|>assistant\nThe answer is 4.", "4", "answer_is"),
        # trailing math with a few words after it
        ("Thus the area is $\\frac{9\\pi}{4}$ square units.", "\\frac{9\\pi}{4}", "trailing_math"),
        # a mixed number is read whole by the fallback
        ("The result is 5 1/3.", "5 1/3", "last_number"),
    ],
)
def test_issue_17_extraction_rules(text, answer, rule):
    found = extract_answer(text)
    assert found is not None and (found.text, found.rule) == (answer, rule)


@pytest.mark.parametrize(
    "text",
    [
        "It is not $\\boxed{5}$.",
        "The answer could be $\\boxed{5}$ or 7.",
        "Maybe $\\boxed{5}$, maybe not.",
        "$\\boxed{5}$ is wrong.",
        "Is it $\\boxed{5}$?",
        "$\\boxed{5}$ (but this might be wrong)",
        "The answer is not 5.",
        "The answer is probably 5.",
        "So $\\boxed{5}$. The answer is wrong.",
        "It is $\\boxed{5}$ if $n$ is even, otherwise 8.",
    ],
)
def test_negated_hedged_or_withdrawn_answers_are_withheld(text):
    assert extract_answer(text) is None
    assert answer_is_withheld(text)


def test_bounds_before_the_last_number_are_not_answers():
    assert extract_answer("there are at least 5 of them") is None
    assert extract_answer("it costs about 5 dollars") is None
    assert extract_answer("we get 19 apples").text == "19"
