"""Helpers shared by the LLM tests (a module of its own: conftest.py is not importable by name)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from factory.llm import ChatMessage, LLMRequest, RetryPolicy

T = TypeVar("T")

# Small waits so retry tests stay fast; retry-after values from the server still apply as sent.
FAST_RETRY = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a fresh event loop."""
    return asyncio.run(coro)


def make_request(text: str = "What is 2 + 2?", **kw: object) -> LLMRequest:
    """A request with a system prompt and one few-shot pair, overridable field by field."""
    fields: dict[str, object] = {
        "model": "claude-haiku-4-5",
        "system": "You are a careful mathematician. " * 20,
        "few_shot": [
            ChatMessage(role="user", content="What is 1 + 1?"),
            ChatMessage(role="assistant", content="\\boxed{2}"),
        ],
        "messages": [ChatMessage(role="user", content=text)],
        "max_tokens": 256,
    }
    fields.update(kw)
    return LLMRequest.model_validate(fields)
