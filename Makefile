# The two commands a newcomer needs (README): `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: venv demo test test-pythons test-airflow-floor lint typecheck unit bench lock emulator clean

venv:
	@scripts/bootstrap.sh

## Run example DAG 1 against the bundled emulator on an embedded SQLite metadata DB.
demo: venv
	@scripts/demo.sh

## Everything CI runs: lint, types, and the whole test suite (unit, emulator, Postgres, real Airflow).
test: venv lint typecheck
	$(VENV)/pytest $(PYTEST_ARGS)

## The other declared Pythons (3.10, 3.12, 3.13): unit, emulator and dag.test() suites.
test-pythons:
	@scripts/test_pythons.sh

## The oldest declared Airflow (3.0.6): unit, emulator and dag.test() suites.
test-airflow-floor:
	@scripts/test_airflow_floor.sh

lint: venv
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: venv
	$(VENV)/mypy

unit: venv
	$(VENV)/pytest tests/unit $(PYTEST_ARGS)

## Benchmarks: prints one table and writes bench/RESULTS.md (quoted by the README).
bench: venv
	$(VENV)/python -m bench $(BENCH_ARGS)

emulator: venv
	$(VENV)/python -m airflow_provider_zohorel.emulator --host 127.0.0.1 --port 8765 --seed demo

lock:
	scripts/lock.sh

clean:
	rm -rf .venv .venv-* .airflow-demo .tmp bench/out .pytest_cache .mypy_cache .ruff_cache
