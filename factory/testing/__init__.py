"""Test doubles shipped with factory, so users test their specs and plugins offline.

``AnthropicTestServer`` is a real local HTTP server that the official Anthropic SDK (and any
OpenAI-compatible client, at ``srv.openai_base_url``) can talk to, with injectable faults.
"""

from factory.testing.anthropic_server import (
    CREDIT_BALANCE_TOO_LOW,
    AnthropicTestServer,
    RecordedRequest,
    echo_responder,
    last_user_text,
)

# One server serves both APIs; the alias reads better in OpenAI-only tests.
OpenAITestServer = AnthropicTestServer

__all__ = [
    "CREDIT_BALANCE_TOO_LOW",
    "AnthropicTestServer",
    "OpenAITestServer",
    "RecordedRequest",
    "echo_responder",
    "last_user_text",
]
