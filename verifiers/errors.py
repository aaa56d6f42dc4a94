"""Named errors of the verifier core.

A verifier never raises on candidate input (it returns a Verdict). These are
for misuse by the *caller*: an unknown verifier name, a broken plugin, bad options.
"""


class VerifierError(Exception):
    """Base class of the verifier core's errors."""


class UnknownVerifierError(VerifierError, LookupError):
    """No verifier is registered under the requested name."""


class PluginError(VerifierError):
    """A third-party verifier plugin failed to load or does not fit the interface."""


class VerifierOptionsError(VerifierError, ValueError):
    """Options given to a verifier are not ones it accepts."""
