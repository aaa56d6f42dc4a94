"""One retry policy for every provider: honour the server's retry-after, else exponential backoff.

Providers pass a ``translate`` function that turns their SDK's exception into an ``LLMError`` whose
``retryable``/``retry_after_s`` say what to do; the loop here is the only place that sleeps.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, Field

from factory.llm.errors import LLMError, LLMRateLimited

T = TypeVar("T")

# Statuses worth retrying: rate limits, overload, server-side failures, request timeouts.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504, 529})


class RetryPolicy(BaseModel):
    """How many times to retry and how long to wait between attempts."""

    max_retries: int = Field(default=6, ge=0)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=30.0, ge=0)
    # A server asking for a longer wait than this is capped, so one bad header cannot stall a run.
    max_retry_after_s: float = Field(default=120.0, ge=0)
    jitter: float = Field(default=0.25, ge=0, le=1)

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Return the wait before retry ``attempt`` (0-based) when the server gave no hint."""
        delay = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        # Jitter spreads out clients that failed together so they do not retry in lockstep.
        spread = delay * self.jitter
        return max(0.0, delay + (rng or random).uniform(-spread, spread))

    def wait_s(self, error: LLMError, attempt: int) -> float:
        """Return the wait after ``error``: the server's retry-after if given, else backoff."""
        if error.retry_after_s is not None:
            return min(max(0.0, error.retry_after_s), self.max_retry_after_s)
        return self.backoff_s(attempt)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Return seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    translate: Callable[[Exception], LLMError | None],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call`` until it succeeds, a failure is not retryable, or retries run out.

    ``translate`` maps an exception to our error (None: not ours, re-raised untouched so bugs stay
    visible). The final error names ``what`` was attempted and how many attempts were made.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            error = translate(exc)
            if error is None:
                raise
            if not error.retryable or attempt >= policy.max_retries:
                if error.retryable:
                    error = type(error)(
                        f"{error} (gave up after {attempt + 1} attempts: {what})",
                        status=error.status,
                        retryable=False,
                    )
                raise error from exc
            await sleep(policy.wait_s(error, attempt))
            attempt += 1


def status_error(status: int, *, where: str, detail: str, retry_after: float | None) -> LLMError:
    """The error for an HTTP status every provider treats alike (after its own 401/402/403).

    429 and 529 are rate limits, other transient statuses are retryable server errors (both
    carry the server's retry-after); anything else is a final rejection.
    """
    if status in (429, 529):
        what = "overloaded" if status == 529 else "rate limited"
        return LLMRateLimited(
            f"{where} {what} ({status}): {detail}",
            status=status,
            retryable=True,
            retry_after_s=retry_after,
        )
    if status in RETRYABLE_STATUS:
        return LLMError(
            f"{where} server error ({status}): {detail}",
            status=status,
            retryable=True,
            retry_after_s=retry_after,
        )
    return LLMError(f"{where} rejected the request ({status}): {detail}", status=status)
