"""OpenLineage with Airflow's OpenLineage provider installed: the SQL input's tables (found by the
provider's SQL parser against the real Postgres) in, the related list of the Zoho org out."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from tests.e2e.test_warehouse_postgres import load_members

pytestmark = pytest.mark.e2e
pytest.importorskip("airflow.providers.openlineage")

CAMPAIGN = "3652397000000327001"
LEADS = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 8))]


class TI:
    dag_id, task_id, run_id, try_number, map_index = "lineage", "relate", "r", 1, -1

    def xcom_push(self, key: str, value: object) -> None:
        pass


def test_lineage_names_the_sql_input_tables_and_the_zoho_related_list(zoho, pg_warehouse, pg_uri):
    conn_id, schema = pg_warehouse
    load_members(pg_uri, schema, [(CAMPAIGN, lead, "Active") for lead in LEADS])
    op = UpdateRelatedRecordsOperator(
        task_id="relate",
        module="Campaigns",
        related_list="Leads",
        sql=f"SELECT campaign_id AS record_id, lead_id AS id, member_status FROM {schema}.campaign_members",
        sql_conn_id=conn_id,
    )
    summary = op.execute({"ti": TI()})  # type: ignore[arg-type]
    assert summary["succeeded"] == len(LEADS)

    lineage = op.get_openlineage_facets_on_complete(None)

    [table] = lineage.inputs
    database = pg_uri.rsplit("/", 1)[1]
    assert (table.namespace, table.name) == (
        "postgres://127.0.0.1:5432",
        f"{database}.{schema}.campaign_members",
    )
    # The demo client has ZohoCRM.org.READ: the namespace names the org read with GET /org.
    [related_list] = lineage.outputs
    host = zoho.base_url.removeprefix("http://")
    org_id = zoho.admin.get_config()["org_id"]
    assert (related_list.namespace, related_list.name) == (f"zohocrm://{host}/{org_id}", "Campaigns.Leads")


def test_records_from_xcom_have_no_input_dataset(zoho):
    op = UpdateRelatedRecordsOperator(
        task_id="relate",
        module="Campaigns",
        related_list="Leads",
        records=[{"record_id": CAMPAIGN, "id": lead} for lead in LEADS],
    )
    op.execute({"ti": TI()})  # type: ignore[arg-type]
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == []
    assert [d.name for d in lineage.outputs] == ["Campaigns.Leads"]


def test_without_the_org_scope_the_namespace_is_the_api_host(zoho, monkeypatch):
    creds = zoho.admin.create_credentials(scopes=["ZohoCRM.modules.ALL"])
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho.connection_json(credentials=creds))
    op = UpdateRelatedRecordsOperator(
        task_id="relate",
        module="Campaigns",
        related_list="Leads",
        records=[{"record_id": CAMPAIGN, "id": LEADS[0]}],
    )
    op.execute({"ti": TI()})  # type: ignore[arg-type]
    [related_list] = op.get_openlineage_facets_on_complete(None).outputs
    assert related_list.namespace == "zohocrm://" + zoho.base_url.removeprefix("http://")


def test_a_task_refused_before_any_call_reports_no_zoho_output(zoho):
    op = UpdateRelatedRecordsOperator(
        task_id="relate", module="Campaigns", related_list="Leads", records=[], sql="x"
    )
    with pytest.raises(Exception, match="exactly one input"):
        op.execute({"ti": TI()})  # type: ignore[arg-type]
    lineage = op.get_openlineage_facets_on_complete(None)
    assert (lineage.inputs, lineage.outputs) == ([], [])
