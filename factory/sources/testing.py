"""Conformance checks for source authors, ours and plugins alike.

    from factory.sources.testing import check_source
    check_source(MySource(MySource.Options(...), SourceContext(domain="math")))

A direct source must yield at most ``limit`` :class:`~factory.problem.Problem` s
with distinct ids, the same ones again for the same seed, each stamped with the
source's name. A generating source must turn junk into a
:class:`~factory.sources.base.Rejection`, never an exception, and (given a spec)
build the same requests for the same seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from factory.problem import Problem
from factory.sources.base import Rejection

if TYPE_CHECKING:
    from factory.spec import Spec

JUNK_ANSWERS = [
    "",
    "no JSON here",
    "{",
    "[" * 5000,
    "null",
    '[{"statement": 1}]',
    "```json\n```",
    "\x00\x01",
    '"\\u12',
    "[]",
]


def check_source(source: Any, *, limit: int = 5, seed: int = 0, spec: Spec | None = None) -> None:
    """Raise AssertionError, with what broke, if ``source`` does not keep the contract."""
    name = getattr(source, "name", None)
    assert isinstance(name, str) and name, "a source needs a non-empty class attribute 'name'"
    if callable(getattr(source, "problems", None)):
        first = list(source.problems(limit, seed))
        assert len(first) <= limit, f"{name}: asked for {limit}, got {len(first)}"
        assert first, f"{name}: yielded no problems"
        for problem in first:
            assert isinstance(problem, Problem), f"{name}: yielded {type(problem).__name__}"
            assert problem.source, f"{name}: problem {problem.id} has no source"
            assert not problem.reference.is_empty(), f"{name}: {problem.id} has no reference"
        ids = [p.id for p in first]
        assert len(set(ids)) == len(ids), f"{name}: duplicate problem ids {ids}"
        again = [p.id for p in source.problems(limit, seed)]
        assert again == ids, f"{name}: not deterministic for seed {seed}"
    if callable(getattr(source, "parse_response", None)):
        for junk in JUNK_ANSWERS:
            try:
                result = source.parse_response(junk)
            except Exception as exc:  # the contract is "never raises"
                raise AssertionError(
                    f"{name}: parse_response raised on {junk[:30]!r}: {exc!r}"
                ) from exc
            assert isinstance(result, Rejection | list), f"{name}: returned {type(result)}"
            if isinstance(result, list):
                assert all(isinstance(p, Problem) for p in result)
        if spec is not None:
            requests = source.build_requests(spec, limit, seed)
            assert requests == source.build_requests(spec, limit, seed), (
                f"{name}: build_requests is not deterministic for seed {seed}"
            )
