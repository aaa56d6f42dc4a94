"""The ``mix`` source: several direct sources in one spec, each with its own domain.

Used by specs with ``domain: mixed`` (e.g. the offline quickstart: procedural
math plus a file of code problems). ``problems(limit, seed)`` splits ``limit``
across the entries by weight and interleaves them round-robin, so a small run
still sees every entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from factory.errors import SpecError
from factory.problem import Problem
from factory.sources.base import SourceContext
from factory.sources.registry import build_source, get_source_class


class MixEntry(BaseModel):
    """One source of the mix, with the domain its problems belong to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    weight: int = Field(1, ge=1, description="Share of the problems, relative to the others.")
    options: Any = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _direct_kind(cls, kind: str) -> str:
        if kind == "mix":
            raise ValueError("a mix cannot contain another mix")
        try:
            source_cls = get_source_class(kind)
        except SpecError as exc:
            raise ValueError(str(exc)) from None
        if not callable(getattr(source_cls, "problems", None)):
            raise ValueError(
                f"source kind {kind!r} needs an LLM call per batch; a mix takes only sources "
                "that yield problems directly (file, procedural, ...)"
            )
        return kind

    @field_validator("options")
    @classmethod
    def _options(cls, options: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if kind is None:
            return options
        model = get_source_class(kind).Options
        return options if isinstance(options, model) else model.model_validate(options or {})


class MixSourceOptions(BaseModel):
    """Options of the ``mix`` source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[MixEntry] = Field(min_length=1)

    def supported_domains(self) -> list[str]:
        """The domains of the entries, in order of first appearance."""
        return list(dict.fromkeys(e.domain for e in self.sources))


def split_by_weight(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder; sums to ``total``)."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


class MixSource:
    """Problems from several direct sources, interleaved; each keeps its own trust."""

    name: ClassVar[str] = "mix"
    Options: ClassVar[type[BaseModel]] = MixSourceOptions

    def __init__(self, options: MixSourceOptions, context: SourceContext) -> None:
        self.options = options
        self.context = context
        self.parts = [
            build_source(
                entry.kind,
                entry.options,
                SourceContext(
                    domain=entry.domain, base_dir=context.base_dir, spec_name=context.spec_name
                ),
            )
            for entry in options.sources
        ]

    def problems(self, limit: int, seed: int) -> Iterator[Problem]:
        """Up to ``limit`` problems, interleaved; entry ``i`` is seeded with ``seed + i``."""
        shares = split_by_weight(limit, [e.weight for e in self.options.sources])
        streams = [
            iter(part.problems(share, seed + i))
            for i, (part, share) in enumerate(zip(self.parts, shares, strict=True))
        ]
        while streams:
            alive = []
            for stream in streams:
                problem = next(stream, None)
                if problem is not None:
                    yield problem
                    alive.append(stream)
            streams = alive
