"""From verdicts to rewards: the one place that decides what a verdict is worth.

- ``correct`` -> 1.0 (code in ``"fraction"`` mode: passed tests / all tests).
- A candidate fault (``wrong_answer``, ``no_answer``, ``parse_error``, ``timeout``,
  ``runtime_error``, ``tests_failed``) -> 0.0.
- Unverifiable (``reference_error``: the row's reference or tests are broken;
  ``infra_error``: the verifier's machinery failed) -> ``None``. TRL's GRPOTrainer
  reads ``None`` as "this reward does not apply to this sample" and leaves the
  sample out of that reward instead of scoring it, so a right answer is never
  taught as wrong because a check could not be made. A row without a reference
  (``None`` in the column: another task in a mixed dataset) is ``None`` too.
- A batch in which *every* verifiable sample is ``infra_error`` raises
  :class:`~verifiers.rewards.errors.RewardUnavailable` (unless ``on_infra_error="none"``):
  the sandbox or worker pool is down, and silently training on nothing is worse
  than stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from verifiers.rewards.errors import RewardUnavailable
from verifiers.verdict import Reason, Verdict

OnInfraError = Literal["raise", "none"]


def pass_fraction(verdict: Verdict) -> float:
    """The share of tests passed, from the verdict's ``passed_tests``/``total_tests``."""
    if verdict.passed:
        return 1.0
    passed, total = verdict.details.get("passed_tests"), verdict.details.get("total_tests")
    if isinstance(passed, int) and isinstance(total, int) and total > 0:
        return max(0.0, min(1.0, passed / total))
    return 0.0


def score(verdict: Verdict | None, *, partial: bool = False) -> float | None:
    """The reward of one verdict (``None``: unverifiable or not applicable)."""
    if verdict is None or verdict.reason.is_unverifiable:
        return None
    if partial:
        return pass_fraction(verdict)
    return 1.0 if verdict.passed else 0.0


def score_batch(
    verdicts: Sequence[Verdict | None],
    *,
    name: str,
    partial: bool = False,
    on_infra_error: OnInfraError = "raise",
    trainer_kwargs: dict[str, Any] | None = None,
) -> list[float | None]:
    """Rewards for a batch, after the all-infra-error check; logs reasons to TRL if it asked.

    When TRL passes ``log_metric``/``log_extra``, the share of unverifiable samples is
    logged as ``{name}/unverifiable`` and each verdict's reason as column ``{name}_reason``.
    """
    judged = [v for v in verdicts if v is not None]
    infra = [v for v in judged if v.reason is Reason.INFRA_ERROR]
    if on_infra_error == "raise" and judged and len(infra) == len(judged):
        raise RewardUnavailable(
            f"reward {name!r}: every sample of the batch ({len(judged)}) is infra_error, the "
            f"verifier cannot run: {infra[0].message}"
        )
    kwargs = trainer_kwargs or {}
    log_metric: Callable[[str, float], None] | None = kwargs.get("log_metric")
    log_extra: Callable[[str, list[Any]], None] | None = kwargs.get("log_extra")
    if callable(log_metric) and judged:
        unverifiable = sum(v.reason.is_unverifiable for v in judged)
        log_metric(f"{name}/unverifiable", unverifiable / len(judged))
    if callable(log_extra):
        log_extra(f"{name}_reason", [None if v is None else v.reason.value for v in verdicts])
    return [score(v, partial=partial) for v in verdicts]
