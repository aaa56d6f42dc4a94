"""AsyncReward: the same rewards, awaitable, recognised by TRL as asynchronous."""

from __future__ import annotations

import asyncio

from verifiers.rewards import AsyncReward, FormatReward, MathAnswerReward


def test_async_reward_gives_the_wrapped_rewards_and_name():
    reward = MathAnswerReward(name="math")
    wrapped = AsyncReward(reward)
    completions = ["\\boxed{2}", "\\boxed{3}", "\\boxed{2}"]
    columns = {"answer": ["2", "2", None]}

    async def both():
        return await asyncio.gather(
            wrapped(completions, **columns), AsyncReward(FormatReward())(completions)
        )

    math_rewards, format_rewards = asyncio.run(both())
    assert math_rewards == reward(completions, **columns) == [1.0, 0.0, None]
    assert format_rewards == [1.0, 1.0, 1.0]
    assert wrapped.__name__ == "math"


def test_trl_runs_it_as_an_async_reward():
    from trl.trainer.utils import get_callable_name, is_async_callable

    wrapped = AsyncReward(MathAnswerReward())
    assert is_async_callable(wrapped)
    assert get_callable_name(wrapped) == "math_answer"
    assert not is_async_callable(MathAnswerReward())
