"""Budget caps through the real CLI: a cap binds its run until the user raises it, and a run
stops only when its cap is truly reached, saying so in the same figures as its summary."""

from __future__ import annotations

import json
import re

from factory.testing.anthropic_server import AnthropicTestServer
from tests.recipes.recipe_llm import MATH_SPEC, self_instruct_responder, write_seeds
from tests.run.scripted_llm import GSM_SPEC, expected_gsm_rows, gsm_responder, run_cli

STOP = re.compile(
    r"max_usd reached: \$(?P<spent>[\d.]+) spent of \$(?P<cap>[\d.]+) "
    r"\(the next call could cost up to \$(?P<next>[\d.]+)\)"
)


def _summary(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _generate(server, out, *extra):
    return run_cli(
        "generate", str(GSM_SPEC), "--n", "20", "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--json-logs", *extra,
    )  # fmt: skip


def test_a_cap_binds_the_run_on_resume_until_it_is_raised(llm_server, tmp_path):
    out = tmp_path / "run"
    capped = _summary(_generate(llm_server, out, "--max-usd", "0.008"))
    assert capped["stopped"].startswith("max_usd reached")
    assert capped["caps"]["max_usd"] == 0.008 and capped["problems"]["open"] > 0

    calls = len(llm_server.requests_to("/v1/messages"))
    again = _summary(run_cli("resume", str(out), "--json-logs"))
    assert again["stopped"].startswith("max_usd reached")
    assert again["caps"]["max_usd"] == 0.008
    assert again["cost_usd"] <= 0.008
    assert len(llm_server.requests_to("/v1/messages")) == calls, "nothing fits under the cap"
    also = _summary(_generate(llm_server, out, "--resume"))  # `generate --resume` keeps it too
    assert also["stopped"].startswith("max_usd reached") and also["cost_usd"] <= 0.008

    raised = _summary(run_cli("resume", str(out), "--max-usd", "1", "--json-logs"))
    assert raised["stopped"] is None and raised["problems"]["open"] == 0
    assert raised["caps"]["max_usd"] == 1
    assert raised["kept_rows"] == expected_gsm_rows(20)


def test_the_stop_names_the_command_that_raises_the_cap(llm_server, tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "generate", str(GSM_SPEC), "--n", "20", "--out", str(out),
        "--llm", f"anthropic:{llm_server.base_url}", "--max-usd", "0.008",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"continue with: factory resume {out} --max-usd N (N above 0.008" in result.stdout


def test_a_recipe_s_cap_binds_its_resume_too(tmp_path):
    seeds = write_seeds(tmp_path / "seeds.jsonl")
    out = tmp_path / "run"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        capped = _summary(run_cli(
            "self-instruct", str(MATH_SPEC), "--seeds", str(seeds), "--target", "8",
            "--out", str(out), "--llm", f"anthropic:{server.base_url}", "--json-logs",
            "--requests-per-round", "2", "--max-usd", "0.008",
        ))  # fmt: skip
        assert capped["stopped"].startswith("max_usd reached")
        again = _summary(run_cli("resume", str(out), "--json-logs"))
        assert again["stopped"].startswith("max_usd reached") and again["cost_usd"] <= 0.008
        raised = _summary(run_cli("resume", str(out), "--json-logs", "--max-usd", "5"))
    assert raised["stopped"] is None
    assert raised["recipe"]["generated_in_pool"] >= 8


def test_concurrent_calls_wait_for_each_other_and_the_run_stops_only_at_the_cap(tmp_path):
    with AnthropicTestServer(responder=gsm_responder, delay_s=0.05) as server:
        summary = _summary(_generate(server, tmp_path / "run", "--max-usd", "0.008",
                                     "--concurrency", "8"))  # fmt: skip
    stop = STOP.fullmatch(summary["stopped"])
    assert stop, summary["stopped"]
    spent, cap, next_call = (float(stop[k]) for k in ("spent", "cap", "next"))
    # The cap is truly reached: the next call's worst case no longer fits beside what was spent
    # (no reservation of a call in flight holds the run back), and it was never crossed.
    assert spent + next_call > cap == 0.008
    assert summary["cost_usd"] <= cap
    # The stop message and the summary name the same spend.
    assert f"{summary['cost_usd']:.4f}" == stop["spent"]
