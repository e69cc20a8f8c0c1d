"""Task processes for the kill tests: a manual DAG run created as the UI's Trigger creates it, and
``airflow tasks test`` started in its own process group on a private Airflow home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pendulum

from tests.dag_runs import PrivateAirflow

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
TASK_ID = "relate"


def create_run(airflow: PrivateAirflow, dag_id: str, run_id: str, conf: dict[str, Any]) -> None:
    """A manual DAG run, as the UI's Trigger creates it (the DAG serialized from its bundle first)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    manager = DagBundlesManager()
    with airflow.session() as session:
        manager.sync_bundles_to_db(session=session)
    bundle = manager.get_bundle("tests")
    bundle.initialize()
    bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
    with airflow.session() as session:
        sync_bag_to_db(bag, bundle.name, bundle.version, session=session)
    now = pendulum.now("UTC")
    with airflow.session() as session:
        dag = SerializedDagModel.get_dag(dag_id, session=session)
        dag.create_dagrun(
            run_id=run_id,
            logical_date=now,
            data_interval=(now, now),
            run_after=now,
            conf=conf,
            run_type=DagRunType.MANUAL,
            triggered_by=DagRunTriggeredByType.TEST,
            state=DagRunState.RUNNING,
            session=session,
        )


def start_task(airflow: PrivateAirflow, dag_id: str, run_id: str, log: Path) -> subprocess.Popen[bytes]:
    """``airflow tasks test`` of the run's task, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [AIRFLOW, "tasks", "test", dag_id, TASK_ID, run_id],
            env=airflow.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes everything it started
        )
