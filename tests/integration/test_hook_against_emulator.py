"""ZohoCRMHook against the real emulator over HTTP: tokens that die, accounts errors, throttling,
429 storms, 5xx bursts, dropped connections, slow answers, configuration errors, per-item results,
big ids and the single-record PUT.

Each test checks what Zoho (the emulator) saw through its admin counters, not only what the
client reports about itself.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_USER_ID,
    ZohoEmulator,
)
from airflow_provider_zohorel.emulator import errors as emulator_errors
from airflow_provider_zohorel.zoho.errors import RESOLUTIONS, ZohoAuthError, ZohoConfigurationError
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from tests.integration.zoho_integration import (
    CAMPAIGNS,
    LEADS,
    NOTE_PARENT_LEAD,
    NOTES,
    UNKNOWN_LEAD,
    crm_requests,
    make_hook,
    token_requests,
    total_crm_requests,
)

pytestmark = pytest.mark.integration

TINY_THROTTLE = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, deadline=10)


def relate(hook: Any, leads: list[str], campaign: str = CAMPAIGNS[0], **fields: Any) -> list[ItemResult]:
    return hook.update_related_records("Campaigns", campaign, "Leads", [{"id": x, **fields} for x in leads])


def held(zoho: ZohoEmulator, campaign: str = CAMPAIGNS[0]) -> list[str]:
    """Lead ids related to a campaign, once per stored link (duplicates would show)."""
    return sorted(
        row.second_id for row in zoho.admin.export_relations("Campaigns-Leads") if row.first_id == campaign
    )


def bulk(zoho: ZohoEmulator) -> dict[str, int]:
    return crm_requests(zoho).get("crm.related_records.bulk", {})


def mint_directly(zoho: ZohoEmulator) -> str:
    """One more access token for the demo refresh token, minted the way any other client would."""
    response = requests.post(
        f"{zoho.base_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN,
        },
        timeout=10,
    )
    return str(response.json()["access_token"])


# -- tokens that stop working ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["expire_tokens", "advance_clock"])
def test_a_token_expiring_between_two_calls_is_refreshed_once(zoho, how):
    hook = make_hook()
    assert [r.code for r in relate(hook, LEADS[:2])] == ["SUCCESS"] * 2
    if how == "expire_tokens":
        assert zoho.admin.expire_tokens() == 1
    else:
        zoho.admin.advance_clock(3601)  # past the emulator's 3600 s token lifetime
    results = relate(hook, LEADS[2:4])
    assert [(r.code, r.action) for r in results] == [("SUCCESS", "added")] * 2
    counters = zoho.admin.counters()
    assert counters["tokens_minted"] == 2
    assert bulk(zoho) == {"200": 2, "401": 1}  # the dead token was tried once, then replaced
    assert hook.client.stats.token_refreshes == 1
    assert held(zoho) == sorted(LEADS[:4])


def test_a_token_evicted_by_the_sixteenth_mint_is_replaced(zoho):
    zoho.admin.patch_config(mint_limit=None)  # the live-token cap, not the mint throttle, is tested
    hook = make_hook()
    relate(hook, LEADS[:1])
    first = hook.get_access_token()
    for _ in range(15):  # 15 more live tokens for the same refresh token: the oldest (ours) dies
        mint_directly(zoho)
    gone = requests.get(
        f"{zoho.base_url}/crm/v8/users",
        headers={"Authorization": f"Zoho-oauthtoken {first}"},
        params={"type": "CurrentUser"},
        timeout=10,
    )
    # v8 token-validity page: an evicted token answers INVALID_OAUTHTOKEN.
    assert (gone.status_code, gone.json()["code"]) == (401, "INVALID_OAUTHTOKEN")
    [result] = relate(hook, LEADS[1:2])
    assert result.code == "SUCCESS"
    assert hook.get_access_token() != first
    assert zoho.admin.counters()["tokens_minted"] == 17
    assert hook.client.stats.token_refreshes == 1


def test_a_revoked_refresh_token_fails_clearly_without_a_retry_storm(zoho):
    hook = make_hook()
    relate(hook, LEADS[:1])
    assert zoho.admin.revoke_refresh_token(DEMO_REFRESH_TOKEN)
    with pytest.raises(ZohoAuthError) as err:
        relate(hook, LEADS[1:2])
    assert err.value.code == "invalid_code"
    assert "revoked" in str(err.value)
    assert DEMO_REFRESH_TOKEN not in str(err.value)
    assert token_requests(zoho) == 2  # the first mint, then exactly one refused attempt
    assert bulk(zoho) == {"200": 1, "401": 1}
    ok, message = make_hook().test_connection()
    assert not ok
    assert "revoked" in message
    assert token_requests(zoho) == 3


def test_a_client_unknown_to_the_accounts_server_hints_at_another_data_centre(zoho, set_conn):
    set_conn("zoho_elsewhere", zoho.base_url, login="1000.REGISTEREDINANOTHERDATACENTRE0")
    with pytest.raises(ZohoAuthError) as err:
        make_hook("zoho_elsewhere").get_access_token()
    assert err.value.code == "invalid_client"
    assert "another data centre" in str(err.value)
    assert zoho.base_url in str(err.value)  # which accounts server said so
    assert token_requests(zoho) == 1


def test_a_wrong_secret_is_reported_even_when_a_good_token_is_cached(zoho, set_conn):
    """The right secret's token sits in the shared cache; a wrong secret must not borrow it."""
    make_hook().get_access_token()
    set_conn("zoho_wrong_secret", zoho.base_url, password="not-the-secret-4711")
    hook = make_hook("zoho_wrong_secret")
    with pytest.raises(ZohoAuthError) as err:
        hook.get_access_token()
    assert err.value.code == "invalid_client_secret"
    assert "not-the-secret-4711" not in str(err.value)
    ok, message = make_hook("zoho_wrong_secret").test_connection()
    assert not ok
    assert "invalid_client_secret" in message
    assert token_requests(zoho) == 3
    assert zoho.admin.counters()["tokens_minted"] == 1


