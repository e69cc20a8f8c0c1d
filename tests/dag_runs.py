"""Running real DAGs in tests: one metadata database per session, ``dag.test()``, states and XComs.

Shared by the e2e, reliability and security suites (``from tests.dag_runs import ...``).
``dag.test()`` needs the DAG's file in a configured bundle;
tests/conftest.py configures two: tests/dags and dags_examples.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
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


@dataclass(frozen=True)
class PrivateAirflow:
    """An Airflow home and SQLite metadata DB of one test, for the Airflow processes it starts.

    Processes that write the metadata DB (``airflow tasks test``), and above all processes a test
    kills with SIGKILL, must not share the session's DB: the security suite reads every XCom and
    rendered field of it at the end, and a DB that several processes write and one dies writing
    is the one thing SQLite does not promise to keep whole. The test reads this DB through
    :meth:`session`, never through Airflow's session (which stays on the session DB).
    """

    home: Path
    url: str
    env: dict[str, str]

    @contextmanager
    def session(self) -> Iterator[Any]:
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        engine = create_engine(self.url)
        try:
            with Session(engine) as session:
                yield session
                session.commit()
        finally:
            engine.dispose()

    def keep_for_the_secrets_scan(self, name: str) -> None:
        """Keep this DB's XComs and rendered fields, and the task logs under this home, as run
        output: the security suite's scan reads only the session's DB and home."""
        from airflow.models.renderedtifields import RenderedTaskInstanceFields
        from airflow.models.xcom import XComModel

        lines = []
        with self.session() as session:
            lines += [f"xcom {x.run_id}/{x.task_id}: {x.value!r}" for x in session.query(XComModel)]
            rendered = session.query(RenderedTaskInstanceFields)
            lines += [f"rendered {r.run_id}/{r.task_id}: {r.rendered_fields!r}" for r in rendered]
        logs = self.home / "logs"
        for path in sorted(p for p in logs.rglob("*") if p.is_file()) if logs.exists() else []:
            lines.append(path.read_text(errors="replace"))
        keep_output(name, "\n".join(lines))


def private_airflow(directory: Path) -> PrivateAirflow:
    """A private home under ``directory`` whose DB is a copy of the session's freshly migrated one
    (SQLite's online backup: consistent, and seconds faster than ``airflow db migrate``).
    Call after the ``airflow_db`` fixture."""
    from airflow.configuration import conf

    home = directory / "airflow-home"
    home.mkdir(parents=True, exist_ok=True)
    database = home / "airflow.db"
    source_url = conf.get("database", "sql_alchemy_conn")
    assert source_url.startswith("sqlite:///"), source_url
    source_path = source_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(source_path)) as source, closing(sqlite3.connect(database)) as copy:
        source.backup(copy)
    url = f"sqlite:///{database}"
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url}
    return PrivateAirflow(home, url, env)


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

    def links(self, task_id: str = "relate") -> dict[str, Any]:
        """The task's extra links as the UI shows them: link class name -> URL."""
        return dict(self.tasks[task_id]["links"])

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
            links = (
                session.query(XComModel)
                .filter_by(dag_id=dag_id, run_id=run.run_id, task_id=ti.task_id, map_index=ti.map_index)
                .filter(XComModel.key.like("\\_link\\_%", escape="\\"))
                .all()
            )
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            result.tasks[key] = {
                "state": str(ti.state),
                "try_number": ti.try_number,
                "xcom": xcom.value if xcom is not None else None,
                "links": {row.key.removeprefix("_link_"): row.value for row in links},
            }
    return result
