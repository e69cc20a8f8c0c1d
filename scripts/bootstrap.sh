#!/usr/bin/env bash
# Create .venv (once) and install the project with its pinned dev dependency set. Re-installs only
# when pyproject.toml or the constraints change, so repeated `make test` runs cost nothing here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
pyver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
constraints=${CONSTRAINTS:-constraints/py${pyver}.txt}
# The main set (python3, constraints/py3.X.txt) also gets the CeleryExecutor test's dependencies;
# the other Pythons and the Airflow floor (which set CONSTRAINTS or EXTRAS) get dev only.
extras=${EXTRAS:-dev,dev-celery}
if [ ! -f "$constraints" ]; then
  echo "bootstrap: no pinned dependency set for Python ${pyver} (${constraints}); run scripts/lock.sh" >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp=$VENV/.zohorel-installed
want=$( (cat pyproject.toml "$constraints"; echo "$extras") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing airflow-provider-zohorel[${extras}] with ${constraints} into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$constraints" -e ".[${extras}]"
  echo "$want" > "$stamp"
fi
