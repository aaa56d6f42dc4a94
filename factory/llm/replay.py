"""Record responses to a JSON-lines file, and replay them later with no network.

The file's first line is a header, ``{"_recorded": true, "note": ...}``, so nobody mistakes
recorded responses for fresh ones; each further line is ``{key, request, response, recorded_at}``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from factory.llm.errors import LLMError, LLMReplayMiss
from factory.llm.types import LLMClient, LLMRequest, LLMResponse

log = logging.getLogger(__name__)

HEADER_NOTE = (
    "Recorded LLM responses, served back by factory.llm.replay.ReplayClient keyed by the "
    "request's cache_key; these are not fresh model outputs."
)


class RecordingClient:
    """Pass requests to ``inner`` and append every request/response pair to ``path``.

    Each line is flushed as it is written, so a killed run keeps everything recorded before; a
    partial line it may leave is cut when the file is next opened for recording.
    """

    def __init__(self, inner: LLMClient, path: str | Path) -> None:
        self.inner = inner
        self.path = Path(path)
        self.provider = inner.provider
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _drop_partial_last_line(self.path)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = self.path.open("a", encoding="utf-8")
        if new:
            self._write({"_recorded": True, "note": HEADER_NOTE})

    def _write(self, record: dict[str, object]) -> None:
        # One write call per line: lines from concurrent tasks never interleave in asyncio.
        self._file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._file.flush()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Complete ``request`` through ``inner`` and record the pair."""
        response = await self.inner.complete(request)
        self._write(
            {
                "key": request.cache_key(),
                "request": request.model_dump(mode="json"),
                "response": response.model_dump(mode="json"),
                "recorded_at": datetime.now(UTC).isoformat(),
            }
        )
        return response

    async def aclose(self) -> None:
        """Close the inner client and the file."""
        try:
            await self.inner.aclose()
        finally:
            self._file.close()


class ReplayClient:
    """Serve responses recorded by ``RecordingClient``, by request cache key, with no network.

    Responses carry ``provider="replay:<file>"`` and the recorded cost, so budget logic behaves as
    in the recorded run. A request that was not recorded raises ``LLMReplayMiss``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.provider = f"replay:{self.path}"
        self._responses: dict[str, LLMResponse] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise LLMError(f"cannot read replay file {self.path}: {exc}") from exc
        lines = text.splitlines()
        if lines and not text.endswith("\n") and len(lines) > 1:
            # A recorder killed mid-write leaves a partial last line: that call was never
            # recorded, so it is dropped; a malformed complete line is still an error below.
            log.warning("%s: ignoring a partial last line (interrupted recording)", self.path)
            lines.pop()
        if not lines or not _is_header(lines[0]):
            raise LLMError(
                f"{self.path} is not a recording: its first line must be the header "
                '{"_recorded": true, ...} written by RecordingClient (re-record with --record)'
            )
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                response = LLMResponse.model_validate(record["response"])
                key = str(record["key"])
            except (json.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
                raise LLMError(f"{self.path}:{number}: malformed recorded line ({exc})") from exc
            self._responses[key] = response  # a later recording of the same request wins

    def __len__(self) -> int:
        return len(self._responses)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the recorded response for ``request``; raise ``LLMReplayMiss`` if missing."""
        key = request.cache_key()
        response = self._responses.get(key)
        if response is None:
            raise LLMReplayMiss(
                f"no recorded response for request {key[:12]} ({request.describe()}) in "
                f"{self.path}; re-record with --record"
            )
        return response.model_copy(update={"provider": self.provider, "latency_s": 0.0})

    async def aclose(self) -> None:
        """Nothing to release (the file was read at construction)."""


def _drop_partial_last_line(path: Path) -> None:
    """Cut a partial last line (left by a killed recorder) so new lines start on their own."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        log.warning("%s: dropping a partial last line left by an interrupted recording", path)
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def _is_header(line: str) -> bool:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(header, dict) and header.get("_recorded") is True
