"""Access tokens failing mid-run: expiry, eviction by the 16th token minted for the same refresh
token, revocation of the refresh token, and Zoho Accounts throttling mints ("Access Denied").

Expired and evicted tokens are replaced once (single flight: one mint however many calls saw the
401) and the run completes; a revoked refresh token stops the run at once, with every item
accounted for; a throttled token endpoint is waited out within a budget, then reported.
"""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.emulator import DEMO_CREDENTIALS, DEMO_REFRESH_TOKEN
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from tests.reliability.accounting import assert_accounted
from tests.reliability.rel_support import (
    demo_client,
    execute_operator,
    memberships,
    run_with_client,
    seed_world,
)

pytestmark = pytest.mark.integration

DEMO = DEMO_CREDENTIALS
BULK = "crm.related_records.bulk"


def after_calls(n):
    return lambda counters: counters["crm_requests"] >= n


def test_tokens_expiring_mid_run_are_replaced_by_one_mint(zoho, watch):
    world = seed_world(zoho.admin, campaigns=60, leads=50)  # long enough to outlast the watcher
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(latency_ms=40)
    watcher = watch(after_calls(5), lambda admin: admin.expire_tokens(), hold_after=5)
    outcome = execute_operator(records=records, max_concurrency=3)
    watcher.stop()
    assert watcher.fired_at is not None, "the run ended before the tokens could be expired"
    assert_accounted(records, outcome.summary, zoho.admin, scenario="tokens expired mid-run")
    assert outcome.state == "success"
    counters = zoho.admin.counters()
    assert counters["requests"][BULK]["401"] >= 1
    assert counters["tokens_minted"] == 2  # the first token, and one replacement for every 401


def test_a_token_evicted_by_the_16th_mint_is_replaced(zoho, watch):
    """Someone else mints 15 tokens for the same refresh token: Zoho evicts ours (the oldest)."""
    world = seed_world(zoho.admin, campaigns=60, leads=50)  # long enough to outlast the watcher
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(latency_ms=40, mint_limit=None)  # 17 mints in a minute: no mint throttle

    def mint_fifteen(admin):
        for _ in range(15):
            admin.access_token(DEMO)

    watcher = watch(after_calls(5), mint_fifteen, hold_after=5)
    outcome = execute_operator(records=records, max_concurrency=3)
    watcher.stop()
    assert watcher.fired_at is not None, "the run ended before the token could be evicted"
    assert_accounted(records, outcome.summary, zoho.admin, scenario="token evicted mid-run")
    assert outcome.state == "success"
    counters = zoho.admin.counters()
    assert counters["requests"][BULK]["401"] >= 1
    assert counters["tokens_minted"] == 1 + 15 + 1
    assert counters["live_tokens"] == 15


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_a_refresh_token_revoked_mid_run_stops_at_once(zoho, watch, max_concurrency):
    world = seed_world(zoho.admin, campaigns=30, leads=40)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(latency_ms=20)
    revoked = {}

    def revoke(admin):
        revoked.update(admin.counters()["requests"])
        admin.revoke_refresh_token(DEMO_REFRESH_TOKEN)

    watcher = watch(after_calls(8), revoke, hold_after=8)
    outcome = execute_operator(records=records, max_concurrency=max_concurrency)
    watcher.stop()
    assert watcher.fired_at is not None
    summary = outcome.summary
    assert_accounted(
        records, summary, zoho.admin, scenario=f"refresh token revoked, {max_concurrency} in flight"
    )
    assert outcome.state == "failed, no retry"  # a revoked refresh token needs a person, not a retry
    assert summary["stopped_by"]["code"] == "invalid_code"
    assert set(summary["by_code"]) == {"SUCCESS", "invalid_code"}
    assert summary["succeeded"] >= 8 * 40 - max_concurrency * 40
    counters = zoho.admin.counters()
    # At once: each call in flight saw one 401 and one failed mint; nothing was sent after that.
    assert counters["requests"][BULK]["401"] <= max_concurrency
    mints_after = counters["requests"]["oauth.token"]["200"] - revoked["oauth.token"]["200"]
    assert mints_after <= max_concurrency


