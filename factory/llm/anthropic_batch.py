"""Run many requests through Anthropic's Message Batches API at the batch price (half).

Batch ids are written to a ``BatchStore`` (SQLite) right after creation and before any polling, so
a restarted process adopts its in-flight batches instead of paying for them twice; succeeded
results are stored too, so a restart after the batch ended needs no network at all. Requests
whose result is errored (transiently), expired or canceled, and only those, go into a new batch,
up to ``max_attempts`` per request.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anthropic
from pydantic import BaseModel

from factory.llm.anthropic_client import (
    AnthropicClient,
    build_message_params,
    response_from_message,
    translate_anthropic_error,
)
from factory.llm.errors import LLMError
from factory.llm.pricing import PriceTable
from factory.llm.retry import RetryPolicy, call_with_retries
from factory.llm.types import LLMRequest, LLMResponse

# Errors that would fail again in a new batch: resubmitting them only costs time.
_FINAL_ERROR_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "billing_error",
    }
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,            -- 'pending' until its results are read, then 'ended'
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_items (
    custom_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (custom_id, batch_id)
);
CREATE TABLE IF NOT EXISTS batch_results (
    custom_id TEXT PRIMARY KEY,
    response TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class PendingBatch:
    """A submitted batch whose results have not been read yet."""

    batch_id: str
    attempt: int
    custom_ids: frozenset[str]


class BatchStore:
    """Submitted batch ids, their custom ids and succeeded results, in SQLite at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise LLMError(f"cannot open batch store {self.path}: {exc}") from exc

    def record_batch(self, batch_id: str, custom_ids: Sequence[str], attempt: int) -> None:
        """Persist a just-created batch and its items in one transaction."""
        with self._lock, self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute(
                "INSERT OR IGNORE INTO batches (batch_id, attempt, status, created_at)"
                " VALUES (?, ?, 'pending', ?)",
                (batch_id, attempt, time.time()),
            )
            self._conn.executemany(
                "INSERT OR IGNORE INTO batch_items (custom_id, batch_id) VALUES (?, ?)",
                [(cid, batch_id) for cid in custom_ids],
            )

    def pending_batches(self) -> list[PendingBatch]:
        """Return the batches submitted but not yet read, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT batch_id, attempt FROM batches WHERE status = 'pending' ORDER BY created_at"
            ).fetchall()
        return [PendingBatch(b, attempt, self.batch_items(b)) for b, attempt in rows]

    def batch_items(self, batch_id: str) -> frozenset[str]:
        """Return the custom ids submitted in ``batch_id``."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT custom_id FROM batch_items WHERE batch_id = ?", (batch_id,)
            ).fetchall()
        return frozenset(cid for (cid,) in rows)

    def mark_ended(self, batch_id: str) -> None:
        """Record that the batch's results were read (and its successes saved)."""
        with self._lock:
            self._conn.execute(
                "UPDATE batches SET status = 'ended' WHERE batch_id = ?", (batch_id,)
            )

    def save_result(self, custom_id: str, response: LLMResponse) -> None:
        """Persist a succeeded response."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO batch_results (custom_id, response) VALUES (?, ?)",
                (custom_id, response.model_dump_json()),
            )

    def result(self, custom_id: str) -> LLMResponse | None:
        """Return the saved response for ``custom_id``, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT response FROM batch_results WHERE custom_id = ?", (custom_id,)
            ).fetchone()
        return None if row is None else LLMResponse.model_validate_json(row[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()


class BatchFailure(BaseModel):
    """A request that did not succeed in its last batch attempt."""

    request_key: str
    kind: Literal["errored", "expired", "canceled", "missing"]
    error_type: str | None = None
    message: str = ""
    attempts: int
    batch_id: str

    @property
    def retryable(self) -> bool:
        """True if resubmitting could succeed (not a malformed request or an account problem)."""
        if self.kind != "errored":
            return True
        return self.error_type not in _FINAL_ERROR_TYPES and "credit balance" not in self.message


@dataclass
class BatchReport:
    """What a batch run produced: responses and failures by request cache key, and batch counts."""

    responses: dict[str, LLMResponse] = field(default_factory=dict)
    failures: dict[str, BatchFailure] = field(default_factory=dict)
    batches_submitted: int = 0
    batches_resumed: int = 0

    @property
    def succeeded(self) -> int:
        """Requests with a response (truncated ones included: they are flagged, not failed)."""
        return len(self.responses)

    @property
    def failed(self) -> int:
        """Requests that failed in their last attempt."""
        return len(self.failures)

    @property
    def cost_usd(self) -> float:
        """Total cost of the responses, at batch prices."""
        return sum(r.cost_usd for r in self.responses.values())

    def response_for(self, request: LLMRequest) -> LLMResponse | None:
        """Return the response to ``request``, or None if it failed."""
        return self.responses.get(request.cache_key())


class AnthropicBatchRunner:
    """Submit ``LLMRequest``s as Message Batches, poll until they end, collect and retry failures.

    ``client`` is an ``AnthropicClient`` (its SDK, prices and retry policy are reused) or an
    ``anthropic.AsyncAnthropic``. ``max_wait_s`` bounds one ``run``; when it passes, the run raises
    ``LLMError`` and the batches stay recorded in ``store`` for the next run to adopt.
    """

    def __init__(
        self,
        client: AnthropicClient | anthropic.AsyncAnthropic,
        store: BatchStore,
        *,
        poll_interval_s: float = 30.0,
        max_attempts: int = 3,
        max_wait_s: float | None = None,
        max_batch_size: int = 10_000,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if isinstance(client, AnthropicClient):
            self.sdk = client.sdk
            prices = prices or client.prices
            retry = retry or client.retry
        else:
            self.sdk = client
        self.store = store
        self.poll_interval_s = poll_interval_s
        self.max_attempts = max_attempts
        self.max_wait_s = max_wait_s
        self.max_batch_size = max_batch_size
        self.prices = prices or PriceTable()
        self.retry = retry or RetryPolicy()
        self.provider = f"anthropic-batch:{self.sdk.base_url}"

    async def _call(self, what: str, call: Any) -> Any:
        def translate(exc: Exception) -> LLMError | None:
            return translate_anthropic_error(exc, where=f"Message Batches API ({what})")

        return await call_with_retries(call, translate, self.retry, what=what)

    async def run(self, requests: Sequence[LLMRequest]) -> BatchReport:
        """Complete ``requests`` through batches; identical requests (same cache key) run once."""
        by_id: dict[str, LLMRequest] = {}
        for request in requests:
            self.prices.check(request.model)
            by_id.setdefault(request.cache_key(), request)
        report = BatchReport()
        todo: list[str] = []
        for cid in by_id:
            saved = self.store.result(cid)
            if saved is not None:
                report.responses[cid] = saved
            else:
                todo.append(cid)
        attempts: dict[str, int] = {}
        active: list[str] = []
        waiting = set(todo)
        for pending in self.store.pending_batches():
            ours = pending.custom_ids & waiting
            if ours:
                active.append(pending.batch_id)
                report.batches_resumed += 1
                for cid in ours:
                    attempts[cid] = pending.attempt
                waiting -= ours
        deadline = None if self.max_wait_s is None else time.monotonic() + self.max_wait_s
        to_submit = [cid for cid in todo if cid in waiting]
        while True:
            for start in range(0, len(to_submit), self.max_batch_size):
                chunk = to_submit[start : start + self.max_batch_size]
                for cid in chunk:
                    attempts[cid] = attempts.get(cid, 0) + 1
                batch_id = await self._submit(chunk, by_id, max(attempts[c] for c in chunk))
                active.append(batch_id)
                report.batches_submitted += 1
            if not active:
                break
            outcomes = await asyncio.gather(
                *(self._wait(b, deadline) for b in active), return_exceptions=True
            )
            # Batches that ended are collected (and their results saved) even if another one
            # failed or ran out of time, which is raised afterwards.
            for outcome in outcomes:
                if not isinstance(outcome, BaseException):
                    await self._collect(outcome, by_id, attempts, report)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
            active = []
            to_submit = [
                cid
                for cid, failure in report.failures.items()
                if failure.retryable and attempts[cid] < self.max_attempts
            ]
            for cid in to_submit:
                del report.failures[cid]
        return report

    async def _submit(self, ids: list[str], by_id: dict[str, LLMRequest], attempt: int) -> str:
        body = [{"custom_id": cid, "params": build_message_params(by_id[cid])} for cid in ids]

        async def create() -> Any:
            return await self.sdk.messages.batches.create(requests=body)  # type: ignore[arg-type]

        batch = await self._call(f"create batch of {len(ids)}", create)
        # Recorded before polling: a process killed from here on adopts this batch when restarted.
        self.store.record_batch(batch.id, ids, attempt)
        return batch.id

    async def _wait(self, batch_id: str, deadline: float | None) -> Any:
        while True:

            async def retrieve() -> Any:
                return await self.sdk.messages.batches.retrieve(batch_id)

            batch = await self._call(f"retrieve {batch_id}", retrieve)
            if batch.processing_status == "ended":
                return batch
            if deadline is not None and time.monotonic() + self.poll_interval_s > deadline:
                raise LLMError(
                    f"batch {batch_id} still {batch.processing_status} after the "
                    f"{self.max_wait_s}s wait limit; its id is saved in {self.store.path}, "
                    "run again to resume it"
                )
            await asyncio.sleep(self.poll_interval_s)

    async def _collect(
        self,
        batch: Any,
        by_id: dict[str, LLMRequest],
        attempts: dict[str, int],
        report: BatchReport,
    ) -> None:
        async def results() -> list[Any]:
            return [line async for line in await self.sdk.messages.batches.results(batch.id)]

        lines = await self._call(f"results of {batch.id}", results)
        latency = 0.0
        if batch.ended_at is not None and batch.created_at is not None:
            latency = max(0.0, (batch.ended_at - batch.created_at).total_seconds())
        seen: set[str] = set()
        for line in lines:
            cid = line.custom_id
            request = by_id.get(cid)
            result = line.result
            if result.type == "succeeded":
                response = response_from_message(
                    result.message,
                    request_key=cid,
                    model=request.model if request else result.message.model,
                    prices=self.prices,
                    provider=self.provider,
                    latency_s=latency,
                    batch=True,
                )
                # Saved even for a request of another run sharing this store (an adopted batch
                # is marked ended below), so that run finds its result here instead of paying again.
                self.store.save_result(cid, response)
            if request is None:
                continue
            seen.add(cid)
            if result.type == "succeeded":
                report.responses[cid] = response
                report.failures.pop(cid, None)
            else:
                error_type, message = _error_of(result)
                report.failures[cid] = BatchFailure(
                    request_key=cid,
                    kind=result.type,
                    error_type=error_type,
                    message=message,
                    attempts=attempts.get(cid, 1),
                    batch_id=batch.id,
                )
        # A request the batch held but the results omit must not vanish from the report.
        for cid in sorted((self.store.batch_items(batch.id) & by_id.keys()) - seen):
            if cid not in report.responses:
                report.failures[cid] = BatchFailure(
                    request_key=cid,
                    kind="missing",
                    message="no result line for this request",
                    attempts=attempts.get(cid, 1),
                    batch_id=batch.id,
                )
        self.store.mark_ended(batch.id)


def _error_of(result: Any) -> tuple[str | None, str]:
    """Return (error type, message) of an errored/expired/canceled batch result."""
    if result.type != "errored":
        return None, f"request {result.type} before it was processed"
    payload = json.loads(result.error.model_dump_json()) if hasattr(result, "error") else {}
    error = payload.get("error") or {}
    return error.get("type"), str(error.get("message") or payload)