def test_a_throttled_token_endpoint_is_waited_out(zoho):
    zoho.admin.set_faults(deny_mints_next=2)
    hook = make_hook()
    hook.client.minter.throttle_policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
    assert hook.get_access_token()
    counters = zoho.admin.counters()
    assert (counters["token_mints_denied"], counters["tokens_minted"]) == (2, 1)
    assert token_requests(zoho) == 3
    assert [r.code for r in relate(hook, LEADS[:1])] == ["SUCCESS"]


def test_a_persistent_mint_throttle_ends_in_a_clear_error(zoho):
    zoho.admin.set_faults(deny_mints_next=50)
    hook = make_hook()
    hook.client.minter.throttle_policy = TINY_THROTTLE
    with pytest.raises(ZohoAuthError) as err:
        relate(hook, LEADS[:1])
    assert err.value.code == "TOKEN_THROTTLED"
    assert "share tokens" in str(err.value)
    assert token_requests(zoho) == TINY_THROTTLE.max_attempts
    assert total_crm_requests(zoho) == 0


# -- limits and transient failures --------------------------------------------------------------


def test_a_429_storm_is_absorbed_by_the_adaptive_limit(zoho):
    cap, calls = 2, 16
    zoho.admin.patch_config(concurrency_limit=cap, latency_ms=40)
    hook = make_hook(
        max_concurrency=8,
        retry=RetryPolicy(max_attempts=20, base_delay=0.02, max_delay=0.1, deadline=60),
    )
    limiter = hook.client.limiter
    limits: list[int] = []
    real_throttled = limiter.throttled
    lock = threading.Lock()

    def throttled() -> None:
        real_throttled()
        with lock:
            limits.append(limiter.limit)

    limiter.throttled = throttled  # type: ignore[method-assign]
    hook.get_access_token()
    with ThreadPoolExecutor(calls) as pool:
        results = [r for batch in pool.map(lambda lead: relate(hook, [lead]), LEADS[:calls]) for r in batch]
    assert [r.code for r in results] == ["SUCCESS"] * calls
    assert held(zoho) == sorted(LEADS[:calls])
    counters = zoho.admin.counters()
    assert counters["too_many_requests"] > 0
    assert hook.client.stats.throttled == counters["too_many_requests"]  # each 429 was seen and acted on
    assert counters["peak_in_flight"] <= cap
    assert min(limits) <= cap < hook.settings.max_concurrency  # the limiter came down to the real cap
    assert bulk(zoho) == {"200": calls, "429": counters["too_many_requests"]}


