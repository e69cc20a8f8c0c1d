"""Test-wide setup. Airflow reads its configuration at import time, so the environment is set
here, before any test module imports Airflow: a private AIRFLOW_HOME with a SQLite metadata
database, the test DAGs folder, and a private token cache directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
_HOME = Path(tempfile.mkdtemp(prefix="zohorel-tests-"))

os.environ.setdefault("AIRFLOW_HOME", str(_HOME / "airflow"))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME / 'airflow' / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = str(_HOME / "token-cache")
(_HOME / "airflow").mkdir(parents=True, exist_ok=True)

pytest_plugins = ["airflow_provider_zohorel.emulator.pytest_plugin"]
