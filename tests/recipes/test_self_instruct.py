"""`factory self-instruct` end to end: the real CLI, the real SDK over HTTP to the local test
server, the real math verifier; the pool grows only by verified problems."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from rouge_score import rouge_scorer

from factory.filters.rouge_index import RougeIndex
from factory.llm.cache import ResponseCache
from factory.testing.anthropic_server import AnthropicTestServer, last_user_text
from tests.recipes.recipe_llm import (
    CODE_SPEC,
    MATH_SPEC,
    REPO,
    code_self_instruct_responder,
    self_instruct_responder,
    write_seeds,
)
from tests.run.killing import (
    kill_at_each,
    round_half_done,
)
from tests.run.scripted_llm import rows_of, run_cli, settled_count

FILTER_REASONS = {"near_duplicate", "banned_keyword", "too_short", "invalid_format", "already_seen"}


def _args(server, out, seeds, target, *extra):
    return [
        "self-instruct", str(MATH_SPEC), "--seeds", str(seeds), "--target", str(target),
        "--out", str(out), "--llm", f"anthropic:{server.base_url}", "--json-logs",
        "--requests-per-round", "2", *extra,
    ]  # fmt: skip


def _summary(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _problems(run_dir) -> dict[str, tuple[str, dict]]:
    with sqlite3.connect(run_dir / "state.sqlite") as db:
        rows = db.execute("SELECT id, state, data FROM problems").fetchall()
    return {pid: (state, json.loads(data)) for pid, state, data in rows}


def _generator_prompts(server) -> list[str]:
    texts = [last_user_text(r.body) for r in server.requests_to("/v1/messages")]
    return [t for t in texts if re.search(r"Write \d+ new", t)]


@pytest.fixture
def seeds(tmp_path):
    return write_seeds(tmp_path / "seeds.jsonl")


def test_pool_grows_only_by_verified_problems_and_every_drop_has_a_reason(tmp_path, seeds):
    out = tmp_path / "run"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        summary = _summary(run_cli(*_args(server, out, seeds, 8)))
        prompts = _generator_prompts(server)

    recipe = summary["recipe"]
    assert recipe["name"] == "self_instruct" and recipe["seeds"] == 8
    assert recipe["generated_in_pool"] >= 8
    assert recipe["pool_size"] == 8 + recipe["generated_in_pool"]
    assert summary["stopped"] is None and not summary["failed"]

    problems = _problems(out)
    done = {d["statement"] for s, d in problems.values() if s == "done"}
    dropped = {d["statement"] for s, d in problems.values() if s == "dropped"}
    assert len(done) == recipe["generated_in_pool"]
    assert dropped, "wrong references must be caught by consensus"
    assert {s for s, _ in problems.values()} <= {"done", "dropped"}

    # Each generator prompt shows 8 problems from the pool: seeds, and verified ones only.
    seed_statements = {json.loads(line)["statement"] for line in seeds.read_text().splitlines()}
    shown_generated = 0
    for prompt in prompts:
        shown = [json.loads(line)["statement"] for line in prompt.splitlines()
                 if line.startswith('{"statement"')]  # fmt: skip
        assert len(shown) == 8
        assert all(s in seed_statements or s in done for s in shown)
        assert not any(s in dropped for s in shown)
        shown_generated += sum(s in done for s in shown)
        assert sum(s in done for s in shown) <= 2
    assert shown_generated > 0, "later rounds show generated pool problems"

    # Rows come from verified generated problems only, with the recipe in their provenance.
    rows = rows_of(out)
    assert rows and {r["problem"] for r in rows} <= done
    assert all(r["provenance"]["recipe"]["name"] == "self_instruct" for r in rows)
    assert all(r["provenance"]["reference_trust"] == "consensus" for r in rows)

    # Every dropped problem is recorded with why.
    rejections = [json.loads(x) for x in (out / "rejections.jsonl").read_text().splitlines()]
    filtered = [r for r in rejections if r["stage"] == "filter"]
    assert {r["reason"] for r in filtered} >= {"near_duplicate", "banned_keyword", "too_short",
                                               "invalid_format"}  # fmt: skip
    assert {r["reason"] for r in filtered} <= FILTER_REASONS
    assert all(r["message"] and "round" in r for r in filtered)
    assert "no_consensus" in {r["reason"] for r in rejections}

    # A near-duplicate really is one, by the reference implementation of ROUGE-L.
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    statements = seed_statements | done | dropped
    by_id = {pid: d["statement"] for pid, (_, d) in problems.items()}
    for r in (r for r in filtered if r["reason"] == "near_duplicate"):
        match = by_id.get(r["match"]) or next(
            s for s in seed_statements if s.startswith(r["statement"][:20])
        )
        assert match in statements
        assert scorer.score(match, r["statement"])["rougeL"].fmeasure > 0.7

    # The per-round report adds up.
    rounds = recipe["rounds"]
    assert sum(e["verified"] for e in rounds) == recipe["generated_in_pool"]
    # The persisted index holds exactly the pool, and reopens without tokenizing anything.
    with RougeIndex.open(out / "rouge_index.log") as index:
        assert len(index) == recipe["pool_size"]
        assert index.stats.tokenized == 0


def test_a_larger_target_extends_the_pool_and_pays_only_for_new_rounds(tmp_path, seeds):
    out = tmp_path / "run"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        first = _summary(run_cli(*_args(server, out, seeds, 4)))
        first_rows = rows_of(out)
        calls_first = len(server.requests_to("/v1/messages"))
        more = _summary(run_cli(*_args(server, out, seeds, 10, "--resume")))
        calls_more = len(server.requests_to("/v1/messages")) - calls_first
    assert first["recipe"]["generated_in_pool"] >= 4
    assert more["recipe"]["generated_in_pool"] >= 10
    # Nothing of the first run is asked again: every new call is for a new round or problem.
    assert more["llm_calls"] == first["llm_calls"] + calls_more
    assert len(first_rows) == first["kept_rows"]
    assert rows_of(out)[: len(first_rows)] == first_rows  # kept rows stay, in order


def test_changed_filters_on_resume_are_refused(tmp_path, seeds):
    out = tmp_path / "run"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        _summary(run_cli(*_args(server, out, seeds, 2)))
        again = run_cli(*_args(server, out, seeds, 4, "--resume", "--rouge-threshold", "0.5"))
    assert again.returncode == 2
    assert "other self-instruct options" in again.stderr


def test_killed_run_resumes_to_the_same_pool_without_paying_twice(tmp_path, seeds):
    with AnthropicTestServer(responder=self_instruct_responder, delay_s=0.1) as server:
        whole = _summary(run_cli(*_args(server, tmp_path / "whole", seeds, 8)))
        killed = tmp_path / "killed"
        before = len(server.requests_to("/v1/messages"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "factory.cli", *_args(server, killed, seeds, 8)],
            env={**os.environ, "ANTHROPIC_API_KEY": "k"}, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        rounds = 0
        while time.monotonic() < deadline and rounds < 2:
            time.sleep(0.05)
            try:
                with sqlite3.connect(killed / "state.sqlite") as db:
                    rounds = db.execute("SELECT COUNT(*) FROM generation").fetchone()[0]
            except sqlite3.Error:
                rounds = 0
        time.sleep(0.3)  # land inside a round, with calls in flight
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert rounds >= 2
        completed = len(ResponseCache(killed / "llm_cache.sqlite"))
        first_part = settled_count(server) - before
        resumed = _summary(run_cli("resume", str(killed), "--json-logs"))
        second_part = len(server.requests_to("/v1/messages")) - before - first_part

    assert resumed["recipe"] == whole["recipe"]
    assert rows_of(killed) == rows_of(tmp_path / "whole")
    assert (killed / "rejections.jsonl").read_text() == (
        tmp_path / "whole" / "rejections.jsonl"
    ).read_text()
    # Calls answered before the kill came from the run's cache; each call is paid once.
    assert second_part == whole["llm_calls"] - completed
    assert resumed["llm_calls"] == whole["llm_calls"]


def test_a_spec_without_a_generator_is_refused_before_any_call(tmp_path, seeds):
    gsm = REPO / "problem_specs" / "gsm8k_distill.yaml"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        result = run_cli(
            "self-instruct", str(gsm), "--seeds", str(seeds), "--target", "2",
            "--out", str(tmp_path / "run"), "--llm", f"anthropic:{server.base_url}",
        )  # fmt: skip
        assert not server.requests_to("/v1/messages")
    assert result.returncode == 2
    assert "roles.generator" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.docker
def test_code_problems_join_the_pool_only_with_a_trusted_reference(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({
        "statement": "Write a function `add_1(x)` that returns x plus 1.",
        "entry_point": "add_1", "solution": "def add_1(x):\n    return x + 1\n",
        "tests": "assert add_1(1) == 2\nassert add_1(-1) == 0\n",
    }) + "\n")  # fmt: skip
    out = tmp_path / "run"
    with AnthropicTestServer(responder=code_self_instruct_responder) as server:
        result = run_cli(
            "self-instruct", str(CODE_SPEC), "--seeds", str(seeds), "--target", "3",
            "--out", str(out), "--llm", f"anthropic:{server.base_url}", "--json-logs",
            "--requests-per-round", "1",
        )  # fmt: skip
    summary = _summary(result)
    assert summary["recipe"]["generated_in_pool"] >= 3
    notes = set()
    with sqlite3.connect(out / "state.sqlite") as db:
        for state, note, data in db.execute("SELECT state, note, data FROM problems"):
            problem = json.loads(data)
            tests = problem["reference"]["tests"]
            if state == "done":  # a trusted reference: real tests that the reference passes
                assert "is None or" not in tests
                assert "return x +" in problem["reference"]["solution"]
            else:
                notes.add(note)
    assert notes == {"weak_tests", "reference_failed"}
    rows = rows_of(out)
    assert rows and all(r["provenance"]["sandbox_image"] for r in rows)


def test_without_seeds_the_spec_s_shipped_seeds_start_the_pool(tmp_path):
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        result = run_cli(
            "self-instruct", str(MATH_SPEC), "--target", "1", "--out", str(tmp_path / "run"),
            "--llm", f"anthropic:{server.base_url}", "--json-logs",
        )  # fmt: skip
    shipped = (REPO / "problem_specs" / "seeds" / "algebra_number_theory.jsonl").read_text()
    assert _summary(result)["recipe"]["seeds"] == len(shipped.splitlines())


def test_a_grown_pool_publishes_and_loads_with_datasets(tmp_path, seeds):
    import datasets

    out = tmp_path / "run"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        summary = _summary(run_cli(*_args(server, out, seeds, 3)))
    published = run_cli("publish", str(out), "--out", str(tmp_path / "ds"))
    assert published.returncode == 0, published.stderr
    stats = run_cli("stats", str(out), "--json")
    assert stats.returncode == 0, stats.stderr
    train = datasets.load_dataset(str(tmp_path / "ds"), split="train")
    assert len(train) == summary["kept_rows"]
    assert {row["provenance"]["recipe"]["name"] for row in train} == {"self_instruct"}


def _is_solve(text: str) -> bool:
    return re.search(r"Write \d+ new", text) is None


def test_a_round_killed_after_some_problems_were_verified_is_counted_once(tmp_path, seeds):
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        whole = _summary(run_cli(*_args(server, tmp_path / "whole", seeds, 8)))
        killed = tmp_path / "killed"
        cut_short = (round_half_done(0, rounds_done=0), 1, True)
        kill_at_each([cut_short], killed, *_args(server, killed, seeds, 8), server=server,
                     is_solve=_is_solve)  # fmt: skip
        resumed = run_cli("resume", str(killed), "--json-logs")
    summary = _summary(resumed)
    # Exit 0 means the target was reached, with the same pool as an uninterrupted run.
    assert summary["stopped"] is None
    assert summary["recipe"]["generated_in_pool"] >= 8
    assert summary["recipe"] == whole["recipe"]
    assert rows_of(killed) == rows_of(tmp_path / "whole")


def test_killed_at_many_points_the_pool_equals_an_uninterrupted_run_and_calls_are_paid_once(
    tmp_path, seeds
):
    with AnthropicTestServer(responder=self_instruct_responder, delay_s=0.05) as server:
        whole = _summary(run_cli(*_args(server, tmp_path / "whole", seeds, 8)))
        calls = whole["llm_calls"]
        assert len(whole["recipe"]["rounds"]) >= 2
        spent = "SELECT COUNT(*) FROM spend"
        kill_points = [
            (spent, 2, False),  # among round 0's generator calls
            (round_half_done(0, rounds_done=0), 1, True),  # round 0 is cut short, part decided
            ("SELECT COUNT(*) FROM generation", 1, False),  # just past a round's end
            (round_half_done(1, rounds_done=1), 1, True),
            (spent, calls - 3, False),  # near the end
        ]
        killed = tmp_path / "killed"
        start = len(server.requests_to("/v1/messages"))
        kill_at_each(kill_points, killed, *_args(server, killed, seeds, 8), server=server,
                     is_solve=_is_solve)  # fmt: skip
        # What the run still needs after the last kill is asked once, and nothing else.
        cached = len(ResponseCache(killed / "llm_cache.sqlite"))
        sent = settled_count(server) - start
        resumed = _summary(run_cli("resume", str(killed), "--json-logs"))
        assert len(server.requests_to("/v1/messages")) - start - sent == calls - cached

    assert resumed["stopped"] is None
    assert resumed["recipe"] == whole["recipe"]
    assert resumed["llm_calls"] == calls
    assert rows_of(killed) == rows_of(tmp_path / "whole")
    assert (killed / "rejections.jsonl").read_text() == (
        tmp_path / "whole" / "rejections.jsonl"
    ).read_text()
