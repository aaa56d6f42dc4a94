"""Every registered verifier, ours and plugins alike, passes the conformance kit."""

import pytest

from verifiers import available_verifiers, get_verifier
from verifiers.testing import run_conformance


@pytest.mark.parametrize("name", available_verifiers())
def test_registered_verifier_conforms(name):
    report = run_conformance(get_verifier(name), time_bound_s=30.0)
    assert report.golden_cases >= 3
