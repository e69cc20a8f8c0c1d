#!/usr/bin/env bash
# The oldest Airflow the package declares (3.0.6, the last 3.0 release), with its own pinned set:
# unit, emulator and dag.test() suites. A plain `pip install apache-airflow==3.0.6` resolves a
# FastAPI/Cadwyn pair that breaks every task, hence the extra pins recorded in the lock file
# (FastAPI 0.120.4 with Cadwyn 5.4.6, so that Starlette is 0.49.1 or later: CVE-2025-62727).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev CONSTRAINTS=constraints/airflow-3.0.6/py3.11.txt VENV=.venv-airflow-3.0 PYTHON=${PYTHON:-python3} \
  scripts/bootstrap.sh
.venv-airflow-3.0/bin/python -m pytest tests/unit tests/emulator tests/e2e -q -p no:cacheprovider
