"""A local HTTP server speaking enough of the Anthropic and OpenAI APIs for their official clients.

Use it to test specs, plugins and the LLM layer offline, with the real SDKs over real HTTP::

    with AnthropicTestServer(responder=lambda req: "The answer is \\boxed{4}.") as srv:
        client = anthropic.Anthropic(api_key="test", base_url=srv.base_url)

Served routes:

- ``POST /v1/messages`` (non-streaming), with a prompt-cache simulation: the prefix up to the last
  ``cache_control`` block is "written" the first time and "read" when it repeats;
- Message Batches: ``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``,
  ``GET /v1/messages/batches/{id}/results`` (JSONL), ``POST /v1/messages/batches/{id}/cancel``;
- ``POST /v1/chat/completions`` (OpenAI-compatible, non-streaming).

Answers come from ``responder(request_json) -> str | dict`` (a dict may set ``text``,
``stop_reason`` and ``output_tokens``). Output longer than the request's ``max_tokens`` is cut and
reported as ``stop_reason: "max_tokens"``, as a real model would. Token counts are approximated
as one token per four characters. Like API version 2026-10-21 (sent by SDK 2.x), ``temperature``,
``top_p`` and ``top_k`` are refused with a 400 unless the request says ``anthropic-version:
2023-06-01``.

Faults are injected with ``fail_next`` (HTTP errors such as 429 with retry-after, 529, 500, the
"credit balance is too low" 400), ``delay_s`` (slow responses) and ``fail_batch_items`` (per-request
batch outcomes errored/expired/canceled). Every request received is recorded in ``requests``, and
``max_in_flight`` counts the most completion requests served at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Responder = Callable[[dict[str, Any]], "str | dict[str, Any]"]
Route = Literal["messages", "chat", "batches.create", "any"]
BatchOutcome = Literal["errored", "expired", "canceled"]

CREDIT_BALANCE_TOO_LOW = (
    "Your credit balance is too low to access the Anthropic API. "
    "Please go to Plans & Billing to upgrade or purchase credits."
)

# The error "type" the real API sends with each status.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "api_error",
    529: "overloaded_error",
}


def approx_tokens(text: str) -> int:
    """Approximate a token count as one token per four characters (rounded up)."""
    return (len(text) + 3) // 4


def _block_texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b.get("text", "") for b in content or [] if isinstance(b, dict)]


def last_user_text(body: dict[str, Any]) -> str:
    """Return the text of the last user message of an Anthropic or OpenAI request body."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return "".join(_block_texts(message.get("content")))
    return ""


def echo_responder(body: dict[str, Any]) -> str:
    """The default responder: a deterministic answer derived from the last user message."""
    text = last_user_text(body)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"Echo [{digest}]: {text}"


@dataclass
class Fault:
    """An HTTP error the server answers with instead of serving a request."""

    status: int
    message: str = ""
    retry_after: str | None = None  # value of the retry-after header (seconds or HTTP date)
    retry_after_ms: float | None = None
    route: Route = "any"
    error_type: str | None = None


