"""Sources are found by kind through the `factory.sources` entry points, like verifiers."""

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from factory.errors import SpecError
from factory.problem import Problem, Reference
from factory.sources import (
    SourceContext,
    available_sources,
    build_source,
    get_source_class,
    register_source,
    unregister_source,
)
from factory.spec import parse_spec

REPO = Path(__file__).resolve().parents[2]


def test_builtin_sources_are_declared_in_pyproject():
    # Fails until pyproject.toml declares the group (see pending_entry_points.py).
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project.get("entry-points", {}).get("factory.sources", {})
    assert declared == {
        "llm": "factory.sources.llm:LLMSource",
        "file": "factory.sources.file:FileSource",
        "procedural": "factory.sources.procedural:ProceduralSource",
        "mix": "factory.sources.mix:MixSource",
    }


def test_builtin_sources_are_found():
    assert {"llm", "file", "procedural", "mix"} <= set(available_sources())
    assert get_source_class("procedural").__name__ == "ProceduralSource"


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(SpecError, match=r"no source kind 'nope' \(known: .*procedural"):
        get_source_class("nope")


class CountingOptions(BaseModel):
    start: int = 0


class CountingSource:
    """A tiny in-memory source, registered at run time as a plugin would be."""

    name = "counting"
    Options = CountingOptions

    def __init__(self, options, context):
        self.options, self.context = options, context

    def problems(self, limit: int, seed: int) -> Iterator[Problem]:
        for i in range(limit):
            n = self.options.start + i
            yield Problem(
                statement=f"What is {n} + {seed}?",
                domain=self.context.domain,
                reference=Reference(answer=str(n + seed)),
                trust="ground_truth",
                source=self.name,
            )


def test_runtime_registration_and_use_from_a_spec():
    register_source("counting", CountingSource)
    try:
        with pytest.raises(SpecError, match="already registered"):
            register_source("counting", CountingSource)
        with pytest.raises(SpecError, match="already registered"):
            register_source("file", CountingSource)
        spec = parse_spec(
            {
                "name": "count",
                "version": "1",
                "description": "d",
                "domain": "math",
                "verifier": {"name": "math"},
                "source": {"kind": "counting", "options": {"start": 5}},
                "roles": {
                    "solver": {"model": "m", "prompt": "{statement}", "output_format": "boxed"}
                },
            }
        )
        problems = list(spec.build_source().problems(2, seed=1))
        assert [p.reference.answer for p in problems] == ["6", "7"]
        source = build_source("counting", {"start": 1}, SourceContext(domain="math"))
        assert next(source.problems(1, 0)).statement == "What is 1 + 0?"
    finally:
        unregister_source("counting")
    assert "counting" not in available_sources()


def test_something_that_is_not_a_source_is_refused_by_name():
    with pytest.raises(SpecError, match=r"source 'bad': .* is not a source class"):
        register_source("bad", object)
    with pytest.raises(SpecError, match="must be a non-empty word"):
        register_source("two words", CountingSource)
