"""Bounded retries: exponential backoff with full jitter, capped by attempts and a total deadline.

Deadlines use the monotonic clock (a wall-clock jump must not stretch or cut a retry budget);
durations are configured as plain seconds so they can come from an Airflow connection or DAG.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one call before reporting its items as failed.

    ``max_attempts`` counts the first try. The delay before retry ``n`` (1-based) is drawn from
    ``uniform(0, min(max_delay, base_delay * 2**(n-1)))`` ("full jitter"), or is the server's
    ``Retry-After`` when it sends one (capped by ``max_delay``). No retry starts after ``deadline``.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float = 180.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.deadline < 0:
            raise ValueError("retry delays and deadline must not be negative")

    def delay(self, retry_number: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return rng.uniform(0, ceiling)


@dataclass
class RetryBudget:
    """The state of one call's retries: attempts used and time left."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def remaining(self) -> float:
        """Seconds left before the deadline (an attempt must not run past it either)."""
        return self.policy.deadline - (self.clock() - self.started)

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Delay before the next attempt, or ``None`` when the budget is spent."""
        self.attempts += 1
        if self.attempts >= self.policy.max_attempts:
            return None
        delay = self.policy.delay(self.attempts, self.rng, retry_after)
        if self.clock() - self.started + delay > self.policy.deadline:
            return None
        return delay


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form only; Zoho documents none at all)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
