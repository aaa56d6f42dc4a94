"""The Anthropic provider: the official SDK, our retry policy, bounded concurrency, prompt caching.

The SDK's own retries are switched off (``max_retries=0``) so that one policy
(``factory.llm.retry``) decides, honouring ``retry-after``/``retry-after-ms``. SDK exceptions are
translated into ``factory.llm.errors`` in ``translate_anthropic_error`` and nowhere else.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import anthropic

from factory.llm.errors import LLMAuthError, LLMBillingError, LLMError
from factory.llm.pricing import PriceTable
from factory.llm.retry import RetryPolicy, call_with_retries, parse_retry_after, status_error
from factory.llm.types import LLMRequest, LLMResponse, Usage

_EPHEMERAL = {"type": "ephemeral"}


def build_message_params(request: LLMRequest) -> dict[str, Any]:
    """Return Messages API parameters for ``request``, marking the shared prefix for caching.

    ``cache_control`` goes on the system block and on the last few-shot message, so everything up
    to the end of the few-shot examples is one cached prefix shared by all problems.

    No sampling parameters are sent: API version 2026-10-21 (the SDK 2.x default) answers 400 to
    ``temperature``/``top_p``/``top_k`` at any value, so a request asking for a temperature other
    than the default 1.0 is refused here, before it costs anything.
    """
    if request.temperature != 1.0:
        raise LLMError(
            f"temperature={request.temperature} cannot be sent to the Anthropic API: API version "
            "2026-10-21 rejects sampling parameters; use the default temperature 1.0 for "
            f"Anthropic models (sample_index tells samples apart) ({request.describe()})"
        )
    messages: list[dict[str, Any]] = []
    for i, message in enumerate([*request.few_shot, *request.messages]):
        block: dict[str, Any] = {"type": "text", "text": message.content}
        if i == len(request.few_shot) - 1:
            block["cache_control"] = _EPHEMERAL
        messages.append({"role": message.role, "content": [block]})
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
    }
    if request.system:
        params["system"] = [{"type": "text", "text": request.system, "cache_control": _EPHEMERAL}]
    return params


def usage_from_sdk(usage: Any) -> Usage:
    """Convert the SDK's usage object (or its dict form) into our ``Usage``."""

    def get(name: str) -> int:
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        return int(value or 0)

    return Usage(
        input_tokens=get("input_tokens"),
        output_tokens=get("output_tokens"),
        cache_write_tokens=get("cache_creation_input_tokens"),
        cache_read_tokens=get("cache_read_input_tokens"),
    )


def response_from_message(
    message: Any,
    *,
    request_key: str,
    model: str,
    prices: PriceTable,
    provider: str,
    latency_s: float = 0.0,
    batch: bool = False,
) -> LLMResponse:
    """Build an ``LLMResponse`` from an SDK ``Message``, priced as ``model``; text blocks joined."""
    text = "".join(block.text for block in message.content if block.type == "text")
    usage = usage_from_sdk(message.usage)
    return LLMResponse(
        text=text,
        stop_reason=message.stop_reason,
        model=message.model,
        usage=usage,
        cost_usd=prices.cost_usd(model, usage, batch=batch),
        cost_known=prices.lookup(model) is not None,
        request_key=request_key,
        provider=provider,
        latency_s=latency_s,
    )


def _api_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(exc.message)


def translate_anthropic_error(
    exc: Exception, *, where: str = "Anthropic API", timeout_s: float | None = None
) -> LLMError | None:
    """Map an exception raised by the Anthropic SDK to our error; None if it is not the SDK's.

    Transient failures (connection errors, timeouts, 408/429/5xx/529) come back ``retryable`` with
    the server's retry-after; everything else is final and its message says what to fix.
    """
    if isinstance(exc, anthropic.APITimeoutError):
        limit = f" within {timeout_s}s" if timeout_s is not None else ""
        return LLMError(f"{where}: no response{limit} (timed out)", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return LLMError(f"{where}: connection failed ({exc.__cause__ or exc})", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        detail = _api_message(exc)
        retry_after = parse_retry_after(exc.response.headers)
        if status == 401:
            return LLMAuthError(
                f"authentication failed: set ANTHROPIC_API_KEY or pass api_key= ({detail})",
                status=status,
            )
        if status == 403:
            return LLMAuthError(f"permission denied by {where}: {detail}", status=status)
        if status == 402 or "credit balance" in detail.lower():
            return LLMBillingError(
                f"billing: the account cannot pay for calls ({detail}); add credits in the "
                "Anthropic console (Plans & Billing) and re-run",
                status=status,
            )
        return status_error(status, where=where, detail=detail, retry_after=retry_after)
    if isinstance(exc, anthropic.AnthropicError):
        return LLMError(f"{where}: {exc}")
    return None


class AnthropicClient:
    """An ``LLMClient`` for the Anthropic Messages API.

    ``max_concurrency`` bounds the HTTP requests in flight (waiting between retries does not hold a
    slot); ``max_retries`` counts retries after the first attempt (a full ``retry`` policy, if
    given, replaces it); ``prices`` turns usage into USD. The key comes from ``api_key`` or
    ``ANTHROPIC_API_KEY``; without either, construction fails.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        max_concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 6,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        api_key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not api_key:
            raise LLMAuthError("authentication failed: set ANTHROPIC_API_KEY or pass api_key=")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.base_url = base_url
        self.provider = f"anthropic:{base_url}" if base_url else "anthropic"
        self.prices = prices or PriceTable()
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self.timeout_s = timeout_s
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        # Our retry loop owns retries; the SDK retrying too would multiply attempts and hide waits.
        self.sdk = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=timeout_s,
        )

    def _translate(self, exc: Exception) -> LLMError | None:
        return translate_anthropic_error(
            exc, where=f"Anthropic API ({self.sdk.base_url})", timeout_s=self.timeout_s
        )

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` to the Messages API; retry transient failures; return the response."""
        self.prices.check(request.model)
        params = build_message_params(request)
        started = time.monotonic()

        async def attempt() -> Any:
            async with self._semaphore:
                return await self.sdk.messages.create(**params)

        message = await call_with_retries(
            attempt, self._translate, self.retry, what=f"messages.create {request.describe()}"
        )
        return response_from_message(
            message,
            request_key=request.cache_key(),
            model=request.model,
            prices=self.prices,
            provider=self.provider,
            latency_s=time.monotonic() - started,
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP connections."""
        await self.sdk.close()
