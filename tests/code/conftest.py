"""Fixtures for the code verifier's tests: ONE real sandbox pool for the session.

A missing Docker daemon or sandbox image FAILS these tests with the fix command;
they are never skipped and never fall back to running code unsandboxed.
"""

from __future__ import annotations

import pytest

from sandbox.errors import SandboxError
from sandbox.pool import SandboxPool


@pytest.fixture(scope="session")
def pool():
    try:
        p = SandboxPool(size=2)
    except SandboxError as exc:
        pytest.fail(f"the code verifier's tests need the Docker sandbox: {exc}", pytrace=False)
    yield p
    p.close()
