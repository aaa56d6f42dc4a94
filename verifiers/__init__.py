"""The verifier core: decide whether a candidate answer or program is right.

This package knows nothing of LLMs, runs or datasets. A verifier takes a
problem (a mapping holding the reference and options) and a candidate string
and returns a :class:`~verifiers.verdict.Verdict`.
"""

from verifiers.base import Verifier
from verifiers.errors import PluginError, UnknownVerifierError, VerifierError
from verifiers.registry import available_verifiers, get_verifier
from verifiers.verdict import Reason, Verdict

__all__ = [
    "PluginError",
    "Reason",
    "UnknownVerifierError",
    "Verdict",
    "Verifier",
    "VerifierError",
    "available_verifiers",
    "get_verifier",
]
