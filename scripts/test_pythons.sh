#!/usr/bin/env bash
# The declared Pythons besides 3.11 (which `make test` covers): for each one this machine has,
# install the pinned set for it into .venv-py3.X and run the unit, emulator and dag.test() suites.
# A declared version missing on this machine fails the run: a classifier nobody tested is not true.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for v in 3.10 3.12 3.13; do
  py=""
  if command -v "python$v" >/dev/null 2>&1 && "python$v" -c 'pass' >/dev/null 2>&1; then
    py=$(command -v "python$v")
  else
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python; do
      [ -x "$candidate" ] && py=$candidate
    done
  fi
  if [ -z "$py" ]; then
    echo "test-pythons: Python $v not found (neither python$v on PATH nor under pyenv): FAILED" >&2
    status=1
    continue
  fi
  echo "== Python $v ($py)"
  EXTRAS=dev PYTHON=$py VENV=".venv-py$v" scripts/bootstrap.sh
  if ! ".venv-py$v/bin/python" -m pytest tests/unit tests/emulator tests/e2e -q -p no:cacheprovider; then
    status=1
  fi
done
exit $status
