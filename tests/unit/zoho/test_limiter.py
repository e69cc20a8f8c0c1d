"""AIMD limiter: halves on 429, grows back one step per `limit` successes, never above the maximum."""

from __future__ import annotations

import threading
import time

from airflow_provider_zohorel.zoho.limiter import AdaptiveLimiter


def test_limit_halves_on_throttle_and_recovers_up_to_the_maximum():
    limiter = AdaptiveLimiter(10)
    limiter.throttled()
    assert limiter.limit == 5
    limiter.throttled()
    limiter.throttled()
    limiter.throttled()
    assert limiter.limit == 1
    for _ in range(200):
        limiter.succeeded()
    assert limiter.limit == 10


def test_slot_tracks_in_flight_and_peak():
    limiter = AdaptiveLimiter(3)
    with limiter.slot(), limiter.slot():
        assert limiter.in_flight == 2
    assert limiter.in_flight == 0
    assert limiter.peak == 2


def test_a_slot_over_the_limit_waits_until_one_is_freed():
    """With the limit at 1 and a slot taken, a second caller waits (it is seen waiting on the
    limiter's condition, not inferred from time) and enters only when the first slot is freed."""
    limiter = AdaptiveLimiter(4)
    limiter.throttled()
    limiter.throttled()
    assert limiter.limit == 1
    entered = threading.Event()

    def second() -> None:
        with limiter.slot():
            entered.set()

    with limiter.slot():
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 20
        # Either outcome is observable without timing: waiting on the condition, or inside.
        while not (entered.is_set() or limiter._cond._waiters):  # type: ignore[attr-defined]
            assert time.monotonic() < deadline
            time.sleep(0.001)
        assert not entered.is_set(), "a second slot was granted over a limit of 1"
        assert limiter.in_flight == 1
    thread.join(timeout=20)
    assert entered.is_set()
    assert limiter.peak == 1
