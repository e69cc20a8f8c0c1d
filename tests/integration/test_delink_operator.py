"""DelinkRelatedRecordsOperator against the real emulator: the rows given are delinked (and only
they), with the same summary, policy and dry run as the update operator."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel._compat import AirflowFailException
from airflow_provider_zohorel.operators.related_records import DelinkRelatedRecordsOperator
from tests.integration.operator_runs import execute, held
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, UNKNOWN_LEAD, crm_requests, make_hook

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(zoho):
    hook = make_hook()
    for campaign in CAMPAIGNS[:2]:
        hook.update_related_records("Campaigns", campaign, "Leads", [{"id": x} for x in LEADS[:10]])
    zoho.admin.reset_counters()
    return zoho


def rows(campaign, leads):
    return [{"record_id": campaign, "id": lead} for lead in leads]


def test_the_rows_given_are_delinked_and_nothing_else(seeded):
    records = rows(CAMPAIGNS[0], LEADS[:3]) + rows(CAMPAIGNS[1], LEADS[5:6]) + rows(CAMPAIGNS[1], LEADS[5:6])
    summary, error = execute(cls=DelinkRelatedRecordsOperator, records=records)
    assert error is None
    assert set(held(seeded, CAMPAIGNS[0])) == set(LEADS[3:10])
    assert set(held(seeded, CAMPAIGNS[1])) == set(LEADS[:5] + LEADS[6:10])
    assert (summary["total"], summary["delinked"], summary["added"], summary["duplicates_dropped"]) == (
        4,
        4,
        0,
        1,
    )
    assert crm_requests(seeded)["crm.related_records.bulk"] == {"200": 2}  # one DELETE per campaign


def test_a_failed_delink_names_its_input_row_and_the_policy_decides(seeded):
    seeded.admin.set_faults(error_500_next=20)
    summary, error = execute(
        cls=DelinkRelatedRecordsOperator, records=rows(CAMPAIGNS[0], [LEADS[0], UNKNOWN_LEAD])
    )
    assert error is not None
    assert summary["delink_failed"] == 2
    assert {item["row"] for item in summary["failed_items"]} == {"records[0]", "records[1]"}
    assert {item["code"] for item in summary["failed_items"]} == {"INTERNAL_ERROR"}


def test_dry_run_lists_the_delinks(seeded):
    summary, error = execute(
        cls=DelinkRelatedRecordsOperator, records=rows(CAMPAIGNS[0], LEADS[:2]), dry_run=True
    )
    assert error is None
    assert [d["id"] for d in summary["plan"]["delinks"]["items"]] == LEADS[:2]
    assert len(held(seeded, CAMPAIGNS[0])) == 10


def test_sync_parameters_are_refused(seeded):
    _, error = execute(cls=DelinkRelatedRecordsOperator, records=rows(CAMPAIGNS[0], LEADS[:2]), mode="mirror")
    assert isinstance(error, AirflowFailException)
    assert "DelinkRelatedRecordsOperator: mode do(es) not apply" in str(error)
