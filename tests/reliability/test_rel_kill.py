"""A worker killed with SIGKILL mid-run, then the task run again in the same DAG run.

A real task process (``airflow tasks test <dag> <task> <run_id>``, which runs the task in an
existing DAG run with the real task runner, execution API and ``task_state_store``) relates 2,400
items in 24 batches against an emulator that answers 8 calls and then holds the rest. Once calls
are held and the task has written at least one chunk of finished batches to the store, the process
group is killed, as the OOM killer or a lost node would; then the task runs again in the same DAG run. The
final state is complete, nothing is related twice, the batches the killed try had recorded as
finished are not sent again, and the ones it finished after its last write are sent again (and
counted: Zoho answers "relation updated").

The task processes run on a private Airflow home and metadata DB (:func:`tests.dag_runs.private_airflow`):
a process killed while it writes must not touch the session's DB, which other suites read after.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.dag_runs import PrivateAirflow, keep_output, private_airflow
from tests.reliability.accounting import assert_accounted, held_relations
from tests.reliability.rel_support import memberships, seed_world
from tests.reliability.task_processes import TASK_ID, create_run, start_task

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]  # two task processes: ~20-40 s

DAG_ID = "rel_kill"


def recorded_batches(airflow: PrivateAirflow, run_id: str) -> set[str]:
    """Keys of the batches the task has recorded as finished in ``task_state_store`` (in chunks)."""
    from airflow.models.task_state_store import TaskStateStoreModel

    from airflow_provider_zohorel.operators.resume import CHUNK_PREFIX

    with airflow.session() as session:
        rows = session.query(TaskStateStoreModel).filter_by(dag_id=DAG_ID, run_id=run_id, task_id=TASK_ID)
        chunks = [json.loads(row.value) for row in rows if row.key.startswith(CHUNK_PREFIX)]
    return {key for chunk in chunks for key in chunk}


def task_outcome(airflow: PrivateAirflow, run_id: str) -> tuple[str, dict]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    with airflow.session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id=DAG_ID, run_id=run_id, task_id=TASK_ID).one()
        xcom = (
            session.query(XComModel)
            .filter_by(dag_id=DAG_ID, run_id=run_id, task_id=TASK_ID, key="return_value")
            .one_or_none()
        )
        return str(ti.state), (xcom.value if xcom is not None else None)


def test_a_killed_worker_loses_nothing_and_the_rerun_resumes(zoho, airflow_db, tmp_path):
    world = seed_world(zoho.admin, campaigns=24, leads=100)
    records = memberships(world.campaigns, world.leads, status="Sent")
    # The emulator answers 8 calls (4 rounds of 2), then holds every later call until released:
    # the task cannot finish before the kill, however fast or slow this machine is.
    zoho.admin.patch_config(latency_ms=50, hold_after_requests=8)
    run_id = f"kill_{os.getpid()}_{time.monotonic_ns()}"
    airflow = private_airflow(tmp_path)
    create_run(airflow, DAG_ID, run_id, {"module": "Campaigns", "related_list": "Leads", "records": records})

    first = start_task(airflow, DAG_ID, run_id, tmp_path / "first.log")
    deadline = time.monotonic() + 120
    try:
        # Calls held, and at least one chunk of finished batches written to the store (resume
        # writes are coalesced: the first comes about 1 s after the task opened its store).
        while not zoho.admin.counters()["held_requests"] or not recorded_batches(airflow, run_id):
            assert first.poll() is None, "the task ended before it could be killed"
            assert time.monotonic() < deadline, "the task related nothing in time"
            time.sleep(0.01)  # polling the emulator and the store, with a deadline
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    keep_output(f"reliability-kill-{run_id}-first", (tmp_path / "first.log").read_text(errors="replace"))
    # Calls the dead worker had in flight still complete on Zoho's side: release them and wait
    # until none is left.
    zoho.admin.patch_config(latency_ms=0, hold_after_requests=None)
    while zoho.admin.counters()["in_flight"]:
        assert time.monotonic() < deadline, "calls of the killed worker never completed"
        time.sleep(0.01)

    after_kill = held_relations(zoho.admin, "Campaigns-Leads", "Campaigns")
    recorded = recorded_batches(airflow, run_id)
    killed_counters = zoho.admin.counters()
    assert 800 <= len(after_kill) < 2400, "killed before or after the interesting part"
    assert recorded, "the killed try recorded no finished batch in task_state_store"
    # Finished on Zoho's side but not yet written to the store when the kill came: sent again.
    finished_not_recorded = len(after_kill) // 100 - len(recorded)
    assert finished_not_recorded >= 0

    second = start_task(airflow, DAG_ID, run_id, tmp_path / "second.log")
    assert second.wait(timeout=180) == 0, (tmp_path / "second.log").read_text(errors="replace")[-3000:]
    keep_output(f"reliability-kill-{run_id}-second", (tmp_path / "second.log").read_text(errors="replace"))

    airflow.keep_for_the_secrets_scan(f"reliability-kill-{run_id}-metadata")
    state, summary = task_outcome(airflow, run_id)
    assert state == "success"
    assert_accounted(records, summary, zoho.admin, scenario="worker killed, task re-run")
    counters = zoho.admin.counters()
    # Resumed: every batch the killed try had recorded is skipped, and only those.
    assert summary["resumed_batches"] == len(recorded)
    assert summary["resumed_items"] == 100 * len(recorded)
    sent_again = counters["crm_requests"] - killed_counters["crm_requests"]
    assert sent_again == 24 - len(recorded)
    # No duplicates: each relation was added exactly once over both tries; the batches the killed
    # try had finished without recording them (the last unwritten chunk, and calls in flight at the
    # kill) were sent again and updated, not added again.
    assert counters["relations_added"] == 2400
    assert counters["relations_updated"] == 100 * finished_not_recorded
    print(
        f"killed after {len(after_kill) // 100} of 24 batches; {len(recorded)} recorded; "
        f"{finished_not_recorded} finished but not recorded, sent again; {sent_again} sent by the re-run"
    )
