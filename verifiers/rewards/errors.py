"""Named errors of the reward functions: misuse by the caller, or a broken verifier.

A reward function never raises because of a completion; it raises these only when
the *setup* is wrong (a dataset column is missing) or when nothing in a batch could
be verified because the verifier's machinery is down (training on that would teach
the model nothing while looking fine).
"""

from __future__ import annotations

from verifiers.errors import VerifierError


class RewardColumnError(VerifierError, KeyError):
    """The dataset has no column the reward function was told to read."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class RewardUnavailable(VerifierError):
    """Every sample of a batch came back ``infra_error``: the verifier itself is down."""
