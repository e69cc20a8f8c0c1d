"""DAGs of the reliability and security suites (tests/reliability, tests/security), inputs via conf.

``render_template_as_native_obj`` makes ``{{ dag_run.conf['records'] }}`` render to the native list.
Retries inside a call are fast (no real backoff) so fault scenarios stay quick.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from airflow_provider_zohorel.zoho.retry import RetryPolicy

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CONF = "{{ dag_run.conf['%s'] }}"
FAST = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01, deadline=60.0)

SCENARIOS: dict[str, dict[str, Any]] = {
    # A worker is killed mid-run, then the task runs again in the same DAG run.
    "rel_kill": {"max_concurrency": 2, "request_retry": FAST},
    # Random faults on 10% of calls in a real DAG run.
    "rel_faults": {"max_concurrency": 4, "request_retry": FAST},
    # Bad input: the task fails without a retry and without calling Zoho.
    "rel_input": {"retries": 2, "retry_delay": pendulum.duration(seconds=0)},
    # The security suite's runs: a secret must not show up anywhere, whatever the outcome.
    "sec_run": {"request_retry": FAST},
}

# Issue 11: an incremental mirror run (state table on Postgres) killed mid-run, then re-run.
SCENARIOS["rel_sync_kill"] = {
    "max_concurrency": 2,
    "request_retry": FAST,
    "mode": "mirror",
    "max_delink_ratio": 1.0,
    "sql_conn_id": "sync_pg",
    "state_table": CONF % "state_table",
}

for dag_id, kwargs in SCENARIOS.items():
    with DAG(
        dag_id, schedule=None, start_date=START, render_template_as_native_obj=True, tags=["reliability"]
    ):
        UpdateRelatedRecordsOperator(
            task_id="relate",
            module=CONF % "module",
            related_list=CONF % "related_list",
            records=CONF % "records",
            progress_interval=0.2,
            **kwargs,
        )
