"""Example 4: a large table split into shards, one mapped task per shard, on many workers, within
one deployment-wide Zoho budget.

Each shard is one ``sql`` query over a slice of the parents (``record_id % SHARDS``), so a parent's
items stay in one task and the number of calls stays minimal. ``.partial().expand()`` creates a
task per shard; on the CeleryExecutor (or Kubernetes) they spread over the workers.

The Zoho budget is the connection's, not a pool's: give ``zoho_crm_default`` a shared concurrency
budget sized to your edition's cap (README, "Scaling out"), and a shared token cache:

    {"refresh_token": "...", "concurrency_budget": "redis://redis-host:6379/0",
     "concurrency_cap": "standard", "cache_backend": "redis://redis-host:6379/0"}

Every call of every shard then takes one of the cap's slots while it is on the wire, so the whole
deployment never has more than the cap in flight, and each shard may use all of it
(``max_concurrency`` = the cap): when some shards wait for a worker or finish early, the others
use their slots. A killed worker's slots come back after their lease, and its shard's retry
resumes from what it finished (task state store, Airflow 3.3). The whole cluster mints one token.

Without a shared budget, size ``max_concurrency`` so that the shards that can run at once stay
within the cap (cap / shards running at once), or run them in an Airflow pool.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Connection, Param, task

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

SHARDS = 8
#: Zoho Standard edition: 10 calls in flight for the whole deployment (the connection's budget).
CAP = 10
TABLE = "campaign_members"
#: Demo rows (the emulator's demo seed): 48 leads in each of 3 campaigns.
DEMO_ROWS = [
    (campaign, f"36523970000018290{lead:02d}", "Sent")
    for campaign in ("3652397000000327001", "3652397000001854001", "3652397000002000001")
    for lead in range(3, 51)
]

with DAG(
    dag_id="zoho_scale_out",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md=__doc__,
    params={"demo_rows": Param(True, type="boolean", description="load the demo rows first")},
):

    @task
    def load_campaign_members(params: dict[str, object] | None = None) -> None:
        """Stands for your warehouse load: writes the demo rows (skipped when the table is yours)."""
        if params is not None and not params.get("demo_rows", True):
            return
        hook = Connection.get("warehouse").get_hook()
        hook.run(
            [
                f"CREATE TABLE IF NOT EXISTS {TABLE} (record_id VARCHAR(19), id VARCHAR(19), "
                "Member_Status VARCHAR(40))",
                f"DELETE FROM {TABLE}",
            ]
        )
        hook.insert_rows(TABLE, DEMO_ROWS, target_fields=["record_id", "id", "Member_Status"])

    @task
    def shard_queries() -> list[str]:
        """One query per shard of parents: every item of a parent lands in the same shard."""
        return [
            f"SELECT record_id, id, Member_Status FROM {TABLE} "
            f"WHERE CAST(record_id AS INTEGER) % {SHARDS} = {n}"
            for n in range(SHARDS)
        ]

    relate = UpdateRelatedRecordsOperator.partial(
        task_id="relate_shard",
        module="Campaigns",
        related_list="Leads",
        sql_conn_id="warehouse",
        max_concurrency=CAP,  # each shard may use the whole budget; the budget keeps the sum
        request_timeout=30,  # a slot's lease: connect (10 s) + this + 5 s
        retries=2,
        retry_delay=pendulum.duration(seconds=10),
    ).expand(sql=shard_queries())

    load_campaign_members() >> relate
