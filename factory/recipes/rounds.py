"""What recipes read back from a run's store: their problems, by round, and how each ended."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from factory.run.store import StateStore


def recipe_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe record (``metadata.recipe``) of a stored problem; ``{}`` when it has none."""
    return (data.get("metadata") or {}).get("recipe") or {}


def recipe_problems(
    store: StateStore, name: str, state: str | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(recipe record, problem data) of the problems recipe ``name`` added, in order."""
    for _, data in store.problems(state):
        recipe = recipe_of(data)
        if recipe.get("name") == name:
            yield recipe, data


def outcomes(store: StateStore, name: str) -> Iterator[tuple[int, str]]:
    """(round, outcome) per problem of recipe ``name``: ``done``, ``open`` or why it was dropped."""
    for recipe, data in recipe_problems(store, name):
        state = store.problem_state(data["id"])
        if state == "dropped":
            yield recipe["round"], store.problem_note(data["id"]) or "dropped"
        else:
            yield recipe["round"], state or "open"
