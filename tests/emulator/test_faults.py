"""Fault knobs: injected 500s, dropped connections before/after applying, seeded random chaos,
slow answers beyond a client timeout, token expiry/revocation now, failing ids, denied mints."""

from __future__ import annotations

import pytest
import requests


def _relate(crm, world, index=0, **kwargs):
    return crm.put(f"Leads/{world.leads[0]}/Campaigns", {"data": [{"id": world.campaigns[index]}]}, **kwargs)


def test_error_500_next_n(emu, crm, world):
    emu.admin.set_faults(error_500_next=2)
    statuses = [_relate(crm, world).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert emu.admin.counters()["faults_injected"] == {"error_500": 2}


def test_drop_before_apply_leaves_nothing(emu, crm, world):
    emu.admin.set_faults(drop_before_next=1)
    with pytest.raises(requests.ConnectionError):
        _relate(crm, world)
    assert emu.admin.relations_of(world.leads[0]) == []
    assert _relate(crm, world).json()["data"][0]["message"] == "relation added"


def test_drop_after_apply_is_a_lost_response(emu, crm, world):
    emu.admin.set_faults(drop_after_next=1)
    with pytest.raises(requests.ConnectionError):
        _relate(crm, world)
    assert [r["id"] for r in emu.admin.relations_of(world.leads[0])] == [world.campaigns[0]]
    # The retry finds the link already there.
    assert _relate(crm, world).json()["data"][0]["message"] == "relation updated"
    counters = emu.admin.counters()
    assert counters["dropped_connections"] == 1
    assert counters["requests"]["crm.related_records.bulk"] == {"dropped": 1, "200": 1}


def _outcomes(crm, world, n):
    outcomes = []
    for _ in range(n):
        try:
            outcomes.append(_relate(crm, world).status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")
    return outcomes


def test_random_faults_replay_with_the_same_seed(emu, crm, world):
    plan = {"probability": 0.5, "seed": 1234, "kinds": ["error_500", "drop_before", "drop_after"]}
    emu.admin.set_faults(random=plan)
    first = _outcomes(crm, world, 30)
    emu.admin.set_faults(random=plan)
    second = _outcomes(crm, world, 30)
    assert first == second
    assert {200, 500, "dropped"} <= set(first)
    emu.admin.clear_faults()
    assert set(_outcomes(crm, world, 5)) == {200}


def test_slow_answer_applied_beyond_client_timeout(emu, crm, world):
    emu.admin.set_faults(slow_next=1, slow_ms=3000, slow_apply=True)
    with pytest.raises(requests.Timeout):
        _relate(crm, world, timeout=0.3)
    assert [r["id"] for r in emu.admin.relations_of(world.leads[0])] == [world.campaigns[0]]


def test_slow_answer_not_applied(emu, crm, world):
    emu.admin.set_faults(slow_next=1, slow_ms=3000, slow_apply=False)
    with pytest.raises(requests.Timeout):
        _relate(crm, world, timeout=0.3)
    assert emu.admin.relations_of(world.leads[0]) == []


def test_expire_tokens_now(emu, crm, world):
    assert _relate(crm, world).status_code == 200
    assert emu.admin.expire_tokens() == 1
    response = _relate(crm, world)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


def test_revoke_refresh_token_now(emu, creds, crm, oauth, world):
    assert emu.admin.revoke_refresh_token(creds.refresh_token) is True
    assert _relate(crm, world).status_code == 401
    assert oauth.refresh(creds) == {"error": "invalid_code"}


def test_failing_related_ids(emu, crm, world):
    emu.admin.set_faults(failing_ids=[world.campaigns[1]])
    body = {"data": [{"id": world.campaigns[0]}, {"id": world.campaigns[1]}]}
    response = crm.put(f"Leads/{world.leads[0]}/Campaigns", body, version="v8")
    assert response.status_code == 207
    assert response.json()["data"][1] == {
        "code": "INVALID_DATA",
        "details": {"api_name": "id", "json_path": "$.data[1].id"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }


def test_deny_next_mints(emu, creds, oauth):
    emu.admin.set_faults(deny_mints_next=2)
    assert oauth.refresh(creds)["error"] == "Access Denied"
    assert oauth.refresh(creds)["error"] == "Access Denied"
    assert "access_token" in oauth.refresh(creds)


def test_latency_and_jitter_settings_are_accepted_at_run_time(emu, crm, world):
    # Only acceptance is tested here (the name says so): their effect on time is a timing matter,
    # measured in bench/, and the suite makes no timing assertions.
    assert emu.admin.patch_config(latency_ms=5, jitter_ms=5)["latency_ms"] == 5
    assert _relate(crm, world).status_code == 200


def test_faults_can_come_with_a_seed(emu, crm, world):
    emu.admin.load_seed({"faults": {"error_500_next": 1}})
    assert _relate(crm, world).status_code == 500
    assert _relate(crm, world).status_code == 200


def test_fault_settings_are_validated(emu):
    from airflow_provider_zohorel.emulator import EmulatorAdminError

    with pytest.raises(EmulatorAdminError) as excinfo:
        emu.admin.set_faults(error_500_next=-1)
    assert excinfo.value.status == 400
    with pytest.raises(EmulatorAdminError):
        emu.admin.set_faults(no_such_fault=1)


def test_record_locked_items_clear_after_the_given_attempts(emu, crm, world):
    """RECORD_LOCKED is transient ("wait for Zia Vision ... then make an API call", help.zoho.com
    announcement of RECORD_LOCKED): per item, with Zoho's details, then the retry succeeds."""
    locked = world.campaigns[1]
    emu.admin.set_faults(locked_ids=[locked], lock_attempts=2)
    body = {"data": [{"id": world.campaigns[0]}, {"id": locked}]}
    path = f"Leads/{world.leads[0]}/Campaigns"
    for _ in range(2):
        response = crm.put(path, body, version="v8")
        assert response.status_code == 207
        assert response.json()["data"][1] == {
            "code": "RECORD_LOCKED",
            "details": {"id": locked, "action": "zia_vision_processing"},
            "message": "Cannot update record that is not approved yet",
            "status": "error",
        }
    assert crm.put(path, body, version="v8").status_code == 200
    counters = emu.admin.counters()
    assert counters["faults_injected"]["record_locked"] == 2
    assert counters["item_errors"]["RECORD_LOCKED"] == 2


def test_record_locked_until_cleared(emu, crm, world):
    emu.admin.set_faults(locked_ids=[world.campaigns[0]], lock_attempts=0)
    path = f"Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    assert [crm.put(path, body, version="v8").status_code for _ in range(3)] == [400, 400, 400]
    emu.admin.clear_faults()
    assert crm.put(path, body, version="v8").status_code == 200


def test_hold_after_requests_holds_later_calls_until_released(emu, crm, world):
    """A test control: the first N calls are answered, later ones wait until the hold is cleared."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    emu.admin.patch_config(hold_after_requests=1)
    assert _relate(crm, world).status_code == 200
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(_relate, crm, world, 1)
        deadline = time.monotonic() + 10
        while not emu.admin.counters()["held_requests"]:
            assert not held.done(), "the second call was answered while the hold was on"
            assert time.monotonic() < deadline, "the second call never reached the emulator"
        assert emu.admin.counters()["in_flight"] == 1
        assert len(emu.admin.relations_of(world.leads[0])) == 1
        emu.admin.patch_config(hold_after_requests=None)
        assert held.result(timeout=10).status_code == 200
    assert emu.admin.counters()["held_requests"] == 0
    assert len(emu.admin.relations_of(world.leads[0])) == 2


def test_a_reset_lets_go_of_held_calls(emu, crm, world):
    """A call held under the old state is answered after a reset, not held forever."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    emu.admin.patch_config(hold_after_requests=0)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(_relate, crm, world)
        deadline = time.monotonic() + 10
        while not emu.admin.counters()["held_requests"]:
            assert time.monotonic() < deadline, "the call never reached the emulator"
        emu.admin.reset()
        assert held.result(timeout=10).status_code in (200, 400, 401)
