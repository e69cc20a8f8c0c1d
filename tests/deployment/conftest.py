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

from collections.abc import Iterator

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.deployment.deployment_support import (
    AirflowDeployment,
    deployment_env,
    free_port,
    launch,
)
from tests.deployment.deployment_support import metadata_database as fresh_metadata_database

#: Deployments alive right now, for the failure report hook below.
_ACTIVE: list[AirflowDeployment] = []


@pytest.fixture(scope="session")
def metadata_database() -> Iterator[str]:
    """A fresh Postgres database for the deployment's metadata; dropped at the end."""
    with fresh_metadata_database() as uri:
        yield uri


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
    # The api-server takes a port number, not a socket: a free port is picked, and if another
    # process takes it before the api-server binds it ("address already in use"), the deployment
    # is started again on another port.
    for attempt in range(3):
        root = tmp_path_factory.mktemp("airflow-deployment")
        port = free_port()
        deployment = AirflowDeployment(
            home=root / "home",
            logs=root / "process-logs",
            env=deployment_env(root, metadata_database, port, deployment_zoho.base_url),
            base_url=f"http://127.0.0.1:{port}",
            token_cache=root / "token-cache",
        )
        _ACTIVE.append(deployment)
        try:
            try:
                launch(deployment, port)
            except AssertionError:
                api_log = deployment.logs / "api-server.log"
                lost_port = api_log.exists() and "address already in use" in api_log.read_text().lower()
                if lost_port and attempt < 2:
                    continue
                raise
            yield deployment
            return
        finally:
            deployment.stop()
            _ACTIVE.remove(deployment)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the deployment's log tails to a failed test's report, so failures are diagnosable."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for deployment in _ACTIVE:
            report.sections.append(("airflow deployment logs", deployment.report()))