def test_a_burst_of_500s_is_retried_until_success(zoho):
    zoho.admin.set_faults(error_500_next=2)
    hook = make_hook()
    results = relate(hook, LEADS[:3])
    assert [(r.code, r.action) for r in results] == [("SUCCESS", "added")] * 3
    assert bulk(zoho) == {"500": 2, "200": 1}
    assert hook.client.stats.server_errors == 2
    assert held(zoho) == sorted(LEADS[:3])


def test_500s_outlasting_the_retry_budget_fail_every_item(zoho):
    zoho.admin.set_faults(error_500_next=3)
    results = relate(make_hook(), LEADS[:3])
    assert [(r.code, r.http_status) for r in results] == [("INTERNAL_ERROR", 500)] * 3
    assert bulk(zoho) == {"500": 3}
    assert held(zoho) == []


def test_a_connection_dropped_before_apply_is_retried(zoho):
    zoho.admin.set_faults(drop_before_next=1)
    results = relate(make_hook(), LEADS[:2])
    assert [(r.code, r.message) for r in results] == [("SUCCESS", "relation added")] * 2
    assert bulk(zoho) == {"dropped": 1, "200": 1}
    assert held(zoho) == sorted(LEADS[:2])


def test_a_response_lost_after_apply_is_retried_and_reported_as_updated(zoho):
    zoho.admin.set_faults(drop_after_next=1)
    results = relate(make_hook(), LEADS[:2], Member_Status="Sent")
    assert [(r.code, r.message, r.action) for r in results] == [
        ("SUCCESS", "relation updated", "updated")
    ] * 2
    assert bulk(zoho) == {"dropped": 1, "200": 1}
    assert held(zoho) == sorted(LEADS[:2])  # exactly once each
    assert {r["fields"]["Member_Status"] for r in zoho.admin.relations_of(CAMPAIGNS[0], "Leads")} == {"Sent"}


def test_an_answer_slower_than_the_read_timeout_is_retried(zoho):
    zoho.admin.set_faults(slow_next=1, slow_ms=3000)
    hook = make_hook(read_timeout=0.5)
    results = relate(hook, LEADS[:2])
    assert [r.code for r in results] == ["SUCCESS"] * 2
    # The slow answer timed out; on a loaded machine another attempt may too (a bound, not a count).
    assert hook.client.stats.network_errors >= 1
    assert zoho.admin.counters()["faults_injected"] == {"slow": 1}
    assert held(zoho) == sorted(LEADS[:2])


def test_a_server_that_never_answers_in_time_fails_items_with_timeout(zoho):
    zoho.admin.set_faults(slow_next=3, slow_ms=3000, slow_apply=False)
    hook = make_hook(read_timeout=0.3)
    results = relate(hook, LEADS[:2])
    assert [(r.code, r.status) for r in results] == [("TIMEOUT", "error")] * 2
    assert hook.client.stats.network_errors >= 3  # each slow answer timed out
    assert zoho.admin.counters()["faults_injected"] == {"slow": 3}


# -- configuration errors: stop at once, quoting Zoho ---------------------------------------------


def _deny_module(zoho: ZohoEmulator, set_conn: Any) -> tuple[str, Any]:
    zoho.admin.set_permissions(DEMO_USER_ID, modules_denied=["Campaigns"])
    return "zoho_crm_default", lambda hook: relate(hook, LEADS[:1])


def _narrow_scope(zoho: ZohoEmulator, set_conn: Any) -> tuple[str, Any]:
    creds = zoho.admin.create_credentials(scopes=("ZohoCRM.modules.leads.ALL",))
    conn_id = set_conn(
        "zoho_leads_only",
        zoho.base_url,
        login=creds.client_id,
        password=creds.client_secret,
        refresh_token=creds.refresh_token,
    )
    return conn_id, lambda hook: relate(hook, LEADS[:1])


