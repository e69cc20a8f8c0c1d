"""ZohoCRMHook.get_related_records and delink_related_records against the real emulator: every
page read, the asked fields, 204 for an empty list, per-id delink results, and what the emulator
holds afterwards."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, UNKNOWN_LEAD, crm_requests, make_hook

pytestmark = pytest.mark.integration


def held(zoho: ZohoEmulator, campaign: str) -> list[str]:
    return sorted(
        row.second_id for row in zoho.admin.export_relations("Campaigns-Leads") if row.first_id == campaign
    )


def test_every_page_is_read_with_the_asked_fields(zoho):
    campaign = CAMPAIGNS[1]
    leads = zoho.admin.add_records("Leads", count=450)
    hook = make_hook()
    for start in range(0, len(leads), 100):
        chunk = leads[start : start + 100]
        results = hook.update_related_records(
            "Campaigns", campaign, "Leads", [{"id": x, "Member_Status": "Sent"} for x in chunk]
        )
        assert all(r.succeeded for r in results)
    before = crm_requests(zoho)["crm.related_records.bulk"]["200"]
    records = list(hook.get_related_records("Campaigns", campaign, "Leads", fields=["Member_Status"]))
    assert sorted(r["id"] for r in records) == sorted(leads)
    assert {r["Member_Status"] for r in records} == {"Sent"}
    # ceil(450 / 200) pages, each one call
    assert crm_requests(zoho)["crm.related_records.bulk"]["200"] - before == 3


def test_an_empty_list_yields_nothing_after_one_204(zoho):
    hook = make_hook()
    assert list(hook.get_related_records("Campaigns", CAMPAIGNS[2], "Leads")) == []
    assert crm_requests(zoho)["crm.related_records.bulk"] == {"204": 1}


def test_delink_removes_the_relations_and_answers_per_id(zoho):
    campaign = CAMPAIGNS[0]
    hook = make_hook()
    hook.update_related_records("Campaigns", campaign, "Leads", [{"id": x} for x in LEADS[:5]])
    results = hook.delink_related_records("Campaigns", campaign, "Leads", [*LEADS[:3], UNKNOWN_LEAD])
    assert [(r.related_id, r.code, r.action) for r in results] == [
        *((lead, "SUCCESS", "removed") for lead in LEADS[:3]),
        (UNKNOWN_LEAD, "INVALID_DATA", None),
    ]
    assert results[0].message == "relation removed"
    assert held(zoho, campaign) == sorted(LEADS[3:5])
    assert sorted(r["id"] for r in hook.get_related_records("Campaigns", campaign, "Leads")) == sorted(
        LEADS[3:5]
    )
    # the leads themselves stay
    assert set(LEADS[:3]) <= set(zoho.admin.list_records("Leads"))
