#!/usr/bin/env bash
# Mutation testing (`make mutation`): mutmut 2 (a venv of its own, .venv-mutation, pinned in
# constraints/tools/mutmut.txt) mutates a copy of the package under .tmp/mutation, one module at a
# time, and runs against each mutant the fast unit tests that mirror that module, with the
# project's .venv (the copy comes first on PYTHONPATH, ahead of the editable install). Prints the
# score per module (scripts/mutation_report.py); tests/MUTATION.md records the last run.
# Slow (see tests/MUTATION.md for the times): not part of .ci/run. MUTATION_MODULES="planning policy"
# runs a subset, MUTATION_JOBS=2 two modules at once; each module's results stay in
# .tmp/mutation/<module>/.mutmut-cache, so a re-run tests only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
VENV=.venv-mutation
tools=constraints/tools/mutmut.txt
stamp=$VENV/.zohorel-installed
want=$(sha256sum "$tools" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$tools" 2>&1 | grep -v "^WARNING: Location" || true
  echo "$want" > "$stamp"
fi
scripts/bootstrap.sh

# module name -> the file(s) mutated and the tests run against each mutant.
declare -A PATHS=(
  [planning]=airflow_provider_zohorel/zoho/planning.py
  [policy]=airflow_provider_zohorel/zoho/policy.py
  [results]=airflow_provider_zohorel/zoho/results.py
  [runner]=airflow_provider_zohorel/zoho/runner.py
  [operators]=airflow_provider_zohorel/operators/
)
declare -A TESTS=(
  [planning]=tests/unit/zoho/test_planning.py
  [policy]=tests/unit/zoho/test_policy.py
  [results]=tests/unit/zoho/test_results.py
  [runner]=tests/unit/zoho/test_runner.py
  [operators]=tests/unit/operators
)
modules=${MUTATION_MODULES:-planning policy results runner operators}
jobs=${MUTATION_JOBS:-1}

# One directory per module (a copy of the code and tests, and mutmut's cache of what was already
# tested), so modules can run side by side (MUTATION_JOBS) and a re-run resumes.
one() {
  local module=$1 work=.tmp/mutation/$1
  mkdir -p "$work"
  rm -rf "$work/airflow_provider_zohorel" "$work/tests"
  cp -r airflow_provider_zohorel tests pyproject.toml "$work/"
  echo "mutation: $module (${PATHS[$module]} against ${TESTS[$module]})"
  # --noconftest: these unit tests need none of the suite's fixtures, and skipping its plugins
  # (emulator, contract recording) halves the start-up paid once per mutant. Every failing exit
  # becomes 1: mutmut 2 counts only exit status 1 as "killed", so a mutant that breaks the import
  # (pytest exits 2, "error during collection") would otherwise be counted as surviving. A mutant
  # that makes the runner wait forever is failed by pytest-timeout after 60 s (mutmut's own
  # timeout stops only the wrapping shell).
  # mutmut 2 sometimes stops on its own cache ("Attribute Mutant.line is required"); its cache
  # keeps every result, so it is started again (at most 5 times) and goes on where it stopped.
  local attempt status
  for attempt in 1 2 3 4 5; do
    status=0
    (cd "$work" && PYTHONPATH=$PWD "$ROOT/$VENV/bin/mutmut" run --paths-to-mutate "${PATHS[$module]}" \
      --tests-dir tests --no-progress --simple-output \
      --runner "bash -c '$ROOT/.venv/bin/python -m pytest -x -q -p no:randomly --noconftest --timeout=60 ${TESTS[$module]} || exit 1'" \
      >> "$ROOT/.tmp/mutation/$module.log" 2>&1) || status=$?
    [ $((status & 1)) -eq 0 ] && break
    echo "mutation: $module: mutmut stopped (status $status), starting it again"
  done
  echo "mutation: $module done"
}
running=0
for module in $modules; do
  one "$module" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
"$ROOT/.venv/bin/python" "$ROOT/scripts/mutation_report.py" .tmp/mutation/*/.mutmut-cache
