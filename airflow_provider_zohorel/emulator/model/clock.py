"""The emulator's notion of time: a monotonic clock that tests can move forward.

Token expiry, the token-mint window and the credit window all read this clock, so a test can
jump an hour ahead (admin ``clock/advance``) instead of sleeping.
"""

from __future__ import annotations

import time


class Clock:
    """Monotonic seconds plus an adjustable offset."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Current emulator time in seconds (monotonic, plus the offset)."""
        return time.monotonic() + self.offset

    def wall(self) -> float:
        """Current emulator wall-clock time for record timestamps: Unix seconds plus the offset,
        in whole seconds as Zoho's ``Modified_Time`` values are."""
        return float(int(time.time() + self.offset))

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds``; returns the total offset."""
        self.offset += seconds
        return self.offset

    def reset(self) -> None:
        """Back to real time."""
        self.offset = 0.0
