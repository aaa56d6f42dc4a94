"""A hung LLM request, through the real CLI and SDK: `--request-timeout` bounds it (the request
is abandoned and retried), and the progress output shows calls in flight and how long the
oldest has waited."""

from __future__ import annotations

import json
import threading
import time

from factory.testing.anthropic_server import AnthropicTestServer, last_user_text
from tests.run.scripted_llm import GSM_SPEC, gsm_responder, run_cli


def _hang_first(seconds: float):
    """The scripted solver, hanging ``seconds`` on the first request it gets (only once)."""
    first = threading.Event()

    def respond(body: dict) -> str:
        if not first.is_set():
            first.set()
            time.sleep(seconds)
        return gsm_responder(body)

    return respond


def _run(server, out, *extra):
    return run_cli(
        "generate", str(GSM_SPEC), "--n", "2", "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--json-logs", "--concurrency", "1", *extra,
    )  # fmt: skip


def test_a_hung_request_is_abandoned_after_the_request_timeout_and_retried(tmp_path):
    with AnthropicTestServer(responder=_hang_first(4.0)) as server:
        result = _run(server, tmp_path / "run", "--request-timeout", "0.5")
        prompts = [last_user_text(r.body) for r in server.requests_to("/v1/messages")]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["problems"]["done"] == 2 and summary["llm_calls"] == 8
    # The first request was sent again once the timeout gave up on it: 8 calls, 9 requests.
    assert len(prompts) == 9 and prompts.count(prompts[0]) >= 2


def test_progress_shows_the_calls_in_flight_and_the_oldest_wait(tmp_path):
    with AnthropicTestServer(responder=_hang_first(6.0)) as server:
        result = _run(server, tmp_path / "run", "--request-timeout", "30")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    assert progress, "a progress event comes every 5 s"
    assert progress[0]["calls_in_flight"] >= 1 and progress[0]["oldest_call_s"] >= 4
