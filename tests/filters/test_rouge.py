"""rouge_tokens and rouge_l_f are rouge-score's tokenizer and ROUGE-L F-measure, bit for bit.

The oracle is the real rouge-score package: ``RougeScorer(["rougeL"], use_stemmer=False)``.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from rouge_score import rouge_scorer, tokenizers

from factory.filters.rouge import lcs_length, rouge_l_f, rouge_tokens

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
TOKENIZER = tokenizers.DefaultTokenizer(use_stemmer=False)

# Letters whose lower case is ASCII or starts with ASCII (Kelvin sign, dotted capital I),
# other scripts, digits that are not ASCII, ligatures, combining marks, punctuation.
TRICKY = "İKÅßﬁ１٣éÉñ\u0301ΣДя中文 \t\n\r_-.,;:!?'\"()[]{}<>/\\|@#$%^&*+=~`0123456789aZ"
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=60) | st.text(max_size=60)
words = st.sampled_from(["a", "b", "c", "the", "of", "x1", "2", "b2"])
token_lists = st.lists(words, max_size=14)


def oracle_f(target: list[str], prediction: list[str]) -> float:
    """rouge-score's F of two token lists, through its public API (tokens survive a join)."""
    return SCORER.score(" ".join(target), " ".join(prediction))["rougeL"].fmeasure


@given(texts)
@example("İstanbul ＫELVIN Kelvin")
@example("ﬁnal café naïve Ångström straße")
@example("x_1, y-2; 3.14 １２ ٣")
@example("")
@example("   \n\t ")
def test_tokens_are_rouge_scores_default_tokenizer(text):
    assert rouge_tokens(text) == TOKENIZER.tokenize(text)


def test_tokens_lowercase_and_split_on_everything_but_ascii_letters_and_digits():
    assert rouge_tokens("Write a Python function, f(x) = x^2!") == [
        "write",
        "a",
        "python",
        "function",
        "f",
        "x",
        "x",
        "2",
    ]
    assert rouge_tokens("İ") == ["i"]  # lower() gives "i" + a combining dot
    assert rouge_tokens("café") == ["caf"]


@given(token_lists, token_lists)
def test_f_equals_rouge_score(a, b):
    assert rouge_l_f(a, b) == oracle_f(a, b)


@given(token_lists, token_lists)
def test_f_is_symmetric_to_the_last_bit(a, b):
    assert rouge_l_f(a, b) == rouge_l_f(b, a)


@given(st.lists(words, max_size=40), st.lists(words, max_size=40))
def test_lcs_length_equals_rouge_scores_table(a, b):
    expected = rouge_scorer._lcs_table(a, b)[-1][-1] if a and b else 0
    assert lcs_length(a, b) == expected


def test_empty_inputs_score_zero_like_rouge_score():
    assert rouge_l_f([], []) == oracle_f([], []) == 0
    assert rouge_l_f(["a"], []) == oracle_f(["a"], []) == 0
    assert rouge_l_f([], ["a"]) == 0
    assert rouge_l_f(["a"], ["b"]) == oracle_f(["a"], ["b"]) == 0


def test_boundary_values_round_exactly_as_rouge_score():
    seven = ["a", "b", "c", "d", "e", "f", "g"]
    # LCS 7 of 10 and 10 tokens: exactly 0.7 in floating point too.
    ten_a, ten_b = [*seven, "x", "y", "z"], [*seven, "u", "v", "w"]
    assert rouge_l_f(ten_a, ten_b) == oracle_f(ten_a, ten_b) == 0.7
    # LCS 7 of 7 and 13 tokens: 2·7/20 = 0.7 exactly, but the float rounds above 0.7.
    thirteen = [*seven, "u", "v", "w", "x", "y", "z"]
    assert rouge_l_f(seven, thirteen) == oracle_f(seven, thirteen) == 0.7000000000000001