def _no_permission(zoho: ZohoEmulator, set_conn: Any) -> tuple[str, Any]:
    zoho.admin.set_permissions(DEMO_USER_ID, update_related=False)
    return "zoho_crm_default", lambda hook: relate(hook, LEADS[:1])


def _no_privilege(zoho: ZohoEmulator, set_conn: Any) -> tuple[str, Any]:
    zoho.admin.set_permissions(DEMO_USER_ID, related_privilege=False)
    return "zoho_crm_default", lambda hook: relate(hook, LEADS[:1])


def _bad_path(zoho: ZohoEmulator, set_conn: Any) -> tuple[str, Any]:
    path = f"/Campaigns/{CAMPAIGNS[0]}/Leads/{LEADS[0]}/Extra"
    return "zoho_crm_default", lambda hook: hook.client.request("PUT", path, json={"data": [{}]})


def _post(zoho: ZohoEmulator, set_conn: Any) -> tuple[str, Any]:
    path = f"/Campaigns/{CAMPAIGNS[0]}/Leads"
    return "zoho_crm_default", lambda hook: hook.client.request(
        "POST", path, json={"data": [{"id": LEADS[0]}]}
    )


@pytest.mark.parametrize(
    ("code", "message", "setup"),
    [
        ("INVALID_MODULE", emulator_errors.MSG_INVALID_MODULE, _deny_module),
        ("OAUTH_SCOPE_MISMATCH", emulator_errors.MSG_SCOPE_MISMATCH, _narrow_scope),
        # v8 wording: the spec's updateRelatedRecords 403 example says "read related records".
        ("NO_PERMISSION", emulator_errors.MSG_NO_PERMISSION_READ, _no_permission),
        ("AUTHORIZATION_FAILED", emulator_errors.MSG_AUTHORIZATION_FAILED, _no_privilege),
        ("INVALID_URL_PATTERN", emulator_errors.MSG_INVALID_URL_PATTERN, _bad_path),
        ("INVALID_REQUEST_METHOD", emulator_errors.MSG_INVALID_METHOD, _post),
    ],
)
def test_a_configuration_error_stops_after_one_request_quoting_zoho(zoho, set_conn, code, message, setup):
    conn_id, call = setup(zoho, set_conn)
    hook = make_hook(conn_id)
    with pytest.raises(ZohoConfigurationError) as err:
        call(hook)
    exc = err.value
    assert (exc.code, exc.zoho_message) == (code, message)
    assert exc.resolution == RESOLUTIONS[code]
    assert message in str(exc)
    assert exc.resolution in str(exc)
    assert total_crm_requests(zoho) == 1
    assert hook.client.stats.calls == 1
    assert held(zoho) == []


# -- per-item results, ids, single PUT -------------------------------------------------------------


def _classified(results: list[ItemResult]) -> list[tuple[Any, ...]]:
    """What the client concludes per item. Zoho words failures differently in v8 (the spec's
    ``{"api_name": "id", "json_path": ...}`` details), so messages and details are not compared."""
    return [(r.related_id, r.code, r.status, r.action) for r in results]


@pytest.mark.parametrize(
    ("batch", "v2_status", "v8_status"),
    [
        ([LEADS[0], LEADS[1]], 200, 200),
        ([LEADS[0], UNKNOWN_LEAD, LEADS[1], LEADS[2]], 202, 207),
        ([UNKNOWN_LEAD, LEADS[2]], 202, 400),
    ],
    ids=["all-succeed", "mixed", "all-fail"],
)
def test_per_item_results_are_classified_alike_under_v2_and_v8(zoho, set_conn, batch, v2_status, v8_status):
    zoho.admin.set_faults(failing_ids=[LEADS[2]])  # an existing lead Zoho refuses, per item
    outcomes = {}
    for version, campaign in (("v2", CAMPAIGNS[0]), ("v8", CAMPAIGNS[1])):
        conn_id = set_conn(f"zoho_{version}", zoho.base_url, api_version=version)
        results = relate(make_hook(conn_id), batch, campaign=campaign, Member_Status="Active")
        outcomes[version] = results
    assert {r.http_status for r in outcomes["v2"]} == {v2_status}
    assert {r.http_status for r in outcomes["v8"]} == {v8_status}
    assert _classified(outcomes["v2"]) == _classified(outcomes["v8"])
    expected = [
        ("SUCCESS", "added") if lead in (LEADS[0], LEADS[1]) else ("INVALID_DATA", None) for lead in batch
    ]
    assert [(r.code, r.action) for r in outcomes["v8"]] == expected
    assert [r.related_id for r in outcomes["v8"]] == batch
    for campaign in CAMPAIGNS[:2]:
        assert held(zoho, campaign) == sorted(x for x in batch if x in (LEADS[0], LEADS[1]))


