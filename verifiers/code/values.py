"""Runner-side decoding and comparison of values the sandboxed child reported.

The child encodes values as JSON-able tagged data (``harness/factory_common.py``);
here they become plain Python values again, built only from builtin and stdlib
types, so comparing them with ``==`` runs none of the candidate's code. Nothing
the child sends is ever ``eval``-ed.
"""

from __future__ import annotations

import collections
import decimal
import fractions
import math
from typing import Any


class Opaque:
    """A value the child could not encode (a custom object). Equal to nothing, not even itself."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


class Iterated:
    """What an iterator/generator yielded. Iterable again (for ``sorted``/``set``/``list``)
    but, like the iterator it stands for, never equal to a list and without ``len``."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<iterator over {self.items!r}>"


class DecodeError(ValueError):
    """The child's report did not hold a well-formed encoded value."""


_MAX_DEPTH = 120


def decode_value(obj: Any, _depth: int = 0) -> Any:
    """Turn the child's tagged JSON data back into a Python value (raises DecodeError)."""
    if _depth > _MAX_DEPTH:
        raise DecodeError("value nested too deeply")
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, list):
        return [decode_value(x, _depth + 1) for x in obj]
    if not isinstance(obj, dict):
        raise DecodeError(f"unexpected {type(obj).__name__} in encoded value")
    tag, v = obj.get("$t"), obj.get("v")
    try:
        return _decode_tagged(tag, v, obj, _depth)
    except DecodeError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, decimal.InvalidOperation) as exc:
        raise DecodeError(f"malformed {tag!r} value: {exc}") from exc


def _decode_tagged(tag: Any, v: Any, obj: dict, depth: int) -> Any:
    d = depth + 1
    if tag == "opaque":
        return Opaque(str(obj.get("type", "?"))[:100])
    if tag == "tuple":
        return tuple(decode_value(x, d) for x in v)
    if tag == "dict":
        return {decode_value(k, d): decode_value(x, d) for k, x in v}
    if tag == "set":
        return {decode_value(x, d) for x in v}
    if tag == "frozenset":
        return frozenset(decode_value(x, d) for x in v)
    if tag == "inthex":
        return int(str(v), 16)
    if tag == "float":
        if v not in ("nan", "inf", "-inf"):
            raise DecodeError(f"bad special float {v!r}")
        return float(v)
    if tag == "bytes":
        return bytes.fromhex(str(v))
    if tag == "complex":
        return complex(decode_value(v[0], d), decode_value(v[1], d))
    if tag == "range":
        return range(*(int(x) for x in v))
    if tag == "fraction":
        return fractions.Fraction(int(str(v[0])), int(str(v[1])))
    if tag == "decimal":
        return decimal.Decimal(str(v))
    if tag == "deque":
        return collections.deque(decode_value(x, d) for x in v)
    if tag == "iter":
        return Iterated([decode_value(x, d) for x in v])
    raise DecodeError(f"unknown value tag {tag!r}")


def values_equal(got: Any, expected: Any, *, float_tol: float | None = None) -> bool:
    """Python ``==`` on decoded values, or with floats compared within ``float_tol``.

    The tolerance applies only where the EXPECTED value is a float: an exact int (or
    bool) expected must be equal exactly, whatever the candidate's type."""
    if float_tol is None:
        try:
            return bool(got == expected)
        except (TypeError, ValueError, RecursionError):
            return False
    return _close(got, expected, float_tol, 0)


def _close(a: Any, b: Any, tol: float, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if type(b) is float and isinstance(a, float | int) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_close(x, y, tol, depth + 1) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol, depth + 1) for k in a)
    try:
        return bool(a == b)
    except (TypeError, ValueError, RecursionError):
        return False


def short_repr(value: Any, limit: int = 300) -> str:
    """A capped repr of a decoded value, for messages."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # e.g. ints over the str-digits limit
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."
