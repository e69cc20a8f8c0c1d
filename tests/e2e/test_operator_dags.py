"""UpdateRelatedRecordsOperator in real DAG runs (dag.test(), SQLite metadata DB) against the
emulator: what Zoho ends up holding is checked through the emulator's admin API, not only through
the operator's own counters."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel._compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_zohorel.emulator import DEMO_USER_ID

pytestmark = pytest.mark.e2e

CAMPAIGNS = ["3652397000000327001", "3652397000001854001", "3652397000002000001"]
LEADS = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 51))]
UNKNOWN_LEAD = "3652397000001829999"


def memberships(campaign_leads: dict[str, list[str]], status: str = "Active") -> list[dict]:
    return [
        {"record_id": campaign, "id": lead, "Member_Status": status}
        for campaign, leads in campaign_leads.items()
        for lead in leads
    ]


def conf(records, module="Campaigns", related_list="Leads"):
    return {"module": module, "related_list": related_list, "records": records}


def held(zoho, campaign):
    """What the emulator holds for a campaign: {lead id: Member_Status}."""
    return {r["id"]: r["fields"].get("Member_Status") for r in zoho.admin.relations_of(campaign, "Leads")}


def test_xcom_input_relates_exactly_the_input(zoho, run_dag):
    records = memberships({CAMPAIGNS[0]: LEADS, CAMPAIGNS[1]: LEADS[:7]}, status="Planning")
    result = run_dag("e2e_xcom", conf={"records": records})
    assert result.state == "success"
    summary = result.summary()
    assert (summary["total"], summary["succeeded"], summary["added"], summary["failed"]) == (56, 56, 56, 0)
    assert summary["api_calls"] == 2  # one PUT per campaign: 49 and 7 leads
    assert summary["outcome"] == "success"
    assert held(zoho, CAMPAIGNS[0]) == dict.fromkeys(LEADS, "Planning")
    assert held(zoho, CAMPAIGNS[1]) == dict.fromkeys(LEADS[:7], "Planning")
    assert zoho.admin.counters()["crm_requests"] == 2


def test_an_upstream_that_returned_none_fails_once_and_the_reporting_task_gets_the_summary(zoho, run_dag):
    result = run_dag("e2e_upstream_none")
    assert (result.task_state(), result.tries()) == ("failed", 1)  # retries=2, but no retry can help
    summary = result.summary("report")  # what an all_done task downstream received
    assert result.task_state("report") == "success"
    assert summary == result.summary()
    assert (summary["outcome"], summary["total"]) == ("fail", 0)
    assert summary["stopped_by"]["code"] == "INVALID_INPUT"
    assert "records rendered to None" in summary["stopped_by"]["message"]
    assert zoho.admin.counters()["requests"] == {}  # not even a token


def test_a_dataframe_from_an_upstream_task_is_related_row_by_row(zoho, run_dag):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")  # Airflow passes a DataFrame through XCom as Parquet
    records = memberships({CAMPAIGNS[0]: LEADS[:12]}, status="Sent")
    result = run_dag("e2e_dataframe", conf={"records": records})
    assert result.state == "success"
    assert (result.summary()["total"], result.summary()["succeeded"]) == (12, 12)
    assert held(zoho, CAMPAIGNS[0]) == dict.fromkeys(LEADS[:12], "Sent")


def test_a_rerun_updates_instead_of_duplicating(zoho, run_dag):
    run_dag("e2e_records", conf=conf(memberships({CAMPAIGNS[0]: LEADS[:20]})))
    again = run_dag("e2e_records", conf=conf(memberships({CAMPAIGNS[0]: LEADS[:20]}, status="Sent")))
    assert (again.summary()["added"], again.summary()["updated"]) == (0, 20)
    assert held(zoho, CAMPAIGNS[0]) == dict.fromkeys(LEADS[:20], "Sent")
    assert len(zoho.admin.export_relations()) == 20


def _with_bad_rows():
    records = memberships({CAMPAIGNS[0]: LEADS[:30]})
    records[5]["id"] = UNKNOWN_LEAD
    records[17]["id"] = "3652397000001829998"
    return records


@pytest.mark.parametrize(
    ("dag_id", "task_state", "outcome"),
    [
        ("e2e_records", "failed", "fail"),  # default policy: INVALID_DATA fails the task
        ("e2e_soft_fail_invalid", "skipped", "soft_fail"),  # INVALID_DATA -> soft_fail
        ("e2e_soft_fail_flag", "skipped", "soft_fail"),  # soft_fail=True downgrades every fail
        ("e2e_tolerant", "success", "success"),  # max_failed_items=2 tolerates them
    ],
)
def test_per_item_failures_end_in_the_configured_task_state(zoho, run_dag, dag_id, task_state, outcome):
    result = run_dag(dag_id, conf=conf(_with_bad_rows()))
    assert result.task_state() == task_state
    summary = result.summary()  # pushed in every outcome
    assert summary["outcome"] == outcome
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (30, 28, 2)
    assert summary["by_code"] == {"INVALID_DATA": 2, "SUCCESS": 28}
    assert {(f["id"], f["code"]) for f in summary["failed_items"]} == {
        (UNKNOWN_LEAD, "INVALID_DATA"),
        ("3652397000001829998", "INVALID_DATA"),
    }
    assert set(held(zoho, CAMPAIGNS[0])) == {r["id"] for r in _with_bad_rows()} - {
        UNKNOWN_LEAD,
        "3652397000001829998",
    }


def test_a_configuration_error_fails_at_once_without_retry(zoho, run_dag):
    zoho.admin.set_permissions(DEMO_USER_ID, update_related=False)
    result = run_dag("e2e_retry", conf=conf(memberships({c: LEADS for c in CAMPAIGNS})))
    assert result.task_state() == "failed"
    assert result.tries() == 1  # retries=1 in the DAG, but NO_PERMISSION is not retried
    summary = result.summary()
    assert summary["stopped_by"]["code"] == "NO_PERMISSION"
    assert summary["by_code"] == {"NO_PERMISSION": 147}
    assert zoho.admin.counters()["crm_requests"] == 1  # stopped after the first answer


def test_a_retry_resends_only_what_did_not_succeed(zoho, run_dag):
    records = memberships({c: LEADS for c in CAMPAIGNS})
    zoho.admin.set_faults(error_500_next=2)  # the first two PUTs fail; each call has one attempt
    result = run_dag("e2e_retry", conf=conf(records))
    assert result.task_state() == "success"
    assert result.tries() == 2
    summary = result.summary()  # of the final try: accounts for every item
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (147, 147, 0)
    if AIRFLOW_V_3_3_PLUS:  # task_state_store: the second try sent only the two failed batches
        assert (summary["resumed_items"], summary["api_calls"]) == (49, 2)
        assert zoho.admin.counters()["crm_requests"] == 3 + 2
    else:  # no state store before 3.3: everything is sent again, and Zoho updates, never duplicates
        assert (summary["resumed_items"], summary["updated"], summary["api_calls"]) == (0, 49, 3)
        assert zoho.admin.counters()["crm_requests"] == 3 + 3
    for campaign in CAMPAIGNS:
        assert set(held(zoho, campaign)) == set(LEADS)
    assert len(zoho.admin.export_relations()) == 147


def test_without_resume_a_retry_resends_everything_and_zoho_updates(zoho, run_dag):
    records = memberships({c: LEADS for c in CAMPAIGNS})
    zoho.admin.set_faults(error_500_next=1)
    result = run_dag("e2e_no_resume", conf=conf(records))
    assert (result.task_state(), result.tries()) == ("success", 2)
    summary = result.summary()
    assert (summary["added"], summary["updated"], summary["resumed_items"]) == (49, 98, 0)
    assert zoho.admin.counters()["crm_requests"] == 3 + 3
    assert len(zoho.admin.export_relations()) == 147


def test_dry_run_plans_without_calling_zoho(zoho, run_dag):
    records = memberships({c: LEADS for c in CAMPAIGNS}) + memberships({CAMPAIGNS[0]: LEADS[:3]})
    result = run_dag("e2e_dry_run", conf=conf(records))
    assert result.task_state() == "success"
    plan = result.summary()["plan"]
    assert plan == {
        "relation": "Campaigns -> Leads",
        "rows": 150,
        "items": 147,
        "duplicates_dropped": 3,
        "parents": 3,
        "calls": 3,
        "batch_size": 100,
        "credits": 3,
        "unchanged": 0,  # no state table
        "delinks": None,  # upsert mode: nothing would be delinked
    }
    assert zoho.admin.counters()["crm_requests"] == 0


def test_empty_input_is_a_successful_no_op(zoho, run_dag):
    result = run_dag("e2e_records", conf=conf([]))
    assert result.task_state() == "success"
    assert result.summary()["total"] == 0
    assert zoho.admin.counters()["tokens_minted"] == 0  # not even a token


def test_invalid_input_fails_before_any_call_and_names_the_rows(zoho, run_dag):
    records = memberships({CAMPAIGNS[0]: LEADS[:5]})
    records[2]["id"] = 3.652397000001829e18
    records[4]["Member Status"] = "a column alias that cannot be a Zoho field"
    result = run_dag("e2e_retry", conf=conf(records))
    assert (result.task_state(), result.tries()) == ("failed", 1)
    summary = result.summary()
    assert summary["by_code"] == {"INVALID_INPUT": 2, "NOT_SENT": 3}
    assert any("records[2]" in e and "float" in e for e in summary["input_errors"])
    assert any("records[4]" in e and "'Member Status'" in e for e in summary["input_errors"])
    assert zoho.admin.counters()["crm_requests"] == 0


def test_v2_status_regime_gives_the_same_accounting(zoho, run_dag, monkeypatch, make_zoho_connection):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", make_zoho_connection(zoho.base_url, api_version="v2"))
    result = run_dag("e2e_tolerant", conf=conf(_with_bad_rows()))
    assert result.summary()["by_code"] == {"INVALID_DATA": 2, "SUCCESS": 28}
    # v2 answers a partly failed bulk call 202 (v8: 207): every call of this run was such a call.
    bulk = zoho.admin.counters()["requests"]["crm.related_records.bulk"]
    assert set(bulk) == {"202"}
    assert bulk["202"] >= 1


def test_sql_from_a_templated_sql_file(zoho, warehouse, run_dag, tmp_path):
    import json
    import os
    import sqlite3

    path = json.loads(os.environ["AIRFLOW_CONN_WAREHOUSE"])["host"]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE e2e_members (lead_id TEXT, status TEXT)")
        db.executemany("INSERT INTO e2e_members VALUES (?, 'Opened')", [(lead,) for lead in LEADS[:10]])
    result = run_dag("e2e_sql_file")
    assert result.task_state() == "success"
    assert held(zoho, CAMPAIGNS[0]) == {lead: "Opened" for lead in LEADS[:10] if lead != LEADS[1]}
