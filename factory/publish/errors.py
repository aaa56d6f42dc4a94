"""Named errors of publishing. Each is a FactoryError, so the CLI prints it as one line."""

from __future__ import annotations

from factory.errors import FactoryError


class PublishError(FactoryError):
    """A dataset cannot be written or pushed (nothing to publish, a Hub refusal, no token)."""


class ContaminationError(FactoryError):
    """A benchmark given to the contamination check cannot be read."""
