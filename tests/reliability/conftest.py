"""Fixtures for the reliability suite: the emulator behind a real ``zoho_crm`` connection, watchers
that act mid-run, real DAG runs. The closing figures (scenarios, items checked, items lost) are
printed at the end of the session from :data:`accounting.LEDGER`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import EmulatorAdmin, ZohoEmulator
from tests.dag_runs import DagResult, keep_output
from tests.reliability.accounting import LEDGER
from tests.reliability.rel_support import Watcher, run_dag_test


@pytest.fixture
def zoho(zoho_emulator_demo: ZohoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ZohoEmulator:
    """The demo emulator, ``zoho_crm_default`` pointing at it, and a token cache of this test's own
    (a token cached by an earlier test would be unknown to the freshly reset emulator)."""
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho_emulator_demo.connection_json())
    monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(tmp_path / "tokens"))
    return zoho_emulator_demo


@pytest.fixture
def watch(zoho: ZohoEmulator) -> Iterator[Callable[..., Watcher]]:
    """``watch(condition, action, hold_after=None)`` starts a :class:`Watcher` on its own admin
    session (``hold_after``: the emulator holds later calls until the action is done)."""
    started: list[Watcher] = []

    def start(
        condition: Callable[[dict[str, Any]], bool],
        action: Callable[[EmulatorAdmin], Any],
        hold_after: int | None = None,
    ) -> Watcher:
        watcher = Watcher(EmulatorAdmin(zoho.base_url), condition, action, hold_after).start()
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


@pytest.fixture
def run_dag(airflow_db: None, capfd: pytest.CaptureFixture[str]) -> Callable[..., DagResult]:
    """``run_dag(dag_id, conf=None)`` with dag.test(); its output is kept for the secrets scan."""

    def run(dag_id: str, conf: dict[str, Any] | None = None) -> DagResult:
        try:
            return run_dag_test(dag_id, conf)
        finally:
            out, err = capfd.readouterr()
            keep_output(f"reliability-{dag_id}", out + err)
            print(out, end="")

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LEDGER.scenarios:
        terminalreporter.write_sep("-", "zohorel reliability: accounting invariant")
        terminalreporter.write_line(
            f"scenarios run: {LEDGER.scenarios}, items checked: {LEDGER.items_checked}, "
            f"items lost: {LEDGER.items_lost}, items double-counted: {LEDGER.items_double_counted}, "
            f"failed-after-lost-answer items Zoho had applied: {LEDGER.items_uncertain_applied}"
        )
