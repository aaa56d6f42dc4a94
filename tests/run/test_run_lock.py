"""One process at a time on a run directory, through the real CLI: a second one is refused in
one line naming the holder's pid, and two resumes started together pay for each call once."""

from __future__ import annotations

import json
import time

from factory.llm.cache import ResponseCache
from factory.testing.anthropic_server import AnthropicTestServer
from tests.run.killing import ask, kill_when, start_cli
from tests.run.scripted_llm import GSM_SPEC, gsm_responder, rows_of, run_cli, settled_count

DONE = "SELECT COUNT(*) FROM problems WHERE state = 'done'"


def _generate_args(server, out, *extra, concurrency=3):
    return [
        "generate", str(GSM_SPEC), "--n", "20", "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--json-logs",
        "--concurrency", str(concurrency), *extra,
    ]  # fmt: skip


def test_two_resumes_started_together_pay_for_each_call_once(tmp_path):
    with AnthropicTestServer(responder=gsm_responder, delay_s=0.15) as server:
        whole = run_cli(*_generate_args(server, tmp_path / "whole"))
        assert whole.returncode == 0, whole.stderr
        killed = tmp_path / "killed"
        before = len(server.requests_to("/v1/messages"))
        kill_when(start_cli(*_generate_args(server, killed)), killed, DONE, 3)
        completed = len(ResponseCache(killed / "llm_cache.sqlite"))
        first_part = settled_count(server) - before

        both = [start_cli("resume", str(killed), "--json-logs") for _ in range(2)]
        outputs = [p.communicate(timeout=300) for p in both]
        results = [(p.pid, p.returncode, *out) for p, out in zip(both, outputs, strict=True)]
        second_part = len(server.requests_to("/v1/messages")) - before - first_part

    finished = [r for r in results if r[1] == 0]
    refused = [r for r in results if r[1] != 0]
    assert len(finished) == 1 and len(refused) == 1, results
    winner, (_, code, _, stderr) = finished[0][0], refused[0]
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "in progress" in lines[0] and f"pid {winner}" in lines[0]
    # The calls the run still needed were made once, by the process that holds the run.
    assert second_part == 80 - completed
    assert json.loads(finished[0][2].splitlines()[-1])["llm_calls"] == 80
    assert rows_of(killed) == rows_of(tmp_path / "whole")


def test_stats_and_publish_of_a_live_run_say_it_is_in_progress(tmp_path):
    with AnthropicTestServer(responder=gsm_responder, delay_s=2.0) as server:
        out = tmp_path / "run"
        live = start_cli(*_generate_args(server, out, concurrency=1))  # 20 rounds of 2 s
        try:
            while ask(out, DONE) < 1 and live.poll() is None:
                time.sleep(0.05)
            assert live.poll() is None, "the run must still be going"
            generate = run_cli(*_generate_args(server, out, "--resume"))
            resume = run_cli("resume", str(out))
            stats = run_cli("stats", str(out))
            publish = run_cli("publish", str(out), "--out", str(tmp_path / "ds"))
            assert live.poll() is None, "the run must have been live throughout"
        finally:
            live.kill()
            live.communicate()
    for result in (generate, resume):
        assert result.returncode == 2
        assert f"the run is in progress (pid {live.pid} holds it)" in result.stderr
        assert "Traceback" not in result.stderr
    # Reading a live run may work or catch it mid-write; either way nobody is told to resume it.
    for result in (stats, publish):
        assert "factory resume" not in result.stderr or "in progress" in result.stderr
        assert "Traceback" not in result.stderr
    if publish.returncode == 0:
        assert f"the run is in progress (pid {live.pid})" in publish.stderr


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    with AnthropicTestServer(responder=gsm_responder, delay_s=0.05) as server:
        out = tmp_path / "run"
        kill_when(start_cli(*_generate_args(server, out)), out, DONE, 1)
        resumed = run_cli("resume", str(out), "--json-logs")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1])["problems"]["open"] == 0
