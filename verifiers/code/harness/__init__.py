"""Python files shipped INTO the sandbox as job files. They run inside the untrusted child.

The parent never imports these modules to run them; it reads their text
(:func:`harness_files`) and ships them with each job. Each starts by saving the
builtins and functions it needs *before* the candidate's code is imported, and
reports on the report channel (fd 3) with the job's per-run nonce.

Anything the child reports is only as trustworthy as the child's process: a
hostile solution shares its memory. The parent therefore decides pass/fail from
values wherever it can (split asserts, stdin/stdout, property tests) and only
trusts in-process pass/fail records for test code that cannot be split.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent

COMMON = "factory_common.py"
ASSERTS = "factory_asserts.py"
PYTEST = "factory_pytest.py"
PROPGEN = "factory_propgen.py"
PROPEVAL = "factory_propeval.py"


@cache
def harness_source(name: str) -> str:
    """The text of one harness file, as shipped into the sandbox."""
    return (_HERE / name).read_text(encoding="utf-8")


def harness_files(*names: str) -> dict[str, str]:
    """Job files for the given harness scripts plus the shared common module."""
    return {n: harness_source(n) for n in (COMMON, *names)}
