"""The prompt side of a published chat: what the solver saw before the problem's prompt.

The run sent the spec's solver system prompt and few-shot turns with every problem's
prompt. Both kinds of published data (SFT rows and preference pairs) put the same
context before the user message, or both leave it out, so an SFT-then-DPO pipeline
trains and optimises one prompt shape.
"""

from __future__ import annotations

from typing import Any


def solver_context(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The spec's solver system prompt and few-shot turns as chat messages (as the run's
    spec snapshot records them); empty when the spec has neither."""
    solver = (spec.get("roles") or {}).get("solver") or {}
    messages: list[dict[str, str]] = []
    if solver.get("system"):
        messages.append({"role": "system", "content": str(solver["system"])})
    for shot in solver.get("few_shot") or []:
        messages.append({"role": "user", "content": str(shot["user"])})
        messages.append({"role": "assistant", "content": str(shot["assistant"])})
    return messages


def describe_context(include_system: bool, context: list[dict[str, str]]) -> str:
    """One sentence for a card: what precedes the user message in every chat."""
    if not include_system:
        return (
            "Chats start with the user message: the spec's solver system prompt and few-shot "
            "turns the solver also saw are left out (published with `--exclude-system`)."
        )
    if not context:
        return (
            "Chats start with the user message (the spec's solver has no system prompt or "
            "few-shot turns)."
        )
    shots = sum(1 for m in context if m["role"] == "assistant")
    system = "the system prompt" if context[0]["role"] == "system" else "no system prompt"
    return (
        f"Chats start with what the solver saw before the problem: {system} and {shots} "
        "few-shot turn(s) of the spec (leave them out with `--exclude-system`)."
    )
