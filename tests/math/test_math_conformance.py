"""The conformance kit (verifiers.testing) on the math verifier."""

from verifiers.math import MathVerifier
from verifiers.testing import run_conformance


def test_math_verifier_conforms():
    report = run_conformance(MathVerifier(), time_bound_s=30.0)
    assert report.failures == []
    assert report.golden_cases >= 10


def test_conforms_with_a_check_problem():
    problem = {"check": {"kind": "substitution", "equations": "x^2 = 4"}}
    run_conformance(MathVerifier(), adversarial_problem=problem, random_candidates=10)
