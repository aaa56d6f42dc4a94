"""The math batch: labelled candidate/reference pairs as model-like completions.

Pairs come from the math-equivalence benchmark's labelled cases (``cases.jsonl`` and
``heldout.jsonl``: real answer strings with a human ``expected`` label). A bare
candidate answer is put at the end of a short worked response, the way a model
states it; a candidate that already is a full response is kept as written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parents[1] / "math_equivalence"
LEAD_INS = [
    "Let me work through this step by step.\nAfter simplifying, the answer is $\\boxed{{{}}}$.",
    "We compute each part and combine them.\nTherefore the answer is $\\boxed{{{}}}$.",
    "Checking the cases one at a time gives a single result.\nSo the answer is $\\boxed{{{}}}$.",
]


def labelled_cases() -> list[dict[str, Any]]:
    """Every labelled case of the math-equivalence benchmark (both files)."""
    cases = []
    for name in ("cases.jsonl", "heldout.jsonl"):
        with (CASES_DIR / name).open(encoding="utf-8") as fh:
            cases.extend(json.loads(line) for line in fh if line.strip())
    return cases


def is_full_response(text: str) -> bool:
    lowered = text.lower()
    return "\n" in text or "####" in text or "answer" in lowered or "\\boxed" in text


def as_completion(candidate: str, index: int) -> str:
    if is_full_response(candidate):
        return candidate
    return LEAD_INS[index % len(LEAD_INS)].format(candidate)


def math_batch(size: int) -> list[dict[str, Any]]:
    """``size`` rows (cycling through the cases): completion, reference, expected label."""
    cases = labelled_cases()
    rows = []
    for i in range(size):
        case = cases[i % len(cases)]
        rows.append(
            {
                "id": case["id"],
                "completion": as_completion(case["candidate"], i),
                "reference": case["reference"],
                "expected": bool(case["expected"]),
            }
        )
    return rows
