"""AnthropicBatchRunner against the local server's Message Batches API, through the real SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from factory.llm import (
    AnthropicBatchRunner,
    AnthropicClient,
    BatchReport,
    BatchStore,
    LLMBillingError,
    LLMError,
    LLMRequest,
)
from factory.testing import AnthropicTestServer, last_user_text
from tests.llm.llm_helpers import FAST_RETRY, make_request, run


def run_batch(
    srv: AnthropicTestServer, store_path: Path, requests: list[LLMRequest], **kw: Any
) -> BatchReport:
    """Run ``requests`` through a fresh runner (and client) on ``store_path``."""
    kw.setdefault("poll_interval_s", 0.02)

    async def go() -> BatchReport:
        client = AnthropicClient(api_key="k", base_url=srv.base_url, retry=FAST_RETRY)
        store = BatchStore(store_path)
        try:
            return await AnthropicBatchRunner(client, store, **kw).run(requests)
        finally:
            store.close()
            await client.aclose()

    return run(go())


def about(text: str) -> Any:
    """A batch-item matcher: the params whose last user message is ``text``."""
    return lambda params: last_user_text(params) == text


def test_submit_poll_and_collect_at_batch_price(
    server: AnthropicTestServer, tmp_path: Path
) -> None:
    requests = [make_request(f"problem {i}") for i in range(5)]
    report = run_batch(server, tmp_path / "b.sqlite", requests)
    assert report.succeeded == 5 and report.failed == 0
    assert report.batches_submitted == 1 and server.batch_create_count == 1
    for request in requests:
        response = report.response_for(request)
        assert response is not None
        assert response.text.endswith(request.messages[-1].content)
        full = AnthropicClient(api_key="k").prices.cost_usd(request.model, response.usage)
        assert response.cost_usd == pytest.approx(full / 2) and response.cost_usd > 0
    assert report.cost_usd == pytest.approx(sum(r.cost_usd for r in report.responses.values()))
    created = server.requests_to("/v1/messages/batches")[0].body["requests"]
    assert {item["custom_id"] for item in created} == {r.cache_key() for r in requests}
    assert created[0]["params"]["system"][0]["cache_control"] == {"type": "ephemeral"}


def test_only_failed_requests_are_resubmitted(server: AnthropicTestServer, tmp_path: Path) -> None:
    server.fail_batch_items("errored", about("problem 1"))
    server.fail_batch_items("expired", about("problem 2"))
    server.fail_batch_items("canceled", about("problem 3"))
    requests = [make_request(f"problem {i}") for i in range(5)]
    report = run_batch(server, tmp_path / "b.sqlite", requests)
    assert report.succeeded == 5 and report.failed == 0
    assert server.batch_create_count == 2
    retried = server.requests_to("/v1/messages/batches")[1].body["requests"]
    assert sorted(last_user_text(item["params"]) for item in retried) == [
        "problem 1",
        "problem 2",
        "problem 3",
    ]


def test_attempts_are_bounded_and_failures_reported(
    server: AnthropicTestServer, tmp_path: Path
) -> None:
    server.fail_batch_items("errored", about("doomed"), times=10, message="overloaded")
    requests = [make_request("doomed"), make_request("fine")]
    report = run_batch(server, tmp_path / "b.sqlite", requests, max_attempts=2)
    assert report.succeeded == 1 and report.failed == 1
    (failure,) = report.failures.values()
    assert failure.kind == "errored" and failure.attempts == 2 and "overloaded" in failure.message
    assert server.batch_create_count == 2


def test_invalid_requests_are_not_resubmitted(server: AnthropicTestServer, tmp_path: Path) -> None:
    server.fail_batch_items(
        "errored", about("bad"), error_type="invalid_request_error", message="prompt is too long"
    )
    report = run_batch(server, tmp_path / "b.sqlite", [make_request("bad")])
    assert report.succeeded == 0
    (failure,) = report.failures.values()
    assert failure.error_type == "invalid_request_error" and not failure.retryable
    assert server.batch_create_count == 1


def test_a_restarted_runner_adopts_its_pending_batch(tmp_path: Path) -> None:
    requests = [make_request(f"problem {i}") for i in range(3)]
    store = tmp_path / "b.sqlite"
    with AnthropicTestServer(batch_processing_s=60) as srv:
        # The first process gives up waiting (as if killed) while the batch is still processing.
        with pytest.raises(LLMError, match=r"still in_progress.*run again to resume"):
            run_batch(srv, store, requests, max_wait_s=0.1)
        assert srv.batch_create_count == 1
        srv.finish_batches()
        report = run_batch(srv, store, requests)
        assert srv.batch_create_count == 1  # adopted, not resubmitted
        assert report.batches_resumed == 1 and report.batches_submitted == 0
        assert report.succeeded == 3
        # A third run finds every result in the store: no network at all.
        seen = len(srv.requests)
        again = run_batch(srv, store, requests)
        assert again.succeeded == 3 and len(srv.requests) == seen


def test_identical_requests_run_once(server: AnthropicTestServer, tmp_path: Path) -> None:
    report = run_batch(server, tmp_path / "b.sqlite", [make_request("same")] * 3)
    assert report.succeeded == 1
    assert len(server.requests_to("/v1/messages/batches")[0].body["requests"]) == 1


def test_credit_balance_too_low_surfaces_as_billing_error(
    server: AnthropicTestServer, tmp_path: Path
) -> None:
    server.fail_credit_balance(route="batches.create")
    with pytest.raises(LLMBillingError, match="credit balance is too low"):
        run_batch(server, tmp_path / "b.sqlite", [make_request()])
    assert server.batch_create_count == 1


def test_batch_creation_is_retried_on_overload(server: AnthropicTestServer, tmp_path: Path) -> None:
    server.fail_next(529, route="batches.create")
    report = run_batch(server, tmp_path / "b.sqlite", [make_request()])
    assert report.succeeded == 1 and server.batch_create_count == 2


def test_canceling_a_batch_through_the_sdk(tmp_path: Path) -> None:
    import anthropic

    with AnthropicTestServer(batch_processing_s=60) as srv:
        sdk = anthropic.Anthropic(api_key="k", base_url=srv.base_url)
        message = {"role": "user", "content": "x"}
        params = {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [message]}
        batch = sdk.messages.batches.create(requests=[{"custom_id": "a", "params": params}])
        assert batch.processing_status == "in_progress" and batch.results_url is None
        canceled = sdk.messages.batches.cancel(batch.id)
        assert canceled.cancel_initiated_at is not None
        ended = sdk.messages.batches.retrieve(batch.id)
        assert ended.processing_status == "ended" and ended.request_counts.canceled == 1
        (line,) = list(sdk.messages.batches.results(batch.id))
        assert line.custom_id == "a" and line.result.type == "canceled"


def test_a_shared_batch_keeps_results_for_the_other_requests(tmp_path: Path) -> None:
    a, b = make_request("a"), make_request("b")
    store = tmp_path / "b.sqlite"
    with AnthropicTestServer(batch_processing_s=60) as srv:
        with pytest.raises(LLMError, match="still in_progress"):
            run_batch(srv, store, [a, b], max_wait_s=0.1)
        srv.finish_batches()
        assert run_batch(srv, store, [a]).succeeded == 1  # adopts the batch holding a and b
        seen = len(srv.requests)
        report = run_batch(srv, store, [b])
        assert report.succeeded == 1 and len(srv.requests) == seen
        assert srv.batch_create_count == 1
