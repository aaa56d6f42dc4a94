"""The math verifier: is a final answer equal to the reference?

    from verifiers.math import check_answer
    verdict = check_answer("... so $x = \\frac{1}{2}$.", "0.5")
    verdict.passed, verdict.reason, verdict.details["method"]

The pipeline is :mod:`~verifiers.math.extract` (find the answer in a response),
:mod:`~verifiers.math.parse` (LaTeX/plain text -> SymPy, never via ``eval``),
:mod:`~verifiers.math.equivalence` (compare) and :mod:`~verifiers.math.answer`
(compose them into a Verdict). :mod:`~verifiers.math.checks` verifies without a
reference (substitution, differentiation). The public functions below run every
check in a killable worker process with a time and memory limit.
"""

from verifiers.math.equivalence import Comparison, equivalent
from verifiers.math.extract import Extraction, extract_answer
from verifiers.math.parse import MathObject, MathParseError, parse_answer
from verifiers.math.verifier import (
    MathVerifier,
    check_answer,
    check_antiderivative,
    check_many,
    check_substitution,
)

__all__ = [
    "Comparison",
    "Extraction",
    "MathObject",
    "MathParseError",
    "MathVerifier",
    "check_answer",
    "check_antiderivative",
    "check_many",
    "check_substitution",
    "equivalent",
    "extract_answer",
    "parse_answer",
]
