"""The example DAGs users copy: each parses, and each runs green against the emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from airflow_provider_zohorel._compat import AIRFLOW_V_3_1_PLUS

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
EXPECTED_DAGS = {
    "zoho_campaign_members",
    "zoho_campaign_membership_sync",
    "zoho_deal_products",
    "zoho_deal_products_on_asset",
    "zoho_failure_policy",
    "zoho_scale_out",
}


def test_every_example_parses_without_errors(load_dag_bag):
    bag = load_dag_bag(EXAMPLES)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED_DAGS


def test_example_1_campaign_members_from_xcom(zoho, run_dag):
    result = run_dag("zoho_campaign_members", bundle="examples")
    assert result.state == "success"
    summary = result.summary("add_leads_to_campaigns")
    assert (summary["total"], summary["succeeded"], summary["api_calls"]) == (59, 59, 2)
    statuses = {
        r["id"]: r["fields"]["Member_Status"] for r in zoho.admin.relations_of("3652397000000327001", "Leads")
    }
    assert len(statuses) == 49
    assert statuses["3652397000001829002"] == "Planning"
    # Two campaigns: the extra link opens the Campaigns list of the connection's CRM (the emulator).
    links = result.links("add_leads_to_campaigns")
    assert links == {"ZohoCRMRecordsLink": f"{zoho.base_url}/crm/tab/Campaigns"}


@pytest.mark.skipif(
    not AIRFLOW_V_3_1_PLUS,
    reason="dag.test() on Airflow 3.0 does not register the DAG's Assets, so the load task's outlet "
    "is 'inactive'; a deployment's dag-processor registers them",
)
def test_example_2_deal_products_from_the_warehouse(zoho, warehouse, run_dag):
    result = run_dag("zoho_deal_products", bundle="examples")
    assert result.state == "success"
    summary = result.summary("relate_products_to_deals")
    expected = [(d, p) for d in range(1, 11) for p in range(1, 11) if (d + p) % 3]
    assert (summary["total"], summary["succeeded"], summary["api_calls"]) == (
        len(expected),
        len(expected),
        10,
    )
    prices = {
        r["id"]: r["fields"]["list_price"] for r in zoho.admin.relations_of("3652397000005000001", "Products")
    }
    assert prices["3652397000004000001"] == 61.5  # from the NUMERIC column, sent as a number


def test_example_3_soft_fails_and_reports_bad_rows(zoho, warehouse, run_dag):
    result = run_dag("zoho_failure_policy", bundle="examples")
    assert result.task_state("relate_contacts_to_newsletter") == "skipped"
    summary = result.summary("relate_contacts_to_newsletter")
    assert summary["by_code"] == {"INVALID_DATA": 3, "SUCCESS": 20}
    assert summary["failed_items_table"] == {"table": "zoho_failed_items", "rows_written": 3}
    # One campaign: the extra link opens that record's page, also when the task is skipped.
    assert result.links("relate_contacts_to_newsletter") == {
        "ZohoCRMRecordsLink": f"{zoho.base_url}/crm/tab/Campaigns/{summary['failed_items'][0]['record_id']}"
    }
    assert result.task_state("retry_transient_failures") == "success"  # nothing transient to retry
    assert result.summary("retry_transient_failures")["total"] == 0
    reported = result.summary("report_bad_rows")
    assert sorted(item["id"] for item in reported) == [f"365239700000300{n:04d}" for n in (21, 22, 23)]
    assert result.state == "success"


def test_example_4_scale_out_eight_shards_by_parent(zoho, warehouse, run_dag):
    """Every parent's items land in one shard (so calls stay minimal), and every item in one."""
    result = run_dag("zoho_scale_out", bundle="examples")
    assert result.state == "success"
    shards = {k: v for k, v in result.tasks.items() if k.startswith("relate_shard[")}
    assert len(shards) == 8
    campaigns = (3652397000000327001, 3652397000001854001, 3652397000002000001)
    expected = sorted(48 * sum(1 for c in campaigns if c % 8 == n) for n in range(8))
    assert sorted(s["xcom"]["total"] for s in shards.values()) == expected
    assert sum(s["xcom"]["api_calls"] for s in shards.values()) == 3  # one PUT per campaign
    assert len(zoho.admin.export_relations()) == 144


@pytest.fixture
def sync_warehouse(pg_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``warehouse_pg`` on a private schema (its search_path), dropped afterwards."""
    import psycopg

    schema = f"sync_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_uri, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    where = urlsplit(pg_uri)
    conn_doc = {
        "conn_type": "postgres", "host": where.hostname, "port": where.port, "login": where.username,
        "schema": where.path.lstrip("/"), "extra": {"options": f"-csearch_path={schema}"},
    }  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_PG", json.dumps(conn_doc))
    try:
        yield schema
    finally:
        with psycopg.connect(pg_uri, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_example_5_daily_mirror_sync_sends_only_what_changed(zoho, sync_warehouse, pg_uri, run_dag):
    import psycopg

    first = run_dag("zoho_campaign_membership_sync", bundle="examples")
    assert first.state == "success"
    day1 = first.summary("sync_campaign_members")
    assert (day1["total"], day1["added"], day1["delinked"], day1["unchanged"]) == (70, 70, 0, 0)
    assert day1["api_calls"] == 2 + 2  # one GET per campaign (nothing held yet), one PUT each
    zoho.admin.reset_counters()

    second = run_dag("zoho_campaign_membership_sync", conf={"day": 2}, bundle="examples")
    assert second.state == "success"
    day2 = second.summary("sync_campaign_members")
    assert (day2["unchanged"], day2["updated"], day2["delinked"], day2["failed"]) == (64, 1, 5, 0)
    assert day2["api_calls"] == 2  # one PUT (lead 02's status), one DELETE (five leavers); no GET
    held = {
        r["id"]: r["fields"]["Member_Status"] for r in zoho.admin.relations_of("3652397000000327001", "Leads")
    }
    assert set(held) == {f"36523970000018290{n:02d}" for n in range(2, 36)}
    assert held["3652397000001829002"] == "Responded"
    with psycopg.connect(pg_uri) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {sync_warehouse}.zoho_sync_state").fetchone()
    assert rows == (65,)  # the state table equals what Zoho holds
