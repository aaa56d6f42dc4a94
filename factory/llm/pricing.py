"""USD prices per million tokens, and the cost of one call from its token usage.

The defaults are a snapshot of Anthropic's published list prices (see ``DEFAULT_PRICES``);
prices change, so override them from config (``PriceTable.from_yaml``) rather than
trusting this file for billing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from factory.llm.errors import LLMError
from factory.llm.types import Usage

log = logging.getLogger(__name__)

# "claude-haiku-4-5-20251001" and "claude-3-5-haiku-latest" are priced as their base id.
_ALIAS_SUFFIX = re.compile(r"-(\d{8}|latest)$")


class ModelPrice(BaseModel):
    """USD per million tokens for one model."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)  # 5-minute cache writes (the default TTL we use)
    cache_read: float = Field(ge=0)


def _price(input_: float, output: float, read_multiplier: float) -> ModelPrice:
    # 5-minute cache writes cost 1.25x input on every Claude model; the cache-read discount varies.
    return ModelPrice(
        input=input_, output=output, cache_write=input_ * 1.25, cache_read=input_ * read_multiplier
    )


# Snapshot of list prices in USD per million tokens, read 2026-11 from platform.claude.com's pricing
# and model pages (the 0.05x cache reads of the 5.5 models come from a secondary summary; verify).
# Keys are base model ids; "claude-haiku-4-5" also prices "claude-haiku-4-5-20251001".
# Override from config (PriceTable.from_yaml) rather than editing this table for one run.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-fable-5-1": _price(10.0, 50.0, 0.025),
    "claude-fable-5": _price(10.0, 50.0, 0.1),
    "claude-opus-5-5": _price(4.0, 20.0, 0.05),
    "claude-opus-5": _price(5.0, 25.0, 0.1),
    "claude-opus-4-8": _price(5.0, 25.0, 0.1),
    "claude-opus-4-7": _price(5.0, 25.0, 0.1),
    "claude-opus-4-6": _price(5.0, 25.0, 0.1),
    "claude-opus-4-5": _price(5.0, 25.0, 0.1),
    "claude-opus-4-1": _price(15.0, 75.0, 0.1),
    "claude-opus-4-0": _price(15.0, 75.0, 0.1),
    "claude-opus-4": _price(15.0, 75.0, 0.1),
    "claude-sonnet-5-5": _price(2.0, 10.0, 0.05),
    "claude-sonnet-5": _price(2.0, 10.0, 0.1),
    "claude-sonnet-4-6": _price(3.0, 15.0, 0.1),
    "claude-sonnet-4-5": _price(3.0, 15.0, 0.1),
    "claude-sonnet-4-0": _price(3.0, 15.0, 0.1),
    "claude-sonnet-4": _price(3.0, 15.0, 0.1),
    # Haiku 5.5 is tiered by prompt length; this is the <= 100k-token tier.
    "claude-haiku-5-5": _price(0.10, 0.50, 0.1),
    "claude-haiku-4-5": _price(1.0, 5.0, 0.1),
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
    free_all: bool = False  # every model costs 0 and counts as priced (self-hosted servers)

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
        return cls(models={}, free_all=True)

    def lookup(self, model: str) -> ModelPrice | None:
        """Return the price of ``model``: its own entry, or its base id's for a dated/latest alias.

        Only a date or ``-latest`` suffix is stripped, so an unknown newer model (say
        ``claude-opus-4-9``) is unpriced rather than silently priced as ``claude-opus-4``.
        """
        if self.free_all:
            return _FREE
        if model in self.models:
            return self.models[model]
        base = _ALIAS_SUFFIX.sub("", model)
        return self.models.get(base)

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


_FREE = ModelPrice(input=0, output=0, cache_write=0, cache_read=0)
_warned: set[str] = set()


def _warn_unpriced(model: str) -> None:
    # Once per model per process: a run of 10k calls should not print 10k warnings.
    if model not in _warned:
        _warned.add(model)
        log.warning("no price for model %r: its cost is counted as 0 (cost_known=False)", model)
