"""`factory generate` end to end: real CLI, real SDK over HTTP to a local server, real verifiers."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from unittest.mock import ANY

import pytest

from factory.llm.cache import ResponseCache
from factory.testing.anthropic_server import AnthropicTestServer, last_user_text
from tests.run.scripted_llm import (
    GSM_SPEC,
    REPO,
    algebra_responder,
    code_responder,
    expected_gsm_rows,
    gsm_responder,
    rows_of,
    run_cli,
    settled_count,
    sum_problems,
)


def _generate(server, out, *extra: str, n: int = 20, spec=GSM_SPEC):
    return run_cli(
        "generate", str(spec), "--n", str(n), "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--quiet", *extra,
    )  # fmt: skip


def test_math_spec_keeps_exactly_the_right_answers(llm_server, tmp_path):
    result = _generate(llm_server, tmp_path / "run", "--json-logs")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["event"] == "summary" and summary["stopped"] is None
    rows = rows_of(tmp_path / "run")
    assert len(rows) == summary["kept_rows"] == expected_gsm_rows(20)
    assert summary["rejections"] == {"wrong_answer": 80 - len(rows)}
    row = rows[0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert row["verdict"]["passed"] and row["answer"]
    prov = row["provenance"]
    assert prov["spec_name"] == "gsm8k_distill" and prov["verifier"] == "math"
    assert prov["reference_trust"] == "ground_truth" and prov["model"] == "claude-haiku-4-5"
    assert {"spec_hash", "prompt_version", "temperature", "sample_index"} <= set(prov)
    rejections = [json.loads(x) for x in (tmp_path / "run" / "rejections.jsonl").open()]
    assert {r["reason"] for r in rejections} == {"wrong_answer"}
    assert summary["usd_per_kept_row"] > 0


def test_resume_after_sigkill_equals_an_uninterrupted_run_and_pays_nothing_twice(tmp_path):

    with AnthropicTestServer(responder=gsm_responder, delay_s=0.15) as server:
        whole = _generate(server, tmp_path / "whole", "--concurrency", "3")
        assert whole.returncode == 0, whole.stderr
        killed_dir = tmp_path / "killed"
        cmd = [sys.executable, "-m", "factory.cli", "generate", str(GSM_SPEC), "--n", "20",
               "--out", str(killed_dir), "--llm", f"anthropic:{server.base_url}", "--quiet",
               "--concurrency", "3"]  # fmt: skip
        before = len(server.requests_to("/v1/messages"))
        proc = subprocess.Popen(
            cmd, env={**os.environ, "ANTHROPIC_API_KEY": "k"}, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and done < 4:
            time.sleep(0.05)
            try:
                with sqlite3.connect(killed_dir / "state.sqlite") as db:
                    query = "SELECT COUNT(*) FROM problems WHERE state='done'"
                    done = db.execute(query).fetchone()[0]
            except sqlite3.Error:
                done = 0
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 4 <= done < 20, "the kill must land mid-run"
        completed_before_kill = len(ResponseCache(killed_dir / "llm_cache.sqlite"))
        # Requests the dead process sent may still be in the server's socket buffers: count
        # them as the killed run's once the server has recorded them all.
        first_part = settled_count(server) - before

        resumed = run_cli("resume", str(killed_dir), "--quiet")
        assert resumed.returncode == 0, resumed.stderr
        second_part = len(server.requests_to("/v1/messages")) - before - first_part

    assert rows_of(killed_dir) == rows_of(tmp_path / "whole")
    # Every call that completed before the kill was answered from the cache on resume.
    assert second_part == 80 - completed_before_kill
    assert first_part >= completed_before_kill
    with sqlite3.connect(killed_dir / "state.sqlite") as db:
        calls = db.execute("SELECT COUNT(*) FROM spend").fetchone()[0]
    assert calls == 80
    whole_rejections = (tmp_path / "whole" / "rejections.jsonl").read_text()
    assert (killed_dir / "rejections.jsonl").read_text() == whole_rejections


def test_budget_cap_stops_cleanly_and_resume_finishes(llm_server, tmp_path):
    out = tmp_path / "run"
    capped = _generate(llm_server, out, "--max-usd", "0.008", "--json-logs")
    assert capped.returncode == 0, capped.stderr
    summary = json.loads(capped.stdout.splitlines()[-1])
    assert summary["stopped"].startswith("max_usd reached")
    assert 0 < summary["cost_usd"] <= 0.008
    assert summary["problems"]["open"] > 0
    finished = _generate(llm_server, out, "--resume", "--max-usd", "1", "--json-logs")
    assert finished.returncode == 0, finished.stderr
    final = json.loads(finished.stdout.splitlines()[-1])
    assert final["stopped"] is None and final["problems"]["open"] == 0
    assert final["kept_rows"] == expected_gsm_rows(20)


def test_first_ctrl_c_finishes_in_flight_work_and_resume_continues(tmp_path):

    with AnthropicTestServer(responder=gsm_responder, delay_s=0.3) as server:
        out = tmp_path / "run"
        cmd = [sys.executable, "-m", "factory.cli", "generate", str(GSM_SPEC), "--n", "20",
               "--out", str(out), "--llm", f"anthropic:{server.base_url}", "--json-logs",
               "--concurrency", "2"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env={**os.environ, "ANTHROPIC_API_KEY": "k"}, cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(server.requests_to("/v1/messages")) < 3:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        summary = json.loads(stdout.splitlines()[-1])
        assert summary["stopped"].startswith("interrupted")
        assert summary["problems"]["open"] > 0
        resumed = run_cli("resume", str(out), "--json-logs")
        assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1])["kept_rows"] == expected_gsm_rows(20)


def test_dry_run_estimates_and_sends_nothing(llm_server, tmp_path):
    result = _generate(llm_server, tmp_path / "run", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run of spec gsm8k_distill: 20 problems x 4 samples" in result.stdout
    assert "solver" in result.stdout and "total: $" in result.stdout
    assert llm_server.requests == []


def test_bad_spec_fails_before_any_call_naming_file_and_field(llm_server, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GSM_SPEC.read_text().replace("temperature: 1.0", "temperature: 3.5"))
    (tmp_path / "data").symlink_to(REPO / "problem_specs" / "data")
    result = _generate(llm_server, tmp_path / "run", spec=bad)
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr
    assert "field 'roles.solver.temperature'" in result.stderr
    assert llm_server.requests == []


def test_reusing_a_run_dir_needs_resume(llm_server, tmp_path):
    assert _generate(llm_server, tmp_path / "run", n=2).returncode == 0
    again = _generate(llm_server, tmp_path / "run", n=2)
    assert again.returncode == 2 and "--resume" in again.stderr


def test_generated_math_needs_consensus(tmp_path):
    spec = REPO / "problem_specs" / "algebra_number_theory.yaml"
    with AnthropicTestServer(responder=algebra_responder(wrong_reference_every=3)) as server:
        result = _generate(server, tmp_path / "run", "--json-logs", n=10, spec=spec)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    rows = rows_of(tmp_path / "run")
    assert summary["problems"]["dropped"] >= 3
    assert summary["rejections"]["no_consensus"] == summary["problems"]["dropped"]
    assert rows and {r["provenance"]["reference_trust"] for r in rows} == {"consensus"}
    assert len(rows) == 4 * summary["problems"]["done"]


def test_malformed_generator_answers_are_recorded_rejections(tmp_path):
    spec = REPO / "problem_specs" / "algebra_number_theory.yaml"

    def responder(body):
        return "Sorry, I would rather not write problems today."  # not JSON at all

    with AnthropicTestServer(responder=responder) as server:
        result = _generate(server, tmp_path / "run", "--json-logs", n=5, spec=spec)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["kept_rows"] == 0 and summary["problems"]["total"] == 0
    # One request was needed; one more was made to top up, then the run says why it is short.
    assert summary["rejections"] == {"invalid_json": 2}
    assert summary["shortfall"].startswith("0 of 5 problems: the generator's answers held")


def test_a_generator_short_of_usable_problems_is_topped_up_to_n(tmp_path):
    spec = REPO / "problem_specs" / "algebra_number_theory.yaml"
    answers = itertools.count()
    good = algebra_responder(wrong_reference_every=1000)

    def responder(body):
        if "Write" in last_user_text(body) and next(answers) == 0:
            return "Sorry, not today."  # the first generator answer holds nothing usable
        return good(body)

    with AnthropicTestServer(responder=responder) as server:
        result = _generate(server, tmp_path / "run", "--json-logs", n=10, spec=spec)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["problems"]["total"] == 10 and summary["shortfall"] is None
    assert summary["rejections"]["invalid_json"] == 1


def test_a_run_short_of_n_says_so_in_its_summary(tmp_path):
    spec = REPO / "problem_specs" / "algebra_number_theory.yaml"
    same = sum_problems(5, iter(range(1, 6)), wrong_reference_every=1000)

    def responder(body):  # every generator answer holds the same five problems
        text = last_user_text(body)
        return same if "Write" in text else algebra_responder()(body)

    with AnthropicTestServer(responder=responder) as server:
        result = run_cli(
            "generate", str(spec), "--n", "10", "--out", str(tmp_path / "run"),
            "--llm", f"anthropic:{server.base_url}",
        )  # fmt: skip
        generator_calls = sum("Write" in last_user_text(r.body)
                              for r in server.requests_to("/v1/messages"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "fewer problems than asked for: 5 of 10 problems" in result.stdout
    assert generator_calls == 4  # the 2 needed, and as many again to top up


def test_batch_mode_goes_through_message_batches_at_half_price(llm_server, tmp_path):
    direct = _generate(llm_server, tmp_path / "direct", "--json-logs", n=5)
    batched = _generate(
        llm_server, tmp_path / "batched", "--json-logs", "--batch", "--batch-poll-s", "0.2", n=5
    )
    assert batched.returncode == 0, batched.stderr
    assert llm_server.batch_create_count >= 1
    d = json.loads(direct.stdout.splitlines()[-1])
    b = json.loads(batched.stdout.splitlines()[-1])
    assert b["kept_rows"] == d["kept_rows"] == expected_gsm_rows(5)
    assert b["cost_usd"] == pytest.approx(d["cost_usd"] / 2, rel=0.05)
    assert rows_of(tmp_path / "batched") == [
        {**r, "provenance": {**r["provenance"], "provider": ANY}}
        for r in rows_of(tmp_path / "direct")
    ]


def test_generated_code_problems_are_kept_only_with_a_passing_reference_and_strong_tests(
    tmp_path,
):
    spec = REPO / "problem_specs" / "python_functions.yaml"
    with AnthropicTestServer(responder=code_responder()) as server:
        result = _generate(server, tmp_path / "run", "--json-logs", n=4, spec=spec)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["rejections"] == {"reference_failed": 1, "weak_tests": 1}
    rows = rows_of(tmp_path / "run")
    assert sorted({r["entry_point"] for r in rows}) == ["add_one", "clamp"]
    assert len(rows) == 8
    assert {r["provenance"]["reference_trust"] for r in rows} == {"generated"}
    assert all(r["provenance"]["sandbox_image"].startswith("factory-sandbox:") for r in rows)


def test_a_replay_miss_stops_the_run_with_an_error_and_loses_nothing(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"_recorded": true, "note": "nothing recorded"}\n')
    result = run_cli(
        "generate", str(GSM_SPEC), "--n", "3", "--out", str(tmp_path / "run"),
        "--llm", f"replay:{empty}", "--json-logs",
    )  # fmt: skip
    assert result.returncode == 1
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["failed"] is True
    assert summary["stopped"].startswith("LLM error: no recorded response")
    assert summary["problems"]["open"] == 3 and summary["kept_rows"] == 0


def test_a_rejected_api_key_stops_the_run_with_one_clear_error(tmp_path):
    with AnthropicTestServer(responder=gsm_responder, api_key="the-right-key") as server:
        result = _generate(server, tmp_path / "run", "--json-logs", n=3)
    assert result.returncode == 1
    summary = json.loads(result.stdout.splitlines()[-1])
    assert "ANTHROPIC_API_KEY" in summary["stopped"]


def test_a_dead_docker_daemon_is_one_line_before_any_llm_call(tmp_path):
    spec = REPO / "problem_specs" / "python_functions.yaml"
    with AnthropicTestServer(responder=code_responder()) as server:
        result = run_cli(
            "generate", str(spec), "--n", "4", "--out", str(tmp_path / "run"),
            "--llm", f"anthropic:{server.base_url}", "--quiet",
            env_extra={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
        )  # fmt: skip
        assert server.requests == []
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "verifier 'unit_tests'" in lines[0] and "daemon is not running" in lines[0]


def test_the_progress_panel_counts_rejections_as_the_summary_does(tmp_path):
    # A consensus drop rejects the problem and its failed samples; both views count both.
    spec = REPO / "problem_specs" / "algebra_number_theory.yaml"
    with AnthropicTestServer(responder=algebra_responder(wrong_reference_every=3)) as server:
        result = run_cli(
            "generate", str(spec), "--n", "10", "--out", str(tmp_path / "run"),
            "--llm", f"anthropic:{server.base_url}",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    panel = [line for line in result.stderr.splitlines() if line.strip().startswith("rejected")]
    shown = dict(
        (reason, int(count))
        for reason, count in (part.split() for part in panel[-1].split("rejected", 1)[1].split(","))
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert shown == summary["rejections"]
    assert shown["no_consensus"] > 0 and shown["wrong_answer"] > 0