def test_ids_beyond_2_pow_53_relate_exactly_as_int_or_str(zoho):
    campaign = 2**53 + 5  # a float would make this ...000
    leads = [2**53 + 1, str(2**63 - 1), int(LEADS[3])]
    zoho.admin.add_records("Campaigns", ids=[str(campaign)])
    zoho.admin.add_records("Leads", ids=[str(leads[0]), leads[1]])
    results = make_hook().update_related_records("Campaigns", campaign, "Leads", [{"id": x} for x in leads])
    assert [(r.related_id, r.code) for r in results] == [(str(x), "SUCCESS") for x in leads]
    stored = sorted(r["id"] for r in zoho.admin.relations_of(str(campaign), "Leads"))
    assert stored == sorted(str(x) for x in leads)
    assert str(int(float(leads[0]))) not in stored  # what a float round-trip would have sent


def test_update_related_record_is_one_put_to_the_record_url(zoho):
    hook = make_hook()
    result = hook.update_related_record(
        "Campaigns", CAMPAIGNS[0], "Leads", LEADS[5], {"Member_Status": "Sent"}
    )
    assert (result.related_id, result.code, result.action) == (LEADS[5], "SUCCESS", "added")
    assert crm_requests(zoho) == {"crm.related_records.single": {"200": 1}}
    [link] = zoho.admin.relations_of(CAMPAIGNS[0], "Leads")
    assert (link["id"], link["fields"]) == (LEADS[5], {"Member_Status": "Sent"})


def test_update_related_record_renames_a_note_of_a_lead(zoho):
    hook = make_hook()
    result = hook.update_related_record(
        "Leads", NOTE_PARENT_LEAD, "Notes", NOTES[1], {"Note_Title": "Called back"}
    )
    assert (result.related_id, result.code, result.message, result.action) == (
        NOTES[1],
        "SUCCESS",
        "record updated",
        "updated",
    )
    assert crm_requests(zoho) == {"crm.related_records.single": {"200": 1}}
    titles = {n["id"]: n["Note_Title"] for n in zoho.admin.list_notes(NOTE_PARENT_LEAD)}
    assert titles[NOTES[1]] == "Called back"
    assert {titles[n] for n in NOTES if n != NOTES[1]} == {"Demo note"}


def test_test_connection_without_the_users_read_scope_passes_and_says_why(zoho, set_conn):
    """A client granted only ZohoCRM.modules.ALL (all related-records calls need): GET /users is
    refused OAUTH_SCOPE_MISMATCH, and the test still passes, naming the missing scope."""
    creds = zoho.admin.create_credentials(scopes=("ZohoCRM.modules.ALL",))
    conn_id = set_conn(
        "zoho_no_users_read",
        zoho.base_url,
        login=creds.client_id,
        password=creds.client_secret,
        refresh_token=creds.refresh_token,
    )
    ok, message = make_hook(conn_id).test_connection()
    assert ok is True
    assert message == (
        f"Access token minted for {zoho.base_url} (API v8). The token has no ZohoCRM.users.READ scope, "
        "so the user could not be shown; related-records calls need only ZohoCRM.modules scopes."
    )
    assert zoho.admin.counters()["requests"]["crm.users"] == {"401": 1}
    assert creds.client_secret not in message
