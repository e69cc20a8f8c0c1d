"""DAGs the end-to-end tests run with dag.test(): one per operator configuration, inputs via conf.

``render_template_as_native_obj`` makes ``{{ dag_run.conf['records'] }}`` render to the native
list, as an XComArg would.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from airflow_provider_zohorel.zoho.locked_items import LockedRetryPolicy
from airflow_provider_zohorel.zoho.retry import RetryPolicy

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CONF = "{{ dag_run.conf['%s'] }}"

SCENARIOS: dict[str, dict[str, Any]] = {
    "e2e_records": {},
    "e2e_soft_fail_invalid": {"item_code_policy": {"INVALID_DATA": "soft_fail"}},
    "e2e_soft_fail_flag": {"soft_fail": True},
    "e2e_tolerant": {"max_failed_items": 2},
    "e2e_dry_run": {"dry_run": True},
    # One attempt per call: an injected 500 fails its batch at once, and the task retry resumes.
    "e2e_retry": {
        "retries": 1,
        "retry_delay": pendulum.duration(seconds=0),
        "max_concurrency": 1,
        "request_retry": RetryPolicy(max_attempts=1),
    },
    "e2e_no_resume": {
        "retries": 1,
        "retry_delay": pendulum.duration(seconds=0),
        "max_concurrency": 1,
        "request_retry": RetryPolicy(max_attempts=1),
        "resume": False,
    },
    # Issue 10: external ids, RECORD_LOCKED waits short enough for a test, the metadata check.
    "e2e_external": {"external": CONF % "external"},
    "e2e_locked": {
        "locked_retry": LockedRetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, max_total_wait=5),
        "max_concurrency": 2,
    },
    "e2e_validated": {
        "validate_related_list": True,
        "retries": 2,
        "retry_delay": pendulum.duration(seconds=0),
    },
}

for dag_id, kwargs in SCENARIOS.items():
    with DAG(dag_id, schedule=None, start_date=START, render_template_as_native_obj=True, tags=["e2e"]):
        UpdateRelatedRecordsOperator(
            task_id="relate",
            module=CONF % "module",
            related_list=CONF % "related_list",
            records=CONF % "records",
            progress_interval=0.5,
            **kwargs,
        )

with DAG("e2e_xcom", schedule=None, start_date=START, tags=["e2e"]):

    @task
    def produce(**context: Any) -> list[dict[str, Any]]:
        return list(context["dag_run"].conf["records"])

    UpdateRelatedRecordsOperator(
        task_id="relate", module="Campaigns", related_list="Leads", records=produce()
    )

with DAG("e2e_upstream_none", schedule=None, start_date=START, tags=["e2e"]):

    @task
    def produce_nothing() -> list[dict[str, Any]] | None:
        return None  # an upstream that forgot its return, or found nothing and said so with None

    relate = UpdateRelatedRecordsOperator(
        task_id="relate",
        module="Campaigns",
        related_list="Leads",
        records=produce_nothing(),
        retries=2,
        retry_delay=pendulum.duration(seconds=0),
    )

    @task(trigger_rule="all_done")
    def report(summary: dict[str, Any] | None) -> dict[str, Any] | None:
        """What a reporting task downstream receives from the failed task."""
        return summary

    report(relate.output)

with DAG("e2e_dataframe", schedule=None, start_date=START, tags=["e2e"]):

    @task
    def produce_frame(**context: Any) -> Any:
        import pandas as pd

        return pd.DataFrame(context["dag_run"].conf["records"])

    UpdateRelatedRecordsOperator(
        task_id="relate", module="Campaigns", related_list="Leads", records=produce_frame()
    )

with DAG("e2e_sql", schedule=None, start_date=START, render_template_as_native_obj=True, tags=["e2e"]):
    UpdateRelatedRecordsOperator(
        task_id="relate",
        module=CONF % "module",
        related_list=CONF % "related_list",
        sql=CONF % "sql",
        sql_conn_id=CONF % "sql_conn_id",
        failed_items_table="{{ dag_run.conf.get('failed_items_table') }}",
        fetch_size=5000,
        max_concurrency=10,
        retries=1,
        retry_delay=pendulum.duration(seconds=0),
    )

with DAG(
    "e2e_sql_file",
    schedule=None,
    start_date=START,
    template_searchpath=[str(__import__("pathlib").Path(__file__).parent / "sql")],
    params={"campaign": "3652397000000327001", "skip_lead": "3652397000001829003"},
    tags=["e2e"],
):
    UpdateRelatedRecordsOperator(
        task_id="relate",
        module="Campaigns",
        related_list="Leads",
        sql="campaign_members.sql",
        sql_conn_id="warehouse",
    )
