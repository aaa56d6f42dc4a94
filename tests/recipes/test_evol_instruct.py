"""`factory evolve` end to end: the real CLI over the real SDK to the local test server, the real
math verifier; every evolution is verified again and keeps its lineage."""

from __future__ import annotations

import json
import sqlite3
from itertools import pairwise

import pytest
import yaml

from factory.filters.rouge import rouge_tokens
from factory.llm.cache import ResponseCache
from factory.recipes.evol_instruct import OPERATORS
from factory.recipes.inputs import read_problem_file
from factory.testing.anthropic_server import AnthropicTestServer
from tests.recipes.recipe_llm import (
    MATH_SPEC,
    evolve_responder,
    self_instruct_responder,
    write_seeds,
)
from tests.run.killing import kill_at_each, round_half_done
from tests.run.scripted_llm import rows_of, run_cli, settled_count

DEATHS = {
    "invalid_format", "copied_prompt", "no_change", "too_short", "duplicate",
    "no_consensus", "reference_failed", "weak_tests",
}  # fmt: skip


def _evolve(server, source, out, *extra):
    result = run_cli(
        "evolve", str(source), "--out", str(out), "--llm", f"anthropic:{server.base_url}",
        "--json-logs", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _problems(run_dir) -> dict[str, tuple[str, dict]]:
    with sqlite3.connect(run_dir / "state.sqlite") as db:
        rows = db.execute("SELECT id, state, data FROM problems").fetchall()
    return {pid: (state, json.loads(data)) for pid, state, data in rows}


@pytest.fixture
def inputs(tmp_path):
    return write_seeds(tmp_path / "inputs.jsonl", n=20)


def test_rounds_evolve_verified_problems_up_to_the_depth_cap(tmp_path, inputs):
    out = tmp_path / "evolved"
    with AnthropicTestServer(responder=evolve_responder) as server:
        summary = _evolve(server, inputs, out, "--spec", str(MATH_SPEC), "--rounds", "4",
                          "--max-depth", "3")  # fmt: skip
    recipe = summary["recipe"]
    assert recipe["name"] == "evol_instruct" and recipe["inputs"] == 20
    rounds = recipe["rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    assert rounds[0]["attempted"] == 20
    for before, after in pairwise(rounds):
        # The next round evolves exactly the survivors (or finalises them at the cap).
        assert after["attempted"] + after["final"] == before["survived"]
    for entry in rounds:
        assert entry["survived"] + sum(entry["died"].values()) == entry["attempted"]
        assert set(entry["died"]) <= DEATHS
    assert rounds[3]["attempted"] == 0 and rounds[3]["final"] == rounds[2]["survived"] > 0
    died = {reason for entry in rounds for reason in entry["died"]}
    assert {"invalid_format", "copied_prompt", "no_change", "no_consensus"} <= died

    problems = _problems(out)
    originals = {p.id: p.statement for p in read_problem_file(inputs, "math")}
    rows = rows_of(out)
    assert rows
    for row in rows:
        lineage = row["provenance"]["recipe"]
        assert lineage["name"] == "evol_instruct" and lineage["operator"] in OPERATORS
        assert lineage["depth"] == lineage["round"] <= 3
        assert row["provenance"]["reference_trust"] == "consensus"
        parent = lineage["parent_id"]
        if lineage["depth"] > 1:
            state, data = problems[parent]
            assert state == "done"  # only verified problems are evolved further
            assert data["metadata"]["recipe"]["depth"] == lineage["depth"] - 1
            assert data["metadata"]["recipe"]["root_id"] == lineage["root_id"]
            parent_text = data["statement"]
        else:
            assert lineage["root_id"] == parent
            parent_text = originals[parent]
        # An evolution that survived adds words its parent lacks.
        assert set(rouge_tokens(row["problem"])) - set(rouge_tokens(parent_text))

    rejections = [json.loads(x) for x in (out / "rejections.jsonl").read_text().splitlines()]
    evolve_drops = [r for r in rejections if r["stage"] == "evolve"]
    assert all(r["message"] and r["parent_id"] for r in evolve_drops)


def test_more_rounds_on_resume_pay_only_for_the_new_rounds(tmp_path, inputs):
    out = tmp_path / "evolved"
    with AnthropicTestServer(responder=evolve_responder) as server:
        first = _evolve(server, inputs, out, "--spec", str(MATH_SPEC), "--rounds", "1")
        served_first = len(server.requests_to("/v1/messages"))
        more = _evolve(server, inputs, out, "--spec", str(MATH_SPEC), "--rounds", "2",
                       "--resume")  # fmt: skip
        served_more = len(server.requests_to("/v1/messages")) - served_first
    assert more["recipe"]["rounds"][0] == first["recipe"]["rounds"][0]
    assert more["llm_calls"] == first["llm_calls"] + served_more
    assert more["recipe"]["rounds"][1]["attempted"] == first["recipe"]["rounds"][0]["survived"]


def test_a_run_directory_is_evolved_with_its_own_spec(tmp_path):
    seeds = write_seeds(tmp_path / "seeds.jsonl")
    grown = tmp_path / "grown"
    with AnthropicTestServer(responder=self_instruct_responder) as server:
        result = run_cli(
            "self-instruct", str(MATH_SPEC), "--seeds", str(seeds), "--target", "3",
            "--out", str(grown), "--llm", f"anthropic:{server.base_url}", "--quiet",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    verified = {pid for pid, (state, _) in _problems(grown).items() if state == "done"}
    with AnthropicTestServer(responder=evolve_responder) as server:
        summary = _evolve(server, grown, tmp_path / "evolved", "--rounds", "1")
    assert summary["spec_name"] == "algebra_number_theory"
    assert summary["recipe"]["inputs"] == len(verified)
    lineages = [d["metadata"]["recipe"] for _, d in _problems(tmp_path / "evolved").values()]
    assert lineages and {lin["root_id"] for lin in lineages} <= verified


def test_a_problem_file_needs_a_spec(tmp_path, inputs):
    result = run_cli("evolve", str(inputs), "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "pass --spec" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_operator_is_refused(tmp_path, inputs):
    result = run_cli(
        "evolve", str(inputs), "--spec", str(MATH_SPEC), "--out", str(tmp_path / "x"),
        "--operator", "shorten", "--llm", "anthropic:http://127.0.0.1:9",
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown operator 'shorten'" in result.stderr


def test_without_a_spec_consensus_a_majority_of_the_solves_must_agree(tmp_path, inputs):
    data = yaml.safe_load(MATH_SPEC.read_text())
    del data["consensus"]
    data["samples_per_problem"] = 3
    spec = tmp_path / "no_consensus.yaml"
    spec.write_text(yaml.safe_dump(data))
    out = tmp_path / "evolved"
    with AnthropicTestServer(responder=evolve_responder) as server:
        summary = _evolve(server, inputs, out, "--spec", str(spec), "--rounds", "1")
    assert summary["recipe"]["rounds"][0]["died"].get("no_consensus", 0) > 0
    rows = rows_of(out)
    assert rows and all(r["provenance"]["reference_trust"] == "consensus" for r in rows)
    assert len(rows) == 3 * summary["recipe"]["rounds"][0]["survived"]


def test_killed_at_many_points_evolution_equals_an_uninterrupted_run_and_pays_once(
    tmp_path, inputs
):
    with AnthropicTestServer(responder=evolve_responder, delay_s=0.05) as server:
        args = ["--spec", str(MATH_SPEC), "--rounds", "3"]
        whole = _evolve(server, inputs, tmp_path / "whole", *args)
        calls = whole["llm_calls"]
        spent = "SELECT COUNT(*) FROM spend"
        kill_points = [
            (spent, 3, False),  # among round 1's evolution calls
            (round_half_done(1, rounds_done=0), 1, True),  # round 1 is cut short, part decided
            ("SELECT COUNT(*) FROM generation", 1, False),  # just past round 1
            (round_half_done(2, rounds_done=1), 1, True),
            ("SELECT COUNT(*) FROM generation", 2, False),
            (spent, calls - 3, False),  # near the end
        ]
        killed = tmp_path / "killed"
        start = len(server.requests_to("/v1/messages"))
        kill_at_each(
            kill_points, killed, "evolve", str(inputs), "--out", str(killed),
            "--llm", f"anthropic:{server.base_url}", "--json-logs", *args,
            server=server, is_solve=lambda text: "#Original problem#" not in text,
        )  # fmt: skip
        cached = len(ResponseCache(killed / "llm_cache.sqlite"))
        sent = settled_count(server) - start
        resumed = run_cli("resume", str(killed), "--json-logs")
        # What the run still needs after the last kill is asked once, and nothing else.
        assert len(server.requests_to("/v1/messages")) - start - sent == calls - cached
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout.splitlines()[-1])
    assert summary["stopped"] is None
    assert summary["recipe"] == whole["recipe"]
    assert summary["llm_calls"] == calls
    assert rows_of(killed) == rows_of(tmp_path / "whole")
    assert (killed / "rejections.jsonl").read_text() == (
        tmp_path / "whole" / "rejections.jsonl"
    ).read_text()
