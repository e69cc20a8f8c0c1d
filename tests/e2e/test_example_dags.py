"""The example DAGs users copy: each parses, and each runs green against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_zohorel._compat import AIRFLOW_V_3_1_PLUS

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
EXPECTED_DAGS = {
    "zoho_campaign_members",
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
    assert result.task_state("retry_transient_failures") == "success"  # nothing transient to retry
    assert result.summary("retry_transient_failures")["total"] == 0
    reported = result.summary("report_bad_rows")
    assert sorted(item["id"] for item in reported) == [f"365239700000300{n:04d}" for n in (21, 22, 23)]
    assert result.state == "success"


def test_example_4_scale_out_shards_share_the_pool(zoho, warehouse, run_dag):
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        "zoho_api", slots=10, description="Zoho CRM concurrency", include_deferred=False
    )
    result = run_dag("zoho_scale_out", bundle="examples")
    assert result.state == "success"
    shards = {k: v for k, v in result.tasks.items() if k.startswith("relate_shard[")}
    assert len(shards) == 4
    assert sorted(s["xcom"]["total"] for s in shards.values()) == [0, 48, 48, 48]
    assert len(zoho.admin.export_relations()) == 144
