"""The Problem model: content-hash ids and the mapping handed to verifiers."""

import pytest
from pydantic import ValidationError

from factory.problem import Problem, Reference, StdioCase


def make(**overrides):
    fields = dict(
        statement="What is 2+2?",
        domain="math",
        reference=Reference(answer="4"),
        trust="ground_truth",
        source="file",
    )
    fields.update(overrides)
    return Problem(**fields)


def test_id_is_a_deterministic_content_hash():
    a, b = make(), make(topic="arithmetic", metadata={"row": 3})
    assert a.id == b.id and len(a.id) == 16
    assert make(statement="  What is 2+2?\n").id == a.id  # surrounding whitespace is no content
    assert make(reference=Reference(answer="5")).id != a.id
    assert make(source="procedural").id != a.id
    assert make(statement="What is 3+3?").id != a.id


def test_explicit_id_is_kept_and_problems_are_frozen():
    problem = make(id="custom")
    assert problem.id == "custom"
    with pytest.raises(ValidationError):
        problem.statement = "x"  # type: ignore[misc]


def test_blank_statement_and_unknown_trust_are_refused():
    with pytest.raises(ValidationError, match="statement is blank"):
        make(statement="   ")
    with pytest.raises(ValidationError):
        make(trust="verified")


def test_verifier_problem_for_math():
    assert make().verifier_problem() == {"reference": "4"}
    check = {"kind": "antiderivative", "integrand": "2*x", "variable": "x"}
    assert make(reference=Reference(check=check)).verifier_problem() == {"check": check}


def test_verifier_problem_for_code():
    reference = Reference(
        tests="assert f(1) == 2",
        entry_point="f",
        solution="def f(x):\n    return x + 1\n",
        stdio=[StdioCase(input="1\n", output="2\n")],
    )
    problem = make(domain="code", reference=reference)
    assert problem.verifier_problem() == {
        "tests": "assert f(1) == 2",
        "entry_point": "f",
        "stdio": [{"input": "1\n", "output": "2\n"}],
        "reference_solution": "def f(x):\n    return x + 1\n",
    }
    only_stdio = make(domain="code", reference=Reference(stdio=[{"input": "", "output": "x"}]))
    assert only_stdio.verifier_problem() == {"stdio": [{"input": "", "output": "x"}]}


def test_verifier_problem_for_a_plugin_domain():
    problem = make(domain="chemistry", reference=Reference(answer="H2O", solution="..."))
    assert problem.verifier_problem() == {"answer": "H2O", "solution": "...", "reference": "H2O"}
