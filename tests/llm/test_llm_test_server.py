"""The public test server on its own: standalone entry point, stats, routes, sampling params."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import anthropic
import pytest

from factory.testing import AnthropicTestServer


def test_standalone_server_prints_its_url_and_serves_stats() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "factory.testing.anthropic_server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        sdk = anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0)
        message = sdk.messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
        assert message.content[0].text.endswith("hi")
        with urllib.request.urlopen(f"{base_url}/_test/stats") as response:
            assert json.load(response)["messages"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.stderr is not None and "RuntimeWarning" not in proc.stderr.read()


def test_sampling_parameters_are_refused_like_the_current_api(
    server: AnthropicTestServer,
) -> None:
    sdk = anthropic.Anthropic(api_key="k", base_url=server.base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="temperature: Extra inputs"):
        sdk.messages.create(
            model="claude-haiku-4-5",
            max_tokens=5,
            messages=[{"role": "user", "content": "x"}],
            extra_body={"temperature": 1.0},
        )


def test_unknown_routes_are_404(server: AnthropicTestServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.base_url}/v1/nothing")
    assert info.value.code == 404


def test_a_failing_responder_is_reported_not_a_dropped_connection() -> None:
    def broken(body: dict) -> str:
        raise ZeroDivisionError("oops")

    with AnthropicTestServer(responder=broken) as srv:
        sdk = anthropic.Anthropic(api_key="k", base_url=srv.base_url, max_retries=0)
        with pytest.raises(anthropic.InternalServerError, match="responder raised"):
            sdk.messages.create(
                model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
            )
        assert isinstance(srv.responder_errors[0], ZeroDivisionError)
