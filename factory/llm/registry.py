"""Build an ``LLMClient`` from a short spec string, as the CLI and run configs write it."""

from __future__ import annotations

from typing import Any

from factory.llm.anthropic_client import AnthropicClient
from factory.llm.openai_compat import OpenAICompatClient
from factory.llm.replay import ReplayClient
from factory.llm.types import LLMClient

SPEC_FORMS = "'anthropic', 'anthropic:BASE_URL', 'openai:BASE_URL' or 'replay:FILE'"


def make_client(spec: str, **kw: Any) -> LLMClient:
    """Return a client for ``spec``; ``kw`` goes to the client's constructor.

    - ``anthropic``: the Anthropic API (key from ``ANTHROPIC_API_KEY`` or ``api_key=``);
    - ``anthropic:BASE_URL``: an Anthropic-compatible server, e.g. ``factory.testing``'s;
    - ``openai:BASE_URL``: an OpenAI-compatible server, e.g. ``openai:http://localhost:8000/v1``;
    - ``replay:FILE``: responses recorded by ``RecordingClient``, no network.
    """
    kind, sep, rest = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "anthropic":
        return AnthropicClient(base_url=rest or None, **kw) if sep else AnthropicClient(**kw)
    if kind == "openai" and rest:
        return OpenAICompatClient(base_url=rest, **kw)
    if kind == "replay" and rest:
        if kw:
            raise ValueError(f"replay clients take no options, got {sorted(kw)}")
        return ReplayClient(rest)
    raise ValueError(f"unknown LLM client spec {spec!r}: expected {SPEC_FORMS}")
