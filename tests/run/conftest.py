"""Fixtures of the run tests."""

import pytest

from factory.testing.anthropic_server import AnthropicTestServer
from tests.run.scripted_llm import gsm_responder


@pytest.fixture
def llm_server():
    """A local Anthropic-compatible server answering grade-school problems."""
    with AnthropicTestServer(responder=gsm_responder) as server:
        yield server
