"""The records crossing the LLM boundary: request, response, token usage, the client protocol.

Everything above this layer (sources, solvers, the run) codes against these names only; which
provider answered is a detail recorded in ``LLMResponse.provider``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

# Bump when the meaning of a cache key changes (e.g. a new field that alters responses), so old
# cache entries and recordings stop matching instead of being served for a different request.
CACHE_KEY_VERSION = "factory.llm.request/v1"


class ChatMessage(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Literal["user", "assistant"]
    content: str


class LLMRequest(BaseModel):
    """A provider-neutral completion request.

    ``system`` and ``few_shot`` form the shared prefix that providers with prompt caching cache;
    ``messages`` is the per-problem part. ``sample_index`` tells apart repeated samples of the same
    prompt (so each gets its own cache entry); ``prompt_version`` is the version of our template.
    """

    model_config = ConfigDict(frozen=True)

    model: str
    system: str = ""
    few_shot: list[ChatMessage] = Field(default_factory=list)
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = 1.0
    max_tokens: int = Field(default=1024, gt=0)
    sample_index: int = Field(default=0, ge=0)
    prompt_version: str = ""

    def cache_key(self) -> str:
        """Return a sha256 hex digest over everything that can change the response."""
        # Fields at their default are left out, so adding a new field with a default later keeps
        # every existing key (and so every cached or recorded response) valid.
        payload = {"v": CACHE_KEY_VERSION, **self.model_dump(mode="json", exclude_defaults=True)}
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def describe(self, width: int = 60) -> str:
        """Return a short human description (model and start of the last message) for errors."""
        text = " ".join(self.messages[-1].content.split())
        if len(text) > width:
            text = text[:width] + "..."
        return f"model={self.model}, prompt={text!r}"


class Usage(BaseModel):
    """Token counts of one call, as the provider reported them.

    ``input_tokens`` excludes cached prefix tokens, which are counted in ``cache_read_tokens``
    (served from the prompt cache) or ``cache_write_tokens`` (written to it).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class LLMResponse(BaseModel):
    """A completed call. Truncated (``stop_reason == "max_tokens"``) is not an error.

    ``cost_usd`` is what this call cost the current run (0 when served from a cache);
    ``original_cost_usd`` keeps what it cost when it was first made. ``cost_known`` is False when
    the price table had no entry for the model (the cost is then 0, not an estimate).
    """

    text: str
    stop_reason: str | None
    model: str
    usage: Usage
    cost_usd: float
    from_cache: bool = False
    request_key: str
    provider: str
    latency_s: float = 0.0
    original_cost_usd: float | None = None
    cost_known: bool = True

    @property
    def truncated(self) -> bool:
        """True when the model stopped because it hit ``max_tokens``."""
        return self.stop_reason == "max_tokens"


@runtime_checkable
class LLMClient(Protocol):
    """What every provider, wrapper (cache, recording) and replay source implements."""

    provider: str

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Complete one request, retrying transient failures; raise ``LLMError`` when final."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...
