"""Python files shipped INTO the sandbox as job files.

The parent never imports these modules to run them; it reads their text
(:func:`harness_files`) and ships them with each job. The judges (asserts, pytest,
property evaluation) run the tests in the job's main process and the solution in a
second process forked before the plan is read (``factory_remote``): the solution
never shares a process with the tests, the expected values, the nonce or the report
channel (fd 3). The property-input generator runs only the reference solution.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent

COMMON = "factory_common.py"
REMOTE = "factory_remote.py"
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
    return {n: harness_source(n) for n in (COMMON, REMOTE, *names)}
