"""OpenAICompatClient over HTTP against the local server's /v1/chat/completions."""

from __future__ import annotations

import pytest

from factory.llm import (
    LLMAuthError,
    LLMError,
    LLMRequest,
    LLMResponse,
    OpenAICompatClient,
    PriceTable,
    RetryPolicy,
)
from factory.testing import OpenAITestServer
from tests.llm.llm_helpers import FAST_RETRY, make_request, run


def complete(srv: OpenAITestServer, request: LLMRequest, **kw: object) -> LLMResponse:
    kw.setdefault("retry", FAST_RETRY)

    async def go() -> LLMResponse:
        client = OpenAICompatClient(srv.openai_base_url, **kw)
        try:
            return await client.complete(request)
        finally:
            await client.aclose()

    return run(go())


def test_chat_format_usage_and_free_pricing(server: OpenAITestServer) -> None:
    request = make_request("What is 3 + 4?", model="qwen2.5-7b-instruct", temperature=0.7)
    response = complete(server, request)
    assert response.text.endswith("What is 3 + 4?")
    assert response.stop_reason == "end_turn"
    assert response.provider == f"openai:{server.openai_base_url}"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.cost_usd == 0 and response.cost_known
    body = server.requests_to("/v1/chat/completions")[0].body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == request.system
    assert body["temperature"] == 0.7 and body["max_tokens"] == request.max_tokens


def test_length_finish_is_reported_as_max_tokens() -> None:
    with OpenAITestServer(responder=lambda body: "y" * 200) as srv:
        response = complete(srv, make_request(max_tokens=8))
    assert response.truncated and response.usage.output_tokens == 8


def test_rate_limit_retry_after_is_honoured(server: OpenAITestServer) -> None:
    server.fail_next(429, retry_after=0.3, route="chat")
    complete(server, make_request())
    first, second = server.requests_to("/v1/chat/completions")
    assert 0.3 <= second.received_at - first.received_at < 1.5


def test_server_errors_exhaust_into_llm_error(server: OpenAITestServer) -> None:
    server.fail_next(500, times=5, message="CUDA out of memory", route="chat")
    with pytest.raises(LLMError, match=r"CUDA out of memory.*gave up after 2 attempts"):
        complete(server, make_request(), retry=RetryPolicy(max_retries=1, base_delay_s=0.01))


def test_api_key_is_sent_as_bearer_and_checked() -> None:
    with OpenAITestServer(api_key="sk-local") as srv:
        assert complete(srv, make_request(), api_key="sk-local").text
        with pytest.raises(LLMAuthError, match="authentication failed"):
            complete(srv, make_request(), api_key="wrong")


def test_timeout(server: OpenAITestServer) -> None:
    server.delay_s = 3.0
    with pytest.raises(LLMError, match="timed out"):
        complete(server, make_request(), timeout_s=0.2, retry=RetryPolicy(max_retries=0))


def test_paid_endpoint_prices_from_the_table(server: OpenAITestServer) -> None:
    response = complete(server, make_request(model="claude-haiku-4-5"), prices=PriceTable())
    assert response.cost_usd > 0
