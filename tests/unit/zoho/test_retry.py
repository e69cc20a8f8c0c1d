"""The retry budget: bounded by attempts and deadline, full jitter, Retry-After honoured and capped."""

from __future__ import annotations

import random

from airflow_provider_zohorel.zoho.retry import RetryBudget, RetryPolicy, parse_retry_after


def test_attempts_bound_the_retries():
    budget = RetryBudget(RetryPolicy(max_attempts=3, base_delay=1, max_delay=100, deadline=1e9))
    assert budget.next_delay() is not None
    assert budget.next_delay() is not None
    assert budget.next_delay() is None


def test_delays_are_full_jitter_below_an_exponential_ceiling():
    policy = RetryPolicy(max_attempts=100, base_delay=0.5, max_delay=8, deadline=1e9)
    rng = random.Random(1)
    for n in range(1, 12):
        ceiling = min(8, 0.5 * 2 ** (n - 1))
        samples = [policy.delay(n, rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # it does spread up to the ceiling


def test_retry_after_is_honoured_but_capped():
    policy = RetryPolicy(max_delay=30)
    assert policy.delay(1, random.Random(), retry_after=7) == 7
    assert policy.delay(1, random.Random(), retry_after=600) == 30


def test_deadline_stops_retries_before_they_would_overrun():
    now = [0.0]
    budget = RetryBudget(
        RetryPolicy(max_attempts=100, base_delay=10, max_delay=10, deadline=15), clock=lambda: now[0]
    )
    budget.rng = random.Random(0)
    now[0] = 14.0
    assert budget.next_delay(retry_after=5) is None
    assert budget.next_delay(retry_after=0.5) == 0.5


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after(None) is None