@dataclass
class RecordedRequest:
    """One HTTP request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float


@dataclass
class _BatchItemRule:
    outcome: BatchOutcome
    when: Callable[[dict[str, Any]], bool]
    times: int
    error_type: str = "api_error"
    message: str = "Internal server error"


@dataclass
class _Batch:
    id: str
    requests: list[dict[str, Any]]
    created_at: datetime
    ready_at: float  # monotonic time when processing ends
    api_version: str | None = None
    status: str = "in_progress"
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


class AnthropicTestServer:
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) imitating the Anthropic/OpenAI APIs.

    ``delay_s`` delays every completion request (Anthropic and OpenAI); ``batch_processing_s`` is
    how long a batch stays ``in_progress`` after creation. Both may be changed while running.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        delay_s: float = 0.0,
        batch_processing_s: float = 0.0,
        api_key: str | None = None,
    ) -> None:
        self.responder: Responder = responder or echo_responder
        self.delay_s = delay_s
        self.batch_processing_s = batch_processing_s
        self.api_key = api_key  # when set, requests with another key get a 401
        self.requests: list[RecordedRequest] = []
        self.responder_errors: list[Exception] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._batch_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._batch_rules: list[_BatchItemRule] = []
        self._batches: dict[str, _Batch] = {}
        self._cached_prefixes: set[str] = set()
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> AnthropicTestServer:
        """Start serving in a background thread; return self."""
        handler = type("_BoundHandler", (_Handler,), {"state": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        # A short poll interval makes stop() (which waits for the serve loop to notice) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="llm-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> AnthropicTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The Anthropic SDK's ``base_url`` (``http://127.0.0.1:PORT``)."""
        if self._httpd is None:
            raise RuntimeError("server not started: use `with AnthropicTestServer() as srv:`")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        """The OpenAI-style base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"{self.base_url}/v1"

    # -- fault injection -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        message: str = "",
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        route: Route = "any",
        error_type: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests on ``route`` with HTTP ``status`` (in order).

        ``route="any"`` matches completions (Anthropic or OpenAI) and batch creation; batch
        polling and results are never failed.
        """
        fault = Fault(
            status=status,
            message=message or f"injected error {status}",
            retry_after=None if retry_after is None else str(retry_after),
            retry_after_ms=retry_after_ms,
            route=route,
            error_type=error_type,
        )
        with self._lock:
            self._faults.extend([fault] * times)

    def fail_credit_balance(self, *, route: Route = "any") -> None:
        """Answer the next request with the API's 400 "credit balance is too low" error."""
        self.fail_next(400, message=CREDIT_BALANCE_TOO_LOW, route=route)

    def fail_batch_items(
        self,
        outcome: BatchOutcome,
        when: Callable[[dict[str, Any]], bool],
        *,
        times: int = 1,
        error_type: str = "api_error",
        message: str = "Internal server error",
    ) -> None:
        """Give the next ``times`` batch items whose params match ``when`` this ``outcome``."""
        with self._lock:
            self._batch_rules.append(_BatchItemRule(outcome, when, times, error_type, message))

    def finish_batches(self) -> None:
        """End processing of every in-progress batch now (for tests of long-running batches)."""
        with self._lock:
            for batch in self._batches.values():
                batch.ready_at = 0.0

    # -- inspection ------------------------------------------------------------------------------

    def requests_to(self, path: str, method: str = "POST") -> list[RecordedRequest]:
        """Return the recorded requests with this exact ``method`` and ``path``."""
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def stats(self) -> dict[str, int]:
        """Counters for a process that cannot see this object (served at ``GET /_test/stats``)."""
        with self._lock:
            return {
                "requests": len(self.requests),
                "messages": sum(r.path == "/v1/messages" for r in self.requests),
                "chat_completions": sum(r.path == "/v1/chat/completions" for r in self.requests),
                "max_in_flight": self.max_in_flight,
            }

    @property
    def batch_create_count(self) -> int:
        """How many batch-creation requests were received (including failed ones)."""
        return len(self.requests_to("/v1/messages/batches"))

    # -- internals used by the handler -----------------------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body, time.monotonic()))

    def _take_fault(self, route: Route) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.route in ("any", route):
                    return self._faults.pop(i)
        return None

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}{uuid.uuid4().hex[:12]}"

    def _answer(self, body: dict[str, Any]) -> tuple[str, str, int]:
        """Return (text, stop_reason, output_tokens) for a request, applying ``max_tokens``."""
        raw = self.responder(body)
        spec = {"text": raw} if isinstance(raw, str) else dict(raw)
        text = str(spec.get("text", ""))
        stop_reason = spec.get("stop_reason", "end_turn")
        output_tokens = int(spec.get("output_tokens", approx_tokens(text)))
        limit = int(body.get("max_tokens") or body.get("max_completion_tokens") or 1 << 30)
        if output_tokens > limit:
            text, output_tokens, stop_reason = text[: limit * 4], limit, "max_tokens"
        return text, stop_reason, output_tokens

    def _prompt_usage(self, body: dict[str, Any]) -> dict[str, int]:
        """Count input tokens, simulating the prompt cache up to the last cache_control block."""
        blocks: list[tuple[str, bool]] = []
        system = body.get("system") or []
        if isinstance(system, str):
            blocks.append((system, False))
        else:
            blocks += [(b.get("text", ""), "cache_control" in b) for b in system]
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                blocks.append((content, False))
            else:
                blocks += [(b.get("text", ""), "cache_control" in b) for b in content]
        marks = [i for i, (_, cached) in enumerate(blocks) if cached]
        total = sum(approx_tokens(text) for text, _ in blocks)
        usage = {
            "input_tokens": total,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if not marks:
            return usage
        prefix = blocks[: marks[-1] + 1]
        prefix_tokens = sum(approx_tokens(text) for text, _ in prefix)
        key = hashlib.sha256(
            json.dumps([body.get("model"), [t for t, _ in prefix]]).encode("utf-8")
        ).hexdigest()
        with self._lock:
            hit = key in self._cached_prefixes
            self._cached_prefixes.add(key)
        usage["input_tokens"] = total - prefix_tokens
        usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = prefix_tokens
        return usage

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        text, stop_reason, output_tokens = self._answer(body)
        usage = self._prompt_usage(body)
        usage["output_tokens"] = output_tokens
        return {
            "id": self._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "unknown"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def _chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        text, stop_reason, output_tokens = self._answer(body)
        prompt_tokens = sum(
            approx_tokens("".join(_block_texts(m.get("content")))) for m in body.get("messages", [])
        )
        finish = "length" if stop_reason == "max_tokens" else "stop"
        return {
            "id": self._next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": prompt_tokens + output_tokens,
            },
        }

    def _create_batch(
        self, body: dict[str, Any], api_version: str | None
    ) -> tuple[int, dict[str, Any]]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return 400, _error_body(400, "requests: expected a non-empty list")
        ids = [r.get("custom_id") for r in requests]
        if len(set(ids)) != len(ids):
            return 400, _error_body(400, "custom_id values must be unique within a batch")
        now = datetime.now(UTC)
        batch = _Batch(
            id=self._next_id("msgbatch"),
            requests=requests,
            created_at=now,
            ready_at=time.monotonic() + self.batch_processing_s,
            api_version=api_version,
        )
        with self._lock:
            self._batches[batch.id] = batch
        return 200, self._batch_json(batch)

    def _process_if_ready(self, batch: _Batch) -> None:
        # One thread processes a batch; a concurrent poll waits instead of answering it twice.
        with self._batch_lock:
            if batch.status == "ended" or time.monotonic() < batch.ready_at:
                return
            self._process(batch)

    def _process(self, batch: _Batch) -> None:
        results = []
        for item in batch.requests:
            outcome = self._batch_outcome(item["params"])
            problem = _sampling_param_error(item["params"], batch.api_version)
            if problem:
                outcome = _BatchItemRule("errored", bool, 0, "invalid_request_error", problem)
            if outcome is None:
                message = self._message(item["params"])
                result: dict[str, Any] = {"type": "succeeded", "message": message}
            elif outcome.outcome == "errored":
                result = {
                    "type": "errored",
                    "error": {
                        "type": "error",
                        "error": {"type": outcome.error_type, "message": outcome.message},
                        "request_id": self._next_id("req"),
                    },
                }
            else:
                result = {"type": outcome.outcome}
            results.append({"custom_id": item["custom_id"], "result": result})
        with self._lock:
            batch.results = results
            batch.status = "ended"
            batch.ended_at = datetime.now(UTC)

    def _batch_outcome(self, params: dict[str, Any]) -> _BatchItemRule | None:
        with self._lock:
            for rule in self._batch_rules:
                if rule.times > 0 and rule.when(params):
                    rule.times -= 1
                    return rule
        return None

    def _batch_json(self, batch: _Batch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.status == "ended":
            for line in batch.results:
                counts[line["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": _iso(batch.created_at),
            "expires_at": _iso(batch.created_at + timedelta(hours=24)),
            "ended_at": _iso(batch.ended_at) if batch.ended_at else None,
            "cancel_initiated_at": (
                _iso(batch.cancel_initiated_at) if batch.cancel_initiated_at else None
            ),
            "archived_at": None,
            "results_url": (
                f"{self.base_url}/v1/messages/batches/{batch.id}/results" if ended else None
            ),
        }

    def _cancel_batch(self, batch: _Batch) -> dict[str, Any]:
        with self._batch_lock, self._lock:
            if batch.status == "in_progress":
                batch.cancel_initiated_at = datetime.now(UTC)
                batch.status = "ended"
                batch.ended_at = batch.cancel_initiated_at
                batch.results = [
                    {"custom_id": r["custom_id"], "result": {"type": "canceled"}}
                    for r in batch.requests
                ]
        data = self._batch_json(batch)
        return data


def _sampling_param_error(params: dict[str, Any], api_version: str | None) -> str | None:
    """Return the 400 message API version 2026-10-21 gives for sampling parameters, if any."""
    if api_version == "2023-06-01":
        return None  # the old API version still accepted them
    for name in ("temperature", "top_p", "top_k"):
        if name in params:
            return f"{name}: Extra inputs are not permitted"
    return None


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _error_body(status: int, message: str, error_type: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type or _ERROR_TYPES.get(status, "api_error"), "message": message},
    }


class _QuietServer(ThreadingHTTPServer):
    """Threads that do not block exit, and no traceback when a client hangs up mid-answer."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or are killed close their socket; that is expected in fault tests.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the bound ``AnthropicTestServer`` (set as ``state`` on a subclass)."""

    state: AnthropicTestServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        # Silence the per-request stderr lines; tests inspect ``requests`` instead.
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._send_json(400, _error_body(400, "request body is not valid JSON"))
            return
        path = self.path.split("?", 1)[0]
        state = self.state
        if path != "/_test/stats":
            state._record(method, path, {k.lower(): v for k, v in self.headers.items()}, body)
        if state.api_key is not None and not self._authorized(state.api_key):
            self._send_json(401, _error_body(401, "invalid x-api-key"))
            return
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/_test/stats":
            self._send_json(200, state.stats())
        elif method == "POST" and path == "/v1/messages":
            self._complete("messages", body, state._message)
        elif method == "POST" and path == "/v1/chat/completions":
            self._complete("chat", body, state._chat_completion)
        elif method == "POST" and path == "/v1/messages/batches":
            if self._send_fault("batches.create"):
                return
            self._send_json(*state._create_batch(body or {}, self.headers.get("anthropic-version")))
        elif parts[:3] == ["v1", "messages", "batches"] and len(parts) >= 4:
            self._batch_route(method, parts[3], parts[4:])
        else:
            self._send_json(404, _error_body(404, f"no route {method} {path}"))

    def _authorized(self, key: str) -> bool:
        given = self.headers.get("x-api-key") or ""
        bearer = self.headers.get("authorization") or ""
        return given == key or bearer == f"Bearer {key}"

    def _complete(
        self, route: Route, body: Any, build: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        state = self.state
        with state._lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if state.delay_s:
                time.sleep(state.delay_s)
            if self._send_fault(route):
                return
            if not isinstance(body, dict) or not body.get("messages"):
                self._send_json(400, _error_body(400, "messages: field required"))
                return
            if route == "messages":
                problem = _sampling_param_error(body, self.headers.get("anthropic-version"))
                if problem:
                    self._send_json(400, _error_body(400, problem))
                    return
            try:
                answer = build(body)
            except Exception as exc:
                # A broken responder is the test's bug: say so instead of dropping the connection.
                state.responder_errors.append(exc)
                message = f"test server responder raised {exc!r}"
                self._send_json(500, _error_body(500, message))
                return
            self._send_json(200, answer)
        finally:
            with state._lock:
                state.in_flight -= 1

    def _send_fault(self, route: Route) -> bool:
        fault = self.state._take_fault(route)
        if fault is None:
            return False
        headers = {}
        if fault.retry_after is not None:
            headers["retry-after"] = fault.retry_after
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
        if route == "chat":
            body: dict[str, Any] = {
                "error": {"message": fault.message, "type": fault.error_type or "server_error"}
            }
        else:
            body = _error_body(fault.status, fault.message, fault.error_type)
        self._send_json(fault.status, body, headers)
        return True

    def _batch_route(self, method: str, batch_id: str, rest: list[str]) -> None:
        state = self.state
        batch = state._batches.get(batch_id)
        if batch is None:
            self._send_json(404, _error_body(404, f"no batch {batch_id}"))
            return
        if method == "GET" and not rest:
            state._process_if_ready(batch)
            self._send_json(200, state._batch_json(batch))
        elif method == "GET" and rest == ["results"]:
            state._process_if_ready(batch)
            if batch.status != "ended":
                self._send_json(400, _error_body(400, f"batch {batch_id} is still processing"))
                return
            data = "".join(json.dumps(line) + "\n" for line in batch.results).encode("utf-8")
            self._send_bytes(200, data, "application/x-jsonl")
        elif method == "POST" and rest == ["cancel"]:
            self._send_json(200, state._cancel_batch(batch))
        else:
            self._send_json(404, _error_body(404, f"no route {method} {self.path}"))

    def _send_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_bytes(status, json.dumps(body).encode("utf-8"), "application/json", headers)

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_test_{uuid.uuid4().hex[:16]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: ``python -m factory.testing.anthropic_server [--delay S]``.

    Prints the base URL on the first line, so a script or another process can connect; counters
    are at ``GET /_test/stats``.
    """
    import argparse

    parser = argparse.ArgumentParser(description="A local Anthropic/OpenAI-compatible test server.")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--batch-processing", type=float, default=0.0, help="seconds per batch")
    args = parser.parse_args(argv)
    with AnthropicTestServer(delay_s=args.delay, batch_processing_s=args.batch_processing) as srv:
        print(srv.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
