"""Fixtures for the LLM layer: a real local Anthropic/OpenAI-compatible server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from factory.testing import AnthropicTestServer


@pytest.fixture
def server() -> Iterator[AnthropicTestServer]:
    """A fresh local test server (echo responder, no delay)."""
    with AnthropicTestServer() as srv:
        yield srv
