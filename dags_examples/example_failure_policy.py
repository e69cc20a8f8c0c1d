"""Example 3: per-item failures soft-fail the task, and a downstream task retries what can be retried.

Zoho answers per item: some contacts may be related while others fail (a deleted contact gives
``INVALID_DATA``). Here bad ids do not fail the DAG: ``INVALID_DATA`` is a ``soft_fail`` (the
task ends *skipped*, the summary lists them), and every failed item is written to the
``zoho_failed_items`` table on the ``warehouse`` connection. ``retry_transient_failures`` joins
that table back to the source and re-sends only rows that failed for reasons a retry can fix,
and ``report_bad_rows`` lists the rest for a human.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, task

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

NEWSLETTER = "3652397000002000001"
TRANSIENT = "('TOO_MANY_REQUESTS', 'INTERNAL_ERROR', 'TIMEOUT', 'CONNECTION_ERROR', 'RECORD_LOCKED')"

LOAD_SQL = [
    "CREATE TABLE IF NOT EXISTS newsletter_contacts "
    "(record_id VARCHAR(19), id VARCHAR(19), Member_Status VARCHAR(40))",
    "DELETE FROM newsletter_contacts",
    *(
        f"INSERT INTO newsletter_contacts VALUES ('{NEWSLETTER}', '365239700000300{n:04d}', 'Active')"
        for n in range(1, 24)  # contacts 21..23 do not exist in the demo org: INVALID_DATA
    ),
]

with DAG(
    dag_id="zoho_failure_policy",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md=__doc__,
):
    load = SQLExecuteQueryOperator(task_id="load_newsletter_contacts", conn_id="warehouse", sql=LOAD_SQL)

    relate = UpdateRelatedRecordsOperator(
        task_id="relate_contacts_to_newsletter",
        module="Campaigns",
        related_list="Contacts",
        sql="SELECT record_id, id, Member_Status FROM newsletter_contacts",
        sql_conn_id="warehouse",
        item_code_policy={"INVALID_DATA": "soft_fail", "MANDATORY_NOT_FOUND": "soft_fail"},
        failed_items_table="zoho_failed_items",
    )

    retry = UpdateRelatedRecordsOperator(
        task_id="retry_transient_failures",
        trigger_rule="all_done",
        module="Campaigns",
        related_list="Contacts",
        sql=(
            "SELECT s.record_id, s.id, s.Member_Status FROM newsletter_contacts s "
            "JOIN zoho_failed_items f ON f.record_id = s.record_id AND f.related_id = s.id "
            "WHERE f.run_id = '{{ run_id }}' AND f.task_id = 'relate_contacts_to_newsletter' "
            f"AND f.code IN {TRANSIENT}"
        ),
        sql_conn_id="warehouse",
    )

    @task(trigger_rule="all_done")
    def report_bad_rows(summary: dict | None = None) -> list[dict]:
        """What a person must fix: the failed items the relate task pushed in its summary."""
        failed = (summary or {}).get("failed_items", [])
        for item in failed:
            print(
                f"fix in the warehouse: {item['record_id']} -> {item['id']}: {item['code']} {item['message']}"
            )
        return failed

    load >> relate >> retry
    report_bad_rows(relate.output)
