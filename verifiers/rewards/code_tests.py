"""The code reward: does the program in the completion pass the row's tests?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from verifiers.code.extract import extract_code, has_fence
from verifiers.code.verifier import STYLES, check_many
from verifiers.errors import VerifierOptionsError
from verifiers.rewards.batch import completion_text, read_column
from verifiers.rewards.scoring import OnInfraError, score_batch
from verifiers.verdict import Reason, Verdict


def program_of(completion: Any) -> str | None:
    """The code to test: the last fenced Python block of a response, or the bare text."""
    text = completion_text(completion)
    if has_fence(text):
        return extract_code(text)
    return text if text.strip() else None


class CodeReward:
    """A GRPOTrainer reward function: run the row's tests on the completion's program.

    ``tests_column`` holds the tests in any style :func:`verifiers.code.check_solution`
    accepts (HumanEval ``check(candidate)`` code, asserts, pytest functions, stdio
    cases); ``entry_point_column`` (optional) the function name; ``reference_column``
    (optional) a reference solution, which tells broken tests (``None`` reward) from a
    failing program. ``mode="binary"`` gives 1.0 when all tests pass, else 0.0;
    ``mode="fraction"`` gives the share of tests passed. The batch runs concurrently
    on the warm sandbox pool (``pool``: a :class:`sandbox.pool.SandboxPool`; default
    the process's own pool).
    """

    def __init__(
        self,
        tests_column: str = "tests",
        *,
        entry_point_column: str | None = "entry_point",
        reference_column: str | None = None,
        mode: Literal["binary", "fraction"] = "binary",
        style: str = "auto",
        timeout_s: float = 10.0,
        memory_mb: int = 512,
        pool: Any = None,
        name: str = "code_tests",
        on_infra_error: OnInfraError = "raise",
    ) -> None:
        if mode not in ("binary", "fraction"):
            raise VerifierOptionsError(f"mode must be 'binary' or 'fraction', got {mode!r}")
        if style not in STYLES:
            raise VerifierOptionsError(f"style must be one of {STYLES}, got {style!r}")
        if timeout_s <= 0 or memory_mb < 64:
            raise VerifierOptionsError("timeout_s must be positive and memory_mb at least 64")
        self.tests_column = tests_column
        self.entry_point_column = entry_point_column
        self.reference_column = reference_column
        self.mode = mode
        self.style = style
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.pool = pool
        self.__name__ = name
        self.on_infra_error = on_infra_error

    def verdicts(
        self,
        completions: Sequence[Any],
        tests: Sequence[Any],
        entry_points: Sequence[Any] | None = None,
        references: Sequence[Any] | None = None,
    ) -> list[Verdict | None]:
        """The verdict of each completion (``None`` where the row has no tests)."""
        out: list[Verdict | None] = [None] * len(completions)
        items: list[dict[str, Any]] = []
        where: list[int] = []
        for i, completion in enumerate(completions):
            if tests[i] is None:
                continue
            program = program_of(completion)
            if program is None:
                out[i] = Verdict.fail(Reason.NO_ANSWER, "no code in the completion")
                continue
            item: dict[str, Any] = {"solution": program, "tests": tests[i]}
            if entry_points is not None and entry_points[i]:
                item["entry_point"] = entry_points[i]
            if references is not None and isinstance(references[i], str):
                item["reference"] = references[i]
            items.append(item)
            where.append(i)
        checked = check_many(
            items,
            pool=self.pool,
            style=self.style,
            timeout_s=self.timeout_s,
            memory_mb=self.memory_mb,
        )
        for i, verdict in zip(where, checked, strict=True):
            out[i] = verdict
        return out

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        """TRL's reward-function signature: completions plus the batch's dataset columns."""
        n = len(completions)
        tests = read_column(kwargs, self.tests_column, n, reward=self.__name__)
        entry_points = references = None
        if self.entry_point_column is not None and self.entry_point_column in kwargs:
            entry_points = read_column(kwargs, self.entry_point_column, n, reward=self.__name__)
        if self.reference_column is not None:
            references = read_column(kwargs, self.reference_column, n, reward=self.__name__)
        return score_batch(
            self.verdicts(completions, tests, entry_points, references),
            name=self.__name__,
            partial=self.mode == "fraction",
            on_infra_error=self.on_infra_error,
            trainer_kwargs=kwargs,
        )
