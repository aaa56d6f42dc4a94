"""The baseline: a Math-Verify-based accuracy reward of the kind open-r1 trains with.

For each completion: parse the reference (inside ``$...$`` when it is bare LaTeX),
parse the completion with Math-Verify's default extraction, ``verify(gold, answer)``
-> 1.0 or 0.0; an error counts 0.0; a reference that does not parse gives ``None``.
One completion after another in the calling process, as such reward functions run.
"""

from __future__ import annotations

from collections.abc import Sequence


def math_verify_accuracy(completions: Sequence[str], solution: Sequence[str]) -> list[float | None]:
    from math_verify import parse, verify

    rewards: list[float | None] = []
    for content, reference in zip(completions, solution, strict=True):
        bare = "$" not in reference and "\\boxed" not in reference
        gold = parse(f"${reference}$" if bare else reference)
        if not gold:
            rewards.append(None)
            continue
        try:
            rewards.append(1.0 if verify(gold, parse(content)) else 0.0)
        except Exception:  # the baseline's own convention: an error is a wrong answer
            rewards.append(0.0)
    return rewards
