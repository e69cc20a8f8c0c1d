"""429 storms: a concurrency cap below ``max_concurrency``, and API credits running out mid-run.

A cap that bites is absorbed (the client halves its concurrency and retries); exhausted credits
stop the run: it stops calling, reports every unsent item as failed with TOO_MANY_REQUESTS, and
does not spin (the emulator saw a bounded number of requests).
"""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.retry import RetryPolicy
from tests.reliability.accounting import assert_accounted
from tests.reliability.rel_support import execute_operator, memberships, seed_world

pytestmark = pytest.mark.integration


def test_a_concurrency_cap_below_max_concurrency_is_absorbed(zoho):
    """Zoho allows 3 calls at once, the operator is told 10: 429s happen, nothing is lost."""
    world = seed_world(zoho.admin, campaigns=6, leads=450)
    records = memberships(world.campaigns, world.leads)  # 6 x 5 = 30 batches
    zoho.admin.patch_config(concurrency_limit=3, latency_ms=60)
    retry = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.3, deadline=60)
    outcome = execute_operator(records=records, max_concurrency=10, request_retry=retry)
    assert_accounted(records, outcome.summary, zoho.admin, scenario="concurrency cap 3 < max_concurrency 10")
    assert outcome.state == "success"
    counters = zoho.admin.counters()
    assert counters["too_many_requests_concurrency"] > 0  # the cap did bite
    assert counters["peak_in_flight"] <= 3
    assert counters["crm_requests"] <= 30 * 10  # bounded by batches x attempts


@pytest.mark.parametrize("max_concurrency", [1, 4])
def test_exhausted_credits_stop_the_run_and_report_every_unsent_item(zoho, max_concurrency):
    """12 credits for 30 calls: 12 batches land, the rest is reported TOO_MANY_REQUESTS, and the run
    stops calling instead of retrying every remaining batch against an empty budget."""
    world = seed_world(zoho.admin, campaigns=30, leads=40)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(credit_limit=12)
    attempts = 3
    retry = RetryPolicy(max_attempts=attempts, base_delay=0.001, max_delay=0.01)
    outcome = execute_operator(records=records, max_concurrency=max_concurrency, request_retry=retry)
    summary = outcome.summary
    assert_accounted(records, summary, zoho.admin, scenario=f"credits exhausted, {max_concurrency} in flight")
    assert summary["by_code"] == {"SUCCESS": 12 * 40, "TOO_MANY_REQUESTS": 18 * 40}
    assert summary["stopped_by"]["code"] == "TOO_MANY_REQUESTS"
    assert summary["batches_not_sent"] >= 18 - max_concurrency
    assert outcome.state == "failed, retryable"  # credits come back: an Airflow retry may resume
    counters = zoho.admin.counters()
    # Not spinning: once credits ran out, only the calls already in flight used up their attempts.
    assert counters["too_many_requests_credits"] <= max_concurrency * attempts
    assert counters["crm_requests"] <= 12 + max_concurrency * attempts
