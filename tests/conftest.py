"""Test-wide setup. Airflow reads its configuration at import time, so the environment is set
here, before any test module imports Airflow: a private AIRFLOW_HOME with a SQLite metadata
database, the test DAGs folder, and a private token cache directory."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent
_HOME = Path(tempfile.mkdtemp(prefix="zohorel-tests-"))

os.environ.setdefault("AIRFLOW_HOME", str(_HOME / "airflow"))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME / 'airflow' / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_ROOT / "dags"))
# Two bundles: the suite's own DAGs and the examples users copy (dag.test() needs a DAG's bundle).
os.environ.setdefault(
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
    json.dumps(
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
    ),
)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = str(_HOME / "token-cache")
(_HOME / "airflow").mkdir(parents=True, exist_ok=True)

pytest_plugins = ["airflow_provider_zohorel.emulator.pytest_plugin", "tests.contract.plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The session's metadata database (SQLite in the test AIRFLOW_HOME), reset once."""
    from tests.dag_runs import reset_metadata_db_once

    reset_metadata_db_once()
