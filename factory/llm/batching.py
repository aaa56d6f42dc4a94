"""Let a streaming run use the Message Batches API through the ordinary ``complete`` call.

``BatchingClient.complete`` parks each request; after ``window_s`` of quiet (or
once ``max_batch`` requests wait) the parked requests go out as one batch via
``AnthropicBatchRunner``, whose SQLite store keeps the batch ids, so a killed
and restarted run adopts its batches instead of paying for them again. Each
caller gets its own response, or an ``LLMError`` for its request alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from factory.llm.anthropic_batch import AnthropicBatchRunner, BatchStore
from factory.llm.anthropic_client import AnthropicClient
from factory.llm.errors import LLMError
from factory.llm.types import LLMRequest, LLMResponse


class BatchingClient:
    """An ``LLMClient`` that sends requests in Message Batches (at the batch price)."""

    def __init__(
        self,
        inner: AnthropicClient,
        store_path: str | Path,
        *,
        window_s: float = 2.0,
        max_batch: int = 5_000,
        poll_interval_s: float = 30.0,
    ) -> None:
        if not isinstance(inner, AnthropicClient):
            raise LLMError("batch mode needs the Anthropic client")
        self.inner = inner
        self.provider = f"anthropic-batch:{inner.provider}"
        self._store = BatchStore(store_path)
        self._runner = AnthropicBatchRunner(inner, self._store, poll_interval_s=poll_interval_s)
        self.window_s = window_s
        self.max_batch = max_batch
        self._parked: list[tuple[LLMRequest, asyncio.Future[LLMResponse]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Park ``request`` until its batch ends; return its response."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[LLMResponse] = loop.create_future()
        self._parked.append((request, future))
        if len(self._parked) >= self.max_batch:
            self._flush_now()
        else:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(self.window_s, self._flush_now)
        return await future

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        parked, self._parked = self._parked, []
        if parked:
            task = asyncio.get_running_loop().create_task(self._send(parked))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _send(self, parked: list[tuple[LLMRequest, asyncio.Future[LLMResponse]]]) -> None:
        try:
            report = await self._runner.run([r for r, _ in parked])
        except BaseException as exc:
            for _, future in parked:
                if not future.done():
                    future.set_exception(
                        exc if isinstance(exc, LLMError) else LLMError(f"batch failed: {exc}")
                    )
            if not isinstance(exc, Exception):
                raise
            return
        for request, future in parked:
            if future.done():
                continue
            response = report.response_for(request)
            if response is not None:
                future.set_result(response)
                continue
            failure = report.failures.get(request.cache_key())
            detail = (
                f"{failure.kind} after {failure.attempts} attempt(s): {failure.message}"
                if failure
                else "no result"
            )
            future.set_exception(LLMError(f"batch request failed ({request.describe()}): {detail}"))

    async def aclose(self) -> None:
        """Cancel waiting flushes (their batches stay recorded for a restart) and close."""
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._flushes):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._store.close()
        await self.inner.aclose()
