"""Running real DAGs in tests: one metadata database per session, ``dag.test()``, states and XComs.

Shared by the e2e, reliability and security suites (``from tests.dag_runs import ...``).
``dag.test()`` needs the DAG's file in a configured bundle;
tests/conftest.py configures two: tests/dags and dags_examples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
TEST_DAGS = TESTS / "dags"
EXAMPLE_DAGS = TESTS.parent / "dags_examples"
#: Where DAG runs' printed output is kept, for the security suite's scan for secrets.
RUN_OUTPUT = Path(os.environ["AIRFLOW_HOME"]).parent / "dag-run-output"


def keep_output(name: str, text: str) -> None:
    """Keep a DAG run's output (appended under ``name``) for the scan for secrets."""
    RUN_OUTPUT.mkdir(parents=True, exist_ok=True)
    with (RUN_OUTPUT / f"{name}.log").open("a", encoding="utf-8") as handle:
        handle.write(text)


_reset_done = False


def reset_metadata_db_once() -> None:
    """A fresh metadata DB the first time any suite asks in this session; later calls keep it, so the
    security suite's scan of XComs and rendered fields sees every suite's runs."""
    global _reset_done
    if not _reset_done:
        from airflow.utils import db

        db.resetdb()
        _reset_done = True


def dag_bag(folder: Path) -> Any:
    """A DagBag of ``folder`` (the class moved to airflow.dag_processing in 3.1)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=str(folder))


@dataclass
class DagResult:
    """A finished run: its state and, per task (``task_id`` or ``task_id[map_index]``), the state,
    try number and ``return_value`` XCom. ``output`` is what the run printed, when captured."""

    state: str
    run_id: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    output: str = ""

    def summary(self, task_id: str = "relate") -> Any:
        return self.tasks[task_id]["xcom"]

    def task_state(self, task_id: str = "relate") -> str:
        return str(self.tasks[task_id]["state"])

    def tries(self, task_id: str = "relate") -> int:
        return int(self.tasks[task_id]["try_number"])


def run_dag_test(dag_id: str, folder: Path = TEST_DAGS, conf: dict[str, Any] | None = None) -> DagResult:
    """Run ``dag_id`` from ``folder`` with ``dag.test()`` (retries included) and collect the result."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag = dag_bag(folder).get_dag(dag_id)
    assert dag is not None, f"DAG {dag_id} not found in {folder}"
    run = dag.test(run_conf=conf or {})
    result = DagResult(state=str(run.state), run_id=run.run_id)
    with create_session() as session:
        for ti in run.get_task_instances(session=session):
            xcom = (
                session.query(XComModel)
                .filter_by(
                    dag_id=dag_id,
                    run_id=run.run_id,
                    task_id=ti.task_id,
                    map_index=ti.map_index,
                    key="return_value",
                )
                .one_or_none()
            )
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            result.tasks[key] = {
                "state": str(ti.state),
                "try_number": ti.try_number,
                "xcom": xcom.value if xcom is not None else None,
            }
    return result
