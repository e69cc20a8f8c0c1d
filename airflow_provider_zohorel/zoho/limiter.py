"""A concurrency limit that never exceeds what the user set and backs off when Zoho says 429.

Zoho caps concurrent calls per user and client (5 to 25 by edition). The runner's thread pool is
sized to ``max_concurrency``; this limiter gates every HTTP attempt, so the cap holds across
retries. When Zoho answers 429 anyway (the cap is lower than configured, or another client of the
same user is busy), the limit halves; successes grow it back one step at a time (AIMD).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class AdaptiveLimiter:
    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self.peak = 0
        self._successes = 0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while self.in_flight >= self.limit:
                self._cond.wait()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify()

    def throttled(self) -> None:
        with self._cond:
            self.limit = max(1, self.limit // 2)
            self._successes = 0

    def succeeded(self) -> None:
        with self._cond:
            if self.limit >= self.maximum:
                return
            self._successes += 1
            if self._successes >= self.limit:
                self._successes = 0
                self.limit += 1
                self._cond.notify()
