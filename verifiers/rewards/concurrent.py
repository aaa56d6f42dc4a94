"""Run several rewards at once: an async face for a reward function.

TRL's GRPOTrainer calls synchronous reward functions one after another but awaits
asynchronous ones together. Wrapping the rewards of a mixed dataset,
``reward_funcs=[AsyncReward(MathAnswerReward()), AsyncReward(CodeReward())]``, lets
the math batch (on the worker pool) and the code batch (on the sandbox pool) be
verified at the same time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any


class AsyncReward:
    """``await AsyncReward(reward)(completions, **columns)`` runs ``reward`` in a thread."""

    def __init__(self, reward: Callable[..., list[float | None]]) -> None:
        self.reward = reward
        self.__name__ = getattr(reward, "__name__", type(reward).__name__)

    async def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        """The wrapped reward's result, computed without blocking the event loop."""
        return await asyncio.to_thread(self.reward, completions, **kwargs)
