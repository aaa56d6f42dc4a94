"""The interface every problem source implements, ours and plugins alike.

A source class has a ``name``, an ``Options`` pydantic model (what the spec's
``source.options`` is validated against) and is built as ``cls(options, context)``.
It then does one of two things:

- a *direct* source (file, procedural) yields problems itself:
  ``problems(limit, seed) -> Iterator[Problem]``;
- a *generating* source (llm) needs an LLM, which the run loop owns, so it offers
  two pure steps: ``build_requests(spec, count, seed) -> list[LLMRequest]`` and
  ``parse_response(text) -> list[Problem] | Rejection``. A malformed model answer
  is a :class:`Rejection` with a reason, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from factory.problem import Problem

if TYPE_CHECKING:
    from factory.llm.types import LLMRequest
    from factory.spec import Spec


class SourceContext(BaseModel):
    """What a source needs to know besides its options: set by the spec that builds it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    domain: str
    base_dir: Path = Path(".")
    """Relative paths in options resolve against this (the spec file's directory)."""
    spec_name: str = ""

    def resolve(self, path: str | Path) -> Path:
        """``path`` if absolute, else relative to :attr:`base_dir`."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


class Rejection(BaseModel):
    """A model answer (or one item of it) that could not be turned into a problem."""

    model_config = ConfigDict(frozen=True)

    reason: str
    """A short fixed code: invalid_json, truncated, not_a_list, no_problems,
    missing_field, wrong_type, empty_field, bad_value."""
    message: str
    item: int | None = None
    """Index of the offending problem in the answer's list, when it is one item."""


@runtime_checkable
class ProblemSource(Protocol):
    """A source that yields problems itself (no LLM needed)."""

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    def problems(self, limit: int, seed: int) -> Iterator[Problem]:
        """Yield at most ``limit`` problems; the same ``seed`` gives the same problems."""
        ...


@runtime_checkable
class GeneratingSource(Protocol):
    """A source whose problems an LLM writes; the run loop makes the calls."""

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    def build_requests(self, spec: Spec, count: int, seed: int) -> list[LLMRequest]:
        """The requests that together ask for about ``count`` problems (deterministic)."""
        ...

    def parse_response(self, text: str) -> list[Problem] | Rejection:
        """The problems in one model answer, or why the answer is rejected."""
        ...


def is_source_class(obj: Any) -> bool:
    """True if ``obj`` looks like a source class: a class with ``Options`` and one of the APIs."""
    options = getattr(obj, "Options", None)
    return (
        isinstance(obj, type)
        and isinstance(options, type)
        and issubclass(options, BaseModel)
        and (
            callable(getattr(obj, "problems", None))
            or callable(getattr(obj, "parse_response", None))
        )
    )
