"""A real Airflow deployment for the deployment tests, started the way users start one.

``airflow db migrate``, then ``airflow api-server``, ``airflow scheduler`` and ``airflow
dag-processor`` as separate processes (LocalExecutor) on a fresh Postgres metadata database, with
the example DAGs as the DAG bundle and the Zoho emulator (seed ``demo``) as Zoho. Connections are
``AIRFLOW_CONN_*`` variables given to every process. Tests talk to it only through the REST API
and check Zoho's side through the emulator's admin API.

Everything started here is stopped in fixture finalizers, also when a test fails: each component
runs in its own process group, which gets SIGTERM, then SIGKILL after a grace period. Each
component writes to a file under the session's tmp dir; when a test fails, the tails of those
files and of the newest task logs are attached to its report.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import requests

from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.deployment.deployment_support import (
    STARTUP_TIMEOUT,
    AirflowDeployment,
    deployment_env,
    free_port,
    wait_for,
)

PG_ADMIN_URI = "postgresql://postgres@127.0.0.1:5432/postgres"

#: Deployments alive right now, for the failure report hook below.
_ACTIVE: list[AirflowDeployment] = []


@pytest.fixture(scope="session")
def metadata_database() -> Iterator[str]:
    """A fresh Postgres database for the deployment's metadata; dropped at the end."""
    name = f"zohorel_af_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URI, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URI, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def deployment_zoho() -> Iterator[ZohoEmulator]:
    """The emulator the deployment's ``zoho_crm_default`` connection points at."""
    with ZohoEmulator(seed="demo") as emulator:
        yield emulator


@pytest.fixture(scope="session")
def airflow_deployment(
    tmp_path_factory: pytest.TempPathFactory, metadata_database: str, deployment_zoho: ZohoEmulator
) -> Iterator[AirflowDeployment]:
    """api-server + scheduler + dag-processor (LocalExecutor, Postgres), logged in as admin."""
    root = tmp_path_factory.mktemp("airflow-deployment")
    port = free_port()
    deployment = AirflowDeployment(
        home=root / "home",
        logs=root / "process-logs",
        env=deployment_env(root, metadata_database, port, deployment_zoho.base_url),
        base_url=f"http://127.0.0.1:{port}",
        token_cache=root / "token-cache",
    )
    deployment.home.mkdir()
    deployment.logs.mkdir()
    _ACTIVE.append(deployment)
    try:
        try:
            deployment.run("db-migrate", "db", "migrate")
            deployment.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port))
            deployment.start("scheduler", "scheduler")
            deployment.start("dag-processor", "dag-processor")
            wait_for(lambda: _healthy(deployment), STARTUP_TIMEOUT, "the components to report healthy")
            deployment.login()
        except Exception as exc:
            raise AssertionError(f"the deployment did not start: {exc}\n{deployment.report()}") from exc
        yield deployment
    finally:
        deployment.stop()
        _ACTIVE.remove(deployment)


def _healthy(deployment: AirflowDeployment) -> bool:
    """``GET /api/v2/monitor/health``: metadatabase, scheduler and dag-processor all healthy."""
    deployment.check_alive()
    try:
        response = deployment.http.get(f"{deployment.base_url}/api/v2/monitor/health", timeout=5)
    except requests.ConnectionError:
        return False
    if response.status_code != 200:
        return False
    health = response.json()
    return all(
        (health.get(part) or {}).get("status") == "healthy"
        for part in ("metadatabase", "scheduler", "dag_processor")
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the deployment's log tails to a failed test's report, so failures are diagnosable."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for deployment in _ACTIVE:
            report.sections.append(("airflow deployment logs", deployment.report()))
