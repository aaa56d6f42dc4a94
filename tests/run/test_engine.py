"""The run engine used as a library: a misbehaving verifier stops the run, never hangs it."""

import asyncio

from factory.llm.anthropic_client import AnthropicClient
from factory.run.engine import Run, RunConfig
from factory.spec import load_spec
from factory.testing.anthropic_server import AnthropicTestServer
from tests.run.scripted_llm import GSM_SPEC, expected_gsm_rows, gsm_responder
from verifiers import Verdict


class ExplodingVerifier:
    """Breaks the never-raise contract on purpose."""

    name = "exploding"
    version = "0"

    def verify(self, problem, candidate) -> Verdict:
        raise RuntimeError("boom")


def _run(tmp_path, verifiers=None, n=6):
    spec = load_spec(GSM_SPEC)

    async def go(server):
        client = AnthropicClient(api_key="k", base_url=server.base_url)
        try:
            run = Run(
                spec, RunConfig(out=tmp_path / "run", n_problems=n, concurrency=2), client,
                verifiers=verifiers,
            )  # fmt: skip
            return await asyncio.wait_for(run.execute(), timeout=120)
        finally:
            await client.aclose()

    with AnthropicTestServer(responder=gsm_responder) as server:
        return asyncio.run(go(server))


def test_a_verifier_that_raises_stops_the_run_and_keeps_problems_open(tmp_path):
    summary = _run(tmp_path, verifiers={"math": ExplodingVerifier()})
    assert summary.failed
    assert "internal error" in summary.stopped and "boom" in summary.stopped
    assert summary.kept_rows == 0 and summary.problems["done"] == 0


def test_library_run_matches_the_cli(tmp_path):
    summary = _run(tmp_path, n=6)
    assert not summary.failed and summary.stopped is None
    assert summary.kept_rows == expected_gsm_rows(6)
    assert (tmp_path / "run" / "summary.json").is_file()
