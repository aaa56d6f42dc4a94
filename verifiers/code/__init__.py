"""Code verification: does an LLM-written Python solution pass its tests?

Tests run in the hardened sandbox (``sandbox``); whether they passed is decided
here, in the parent process, from values and per-test records — never from an
exit status or anything the program prints::

    from verifiers.code import check_solution
    verdict = check_solution(code, "assert add(2, 3) == 5")
"""

from verifiers.code.extract import extract_code
from verifiers.code.verifier import (
    UnitTestVerifier,
    acheck_solution,
    check_many,
    check_solution,
    detect_style,
)

__all__ = [
    "UnitTestVerifier",
    "acheck_solution",
    "check_many",
    "check_solution",
    "detect_style",
    "extract_code",
]
