"""Hard budget caps with reservations, so concurrent calls cannot overshoot a cap.

Before a call, its worst case (estimated prompt tokens plus ``max_tokens`` of
output, priced) is reserved; when the response arrives the reservation is
released and what the call really cost is counted. A call whose worst case
does not fit beside the calls in flight waits for them to settle (they
usually cost far less than their worst case); the run stops only when nothing
is in flight and the call still does not fit, so the cap is truly reached and
the spend the stop message names is final.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from factory.llm.pricing import PriceTable
from factory.llm.types import LLMRequest, Usage


def estimate_prompt_tokens(request: LLMRequest) -> int:
    """A deliberately generous prompt-size estimate: one token per 3 characters."""
    chars = len(request.system) + sum(len(m.content) for m in request.few_shot + request.messages)
    return chars // 3 + 8


Reservation = tuple[float, int]


@dataclass
class BudgetGuard:
    """Tracks spend against the caps; ``None`` caps are unlimited.

    Used from one event loop: ``acquire`` before a call, ``settle`` when it ends.
    """

    prices: PriceTable
    max_usd: float | None = None
    max_tokens: int | None = None
    spent_usd: float = 0.0
    spent_tokens: int = 0
    stopped_by: str | None = field(default=None)
    _reserved_usd: float = 0.0
    _reserved_tokens: int = 0
    _in_flight: int = 0
    _settled: asyncio.Event | None = None

    def worst_case(self, request: LLMRequest) -> Reservation:
        """(USD, tokens) the request can cost at most."""
        prompt = estimate_prompt_tokens(request)
        usage = Usage(input_tokens=prompt, output_tokens=request.max_tokens)
        return self.prices.cost_usd(request.model, usage), prompt + request.max_tokens

    def _over(self, usd: float, tokens: int) -> str | None:
        """Why a call of this worst case cannot be made now; None when it fits."""
        if self.max_usd is not None and self.spent_usd + self._reserved_usd + usd > self.max_usd:
            return (
                f"max_usd reached: ${self.spent_usd:.4f} spent of ${self.max_usd:.4f} "
                f"(the next call could cost up to ${usd:.4f})"
            )
        if (
            self.max_tokens is not None
            and self.spent_tokens + self._reserved_tokens + tokens > self.max_tokens
        ):
            return (
                f"max_tokens reached: {self.spent_tokens} spent of {self.max_tokens} "
                f"(the next call could use up to {tokens})"
            )
        return None

    async def acquire(self, request: LLMRequest) -> Reservation | None:
        """Reserve the request's worst case, waiting for calls in flight to settle when it
        does not fit beside them; None (and ``stopped_by`` set) once the cap is reached."""
        usd, tokens = self.worst_case(request)
        while self.stopped_by is None:
            over = self._over(usd, tokens)
            if over is None:
                self._reserved_usd += usd
                self._reserved_tokens += tokens
                self._in_flight += 1
                return usd, tokens
            if self._in_flight == 0:
                # Nothing can lower the spend any more: the cap is reached, and the spend
                # named here is final (no call is running that could add to it).
                self.stopped_by = over
                break
            if self._settled is None:
                self._settled = asyncio.Event()
            await self._settled.wait()
        return None

    def settle(self, reservation: Reservation, *, spent_usd: float, spent_tokens: int) -> None:
        """A call ended: drop its reservation; ``spent_*`` are the run's totals now (a call
        that failed, or was answered from the run's cache, may have added nothing)."""
        self._reserved_usd = max(0.0, self._reserved_usd - reservation[0])
        self._reserved_tokens -= reservation[1]
        self._in_flight -= 1
        self.spent_usd, self.spent_tokens = spent_usd, spent_tokens
        if self._settled is not None:
            # Wake every waiter; each checks again whether its call fits now.
            self._settled.set()
            self._settled = None
