"""The child's strict value encoding and the parent's decoding agree, and nothing leaks."""

import collections
import fractions
import math

from hypothesis import given
from hypothesis import strategies as st

from verifiers.code.harness import factory_common as fc
from verifiers.code.values import Iterated, Opaque, decode_value, values_equal

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**70)
    | st.floats()
    | st.text()
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
        | st.frozensets(st.integers() | st.text(max_size=3), max_size=3)
    ),
    max_leaves=15,
)


@given(plain)
def test_roundtrip(value):
    encoded = fc.encode(value)
    decoded = decode_value(encoded)
    assert fc.encode(decoded) == encoded  # stable
    if "nan" not in repr(value):
        assert decoded == value
        assert type(decoded) is type(value)


def test_special_values():
    for v in (
        float("inf"),
        float("-inf"),
        10**5000,
        fractions.Fraction(1, 3),
        3 + 4j,
        range(1, 9, 2),
    ):
        assert decode_value(fc.encode(v)) == v
    assert math.isnan(decode_value(fc.encode(float("nan"))))
    assert decode_value(fc.encode(collections.Counter("aab"))) == {"a": 2, "b": 1}
    assert decode_value(fc.encode(collections.deque([1]))) == collections.deque([1])


def test_candidate_objects_are_opaque_and_equal_nothing():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class SneakyInt(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class PlainInt(int):
        pass

    for obj in (AlwaysEqual(), SneakyInt(3), [AlwaysEqual()]):
        decoded = decode_value(fc.encode(obj))
        assert not values_equal(decoded, 3)
        assert not values_equal(decoded, [3])
    assert isinstance(decode_value(fc.encode(AlwaysEqual())), Opaque)
    assert decode_value(fc.encode(PlainInt(3))) == 3  # inherited equality is safe to read


def test_iterators_are_consumed_but_not_lists():
    decoded = decode_value(fc.encode(x * 2 for x in range(3)))
    assert isinstance(decoded, Iterated)
    assert sorted(decoded) == [0, 2, 4]
    assert decoded != [0, 2, 4]


def test_float_tolerance():
    assert values_equal([1.0, (2.0000001,)], [1, (2.0,)], float_tol=1e-6)
    assert not values_equal([1.0], (1.0,), float_tol=1e-6)
    assert not values_equal(1.1, 1.0, float_tol=1e-6)
    assert values_equal(float("nan"), float("nan"), float_tol=1e-6)
    # The tolerance applies where the expected value is a float; an int expected is exact.
    assert not values_equal(5.0000001, 5, float_tol=1e-3)
    assert values_equal(5.0, 5, float_tol=1e-3)
    assert values_equal(5, 5.0000001, float_tol=1e-3)
    assert not values_equal([True], [1.0000001], float_tol=1e-3)