def test_a_throttled_token_endpoint_is_waited_out(zoho):
    """Zoho Accounts answers "Access Denied" to three mints, the fourth succeeds: nothing is lost."""
    world = seed_world(zoho.admin, campaigns=5, leads=60)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.set_faults(deny_mints_next=3)
    client = demo_client(zoho.base_url, max_concurrency=3)
    client.minter.throttle_policy = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.01)
    summary = run_with_client(client, records)
    assert_accounted(records, summary, zoho.admin, scenario="token endpoint throttled 3 times")
    assert summary["failed"] == 0
    counters = zoho.admin.counters()
    assert (counters["token_mints_denied"], counters["tokens_minted"]) == (3, 1)


def test_a_token_endpoint_throttled_beyond_the_budget_stops_the_run(zoho):
    """The throttle outlasts the budget: every item is reported TOKEN_THROTTLED, no CRM call is made,
    and the token endpoint is asked a bounded number of times."""
    world = seed_world(zoho.admin, campaigns=6, leads=30)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.set_faults(deny_mints_next=1000)
    client = demo_client(zoho.base_url, max_concurrency=3)
    client.minter.throttle_policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)
    summary = run_with_client(client, records)
    assert_accounted(records, summary, zoho.admin, scenario="token endpoint throttled for good")
    assert summary["by_code"] == {"TOKEN_THROTTLED": 180}
    assert summary["stopped_by"]["code"] == "TOKEN_THROTTLED"
    counters = zoho.admin.counters()
    assert counters["crm_requests"] == 0
    assert counters["token_mints_denied"] <= 3 * 3  # each call already started tries its budget once


def test_tokens_expiring_while_the_token_endpoint_throttles(zoho, watch):
    """Tokens expire mid-run and the replacement mint is denied twice first: the run still completes."""
    world = seed_world(zoho.admin, campaigns=20, leads=50)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(latency_ms=20)

    def expire_and_throttle(admin):
        admin.set_faults(deny_mints_next=2)
        admin.expire_tokens()

    watcher = watch(after_calls(5), expire_and_throttle, hold_after=5)
    client = demo_client(zoho.base_url, max_concurrency=3)
    client.minter.throttle_policy = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.01)
    summary = run_with_client(client, records)
    watcher.stop()
    assert watcher.fired_at is not None
    assert_accounted(records, summary, zoho.admin, scenario="tokens expired, mint throttled")
    assert summary["failed"] == 0
    counters = zoho.admin.counters()
    assert (counters["tokens_minted"], counters["token_mints_denied"]) == (2, 2)


def test_tokens_revoked_every_7th_call_with_10_in_flight_lose_nothing(zoho):
    """Issue 10 point 5 against the emulator: a revoker revokes the live access token each time 7
    more CRM calls have reached the emulator, while the task runs 10 calls at a time. Revoked
    tokens answer INVALID_OAUTHTOKEN; every one had worked, so none is a configuration error: the
    task succeeds and every item is related."""
    import threading

    from airflow_provider_zohorel.emulator import EmulatorAdmin

    world = seed_world(zoho.admin, campaigns=30, leads=100)  # 3,000 items, 30 calls
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(latency_ms=40, mint_limit=None)  # mints are not what is tested here
    stop, revocations = threading.Event(), []

    def revoke_every_7th_call() -> None:
        admin = EmulatorAdmin(zoho.base_url)
        try:
            # The emulator holds every call after the 7th (a test control) until the revocation
            # is done, then the next 7 are let through: a revocation per 7 calls, on any machine.
            threshold = 7
            admin.patch_config(hold_after_requests=threshold)
            while not stop.is_set():
                if admin.counters()["held_requests"]:
                    revocations.append(admin.revoke_access_tokens())
                    threshold += 7
                    admin.patch_config(hold_after_requests=threshold)
                stop.wait(0.005)  # polling the emulator's counters, like the watchers
        finally:
            admin.patch_config(hold_after_requests=None)
            admin.close()

    revoker = threading.Thread(target=revoke_every_7th_call, daemon=True)
    revoker.start()
    try:
        outcome = execute_operator(records=records, max_concurrency=10)
    finally:
        stop.set()
        revoker.join(timeout=30)
    assert_accounted(records, outcome.summary, zoho.admin, scenario="token revoked every 7th call")
    assert outcome.state == "success", (outcome.error, outcome.summary.get("stopped_by"))
    assert outcome.summary["failed"] == 0
    assert len(revocations) >= 2, "the run ended before tokens could be revoked twice"
    counters = zoho.admin.counters()
    assert counters["requests"][BULK]["401"] >= 1
    assert counters["tokens_minted"] <= 1 + len(revocations)  # one mint per revoked token at most
