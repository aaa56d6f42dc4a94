"""Reward functions for RL training (TRL's ``GRPOTrainer``) backed by the verifiers.

    from verifiers.rewards import CodeReward, FormatReward, MathAnswerReward
    trainer = GRPOTrainer(model=..., reward_funcs=[MathAnswerReward("answer"), FormatReward()],
                          train_dataset=dataset, args=GRPOConfig(...))

Each reward is a callable with TRL's signature ``reward(completions, **columns)``:
completions are strings or conversational message lists, and the dataset's other
columns arrive as keyword arguments. A batch is verified concurrently (math on
every core through the worker pool, code on the warm sandbox pool). A sample that
cannot be verified is ``None``, never 0.0 (see :mod:`verifiers.rewards.scoring`).
The rewards work in any process model the trainer uses (forked data workers,
``spawn``, threads), like the verifiers underneath. :class:`AsyncReward` wraps a
reward so TRL verifies it concurrently with the other async rewards.
"""

from verifiers.rewards.answer_format import FormatReward
from verifiers.rewards.batch import completion_text
from verifiers.rewards.code_tests import CodeReward
from verifiers.rewards.concurrent import AsyncReward
from verifiers.rewards.errors import RewardColumnError, RewardUnavailable
from verifiers.rewards.math_answer import MathAnswerReward
from verifiers.rewards.scoring import score

__all__ = [
    "AsyncReward",
    "CodeReward",
    "FormatReward",
    "MathAnswerReward",
    "RewardColumnError",
    "RewardUnavailable",
    "completion_text",
    "score",
]
