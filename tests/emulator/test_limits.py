"""Concurrency cap and credit budget: 429 TOO_MANY_REQUESTS, optional headers, and exact
in-flight accounting (counts only; no timing assertions)."""

from __future__ import annotations

import threading
import time

import requests

TOO_MANY = {
    "code": "TOO_MANY_REQUESTS",
    "details": {},
    "message": "Number of API requests for the 24 hour period is exceeded or the concurrency limit of "
    "the user for the app is exceeded",
    "status": "error",
}


def _fire_held(emu, requests_: list[tuple[str, str, dict]], admitted: int) -> list[requests.Response]:
    """Send every ``(url, token, body)`` PUT from a thread of its own while the emulator holds every
    admitted call (``hold_after_requests=0``, a test control). Once ``admitted`` calls are held
    and every other one has been answered, the hold is released: the calls overlap by
    construction, whatever the machine's speed. Returns the responses in request order."""
    emu.admin.patch_config(hold_after_requests=0)
    responses: list[requests.Response | None] = [None] * len(requests_)

    def worker(i: int, url: str, token: str, body: dict) -> None:
        responses[i] = requests.put(
            url, json=body, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=60
        )

    threads = [threading.Thread(target=worker, args=(i, *r)) for i, r in enumerate(requests_)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    try:
        while not (
            emu.admin.counters()["held_requests"] == admitted
            and sum(r is not None for r in responses) == len(requests_) - admitted
        ):
            assert time.monotonic() < deadline, (emu.admin.counters(), responses)
            time.sleep(0.01)  # polling the emulator's counters, with a deadline
        assert emu.admin.counters()["in_flight"] == admitted
    finally:
        emu.admin.patch_config(hold_after_requests=None)
        for t in threads:
            t.join()
    assert all(r is not None for r in responses)
    return responses  # type: ignore[return-value]


def test_concurrency_cap_refuses_the_excess(emu, crm, world):
    emu.admin.patch_config(concurrency_limit=2)
    url = f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    responses = _fire_held(emu, [(url, crm.token, {"data": [{"id": world.campaigns[0]}]})] * 5, admitted=2)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429, 429]
    assert [r.json() for r in responses if r.status_code == 429] == [TOO_MANY] * 3
    assert all("retry-after" not in r.headers for r in responses)
    counters = emu.admin.counters()
    assert counters["too_many_requests_concurrency"] == 3
    assert counters["peak_in_flight"] == 2
    assert counters["in_flight"] == 0


def test_cap_is_per_user_and_client(emu, crm, world):
    """Two users' calls are in flight together under a cap of 1 each: both held at once, both 200."""
    emu.admin.patch_config(concurrency_limit=1)
    other = emu.admin.create_credentials()
    other_token = emu.admin.access_token(other)
    url = f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    responses = _fire_held(emu, [(url, crm.token, body), (url, other_token, body)], admitted=2)
    assert [r.status_code for r in responses] == [200, 200]
    assert emu.admin.counters()["peak_in_flight"] == 2


def test_sequential_requests_are_never_counted_twice(emu, crm, world):
    # The in-flight count drops before a response is sent, so a client that waits for each
    # answer can never exceed a cap of 1.
    emu.admin.patch_config(concurrency_limit=1)
    path = f"Leads/{world.leads[0]}/Campaigns"
    statuses = {crm.put(path, {"data": [{"id": world.campaigns[0]}]}).status_code for _ in range(50)}
    assert statuses == {200}


def test_retry_after_header_when_enabled(emu, crm, world):
    emu.admin.patch_config(concurrency_limit=1, retry_after_s=2)
    url = f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    responses = _fire_held(emu, [(url, crm.token, {"data": [{"id": world.campaigns[0]}]})] * 3, admitted=1)
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
