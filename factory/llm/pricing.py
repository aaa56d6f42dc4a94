"""USD prices per million tokens, and the cost of one call from its token usage.

The defaults are a snapshot of Anthropic's published list prices (platform.claude.com pricing page,
read 2026-11); prices change, so override them from config (``PriceTable.from_yaml``) rather than
trusting this file for billing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from factory.llm.errors import LLMError
from factory.llm.types import Usage

log = logging.getLogger(__name__)


class ModelPrice(BaseModel):
    """USD per million tokens for one model."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)  # 5-minute cache writes (the default TTL we use)
    cache_read: float = Field(ge=0)


def _claude(input_: float, output: float) -> ModelPrice:
    # Anthropic prices cache writes (5 min TTL) at 1.25x input and cache reads at 0.1x input.
    return ModelPrice(
        input=input_, output=output, cache_write=input_ * 1.25, cache_read=input_ * 0.1
    )


# Snapshot of list prices (USD / MTok). Keys are model-id prefixes: "claude-sonnet-4-5" also prices
# dated ids such as "claude-sonnet-4-5-20250929". Override from config; do not edit for one run.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-5": _claude(5.0, 25.0),
    "claude-opus-4-1": _claude(15.0, 75.0),
    "claude-opus-4-0": _claude(15.0, 75.0),
    "claude-opus-4": _claude(15.0, 75.0),
    "claude-sonnet-4-5": _claude(3.0, 15.0),
    "claude-sonnet-4-0": _claude(3.0, 15.0),
    "claude-sonnet-4": _claude(3.0, 15.0),
    "claude-3-7-sonnet": _claude(3.0, 15.0),
    "claude-haiku-4-5": _claude(1.0, 5.0),
    "claude-3-5-haiku": ModelPrice(input=0.8, output=4.0, cache_write=1.0, cache_read=0.08),
    "claude-3-haiku": ModelPrice(input=0.25, output=1.25, cache_write=0.30, cache_read=0.03),
}


class PriceTable(BaseModel):
    """Per-model prices, the batch discount, and what to do about models without a price.

    ``strict``: an unpriced model is an ``LLMError`` (raised before any call is made) instead of a
    cost of 0 with ``LLMResponse.cost_known = False`` and a logged warning.
    """

    models: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    batch_discount: float = Field(default=0.5, gt=0, le=1)  # multiplier on batch prices
    strict: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, merge_defaults: bool = True) -> PriceTable:
        """Build a table from config data: ``{models: {id: {input, output, ...}}, strict, ...}``.

        With ``merge_defaults`` the given models override or extend the built-in snapshot.
        """
        try:
            table = cls.model_validate(dict(data))
        except ValidationError as exc:
            raise LLMError(f"invalid price table: {exc}") from exc
        if merge_defaults and "models" in data:
            table = table.model_copy(update={"models": {**DEFAULT_PRICES, **table.models}})
        return table

    @classmethod
    def from_yaml(cls, path: str | Path, *, merge_defaults: bool = True) -> PriceTable:
        """Load a table from a YAML file (same shape as ``from_mapping``)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise LLMError(f"cannot read price table {path}: {exc}") from exc
        if not isinstance(data, Mapping):
            raise LLMError(f"price table {path}: expected a mapping at the top level")
        try:
            return cls.from_mapping(data, merge_defaults=merge_defaults)
        except LLMError as exc:
            raise LLMError(f"price table {path}: {exc}") from exc

    @classmethod
    def free(cls) -> PriceTable:
        """A table pricing every model at 0 (self-hosted servers): no warnings, never strict."""
        return cls(models={"": ModelPrice(input=0, output=0, cache_write=0, cache_read=0)})

    def lookup(self, model: str) -> ModelPrice | None:
        """Return the price of ``model``: an exact entry, else the longest matching prefix."""
        if model in self.models:
            return self.models[model]
        matches = [key for key in self.models if model.startswith(key)]
        return self.models[max(matches, key=len)] if matches else None

    def check(self, model: str) -> None:
        """Raise ``LLMError`` if the table is strict and ``model`` has no price."""
        if self.strict and self.lookup(model) is None:
            raise LLMError(
                f"no price for model {model!r} and the price table is strict: add it under "
                f"'models' in your price config (known: {', '.join(sorted(self.models))})"
            )

    def cost_usd(self, model: str, usage: Usage, *, batch: bool = False) -> float:
        """Return the USD cost of ``usage`` on ``model`` (0 if unpriced, see ``strict``)."""
        price = self.lookup(model)
        if price is None:
            self.check(model)
            _warn_unpriced(model)
            return 0.0
        total = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_write_tokens * price.cache_write
            + usage.cache_read_tokens * price.cache_read
        ) / 1_000_000
        return total * (self.batch_discount if batch else 1.0)


_warned: set[str] = set()


def _warn_unpriced(model: str) -> None:
    # Once per model per process: a run of 10k calls should not print 10k warnings.
    if model not in _warned:
        _warned.add(model)
        log.warning("no price for model %r: its cost is counted as 0 (cost_known=False)", model)
