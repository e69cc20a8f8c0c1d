"""The warehouse path on a real Postgres: a 100,000-row table streamed through ``sql=`` (server-side
cursor, never in XCom), and every failed item written back to a table for a downstream retry."""

from __future__ import annotations

import psycopg
import pytest

from airflow_provider_zohorel._compat import AIRFLOW_V_3_3_PLUS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

STATUSES = ("Planning", "Active", "Sent", "Opened")


def load_members(pg_uri: str, schema: str, rows: list[tuple[str, str, str]]) -> None:
    with psycopg.connect(pg_uri) as conn:
        conn.execute(
            f"CREATE TABLE {schema}.campaign_members "
            "(campaign_id VARCHAR(19), lead_id VARCHAR(19), member_status TEXT)"
        )
        with conn.cursor().copy(f"COPY {schema}.campaign_members FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def sql_conf(schema: str, conn_id: str, **extra):
    return {
        "module": "Campaigns",
        "related_list": "Leads",
        # member_status comes back lower-cased from Postgres; it is matched to Member_Status
        "sql": f"SELECT campaign_id AS record_id, lead_id AS id, member_status "
        f"FROM {schema}.campaign_members",
        "sql_conn_id": conn_id,
        **extra,
    }


def test_100k_rows_stream_from_postgres_and_land_exactly(zoho, pg_warehouse, pg_uri, run_dag):
    conn_id, schema = pg_warehouse
    campaigns = zoho.admin.add_records("Campaigns", count=1000)
    leads = zoho.admin.add_records("Leads", count=100)
    rows = [(c, lead, STATUSES[(i + j) % 4]) for i, c in enumerate(campaigns) for j, lead in enumerate(leads)]
    load_members(pg_uri, schema, rows)
    zoho.admin.reset_counters()

    result = run_dag("e2e_sql", conf=sql_conf(schema, conn_id))

    assert result.state == "success"
    summary = result.summary()
    assert (summary["total"], summary["succeeded"], summary["added"], summary["failed"]) == (100_000,) * 3 + (
        0,
    )
    assert summary["api_calls"] == 1000  # exactly sum(ceil(100 / 100)) over 1000 campaigns
    assert zoho.admin.counters()["crm_requests"] == 1000
    held = {
        (r.first_id, r.second_id, r.fields.get("Member_Status")) if r.first_module == "Campaigns"
        else (r.second_id, r.first_id, r.fields.get("Member_Status"))
        for r in zoho.admin.export_relations()
    }  # fmt: skip
    assert held == set(rows)


def test_failed_items_are_written_to_a_postgres_table(zoho, pg_warehouse, pg_uri, run_dag):
    conn_id, schema = pg_warehouse
    campaign = "3652397000000327001"
    leads = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 51))]
    unknown = [f"36523970000099990{n:02d}" for n in range(12)]
    load_members(pg_uri, schema, [(campaign, lead, "Active") for lead in leads + unknown])

    result = run_dag(
        "e2e_sql", conf=sql_conf(schema, conn_id, failed_items_table=f"{schema}.zoho_failed_items")
    )

    assert result.task_state() == "failed"  # INVALID_DATA fails by default (retried once, resumed)
    summary = result.summary()
    assert summary["by_code"] == {"INVALID_DATA": 12, "SUCCESS": 49}
    # With the state store (3.3+) the retry re-sent only the 12 failures; before, everything.
    assert summary["resumed_items"] == (49 if AIRFLOW_V_3_3_PLUS else 0)
    with psycopg.connect(pg_uri) as conn:
        rows = conn.execute(
            f"SELECT try_number, record_id, related_id, code, run_id, task_id FROM {schema}.zoho_failed_items"
        ).fetchall()
    by_try = {t: sorted(r[2] for r in rows if r[0] == t) for t in {r[0] for r in rows}}
    assert by_try == {1: sorted(unknown), 2: sorted(unknown)}  # every failure of every try, with context
    assert {(r[1], r[3], r[5]) for r in rows} == {(campaign, "INVALID_DATA", "relate")}
    with psycopg.connect(pg_uri) as conn:
        [(column_type,)] = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'zoho_failed_items' AND column_name = 'failed_at'",
            (schema,),
        ).fetchall()
    assert column_type == "timestamp without time zone"

    # The latest try only: what is still failing after the run, through the provider's reader.
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from airflow_provider_zohorel.operators.failed_items import read_latest_failed_items

    latest = read_latest_failed_items(
        PostgresHook(postgres_conn_id=conn_id),
        f"{schema}.zoho_failed_items",
        dag_id="e2e_sql",
        task_id="relate",
        run_id=result.run_id,
    )
    assert sorted(r["related_id"] for r in latest) == sorted(unknown)
    assert {r["try_number"] for r in latest} == {2}
