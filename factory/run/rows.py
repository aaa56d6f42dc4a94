"""The shape of a kept row (SFT-ready, with provenance) and of a rejection record."""

from __future__ import annotations

import hashlib
from typing import Any

from factory.problem import Problem
from factory.run.solver import answer_of
from factory.spec import Spec
from verifiers import Verdict


def row_id(problem_id: str, sample_index: int) -> str:
    """Deterministic id of the row for one sample of one problem."""
    return hashlib.sha256(f"{problem_id}:{sample_index}".encode()).hexdigest()[:16]


def _columns(spec: Spec, problem: Problem, sample: dict[str, Any], verdict: Verdict) -> dict:
    """Every column a spec's ``output.fields`` may pick."""
    ref = problem.reference
    request, response = sample["request"], sample["response"] or {}
    text = response.get("text", "")
    return {
        "id": row_id(problem.id, sample["sample_index"]),
        "problem_id": problem.id,
        "statement": problem.statement,
        "domain": problem.domain,
        "topic": problem.topic,
        "difficulty": problem.difficulty,
        "source": problem.source,
        "trust": problem.trust,
        "reference_answer": ref.answer,
        "reference_solution": ref.solution,
        "tests": ref.tests,
        "entry_point": ref.entry_point,
        "stdio": [c.model_dump() for c in ref.stdio] if ref.stdio else None,
        "check": ref.check,
        "solution": text,
        "answer": answer_of(problem.domain, text, verdict.details),
        "model": response.get("model", request["model"]),
        "sample_index": sample["sample_index"],
        "verdict": {"passed": verdict.passed, "reason": verdict.reason.value},
        "reason": verdict.reason.value,
        "verifier": verdict.verifier,
        "verifier_version": verdict.verifier_version,
        "prompt_version": request["prompt_version"],
        "spec_name": spec.name,
        "spec_version": spec.version,
        "spec_hash": spec.spec_hash(),
        "usage": response.get("usage"),
        "cost_usd": response.get("cost_usd"),
        "metadata": problem.metadata,
    }


def build_row(
    spec: Spec,
    problem: Problem,
    sample: dict[str, Any],
    verdict: Verdict,
    *,
    trust: str,
    run_started_at: str,
) -> dict[str, Any]:
    """A kept row: the spec's chosen columns plus the SFT core and full provenance."""
    columns = _columns(spec, problem, sample, verdict)
    columns["trust"] = trust
    request, response = sample["request"], sample["response"] or {}
    row = {name: columns[name] for name in spec.output.fields}
    row.update(
        {
            "id": columns["id"],
            "messages": [
                {"role": "user", "content": request["prompt"]},
                {"role": "assistant", "content": columns["solution"]},
            ],
            "problem": problem.statement,
            "domain": problem.domain,
            "topic": problem.topic,
            "difficulty": problem.difficulty,
            "solution": columns["solution"],
            "answer": columns["answer"],
            "verdict": {
                "passed": verdict.passed,
                "reason": verdict.reason.value,
                "message": verdict.message,
            },
            "provenance": {
                "spec_name": spec.name,
                "spec_version": spec.version,
                "spec_hash": spec.spec_hash(),
                "prompt_version": request["prompt_version"],
                "model": columns["model"],
                "provider": response.get("provider"),
                "temperature": request["temperature"],
                "max_tokens": request["max_tokens"],
                "sample_index": sample["sample_index"],
                "verifier": verdict.verifier,
                "verifier_version": verdict.verifier_version,
                "sandbox_image": verdict.details.get("image"),
                "reference_trust": trust,
                "problem_id": problem.id,
                "problem_source": problem.source,
                "run_started_at": run_started_at,
            },
        }
    )
    recipe = problem.metadata.get("recipe")
    if recipe is not None:  # Self-Instruct round, Evol-Instruct lineage (parent, operator, depth)
        row["provenance"]["recipe"] = recipe
    return row


def rejection_record(problem: Problem, sample: dict[str, Any], verdict: Verdict) -> dict[str, Any]:
    """One line of the rejection log: which candidate, why, and what it said."""
    response = sample["response"] or {}
    text = response.get("text", "")
    return {
        "problem_id": problem.id,
        "sample_index": sample["sample_index"],
        "stage": "verify",
        "reason": verdict.reason.value,
        "message": verdict.message,
        "model": response.get("model"),
        "request_key": sample["request"]["key"],
        "response_head": text[:300],
    }
