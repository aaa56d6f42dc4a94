"""The in-process answer check: extract -> parse -> compare -> Verdict.

:func:`check_answer_inprocess` is what the public
:func:`verifiers.math.check_answer` runs inside a killable worker process; it
takes and returns plain picklable values (the Verdict as a dict).

Reasons:

- ``no_answer``: nothing could be extracted from the candidate;
- ``parse_error``: the extracted answer is not parseable (or is too long);
- ``reference_error``: the *reference* is not parseable (never a pass, never
  the candidate's fault);
- ``wrong_answer`` / ``correct``: the comparison's outcome;
- ``infra_error``: a bug of ours, with the exception text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from verifiers.errors import VerifierOptionsError
from verifiers.math.equivalence import DEFAULT_PROBES, DEFAULT_REL_TOL, equivalent
from verifiers.math.extract import Extraction, answer_is_withheld, extract_answer
from verifiers.math.lexer import FUNCTIONS, normalize_delimiters
from verifiers.math.parse import (
    MAX_LENGTH,
    MathObject,
    MathParseError,
    Tagged,
    Text,
    describe,
    parse_answer,
)
from verifiers.verdict import Reason, Verdict

__all__ = [
    "MAX_RESPONSE_LENGTH",
    "MathOptions",
    "check_answer_inprocess",
    "parse_candidate",
    "short",
    "validate_options",
]

MAX_RESPONSE_LENGTH = 200_000
_SHORT = 200
_BARE_MAX = 300
_MATH_WORDS = FUNCTIONS | {
    "pi",
    "inf",
    "infinity",
    "or",
    "and",
    "oo",
}  # a candidate without answer markers is tried whole up to this length


class MathOptions(BaseModel):
    """Options of the math checks. Unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(default=5.0, gt=0, le=600)
    memory_mb: int = Field(default=1024, ge=64)
    rel_tol: float = Field(default=DEFAULT_REL_TOL, ge=0, lt=1)
    probes: int = Field(default=DEFAULT_PROBES, ge=1, le=50)
    last_number_fallback: bool = True
    approx_rel_tol: float | None = Field(default=None, gt=0, lt=1)


def validate_options(options: Mapping[str, Any]) -> MathOptions:
    """Options as a MathOptions; VerifierOptionsError names what is wrong."""
    try:
        return MathOptions(**dict(options))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in exc.errors()
        )
        known = ", ".join(MathOptions.model_fields)
        raise VerifierOptionsError(f"bad math options ({problems}); known: {known}") from exc


def short(value: Any, limit: int = _SHORT) -> str:
    """``str(value)`` cut to ``limit`` characters (and safe for huge integers)."""
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{describe(k)}: {describe(v)}" for k, v in value.items()) + "}"
        return text if len(text) <= limit else text[: limit - 3] + "..."
    return describe(value, limit)


def parse_candidate(
    candidate: Any, opts: MathOptions, details: dict[str, Any]
) -> MathObject | Verdict:
    """Extract and parse the candidate's answer, or the failing Verdict.

    Records ``extracted`` and ``rule`` in ``details``.
    """
    if not isinstance(candidate, str) or not candidate.strip():
        return Verdict.fail(Reason.NO_ANSWER, "empty candidate", details=details)
    if len(candidate) > MAX_RESPONSE_LENGTH:
        return Verdict.fail(
            Reason.PARSE_ERROR,
            f"candidate too long ({len(candidate)} characters, limit {MAX_RESPONSE_LENGTH})",
            details=details,
        )
    ext: Extraction | None = extract_answer(candidate, last_number_fallback=False)
    if ext is None and answer_is_withheld(candidate):
        return Verdict.fail(
            Reason.NO_ANSWER, "the answer is negated or hedged, not stated", details=details
        )
    bare_error: MathParseError | None = None
    prose = _looks_like_prose(candidate)
    if ext is None and (len(candidate.strip()) <= _BARE_MAX or not prose):
        try:
            obj = parse_tidy(candidate)
        except MathParseError as exc:
            bare_error = exc
        else:
            if not (isinstance(obj.value, Text) and len(obj.value.text.split()) > 3):
                details.update(extracted=short(candidate.strip()), rule="bare")
                return obj  # (a longer run of words is prose, not a word answer)
    if ext is None and bare_error is not None and not prose:
        # One unparseable expression (say thousands of nested \frac) is a parse error:
        # the last-number fallback must not pick a digit out of it.
        details.update(extracted=short(candidate.strip()), rule="bare")
        return Verdict.fail(
            Reason.PARSE_ERROR, f"cannot parse the answer: {bare_error}", details=details
        )
    if ext is None and opts.last_number_fallback:
        ext = extract_answer(candidate, last_number_fallback=True)
    if ext is None:
        return Verdict.fail(Reason.NO_ANSWER, "no answer found in the candidate", details=details)
    details.update(extracted=short(ext.text), rule=ext.rule)
    if len(ext.text) > MAX_LENGTH:
        return Verdict.fail(
            Reason.PARSE_ERROR,
            f"answer too long ({len(ext.text)} characters, limit {MAX_LENGTH})",
            details=details,
        )
    try:
        return parse_tidy(ext.text)
    except MathParseError as exc:
        return Verdict.fail(Reason.PARSE_ERROR, f"cannot parse the answer: {exc}", details=details)


