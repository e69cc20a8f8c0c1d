"""Test-wide setup. Airflow reads its configuration at import time, so the environment is set
here, before any test module imports Airflow: a private AIRFLOW_HOME with a SQLite metadata
database, the test DAGs folder, and a private token cache directory.

The suite never touches an Airflow home, database or connection it did not create: whatever
AIRFLOW_HOME, ``AIRFLOW__*`` settings, ``AIRFLOW_CONN_*`` connections or ``AIRFLOW_VAR_*``
variables the contributor's shell holds are dropped for this process (and the processes it
starts), and the private values are set unconditionally (the metadata DB is reset below). Shared
services are opt-in: see :mod:`tests.services`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent
_HOME = Path(tempfile.mkdtemp(prefix="zohorel-tests-"))

_THEIRS = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")
for _name in [n for n in os.environ if n == "AIRFLOW_HOME" or n.startswith(_THEIRS)]:
    del os.environ[_name]
os.environ["AIRFLOW_HOME"] = str(_HOME / "airflow")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow' / 'airflow.db'}"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_ROOT / "dags")
# Two bundles: the suite's own DAGs and the examples users copy (dag.test() needs a DAG's bundle).
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": name,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": path},
        }
        for name, path in (
            ("tests", str(_ROOT / "dags")),
            ("examples", str(_ROOT.parent / "dags_examples")),
        )
    ]
)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = str(_HOME / "token-cache")
(_HOME / "airflow").mkdir(parents=True, exist_ok=True)

pytest_plugins = ["airflow_provider_zohorel.emulator.pytest_plugin", "tests.contract.plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The session's metadata database (SQLite in the test AIRFLOW_HOME), reset once."""
    from tests.dag_runs import reset_metadata_db_once

    reset_metadata_db_once()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database the suite may empty: a private server's db 0 (see tests.services)."""
    from tests.services import private_redis

    with private_redis() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    """A Postgres database created for this session and dropped after it (see tests.services)."""
    from tests.services import private_postgres

    with private_postgres() as uri:
        yield uri
