"""Finding the final answer in a response (verifiers.math.extract)."""

import pytest

from verifiers.math.extract import extract_answer, find_boxed


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