_TRAILING_PUNCT = re.compile(r"(?:\\[,;:! ]|\\q?quad|(?<!\\)\\$|[\s.,;:])+$")


def tidy(text: str) -> str:
    """``text`` without math delimiters and sentence punctuation at its end.

    ``\\frac13.`` and ``5,`` come from answers written inside a sentence; an
    ellipsis (``5...``) is kept, since it changes the answer.
    """
    text = normalize_delimiters(text)
    if text.rstrip().endswith("..."):
        return text.strip()
    return _TRAILING_PUNCT.sub("", text).strip() or text.strip()


def parse_tidy(text: str) -> MathObject:
    """:func:`parse_answer` of the :func:`tidy` text."""
    return parse_answer(tidy(text))


def parse_reference(reference: str) -> MathObject:
    """The reference, unwrapped the way a candidate is: a box or an answer marker in it
    (a worked solution as the reference) gives its answer; delimiters and sentence
    punctuation go. Raises MathParseError."""
    ext = extract_answer(reference, last_number_fallback=False)
    if ext is not None and ext.rule != "trailing_math":
        try:
            return parse_tidy(ext.text)
        except MathParseError:
            pass
    try:
        return parse_tidy(reference)
    except MathParseError:
        if ext is None:
            raise
        return parse_tidy(ext.text)


_WRAPPER = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_LONE_LETTER = re.compile(r"(?<![A-Za-z\\])[A-J](?![A-Za-z])")
_PAREN_CHOICE = re.compile(r"\(([A-J])\)")
_BARE_CHOICE = re.compile(r"\(?([A-J])\)?")
_LEADING_CHOICE = re.compile(r"\(?([A-J])(?:\)|[.:])(?:\s|$)")
_PROSE_CHOICE = re.compile(r"\b(?:option|choice|answer)\s+(?:is\s+)?(?:\*\*)?\(([A-J])\)")


def _unwrapped(text: str) -> str:
    return _WRAPPER.sub(r"\1", tidy(text)).strip()


def choice_letter(text: str, *, bare: bool) -> str | None:
    """The multiple-choice letter a text answers with (``C``, ``(C)``, ``\\text{(C)}``).

    With ``bare`` only a text that is nothing but the letter counts; otherwise also
    "C. x = 42", "(D) 17" and "the correct option is (B)".
    """
    if not bare and len(set(_PAREN_CHOICE.findall(_WRAPPER.sub(r"\1", text)))) > 1:
        return None  # "(A) or (B)": more than one choice named, no answer
    ext = extract_answer(text, last_number_fallback=False)
    for source in (text, ext.text) if ext is not None else (text,):
        plain = _unwrapped(source)
        m = _BARE_CHOICE.fullmatch(plain)
        if m:
            return m.group(1)
        if not bare:
            m = _LEADING_CHOICE.match(plain)
            if m:
                return m.group(1)
    if not bare:
        found = _PROSE_CHOICE.findall(_WRAPPER.sub(r"\1", text))
        if found:
            return str(found[-1])
    return None


_CLOCK = re.compile(r"(\d{1,2}):([0-5]\d)(?::([0-5]\d))?\s*(?:([AaPp])\.?\s*[Mm]\.?)?", re.ASCII)


def clock_seconds(text: str) -> int | None:
    """A clock time (``20:34``, ``8:34:00``, ``08:34 \\text{P.M.}``) as seconds after
    midnight; None when the text is not just a clock time."""
    plain = re.sub(r"\\[,;: !]|~", " ", _unwrapped(text))
    m = _CLOCK.fullmatch(plain.strip())
    if m is None:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if m.group(4):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m.group(4).lower() == "p" else 0)
    if hour > 24:
        return None
    return (hour * 60 + minute) * 60 + second


def _clock_verdict(candidate: str, reference: str) -> Verdict | None:
    """Clock times: when both sides are times of day, compare them."""
    if ":" not in reference or ":" not in candidate:
        return None
    ref = clock_seconds(reference)
    if ref is None:
        return None
    cand = clock_seconds(_extracted(candidate))
    if cand is None:
        return None
    details = {"method": "clock time"}
    if cand == ref:
        return Verdict.ok("the same time of day as the reference", details=details)
    return Verdict.fail(Reason.WRONG_ANSWER, "another time of day", details=details)


