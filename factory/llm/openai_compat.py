"""Any OpenAI-compatible chat-completions server (vLLM, SGLang, llama.cpp, Ollama) over httpx2.

httpx2 is the HTTP library the Anthropic SDK already depends on, so this adds no dependency.
HTTP and transport failures are translated into ``factory.llm.errors`` in
``translate_openai_error``; retries use the same policy as the Anthropic client.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import httpx2

from factory.llm.errors import LLMAuthError, LLMBillingError, LLMError
from factory.llm.pricing import PriceTable
from factory.llm.retry import RetryPolicy, call_with_retries, parse_retry_after, status_error
from factory.llm.types import LLMRequest, LLMResponse, Usage

# OpenAI finish reasons mapped to the Anthropic names callers check (truncation is "max_tokens").
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


def build_chat_body(request: LLMRequest) -> dict[str, Any]:
    """Return a chat-completions body: system, then few-shot turns, then the messages."""
    messages: list[dict[str, str]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    turns = [*request.few_shot, *request.messages]
    messages += [{"role": m.role, "content": m.content} for m in turns]
    return {
        "model": request.model,
        "messages": messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    }


class _HTTPStatus(Exception):
    """An HTTP error response, carried from the call to the translator."""

    def __init__(self, response: httpx2.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _error_detail(response: httpx2.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, ValueError):
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if body.get("detail"):
            return str(body["detail"])
        if body.get("message"):
            return str(body["message"])
    return str(body)[:300]


def translate_openai_error(
    exc: Exception, *, where: str, timeout_s: float | None = None
) -> LLMError | None:
    """Map an httpx2 exception or an HTTP error response to our error; None if neither."""
    if isinstance(exc, httpx2.TimeoutException):
        limit = f" within {timeout_s}s" if timeout_s is not None else ""
        return LLMError(f"{where}: no response{limit} (timed out)", retryable=True)
    if isinstance(exc, httpx2.TransportError):
        return LLMError(f"{where}: connection failed ({exc!r})", retryable=True)
    if isinstance(exc, _HTTPStatus):
        status = exc.response.status_code
        detail = _error_detail(exc.response)
        retry_after = parse_retry_after(exc.response.headers)
        if status == 401:
            return LLMAuthError(
                f"authentication failed at {where}: pass api_key= or set OPENAI_API_KEY ({detail})",
                status=status,
            )
        if status == 403:
            return LLMAuthError(f"permission denied by {where}: {detail}", status=status)
        if status == 402:
            return LLMBillingError(f"billing: {where} refused payment ({detail})", status=status)
        return status_error(status, where=where, detail=detail, retry_after=retry_after)
    return None


class OpenAICompatClient:
    """An ``LLMClient`` for ``POST {base_url}/chat/completions``.

    ``base_url`` includes the API prefix, e.g. ``http://localhost:8000/v1`` for vLLM. Self-hosted
    models are free by default (``PriceTable.free()``); pass ``prices`` for a paid endpoint.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        max_concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 6,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.base_url = base_url.rstrip("/")
        self.provider = f"openai:{self.base_url}"
        self.prices = prices or PriceTable.free()
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self.timeout_s = timeout_s
        self._semaphore = asyncio.Semaphore(max_concurrency)
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx2.AsyncClient(
            timeout=timeout_s,
            headers=headers,
            limits=httpx2.Limits(max_connections=max_concurrency * 2),
        )

    def _translate(self, exc: Exception) -> LLMError | None:
        return translate_openai_error(exc, where=self.base_url, timeout_s=self.timeout_s)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """POST ``request`` as a chat completion; retry transient failures; return the response."""
        self.prices.check(request.model)
        body = build_chat_body(request)
        url = f"{self.base_url}/chat/completions"
        started = time.monotonic()

        async def attempt() -> dict[str, Any]:
            async with self._semaphore:
                response = await self._http.post(url, json=body)
            if response.status_code >= 400:
                raise _HTTPStatus(response)
            try:
                return response.json()
            except (json.JSONDecodeError, ValueError) as exc:
                raise LLMError(f"{url}: response is not JSON: {response.text[:200]!r}") from exc

        data = await call_with_retries(
            attempt, self._translate, self.retry, what=f"chat completion {request.describe()}"
        )
        return self._response(data, request, time.monotonic() - started)

    def _response(self, data: dict[str, Any], request: LLMRequest, latency_s: float) -> LLMResponse:
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            finish = choice.get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LLMError(
                f"{self.base_url}: unexpected chat-completions response shape: {str(data)[:200]}"
            ) from exc
        raw_usage = data.get("usage") or {}
        details = raw_usage.get("prompt_tokens_details") or {}
        cached = int(details.get("cached_tokens") or 0)
        # OpenAI counts cached tokens inside prompt_tokens; we keep them apart, as Anthropic does.
        usage = Usage(
            input_tokens=max(0, int(raw_usage.get("prompt_tokens") or 0) - cached),
            output_tokens=int(raw_usage.get("completion_tokens") or 0),
            cache_read_tokens=cached,
        )
        return LLMResponse(
            text=text,
            stop_reason=_STOP_REASONS.get(finish, finish),
            model=str(data.get("model") or request.model),
            usage=usage,
            cost_usd=self.prices.cost_usd(request.model, usage),
            cost_known=self.prices.lookup(request.model) is not None,
            request_key=request.cache_key(),
            provider=self.provider,
            latency_s=latency_s,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
