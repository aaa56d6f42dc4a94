"""A durable response cache, so a resumed run never pays twice for a call that already completed.

One SQLite connection in WAL mode, every write committed on its own (a ``kill -9`` loses at most
the call in flight), writes serialized by a lock so concurrent asyncio tasks (and threads) are safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from factory.llm.errors import LLMError
from factory.llm.types import LLMClient, LLMRequest, LLMResponse

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


class ResponseCache:
    """Responses stored by ``LLMRequest.cache_key()`` in a SQLite file at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            # check_same_thread=False: the lock below serializes use, whichever thread calls.
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against a process crash (kill -9); only power loss can drop the
            # last commits, which is the trade-off WAL documents.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise LLMError(f"cannot open response cache {self.path}: {exc}") from exc

    def get(self, key: str) -> LLMResponse | None:
        """Return the stored response for ``key``, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT response FROM responses WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else LLMResponse.model_validate_json(row[0])

    def put(self, request: LLMRequest, response: LLMResponse) -> None:
        """Store ``response`` for ``request`` and commit at once."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses (key, model, response, created_at)"
                " VALUES (?, ?, ?, ?)",
                (request.cache_key(), request.model, response.model_dump_json(), time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()


class CachedClient:
    """Serve responses from ``cache`` when present; otherwise ask ``inner`` and store the answer.

    A cached response comes back with ``from_cache=True`` and ``cost_usd=0`` (this run paid
    nothing); ``original_cost_usd`` keeps the first call's cost. Concurrent identical requests
    share one call to ``inner``. Failures are not cached.
    """

    def __init__(self, inner: LLMClient, cache: ResponseCache) -> None:
        self.inner = inner
        self.cache = cache
        self.provider = inner.provider
        self._pending: dict[str, asyncio.Future[LLMResponse]] = {}

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the cached response for ``request``, or complete it through ``inner``."""
        key = request.cache_key()
        while True:
            cached = self.cache.get(key)
            if cached is not None:
                return _as_cached(cached)
            pending = self._pending.get(key)
            if pending is None:
                break
            try:
                return _as_cached(await asyncio.shield(pending))
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this task was cancelled, not the shared call
                # The task making the shared call was cancelled: look again, maybe call ourselves.
        future: asyncio.Future[LLMResponse] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            response = await self.inner.complete(request)
            self.cache.put(request, response)
            future.set_result(response)
            return response
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            # Waiters re-raise it; mark it retrieved so an unshared failure is not logged twice.
            future.exception()
            raise
        finally:
            del self._pending[key]

    async def aclose(self) -> None:
        """Close the inner client and the cache."""
        await self.inner.aclose()
        self.cache.close()


def _as_cached(response: LLMResponse) -> LLMResponse:
    original = response.original_cost_usd
    return response.model_copy(
        update={
            "from_cache": True,
            "cost_usd": 0.0,
            "original_cost_usd": response.cost_usd if original is None else original,
            "latency_s": 0.0,
        }
    )