def _choice_verdict(candidate: str, reference: str) -> Verdict | None:
    """Multiple choice: when one side is a bare letter, compare the letters."""
    if not (_LONE_LETTER.search(reference) and _LONE_LETTER.search(candidate)):
        return None  # (a cheap test first: most answers hold no lone capital letter)
    ref_bare = choice_letter(reference, bare=True)
    cand_bare = choice_letter(candidate, bare=True)
    if ref_bare is None and cand_bare is None:
        return None
    ref_letter = ref_bare or choice_letter(reference, bare=False)
    cand_letter = cand_bare or choice_letter(candidate, bare=False)
    if ref_letter is None or cand_letter is None:
        return None
    details = {"method": "choice", "candidate_choice": cand_letter, "reference_choice": ref_letter}
    if cand_letter == ref_letter:
        return Verdict.ok("the same choice as the reference", details=details)
    return Verdict.fail(Reason.WRONG_ANSWER, "another choice than the reference", details=details)


def _well_formed(text: str) -> bool:
    """Balanced braces and no dangling operator or backslash at the end."""
    depth = 0
    for ch in re.sub(r"\\.", "", text):  # an escaped brace \{ is not a group
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and not re.search(r"[\\^_+\-*/=({\[]\s*$", text.strip())


def _same_text(candidate: str, reference: str) -> bool:
    """The two answers are the same string (spaces, delimiters and final dots aside)."""

    def key(text: str) -> str:
        return re.sub(r"\s+|\\[,;:! ]", "", tidy(text))

    return bool(key(candidate)) and key(candidate) == key(reference)


def _looks_like_prose(text: str) -> bool:
    """Two or more plain words (not LaTeX commands): a sentence, not a bare answer."""
    words = re.findall(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?![A-Za-z])", text)
    return "\n" in text.strip() or sum(w.lower() not in _MATH_WORDS for w in words) >= 2


def _check(candidate: Any, reference: Any, opts: MathOptions) -> Verdict:
    details: dict[str, Any] = {}
    if isinstance(reference, int | float) and not isinstance(reference, bool):
        reference = repr(reference)  # datasets often store numeric answers as numbers
    if not isinstance(reference, str):
        return Verdict.fail(Reason.REFERENCE_ERROR, "the reference is not a string or number")
    if isinstance(candidate, str) and len(candidate) <= MAX_RESPONSE_LENGTH:
        special = _choice_verdict(candidate, reference) or _clock_verdict(candidate, reference)
        if special is not None:
            return special
    try:
        ref = parse_reference(reference)
    except MathParseError as exc:
        if (
            isinstance(candidate, str)
            and _well_formed(reference)
            and _same_text(_extracted(candidate), reference)
        ):
            # 12:00 vs 12:00: an unparseable reference still equals its own text
            return Verdict.ok(
                "the same text as the reference", details={"method": "identical text"}
            )
        return Verdict.fail(
            Reason.REFERENCE_ERROR,
            f"cannot parse the reference: {exc}",
            details={"reference": short(reference)},
        )
    details["reference_parsed"] = short(ref)
    cand = parse_candidate(candidate, opts, details)
    if isinstance(cand, Verdict):
        return cand
    details["candidate_parsed"] = short(cand)
    if (
        isinstance(ref.value, Tagged)
        and ref.value.tag == "percent"
        and not isinstance(cand.value, Tagged)
    ):
        # A bare number answering a percent question is a number of percent:
        # 0.5 against 50% means 0.5%, not one half (see the README's percent policy).
        ref = replace(ref, value=ref.value.value)
    cmp = equivalent(
        cand, ref, rel_tol=opts.rel_tol, probes=opts.probes, approx_rel_tol=opts.approx_rel_tol
    )
    details.update(method=cmp.method, note=cmp.note)
    if cmp.equal:
        return Verdict.ok("equivalent to the reference", details=details)
    return Verdict.fail(Reason.WRONG_ANSWER, "not equivalent to the reference", details=details)


def _extracted(candidate: str) -> str:
    ext = extract_answer(candidate, last_number_fallback=False)
    return candidate if ext is None else ext.text


def run_guarded(fn: Any, *args: Any) -> dict[str, Any]:
    """Run a check, turning any internal exception into an infra_error verdict dict.

    MemoryError is re-raised so the worker reports the memory cap.
    """
    start = time.perf_counter()
    try:
        verdict = fn(*args)
    except MemoryError:
        raise
    except RecursionError as exc:
        verdict = Verdict.fail(Reason.INFRA_ERROR, f"internal error: recursion too deep ({exc})")
    except Exception as exc:  # a bug of ours must not look like a wrong answer
        verdict = Verdict.fail(
            Reason.INFRA_ERROR,
            f"internal error: {type(exc).__name__}: {short(exc, 500)}",
            details={"exception": type(exc).__name__},
        )
    return verdict.model_copy(update={"elapsed_s": time.perf_counter() - start}).model_dump(
        mode="json"
    )


def check_answer_inprocess(
    candidate: str, reference: str, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Check ``candidate`` against ``reference`` in this process; the Verdict as a dict.

    Unbounded: call it through :func:`verifiers.math.check_answer`, which runs it
    in a killable worker, unless the inputs are trusted.
    """
    opts = validate_options(options or {})
    return run_guarded(_check, candidate, reference, opts)
