"""What TRL hands a reward function: completions, and dataset columns as keyword arguments.

A completion is a string (standard format) or a list of messages (conversational
format: ``[{"role": "assistant", "content": "..."}]``, where ``content`` may also be
a list of ``{"type": "text", "text": ...}`` blocks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verifiers.rewards.errors import RewardColumnError

# Keyword arguments TRL adds beside the dataset's columns.
TRAINER_KEYWORDS = frozenset(
    {"prompts", "completion_ids", "trainer_state", "log_extra", "log_metric", "environments"}
)


def completion_text(completion: Any) -> str:
    """The text of one completion; ``""`` for anything that holds none (never raises).

    For a message list, the assistant messages' text is joined with newlines (a
    completion is normally one assistant message).
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, Sequence):
        return ""
    parts: list[str] = []
    for message in completion:
        if not isinstance(message, Mapping) or message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, Sequence):
            parts.extend(
                block["text"]
                for block in content
                if isinstance(block, Mapping) and isinstance(block.get("text"), str)
            )
    return "\n".join(parts)


def read_column(columns: Mapping[str, Any], name: str, size: int, *, reward: str) -> list[Any]:
    """Column ``name`` of the batch, one value per completion.

    Raises :class:`RewardColumnError` naming the columns present when it is missing
    or has the wrong length (a setup mistake, not a completion's fault).
    """
    if name not in columns:
        present = sorted(k for k in columns if k not in TRAINER_KEYWORDS)
        raise RewardColumnError(
            f"reward {reward!r} reads the dataset column {name!r}, which the batch lacks; "
            f"columns present: {present or 'none'} (pass the right column name)"
        )
    values = columns[name]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) != size:
        raise RewardColumnError(
            f"reward {reward!r}: column {name!r} must hold one value per completion ({size})"
        )
    return list(values)
