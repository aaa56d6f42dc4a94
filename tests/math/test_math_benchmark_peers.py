"""benchmarks/math_equivalence/peers.jsonl is well formed, fresh, and cites its suites."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[2] / "benchmarks" / "math_equivalence"
FIELDS = {"id", "suite", "category", "candidate", "reference", "expected", "source", "note"}
SUITES = {"math_verify", "hendrycks", "nemo_skills", "mario_eval", "verl", "lm_eval", "red_team"}


def _generator():
    spec = importlib.util.spec_from_file_location("generate_peers", HERE / "generate_peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    with (HERE / "peers.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_the_file_is_what_the_generator_writes():
    assert (HERE / "peers.jsonl").read_text(encoding="utf-8") == _generator().render()


def test_every_case_has_the_schema_and_cites_a_suite(cases):
    ids = Counter(case["id"] for case in cases)
    assert max(ids.values()) == 1
    for case in cases:
        assert set(case) == FIELDS, case["id"]
        assert case["suite"] in SUITES, case["id"]
        assert case["suite"] in case["source"], case["id"]
        assert isinstance(case["expected"], bool) and case["note"], case["id"]


def test_red_team_cases_are_all_false_and_every_suite_is_present(cases):
    assert {case["suite"] for case in cases} == SUITES
    assert all(not case["expected"] for case in cases if case["suite"] == "red_team")
    assert len(cases) >= 120
