"""AIMD limiter: halves on 429, grows back one step per `limit` successes, never above the maximum."""

from __future__ import annotations

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
