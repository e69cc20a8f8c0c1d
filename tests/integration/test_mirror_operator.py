"""UpdateRelatedRecordsOperator(mode="mirror") against the real emulator, ``execute`` called as a
worker calls it: what Zoho holds afterwards is read through the emulator's admin API.

(The same operator in real DAG runs: tests/e2e/test_sync_dags.py.)
"""

from __future__ import annotations

import pytest

from airflow_provider_zohorel._compat import AirflowFailException
from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.integration.operator_runs import execute, held, members
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, crm_requests, make_hook

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(zoho: ZohoEmulator) -> ZohoEmulator:
    """Campaign 0 holds leads 0-9 (Sent), campaign 1 leads 0-4 (Sent)."""
    hook = make_hook()
    assert all(
        r.succeeded
        for r in hook.update_related_records(
            "Campaigns", CAMPAIGNS[0], "Leads", [{"id": x, "Member_Status": "Sent"} for x in LEADS[:10]]
        )
    )
    assert all(
        r.succeeded
        for r in hook.update_related_records(
            "Campaigns", CAMPAIGNS[1], "Leads", [{"id": x, "Member_Status": "Sent"} for x in LEADS[:5]]
        )
    )
    zoho.admin.reset_counters()
    return zoho


def test_mirror_delinks_what_the_input_no_longer_lists_and_leaves_other_parents_alone(seeded):
    records = members(CAMPAIGNS[0], [*LEADS[:6], LEADS[20]])
    summary, error = execute(records=records, mode="mirror")
    assert error is None
    assert held(seeded, CAMPAIGNS[0]) == dict.fromkeys([*LEADS[:6], LEADS[20]], "Active")
    assert held(seeded, CAMPAIGNS[1]) == dict.fromkeys(LEADS[:5], "Sent")  # absent from the input
    assert (summary["delinked"], summary["delink_failed"], summary["added"], summary["updated"]) == (
        4,
        0,
        1,
        6,
    )
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (11, 11, 0)
    # one GET (10 held < 200), one PUT, one DELETE
    assert crm_requests(seeded)["crm.related_records.bulk"] == {"200": 3}
    assert summary["api_calls"] == 3


def test_the_guard_refuses_before_any_write_and_says_how_many(seeded):
    summary, error = execute(records=members(CAMPAIGNS[0], LEADS[:2]), mode="mirror")
    assert isinstance(error, AirflowFailException)
    assert "would delink 8 of the 10 relations" in str(error)
    assert summary["stopped_by"]["code"] == "DELINK_GUARD"
    assert summary["plan"]["delinks"]["delinks"] == 8
    assert held(seeded, CAMPAIGNS[0]) == dict.fromkeys(LEADS[:10], "Sent")  # nothing written
    assert crm_requests(seeded)["crm.related_records.bulk"] == {"200": 1}  # the one GET


def test_a_higher_max_delink_ratio_lets_the_same_run_through(seeded):
    summary, error = execute(records=members(CAMPAIGNS[0], LEADS[:2]), mode="mirror", max_delink_ratio=0.8)
    assert error is None
    assert summary["delinked"] == 8
    assert set(held(seeded, CAMPAIGNS[0])) == set(LEADS[:2])


def test_dry_run_lists_the_delinks_and_writes_nothing(seeded):
    summary, error = execute(records=members(CAMPAIGNS[0], LEADS[:2]), mode="mirror", dry_run=True)
    assert error is None
    delinks = summary["plan"]["delinks"]
    assert (delinks["delinks"], delinks["held"], delinks["reads"]) == (8, 10, 1)
    assert sorted(d["id"] for d in delinks["items"]) == sorted(LEADS[2:10])
    assert {d["record_id"] for d in delinks["items"]} == {CAMPAIGNS[0]}
    assert held(seeded, CAMPAIGNS[0]) == dict.fromkeys(LEADS[:10], "Sent")


def test_an_empty_input_delinks_nothing_and_calls_nothing(seeded):
    summary, error = execute(records=[], mode="mirror")
    assert error is None
    assert (summary["total"], summary["delinked"], summary["api_calls"]) == (0, 0, 0)
    assert held(seeded, CAMPAIGNS[0]) == dict.fromkeys(LEADS[:10], "Sent")
    assert seeded.admin.counters()["crm_requests"] == 0


def test_upsert_mode_never_reads_nor_delinks(seeded):
    summary, error = execute(records=members(CAMPAIGNS[0], LEADS[:2]))
    assert error is None
    assert summary["delinked"] == 0
    assert len(held(seeded, CAMPAIGNS[0])) == 10
    assert crm_requests(seeded)["crm.related_records.bulk"] == {"200": 1}  # the PUT alone


def test_a_parent_holding_more_than_a_page_is_read_whole(zoho):
    leads = zoho.admin.add_records("Leads", count=450)
    for lead in leads:
        zoho.admin.add_relation("Campaigns", CAMPAIGNS[2], "Leads", lead, {"Member_Status": "Sent"})
    keep = leads[:300]
    summary, error = execute(records=members(CAMPAIGNS[2], keep), mode="mirror")
    assert error is None
    assert summary["delinked"] == 150
    assert set(held(zoho, CAMPAIGNS[2])) == set(keep)
    # reads: ceil(450 / 200) = 3 GETs; writes: 3 PUTs of 100 and 2 DELETEs (100 + 50)
    assert summary["api_calls"] == 3 + 3 + 2
