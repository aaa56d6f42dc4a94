"""AnthropicClient through the real SDK over HTTP against the local test server."""

from __future__ import annotations

import time

import pytest

from factory.llm import (
    AnthropicClient,
    LLMAuthError,
    LLMBillingError,
    LLMError,
    LLMRateLimited,
    LLMRequest,
    LLMResponse,
    PriceTable,
    RetryPolicy,
)
from factory.testing import AnthropicTestServer
from tests.llm.llm_helpers import FAST_RETRY, make_request, run


def complete(srv: AnthropicTestServer, request: LLMRequest, **kw: object) -> LLMResponse:
    """Make one call with a fresh client (closed afterwards)."""
    kw.setdefault("retry", FAST_RETRY)

    async def go() -> LLMResponse:
        client = AnthropicClient(api_key="test-key", base_url=srv.base_url, **kw)
        try:
            return await client.complete(request)
        finally:
            await client.aclose()

    return run(go())


def test_success_reports_text_tokens_and_cost(server: AnthropicTestServer) -> None:
    response = complete(server, make_request("What is 2 + 2?"))
    assert response.text.endswith("What is 2 + 2?")
    assert response.stop_reason == "end_turn" and not response.truncated
    assert response.provider == f"anthropic:{server.base_url}"
    usage = response.usage
    assert usage.output_tokens > 0 and usage.input_tokens > 0
    expected = PriceTable().cost_usd("claude-haiku-4-5", usage)
    assert response.cost_usd == pytest.approx(expected) and response.cost_usd > 0
    assert response.cost_known
    assert response.request_key == make_request("What is 2 + 2?").cache_key()


def test_shared_prefix_is_marked_for_prompt_caching(server: AnthropicTestServer) -> None:
    first = complete(server, make_request("problem one"))
    second = complete(server, make_request("problem two"))
    body = server.requests_to("/v1/messages")[0].body
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    few_shot_last, problem = body["messages"][1], body["messages"][2]
    assert few_shot_last["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in problem["content"][0]
    # The server saw the prefix written once, then read: the second call is cheaper.
    assert first.usage.cache_write_tokens > 0 and first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.usage.cache_write_tokens == 0
    assert second.cost_usd < first.cost_usd


def test_no_system_and_no_few_shot_sends_no_cache_control(server: AnthropicTestServer) -> None:
    complete(server, make_request(system="", few_shot=[]))
    body = server.requests_to("/v1/messages")[0].body
    assert "system" not in body
    assert all("cache_control" not in m["content"][0] for m in body["messages"])


def test_retry_after_header_is_honoured(server: AnthropicTestServer) -> None:
    server.fail_next(429, retry_after=0.3)
    response = complete(server, make_request())
    assert response.text
    first, second = server.requests_to("/v1/messages")
    waited = second.received_at - first.received_at
    # The upper bound is loose: a loaded CI box delays the retry, never shortens it.
    assert 0.3 <= waited < 1.5, waited


def test_retry_after_ms_takes_precedence(server: AnthropicTestServer) -> None:
    server.fail_next(429, retry_after=5, retry_after_ms=200)
    complete(server, make_request())
    first, second = server.requests_to("/v1/messages")
    assert 0.2 <= second.received_at - first.received_at < 2.0  # not the 5 s of retry-after


@pytest.mark.parametrize("status", [529, 500, 502, 503, 504])
def test_transient_server_errors_are_retried(server: AnthropicTestServer, status: int) -> None:
    server.fail_next(status, times=2)
    response = complete(server, make_request())
    assert response.text
    assert len(server.requests_to("/v1/messages")) == 3


def test_exhausted_retries_raise_llm_error_naming_the_attempts(
    server: AnthropicTestServer,
) -> None:
    server.fail_next(503, times=10)
    policy = RetryPolicy(max_retries=2, base_delay_s=0.01)
    with pytest.raises(LLMError, match=r"gave up after 3 attempts") as info:
        complete(server, make_request(), retry=policy)
    assert info.value.status == 503 and not info.value.retryable
    assert len(server.requests_to("/v1/messages")) == 3


def test_rate_limit_exhausted_is_llm_rate_limited(server: AnthropicTestServer) -> None:
    server.fail_next(429, times=10, retry_after=0)
    with pytest.raises(LLMRateLimited, match="rate limited"):
        complete(server, make_request(), retry=RetryPolicy(max_retries=1))


def test_overloaded_exhausted_is_llm_rate_limited(server: AnthropicTestServer) -> None:
    server.fail_next(529, times=10)
    with pytest.raises(LLMRateLimited, match="overloaded"):
        complete(server, make_request(), retry=RetryPolicy(max_retries=1, base_delay_s=0.01))


def test_bad_api_key_is_an_auth_error_not_retried() -> None:
    with AnthropicTestServer(api_key="the-right-key") as srv:
        with pytest.raises(LLMAuthError, match="set ANTHROPIC_API_KEY"):
            complete(srv, make_request())
        assert len(srv.requests_to("/v1/messages")) == 1


def test_missing_api_key_fails_before_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(LLMAuthError, match="set ANTHROPIC_API_KEY"):
        AnthropicClient()


def test_credit_balance_too_low_names_the_problem(server: AnthropicTestServer) -> None:
    server.fail_credit_balance()
    with pytest.raises(LLMBillingError, match="credit balance is too low"):
        complete(server, make_request())
    assert len(server.requests_to("/v1/messages")) == 1


def test_other_client_errors_are_final(server: AnthropicTestServer) -> None:
    server.fail_next(400, message="max_tokens: too large")
    with pytest.raises(LLMError, match=r"rejected the request \(400\): max_tokens: too large"):
        complete(server, make_request())
    assert len(server.requests_to("/v1/messages")) == 1


def test_timeout_is_retried_then_reported(server: AnthropicTestServer) -> None:
    server.delay_s = 3.0
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"timed out.*gave up after 2 attempts"):
        complete(
            server,
            make_request(),
            timeout_s=0.2,
            retry=RetryPolicy(max_retries=1, base_delay_s=0.01),
        )
    assert time.monotonic() - started < 2.5  # two 0.2 s timeouts, not a 3 s answer
    assert len(server.requests_to("/v1/messages")) == 2


