"""make_client: spec strings to clients, and clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.llm import (
    AnthropicClient,
    LLMClient,
    OpenAICompatClient,
    RecordingClient,
    ReplayClient,
    make_client,
)
from factory.testing import AnthropicTestServer
from tests.llm.llm_helpers import make_request, run


def test_specs_build_the_matching_clients(tmp_path: Path) -> None:
    anthropic_default = make_client("anthropic", api_key="k")
    assert isinstance(anthropic_default, AnthropicClient)
    assert anthropic_default.provider == "anthropic"
    local = make_client("anthropic:http://127.0.0.1:9", api_key="k", max_concurrency=2)
    assert isinstance(local, AnthropicClient) and local.max_concurrency == 2
    openai = make_client("openai:http://localhost:8000/v1")
    assert isinstance(openai, OpenAICompatClient)
    assert openai.base_url == "http://localhost:8000/v1"
    for client in (anthropic_default, local, openai):
        assert isinstance(client, LLMClient)
        run(client.aclose())


def test_replay_spec_reads_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with AnthropicTestServer() as srv:

        async def go() -> None:
            client = RecordingClient(make_client(f"anthropic:{srv.base_url}", api_key="k"), path)
            await client.complete(make_request())
            await client.aclose()

        run(go())
    replay = make_client(f"replay:{path}")
    assert isinstance(replay, ReplayClient)
    assert run(replay.complete(make_request())).provider == f"replay:{path}"


@pytest.mark.parametrize("spec", ["gpt", "openai", "replay:", "vllm:http://x"])
def test_unknown_specs_list_the_valid_forms(spec: str) -> None:
    with pytest.raises(ValueError, match="expected 'anthropic'"):
        make_client(spec)


def test_every_client_and_wrapper_implements_the_protocol(tmp_path: Path) -> None:
    from factory.llm import CachedClient, ResponseCache

    inner = make_client("anthropic", api_key="k")
    path = tmp_path / "rec.jsonl"
    recording = RecordingClient(inner, path)
    cached = CachedClient(recording, ResponseCache(tmp_path / "c.sqlite"))
    for client in (recording, cached, ReplayClient(path)):
        assert isinstance(client, LLMClient) and client.provider
    run(cached.aclose())
