"""Issue 10 through real DAG runs (dag.test()) against the emulator: external ids end to end, any
related list with fields the provider does not know, validate_related_list refusing a name with the
valid ones, and RECORD_LOCKED items waited for within the run. What Zoho holds is read back through
the emulator's admin API."""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.e2e

CAMPAIGNS = ["3652397000000327001", "3652397000001854001", "3652397000002000001"]
LEADS = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 51))]


def conf(records, module="Campaigns", related_list="Leads", **more):
    return {"module": module, "related_list": related_list, "records": records, **more}


def linked(zoho, record_id, module):
    return {r["id"]: r["fields"] for r in zoho.admin.relations_of(record_id, module)}


def test_external_ids_of_the_parent_end_to_end(zoho, run_dag):
    """Reverse ETL with the warehouse's own lead keys: X-EXTERNAL: Leads.External_Lead_ID."""
    keys = [f"crm-lead-{n}" for n in range(5)]
    leads = zoho.admin.add_records("Leads", count=5, external={"field": "External_Lead_ID", "values": keys})
    records = [{"record_id": key, "id": campaign} for key in keys for campaign in CAMPAIGNS[:2]]
    result = run_dag(
        "e2e_external", conf=conf(records, "Leads", "Campaigns", external="Leads.External_Lead_ID")
    )
    assert result.state == "success"
    summary = result.summary()
    assert (summary["total"], summary["succeeded"], summary["api_calls"]) == (10, 10, 5)
    for lead in leads:
        assert set(linked(zoho, lead, "Campaigns")) == set(CAMPAIGNS[:2])


def test_external_ids_on_both_sides_with_contact_roles_end_to_end(zoho, run_dag):
    contacts = zoho.admin.add_records(
        "Contacts", count=2, external={"field": "External_Contact_ID", "values": ["c-1", "c 2?x"]}
    )
    deals = zoho.admin.add_records(
        "Deals", count=3, external={"field": "External_Deal_ID", "prefix": "deal-"}
    )
    deal_keys = [zoho.admin.get_record(d)["fields"]["External_Deal_ID"] for d in deals]
    role = zoho.admin.add_contact_role("Champion")
    records = [
        {"record_id": contact, "id": deal, "contact_role": role}
        for contact in ("c-1", "c 2?x")
        for deal in deal_keys
    ]
    records.append({"record_id": "c-1", "id": "deal-unknown", "contact_role": role})
    result = run_dag(
        "e2e_external",
        conf=conf(
            records, "Contacts", "Deals", external="Contacts.External_Contact_ID,Deals.External_Deal_ID"
        ),
    )
    summary = result.summary()
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (7, 6, 1)
    assert summary["failed_items"][0]["record_id"] == "c-1"
    assert (summary["failed_items"][0]["id"], summary["failed_items"][0]["code"]) == (
        "deal-unknown",
        "INVALID_DATA",
    )
    for contact in contacts:
        held = linked(zoho, contact, "Deals")
        assert set(held) == set(deals)
        assert {fields["Contact_Role"]["name"] for fields in held.values()} == {"Champion"}


def test_record_locked_items_are_sent_again_within_the_run(zoho, run_dag):
    locked = [LEADS[3], LEADS[7]]
    zoho.admin.set_faults(locked_ids=locked, lock_attempts=2)  # locked for two attempts each
    records = [{"record_id": CAMPAIGNS[0], "id": lead, "Member_Status": "Sent"} for lead in LEADS[:10]]
    result = run_dag("e2e_locked", conf=conf(records))
    assert result.state == "success"
    summary = result.summary()
    assert (summary["succeeded"], summary["failed"], summary["client"]["locked_resends"]) == (10, 0, 2)
    assert zoho.admin.counters()["faults_injected"]["record_locked"] == 4
    assert linked(zoho, CAMPAIGNS[0], "Leads") == {lead: {"Member_Status": "Sent"} for lead in LEADS[:10]}


def test_a_record_still_locked_after_the_waits_fails_with_its_code(zoho, run_dag):
    zoho.admin.set_faults(locked_ids=[LEADS[1]], lock_attempts=0)  # until cleared
    records = [{"record_id": CAMPAIGNS[0], "id": lead} for lead in LEADS[:4]]
    result = run_dag("e2e_locked", conf=conf(records))
    assert result.task_state() == "failed"
    summary = result.summary()
    assert (summary["by_code"], summary["client"]["locked_resends"]) == (
        {"RECORD_LOCKED": 1, "SUCCESS": 3},
        3,
    )
    assert summary["failed_items"][0]["id"] == LEADS[1]
    assert set(linked(zoho, CAMPAIGNS[0], "Leads")) == {LEADS[0], LEADS[2], LEADS[3]}


def test_a_custom_list_with_fields_the_provider_does_not_know(zoho, run_dag, caplog):
    zoho.admin.add_related_list(
        "Leads",
        "Related_List_Name_2",
        "Contacts",
        linking_module="Leads_X_Contacts",
        fields={"Priority": "number"},
    )
    contacts = zoho.admin.add_records("Contacts", count=30)
    records = [{"record_id": LEADS[0], "id": c, "Priority": n} for n, c in enumerate(contacts)]
    with caplog.at_level(logging.WARNING, logger="airflow_provider_zohorel.zoho.relation_catalog"):
        result = run_dag("e2e_records", conf=conf(records, "Leads", "Related_List_Name_2"))
    assert result.state == "success"
    assert result.summary()["succeeded"] == 30
    assert {cid: f["Priority"] for cid, f in linked(zoho, LEADS[0], "Contacts").items()} == {
        c: n for n, c in enumerate(contacts)
    }
    warnings = [r.getMessage() for r in caplog.records if "'Priority'" in r.getMessage()]
    assert len(warnings) == 1  # once per run, not once per row


def test_validate_related_list_fails_the_task_once_listing_the_valid_names(zoho, run_dag):
    records = [{"record_id": LEADS[0], "id": CAMPAIGNS[0]}]
    result = run_dag("e2e_validated", conf=conf(records, "Leads", "Campaign"))
    assert (result.task_state(), result.tries()) == ("failed", 1)  # retries=2, but no retry can help
    summary = result.summary()
    assert summary["stopped_by"]["code"] == "UNSUPPORTED_RELATION"
    assert "Leads has no related list 'Campaign'" in summary["stopped_by"]["message"]
    assert "Campaigns" in summary["stopped_by"]["message"]
    requests = zoho.admin.counters()["requests"]
    assert {k: v for k, v in requests.items() if k.startswith("crm.")} == {
        "crm.settings.related_lists": {"200": 1}
    }
