"""The Verifier interface every built-in and plugin verifier implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from verifiers.verdict import Verdict


@runtime_checkable
class Verifier(Protocol):
    """Decides whether one candidate solves one problem.

    ``problem`` is a mapping holding what the verifier needs: for math the
    ``reference`` answer (or a ``check`` to run), for code the ``tests``. The
    keys a verifier reads are its own contract, documented on the class.

    ``verify`` never raises because of what ``candidate`` or ``problem`` hold: a
    bad candidate, an unparseable reference, a timeout or a crash of the
    verifier's own machinery all come back as a Verdict with a reason.
    """

    name: str
    version: str

    def verify(self, problem: Mapping[str, Any], candidate: str) -> Verdict:
        """Return the verdict on ``candidate`` for ``problem``."""
        ...
