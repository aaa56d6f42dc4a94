"""Specs: every shipped spec loads; bad specs fail with file, line, field and fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.errors import SpecError
from factory.problem import Problem, Reference
from factory.spec import Spec, load_spec, parse_spec, template_placeholders

SPECS_DIR = Path(__file__).resolve().parents[2] / "problem_specs"
SHIPPED = sorted(SPECS_DIR.glob("*.yaml"))

BASE = {
    "name": "demo",
    "version": "1",
    "description": "A demo spec.",
    "seed": 3,
    "domain": "math",
    "verifier": {"name": "math"},
    "source": {"kind": "procedural", "options": {"generators": ["gcd_lcm"]}},
    "roles": {
        "solver": {
            "model": "claude-haiku-4-5",
            "temperature": 0.5,
            "prompt": "{statement}\n\n{format}",
            "output_format": "boxed",
        }
    },
}

LLM_BASE = {
    **BASE,
    "source": {"kind": "llm", "options": {"topics": ["primes", "digits"]}},
    "roles": {
        **BASE["roles"],
        "generator": {
            "model": "claude-sonnet-4-5",
            "prompt": "Write {count} problems on {topic}. {description}\n{examples}\n{format}",
        },
    },
    "samples_per_problem": 4,
    "consensus": {"k": 3, "n": 4},
}


def write(tmp_path: Path, data: dict | str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text)
    return path


def error_of(tmp_path: Path, data: dict | str) -> str:
    path = write(tmp_path, data)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return str(info.value)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_spec_loads(path):
    spec = load_spec(path)
    assert spec.name == path.stem
    assert len(spec.spec_hash()) == 12 and len(spec.prompt_version) == 12
    assert spec.base_dir == path.parent
    source = spec.build_source()
    if hasattr(source, "problems"):
        problems = list(source.problems(3, spec.seed))
        assert problems and all(isinstance(p, Problem) for p in problems)
        assert spec.render_solver_prompt(problems[0]).strip()


def test_the_six_specs_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {
        "algebra_number_theory",
        "calculus_checks",
        "python_functions",
        "stdio_programs",
        "gsm8k_distill",
        "quickstart",
    } <= names


def test_quickstart_is_offline_and_mixed():
    spec = load_spec(SPECS_DIR / "quickstart.yaml")
    assert spec.roles.solver.model == "claude-haiku-4-5" and spec.samples_per_problem == 2
    assert spec.roles.generator is None
    problems = list(spec.build_source().problems(12, spec.seed))
    domains = {p.domain for p in problems}
    assert domains == {"math", "code"}
    code = [p for p in problems if p.domain == "code"]
    assert len(code) == 4 and all(p.reference.tests and p.reference.entry_point for p in code)
    assert spec.verifier_for("code").name == "unit_tests"
    assert spec.solver_output_format("code") == "code"
    assert "```python" in spec.render_solver_prompt(code[0])
    assert "\\boxed{}" in spec.render_solver_prompt(next(p for p in problems if p.domain == "math"))


# ---- exact error messages


def test_out_of_range_names_file_line_field_and_bounds(tmp_path):
    data = copy.deepcopy(BASE)
    data["roles"]["solver"]["temperature"] = 3.5
    path = tmp_path / "spec.yaml"
    assert error_of(tmp_path, data) == (
        f"{path}:16: field 'roles.solver.temperature': must be between 0 and 2 (got 3.5)"
    )


def test_unknown_field_suggests_the_close_name(tmp_path):
    data = copy.deepcopy(BASE)
    data["roles"]["solver"]["temprature"] = 0.5
    assert error_of(tmp_path, data).endswith(
        "field 'roles.solver.temprature': unknown field (did you mean 'temperature'?)"
    )


def test_unknown_field_without_a_close_name_lists_the_allowed_ones(tmp_path):
    data = {**BASE, "colour": "blue"}
    message = error_of(tmp_path, data)
    assert "field 'colour': unknown field; allowed here: budget, consensus, description" in message


def test_unknown_source_option_is_checked_against_that_kinds_options(tmp_path):
    data = copy.deepcopy(BASE)
    data["source"]["options"]["max_dificulty"] = 2
    assert error_of(tmp_path, data).endswith(
        "field 'source.options.max_dificulty': unknown field (did you mean 'max_difficulty'?)"
    )


def test_wrong_type(tmp_path):
    data = {**BASE, "samples_per_problem": "four"}
    path = tmp_path / "spec.yaml"
    assert error_of(tmp_path, data) == (
        f"{path}:22: field 'samples_per_problem': must be a whole number (got 'four')"
    )


def test_bad_template_placeholder(tmp_path):
    data = copy.deepcopy(BASE)
    data["roles"]["solver"]["prompt"] = "Solve: {statment}"
    assert error_of(tmp_path, data).endswith(
        "field 'roles.solver.prompt': unknown placeholder {statment} (did you mean "
        "'statement'?); allowed: {difficulty}, {domain}, {entry_point}, {format}, "
        "{statement}, {topic} (write {{ and }} for literal braces)"
    )


def test_literal_braces_must_be_doubled(tmp_path):
    data = copy.deepcopy(BASE)
    data["roles"]["solver"]["prompt"] = "{statement} Put it in \\boxed{}."
    assert "positional placeholder {} is not allowed" in error_of(tmp_path, data)
    data["roles"]["solver"]["prompt"] = "{statement} Put it in \\boxed{{}}."
    spec = load_spec(write(tmp_path, data))
    assert spec.roles.solver.render(statement="1+1?") == "1+1? Put it in \\boxed{}."


def test_generator_placeholders_are_not_solver_placeholders(tmp_path):
    data = copy.deepcopy(BASE)
    data["roles"]["solver"]["prompt"] = "{statement} {count}"
    assert "unknown placeholder {count}" in error_of(tmp_path, data)


def test_unknown_verifier_lists_the_known_ones(tmp_path):
    data = {**BASE, "verifier": {"name": "mathh"}}
    assert error_of(tmp_path, data).endswith(
        "field 'verifier.name': unknown verifier 'mathh' (did you mean 'math'?); known: "
        + ", ".join(__import__("verifiers").available_verifiers())
        + " (a plugin verifier must be installed to be used)"
    )


def test_unknown_source_kind(tmp_path):
    data = {**BASE, "source": {"kind": "procedual"}}
    assert "field 'source.kind': unknown source kind 'procedual' (did you mean 'procedural'?)" in (
        error_of(tmp_path, data)
    )


def test_yaml_syntax_error_gives_file_line_column(tmp_path):
    path = tmp_path / "spec.yaml"
    text = "name: demo\nroles:\n  solver: [\n    model: x\n"
    assert error_of(tmp_path, text) == (
        f"{path}:5:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    )


def test_duplicate_keys_are_refused(tmp_path):
    path = tmp_path / "spec.yaml"
    assert error_of(tmp_path, "name: a\nseed: 1\nname: b\n") == (
        f"{path}:3:1: YAML syntax error: duplicate key 'name' (first at line 1)"
    )


def test_not_a_mapping_and_empty_file(tmp_path):
    assert "a spec must be a YAML mapping" in error_of(tmp_path, "- a\n- b\n")
    assert "the spec is empty" in error_of(tmp_path, "")
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "missing.yaml")


def test_missing_required_field(tmp_path):
    data = {k: v for k, v in BASE.items() if k != "description"}
    assert "field 'description': required field is missing" in error_of(tmp_path, data)


def test_every_problem_is_reported_one_per_line(tmp_path):
    data = copy.deepcopy(BASE)
    data["seed"] = -1
    data["roles"]["solver"]["max_tokens"] = 0
    lines = error_of(tmp_path, data).splitlines()
    assert len(lines) == 2
    assert "field 'seed': must be at least 0 (got -1)" in lines[0]
    assert "field 'roles.solver.max_tokens': must be between 1 and 200000 (got 0)" in lines[1]


def test_cross_field_checks_name_their_field(tmp_path):
    no_generator = copy.deepcopy(LLM_BASE)
    del no_generator["roles"]["generator"]
    assert "field 'roles.generator': required when source.kind is 'llm'" in error_of(
        tmp_path, no_generator
    )
    ground_truth = {**BASE, "consensus": {"k": 3, "n": 4}}
    assert "field 'consensus': only applies to LLM-generated references" in error_of(
        tmp_path, ground_truth
    )
    minority = {**LLM_BASE, "consensus": {"k": 2, "n": 4}}
    assert "field 'consensus.k': must be a strict majority of n=4, i.e. > 2 (got 2)" in error_of(
        tmp_path, minority
    )
    too_many = {**LLM_BASE, "samples_per_problem": 3}
    assert "field 'consensus.n': must be at most samples_per_problem=3" in error_of(
        tmp_path, too_many
    )
    wrong_domain = {**BASE, "domain": "code", "verifier": {"name": "unit_tests"}}
    assert "field 'domain': a 'procedural' source with these options produces math" in (
        error_of(tmp_path, wrong_domain)
    )
    bad_output = {**BASE, "output": {"fields": ["id", "statment"]}}
    assert "field 'output.fields[1]': unknown output field 'statment' (did you mean " in (
        error_of(tmp_path, bad_output)
    )


def test_file_source_with_a_missing_file_fails_at_load(tmp_path):
    data = {**BASE, "source": {"kind": "file", "options": {"path": "data/none.jsonl"}}}
    message = error_of(tmp_path, data)
    assert "field 'source.options': path 'data/none.jsonl' does not exist" in message


def test_version_may_be_written_as_a_number():
    assert parse_spec({**BASE, "version": 2}).version == "2"


# ---- hashes


def _shuffled(value, rng):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_spec_hash_is_independent_of_key_order(rng):
    original = parse_spec(LLM_BASE)
    shuffled = parse_spec(_shuffled(copy.deepcopy(LLM_BASE), rng))
    assert shuffled.spec_hash() == original.spec_hash()
    assert shuffled.prompt_version == original.prompt_version


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1).filter(lambda t: "{" not in t and "}" not in t))
def test_a_changed_template_changes_hash_and_prompt_version(extra):
    original = parse_spec(LLM_BASE)
    changed_data = copy.deepcopy(LLM_BASE)
    changed_data["roles"]["solver"]["prompt"] += extra
    changed = parse_spec(changed_data)
    assert changed.spec_hash() != original.spec_hash()
    assert changed.prompt_version != original.prompt_version
    assert changed.roles.solver.prompt_version != original.roles.solver.prompt_version
    assert changed.roles.generator.prompt_version == original.roles.generator.prompt_version


def test_model_or_budget_change_keeps_prompt_version_but_not_hash():
    original = parse_spec(LLM_BASE)
    changed = parse_spec({**LLM_BASE, "budget": {"max_usd": 3}})
    assert changed.prompt_version == original.prompt_version
    assert changed.spec_hash() != original.spec_hash()


def test_explicit_defaults_hash_like_omitted_ones():
    explicit = copy.deepcopy(BASE)
    explicit["source"]["options"].update(min_difficulty=1, max_difficulty=3)
    explicit["samples_per_problem"] = 1
    assert parse_spec(explicit).spec_hash() == parse_spec(BASE).spec_hash()


# ---- schema and templates


def test_json_schema_spells_out_each_source_kind():
    schema = Spec.model_json_schema()
    json.dumps(schema)  # serialisable
    branches = schema["$defs"]["SourceSpec"]["oneOf"]
    kinds = {b["properties"]["kind"]["const"] for b in branches}
    assert {"llm", "file", "procedural", "mix"} <= kinds
    assert "ProceduralSourceOptions" in schema["$defs"]
    assert "temperature" in schema["$defs"]["SolverRole"]["properties"]


def test_template_placeholders():
    assert template_placeholders("a {x} {{literal}} {y}") == ["x", "y"]
    with pytest.raises(ValueError, match="malformed template"):
        template_placeholders("a { b")


def test_render_solver_prompt_for_a_code_problem():
    spec = parse_spec(
        {
            **BASE,
            "domain": "code",
            "verifier": {"name": "unit_tests"},
            "source": {"kind": "file", "options": {"path": "x.jsonl"}},
            "roles": {
                "solver": {"model": "m", "prompt": "{statement}\n{format}", "output_format": "code"}
            },
        }
    )
    problem = Problem(
        statement="Write f.",
        domain="code",
        reference=Reference(tests="assert f() == 1", entry_point="f"),
        trust="ground_truth",
        source="file",
    )
    assert spec.render_solver_prompt(problem) == (
        "Write f.\nAnswer with one ```python code block that defines the function `f`, "
        "with any imports it needs."
    )
