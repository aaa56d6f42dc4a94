"""ResponseCache/CachedClient and RecordingClient/ReplayClient, with calls to the local server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from factory.llm import (
    AnthropicClient,
    CachedClient,
    LLMError,
    LLMReplayMiss,
    LLMRequest,
    LLMResponse,
    RecordingClient,
    ReplayClient,
    ResponseCache,
)
from factory.testing import AnthropicTestServer
from tests.llm.llm_helpers import FAST_RETRY, make_request, run


def anthropic_client(srv: AnthropicTestServer) -> AnthropicClient:
    return AnthropicClient(api_key="k", base_url=srv.base_url, retry=FAST_RETRY)


def cached_calls(
    srv: AnthropicTestServer, path: Path, requests: list[LLMRequest]
) -> list[LLMResponse]:
    """Complete ``requests`` one after another through a fresh CachedClient on ``path``."""

    async def go() -> list[LLMResponse]:
        client = CachedClient(anthropic_client(srv), ResponseCache(path))
        try:
            return [await client.complete(r) for r in requests]
        finally:
            await client.aclose()

    return run(go())


def test_second_call_is_served_from_the_cache(server: AnthropicTestServer, tmp_path: Path) -> None:
    request = make_request()
    first, second = cached_calls(server, tmp_path / "c.sqlite", [request, request])
    assert len(server.requests_to("/v1/messages")) == 1
    assert not first.from_cache and first.cost_usd > 0
    assert second.from_cache and second.cost_usd == 0
    assert second.original_cost_usd == first.cost_usd and second.text == first.text


def test_cache_survives_a_new_process_and_misses_on_any_change(
    server: AnthropicTestServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.sqlite"
    request = make_request()
    cached_calls(server, path, [request])
    (again,) = cached_calls(server, path, [request])
    assert again.from_cache and len(server.requests_to("/v1/messages")) == 1
    changed = [
        request.model_copy(update={"prompt_version": "v2"}),
        request.model_copy(update={"system": request.system + " Be brief."}),
        request.model_copy(update={"sample_index": 1}),
    ]
    responses = cached_calls(server, path, changed)
    assert not any(r.from_cache for r in responses)
    assert len(server.requests_to("/v1/messages")) == 4


def test_concurrent_identical_requests_make_one_call(tmp_path: Path) -> None:
    with AnthropicTestServer(delay_s=0.2) as srv:

        async def go() -> list[LLMResponse]:
            client = CachedClient(anthropic_client(srv), ResponseCache(tmp_path / "c.sqlite"))
            try:
                return await asyncio.gather(*(client.complete(make_request()) for _ in range(5)))
            finally:
                await client.aclose()

        responses = run(go())
        assert len(srv.requests_to("/v1/messages")) == 1
    # One call was paid for; the four that shared it cost this run nothing.
    paid = [r for r in responses if not r.from_cache]
    assert len(paid) == 1 and paid[0].cost_usd > 0
    assert all(
        r.cost_usd == 0 and r.original_cost_usd == paid[0].cost_usd
        for r in responses
        if r.from_cache
    )


def test_failures_are_not_cached(server: AnthropicTestServer, tmp_path: Path) -> None:
    server.fail_next(400, message="nope")
    with pytest.raises(LLMError, match="nope"):
        cached_calls(server, tmp_path / "c.sqlite", [make_request()])
    (response,) = cached_calls(server, tmp_path / "c.sqlite", [make_request()])
    assert not response.from_cache and response.text


def test_a_committed_response_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    response = LLMResponse(
        text="kept",
        stop_reason="end_turn",
        model="m",
        usage={"input_tokens": 1},
        cost_usd=0.5,
        request_key=make_request().cache_key(),
        provider="p",
    )
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).parents[2])!r})
from tests.llm.llm_helpers import make_request
from factory.llm import LLMResponse, ResponseCache
cache = ResponseCache({str(path)!r})
cache.put(make_request(), LLMResponse.model_validate_json({response.model_dump_json()!r}))
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    stored = ResponseCache(path).get(make_request().cache_key())
    assert stored is not None and stored.text == "kept"


def record(srv: AnthropicTestServer, path: Path, requests: list[LLMRequest]) -> list[LLMResponse]:
    async def go() -> list[LLMResponse]:
        client = RecordingClient(anthropic_client(srv), path)
        try:
            return [await client.complete(r) for r in requests]
        finally:
            await client.aclose()

    return run(go())


def test_replay_round_trip_needs_no_server(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    requests = [make_request("one"), make_request("two")]
    with AnthropicTestServer() as srv:
        recorded = record(srv, path, requests)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["_recorded"] is True and len(lines) == 3

    replay = ReplayClient(path)
    replayed = [run(replay.complete(r)) for r in requests]
    assert [r.text for r in replayed] == [r.text for r in recorded]
    assert all(r.provider == f"replay:{path}" for r in replayed)
    assert replayed[0].usage == recorded[0].usage


def test_recording_appends_without_a_second_header(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with AnthropicTestServer() as srv:
        record(srv, path, [make_request("one")])
        record(srv, path, [make_request("two")])
    lines = path.read_text().splitlines()
    assert sum('"_recorded"' in line for line in lines) == 1 and len(lines) == 3
    assert len(ReplayClient(path)) == 2


def test_replay_miss_says_what_is_missing_and_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with AnthropicTestServer() as srv:
        record(srv, path, [make_request("one")])
    with pytest.raises(LLMReplayMiss, match=r"claude-haiku-4-5.*'never recorded'.*--record"):
        run(ReplayClient(path).complete(make_request("never recorded")))


def test_a_file_without_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text('{"key": "x"}\n')
    with pytest.raises(LLMError, match="not a recording"):
        ReplayClient(path)


def test_a_partial_line_from_a_killed_recorder_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with AnthropicTestServer() as srv:
        record(srv, path, [make_request("one")])
        with path.open("a") as f:
            f.write('{"key": "abc", "resp')  # the recorder was killed mid-line
        assert len(ReplayClient(path)) == 1
        record(srv, path, [make_request("two")])
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)
    assert len(ReplayClient(path)) == 2


def test_a_malformed_complete_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with AnthropicTestServer() as srv:
        record(srv, path, [make_request("one")])
    with path.open("a") as f:
        f.write("not json\n")
    with pytest.raises(LLMError, match=r"rec\.jsonl:3: malformed recorded line"):
        ReplayClient(path)
