"""Turning a Problem into solver requests, and a solver's answer into the row's answer."""

from __future__ import annotations

from factory.llm.types import ChatMessage, LLMRequest
from factory.problem import Problem
from factory.spec import Spec

SOLVER_FORMATS = {
    "boxed": "Reason step by step, then give the final answer in \\boxed{}.",
    "code": (
        "Write the complete solution as one Python code block (```python ... ```). "
        "Do not include tests or example usage."
    ),
    "json": "Answer with one JSON document.",
    "text": "Answer in plain text.",
}


def solver_request(spec: Spec, problem: Problem, sample_index: int) -> LLMRequest:
    """The request for sample ``sample_index`` of ``problem`` (deterministic)."""
    role = spec.roles.solver
    fmt = SOLVER_FORMATS[role.output_format]
    values = {
        "statement": problem.statement,
        "domain": problem.domain,
        "topic": problem.topic or "",
        "difficulty": problem.difficulty or "",
        "entry_point": problem.reference.entry_point or "",
        "format": fmt,
    }
    prompt = role.render(**values)
    if "{format}" not in role.prompt:
        prompt = f"{prompt.rstrip()}\n\n{fmt}"
    few_shot: list[ChatMessage] = []
    for shot in role.few_shot:
        few_shot.append(ChatMessage(role="user", content=shot.user))
        few_shot.append(ChatMessage(role="assistant", content=shot.assistant))
    return LLMRequest(
        model=role.model,
        system=role.system,
        few_shot=few_shot,
        messages=[ChatMessage(role="user", content=prompt)],
        temperature=role.temperature,
        max_tokens=role.max_tokens,
        sample_index=sample_index,
        prompt_version=spec.prompt_version,
    )


def answer_of(domain: str, response_text: str, verdict_details: dict) -> str:
    """The short answer a row records: the extracted math answer or the extracted code."""
    if domain == "code":
        from verifiers.code import extract_code

        return extract_code(response_text) or ""
    extracted = verdict_details.get("extracted")
    if isinstance(extracted, str):
        return extracted
    return ""
