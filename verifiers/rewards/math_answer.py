"""The math answer reward: is the completion's final answer equal to the row's reference?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifiers.math.answer import validate_options
from verifiers.math.verifier import check_many
from verifiers.rewards.batch import completion_text, read_column
from verifiers.rewards.scoring import OnInfraError, score_batch
from verifiers.verdict import Verdict


class MathAnswerReward:
    """A GRPOTrainer reward function: 1.0 for a right final answer, 0.0 for a wrong one.

    ``reference_column`` names the dataset column holding the reference answer (a
    bare answer such as ``"\\frac{1}{2}"`` or ``"72"``, not a worked solution).
    Unverifiable samples are ``None`` (see :mod:`verifiers.rewards.scoring`). The
    batch is checked concurrently on the worker pool, one check per core. Other
    keyword options go to :func:`verifiers.math.check_answer` (``timeout_s``,
    ``memory_mb``, ``rel_tol``, ``probes``, ``last_number_fallback``) and are
    validated here.
    """

    def __init__(
        self,
        reference_column: str = "answer",
        *,
        name: str = "math_answer",
        on_infra_error: OnInfraError = "raise",
        **options: Any,
    ) -> None:
        self.reference_column = reference_column
        self.__name__ = name  # TRL logs rewards under this name
        self.on_infra_error = on_infra_error
        self.options = validate_options(options).model_dump()

    def verdicts(
        self, completions: Sequence[Any], references: Sequence[Any]
    ) -> list[Verdict | None]:
        """The verdict of each completion (``None`` where the row has no reference)."""
        todo = [i for i, ref in enumerate(references) if ref is not None and str(ref).strip() != ""]
        checked = check_many(
            [(completion_text(completions[i]), str(references[i])) for i in todo], **self.options
        )
        out: list[Verdict | None] = [None] * len(completions)
        for i, verdict in zip(todo, checked, strict=True):
            out[i] = verdict
        return out

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        """TRL's reward-function signature: completions plus the batch's dataset columns."""
        references = read_column(
            kwargs, self.reference_column, len(completions), reward=self.__name__
        )
        return score_batch(
            self.verdicts(completions, references),
            name=self.__name__,
            on_infra_error=self.on_infra_error,
            trainer_kwargs=kwargs,
        )
