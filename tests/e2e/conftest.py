"""Fixtures for running real DAGs with dag.test() against the emulator (and Postgres)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    ZohoEmulator,
)

TESTS = Path(__file__).resolve().parents[1]
FOLDERS = {"tests": TESTS / "dags", "examples": TESTS.parent / "dags_examples"}
PG_URI = "postgresql://postgres@127.0.0.1:5432/test"


def dag_bag(folder: Path) -> Any:
    """A DagBag of ``folder`` (the class moved to airflow.dag_processing in 3.1)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=str(folder))


@pytest.fixture
def load_dag_bag() -> Callable[[Path], Any]:
    """``load_dag_bag(folder)`` -> DagBag, on any Airflow 3 version."""
    return dag_bag


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh metadata database for the session (SQLite in the test AIRFLOW_HOME)."""
    from airflow.utils import db

    db.resetdb()


def zoho_connection(base_url: str, api_version: str = "v8", **extra: Any) -> str:
    return json.dumps(
        {
            "conn_type": "zoho_crm",
            "login": DEMO_CLIENT_ID,
            "password": DEMO_CLIENT_SECRET,
            "extra": {
                "refresh_token": DEMO_REFRESH_TOKEN,
                "accounts_url": base_url,
                "api_version": api_version,
                **extra,
            },
        }
    )


@pytest.fixture
def pg_uri() -> str:
    """The Postgres database the warehouse tests use (trust auth on this machine)."""
    return PG_URI


@pytest.fixture
def make_zoho_connection() -> Callable[..., str]:
    """``make_zoho_connection(base_url, api_version="v8", **extra)`` -> AIRFLOW_CONN_* JSON."""
    return zoho_connection


@pytest.fixture
def zoho(zoho_emulator_demo: ZohoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ZohoEmulator:
    """The emulator with the demo seed, and ``zoho_crm_default`` pointing at it.

    The emulator forgets its tokens on reset, so each test gets its own token cache too.
    """
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho_connection(zoho_emulator_demo.base_url))
    monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(tmp_path / "token-cache"))
    return zoho_emulator_demo


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite ``warehouse`` connection (what the example DAGs load into)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "wh.db")})
    )
    return "warehouse"


@pytest.fixture
def pg_warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A Postgres ``warehouse_pg`` connection and a private schema (dropped afterwards)."""
    import psycopg

    schema = f"zohorel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URI, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_PG",
        "postgresql://postgres@127.0.0.1:5432/test",
    )
    try:
        yield "warehouse_pg", schema
    finally:
        with psycopg.connect(PG_URI, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class DagResult:
    state: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self, task_id: str = "relate") -> dict[str, Any]:
        return self.tasks[task_id]["xcom"]

    def task_state(self, task_id: str = "relate") -> str:
        return self.tasks[task_id]["state"]

    def tries(self, task_id: str = "relate") -> int:
        return self.tasks[task_id]["try_number"]


def _run(dag_id: str, conf: dict[str, Any] | None = None, bundle: str = "tests") -> DagResult:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag = dag_bag(FOLDERS[bundle]).get_dag(dag_id)
    assert dag is not None, f"DAG {dag_id} not found in {FOLDERS[bundle]}"
    run = dag.test(run_conf=conf or {})
    result = DagResult(state=str(run.state))
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


@pytest.fixture
def run_dag(airflow_db: None) -> Callable[..., DagResult]:
    """``run_dag(dag_id, conf=None, bundle="tests")`` -> states, tries and return values per task."""
    return _run
