"""The format reward: can a final answer (math) or a program (code) be found at all?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from verifiers.code.extract import extract_code
from verifiers.errors import VerifierOptionsError
from verifiers.math.extract import extract_answer
from verifiers.rewards.batch import completion_text, read_column


class FormatReward:
    """A GRPOTrainer reward function: 1.0 when the answer can be extracted, else 0.0.

    ``kind="math"``: the completion states a final answer (``\\boxed{...}``, "the
    answer is ...", "#### ..." and the other rules of
    :func:`verifiers.math.extract_answer`, without the last-number fallback);
    ``kind="code"``: it holds a non-empty fenced Python block. Cheap (no parsing or
    running), so it runs in-process; it says nothing about correctness. With
    ``column`` set, rows whose value in that column is ``None`` (the other task of a
    mixed dataset) get ``None``.
    """

    def __init__(
        self,
        kind: Literal["math", "code"] = "math",
        *,
        column: str | None = None,
        name: str | None = None,
    ) -> None:
        if kind not in ("math", "code"):
            raise VerifierOptionsError(f"kind must be 'math' or 'code', got {kind!r}")
        self.kind = kind
        self.column = column
        self.__name__ = name or f"{kind}_format"

    def has_answer(self, completion: Any) -> bool:
        """True when the completion's answer (or program) can be extracted."""
        text = completion_text(completion)
        if self.kind == "code":
            return extract_code(text) is not None
        return extract_answer(text, last_number_fallback=False) is not None

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        """TRL's reward-function signature; only ``column`` (if set) is read."""
        applies = [True] * len(completions)
        if self.column is not None:
            values = read_column(kwargs, self.column, len(completions), reward=self.__name__)
            applies = [value is not None for value in values]
        return [
            (1.0 if self.has_answer(c) else 0.0) if use else None
            for c, use in zip(completions, applies, strict=True)
        ]
