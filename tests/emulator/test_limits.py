"""Concurrency cap and credit budget: 429 TOO_MANY_REQUESTS, optional headers, and exact
in-flight accounting (counts only; no timing assertions)."""

from __future__ import annotations

import threading

import requests

TOO_MANY = {
    "code": "TOO_MANY_REQUESTS",
    "details": {},
    "message": "Number of API requests for the 24 hour period is exceeded or the concurrency limit of "
    "the user for the app is exceeded",
    "status": "error",
}


def _fire_together(url, token, body, n):
    """Send n PUTs from n threads released by one barrier; returns their responses."""
    barrier = threading.Barrier(n)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        response = requests.put(
            url, json=body, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=30
        )
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def test_concurrency_cap_refuses_the_excess(emu, crm, world):
    emu.admin.patch_config(latency_ms=300, concurrency_limit=2)
    url = f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    responses = _fire_together(url, crm.token, {"data": [{"id": world.campaigns[0]}]}, 5)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429, 429]
    assert [r.json() for r in responses if r.status_code == 429] == [TOO_MANY] * 3
    assert all("retry-after" not in r.headers for r in responses)
    counters = emu.admin.counters()
    assert counters["too_many_requests_concurrency"] == 3
    assert counters["peak_in_flight"] == 2
    assert counters["in_flight"] == 0


def test_cap_is_per_user_and_client(emu, crm, world):
    emu.admin.patch_config(latency_ms=300, concurrency_limit=1)
    other = emu.admin.create_credentials()
    other_token = emu.admin.access_token(other)
    url = f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def worker(name, token):
        barrier.wait()
        results[name] = requests.put(
            url, json=body, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=30
        ).status_code

    threads = [threading.Thread(target=worker, args=a) for a in (("a", crm.token), ("b", other_token))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": 200, "b": 200}


def test_sequential_requests_are_never_counted_twice(emu, crm, world):
    # The in-flight count drops before a response is sent, so a client that waits for each
    # answer can never exceed a cap of 1.
    emu.admin.patch_config(concurrency_limit=1)
    path = f"Leads/{world.leads[0]}/Campaigns"
    statuses = {crm.put(path, {"data": [{"id": world.campaigns[0]}]}).status_code for _ in range(50)}
    assert statuses == {200}


def test_retry_after_header_when_enabled(emu, crm, world):
    emu.admin.patch_config(latency_ms=300, concurrency_limit=1, retry_after_s=2)
    url = f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    responses = _fire_together(url, crm.token, {"data": [{"id": world.campaigns[0]}]}, 3)
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) == 2
    assert {r.headers["retry-after"] for r in refused} == {"2"}


def test_credit_budget_and_remaining_header(emu, creds, crm, world):
    emu.admin.patch_config(credit_limit=4)
    path = f"Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    responses = [crm.put(path, body) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert responses[4].json() == TOO_MANY
    # The header appears once half of the budget is used.
    assert [r.headers.get("x-api-credits-remaining") for r in responses[:4]] == [None, "2", "1", "0"]
    counters = emu.admin.counters()
    assert counters["credits_in_window"] == 4
    assert counters["too_many_requests_credits"] == 1
    # Credits come back when the rolling window has passed.
    emu.admin.advance_clock(86_401)
    assert crm.put(path, body, token=emu.admin.access_token(creds)).status_code == 200


def test_users_endpoint_also_costs_a_credit(emu, crm):
    emu.admin.patch_config(credit_limit=1)
    assert crm.call("GET", "users?type=CurrentUser").status_code == 200
    assert crm.call("GET", "org").status_code == 429
