from hypothesis import given
from hypothesis import strategies as st

from verifiers.code.compare import first_difference, normalize_output, outputs_match

texts = st.text(alphabet=st.sampled_from("ab 1.5\t\n\r-"), max_size=40)


def test_whitespace_policy():
    assert outputs_match("1 2\n3\n", "1 2\n3")
    assert outputs_match("1 2   \n3\n\n\n", "1 2\n3\n")
    assert outputs_match("a\r\nb\r\n", "a\nb\n")
    assert not outputs_match(" 1", "1")  # leading whitespace counts
    assert not outputs_match("1\n\n2", "1\n2")  # inner blank lines count
    assert not outputs_match("12", "1 2")


def test_float_tolerance():
    assert not outputs_match("0.3333", "0.333333")
    assert outputs_match("0.3333 x", "0.333333 x", float_tol=1e-3)
    assert not outputs_match("0.3333 y", "0.333333 x", float_tol=1e-3)
    assert outputs_match("1e3\n", "1000.0", float_tol=1e-9)
    assert not outputs_match("1 2", "1", float_tol=1e-3)


def test_first_difference():
    assert "line 2" in first_difference("a\nb", "a\nc")
    assert "line(s)" in first_difference("a", "a\nb")


@given(texts)
def test_normalize_idempotent(a):
    once = "\n".join(normalize_output(a))
    assert normalize_output(once) == normalize_output(a)


@given(texts, texts, st.none() | st.sampled_from([1e-6, 1e-2]))
def test_match_symmetric(a, b, tol):
    assert outputs_match(a, b, float_tol=tol) == outputs_match(b, a, float_tol=tol)


@given(texts, st.text(alphabet=" \t\n", max_size=5))
def test_trailing_whitespace_never_matters(a, tail):
    assert outputs_match(a, a + tail)
    assert outputs_match(a, a)


@given(st.integers(), st.integers(), st.sampled_from([1e-9, 1e-3, 0.5]))
def test_integers_compare_exactly_whatever_the_tolerance(a, b, tol):
    assert outputs_match(str(a), str(b), float_tol=tol) == (a == b)


def test_only_ascii_decimal_tokens_are_numbers():
    for got, want in [("５", "5"), ("1_000", "1000"), ("٣", "3"), ("0.0000009", "0"),
                      ("1000000008", "1000000007"), ("5.0", "5"), ("nan", "NaN")]:  # fmt: skip
        assert not outputs_match(got, want, float_tol=1e-3), (got, want)
    assert outputs_match("1e-9", "0.0", float_tol=1e-6)
    assert outputs_match("2.5000001", "2.5", float_tol=1e-6)
