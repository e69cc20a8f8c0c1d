#!/usr/bin/env bash
# The package as a user gets it: build the sdist and wheel, `twine check` them, install the wheel
# (with its [emulator] extra) into a fresh virtualenv with nothing else (only its declared
# dependencies, at the pinned versions), then from that venv run `airflow providers list` and
# example DAG 1 against the installed emulator. A dependency the code imports but the package does
# not declare fails here, not on a user's machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TOOLS=${PACKAGE_TOOLS_VENV:-.venv-package-tools}
tools=constraints/tools/package.txt
pyver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
constraints=constraints/py${pyver}.txt

stamp=$TOOLS/.zohorel-installed
want=$(sha256sum "$tools" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$TOOLS/bin/python" ] || "$PY" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check -r "$tools" 2>&1 | grep -v "^WARNING: Location" || true
  echo "$want" > "$stamp"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/zohorel-package-XXXXXX")
emulator_pid=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "package-check: building sdist and wheel"
"$TOOLS/bin/python" -m build --sdist --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; exit 1; }
"$TOOLS/bin/python" -m twine check --strict "$work"/dist/*
wheel=$(ls "$work"/dist/*.whl)
sdist=$(ls "$work"/dist/*.tar.gz)
tar -tzf "$sdist" >"$work/sdist.txt"
"$TOOLS/bin/python" -m zipfile -l "$wheel" >"$work/wheel.txt"
for required in LICENSE CHANGELOG.md README.md; do
  grep -q "/$required\$" "$work/sdist.txt" || { echo "package-check: $required missing from the sdist" >&2; exit 1; }
done
grep -q "/LICENSE " "$work/wheel.txt" || { echo "package-check: LICENSE missing from the wheel" >&2; exit 1; }

echo "package-check: installing the wheel alone into a fresh venv"
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check -c "$constraints" "${wheel}[emulator]" 2>&1 \
  | grep -v "^WARNING: Location" || true
"$work/venv/bin/python" -m pip check

export AIRFLOW_HOME=$work/airflow
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$work/airflow/airflow.db
export AIRFLOW__CORE__DAGS_FOLDER=$work/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export ZOHOREL_TOKEN_CACHE_DIR=$work/token-cache
mkdir -p "$AIRFLOW_HOME" "$work/dags"
cp dags_examples/example_campaign_members.py "$work/dags/"
cd "$work"  # nothing from the checkout is importable from here on

echo "package-check: airflow providers list"
"$work/venv/bin/airflow" providers list -o plain >"$work/providers.txt"
grep -q "^airflow-provider-zohorel" "$work/providers.txt" \
  || { cat "$work/providers.txt"; echo "package-check: the provider is not listed" >&2; exit 1; }
"$work/venv/bin/python" -c "import airflow_provider_zohorel, sys; sys.exit('site-packages' not in airflow_provider_zohorel.__file__)"

echo "package-check: example 1 against the installed emulator"
"$work/venv/bin/python" -m airflow_provider_zohorel.emulator --port 0 --seed demo >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(head -1 "$work/emulator.out" 2>/dev/null | sed -n 's/^zoho-emulator listening on //p')
  [ -n "$url" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.err"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "package-check: the emulator did not start" >&2; cat "$work/emulator.err"; exit 1; }
AIRFLOW_CONN_ZOHO_CRM_DEFAULT=$("$work/venv/bin/python" -c \
  "import sys; from airflow_provider_zohorel.emulator import connection_json; print(connection_json(sys.argv[1]))" "$url")
export AIRFLOW_CONN_ZOHO_CRM_DEFAULT
"$work/venv/bin/airflow" db migrate >"$work/migrate.log" 2>&1 || { tail -20 "$work/migrate.log"; exit 1; }
"$work/venv/bin/airflow" dags test zoho_campaign_members >"$work/dag.log" 2>&1 || { tail -40 "$work/dag.log"; exit 1; }
related=$("$work/venv/bin/python" -c "
import sys
from airflow_provider_zohorel.emulator import EmulatorAdmin
print(len(EmulatorAdmin(sys.argv[1]).relations_of('3652397000000327001', 'Leads')))" "$url")
[ "$related" = 49 ] || { tail -40 "$work/dag.log"; echo "package-check: expected 49 leads related, got $related" >&2; exit 1; }
echo "package-check: OK ($(basename "$wheel"): twine check, providers list, example 1 related its 49 leads to the campaign)"