def test_unreachable_server_is_a_connection_error() -> None:
    with AnthropicTestServer() as srv:
        url = srv.base_url  # a port nobody listens on once the server stops
    client_kw = {"retry": RetryPolicy(max_retries=1, base_delay_s=0.01)}

    async def go() -> None:
        client = AnthropicClient(api_key="k", base_url=url, **client_kw)
        try:
            await client.complete(make_request())
        finally:
            await client.aclose()

    with pytest.raises(LLMError, match="connection failed"):
        run(go())


def test_truncated_response_is_returned_not_raised() -> None:
    with AnthropicTestServer(responder=lambda body: "x" * 400) as srv:
        response = complete(srv, make_request(max_tokens=10))
    assert response.truncated and response.stop_reason == "max_tokens"
    assert response.usage.output_tokens == 10 and len(response.text) == 40


def test_concurrency_bound_is_respected() -> None:
    with AnthropicTestServer(delay_s=0.3) as srv:

        async def go() -> list[LLMResponse]:
            import asyncio

            client = AnthropicClient(api_key="k", base_url=srv.base_url, max_concurrency=4)
            try:
                return await asyncio.gather(
                    *(client.complete(make_request(f"q{i}")) for i in range(16))
                )
            finally:
                await client.aclose()

        responses = run(go())
        assert len(responses) == 16
        assert srv.max_in_flight == 4


def test_strict_price_table_refuses_unpriced_models_before_calling(
    server: AnthropicTestServer,
) -> None:
    with pytest.raises(LLMError, match="no price for model 'mystery-model'"):
        complete(server, make_request(model="mystery-model"), prices=PriceTable(strict=True))
    assert server.requests_to("/v1/messages") == []


def test_unpriced_model_costs_zero_and_is_flagged(server: AnthropicTestServer) -> None:
    response = complete(server, make_request(model="mystery-model"))
    assert response.cost_usd == 0 and not response.cost_known


def test_a_non_default_temperature_is_refused_before_calling(server: AnthropicTestServer) -> None:
    with pytest.raises(LLMError, match="2026-10-21 rejects sampling parameters"):
        complete(server, make_request(temperature=0.2))
    assert server.requests_to("/v1/messages") == []
    complete(server, make_request())
    body_keys = set(server.requests_to("/v1/messages")[0].body)
    assert "temperature" not in body_keys
