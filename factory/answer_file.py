"""Verify a JSONL file of (candidate, reference) rows with any registered verifier.

This is the offline job the README runs until the full pipeline lands: each
line is one candidate to judge. Two line shapes are accepted::

    {"id": "q1", "candidate": "... \\\\boxed{42}", "reference": "42"}
    {"id": "c1", "verifier": "unit_tests", "problem": {"tests": "..."}, "candidate": "..."}

The first is shorthand for ``verifier="math"`` with ``problem={"reference": ...}``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory.errors import InputFileError
from verifiers import Verdict, Verifier, get_verifier


class AnswerRow(BaseModel):
    """One line of an answer file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    candidate: str
    reference: str | None = None
    verifier: str = "math"
    problem: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    expected: bool | None = None  # optional label, used to report agreement

    def problem_for_verifier(self) -> dict[str, Any]:
        """The problem mapping handed to the verifier."""
        if self.reference is not None:
            return {**self.problem, "reference": self.reference}
        return dict(self.problem)


class RowResult(BaseModel):
    """A row and its verdict."""

    id: str
    verdict: Verdict
    expected: bool | None = None


class FileReport(BaseModel):
    """What verifying a whole answer file gave."""

    path: str
    results: list[RowResult]

    @property
    def kept(self) -> list[RowResult]:
        """Rows whose candidate passed."""
        return [r for r in self.results if r.verdict.passed]

    def reasons(self) -> Counter[str]:
        """How many rows ended with each reason."""
        return Counter(r.verdict.reason.value for r in self.results)

    def disagreements(self) -> list[RowResult]:
        """Labelled rows whose verdict differs from the label."""
        return [
            r for r in self.results if r.expected is not None and r.expected != r.verdict.passed
        ]


def read_answer_file(path: Path) -> Iterator[AnswerRow]:
    """Parse ``path`` line by line; a bad line raises InputFileError naming line and field."""
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            try:
                row = AnswerRow.model_validate(raw)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or "(line)"
                raise InputFileError(f"{path}:{lineno}: field '{field}': {err['msg']}") from exc
            if row.reference is None and not row.problem:
                raise InputFileError(
                    f"{path}:{lineno}: field 'reference': give a reference or a problem mapping"
                )
            yield row


def verify_answer_file(path: Path, *, workers: int | None = None) -> FileReport:
    """Verify every row of ``path``; rows run concurrently (each verifier bounds its own work)."""
    rows = list(read_answer_file(path))
    verifiers: dict[tuple[str, str], Verifier] = {}
    for row in rows:
        key = (row.verifier, json.dumps(row.options, sort_keys=True))
        if key not in verifiers:
            verifiers[key] = get_verifier(row.verifier, **row.options)

    def judge(row: AnswerRow) -> RowResult:
        verifier = verifiers[(row.verifier, json.dumps(row.options, sort_keys=True))]
        verdict = verifier.verify(row.problem_for_verifier(), row.candidate)
        return RowResult(id=row.id, verdict=verdict, expected=row.expected)

    with ThreadPoolExecutor(max_workers=workers or 2 * (os.cpu_count() or 1)) as pool:
        results = list(pool.map(judge, rows))
    return FileReport(path=str(path), results=results)
