"""Zoho's API limits: concurrent calls per (user, client_id) and a rolling credit budget.

A request enters the concurrency gate after authentication and leaves it *before* its response
is sent, so a client that sends its next request only after reading a response is never counted
twice. Requests refused with 429 are never counted as in flight and spend no credit.
"""

from __future__ import annotations

from collections import deque

GateKey = tuple[str, str]


class ConcurrencyGate:
    """In-flight CRM calls per (user id, client id), with global current and peak counts."""

    def __init__(self) -> None:
        self.in_flight: dict[GateKey, int] = {}
        self.total = 0
        self.peak = 0

    def try_enter(self, key: GateKey, limit: int | None) -> bool:
        """Count the request in unless ``key`` already has ``limit`` calls in flight."""
        current = self.in_flight.get(key, 0)
        if limit is not None and current >= limit:
            return False
        self.in_flight[key] = current + 1
        self.total += 1
        if self.total > self.peak:
            self.peak = self.total
        return True

    def leave(self, key: GateKey) -> None:
        """Count the request out."""
        current = self.in_flight.get(key, 0) - 1
        if current > 0:
            self.in_flight[key] = current
        else:
            self.in_flight.pop(key, None)
        self.total -= 1


class CreditBudget:
    """Credits spent in a rolling window.

    Spends are grouped in buckets of 1/1000 of the window; a bucket is freed once its *latest*
    spend has left the window, so credits never come back early (at most 0.1% of the window late).
    """

    BUCKETS = 1000

    def __init__(self) -> None:
        self._window = 0.0
        self._width = 0.0
        self._buckets: deque[list[float]] = deque()  # [first spend, latest spend, credits]
        self.used = 0
        self.spent_total = 0

    def _expire(self, now: float, window: float) -> None:
        if window != self._window:
            self._window = window
            self._width = window / self.BUCKETS
            self._buckets.clear()
            self.used = 0
        horizon = now - window
        buckets = self._buckets
        while buckets and buckets[0][1] <= horizon:
            self.used -= int(buckets.popleft()[2])

    def try_spend(self, now: float, limit: int | None, window: float, credits: int = 1) -> bool:
        """Spend credits unless that would exceed ``limit`` in the window (None: always spend)."""
        self._expire(now, window)
        if limit is not None and self.used + credits > limit:
            return False
        buckets = self._buckets
        if buckets and now < buckets[-1][0] + self._width:
            last = buckets[-1]
            last[1] = now
            last[2] += credits
        else:
            buckets.append([now, now, float(credits)])
        self.used += credits
        self.spent_total += credits
        return True

    def in_window(self, now: float, window: float) -> int:
        """Credits spent in the window ending now."""
        self._expire(now, window)
        return self.used
