"""LLM clients: Anthropic (direct and batch), OpenAI-compatible servers, replay, response cache.

Everything implements ``LLMClient`` (``complete(LLMRequest) -> LLMResponse``); wrappers compose::

    client = CachedClient(RecordingClient(make_client("anthropic"), "run/llm.jsonl"),
                          ResponseCache("run/llm-cache.sqlite"))

Names are imported on first use: the Anthropic SDK takes seconds to import, and code that only
needs the records (``LLMRequest``, ``LLMResponse``) or the errors should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AnthropicBatchRunner": "factory.llm.anthropic_batch",
    "BatchReport": "factory.llm.anthropic_batch",
    "BatchStore": "factory.llm.anthropic_batch",
    "AnthropicClient": "factory.llm.anthropic_client",
    "CachedClient": "factory.llm.cache",
    "ResponseCache": "factory.llm.cache",
    "LLMAuthError": "factory.llm.errors",
    "LLMBillingError": "factory.llm.errors",
    "LLMError": "factory.llm.errors",
    "LLMRateLimited": "factory.llm.errors",
    "LLMReplayMiss": "factory.llm.errors",
    "OpenAICompatClient": "factory.llm.openai_compat",
    "ModelPrice": "factory.llm.pricing",
    "PriceTable": "factory.llm.pricing",
    "make_client": "factory.llm.registry",
    "RecordingClient": "factory.llm.replay",
    "ReplayClient": "factory.llm.replay",
    "RetryPolicy": "factory.llm.retry",
    "ChatMessage": "factory.llm.types",
    "LLMClient": "factory.llm.types",
    "LLMRequest": "factory.llm.types",
    "LLMResponse": "factory.llm.types",
    "Usage": "factory.llm.types",
}

__all__ = [
    "AnthropicBatchRunner",
    "AnthropicClient",
    "BatchReport",
    "BatchStore",
    "CachedClient",
    "ChatMessage",
    "LLMAuthError",
    "LLMBillingError",
    "LLMClient",
    "LLMError",
    "LLMRateLimited",
    "LLMReplayMiss",
    "LLMRequest",
    "LLMResponse",
    "ModelPrice",
    "OpenAICompatClient",
    "PriceTable",
    "RecordingClient",
    "ReplayClient",
    "ResponseCache",
    "RetryPolicy",
    "Usage",
    "make_client",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'factory.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from factory.llm.anthropic_batch import AnthropicBatchRunner, BatchReport, BatchStore
    from factory.llm.anthropic_client import AnthropicClient
    from factory.llm.cache import CachedClient, ResponseCache
    from factory.llm.errors import (
        LLMAuthError,
        LLMBillingError,
        LLMError,
        LLMRateLimited,
        LLMReplayMiss,
    )
    from factory.llm.openai_compat import OpenAICompatClient
    from factory.llm.pricing import ModelPrice, PriceTable
    from factory.llm.registry import make_client
    from factory.llm.replay import RecordingClient, ReplayClient
    from factory.llm.retry import RetryPolicy
    from factory.llm.types import ChatMessage, LLMClient, LLMRequest, LLMResponse, Usage
