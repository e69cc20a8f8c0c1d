"""An incremental mirror run (state table on Postgres) SIGKILLed mid-run, then run again.

Day 1 relates 24 campaigns x 100 leads and fills the state table. Day 2 changes 40 statuses and
adds 10 leads per campaign (one PUT each) and drops 10 (one DELETE each): 48 calls, PUTs first, of
which the emulator answers 8 (or 30: 24 PUTs and 6 DELETEs) and holds the rest, so the task process
is killed with calls in flight,
acknowledged answers not all written to the table, and the killed try's task_state_store half
written. The re-run in the same DAG run ends with Zoho equal to day 2's input, and the state table
equal to what Zoho holds: a row per relation, each with the hash of the fields Zoho holds.

Task processes run on a private Airflow home and metadata DB, as in test_rel_kill.py.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from airflow_provider_zohorel.operators.state_table import fields_hash
from airflow_provider_zohorel.zoho.planning import canonical_json
from tests.dag_runs import PrivateAirflow, keep_output, private_airflow
from tests.reliability.accounting import expected_items, held_relations
from tests.reliability.rel_support import memberships, seed_world
from tests.reliability.task_processes import TASK_ID, create_run, start_task

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]

DAG_ID = "rel_sync_kill"
OWNER = f"{DAG_ID}.{TASK_ID}"


def run_to_the_end(airflow: PrivateAirflow, run_id: str, log: Path) -> None:
    process = start_task(airflow, DAG_ID, run_id, log)
    assert process.wait(timeout=180) == 0, log.read_text(errors="replace")[-3000:]
    keep_output(f"reliability-sync-kill-{run_id}", log.read_text(errors="replace"))


def state_rows(uri: str, table: str) -> dict[tuple[str, str], str]:
    import psycopg

    with psycopg.connect(uri) as conn:
        rows = conn.execute(
            f"SELECT parent_id, related_id, fields_hash FROM {table} WHERE owner = %s", (OWNER,)
        ).fetchall()
    return {(p, r): h for p, r, h in rows}


@pytest.mark.parametrize("answered", [8, 30], ids=["killed_among_updates", "killed_among_delinks"])
def test_a_killed_incremental_run_then_a_rerun_leave_zoho_and_the_table_equal_to_the_input(
    zoho, airflow_db, tmp_path, postgres_uri, monkeypatch, request, answered
):
    table = f"sync_state_{uuid.uuid4().hex[:10]}"
    request.addfinalizer(lambda: drop(postgres_uri, table))
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_PG", postgres_uri)
    world = seed_world(zoho.admin, campaigns=24, leads=110)
    day1 = memberships(world.campaigns, world.leads[:100], status="Sent")
    day2 = memberships(world.campaigns, world.leads[:40], status="Active")
    day2 += memberships(world.campaigns, world.leads[40:90], status="Sent")  # unchanged
    day2 += memberships(world.campaigns, world.leads[100:110], status="Active")  # new
    airflow = private_airflow(tmp_path)
    conf = {"module": "Campaigns", "related_list": "Leads", "state_table": table}
    tag = f"{os.getpid()}_{time.monotonic_ns()}"

    create_run(airflow, DAG_ID, f"day1_{tag}", {**conf, "records": day1})
    run_to_the_end(airflow, f"day1_{tag}", tmp_path / "day1.log")
    assert len(state_rows(postgres_uri, table)) == 2400

    zoho.admin.reset_counters()
    zoho.admin.patch_config(latency_ms=50, hold_after_requests=answered)
    run_id = f"day2_{tag}"
    create_run(airflow, DAG_ID, run_id, {**conf, "records": day2})
    first = start_task(airflow, DAG_ID, run_id, tmp_path / "killed.log")
    deadline = time.monotonic() + 120
    try:
        while not zoho.admin.counters()["held_requests"]:
            assert first.poll() is None, "the task ended before it could be killed"
            assert time.monotonic() < deadline, "the task sent nothing in time"
            time.sleep(0.01)  # polling the emulator, with a deadline
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    keep_output(
        f"reliability-sync-kill-{run_id}-killed", (tmp_path / "killed.log").read_text(errors="replace")
    )
    zoho.admin.patch_config(latency_ms=0, hold_after_requests=None)
    while zoho.admin.counters()["in_flight"]:  # the dead worker's calls still complete on Zoho's side
        assert time.monotonic() < deadline, "calls of the killed worker never completed"
        time.sleep(0.01)
    killed = zoho.admin.counters()["crm_requests"]
    assert answered <= killed < 48, f"killed before or after the interesting part: {killed} calls"

    run_to_the_end(airflow, run_id, tmp_path / "rerun.log")

    expected = expected_items(day2)
    held = held_relations(zoho.admin, "Campaigns-Leads", "Campaigns")
    assert set(held) == set(expected), "Zoho does not hold exactly day 2's input"
    assert all(held[key]["Member_Status"] == fields["Member_Status"] for key, fields in expected.items())
    rows = state_rows(postgres_uri, table)
    assert set(rows) == set(held), "the state table does not list exactly what Zoho holds"
    wrong = [
        key
        for key, h in rows.items()
        if h != fields_hash(canonical_json({"Member_Status": held[key]["Member_Status"]}))
    ]
    assert not wrong, f"rows whose hash is not what Zoho holds: {wrong[:5]}"


def drop(uri: str, table: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
