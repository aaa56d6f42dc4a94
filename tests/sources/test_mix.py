"""The mix source: several direct sources, each with its own domain, split by weight."""

import pytest
from pydantic import ValidationError

from factory.sources.base import SourceContext
from factory.sources.mix import MixSource, MixSourceOptions, split_by_weight


def test_split_by_weight_sums_to_total():
    assert split_by_weight(10, [2, 1]) == [7, 3]
    assert split_by_weight(3, [1, 1, 1]) == [1, 1, 1]
    assert split_by_weight(1, [1, 1]) == [1, 0]
    assert sum(split_by_weight(17, [5, 3, 2])) == 17


def test_interleaves_domains_deterministically(tmp_path):
    (tmp_path / "code.jsonl").write_text(
        '{"statement": "Write f.", "tests": "assert f() == 1", "entry_point": "f"}\n'
    )
    options = MixSourceOptions.model_validate(
        {
            "sources": [
                {"kind": "procedural", "domain": "math", "options": {"generators": ["gcd_lcm"]}},
                {"kind": "file", "domain": "code", "options": {"path": "code.jsonl"}},
            ]
        }
    )
    assert options.supported_domains() == ["math", "code"]
    source = MixSource(options, SourceContext(domain="mixed", base_dir=tmp_path))
    problems = list(source.problems(4, seed=0))
    # 2 + 2 asked; the file has only one row, so 3 come back, interleaved.
    assert [p.domain for p in problems] == ["math", "code", "math"]
    assert [p.id for p in problems] == [p.id for p in source.problems(4, seed=0)]


def test_entries_must_be_direct_sources():
    with pytest.raises(ValidationError, match="needs an LLM call per batch"):
        MixSourceOptions.model_validate({"sources": [{"kind": "llm", "domain": "math"}]})
    with pytest.raises(ValidationError, match="cannot contain another mix"):
        MixSourceOptions.model_validate({"sources": [{"kind": "mix", "domain": "math"}]})
    with pytest.raises(ValidationError, match="no source kind 'nope'"):
        MixSourceOptions.model_validate({"sources": [{"kind": "nope", "domain": "math"}]})
