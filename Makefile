# The two commands a newcomer needs (README): `make demo` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: help venv demo check test mutation test-celery bench-celery test-pythons test-airflow-floor audit package-check browser lint typecheck unit bench lock emulator clean
.DEFAULT_GOAL := help

## This list: every target with a `##` comment.
help:
	@awk '/^## /{doc = doc (doc ? " " : "") substr($$0, 4); next} \
		/^[a-zA-Z0-9_-]+:/{if (doc) {split($$0, t, ":"); printf "  %-19s %s\n", t[1], doc}} {doc = ""}' \
		$(MAKEFILE_LIST)

## Create .venv with the pinned dependency set (once; again when pyproject.toml or constraints change).
venv:
	@scripts/bootstrap.sh

## Run example DAG 1 against the bundled emulator on an embedded SQLite metadata DB.
demo: venv
	@scripts/demo.sh

## The inner loop (under a minute): lint, types, the unit and emulator suites (no Postgres, no DAG runs).
check: venv lint typecheck
	$(VENV)/pytest tests/unit tests/emulator -q $(PYTEST_ARGS)

## Lint, types and the whole test suite on Python 3.11 (unit, emulator, Postgres, Redis, real Airflow)
## but the Celery cluster and the browser. CI (.ci/run) runs this, then browser, test-celery,
## test-pythons and test-airflow-floor.
test: venv lint typecheck
	$(VENV)/pytest -m "not celery and not browser" $(PYTEST_ARGS)

## The Airflow UI in Debian's chromium (Playwright for Python, installed into .venv from
## constraints/tools/browser.txt): the Zoho CRM connection form, the REST test, example 1's summary in
## the task view. Needs `apt-get install -y chromium` (as root; .ci/run does it); fails without it.
## ZOHOREL_UPDATE_SCREENSHOTS=1 rewrites docs/*.png, which the README shows.
browser: venv
	@$(VENV)/python -m pip install -q --disable-pip-version-check \
		-c constraints/py$$($(VENV)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])').txt \
		-r constraints/tools/browser.txt 2>&1 | grep -v "^WARNING: Location" || true
	ZOHOREL_REQUIRE_BROWSER=1 $(VENV)/pytest -m browser tests/browser $(PYTEST_ARGS)

## Example 4 on a CeleryExecutor cluster (two workers, Redis broker, Postgres; a few minutes).
test-celery: venv
	$(VENV)/pytest -m celery $(PYTEST_ARGS)

## The Celery cluster figures: 100,000 relations in 8 shards on 2 workers, and a worker killed mid-run.
bench-celery: venv
	$(VENV)/python -m bench.celery_cluster $(BENCH_ARGS)

## The other declared Pythons (3.10, 3.12, 3.13): unit, emulator and dag.test() suites; a missing one fails.
test-pythons:
	@scripts/test_pythons.sh

## The oldest declared Airflow (3.0.6): unit, emulator and dag.test() suites.
test-airflow-floor:
	@scripts/test_airflow_floor.sh

## Every pinned set in constraints/ through pip-audit (PyPI's advisory data); fails on a known vulnerability.
audit:
	@scripts/audit.sh

## The package as users get it: sdist + wheel, twine check, the wheel alone in a fresh venv running
## `airflow providers list` and example 1 against its own emulator.
package-check:
	@scripts/package_check.sh

## ruff: lint rules and formatting.
lint: venv
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

## mypy --strict over the package.
typecheck: venv
	$(VENV)/mypy

## The unit suite alone (seconds).
unit: venv
	$(VENV)/pytest tests/unit $(PYTEST_ARGS)

## Benchmarks: prints one table and writes bench/RESULTS.md (quoted by the README).
bench: venv
	$(VENV)/python -m bench $(BENCH_ARGS)

## The emulator on 127.0.0.1:8765 with the demo seed, for trying DAGs by hand.
emulator: venv
	$(VENV)/python -m airflow_provider_zohorel.emulator --host 127.0.0.1 --port 8765 --seed demo

## Mutation testing (mutmut) of zoho/ and operators/ against the unit tests; slow, not in CI (tests/MUTATION.md).
mutation: venv
	@scripts/mutation.sh

## Re-resolve the pinned dependency sets in constraints/ (on purpose only; read scripts/lock.sh).
lock:
	scripts/lock.sh

## Remove the virtual environments, caches and benchmark output.
clean:
	rm -rf .venv .venv-* .airflow-demo .tmp bench/out .pytest_cache .mypy_cache .ruff_cache
