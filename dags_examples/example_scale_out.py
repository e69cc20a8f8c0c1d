"""Example 4: a large table split into shards, one mapped task per shard, sharing one Zoho budget.

Each shard is one ``sql`` query over a slice of the parents (so a parent's items stay in one
task and the number of calls stays minimal). ``.partial().expand()`` creates a task per shard;
on a Celery or Kubernetes executor they spread over the workers. All of them run in the
``zoho_api`` pool: give the pool as many slots as your Zoho edition allows concurrent calls
(Free 5, Standard 10, Professional 15, Enterprise 20, Ultimate 25) and let each task take
``pool_slots = max_concurrency`` of them, so the whole deployment never exceeds the cap:

    airflow pools set zoho_api 10 "Zoho CRM concurrency (Standard edition)"

Tokens are shared too: workers on one machine reuse one cached access token per connection.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, task

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

SHARDS = 4
PER_TASK_CONCURRENCY = 5

LOAD_SQL = [
    "CREATE TABLE IF NOT EXISTS campaign_leads_large (record_id VARCHAR(19), id VARCHAR(19), "
    "Member_Status VARCHAR(40), shard INTEGER)",
    "DELETE FROM campaign_leads_large",
    *(
        f"INSERT INTO campaign_leads_large VALUES "
        f"('{campaign}', '36523970000018290{lead:02d}', 'Sent', {shard})"
        for shard, campaign in enumerate(
            ["3652397000000327001", "3652397000001854001", "3652397000002000001"]
        )
        for lead in range(3, 51)
    ),
]

with DAG(
    dag_id="zoho_scale_out",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md=__doc__,
):
    load = SQLExecuteQueryOperator(task_id="load_campaign_leads", conn_id="warehouse", sql=LOAD_SQL)

    @task
    def shard_queries() -> list[str]:
        """One query per shard; the shard column was assigned by parent when the table was loaded."""
        return [
            f"SELECT record_id, id, Member_Status FROM campaign_leads_large WHERE shard = {n}"
            for n in range(SHARDS)
        ]

    relate = UpdateRelatedRecordsOperator.partial(
        task_id="relate_shard",
        module="Campaigns",
        related_list="Leads",
        sql_conn_id="warehouse",
        max_concurrency=PER_TASK_CONCURRENCY,
        pool="zoho_api",
        pool_slots=PER_TASK_CONCURRENCY,
        retries=2,
    ).expand(sql=shard_queries())

    load >> relate
