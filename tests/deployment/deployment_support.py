"""A real Airflow deployment as separate processes, driven over the REST API the UI uses.

``conftest.py`` starts it (fixtures) for the tests, bench/airflow_task.py for the benchmark; this
module holds what they share: the metadata database, the start-up sequence, the process handling,
the environment every component gets, the REST calls, and ``wait_for``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from airflow_provider_zohorel.emulator import DEMO_CLIENT_SECRET
from airflow_provider_zohorel.emulator import connection as emulator_connection

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags_examples"

#: Bounded waits (seconds). Polls stop as soon as the state is reached; these only bound failure.
STARTUP_TIMEOUT = 90.0
PARSE_TIMEOUT = 90.0
RUN_TIMEOUT = 120.0
STOP_GRACE = 15.0

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A polled condition was not reached before its deadline."""


def wait_for(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds.

    Waits on observable state (an HTTP answer, a row), never on the clock alone: the interval
    only paces the polling.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"<{exc}>"
    return "\n".join(line if len(line) <= 400 else line[:400] + " ..." for line in text[-lines:])


def zoho_connection(base_url: str, client_secret: str = DEMO_CLIENT_SECRET) -> dict[str, Any]:
    """A ``zoho_crm`` connection (REST API body shape: extra as a string) pointing at the emulator."""
    conn = emulator_connection(base_url)
    return {**conn, "password": client_secret, "extra": json.dumps(conn["extra"])}


def connection_env(conn: dict[str, Any]) -> str:
    """The same connection as an ``AIRFLOW_CONN_*`` JSON value (extra as an object)."""
    value = dict(conn)
    if isinstance(value.get("extra"), str):
        value["extra"] = json.loads(value["extra"])
    return json.dumps(value)


@dataclass
class AirflowDeployment:
    """Handle on the running deployment: REST calls, waits, and the processes' logs."""

    home: Path
    logs: Path
    env: dict[str, str]
    base_url: str
    token_cache: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    # -- processes --------------------------------------------------------------------------

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def run(self, name: str, *args: str, timeout: float = 120.0) -> None:
        """Run an ``airflow`` CLI command to completion (output to ``<name>.log``)."""
        with self.log_file(name).open("wb") as out:
            done = subprocess.run(
                [*airflow_cli(), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            )
        if done.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} exited {done.returncode}:\n{tail(self.log_file(name))}"
            )

    def start(self, name: str, *args: str) -> None:
        """Start a long-running ``airflow`` component in its own process group."""
        out = self.log_file(name).open("wb")
        try:
            self.processes[name] = subprocess.Popen(
                [*airflow_cli(), *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.home,
            )
        finally:
            out.close()  # the child holds its own descriptor

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise AssertionError(
                    f"airflow {name} exited with {proc.returncode}:\n{tail(self.log_file(name))}"
                )

    def stop(self) -> None:
        """SIGTERM every process group, wait, then SIGKILL what is left (also stray children)."""
        self.http.close()  # an open keep-alive connection would hold up the api-server's shutdown
        for name in reversed(list(self.processes)):
            proc = self.processes[name]
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=STOP_GRACE)
            _signal_group(proc, signal.SIGKILL)  # workers/supervisors that outlived their parent

    def report(self) -> str:
        """Tails of every process log and of the newest task logs, for a failed test's report."""
        parts = [f"--- {path.name} ---\n{tail(path)}" for path in sorted(self.logs.glob("*.log"))]
        task_logs = sorted(
            (self.home / "logs").glob("dag_id=*/**/*.log"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        parts += [
            f"--- task log {path.relative_to(self.home)} ---\n{tail(path, 60)}" for path in task_logs[:4]
        ]
        return "\n".join(parts)

    def forget_tokens(self) -> None:
        """Empty the provider's shared token cache (after an emulator reset its tokens are void)."""
        for path in self.token_cache.glob("*.json"):
            path.unlink()

    # -- REST API ---------------------------------------------------------------------------

    def login(self) -> None:
        """Get a JWT the way a script does: the generated admin password, then ``POST /auth/token``."""
        passwords_file = self.home / "simple_auth_manager_passwords.json.generated"
        passwords = wait_for(
            lambda: _read_json(passwords_file), 30, f"the api-server to write {passwords_file.name}"
        )
        response = self.http.post(
            f"{self.base_url}/auth/token",
            json={"username": "admin", "password": passwords["admin"]},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def api(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kwargs: Any) -> Any:
        """Call the REST API (``path`` below ``/api/v2`` or starting with ``/ui``); check the status."""
        url = self.base_url + (path if path.startswith("/ui/") else f"/api/v2{path}")
        response = self.http.request(method, url, timeout=60, **kwargs)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def wait_dag_parsed(self, dag_id: str) -> dict[str, Any]:
        def parsed() -> dict[str, Any] | None:
            self.check_alive()
            response = self.http.get(f"{self.base_url}/api/v2/dags/{dag_id}", timeout=30)
            return response.json() if response.status_code == 200 else None

        return wait_for(parsed, PARSE_TIMEOUT, f"the dag-processor to parse {dag_id}")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Unpause (PATCH) and trigger (POST dagRuns) a DAG, as the UI's toggle and Trigger button do."""
        self.wait_dag_parsed(dag_id)
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def wait_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Wait until the run is finished (success or failed) and return it."""

        def finished() -> dict[str, Any] | None:
            self.check_alive()
            run = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        return wait_for(finished, RUN_TIMEOUT, f"{dag_id} run {run_id} to finish")

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """The task log as the UI's log view reads it, flattened to text."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        log = self.api("GET", path, headers={"Accept": "application/json"})
        return json.dumps(log["content"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
        return entry["value"]


PG_ADMIN_URI = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def metadata_database(prefix: str = "zohorel_af") -> Iterator[str]:
    """A fresh Postgres database for a deployment's metadata (its URI); dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URI, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URI, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def launch(deployment: AirflowDeployment, port: int) -> None:
    """``airflow db migrate``, then api-server, scheduler and dag-processor; wait until the health
    endpoint says all three are healthy; log in. Raises with the processes' log tails if not."""
    deployment.home.mkdir(parents=True, exist_ok=True)
    deployment.logs.mkdir(parents=True, exist_ok=True)
    try:
        deployment.run("db-migrate", "db", "migrate")
        deployment.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port))
        deployment.start("scheduler", "scheduler")
        deployment.start("dag-processor", "dag-processor")
        wait_for(lambda: healthy(deployment), STARTUP_TIMEOUT, "the components to report healthy")
        deployment.login()
    except Exception as exc:
        raise AssertionError(f"the deployment did not start: {exc}\n{deployment.report()}") from exc


def healthy(deployment: AirflowDeployment) -> bool:
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


def airflow_cli() -> list[str]:
    """The ``airflow`` entry point of the interpreter running the tests (the project's venv)."""
    return [str(Path(sys.executable).with_name("airflow"))]


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the group leader's pid is the group id (start_new_session)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def deployment_env(root: Path, database_uri: str, port: int, zoho_base_url: str) -> dict[str, str]:
    """The environment of every component: this process's, minus the suite's own Airflow settings
    (tests/conftest.py points them at a SQLite test home), plus the deployment's."""
    base_url = f"http://127.0.0.1:{port}"
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "_AIRFLOW", "ZOHOREL_"))
    }
    return {
        **inherited,
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_uri,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),  # the default "dags-folder" bundle
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        # Workers reach the api-server's Execution API here (the default assumes port 8080).
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(16),
        # One secret for all: the scheduler signs the workers' tokens, the api-server checks them.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        # Only the runs the tests trigger: unpausing a @daily DAG must not add a scheduled run.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "2",
        "AIRFLOW__CONNECTION_TEST__REAPER_INTERVAL": "5",
        "AIRFLOW_CONN_ZOHO_CRM_DEFAULT": connection_env(zoho_connection(zoho_base_url)),
        "AIRFLOW_CONN_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(root / "warehouse.db")}),
        "ZOHOREL_TOKEN_CACHE_DIR": str(root / "token-cache"),
    }
