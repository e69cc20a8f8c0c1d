"""Admin API: counters, reset, configuration, seeds (file, bundled demo, 100k generated ids),
relation reads and export."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    EmulatorAdminError,
)
from airflow_provider_zohorel.emulator.admin_client import secret_label


def test_health_and_unknown_admin_path(emu):
    assert emu.admin.health()["status"] == "ok"
    response = requests.get(f"{emu.base_url}/__emulator__/nope", timeout=10)
    assert response.status_code == 404
    assert "error" in response.json()


def test_counters(emu, creds, crm, oauth, world):
    path = f"Leads/{world.leads[0]}/Campaigns"
    crm.put(path, {"data": [{"id": world.campaigns[0]}, {"id": "1"}]})
    crm.put(path, {"data": [{"id": world.campaigns[0]}]})
    crm.call("POST", path, {"data": []})
    counters = emu.admin.counters()
    assert counters["requests"]["crm.related_records.bulk"] == {"202": 1, "200": 1, "400": 1}
    assert counters["requests"]["oauth.token"] == {"200": 1}
    assert counters["crm_requests"] == 3
    assert counters["items"] == 3
    assert counters["relations_added"] == 1
    assert counters["relations_updated"] == 1
    assert counters["item_errors"] == {"INVALID_DATA": 1}
    assert counters["tokens_minted"] == 1
    assert counters["tokens_minted_by_refresh_token"] == {secret_label(creds.refresh_token): 1}
    assert counters["live_tokens"] == 1
    assert counters["peak_in_flight"] == 1
    assert counters["in_flight"] == 0
    assert counters["credits_used"] == 3
    assert counters["too_many_requests"] == 0
    assert counters["loop_lag_max_ms"] >= 0
    after = emu.admin.reset_counters()
    assert after["requests"] == {}
    assert after["crm_requests"] == 0
    assert (after["tokens_minted"], after["tokens_minted_by_refresh_token"]) == (
        0,
        {secret_label(creds.refresh_token): 0},
    )
    assert after["live_tokens"] == 1  # the token itself stays valid
    assert after["relations"] == 1  # state stays


def test_reset_empties_state_config_and_faults(emu, crm, world):
    crm.put(f"Leads/{world.leads[0]}/Campaigns", {"data": [{"id": world.campaigns[0]}]})
    emu.admin.patch_config(latency_ms=1, strict_fields=True)
    emu.admin.set_faults(error_500_next=5)
    emu.admin.advance_clock(10)
    emu.admin.reset()
    assert emu.admin.summary() == {
        "records": {},
        "relations": 0,
        "users": 0,
        "clients": 0,
        "refresh_tokens": 0,
    }
    config = emu.admin.get_config()
    assert (config["latency_ms"], config["strict_fields"]) == (0, False)
    assert emu.admin.get_faults()["error_500_next"] == 0
    assert emu.admin.counters()["requests"] == {}
    assert emu.admin.advance_clock(0) == 0


def test_config_patch_is_validated(emu):
    with pytest.raises(EmulatorAdminError) as excinfo:
        emu.admin.patch_config(no_such_setting=1)
    assert excinfo.value.status == 400
    with pytest.raises(EmulatorAdminError):
        emu.admin.patch_config(unknown_parent_status=403)
    with pytest.raises(EmulatorAdminError):
        emu.admin.patch_config(concurrency_limit=0)
    assert emu.admin.patch_config(concurrency_limit=25)["concurrency_limit"] == 25


def test_demo_seed_matches_the_documented_values(zoho_emulator_demo, session):
    emu = zoho_emulator_demo
    summary = emu.admin.summary()
    assert summary["records"] == {
        "Campaigns": 3,
        "Leads": 49,
        "Contacts": 20,
        "Products": 10,
        "Deals": 10,
        "Accounts": 5,
        "Price_Books": 3,
        "Notes": 5,
    }
    assert emu.admin.list_records("Campaigns") == [
        "3652397000000327001",
        "3652397000001854001",
        "3652397000002000001",
    ]
    leads = emu.admin.list_records("Leads")
    assert leads[0] == "3652397000001829002"
    assert leads[-1] == "3652397000001829050"
    notes = emu.admin.list_notes("3652397000001829002")
    assert [n["id"] for n in notes] == [f"365239700000800000{i}" for i in range(1, 6)]
    assert DEMO_CLIENT_ID == "1000.ZOHORELDEMOCLIENT000000000000"
    assert DEMO_CLIENT_SECRET == "zohorel-demo-client-secret-7f3a9c"
    assert DEMO_REFRESH_TOKEN == "1000.zohoreldemo.refresh0token0000000000000000"
    token = session.post(
        f"{emu.base_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN,
        },
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    response = session.put(
        f"{emu.base_url}/crm/v2/Leads/3652397000001829002/Campaigns",
        json={"data": [{"id": "3652397000000327001", "Member_Status": "Active"}]},
        headers=headers,
        timeout=10,
    )
    assert response.json()["data"][0]["message"] == "relation added"
    me = session.get(f"{emu.base_url}/crm/v2/users?type=CurrentUser", headers=headers, timeout=10).json()
    assert me["users"][0]["profile"]["name"] == "Administrator"


def test_seed_file(emu, tmp_path):
    seed = {
        "users": [{"id": "111", "permissions": {"update_related": False}}],
        "clients": [
            {"client_id": "1000.FILE", "client_secret": "s", "user_id": "111", "refresh_tokens": ["1000.r.t"]}
        ],
        "records": [{"module": "Leads", "ids": ["10", 11]}, {"module": "Campaigns", "count": 2}],
        "relations": [
            {
                "module": "Leads",
                "id": "10",
                "related_list": "Campaigns",
                "related_id": "5725767000000000001",
                "fields": {"Member_Status": "Sent"},
            }
        ],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    result = emu.admin.load_seed(path)
    assert result["records"] == {"Leads": 2, "Campaigns": 2}
    assert result["generated"]["Campaigns"] == ["5725767000000000001", "5725767000000000002"]
    assert emu.admin.relations_of("10") == [
        {
            "relation": "Campaigns-Leads",
            "module": "Campaigns",
            "id": "5725767000000000001",
            "fields": {"Member_Status": "Sent"},
        }
    ]
    assert emu.admin.list_users()[0]["permissions"]["update_related"] is False


def test_bad_seed_is_refused_with_a_reason(emu):
    with pytest.raises(EmulatorAdminError, match="unknown module"):
        emu.admin.load_seed({"records": [{"module": "Widgets", "count": 1}]})
    emu.admin.add_records("Leads", ["12"])
    with pytest.raises(EmulatorAdminError, match="already belongs"):
        emu.admin.add_records("Contacts", ["12"])


def test_generated_records_and_bulk_export(emu, crm):
    leads = emu.admin.add_records("Leads", count=100_000)
    assert len(set(leads)) == 100_000
    assert all(len(i) == 19 and i.isdigit() for i in leads[:10])
    campaign = emu.admin.add_records("Campaigns", count=1)[0]
    for start in range(0, 1000, 100):
        chunk = leads[start : start + 100]
        response = crm.put(
            f"Campaigns/{campaign}/Leads", {"data": [{"id": i, "Member_Status": "Sent"} for i in chunk]}
        )
        assert response.status_code == 200
    rows = emu.admin.export_relations("Campaigns-Leads")
    assert len(rows) == 1000
    assert {r.second_id for r in rows} == set(leads[:1000])
    assert emu.admin.export_relations("Products-Leads") == []


def test_relation_can_be_created_directly(emu, world):
    assert (
        emu.admin.add_relation("Leads", world.leads[0], "Products", world.products[0], {"list_price": 2})
        is True
    )
    assert emu.admin.relations_of(world.products[0], "Leads")[0]["fields"] == {"list_price": 2}
    assert emu.admin.relations_of(world.products[0], "Campaigns") == []


def test_get_record_and_records_range(emu):
    ids = emu.admin.add_records("Accounts", id_range=("100", "104"), fields={"Account_Name": "Zylker"})
    assert ids == ["100", "101", "102", "103", "104"]
    assert emu.admin.get_record("102") == {
        "id": "102",
        "module": "Accounts",
        "fields": {"Account_Name": "Zylker"},
    }
    with pytest.raises(EmulatorAdminError) as excinfo:
        emu.admin.get_record("999")
    assert excinfo.value.status == 404
