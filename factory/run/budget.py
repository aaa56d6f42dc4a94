"""Hard budget caps with reservations, so concurrent calls cannot overshoot a cap.

Before a call, its worst case (estimated prompt tokens plus ``max_tokens`` of
output, priced) is reserved; after it, the reservation is replaced by what the
call really cost. A call whose worst case would cross a cap is not made, and
the run stops cleanly with what was spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from factory.llm.pricing import PriceTable
from factory.llm.types import LLMRequest, Usage


def estimate_prompt_tokens(request: LLMRequest) -> int:
    """A deliberately generous prompt-size estimate: one token per 3 characters."""
    chars = len(request.system) + sum(len(m.content) for m in request.few_shot + request.messages)
    return chars // 3 + 8


@dataclass
class BudgetGuard:
    """Tracks spend against the caps; ``None`` caps are unlimited."""

    prices: PriceTable
    max_usd: float | None = None
    max_tokens: int | None = None
    spent_usd: float = 0.0
    spent_tokens: int = 0
    _reserved_usd: float = 0.0
    _reserved_tokens: int = 0
    stopped_by: str | None = field(default=None)

    def worst_case(self, request: LLMRequest) -> tuple[float, int]:
        """(USD, tokens) the request can cost at most."""
        prompt = estimate_prompt_tokens(request)
        usage = Usage(input_tokens=prompt, output_tokens=request.max_tokens)
        return self.prices.cost_usd(request.model, usage), prompt + request.max_tokens

    def reserve(self, request: LLMRequest) -> tuple[float, int] | None:
        """Reserve the request's worst case; None (and ``stopped_by`` set) if a cap forbids it."""
        usd, tokens = self.worst_case(request)
        if self.max_usd is not None and self.spent_usd + self._reserved_usd + usd > self.max_usd:
            self.stopped_by = (
                f"max_usd reached: ${self.spent_usd:.4f} spent of ${self.max_usd:.4f} "
                f"(the next call could cost up to ${usd:.4f})"
            )
            return None
        if (
            self.max_tokens is not None
            and self.spent_tokens + self._reserved_tokens + tokens > self.max_tokens
        ):
            self.stopped_by = (
                f"max_tokens reached: {self.spent_tokens} spent of {self.max_tokens} "
                f"(the next call could use up to {tokens})"
            )
            return None
        self._reserved_usd += usd
        self._reserved_tokens += tokens
        return usd, tokens

    def settle(self, reservation: tuple[float, int], usd: float, tokens: int) -> None:
        """Replace a reservation by the call's real cost (0 for a cache hit)."""
        self._reserved_usd -= reservation[0]
        self._reserved_tokens -= reservation[1]
        self.spent_usd += usd
        self.spent_tokens += tokens

    def release(self, reservation: tuple[float, int]) -> None:
        """Drop a reservation whose call failed before costing anything."""
        self.settle(reservation, 0.0, 0)
