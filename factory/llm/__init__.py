"""LLM clients: Anthropic (direct and batch), OpenAI-compatible servers, replay, response cache.

Everything implements ``LLMClient`` (``complete(LLMRequest) -> LLMResponse``); wrappers compose::

    client = CachedClient(RecordingClient(make_client("anthropic"), "run/llm.jsonl"),
                          ResponseCache("run/llm-cache.sqlite"))
"""

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
