"""What a source yields: a `Problem` with its `Reference`, ready to be solved and verified.

A problem's ``id`` is a content hash of (source kind, statement, reference), so
the same problem from the same kind of source gets the same id on every run and
every machine; ids are what runs, caches and dedup key on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Trust = Literal["ground_truth", "generated", "consensus"]
"""How far a reference can be believed.

``ground_truth``: from a curated file or computed exactly (procedural).
``generated``: written by an LLM, unchecked. ``consensus``: an LLM reference that
k of n independent solves agreed with (set by the run, never by a source).
"""

ID_LENGTH = 16


class StdioCase(BaseModel):
    """One stdin/stdout case of a program problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str
    output: str


class Reference(BaseModel):
    """What a candidate is checked against. Which fields are set depends on the domain.

    Math: ``answer`` (a LaTeX or plain expression) or ``check`` (a property to test,
    e.g. ``{"kind": "antiderivative", "integrand": "x*cos(x)", "variable": "x"}``
    when no single answer exists). Code: ``tests`` (assert-style Python, or a
    HumanEval ``check(candidate)`` function) with ``entry_point``, and/or ``stdio``
    cases; ``solution`` is a worked or reference solution when one is known.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: str | None = None
    solution: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    stdio: list[StdioCase] | None = None
    check: dict[str, Any] | None = None

    def is_empty(self) -> bool:
        """True when nothing at all can be checked against this reference."""
        return not (self.answer or self.tests or self.stdio or self.check)


def problem_id(source: str, statement: str, reference: Reference) -> str:
    """The content hash that identifies a problem: same inputs, same id, everywhere."""
    # Canonical JSON (sorted keys, no whitespace, None fields dropped) so that
    # field order or an explicit null never changes the id.
    payload = {
        "source": source,
        "statement": statement.strip(),
        "reference": reference.model_dump(mode="json", exclude_none=True),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


class Problem(BaseModel):
    """One problem with its reference. Immutable; ``id`` is filled in from the content.

    ``source`` is the kind of source that produced it (``procedural``, ``file``,
    ``llm`` or a plugin's name); where exactly it came from (file and row,
    generator and parameters, model) goes in ``metadata``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = ""
    statement: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    reference: Reference
    trust: Trust
    topic: str | None = None
    difficulty: str | None = None
    source: str = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("statement")
    @classmethod
    def _statement_not_blank(cls, statement: str) -> str:
        if not statement.strip():
            raise ValueError("statement is blank")
        return statement

    @model_validator(mode="after")
    def _fill_id(self) -> Problem:
        # An explicit id is kept (e.g. a problem read back from a run's state);
        # otherwise it is derived from the content.
        if not self.id:
            object.__setattr__(self, "id", problem_id(self.source, self.statement, self.reference))
        return self

    def verifier_problem(self) -> dict[str, Any]:
        """The mapping handed to the verifier: only the keys that verifier reads.

        Math: ``{"reference": answer}`` and/or ``{"check": {...}}``. Code:
        ``{"tests", "entry_point", "stdio", "reference_solution"}`` (unset ones left
        out). Any other domain (plugins): every set reference field, with ``answer``
        also given as ``reference``, the key most verifiers read.
        """
        ref = self.reference
        if self.domain == "math":
            out: dict[str, Any] = {}
            if ref.answer is not None:
                out["reference"] = ref.answer
            if ref.check is not None:
                out["check"] = dict(ref.check)
            return out
        if self.domain == "code":
            code = {
                "tests": ref.tests,
                "entry_point": ref.entry_point,
                "stdio": [c.model_dump() for c in ref.stdio] if ref.stdio is not None else None,
                "reference_solution": ref.solution,
            }
            return {k: v for k, v in code.items() if v is not None}
        out = ref.model_dump(mode="json", exclude_none=True)
        if ref.answer is not None:
            out["reference"] = ref.answer
        return out
