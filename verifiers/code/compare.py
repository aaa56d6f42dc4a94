"""Runner-side comparison of a program's stdout with the expected output.

Whitespace policy (documented, and tested to be idempotent and symmetric):

1. ``\\r\\n`` and ``\\r`` become ``\\n``;
2. each line loses its trailing whitespace (leading whitespace is kept: it can matter);
3. trailing empty lines are dropped (so a missing or extra final newline never matters);
4. the remaining lines must be equal.

With ``float_tol`` set, each line is split on whitespace instead and numeric tokens
are compared as numbers. A number is an ASCII decimal token only (``-12``, ``3.5``,
``1e-9``; never full-width or other Unicode digits, underscores, ``nan`` or ``inf``,
which compare as text). When the EXPECTED token is an integer, the output's token
must be an integer of the same value: integers compare exactly, so ``1000000008`` is
never ``1000000007`` and ``0.0000009`` is never ``0``. When the expected token has a
fraction or an exponent, the output's numeric token must agree within ``float_tol``
(absolute or relative, as in ``math.isclose``). Other tokens must be equal.
"""

from __future__ import annotations

import math
import re

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def normalize_output(text: str) -> list[str]:
    """The lines of ``text`` after the whitespace policy."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _tokens_match(got: str, want: str, tol: float) -> bool:
    if got == want:
        return True
    if _INTEGER.fullmatch(want):
        return _INTEGER.fullmatch(got) is not None and int(got) == int(want)
    if not (_NUMBER.fullmatch(got) and _NUMBER.fullmatch(want)):
        return False
    a, b = float(got), float(want)
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def outputs_match(got: str, expected: str, *, float_tol: float | None = None) -> bool:
    """True when ``got`` equals ``expected`` under the whitespace (and float) policy."""
    a, b = normalize_output(got), normalize_output(expected)
    if float_tol is None:
        return a == b
    if len(a) != len(b):
        return False
    for line_a, line_b in zip(a, b, strict=True):
        ta, tb = line_a.split(), line_b.split()
        if len(ta) != len(tb):
            return False
        if not all(_tokens_match(x, y, float_tol) for x, y in zip(ta, tb, strict=True)):
            return False
    return True


def first_difference(got: str, expected: str) -> str:
    """A short description of where the normalized outputs first differ."""
    a, b = normalize_output(got), normalize_output(expected)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"line {i + 1}: got {x[:200]!r}, expected {y[:200]!r}"
    if len(a) != len(b):
        return f"got {len(a)} line(s), expected {len(b)}"
    return "outputs differ only in numeric tokens beyond the tolerance"
