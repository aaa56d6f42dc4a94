"""Named errors of the LLM layer; each provider translates its SDK's exceptions in one place.

An ``LLMError`` reaching a caller is final: retries, if the failure was transient, already happened.
A response truncated at ``max_tokens`` is not an error (see ``LLMResponse.truncated``).
"""

from __future__ import annotations

from factory.errors import FactoryError


class LLMError(FactoryError):
    """A call failed for good (or, while inside the retry loop, failed transiently).

    ``retryable`` and ``retry_after_s`` are read by the retry loop; ``status`` is the HTTP status
    when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class LLMRateLimited(LLMError):
    """The provider kept answering 429 (rate limited) or 529 (overloaded) until retries ran out."""


class LLMAuthError(LLMError):
    """The API key is missing, wrong, or lacks permission."""


class LLMBillingError(LLMError):
    """The account cannot pay for the call (e.g. "credit balance is too low")."""


class LLMReplayMiss(LLMError):
    """A replay file has no recorded response for the request."""
