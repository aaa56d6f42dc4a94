"""The ``file`` source: problems with ground-truth references from JSONL, Parquet or a
Hugging Face dataset.

Columns map onto problem fields through ``fields`` (``{statement: question,
answer: final}``); ``answer_format: gsm8k`` takes the answer after the last
``####`` and keeps the text before it as the worked solution. A malformed row
raises :class:`~factory.errors.InputFileError` naming the file, the row and the
field, or with ``on_error: skip`` is left out and recorded in :attr:`FileSource.skipped`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory.errors import InputFileError, SpecError
from factory.problem import Problem, Reference
from factory.sources.base import SourceContext


class FieldMap(BaseModel):
    """Which column holds each problem field. Unset optional columns are simply absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(None, description="A row id kept as metadata.source_id.")
    statement: str = "statement"
    answer: str | None = "answer"
    solution: str | None = "solution"
    tests: str | None = "tests"
    entry_point: str | None = "entry_point"
    stdio: str | None = "stdio"
    check: str | None = "check"
    topic: str | None = "topic"
    difficulty: str | None = "difficulty"


class FileSourceOptions(BaseModel):
    """Options of the ``file`` source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(
        min_length=1,
        description="A .jsonl or .parquet file, a local dataset directory, or a Hub dataset "
        "name. Relative paths resolve against the spec file's directory.",
    )
    format: Literal["auto", "jsonl", "parquet", "hf"] = Field(
        "auto", description="auto: by suffix; a directory or a name without suffix is hf."
    )
    split: str = Field("train", description="Dataset split (hf only).")
    config: str | None = Field(None, description="Dataset configuration name (hf only).")
    fields: FieldMap = Field(default_factory=FieldMap)
    answer_format: Literal["plain", "gsm8k"] = Field(
        "plain", description="gsm8k: the answer is what follows the last '####'."
    )
    topic: str | None = Field(None, description="Topic for rows without one.")
    difficulty: str | None = Field(None, description="Difficulty for rows without one.")
    shuffle: bool = Field(False, description="Shuffle rows with the run's seed.")
    on_error: Literal["raise", "skip"] = Field(
        "raise", description="raise: a bad row stops the run; skip: it is recorded and left out."
    )


class SkippedRow(BaseModel):
    """A row left out under ``on_error: skip``, with why."""

    model_config = ConfigDict(frozen=True)

    row: int
    field: str
    reason: str


class _RowError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


_GSM8K_CALC = re.compile(r"<<[^<>]*>>")


def split_gsm8k(text: str) -> tuple[str, str]:
    """("worked solution", "final answer") from a GSM8K-style ``... #### 42`` text.

    The answer loses thousands separators (``1,000`` -> ``1000``); calculator
    annotations (``<<3*4=12>>``) are dropped from the solution.
    """
    if "####" not in text:
        raise ValueError("no '####' marker before the final answer")
    solution, _, answer = text.rpartition("####")
    answer = answer.strip().replace(",", "")
    if not answer:
        raise ValueError("nothing after the '####' marker")
    return _GSM8K_CALC.sub("", solution).strip(), answer


class FileSource:
    """Problems read from a file or dataset; trust is ``ground_truth``."""

    name: ClassVar[str] = "file"
    Options: ClassVar[type[BaseModel]] = FileSourceOptions

    def __init__(self, options: FileSourceOptions, context: SourceContext) -> None:
        self.options = options
        self.context = context
        self.format = self._detect_format()
        self.location = self._locate()
        self.skipped: list[SkippedRow] = []

    # ---- set-up

    def _detect_format(self) -> str:
        fmt = self.options.format
        if fmt != "auto":
            return fmt
        suffix = Path(self.options.path).suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            return "jsonl"
        if suffix == ".parquet":
            return "parquet"
        if suffix in ("", ".hf") or self.context.resolve(self.options.path).is_dir():
            return "hf"
        raise SpecError(
            f"path {self.options.path!r}: cannot tell the format from the suffix {suffix!r}; "
            "set format: jsonl, parquet or hf"
        )

    def _locate(self) -> str:
        resolved = self.context.resolve(self.options.path)
        if self.format == "hf" and not resolved.exists():
            return self.options.path  # a Hub dataset name, fetched when read
        if not resolved.exists():
            raise SpecError(f"path {self.options.path!r} does not exist (looked at {resolved})")
        return str(resolved)

    # ---- reading

    def _raw_rows(self) -> Iterator[tuple[int, Any]]:
        """(row number, raw row) pairs; row numbers are file lines for JSONL, else 1-based."""
        if self.format == "jsonl":
            # Bytes, decoded line by line: one line in another encoding is that row's error
            # (skippable), not the whole file's.
            with open(self.location, "rb") as fh:
                for lineno, raw in enumerate(fh, start=1):
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        yield lineno, _RowError(
                            "(row)", f"not UTF-8 text (byte {exc.start + 1} is {raw[exc.start]:#x})"
                        )
                        continue
                    if not line.strip():
                        continue
                    try:
                        yield lineno, json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield lineno, _RowError("(row)", f"invalid JSON: {exc.msg}")
        elif self.format == "parquet":
            import pyarrow.parquet as pq

            number = 0
            for batch in pq.ParquetFile(self.location).iter_batches():
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
        else:
            for number, row in enumerate(self._hf_dataset(), start=1):
                yield number, row

    def _hf_dataset(self) -> Any:
        import datasets

        local = Path(self.location)
        # save_to_disk writes a directory load_dataset cannot read; load_from_disk can.
        if local.is_dir() and (local / "state.json").exists():
            return datasets.load_from_disk(str(local))
        if local.is_dir() and (local / "dataset_dict.json").exists():
            return datasets.load_from_disk(str(local))[self.options.split]
        return datasets.load_dataset(self.location, self.options.config, split=self.options.split)

    def _where(self, number: int) -> str:
        unit = "line" if self.format == "jsonl" else "row"
        return f"{self.options.path}: {unit} {number}"

    def _column(self, row: dict[str, Any], field: str) -> Any:
        column = getattr(self.options.fields, field)
        if column is None:
            return None
        return row.get(column)

    def _text(self, row: dict[str, Any], field: str, *, required: bool = False) -> str | None:
        value = self._column(row, field)
        column = getattr(self.options.fields, field)
        if value is None:
            if required:
                raise _RowError(field, f"column {column!r} is missing or null")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _RowError(
                field, f"column {column!r} must be text or a number, got {type(value).__name__}"
            )
        text = str(value)
        if required and not text.strip():
            raise _RowError(field, f"column {column!r} is empty")
        return text

    def _problem(self, number: int, row: Any) -> Problem:
        if isinstance(row, _RowError):
            raise row
        if not isinstance(row, dict):
            raise _RowError("(row)", f"must be an object, got {type(row).__name__}")
        statement = self._text(row, "statement", required=True)
        answer = self._text(row, "answer")
        solution = self._text(row, "solution")
        if answer is not None and self.options.answer_format == "gsm8k":
            try:
                worked, answer = split_gsm8k(answer)
            except ValueError as exc:
                raise _RowError("answer", str(exc)) from None
            solution = solution or worked or None
        check = self._column(row, "check")
        if check is not None and not isinstance(check, dict):
            raise _RowError("check", f"must be an object, got {type(check).__name__}")
        stdio = self._column(row, "stdio")
        if isinstance(stdio, str):  # a Parquet/CSV column may hold the cases as JSON text
            try:
                stdio = json.loads(stdio)
            except json.JSONDecodeError:
                raise _RowError("stdio", "is text but not JSON") from None
        try:
            reference = Reference(
                answer=answer,
                solution=solution,
                tests=self._text(row, "tests"),
                entry_point=self._text(row, "entry_point"),
                stdio=stdio,
                check=check,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "(row)"
            raise _RowError(field, first["msg"]) from None
        self._require_checkable(reference)
        source_id = self._text(row, "id")
        metadata: dict[str, Any] = {"file": self.options.path, "row": number}
        if source_id is not None:
            metadata["source_id"] = source_id
        return Problem(
            statement=statement,
            domain=self.context.domain,
            reference=reference,
            trust="ground_truth",
            topic=self._text(row, "topic") or self.options.topic,
            difficulty=self._text(row, "difficulty") or self.options.difficulty,
            source=self.name,
            metadata=metadata,
        )

    def _require_checkable(self, reference: Reference) -> None:
        domain = self.context.domain
        if domain == "math" and reference.answer is None and reference.check is None:
            raise _RowError(
                "answer",
                f"column {self.options.fields.answer!r} is missing or null "
                "(a math problem needs an answer or a check)",
            )
        if domain == "code":
            if reference.tests is None and reference.stdio is None:
                raise _RowError(
                    "tests",
                    f"column {self.options.fields.tests!r} is missing or null "
                    "(a code problem needs tests or stdio cases)",
                )
            if reference.tests is not None and reference.entry_point is None:
                raise _RowError(
                    "entry_point",
                    f"column {self.options.fields.entry_point!r} is missing or null "
                    "(tests call the function it names)",
                )
        if reference.is_empty():
            raise _RowError("answer", "row has no answer, tests, stdio or check")

    def _rows(self) -> Iterator[Problem]:
        for number, row in self._raw_rows():
            try:
                yield self._problem(number, row)
            except _RowError as exc:
                if self.options.on_error == "skip":
                    self.skipped.append(SkippedRow(row=number, field=exc.field, reason=exc.reason))
                    continue
                raise InputFileError(
                    f"{self._where(number)}: field {exc.field!r}: {exc.reason} "
                    "(fix the row, map the column with source.options.fields, "
                    "or set on_error: skip)"
                ) from None

    def problems(self, limit: int, seed: int) -> Iterator[Problem]:
        """Yield up to ``limit`` problems in file order (or shuffled with ``seed``)."""
        self.skipped = []
        if not self.options.shuffle:
            for i, problem in enumerate(self._rows()):
                if i >= limit:
                    return
                yield problem
            return
        rows = list(self._rows())
        random.Random(seed).shuffle(rows)
        yield from rows[:limit]
