"""Test doubles shipped with factory, so users test their specs and plugins offline.

``AnthropicTestServer`` is a real local HTTP server that the official Anthropic SDK (and any
OpenAI-compatible client, at ``srv.openai_base_url``) can talk to, with injectable faults. Run it
standalone with ``python -m factory.testing.anthropic_server``.

Names are imported on first use, so ``python -m factory.testing.anthropic_server`` does not
import its own module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> name in factory.testing.anthropic_server. One server serves both APIs; the
# OpenAI alias reads better in OpenAI-only tests.
_NAMES = {
    "CREDIT_BALANCE_TOO_LOW": "CREDIT_BALANCE_TOO_LOW",
    "AnthropicTestServer": "AnthropicTestServer",
    "OpenAITestServer": "AnthropicTestServer",
    "RecordedRequest": "RecordedRequest",
    "echo_responder": "echo_responder",
    "last_user_text": "last_user_text",
}

__all__ = [
    "CREDIT_BALANCE_TOO_LOW",
    "AnthropicTestServer",
    "OpenAITestServer",
    "RecordedRequest",
    "echo_responder",
    "last_user_text",
]


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'factory.testing' has no attribute {name!r}")
    module = importlib.import_module("factory.testing.anthropic_server")
    value = getattr(module, _NAMES[name])
    globals()[name] = value  # later lookups skip this function
    return value


if TYPE_CHECKING:
    from factory.testing.anthropic_server import (
        CREDIT_BALANCE_TOO_LOW,
        AnthropicTestServer,
        RecordedRequest,
        echo_responder,
        last_user_text,
    )

    OpenAITestServer = AnthropicTestServer
