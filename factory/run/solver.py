"""Turning a Problem into solver requests, and a solver's answer into the row's answer."""

from __future__ import annotations

from factory.llm.types import LLMRequest
from factory.problem import Problem
from factory.spec import Spec, solver_format_instructions


def solver_request(spec: Spec, problem: Problem, sample_index: int) -> LLMRequest:
    """The request for sample ``sample_index`` of ``problem`` (deterministic)."""
    role = spec.roles.solver
    prompt = spec.render_solver_prompt(problem)
    if "{format}" not in role.prompt:
        # The answer format is part of the contract with the verifier, so it is always asked.
        fmt = solver_format_instructions(
            spec.solver_output_format(problem.domain), problem.reference.entry_point
        )
        if fmt:
            prompt = f"{prompt.rstrip()}\n\n{fmt}"
    return role.request(prompt, sample_index=sample_index, prompt_version=spec.prompt_version)


def answer_of(domain: str, response_text: str, verdict_details: dict) -> str:
    """The short answer a row records: the extracted math answer or the extracted code."""
    if domain == "code":
        from verifiers.code import extract_code

        return extract_code(response_text) or ""
    extracted = verdict_details.get("extracted")
    return extracted if isinstance(extracted, str) else ""
