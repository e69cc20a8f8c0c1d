#!/usr/bin/env bash
# The main job for a newcomer: example DAG 1 against the bundled Zoho emulator (see scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
exec python scripts/demo.py "$@"
