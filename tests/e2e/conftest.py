"""Fixtures for running real DAGs with dag.test() against the emulator (and Postgres)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import (
    ZohoEmulator,
    connection_json,
)
from tests.dag_runs import EXAMPLE_DAGS, TEST_DAGS, DagResult, dag_bag, run_dag_test

FOLDERS = {"tests": TEST_DAGS, "examples": EXAMPLE_DAGS}


@pytest.fixture
def load_dag_bag() -> Callable[[Path], Any]:
    """``load_dag_bag(folder)`` -> DagBag, on any Airflow 3 version."""
    return dag_bag


@pytest.fixture
def pg_uri(postgres_uri: str) -> str:
    """The Postgres database the warehouse tests use: the session's own (tests/services.py)."""
    return postgres_uri


@pytest.fixture
def make_zoho_connection() -> Callable[..., str]:
    """``make_zoho_connection(base_url, api_version="v8", **extra)`` -> AIRFLOW_CONN_* JSON."""
    return connection_json


@pytest.fixture
def zoho(zoho_emulator_demo: ZohoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ZohoEmulator:
    """The emulator with the demo seed, and ``zoho_crm_default`` pointing at it.

    The emulator forgets its tokens on reset, so each test gets its own token cache too.
    """
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho_emulator_demo.connection_json())
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
def pg_warehouse(pg_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A Postgres ``warehouse_pg`` connection and a private schema (dropped afterwards)."""
    import psycopg

    schema = f"zohorel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_uri, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_PG", pg_uri)
    try:
        yield "warehouse_pg", schema
    finally:
        with psycopg.connect(pg_uri, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _run(dag_id: str, conf: dict[str, Any] | None = None, bundle: str = "tests") -> DagResult:
    return run_dag_test(dag_id, FOLDERS[bundle], conf)


@pytest.fixture
def run_dag(airflow_db: None) -> Callable[..., DagResult]:
    """``run_dag(dag_id, conf=None, bundle="tests")`` -> states, tries and return values per task."""
    return _run
