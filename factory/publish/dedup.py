"""Exact duplicates: rows that repeat an earlier row's (prompt, response) are not published.

A deterministic solver (or a cache) gives the same response to the same prompt several
times; publishing each copy silently upweights it. By default only the first copy (in
store order) is published and the card reports how many were removed; an option keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from factory.publish.run_reader import RunData

T = TypeVar("T")


def drop_duplicates(items: list[T], key: Callable[[T], Hashable]) -> tuple[list[T], int]:
    """The first item of every ``key``, in order, and how many later items repeated one."""
    seen: set[Hashable] = set()
    out = []
    for item in items:
        k = key(item)
        if k in seen:
            continue
        seen.add(k)
        out.append(item)
    return out, len(items) - len(out)


def conversation_key(row: dict[str, Any]) -> str:
    """A kept row's (prompt, response): its whole chat, as the run recorded it."""
    return json.dumps(row.get("messages"), sort_keys=True, ensure_ascii=False)


def publishable_rows(
    run: RunData, *, keep_duplicates: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Kept rows minus excluded problems and (unless ``keep_duplicates``) exact duplicates,
    with the number of duplicates removed."""
    rows = run.published_rows()
    if keep_duplicates:
        return rows, 0
    return drop_duplicates(rows, conversation_key)
