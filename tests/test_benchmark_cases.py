"""The labelled case file of benchmarks/math_equivalence is well formed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1] / "benchmarks" / "math_equivalence"
CASES = HERE / "cases.jsonl"
FIELDS = {"id", "category", "candidate", "reference", "expected", "source", "note"}
CATEGORIES = {
    "integers_separators",
    "fractions_decimals",
    "latex_fractions",
    "roots_pi",
    "scientific_notation",
    "percentages",
    "degrees",
    "units_text",
    "symbolic_expressions",
    "equations",
    "inequalities_intervals",
    "sets_unordered",
    "ordered_tuples",
    "matrices",
    "infinity",
    "complex_numbers",
    "answer_extraction",
    "near_misses",
    "parse_traps",
}


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    with CASES.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_every_case_has_the_schema(cases):
    for case in cases:
        assert set(case) == FIELDS, case.get("id")
        for field in FIELDS - {"expected"}:
            assert isinstance(case[field], str), (case["id"], field)
        assert isinstance(case["expected"], bool), case["id"]
        assert case["candidate"].strip() and case["reference"].strip(), case["id"]
        assert case["id"].startswith(case["category"] + "-"), case["id"]
        assert case["source"] and case["note"], case["id"]


def test_enough_cases_in_every_category(cases):
    assert len(cases) >= 300
    counts = Counter(case["category"] for case in cases)
    assert set(counts) == CATEGORIES
    assert min(counts.values()) >= 8


def test_ids_and_pairs_are_unique(cases):
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids))
    pairs = Counter((case["candidate"], case["reference"]) for case in cases)
    assert [pair for pair, n in pairs.items() if n > 1] == []


def test_about_forty_percent_expected_false(cases):
    share = sum(not case["expected"] for case in cases) / len(cases)
    assert 0.33 <= share <= 0.5
    near = [case for case in cases if case["category"] == "near_misses"]
    assert all(case["expected"] is False for case in near)


def test_case_file_matches_its_generator():
    import runpy

    module = runpy.run_path(str(HERE / "generate_cases.py"))
    built = module["build"]()
    with CASES.open(encoding="utf-8") as fh:
        on_disk = [json.loads(line) for line in fh if line.strip()]
    assert built == on_disk, "cases.jsonl is stale: run generate_cases.py"


def test_sources_are_honest_labels(cases):
    allowed = (
        "hand-written",
        "MATH-style",
        "GSM8K-style",
        "Math-Verify issue #",
        "Math-Verify PR #",
    )
    for case in cases:
        assert case["source"].startswith(allowed), (case["id"], case["source"])
