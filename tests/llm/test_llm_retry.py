"""The shared retry policy: retry-after parsing, capped jittered backoff, what is retried."""

from __future__ import annotations

import email.utils
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.llm import LLMError, RetryPolicy
from factory.llm.retry import call_with_retries, parse_retry_after
from tests.llm.llm_helpers import run


def test_retry_after_seconds_ms_and_http_date() -> None:
    assert parse_retry_after({"Retry-After": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after": "7", "retry-after-ms": "250"}) == 0.25
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after({"retry-after": email.utils.formatdate(now - 30)}, now=now) == 0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(st.integers(0, 30), st.floats(0, 5), st.floats(0, 60))
def test_backoff_is_capped_and_jittered_within_bounds(
    attempt: int, base: float, cap: float
) -> None:
    policy = RetryPolicy(base_delay_s=base, max_delay_s=cap, jitter=0.25)
    delay = policy.backoff_s(attempt, random.Random(attempt))
    nominal = min(cap, base * 2**attempt)
    assert nominal * 0.75 - 1e-9 <= delay <= nominal * 1.25 + 1e-9


def test_server_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retry_after_s=10)
    assert policy.wait_s(LLMError("x", retryable=True, retry_after_s=3600), 0) == 10


def translate(exc: Exception) -> LLMError | None:
    if isinstance(exc, ConnectionError):
        return LLMError("flaky", retryable=True, retry_after_s=0)
    if isinstance(exc, PermissionError):
        return LLMError("denied")
    return None


def test_transient_errors_are_retried_and_final_ones_are_not() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError
        return "ok"

    assert run(call_with_retries(flaky, translate, RetryPolicy(), what="t")) == "ok"
    assert len(calls) == 3

    async def denied() -> str:
        calls.append(1)
        raise PermissionError

    calls.clear()
    with pytest.raises(LLMError, match="denied"):
        run(call_with_retries(denied, translate, RetryPolicy(), what="t"))
    assert len(calls) == 1


def test_exceptions_that_are_not_translated_propagate_untouched() -> None:
    async def buggy() -> None:
        raise KeyError("our own bug")

    with pytest.raises(KeyError):
        run(call_with_retries(buggy, translate, RetryPolicy(), what="t"))
