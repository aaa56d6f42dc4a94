"""The held-out case file of benchmarks/math_equivalence is well formed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1] / "benchmarks" / "math_equivalence"
HELDOUT = HERE / "heldout.jsonl"
CASES = HERE / "cases.jsonl"


def _load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    return _load(HELDOUT)


@pytest.fixture(scope="module")
def tuned() -> list[dict]:
    return _load(CASES)


def test_fields_match_the_tuned_set(heldout, tuned):
    fields = set(tuned[0])
    for case in heldout:
        assert set(case) == fields, case.get("id")
        for field in fields - {"expected"}:
            assert isinstance(case[field], str), (case["id"], field)
        assert isinstance(case["expected"], bool), case["id"]
        assert case["candidate"].strip() and case["reference"].strip(), case["id"]
        assert case["note"].strip(), case["id"]
        assert case["source"] == "held-out, hand-written", case["id"]


def test_size_ids_and_categories(heldout, tuned):
    assert len(heldout) >= 120
    ids = [case["id"] for case in heldout]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("h-") and i[2:].isdigit() and len(i) == 5 for i in ids)
    assert {case["category"] for case in heldout} == {case["category"] for case in tuned}


def test_pairs_are_new(heldout, tuned):
    pairs = Counter((case["candidate"], case["reference"]) for case in heldout)
    assert [pair for pair, n in pairs.items() if n > 1] == []
    seen = {(case["candidate"], case["reference"]) for case in tuned}
    assert [case["id"] for case in heldout if (case["candidate"], case["reference"]) in seen] == []


def test_label_balance(heldout):
    share = sum(not case["expected"] for case in heldout) / len(heldout)
    assert 0.33 <= share <= 0.5
    near = [case for case in heldout if case["category"] == "near_misses"]
    assert near and all(case["expected"] is False for case in near)
