"""Request counters and the event-loop lag probe, for tests and benchmarks to read.

The lag probe sleeps a short interval in a loop and records how late it wakes up: if request
handling ever blocked the event loop, the maximum lag shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any


class Counters:
    """Counts by endpoint and status, plus relation and throttling totals."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every count."""
        self.requests: dict[str, dict[str, int]] = {}
        self.crm_requests = 0
        self.throttled_concurrency = 0
        self.throttled_credits = 0
        self.dropped_connections = 0
        self.items = 0
        self.relations_added = 0
        self.relations_updated = 0
        self.notes_updated = 0
        self.relations_removed = 0
        self.related_reads = 0
        self.held_requests = 0
        self.item_errors: dict[str, int] = {}
        self.loop_lag_max_ms = 0.0
        self.loop_lag_last_ms = 0.0

    def count(self, endpoint: str, status: int | str) -> None:
        """Record one answered (or dropped) request."""
        by_status = self.requests.get(endpoint)
        if by_status is None:
            by_status = self.requests[endpoint] = {}
        key = str(status)
        by_status[key] = by_status.get(key, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready copy."""
        throttled = self.throttled_concurrency + self.throttled_credits
        return {
            "requests": {k: dict(v) for k, v in self.requests.items()},
            "crm_requests": self.crm_requests,
            "too_many_requests": throttled,
            "too_many_requests_concurrency": self.throttled_concurrency,
            "too_many_requests_credits": self.throttled_credits,
            "dropped_connections": self.dropped_connections,
            "items": self.items,
            "relations_added": self.relations_added,
            "relations_updated": self.relations_updated,
            "notes_updated": self.notes_updated,
            "relations_removed": self.relations_removed,
            "related_reads": self.related_reads,
            "held_requests": self.held_requests,
            "item_errors": dict(self.item_errors),
            "loop_lag_max_ms": round(self.loop_lag_max_ms, 3),
            "loop_lag_last_ms": round(self.loop_lag_last_ms, 3),
        }


class LoopLagProbe:
    """Background task measuring asyncio sleep drift into ``Counters.loop_lag_*``."""

    def __init__(self, counters: Callable[[], Counters], interval_s: float = 0.01) -> None:
        self._counters = counters
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start probing on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop probing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        # perf_counter, not loop.time(): uvloop's clock has millisecond resolution. uvloop timers
        # also fire on millisecond ticks, so an idle loop shows up to ~1 ms of "lag".
        interval = self._interval
        clock = time.perf_counter
        while True:
            started = clock()
            await asyncio.sleep(interval)
            lag_ms = max(0.0, (clock() - started - interval) * 1000.0)
            counters = self._counters()
            counters.loop_lag_last_ms = lag_ms
            if lag_ms > counters.loop_lag_max_ms:
                counters.loop_lag_max_ms = lag_ms
