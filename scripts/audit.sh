#!/usr/bin/env bash
# Audit every pinned dependency set in constraints/ for known vulnerabilities with pip-audit
# (PyPI's advisory data: the JSON API's per-release "vulnerabilities"). pip-audit lives in a venv of
# its own (.venv-audit, from constraints/tools/pip-audit.txt) so its dependencies never touch the
# tested sets. Fails on any known vulnerability not listed in constraints/audit-ignore.txt.
#
# When PyPI's per-release JSON cannot be reached (some networks let only the package index
# through), pip-audit skips every pin; the script then says loudly that nothing was audited and
# exits 0, or 1 with AUDIT_STRICT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${AUDIT_VENV:-.venv-audit}
tools=constraints/tools/pip-audit.txt
stamp=$VENV/.zohorel-installed
want=$(sha256sum "$tools" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$tools" 2>&1 | grep -v "^WARNING: Location" || true
  echo "$want" > "$stamp"
fi
ignore=()
while read -r id _; do
  [ -n "$id" ] && ignore+=(--ignore-vuln "$id")
done < <(grep -v '^\s*#' constraints/audit-ignore.txt | sed 's/#.*//')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for file in constraints/py3.*.txt constraints/airflow-*/py3.*.txt; do
  name=$(echo "$file" | tr '/' '_')
  "$VENV/bin/pip-audit" --requirement "$file" --no-deps --disable-pip --vulnerability-service pypi \
    --format json --output "$out/$name.json" --progress-spinner off "${ignore[@]}" \
    2>"$out/$name.log" || status=1
done
"$VENV/bin/python" scripts/audit_report.py "$out" "$status"
