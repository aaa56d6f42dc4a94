"""The Verdict: what a verifier says about one candidate."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Reason(StrEnum):
    """Why a verdict came out as it did. A small fixed set, so pipelines can count them.

    Only ``correct`` is a pass. ``reference_error`` and ``infra_error`` are neither
    a pass nor a wrong answer: they say the *check itself* could not be made, and
    a pipeline must never score them as either.
    """

    CORRECT = "correct"
    WRONG_ANSWER = "wrong_answer"
    NO_ANSWER = "no_answer"
    PARSE_ERROR = "parse_error"
    TIMEOUT = "timeout"
    RUNTIME_ERROR = "runtime_error"
    TESTS_FAILED = "tests_failed"
    REFERENCE_ERROR = "reference_error"
    INFRA_ERROR = "infra_error"

    @property
    def is_candidate_fault(self) -> bool:
        """True when the reason blames the candidate (a real, countable failure)."""
        return self not in (Reason.CORRECT, Reason.REFERENCE_ERROR, Reason.INFRA_ERROR)

    @property
    def is_unverifiable(self) -> bool:
        """True when no judgement about the candidate could be made."""
        return self in (Reason.REFERENCE_ERROR, Reason.INFRA_ERROR)


class Verdict(BaseModel):
    """The outcome of verifying one candidate.

    ``passed`` is True exactly when ``reason`` is ``correct``; the model refuses
    any other combination so no code path can build a passing verdict by mistake.
    """

    model_config = ConfigDict(frozen=True)

    passed: bool
    reason: Reason
    message: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    elapsed_s: float = 0.0
    verifier: str = ""
    verifier_version: str = ""

    @model_validator(mode="after")
    def _passed_matches_reason(self) -> Verdict:
        if self.passed != (self.reason is Reason.CORRECT):
            raise ValueError(
                f"inconsistent verdict: passed={self.passed} with reason={self.reason.value}"
            )
        return self

    @classmethod
    def ok(cls, message: str = "correct", **kwargs: Any) -> Verdict:
        """A passing verdict."""
        return cls(passed=True, reason=Reason.CORRECT, message=message, **kwargs)

    @classmethod
    def fail(cls, reason: Reason, message: str, **kwargs: Any) -> Verdict:
        """A non-passing verdict with the given reason."""
        if reason is Reason.CORRECT:
            raise ValueError("Verdict.fail needs a failing reason, not 'correct'")
        return cls(passed=False, reason=reason, message=message, **kwargs)

    def stamped(self, *, verifier: str, version: str, elapsed_s: float | None = None) -> Verdict:
        """A copy that records which verifier made it and how long it took."""
        update: dict[str, Any] = {"verifier": verifier, "verifier_version": version}
        if elapsed_s is not None:
            update["elapsed_s"] = elapsed_s
        return self.model_copy(update=update)
