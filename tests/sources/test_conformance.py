"""Every registered source keeps the source contract; so do the shipped specs' sources."""

import re
from pathlib import Path

import pytest
import yaml

from factory.sources import available_sources
from factory.sources.testing import check_source
from factory.spec import load_spec, parse_spec

SPECS_DIR = Path(__file__).resolve().parents[2] / "problem_specs"
SHIPPED = sorted(SPECS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_spec_sources_conform(path):
    spec = load_spec(path)
    check_source(spec.build_source(), limit=4, seed=spec.seed, spec=spec)


def test_every_shipped_kind_is_exercised():
    kinds = {load_spec(p).source.kind for p in SHIPPED}
    builtin = {"llm", "file", "procedural", "mix"}
    assert builtin <= kinds and builtin <= set(available_sources())


def test_readme_example_spec_is_valid():
    text = (SPECS_DIR / "README.md").read_text()
    block = re.search(r"## A complete example\n\n```yaml\n(.*?)```", text, re.DOTALL)
    assert block is not None
    spec = parse_spec(yaml.safe_load(block.group(1)))
    assert spec.name == "algebra_number_theory" and spec.consensus.k == 3
