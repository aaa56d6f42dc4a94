"""The conformance kit (verifiers.testing) over the code verifier, on the real sandbox."""

import pytest

from verifiers.code import UnitTestVerifier
from verifiers.testing import run_conformance

pytestmark = pytest.mark.docker


def test_unit_test_verifier_conforms(pool):
    report = run_conformance(UnitTestVerifier(pool=pool, timeout_s=5), time_bound_s=30)
    assert report.golden_cases >= 3
