"""Items Zoho answers ``RECORD_LOCKED``: wait, send them again, within bounds.

Zoho locks a record while Zia Vision processes its images and answers ``RECORD_LOCKED`` (details
``{"id", "action": "zia_vision_processing"}``); what to do: "wait for Zia Vision to complete the
image processing and then make an API call" (help.zoho.com community, "The New Error Codes in CRM
API - RECORD_LOCKED and NOT_APPROVED"). Zoho gives no duration, so the bounds are ours: a few
re-sends per item with doubling waits, and a total wait per run, so that many locked records
cannot hold a run for long. What is still locked after that is reported with its code (the
policy's default for it is ``fail``; a task retry resends only what failed).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

RECORD_LOCKED = "RECORD_LOCKED"


@dataclass(frozen=True)
class LockedRetryPolicy:
    """How long locked items are waited for. ``max_attempts=0`` reports them at once."""

    #: Re-sends of a locked item within the run.
    max_attempts: int = 3
    #: Wait before the first re-send, doubled for each next one, at most ``max_delay`` (seconds).
    base_delay: float = 2.0
    max_delay: float = 15.0
    #: All waits of a run together (every worker's), in seconds.
    max_total_wait: float = 60.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 0
        ):
            raise ValueError(f"max_attempts must be a non-negative integer, got {self.max_attempts!r}")
        for name in ("base_delay", "max_delay", "max_total_wait"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")

    def delay(self, attempt: int) -> float:
        """The wait before re-send number ``attempt`` (0-based)."""
        return float(min(self.max_delay, self.base_delay * 2**attempt))


class LockedWaits:
    """One run's budget of waits for locked items, shared by the worker threads."""

    def __init__(self, policy: LockedRetryPolicy) -> None:
        self.policy = policy
        self.waited = 0.0
        self.resends = 0
        self._lock = threading.Lock()

    def take(self, attempt: int) -> float | None:
        """The wait before re-send ``attempt``, or None when the item's attempts or the run's
        total wait are used up."""
        if attempt >= self.policy.max_attempts:
            return None
        delay = self.policy.delay(attempt)
        with self._lock:
            if self.waited + delay > self.policy.max_total_wait:
                return None
            self.waited += delay
            self.resends += 1
        return delay
