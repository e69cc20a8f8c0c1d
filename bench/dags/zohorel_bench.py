"""The benchmark's DAGs: what a user writes, with the default settings (``resume=True``, progress
lines every 5 s), relating the rows of a SQL table. One DAG per (cap, resume) pair, because
``max_concurrency`` is fixed when the DAG is parsed. ``zohorel_bench_warmup`` relates the first
100 rows, so a freshly started deployment has served one task before the measured ones.

The ``warehouse`` connection and the ``members`` table (``record_id, id, Member_Status``) are set
up by bench/airflow_task.py, which runs these DAGs with ``airflow dags test`` and through a
deployment.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")

for cap in (10, 25):
    for resume in (True, False):
        dag_id = f"zohorel_bench_c{cap}" + ("" if resume else "_no_resume")
        with DAG(dag_id, schedule=None, start_date=START, catchup=False, tags=["benchmark"]):
            UpdateRelatedRecordsOperator(
                task_id="relate",
                module="Campaigns",
                related_list="Leads",
                sql="SELECT record_id, id, Member_Status FROM members",
                sql_conn_id="warehouse",
                max_concurrency=cap,
                **({} if resume else {"resume": False}),
            )

with DAG("zohorel_bench_warmup", schedule=None, start_date=START, catchup=False, tags=["benchmark"]):
    UpdateRelatedRecordsOperator(
        task_id="relate",
        module="Campaigns",
        related_list="Leads",
        sql="SELECT record_id, id, Member_Status FROM members LIMIT 100",
        sql_conn_id="warehouse",
    )
